"""Memory of the complex spectral contraction of a factorized FNO layer: naive single einsum vs greedy vs optimal.

The CP-factorized spectral weight ``W[i,o,x,y] = sum_r l_r A[i,r] B[o,r] X[x,r] Y[y,r]`` is contracted with the
spectrum ``S[b,i,x,y]``: ``bixy,r,ir,or,xr,yr->boxy``; the Tucker weight
``W[i,o,x,y] = sum_{efgh} G[e,f,g,h] U[i,e] V[o,f] X[x,g] Y[y,h]`` gives ``bixy,efgh,ie,of,xg,yh->boxy``.
Complex numbers are real pairs (NOTES.md s3). The naive variant is ONE real einsum over all real views
evaluated left to right (:func:`errbound.train.contraction.complex_einsum_naive`); greedy and optimal contract
pairwise in the order of opt_einsum's path search (:func:`errbound.train.contraction.contraction_path`;
"optimal" minimises the flop count).

Reported per variant and CP rank: the largest intermediate tensor (elements of the real views, from the path;
x 4 bytes for fp32), the median wall time on this device, and on a GPU the measured peak CUDA memory
(``torch.cuda.max_memory_allocated``). The largest intermediate is a property of the path, not of the
hardware, so the CPU computes it at the paper's setting (batch 16, hidden 64, 32 x 32 modes, CP rank 0.05 of the
dense parameter count, NOTES.md s4-s5); a variant whose largest intermediate exceeds :data:`RUN_LIMIT_ELEMENTS`
is not run here (its memory is the path's, its time is absent). Peak CUDA memory needs a GPU.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure
from paper_repro.paper_numbers import TFNO_CP_RANK

NAME = "contraction"
TITLE = "largest intermediate and wall time of naive vs greedy vs optimal contraction order"
GPU_DEPENDENT = False

EQUATION = "bixy,r,ir,or,xr,yr->boxy"
TUCKER_EQUATION = "bixy,efgh,ie,of,xg,yh->boxy"
VARIANTS = ("naive", "greedy", "optimal")
#: Largest intermediate (real elements) a variant may have to be run here: 2^28 fp32 = 1 GiB per tensor.
RUN_LIMIT_ELEMENTS = 2 ** 28
PAPER_RANK_FRACTION = TFNO_CP_RANK.value  # NOTES.md s4: TFNO with CP rank 0.05
_AXES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Sizes per mode; full = the paper's setting (batch 16 as in NOTES.md s5, hidden 64, 32 x 32 modes). The CP rank
#: 0.05 of the dense weight is always added to ``ranks``.
SIZES = {"quick": dict(batch=4, hidden=16, modes=(16, 16), ranks=(2, 8)),
         "full": dict(batch=16, hidden=64, modes=(32, 32), ranks=(8, 32, 128))}


def _largest_naive(equation: str, shapes: list[tuple[int, ...]]) -> int:
    """Largest intermediate (elements) of the naive real-view einsum evaluated left to right."""
    import opt_einsum

    inputs, out = equation.split("->")[0].split(","), equation.split("->")[1]
    terms = [inputs[0] + _AXES[0]]
    rshapes = [tuple(shapes[0]) + (2,)]
    for k, (t, s) in enumerate(zip(inputs[1:], shapes[1:]), start=1):
        terms.append(t + _AXES[k - 1] + _AXES[k])
        rshapes.append(tuple(s) + (2, 2))
    eq = ",".join(terms) + "->" + out + _AXES[len(shapes) - 1]
    _, info = opt_einsum.contract_path(eq, *rshapes, shapes=True, optimize=[(0, 1)] * (len(shapes) - 1))
    return int(info.largest_intermediate)


def _largest_pairwise(equation: str, shapes: list[tuple[int, ...]], path) -> int:
    """Largest intermediate (elements) of the pairwise real-view contraction along ``path``."""
    import opt_einsum

    _, info = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize=[tuple(p) for p in path])
    return int(info.largest_intermediate) * 2  # real pairs


def cp_rank(fraction: float, hidden: int, kshape: tuple[int, int]) -> int:
    """CP rank holding ``fraction`` of the dense weight's parameters (as :class:`SpectralConv` rounds it)."""
    dense = hidden * hidden * math.prod(kshape)
    return max(1, round(fraction * dense / (2 * hidden + sum(kshape) + 1)))


