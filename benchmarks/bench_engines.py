"""The two engines of the one block definition, timed on this CPU (ratios in the same run, medians).

1. ``errbound precision`` on a 256x256 input, fp16 FFT block (``--precision half+none --backend fft``): the
   numpy emulator against the trainer's torch layer (``--engine torch``), the whole command path
   (:func:`errbound.precision.sweep`: block, float64 reference, bounds). Target: torch within 3x the emulator.
2. CPU training epoch time of a Darcy 64x64 FNO: fp32 (torch's kernels) against the fp16 blocks that a CPU
   computes with emulated, bit-exact arithmetic (``half`` with the fft and the dft backend) and bf16.

Writes ``paper_repro/results/bench_engines_cpu.json`` (``--out`` to change; ``--quick`` for a smoke run to an
untracked folder). Run: ``python benchmarks/bench_engines.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import median_seconds  # noqa: E402

from errbound.policy import parse_policy  # noqa: E402
from errbound.precision import sweep  # noqa: E402
from errbound.results import provenance, write_json_atomic  # noqa: E402


def bench_precision_engines(res: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    x = {res: rng.standard_normal((1, res, res))}
    policy = parse_policy("half+none", "fft")
    out: dict = {"res": res, "precision": policy.name, "backend": "fft", "modes": 24, "repeats": repeats}
    for engine in ("emulator", "torch"):
        out[f"{engine}_s"] = median_seconds(
            lambda e=engine: sweep(x, policy, modes=24, engine=e, certify=False), repeats)
    out["torch_over_emulator"] = out["torch_s"] / out["emulator_s"]
    return out


def bench_training(res: int, n_train: int, epochs: int, hidden: int, precisions: list[tuple[str, str]]) -> dict:
    import torch

    from errbound.data import make_dataset
    from errbound.train import FNOConfig, TrainConfig, Trainer

    files = make_dataset("darcy", res, n_train, 8, seed=0, test_res=[res], device="cpu")
    train, test = files.load_train(), files.load_test(res)
    times: dict[str, list[float]] = {f"{p} ({b})": [] for p, b in precisions}
    errors: dict[str, float] = {}
    # interleaved: one epoch of each configuration per round (the machine is noisy); round 0 is an untimed
    # warm-up of every configuration (first-call costs must not land on whichever configuration runs first)
    for rnd in range(epochs + 1):
        for name, backend in precisions:
            key = f"{name} ({backend})"
            mc = FNOConfig(hidden=hidden, modes=(12, 12), n_layers=4, backend=backend)
            tc = TrainConfig(epochs=1, batch_size=16, schedule=((0, parse_policy(name, backend)),), seed=0)
            torch.manual_seed(0)
            start = time.perf_counter()
            result = Trainer(mc, tc, train, {res: test}, show_progress=False).fit()
            if rnd:
                times[key].append(time.perf_counter() - start)
                errors[key] = float(result.test_l2[res])
    base = statistics.median(times[f"{precisions[0][0]} ({precisions[0][1]})"])
    return {
        "dataset": "darcy", "res": res, "n_train": n_train, "hidden": hidden, "modes": 12, "layers": 4, "batch": 16,
        "rounds": epochs,
        "rows": [{"config": k, "epoch_s_median": statistics.median(v), "epoch_s_min": min(v), "epoch_s_max": max(v),
                  "vs_fp32": statistics.median(v) / base, "test_l2_after_one_epoch": errors[k]}
                 for k, v in times.items()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (small sizes) to runs/bench-quick/")
    parser.add_argument("--out", default=None, help="JSON output path")
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per training configuration (interleaved)")
    parser.add_argument("--n-train", type=int, default=128, help="training samples of the epoch benchmark")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    out = Path(args.out) if args.out else (root / ("runs/bench-quick/bench_engines_cpu.json" if args.quick
                                                  else "paper_repro/results/bench_engines_cpu.json"))
    prec = bench_precision_engines(64 if args.quick else 256, 2 if args.quick else 5)
    print(f"precision 256x256 fp16 FFT block: emulator {prec['emulator_s']:.3f} s, torch {prec['torch_s']:.3f} s, "
          f"ratio {prec['torch_over_emulator']:.2f}", flush=True)
    configs = [("full", "fft"), ("half", "fft"), ("half", "dft"), ("half-bf16", "dft")]
    train = bench_training(32 if args.quick else 64, 16 if args.quick else args.n_train, 1 if args.quick else args.rounds,
                           8 if args.quick else 32, configs)
    for row in train["rows"]:
        print(f"epoch {row['config']}: {row['epoch_s_median']:.1f} s ({row['vs_fp32']:.2f}x fp32)", flush=True)
    doc = {"benchmark": "bench_engines", "quick": args.quick, "precision_engines": prec, "training_epoch": train,
           "provenance": provenance()}
    write_json_atomic(out, doc)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
