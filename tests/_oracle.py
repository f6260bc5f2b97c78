"""Exact scalar oracles for rounding and arithmetic, written from the format definition alone.

Independent of errbound.rounding: Python integers and fractions.Fraction only (no float arithmetic
on the values), one value at a time. Used to check the vectorised implementation bit for bit.
"""

from __future__ import annotations

import math
from fractions import Fraction

from errbound.formats import Format

INF = float("inf")


def floor_log2(a: Fraction) -> int:
    """Largest e with 2**e <= a, for a > 0 (exact integer arithmetic)."""
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    elif Fraction(2) ** (e + 1) <= a:
        e += 1
    return e


def _overflow(fmt: Format, mode: str, positive: bool) -> float:
    big = {"inf": INF, "saturate": float(fmt.max_exact), "nan": math.nan}[fmt.overflow]
    mx = float(fmt.max_exact)
    if mode in ("rne", "rna", "sr"):
        mag = big
    elif mode == "rz":
        mag = mx
    elif mode == "ru":
        mag = big if positive else mx
    else:
        mag = mx if positive else big
    return mag if positive else -mag


def round_fraction(q: Fraction, fmt: Format, mode: str, negative_zero: bool = False, draw: Fraction | None = None) -> float:
    """Round the exact rational ``q`` into ``fmt``; return the float64 value (signed zero kept).

    For ``sr``, ``draw`` in [0, 1) decides: up iff draw < distance to the lower neighbour.
    """
    if q == 0:
        return -0.0 if negative_zero else 0.0
    positive = q > 0
    a = abs(q)
    e = floor_log2(a)
    if fmt.subnormals:
        quantum_exp = max(e, fmt.emin) - (fmt.t - 1)
    else:
        quantum_exp = fmt.emin if e < fmt.emin else e - (fmt.t - 1)
    quantum = Fraction(2) ** quantum_exp
    y = a / quantum
    n = y.numerator // y.denominator
    frac = y - n
    half = Fraction(1, 2)
    if mode == "rne":
        up = frac > half or (frac == half and n % 2 == 1)
    elif mode == "rna":
        up = frac >= half
    elif mode == "rz":
        up = False
    elif mode == "ru":
        up = frac > 0 and positive
    elif mode == "rd":
        up = frac > 0 and not positive
    elif mode == "sr":
        assert draw is not None
        up = draw < frac
    else:
        raise ValueError(mode)
    mag = (n + int(up)) * quantum
    if mag > fmt.max_exact:
        return _overflow(fmt, mode, positive)
    value = float(mag)
    assert Fraction(value) == mag, "result must be exactly representable in float64"
    if value == 0:
        return 0.0 if positive else -0.0
    return value if positive else -value


def round_float(x: float, fmt: Format, mode: str) -> float:
    """Oracle rounding of a float64 value (handles inf, NaN and signed zeros)."""
    if math.isnan(x):
        return math.nan
    if math.isinf(x):
        if fmt.has_inf:
            return x
        return math.copysign(float(fmt.max_exact), x) if fmt.overflow == "saturate" else math.nan
    return round_fraction(Fraction(x), fmt, mode, negative_zero=math.copysign(1.0, x) < 0)


def same(a: float, b: float) -> bool:
    """Bitwise equality up to NaN payloads (NaN == NaN, +0 != -0)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
