"""Smoke runs of the fast --quick artefacts (CPU), and of all of them (slow)."""

from __future__ import annotations

import json
import math

import pytest

from errbound.cli import main


def _run(name, tmp_path, capsys):
    code = main(["repro", name, "--quick", "--figures", str(tmp_path / "fig"), "--results", str(tmp_path / "res")])
    out = capsys.readouterr().out
    assert code == 0, out
    doc = json.loads((tmp_path / "res" / f"{name}.json").read_text())
    assert (tmp_path / "fig" / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / "fig" / f"{name}.pdf").stat().st_size > 1000
    return doc, out


def test_error_vs_resolution_quick(tmp_path, capsys):
    doc, out = _run("error_vs_resolution", tmp_path, capsys)
    data = doc["data"]
    res = data["resolutions"]
    tent = data["panels"]["tent"]
    assert tent["res"] == res and data["class"]["res"] == res
    # discretization error of the bump decreases with s and stays below its proven upper bound
    assert tent["disc_err"][-1] < tent["disc_err"][0]
    assert all(e <= b for e, b in zip(tent["disc_err"], tent["disc_bound"]))
    # fp32 precision error is far below fp16's (u ratio 2^13; a factor 100 leaves room for log factors)
    assert max(tent["prec_err"]["fp32"]) * 100 < min(tent["prec_err"]["fp16"])
    # the fp16 crossover of the bump exists inside the swept range
    star = tent["s_star_empirical"]["fp16"]
    assert star is not None and 8 <= star <= 128
    assert "fp16 crossover" in out


