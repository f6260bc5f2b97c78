"""Precision bounds P1-P4 (docs/theory/precision.md): closed forms vs numeric forms, and every
worst-case bound checked against the emulator on every tested case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from errbound.bounds import precision as bp
from errbound.emulate import dft_modes, fft, rfftn
from errbound.errors import ErrboundError
from errbound.formats import get_format
from errbound.rounding import round_to

FORMATS = ["fp16", "bf16", "fp8_e4m3fn", "fp8_e4m3", "fp8_e5m2", "tf32", "fp32"]


def _inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij")
    smooth = np.exp(np.sum([np.sin(2 * np.pi * g) for g in grids], axis=0) / len(shape))
    step = np.where(grids[-1] < 0.5, 1.0, -0.5)
    return {"smooth": smooth, "step": step, "random": rng.standard_normal(shape),
            "tiny": 1e-6 * rng.standard_normal(shape)}


def test_sympy_forms_match_numeric():
    import sympy

    t, u, mu, g, lam = sympy.symbols("t u mu g lam", positive=True)
    for fmt in ("fp16", "bf16", "fp32"):
        uu = get_format(fmt).u
        gm = math.sqrt(5) * uu * (1 + uu)
        for n in (16, 1024):
            tt = int(math.log2(n))
            subs = {t: tt, u: uu, mu: uu, g: gm, lam: 3}
            # twiddle tau (sqrt2 tau_c) enters mu in the numeric form; it is < 1e-30 relative here
            # for fp32 and a few 1e-8 for fp16/bf16, hence rtol 1e-3 (mu = u + sqrt2 tau)
            assert float(bp.fft_worst_expr().subs(subs)) == pytest.approx(bp.fft_worst_pow2(n, fmt), rel=1e-3)
            assert float(bp.fft_prob_expr().subs(subs)) == pytest.approx(bp.fft_prob_pow2(n, fmt, lam=3), rel=1e-3)
            assert float(bp.higham_fft_expr().subs({t: tt, u: uu, mu: uu})) == pytest.approx(
                bp.fft_worst_higham(n, uu, uu), rel=1e-12)  # same formula, float rounding only
    assert float(bp.prob_failure_expr().subs({lam: 3})) == pytest.approx(bp.prob_failure(3.0), rel=1e-12)
    M, tau = sympy.symbols("M tau", positive=True)
    c = bp.op_constants("fp16")
    assert float(bp.input_rounding_expr().subs({u: c.u, M: 2.0, tau: c.tau})) == bp.input_rounding_bound(2.0, "fp16")


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp32"])
def test_our_eta_is_sharper_than_higham(fmt):
    # P2 with our eta vs Higham Thm 24.2 with mu = u: ours must be smaller (sharper) at every t
    u = get_format(fmt).u
    for n in (2, 16, 256, 4096):
        assert bp.fft_worst_pow2(n, fmt) < bp.fft_worst_higham(n, u, u)


def test_closed_form_rejects_non_power_of_two():
    with pytest.raises(ErrboundError, match="radix-2"):
        bp.fft_worst_pow2(24, "fp16")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", [(16,), (24,), (64, 64), (24, 20), (32, 8)])
def test_transform_worst_case_bound_holds(fmt, shape):
    for kind, x in _inputs(shape).items():
        with np.errstate(over="ignore", invalid="ignore"):
            y = rfftn(x, fmt, norm="forward")
        if not np.all(np.isfinite(y)):
            continue  # overflow: the bound is not claimed (reported as inf by the tools)
        exact = np.fft.rfftn(x, norm="forward")
        err = np.linalg.norm(y - exact) / np.linalg.norm(exact)
        b = bp.transform_bounds(x, fmt)
        assert err <= b["worst"], (fmt, shape, kind, err, b)
        assert b["prob"] <= b["worst"]


@pytest.mark.parametrize("fmt", ["fp16", "bf16"])
def test_complex_fft_bound_and_higham(fmt):
    rng = np.random.default_rng(1)
    for n in (8, 64, 512):
        x = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        xr = x  # data as given; the cast is part of the measured error
        y = fft(xr, fmt)
        exact = np.fft.fft(xr)
        err = np.linalg.norm(y - exact) / np.linalg.norm(exact)
        b = bp.transform_bounds(xr, fmt, transform="fftn", norm="backward")
        assert err <= b["worst"]
        # Higham Thm 24.2 covers the transform of the cast data (no input rounding)
        x16 = round_to(xr, fmt)
        y16 = fft(x16, fmt)
        e16 = np.linalg.norm(y16 - np.fft.fft(x16)) / np.linalg.norm(np.fft.fft(x16))
        u = get_format(fmt).u
        assert e16 <= bp.fft_worst_higham(n, u, u)
        assert e16 <= bp.fft_worst_pow2(n, fmt)


def test_input_rounding_bound_p1_per_mode():
    # P1: with an exact DFT the only error is the cast; every mode within u M + tau
    rng = np.random.default_rng(2)
    for fmt in ("fp16", "bf16", "fp8_e4m3fn"):
        x = rng.uniform(-3, 3, size=(32, 32))
        xc = round_to(x, fmt)
        err = np.abs(np.fft.fft2(xc, norm="forward") - np.fft.fft2(x, norm="forward"))
        # float64 FFT adds ~1e-16 relative: negligible against u M >= 2^-11 * 3 (margin 1e-12)
        assert err.max() <= bp.input_rounding_bound(np.abs(x).max(), fmt) + 1e-12


@pytest.mark.parametrize("cfg", [("fp16", "fp32"), ("bf16", "fp32"), ("fp8_e4m3fn", "fp16")])
def test_dft_matmul_bound_p4(cfg):
    rng = np.random.default_rng(3)
    for shape, modes in (((32,), (5,)), ((16, 12), (4, 3))):
        x = rng.standard_normal(shape)
        # a leading batch axis: dft_modes of a rank-1 array is rejected by arith.matmul (reported to helper 4a)
        axes = tuple(range(1, len(shape) + 1))
        y = dft_modes(x[None], list(modes), cfg, axes=axes, norm="forward")[0]
        full = np.fft.rfftn(x, norm="forward")
        if len(shape) == 1:
            exact = full[: modes[0]]
        else:
            rows = np.r_[0:modes[0], shape[0] - modes[0]:shape[0]]
            exact = full[np.ix_(rows, np.arange(modes[1]))]
        st = bp.dft_matmul_stages(shape, modes, cfg[0], cfg[1], norm="forward")
        res = bp.evaluate_stages(st, float(np.linalg.norm(x)))
        assert np.linalg.norm(y - exact) <= res.worst


def test_probabilistic_bound_violation_rate():
    """P3 over 1200 random inputs: the violation rate must be below the stated failure probability."""
    rng = np.random.default_rng(4)
    n, N = 64, 1200
    x = rng.standard_normal((N, n)) * rng.uniform(0.1, 10, size=(N, 1))
    y = rfftn(x, "fp16", axes=(-1,), norm="forward")
    exact = np.fft.rfft(x, norm="forward")
    err = np.linalg.norm(y - exact, axis=1)
    stages = [bp.cast_stage("fp16", n)] + bp.rfftn_stages((n,), "fp16")
    stages.append(bp.scale_stage(1 / n, "fp16", "fp16", 2 * (n // 2 + 1)))
    for lam in (1.5, 2.0, 3.0):
        bounds = np.array([bp.evaluate_stages(stages, float(np.linalg.norm(r)), lam=lam).prob for r in x])
        rate = float(np.mean(err > bounds))
        assert rate < bp.prob_failure(lam), (lam, rate)


def test_stage_validation():
    with pytest.raises(ErrboundError, match="alpha"):
        bp.Stage("s", 1.0, -1.0)
    with pytest.raises(ErrboundError, match="lambda"):
        bp.evaluate_stages([], 1.0, lam=0)
    with pytest.raises(ErrboundError, match="failure"):
        bp.lambda_for_failure(1.5)
    assert bp.prob_failure(bp.lambda_for_failure(0.01)) == pytest.approx(0.01)


def test_lemma_s_sympy_matches_engine():
    import sympy

    stages = [bp.cast_stage("fp16", 64)] + bp.rfftn_stages((8, 8), "fp16") + [bp.scale_stage(1 / 64, "fp16", "fp16", 80)]
    E, N = bp.lemma_s_expr(len(stages))
    subs = {sympy.Symbol("x", nonnegative=True): 3.0}
    for k, st in enumerate(stages, start=1):
        lip, a, b = sympy.symbols(f"lip_{k} alpha_{k} beta_{k}", nonnegative=True)
        subs.update({lip: st.lip, a: st.alpha, b: st.beta})
    res = bp.evaluate_stages(stages, 3.0)
    # same recursion evaluated by sympy (exact rationals of the floats) and by floats: rounding only
    assert float(E.subs(subs)) == pytest.approx(res.worst, rel=1e-12)
    assert float(N.subs(subs)) == pytest.approx(res.out_norm_bound, rel=1e-12)


@pytest.mark.parametrize("module", ["errbound.bounds.precision", "errbound.precision", "errbound.spectral_block",
                                    "errbound.crossover", "errbound.data_io"])
def test_public_names_exist(module):
    import importlib

    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing
