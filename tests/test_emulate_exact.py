"""Bit-for-bit: the vectorised emulator equals the scalar exact-arithmetic reference.

The reference (errbound/emulate/_reference.py) computes every operation in Fractions and rounds
it with its own rounding written from the format definition, in the operation order documented in
docs/emulation.md. Equality is exact (atol = rtol = 0); NaN positions must agree; signed zeros
compare equal (the reference keeps no sign of zero).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errbound import emulate
from errbound.emulate import _reference as ref
from errbound.formats import get_format

FORMATS = ["fp16", "bf16", "fp8_e4m3fn", "fp8_e4m3", "fp8_e5m2", "tf32", "fp32"]


def _cvec(values) -> np.ndarray:
    out = np.empty(len(values), dtype=np.complex128)
    out.real = [float(a) for a, _ in values]
    out.imag = [float(b) for _, b in values]
    return out


def _same(a: np.ndarray, b: np.ndarray) -> None:
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.shape == b.shape
    for part in ((np.real, np.imag) if np.iscomplexobj(a) or np.iscomplexobj(b) else (np.real,)):
        pa, pb = part(a), part(b)
        nan_a, nan_b = np.isnan(pa), np.isnan(pb)
        assert np.array_equal(nan_a, nan_b), f"NaN positions differ:\n{pa}\n{pb}"
        assert np.array_equal(pa[~nan_a], pb[~nan_b]), f"values differ:\n{pa}\n{pb}\nmax diff {np.nanmax(np.abs(pa - pb))}"


def _data(rng: np.random.Generator, shape, fmt_name: str, complex_: bool) -> np.ndarray:
    scale = {"fp8_e4m3fn": 4.0, "fp8_e4m3": 4.0, "fp8_e5m2": 8.0}.get(fmt_name, 3.0)
    x = scale * rng.standard_normal(shape)
    if complex_:
        x = x + 1j * scale * rng.standard_normal(shape)
    return x


SIZES_1D = [1, 2, 4, 8, 16, 3, 6, 12]


@pytest.mark.parametrize("fmt_name", FORMATS)
def test_1d_transforms_bit_exact(fmt_name: str) -> None:
    fmt = get_format(fmt_name)
    rng = np.random.default_rng(100 + FORMATS.index(fmt_name))  # fixed per format: failures replay
    for n in SIZES_1D:
        norm = ["backward", "forward", "ortho"][n % 3]
        x = _data(rng, n, fmt_name, True)
        _same(emulate.fft(x, fmt, norm=norm), _cvec(ref.ref_fft(x, fmt, norm=norm)))
        _same(emulate.ifft(x, fmt, norm=norm), _cvec(ref.ref_fft(x, fmt, inverse=True, norm=norm)))
        xr = x.real
        _same(emulate.rfft(xr, fmt, norm=norm), _cvec(ref.ref_rfft(xr, fmt, norm=norm)))
        X = x[: n // 2 + 1]
        got = emulate.irfft(X, fmt, n=n, norm=norm)
        want = np.array([float(v) for v in ref.ref_irfft(X, n, fmt, norm=norm)])
        _same(got, want)


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("shape", [(4, 8), (3, 4)])
def test_2d_transforms_bit_exact(fmt_name: str, shape: tuple[int, int]) -> None:
    fmt = get_format(fmt_name)
    rng = np.random.default_rng(7 + shape[0])
    x = _data(rng, shape, fmt_name, True)
    _same(emulate.fft2(x, fmt), np.array([_cvec(r) for r in ref.ref_fftn(x.tolist(), fmt)]))
    xr = x.real
    _same(emulate.rfft2(xr, fmt, norm="forward"), np.array([_cvec(r) for r in ref.ref_rfftn(xr.tolist(), fmt, norm="forward")]))
    X = x[:, : shape[1] // 2 + 1]
    got = emulate.irfft2(X, fmt, s=shape, norm="ortho")
    want = np.array([[float(v) for v in r] for r in ref.ref_irfftn(X.tolist(), shape[1], fmt, norm="ortho")])
    _same(got, want)


def test_16x16_fp16_both_cmul_and_wide_twiddles() -> None:
    """The largest acceptance size, both complex-multiply models, fp32-held twiddles."""
    fmt = get_format("fp16")
    rng = np.random.default_rng(3)
    x = 2 * rng.standard_normal((16, 16))
    for cmul in ("fma", "4m2a"):
        for tw in (None, get_format("fp32")):
            cfg = emulate.FFTConfig(fmt=fmt, cmul=cmul, twiddle_fmt=tw)
            want = [_cvec(r) for r in ref.ref_rfftn(x.tolist(), fmt, const_fmt=tw, cmul=cmul)]
            _same(emulate.rfft2(x, cfg), np.array(want))


@pytest.mark.parametrize("mode", ["rz", "ru", "rd", "rna"])
def test_directed_modes_bit_exact(mode: str) -> None:
    fmt = get_format("bf16")
    rng = np.random.default_rng(11)
    x = rng.standard_normal(8) + 1j * rng.standard_normal(8)
    cfg = emulate.FFTConfig(fmt=fmt, mode=mode)
    _same(emulate.fft(x, cfg), _cvec(ref.ref_fft(x, fmt, mode=mode)))
    _same(emulate.fft(x[:6], cfg), _cvec(ref.ref_fft(x[:6], fmt, mode=mode)))


def test_overflow_propagates_like_the_reference() -> None:
    """inf/NaN after an overflow follow IEEE rules in both implementations."""
    fmt = get_format("fp16")
    x = np.full(16, 5000.0)  # DC 80000 > 65504: stage 4 overflows
    x[3] = -7000.0
    _same(emulate.fft(x, fmt), _cvec(ref.ref_fft(x, fmt)))
    e4 = get_format("fp8_e4m3fn")  # no inf: overflow gives NaN
    _same(emulate.rfft(np.full(8, 100.0), e4), _cvec(ref.ref_rfft(np.full(8, 100.0), e4)))
    assert math.isnan(emulate.rfft(np.full(8, 100.0), e4)[0].real)


@pytest.mark.parametrize("norm", ["forward", "ortho"])
def test_prescale_scaling_bit_exact(norm: str) -> None:
    fmt = get_format("fp16")
    cfg = emulate.FFTConfig(fmt=fmt, scaling="prescale")
    rng = np.random.default_rng(13)
    x = 40 * rng.standard_normal((4, 8))
    want = np.array([_cvec(r) for r in ref.ref_rfftn(x.tolist(), fmt, norm=norm, scaling="prescale")])
    _same(emulate.rfft2(x, cfg, norm=norm), want)
    z = x[0] + 1j * x[1]
    _same(emulate.fft(z[:6], cfg, norm=norm), _cvec(ref.ref_fft(z[:6], fmt, norm=norm, scaling="prescale")))


@settings(max_examples=25)
@given(
    n=st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16]),
    fmt_name=st.sampled_from(FORMATS),
    seed=st.integers(0, 2**32 - 1),
    log_scale=st.floats(-26, 18),
)
def test_property_fft_bit_exact_random(n: int, fmt_name: str, seed: int, log_scale: float) -> None:
    """Random lengths, formats and scales (overflow and underflow included)."""
    fmt = get_format(fmt_name)
    rng = np.random.default_rng(seed)
    x = 2.0**log_scale * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    _same(emulate.fft(x, fmt), _cvec(ref.ref_fft(x, fmt)))
    _same(emulate.rfft(x.real, fmt), _cvec(ref.ref_rfft(x.real, fmt)))
