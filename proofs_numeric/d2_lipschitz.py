"""D2 (worst-case Lipschitz upper bound), both forms, checked at 50 digits and attacked adversarially.

Function class: periodic piecewise-linear functions (exact M and L) in d = 1 and their separable products and
sums in d = 2, 3 (proven upper bounds for M, L, L_i; see proofs_numeric._pl). lhs = A(w) = |V_s(w) - vhat(w)|
computed from the definitions in mpmath (samples -> DFT; closed-form coefficients); rhs = the bound, transcribed
literally below. Adversarial part: scipy Nelder-Mead and hypothesis over the knot values of a 2s-piece PL
function, maximising A(w) / bound for given (s, w); the best candidates are re-evaluated at 50 digits. Cross-check:
errbound.bounds.discretization.lipschitz_mode_bound (helper code) must equal form (b).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
from flint import acb, arb, fmpq
import numpy as np

from proofs_numeric._cert import to_arb, workprec
from proofs_numeric._framework import Check, Context
from proofs_numeric._kappa import kappa, kappa_mp
from proofs_numeric._pl import PL, Separable, random_pl

ID = "D2"
TITLE = "Worst-case Lipschitz discretization upper bound"
STATEMENT = """\
**D2 (worst-case Lipschitz upper bound).** Let v: T^d -> R with |v| <= M. For every s >= 1 and w in Z^d:
(a) if v is L-Lipschitz (Euclidean), A(w) <= kappa_d sqrt(L^2 + (2 pi |w|_2 M)^2) / s
<= sqrt(d/12) (L + 2 pi |w|_2 M) / s;
(b) if |d v / d x_i| <= L_i a.e., A(w) <= (1/(4s)) sum_i sqrt(L_i^2 + (2 pi w_i M)^2);
(c) (bounded variation) if every section x_i -> v(x) has total variation <= V_i over a period (v equal to the
midpoint of its one-sided limits at jumps), A(w) <= (1/(2s)) sum_i (V_i + 4 |w_i| M).
At w = 0, (a) and (b) are attained (D3); (c) is attained in the limit by indicators of unions of cells."""


def bound_a(s, w, L, M, d, mp: bool = False):  # type: ignore[no-untyped-def]
    """D2(a): kappa_d sqrt(L^2 + (2 pi |w|_2 M)^2) / s."""
    if mp:
        w2 = mpmath.sqrt(mpmath.fsum(mpmath.mpf(int(x)) ** 2 for x in w))
        return kappa_mp(d, mpmath.mp.dps) * mpmath.sqrt(mpmath.mpf(L) ** 2 + (2 * mpmath.pi * w2 * mpmath.mpf(M)) ** 2) / s
    w2 = math.sqrt(sum(int(x) ** 2 for x in w))
    return kappa(d) * math.sqrt(L**2 + (2 * math.pi * w2 * M) ** 2) / s


def bound_a_loose(s, w, L, M, d):  # type: ignore[no-untyped-def]
    """D2(a), second inequality: sqrt(d/12) (L + 2 pi |w|_2 M) / s."""
    w2 = math.sqrt(sum(int(x) ** 2 for x in w))
    return math.sqrt(d / 12) * (L + 2 * math.pi * w2 * M) / s


def bound_b(s, w, L_axes, M, mp: bool = False):  # type: ignore[no-untyped-def]
    """D2(b): (1/(4s)) sum_i sqrt(L_i^2 + (2 pi w_i M)^2)."""
    if mp:
        return mpmath.fsum(mpmath.sqrt(mpmath.mpf(Li) ** 2 + (2 * mpmath.pi * int(wi) * mpmath.mpf(M)) ** 2)
                           for Li, wi in zip(L_axes, w)) / (4 * s)
    return sum(math.sqrt(Li**2 + (2 * math.pi * int(wi) * M) ** 2) for Li, wi in zip(L_axes, w)) / (4 * s)


def bound_c(s, w, V_axes, M):  # type: ignore[no-untyped-def]
    """D2(c): (1/(2s)) sum_i (V_i + 4 |w_i| M)."""
    return mpmath.fsum(mpmath.mpf(Vi) + 4 * abs(int(wi)) * mpmath.mpf(M) for Vi, wi in zip(V_axes, w)) / (2 * s)


def bound_a_arb(s, w, L, M, d):  # type: ignore[no-untyped-def]
    """D2(a) in Arb: kappa_d sqrt(L^2 + (2 pi |w|_2 M)^2) / s (L, M floats or balls, taken exactly)."""
    from proofs_numeric.c1_crossover import kappa_arb

    w2 = arb(sum(int(x) ** 2 for x in w))
    L, M = _ab(L), _ab(M)
    return kappa_arb(d) * (L * L + (2 * arb.pi() * M) ** 2 * w2).sqrt() / s


def bound_a_loose_arb(s, w, L, M, d):  # type: ignore[no-untyped-def]
    """D2(a), second inequality, in Arb: sqrt(d/12) (L + 2 pi |w|_2 M) / s."""
    w2 = arb(sum(int(x) ** 2 for x in w)).sqrt()
    return (arb(d) / 12).sqrt() * (_ab(L) + 2 * arb.pi() * w2 * _ab(M)) / s


def bound_b_arb(s, w, L_axes, M):  # type: ignore[no-untyped-def]
    """D2(b) in Arb: (1/(4s)) sum_i sqrt(L_i^2 + (2 pi w_i M)^2); exact (a Fraction) at w = 0."""
    if all(int(x) == 0 for x in w) and all(isinstance(x, float) for x in L_axes):
        return sum((abs(Fraction(x)) for x in L_axes), Fraction(0)) / (4 * s)
    tot = arb(0)
    for Li, wi in zip(L_axes, w):
        Li = _ab(Li)
        tot += (Li * Li + (2 * arb.pi() * int(wi) * _ab(M)) ** 2).sqrt()
    return tot / (4 * s)


def _ab(x):  # type: ignore[no-untyped-def]
    return x if isinstance(x, arb) else arb(float(x))


def _step_value(jumps: list[tuple[Fraction, Fraction]], x: Fraction) -> Fraction:
    """The step function sum_l h_l 1[a_l, b_l) at x (periodic; the midpoint value h_l / 2 on a jump), exactly."""
    tot = Fraction(0)
    for (a, b), h in jumps:
        xx = x % 1
        lo, hi = a % 1, b % 1
        inside = (lo < xx < hi) if lo < hi else (xx > lo or xx < hi)
        on_edge = xx in (lo, hi)
        tot += h * (Fraction(1, 2) if on_edge else (1 if inside else 0))
    return tot


def _step_error_arb(jumps: list[tuple[Fraction, Fraction]], s: int, n: int):  # type: ignore[no-untyped-def]
    """|F_s(n) - c(n)| of _step_error_mp as an Arb ball (samples exact rationals, coefficients in Arb)."""
    def q(x: Fraction) -> arb:
        return arb(fmpq(x.numerator, x.denominator))

    F = acb(0)
    for j in range(s):
        v = _step_value(jumps, Fraction(j, s))
        if v:
            F += q(v) * acb(q(Fraction(-2 * n * j, s))).exp_pi_i()
    F = F / s
    c = acb(0)
    for (a, b), h in jumps:
        if n == 0:
            c += q(h) * q(b - a)
        else:
            c += q(h) * acb(q(-n * (a + b))).exp_pi_i() * q(n * (b - a)).sin_pi() / (arb.pi() * n)
    return abs(F - c)


def _step_error_mp(jumps: list[tuple[Fraction, Fraction]], s: int, n: int) -> mpmath.mpf:
    """|F_s(n) - c(n)| for the step function sum_l h_l 1[a_l, b_l) (midpoint values at jumps), at working precision.

    c(n) = sum_l h_l e^{-i pi n (a+b)} sin(pi n (b-a)) / (pi n) (c(0) = sum h_l (b-a)); F_s(n) from exact samples."""
    samples = [_step_value(jumps, Fraction(j, s)) for j in range(s)]
    F = mpmath.fsum(mpmath.mpf(v.numerator) / v.denominator * mpmath.expjpi(mpmath.mpf(-2 * n * j) / s)
                    for j, v in enumerate(samples)) / s
    c = mpmath.mpc(0)
    for (a, b), h in jumps:
        am, bm = mpmath.mpf(a.numerator) / a.denominator, mpmath.mpf(b.numerator) / b.denominator
        hm = mpmath.mpf(h.numerator) / h.denominator
        c += hm * ((bm - am) if n == 0 else mpmath.expjpi(-n * (am + bm)) * mpmath.sinpi(n * (bm - am)) / (mpmath.pi * n))
    return abs(F - c)


def _pl_mean_exact(f: PL) -> Fraction:
    p = f.p_exact + [Fraction(1)]
    v = [Fraction(float(x)) for x in f.v]
    v = v + v[:1]
    return sum(((v[i] + v[i + 1]) / 2 * (p[i + 1] - p[i]) for i in range(len(f.p_exact))), Fraction(0))


def _modes(d: int, s: int, kmax: int) -> list[tuple[int, ...]]:
    k = min((s - 1) // 2, kmax)
    axis = range(-k, k + 1)
    grids = np.meshgrid(*([np.array(list(axis))] * d), indexing="ij")
    return [tuple(int(g) for g in t) for t in np.stack(grids, -1).reshape(-1, d)]


def _functions(ctx: Context, d: int, count: int) -> list[Separable]:
    rng = ctx.rng(100 + d)
    out = []
    for i in range(count):
        factors = [random_pl(rng, int(rng.choice([1, 2, 3, 4, 6, 9])) + 1, scale=float(rng.uniform(0.2, 3.0)), grid=64)
                   for _ in range(d)]
        out.append(Separable(factors, "product" if (d == 1 or i % 2 == 0) else "sum"))
    return out


def run(ctx: Context) -> dict:
    chk = Check(ID, TITLE, STATEMENT, kind="upper", rel_tol=1e-30,
                tol_reason="both sides in mpmath at >= 50 digits (errors below 1e-45 relative); 1e-30 leaves 15 digits of margin")
    chk.tightness_from("grid", "adversarial", "witness", "grid: bounded variation", "witness: bounded variation")
    plan = {1: ([3, 4, 5, 7, 8, 16, 31, 64], ctx.size(14, 60), 3),
            2: ([3, 4, 7, 8, 16], ctx.size(5, 24), 2),
            3: ([3, 4, 8], ctx.size(2, 8), 1)}
    with mpmath.workdps(ctx.dps):
        for d, (resolutions, count, kmax) in plan.items():
            for fi, fn in enumerate(_functions(ctx, d, count)):
                with workprec():
                    La_x, L_x, M_x = fn.lipschitz_exact_arb()
                # hypotheses: the declared constants are upper bounds of the exact ones (slopes, knot values)
                chk.case(None, fn.L, "hyp: declared L >= exact", cert=(L_x, fn.L), d=d, function=fi)
                chk.case(None, fn.M, "hyp: declared M >= exact", cert=(M_x, fn.M), d=d, function=fi)
                for i, (lx, ld) in enumerate(zip(La_x, fn.L_axes)):
                    chk.case(None, ld, "hyp: declared L_i >= exact", cert=(lx, ld), d=d, function=fi, axis=i)
                for s in resolutions:
                    for w in _modes(d, s, kmax):
                        with workprec():
                            Ab = fn.error_arb(s, w)
                            ba, bb = bound_a_arb(s, w, fn.L, fn.M, d), bound_b_arb(s, w, fn.L_axes, fn.M)
                            bl = bound_a_loose_arb(s, w, fn.L, fn.M, d)
                        info = {"d": d, "s": s, "w": list(w), "function": fi, "combine": fn.combine, "L": fn.L, "M": fn.M}
                        # values reported are the balls' midpoints (Arb replaced the slower mpmath evaluation)
                        chk.case(None, None, "grid", form="a", cert=(Ab, ba), **info)
                        chk.case(None, None, "grid", form="b", cert=(Ab, bb), **info)
                        chk.case(None, None, "loose", form="a-loose", cert=(Ab, bl), **info)

        # witnesses: the tent of slope L on every cell (d = 1) and the axis sum of tents (d = 2, 3)
        for d in (1, 2, 3):
            for s in ([2, 3, 4, 8, 16, 64] if d == 1 else [2, 3, 4, 8]):
                tent = PL([Fraction(j, 2 * s) for j in range(2 * s)], [0.0 if j % 2 == 0 else 1.0 / (2 * s) for j in range(2 * s)])
                slope = 1 / math.sqrt(d)
                fn = Separable([PL(tent.p_exact, tent.v * slope)] * d, "sum") if d > 1 else Separable([tent], "product")
                w = (0,) * d
                A = fn.error_mp(s, w)
                # exact: at w = 0, A = |mean of samples - mean| of PL factors, rationals; the per-axis slopes exact
                f0 = fn.f[0]
                A_x = abs(d * (sum((f0.eval_exact(Fraction(j, s)) for j in range(s)), Fraction(0)) / s
                               - _pl_mean_exact(f0))) if fn.combine == "sum" or d == 1 else None
                La_exact = [max(abs(x) for x in f.slopes_exact()) for f in fn.f]
                # the declared constants are the exact slopes rounded up by a few ulps (rigorous upper bounds, checked
                # against La_exact below), so the bound exceeds the attained error by ~1e-15: a certified order
                with workprec():
                    ba, bb = bound_a_arb(s, w, fn.L, fn.M, d), bound_b_arb(s, w, fn.L_axes, fn.M)
                chk.case(A, bound_b(s, w, fn.L_axes, fn.M, mp=True), "witness", form="b", d=d, s=s, w=list(w),
                         cert=(A_x, bb), function=f"axis-sum of tents, slope {slope:.4g}")
                chk.case(A, bound_a(s, w, fn.L, fn.M, d, mp=True), "witness", form="a", d=d, s=s, w=list(w),
                         cert=(A_x, ba), function=f"axis-sum of tents, slope {slope:.4g}")
                for i, (lx, ld) in enumerate(zip(La_exact, fn.L_axes)):
                    chk.case(float(lx), ld, "hyp: declared L_i >= exact", cert=(lx, ld), d=d, s=s, axis=i)

        # (c) bounded variation: sums of steps h 1[a, b) with rational ends (on and off the grid), d = 1
        rng = ctx.rng(8)
        for fi in range(ctx.size(10, 50)):
            nst = int(rng.integers(1, 4))
            jumps = []
            for _ in range(nst):
                a = Fraction(int(rng.integers(0, 64)), 64)
                b = a + Fraction(int(rng.integers(1, 40)), 64)
                jumps.append(((a, b), Fraction(int(rng.integers(-8, 9)) or 1, 4)))
            V = sum(2 * abs(float(h)) for _, h in jumps)  # each step contributes two jumps of size |h|
            M = sum(abs(float(h)) for _, h in jumps)      # sup |v| <= sum |h|
            for s in (3, 4, 7, 8, 16, 64):
                for w in range(0, min(3, (s - 1) // 2) + 1):
                    A = _step_error_mp(jumps, s, w)
                    with workprec():
                        Ab = _step_error_arb(jumps, s, w)
                    Vx = sum((2 * abs(h) for _, h in jumps), Fraction(0))
                    Mx = sum((abs(h) for _, h in jumps), Fraction(0))
                    bc = (Vx + 4 * abs(w) * Mx) / (2 * s)  # D2(c), exact
                    chk.case(A, bound_c(s, (w,), (V,), M), "grid: bounded variation", cert=(Ab, bc), s=s, w=[w], steps=nst)
        # near-sharpness of (c): indicator of [j/s - eps, j'/s + eps) (V = 2), A(0) -> 1/s
        for s in (4, 8, 32):
            for eps in (Fraction(1, 1000), Fraction(1, 10**6)):
                jumps = [((Fraction(1, s) - eps, Fraction(3, s) + eps), Fraction(1))]
                with workprec():
                    Ab = _step_error_arb(jumps, s, 0)
                chk.case(_step_error_mp(jumps, s, 0), bound_c(s, (0,), (2.0,), 1.0), "witness: bounded variation",
                         cert=(Ab, Fraction(2, 2 * s)), s=s, eps=str(eps))

    _adversarial(ctx, chk)
    _cross_check_helper(ctx, chk)
    if ctx.quick:
        chk.note("symbolic part (sympy derivation of kappa_2, quadrature of kappa_3) runs in the full mode only")
    else:
        _symbolic(chk)
    return chk.result()


def _adversarial(ctx: Context, chk: Check) -> None:
    """Maximise A(w)/bound over 2s-piece PL functions (knots j/(2s)) for d = 1, with scipy and hypothesis."""
    from hypothesis import strategies as st

    from proofs_numeric._search import hypothesis_max, scipy_max

    rng = ctx.rng(7)
    best_overall: tuple[float, dict] = (-1.0, {})
    # float64 scores: A and the bound are sums of <= 128 terms of size <= 1, relative error < 1e-13; candidates
    # are recorded with rel_tol 1e-9 and the best are re-evaluated at 50 digits.
    tol64 = 1e-9
    for s, w in [(8, 0), (8, 1), (8, 3), (16, 2), (5, 1), (32, 5)]:
        knots = np.arange(2 * s) / (2 * s)

        def score(vals: np.ndarray, s=s, w=w, knots=knots) -> float:  # type: ignore[no-untyped-def]
            fn = PL(knots, vals)
            if fn.L < 1e-100:
                return 0.0
            A = float(np.abs(fn.dft(s, np.array([w])) - fn.coef(np.array([w])))[0])
            b = bound_b(s, (w,), (fn.L,), fn.M)
            with workprec():
                cert = (abs(fn.dft_arb(s, w) - fn.coef_arb(w)), bound_b_arb(s, (w,), (fn.L,), fn.M))
            chk.case(A, b, "adversarial", rel_tol=tol64, cert=cert, s=s, w=[w], engine="float64")
            return A / b

        starts = [rng.uniform(-1, 1, 2 * s) for _ in range(ctx.size(2, 6))]
        starts.append(np.where(np.arange(2 * s) % 2 == 1, 1.0, 0.0) + 0.01 * rng.standard_normal(2 * s))  # near the tent
        starts.append(np.cos(2 * np.pi * (s - w) * knots))  # near the aliased cosine
        val, x = scipy_max(score, starts, seconds=ctx.search_budget / 6, maxfev=ctx.size(600, 4000))
        hval, hx = hypothesis_max(st.lists(st.floats(-1, 1, allow_subnormal=False), min_size=2 * s, max_size=2 * s).map(np.array), score,
                                  max_examples=ctx.size(60, 600), seconds=ctx.search_budget / 12, seed=ctx.seed + s)
        if hval > val:
            val, x = hval, hx
        if x is not None:
            with mpmath.workdps(ctx.dps):
                fn = PL(knots, np.asarray(x, dtype=np.float64))
                A = abs(fn.dft_mp(s, w) - fn.coef_mp(w))
                b = bound_b(s, (w,), (fn.L,), fn.M, mp=True)
                with workprec():
                    cert = (abs(fn.dft_arb(s, w) - fn.coef_arb(w)), bound_b_arb(s, (w,), (fn.L,), fn.M))
                chk.case(A, b, "adversarial", cert=cert, s=s, w=[w], engine="mpmath", values=[float(v) for v in x])
                chk.note(f"adversarial d=1 s={s} w={w}: best ratio {float(A / b):.6f} (scipy/hypothesis best {val:.6f})")


def _cross_check_helper(ctx: Context, chk: Check) -> None:
    """errbound.bounds.discretization.lipschitz_mode_bound must equal D2(b) (same statement, helper code)."""
    from errbound.bounds.discretization import lipschitz_mode_bound

    rng = ctx.rng(9)
    for _ in range(ctx.size(50, 300)):
        d = int(rng.integers(1, 4))
        s = int(rng.integers(3, 200))
        w = tuple(int(x) for x in rng.integers(-(s - 1) // 2, (s - 1) // 2 + 1, size=d))
        La = tuple(float(x) for x in rng.uniform(0, 5, d))
        M = float(rng.uniform(0.1, 3))
        mine = bound_b(s, w, La, M)
        theirs = float(np.asarray(lipschitz_mode_bound(s, np.array(w), La, M)).reshape(-1)[0])
        # same formula evaluated in float64 in a different order: relative difference <= ~10 ulps
        with workprec():
            exact = to_arb(bound_b_arb(s, w, La, M))
            cert = (abs(arb(theirs) - exact), exact * arb(10) ** -13)
        chk.case(abs(theirs - mine), 1e-13 * mine, "helper-equals-D2b", cert=cert, d=d, s=s, w=list(w))


def _symbolic(chk: Check) -> None:
    import sympy as sp

    x, y = sp.symbols("x y", nonnegative=True)
    k1 = 2 * sp.integrate(x, (x, 0, sp.Rational(1, 2)))
    # inner integral symbolically (sympy), outer one by mpmath quadrature of the sympy result at 60 digits
    inner = sp.simplify(4 * sp.integrate(sp.sqrt(x**2 + y**2), (x, 0, sp.Rational(1, 2))))
    f = sp.lambdify(y, inner, modules="mpmath")
    k2_closed = (sp.sqrt(2) + sp.log(1 + sp.sqrt(2))) / 6
    with mpmath.workdps(60):
        diff = mpmath.quad(f, [0, mpmath.mpf(1) / 2]) - sp.N(k2_closed, 60)
    from proofs_numeric._kappa import kappa3_quadrature

    k3_diff = abs(kappa3_quadrature(20) - kappa_mp(3, 20))
    chk.symbolic["kappa_3 (quadrature - closed form, 20 digits)"] = str(k3_diff)
    chk.symbolic["kappa_1"] = str(k1)
    chk.symbolic["kappa_2 (sympy integral - closed form, 60 digits)"] = str(diff)
    chk.symbolic["ratio paper/ours sqrt(d)/kappa_d"] = {d: float(math.sqrt(d) / kappa(d)) for d in (1, 2, 3)}
    if abs(float(diff)) > 1e-40 or k1 != sp.Rational(1, 4) or k3_diff > 1e-15:
        chk.case(1.0, 0.0, "symbolic", what="kappa closed forms disagree with sympy integrals")
    else:
        chk.case(0.0, 1.0, "symbolic", what="kappa_1 = 1/4 and kappa_2 closed form confirmed by sympy",
                 cert="an integral (quadrature) against a closed form of kappa_2, kappa_3: an equality of irrational "
                      "numbers, which ball arithmetic can enclose but not decide (kappa_1 = 1/4 is exact in sympy)")
