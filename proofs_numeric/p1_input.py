"""P1 (input rounding) checked per mode and in l^2, every format, d = 1, 2, with tie witnesses.

lhs: |V^_s(w) - V_s(w)| where V^_s is the exact DFT of the rounded samples: computed as the exact DFT of the
rounding errors (v^_j - v_j, exact in float64 by Sterbenz) in mpmath at 50 digits for small grids, and with
float64 FFTs (error < 1e-13 relative of sum|err|, far below the bounds' scale) for large ones. rhs: the bound of
P1 transcribed literally. Witnesses: all samples at a rounding tie 2^e (1 + u) rounded down (ratio 1 at w = 0).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
from flint import arb

from proofs_numeric._cert import abs_upper, dft_enclosure, lower, workprec
from proofs_numeric._framework import Check, Context

ID = "P1"
TITLE = "Input-rounding precision bound (uniform in s and w)"
STATEMENT = """\
**P1 (input rounding).** Let v_j be real data with |v_j| <= max(F), v^_j = fl(v_j) (rne or rna), and
V^_s the exact forward-normalized DFT of the rounded data. For every w,
|V^_s(w) - V_s(w)| <= m^-1 sum_j |v^_j - v_j| <= u/(1+u) m^-1 sum_j |v_j| + eta_F <= u M + eta_F,
and in the l^2 norm over all m modes ||V^_s - V_s||_2 <= u/(1+u) m^-1/2 ||v||_2 + eta_F.
The per-mode bound is attained at w = 0 when every v_j is a rounding tie rounded the same way."""

FORMATS = ("fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2", "tf32", "fp32")


def eta(fmt) -> float:  # type: ignore[no-untyped-def]
    return 2.0 ** (fmt.emin - fmt.t) if fmt.subnormals else 2.0 ** (fmt.emin - 1)


def run(ctx: Context) -> dict:
    from errbound.formats import get_format
    from errbound.rounding import round_to

    chk = Check(ID, TITLE, STATEMENT, kind="upper", rel_tol=1e-12,
                tol_reason="mpmath sides exact to 1e-45; float64 FFT sides accurate to < 1e-13 relative (n <= 2^16)")
    chk.tightness_from("per-mode", "tie witness")
    rng = ctx.rng(21)
    with mpmath.workdps(ctx.dps):
        for name in FORMATS:
            fmt = get_format(name)
            u = fmt.u
            for d, sizes in ((1, [8, 16, 64, 256, 1024]), (2, [8, 16, 64])):
                for s in sizes:
                    for kind in ("smooth", "random", "tiny") if ctx.size(1, 0) == 0 else ("smooth", "random"):
                        shape = (s,) * d
                        if kind == "smooth":
                            x = np.indices(shape).sum(axis=0) / s
                            v = np.exp(np.sin(2 * np.pi * x) * rng.uniform(0.5, 2)) * rng.uniform(0.1, 10)
                        elif kind == "random":
                            v = rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 2)
                        else:
                            v = rng.standard_normal(shape) * fmt.min_normal  # subnormal range: the eta term
                        v = np.clip(v, -fmt.max, fmt.max)
                        vr = round_to(v, fmt)
                        err = vr - v  # exact (Sterbenz)
                        m = v.size
                        # certified sides: the DFT of the (exact) error vector in Arb, the bounds in Arb from the
                        # exact data; a case is certified when the upper end of |V^ - V| is below the lower end
                        with workprec():
                            Eb = dft_enclosure(err)
                            E_hi = abs_upper(Eb) / m  # m is a power of two: exact division of the rounded-up end
                            absv = arb(0)
                            sq = arb(0)
                            for a in v.ravel():
                                absv += abs(arb(float(a)))
                                sq += arb(float(a)) ** 2
                            rhs_b = arb(u) / (1 + arb(u)) * absv / m + arb(eta(fmt))
                            rhs_um = arb(u) * arb(float(np.max(np.abs(v)))) + arb(eta(fmt))
                            l2_b = sum((abs(z) ** 2 for z in Eb.ravel()), arb(0)).sqrt() / m
                            rhs_l2 = arb(u) / (1 + arb(u)) * sq.sqrt() / arb(m).sqrt() + arb(eta(fmt))
                        if m <= 256:
                            # exact DFT of the error vector at 50 digits, every mode of a small box
                            flat = [mpmath.mpf(float(e)) for e in err.ravel()]
                            idx = list(np.ndindex(*shape))
                            for w in [(0,) * d, (1,) + (0,) * (d - 1), tuple([s // 3] * d)]:
                                V = mpmath.fsum(e * mpmath.expjpi(-2 * mpmath.mpf(sum(a * b for a, b in zip(w, j)) % s) / s)
                                                for e, j in zip(flat, idx)) / m
                                rhs = mpmath.mpf(u) / (1 + u) * mpmath.fsum(abs(mpmath.mpf(float(a))) for a in v.ravel()) / m + eta(fmt)
                                with workprec():
                                    encl = abs(Eb[tuple(wi % s for wi in w)]) / m
                                chk.case(abs(V), rhs, "per-mode", rel_tol=1e-30, cert=(encl, rhs_b),
                                         format=name, d=d, s=s, w=list(w), data=kind)
                        E = np.abs(np.fft.fftn(err) / m)
                        rhs = u / (1 + u) * np.mean(np.abs(v)) + eta(fmt)
                        chk.cases(E, np.full(E.shape, rhs), "per-mode", info=lambda i, name=name, d=d, s=s, kind=kind:
                                  {"format": name, "d": d, "s": s, "mode_index": int(i), "data": kind},
                                  cert=E_hi.ravel() <= lower(rhs_b), cert_reason="Arb enclosures overlap")
                        chk.cases(E, np.full(E.shape, u * np.max(np.abs(v)) + eta(fmt)), "per-mode, u M form",
                                  cert=E_hi.ravel() <= lower(rhs_um), cert_reason="Arb enclosures overlap")
                        l2 = np.linalg.norm(np.fft.fftn(err) / m)
                        chk.case(l2, u / (1 + u) * np.linalg.norm(v) / np.sqrt(m) + eta(fmt), "l2",
                                 cert=(l2_b, rhs_l2), format=name, d=d, s=s)
            # tie witness: v_j = 2^e (1 + u), all rounded down to 2^e by rne (even significand)
            for e in (-3, 0, 5):
                for s in (8, 64, 512):
                    v = np.full(s, 2.0**e * (1 + u))
                    vr = round_to(v, fmt)
                    V0 = abs(np.mean(vr - v))
                    exact_lhs = abs(sum((Fraction(float(a)) - Fraction(float(b)) for a, b in zip(vr, v)), Fraction(0))) / s
                    exact_rhs = Fraction(u) / (1 + Fraction(u)) * sum((abs(Fraction(float(b))) for b in v), Fraction(0)) / s
                    chk.case(V0, u / (1 + u) * np.mean(np.abs(v)) + 0.0, "tie witness", cert=(exact_lhs, exact_rhs),
                             format=name, s=s, e=e)
    _cross_check(ctx, chk)
    return chk.result()


def _cross_check(ctx: Context, chk: Check) -> None:
    """The helper's input_rounding_bound (u M + tau) must be >= our sharper bound (it is the u M + eta_F form)."""
    from errbound.bounds.precision import input_rounding_bound

    from errbound.formats import get_format

    for name in FORMATS:
        fmt = get_format(name)
        for M in (1e-3, 1.0, 100.0):
            theirs = input_rounding_bound(M, fmt)
            ours = Fraction(fmt.u) / (1 + Fraction(fmt.u)) * Fraction(M) + Fraction(eta(fmt))
            chk.case(fmt.u / (1 + fmt.u) * M + eta(fmt), theirs, "helper bound >= ours", cert=(ours, theirs),
                     format=name, M=M)
