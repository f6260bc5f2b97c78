"""CLI contracts of ``errbound precision`` and ``errbound crossover`` and the GPU script's dry run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from errbound.cli import main

ROW_FIELDS = {"res", "prec_err_rel", "layer_err_rel", "bound_worst", "bound_prob", "overflow", "max_intermediate",
              "prescale_exp"}


def _run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_precision_function_json(capsys):
    d = _run_json(capsys, ["precision", "--function", "smooth", "--format", "fp16", "--res", "32,64", "--json"])
    assert d["command"] == "precision" and "provenance" in d and d["format"] == "fp16"
    assert [r["res"] for r in d["rows"]] == [32, 64]
    for r in d["rows"]:
        assert ROW_FIELDS <= set(r) and isinstance(r["overflow"], bool)
        assert r["prec_err_rel"] <= r["bound_worst"]


@pytest.mark.parametrize("fmt", ["bf16", "fp8_e4m3fn", "fp8_e4m3", "fp8_e5m2", "tf32", "fp32"])
def test_precision_formats_run(capsys, fmt):
    d = _run_json(capsys, ["precision", "--function", "tent", "--format", fmt, "--res", "16", "--modes", "4",
                           "--dim", "1", "--json"])
    assert d["rows"][0]["res"] == 16


def test_precision_rfft2_transform(capsys):
    d = _run_json(capsys, ["precision", "--function", "smooth", "--format", "fp16", "--transform", "rfft2",
                           "--res", "64,256", "--json"])
    small, big = d["rows"]
    assert small["layer_err_rel"] is None and not small["overflow"]
    assert big["overflow"] is True and big["prescale_exp"] < 0  # 256^2 * mean(smooth) > 65504


def test_precision_data_own_resolution(tmp_path, capsys):
    x = np.random.default_rng(0).standard_normal((2, 24, 24))
    np.save(tmp_path / "d.npy", x)
    out = tmp_path / "res" / "p.json"
    d = _run_json(capsys, ["precision", "--data", str(tmp_path / "d.npy"), "--precision", "mixed-bf16",
                           "--modes", "8", "--json", "--output", str(out)])
    assert [r["res"] for r in d["rows"]] == [24]  # non-power-of-two grid (Bluestein) and bf16
    assert json.loads(out.read_text())["rows"][0]["res"] == 24


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--function", "smooth", "--format", "fp17"], "unknown format"),
        (["--function", "smooth", "--precision", "quarter"], "unknown precision"),
        (["--function", "smooth", "--precision", "half", "--engine", "gpu"], "choose one of: emulator, torch"),
        (["--function", "smooth", "--precision", "half", "--backend", "cufft"], "choose one of: fft, dft"),
        (["--function", "smooth", "--precision", "half", "--format", "fp8_e4m3", "--engine", "torch"],
         "cannot run precision 'half-fp8_e4m3' on this device"),
        (["--function", "smooth", "--format", "fp16", "--stabilizer", "sigmoid"], "unknown stabilizer"),
        (["--function", "smooth", "--format", "fp16", "--res", "8", "--modes", "16"], "16 modes exceed the 8 grid points"),
        (["--function", "smooth", "--format", "fp16", "--res", "a,b"], "integers"),
    ],
)
def test_precision_bad_input(tmp_path, capsys, argv, match):
    out = tmp_path / "o.json"
    assert main(["precision", *argv, "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("errbound: error:") and match in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing partial on disk


@pytest.mark.parametrize(
    "content, match",
    [
        (None, "empty"),
        (np.array([[np.nan, 1.0]]), "NaN/inf"),
        (np.zeros(16), "rank 1"),
        (np.zeros((1, 12, 12)), "16 modes exceed the 12 grid points"),
    ],
)
def test_precision_bad_data(tmp_path, capsys, content, match):
    path = tmp_path / "in" / "d.npy"
    path.parent.mkdir()
    if content is None:
        path.write_bytes(b"")
    else:
        np.save(path, content)
    out = tmp_path / "out" / "o.json"
    assert main(["precision", "--data", str(path), "--format", "fp16", "--modes", "16", "--output", str(out)]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_crossover_json(capsys):
    d = _run_json(capsys, ["crossover", "--function", "tent", "--formats", "fp16,bf16,fp32", "--dim", "1",
                           "--res", "16,64,256,1024", "--json"])
    assert "provenance" in d
    f = d["formats"]
    for name in ("fp16", "bf16", "fp32"):
        assert {"s_star_empirical", "s_star_bound"} <= set(f[name])
    # a wider format crosses later (or never on the ladder)
    s16, s32 = f["fp16"]["s_star_empirical"], f["fp32"]["s_star_empirical"]
    assert s16 is not None and (s32 is None or s32 > s16)
    assert f["bf16"]["s_star_class"] < f["fp16"]["s_star_class"] < f["fp32"]["s_star_class"]


def test_crossover_bad_input(capsys):
    assert main(["crossover", "--function", "tent", "--formats", "fp16,fp99"]) == 2
    assert "unknown format" in capsys.readouterr().err
    assert main(["crossover", "--function", "tent", "--formats", ","]) == 2
    assert "no formats" in capsys.readouterr().err


def test_crossover_data(tmp_path, capsys):
    from errbound.functions import get_function

    x = get_function("tent", dim=1).eval_grid(1024)[None]
    np.save(tmp_path / "t.npy", x)
    d = _run_json(capsys, ["crossover", "--data", str(tmp_path / "t.npy"), "--formats", "fp16", "--json"])
    assert d["formats"]["fp16"]["s_star_bound"] is None and d["resolutions"][-1] == 1024


def test_gpu_script_dry_run(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "paper_repro" / "gpu_precision_check.py"
    spec = importlib.util.spec_from_file_location("gpu_precision_check", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "g.json"
    assert mod.main(["--dry-run", "--sizes", "16", "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["mode"].startswith("dry-run") and "provenance" in d
    kinds = {r["kind"] for r in d["rows"]}
    assert kinds == {"smooth", "step", "random", "edge_below", "edge_above"}
    edge = {r["kind"]: r for r in d["rows"] if r["kind"].startswith("edge")}
    # the emulator and the exact-magnitude prediction agree at the overflow edge
    assert edge["edge_above"]["emu_overflow"] and edge["edge_above"]["predicted_overflow"]
    assert not edge["edge_below"]["emu_overflow"] and not edge["edge_below"]["predicted_overflow"]
    for r in d["rows"]:
        if r["ratio"] is not None:
            assert r["ratio"] == pytest.approx(r["emu_err"] / r["gpu_err"])


def test_gpu_script_without_cuda_fails_clearly(monkeypatch):
    import importlib.util
    from pathlib import Path

    torch = pytest.importorskip("torch")
    path = Path(__file__).resolve().parents[1] / "paper_repro" / "gpu_precision_check.py"
    spec = importlib.util.spec_from_file_location("gpu_precision_check_nocuda", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit, match="no CUDA device"):
        mod.device_rfft2(np.zeros((16, 16)), dry_run=False)
    with pytest.raises(SystemExit):
        mod.main(["--sizes", "24", "--dry-run", "--out", "/dev/null"])  # not a power of two: argparse error
    x = mod.make_input("edge_above", 16)
    assert x.shape == (16, 16) and x.sum() > 65504  # the DC term lies past fp16's max
