"""Test error against training wall time for full, mixed, half and the precision schedule (NOTES.md s3).

The schedule is the paper's: half for the first 25% of epochs, then mixed with the stabilizer off, then full
precision for the last 25% (their [125, 375] of 500 epochs). Wall time is the trainer's cumulative training
time (evaluation excluded); curves are the mean over seeds, the band spans the seeds. On a CPU the
reduced-precision blocks are emulated op by op, so their time axis is the emulation's cost (a GPU run measures
the speed-up; see paper_repro/gpu_trainer_check.sh): the CPU figure shows whether the schedule reaches full
precision's error, not how fast.
"""

from __future__ import annotations

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure, plain_log_axis

NAME = "error_vs_time"
TITLE = "test error against wall time for full, mixed, half and the precision schedule"
GPU_DEPENDENT = False


def schedule_text(st) -> str:  # type: ignore[no-untyped-def]
    """The paper's half -> mixed (no stabilizer) -> full schedule at 0, 25% and 75% of the epochs."""
    from paper_repro._training import precision_names

    p = precision_names(st)
    e1, e2 = max(1, st.epochs // 4), max(2, (3 * st.epochs) // 4)
    return f"{p['half']}:0,{p['mixed']}+none:{e1},full:{e2}"


def configs(st):  # type: ignore[no-untyped-def]
    """{name: run specs over seeds} of this artefact (shared with pareto and schedule_superres)."""
    from paper_repro._training import RunSpec, precision_names
    from paper_repro.precision_table import specs

    p = precision_names(st)
    return {
        "full": specs(st, "full", "fft"),
        "mixed": specs(st, p["mixed"], "dft"),
        "half": specs(st, p["half"], "dft"),
        "schedule": [RunSpec(settings=st, precision=None, schedule=schedule_text(st), backend="dft", seed=s)
                     for s in st.seeds],
    }


def training_specs(ctx: Context) -> list:
    """Every run this artefact trains."""
    from paper_repro._training import settings_for

    return [s for v in configs(settings_for(ctx)).values() for s in v]


def compute(ctx: Context) -> ArtefactResult:
    import numpy as np

    from paper_repro._training import describe, final_metric, seed_stats, settings_for, train_runs
    from paper_repro.paper_numbers import SCHEDULE_H1

    st = settings_for(ctx)
    cfg = configs(st)
    flat = [s for v in cfg.values() for s in v]
    recs = dict(zip(flat, train_runs(flat, label=NAME)))
    runs = {k: [recs[s] for s in v] for k, v in cfg.items()}
    r0 = str(st.res)
    fig, axes = new_figure(ncols=2, width=4.6, height=3.8)
    styles = {"full": ("k", "o"), "mixed": ("tab:blue", "s"), "half": ("tab:green", "^"), "schedule": ("tab:red", "D")}
    curves = {}
    for name, rs in runs.items():
        t = np.mean([r["eval_train_seconds"] for r in rs], axis=0)
        for ax, metric in zip(axes[0], ("l2", "h1")):
            e = np.array([r[f"test_{metric}"][r0] for r in rs])
            color, marker = styles[name]
            ax.plot(t, e.mean(axis=0), color=color, marker=marker, ms=3, lw=1.2,
                    label=f"{name} ({rs[0]['precision'] or 'half -> mixed -> full'}, {rs[0]['backend']})")
            ax.fill_between(t, e.min(axis=0), e.max(axis=0), color=color, alpha=0.15, lw=0)
            curves.setdefault(name, {})[metric] = {"seconds": t.tolist(), "mean": e.mean(axis=0).tolist(),
                                                    "min": e.min(axis=0).tolist(), "max": e.max(axis=0).tolist()}
    for ax, metric in zip(axes[0], ("L2", "H1")):
        ax.set_yscale("log")
        plain_log_axis(ax.yaxis)
        ax.set_xlabel("training wall time (s)")
        ax.set_ylabel(f"relative {metric} test error at {st.res}x{st.res}")
        ax.grid(True, which="both", alpha=0.3)
    e1, e2 = max(1, st.epochs // 4), max(2, (3 * st.epochs) // 4)
    for ax in axes[0]:
        ts = np.mean([r["train_seconds"] for r in runs["schedule"]], axis=0)
        for e in (e1, e2):
            ax.axvline(ts[e - 1], color="tab:red", lw=0.6, ls=":")
    axes[0][1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    n = len(st.seeds)
    fig.suptitle(f"Test error vs training time, mean of {n} seed{'s' if n > 1 else ''} (band: seed range; dotted: "
                 f"schedule switches; time: cumulative, evaluation excluded): {mode_label(ctx, GPU_DEPENDENT)}", fontsize=8)
    final = {k: {m: seed_stats([final_metric(r, m, r0) for r in rs]) for m in ("l2", "h1")} for k, rs in runs.items()}
    total = {k: seed_stats([r["train_seconds"][-1] for r in rs]) for k, rs in runs.items()}
    cpu = st.device == "cpu"
    scale = f"{st.dataset} {st.res}x{st.res}, {st.epochs} epochs on {st.device}"
    comps = [
        Comparison(quantity="final H1: schedule / full", ours=final["schedule"]["h1"]["mean"] / final["full"]["h1"]["mean"],
                   paper=SCHEDULE_H1["schedule"].value / SCHEDULE_H1["full"].value, unit="x", source=SCHEDULE_H1["full"].source,
                   reason=f"different problem and scale: the paper's is an 8-layer Navier-Stokes FNO, 500 epochs; ours {scale}",
                   note=f"seed std of full H1 {final['full']['h1']['std']:.2g}"),
        Comparison(quantity="final H1: half / full", ours=final["half"]["h1"]["mean"] / final["full"]["h1"]["mean"],
                   paper=SCHEDULE_H1["half"].value / SCHEDULE_H1["full"].value, unit="x", source=SCHEDULE_H1["full"].source,
                   reason=f"different problem and scale (paper: 8-layer Navier-Stokes, 500 epochs, tanh; ours {scale}, pow2)"),
        Comparison(quantity="training time: schedule / full", ours=total["schedule"]["mean"] / total["full"]["mean"],
                   paper=None, unit="x", source="NOTES.md s3",
                   reason="CPU time of an emulated block is not a GPU speed-up" if cpu else
                   "the paper gives no time for the schedule"),
    ]
    return ArtefactResult(data={"settings": describe(st), "schedule": schedule_text(st), "final": final,
                                "train_seconds_total": total, "curves": curves, "runs": runs},
                          figure=fig, comparisons=comps)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
