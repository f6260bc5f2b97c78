"""paper_repro framework: registry, atomic outputs, provenance, GPU-JSON handling, CLI errors."""

from __future__ import annotations

import importlib
import json
import sys
import types

import pytest

from errbound.cli import main
from errbound.errors import ErrboundError
from paper_repro import _runner
from paper_repro._runner import ARTEFACTS, ArtefactResult, Comparison, Context, new_figure, run_artefact


def test_every_registered_artefact_is_a_module_with_the_protocol():
    for name in ARTEFACTS:
        mod = importlib.import_module(f"paper_repro.{name}")
        assert mod.NAME == name
        assert isinstance(mod.TITLE, str) and mod.TITLE
        assert isinstance(mod.GPU_DEPENDENT, bool)
        assert callable(mod.compute)


def test_gpu_dependent_set_is_the_issue_list():
    gpu = {n for n in ARTEFACTS if importlib.import_module(f"paper_repro.{n}").GPU_DEPENDENT}
    # contraction's content (largest intermediate of a path, wall time) is meaningful on a CPU
    # every other artefact is meaningful on a CPU at its full size (the training ones at a converged CPU scale)
    assert gpu == {"memory_throughput"}


def test_paper_numbers_ratios_come_from_notes_values():
    from paper_repro.paper_numbers import NS_EPOCH, SCHEDULE_H1, ratio

    assert NS_EPOCH["RTX 3090 Ti"]["fp32"]["epoch_s"].value == 77.95
    assert NS_EPOCH["V100"]["amp+half"]["memory_mib"].value == 6483
    assert SCHEDULE_H1["schedule"].value == 0.00515
    # the paper's 1.41x throughput of AMP + half on the 3090 Ti (NOTES.md s4) follows from its epoch times
    assert round(ratio(77.95, 55.45), 2) == 1.41
    assert ratio(1.0, 0.0) is None and ratio(None, 1.0) is None


def _fake_module(name: str, gpu: bool = False, fail_in_savefig: bool = False) -> types.ModuleType:
    mod = types.ModuleType(f"paper_repro.{name}")
    mod.NAME, mod.TITLE, mod.GPU_DEPENDENT = name, "fake artefact", gpu

    def compute(ctx):
        fig, axes = new_figure()
        axes[0][0].plot([1, 2, 3], [1, 4, 9], label="y = x^2")
        axes[0][0].set_xlabel("x (unit)")
        axes[0][0].set_ylabel("y (unit)")
        axes[0][0].legend()
        if fail_in_savefig:
            def boom(*args, **kwargs):
                raise KeyboardInterrupt
            fig.savefig = boom
        return ArtefactResult(data={"y": [1, 4, 9]}, figure=fig,
                              comparisons=[Comparison(quantity="q", ours=2.0, paper=4.0, unit="s", source="NOTES.md s4",
                                                                comparable=True, reason="same quantity and setting"),
                                                     Comparison(quantity="cpu vs gpu", ours=2.0, paper=4.0, unit="s",
                                                                source="NOTES.md s4", reason="CPU timing vs GPU timing")])

    mod.compute = compute
    mod.from_gpu_json = lambda payload, ctx: compute(ctx)
    return mod


@pytest.fixture
def fake(monkeypatch):
    def install(name, **kw):
        monkeypatch.setitem(ARTEFACTS, name, "fake")
        monkeypatch.setitem(sys.modules, f"paper_repro.{name}", _fake_module(name, **kw))
        return name
    return install


def test_run_writes_png_pdf_and_json_with_provenance(tmp_path, fake):
    name = fake("fake_ok")
    ctx = Context(quick=True, figures_dir=tmp_path / "fig", results_dir=tmp_path / "res")
    doc = run_artefact(name, ctx, ["errbound", "repro", name])
    png, pdf = tmp_path / "fig" / f"{name}.png", tmp_path / "fig" / f"{name}.pdf"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    data = json.loads((tmp_path / "res" / f"{name}.json").read_text())
    prov = data["provenance"]
    for key in ("versions", "commit", "command", "date", "device"):
        assert key in prov
    assert prov["command"] == f"errbound repro {name}"
    assert data["comparisons"][0]["ratio"] == 0.5  # ours 2 / paper 4, comparable
    assert data["comparisons"][1]["ratio"] is None and data["comparisons"][1]["comparable"] is False
    assert doc["mode"] == "quick"
    report = _runner.format_report(doc)
    assert "0.5" in report and "NOTES.md s4" in report


def test_interrupted_run_leaves_previous_files_and_no_temporaries(tmp_path, fake):
    ok = fake("fake_int")
    ctx = Context(quick=True, figures_dir=tmp_path / "fig", results_dir=tmp_path / "res")
    run_artefact(ok, ctx)
    before_png = (tmp_path / "fig" / f"{ok}.png").read_bytes()
    before_json = (tmp_path / "res" / f"{ok}.json").read_text()
    sys.modules[f"paper_repro.{ok}"] = _fake_module(ok, fail_in_savefig=True)
    with pytest.raises(KeyboardInterrupt):
        run_artefact(ok, ctx)
    assert (tmp_path / "fig" / f"{ok}.png").read_bytes() == before_png
    assert (tmp_path / "res" / f"{ok}.json").read_text() == before_json
    leftovers = [p.name for p in (tmp_path / "fig").iterdir()] + [p.name for p in (tmp_path / "res").iterdir()]
    assert sorted(leftovers) == sorted([f"{ok}.png", f"{ok}.pdf", f"{ok}.json"])


