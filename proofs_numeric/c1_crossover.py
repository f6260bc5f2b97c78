"""C1 (crossover resolution s* and "asymptotically comparable"): closed forms against root finding, at 50 digits.

(a) For each (format, d, L/M, c, a): s* from C1's closed form (a = 0: L kappa_d/(c u M); a > 0: the Lambert-W
formula, mpmath.lambertw) against the root of f(s) = L kappa_d/s - c u M (1 + a d log2 s) found by bisection at 50
digits (identity), and the sign of f on a grid of s on both sides of s* (f >= 0 exactly for s <= s*).
(b) sympy: the Lambert-W solution solves the equation symbolically; s* u -> L kappa_d/(c M) for a = 0; for a > 0,
s* u ln(1/u) / (L kappa_d ln 2/(c M a d)) -> 1, evaluated at u = 2^-11 ... 2^-4000.
Realised by witnesses: A*(s) is attained by D3's T_s and P1's bound by rounding ties, so for P1 (c = 1, a = 0) s*
separates the worst cases themselves, not just two bounds.
"""

from __future__ import annotations

import math

from fractions import Fraction

import mpmath
from flint import arb

from proofs_numeric._cert import workprec
from proofs_numeric._framework import Check, Context
from proofs_numeric._kappa import kappa_mp

ID = "C1"
TITLE = "Crossover resolution s* and the 'asymptotically comparable' theorem"
STATEMENT = """\
**C1 (crossover resolution and "asymptotically comparable").** Fix d, a format F and constants L, M > 0
(the class of L-Lipschitz inputs with |v| <= M, M >= L sqrt(d)/(2s) so that D3's witness belongs to it). Let
A*(s) = sup over the class of A(v, 0; s) = L kappa_d / s (D2(a) and D3(a)) and let P*(s) = c u M (1 + a log2 s^d)
be a precision bound of the form of P1 (a = 0, c = 1), P4 or P5 (a > 0). Then:
(a) A*(s) >= P*(s) exactly for s <= s*, where s* is the unique solution of L kappa_d / s = c u M (1 + a d log2 s),
explicitly s* = (L kappa_d) / (c u M) for a = 0 and, for a > 0,
s* = exp( W( (L kappa_d ln 2 / (c u M a d)) e^(ln 2 / (a d)) ) - ln 2 / (a d) ) with W the principal Lambert function;
(b) (asymptotically comparable) A*(s) = Theta(1/s) while P*(s) = O(u log s). As u -> 0: s* u = L kappa_d / (c M)
exactly when a = 0, and s* ~ L kappa_d ln 2 / (c u M a d ln(1/u)) when a > 0 (so s* = Theta(L / (u M log(1/u))))."""


def s_star(L, M, u, c, a, d):  # type: ignore[no-untyped-def]
    """C1(a) closed form (mpmath, current precision)."""
    K = mpmath.mpf(L) * kappa_mp(d, mpmath.mp.dps) / (mpmath.mpf(c) * mpmath.mpf(u) * mpmath.mpf(M))
    if a == 0:
        return K
    ln2 = mpmath.log(2)
    b = mpmath.mpf(a) * d / ln2
    z = mpmath.lambertw(K / b * mpmath.exp(1 / b)).real
    return mpmath.exp(z - 1 / b)


def f(s, L, M, u, c, a, d):  # type: ignore[no-untyped-def]
    """A*(s) - P*(s) = L kappa_d / s - c u M (1 + a d log2 s)."""
    s = mpmath.mpf(s)
    return mpmath.mpf(L) * kappa_mp(d, mpmath.mp.dps) / s - mpmath.mpf(c) * mpmath.mpf(u) * mpmath.mpf(M) * (1 + mpmath.mpf(a) * d * mpmath.log(s, 2))


