"""errbound.precision: measured errors, certification of the float64 reference, sweep rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from errbound.errors import ErrboundError
from errbound.precision import (
    block_error, certify_reference, mode_errors, rel_err, source_arrays, sweep, transform_error,
)
from errbound.modes import random_weights
from errbound.policy import parse_policy
from errbound.spectral_block import SpectralBlock

ROW_FIELDS = {"res", "prec_err_rel", "layer_err_rel", "bound_worst", "bound_prob", "overflow", "max_intermediate",
              "prescale_exp"}


def test_rel_err():
    assert rel_err(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_err(np.array([np.inf]), np.array([1.0])) == math.inf
    assert rel_err(np.array([3.0, 4.0]), np.array([0.0, 0.0])) == math.inf
    assert rel_err(np.array([1.0, 1.0]), np.array([1.0, 0.0])) == 1.0


def test_certify_reference_detects_perturbation():
    x = source_arrays(function="smooth", res=16, dim=2)[:, None]
    blk = SpectralBlock(random_weights(1, 1, [6, 6]), [6, 6], parse_policy("half"))
    out, spec = blk.reference(x)
    cert = certify_reference(x, blk, dps=30)
    # float64 reference: relative distance of a few ulps of float64 (2^-52 ~ 2.2e-16), so < 1e-14
    assert cert["spectrum_rel"] < 1e-14 and cert["output_rel"] < 1e-14
    bad = certify_reference(x, blk, dps=30, ref=(out * (1 + 1e-9), spec))
    assert bad["output_rel"] == pytest.approx(1e-9, rel=1e-3)  # the planted relative perturbation


def test_transform_error_rfft2_fields_and_bounds():
    x = source_arrays(function="step", res=32, dim=2)
    row = transform_error(x, "fp16")
    assert row["prec_err_rel"] <= row["bound_worst"] and not row["overflow"]
    assert row["prec_err_rel"] > 2.0**-11 / 10  # fp16 really rounds: error of order u
    big = source_arrays(function="smooth", res=256, dim=2)
    over = transform_error(big, "fp16")
    assert over["overflow"] and over["bound_worst"] == math.inf and over["prescale_exp"] < 0


@pytest.mark.parametrize("name", ["half", "mixed-bf16", "dft-half", "full"])
def test_block_error_rows(name):
    x = source_arrays(function="tent", res=32, dim=2)[:, None]
    blk = SpectralBlock(random_weights(1, 1, [8, 8]), [8, 8], parse_policy(name))
    row = block_error(x, blk)
    assert ROW_FIELDS - {"res"} <= set(row)
    assert row["prec_err_rel"] <= row["bound_worst"] and row["layer_err_rel"] <= row["layer_bound_worst"]
    assert row["certified"] is True  # float64 reference far more accurate than the emulated error


def test_sweep_function_and_data_resolutions():
    S = {r: source_arrays(function="smooth", res=r, dim=1) for r in (32, 64)}
    rows = sweep(S, parse_policy("half-bf16"), modes=8)
    assert [r["res"] for r in rows] == [32, 64] and all(ROW_FIELDS <= set(r) for r in rows)
    data = np.random.default_rng(0).standard_normal((2, 64, 64))
    assert source_arrays(data=data, res=32).shape == (2, 32, 32)
    with pytest.raises(ErrboundError, match="does not divide"):
        source_arrays(data=data, res=48)
    with pytest.raises(ErrboundError, match="exactly one"):
        source_arrays()
    with pytest.raises(ErrboundError, match="transform"):
        sweep(S, parse_policy("half"), transform="fft3")


def test_fp16_rfft2_error_growth_fits():
    """Emulated fp16 rfft2 of a smooth input: the error grows with n (slow, O(log n) or less);
    both fits of the theory's forms (a + b log2 n, a + b sqrt(log2 n)) have b >= 0."""
    from errbound.functions import get_function

    fn = get_function("smooth:a=0.5", dim=2)
    ns = [8, 16, 32, 64, 128]
    errs = [transform_error(fn.eval_grid(n)[None] / 8, "fp16")["prec_err_rel"] for n in ns]
    t = np.log2(ns)
    for feat in (t, np.sqrt(t)):
        b = np.polyfit(feat, errs, 1)[0]
        assert b >= 0
    assert max(errs) < 20 * 2.0**-11  # far below the worst case t*eta: typical error stays O(u)


def test_mode_errors_per_mode_and_p1():
    """Per-mode errors of the mixed preset's spectrum: fp32 forward FFT then a cast to fp16, so every
    mode's error is at most one fp16 rounding of the spectrum value plus the fp32 FFT error (P1-like)."""
    x = source_arrays(function="smooth", res=32, dim=2)[:, None]
    blk = SpectralBlock(random_weights(1, 1, [8, 8]), [8, 8], parse_policy("mixed"))
    me = mode_errors(x, blk)
    _, ref = blk.reference(x)
    assert me["abs"].shape == ref.shape == (1, 1, 8, 5)
    u16, u32 = 2.0**-11, 2.0**-24
    # componentwise fp16 rounding: |e| <= u16 |X| (sqrt 2 for the two parts) + fp32 FFT error (<< u16 max|X|)
    assert np.all(me["abs"] <= np.sqrt(2) * u16 * np.abs(ref) + 1e3 * u32 * np.abs(ref).max())
    assert np.all(me["rel"] <= 1)
