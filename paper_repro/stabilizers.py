"""Stabilizers of the fp16 half spectral block: none, hard clip, 2-sigma clip, tanh, power-of-two pre-scale.

Trained on data where the emulator predicts an fp16 overflow of the forward transform
(:func:`paper_repro._training.overflow_settings`: Darcy with the coefficient in units 100x larger and no
input normalisation, as a user who trains on raw physical values would): the block's input sums to far more
than fp16's 65504 over the grid. The block is the faithful fp16 FFT (fft backend: every butterfly rounded to
fp16, on a CPU by the correctly rounded emulation; cuFFT on a GPU), the rest of the network fp32. Each
stabilizer is trained with every seed; a full-precision run on the same data is the reference. Reported per
stabilizer (``data.rows``): non-finite (skipped) training steps, final relative L2 and H1 test error (mean and
standard deviation over seeds; ``None`` when the trained model's test output is not finite) and the
emulator's prediction for the block on the training inputs.

The paper found that training with no stabilizer diverges to NaN and chose tanh (NOTES.md s3); ``pow2``
(:mod:`errbound.block`) scales the input by an exact power of two chosen from its magnitude and undoes it after
the inverse transform, so it changes no value but the rounding's position.
"""

from __future__ import annotations

import math

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure

NAME = "stabilizers"
TITLE = "none, hard clip, 2-sigma clip, tanh, power-of-two pre-scale: non-finite steps and final error"
GPU_DEPENDENT = False

KINDS = ("none", "clip", "sigma2", "tanh", "pow2")


def predicted_overflow(st, n: int = 4) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """The emulator's overflow prediction for the fp16 half block (fft) with each stabilizer on ``n`` training
    inputs (one channel, seeded random weights: the advisor's model of a layer)."""
    from errbound.policy import parse_policy
    from errbound.precision import sweep
    from paper_repro._training import _dataset

    x = _dataset(st).load_train()[0][:n].numpy().astype("float64")
    if x.ndim == 4:  # (N, C, H, W): the first channel
        x = x[:, 0]
    return {k: bool(sweep({st.res: x}, parse_policy(f"half+{k}", "fft"), modes=st.modes)[0]["overflow"]) for k in KINDS}


def _finite_or_none(v: float) -> float | None:
    return v if math.isfinite(v) else None


def configs(ctx: Context):  # type: ignore[no-untyped-def]
    """{stabilizer or "full (fp32 reference)": run specs over seeds} on the overflow data."""
    from paper_repro._training import RunSpec, overflow_settings, settings_for

    st = overflow_settings(settings_for(ctx))
    specs = {k: [RunSpec(settings=st, precision=f"half+{k}", backend="fft", seed=s) for s in st.seeds] for k in KINDS}
    specs["full (fp32 reference)"] = [RunSpec(settings=st, precision="full", backend="fft", seed=s) for s in st.seeds]
    return st, specs


def training_specs(ctx: Context) -> list:
    """Every run this artefact trains."""
    return [s for v in configs(ctx)[1].values() for s in v]


