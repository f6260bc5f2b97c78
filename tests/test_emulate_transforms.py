"""Emulated transforms: numpy semantics, accuracy against float64, batching, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from errbound import emulate
from errbound.errors import ErrboundError
from errbound.formats import get_format
from tests._oracle import round_float

ALL_FORMATS = ["fp16", "bf16", "fp8_e4m3fn", "fp8_e4m3", "fp8_e5m2", "tf32", "fp32"]


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _worst_case(n: int, u: float) -> float:
    """Higham Thm 24.2 style bound t eta / (1 - t eta), eta = mu + gamma_4 (sqrt 2 + mu), mu = u,
    t = log2 n; plus u for the input cast. Used as the tolerance: it is a proven upper bound."""
    t = max(1, math.ceil(math.log2(n)))
    g4 = 4 * u / (1 - 4 * u)
    eta = u + g4 * (math.sqrt(2) + u)
    return t * eta / (1 - t * eta) + u


def test_public_api_matches_all() -> None:
    public = {name for name in dir(emulate) if not name.startswith("_")}
    modules = {"transforms", "magnitude", "dft_matmul", "fft_radix2", "bluestein", "real", "annotations"}
    assert set(emulate.__all__) == public - modules


@pytest.mark.parametrize("kind", ["fft", "ifft", "rfft", "irfft"])
@pytest.mark.parametrize("norm", ["backward", "forward", "ortho"])
@pytest.mark.parametrize("n", [1, 2, 8, 64, 5, 12, 421])
def test_1d_matches_numpy_within_worst_case_bound(kind: str, norm: str, n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal((3, n)) + 1j * rng.standard_normal((3, n))
    fmt = get_format("fp32")
    if kind == "rfft":
        x = x.real
    if kind == "irfft":
        x = np.fft.rfft(x.real, axis=-1)
        got = emulate.irfft(x, fmt, n=n, norm=norm)
        want = np.fft.irfft(x, n=n, norm=norm)
    else:
        got = getattr(emulate, kind)(x, fmt, norm=norm)
        want = getattr(np.fft, kind)(x, norm=norm)
    assert got.shape == want.shape and got.dtype == want.dtype
    # power-of-two radix-2: Higham's bound; Bluestein: three chained FFTs and chirp/kernel products,
    # bounded by 3x the bound for the inner length plus 4 u for the three complex products
    m = n if n & (n - 1) == 0 else 2 ** math.ceil(math.log2(2 * n - 1))
    tol = _worst_case(m, fmt.u) * (1 if m == n else 3) + (0 if m == n else 4 * fmt.u)
    if kind == "irfft":
        tol *= 2  # real split step adds two rounded complex products
    assert _rel(got, want) <= tol


@pytest.mark.parametrize("fmt_name", ALL_FORMATS)
def test_every_format_runs_2d_rfft_with_error_of_order_u(fmt_name: str) -> None:
    fmt = get_format(fmt_name)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 32, 32))
    # unnormalized: with norm="forward" scaled after, fp8 results (~0.02) underflow to 0 entirely
    got = emulate.rfft2(x, fmt)
    want = np.fft.rfft2(x)
    assert got.shape == want.shape
    assert np.all(np.isfinite(got))
    # every real and imaginary part is a value of the working format: it equals its own exact rounding into
    # the format by the independent Fraction oracle (a bound on |Re| alone would pass unrounded float64 values)
    parts = np.concatenate([got.real.ravel(), got.imag.ravel()])
    not_in_format = [v for v in parts.tolist() if round_float(v, fmt, "rne") != v]
    assert not not_in_format, (fmt_name, len(not_in_format), not_in_format[:3])
    err = _rel(got, want)
    bound = _worst_case(32, fmt.u)
    if 0 < bound < 1:
        assert err <= 2 * bound * 2  # two axes plus the split step; a proven bound each
    else:
        # fp8: the worst-case bound is vacuous (t eta >= 1); the typical (rms) error is of order
        # u sqrt(log2 n) with a small constant (Schatzman 1996); fixed seed, observed about 1.7 u
        assert err <= 3 * fmt.u * math.sqrt(math.log2(32 * 32))
    assert err >= fmt.u / 8  # and it really is low precision (fp32 included: far above float64)


def test_bf16_and_non_power_of_two_2d_work() -> None:
    """Neither exists in cuFFT; here both run and agree with float64 to the expected order."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 42))
    got = emulate.rfft2(x, "bf16")
    want = np.fft.rfft2(x)
    assert _rel(got, want) < 20 * get_format("bf16").u * math.log2(64)  # Bluestein inner length 64: c u log2 M
    back = emulate.irfft2(got, "fp32", s=x.shape)
    assert _rel(back, x) < 20 * get_format("bf16").u * math.log2(64)  # error carried over from the bf16 forward


