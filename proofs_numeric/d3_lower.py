"""D3 (Theta(1/s) lower bound): every witness is built, checked to belong to its class, and its error computed.

Each value case is ``lower bound <= A(witness)``: lhs = the value D3 claims (L kappa_d / s, sqrt(d) L/(4s), M/2,
L kappa_d / (Lambda_w s)), rhs = |V_s(w) - vhat(w)| computed independently. The claimed values are *attained*
(ratio 1), so the certified verdict needs exact arithmetic, not balls (two equal numbers have overlapping balls):

* tents (a, b, d): knots are rationals j/(2s) and values float64 numbers, so samples, Riemann sums and the
  mean vhat(0) are exact Fractions; the slope-jump formula gives vhat(n) for n != 0 as
  -(2 pi n)^-2 sum_l D_l zeta^(-n l) (zeta = e^(2 pi i/(2s))), and whether that cyclotomic sum vanishes is
  decided exactly (flint: divisibility by the cyclotomic polynomial, :func:`proofs_numeric._cert.cyclotomic_is_zero`);
* aliased cosines (c): V_s(w) s^d 2/a = sum_j zeta^((K-w).j) + zeta^((-K-w).j) (zeta = e^(2 pi i/s)), an element of
  Z[zeta] compared exactly with the integer s^d;
* the Euclidean distance witness in d = 2, 3 (a): vhat(0) is an integral equal to L kappa_d / s by the definition of
  kappa_d; the check compares a quadrature with the closed form of kappa_d, an equality of two irrational numbers
  that ball arithmetic cannot order (uncertified, with that reason; the float check stays).

The hypotheses (issue 16) are checked rigorously for every witness: the exact largest slope and sup of the
PL witnesses, sampled Lipschitz quotients of dist_2 in Arb, the Lipschitz constant and sup norm declared by the
library witnesses (``errbound.functions.witnesses``: tentgrid, aliased) against Arb enclosures, and for W_s
a branch-and-bound enclosure of ess sup |W_s'| (d = 1) against Lambda_w L (so W_s / Lambda_w is L-Lipschitz).
A witness whose rigorous Lipschitz enclosure exceeds the L it is used with is a certified violation.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
from flint import arb, fmpq

from proofs_numeric._framework import Check, Context
from proofs_numeric._kappa import kappa_mp
from proofs_numeric._cert import cyclotomic_is_zero, to_arb, workprec
from proofs_numeric._hypotheses import lipschitz_enclosure_1d, modulated_tent_pieces, pl_lipschitz_exact, pl_sup_exact
from proofs_numeric._pl import PL, Separable

ID = "D3"
TITLE = "Theta(1/s) lower bound: explicit witnesses attaining D2 at w = 0"
STATEMENT = """\
**D3 (Theta(1/s) lower bound: explicit witnesses).** For s >= 1 and L > 0:
(a) the function T_s(x) = L dist_2(x, s^-1 Z^d) is L-Lipschitz, satisfies |T_s| <= L sqrt(d) / (2s), vanishes
on the grid, and A(T_s, 0; s) = L kappa_d / s, so D2(a) is attained at w = 0;
(b) the function U_s(x) = (L / sqrt d) sum_i dist(x_i, s^-1 Z) has |d U_s / d x_i| = L/sqrt(d) =: L_i a.e.,
Euclidean Lipschitz constant L, vanishes on the grid, and A(U_s, 0; s) = sum_i L_i / (4s) = sqrt(d) L / (4s), so
D2(b) is attained at w = 0;
(c) for a retained w != 0 (|w|_inf < s/2) and a > 0, the aliased cosine v = a cos(2 pi K.x), K = w - s sigma e_1
(sigma = sign w_1, +1 if w_1 = 0), has |v| <= a, Lipschitz constant 2 pi |K|_2 a, vhat(w) = 0 and V_s(w) = a/2,
so A(w) = a/2 = M/2;
(d) for a retained w != 0, W_s(x) = 2 cos(2 pi w.x) T_s(x) has A(W_s, w; s) = L kappa_d / s, |W_s| <= L sqrt(d) / s
and 2L <= Lip(W_s) <= Lambda_w L, Lambda_w = 2 sqrt(1 + pi^2 d |w|_2^2 / s^2); so W_s / Lambda_w is L-Lipschitz
and A(W_s / Lambda_w, w; s) = L kappa_d / (Lambda_w s).
Hence sup {A(v, w; s) : v L-Lipschitz} >= L kappa_d / s at w = 0 and >= L kappa_d / (Lambda_w s) >=
L kappa_d / (2 sqrt(1 + pi^2 d^2 / 4) s) for every retained w != 0: the worst-case rate is exactly Theta(1/s)."""


def tent(s: int, L: float) -> PL:
    """T_s in d = 1: zero on the grid j/s, peak fl(L/(2s)) at the midpoints (slope L up to float64 rounding of
    the peak; the checks use the exact slope :func:`tent_slope_mp`)."""
    return PL([Fraction(j, 2 * s) for j in range(2 * s)], [0.0 if j % 2 == 0 else L / (2 * s) for j in range(2 * s)])


def tent_slope_mp(T: PL, s: int) -> mpmath.mpf:
    """The exact slope of the tent (its peak, a float64 number, times 2s)."""
    return mpmath.mpf(float(T.v[1])) * 2 * s


def _cell_integral_dist(s: int, d: int, L: mpmath.mpf) -> mpmath.mpf:
    """int_{T^d} L dist_2(x, grid) dx by quadrature: s^d cells, each 2^d copies of [0, 1/(2s)]^d."""
    h = mpmath.mpf(1) / (2 * s)
    if d == 2:
        one = mpmath.quad(lambda x, y: mpmath.sqrt(x * x + y * y), [0, h], [0, h])
    else:
        def inner(x, y):  # type: ignore[no-untyped-def]
            r2 = x * x + y * y
            if r2 == 0:
                return h * h / 2
            r = mpmath.sqrt(r2)
            return (h * mpmath.sqrt(r2 + h * h) + r2 * mpmath.asinh(h / r)) / 2  # exact z-integral

        one = mpmath.quad(inner, [0, h], [0, h])
    return L * mpmath.mpf(s) ** d * 2**d * one


def _dist_on_grid_mp(s: int, d: int) -> mpmath.mpf:
    """max over the grid of dist_2(x_j, s^-1 Z^d), computed literally (must be 0)."""
    worst = mpmath.mpf(0)
    for j in np.ndindex(*(min(s, 6),) * d):
        x = [mpmath.mpf(int(v)) / s for v in j]
        dist = mpmath.sqrt(mpmath.fsum((xi - mpmath.nint(xi * s) / s) ** 2 for xi in x))
        worst = max(worst, dist)
    return worst



# ---- the statement's quantities, literally ---------------------------------------------------------------

def lambda_w(s: int, w: tuple[int, ...], d: int) -> arb:
    """D3(d): Lambda_w = 2 sqrt(1 + pi^2 d |w|_2^2 / s^2) (an Arb ball)."""
    w2 = sum(int(x) ** 2 for x in w)
    return 2 * (1 + arb.pi() ** 2 * d * w2 / arb(s) ** 2).sqrt()


def bound_d(s: int, w: tuple[int, ...], L: Fraction, d: int) -> arb:
    """D3(d): the lower bound L kappa_d / (Lambda_w s) proved at a retained w != 0 (d = 1: kappa_1 = 1/4)."""
    kap = arb(fmpq(1, 4)) if d == 1 else to_arb(float(kappa_mp(d, 60)))  # only d = 1 is used (exact 1/4)
    return to_arb(L) * kap / (lambda_w(s, w, d) * s)


def tent_exact(s: int, L: float) -> tuple[PL, Fraction]:
    """T_s (d = 1) and its exact slope 2s fl(L/(2s)) (the L the checks use)."""
    T = tent(s, L)
    return T, Fraction(float(T.v[1])) * 2 * s


def pl_mean_exact(T: PL) -> Fraction:
    """vhat(0) of a PL function: the trapezoid sum over its pieces (exact)."""
    p = T.p_exact + [Fraction(1)]
    v = [Fraction(float(x)) for x in T.v]
    v = v + v[:1]
    return sum(((v[i] + v[i + 1]) / 2 * (p[i + 1] - p[i]) for i in range(len(T.p_exact))), Fraction(0))


def pl_riemann_exact(T: PL, s: int) -> list[Fraction]:
    """The samples v(j/s) of a PL function with knots j'/(2s') (exact; the grid points are knots or inside pieces)."""
    p = T.p_exact + [Fraction(1)]
    v = [Fraction(float(x)) for x in T.v]
    v = v + v[:1]
    out = []
    i = 0
    for j in range(s):
        x = Fraction(j, s)
        while p[i + 1] <= x:
            i += 1
        out.append(v[i] + (v[i + 1] - v[i]) * (x - p[i]) / (p[i + 1] - p[i]))
    return out


def tent_coef_vanishes(s: int, n: int) -> bool:
    """Exact test that vhat(n) = 0 for the tent T_s (n != 0): the slope jumps are +2L at j/s and -2L at (j+1/2)/s,
    so vhat(n) = -(2 pi n)^-2 2L sum_l (-1)^l zeta^(-n l), zeta = e^(2 pi i/(2s)): zero iff the cyclotomic sum is."""
    coeffs: dict[int, int] = {}
    for l in range(2 * s):
        e = (-n * l) % (2 * s)
        coeffs[e] = coeffs.get(e, 0) + (1 if l % 2 == 0 else -1)
    return cyclotomic_is_zero(coeffs, 2 * s)


def aliased_dft_is_half(s: int, w: tuple[int, ...], K: tuple[int, ...]) -> bool:
    """Exact test of V_s(w) = a/2 for a cos(2 pi K.x): sum_j zeta^((K-w).j) + zeta^((-K-w).j) = s^d in Z[zeta]."""
    d = len(w)
    js = np.stack(np.meshgrid(*([np.arange(s)] * d), indexing="ij"), -1).reshape(-1, d)
    e1 = (js @ (np.array(K) - np.array(w))) % s
    e2 = (js @ (-np.array(K) - np.array(w))) % s
    counts = np.bincount(e1, minlength=s) + np.bincount(e2, minlength=s)
    counts[0] -= s**d
    return cyclotomic_is_zero(counts, s)


def run(ctx: Context) -> dict:
    chk = Check(ID, TITLE, STATEMENT, kind="lower", rel_tol=1e-30,
                tol_reason="float pre-filter: exact or >= 50-digit values; the verdict is the exact/ball certificate")
    chk.tightness_from("a: tent d=1", "b: axis-sum of tents", "a: Euclidean distance d>=2", "c: aliased cosine",
                       "d: modulated tent / Lambda_w")
    rng = ctx.rng(3)
    # (a) d = 1: the tent, exactly. Hypotheses: slope and sup exact.
    for s in range(2, ctx.size(60, 400)):
        for L in (0.5, 1.0, 3.0):
            T, Lx = tent_exact(s, L)
            samples = pl_riemann_exact(T, s)
            A = abs(sum(samples, Fraction(0)) / s - pl_mean_exact(T))
            lhs = Lx * Fraction(1, 4) / s  # L kappa_1 / s
            chk.case(float(lhs), float(A), "a: tent d=1", cert=(lhs, A), s=s, L=L)
            chk.case(float(pl_lipschitz_exact(T.p_exact, T.v)), float(Lx), "hyp: tent Lipschitz <= L",
                     cert=(pl_lipschitz_exact(T.p_exact, T.v), Lx), s=s)
            chk.case(float(pl_sup_exact(T.v)), float(Lx / (2 * s)), "hyp: tent sup <= L sqrt(d)/(2s)",
                     cert=(pl_sup_exact(T.v), Lx / (2 * s)), s=s)
            chk.case(float(max(abs(x) for x in samples)), 0.0, "hyp: tent vanishes on the grid",
                     cert=(max(abs(x) for x in samples), Fraction(0)), s=s)
    # (b) d = 2, 3: axis sums of tents of slope L/sqrt(d), exactly (w = 0: A = d |vhat_f(0)|, samples 0)
    for d in (2, 3):
        for s in range(2, ctx.size(10, 80)):
            f, Li = tent_exact(s, 1.0 / math.sqrt(d))
            U = Separable([f] * d, "sum")
            A_float = float(U.error(s, np.zeros((1, d), dtype=np.int64))[0])
            samples = pl_riemann_exact(f, s)
            A = abs(d * (sum(samples, Fraction(0)) / s - pl_mean_exact(f)))
            # pre-filter tolerance 1e-12: the float64 error sums a few dozen terms (relative error < 1e-14)
            chk.case(float(d * Li / (4 * s)), A_float, "b: axis-sum of tents", rel_tol=1e-12,
                     cert=(d * Li / (4 * s), A), d=d, s=s)
            chk.case(float(pl_lipschitz_exact(f.p_exact, f.v)), float(Li), "hyp: axis-sum per-axis slope <= L_i",
                     cert=(pl_lipschitz_exact(f.p_exact, f.v), Li), d=d, s=s)
    # (a) d = 2, 3: Euclidean distance witness, integral by quadrature (float pre-filter; see module docstring)
    chk.uncertified_reason("a: Euclidean distance d>=2",
                           "equality of an integral with the closed form of kappa_d (both irrational): Arb encloses "
                           "both sides but cannot order equal numbers; vhat(0) = L kappa_d / s is the definition of "
                           "kappa_d (E|y|_2), proven analytically")
    with mpmath.workdps(ctx.dps):
        for d in (2, 3):
            for s in ([1, 2, 5] if ctx.quick else [1, 2, 3, 5, 8]):
                if d == 3 and ctx.quick and s > 1:
                    continue
                L = mpmath.mpf(1)
                with mpmath.workdps(ctx.dps if d == 2 else 30):
                    integral = _cell_integral_dist(s, d, L)
                grid_max = _dist_on_grid_mp(s, d)
                A = abs(L * grid_max - integral)  # V_s(0) = mean of samples <= max sample = 0
                chk.case(L * kappa_mp(d, ctx.dps) / s, A, "a: Euclidean distance d>=2", d=d, s=s,
                         rel_tol=1e-25 if d == 3 else None)
    # hypothesis of (a) in d = 2, 3: Lipschitz quotients of L dist_2(x, grid) on random pairs, in Arb (<= L)
    with workprec():
        for d in (2, 3):
            for s in (2, 3, 5, 8):
                for _ in range(ctx.size(20, 150)):
                    x = rng.uniform(0, 1, d)
                    y = x + rng.normal(0, 0.3 / s, d)
                    xa = [to_arb(float(v)) for v in x]
                    ya = [to_arb(float(v)) for v in y]

                    def dist(pt):  # type: ignore[no-untyped-def]
                        return sum(_dist1(c, s) ** 2 for c in pt).sqrt()

                    num = abs(dist(xa) - dist(ya))
                    den = sum((a - b) ** 2 for a, b in zip(xa, ya)).sqrt()
                    q = num / den
                    chk.case(None, 1.0, "hyp: dist_2 Lipschitz quotients <= L (sampled)", cert=(q, arb(1)), d=d, s=s)
    # (c) aliased cosines, exact in Z[zeta]; library witness's declared L and M checked against Arb enclosures
    from errbound.functions.witnesses import make_aliased

    for d in (1, 2):
        for s in (range(3, ctx.size(40, 160)) if d == 1 else range(3, ctx.size(8, 18))):
            k = (s - 1) // 2
            modes = [tuple(int(v) - k for v in idx) for idx in np.ndindex(*(2 * k + 1,) * d)]
            modes = [w for w in modes if any(w)]
            if d == 2:
                modes = modes[:: max(1, len(modes) // ctx.size(8, 60))]
            for w in modes:
                a = float(rng.uniform(0.1, 3.0))
                sigma = 1 if w[0] >= 0 else -1
                K = (w[0] - s * sigma,) + w[1:]
                assert tuple(K) != w and tuple(-x for x in K) != w  # vhat(w) = 0: coefficients only at +-K
                xs = np.stack(np.meshgrid(*([np.arange(s) / s] * d), indexing="ij"), -1).reshape(-1, d)
                V = np.mean(a * np.cos(2 * np.pi * xs @ np.array(K)) * np.exp(-2j * np.pi * xs @ np.array(w)))
                exact = aliased_dft_is_half(s, w, K)
                chk.case(a / 2, float(abs(V)), "c: aliased cosine", rel_tol=1e-12,
                         cert=True if exact else "V_s(w) != a/2 in Z[zeta]", d=d, s=s, w=list(w), amp=a, K=list(K))
                if not exact:
                    chk._force_violation("c: aliased cosine", a / 2, float(abs(V)), {"s": s, "w": list(w)})
                fn = make_aliased(d, w=w, s=s, amp=a)
                with workprec():
                    lip = 2 * arb.pi() * arb(sum(x * x for x in K)).sqrt() * to_arb(a)
                chk.case(None, fn.L, "hyp: aliased cosine Lipschitz <= declared L", cert=(lip, fn.L), d=d, s=s, w=list(w))
                chk.case(a, fn.M, "hyp: aliased cosine sup <= declared M", cert=(a, fn.M), d=d, s=s, w=list(w))
    # library tentgrid witnesses: declared L (Euclidean) and L_axes, M against exact / Arb values
    from errbound.functions.witnesses import make_tentgrid

    for d in (1, 2, 3):
        for s in range(2, ctx.size(12, 40)):
            slope = float(rng.uniform(0.2, 4.0))
            fn = make_tentgrid(d, s=s, slope=slope)
            with workprec():
                lip = to_arb(slope) * arb(d).sqrt()  # |grad| = slope sqrt(d) a.e.
            chk.case(None, fn.L, "hyp: tentgrid Lipschitz <= declared L", cert=(lip, fn.L), d=d, s=s)
            sup = Fraction(slope) * d / (2 * s)
            chk.case(float(sup), fn.M, "hyp: tentgrid sup <= declared M", cert=(sup, fn.M), d=d, s=s)
    # (d) W_s = 2 cos(2 pi w x) T_s, d = 1: value exact; Lipschitz constant enclosed by branch and bound
    for s in range(4, ctx.size(20, 100)):
        T, Lx = tent_exact(s, 1.0)
        for w in range(1, (s - 1) // 2 + 1):
            # V_s(w) = 0 (samples of T_s vanish); vhat(w) = That(0) + That(2w), That(2w) = 0 (exact test)
            samples = pl_riemann_exact(T, s)
            zero = tent_coef_vanishes(s, 2 * w) and not any(samples)
            A_exact = pl_mean_exact(T)  # = That(0); A(W_s) when the test passed
            with workprec():
                lam = lambda_w(s, (w,), 1)
                lhs = bound_d(s, (w,), Lx, 1)
                A_scaled = to_arb(A_exact) / lam
            # the order of L kappa_1/(Lambda s) and A(W_s)/Lambda is that of L/(4s) and A(W_s) (common factor
            # 1/Lambda > 0), decided exactly
            chk.case(float(lhs.mid()), float(A_scaled.mid()), "d: modulated tent / Lambda_w", rel_tol=1e-12,
                     cert=(Lx / (4 * s), A_exact) if zero else "That(2w) != 0 or samples nonzero", s=s, w=[w])
            if s <= ctx.size(20, 100):
                with workprec():
                    lo, hi = lipschitz_enclosure_1d(modulated_tent_pieces(s, w, Lx), lam * to_arb(Lx))
                    lip_scaled = hi / lam
                chk.case(float(lip_scaled.mid()), float(Lx), "hyp: Lip(W_s / Lambda_w) <= L", rel_tol=1e-12,
                         cert=(lip_scaled, Lx), s=s, w=[w], lip_lower=float(lo.mid()), lip_upper=float(hi.mid()))
                chk.case(float(2 * Lx), float(lo.mid()), "hyp: Lip(W_s) >= 2L (W_s itself is not L-Lipschitz)",
                         rel_tol=1e-6, cert=(2 * Lx, lo) if lo >= 2 * to_arb(Lx) else
                         "lower end from midpoints of the bisection only", s=s, w=[w])
                if (s, w) == (8, 1):
                    chk.note(f"W_s (d = 1, s = 8, w = 1, L = 1): Lip(W_s) in [{float(lo.mid()):.6f}, "
                             f"{float(hi.mid()):.6f}], Lambda_w = {float(lam.mid()):.6f}: W_s is not 1-Lipschitz; "
                             "W_s / Lambda_w is")
    chk.note("each witness's claimed error is attained: best_ratio 1 (equality) in every part shows the lower bound"
             " and, with D2, the exact worst-case constant at w = 0")
    return chk.result()


def _dist1(c: arb, s: int) -> arb:
    """dist(c, s^-1 Z) for a real ball c (exact formula |c - round(c s)/s| with the nearest grid point)."""
    n = int(float((c * s).mid()) + 0.5) if float((c * s).mid()) >= 0 else -int(-float((c * s).mid()) + 0.5)
    best = None
    for m in (n - 1, n, n + 1):
        dd = abs(c - arb(fmpq(m, s)))
        best = dd if best is None else _ball_min(best, dd)
    return best


def _ball_min(a: arb, b: arb) -> arb:
    """min of two balls (rigorous: a ball containing min(x, y) for x in a, y in b)."""
    if a < b:
        return a
    if b < a:
        return b
    lo = min(float(a.lower()), float(b.lower()))
    hi = min(float(a.upper()), float(b.upper()))
    return arb((arb(lo) + arb(hi)) / 2, (arb(hi) - arb(lo)) / 2 + arb(2.0**-200))
