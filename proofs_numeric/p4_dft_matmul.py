"""P4 (truncated DFT as a matrix product with fp32 accumulation) on errbound.emulate.dft_modes.

lhs: |y^_w - y_w| per retained mode, y^ from dft_modes(x, k, MatmulConfig(input_fmt=I, acc_fmt=G)) on real 1-D data
already in I, y the exact DFT (mpmath at 50 digits for n <= 64, float64 FFT otherwise: error < 1e-13 sum|x|, far
below the bound's u_I sum|x|: rel_tol 1e-6). rhs: P4's bound literally. Adversarial: hypothesis + Nelder-Mead over
the data (n = 16), maximising error/bound. A sympy series shows the bound's size: u_I + n u_G to first order.
"""

from __future__ import annotations

import math

import mpmath
from flint import acb, arb
import numpy as np

from proofs_numeric._cert import dft_enclosure, lower, upper, workprec
from proofs_numeric._framework import Check, Context

ID = "P4"
TITLE = "Matrix-product (tensor-core) truncated DFT with fp32 accumulation"
STATEMENT = """\
**P4 (truncated DFT as a matrix product, fp32 accumulation).** Let x in I^n be real data already in the input
format I (u_I, eta_I), w a retained mode, C_wj = cos(2 pi w j / n), S_wj = -sin(2 pi w j / n), y_w = sum_j (C_wj + i S_wj) x_j.
errbound.emulate.dft_modes (tensor-core model, one real axis, norm "backward", no output format) rounds C and S to
nearest into I, forms the products exactly and accumulates the real and the imaginary part separately, left to
right over j, each partial sum rounded to nearest into the accumulator format G (u_G). Without overflow or
underflow in G,
|y^_w - y_w| <= ( u_I + gamma^G_n (1 + u_I) + sqrt(2) eta_I (1 + gamma^G_n) ) sum_j |x_j|."""

PAIRS = (("fp16", "fp32"), ("bf16", "fp32"), ("fp8_e4m3fn", "fp32"), ("fp8_e5m2", "fp16"), ("fp16", "fp16"), ("tf32", "fp32"))


def eta_F(fmt) -> float:  # type: ignore[no-untyped-def]
    return 2.0 ** (fmt.emin - fmt.t) if fmt.subnormals else 2.0 ** (fmt.emin - 1)


def factor(n: int, I, G) -> float:  # type: ignore[no-untyped-def]
    """u_I + gamma^G_n (1 + u_I) + sqrt(2) eta_I (1 + gamma^G_n)."""
    g = n * G.u / (1 - n * G.u)
    return I.u + g * (1 + I.u) + math.sqrt(2) * eta_F(I) * (1 + g)


def factor_arb(n: int, I, G) -> arb:  # type: ignore[no-untyped-def]
    """The factor of P4 in Arb: u_I + gamma^G_n (1 + u_I) + sqrt(2) eta_I (1 + gamma^G_n)."""
    uI, uG = arb(I.u), arb(G.u)
    g = n * uG / (1 - n * uG)
    return uI + g * (1 + uI) + arb(2).sqrt() * arb(eta_F(I)) * (1 + g)


def certify_rows(x: np.ndarray, y_hat: np.ndarray, k: int, I, G) -> tuple[np.ndarray, list]:  # type: ignore[no-untyped-def]
    """Per (row, mode) certified verdicts of |y^_w - y_w| <= factor sum_j |x_j|: the exact DFT of the (exact) row in
    Arb (acb.dft), the bound in Arb; also the error balls (for single cases)."""
    n = x.shape[-1]
    mask = np.zeros((x.shape[0], k), dtype=bool)
    balls = []
    with workprec():
        fac = factor_arb(n, I, G)
        for b in range(x.shape[0]):
            Y = dft_enclosure(x[b])
            s1 = sum((abs(arb(float(v))) for v in x[b]), arb(0))
            rhs_lo = lower(fac * s1)
            row = []
            for w in range(k):
                e = abs(acb(float(y_hat[b, w].real), float(y_hat[b, w].imag)) - Y[w])
                row.append(e)
                mask[b, w] = upper(e) <= rhs_lo
            balls.append(row)
    return mask, balls


