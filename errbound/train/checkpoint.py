"""The checkpoint file: what a training run's commit point holds, and reading it back safely.

A checkpoint is one ``torch.save`` dict (``FORMAT_VERSION`` 2) holding the model, optimizer, GradScaler and
learning-rate scheduler states, the RNG states (torch, CUDA, numpy, python), the position in the run
(``epoch`` finished epochs plus ``batch`` batches of the next one, nonzero only for a checkpoint written on
an interrupt, with that epoch's ``epoch_losses`` so far), the current precision policy, the counters
(non-finite steps, scaler skips, steps taken, training time and samples) and the metrics ``history`` (one row
per finished epoch: ``metrics.jsonl`` is derived from it). It is written atomically: the renamed file is the
run's single commit point.

:func:`read_checkpoint` turns every way a checkpoint can be unusable into one :class:`ErrboundError` line
saying why: truncated or not a torch file, written by another checkpoint format, missing or mistyped
fields, or written for another model.
"""

from __future__ import annotations

import dataclasses
import io
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import torch

from errbound.errors import ErrboundError
from errbound.results import atomic_path
from errbound.policy import Policy, parse_policy
from errbound.run_folder import os_error_message

if TYPE_CHECKING:  # pragma: no cover
    from errbound.train.trainer import Trainer

__all__ = ["FORMAT_VERSION", "capture", "restore", "write_checkpoint", "read_checkpoint", "rng_state", "set_rng_state",
           "policy_to_dict", "policy_from_dict"]

FORMAT_VERSION = 2

#: field -> accepted type(s); checked before anything is restored.
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "format_version": int, "model": dict, "optimizer": dict, "scaler": dict, "scheduler": dict, "epoch": int,
    "batch": int, "epoch_losses": list, "policy": dict, "counters": dict, "history": list, "model_config": dict,
    "rng": dict,
}
_COUNTERS = ("nonfinite_steps", "scaler_skips", "steps_taken", "events_since_switch", "train_seconds", "train_samples")


def rng_state() -> dict[str, Any]:
    """Every RNG state a training step may touch (torch CPU and CUDA, numpy, python)."""
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"].cpu())
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """The policy as its name and backend (parsed back by :func:`errbound.policy.parse_policy`)."""
    return {"precision": policy.name, "backend": policy.backend}


def policy_from_dict(d: Mapping[str, Any]) -> Policy:
    if "precision" not in d:
        raise ErrboundError("the checkpoint's precision policy is from an older errbound (no 'precision' name); "
                            "start a new run (another --out) instead of --resume")
    return parse_policy(d["precision"], d.get("backend", "fft"))


def _write_bytes(path: Path, data: memoryview) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def write_checkpoint(path: Path, state: Mapping[str, Any]) -> None:
    """Serialise in memory, write a temporary file, fsync, rename over ``path``: the previous checkpoint stays
    intact until the new one is complete. Disk and permission errors become one ErrboundError line.

    (Serialising to memory first makes a full disk an ``OSError`` with its errno: ``torch.save`` writing to
    a file reports it as an opaque ``RuntimeError`` from its zip writer.)
    """
    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    try:
        with atomic_path(path) as tmp:
            _write_bytes(tmp, buffer.getbuffer())
    except OSError as exc:
        last = f"the last good checkpoint {path} is intact" if path.is_file() else "no checkpoint was written yet"
        raise ErrboundError(os_error_message(exc, "write the checkpoint", f"pass another --out ({last})", path)) from None


