"""The .pt layout: round trip, validation of bad files, atomic writes, missing torch."""

from __future__ import annotations

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.data import storage  # noqa: E402
from errbound.errors import ErrboundError, MissingDependencyError  # noqa: E402


def test_round_trip_is_float32_and_neuraloperator_layout(tmp_path) -> None:
    x = np.random.default_rng(0).standard_normal((4, 8, 8))
    path = storage.save_pair(tmp_path / storage.dataset_filename("darcy", "train", 8), x, 2 * x)
    assert path.name == "darcy_train_8.pt"
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"x", "y"} and raw["x"].dtype == torch.float32 and raw["x"].shape == (4, 8, 8)
    lx, ly = storage.load_split(tmp_path, "darcy", "train", 8, dim=2, n=3)
    assert lx.shape == (3, 8, 8)
    np.testing.assert_array_equal(lx.numpy(), x[:3].astype(np.float32))
    np.testing.assert_array_equal(ly.numpy(), (2 * x[:3]).astype(np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["darcy_train_8.pt"]  # no temporary left behind


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ErrboundError, match="does not exist"):
        storage.load_split(tmp_path, "darcy", "test", 64)


@pytest.mark.parametrize(
    "content, match",
    [
        ({"x": torch.zeros(2, 4)}, "keys 'x' and 'y'"),
        ([1, 2], "keys 'x' and 'y'"),
        ({"x": torch.zeros(2, 4), "y": [0.0, 1.0]}, "must be tensors"),
        ({"x": torch.zeros(2, 4), "y": np.zeros((2, 4))}, "only tensors"),
        ({"x": torch.zeros(2, 4), "y": torch.zeros(3, 4)}, "same N"),
        ({"x": torch.zeros(2, 4), "y": torch.tensor([[0.0, 1, 2, float("nan")]] * 2)}, "NaN"),
        ({"x": torch.zeros(2, 4), "y": torch.zeros(2, 5, 3)}, "different grids"),
    ],
    ids=["no-y", "not-a-dict", "list-y", "numpy-y", "n-mismatch", "nan", "grid-mismatch"],
)
def test_bad_files_are_rejected(tmp_path, content, match: str) -> None:
    path = tmp_path / "bad.pt"
    torch.save(content, path)
    with pytest.raises(ErrboundError, match=match):
        storage.load_pair(path)


def test_shape_and_count_checks(tmp_path) -> None:
    path = storage.save_pair(tmp_path / "a.pt", np.zeros((2, 4, 4)), np.zeros((2, 4, 4)))
    with pytest.raises(ErrboundError, match="expected spatial shape"):
        storage.load_pair(path, spatial=(8, 8))
    with pytest.raises(ErrboundError, match="holds 2 samples"):
        storage.load_pair(path, n=3)
    (tmp_path / "junk.pt").write_text("not a torch file")
    with pytest.raises(ErrboundError, match="cannot read"):
        storage.load_pair(tmp_path / "junk.pt")


def test_save_refuses_non_finite_and_writes_nothing(tmp_path) -> None:
    with pytest.raises(ErrboundError, match="non-finite"):
        storage.save_pair(tmp_path / "a.pt", np.full((2, 4), np.inf), np.zeros((2, 4)))
    with pytest.raises(ErrboundError, match="same N"):
        storage.save_pair(tmp_path / "a.pt", np.zeros((2, 4)), np.zeros((3, 4)))
    assert list(tmp_path.iterdir()) == []


def test_bad_names_raise() -> None:
    with pytest.raises(ErrboundError, match="split='valid'"):
        storage.dataset_filename("darcy", "valid", 64)
    with pytest.raises(ErrboundError, match="res=0"):
        storage.dataset_filename("darcy", "train", 0)


def test_cache_dir_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ERRBOUND_DATA", str(tmp_path))
    assert storage.default_cache_dir() == tmp_path
    monkeypatch.delenv("ERRBOUND_DATA")
    assert storage.default_cache_dir().parts[-3:] == (".cache", "errbound", "data")


def test_missing_torch_raises_missing_dependency(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(MissingDependencyError, match="errbound\\[train\\]"):
        storage.save_pair(tmp_path / "a.pt", np.zeros((1, 2)), np.zeros((1, 2)))
