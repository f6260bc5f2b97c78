"""kappa_d = E|y|_2 for y uniform on [-1/2, 1/2]^d (docs/theory.md, section 0), to any precision.

kappa_1 = 1/4; kappa_2 = (sqrt 2 + ln(1 + sqrt 2))/6; kappa_3 = (6 sqrt 3 + 12 ln(2 + sqrt 3) - pi)/48 (the mean
distance from the centre of the unit cube, halved). The closed forms are confirmed in d2_lipschitz's symbolic part
(sympy inner integral + mpmath quadrature for d = 2) and by :func:`kappa3_quadrature`:
kappa_3 = 8 int_{[0,1/2]^2} J(x, y) dx dy with the exact inner integral
J = int_0^{1/2} sqrt(r^2 + z^2) dz = (h sqrt(r^2 + h^2) + r^2 asinh(h / r)) / 2, h = 1/2, r^2 = x^2 + y^2.
"""

from __future__ import annotations

from functools import lru_cache

import mpmath

__all__ = ["kappa_mp", "kappa", "kappa3_quadrature"]


@lru_cache(maxsize=None)
def _kappa_cached(d: int, dps: int) -> mpmath.mpf:
    with mpmath.workdps(dps + 5):
        if d == 1:
            return mpmath.mpf(1) / 4
        if d == 2:
            return (mpmath.sqrt(2) + mpmath.log(1 + mpmath.sqrt(2))) / 6
        if d == 3:
            return (6 * mpmath.sqrt(3) + 12 * mpmath.log(2 + mpmath.sqrt(3)) - mpmath.pi) / 48
    raise ValueError(f"kappa_d is implemented for d in 1..3, got {d}")


def kappa3_quadrature(dps: int = 20) -> mpmath.mpf:
    """kappa_3 by 2-D tanh-sinh quadrature of the exact inner integral (independent of the closed form)."""
    with mpmath.workdps(dps):
        if True:
            h = mpmath.mpf(1) / 2

            def inner(x, y):  # type: ignore[no-untyped-def]
                r2 = x * x + y * y
                if r2 == 0:
                    return h * h / 2
                r = mpmath.sqrt(r2)
                return (h * mpmath.sqrt(r2 + h * h) + r2 * mpmath.asinh(h / r)) / 2

            return 8 * mpmath.quad(inner, [0, h], [0, h])


def kappa_mp(d: int, dps: int = 50) -> mpmath.mpf:
    return +_kappa_cached(d, dps)


def kappa(d: int) -> float:
    return float(_kappa_cached(d, 30))