def kappa_arb(d: int) -> arb:
    """kappa_d in Arb from its closed forms (proofs_numeric/_kappa.py)."""
    if d == 1:
        return arb(1) / 4
    if d == 2:
        r2 = arb(2).sqrt()
        return (r2 + (1 + r2).log()) / 6
    r3 = arb(3).sqrt()
    return (6 * r3 + 12 * (2 + r3).log() - arb.pi()) / 48


def s_star_arb(L, M, u, c, a, d) -> arb:  # type: ignore[no-untyped-def]
    """C1(a) closed form in Arb (L, M, u, c, a floats taken exactly)."""
    K = arb(L) * kappa_arb(d) / (arb(c) * arb(u) * arb(M))
    if a == 0:
        return K
    b = arb(a) * d / arb(2).log()
    z = (K / b * (1 / b).exp()).lambertw()
    return (z - 1 / b).exp()


def f_arb(s: arb, L, M, u, c, a, d) -> arb:  # type: ignore[no-untyped-def]
    """A*(s) - P*(s) = L kappa_d / s - c u M (1 + a d log2 s), in Arb."""
    return arb(L) * kappa_arb(d) / s - arb(c) * arb(u) * arb(M) * (1 + arb(a) * d * s.log() / arb(2).log())


def run(ctx: Context) -> dict:
    from errbound.formats import get_format

    chk = Check(ID, TITLE, STATEMENT, kind="identity", rel_tol=0.0,
                tol_reason="closed form vs bisection root at 50 digits: allowance 1e-35 s*")
    chk.tightness_from("closed form = root")
    with mpmath.workdps(ctx.dps):
        for name in ("fp16", "bf16", "fp32", "fp8_e4m3fn", "tf32"):
            u = get_format(name).u
            for d in (1, 2, 3):
                for LM in ((1.0, 1.0), (10.0, 1.0), (1.0, 4.0), (2 * math.pi, 1.0)) + (() if ctx.quick else (
                        (0.5, 1.0), (3.0, 2.0), (100.0, 1.0), (1.0, 0.01), (7.25, 3.5), (1.0, 1000.0), (0.1, 0.1),
                        (1e3, 1e-2))):
                    for c, a in ((1.0, 0.0), (1.0, 0.5), (2.5, 1.0), (5.83, 2 * 4.93)):
                        L, M = LM
                        ss = s_star(L, M, u, c, a, d)
                        lo, hi = mpmath.mpf("1e-6"), ss * 4 + 10
                        for _ in range(400):  # bisection on the monotone f
                            mid = (lo + hi) / 2
                            if f(mid, L, M, u, c, a, d) >= 0:
                                lo = mid
                            else:
                                hi = mid
                            if hi - lo < ss * mpmath.mpf(10) ** (-45):
                                break
                        info = {"format": name, "d": d, "L": L, "M": M, "c": c, "a": a, "s_star": float(ss)}
                        # certificate: f is strictly decreasing, so f(s*(1 - 1e-35)) > 0 > f(s*(1 + 1e-35)) (Arb) puts the
                        # root within 1e-35 s* of the closed form: |root - s*| <= allowance, certified
                        with workprec():
                            sa = s_star_arb(L, M, u, c, a, d)
                            tol = arb(10) ** -35
                            left = f_arb(sa * (1 - tol), L, M, u, c, a, d)
                            right = f_arb(sa * (1 + tol), L, M, u, c, a, d)
                            root_ok = left > 0 and right < 0
                        chk.case(abs(lo - ss), ss * mpmath.mpf(10) ** (-35), "closed form = root",
                                 cert=True if root_ok else "sign change of f not certified within 1e-35 s*", **info)
                        # sign of A* - P* on both sides: f >= 0 <=> s <= s* (certified: the sign of f at s* fac in Arb)
                        for fac in ((0.25, 0.5, 0.9, 0.999, 1.001, 1.1, 2.0, 8.0) if ctx.quick else
                                    (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0001, 1.001, 1.01, 1.1, 1.5,
                                     2.0, 8.0, 100.0)):
                            sv = ss * fac
                            good = (f(sv, L, M, u, c, a, d) >= 0) == (sv <= ss)
                            with workprec():
                                fv = f_arb(sa * arb(fac), L, M, u, c, a, d)
                                cert_ok = (fv > 0) if fac < 1 else (fv < 0)
                            chk.case(0.0 if good else 1.0, 0.0, "sign of A* - P*", factor=fac,
                                     cert=True if cert_ok else "sign of f(s* fac) not decided in Arb", **info)
        # (b) asymptotics
        L, M, c, d = 1.0, 1.0, 1.0, 2
        for a in (0.0, 0.5, 2.0):
            ratios = []
            for e in (11, 24, 53, 113, 400, 4000):
                u = mpmath.mpf(2) ** -e
                ss = s_star(L, M, u, c, a, d)
                if a == 0:
                    target = mpmath.mpf(L) * kappa_mp(d, mpmath.mp.dps) / (c * M)
                    with workprec():
                        ua = arb(2) ** -e
                        ta = arb(L) * kappa_arb(d) / (arb(c) * arb(M))
                        diff = abs(s_star_arb(L, M, ua, c, a, d) * ua - ta)
                        cert = (diff, ta * arb(10) ** -40)
                    chk.case(abs(ss * u - target), target * mpmath.mpf(10) ** (-40), "b: s* u = L kappa/(c M)", cert=cert, e=e)
                else:
                    target = mpmath.mpf(L) * kappa_mp(d, mpmath.mp.dps) * mpmath.log(2) / (c * M * a * d)
                    ratios.append(float(ss * u * mpmath.log(1 / u) / target))
            if ratios:
                chk.note(f"a={a}: s* u ln(1/u) / (L kappa ln2/(c M a d)) at u=2^-11..2^-4000: {[round(r, 4) for r in ratios]}")
                # the ratio tends to 1 monotonically: |ratio - 1| decreases and is < 0.05 at u = 2^-4000
                dec = all(abs(ratios[i + 1] - 1) <= abs(ratios[i] - 1) for i in range(len(ratios) - 1))
                with workprec():
                    ra = []
                    for e in (11, 24, 53, 113, 400, 4000):
                        ua = arb(2) ** -e
                        ta = arb(L) * kappa_arb(d) * arb(2).log() / (arb(c) * arb(M) * arb(a) * d)
                        ra.append(abs(s_star_arb(L, M, ua, c, a, d) * ua * (1 / ua).log() / ta - 1))
                    dec_cert = all(ra[i + 1] <= ra[i] for i in range(len(ra) - 1))
                    last = ra[-1]
                chk.case(0.0 if dec else 1.0, 0.0, "b: ratio -> 1 monotonically", a=a, ratios=ratios,
                         cert=True if dec_cert else "monotonicity not decided in Arb")
                chk.case(abs(ratios[-1] - 1), 0.05, "b: ratio within 5% at u = 2^-4000", a=a, cert=(last, Fraction(1, 20)))
    _crossover_fields(ctx, chk)
    chk.symbolic.update(_symbolic())
    with mpmath.workdps(30):
        chk.extra["examples"] = {f"{n} d={d} L=M P1": float(s_star(1, 1, get_format(n).u, 1, 0, d))
                                 for n in ("fp16", "bf16", "fp8_e4m3fn") for d in (1, 2, 3)}
    chk.note("examples (L = M, P1 bound): " + ", ".join(f"{k}: s*={v:.1f}" for k, v in chk.extra["examples"].items()))
    return chk.result()