def test_nd_axes_orders_and_batching() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 8, 10))
    for axes in [None, (1, 2), (0, 3, 1), (-1,), (2, 1)]:
        got = emulate.rfftn(x, "fp32", axes=axes)
        want = np.fft.rfftn(x, axes=axes)
        assert _rel(got, want) < 1e-6  # fp32, u = 6e-8, a few dozen operations per entry
        back = emulate.irfftn(want, "fp32", axes=axes, s=[x.shape[a] for a in (axes or range(4))])
        assert _rel(back, x) < 1e-6
        got = emulate.fftn(x, "fp32", axes=axes)
        assert _rel(got, np.fft.fftn(x, axes=axes)) < 1e-6
    # batching: each batch entry is transformed independently, bit for bit
    whole = emulate.rfft2(x, "fp16")
    assert np.array_equal(whole[1, 3], emulate.rfft2(x[1, 3], "fp16"))


def test_irfft_ignores_imaginary_parts_of_dc_and_nyquist() -> None:
    rng = np.random.default_rng(3)
    X = np.fft.rfft(rng.standard_normal(16))
    Y = X.copy()
    Y[0] += 5j
    Y[-1] -= 3j
    assert np.array_equal(emulate.irfft(X, "fp16"), emulate.irfft(Y, "fp16"))
    # numpy's n semantics: truncation and zero padding of bins
    assert emulate.irfft(X, "fp32", n=10).shape == (10,)
    assert _rel(emulate.irfft(X, "fp32", n=40), np.fft.irfft(X, n=40)) < 1e-6


def test_prescale_scaling_avoids_overflow_that_after_scaling_produces() -> None:
    """cuFFT/torch scale after the transform, so norm='forward' does not prevent overflow of the DC
    term m * mean(v); an exact power-of-two pre-scale does."""
    x = np.full((256, 256), 1.5)  # DC = 98304 > 65504
    after = emulate.rfft2(x, "fp16", norm="forward")
    assert np.isinf(after[0, 0].real)
    pre = emulate.rfft2(x, emulate.FFTConfig(fmt="fp16", scaling="prescale"), norm="forward")
    assert pre[0, 0] == 1.5 and np.count_nonzero(pre) == 1  # exact: constant input, power-of-two scale


def test_trace_records_stages_and_overflow() -> None:
    tr = emulate.Trace()
    emulate.rfft2(np.full((8, 8), 2000.0), "fp16", trace=tr)  # DC = 128000
    assert tr.overflow
    assert tr.first_overflow_stage is not None and "axis 0" in tr.first_overflow_stage
    names = [s.name for s in tr.stages]
    assert "cast" in names and any("split" in s for s in names)


def test_stochastic_rounding_needs_rng_and_is_reproducible() -> None:
    x = np.random.default_rng(4).standard_normal(16)
    cfg = emulate.FFTConfig(fmt="fp16", mode="sr")
    with pytest.raises(ErrboundError, match="rng"):
        emulate.fft(x, cfg)
    a = emulate.fft(x, cfg, rng=5)
    assert np.array_equal(a, emulate.fft(x, cfg, rng=5))
    assert _rel(a, np.fft.fft(x)) < _worst_case(16, 2 * get_format("fp16").u)  # SR error <= 2u per op


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: emulate.fft(np.ones(4), "fp12"), "unknown format"),
        (lambda: emulate.fft(np.array([1.0, np.nan]), "fp16"), "NaN/inf"),
        (lambda: emulate.rfft(np.array([1.0, np.inf]), "fp16"), "NaN/inf"),
        (lambda: emulate.rfft2(np.ones(8), "fp16"), "rank"),
        (lambda: emulate.rfft(np.ones(4) + 1j, "fp16"), "must be real"),
        (lambda: emulate.fft(np.ones(4), "fp16", norm="unitary"), "norm"),
        (lambda: emulate.fft(np.zeros((0,)), "fp16"), "empty"),
        (lambda: emulate.fft(np.array(["a"]), "fp16"), "numeric"),
        (lambda: emulate.irfft(np.ones(1), "fp16"), "n = 2"),
        (lambda: emulate.fftn(np.ones((4, 4)), "fp16", axes=(0, 0)), "repeated"),
        (lambda: emulate.FFTConfig(fmt="fp16", cmul="karatsuba"), "cmul"),
        (lambda: emulate.FFTConfig(fmt="fp32", twiddle_fmt="fp64"), "t_twiddle"),
        (lambda: emulate.FFTConfig(fmt="fp16", mode="up"), "rounding mode"),
        (lambda: emulate.fft(np.ones(4), "fp64"), "too wide"),
    ],
)
def test_bad_input_raises_errbound_error(call, match: str) -> None:
    with pytest.raises(ErrboundError, match=match):
        call()
