"""CPU speed and accuracy: ``errbound train`` vs neuraloperator's own Darcy example, same data, same settings.

Issue 13, item 6. Data: errbound's Darcy generator at 16x16 (1000 train, 100 test at 16 and at 32 for
zero-shot super-resolution, seed 0), stored in neuraloperator's layout (``darcy_train_16.pt``,
``darcy_test_{16,32}.pt`` = ``{"x": (N, 16, 16) float, "y": (N, 16, 16) float}``), read by both libraries.
Settings: neuraloperator's gallery example (``plot_FNO_darcy.py``: FNO with 8x8 modes, AdamW lr 8e-3 weight
decay 1e-4, cosine schedule, H1 training loss, batch 32) with hidden 32 and 20 epochs, i.e.

    errbound train --data DIR --dataset darcy --res 16 --test-res 16,32 --n-train 1000 --n-test 100 \\
        --modes 8 --hidden 32 --lr 8e-3 --batch-size 32 --loss h1 --optimizer adamw --weight-decay 1e-4 \\
        --scheduler cosine --epochs 20 --precision full --backend fft --device cpu

and neuraloperator 2.0's ``FNO(n_modes=(8, 8), hidden_channels=32, projection_channel_ratio=2)``, its
``DarcyDataset`` loader (channel-wise output normalisation, DataLoader with one worker, as the example),
``Trainer(eval_interval=1)`` (errbound evaluates every epoch too), ``CosineAnnealingLR(T_max=20)``.

Timing: each run is a fresh process with one thread (``torch.set_num_threads(1)``; the machine is shared);
``seconds`` is the wall time from before the data is loaded to after the last evaluation (imports excluded),
so it includes both libraries' data loading, per-epoch evaluation at 16 and 32 and, for errbound, writing
its checkpoint every epoch. Runs alternate (errbound, neuraloperator, errbound, ...) ``--repeats`` times
each; the JSON keeps every run and reports medians. Test errors are each library's own final evaluation
(mean per-sample relative L2 and H1, neuraloperator's definitions in both).

    .venv/bin/python benchmarks/bench_vs_neuralop_darcy16.py   # -> paper_repro/results/train_vs_neuralop_darcy16_cpu.json

Without neuraloperator (``pip install 'errbound[neuralop]'``) it prints one line saying so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "paper_repro" / "results" / "train_vs_neuralop_darcy16_cpu.json"
SETTINGS = {"res": 16, "test_res": [16, 32], "n_train": 1000, "n_test": 100, "modes": 8, "hidden": 32, "lr": 8e-3,
            "batch_size": 32, "test_batch_size": 32, "loss": "h1", "optimizer": "adamw", "weight_decay": 1e-4,
            "scheduler": "cosine", "epochs": 20, "layers": 4, "seed": 0}


def _errbound_worker(data: Path, out: Path) -> dict:
    from errbound.cli import main

    s = SETTINGS
    args = ["train", "--data", str(data), "--dataset", "darcy", "--res", str(s["res"]),
            "--test-res", ",".join(map(str, s["test_res"])), "--n-train", str(s["n_train"]), "--n-test", str(s["n_test"]),
            "--modes", str(s["modes"]), "--hidden", str(s["hidden"]), "--layers", str(s["layers"]), "--lr", str(s["lr"]),
            "--batch-size", str(s["batch_size"]), "--loss", s["loss"], "--optimizer", s["optimizer"],
            "--weight-decay", str(s["weight_decay"]), "--scheduler", s["scheduler"], "--epochs", str(s["epochs"]),
            "--precision", "full", "--backend", "fft", "--device", "cpu", "--seed", str(s["seed"]), "--out", str(out),
            "--progress", "off"]
    start = time.perf_counter()
    code = main(args)
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"errbound train exited {code}")
    summary = json.loads((out / "summary.json").read_text())
    return {"seconds": seconds, "test_l2": summary["test_l2"], "test_h1": summary["test_h1"],
            "train_loss": summary["train_loss"], "samples_per_s": summary["samples_per_s"],
            "command": "errbound " + " ".join(args)}


def _neuralop_worker(data: Path) -> dict:
    import torch
    from neuralop import H1Loss, LpLoss, Trainer
    from neuralop.data.datasets.darcy import DarcyDataset
    from neuralop.models import FNO
    from torch.utils.data import DataLoader

    s = SETTINGS
    torch.manual_seed(s["seed"])
    start = time.perf_counter()
    dataset = DarcyDataset(root_dir=data, n_train=s["n_train"], n_tests=[s["n_test"]] * len(s["test_res"]),
                           batch_size=s["batch_size"], test_batch_sizes=[s["test_batch_size"]] * len(s["test_res"]),
                           train_resolution=s["res"], test_resolutions=list(s["test_res"]), download=False)
    train_loader = DataLoader(dataset.train_db, batch_size=s["batch_size"], num_workers=1, pin_memory=False,
                              persistent_workers=False)  # as the example: no shuffle
    test_loaders = {r: DataLoader(dataset.test_dbs[r], batch_size=s["test_batch_size"], shuffle=False, num_workers=1,
                                  pin_memory=False, persistent_workers=False) for r in s["test_res"]}
    model = FNO(n_modes=(s["modes"], s["modes"]), in_channels=1, out_channels=1, hidden_channels=s["hidden"],
                n_layers=s["layers"], projection_channel_ratio=2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=s["epochs"])
    h1, l2 = H1Loss(d=2), LpLoss(d=2, p=2)
    trainer = Trainer(model=model, n_epochs=s["epochs"], device="cpu", data_processor=dataset.data_processor,
                      wandb_log=False, eval_interval=1, use_distributed=False, verbose=False)
    metrics = trainer.train(train_loader=train_loader, test_loaders=test_loaders, optimizer=optimizer,
                            scheduler=scheduler, regularizer=False, training_loss=h1, eval_losses={"h1": h1, "l2": l2})
    seconds = time.perf_counter() - start
    as_float = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) or hasattr(v, "item")}
    return {"seconds": seconds,
            "test_l2": {str(r): as_float[f"{r}_l2"] for r in s["test_res"]},
            "test_h1": {str(r): as_float[f"{r}_h1"] for r in s["test_res"]},
            "train_loss": as_float.get("avg_loss"),
            "n_parameters": sum(p.numel() for p in model.parameters())}


def _make_data(folder: Path) -> Path:
    from errbound.data import make_dataset

    s = SETTINGS
    files = make_dataset("darcy", s["res"], s["n_train"], s["n_test"], seed=s["seed"], test_res=s["test_res"],
                         cache_dir=folder)
    return files.folder


def _spawn(lib: str, data: Path, tmp: Path, i: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", ERRBOUND_PROGRESS="0")
    out = tmp / f"{lib}_{i}.json"
    cmd = [sys.executable, __file__, "--worker", lib, "--data", str(data), "--result", str(out), "--run-dir",
           str(tmp / f"run_{lib}_{i}")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"{lib} run {i} failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per library (alternating); medians reported")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="result JSON")
    parser.add_argument("--worker", choices=("errbound", "neuralop"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import torch

        torch.set_num_threads(1)
        rec = _errbound_worker(args.data, args.run_dir) if args.worker == "errbound" else _neuralop_worker(args.data)
        args.result.write_text(json.dumps(rec))
        return 0
    try:
        import neuralop
    except ImportError as exc:
        print(f"skipped: neuraloperator is not importable ({exc}); pip install 'errbound[neuralop]' to run this benchmark")
        return 0
    from errbound.results import provenance, write_json_atomic

    runs: dict[str, list[dict]] = {"errbound": [], "neuraloperator": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = _make_data(tmp / "data")
        for i in range(args.repeats):
            for lib, key in (("errbound", "errbound"), ("neuralop", "neuraloperator")):
                rec = _spawn(lib, data, tmp, i)
                runs[key].append(rec)
                print(f"{key} run {i + 1}/{args.repeats}: {rec['seconds']:.1f} s, test l2@16 {rec['test_l2']['16']:.4f} "
                      f"@32 {rec['test_l2']['32']:.4f}", file=sys.stderr, flush=True)
    summary = {}
    for key, recs in runs.items():
        secs = [r["seconds"] for r in recs]
        summary[key] = {
            "seconds_median": statistics.median(secs), "seconds_min": min(secs), "seconds_max": max(secs),
            "test_l2_median": {r: statistics.median(x["test_l2"][r] for x in recs) for r in recs[0]["test_l2"]},
            "test_h1_median": {r: statistics.median(x["test_h1"][r] for x in recs) for r in recs[0]["test_h1"]},
        }
    ratio = summary["errbound"]["seconds_median"] / summary["neuraloperator"]["seconds_median"]
    result = {
        "benchmark": "bench_vs_neuralop_darcy16", "settings": SETTINGS, "threads_per_run": 1,
        "repeats": args.repeats, "order": "alternating, errbound first", "summary": summary,
        "time_ratio_errbound_over_neuralop": ratio, "errbound_not_slower": ratio <= 1.0,
        "neuraloperator_version": getattr(neuralop, "__version__", None), "runs": runs,
        "note": "wall seconds from data loading to the last evaluation, one thread per run, on a shared machine",
        "provenance": provenance(),
    }
    write_json_atomic(args.out, result)
    print(f"errbound {summary['errbound']['seconds_median']:.1f} s vs neuraloperator "
          f"{summary['neuraloperator']['seconds_median']:.1f} s (ratio {ratio:.2f}); test l2@16 "
          f"{summary['errbound']['test_l2_median']['16']:.4f} vs {summary['neuraloperator']['test_l2_median']['16']:.4f}; "
          f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
