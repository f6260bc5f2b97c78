"""P6 (overflow condition and optimal pre-scaling) on errbound.emulate's radix-2 FFT.

Inputs: real data x = c (1 + noise) with the DC term n c swept across the overflow threshold of fp16, fp8 E4M3FN,
fp8 E5M2 (both sides of the edge), and random signed data. For each: the emulated unnormalized fft with a Trace
(largest finite intermediate, overflow flag). Checks:
* (a) magnitude bound: every emulated intermediate <= (2 theta)^t X / (1+u) (upper bound with tightness), and the
  implication "n theta^t X <= max(F)  =>  no overflow" (an exact-kind check: lhs = 1 if violated);
* (b) "|sum x| - rho_t ||y||_2 > max(F)  =>  overflow" (the inputs sit near max(F) / n, so no intermediate of the
  DC path underflows, which (b) assumes);
* (c) the helper's optimal_prescale_exponent e (multiplier 2^e): the pre-scaled transform does not overflow, and
  -e <= e* of P6(c) (the helper is never more conservative than the sufficient exponent);
* the helper's predict_overflow equals the emulated overflow flag, counted only where the *magnitude bound*
  decides (``certain``): "predicted by the magnitude bound". Inputs within rounding distance of the threshold,
  which predict_overflow settles by running the emulator (``resolved``), are counted apart as "settled by
  emulation" (reported in ``predict_overflow``; they agree by construction, so they are not prediction cases).
"""

from __future__ import annotations

import math

import numpy as np
from flint import arb

from proofs_numeric._cert import decide, workprec
from proofs_numeric._framework import Check, Context
from proofs_numeric.p2_fft import bound as p2_bound, mu_bound

ID = "P6"
TITLE = "Overflow condition and optimal power-of-two pre-scaling"
STATEMENT = """\
**P6 (overflow condition and optimal power-of-two pre-scaling).** For the radix-2 FFT of P2 on x in F^n
(n = 2^t), let mx = max_j |x_j|_inf (largest real or imaginary part) and rho_k = (1 + eta)^k - 1.
(a) (sufficient) Let X = max_j |x_j| (modulus; X = mx for real data, X <= sqrt(2) mx otherwise) and
theta = (1 + u)(1 + mu)(1 + sqrt(2) gamma_2). After stage k every computed entry, and every intermediate value of
stage k, has modulus at most (2 theta)^k X / (1 + u) before its last rounding. Hence if n theta^t X <= max(F),
no overflow occurs.
(b) (necessary for the DC term) For the unnormalized transform without underflow: if
|sum_j x_j| - rho_t ||y||_2 > max(F), the transform overflows (some rounding produces inf, or NaN/saturation
according to F's policy).
(c) (pre-scaling) Multiplying x by 2^-e is exact while no result underflows, commutes with the rounding, and
scales every intermediate by 2^-e; e* = max(0, ceil(log2(n theta^t X / max(F)))) removes overflow by (a); any e with
|sum_j x_j| 2^-e - rho_t ||y||_2 2^-e > max(F) still overflows by (b); a larger e only moves more data below
2^emin (underflow). So the optimal exponent lies between the necessary and the sufficient one, which differ
by at most log2(n theta^t X / (|sum_j x_j| - rho_t ||y||_2)) + 1."""

FORMATS = ("fp16", "fp8_e4m3fn", "fp8_e5m2", "fp8_e4m3")


def theta(u: float, mu: float) -> float:
    g2 = 2 * u / (1 - 2 * u)
    return (1 + u) * (1 + mu) * (1 + math.sqrt(2) * g2)


def theta_arb(u: arb, mu: arb) -> arb:
    """theta = (1 + u)(1 + mu)(1 + sqrt(2) gamma_2) in Arb."""
    g2 = 2 * u / (1 - 2 * u)
    return (1 + u) * (1 + mu) * (1 + arb(2).sqrt() * g2)


def _decided(a, b) -> bool | None:  # type: ignore[no-untyped-def]
    """a <= b certified True / False, or None when the balls overlap."""
    v = decide(a, b)
    return True if v == "yes" else (False if v == "no" else None)


def _ceil_log2_exact(v: arb) -> int | None:
    """ceil(log2 v) when the enclosure of log2 v contains no integer (else None: undecided)."""
    lg = v.log() / arb(2).log()
    lo, hi = math.floor(float(lg.lower())), math.floor(float(lg.upper()))
    if lo != hi or lg.contains(arb(lo)) or lg.contains(arb(hi + 1)):
        return None
    return lo + 1