def tucker_ranks(fraction: float, dims: tuple[int, ...]) -> tuple[int, ...]:
    """Tucker ranks ``round(f d)`` per dimension, one common f chosen (bisection) so that core + factors hold
    about ``fraction`` of the dense weight's parameters."""
    def params(f: float) -> int:
        r = [max(1, round(f * d)) for d in dims]
        return math.prod(r) + sum(d * k for d, k in zip(dims, r))

    lo, hi, target = 0.0, 1.0, fraction * math.prod(dims)
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if params(mid) < target else (lo, mid)
    return tuple(max(1, round(hi * d)) for d in dims)


def _time(fn, device, reps: int, budget_s: float = 1.0) -> tuple[list[float], float | None, Any]:
    """Up to ``reps`` timed calls, stopping once ``budget_s`` is spent (at least one call)."""
    import torch

    times, peak, out = [], None, None
    while len(times) < reps and sum(times) < budget_s:
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        t0 = time.perf_counter()
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
            peak = (torch.cuda.max_memory_allocated() - base) / 2 ** 20
        times.append(time.perf_counter() - t0)
    return times, peak, out


def _measure(equation: str, shapes: list[tuple[int, ...]], ctx: Context, reps: int) -> dict[str, dict[str, Any]]:
    """Largest intermediate of each variant; wall time (and peak CUDA memory) of those small enough to run."""
    import torch

    from errbound.train.contraction import complex_einsum, complex_einsum_naive, contraction_path

    dev = torch.device(ctx.device)
    g = torch.Generator().manual_seed(ctx.seed)
    paths = {m: contraction_path(equation, shapes, m) for m in ("greedy", "optimal")}
    largest = {"naive": _largest_naive(equation, shapes),
               **{m: _largest_pairwise(equation, shapes, paths[m]) for m in paths}}
    ops = None
    if min(largest.values()) <= RUN_LIMIT_ELEMENTS:
        ops = [torch.randn(*s, 2, generator=g).div_(math.sqrt(math.prod(s[-1:]))).to(dev) for s in shapes]
    fns = {"naive": lambda: complex_einsum_naive(equation, *ops),
           "greedy": lambda: complex_einsum(equation, *ops, path=paths["greedy"]),
           "optimal": lambda: complex_einsum(equation, *ops, path=paths["optimal"])}
    rows: dict[str, dict[str, Any]] = {}
    outs = {}
    for name in VARIANTS:
        run = largest[name] <= RUN_LIMIT_ELEMENTS
        times, peak = [], None
        if run:
            fns[name]()  # warm-up: first-call setup is not part of the order's cost
            times, peak, outs[name] = _time(fns[name], dev, reps)
        rows[name] = {"largest_intermediate_elements": largest[name],
                      "largest_intermediate_mib_fp32": largest[name] * 4 / 2 ** 20, "run": run,
                      "peak_cuda_mib": peak, "median_seconds": statistics.median(times) if times else None,
                      "min_seconds": min(times) if times else None, "timed_runs": len(times),
                      "path": [list(p) for p in paths[name]] if name in paths else None}

    def rel(a: str, b: str) -> float | None:
        if a not in outs or b not in outs:
            return None
        return float(torch.linalg.vector_norm(outs[a] - outs[b]) / torch.linalg.vector_norm(outs[b]))

    for name in VARIANTS:
        rows[name]["rel_diff_vs_naive"] = rel(name, "naive")
    rows["greedy"]["rel_diff_vs_optimal"] = rel("greedy", "optimal")
    return rows


