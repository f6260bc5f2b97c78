"""Test error against epoch time per precision and architecture: the accuracy / cost trade-off (NOTES.md s3-4).

Each point is one configuration trained with several seeds: a dense or a CP-factorised FNO (rank 0.05 of the
dense weight count, the paper's TFNO, NOTES.md s4) with ``n_modes`` 8, 16 or 24 per axis, in full precision and
with the fp16 half spectral block (DFT backend, pow2 stabilizer). x = median epoch time, y = final relative
L2 test error (mean over seeds, bar = standard deviation). The Pareto front (no other point both faster and
more accurate) is drawn. On a CPU the half block is emulated op by op, so its x position is the emulation's
cost: the CPU figure ranks architectures and modes by accuracy and fp32 cost; the GPU run
(paper_repro/gpu_trainer_check.sh) measures the half block's speed.
"""

from __future__ import annotations

import statistics

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure, plain_log_axis

NAME = "pareto"
TITLE = "test error against epoch time per precision, architecture (dense, CP) and modes"
GPU_DEPENDENT = False

MODES = (8, 16, 24)
ARCHS = (None, "cp")


def configs(st, quick: bool = False):  # type: ignore[no-untyped-def]
    """{(arch, modes, precision): run specs over seeds} (quick: the default modes only)."""
    from paper_repro._training import precision_names
    from paper_repro.precision_table import specs

    p = precision_names(st)
    modes = (st.modes,) if quick else MODES
    out = {}
    for arch in ARCHS:
        for m in modes:
            st_m = st.with_(modes=m, factorization=arch)
            for prec, backend in (("full", "fft"), (p["half"], "dft")):
                out[(arch or "dense", m, prec)] = specs(st_m, prec, backend, base=arch is None and m == st.modes)
    return out


def _front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the Pareto-optimal points (minimise both coordinates), sorted by the first."""
    order = sorted(range(len(points)), key=lambda i: points[i])
    front, best = [], float("inf")
    for i in order:
        if points[i][1] < best:
            front.append(i)
            best = points[i][1]
    return front


def training_specs(ctx: Context) -> list:
    """Every run this artefact trains."""
    from paper_repro._training import settings_for

    return [s for v in configs(settings_for(ctx), ctx.quick).values() for s in v]


def compute(ctx: Context) -> ArtefactResult:
    from paper_repro._training import describe, final_metric, seed_stats, settings_for, train_runs
    from paper_repro.paper_numbers import NS_EPOCH

    st = settings_for(ctx)
    cfg = configs(st, ctx.quick)
    flat = [s for v in cfg.values() for s in v]
    recs = dict(zip(flat, train_runs(flat, label=NAME)))
    r0 = st.res
    rows = []
    for (arch, m, prec), sp in cfg.items():
        rs = [recs[s] for s in sp]
        rows.append({"arch": arch, "modes": m, "precision": prec, "backend": sp[0].backend,
                     "epoch_s_median": statistics.median(t for r in rs for t in r["epoch_seconds"]),
                     "test_l2": seed_stats([final_metric(r, "l2", r0) for r in rs]),
                     "test_h1": seed_stats([final_metric(r, "h1", r0) for r in rs]),
                     "seeds": [r["seed"] for r in rs]})
    pts = [(r["epoch_s_median"], r["test_l2"]["mean"]) for r in rows]
    front = _front(pts)
    for i, r in enumerate(rows):
        r["pareto_optimal"] = i in front
    fig, axes = new_figure(width=6.4, height=4.4)
    ax = axes[0][0]
    colors = {"full": "k", "half": "tab:red"}
    markers = {"dense": "o", "cp": "s"}
    for r in rows:
        c = colors["full" if r["precision"] == "full" else "half"]
        ax.errorbar([r["epoch_s_median"]], [r["test_l2"]["mean"]], yerr=[r["test_l2"]["std"]], fmt=markers[r["arch"]],
                    color=c, mfc=c if r["arch"] == "dense" else "white", ms=7, capsize=3)
        ax.annotate(f"{r['modes']}", (r["epoch_s_median"], r["test_l2"]["mean"]), textcoords="offset points",
                    xytext=(6, 4), fontsize=7)
    fx = [pts[i][0] for i in front]
    fy = [pts[i][1] for i in front]
    ax.plot(fx, fy, color="tab:blue", lw=1, ls="--", zorder=0)
    for label, kw in (("dense FNO, full (fp32)", dict(marker="o", color="k")),
                      ("dense FNO, half fp16 block (dft)", dict(marker="o", color="tab:red")),
                      ("CP FNO, full (fp32)", dict(marker="s", color="k", mfc="white")),
                      ("CP FNO, half fp16 block (dft)", dict(marker="s", color="tab:red", mfc="white")),
                      ("Pareto front", dict(color="tab:blue", ls="--")),
                      ("number: n_modes per axis", dict(ls="none", marker="none"))):
        ax.plot([], [], ls=kw.pop("ls", "none"), label=label, **kw)
    ax.set_xscale("log")
    plain_log_axis(ax.xaxis)
    ax.set_xlabel("median epoch time (s)" + (" [CPU; half block emulated op by op]" if st.device == "cpu" else ""))
    ax.set_ylabel(f"final relative L2 test error at {st.res}x{st.res}\n(mean over {len(st.seeds)} seeds, bar: std)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    ax.set_title(f"Accuracy vs cost, {st.dataset} {st.res}x{st.res}: {mode_label(ctx, GPU_DEPENDENT)}", fontsize=9)
    gpu = NS_EPOCH["RTX 3090 Ti"]
    base = next(r for r in rows if r["arch"] == "dense" and r["modes"] == st.modes and r["precision"] == "full")
    half = next(r for r in rows if r["arch"] == "dense" and r["modes"] == st.modes and r["precision"] != "full")
    cpu = st.device == "cpu"
    comps = [
        Comparison(quantity=f"epoch time: half block / full (dense, {st.modes} modes)",
                   ours=half["epoch_s_median"] / base["epoch_s_median"],
                   paper=gpu["half"]["epoch_s"].value / gpu["fp32"]["epoch_s"].value, unit="x",
                   source=gpu["fp32"]["epoch_s"].source,
                   reason="CPU time of an emulated fp16 block against RTX 3090 Ti tensor-core time: not the same "
                          "measurement" if cpu else "different GPU (H200 vs RTX 3090 Ti) and problem (Darcy vs Navier-Stokes)"),
    ]
    return ArtefactResult(data={"settings": describe(st), "rows": rows, "front": [rows[i] for i in front],
                                "runs": {f"{a}-{m}-{p}": [recs[s] for s in sp] for (a, m, p), sp in cfg.items()}},
                          figure=fig, comparisons=comps)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
