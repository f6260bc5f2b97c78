"""make_dataset: caching, determinism, multi-resolution test sets, bad input, light imports."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import errbound.data as data  # noqa: E402
from errbound.errors import ErrboundError  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny problems: threading overhead dominates on a loaded 2-core box
    yield
    torch.set_num_threads(before)


def test_public_api_matches_all() -> None:
    public = {name for name in vars(data) if not name.startswith("_")} - {
        "grf", "registry", "storage", "darcy", "navier_stokes", "burgers"
    }
    assert public == set(data.__all__)


def test_import_is_light() -> None:
    code = "import sys, errbound.data; print('torch' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_darcy_generates_once_then_reuses_cache(tmp_path) -> None:
    kw = dict(res=9, n_train=5, n_test=3, seed=7, cache_dir=tmp_path, test_res=[9, 17])
    first = data.make_dataset("darcy", **kw)
    assert first.generated
    assert sorted(p.name for p in first.folder.iterdir() if p.name != ".lock") == [
        "darcy_test_17.pt", "darcy_test_9.pt", "darcy_train_9.pt", "meta.json"
    ]
    meta = json.loads((first.folder / "meta.json").read_text())
    assert meta["key"]["fine_res"] == 33 and "provenance" in meta
    x, y = first.load_train()
    assert x.shape == (5, 9, 9) and y.dtype == torch.float32
    xt, yt = first.load_test(17)
    xs, ys = first.load_test()
    np.testing.assert_array_equal(yt[:, ::2, ::2].numpy(), ys.numpy())  # zero-shot pairs: same functions
    mtime = first.train_path.stat().st_mtime_ns
    second = data.make_dataset("darcy", **kw)
    assert not second.generated and second.train_path.stat().st_mtime_ns == mtime
    # a corrupted metadata file (interrupted run) forces regeneration, with identical content
    (first.folder / "meta.json").write_text("{")
    third = data.make_dataset("darcy", **kw)
    assert third.generated
    np.testing.assert_array_equal(third.load_train()[1].numpy(), y.numpy())


def test_deterministic_and_prefix_stable_across_cache_dirs(tmp_path) -> None:
    a = data.make_dataset("burgers", 16, 4, 2, seed=3, cache_dir=tmp_path / "a", params={"T": 0.05})
    b = data.make_dataset("burgers", 16, 4, 2, seed=3, cache_dir=tmp_path / "b", params={"T": 0.05})
    np.testing.assert_array_equal(a.load_train()[1].numpy(), b.load_train()[1].numpy())
    c = data.make_dataset("darcy", 9, 6, 1, seed=3, cache_dir=tmp_path)
    d = data.make_dataset("darcy", 9, 3, 1, seed=3, cache_dir=tmp_path)
    assert c.folder != d.folder
    np.testing.assert_array_equal(c.load_train()[1][:3].numpy(), d.load_train()[1].numpy())
    e = data.make_dataset("darcy", 9, 3, 1, seed=4, cache_dir=tmp_path)
    assert not np.array_equal(e.load_train()[0].numpy(), d.load_train()[0].numpy())


def test_periodic_solver_grid_may_be_coarser_than_outputs(tmp_path) -> None:
    files = data.make_dataset("burgers", 64, 2, 1, cache_dir=tmp_path, test_res=[32, 64], fine_res=32,
                              params={"T": 0.05})
    x64, y64 = files.load_test(64)
    x32, y32 = files.load_test(32)
    # a 32-point spectral solution evaluated exactly on 64 points contains the 32 grid values
    # (trigonometric interpolation passes through them): equal up to float32 storage rounding
    np.testing.assert_allclose(y64[:, ::2].numpy(), y32.numpy(), rtol=0, atol=1e-6 * float(y32.abs().max()))
    with pytest.raises(ErrboundError, match="fine_res=33"):
        data.make_dataset("darcy", 65, 2, 1, cache_dir=tmp_path, fine_res=33)


def test_files_read_like_neuraloperator_ptdataset(tmp_path) -> None:
    # neuraloperator's PTDataset: torch.load(f"{name}_train_{res}.pt"), data["x"][0:n, ::r, ::r]
    # .unsqueeze(1).type(torch.float32), same for "y" and for each f"{name}_test_{res}.pt"
    files = data.make_dataset("darcy", 9, 4, 2, cache_dir=tmp_path, test_res=[9, 17])
    raw = torch.load(files.folder / "darcy_train_9.pt")
    x = raw["x"][0:3, ::1, ::1].unsqueeze(1).type(torch.float32)
    assert x.shape == (3, 1, 9, 9) and raw["y"].dtype == torch.float32
    for r in (9, 17):
        assert torch.load(files.folder / f"darcy_test_{r}.pt")["y"].shape == (2, r, r)


def test_navier_stokes_tiny(tmp_path) -> None:
    files = data.make_dataset("navier_stokes", 8, 2, 1, cache_dir=tmp_path, test_res=[8, 16],
                              params={"T": 0.01, "dt": 0.005})
    x, y = files.load_test(16)
    assert x.shape == (1, 16, 16) and torch.isfinite(y).all()


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("stokes", 16, 2, 1), {}, "unknown dataset 'stokes': choose one of darcy, navier_stokes, burgers"),
        (("darcy", 4, 2, 1), {}, "res=4 is invalid"),
        (("burgers", 16, 0, 1), {}, "n_train=0"),
        (("burgers", 16, 2, 1), {"seed": -1}, "seed=-1"),
        (("burgers", 16, 2, 1), {"test_res": [16, 2]}, "test_res=2"),
        (("burgers", 16, 2, 1), {"test_res": []}, "test_res is empty"),
        (("burgers", 16, 2, 1), {"params": {"viscosity": 0.1}}, "valid parameters are"),
        (("burgers", 16, 2, 1), {"params": {"nu": "x"}}, "must be a number"),
        (("burgers", 16, 2, 1), {"fine_res": 4}, "fine_res=4"),
        (("burgers", 16, 2, 1), {"fine_res": 9}, "even"),
        (("darcy", 16.0, 2, 1), {}, "res=16.0"),
    ],
)
def test_bad_input_raises(tmp_path, args, kwargs, match: str) -> None:
    with pytest.raises(ErrboundError, match=match):
        data.make_dataset(*args, cache_dir=tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())  # nothing written


def test_unknown_test_resolution_on_load(tmp_path) -> None:
    files = data.make_dataset("burgers", 16, 2, 1, cache_dir=tmp_path, params={"T": 0.01})
    with pytest.raises(ErrboundError, match="available test resolutions are \\[16\\]"):
        files.load_test(32)


def test_get_dataset_specs() -> None:
    assert data.dataset_names() == ("darcy", "navier_stokes", "burgers")
    assert data.get_dataset("burgers").dim == 1 and data.get_dataset("darcy").defaults["a_high"] == 12.0
    with pytest.raises(TypeError):
        data.get_dataset("darcy").defaults["a_high"] = 1.0  # read-only mapping


def test_generation_reports_progress(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ERRBOUND_PROGRESS", "1")
    data.make_dataset("darcy", 9, 2, 1, cache_dir=tmp_path)
    captured = capsys.readouterr()
    assert "darcy train (grid 17): 2/2" in captured.err and "darcy test (grid 17): 1/1" in captured.err
    assert captured.out == ""  # progress never touches stdout (JSON output stays clean)