def p2m_arb(s: arb, dim: int, M: float, fmt) -> arb:  # type: ignore[no-untyped-def]
    """P2m (docs/theory/precision.md; errbound.crossover.precision_mode_bound) in Arb at a real resolution s:
    u M + tau + (1 + u) E + u (B + E) + tau, B = (1 + u) M + tau, E = sqrt(2) ((1 + eta)^t - 1) B + 8 tau (1 + eta)^t,
    t = dim log2 s, eta = u + (1 + u)(mu + (1 + mu) g), mu = u + sqrt(2) tau, g = sqrt(5) u (1 + u) (fma products)."""
    from errbound.bounds.precision import op_constants

    c = op_constants(fmt)
    u, tau, Mb = arb(c.u), arb(c.tau), arb(M)
    mu = u + arb(2).sqrt() * tau
    g = arb(5).sqrt() * u * (1 + u)
    eta = u + (1 + u) * (mu + (1 + mu) * g)
    t = dim * s.log() / arb(2).log()
    B = (1 + u) * Mb + tau
    grow = (1 + eta) ** t
    E = arb(2).sqrt() * (grow - 1) * B + 8 * tau * grow
    return u * Mb + tau + (1 + u) * E + u * (B + E) + tau


def _crossover_fields(ctx: Context, chk: Check) -> None:
    """errbound.crossover's three class crossovers (docs/theory.md section 4) against their definitions, in Arb:
    s_star_input_model solves L kappa_d / s = u M + eta_F; at s_star_proven the class error L kappa_d / s crosses P2m
    (>= just below, < just above). A crossover computed with another bound (a swapped bound) fails these cases."""
    from errbound.crossover import s_star_input_model, s_star_proven
    from errbound.bounds.precision import op_constants

    for name in ("fp16", "bf16", "fp32", "fp8_e4m3fn"):
        c = op_constants(name)
        for d in (1, 2, 3):
            for L, M in ((1.0, 1.0), (10.0, 1.0), (1.0, 4.0)) + (() if ctx.quick else ((6.73, 1.0), (0.3, 2.0))):
                info = {"format": name, "d": d, "L": L, "M": M}
                s_in = s_star_input_model(L, M, d, name)
                with workprec():
                    A = arb(L) * kappa_arb(d) / arb(s_in)
                    P = arb(c.u) * arb(M) + arb(c.tau)
                    rel = abs(A - P) / P
                chk.case(float(rel.mid()), 1e-12, "errbound.crossover s_star_input_model solves A* = P1",
                         cert=(rel, Fraction(1, 10**12)), **info)
                s_pr = s_star_proven(L, M, d, name)
                if s_pr is None or s_pr <= 1.0:
                    continue
                with workprec():
                    lo_s, hi_s = arb(s_pr) * (1 - arb(10) ** -9), arb(s_pr) * (1 + arb(10) ** -9)
                    below = arb(L) * kappa_arb(d) / lo_s - p2m_arb(lo_s, d, M, name)
                    above = arb(L) * kappa_arb(d) / hi_s - p2m_arb(hi_s, d, M, name)
                chk.case(-float(below.mid()), 0.0, "errbound.crossover s_star_proven: A* >= P2m just below",
                         cert=(-below, 0), **info)
                chk.case(float(above.mid()), 0.0, "errbound.crossover s_star_proven: A* < P2m just above",
                         cert=(above, 0), **info)


def _symbolic() -> dict:
    import sympy as sp

    s, K, b = sp.symbols("s K b", positive=True)
    sol = sp.exp(sp.LambertW(K / b * sp.exp(1 / b)) - 1 / b)
    residual = K / sol - (1 + b * sp.log(sol))
    worst = max(abs(sp.N(residual.subs({K: Kv, b: bv}), 50))
                for Kv in (sp.Rational(3, 2), 783, 10**6) for bv in (sp.Rational(1, 3), 1, 7))
    return {"equation": "K/s = 1 + b ln s  (K = L kappa_d/(c u M), b = a d / ln 2)",
            "Lambert-W solution": str(sol),
            "max |residual| of the sympy solution at 9 (K, b), 50 digits": str(sp.N(worst, 5))}
