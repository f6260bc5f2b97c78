"""errbound validate: configuration checks (fast) and one small end-to-end run (slow)."""

from __future__ import annotations

import pytest

from errbound.cli import main
from errbound.errors import ErrboundError


def test_config_validation():
    from errbound.validate import ValidateConfig

    with pytest.raises(ErrboundError, match="resolutions"):
        ValidateConfig(resolutions=(4,))
    with pytest.raises(ErrboundError, match="epochs"):
        ValidateConfig(epochs=0)
    with pytest.raises(ErrboundError, match="tolerance"):
        ValidateConfig(tolerance=-1.0)
    with pytest.raises(ErrboundError, match="device"):
        ValidateConfig(device="tpu")


def test_flags_to_policy():
    pytest.importorskip("torch")
    from errbound.validate import flags_to_policy

    policy, backend, modes = flags_to_policy(["--precision", "half-bf16", "--backend", "dft", "--modes", "8"])
    assert (policy.mode, policy.low_name, backend, modes) == ("half", "bf16", "dft", 8)
    with pytest.raises(ErrboundError, match="no --precision"):
        flags_to_policy(["--backend", "dft"])


@pytest.mark.parametrize("argv, match", [
    (["validate", "--dataset", "cifar"], "unknown dataset"),
    (["validate", "--res", "3x"], "comma-separated list of integers"),
    (["validate", "--res", "4"], "resolutions"),
])
def test_cli_bad_input(argv, match, capsys):
    pytest.importorskip("torch")
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_cuda_without_gpu(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["validate", "--device", "cuda"]) == 2
    assert "no CUDA device" in capsys.readouterr().err


@pytest.mark.slow
def test_validate_small_darcy(tmp_path):
    pytest.importorskip("torch")
    from errbound.validate import ValidateConfig, validate

    rep = validate(ValidateConfig(resolutions=(32,), n_train=16, n_test=4, epochs=2, cache_dir=str(tmp_path)))
    block = rep["results"][0]
    roles = {r["role"] for r in block["runs"]}
    assert "full" in roles
    for r in block["runs"]:
        assert r["agree"] == (r["predicted_ok"] == r["observed_safe"])
    assert rep["verdicts"] == len([r for r in block["runs"] if r["role"] != "full"])


def test_protocol_and_bookkeeping_without_training(monkeypatch, tmp_path):
    """Replace training by a stand-in whose test error grows with the emulated block error
    (test_l2 = 0.05 + 10 x prec_err, one seed slightly noisier): checks which configurations are trained and
    how gaps, verdicts and counts are derived, with no optimisation noise in the way."""
    pytest.importorskip("torch")
    import errbound.validate as V
    from errbound.advise import advise

    seen = []

    def fake_train(cfg, data, tests, dim, flags, seed):
        adv_err = {tuple(c.train_flags): c.prec_err for c in advice.candidates if c.trainable}[tuple(flags)]
        seen.append((tuple(flags), seed))
        l2 = 0.05 + 10 * adv_err + 1e-4 * seed
        return {"seed": seed, "test_l2": l2, "test_h1": 2 * l2, "nonfinite_steps": 0, "finite": True, "seconds": 0.0}

    cfg = V.ValidateConfig(resolutions=(32,), n_train=8, n_test=4, epochs=1, seeds=2, cache_dir=str(tmp_path))
    from errbound.data import make_dataset

    test = make_dataset("darcy", 32, 8, 4, seed=0, cache_dir=str(tmp_path), test_res=[32]).load_test(32)
    advice = advise(test[0].double().numpy(), modes=cfg.modes, formats=cfg.formats, tolerance=cfg.tolerance)
    monkeypatch.setattr(V, "_train", fake_train)
    rep = V.validate(cfg)
    block = rep["results"][0]
    roles = [r["role"] for r in block["runs"]]
    assert roles[0] == "full" and "rejected" in roles and roles.count("rejected") == 1
    rejected = next(r for r in block["runs"] if r["role"] == "rejected")
    # the cheapest rejected candidate: an 8-bit block (storage bits sort first)
    assert rejected["format"].startswith("fp8") and not rejected["predicted_ok"]
    assert len(seen) == 2 * len(block["runs"]) and {s for _, s in seen} == {0, 1}
    for r in block["runs"]:
        assert r["test_l2"] == pytest.approx(sum(r["test_l2_per_seed"]) / 2)
        assert r["observed_safe"] == (r["gap"] <= cfg.tolerance)
        assert r["agree"] == (r["predicted_ok"] == r["observed_safe"])
    assert block["full_seed_noise"] == pytest.approx(1e-4 / 2**0.5 / block["runs"][0]["test_l2"])
    assert rep["protocol_verdicts"] == len(block["runs"]) - 1
    assert rep["protocol_agreements"] == sum(r["agree"] for r in block["runs"][1:])
    assert rep["disagreements"] == [] or all(not d["predicted_ok"] == d["observed_safe"] for d in rep["disagreements"])

    seen.clear()
    rep_all = V.validate(V.ValidateConfig(**{**cfg.__dict__, "configs": "all", "seeds": 1}))
    runs = rep_all["results"][0]["runs"]
    assert len(runs) == sum(c.trainable for c in advice.candidates)  # every trainable candidate, once
    assert rep_all["protocol_verdicts"] == rep["protocol_verdicts"]


def test_predicted_gap_is_the_quadrature_estimate():
    from errbound.validate import predicted_gap

    assert predicted_gap(0.0, 0.1) == 0.0
    assert predicted_gap(0.03, 0.04) == pytest.approx(0.25)  # sqrt(0.03^2 + 0.04^2) = 0.05
    assert predicted_gap(1e-4, 0.1) == pytest.approx(0.5e-6, rel=1e-3)  # second order for small errors
    assert predicted_gap(float("inf"), 0.1) == float("inf")


def test_saved_report_rederives_the_same_verdicts(monkeypatch, tmp_path, capsys):
    """--out then --report: the merged, re-derived report has the same verdicts and counts."""
    pytest.importorskip("torch")
    import json

    import errbound.validate as V

    def fake_train(cfg, data, tests, dim, flags, seed):
        l2 = 0.02 * (4.0 if "fp8" in " ".join(flags) else 1.0) + 1e-4 * seed
        return {"seed": seed, "test_l2": l2, "test_h1": l2, "nonfinite_steps": 0, "finite": True, "seconds": 0.0}

    monkeypatch.setattr(V, "_train", fake_train)
    out = tmp_path / "v.json"
    argv = ["validate", "--res", "32", "--n-train", "8", "--n-test", "4", "--epochs", "1", "--seeds", "2",
            "--cache-dir", str(tmp_path), "--out", str(out), "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["validate", "--report", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    for key in ("protocol_verdicts", "protocol_agreements", "verdicts", "agreements", "agreements_given_baseline"):
        assert again[key] == first[key]
    assert first["protocol_agreements"] == first["protocol_verdicts"] == 2  # fp16 safe, fp8 4x worse: unsafe
    assert main(["validate", "--report", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{}")
    assert main(["validate", "--report", str(tmp_path / "bad.json")]) == 2
    assert "not an errbound validate report" in capsys.readouterr().err
