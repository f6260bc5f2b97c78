"""Stabilizers of the half-precision spectral block: none, hard clip, 2-sigma clip, tanh, power-of-two pre-scale.

Each is trained with the block in fp16 (matrix-product DFT backend on CPU, any backend on GPU) from the same
seed; reported: final relative test error and the number of non-finite (skipped) steps. The paper found
"none" diverges to NaN and chose tanh (NOTES.md s3); ``pow2`` is exact (it does not change the function).
GPU-dependent: the paper's divergence happened at its sizes on a GPU; tiny CPU runs rarely reach fp16's range.
"""

from __future__ import annotations

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure

NAME = "stabilizers"
TITLE = "none, hard clip, 2-sigma clip, tanh, power-of-two pre-scale: final error and non-finite steps"
GPU_DEPENDENT = True

KINDS = ("none", "clip", "sigma2", "tanh", "pow2")


def compute(ctx: Context) -> ArtefactResult:
    import numpy as np

    from paper_repro._training import describe, public, settings_for, train_run
    from paper_repro.paper_numbers import ACCURACY_H1

    st = settings_for(ctx)
    full = train_run(st, "full", precision="full", backend="fft")
    rs = {k: train_run(st, f"half+{k}", precision=f"half+{k}", backend="dft") for k in KINDS}
    r0 = str(st.res)
    err = [rs[k]["final_h1"][r0] for k in KINDS]
    nonfinite = [rs[k]["nonfinite_steps"] for k in KINDS]
    fig, axes = new_figure(ncols=2, width=4.5)
    ax, bx = axes[0]
    xs = np.arange(len(KINDS))
    ax.bar(xs, err, color="tab:blue", label="fp16 half block (dft backend)")
    ax.axhline(full["final_h1"][r0], color="k", ls="--", label="full precision")
    ax.set_xticks(xs, KINDS)
    ax.set_ylabel(f"final relative H1 test error at {st.res}x{st.res}")
    ax.set_xlabel("stabilizer")
    ax.legend(fontsize=7)
    bx.bar(xs, nonfinite, color="tab:red", label="non-finite (skipped) steps")
    bx.set_xticks(xs, KINDS)
    bx.set_ylim(0, max(1, max(nonfinite)) * 1.2)
    for xi, n in zip(xs, nonfinite):
        bx.text(xi, n, str(n), ha="center", va="bottom", fontsize=8)
    bx.set_ylabel("non-finite training steps (count)")
    bx.set_xlabel("stabilizer")
    bx.legend(fontsize=7)
    fig.suptitle(f"Stabilizers of the fp16 spectral block: {mode_label(ctx, GPU_DEPENDENT)}", fontsize=9)
    e_full = full["final_h1"][r0]
    paper = ACCURACY_H1["Darcy FNO-16"]
    comps = [Comparison(quantity=f"final H1: half+{k} / full", ours=rs[k]["final_h1"][r0] / e_full,
                        paper=paper[1].value / paper[0].value if k == "tanh" else None, source=paper[0].source,
                        note="paper: Darcy FNO-16, AMP+half+tanh" if k == "tanh" else "")
             for k in KINDS]
    comps.append(Comparison(quantity="non-finite steps with no stabilizer", ours=rs["none"]["nonfinite_steps"], paper=None,
                            source="NOTES.md s3", note="paper: 'none' diverges to NaN at its (GPU) sizes"))
    return ArtefactResult(data={"settings": describe(st), "kinds": list(KINDS), "final_h1": err, "nonfinite_steps": nonfinite,
                                "full_h1": e_full, "runs": {k: public(v) for k, v in rs.items()}},
                          figure=fig, comparisons=comps)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
