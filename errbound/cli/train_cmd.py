"""``errbound train``: train an FNO on generated or given data in a chosen precision.

Order of work, so that mistakes cost seconds, not a data generation: the options and the run folder are
checked first (without importing torch: is ``--out`` a writable folder, does it already hold a run, does
``--resume`` change the saved configuration, are the dataset cache and HOME writable), then the precision
and backend, then the folder is locked and ``run.json`` written, and only then is data generated or loaded.

Exit status: 0 finished, 1 the run failed (every step non-finite, or a non-finite final loss or test error),
2 bad input or an unusable environment (one line ``errbound: error: ...``), 130 interrupted by Ctrl-C (143 by
SIGTERM) after writing a checkpoint and printing the command that resumes the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from errbound.cli._output import CommandOutput, format_table
from errbound.errors import ErrboundError

HELP = "train an FNO (full, amp, mixed, half precision) on generated or given data"


#: Options that define a run: saved in run.json, restored by --resume, and refused when changed on resume
#: (except those in _MAY_CHANGE).
RUN_OPTIONS = ("dataset", "data", "res", "n_train", "n_test", "target_time", "precision", "schedule", "backend",
               "fft_fallback", "epochs", "test_res", "device", "batch_size", "lr", "weight_decay", "optimizer",
               "scheduler", "loss", "hidden", "modes", "layers", "padding", "factorization", "fallback_after", "seed",
               "no_normalize", "raw_inputs", "cache_dir")
#: --epochs extends (or shortens, down to the epochs done) the run; --device and --cache-dir say where it runs
#: and where its generated data is cached, not what is computed.
_MAY_CHANGE = ("epochs", "device", "cache_dir")
RUNS_ROOT = "runs"


def _int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ErrboundError(f"{what} {text!r} is not a comma-separated list of integers, e.g. 64,128") from None
    if not values or any(v < 1 for v in values):
        raise ErrboundError(f"{what} {text!r} must list positive integers, e.g. 64,128")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``errbound train`` (defaults are shown by ``--help``)."""
    parser.add_argument("--dataset", help="darcy, navier_stokes or burgers (or the file prefix with --data); required "
                        "unless --resume")
    parser.add_argument("--data", metavar="DIR", help="train on existing files DIR/{NAME}_train_{R}.pt and DIR/{NAME}_test_{R'}.pt")
    parser.add_argument("--res", type=int, help="training resolution (grid points per axis); required unless --resume")
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
    parser.add_argument("--backend", default="fft", metavar="B", help="spectral transform backend: fft or dft")
    parser.add_argument("--fft-fallback", action="store_true", help="use the dft backend where an fp16 fft needs a non-power-of-two size")
    parser.add_argument("--epochs", type=int, default=100, help="epochs to train (on --resume: the new total)")
    parser.add_argument("--test-res", help="comma-separated test resolutions (default: the training resolution)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available, else cpu)")
    parser.add_argument("--out", metavar="DIR", help="run folder for run.json, checkpoint.pt, metrics.jsonl, summary.json "
                        f"(default: a new folder {RUNS_ROOT}/DATASET_rRES_PRECISION_NNN)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out DIR with its saved options "
                        "(only --epochs, --device and --cache-dir may change)")
    parser.add_argument("--overwrite", action="store_true", help="replace the run already in --out DIR")
    parser.add_argument("--batch-size", type=int, default=16, help="training batch size")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    parser.add_argument("--weight-decay", type=float, default=1e-4, help="weight decay")
    parser.add_argument("--optimizer", choices=("adam", "adamw"), default="adamw", help="optimiser")
    parser.add_argument("--scheduler", choices=("cosine", "step", "none"), default="cosine", help="learning-rate schedule")
    parser.add_argument("--loss", choices=("l2", "h1"), default="l2", help="training loss (relative, batch mean)")
    parser.add_argument("--hidden", type=int, default=32, help="hidden channels")
    parser.add_argument("--modes", type=int, help="modes per axis, neuraloperator convention (default 32/24/16 in 1/2/3-D)")
    parser.add_argument("--layers", type=int, default=4, help="Fourier layers")
    parser.add_argument("--padding", type=int, default=0, help="zero padding per axis inside the model (non-periodic data)")
    parser.add_argument("--factorization", choices=("dense", "cp"), default="dense", help="spectral weights (cp: TFNO)")
    parser.add_argument("--fallback-after", type=int, help="switch to a safer precision after N non-finite steps")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data, the weights and the batch order")
    parser.add_argument("--no-normalize", action="store_true",
                        help="feed the data as given (no unit-Gaussian normalisation of inputs and targets): the spectral "
                             "blocks then see the data's own magnitudes, e.g. to reproduce fp16 overflow")
    parser.add_argument("--raw-inputs", action="store_true",
                        help="normalise the targets only: the inputs reach the network in their own units (how "
                             "fp16 overflow meets users who train on raw physical values)")
    parser.add_argument("--cache-dir", help="where generated datasets are cached (default $ERRBOUND_DATA or ~/.cache/errbound/data)")
    parser.add_argument("--progress", choices=("auto", "on", "off"), default="auto",
                        help="progress on stderr: auto = only when stderr is a terminal")


