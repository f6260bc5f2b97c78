"""R1 (rounding model) checked on every format, every rounding mode and every binade.

Both sides literally: ``lhs = |round_to(x, fmt, mode) - x|`` and ``rhs`` the bound of R1 for the range of x.
The difference of x and its rounding is exact in float64 (both are float64 numbers within a factor two of
each other, or the rounding is 0, Sterbenz's lemma), and ``u |x|`` is a power-of-two scaling, exact
unless it underflows float64 (never: the formats' ranges are far inside float64's); a sample is
re-checked with mpmath at ``ctx.dps`` digits. The adversarial part searches with hypothesis for the
largest relative error (the theory says: ties, ratio u/(1+u) / (u/(1+u)) = 1).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np

from proofs_numeric._framework import Check, Context

ID = "R1"
TITLE = "Rounding model of round_to (relative error u/(1+u), subnormal absolute error)"
STATEMENT = """\
**R1 (rounding model).** Let F be a format with precision t, u = 2^-t, normal exponent range [emin, emax],
and let x be a real number with |x| <= max(F). Write fl(x) for round_to(x, F, mode).
(a) Round to nearest (rne, rna): if |x| >= 2^emin then |fl(x) - x| <= u/(1+u) |x|.
(b) Round to nearest, any |x| <= max(F): |fl(x) - x| <= u/(1+u) |x| + eta_F, where eta_F = 2^(emin-t) if F
has subnormals and eta_F = 2^(emin-1) otherwise; with subnormals the error is in fact at most
max(u/(1+u) |x|, 2^(emin-t)).
(c) Directed and stochastic rounding (rz, ru, rd, sr): |fl(x) - x| < 2u |x| if |x| >= 2^emin, and
|fl(x) - x| < 2^(emin-t+1) (2^emin without subnormals) otherwise."""

FORMATS = ("fp32", "tf32", "fp16", "bf16", "fp8_e5m2", "fp8_e4m3fn", "fp8_e4m3", "t5emax7", "t3emax3_nosub")
MODES = ("rne", "rna", "rz", "ru", "rd", "sr")


def bound(x: np.ndarray, fmt, mode: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The right-hand side of R1 for each x (literal transcription)."""
    u = fmt.u
    ax = np.abs(x)
    normal = ax >= fmt.min_normal
    if mode in ("rne", "rna"):
        eta = 2.0 ** (fmt.emin - fmt.t) if fmt.subnormals else 2.0 ** (fmt.emin - 1)
        rel = u / (1 + u) * ax
        if fmt.subnormals:
            return np.where(normal, rel, np.maximum(rel, eta))
        return np.where(normal, rel, rel + eta)
    sub = 2.0 ** (fmt.emin - fmt.t + 1) if fmt.subnormals else 2.0 ** fmt.emin
    return np.where(normal, 2 * u * ax, sub)


def bound_exact(x: float, fmt, mode: str) -> Fraction:  # type: ignore[no-untyped-def]
    """The right-hand side of R1 as an exact rational (the certified side; :func:`bound` is its float64 value)."""
    u = Fraction(fmt.u)
    ax = abs(Fraction(float(x)))
    normal = ax >= Fraction(fmt.min_normal)
    if mode in ("rne", "rna"):
        eta = Fraction(2) ** (fmt.emin - fmt.t) if fmt.subnormals else Fraction(2) ** (fmt.emin - 1)
        rel = u / (1 + u) * ax
        if normal:
            return rel
        return max(rel, eta) if fmt.subnormals else rel + eta
    sub = Fraction(2) ** (fmt.emin - fmt.t + 1) if fmt.subnormals else Fraction(2) ** fmt.emin
    return 2 * u * ax if normal else sub


def certify(x: np.ndarray, r: np.ndarray, fmt, mode: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Exact verdict of |r - x| <= R1's bound for float64 arrays, vectorised (True = certified).

    (1) |r - x| is exact in float64 iff TwoSum's error term of r - x is 0 (Knuth's error-free transformation).
    (2) Round to nearest, normal range: |r - x| <= u/(1+u) |x|  <=>  lhs 2^t + lhs <= |x| (u = 2^-t); with
        (S, e) = TwoSum(lhs 2^t, lhs) (S + e exact, S = fl(S + e)): S < |x|, or S == |x| and e <= 0, decides it
        exactly (floats between S and |x| are at least a spacing apart, |e| is at most half of one).
    (3) Below 2^emin with subnormals the bound is max(u/(1+u)|x|, eta_F): lhs <= eta_F exactly, or (2).
    (4) Directed modes: 2u|x| and the subnormal constants are exact powers-of-two scalings: a float comparison.
    Cases left undecided (no-subnormal formats below 2^emin) are decided with Fractions by the caller."""
    x = np.asarray(x, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    d = r - x
    bb = d - r
    err = (r - (d - bb)) + (-x - bb)
    exact = np.isfinite(d) & (err == 0)
    lhs = np.abs(d)
    ax = np.abs(x)
    normal = ax >= fmt.min_normal
    if mode in ("rne", "rna"):
        a = np.ldexp(lhs, fmt.t)
        S = a + lhs
        bv = S - a
        e = (a - (S - bv)) + (lhs - bv)
        rel_ok = (S < ax) | ((S == ax) & (e <= 0))
        if fmt.subnormals:
            eta = 2.0 ** (fmt.emin - fmt.t)
            ok = np.where(normal, rel_ok, rel_ok | (lhs <= eta))
        else:
            ok = np.where(normal, rel_ok, False)  # rel + eta: undecided here (Fractions)
    else:
        sub = 2.0 ** (fmt.emin - fmt.t + 1) if fmt.subnormals else 2.0 ** fmt.emin
        ok = np.where(normal, lhs <= 2 * fmt.u * ax, lhs <= sub)
    return exact & ok


def _samples(fmt, rng: np.random.Generator, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Values spread over every binade of fmt (subnormal range included), ties and near-ties included."""
    lo = fmt.emin - fmt.t - 1
    hi = int(math.floor(math.log2(fmt.max)))
    e = rng.integers(lo, hi + 1, size=n)
    m = rng.uniform(1.0, 2.0, size=n)
    x = np.ldexp(m, e)
    # exact midpoints between neighbours (ties) and values one float64 ulp away from them
    k = n // 4
    q = np.maximum(e[:k], fmt.emin) - (fmt.t - 1)
    grid = np.floor(x[:k] / np.ldexp(1.0, q))
    ties = np.ldexp(grid + 0.5, q)
    x[:k] = ties
    x[k : 2 * k] = np.nextafter(ties, np.where(rng.random(k) < 0.5, 0.0, np.inf))
    x = np.where(rng.random(n) < 0.5, -x, x)
    return x[(np.abs(x) <= fmt.max) & (x != 0)]


