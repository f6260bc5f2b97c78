"""Peak memory and samples/s of one training step per precision (``errbound bench``), beside the paper's table.

Settings compared (NOTES.md s4 table): fp32, TF32, AMP only, half spectral block only, AMP + half. Ours:
``full``; TF32 = ``full`` with ``torch.backends.cuda.matmul.allow_tf32`` (CUDA only); ``amp``; AMP + half =
``half`` (our half policies always run AMP outside the block, so "half block only" has no separate policy);
plus neuraloperator's FNO in the same run when it is importable (``lib`` field). Ratios are against our full
precision measured in the same run (medians of timed steps). GPU-dependent: peak memory is CUDA's
``max_memory_allocated``; on a CPU (quick mode) only samples/s is measured, with bf16 standing in for fp16.
"""

from __future__ import annotations

from typing import Any

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure

NAME = "memory_throughput"
TITLE = "peak memory and samples/s per precision (errbound bench)"
GPU_DEPENDENT = True


def _configs(ctx: Context) -> list[tuple[str, str, str, bool]]:
    """(label, precision, backend, tf32) per setting."""
    low = "-bf16" if ctx.device == "cpu" else ""
    rows = [("fp32", "full", "fft", False)]
    if ctx.device == "cuda":
        rows.append(("TF32", "full", "fft", True))
    rows += [("AMP", f"amp{low}", "fft", False), ("AMP + half (dft)", f"half{low}", "dft", False)]
    if ctx.device == "cuda":
        rows += [("AMP + half (fft, pow2)", "half", "fft", False), ("AMP + mixed", "mixed", "fft", False)]
    else:
        rows.append(("AMP + half fp16 (dft)", "half", "dft", False))
    return rows


def bench_rows(ctx: Context) -> list[dict[str, Any]]:
    import torch

    from errbound.train import BenchConfig, bench_step, parse_policy
    from errbound.train.bench import bench_neuralop, neuralop_available

    if ctx.quick:
        sizes = dict(res=32, batch=4, hidden=16, modes=8, n_layers=2, warmup=1, steps=3)
        resolutions = [32]
    else:
        sizes = dict(batch=16, hidden=64, modes=32, n_layers=4, warmup=2, steps=5)
        resolutions = [256, 512]
    rows = []
    for res in resolutions:
        for label, prec, backend, tf32 in _configs(ctx):
            kw = dict(sizes, res=res) if "res" not in sizes else dict(sizes)
            cfg = BenchConfig(policy=parse_policy(prec), backend=backend, device=ctx.device, seed=ctx.seed, **kw)
            old = torch.backends.cuda.matmul.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = tf32
            try:
                row = bench_step(cfg)
            finally:
                torch.backends.cuda.matmul.allow_tf32 = old
            rows.append({**row, "setting": label})
            if neuralop_available() and label in ("fp32", "AMP", "AMP + half (fft, pow2)"):
                rows.append({**bench_neuralop(cfg), "setting": label})
    return rows


