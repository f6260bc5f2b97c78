"""``smooth``: the analytic input v(x) = exp(a sum_i sin(2 pi (x_i - shift))).

A product of 1-D factors exp(a sin 2 pi t) with coefficients I_n(a) (-i)^n (modified Bessel functions,
Jacobi-Anger expansion), so vhat(w) = prod_i I_{w_i}(a) (-i)^{w_i} e^{-2 pi i w_i shift}. Coefficients
decay like (a/2)^|n| / |n|!: the discretization error decays faster than any power of s.
"""

from __future__ import annotations

from errbound.functions._factors import BesselFactor
from errbound.functions._separable import SeparableFunction

__all__ = ["make_smooth"]


def make_smooth(dim: int, *, a: float = 1.0, shift: float = 0.0) -> SeparableFunction:
    fn = SeparableFunction([BesselFactor(a, shift) for _ in range(dim)], "product", name="smooth", params={"a": a, "shift": shift})
    fn.rate_theory = None
    fn.rate_note = "analytic input: super-algebraic decay (|E| <= C (a/2)^(s-k) / (s-k)!)"
    return fn