def test_error_vs_resolution_class_line_and_witnesses(tmp_path, capsys):
    from errbound.crossover import class_disc_worst, s_star_input_model

    doc, out = _run("error_vs_resolution", tmp_path, capsys)
    cls = doc["data"]["class"]
    res, L = cls["res"], cls["L"]
    kappa2 = (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6  # closed form, docs/theory.md D2(a)
    for s, a in zip(res, cls["line"]):
        # the line is errbound.crossover's A*(s) = L kappa_2 / s; 1e-14: a few float64 roundings apart
        assert a == class_disc_worst(s, L, 2)
        assert a == pytest.approx(L * kappa2 / s, rel=1e-14)
    # D3(a): the Euclidean witness sits on the line. 1e-6: its vhat(0) is a midpoint rule with 1024^2 points on
    # one cell, error O(1024^-2) relative (the kink at the grid point); its samples are 0 to float64 rounding
    assert max(abs(d) for d in cls["witness_euclid"]["rel_dev"]) < 1e-6
    # D3(b): the library tentgrid attains sqrt(2) L / (4s), a fixed 0.924 of the line (exact aliasing sums;
    # 1e-12: float64 roundings of the sums and of the slope's 4-ulp upward rounding)
    for r in cls["witness_tentgrid"]["ratio_to_line"]:
        assert r == pytest.approx(math.sqrt(2) / (4 * kappa2), rel=1e-12)
    # the class crossover is the class's (C1 with P1: kappa_2 2^11 for fp16, L = M), not the bump's
    c16 = cls["crossovers"]["fp16"]
    assert c16["s_star_input_model"] == s_star_input_model(L, cls["M"], 2, "fp16")
    assert 700 < c16["s_star_input_model"] < 900
    row = next(c for c in doc["comparisons"] if c["quantity"].startswith("fp16 class crossover s*, input"))
    assert row["ours"] == c16["s_star_input_model"] and not row["comparable"] and row["ratio"] is None
    assert all(c["reason"] for c in doc["comparisons"])
    # every format has a precision curve and its bound at every resolution
    for f in ("fp32", "tf32", "bf16", "fp16", "fp8_e4m3fn"):
        assert len(cls["prec_err"][f]) == len(res) and len(cls["prec_bound"][f]) == len(res)


def test_frequency_modes_quick(tmp_path, capsys):
    doc, _ = _run("frequency_modes", tmp_path, capsys)
    # relative error grows as amplitude falls: negative log-log slope (about -1 for constant absolute error)
    assert doc["data"]["slope"] < -0.5
    assert doc["data"]["median_rel_truncated"] > doc["data"]["median_rel_retained"]


def test_overflow_quick(tmp_path, capsys):
    doc, out = _run("overflow", tmp_path, capsys)
    d = doc["data"]
    mags = d["magnitudes"]
    i1 = min(range(len(mags)), key=lambda i: abs(mags[i] - 1.0))
    # NOTES.md s2 item 6: mean 1 on 256^2 overflows fp16 (65536 > 65504), 128^2 does not
    assert d["emulated_safe"]["plain"][i1] == 128
    # exact power-of-two pre-scaling removes the overflow at every emulated size
    assert all(s == d["res"][-1] for s in d["emulated_safe"]["prescale"])
    # the rigorous guarantee never claims more than emulation shows
    assert all(g <= max(e, 1) or e == d["res"][-1] for g, e in zip(d["guaranteed_safe"], d["emulated_safe"]["plain"]))


def test_contraction_quick(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("opt_einsum")
    doc, out = _run("contraction", tmp_path, capsys)
    rows = doc["data"]["rows"]
    assert rows["naive"]["largest_intermediate_elements"] > rows["greedy"]["largest_intermediate_elements"]
    assert rows["optimal"]["largest_intermediate_elements"] <= rows["greedy"]["largest_intermediate_elements"]
    # all orders compute the same contraction (fp32 roundoff, sums of <= 16*32 terms)
    assert rows["greedy"]["rel_diff_vs_naive"] < 1e-5 and rows["optimal"]["rel_diff_vs_naive"] < 1e-5
    tucker = doc["data"]["tucker"]["rows"]
    assert tucker["naive"]["largest_intermediate_elements"] > tucker["greedy"]["largest_intermediate_elements"]
    assert any("peak CUDA memory not measured" in n for n in doc["notes"])


def test_contraction_full_mode_runs_on_cpu(tmp_path, monkeypatch):
    """The largest intermediate is a property of the path: full mode runs on a CPU (sizes shrunk for the test)."""
    pytest.importorskip("torch")
    pytest.importorskip("opt_einsum")
    from paper_repro import contraction
    from paper_repro._runner import Context, run_artefact

    monkeypatch.setitem(contraction.SIZES, "full", dict(batch=2, hidden=8, modes=(8, 8), ranks=(2,)))
    monkeypatch.setattr(contraction, "RUN_LIMIT_ELEMENTS", 2 ** 12)  # so the naive order is skipped at some rank
    ctx = Context(quick=False, device="cpu", figures_dir=tmp_path / "fig", results_dir=tmp_path / "res")
    doc = run_artefact("contraction", ctx)
    assert doc["mode"] == "full" and not doc["gpu_dependent"]
    assert not any("not the paper's setting" in n for n in doc["notes"])
    sweep = doc["data"]["sweep"]
    # a variant over the run limit keeps its memory (from the path) and has no time
    skipped = [r for r in sweep.values() if not r["naive"]["run"]]
    assert skipped and all(r["naive"]["median_seconds"] is None and r["naive"]["largest_intermediate_elements"] > 2 ** 12
                           for r in skipped)
    assert all(r["greedy"]["min_seconds"] > 0 for r in sweep.values())


@pytest.mark.slow
def test_all_quick(tmp_path, capsys):
    pytest.importorskip("torch")
    code = main(["repro", "--all", "--quick", "--figures", str(tmp_path / "fig"), "--results", str(tmp_path / "res")])
    assert code == 0, capsys.readouterr()
    for name in ("memory_throughput", "precision_table", "error_vs_time", "pareto", "stabilizers", "schedule_superres"):
        doc = json.loads((tmp_path / "res" / f"{name}.json").read_text())
        assert doc["quick"] is True
        assert all(c["ours"] is None or isinstance(c["ours"], (int, float)) and math.isfinite(c["ours"])
                   for c in doc["comparisons"])
    doc = json.loads((tmp_path / "res" / "memory_throughput.json").read_text())
    assert any("not the paper's setting" in n for n in doc["notes"])


def test_stabilizers_quick_on_data_the_emulator_says_overflow(tmp_path, capsys):
    """The ablation's premise and its two sure outcomes, on the quick sizes: the emulator predicts an fp16
    overflow of the unstabilised block on these inputs (their grid sum exceeds 65504 by an order of magnitude),
    every training step without a stabilizer is then non-finite, and the exact pow2 pre-scale has none."""
    pytest.importorskip("torch")
    doc, _ = _run("stabilizers", tmp_path, capsys)
    rows = {r["stabilizer"]: r for r in doc["data"]["rows"]}
    assert set(rows) == {"none", "clip", "sigma2", "tanh", "pow2", "full"}
    assert rows["none"]["predicted_overflow"] and not rows["pow2"]["predicted_overflow"]
    assert rows["none"]["nonfinite_steps"] == rows["none"]["steps_per_seed"] * len(rows["none"]["nonfinite_steps_per_seed"])
    assert rows["none"]["test_l2"] is None  # an fp16 block that overflows gives no finite test output
    assert rows["pow2"]["nonfinite_steps"] == 0 and rows["pow2"]["test_l2"] is not None
