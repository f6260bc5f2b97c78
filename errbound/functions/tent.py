"""``tent``: a product of periodic hat functions (Lipschitz, piecewise linear, kinks).

v(x) = prod_i h(x_i), h(t) = height * max(0, 1 - |t - center|_per / halfwidth). The 1-D coefficients are
height * halfwidth * sinc^2(pi n halfwidth) e^{-2 pi i n center}, decaying like n^-2; the per-mode
discretization error decays like s^-2 (three kinks per axis; docs/theory/discretization.md, D4).
"""

from __future__ import annotations

from fractions import Fraction

from errbound.errors import ErrboundError
from errbound.functions._factors import PiecewiseLinearFactor
from errbound.functions._separable import SeparableFunction

__all__ = ["make_tent", "hat_factor"]


def hat_factor(center: float, halfwidth: float, height: float) -> PiecewiseLinearFactor:
    c, h = Fraction(center), Fraction(halfwidth)
    if not (0 < h < Fraction(1, 2)):
        raise ErrboundError(f"tent: halfwidth must be in (0, 0.5), got {halfwidth!r}")
    return PiecewiseLinearFactor([c - h, c, c + h], [Fraction(0), Fraction(height), Fraction(0)])


def make_tent(dim: int, *, center: float = 0.37, halfwidth: float = 0.21, height: float = 1.0) -> SeparableFunction:
    fn = SeparableFunction(
        [hat_factor(center, halfwidth, height) for _ in range(dim)],
        "product",
        name="tent",
        params={"center": center, "halfwidth": halfwidth, "height": height},
    )
    fn.rate_theory = -2.0
    fn.rate_note = "piecewise linear with kinks: coefficients ~ |k|^-2, error ~ s^-2"
    return fn
