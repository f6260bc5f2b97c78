"""The advisor: discretization estimate, precision candidates, overflow and its fix, recommendation, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from errbound.advise import advise, check_samples, estimate_discretization_error, load_data
from errbound.cli import main
from errbound.errors import ErrboundError


@pytest.mark.parametrize("spec", ["tent", "step", "sobolev:r=1,band=96", "sobolev:r=2,band=96", "grf:band=96"])
@pytest.mark.parametrize("s", [32, 64])
def test_discretization_estimate_within_factor_4_of_exact(spec, s):
    """Against the exact aliasing error of functions with known coefficients (errbound.functions).

    Factor 4: the estimate assumes a pure power law s^-beta fitted on a finite band; measured ratios on these
    cases lie in [0.8, 3.1] (an estimate, not a bound, so the tolerance is empirical with margin).
    """
    from errbound.functions import get_function

    fn = get_function(spec, dim=2)
    x = fn.eval_grid(s)[None]
    h = 4  # 8 modes per axis -> |w_i| <= 4
    exact = np.linalg.norm(fn.mode_error(s, h)) / np.linalg.norm(fn.coef_box(h))
    est = estimate_discretization_error(x, 8)
    assert 0.25 <= est["value"] / exact <= 4.0, (est, exact)


def _constant_plus_noise(mean: float, s: int, n: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return mean + 0.1 * rng.standard_normal((n, s, s))


def test_overflow_flagged_when_mean_times_grid_exceeds_fp16_range_and_prescale_fixes_it():
    s = 128
    x = _constant_plus_noise(5.0, s)  # mean * s^2 = 81920 > 65504
    assert x.mean() * s * s > 65504
    adv = advise(x, modes=16, formats=["fp16"])
    half = next(c for c in adv.candidates if c.precision == "half" and c.backend == "fft")
    assert half.overflow
    # the pow2 rule: sum|x| ~ 81920 = 0.625 x 2^17 -> 2^-(17 - 14) = 2^-3
    assert half.fix["kind"] == "pow2" and half.fix["exponent"] == -3 and half.fix["removes_overflow"]
    assert np.isfinite(half.prec_err)
    # independently: the emulated block with the advised pre-scale is finite, without it it is not
    from errbound.modes import random_weights
    from errbound.policy import parse_policy
    from errbound.spectral_block import SpectralBlock

    w = random_weights(1, 1, [16, 16], seed=0)
    plain = SpectralBlock(w, 16, parse_policy("half+none")).run(x[:, None])
    fixed = SpectralBlock(w, 16, parse_policy("half+pow2")).run(x[:, None])
    assert plain.overflow and not np.all(np.isfinite(plain.output))
    assert not fixed.overflow and np.all(np.isfinite(fixed.output)) and fixed.prescale_exp == -3


def test_no_overflow_flag_below_the_fp16_range():
    x = _constant_plus_noise(2.0, 128)  # mean * s^2 = 32768 < 65504
    adv = advise(x, modes=16, formats=["fp16"])
    assert not any(c.overflow for c in adv.candidates if c.format == "fp16")


def test_recommendation_is_cheapest_ok_trainable_and_respects_tolerance():
    from errbound.functions import get_function

    x = np.stack([get_function(f"grf:seed={i},band=48", dim=2).eval_grid(32) for i in range(3)])
    loose = advise(x, modes=8, tolerance=1e6)
    # everything ok: the cheapest (a 16-bit matrix-product block) wins
    assert (loose.recommended["precision"], loose.recommended["backend"]) in (("half", "dft"), ("half-bf16", "dft"))
    strict = advise(x, modes=8, tolerance=1e-12)
    assert strict.recommended["precision"] == "full"  # nothing low-precision is within 1e-12 x disc error
    for adv in (loose, strict):
        limit = adv.tolerance * adv.discretization_err
        for c in adv.candidates:
            assert c.ok == (np.isfinite(c.prec_err) and c.prec_err <= limit)
    # fp16 (11-bit significand) is more accurate than bf16 (8-bit) in the same preset
    by = {(c.precision, c.backend): c.prec_err for c in loose.candidates}
    assert by[("half", "fft")] < by[("half-bf16", "fft")]
    assert by[("full", "fft")] < by[("half", "fft")]


def test_train_flags_parse_and_are_supported_by_the_trainer():
    pytest.importorskip("torch")
    from errbound.train.spectral import check_supported
    from errbound.validate import flags_to_policy

    x = np.random.default_rng(0).standard_normal((2, 48, 48))  # not a power of two
    adv = advise(x, modes=8)
    for c in adv.candidates:
        if c.trainable:
            policy, backend, modes = flags_to_policy(c.train_flags)
            assert modes == 8
            check_supported(policy, backend, (48, 48))


def test_json_fields(tmp_path, capsys):
    np.save(tmp_path / "d.npy", np.random.default_rng(1).standard_normal((3, 32, 32)))
    assert main(["advise", "--data", str(tmp_path / "d.npy"), "--modes", "8", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc["discretization_err"], float)
    for c in doc["candidates"]:
        assert {"format", "precision", "backend", "engine", "prec_err", "overflow", "ok"} <= set(c)
    assert "train_flags" in doc["recommended"] and doc["recommended"]["train_flags"][0] == "--precision"


def test_pt_layout_gives_full_train_command(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"x": torch.randn(3, 32, 32), "y": torch.randn(3, 32, 32)}, tmp_path / "darcy_train_32.pt")
    x = load_data(tmp_path / "darcy_train_32.pt")
    adv = advise(x, modes=8, data_name=str(tmp_path / "darcy_train_32.pt"))
    assert adv.recommended["train_command"].startswith(f"errbound train --data {tmp_path} --dataset darcy --res 32 --precision")


@pytest.mark.parametrize("setup, match", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: np.save(p, np.full((2, 16, 16), np.nan)), "NaN/inf"),
    (lambda p: np.save(p, np.zeros(16)), "shape \\(N, \\*grid\\)"),
    (lambda p: np.save(p, np.zeros((2, 2, 2))), "too small"),
])
def test_bad_data_files(tmp_path, setup, match):
    path = tmp_path / "d.npy"
    setup(path)
    with pytest.raises(ErrboundError, match=match):
        load_data(path)


def test_bad_suffix_and_npz_key(tmp_path):
    (tmp_path / "d.csv").write_text("1,2\n")
    with pytest.raises(ErrboundError, match="has suffix .*use one of"):
        load_data(tmp_path / "d.csv")
    np.savez(tmp_path / "d.npz", a=np.zeros((2, 8, 8)))
    with pytest.raises(ErrboundError, match="no array 'x2'"):
        load_data(tmp_path / "d.npz", key="x2")
    assert load_data(tmp_path / "d.npz").shape == (2, 8, 8)


@pytest.mark.parametrize("kwargs, match", [
    (dict(tolerance=0.0), "tolerance"),
    (dict(formats=["fp17"]), "fp17"),
    (dict(modes=40), "modes"),
    (dict(modes=1), "modes"),
    (dict(n_samples=0), "n_samples"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ErrboundError, match=match):
        advise(np.zeros((2, 32, 32)) + 1.0, **kwargs)


def test_cli_errors(tmp_path, capsys):
    assert main(["advise", "--data", str(tmp_path / "missing.npy")]) == 2
    assert "does not exist" in capsys.readouterr().err
    np.save(tmp_path / "d.npy", np.ones((2, 16, 16)))
    assert main(["advise", "--data", str(tmp_path / "d.npy"), "--formats", ","]) == 2
    assert "names no format" in capsys.readouterr().err
    assert check_samples(np.ones((1, 8)), "x").shape == (1, 8)


def test_target_error_adds_the_accuracy_criterion():
    from errbound.advise import predicted_gap

    x = np.random.default_rng(2).standard_normal((2, 32, 32))
    plain = advise(x, modes=8)
    assert plain.target_error is None and all(c.ok_for_target is None for c in plain.candidates)
    assert "recommended_for_target" not in plain.as_dict()
    loose = advise(x, modes=8, target_error=0.5)  # a poor model: 16-bit block errors are negligible
    tight = advise(x, modes=8, target_error=1e-5)  # below fp16's block error: only fp32 passes
    for adv in (loose, tight):
        for c in adv.candidates:
            assert c.predicted_gap == pytest.approx(predicted_gap(c.prec_err, adv.target_error))
            assert c.ok_for_target == (c.predicted_gap <= adv.tolerance)
    assert loose.recommended_for_target["format"] in ("fp16", "bf16")
    assert tight.recommended_for_target["precision"] == "full"
    assert plain.recommended == loose.recommended  # the discretization criterion is unchanged
    with pytest.raises(ErrboundError, match="target_error"):
        advise(x, modes=8, target_error=0.0)