def run(ctx: Context) -> dict:
    from errbound.emulate import MatmulConfig
    from errbound.emulate.dft_matmul import dft_modes
    from errbound.formats import get_format
    from errbound.rounding import round_to

    chk = Check(ID, TITLE, STATEMENT, kind="upper", rel_tol=1e-6,
                tol_reason="reference exact (mpmath) or float64 FFT with error < 1e-13 sum|x| (< 1e-6 of the bound)")
    chk.tightness_from("grid", "adversarial")
    rng = ctx.rng(41)
    batch = ctx.size(4, 16)
    for iname, gname in PAIRS:
        I, G = get_format(iname), get_format(gname)
        for n in ((8, 16, 64, 256) if ctx.quick else (8, 16, 32, 64, 128, 256, 1024, 2048)):
            if G.max < 1e5 and n > 256:
                continue
            k = min(n // 2, 12)
            for kind in ("gauss", "positive", "smooth"):
                if kind == "gauss":
                    x = rng.standard_normal((batch, n))
                elif kind == "positive":
                    x = rng.uniform(0, 1, (batch, n))
                else:
                    t = np.arange(n) / n
                    x = np.exp(np.sin(2 * np.pi * (t + rng.uniform(0, 1, (batch, 1)))))
                x = round_to(x * (0.5 if I.max < 1000 else 1.0), I)
                y_hat = dft_modes(x, k, MatmulConfig(input_fmt=I, acc_fmt=G))
                y = np.fft.rfft(x, axis=-1)[:, :k]
                err = np.abs(y_hat - y)
                rhs = factor(n, I, G) * np.sum(np.abs(x), axis=-1, keepdims=True) * np.ones_like(err)
                mask, balls = certify_rows(x, y_hat, k, I, G)
                chk.cases(err, rhs, "grid", info=lambda i, iname=iname, gname=gname, n=n, kind=kind, k=k:
                          {"input": iname, "acc": gname, "n": n, "data": kind, "row": int(i) // k, "w": int(i) % k},
                          cert=mask, cert_reason="Arb enclosures overlap")
                if n <= 64:
                    with mpmath.workdps(ctx.dps):
                        row = x[0]
                        for w in range(k):
                            ye = mpmath.fsum(mpmath.mpf(float(v)) * mpmath.expjpi(-2 * mpmath.mpf(w * j % n) / n) for j, v in enumerate(row))
                            lhs = abs(mpmath.mpc(complex(y_hat[0, w])) - ye)
                            chk.case(lhs, mpmath.mpf(factor(n, I, G)) * mpmath.fsum(abs(mpmath.mpf(float(v))) for v in row),
                                     "grid", rel_tol=1e-30, cert=True if mask[0, w] else "Arb enclosures overlap",
                                     input=iname, acc=gname, n=n, w=w, engine="mpmath")
    _adversarial(ctx, chk)
    import sympy as sp

    uI, uG, n = sp.symbols("u_I u_G n", positive=True)
    expr = uI + n * uG / (1 - n * uG) * (1 + uI)
    chk.symbolic["factor to first order (eta_I = 0)"] = str(sp.expand(sp.series(sp.series(expr, uG, 0, 2).removeO(), uI, 0, 2).removeO()))
    chk.symbolic["n where accumulation matches input rounding (fp16 in, fp32 acc)"] = float(2.0**-11 / 2.0**-24)
    return chk.result()


def _adversarial(ctx: Context, chk: Check) -> None:
    from hypothesis import strategies as st

    from errbound.emulate import MatmulConfig
    from errbound.emulate.dft_matmul import dft_modes
    from errbound.formats import get_format
    from errbound.rounding import round_to

    from proofs_numeric._search import hypothesis_max, scipy_max

    for iname, gname, n in (("fp16", "fp32", 16), ("fp16", "fp16", 16), ("bf16", "fp32", 8)):
        I, G = get_format(iname), get_format(gname)
        k = n // 2

        def score(z: np.ndarray, I=I, G=G, n=n, k=k, iname=iname, gname=gname) -> float:  # type: ignore[no-untyped-def]
            x = round_to(np.clip(np.asarray(z, dtype=np.float64), -4, 4), I)[None, :]
            s1 = float(np.sum(np.abs(x)))
            if s1 == 0:
                return 0.0
            err = np.abs(dft_modes(x, k, MatmulConfig(input_fmt=I, acc_fmt=G)) - np.fft.rfft(x, axis=-1)[:, :k])[0]
            b = factor(n, I, G) * s1
            w = int(np.argmax(err))
            y_hat = dft_modes(x, k, MatmulConfig(input_fmt=I, acc_fmt=G))
            mask, _ = certify_rows(x, y_hat, k, I, G)
            chk.case(float(err[w]), b, "adversarial", cert=True if mask.all() else "Arb enclosures overlap",
                     input=iname, acc=gname, n=n, w=w, x=[float(v) for v in x[0]])
            return float(err[w]) / b

        rng = ctx.rng(n + 100)
        starts = [rng.uniform(0, 1, n) for _ in range(ctx.size(2, 6))] + [np.ones(n) * (1 + 2**-11)]
        val, _ = scipy_max(score, starts, seconds=ctx.search_budget / 6, maxfev=ctx.size(300, 3000))
        hval, _ = hypothesis_max(st.lists(st.floats(-4, 4, allow_subnormal=False), min_size=n, max_size=n).map(np.array),
                                 score, max_examples=ctx.size(60, 1000), seconds=ctx.search_budget / 8, seed=ctx.seed)
        chk.note(f"adversarial {iname}->{gname} n={n}: best error/bound {max(val, hval):.4f}")