def compute(ctx: Context) -> ArtefactResult:
    from errbound.modes import mode_shape
    from errbound.progress import progress

    size = SIZES["quick" if ctx.quick else "full"]
    b, h, modes, ranks = size["batch"], size["hidden"], size["modes"], list(size["ranks"])
    kshape = tuple(mode_shape(modes))
    paper_rank = cp_rank(PAPER_RANK_FRACTION, h, kshape)
    ranks = sorted(set(ranks) | {paper_rank})
    headline = paper_rank if not ctx.quick else ranks[-1]
    sweep: dict[int, dict[str, dict[str, Any]]] = {}
    for r in progress(ranks, total=len(ranks), label=f"{NAME} CP ranks"):
        shapes = [(b, h, *kshape), (r,), (h, r), (h, r), (kshape[0], r), (kshape[1], r)]
        sweep[r] = _measure(EQUATION, shapes, ctx, reps=7)
    tr = tucker_ranks(PAPER_RANK_FRACTION, (h, h, *kshape))
    tshapes = [(b, h, *kshape), tr, (h, tr[0]), (h, tr[1]), (kshape[0], tr[2]), (kshape[1], tr[3])]
    tucker = _measure(TUCKER_EQUATION, tshapes, ctx, reps=7)
    rows = sweep[headline]
    fig = _plot(ranks, sweep, tucker, tr, paper_rank, ctx, b, h, modes)
    gr = rows["greedy"]
    comps = [
        Comparison(quantity=f"largest intermediate at CP rank {headline}: naive / greedy",
                   ours=rows["naive"]["largest_intermediate_elements"] / gr["largest_intermediate_elements"], paper=None,
                   unit="x", source="NOTES.md s3", note="paper: the naive single einsum explodes memory",
                   reason="the paper gives no number for the naive einsum's memory, only that it explodes"),
        Comparison(quantity=f"largest intermediate at CP rank {headline}: greedy / optimal",
                   ours=gr["largest_intermediate_elements"] / rows["optimal"]["largest_intermediate_elements"], paper=None,
                   unit="x", source="NOTES.md s3", reason="the paper names the greedy order but reports no memory for it"),
        Comparison(quantity=f"largest intermediate, Tucker ranks {list(tr)}: naive / greedy",
                   ours=tucker["naive"]["largest_intermediate_elements"] / tucker["greedy"]["largest_intermediate_elements"],
                   paper=None, unit="x", source="NOTES.md s3",
                   reason="the paper reports no memory for a Tucker contraction order"),
    ]
    timed = [r for r in ranks if sweep[r]["naive"]["median_seconds"] is not None]
    if timed:
        rt = timed[-1]
        comps.append(Comparison(
            quantity=f"wall time (fastest run) at CP rank {rt}: naive / greedy ({ctx.device})",
            ours=sweep[rt]["naive"]["min_seconds"] / sweep[rt]["greedy"]["min_seconds"], paper=None, unit="x",
            source="NOTES.md s3", reason=f"a {ctx.device.upper()} timing ratio, and the paper reports no timing of the orders"))
    notes = [f"setting: batch {b}, hidden {h}, modes {modes} (retained spectrum {kshape[0]} x {kshape[1]}); CP rank "
             f"{PAPER_RANK_FRACTION} of the dense weight = {paper_rank}; Tucker ranks {list(tr)}",
             f"variants with a largest intermediate above 2^28 real elements (1 GiB fp32) are not run: memory from "
             f"the path only, no wall time"]
    if ctx.device != "cuda":
        notes.append("CPU: peak CUDA memory not measured (needs --device cuda); memory is the largest intermediate "
                     "from the contraction path, a property of the order, not of the hardware")
    data = {"equation": EQUATION, "tucker_equation": TUCKER_EQUATION, "batch": b, "hidden": h, "modes": list(modes),
            "kshape": list(kshape), "paper_rank": paper_rank, "headline_rank": headline, "ranks": ranks,
            "run_limit_elements": RUN_LIMIT_ELEMENTS, "rows": rows, "sweep": {str(r): v for r, v in sweep.items()},
            "tucker": {"ranks": list(tr), "rows": tucker}}
    return ArtefactResult(data=data, figure=fig, comparisons=comps, notes=notes)


