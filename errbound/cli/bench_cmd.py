"""``errbound bench``: training-step samples/s and peak memory per precision (and neuraloperator's FNO)."""

from __future__ import annotations

import argparse
from typing import Any

from errbound.cli._output import CommandOutput, format_table
from errbound.errors import ErrboundError

HELP = "training-step benchmark: samples/s and peak memory per precision"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--res", help="comma-separated resolutions (default 128,256,512 on CUDA, 32,64 on CPU)")
    parser.add_argument("--precisions", help="comma-separated policies (default full,amp,mixed,half on CUDA; "
                        "full,amp-bf16,mixed-bf16,half-bf16 on CPU)")
    parser.add_argument("--backend", default="dft", help="fft, dft or fft,dft (default dft)")
    parser.add_argument("--batch", type=int, help="batch size (default 16 on CUDA, 4 on CPU)")
    parser.add_argument("--hidden", type=int, help="hidden channels (default 64 on CUDA, 16 on CPU)")
    parser.add_argument("--modes", type=int, help="retained modes per axis, neuraloperator's n_modes (default: the table of "
                        "errbound.modes, 24 in 2-D, capped by the grid)")
    parser.add_argument("--layers", type=int, default=4, help="Fourier layers")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per configuration (the first "
                        "configuration also runs once untimed before any timing)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per configuration (median and spread reported)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda if available, else cpu)")
    parser.add_argument("--factorization", choices=("dense", "cp"), default="dense", help="spectral weights (cp: TFNO)")
    parser.add_argument("--rank", type=float, default=0.1, help="CP rank (fraction of dense parameters if < 1)")
    parser.add_argument("--contraction", choices=("pairwise", "naive"), default="pairwise",
                        help="CP contraction: pairwise path search, or one naive einsum (memory ablation)")
    parser.add_argument("--no-neuralop", action="store_true", help="skip neuraloperator's FNO even when importable")
    parser.add_argument("--neuralop", action="store_true",
                        help="neuraloperator's FNO in its own precision modes against the same FNO patched with "
                             "errbound's policies (errbound.neuralop; default res 256,421,512 on CUDA, 32,48 on CPU; "
                             "precisions full,amp,mixed,half; needs errbound[neuralop])")


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def run(args: argparse.Namespace) -> CommandOutput:
    try:
        import torch
    except ImportError:
        from errbound.errors import MissingDependencyError

        raise MissingDependencyError("torch", "train") from None
    from errbound.progress import progress
    from errbound.results import provenance
    from errbound.train.bench import BenchConfig, bench_neuralop, bench_step, neuralop_available, warm_up_process
    from errbound.policy import parse_policy
    from errbound.train.spectral import BACKENDS
    from errbound.train.trainer import resolve_device

    device = resolve_device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    if args.neuralop and not args.res:
        args.res = "256,421,512" if cuda else "32,48"
    if args.neuralop and not args.precisions:
        args.precisions = "full,amp,mixed,half"
    try:
        res = [int(r) for r in _split(args.res or ("128,256,512" if cuda else "32,64"))]
    except ValueError:
        raise ErrboundError(f"--res {args.res!r} must be comma-separated integers, e.g. 128,256,512") from None
    policies = [parse_policy(p) for p in _split(args.precisions or ("full,amp,mixed,half" if cuda else "full,amp-bf16,mixed-bf16,half-bf16"))]
    backends = _split(args.backend)
    for b in backends:
        if b not in BACKENDS:
            raise ErrboundError(f"unknown backend {b!r}; choose from {', '.join(BACKENDS)} (comma-separated)")
    batch = args.batch or (16 if cuda else 4)
    hidden = args.hidden or (64 if cuda else 16)
    from errbound.modes import default_modes

    modes = args.modes or default_modes(2, (min(res), min(res)))
    with_neuralop = not args.no_neuralop and neuralop_available()
    jobs = [(r, b, p) for r in res for b in backends for p in policies]
    rows = []
    if args.neuralop:  # both libraries' rows come from errbound.neuralop.bench_rows (below), not our FNO's
        from errbound.neuralop import bench_rows

        jobs, with_neuralop = [], False
        rows = bench_rows([BenchConfig(res=r, policy=p, backend=b, batch=batch, hidden=hidden, modes=min(modes, r),
                                       n_layers=args.layers, warmup=args.warmup, steps=args.steps, device=str(device))
                           for r in res for b in backends for p in policies])

    def config(r: int, b: str, p: Any) -> BenchConfig:
        return BenchConfig(res=r, policy=p, backend=b, batch=batch, hidden=hidden, modes=min(modes, r),
                           n_layers=args.layers, warmup=args.warmup, steps=args.steps, device=str(device),
                           factorization=None if args.factorization == "dense" else "cp", rank=args.rank,
                           contraction=args.contraction)

    if jobs:
        warm_up_process(config(*jobs[0]))
    for r, b, p in progress(jobs, total=len(jobs), label="bench"):
        cfg = config(r, b, p)
        try:
            rows.append(bench_step(cfg))
        except ErrboundError as exc:  # unsupported combination (e.g. fp16 fft at 384): recorded, run continues
            row = {"lib": "errbound", "res": r, "precision": p.name, "backend": b, "batch": batch,
                   "samples_per_s": None, "peak_mem_mib": None, "loss_finite": None, "error": str(exc)}
            rows.append(row)
    if with_neuralop and args.factorization == "dense":
        for r in res:
            for p in policies:
                cfg = BenchConfig(res=r, policy=p, backend="fft", batch=batch, hidden=hidden, modes=min(modes, r),
                                  n_layers=args.layers, warmup=args.warmup, steps=args.steps, device=str(device))
                rows.append(bench_neuralop(cfg))
    # ratios against baselines measured in the same run
    for row in rows:
        ours_full = next((q for q in rows if q["lib"] == "errbound" and q["res"] == row["res"] and q["precision"] == "full"
                          and q["backend"] == row["backend"] and q["samples_per_s"]), None)
        theirs_full = next((q for q in rows if q["lib"] == "neuraloperator" and q["res"] == row["res"]
                            and q["precision"] == "full" and q["samples_per_s"]), None)
        for key, base in (("vs_own_full", ours_full if row["lib"] == "errbound" else theirs_full), ("vs_neuralop_full", theirs_full)):
            if base and row.get("samples_per_s"):
                row[f"speed_{key}"] = row["samples_per_s"] / base["samples_per_s"]
                if row.get("peak_mem_mib") and base.get("peak_mem_mib"):
                    row[f"mem_{key}"] = row["peak_mem_mib"] / base["peak_mem_mib"]
    data = {"device": str(device), "batch": batch, "hidden": hidden, "modes": modes, "n_layers": args.layers,
            "warmup": args.warmup, "steps": args.steps, "neuralop": with_neuralop, "rows": rows,
            "provenance": provenance()}
    cols = ["lib", "res", "precision", "backend", "samples_per_s", "step_ms_median", "step_ms_min", "step_ms_max",
            "spread_pct", "peak_mem_mib", "loss_finite", "speed_vs_own_full", "mem_vs_own_full", "error"]
    text = format_table(rows, cols)
    if not with_neuralop and not args.neuralop:
        text += "\n(neuraloperator not importable: its FNO was not run)"
    return CommandOutput(data=data, text=text)
