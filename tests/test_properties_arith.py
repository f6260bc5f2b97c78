"""Property-based tests of the emulated arithmetic (errbound.arith): exact when the result is representable,
correctly rounded against exact rationals, commutative where IEEE arithmetic is (add, mul, fma in its
product operands); and of the emulated transforms: at fp64 the emulated FFT equals numpy's to roundoff,
and linearity holds within the P2 bound."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from errbound import arith
from errbound.formats import get_format
from errbound.rounding import round_to

FORMATS = ["fp32", "tf32", "fp16", "bf16", "fp8_e5m2", "fp8_e4m3fn"]
formats = st.sampled_from(FORMATS).map(get_format)


@st.composite
def two_numbers(draw):  # type: ignore[no-untyped-def]
    """A format and two of its numbers (drawn as floats, then rounded into it), moderate exponents."""
    fmt = draw(formats)
    lim = min(fmt.max, 2.0**12)
    vals = [float(round_to(np.float64(draw(st.floats(-lim, lim))), fmt)) for _ in range(3)]
    return fmt, vals[0], vals[1], vals[2]


def _fl(z: Fraction, fmt) -> float:  # type: ignore[no-untyped-def]
    """Oracle: round the exact rational z into fmt once (via round_exact with the exact direction)."""
    hi = float(z)
    direction = float((z > Fraction(hi)) - (z < Fraction(hi)))
    return float(arith.round_exact(np.float64(hi), np.float64(direction), fmt))


def _same(x: float, y: float) -> bool:
    """Bitwise-equal values, NaN equal to NaN (overflow into formats without inf gives NaN)."""
    return (np.isnan(x) and np.isnan(y)) or x == y


@given(two_numbers())
def test_operations_correctly_rounded(args) -> None:  # type: ignore[no-untyped-def]
    fmt, a, b, c = args
    A, B, C = Fraction(a), Fraction(b), Fraction(c)
    assert _same(float(arith.add(a, b, fmt)), _fl(A + B, fmt))
    assert _same(float(arith.sub(a, b, fmt)), _fl(A - B, fmt))
    assert _same(float(arith.mul(a, b, fmt)), _fl(A * B, fmt))
    assert _same(float(arith.fma(a, b, c, fmt)), _fl(A * B + C, fmt))
    if b != 0:
        assert _same(float(arith.div(a, b, fmt)), _fl(A / B, fmt))


@given(two_numbers())
def test_exact_when_representable(args) -> None:  # type: ignore[no-untyped-def]
    fmt, a, b, c = args
    for op, z in ((arith.add, Fraction(a) + Fraction(b)), (arith.mul, Fraction(a) * Fraction(b))):
        zf = float(z)
        if Fraction(zf) == z and float(round_to(np.float64(zf), fmt)) == zf and abs(zf) <= fmt.max:
            assert float(op(a, b, fmt)) == zf  # a representable exact result is returned exactly


@given(two_numbers(), st.sampled_from(["rne", "rna", "rz", "ru", "rd"]))
def test_commutativity(args, mode) -> None:  # type: ignore[no-untyped-def]
    fmt, a, b, c = args
    assert np.array_equal(arith.add(a, b, fmt, mode), arith.add(b, a, fmt, mode), equal_nan=True)
    assert np.array_equal(arith.mul(a, b, fmt, mode), arith.mul(b, a, fmt, mode), equal_nan=True)
    assert np.array_equal(arith.fma(a, b, c, fmt, mode), arith.fma(b, a, c, fmt, mode), equal_nan=True)


sizes = st.sampled_from([1, 2, 4, 8, 16, 32, 64])


@given(sizes, st.integers(0, 2**32 - 1))
def test_emulated_fft_at_widest_format_equals_numpy(n, seed) -> None:  # type: ignore[no-untyped-def]
    """The emulator needs t + t_twiddle <= 53 (exact float64 products), so fp64 itself cannot be emulated;
    the widest exact configuration is fp32 with fp32 twiddles, whose result must match numpy's FFT of the
    same (fp32) data within fp32 roundoff: P2's bound plus numpy's own error (< 1e-14 relative)."""
    from errbound.emulate.transforms import fft

    from proofs_numeric.p2_fft import bound, mu_bound

    fp32 = get_format("fp32")
    rng = np.random.default_rng(seed)
    x = round_to(rng.standard_normal(n) + 1j * rng.standard_normal(n), fp32)
    y = np.fft.fft(x)
    y_hat = fft(x, fp32)
    assert np.linalg.norm(y_hat - y) <= (bound(n, fp32.u, mu_bound(fp32)) + 1e-14) * np.linalg.norm(y)
    # and not trivially: it is a different computation from numpy's for n >= 4 with random data, but close
    assert np.linalg.norm(y_hat - y) <= 64 * fp32.u * np.linalg.norm(y)


@given(sizes, st.integers(0, 2**32 - 1), st.sampled_from(["fp16", "bf16"]))
def test_emulated_fft_linearity_within_bound(n, seed, name) -> None:  # type: ignore[no-untyped-def]
    from errbound.emulate.transforms import fft

    from proofs_numeric.p2_fft import bound, mu_bound

    fmt = get_format(name)
    rng = np.random.default_rng(seed)
    x = round_to(rng.standard_normal(n) + 1j * rng.standard_normal(n), fmt)
    z = round_to(rng.standard_normal(n) + 1j * rng.standard_normal(n), fmt)
    s = round_to(x + z, fmt)
    fx, fz, fs = fft(x, fmt), fft(z, fmt), fft(s, fmt)
    b = bound(n, fmt.u, mu_bound(fmt))
    # fl(F s) - fl(F x) - fl(F z) = [fl(F s) - F s] - [fl(F x) - F x] - [fl(F z) - F z] + F (s - x - z); each bracket
    # is bounded by P2, the last term by P1 (s is x + z rounded once, |s - x - z| <= u|x + z| componentwise)
    F = lambda v: np.linalg.norm(np.fft.fft(v))  # noqa: E731
    rhs = b * (F(s) + F(x) + F(z)) + fmt.u * np.sqrt(n) * np.linalg.norm(x + z)
    assert np.linalg.norm(fs - fx - fz) <= rhs * (1 + 1e-12)  # 1e-12: float64 evaluation of the norms