def _defaults() -> dict[str, Any]:
    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    return {a.dest: a.default for a in parser._actions}


def _explicit(args: argparse.Namespace) -> set[str]:
    """Options given on the command line (``errbound.cli.main`` records them; otherwise: non-defaults)."""
    given = getattr(args, "_explicit", None)
    if given is not None:
        return set(given)
    defaults = _defaults()
    return {k for k, v in vars(args).items() if k in defaults and v != defaults[k]}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _canonical(dest: str, value: Any) -> Any:
    if value is None:
        return None
    if dest == "test_res":
        return _int_list(value, "--test-res") if isinstance(value, str) else [int(v) for v in value]
    if dest in ("data", "cache_dir"):
        return str(Path(value).expanduser().resolve())
    if isinstance(value, str):
        return value.strip().lower()
    return value


def _resolve_options(args: argparse.Namespace, run_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's options: the command line, or on --resume the saved ones (refusing changed options)."""
    options = {k: _canonical(k, getattr(args, k)) for k in RUN_OPTIONS}
    if run_config is None:
        return options
    saved = dict(run_config["options"])
    explicit = _explicit(args)
    changed = []
    for key in RUN_OPTIONS:
        if key in explicit and key not in _MAY_CHANGE and options[key] != saved.get(key):
            changed.append(f"{_flag(key)} {getattr(args, key)} (saved: {saved.get(key)})")
        if key not in explicit:
            options[key] = saved.get(key)
    if changed:
        raise ErrboundError(f"--resume cannot change the saved run in {args.out}: {'; '.join(changed)}; resume without "
                            "these options (the saved configuration is restored) or start a new run with another --out")
    return options


def _check_environment(options: Mapping[str, Any], out: Path) -> None:
    """--out, the dataset cache and HOME must be writable: checked before any data is generated."""
    from errbound.run_folder import check_writable_dir

    check_writable_dir(out, "--out", "pass --out with a writable folder")
    if options["data"]:
        return
    if options["cache_dir"]:
        check_writable_dir(options["cache_dir"], "--cache-dir", "pass --cache-dir with a writable folder")
        return
    from errbound.data import default_cache_dir

    cache = default_cache_dir()
    if os.environ.get("ERRBOUND_DATA"):
        check_writable_dir(cache, "the dataset cache $ERRBOUND_DATA", "set ERRBOUND_DATA or pass --cache-dir with a writable folder")
    else:
        check_writable_dir(cache, f"the dataset cache (under HOME={Path.home()})",
                           "pass --cache-dir DIR or set ERRBOUND_DATA to a writable folder")


def _load_data(options: Mapping[str, Any], test_res: list[int], device: str) -> tuple[Any, dict[int, Any], int, str]:
    from errbound.data import dataset_filename, get_dataset, load_pair, make_dataset

    name, res = options["dataset"], options["res"]
    if options["data"]:
        folder = Path(options["data"])
        if not folder.is_dir():
            raise ErrboundError(f"--data {folder} is not a folder; pass the folder holding {dataset_filename(name, 'train', res)}")
        train = load_pair(folder / dataset_filename(name, "train", res), n=options["n_train"],
                          target_time=options["target_time"])
        dim = train[0].dim() - 1
        if tuple(train[0].shape[1:]) != (res,) * dim:
            raise ErrboundError(f"{folder / dataset_filename(name, 'train', res)} holds a "
                                f"{'x'.join(map(str, train[0].shape[1:]))} grid, not --res {res}")
        tests = {r: load_pair(folder / dataset_filename(name, "test", r), spatial=(r,) * dim, n=options["n_test"],
                              target_time=options["target_time"]) for r in test_res}
        return train, tests, dim, str(folder)
    if options["target_time"] is not None:
        raise ErrboundError("--target-time applies to --data files with a space-time y; generated datasets have none")
    spec = get_dataset(name)
    files = make_dataset(name, res, 1000 if options["n_train"] is None else options["n_train"],
                         100 if options["n_test"] is None else options["n_test"], seed=options["seed"],
                         cache_dir=options["cache_dir"], test_res=test_res, device=device)
    source = f"{files.folder} ({'generated now' if files.generated else 'cached'})"
    return files.load_train(), {r: files.load_test(r) for r in test_res}, spec.dim, source


def _init_distributed(device: str) -> str:
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


def _default_out(options: Mapping[str, Any]) -> Path:
    from errbound.run_folder import default_run_path

    return default_run_path(RUNS_ROOT, options["dataset"], options["res"],
                            "schedule" if options["schedule"] else options["precision"])


def _new_default_folder(options: Mapping[str, Any]) -> Path:
    """Create the next free default run folder (exclusive mkdir: two runs started together get two folders)."""
    for _ in range(1000):
        out = _default_out(options)
        try:
            out.mkdir(parents=True, exist_ok=False)
            return out
        except FileExistsError:
            continue
    raise ErrboundError(f"cannot find a free run folder under {RUNS_ROOT}/; pass --out DIR")


def _prepare_run(args: argparse.Namespace) -> tuple[Path, dict[str, Any], bool]:
    """Run folder, options and whether a checkpoint is resumed; every check that needs no torch."""
    from errbound.run_folder import RunFolder

    if args.resume and not args.out:
        raise ErrboundError("--resume needs --out DIR (the folder of the interrupted run)")
    if args.resume and args.overwrite:
        raise ErrboundError("--resume and --overwrite contradict each other: pass one of them")
    run_config = None
    if args.resume:
        folder = RunFolder(args.out)
        run_config = folder.read_config()
        if run_config is None and not folder.checkpoint.is_file():
            raise ErrboundError(f"no run to resume in {folder.path}: no checkpoint and no run.json; "
                                "run without --resume to start a new run")
        if run_config is None:
            raise ErrboundError(f"{folder.path} holds a checkpoint but no run.json (written by an older errbound): "
                                "its options cannot be restored; start again with --overwrite")
    options = _resolve_options(args, run_config)
    for key in ("dataset", "res"):
        if options[key] is None:
            raise ErrboundError(f"{_flag(key)} is required (unless --resume restores it from a run folder)")
    if options["epochs"] < 1:
        raise ErrboundError(f"--epochs must be >= 1, got {options['epochs']}")
    if not args.data and not args.resume:
        from errbound.data import get_dataset

        get_dataset(options["dataset"])  # unknown dataset: fail before anything is written
    out = Path(args.out) if args.out else _default_out(options)
    _check_environment(options, out)
    folder = RunFolder(out)
    resuming = bool(args.resume) and folder.checkpoint.is_file()
    if not args.resume and not args.overwrite and folder.holds_run():
        raise ErrboundError(f"{out} already holds a run; pass --resume to continue it, --overwrite to replace it, "
                            "or another --out")
    return out, options, resuming


def run(args: argparse.Namespace) -> CommandOutput:
    """Check, lock the run folder, load or generate the data, train, write summary.json."""
    if args.progress != "auto":
        os.environ["ERRBOUND_PROGRESS"] = "1" if args.progress == "on" else "0"
    out, options, resuming = _prepare_run(args)
    try:
        import torch
    except ImportError:
        from errbound.errors import MissingDependencyError

        raise MissingDependencyError("torch", "train") from None
    from errbound.policy import BACKENDS, parse_policy, parse_schedule
    from errbound.train.spectral import check_supported
    from errbound.train.trainer import resolve_device

    device = options["device"] or ("cuda" if torch.cuda.is_available() else "cpu")
    resolve_device(device)
    options["device"] = device
    if options["backend"] not in BACKENDS:
        raise ErrboundError(f"unknown backend {options['backend']!r}; choose one of: {', '.join(BACKENDS)}")
    schedule = (parse_schedule(options["schedule"], options["epochs"], options["backend"]) if options["schedule"]
                else ((0, parse_policy(options["precision"], options["backend"])),))
    test_res = list(options["test_res"] or [options["res"]])
    options["test_res"] = test_res
    dim = None if options["data"] else _dataset_dim(options["dataset"])
    if dim is not None:  # fail fast on unsupported precision/backend/size before generating data
        for _, policy in schedule:
            for r in [options["res"], *test_res]:
                check_supported(policy, options["backend"], (r + options["padding"],) * dim, options["fft_fallback"])
    device = _init_distributed(device)
    from errbound.run_folder import RunFolder, os_error_message

    rank0 = int(os.environ.get("RANK", "0")) == 0
    if not args.out:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise ErrboundError("a distributed run needs --out DIR (every process must use the same folder)")
        out = _new_default_folder(options)
    folder = RunFolder(out)
    if rank0:
        folder.acquire()
    try:
        if rank0:
            if args.overwrite:
                folder.clear()
            if args.resume and not resuming:
                print(f"errbound train: {out} has no checkpoint yet (the run stopped before its first epoch ended): "
                      "starting it from epoch 0 with its saved options", file=sys.stderr)
            folder.write_json(folder.config, {"options": options, "command": _command(args),
                                              "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                              "run configuration")
        try:
            return _train(args, options, schedule, test_res, device, folder, resuming)
        except OSError as exc:
            raise ErrboundError(os_error_message(exc, "write", "pass another --out or --cache-dir")) from None
    finally:
        if rank0:
            folder.release()


def _dataset_dim(name: str) -> int:
    from errbound.data import get_dataset

    return get_dataset(name).dim


def _command(args: argparse.Namespace) -> str:
    return "errbound train " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "errbound train"


def _train(args: argparse.Namespace, options: dict[str, Any], schedule: Any, test_res: list[int], device: str,
           folder: Any, resuming: bool) -> CommandOutput:
    from errbound.modes import default_modes
    from errbound.results import provenance
    from errbound.train.models import FNOConfig
    from errbound.train.trainer import Trainer, TrainConfig, TrainingInterrupted

    train, tests, dim, source = _load_data(options, test_res, device)
    modes = options["modes"] or default_modes(dim, (options["res"],) * dim)
    model_config = FNOConfig(hidden=options["hidden"], modes=(modes,) * dim, n_layers=options["layers"],
                             padding=options["padding"], backend=options["backend"],
                             fft_fallback=options["fft_fallback"],
                             factorization=None if options["factorization"] == "dense" else "cp")
    config = TrainConfig(epochs=options["epochs"], batch_size=options["batch_size"], lr=options["lr"],
                         weight_decay=options["weight_decay"], optimizer=options["optimizer"],
                         scheduler=options["scheduler"], loss=options["loss"], schedule=schedule,
                         fallback_after=options["fallback_after"], seed=options["seed"],
                         normalize=False if options["no_normalize"] else "output" if options["raw_inputs"] else True)
    trainer = Trainer(model_config, config, train, tests, device=device, out_dir=folder, resume=resuming,
                      overwrite=args.overwrite, data_source=source)
    for warning in trainer.data_warnings:
        print(f"errbound train: warning: {warning}", file=sys.stderr)
    resumed_from = trainer.resumed_from
    try:
        result = trainer.fit()
    except TrainingInterrupted as exc:
        print(f"errbound train: {exc}", file=sys.stderr)
        if exc.checkpoint is not None:
            print(f"resume with: errbound train --out {folder.path} --resume", file=sys.stderr)
        return CommandOutput(data={"status": "interrupted", "epoch": exc.epoch, "batch": exc.batch,
                                   "checkpoint": exc.checkpoint, "out": str(folder.path)},
                             text="", exit_code=exc.exit_code)
    failure = result.failure
    data = {
        "status": "failed" if failure else "finished", "failure": failure,
        "dataset": options["dataset"], "res": options["res"], "test_res": test_res, "n_train": int(train[0].shape[0]),
        "precision": schedule[0][1].name, "schedule": [[e, p.name] for e, p in schedule],
        "backend": options["backend"], "epochs": result.epochs, "minutes": result.minutes,
        "test_l2": {str(k): v for k, v in result.test_l2.items()},
        "test_h1": {str(k): v for k, v in result.test_h1.items()},
        "train_loss": result.train_loss, "samples_per_s": result.samples_per_s,
        "peak_mem_mib": result.peak_mem_mib, "nonfinite_steps": result.nonfinite_steps,
        "scaler_skips": result.scaler_skips, "steps_taken": result.steps_taken,
        "final_precision": result.final_precision, "world_size": trainer.world,
        "resumed_from": list(resumed_from) if resumed_from else None, "data_source": source,
        "model": dataclasses.asdict(model_config),
        "train": {k: v for k, v in dataclasses.asdict(config).items() if k != "schedule"},
        "options": options, "out": str(folder.path), "provenance": provenance(),
    }
    if trainer.rank == 0:
        folder.write_json(folder.summary, data, "summary")
    rows = [{"test_res": r, "rel_l2": result.test_l2[r], "rel_h1": result.test_h1[r]} for r in sorted(result.test_l2)]
    text = (f"{options['dataset']} res {options['res']}, precision {data['precision']} ({options['backend']}), "
            f"{result.epochs} epochs in {result.minutes:.2f} min, {result.samples_per_s:.1f} samples/s, "
            f"non-finite steps {result.nonfinite_steps}, run folder {folder.path}\n" + format_table(rows))
    if failure:
        print(f"errbound train: run failed: {failure} (summary in {folder.summary})", file=sys.stderr)
        return CommandOutput(data=data, text=text, exit_code=1)
    return CommandOutput(data=data, text=text)
