"""Lower-bound witnesses of docs/theory/discretization.md, theorem D3.

``tentgrid`` (parameters s, slope): v(x) = slope * sum_i dist(x_i, Z/s), the sum of tents of slope
``slope`` on every cell of the grid of resolution s. It vanishes on that grid, so V_s(0) = 0 while
vhat(0) = d slope / (4 s): the error at w = 0 equals the Lipschitz upper bound D2 (sum_i L_i / (4s)).

``aliased`` (parameters s, w, amp): v(x) = amp cos(2 pi K.x) with K = w - s sigma e_1 (sigma = sign of w_1,
+1 for w_1 = 0): the grid of resolution s sees K as w, so V_s(w) = amp/2 (amp at w = 0) while vhat(w) = 0.

With ``s=0`` (the default) each is a family: the sweep uses the member built for each resolution
(:meth:`TorusFunction.for_resolution`).

Class membership (issue 16): a witness proves a lower bound over a class only if it belongs to it, so the
declared constants ``L``, ``L_axes`` and ``M`` are rigorous upper bounds: each float64 evaluation (a few
roundings of at most half an ulp each) is rounded up by :data:`_UP_ULPS` ulps. ``proofs_numeric/d3_lower.py``
checks them against Arb enclosures of the true constants (slope sqrt(d), slope d/(2s), 2 pi |K|_2 amp).
The modulated tent of docs/theory.md D3(d), W_s = 2 cos(2 pi w.x) T_s, is *not* L-Lipschitz (its constant is
between 2L and Lambda_w L, Lambda_w = 2 sqrt(1 + pi^2 d |w|_2^2 / s^2)); it is not offered here.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from errbound.errors import ErrboundError
from errbound.functions._base import TorusFunction
from errbound.functions._factors import PiecewiseLinearFactor
from errbound.functions._separable import SeparableFunction
from errbound.functions._spectral import SpectralFunction

__all__ = ["make_tentgrid", "make_aliased", "aliased_frequency"]

#: ulps added to a declared constant computed in float64 with at most 4 roundings (each <= 1/2 ulp relative)
_UP_ULPS = 4


def _up(x: float) -> float:
    """A float64 >= the exact value of which ``x`` is a float64 evaluation (see :data:`_UP_ULPS`)."""
    for _ in range(_UP_ULPS):
        x = float(np.nextafter(x, np.inf))
    return x


class _Family:
    """Mixin: a witness family member rebuilt for each resolution when its ``s`` parameter is 0."""

    _builder = None

    def for_resolution(self, s: int) -> TorusFunction:  # type: ignore[override]
        if self.params.get("s", 0):
            return self  # type: ignore[return-value]
        params = dict(self.params)
        params["s"] = int(s)
        return type(self)._builder(self.dim, **params)  # type: ignore[misc]


class TentGrid(_Family, SeparableFunction):
    pass


class Aliased(_Family, SpectralFunction):
    pass


def make_tentgrid(dim: int, *, s: int = 0, slope: float = 1.0) -> TorusFunction:
    if s < 0 or (0 < s < 2):
        raise ErrboundError(f"tentgrid: s must be 0 (one witness per resolution) or >= 2, got {s}")
    if not slope > 0:
        raise ErrboundError(f"tentgrid: slope must be > 0, got {slope!r}")
    s_eff = s if s else 2  # the family's placeholder member (any s works; sweeps call for_resolution)
    points = [Fraction(j, 2 * s_eff) for j in range(2 * s_eff)]
    values = [Fraction(0) if j % 2 == 0 else Fraction(slope) / (2 * s_eff) for j in range(2 * s_eff)]
    factor = PiecewiseLinearFactor(points, values)
    fn = TentGrid([factor] * dim, "sum", name="tentgrid", params={"s": s, "slope": slope})
    fn.M = _up(float(fn.M))  # slope d / (2s), rounded up: a rigorous sup norm
    fn.L = _up(float(fn.L))  # |grad v| = slope sqrt(d) almost everywhere, rounded up
    fn.M_exact = True
    fn.L_exact = True  # attained (up to the upward rounding of the last ulps)
    fn.rate_theory = -1.0
    fn.rate_note = "witness family (one member per s): error = d slope / (4 s)"
    return fn


TentGrid._builder = staticmethod(make_tentgrid)


def parse_mode(text: str) -> tuple[int, ...]:
    """'3' -> (3,), '3x-1' -> (3, -1)."""
    try:
        return tuple(int(v) for v in str(text).split("x"))
    except ValueError:
        raise ErrboundError(f"aliased: w must be integers joined by 'x' (e.g. w=3 or w=3x-1), got {text!r}") from None


def aliased_frequency(w: tuple[int, ...], s: int) -> tuple[int, ...]:
    """K = w - s sigma e_1, the frequency above the Nyquist limit that the grid s sees as w."""
    sigma = 1 if w[0] >= 0 else -1
    return (w[0] - sigma * s,) + tuple(w[1:])


def make_aliased(dim: int, *, w: tuple[int, ...] | int = 1, s: int = 0, amp: float = 1.0) -> TorusFunction:
    if isinstance(w, str):
        w = parse_mode(w)
    if isinstance(w, int):
        w = (w,)
    w = tuple(int(v) for v in w)
    if len(w) < dim:
        w = w + (0,) * (dim - len(w))
    if len(w) != dim:
        raise ErrboundError(f"aliased: w must have {dim} components for dim={dim}, got {w}")
    if s < 0 or (0 < s <= 2 * max(abs(v) for v in w)):
        raise ErrboundError(f"aliased: s must be 0 (one witness per resolution) or > 2 max|w_i| = {2 * max(abs(v) for v in w)}, got {s}")
    if not amp > 0:
        raise ErrboundError(f"aliased: amp must be > 0, got {amp!r}")
    s_eff = s if s else 2 * max(abs(v) for v in w) + 1
    K = np.array(aliased_frequency(w, s_eff), dtype=np.int64)
    modes = np.stack([K, -K])
    coeffs = np.array([amp / 2, amp / 2], dtype=np.complex128)
    wtxt = "x".join(str(v) for v in w)
    fn = Aliased(modes, coeffs, name="aliased", params={"w": wtxt, "s": s, "amp": amp})
    fn.M = float(amp)
    fn.M_exact = True
    fn.L_axes = tuple(_up(float(2 * np.pi * abs(int(v)) * amp)) for v in K)  # rounded up: rigorous bounds
    fn.L = _up(float(2 * np.pi * np.linalg.norm(K.astype(float)) * amp))
    fn.L_exact = True
    fn.witness_mode = w
    fn.rate_theory = 0.0
    fn.rate_note = "witness family: error amp/2 at mode w for every s (its Lipschitz constant grows like s)"
    return fn


Aliased._builder = staticmethod(make_aliased)
