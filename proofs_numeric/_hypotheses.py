"""Rigorous checks of the hypotheses a witness must satisfy (Lipschitz constant, sup norm, decay constant).

A lower-bound witness proves ``sup over the class >= its error`` only if it *belongs* to the class, so every
witness used by ``proofs_numeric`` is checked for membership, not only for the value it attains
(issue 16: the modulated tent of D3(d) was used as an L-Lipschitz function while its constant is >= 2L).
Each function returns rigorous enclosures (python-flint ``arb`` balls, or exact ``Fraction``s) that the
statement modules record as certified cases ``enclosure <= the constant the witness is used with``.

* :func:`pl_slopes_exact`, :func:`pl_lipschitz_exact`, :func:`pl_sup_exact`: a periodic piecewise-linear
  function's Lipschitz constant is its largest |slope| and its sup norm its largest |value| at a knot, both
  exact rationals (knots are Fractions, values float64 numbers).
* :func:`lipschitz_enclosure_1d`: ``ess sup |f'|`` of a piecewise-C^1 function on [0, 1) by branch and bound:
  the derivative of each smooth piece is evaluated in interval (ball) arithmetic on sub-intervals, which are
  bisected while their upper end exceeds the target; the result is an upper end valid for the whole period
  and a lower end attained at a point. For a continuous periodic function, Lip = ess sup |f'|.
* :func:`modulated_tent_derivative`: the derivative of D3(d)'s W_s = 2 cos(2 pi w x) T_s(x) in d = 1 on one
  half cell (T_s linear there with slope +-L).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Sequence

from flint import arb

from proofs_numeric._cert import workprec

__all__ = ["pl_slopes_exact", "pl_lipschitz_exact", "pl_sup_exact", "lipschitz_enclosure_1d",
           "modulated_tent_derivative", "modulated_tent_pieces"]


def pl_slopes_exact(knots: Sequence[Fraction], values: Sequence[float]) -> list[Fraction]:
    """Exact slopes of the periodic PL function through (knots[l], values[l]) (period 1)."""
    p = [Fraction(k) for k in knots] + [Fraction(1)]
    v = [Fraction(float(x)) for x in values]
    v = v + v[:1]
    return [(v[i + 1] - v[i]) / (p[i + 1] - p[i]) for i in range(len(knots))]


def pl_lipschitz_exact(knots: Sequence[Fraction], values: Sequence[float]) -> Fraction:
    """Lip = max |slope| (exact): a continuous PL function is Lipschitz with its largest |slope|, attained."""
    return max(abs(x) for x in pl_slopes_exact(knots, values))


def pl_sup_exact(values: Sequence[float]) -> Fraction:
    """sup |v| of a PL function = max |v| over the knots (exact)."""
    return max(abs(Fraction(float(x))) for x in values)


def lipschitz_enclosure_1d(pieces: Sequence[tuple[Fraction, Fraction, Callable[[arb], arb]]], target: arb,
                           *, max_depth: int = 30) -> tuple[arb, arb]:
    """Enclose ``ess sup |f'|`` for f with smooth pieces ``(a, b, df)`` (df evaluates f' on a ball).

    Returns ``(lower, upper)``: ``upper`` bounds |f'| on every piece (a rigorous upper end: the maximum of
    the interval enclosures of the final sub-intervals); ``lower`` is |f'| at a sub-interval midpoint (a
    value attained). Sub-intervals whose enclosure reaches ``target`` are bisected up to ``max_depth``
    times, so ``upper`` is certified below ``target`` whenever the true sup is, up to the resolution of
    the bisection."""
    with workprec():
        lower = arb(0)
        upper = arb(0)
        stack = []
        for a, b, df in pieces:
            stack.append((Fraction(a), Fraction(b), df, 0))
        while stack:
            a, b, df, depth = stack.pop()
            mid = (a + b) / 2
            rad = (b - a) / 2
            ball = arb(_fq(mid), _fq(rad)) if rad else arb(_fq(mid))
            enc = abs(df(ball))
            at_mid = abs(df(arb(_fq(mid))))
            if at_mid.lower() > lower.lower():
                lower = arb(at_mid.lower())
            if lower > target:  # the sup certainly exceeds the target: no refinement can certify it
                upper = _ball_max(upper, enc)
                for a2, b2, df2, _ in stack:  # the rest, unrefined (rigorous, coarse)
                    m2, r2 = (a2 + b2) / 2, (b2 - a2) / 2
                    upper = _ball_max(upper, abs(df2(arb(_fq(m2), _fq(r2)))))
                stack.clear()
                break
            if enc.upper() >= target.lower() and depth < max_depth:
                stack.append((a, mid, df, depth + 1))
                stack.append((mid, b, df, depth + 1))
                continue
            if enc.upper() > upper.upper():
                upper = arb(enc.upper())
        return lower, upper


def _ball_max(a: arb, b: arb) -> arb:
    """A ball whose upper end is max(a.upper, b.upper) (used as an upper end only)."""
    return arb(a.upper()) if a.upper() >= b.upper() else arb(b.upper())


def _fq(x: Fraction):  # type: ignore[no-untyped-def]
    from flint import fmpq

    return arb(fmpq(x.numerator, x.denominator))


def modulated_tent_derivative(s: int, w: int, L: Fraction, knot: Fraction, slope_sign: int) -> Callable[[arb], arb]:
    """W_s'(x) = 2 (+-L) cos(2 pi w x) - 4 pi w sin(2 pi w x) T_s(x) on a half cell where T_s(x) = +-L (x - knot)
    (``knot`` is where T_s vanishes for a rising piece, or the cell end for a falling piece)."""
    Lb = _fq(L)

    def df(x: arb) -> arb:
        phase = 2 * x * w  # cos(2 pi w x) = cos_pi(2 w x)
        T = Lb * slope_sign * (x - _fq(knot))
        return 2 * slope_sign * Lb * phase.cos_pi() - 4 * arb.pi() * w * phase.sin_pi() * T

    return df


def modulated_tent_pieces(s: int, w: int, L: Fraction) -> list[tuple[Fraction, Fraction, Callable[[arb], arb]]]:
    """The 2s smooth pieces of W_s on [0, 1): rising halves [j/s, (j+1/2)/s], falling halves [(j+1/2)/s, (j+1)/s]."""
    out = []
    for j in range(s):
        a, m, b = Fraction(j, s), Fraction(2 * j + 1, 2 * s), Fraction(j + 1, s)
        out.append((a, m, modulated_tent_derivative(s, w, L, a, +1)))
        out.append((m, b, modulated_tent_derivative(s, w, L, b, -1)))
    return out
