"""Accurate unit-circle phases e(-num/den) = exp(-2 pi i num/den) for integer num, den.

Reducing ``num`` modulo ``den`` in integer arithmetic before the division keeps the argument of
cos/sin in [0, 2 pi): the phase is then correct to a few ulps whatever the size of ``num``.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

__all__ = ["cis_neg", "cis_neg_mp", "frac_floor"]


def cis_neg(num: np.ndarray | int, den: int) -> np.ndarray:
    """exp(-2 pi i num / den) for integer arrays ``num`` (exact reduction mod den), complex128."""
    r = np.mod(np.asarray(num, dtype=np.int64), den).astype(np.float64) / den
    # fold to (-1/2, 1/2] so the argument is small and symmetric
    r = np.where(r > 0.5, r - 1.0, r)
    angle = -2.0 * np.pi * r
    return np.cos(angle) + 1j * np.sin(angle)


def cis_neg_mp(x: Fraction | int, dps: int) -> mpmath.mpc:
    """exp(-2 pi i x) for an exact rational x, at the current mpmath precision (``dps`` digits)."""
    x = Fraction(x)
    x -= x.numerator // x.denominator  # reduce to [0, 1)
    with mpmath.workdps(dps + 5):
        arg = -2 * mpmath.pi * mpmath.mpf(x.numerator) / x.denominator
        return mpmath.mpc(mpmath.cos(arg), mpmath.sin(arg))


def frac_floor(x: Fraction) -> tuple[int, Fraction]:
    """(floor(x), x - floor(x)) for an exact rational."""
    n = x.numerator // x.denominator
    return n, x - n
