"""R2 (emulated arithmetic): every errbound.arith operation against exact rational arithmetic.

lhs/rhs literal: the exact result z of a op b (or a b + c) as a Fraction (exact, stronger than any fixed
precision), |fl(z) - z| <= u/(1+u) |z| when 2^emin <= |z| <= max(F); exactness when z is representable; recursive
and pairwise sums against gamma bounds with exact Fraction sums. Adversarial: hypothesis searches summands that
maximise the error/bound ratio of the recursive sum.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from proofs_numeric._framework import Check, Context

ID = "R2"
TITLE = "Emulated arithmetic: correctly rounded operations and summation bounds"
STATEMENT = """\
**R2 (emulated arithmetic).** Let a, b, c be numbers of F, op in {+, -, x, /} and fl the emulated operation
of errbound.arith (rne). If the exact result z = a op b (or z = a b + c for fma) satisfies
2^emin <= |z| <= max(F), then |fl(z) - z| <= u/(1+u) |z|; if the exact result is representable, fl returns it
exactly. For the recursive sum s_n = (((0 + x_1) + x_2) + ...) + x_n computed in F (no overflow, no
underflow), |fl(s_n) - s_n| <= gamma_(n-1) sum_i |x_i|; for the pairwise order,
|fl(s_n) - s_n| <= gamma_(ceil(log2 n)) sum_i |x_i|."""

FORMATS = ("fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2", "tf32", "fp32")


def _gamma(n: int, u: Fraction) -> Fraction:
    return n * u / (1 - n * u)


def run(ctx: Context) -> dict:
    from errbound import arith
    from errbound.formats import get_format
    from errbound.rounding import round_to

    chk = Check(ID, TITLE, STATEMENT, kind="upper", rel_tol=0.0, tol_reason="both sides exact (Fractions)")
    chk.tightness_from("ops", "recursive sum", "pairwise sum", "adversarial sum")
    rng = ctx.rng(2)
    n_ops = ctx.size(300, 2000)
    for name in FORMATS:
        fmt = get_format(name)
        u = Fraction(1, 2**fmt.t)
        lo, hi = Fraction(2) ** fmt.emin, fmt.max_exact
        e = rng.integers(fmt.emin, min(fmt.emax, fmt.emin + 40) if fmt.emax - fmt.emin > 60 else fmt.emax - 2, size=(3, n_ops))
        vals = round_to(rng.uniform(1, 2, (3, n_ops)) * np.ldexp(1.0, e) * rng.choice([-1, 1], (3, n_ops)), fmt)
        if fmt.emax - fmt.emin > 60:  # keep operands in a window where products stay in range
            vals = round_to(rng.uniform(-4, 4, (3, n_ops)) * 2.0 ** rng.integers(-8, 8, (3, n_ops)), fmt)
        a, b, c = vals
        results = {
            "add": (arith.add(a, b, fmt), lambda x, y, z: x + y),
            "sub": (arith.sub(a, b, fmt), lambda x, y, z: x - y),
            "mul": (arith.mul(a, b, fmt), lambda x, y, z: x * y),
            "div": (arith.div(a, np.where(b == 0, 1.0, b), fmt), lambda x, y, z: x / (y if y != 0 else 1)),
            "fma": (arith.fma(a, b, c, fmt), lambda x, y, z: x * y + z),
        }
        for op, (out, exact_fn) in results.items():
            for i in range(n_ops):
                z = exact_fn(Fraction(float(a[i])), Fraction(float(b[i])), Fraction(float(c[i])))
                r = out[i]
                if not np.isfinite(r) or abs(z) > hi:
                    continue
                rep = Fraction(float(round_to(np.float64(float(z)), fmt))) == z if z == Fraction(float(z)) else False
                if rep:
                    chk.case(abs(Fraction(float(r)) - z), Fraction(0), "exact when representable", format=name, op=op,
                             a=float(a[i]), b=float(b[i]))
                if abs(z) >= lo:
                    chk.case(abs(Fraction(float(r)) - z), u / (1 + u) * abs(z), "ops", format=name, op=op,
                             a=float(a[i]), b=float(b[i]), c=float(c[i]))
        # sums
        for n in (2, 3, 8, 33, 128) if ctx.quick else (2, 3, 5, 8, 17, 33, 64, 128, 512):
            for trial in range(ctx.size(4, 12)):
                x = round_to(rng.uniform(0.5, 1.0, n) * rng.choice([1, 1, 1, -1], n) * 2.0 ** rng.integers(-3, 3, n), fmt)
                ex = sum(Fraction(float(v)) for v in x)
                s1 = sum(abs(Fraction(float(v))) for v in x)
                if n * u >= 1 or s1 * (1 + _gamma(n, u)) > hi:
                    continue
                for order, k in (("recursive", n - 1), ("pairwise", (n - 1).bit_length())):
                    if k * u >= 1:
                        continue
                    got = float(arith.sum_(x, fmt, order=order))
                    chk.case(abs(Fraction(got) - ex), _gamma(k, u) * s1, f"{order} sum", format=name, n=n)
    _adversarial(ctx, chk)
    return chk.result()


def _adversarial(ctx: Context, chk: Check) -> None:
    from hypothesis import strategies as st

    from errbound import arith
    from errbound.formats import get_format
    from errbound.rounding import round_to

    from proofs_numeric._search import hypothesis_max

    fmt = get_format("fp16")
    u = Fraction(1, 2**fmt.t)

    def score(xs) -> float:  # type: ignore[no-untyped-def]
        x = round_to(np.asarray(xs, dtype=np.float64), fmt)
        s1 = sum(abs(Fraction(float(v))) for v in x)
        if s1 == 0 or s1 > 60000:
            return 0.0
        ex = sum(Fraction(float(v)) for v in x)
        got = Fraction(float(arith.sum_(x, fmt)))
        b = _gamma(len(x) - 1, u) * s1
        chk.case(abs(got - ex), b, "adversarial sum", format="fp16", n=len(x), x=[float(v) for v in x])
        return float(abs(got - ex) / b)

    best, ex = hypothesis_max(st.lists(st.floats(-2, 2, allow_subnormal=False), min_size=2, max_size=8), score,
                              max_examples=ctx.size(200, 3000), seconds=ctx.search_budget / 2, seed=ctx.seed)
    # the classical worst case: x_1 = 1, then n-1 summands of u(1 + 2u) each rounding up... here: 1 + u ties
    x = [1.0] + [float(2.0**-11)] * 7
    score(x)
    chk.note(f"adversarial recursive fp16 sums: best error/bound {best:.4f} at {ex}")
