"""Relative fp16 error per frequency against the mode's amplitude (the paper's per-frequency figure).

Random fields with algebraically decaying spectrum (``grf``: the FNO-paper Gaussian random field; full mode: 16
samples on the paper's Navier-Stokes grid s = 128, modes |w|_inf <= 32 as in its 64-mode TFNO) are sampled
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
    from errbound.progress import progress
    from paper_repro._spectral import emulated_rfft2

    # full: the paper's Navier-Stokes grid (128 x 128) and TFNO's 64 modes (|w|_inf <= 32), 16 GRF samples
    s, k, n = (64, 8, 2) if ctx.quick else (128, 32, 16)
    specs, amps, rels = [], [], []
    for i in progress(range(n), total=n, label=f"{NAME} samples"):
        fn = get_function(f"grf:seed={ctx.seed + i}", dim=2)
        specs.append(fn.spec)
        x = fn.eval_grid(s)
        exact = np.fft.rfft2(x, norm="forward")
        approx = emulated_rfft2(x, "fp16")
        amps.append(np.abs(exact))
        rels.append(np.abs(approx - exact) / np.where(amps[-1] > 0, amps[-1], np.nan))
    amp, rel = np.stack(amps), np.stack(rels)
    w1 = np.abs(np.fft.fftfreq(s, 1.0 / s))[:, None]
    w2 = np.arange(amp.shape[-1])[None, :]
    retained = np.broadcast_to(np.maximum(w1, w2) <= k, amp.shape)
    ok = np.isfinite(rel) & (amp > 0)
    la, lr = np.log10(amp[ok]), np.log10(np.maximum(rel[ok], 1e-300))
    nz = rel[ok] > 0
    slope, intercept = np.polyfit(la[nz], lr[nz], 1)
    u = 2.0 ** -11
    med_ret = float(np.nanmedian(rel[retained & ok]))
    med_trunc = float(np.nanmedian(rel[~retained & ok]))
    edges = np.logspace(la.min(), la.max(), 25)
    idx = np.digitize(amp[ok], edges)
    centres, medians = [], []
    for j in range(1, len(edges)):
        sel = rel[ok][idx == j]
        if sel.size >= 20:
            centres.append(float(np.sqrt(edges[j - 1] * edges[j])))
            medians.append(float(np.median(sel)))
    fig, axes = new_figure(width=6.0, height=5.0)
    ax = axes[0][0]
    ax.loglog(amp[~retained & ok], rel[~retained & ok], ".", ms=1.5, color="tab:orange", alpha=0.3, rasterized=True)
    ax.loglog(amp[retained & ok], rel[retained & ok], ".", ms=2, color="tab:blue", alpha=0.5, rasterized=True)
    # legend proxies: the scatter's own markers are too small and faint to read in a legend
    ax.plot([], [], "o", ms=5, color="tab:orange", label=f"truncated modes (|w|_inf > {k})")
    ax.plot([], [], "o", ms=5, color="tab:blue", label=f"retained modes (|w|_inf <= {k})")
    ax.loglog(centres, medians, "o", color="black", mfc="white", ms=5, label="median in amplitude bin")
    grid = np.logspace(la.min(), la.max(), 50)
    ax.loglog(grid, 10 ** (intercept + slope * np.log10(grid)), "k-", lw=1.2, label=f"least-squares fit: slope {slope:.2f}")
    ax.axhline(u, color="tab:red", ls="--", label="fp16 unit roundoff u = 2^-11")
    ax.set_xlabel("mode amplitude |V(w)| (rfft2, norm='forward'; dimensionless)")
    ax.set_ylabel("relative fp16 error |fl(V)(w) - V(w)| / |V(w)| (dimensionless)")
    ax.set_title(f"{n} GRF samples (alpha 2.5, tau 7), s = {s}, modes |w|_inf <= {k}: {mode_label(ctx, GPU_DEPENDENT)}",
                 fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=7)
    comps = [
        Comparison(quantity="log-log slope of relative error vs amplitude", ours=float(slope), paper=None,
                   source="NOTES.md s4", note="paper: relative error grows as amplitude falls (negative slope; -1 = constant absolute error)",
                   reason="the paper states the trend only qualitatively (a figure, no slope), so there is no number to divide by"),
        Comparison(quantity="median rel. error, truncated / retained modes", ours=med_trunc / med_ret, paper=None,
                   source="NOTES.md s4", note="paper: high, small modes (truncated by FNO) suffer most (> 1)",
                   reason="the paper states only the direction (truncated modes suffer most), not a ratio"),
    ]
    data = {"functions": specs, "s": s, "k": k, "samples": n, "format": "fp16", "slope": float(slope),
            "intercept": float(intercept), "median_rel_retained": med_ret, "median_rel_truncated": med_trunc,
            "binned": {"amplitude": centres, "median_rel_error": medians},
            # per-mode points of the first sample only (all samples would make a 6 MB JSON); the figure shows all
            "sample0": {"amplitude": amp[0][ok[0]].tolist(), "rel_error": rel[0][ok[0]].tolist(),
                        "retained": retained[0][ok[0]].tolist()}}
    return ArtefactResult(data=data, figure=fig, comparisons=comps)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