def _plot(rows: list[dict[str, Any]], ctx: Context, title_suffix: str):
    import numpy as np

    from paper_repro.paper_numbers import NS_EPOCH

    fig, axes = new_figure(ncols=2, width=5.0)
    ax, bx = axes[0]
    ours = [r for r in rows if r["lib"] == "errbound" and r["res"] == rows[0]["res"]]
    base = next(r for r in ours if r["setting"] == "fp32")
    labels = [r["setting"] for r in ours]
    xs = np.arange(len(labels))
    thr = [r["samples_per_s"] / base["samples_per_s"] if r["samples_per_s"] else 0.0 for r in ours]
    ax.bar(xs - 0.2, thr, 0.4, color="tab:blue", label=f"ours ({ctx.device}, res {base['res']})")
    paper = NS_EPOCH["RTX 3090 Ti"]
    pmap = {"fp32": "fp32", "TF32": "tf32", "AMP": "amp", "AMP + half (dft)": "amp+half"}
    pthr = [paper["fp32"]["epoch_s"].value / paper[pmap[lab]]["epoch_s"].value if lab in pmap and pmap[lab] in paper else 0.0
            for lab in labels]
    ax.bar(xs + 0.2, pthr, 0.4, color="tab:gray", label="paper, RTX 3090 Ti (NS)")
    ax.set_xticks(xs, labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("throughput relative to fp32 (x)")
    ax.legend(fontsize=7)
    mem = [r["peak_mem_mib"] / base["peak_mem_mib"] if r.get("peak_mem_mib") and base.get("peak_mem_mib") else 0.0 for r in ours]
    pmem = [paper[pmap[lab]]["memory_mib"].value / paper["fp32"]["memory_mib"].value if lab in pmap and pmap[lab] in paper else 0.0
            for lab in labels]
    bx.bar(xs - 0.2, mem, 0.4, color="tab:green", label="ours (peak memory)")
    bx.bar(xs + 0.2, pmem, 0.4, color="tab:gray", label="paper, RTX 3090 Ti (NS)")
    if base.get("peak_mem_mib") is None:
        bx.text(0.5, 0.9, "peak memory not measured on CPU\n(CUDA max_memory_allocated only)", transform=bx.transAxes,
                ha="center", va="top", fontsize=7, color="tab:red")
    bx.set_xticks(xs, labels, rotation=30, ha="right", fontsize=7)
    bx.set_ylabel("peak memory relative to fp32 (x)")
    bx.legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Training step, FNO 2-D: {title_suffix}", fontsize=9)
    return fig


def _why_not(on_gpu: bool, res: int, gpu: str, what: str) -> str:
    """Why our ratio is not the paper's number (one sentence)."""
    if not on_gpu:
        return (f"a CPU {what} ratio (bf16 standing in for fp16) is never comparable with the paper's GPU one on the {gpu}"
                if what == "throughput" else "peak memory is not measured on a CPU (CUDA max_memory_allocated only)")
    return (f"a GPU {what} ratio, but of a random-input training step at res {res} on this GPU, not the paper's "
            f"Navier-Stokes epoch at 128x128 on the {gpu}; the ratio depends on resolution and GPU model")


def _comparisons(rows: list[dict[str, Any]], on_gpu: bool) -> list[Comparison]:
    """Our ratios to fp32 beside the paper's; never comparable (different hardware class or setting, see reason)."""
    from paper_repro.paper_numbers import NS_EPOCH

    ours = {r["setting"]: r for r in rows if r["lib"] == "errbound" and r["res"] == rows[0]["res"]}
    base = ours["fp32"]
    res = base["res"]
    comps = []
    for gpu in ("RTX 3090 Ti", "V100"):
        p = NS_EPOCH[gpu]
        h = ours.get("AMP + half (dft)")
        comps.append(Comparison(
            quantity=f"throughput AMP + half / fp32 (paper {gpu})",
            ours=h["samples_per_s"] / base["samples_per_s"] if h and h["samples_per_s"] else None,
            paper=p["fp32"]["epoch_s"].value / p["amp+half"]["epoch_s"].value, unit="x", source=p["fp32"]["epoch_s"].source,
            reason=_why_not(on_gpu, res, gpu, "throughput")))
        comps.append(Comparison(
            quantity=f"peak memory AMP + half / fp32 (paper {gpu})",
            ours=h["peak_mem_mib"] / base["peak_mem_mib"] if h and h.get("peak_mem_mib") and base.get("peak_mem_mib") else None,
            paper=p["amp+half"]["memory_mib"].value / p["fp32"]["memory_mib"].value, unit="x", source=p["fp32"]["memory_mib"].source,
            reason=_why_not(on_gpu, res, gpu, "memory")))
    a = ours.get("AMP")
    p = NS_EPOCH["RTX 3090 Ti"]
    comps.append(Comparison(quantity="throughput AMP / fp32 (paper RTX 3090 Ti)",
                            ours=a["samples_per_s"] / base["samples_per_s"] if a and a["samples_per_s"] else None,
                            paper=p["fp32"]["epoch_s"].value / p["amp"]["epoch_s"].value, unit="x", source=p["fp32"]["epoch_s"].source,
                            reason=_why_not(on_gpu, res, "RTX 3090 Ti", "throughput")))
    return comps


def compute(ctx: Context) -> ArtefactResult:
    from errbound.train.bench import neuralop_available

    rows = bench_rows(ctx)
    notes = [] if neuralop_available() else ["neuraloperator is not installed here: its bars are absent"]
    if ctx.device == "cpu":
        notes.append("CPU: TF32 does not exist and peak memory is not measured; bf16 stands in for fp16 in AMP")
    return ArtefactResult(data={"rows": rows}, figure=_plot(rows, ctx, mode_label(ctx, GPU_DEPENDENT)),
                          comparisons=_comparisons(rows, ctx.device == "cuda"), notes=notes)


def from_gpu_json(payload: dict[str, Any], ctx: Context) -> ArtefactResult:
    """Rebuild from committed GPU results: ``{"rows": [errbound bench rows with a "setting" field]}``."""
    from errbound.errors import ErrboundError

    rows = payload.get("rows") if isinstance(payload, dict) else None
    if not rows or not any(r.get("setting") == "fp32" for r in rows):
        raise ErrboundError("committed GPU results for memory_throughput need 'rows' with an 'fp32' setting")
    return ArtefactResult(data={"rows": rows}, figure=_plot(rows, ctx, "committed GPU results"),
                          comparisons=_comparisons(rows, True))


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