def run(ctx: Context) -> dict:
    from errbound.emulate import FFTConfig, Trace
    from errbound.emulate.transforms import fft
    from errbound.formats import get_format
    from errbound.rounding import round_to

    chk = Check(ID, TITLE, STATEMENT, kind="upper", rel_tol=0.0,
                tol_reason="magnitudes are exact emulated values compared with a float64 bound rounded up by 1e-12 (pre-filter); "
                           "certified: the bounds and conditions in Arb, the flags exact")
    chk.tightness_from("a: magnitude bound")
    from errbound.emulate.magnitude import optimal_prescale_exponent, predict_overflow

    rng = ctx.rng(61)
    n_predicted = n_settled = 0
    for name in (FORMATS[:2] if ctx.quick else FORMATS):
        fmt = get_format(name)
        mu = mu_bound(fmt)
        th = theta(fmt.u, mu)
        for n in ((16, 256) if ctx.quick else (8, 16, 32, 64, 128, 256, 512, 1024, 4096)):
            t = n.bit_length() - 1
            edge = fmt.max / n
            cs = edge * np.exp(np.linspace(-0.6, 0.6, ctx.size(11, 41)))
            for c in cs:
                for kind in ("const", "noisy", "signed"):
                    if kind == "const":
                        x = np.full(n, c)
                    elif kind == "noisy":
                        x = c * (1 + 0.05 * rng.standard_normal(n))
                    else:
                        x = c * rng.uniform(-1, 1.5, n)
                    x = round_to(x, fmt)
                    if not np.all(np.isfinite(x)):
                        continue
                    X = float(np.max(np.abs(x)))
                    tr = Trace()
                    with np.errstate(all="ignore"):
                        y_hat = fft(x.astype(complex), FFTConfig(fmt=fmt), trace=tr)
                    overflow = bool(tr.overflow or not np.all(np.isfinite(y_hat)))
                    info = {"format": name, "n": n, "c": float(c), "data": kind}
                    suff = n * th**t * X <= fmt.max
                    # certified side: the same quantities in Arb (u, mu, X, max(F) exact; the emulator's values exact)
                    with workprec():
                        th_b = theta_arb(arb(fmt.u), mu_bound(fmt, exact=True))
                        suff_b = _decided(n * th_b**t * arb(X), arb(fmt.max))
                        mag_b = (2 * th_b) ** t * arb(X)
                    if not overflow:
                        # (a) magnitudes: the largest finite rounded intermediate <= (2 theta)^t X (the rounded value may
                        # exceed the pre-rounding bound by the factor (1 + u) of its own rounding)
                        chk.case(tr.max_abs, (2 * th) ** t * X * (1 + 1e-12), "a: magnitude bound",
                                 cert=(float(tr.max_abs), mag_b), **info)
                    flag = 1 if (suff and overflow) else 0
                    chk.case(float(flag), 0.0, "a: sufficient => no overflow",
                             cert=(flag, 0) if suff_b is not None and suff_b == suff else
                             "the sufficient condition n theta^t X <= max(F) is not decided in Arb", **info)
                    y = np.fft.fft(x)
                    rho = p2_bound(n, fmt.u, mu)
                    nec = abs(float(np.sum(x))) - rho * float(np.linalg.norm(y)) > fmt.max
                    if nec:
                        # inputs of magnitude ~ max(F) / n: the DC path has no underflow, as (b) assumes
                        with workprec():
                            xs_b = [arb(float(v)) for v in np.real(x)]
                            ynorm = (arb(n) * sum((v * v for v in xs_b), arb(0))).sqrt()  # Parseval: ||F x|| = sqrt(n)||x||
                            rho_b = p2_bound(n, arb(fmt.u), mu_bound(fmt, exact=True))
                            nec_b = _decided(abs(sum(xs_b, arb(0))) - rho_b * ynorm, arb(fmt.max))  # False: > max(F)
                        flag = 0 if overflow else 1
                        chk.case(float(flag), 0.0, "b: necessary => overflow",
                                 cert=(flag, 0) if nec_b is False else
                                 "the necessary condition |sum x| - rho ||y|| > max(F) is not decided in Arb", **info)
                    if fmt.overflow != "saturate":
                        pred = predict_overflow(x.astype(complex), FFTConfig(fmt=fmt), transform="fft")
                        if pred.certain:
                            n_predicted += 1
                            flag = 0 if bool(pred.overflow) == overflow else 1  # two exact booleans
                            chk.case(float(flag), 0.0, "predict_overflow: predicted by the magnitude bound == emulated",
                                     cert=(flag, 0), **info)
                        else:
                            n_settled += 1  # decided by running the emulator itself: not a prediction
                    if kind != "const":
                        ch = optimal_prescale_exponent(x.astype(complex), FFTConfig(fmt=fmt), transform="fft")
                        e_star = max(0, math.ceil(math.log2(n * th**t * X / fmt.max)))
                        xs = round_to(x * 2.0**ch.exponent, fmt)
                        trs = Trace()
                        with np.errstate(all="ignore"):
                            fft(xs.astype(complex), FFTConfig(fmt=fmt), trace=trs)
                        flag = 1 if trs.overflow else 0
                        chk.case(float(flag), 0.0, "c: helper prescale => no overflow", cert=(flag, 0),
                                 exponent=ch.exponent, **info)
                        with workprec():
                            cl = _ceil_log2_exact(n * th_b**t * arb(X) / arb(fmt.max))
                        e_star_b = None if cl is None else max(0, cl)
                        chk.case(float(-ch.exponent), float(e_star), "c: helper exponent vs sufficient e*", exponent=ch.exponent,
                                 cert=(int(-ch.exponent), e_star_b) if e_star_b is not None else
                                 "log2(n theta^t X / max(F)) within an enclosure containing an integer", e_star=e_star, **info)
    chk.extra["predict_overflow"] = {"predicted_by_magnitude_bound": n_predicted, "settled_by_emulation": n_settled}
    chk.note(f"predict_overflow: {n_predicted} cases predicted by the magnitude bound (checked against the emulator), "
             f"{n_settled} settled by emulation (not counted as predictions)")
    import sympy as sp

    u, n_, X, Fmax = sp.symbols("u n X F_max", positive=True)
    e_star = sp.log(n_ * X / Fmax, 2)
    chk.symbolic["e* to zeroth order in u"] = f"ceil({e_star})"
    chk.symbolic["DC term of a 256x256 grid, mean 1, vs fp16 max"] = f"{256 * 256} > 65504"
    return chk.result()