def test_gpu_artefact_full_mode_without_gpu_json_is_a_clear_error(tmp_path, fake):
    name = fake("fake_gpu", gpu=True)
    ctx = Context(quick=False, device="cpu", figures_dir=tmp_path / "fig", results_dir=tmp_path / "res")
    with pytest.raises(ErrboundError, match="--quick"):
        run_artefact(name, ctx)
    assert not (tmp_path / "res").exists() or not any((tmp_path / "res").iterdir())


def test_gpu_artefact_full_mode_uses_committed_gpu_json(tmp_path, fake):
    name = fake("fake_gpu2", gpu=True)
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / f"{name}.gpu.json").write_text("{}")
    ctx = Context(quick=False, device="cpu", figures_dir=tmp_path / "fig", results_dir=tmp_path / "res")
    doc = run_artefact(name, ctx)
    assert doc["mode"] == "full (committed GPU JSON)"


def test_quick_gpu_artefact_says_it_is_not_the_paper_setting(tmp_path, fake):
    name = fake("fake_gpu3", gpu=True)
    ctx = Context(quick=True, device="cpu", figures_dir=tmp_path / "fig", results_dir=tmp_path / "res")
    doc = run_artefact(name, ctx)
    assert any("CPU quick mode, not the paper's setting" in n for n in doc["notes"])


@pytest.mark.parametrize("argv, match", [
    (["repro", "no_such_artefact"], "unknown artefact"),
    (["repro"], "name an artefact or pass --all"),
    (["repro", "overflow", "--all"], "either artefact names"),
    (["repro", "overflow", "no_such_artefact"], "unknown artefact"),
    (["repro", "overflow", "--device", "tpu"], "--device must be"),
])
def test_repro_cli_bad_input(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("errbound: error:") and match in err


def test_repro_cli_cuda_without_gpu_is_a_clear_error(capsys, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["repro", "overflow", "--device", "cuda", "--figures", str(tmp_path), "--results", str(tmp_path)]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_repro_list(capsys):
    assert main(["repro", "--list", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["artefacts"]) == set(ARTEFACTS)


def test_quick_runs_default_to_an_untracked_folder(monkeypatch):
    """`make demo` (repro --all --quick) must not replace the committed figures and results."""
    import argparse

    from errbound.cli import repro_cmd

    seen = {}

    class Stop(Exception):
        pass

    def fake_context(**kwargs):
        seen.update(kwargs)
        raise Stop

    import paper_repro._runner as runner

    monkeypatch.setattr(runner, "Context", fake_context)
    args = argparse.Namespace(list=False, all=True, name=None, quick=True, device="cpu", figures=None, results=None)
    try:
        repro_cmd.run(args)
    except Stop:
        pass
    assert str(seen["figures_dir"]).endswith("runs/repro-quick/figures")
    assert str(seen["results_dir"]).endswith("runs/repro-quick/results")


def test_a_comparison_needs_a_reason_and_a_comparable_one_needs_both_numbers():
    with pytest.raises(ErrboundError, match="reason"):
        Comparison(quantity="q", ours=1.0, paper=2.0)
    with pytest.raises(ErrboundError, match="comparable"):
        Comparison(quantity="q", ours=None, paper=2.0, comparable=True, reason="r")
    assert Comparison(quantity="q", ours=1.0, paper=2.0, reason="different hardware").ratio is None


def test_full_cuda_run_writes_the_gpu_version_beside_the_cpu_one_and_replots_from_it(tmp_path, fake, monkeypatch):
    # the device check is the only CUDA-specific step of the runner; the fake artefact computes nothing on a device
    monkeypatch.setattr(_runner, "_check_device", lambda device: None)
    name = fake("fake_gpu4", gpu=True)
    ctx = Context(quick=False, device="cuda", figures_dir=tmp_path / "fig", results_dir=tmp_path / "res")
    doc = run_artefact(name, ctx)
    assert doc["results"].endswith(f"{name}.gpu.json")
    assert (tmp_path / "fig" / f"{name}.gpu.png").is_file() and not (tmp_path / "res" / f"{name}.json").exists()
    seen = {}
    module = sys.modules[f"paper_repro.{name}"]
    compute = module.compute
    module.from_gpu_json = lambda payload, ctx: (seen.setdefault("payload", payload), compute(ctx))[1]
    cpu = Context(quick=False, device="cpu", figures_dir=tmp_path / "fig", results_dir=tmp_path / "res")
    again = run_artefact(name, cpu)
    assert again["mode"] == "full (committed GPU JSON)"
    assert seen["payload"] == {"y": [1, 4, 9]}  # the data of the GPU document, not the whole document