def compute(ctx: Context) -> ArtefactResult:
    import numpy as np

    from paper_repro._training import OVERFLOW_SCALE, describe, seed_stats, train_runs

    st, specs = configs(ctx)
    flat = [s for v in specs.values() for s in v]
    recs = dict(zip(flat, train_runs(flat, label=NAME)))
    predicted = predicted_overflow(st)
    r0 = str(st.res)
    rows = []
    for k, sp in specs.items():
        rs = [recs[s] for s in sp]
        row = {"stabilizer": k if k in KINDS else "full", "precision": sp[0].precision,
               "nonfinite_steps": sum(r["nonfinite_steps"] for r in rs),
               "nonfinite_steps_per_seed": [r["nonfinite_steps"] for r in rs], "steps_per_seed": rs[0]["steps"],
               "predicted_overflow": predicted.get(k, False)}
        for m in ("l2", "h1"):
            vals = [r[f"final_{m}"][r0] for r in rs]
            finite = [v for v in vals if math.isfinite(v)]
            row[f"test_{m}"] = _finite_or_none(float(np.mean(vals))) if len(finite) == len(vals) else None
            row[f"test_{m}_std"] = seed_stats(finite)["std"] if len(finite) == len(vals) else None
            row[f"test_{m}_per_seed"] = [_finite_or_none(float(v)) for v in vals]
        rows.append(row)
    fig, axes = new_figure(ncols=2, width=4.6, height=3.8)
    ax, bx = axes[0]
    names = [r["stabilizer"] for r in rows]
    xs = np.arange(len(rows))
    finite_vals = [v for r in rows for v in r["test_l2_per_seed"] if v is not None]
    top = max(finite_vals) * 1.25 if finite_vals else 1.0
    for x, r in zip(xs, rows):
        color = "k" if r["stabilizer"] == "full" else "tab:blue"
        if r["test_l2"] is None:
            ax.text(x, 0.02 * top, "no finite\ntest error", ha="center", va="bottom", fontsize=7, color="tab:red")
            continue
        ax.bar(x, r["test_l2"], yerr=r["test_l2_std"], color=color, alpha=0.75, capsize=3)
        ax.plot([x] * len(r["test_l2_per_seed"]), r["test_l2_per_seed"], "k.", ms=4)
    ax.set_ylim(0, top)
    ax.set_xticks(xs, names, fontsize=8)
    ax.set_xlabel("stabilizer of the fp16 half block (fft)")
    ax.set_ylabel(f"final relative L2 test error at {st.res}x{st.res}\n(mean over {len(st.seeds)} seeds, dots: seeds)")
    ax.grid(True, axis="y", alpha=0.3)
    nonfinite = [r["nonfinite_steps"] for r in rows]
    total = rows[0]["steps_per_seed"] * len(st.seeds)
    bx.bar(xs, nonfinite, color=["tab:red" if n else "tab:green" for n in nonfinite])
    for x, n, r in zip(xs, nonfinite, rows):
        bx.text(x, n, f"{n}" + (" *" if r["predicted_overflow"] else ""), ha="center", va="bottom", fontsize=8)
    bx.set_ylim(0, max(total, 1) * 1.12)
    bx.axhline(total, color="k", lw=0.6, ls=":")
    bx.set_xticks(xs, names, fontsize=8)
    bx.set_xlabel("stabilizer (* = emulator predicts fp16 overflow)")
    bx.set_ylabel(f"non-finite (skipped) training steps\n(sum over seeds; dotted: all {total} steps)")
    fig.suptitle(f"Stabilizers of the fp16 half block on data that overflow it ({st.dataset} {st.res}x{st.res}, "
                 f"coefficient in units x{OVERFLOW_SCALE:g}, raw inputs): {mode_label(ctx, GPU_DEPENDENT)}", fontsize=9)
    by = {r["stabilizer"]: r for r in rows}
    comps = [
        Comparison(quantity="non-finite steps with no stabilizer", ours=by["none"]["nonfinite_steps"], paper=None,
                   unit="steps", source="NOTES.md s3",
                   reason="the paper says 'diverges to NaN' without a count (qualitative)"),
        Comparison(quantity="non-finite steps with pow2", ours=by["pow2"]["nonfinite_steps"], paper=None, unit="steps",
                   source="NOTES.md s3", reason="the paper has no power-of-two pre-scale (errbound's stabilizer)"),
    ]
    notes = [describe(st), "emulator prediction (fp16 half block, fft, 4 training inputs): " +
             ", ".join(f"{k} {'overflow' if v else 'no overflow'}" for k, v in predicted.items())]
    return ArtefactResult(data={"settings": describe(st), "rows": rows, "predicted_overflow": predicted,
                                "runs": {k: [recs[s] for s in sp] for k, sp in specs.items()}},
                          figure=fig, comparisons=comps, notes=notes)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
