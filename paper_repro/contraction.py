"""Memory of the complex-half CP (TFNO) spectral contraction: naive single einsum vs greedy vs optimal order.

The CP-factorized spectral weight ``W[i,o,x,y] = sum_r l_r A[i,r] B[o,r] X[x,r] Y[y,r]`` is contracted with the
spectrum ``S[b,i,x,y]``: ``bixy,r,ir,or,xr,yr->boxy``, complex numbers as real pairs (NOTES.md s3). The naive
variant is ONE real einsum over all real views evaluated left to right
(:func:`errbound.train.contraction.complex_einsum_naive`); greedy and optimal contract pairwise in the order of
a path search (:func:`errbound.train.contraction.contraction_path`). Reported per variant: the largest
intermediate tensor (elements of the real views, from the path; x 4 bytes for fp32), the measured peak CUDA
memory on a GPU (``torch.cuda.max_memory_allocated``; not measured on CPU) and the median wall time.
GPU-dependent: the paper's memory explosion is a GPU-memory effect; the quick CPU version is tiny.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from paper_repro._runner import ArtefactResult, Comparison, Context, mode_label, new_figure

NAME = "contraction"
TITLE = "peak memory of naive vs greedy vs optimal contraction order"
GPU_DEPENDENT = True

EQUATION = "bixy,r,ir,or,xr,yr->boxy"
_AXES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _largest_naive(shapes: list[tuple[int, ...]]) -> int:
    """Largest intermediate (elements) of the naive real-view einsum evaluated left to right."""
    import opt_einsum

    inputs = EQUATION.split("->")[0].split(",")
    out = EQUATION.split("->")[1]
    terms = [inputs[0] + _AXES[0]]
    rshapes = [tuple(shapes[0]) + (2,)]
    for k, (t, s) in enumerate(zip(inputs[1:], shapes[1:]), start=1):
        terms.append(t + _AXES[k - 1] + _AXES[k])
        rshapes.append(tuple(s) + (2, 2))
    eq = ",".join(terms) + "->" + out + _AXES[len(shapes) - 1]
    path = [(0, 1)] * (len(shapes) - 1)
    _, info = opt_einsum.contract_path(eq, *rshapes, shapes=True, optimize=path)
    return int(info.largest_intermediate)


def _largest_pairwise(shapes: list[tuple[int, ...]], path) -> int:
    """Largest intermediate (elements) of the pairwise real-view contraction along ``path``."""
    import opt_einsum

    _, info = opt_einsum.contract_path(EQUATION, *shapes, shapes=True, optimize=[tuple(p) for p in path])
    return int(info.largest_intermediate) * 2  # real pairs


def compute(ctx: Context) -> ArtefactResult:
    import torch

    from errbound.train.contraction import complex_einsum, complex_einsum_naive, contraction_path

    if ctx.quick:
        b, h, x, y, r = 4, 16, 16, 9, 8
    else:
        b, h, x, y, r = 16, 64, 64, 33, 16
    dev = torch.device(ctx.device)
    g = torch.Generator().manual_seed(ctx.seed)
    shapes = [(b, h, x, y), (r,), (h, r), (h, r), (x, r), (y, r)]
    ops = [torch.randn(*s, 2, generator=g).to(dev) for s in shapes]
    paths = {m: contraction_path(EQUATION, shapes, m) for m in ("greedy", "optimal")}
    variants = {
        "naive": (lambda: complex_einsum_naive(EQUATION, *ops), _largest_naive(shapes)),
        "greedy": (lambda: complex_einsum(EQUATION, *ops, path=paths["greedy"]), _largest_pairwise(shapes, paths["greedy"])),
        "optimal": (lambda: complex_einsum(EQUATION, *ops, path=paths["optimal"]), _largest_pairwise(shapes, paths["optimal"])),
    }
    rows: dict[str, dict[str, Any]] = {}
    ref = None
    for name, (fn, largest) in variants.items():
        times, peak = [], None
        for _ in range(1 if name == "naive" else 3):
            if dev.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
            t0 = time.perf_counter()
            out = fn()
            if dev.type == "cuda":
                torch.cuda.synchronize()
                peak = (torch.cuda.max_memory_allocated() - base) / 2 ** 20
            times.append(time.perf_counter() - t0)
        ref = out if ref is None else ref
        rel = float(torch.linalg.vector_norm(out - ref) / torch.linalg.vector_norm(ref))
        rows[name] = {"largest_intermediate_elements": largest, "largest_intermediate_mib_fp32": largest * 4 / 2 ** 20,
                      "peak_cuda_mib": peak, "median_seconds": statistics.median(times), "rel_diff_vs_naive": rel}
    fig, axes = new_figure(ncols=2, width=4.5)
    ax, bx = axes[0]
    names = list(rows)
    ax.bar(names, [rows[n]["largest_intermediate_mib_fp32"] for n in names], color=["tab:red", "tab:blue", "tab:green"],
           label="largest intermediate (fp32)")
    if dev.type == "cuda":
        ax.plot(names, [rows[n]["peak_cuda_mib"] for n in names], "ko", label="measured peak CUDA memory")
    ax.set_yscale("log")
    ax.set_ylabel("memory (MiB)")
    ax.set_xlabel("contraction order")
    ax.legend(fontsize=7)
    bx.bar(names, [rows[n]["median_seconds"] for n in names], color="tab:gray", label=f"wall time ({ctx.device})")
    bx.set_yscale("log")
    bx.set_ylabel("median wall time (s)")
    bx.set_xlabel("contraction order")
    bx.legend(fontsize=7)
    fig.suptitle(f"CP spectral contraction b={b}, hidden={h}, modes {x}x{y}, rank {r}: {mode_label(ctx, GPU_DEPENDENT)}", fontsize=8)
    comps = [
        Comparison(quantity="largest intermediate: naive / greedy", ours=rows["naive"]["largest_intermediate_elements"]
                   / rows["greedy"]["largest_intermediate_elements"], paper=None, unit="x", source="NOTES.md s3",
                   note="paper: the naive single einsum explodes memory (no number given)"),
        Comparison(quantity="largest intermediate: greedy / optimal", ours=rows["greedy"]["largest_intermediate_elements"]
                   / rows["optimal"]["largest_intermediate_elements"], paper=None, unit="x", source="NOTES.md s3"),
        Comparison(quantity="wall time: naive / greedy", ours=rows["naive"]["median_seconds"] / rows["greedy"]["median_seconds"],
                   paper=None, unit="x", source="NOTES.md s3"),
    ]
    notes = [] if dev.type == "cuda" else ["CPU: peak memory not measured; memory bars are the largest intermediate from the path"]
    return ArtefactResult(data={"equation": EQUATION, "shapes": shapes, "paths": {k: [list(p) for p in v] for k, v in paths.items()},
                                "rows": rows}, figure=fig, comparisons=comps, notes=notes)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
