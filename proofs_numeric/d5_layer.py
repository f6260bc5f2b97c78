"""D5 (layer-level discretization bound) at 50 digits: the discrete and the continuous Fourier layer on the grid.

Inputs: c_in piecewise-linear channels (d = 1) or separable products of them (d = 2); weights R(w) random complex
c_out x c_in matrices. Left side computed literally: (K_s v)(x_j) = sum_w R(w) V_s(w) e^{2 pi i w.x_j} from the
samples' DFT and (K v)(x_j) = sum_w R(w) vhat(w) e^{2 pi i w.x_j} from the closed-form coefficients, both evaluated
on the grid, then the RMS (summed over output channels) and the max. Checks: the Parseval identity (kind
identity, allowance 1e-40), the RMS bound with the exact per-mode errors and with D2(a) per-mode bounds, the max
bound with D2(a) bounds.
"""

from __future__ import annotations


import mpmath
import numpy as np

from proofs_numeric._framework import Check, Context
from proofs_numeric._pl import Separable, random_pl
from proofs_numeric.d2_lipschitz import bound_a

ID = "D5"
TITLE = "Layer-level discretization bound (Parseval identity, RMS and max bounds)"
STATEMENT = """\
**D5 (layer-level discretization bound).** Let R(w) in C^{c_out x c_in}, 2k < s, and let B_c(w) >= A(v_c, w; s) be
per-mode bounds for the input channels c (e.g. D2 or D4). Then the layer-output error on the grid satisfies
(RMS over the grid, summed over output channels)
( m^-1 sum_j |(K_s v)(x_j) - (K v)(x_j)|_2^2 )^(1/2) = ( sum_{|w|_inf<=k} |R(w) (V_s(w) - vhat(w))|_2^2 )^(1/2)
<= ( sum_w ||R(w)||_2^2 |B(w)|_2^2 )^(1/2),
and for each output channel o, max_j |(K_s v)_o(x_j) - (K v)_o(x_j)| <= sum_w sum_c |R_oc(w)| B_c(w).
With D2(a) and one channel: RMS error <= kappa_d s^-1 ( sum_w |R(w)|^2 (L^2 + 4 pi^2 |w|_2^2 M^2) )^(1/2)."""


def _coef_and_dft(fn: Separable, s: int, w: tuple[int, ...]) -> tuple[mpmath.mpc, mpmath.mpc]:
    cs = [f.coef_mp(int(wi)) for f, wi in zip(fn.f, w)]
    Vs = [f.dft_mp(s, int(wi)) for f, wi in zip(fn.f, w)]
    return mpmath.fprod(cs), mpmath.fprod(Vs)


def _opnorm(Rw: np.ndarray) -> mpmath.mpf:
    """Spectral norm of a small complex matrix, at working precision (mpmath SVD)."""
    M = mpmath.matrix([[mpmath.mpc(complex(x)) for x in row] for row in Rw])
    return max(mpmath.svd_c(M, compute_uv=False))


def run(ctx: Context) -> dict:
    chk = Check(ID, TITLE, STATEMENT, kind="upper", rel_tol=1e-30,
                tol_reason="all sums in mpmath at >= 50 digits; 1e-30 relative margin")
    chk.tightness_from("rms bound, exact per-mode errors", "rms bound, D2(a)", "max bound, D2(a)")
    rng = ctx.rng(55)
    eps = mpmath.mpf(10) ** -40
    plans = [(1, [5, 8, 13, 16, 32], ctx.size(8, 400)), (2, [5, 8], ctx.size(2, 70))]
    with mpmath.workdps(ctx.dps):
        for d, resolutions, count in plans:
            for trial in range(count):
                c_in = 1 if trial % 2 == 0 else 2
                c_out = 1 if trial % 2 == 0 else 3
                chans = [Separable([random_pl(rng, int(rng.integers(2, 7)), scale=float(rng.uniform(0.3, 2)), grid=64)
                                    for _ in range(d)], "product") for _ in range(c_in)]
                for s in resolutions:
                    k = int(rng.integers(1, (s - 1) // 2 + 1))
                    modes = [tuple(int(x) - k for x in idx) for idx in np.ndindex(*(2 * k + 1,) * d)]
                    R = {w: (rng.standard_normal((c_out, c_in)) + 1j * rng.standard_normal((c_out, c_in))) for w in modes}
                    E, B, out_exact = {}, {}, mpmath.mpf(0)
                    for w in modes:
                        pairs = [_coef_and_dft(fn, s, w) for fn in chans]
                        E[w] = [V - c for c, V in pairs]
                        B[w] = [bound_a(s, w, fn.L, fn.M, d, mp=True) for fn in chans]
                    # literal layer outputs on the grid
                    pts = list(np.ndindex(*(s,) * d))
                    sq_sum = mpmath.mpf(0)
                    max_err = [mpmath.mpf(0)] * c_out
                    phases = {}
                    for j in pts:
                        diff = [mpmath.mpc(0)] * c_out
                        for w in modes:
                            key = sum(wi * ji for wi, ji in zip(w, j)) % s
                            if key not in phases:
                                phases[key] = mpmath.expjpi(2 * mpmath.mpf(key) / s)
                            ph = phases[key]
                            for o in range(c_out):
                                diff[o] += ph * mpmath.fsum(mpmath.mpc(complex(R[w][o, c])) * E[w][c] for c in range(c_in))
                        sq_sum += mpmath.fsum(abs(x) ** 2 for x in diff)
                        max_err = [max(mx, abs(x)) for mx, x in zip(max_err, diff)]
                    rms = mpmath.sqrt(sq_sum / len(pts))
                    parseval = mpmath.sqrt(mpmath.fsum(
                        abs(mpmath.fsum(mpmath.mpc(complex(R[w][o, c])) * E[w][c] for c in range(c_in))) ** 2
                        for w in modes for o in range(c_out)))
                    info = {"d": d, "s": s, "k": k, "c_in": c_in, "c_out": c_out, "trial": trial}
                    chk.case(abs(rms - parseval), eps * (1 + parseval), "Parseval identity", **info)
                    exact_bound = mpmath.sqrt(mpmath.fsum(
                        _opnorm(R[w]) ** 2 * mpmath.fsum(abs(e) ** 2 for e in E[w]) for w in modes))
                    chk.case(rms, exact_bound, "rms bound, exact per-mode errors", **info)
                    d2_bound = mpmath.sqrt(mpmath.fsum(_opnorm(R[w]) ** 2 * mpmath.fsum(b**2 for b in B[w]) for w in modes))
                    chk.case(rms, d2_bound, "rms bound, D2(a)", **info)
                    for o in range(c_out):
                        mb = mpmath.fsum(abs(complex(R[w][o, c])) * B[w][c] for w in modes for c in range(c_in))
                        chk.case(max_err[o], mb, "max bound, D2(a)", o=o, **info)
    chk.note("'rms bound, exact per-mode errors' is tight (ratio 1) for one channel: the inequality "
             "|R E| <= ||R|| |E| is an equality for scalars")
    return chk.result()
