"""CPU accuracy benchmark: FNO on generated Darcy flow, full precision vs bf16 autocast.

Acceptance (issue 6): on Darcy 64x64 (1000 train / 100 test) full precision reaches relative L2 < 0.04, and
bf16-autocast training ends within 5% (relative) of the full-precision error. Both runs use the same data,
seed, model and schedule; the script reports epochs, minutes and the errors, and writes one JSON file.

    .venv/bin/python benchmarks/bench_train_darcy.py --parallel --out paper_repro/results/train_darcy_cpu.json

(defaults: FNO hidden 32, 24x24 modes, 4 layers, no padding, AdamW lr 3e-3 with cosine decay over 12 epochs,
batch 20; --parallel trains the precisions in separate one-thread processes at the same time).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from errbound.data import make_dataset
from errbound.results import provenance, write_json_atomic


def _model_config(args):
    from errbound.train import FNOConfig

    return FNOConfig(hidden=args.hidden, modes=(args.modes, args.modes), n_layers=args.layers,
                     padding=args.padding, backend=args.backend)


def _run_one(args, name: str, threads: int | None) -> dict:
    """Train one precision; returns its run record (runs in a worker process with --parallel)."""
    import torch

    from errbound.train import TrainConfig, Trainer, parse_policy

    if threads:
        torch.set_num_threads(threads)
    test_res = [int(r) for r in args.test_res.split(",")]
    files = make_dataset("darcy", args.res, args.n_train, args.n_test, seed=args.seed, cache_dir=args.cache_dir,
                         test_res=test_res)
    train = files.load_train()
    tests = {r: files.load_test(r) for r in test_res}
    policy = parse_policy(name)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, schedule=((0, policy),),
                         seed=args.seed, eval_every=max(1, args.epochs // 10))
    out = None if args.work_dir is None else f"{args.work_dir}/{policy.name}"
    t0 = time.perf_counter()
    result = Trainer(_model_config(args), config, train, tests, out_dir=out, resume=args.resume).fit()
    run = {"precision": policy.name, "epochs": result.epochs, "minutes_this_process": (time.perf_counter() - t0) / 60,
           "train_minutes_total": None, "test_l2": result.test_l2, "test_h1": result.test_h1,
           "train_loss": result.train_loss, "samples_per_s": result.samples_per_s,
           "nonfinite_steps": result.nonfinite_steps, "threads": torch.get_num_threads(), "history": result.history}
    run["train_minutes_total"] = result.epochs * args.n_train / result.samples_per_s / 60
    print(f"{policy.name}: rel L2 {result.test_l2}, {result.epochs} epochs, "
          f"{run['minutes_this_process']:.1f} min", file=sys.stderr, flush=True)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--res", type=int, default=64)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=100)
    parser.add_argument("--test-res", default="64,128", help="test resolutions (zero-shot super-resolution)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--modes", type=int, default=24)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--padding", type=int, default=0)
    parser.add_argument("--precisions", default="full,amp-bf16")
    parser.add_argument("--backend", default="fft")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", default="paper_repro/results/train_darcy_cpu.json")
    parser.add_argument("--work-dir", default=None, help="checkpoints and metrics.jsonl per precision (resumable)")
    parser.add_argument("--resume", action="store_true", help="resume each run from --work-dir")
    parser.add_argument("--parallel", action="store_true", help="one process per precision, one thread each")
    args = parser.parse_args(argv)

    import torch

    test_res = [int(r) for r in args.test_res.split(",")]
    # generate (or reuse) the data once, before any worker starts
    make_dataset("darcy", args.res, args.n_train, args.n_test, seed=args.seed, cache_dir=args.cache_dir, test_res=test_res)
    names = args.precisions.split(",")
    if args.parallel and len(names) > 1:
        import concurrent.futures
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(len(names), mp_context=ctx) as pool:
            runs = list(pool.map(_run_one, [args] * len(names), names, [1] * len(names)))
    else:
        runs = [_run_one(args, name, None) for name in names]
    full = next((r for r in runs if r["precision"] == "full"), None)
    summary = {}
    if full is not None:
        base = full["test_l2"][args.res]
        summary["full_l2"] = base
        summary["full_below_0.04"] = base < 0.04
        for r in runs:
            if r is not full:
                gap = (r["test_l2"][args.res] - base) / base
                summary[f"{r['precision']}_relative_gap"] = gap
                summary[f"{r['precision']}_within_5pct"] = gap <= 0.05
    model = _model_config(args)
    data = {"benchmark": "train_darcy_cpu", "res": args.res, "n_train": args.n_train, "n_test": args.n_test,
            "model": dataclasses.asdict(model), "batch_size": args.batch_size, "lr": args.lr, "epochs": args.epochs,
            "runs": runs, "summary": summary, "threads": torch.get_num_threads(), "provenance": provenance()}
    write_json_atomic(args.out, data)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