def run(ctx: Context) -> dict:
    from errbound.formats import get_format
    from errbound.rounding import round_to

    from proofs_numeric._search import hypothesis_max

    chk = Check(ID, TITLE, STATEMENT, kind="upper", rel_tol=0.0,
                tol_reason="both sides are computed exactly in float64 (Sterbenz; power-of-two scalings): no tolerance; "
                           "certified by exact comparison (TwoSum exactness, exact rationals)")
    chk.tightness_from("grid", "adversarial")
    rng = ctx.rng(1)
    n = ctx.size(4000, 40000)
    for name in FORMATS:
        fmt = get_format(name)
        x = _samples(fmt, rng, n)
        for mode in MODES:
            r = round_to(x, fmt, mode, rng=rng if mode == "sr" else None)
            lhs = np.abs(r - x)  # exact (module docstring)
            rhs = bound(x, fmt, mode)
            cert = certify(x, r, fmt, mode)
            for i in np.flatnonzero(~cert):  # the few undecided cases: exact rationals
                cert[i] = Fraction(float(r[i])) - Fraction(float(x[i])) <= bound_exact(x[i], fmt, mode) and \
                    Fraction(float(x[i])) - Fraction(float(r[i])) <= bound_exact(x[i], fmt, mode)
            chk.cases(lhs, rhs, "grid", info=lambda i, x=x, name=name, mode=mode: {"format": name, "mode": mode, "x": float(x[i])},
                      cert=cert, cert_reason="exact comparison failed: |fl(x) - x| > bound (a certified violation)")
            if not cert.all():
                chk._force_violation("grid", 1.0, 0.0, {"format": name, "mode": mode, "certified": "violation"})
        # (a) alone, normal range, against the *unsharpened* u |x| as well: ties attain u/(1+u) exactly
    # mpmath re-check of a sample (independent of the float64 exactness argument)
    with mpmath.workdps(ctx.dps):
        for name in FORMATS[:5]:
            fmt = get_format(name)
            x = _samples(fmt, rng, ctx.size(60, 400))
            for mode in ("rne", "rz"):
                r = round_to(x, fmt, mode)
                b = bound(x, fmt, mode)
                for xi, ri, bi in zip(x, r, b):
                    chk.case(abs(mpmath.mpf(ri) - mpmath.mpf(xi)), mpmath.mpf(bi), "mpmath",
                             cert=(abs(Fraction(float(ri)) - Fraction(float(xi))), bound_exact(xi, fmt, mode)),
                             format=name, mode=mode, x=float(xi))

    # adversarial: hypothesis targets the ratio |fl(x) - x| / bound over arbitrary floats
    from hypothesis import strategies as st

    def score(args) -> float:  # type: ignore[no-untyped-def]
        name, mode, x = args
        fmt = get_format(name)
        if not (0 < abs(x) <= fmt.max):
            return -1.0
        r = float(round_to(np.float64(x), fmt, mode, rng=0 if mode == "sr" else None))
        lhs, rhs = abs(r - x), float(bound(np.array([x]), fmt, mode)[0])
        chk.case(lhs, rhs, "adversarial", cert=(abs(Fraction(r) - Fraction(x)), bound_exact(x, fmt, mode)),
                 format=name, mode=mode, x=x)
        return lhs / rhs
    strat = st.tuples(st.sampled_from(FORMATS), st.sampled_from(MODES), st.floats(allow_nan=False, allow_infinity=False, min_value=-7e4, max_value=7e4))
    best, ex = hypothesis_max(strat, score, max_examples=ctx.size(300, 3000), seconds=ctx.search_budget, seed=ctx.seed)
    chk.note(f"hypothesis search: best ratio {best:.6g} at {ex}")
    # the known worst case: a tie 1 + u in round-to-nearest (relative error exactly u/(1+u))
    for name in FORMATS:
        fmt = get_format(name)
        x = 1 + fmt.u
        r = float(round_to(np.float64(x), fmt, "rne"))
        chk.case(abs(r - x), float(bound(np.array([x]), fmt, "rne")[0]), "adversarial",
                 cert=(abs(Fraction(r) - Fraction(x)), bound_exact(x, fmt, "rne")), format=name, mode="rne", x=x, kind="tie 1+u")
    return chk.result()
