"""P3 (probabilistic FFT bound): exceedance rates over many random inputs against the failure probability.

Stochastic rounding (the theorem): errbound.emulate.fft with FFTConfig(mode="sr") and a seeded generator;
round to nearest (the Higham-Mary model, v = u): the same FFT in rne. lhs = ||y^ - y||_2 / ||y||_2 (float64
reference, relative error < 1e-14), rhs = P3's bound (transcribed literally) for lambda in {2, 3}. Each part is
recorded with Check.probabilistic: a violation only when the number of exceedances is statistically incompatible
(binomial tail < 1e-6) with the stated failure probability 2 exp(-lambda^2/2). The fitted growth of the mean
error in t = log2 n (sqrt(t) vs t) is reported.
"""

from __future__ import annotations

import math

import numpy as np

from proofs_numeric._framework import Check, Context
from proofs_numeric.p2_fft import _wide, mu_bound

ID = "P3"
TITLE = "Probabilistic FFT bound (stochastic rounding; Higham-Mary model for rne)"
STATEMENT = """\
**P3 (probabilistic FFT bound).** In the setting of P2, suppose the roundings of the FFT (not of the
twiddles) are stochastic (mode "sr": each rounding is unbiased given its input, error < 2u |.| by R1(c)).
Let v = 2u, eta_r = sqrt(c_r^2 + v^2) with c_r = sqrt(2) g (1 + mu) + v (1 + mu)(1 + sqrt(2) g), g = 2v/(1 - 2v), and
eta_bar = mu + eta_r. For every lambda > 0, with probability at least 1 - 2 exp(-lambda^2 / 2),
||y^ - y||_2 / ||y||_2 <= (1 + eta_bar)^(t-1) (t mu + lambda sqrt(t) eta_r).
Under the probabilistic model of Higham and Mary (rounding errors of round-to-nearest independent, mean zero,
|delta| <= u) the same holds with v = u."""


def eta_r(v: float, mu: float) -> float:
    g = 2 * v / (1 - 2 * v)  # gamma_2 at unit v: covers both product kinds (fma: 2v + v^2 <= gamma_2)
    c_r = math.sqrt(2) * g * (1 + mu) + v * (1 + mu) * (1 + math.sqrt(2) * g)
    return math.sqrt(c_r * c_r + v * v)


def bound(n: int, v: float, mu: float, lam: float) -> float:
    """(1 + eta_bar)^(t-1) (t mu + lambda sqrt(t) eta_r), eta_bar = mu + eta_r."""
    t = int(n).bit_length() - 1
    er = eta_r(v, mu)
    return (1 + mu + er) ** (t - 1) * (t * mu + lam * math.sqrt(t) * er)


def failure(lam: float) -> float:
    return 2 * math.exp(-lam * lam / 2)


def run(ctx: Context) -> dict:
    from errbound.emulate import FFTConfig
    from errbound.emulate.transforms import fft
    from errbound.formats import get_format
    from errbound.rounding import round_to

    chk = Check(ID, TITLE, STATEMENT, kind="probabilistic", rel_tol=0.0,
                tol_reason="binomial test of the exceedance count against 2 exp(-lambda^2/2) at level 1e-6")
    rng = ctx.rng(33)
    from errbound.bounds.precision import fft_prob_pow2

    growth: dict[str, list] = {}
    batch = ctx.size(150, 1000)
    for name, tw in (("fp16", None), ("fp16", "fp32"), ("bf16", "fp32"), ("fp8_e4m3fn", "fp32")):
        fmt = get_format(name)
        G = get_format(tw) if tw else fmt
        mu = mu_bound(G)
        for n in ((16, 64, 256) if ctx.quick else (16, 64, 256, 1024)):
            if fmt.max < 1000 and n > 64:
                continue
            x = rng.standard_normal((batch, n)) + 1j * rng.standard_normal((batch, n))
            x = round_to(x * (0.25 if fmt.max < 1000 else 1.0), fmt)
            y = np.fft.fft(x, axis=-1)
            ny = np.linalg.norm(y, axis=-1)
            for mode in ("sr", "rne"):
                cfg = FFTConfig(fmt=fmt, mode=mode, twiddle_fmt=tw)
                y_hat = fft(x, cfg, rng=int(rng.integers(1 << 30)) if mode == "sr" else None)
                if mode == "rne":
                    twin = fft(x, FFTConfig(fmt=_wide(fmt), twiddle_fmt=_wide(G) if tw else None))
                    ok = np.all(y_hat == twin, axis=-1)
                else:
                    ok = np.all(np.isfinite(y_hat), axis=-1) & (np.max(np.abs(y_hat), axis=-1) < fmt.max / 2)
                rel = (np.linalg.norm(y_hat - y, axis=-1) / ny)[ok]
                v = 2 * fmt.u if mode == "sr" else fmt.u
                for lam in (2.0, 3.0):
                    b = bound(n, v, mu, lam)
                    chk.probabilistic(rel, np.full(rel.shape, b), failure(lam),
                                      f"{mode} {name} tw={tw or name} n={n} lambda={lam:g}",
                                      info=lambda i, name=name, n=n, mode=mode, lam=lam:
                                      {"format": name, "n": n, "mode": mode, "lambda": lam})
                if mode == "rne":
                    hb = fft_prob_pow2(n, fmt, lam=3.0, const_fmt=G)
                    chk.probabilistic(rel, np.full(rel.shape, hb), failure(3.0), f"helper fft_prob_pow2 rne {name} n={n}")
                growth.setdefault(f"{mode} {name} tw={tw or name}", []).append((n, float(np.mean(rel)) / fmt.u))
    for key, pts in growth.items():
        if len(pts) >= 3:
            t = np.log2([p[0] for p in pts])
            e = np.array([p[1] for p in pts])
            # least squares e ~ a sqrt(t) and e ~ b t (no intercept): which explains the growth better
            res = {}
            for label, f in (("sqrt(t)", np.sqrt(t)), ("t", t)):
                coef = float(f @ e / (f @ f))
                res[label] = (coef, float(np.sum((e - coef * f) ** 2)))
            best = min(res, key=lambda k: res[k][1])
            chk.note(f"{key}: mean error/u at n={[p[0] for p in pts]} = {[round(p[1], 3) for p in pts]}; "
                     f"fits a*sqrt(t) (a={res['sqrt(t)'][0]:.3f}) vs b*t (b={res['t'][0]:.3f}): better {best}")
    return chk.result()