def read_checkpoint(path: Path, *, model_config: Mapping[str, Any], map_location: Any) -> dict[str, Any]:
    """Load and check a checkpoint; return its dict or raise one ErrboundError line saying why it is unusable."""
    fix = "start again with --overwrite (or another --out)"
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except FileNotFoundError:
        raise ErrboundError(f"no checkpoint to resume from at {path}; run without --resume to start a new run") from None
    except (PermissionError, IsADirectoryError) as exc:
        raise ErrboundError(os_error_message(exc, "read the checkpoint", fix)) from None
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a damaged file
        size = path.stat().st_size if path.exists() else 0
        first = (str(exc).strip().splitlines() or [""])[0][:120]
        raise ErrboundError(f"checkpoint {path} is truncated or damaged ({size} bytes; {type(exc).__name__}: {first}); "
                            f"it cannot be used: {fix}") from None
    if not isinstance(state, dict):
        raise ErrboundError(f"checkpoint {path} holds a {type(state).__name__}, not an errbound checkpoint; {fix}")
    version = state.get("format_version")
    if version != FORMAT_VERSION:
        raise ErrboundError(f"checkpoint {path} has format {version if version is not None else 1} and this errbound "
                            f"reads format {FORMAT_VERSION} (written by another version); resume with that version or {fix}")
    bad = [name for name, kind in _FIELDS.items() if not isinstance(state.get(name), kind)]
    bad += [f"counters.{c}" for c in _COUNTERS if not isinstance(state.get("counters", {}).get(c), (int, float))] \
        if isinstance(state.get("counters"), dict) else []
    if bad:
        raise ErrboundError(f"checkpoint {path} is damaged: missing or mistyped {', '.join(bad)}; {fix}")
    if state["model_config"] != dict(model_config):
        raise ErrboundError(
            f"checkpoint {path} was written for a different model configuration; use the same options "
            "as the interrupted run or a new --out folder"
        )
    return state


def capture(trainer: "Trainer") -> dict[str, Any]:
    """The checkpoint dict of ``trainer`` now (format ``FORMAT_VERSION``)."""
    t = trainer
    return {
        "format_version": FORMAT_VERSION,
        "model": t.net.state_dict(),
        "optimizer": t.optimizer.state_dict(),
        "scaler": t.scaler.state_dict(),
        "scheduler": t.scheduler.state_dict(),
        "epoch": t.epoch,
        "batch": t.batch,
        "epoch_losses": list(t.epoch_losses),
        "policy": policy_to_dict(t.policy),
        "counters": {name: getattr(t, name) for name in _COUNTERS},
        "history": t.history,
        "model_config": dataclasses.asdict(t.model_config),
        "train_config": {k: v for k, v in dataclasses.asdict(t.config).items() if k != "schedule"},
        "rng": rng_state(),
    }


def restore(trainer: "Trainer", state: Mapping[str, Any], path: Path) -> None:
    """Put a checkpoint read by :func:`read_checkpoint` back into ``trainer``; one-line ErrboundError if it
    does not fit. The learning rate is re-evaluated from the closed-form schedule of the trainer's config
    (so a run resumed with more epochs follows the schedule of a run planned that long)."""
    t = trainer
    if state["epoch"] > t.config.epochs:
        raise ErrboundError(f"the run in {path.parent} has already trained {state['epoch']} epochs; "
                            f"pass --epochs {state['epoch']} or more to resume it")
    try:
        t.net.load_state_dict(state["model"])
        t.optimizer.load_state_dict(state["optimizer"])
        t.scaler.load_state_dict(state["scaler"])
        t.scheduler.load_state_dict(state["scheduler"])
        policy = policy_from_dict(state["policy"])
        counters = {name: type(getattr(t, name))(state["counters"][name]) for name in _COUNTERS}
        history = [dict(row) for row in state["history"]]
        epoch_losses = [float(v) for v in state["epoch_losses"]]
        set_rng_state(state["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        raise ErrboundError(f"checkpoint {path} cannot be restored ({type(exc).__name__}: {first}); "
                            "start again with --overwrite (or another --out)") from None
    for name, value in counters.items():
        setattr(t, name, value)
    t.history, t.epoch_losses = history, epoch_losses
    t.set_policy(policy, keep_events=True)
    t.epoch, t.batch = int(state["epoch"]), int(state["batch"])
    for group, base in zip(t.optimizer.param_groups, t.scheduler.base_lrs):
        group["lr"] = base * t.scheduler.lr_lambdas[0](t.scheduler.last_epoch)
