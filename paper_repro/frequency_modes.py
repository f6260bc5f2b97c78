"""Relative fp16 error per frequency against the mode's amplitude (the paper's per-frequency figure).

A random field with algebraically decaying spectrum (``grf``: the FNO-paper Gaussian random field) is sampled
on an s x s grid, its forward rfft2 computed in emulated fp16 (input cast, every operation rounded, norm
"forward") and compared mode by mode with the float64 transform. The absolute error of a mode is roughly the
same for every mode (~u ||v|| / sqrt(m)), so the relative error grows as the amplitude falls: the high,
small modes that an FNO truncates suffer most (NOTES.md s4, "Per-frequency figure").
"""

from __future__ import annotations

import numpy as np

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure

NAME = "frequency_modes"
TITLE = "relative fp16 error per frequency against mode amplitude"
GPU_DEPENDENT = False


def compute(ctx: Context) -> ArtefactResult:
    from errbound.functions import get_function
    from paper_repro._spectral import emulated_rfft2

    s, k = (64, 8) if ctx.quick else (256, 32)
    fn = get_function(f"grf:seed={ctx.seed}", dim=2)
    x = fn.eval_grid(s)
    exact = np.fft.rfft2(x, norm="forward")
    approx = emulated_rfft2(x, "fp16")
    amp = np.abs(exact)
    rel = np.abs(approx - exact) / np.where(amp > 0, amp, np.nan)
    w1 = np.fft.fftfreq(s, 1.0 / s)[:, None] * np.ones((1, exact.shape[1]))
    w2 = np.arange(exact.shape[1])[None, :] * np.ones((s, 1))
    wmax = np.maximum(np.abs(w1), np.abs(w2))
    retained = wmax <= k
    ok = np.isfinite(rel) & (amp > 0)
    la, lr = np.log10(amp[ok]), np.log10(np.maximum(rel[ok], 1e-300))
    nz = rel[ok] > 0
    slope, intercept = np.polyfit(la[nz], lr[nz], 1)
    u = 2.0 ** -11
    med_ret = float(np.nanmedian(rel[retained & ok]))
    med_trunc = float(np.nanmedian(rel[~retained & ok]))
    fig, axes = new_figure()
    ax = axes[0][0]
    ax.loglog(amp[~retained & ok], rel[~retained & ok], ".", ms=2, color="tab:orange", alpha=0.5,
              label=f"truncated modes (|w|_inf > {k})")
    ax.loglog(amp[retained & ok], rel[retained & ok], ".", ms=4, color="tab:blue", label=f"retained modes (|w|_inf <= {k})")
    grid = np.logspace(la.min(), la.max(), 50)
    ax.loglog(grid, 10 ** (intercept + slope * np.log10(grid)), "k-", label=f"fit: slope {slope:.2f}")
    ax.axhline(u, color="tab:red", ls="--", label="fp16 unit roundoff u = 2^-11")
    ax.set_xlabel("mode amplitude |V_s(w)| (norm='forward')")
    ax.set_ylabel("relative fp16 error |fl(V)(w) - V(w)| / |V(w)|")
    ax.set_title(f"{fn.spec}, s = {s}: {mode_label(ctx, GPU_DEPENDENT)}", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    comps = [
        Comparison(quantity="log-log slope of relative error vs amplitude", ours=float(slope), paper=None,
                   source="NOTES.md s4", note="paper: relative error grows as amplitude falls (negative slope; -1 = constant absolute error)"),
        Comparison(quantity="median rel. error, truncated / retained modes", ours=med_trunc / med_ret, paper=None,
                   source="NOTES.md s4", note="paper: high, small modes (truncated by FNO) suffer most (> 1)"),
    ]
    data = {"function": fn.spec, "s": s, "k": k, "format": "fp16", "slope": float(slope), "intercept": float(intercept),
            "median_rel_retained": med_ret, "median_rel_truncated": med_trunc,
            "amplitude": amp[ok].tolist(), "rel_error": rel[ok].tolist(), "retained": retained[ok].tolist()}
    return ArtefactResult(data=data, figure=fig, comparisons=comps)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
