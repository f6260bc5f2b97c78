"""Test error against training wall time for full, mixed and the precision schedule (NOTES.md s3).

The schedule is the paper's: half for the first 25% of epochs, then mixed with the stabilizer off, then full
precision for the last 25% (their [125, 375] of 500 epochs). Wall time is the trainer's cumulative training
time (evaluation excluded). GPU-dependent: the paper's speed-ups need tensor cores; the quick CPU version
uses bf16 where the paper uses fp16 and shows the code path and the error curves, not the speed-ups.
"""

from __future__ import annotations

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure

NAME = "error_vs_time"
TITLE = "test error against wall time for full, mixed and the precision schedule"
GPU_DEPENDENT = True


def runs(ctx: Context):
    from paper_repro._training import precision_names, settings_for, train_run

    st = settings_for(ctx)
    p = precision_names(st)
    e1, e2 = st.epochs // 4, (3 * st.epochs) // 4
    sched = f"{p['half']}:0,{p['mixed']}+none:{e1},full:{e2}"
    return st, {
        "full": train_run(st, "full", precision="full", backend="fft"),
        "mixed": train_run(st, "mixed", precision=p["mixed"]),
        "half": train_run(st, "half", precision=p["half"]),
        "schedule": train_run(st, "schedule", schedule=sched),
    }


def compute(ctx: Context) -> ArtefactResult:
    from paper_repro._training import describe, public
    from paper_repro.paper_numbers import SCHEDULE_H1

    st, rs = runs(ctx)
    r0 = str(st.res)
    fig, axes = new_figure(width=6.0)
    ax = axes[0][0]
    for (name, run), style in zip(rs.items(), ("k-o", "b-s", "g-^", "r-D")):
        ax.plot(run["train_seconds"], run["test_h1"][r0], style, ms=4, label=f"{name} ({run['precision'] or run['schedule']})")
    ax.set_yscale("log")
    ax.set_xlabel("cumulative training wall time (s)")
    ax.set_ylabel(f"relative H1 test error at {st.res}x{st.res}")
    ax.set_title(f"Darcy, test error vs time: {mode_label(ctx, GPU_DEPENDENT)}", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    full = rs["full"]["final_h1"][r0]
    comps = [
        Comparison(quantity="final H1: schedule / full", ours=rs["schedule"]["final_h1"][r0] / full,
                   paper=SCHEDULE_H1["schedule"].value / SCHEDULE_H1["full"].value, source=SCHEDULE_H1["full"].source,
                   note="paper: 8-layer Navier-Stokes, 500 epochs"),
        Comparison(quantity="final H1: half / full", ours=rs["half"]["final_h1"][r0] / full,
                   paper=SCHEDULE_H1["half"].value / SCHEDULE_H1["full"].value, source=SCHEDULE_H1["full"].source),
        Comparison(quantity="training time: schedule / full", ours=rs["schedule"]["train_seconds"][-1] / rs["full"]["train_seconds"][-1],
                   paper=None, source="NOTES.md s3", note="CPU timing, no tensor cores: not the paper's speed-up"),
    ]
    return ArtefactResult(data={"settings": describe(st), "runs": {k: public(v) for k, v in rs.items()}},
                          figure=fig, comparisons=comps)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
