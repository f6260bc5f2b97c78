"""CPU accuracy benchmark: a neuraloperator Darcy FNO patched to errbound's half precision vs its fp32 run.

Acceptance (issue 15): a neuraloperator gallery-size Darcy FNO (``FNO(n_modes=(16, 16), hidden_channels=32,
projection_channel_ratio=2)``, as in neuraloperator's ``examples/plot_FNO_darcy.py``) patched with
``errbound.neuralop.patch(model, "half", backend="dft")`` trains 20 epochs at a grid that is not a power of
two (24x24: cuFFT's fp16 transform refuses it) with a test error within 5 % of the same model trained in
fp32 (same seed, data, initial weights and batch order). Both runs are written to one JSON file.
Defaults: 1000 train / 100 test samples of errbound's generated Darcy data at 24x24 (seed 0).

    .venv/bin/python benchmarks/bench_neuralop_darcy.py --parallel --out paper_repro/results/neuralop_darcy_cpu.json

Training loop (the same for every precision): inputs and outputs normalised with the training mean and std,
AdamW (lr 8e-3, weight decay 1e-4) with cosine decay over the epochs, batch 32, loss = relative L2 of the
normalised output (errbound.train.losses.LpLoss, batch mean); ``torch.autocast`` with the policy's dtype
outside the spectral blocks and a GradScaler when the policy needs one (fp16). The test error is the
relative L2 of the de-normalised prediction, averaged over the test set.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any


def train_one(precision: str, args: argparse.Namespace, threads: int | None = None) -> dict[str, Any]:
    """Train the model once under ``precision`` (``fp32`` = unpatched neuraloperator); returns the run record."""
    import torch
    from neuralop.models import FNO

    from errbound.data import make_dataset
    from errbound.neuralop import patch, unpatch
    from errbound.train.losses import LpLoss

    if threads:
        torch.set_num_threads(threads)
    files = make_dataset("darcy", args.res, args.n_train, args.n_test, seed=args.seed, cache_dir=args.cache_dir)
    x, y = files.load_train()
    xt, yt = files.load_test()
    x, y, xt, yt = (t.float().unsqueeze(1) for t in (x, y, xt, yt))
    xm, xs, ym, ys = x.mean(), x.std(), y.mean(), y.std()
    torch.manual_seed(args.seed)
    model = FNO(n_modes=(args.modes, args.modes), in_channels=1, out_channels=1, hidden_channels=args.hidden,
                projection_channel_ratio=2, n_layers=args.layers)
    policy = None
    if precision != "fp32":
        patch(model, precision, backend=args.backend)
        policy = model.fno_blocks.convs[0].policy
    autocast = policy is not None and policy.autocast
    dtype = policy.torch_half_dtype if autocast else None
    scaler = torch.amp.GradScaler("cpu", enabled=policy is not None and policy.needs_grad_scaler)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = LpLoss(d=2, reduction="mean")
    history, nonfinite = [], 0
    t0 = time.perf_counter()

    def evaluate() -> float:
        model.eval()
        errs = []
        with torch.no_grad(), torch.autocast("cpu", dtype=dtype, enabled=autocast):
            for i in range(0, len(xt), args.batch):
                pred = model((xt[i:i + args.batch] - xm) / xs).float() * ys + ym
                errs.append(LpLoss(d=2, reduction="sum")(pred, yt[i:i + args.batch]).item())
        model.train()
        return sum(errs) / len(xt)

    for epoch in range(args.epochs):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed * 1000 + epoch))
        total = 0.0
        for i in range(0, len(x), args.batch):
            idx = order[i:i + args.batch]
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=dtype, enabled=autocast):
                pred = model((x[idx] - xm) / xs)
            loss = loss_fn(pred.float(), (y[idx] - ym) / ys)
            if not torch.isfinite(loss):
                nonfinite += 1
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            total += loss.item() * len(idx)
        sched.step()
        history.append({"epoch": epoch + 1, "train_loss": total / len(x), "minutes": (time.perf_counter() - t0) / 60})
        print(f"{precision}: epoch {epoch + 1} loss {total / len(x):.4f}", file=sys.stderr, flush=True)
    test_l2 = evaluate()
    if policy is not None:
        unpatch(model)  # the trained weights back in neuraloperator's layers
        policy_name = f"{policy.name} ({policy.backend})"
    else:
        policy_name = "fp32 (neuraloperator)"
    return {"precision": policy_name, "test_l2": test_l2, "test_l2_after_unpatch_fp32": evaluate(),
            "nonfinite_steps": nonfinite, "minutes": (time.perf_counter() - t0) / 60,
            "threads": torch.get_num_threads(), "history": history}


def _worker(job: tuple[str, argparse.Namespace]) -> dict[str, Any]:
    return train_one(job[0], job[1], threads=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--res", type=int, default=24)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=8e-3)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--modes", type=int, default=16)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--backend", default="dft")
    parser.add_argument("--precisions", default="fp32,half", help="fp32 (plain neuraloperator) and errbound names")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--parallel", action="store_true", help="one single-thread process per precision")
    parser.add_argument("--out", default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    from errbound.results import provenance, write_json_atomic

    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    if args.parallel:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(len(precisions)) as pool:
            runs = pool.map(_worker, [(p, args) for p in precisions])
    else:
        runs = [train_one(p, args) for p in precisions]
    base = next((r for r in runs if r["precision"].startswith("fp32")), None)
    for r in runs:
        r["vs_fp32"] = None if base is None else r["test_l2"] / base["test_l2"] - 1.0
        print(f"{r['precision']}: test rel L2 {r['test_l2']:.5f}"
              + ("" if r["vs_fp32"] is None else f" ({100 * r['vs_fp32']:+.2f} % vs fp32)")
              + f", {r['minutes']:.1f} min", flush=True)
    ok = all(r["vs_fp32"] is None or (math.isfinite(r["test_l2"]) and r["vs_fp32"] <= 0.05) for r in runs)
    doc = {"benchmark": "neuralop_darcy_cpu", "config": vars(args), "runs": runs, "within_5_percent": ok,
           "provenance": provenance()}
    if args.out:
        write_json_atomic(args.out, doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
