"""Test error against epoch time per precision: the accuracy / cost trade-off (NOTES.md s3-4).

Each point is one training configuration (full, AMP, mixed, half = AMP + half block, the precision schedule):
x = median training time of one epoch, y = final relative H1 test error. The paper reports epoch time ratios
(e.g. AMP + half 0.71x of fp32 on an RTX 3090 Ti) and H1 errors within a few percent of full. GPU-dependent:
on a CPU (quick mode) there are no tensor cores, so the time axis shows our CPU kernels, not the paper's gains.
"""

from __future__ import annotations

import statistics

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure

NAME = "pareto"
TITLE = "test error against epoch time per precision"
GPU_DEPENDENT = True


def compute(ctx: Context) -> ArtefactResult:
    from paper_repro import error_vs_time
    from paper_repro._training import describe, precision_names, public, train_run
    from paper_repro.paper_numbers import ACCURACY_H1, NS_EPOCH

    st, rs = error_vs_time.runs(ctx)
    p = precision_names(st)
    rs = {**rs, "amp": train_run(st, "amp", precision=p["amp"], backend="fft")}
    r0 = str(st.res)
    pts = {k: (statistics.median(v["epoch_seconds"]), v["final_h1"][r0]) for k, v in rs.items()}
    fig, axes = new_figure(width=5.5)
    ax = axes[0][0]
    for (name, (t, e)), c in zip(pts.items(), ("k", "b", "g", "r", "m")):
        ax.plot([t], [e], "o", color=c, ms=8, label=f"{name} ({rs[name]['precision'] or 'schedule'})")
        ax.annotate(name, (t, e), textcoords="offset points", xytext=(5, 5), fontsize=7)
    ax.set_xlabel("median epoch time (s)")
    ax.set_ylabel(f"final relative H1 test error at {st.res}x{st.res}")
    ax.set_title(f"Darcy, error vs epoch time: {mode_label(ctx, GPU_DEPENDENT)}", fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    t_full, e_full = pts["full"]
    gpu = NS_EPOCH["RTX 3090 Ti"]
    comps = [
        Comparison(quantity="epoch time: AMP + half / full", ours=pts["half"][0] / t_full,
                   paper=gpu["amp+half"]["epoch_s"].value / gpu["fp32"]["epoch_s"].value, source=gpu["fp32"]["epoch_s"].source,
                   note="paper: RTX 3090 Ti, Navier-Stokes"),
        Comparison(quantity="epoch time: AMP / full", ours=pts["amp"][0] / t_full,
                   paper=gpu["amp"]["epoch_s"].value / gpu["fp32"]["epoch_s"].value, source=gpu["fp32"]["epoch_s"].source),
        Comparison(quantity="final H1: AMP + half / full", ours=pts["half"][1] / e_full,
                   paper=ACCURACY_H1["Darcy FNO-16"][1].value / ACCURACY_H1["Darcy FNO-16"][0].value,
                   source=ACCURACY_H1["Darcy FNO-16"][0].source, note="paper: Darcy FNO-16 modes, tanh"),
    ]
    return ArtefactResult(data={"settings": describe(st), "points": {k: {"epoch_s": t, "h1": e} for k, (t, e) in pts.items()},
                                "runs": {k: public(v) for k, v in rs.items()}}, figure=fig, comparisons=comps)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