_STYLE = {"naive": dict(color="tab:red", marker="o", ls="-", ms=7),
          "greedy": dict(color="tab:blue", marker="s", ls="--", ms=9, mfc="none", mew=1.5),
          "optimal": dict(color="tab:green", marker="^", ls=":", ms=5)}


def _plot(ranks, sweep, tucker, tr, paper_rank, ctx: Context, b: int, h: int, modes):
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, axes = new_figure(ncols=3, width=3.6, height=4.2)
    ax, bx, cx = axes[0]
    for name in VARIANTS:
        mib = [sweep[r][name]["largest_intermediate_mib_fp32"] for r in ranks]
        ax.loglog(ranks, mib, label=f"{name} order", **_STYLE[name])
        tx = [r for r in ranks if sweep[r][name]["median_seconds"] is not None]
        if tx:
            bx.loglog(tx, [sweep[r][name]["min_seconds"] for r in tx], **_STYLE[name])
        if ctx.device == "cuda":
            px = [r for r in ranks if sweep[r][name]["peak_cuda_mib"] is not None]
            ax.loglog(px, [sweep[r][name]["peak_cuda_mib"] for r in px], ls="none", marker="x", color=_STYLE[name]["color"],
                      ms=8, label=f"{name}: measured peak CUDA memory")
    limit_mib = RUN_LIMIT_ELEMENTS * 4 / 2 ** 20
    for a in (ax, cx):
        a.axhline(limit_mib, color="gray", lw=0.8, ls="-.", label="run limit here (1 GiB): larger ones not run")
    for a in (ax, bx):
        a.axvline(paper_rank, color="black", lw=0.8, alpha=0.5)
        a.set_xlabel(f"CP rank r (vertical line: paper's 0.05 = {paper_rank})")
        a.set_xticks(ranks)
        a.xaxis.set_major_formatter(ScalarFormatter())
        a.xaxis.set_minor_formatter(NullFormatter())
        a.grid(True, which="both", alpha=0.3)
    ax.set_ylabel("largest intermediate tensor (MiB, fp32 real views)")
    ax.set_title("CP: memory of the order", fontsize=9)
    bx.set_ylabel(f"wall time on {ctx.device}, fastest of up to 7 runs (s)")
    bx.set_title("CP: wall time (runs under the limit)", fontsize=9)
    mib = [tucker[n]["largest_intermediate_mib_fp32"] for n in VARIANTS]
    cx.bar(list(VARIANTS), mib, color=[_STYLE[n]["color"] for n in VARIANTS])
    for i, (n, m) in enumerate(zip(VARIANTS, mib)):
        t = tucker[n]["min_seconds"]
        cx.text(i, m * 1.3, f"{m:.3g} MiB" + (f"\n{t:.2g} s" if t is not None else "\nnot run"), ha="center",
                va="bottom", fontsize=7)
    cx.set_yscale("log")
    cx.set_ylim(min(mib) / 3, max(mib) * 30)
    cx.set_xlabel("contraction order")
    cx.set_ylabel("largest intermediate tensor (MiB, fp32 real views)")
    cx.set_title(f"Tucker, ranks {tuple(tr)}", fontsize=9)
    cx.grid(True, axis="y", which="major", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=7)
    fig.suptitle(f"Spectral contraction, batch {b}, hidden {h}, modes {modes[0]}x{modes[1]}: "
                 f"{mode_label(ctx, GPU_DEPENDENT)}", fontsize=9)
    return fig


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
