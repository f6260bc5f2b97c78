"""Periodic piecewise-linear functions on T^1 and separable combinations on T^d, exactly.

A :class:`PL` has knots 0 = p_0 < p_1 < ... < p_{K-1} < 1 and values v_l, linear in between and periodic.
Everything the discretization statements need is computed from the definition:

* coefficients (float64 and mpmath): vhat(0) = sum_l (v_l + v_{l+1})/2 (p_{l+1} - p_l) and, for n != 0,
  vhat(n) = -sum_l D_l e^{-2 pi i n p_l} / (2 pi n)^2 with D_l the slope jump at p_l (v'' = sum_l D_l delta_{p_l});
* the Riemann sum / forward DFT V_s(n) = s^-1 sum_j v(j/s) e^{-2 pi i n j/s} directly from the samples;
* M = max |v_l| (attained at a knot) and L = max |slope| (exact).

:class:`Separable` combines 1-D factors by product or sum; its coefficients and DFTs are products / sums
of the factors' (exact), its M and (Euclidean, per-axis) Lipschitz constants are proven upper bounds:
product: |d_i v| <= L_i prod_{l != i} M_l; sum: |d_i v| <= L_i, M <= sum M_i; L_2 <= |(L_1, ..., L_d)|_2.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

import mpmath
import numpy as np

__all__ = ["PL", "Separable", "random_pl"]


class PL:
    def __init__(self, knots: Sequence[float | Fraction], values: Sequence[float]) -> None:
        # knots may be Fractions (exact rationals such as j/(2s)); the mpmath side uses them exactly, the
        # float64 side their nearest float64 values
        self.p_exact = [Fraction(k) for k in knots]
        self.p = np.asarray([float(k) for k in knots], dtype=np.float64)
        self.v = np.asarray(values, dtype=np.float64)
        if not (self.p[0] == 0 and np.all(np.diff(self.p) > 0) and self.p[-1] < 1):
            raise ValueError("knots must start at 0, increase strictly and stay below 1")
        p_next = np.append(self.p[1:], 1.0)
        v_next = np.append(self.v[1:], self.v[0])
        self.slopes = (v_next - self.v) / (p_next - self.p)
        self.D = self.slopes - np.roll(self.slopes, 1)  # jump at p_l: slope after minus slope before
        self.M = float(np.max(np.abs(self.v)))  # exact (a knot value)
        # float64 slopes are rounded: the declared L is the largest one rounded up by 4 ulps (>= the exact largest
        # |slope|, a quotient of differences of floats, each rounded once); checked against the exact value
        self.L = _up(float(np.max(np.abs(self.slopes))))

    # ---- float64 ----
    def eval(self, x: np.ndarray) -> np.ndarray:
        x = np.mod(x, 1.0)
        return np.interp(x, np.append(self.p, 1.0), np.append(self.v, self.v[0]))

    def coef(self, n: np.ndarray) -> np.ndarray:
        n = np.asarray(n)
        out = np.empty(n.shape, dtype=np.complex128)
        nz = n != 0
        nn = n[nz].astype(np.float64)
        out[nz] = -(np.exp(-2j * np.pi * np.outer(nn, self.p)) @ self.D) / (2 * np.pi * nn) ** 2
        p_next = np.append(self.p[1:], 1.0)
        v_next = np.append(self.v[1:], self.v[0])
        out[~nz] = np.sum((self.v + v_next) / 2 * (p_next - self.p))
        return out

    def dft(self, s: int, n: np.ndarray) -> np.ndarray:
        x = self.eval(np.arange(s) / s)
        return np.exp(-2j * np.pi * np.outer(np.asarray(n), np.arange(s)) / s) @ x / s

    # ---- mpmath (the caller sets the working precision) ----
    def _mp_lists(self) -> tuple[list, list]:
        key = mpmath.mp.prec
        cache = getattr(self, "_mp_cache", None)
        if cache is None or cache[0] != key:
            knots = [mpmath.mpf(q.numerator) / q.denominator for q in self.p_exact] + [mpmath.mpf(1)]
            vals = [mpmath.mpf(float(v)) for v in self.v] + [mpmath.mpf(float(self.v[0]))]
            self._mp_cache = cache = (key, knots, vals)
        return cache[1], cache[2]

    def eval_mp(self, x: mpmath.mpf) -> mpmath.mpf:
        x = x - mpmath.floor(x)
        knots, vals = self._mp_lists()
        i = int(np.searchsorted(self.p, float(x), side="right")) - 1
        # float search may be off by one at a knot: fix with exact comparisons
        while i > 0 and x < knots[i]:
            i -= 1
        while i + 1 < len(knots) - 1 and x >= knots[i + 1]:
            i += 1
        return vals[i] + (vals[i + 1] - vals[i]) * (x - knots[i]) / (knots[i + 1] - knots[i])

    def coef_mp(self, n: int) -> mpmath.mpc:
        p = self._mp_lists()[0][:-1]
        if n == 0:
            p1 = p[1:] + [mpmath.mpf(1)]
            v = [mpmath.mpf(float(q)) for q in self.v]
            v1 = v[1:] + v[:1]
            return mpmath.mpc(mpmath.fsum((a + b) / 2 * (q1 - q0) for a, b, q0, q1 in zip(v, v1, p, p1)))
        # exact slopes in mp (knots and values are float64 numbers, taken exactly)
        v = [mpmath.mpf(float(q)) for q in self.v]
        p1 = p[1:] + [mpmath.mpf(1)]
        v1 = v[1:] + v[:1]
        sl = [(b - a) / (q1 - q0) for a, b, q0, q1 in zip(v, v1, p, p1)]
        D = [sl[i] - sl[i - 1] for i in range(len(sl))]
        tot = mpmath.fsum(d * mpmath.expjpi(-2 * n * q) for d, q in zip(D, p))
        return -tot / (2 * mpmath.pi * n) ** 2

    def samples_mp(self, s: int) -> list:
        key = (mpmath.mp.prec, s)
        cache = self.__dict__.setdefault("_samples_cache", {})
        if key not in cache:
            cache[key] = [self.eval_mp(mpmath.mpf(j) / s) for j in range(s)]
        return cache[key]

    def dft_mp(self, s: int, n: int) -> mpmath.mpc:
        vals = self.samples_mp(s)
        roots = _roots(s, mpmath.mp.prec)
        return mpmath.fsum(val * roots[(-n * j) % s] for j, val in enumerate(vals)) / s


    # ---- Arb (rigorous enclosures; the caller sets the precision with proofs_numeric._cert.workprec) ----
    def slopes_exact(self) -> list:
        p = self.p_exact + [Fraction(1)]
        v = [Fraction(float(x)) for x in self.v]
        v = v + v[:1]
        return [(v[i + 1] - v[i]) / (p[i + 1] - p[i]) for i in range(len(self.p_exact))]

    def eval_exact(self, x: Fraction) -> Fraction:
        x = x - (x.numerator // x.denominator)
        p = self.p_exact + [Fraction(1)]
        v = [Fraction(float(q)) for q in self.v]
        v = v + v[:1]
        i = max(l for l in range(len(self.p_exact)) if p[l] <= x)
        return v[i] + (v[i + 1] - v[i]) * (x - p[i]) / (p[i + 1] - p[i])

    def coef_arb(self, n: int):  # type: ignore[no-untyped-def]
        from flint import acb, arb, fmpq

        if n == 0:
            p = self.p_exact + [Fraction(1)]
            v = [Fraction(float(x)) for x in self.v]
            v = v + v[:1]
            tot = sum(((v[i] + v[i + 1]) / 2 * (p[i + 1] - p[i]) for i in range(len(self.p_exact))), Fraction(0))
            return acb(arb(fmpq(tot.numerator, tot.denominator)))
        sl = self.slopes_exact()
        D = [sl[i] - sl[i - 1] for i in range(len(sl))]
        tot = acb(0)
        for dl, q in zip(D, self.p_exact):
            if dl:
                ph = Fraction(-2 * n) * q
                tot += arb(fmpq(dl.numerator, dl.denominator)) * acb(arb(fmpq(ph.numerator, ph.denominator))).exp_pi_i()
        return -tot / (2 * arb.pi() * n) ** 2

    def dft_arb(self, s: int, n: int):  # type: ignore[no-untyped-def]
        from flint import acb, arb, fmpq

        key = ("arb", s)
        cache = self.__dict__.setdefault("_samples_cache", {})
        if key not in cache:
            cache[key] = [self.eval_exact(Fraction(j, s)) for j in range(s)]
        tot = acb(0)
        for j, val in enumerate(cache[key]):
            if val:
                tot += arb(fmpq(val.numerator, val.denominator)) * _root_arb(s, (-n * j) % s)
        return tot / s


def _up(x: float) -> float:
    for _ in range(4):
        x = float(np.nextafter(x, np.inf))
    return x


_ROOTS_ARB: dict = {}


def _root_arb(s: int, r: int):  # type: ignore[no-untyped-def]
    """e^{2 pi i r / s} as an acb ball at the current flint precision (cached per precision)."""
    from flint import acb, arb, ctx, fmpq

    key = (s, r, ctx.prec)
    if key not in _ROOTS_ARB:
        _ROOTS_ARB[key] = acb(arb(fmpq(2 * r, s))).exp_pi_i()
    return _ROOTS_ARB[key]


_ROOTS: dict = {}


def _roots(s: int, prec: int) -> list:
    """e^{2 pi i r / s}, r = 0..s-1, at the working precision (cached)."""
    key = (s, prec)
    if key not in _ROOTS:
        _ROOTS[key] = [mpmath.expjpi(mpmath.mpf(2 * r) / s) for r in range(s)]
    return _ROOTS[key]


class Separable:
    """v(x) = prod_i f_i(x_i) or sum_i f_i(x_i) of PL factors (d = len(factors))."""

    def __init__(self, factors: Sequence[PL], combine: str) -> None:
        if combine not in ("product", "sum"):
            raise ValueError(combine)
        self.f = list(factors)
        self.combine = combine
        self.d = len(self.f)
        Ms = [f.M for f in self.f]
        Ls = [f.L for f in self.f]
        # declared constants rounded up (4 ulps cover the few float64 roundings): rigorous upper bounds,
        # checked against Arb/exact values by the statements that use them (hypothesis parts)
        if combine == "product":
            self.M = _up(math.prod(Ms))
            self.L_axes = tuple(_up(Ls[i] * math.prod(Ms[:i] + Ms[i + 1:])) for i in range(self.d))
        else:
            self.M = _up(sum(Ms)) if self.d > 1 else Ms[0]
            self.L_axes = tuple(Ls)
        self.L = _up(math.sqrt(sum(x * x for x in self.L_axes)))

    def error_mp(self, s: int, w: Sequence[int]) -> mpmath.mpf:
        """|V_s(w) - vhat(w)| at the current mpmath precision."""
        cs = [f.coef_mp(int(wi)) for f, wi in zip(self.f, w)]
        Vs = [f.dft_mp(s, int(wi)) for f, wi in zip(self.f, w)]
        if self.combine == "product":
            return abs(mpmath.fprod(Vs) - mpmath.fprod(cs))
        # sum: vhat(w) = sum_i [w_l = 0 for l != i] c_i(w_i) (the constant factor of the other axes is 1)
        tot = mpmath.mpc(0)
        for i in range(self.d):
            if all(int(w[l]) == 0 for l in range(self.d) if l != i):
                tot += Vs[i] - cs[i]
        return abs(tot)

    def error_arb(self, s: int, w: Sequence[int]):  # type: ignore[no-untyped-def]
        """|V_s(w) - vhat(w)| as an Arb ball (the caller sets the precision)."""
        from flint import acb

        cs = [f.coef_arb(int(wi)) for f, wi in zip(self.f, w)]
        Vs = [f.dft_arb(s, int(wi)) for f, wi in zip(self.f, w)]
        if self.combine == "product":
            pv, pc = acb(1), acb(1)
            for a, b in zip(Vs, cs):
                pv *= a
                pc *= b
            return abs(pv - pc)
        tot = acb(0)
        for i in range(self.d):
            if all(int(w[l]) == 0 for l in range(self.d) if l != i):
                tot += Vs[i] - cs[i]
        return abs(tot)

    def lipschitz_exact_arb(self):  # type: ignore[no-untyped-def]
        """Arb upper bounds (L_axes, L, M) from the exact slopes and knot values (the proven constants of the
        module docstring, without float rounding)."""
        from flint import arb, fmpq

        def q(x: Fraction):  # type: ignore[no-untyped-def]
            return arb(fmpq(x.numerator, x.denominator))

        Ls = [q(max(abs(x) for x in f.slopes_exact())) for f in self.f]
        Ms = [q(max(abs(Fraction(float(x))) for x in f.v)) for f in self.f]
        if self.combine == "product":
            La = []
            for i in range(self.d):
                t = Ls[i]
                for l in range(self.d):
                    if l != i:
                        t *= Ms[l]
                La.append(t)
            M = Ms[0]
            for m in Ms[1:]:
                M *= m
        else:
            La, M = Ls, sum(Ms[1:], Ms[0])
        L = sum((x * x for x in La[1:]), La[0] * La[0]).sqrt()
        return La, L, M

    def error(self, s: int, w: np.ndarray) -> np.ndarray:
        """float64 |V_s(w) - vhat(w)| for modes w of shape (N, d)."""
        w = np.asarray(w)
        cs = [f.coef(w[:, i]) for i, f in enumerate(self.f)]
        Vs = [f.dft(s, w[:, i]) for i, f in enumerate(self.f)]
        if self.combine == "product":
            return np.abs(np.prod(Vs, axis=0) - np.prod(cs, axis=0))
        tot = np.zeros(len(w), dtype=np.complex128)
        for i in range(self.d):
            others = np.all(np.delete(w, i, axis=1) == 0, axis=1) if self.d > 1 else np.ones(len(w), bool)
            tot += np.where(others, Vs[i] - cs[i], 0)
        return np.abs(tot)


def random_pl(rng: np.random.Generator, pieces: int, *, scale: float = 1.0, grid: int | None = None) -> PL:
    """A random periodic PL function: knots on a random subset of a dyadic grid, values uniform in [-scale, scale]."""
    grid = grid or 4 * pieces
    knots = np.sort(rng.choice(np.arange(1, grid), size=pieces - 1, replace=False)) / grid
    knots = np.concatenate([[0.0], knots])
    return PL(knots, rng.uniform(-scale, scale, size=pieces))
