"""``errbound train``: train an FNO on generated or given data in a chosen precision."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Any

from errbound.cli._output import CommandOutput, format_table
from errbound.errors import ErrboundError

HELP = "train an FNO (full, amp, mixed, half precision) on generated or given data"



def _int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ErrboundError(f"{what} {text!r} is not a comma-separated list of integers, e.g. 64,128") from None
    if not values or any(v < 1 for v in values):
        raise ErrboundError(f"{what} {text!r} must list positive integers, e.g. 64,128")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="darcy, navier_stokes or burgers (or the file prefix with --data)")
    parser.add_argument("--data", metavar="DIR", help="train on existing files DIR/{NAME}_train_{R}.pt and DIR/{NAME}_test_{R'}.pt")
    parser.add_argument("--res", type=int, required=True, help="training resolution (grid points per axis)")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training samples (default: all the train file holds with --data, else 1000)")
    parser.add_argument("--n-test", type=int, default=None,
                        help="test samples (default: all each test file holds with --data, else 100)")
    parser.add_argument("--target-time", default=None, metavar="last|K",
                        help="with --data whose y is space-time (N, T, *grid), e.g. neuraloperator's Burgers: "
                             "learn y[:, -1] (last) or y[:, K]")
    parser.add_argument("--precision", default="full",
                        help="full, amp, mixed, half, amp-bf16, mixed-bf16, half-bf16, optionally +none|tanh|clip|sigma2|pow2; "
                             "half-fp8e4m3fn / half-fp8e5m2: emulated 8-bit block (with --backend dft); the names of "
                             "errbound precision and errbound advise (errbound.policy)")
    parser.add_argument("--schedule", help="precision schedule 'half:0,mixed+none:125,full:375' (overrides --precision)")
    parser.add_argument("--backend", default="fft", metavar="B", help="spectral transform backend: fft or dft (default fft)")
    parser.add_argument("--fft-fallback", action="store_true", help="use the dft backend where an fp16 fft needs a non-power-of-two size")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--test-res", help="comma-separated test resolutions (default: the training resolution)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available, else cpu)")
    parser.add_argument("--out", metavar="DIR", help="folder for checkpoint.pt, metrics.jsonl and summary.json")
    parser.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint.pt (needs --out)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--optimizer", choices=("adam", "adamw"), default="adamw")
    parser.add_argument("--scheduler", choices=("cosine", "step", "none"), default="cosine")
    parser.add_argument("--loss", choices=("l2", "h1"), default="l2")
    parser.add_argument("--hidden", type=int, default=32, help="hidden channels (default 32)")
    parser.add_argument("--modes", type=int, help="modes per axis, neuraloperator convention (default 32/24/16 in 1/2/3-D)")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--padding", type=int, default=0, help="zero padding per axis inside the model (non-periodic data)")
    parser.add_argument("--factorization", choices=("dense", "cp"), default="dense")
    parser.add_argument("--fallback-after", type=int, help="switch to a safer precision after N non-finite steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-normalize", action="store_true",
                        help="feed the data as given (no unit-Gaussian normalisation of inputs and targets): the spectral "
                             "blocks then see the data's own magnitudes, e.g. to reproduce fp16 overflow")
    parser.add_argument("--cache-dir", help="where generated datasets are cached (default $ERRBOUND_DATA or ~/.cache/errbound/data)")


def _load_data(args: argparse.Namespace, test_res: list[int], device: str) -> tuple[Any, dict[int, Any], int]:
    from errbound.data import get_dataset, load_pair, dataset_filename, make_dataset

    if args.data:
        folder = Path(args.data)
        if not folder.is_dir():
            raise ErrboundError(f"--data {folder} is not a folder; pass the folder holding {dataset_filename(args.dataset, 'train', args.res)}")
        train = load_pair(folder / dataset_filename(args.dataset, "train", args.res), n=args.n_train,
                          target_time=args.target_time)
        dim = train[0].dim() - 1
        if tuple(train[0].shape[1:]) != (args.res,) * dim:
            raise ErrboundError(f"{folder / dataset_filename(args.dataset, 'train', args.res)} holds a "
                                f"{'x'.join(map(str, train[0].shape[1:]))} grid, not --res {args.res}")
        tests = {r: load_pair(folder / dataset_filename(args.dataset, "test", r), spatial=(r,) * dim, n=args.n_test,
                              target_time=args.target_time) for r in test_res}
        return train, tests, dim
    if args.target_time is not None:
        raise ErrboundError("--target-time applies to --data files with a space-time y; generated datasets have none")
    spec = get_dataset(args.dataset)
    files = make_dataset(args.dataset, args.res, 1000 if args.n_train is None else args.n_train,
                         100 if args.n_test is None else args.n_test, seed=args.seed,
                         cache_dir=args.cache_dir, test_res=test_res, device=device)
    return files.load_train(), {r: files.load_test(r) for r in test_res}, spec.dim


def _init_distributed(device: str):
    import torch

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    if device.startswith("cuda"):
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return f"cuda:{local}"
    return device


def run(args: argparse.Namespace) -> CommandOutput:
    try:
        import torch
    except ImportError:
        from errbound.errors import MissingDependencyError

        raise MissingDependencyError("torch", "train") from None
    from errbound.results import provenance, write_json_atomic
    from errbound.train.models import FNOConfig
    from errbound.policy import BACKENDS, parse_policy, parse_schedule
    from errbound.modes import default_modes
    from errbound.train.spectral import check_supported
    from errbound.train.trainer import Trainer, TrainConfig, resolve_device

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    resolve_device(device)
    if args.resume and not args.out:
        raise ErrboundError("--resume needs --out DIR (the folder of the interrupted run)")
    if args.resume and not (Path(args.out) / "checkpoint.pt").is_file():
        raise ErrboundError(f"no checkpoint at {Path(args.out) / 'checkpoint.pt'}; run without --resume to start a new run")
    if args.epochs < 1:
        raise ErrboundError(f"--epochs must be >= 1, got {args.epochs}")
    if args.backend not in BACKENDS:
        raise ErrboundError(f"unknown backend {args.backend!r}; choose one of: {', '.join(BACKENDS)}")
    schedule = (parse_schedule(args.schedule, args.epochs, args.backend) if args.schedule
                else ((0, parse_policy(args.precision, args.backend)),))
    test_res = _int_list(args.test_res, "--test-res") if args.test_res else [args.res]
    if not args.data:
        from errbound.data import get_dataset

        dim = get_dataset(args.dataset).dim
    else:
        dim = None
    # fail fast on unsupported precision/backend/size before generating data
    if dim is not None:
        for _, policy in schedule:
            for r in [args.res, *test_res]:
                check_supported(policy, args.backend, (r + args.padding,) * dim, args.fft_fallback)
    device = _init_distributed(device)
    train, tests, dim = _load_data(args, test_res, device)
    modes = args.modes or default_modes(dim, (args.res,) * dim)
    model_config = FNOConfig(hidden=args.hidden, modes=(modes,) * dim, n_layers=args.layers, padding=args.padding,
                             backend=args.backend, fft_fallback=args.fft_fallback,
                             factorization=None if args.factorization == "dense" else "cp")
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                         optimizer=args.optimizer, scheduler=args.scheduler, loss=args.loss, schedule=schedule,
                         fallback_after=args.fallback_after, seed=args.seed, normalize=not args.no_normalize)
    trainer = Trainer(model_config, config, train, tests, device=device, out_dir=args.out, resume=args.resume)
    result = trainer.fit()
    data = {
        "dataset": args.dataset, "res": args.res, "test_res": test_res, "n_train": int(train[0].shape[0]),
        "precision": schedule[0][1].name, "schedule": [[e, p.name] for e, p in schedule],
        "backend": args.backend, "epochs": result.epochs, "minutes": result.minutes,
        "test_l2": {str(k): v for k, v in result.test_l2.items()},
        "test_h1": {str(k): v for k, v in result.test_h1.items()},
        "train_loss": result.train_loss, "samples_per_s": result.samples_per_s,
        "peak_mem_mib": result.peak_mem_mib, "nonfinite_steps": result.nonfinite_steps,
        "scaler_skips": result.scaler_skips,
        "final_precision": result.final_precision, "world_size": trainer.world,
        "model": dataclasses.asdict(model_config), "train": {k: v for k, v in dataclasses.asdict(config).items() if k != "schedule"},
        "out": args.out, "provenance": provenance(),
    }
    if args.out and trainer.rank == 0:
        write_json_atomic(Path(args.out) / "summary.json", data)
    rows = [{"test_res": r, "rel_l2": result.test_l2[r], "rel_h1": result.test_h1[r]} for r in sorted(result.test_l2)]
    text = (f"{args.dataset} res {args.res}, precision {data['precision']} ({args.backend}), {result.epochs} epochs "
            f"in {result.minutes:.2f} min, {result.samples_per_s:.1f} samples/s, non-finite steps {result.nonfinite_steps}\n"
            + format_table(rows))
    return CommandOutput(data=data, text=text)
