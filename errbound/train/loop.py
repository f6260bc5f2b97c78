"""The epoch loop: from a trainer's position to its planned epochs, one commit point per epoch.

:func:`run_epochs` (what :meth:`Trainer.fit <errbound.train.trainer.Trainer.fit>` does) holds the run
folder's lock, repairs ``metrics.jsonl`` from the checkpoint when resuming, removes a stale ``summary.json``,
shows the banner, then for each epoch: switches the scheduled precision policy, trains the epoch
(:func:`train_epoch`, a bar over its samples), steps the learning-rate schedule, evaluates, appends the
metrics row and commits (checkpoint, then metrics). SIGINT/SIGTERM are deferred
(:mod:`errbound.train.interrupt`): the loop stops after the current step with a checkpoint holding the
position inside the epoch and raises :class:`TrainingInterrupted`.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import torch

from errbound.progress import progress_enabled
from errbound.train.display import TrainDisplay, banner_items
from errbound.train.interrupt import SignalFlag, TrainingInterrupted, deferred_signals

if TYPE_CHECKING:  # pragma: no cover
    from errbound.train.trainer import Trainer

__all__ = ["TrainResult", "run_epochs", "train_epoch", "Callback"]

Callback = Callable[["Trainer", dict[str, Any]], None]


@dataclasses.dataclass
class TrainResult:
    """Summary of a training run (the CLI's JSON summary adds provenance)."""

    test_l2: dict[int, float]
    test_h1: dict[int, float]
    train_loss: float
    samples_per_s: float
    peak_mem_mib: float | None
    nonfinite_steps: int
    scaler_skips: int
    epochs: int
    minutes: float
    final_precision: str
    history: list[dict[str, Any]]
    steps_taken: int = 0
    steps_total: int = 0

    @property
    def failure(self) -> str | None:
        """Why the run failed (None when it did not): no step taken, or a non-finite final loss or test error."""
        if self.steps_total and self.steps_taken == 0:
            return (f"every training step was non-finite ({self.nonfinite_steps} non-finite, {self.scaler_skips} "
                    "skipped by loss scaling): no weight was updated; check the data's magnitude or use --precision full")
        if not math.isfinite(self.train_loss):
            return f"the final training loss is {self.train_loss} (non-finite steps: {self.nonfinite_steps})"
        bad = [r for r, v in self.test_l2.items() if not math.isfinite(v)]
        if bad:
            return f"the test error at resolution {', '.join(map(str, bad))} is not finite"
        return None


def train_epoch(trainer: "Trainer", epoch: int, flag: SignalFlag | None = None, bar: Any = None) -> float:
    """Train epoch ``epoch`` from batch ``trainer.batch``; return the mean loss of its taken steps.

    Only the steps are timed (``train_seconds``; device synchronised around each). With a
    :class:`SignalFlag` that has received a signal, stops after the current step, writes a checkpoint
    holding the position and raises :class:`TrainingInterrupted`.
    """
    t = trainer
    t.model.train()
    sync = torch.cuda.synchronize if t.device.type == "cuda" else (lambda: None)
    batches = t.batches(epoch)
    for i in range(t.batch, len(batches)):
        idx = batches[i]
        sync()
        start = time.perf_counter()
        xb = t.x_train[idx].to(t.device, non_blocking=True)
        yb = t.y_train[idx].to(t.device, non_blocking=True)
        loss, taken = t.train_step(xb, yb)
        sync()
        t.train_seconds += time.perf_counter() - start
        if taken:
            t.epoch_losses.append(loss)
        t.train_samples += idx.numel() * t.world
        t.batch = i + 1
        if bar is not None:
            bar.update(idx.numel() * t.world)
            if taken:
                bar.set_postfix_str(f"loss {np.mean(t.epoch_losses):.4g}", refresh=False)
        if t.stop_requested(flag) and t.batch < len(batches):
            raise TrainingInterrupted(flag.received or 2, t.save_checkpoint(), t.epoch, t.batch)  # type: ignore[union-attr]
    return float(np.mean(t.epoch_losses)) if t.epoch_losses else float("nan")


def run_epochs(trainer: "Trainer", callbacks: Sequence[Callback] = ()) -> TrainResult:
    """Train from the trainer's position to ``config.epochs`` (see the module docstring)."""
    t = trainer
    if t.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(t.device)
    wall = time.perf_counter()
    display = TrainDisplay(t.show_progress and t.rank == 0 and progress_enabled())
    owner = t.run if t.run is not None and t.rank == 0 else None
    if owner is not None:
        owner.acquire()
    try:
        if owner is not None:
            if t.overwrite:
                owner.clear()
                t.overwrite = False
            if t.epoch < t.config.epochs:
                owner.summary.unlink(missing_ok=True)  # a summary describes a finished run only
            if t.resumed_from is not None:
                owner.write_metrics(t.history)  # repair: metrics are what the commit point implies
        display.banner(banner_items(t))
        with deferred_signals() as flag:
            _loop(t, flag, display, callbacks)
    finally:
        if owner is not None:
            owner.release()
    result = _result(t, wall)
    display.line(f"done: {result.epochs} epochs, {result.minutes:.2f} min, {result.samples_per_s:.0f} samples/s, "
                 + ", ".join(f"test@{r} l2 {v:.4g}" for r, v in sorted(result.test_l2.items())))
    return result


def _loop(t: "Trainer", flag: SignalFlag, display: TrainDisplay, callbacks: Sequence[Callback]) -> None:
    c = t.config
    n_samples = (t.x_train.shape[0] // c.batch_size) * c.batch_size if t.world > 1 else t.x_train.shape[0]
    for epoch in range(t.epoch, c.epochs):
        if t.batch == 0:
            scheduled = c.policy_at(epoch)
            if any(start == epoch for start, _ in c.schedule) and epoch > 0 and scheduled != t.policy:
                t.set_policy(scheduled)
        seconds0, samples0 = t.train_seconds, t.train_samples
        bar = display.epoch_bar(epoch, c.epochs, n_samples, min(t.batch * c.batch_size, n_samples))
        try:
            train_loss = train_epoch(t, epoch, flag, bar)
        finally:
            bar.close()
        with warnings.catch_warnings():  # an epoch whose every step was skipped is reported, not warned about
            warnings.filterwarnings("ignore", message=re.escape("Detected call of `lr_scheduler.step()`"))
            t.scheduler.step()
        t.epoch, t.batch, t.epoch_losses = epoch + 1, 0, []
        row: dict[str, Any] = {"epoch": t.epoch, "train_loss": train_loss, "precision": t.policy.name,
                               "nonfinite_steps": t.nonfinite_steps, "scaler_skips": t.scaler_skips,
                               "lr": t.optimizer.param_groups[0]["lr"]}
        if t.epoch % c.eval_every == 0 or t.epoch == c.epochs:
            l2, h1 = t.evaluate()
            row["test_l2"] = {str(k): v for k, v in l2.items()}
            row["test_h1"] = {str(k): v for k, v in h1.items()}
        t.history.append(row)
        t.save_checkpoint()
        display.epoch_line(row, c.epochs, t.train_seconds - seconds0, t.train_samples - samples0, c.loss)
        for cb in callbacks:
            cb(t, row)
        if t.epoch < c.epochs and t.stop_requested(flag):
            raise TrainingInterrupted(flag.received or 2, t.run.checkpoint if t.run else None, t.epoch, 0)


def _result(t: "Trainer", wall: float) -> TrainResult:
    last = t.history[-1] if t.history else {}
    if last.get("epoch") == t.epoch and "test_l2" in last and len(last["test_l2"]) == len(t.test_data):
        l2 = {int(k): v for k, v in last["test_l2"].items()}
        h1 = {int(k): v for k, v in last["test_h1"].items()}
    else:
        l2, h1 = t.evaluate()
    peak = torch.cuda.max_memory_allocated(t.device) / 2**20 if t.device.type == "cuda" else None
    train_losses = [r["train_loss"] for r in t.history]
    return TrainResult(
        test_l2=l2, test_h1=h1, train_loss=train_losses[-1] if train_losses else float("nan"),
        samples_per_s=t.train_samples / t.train_seconds if t.train_seconds > 0 else float("nan"),
        peak_mem_mib=peak, nonfinite_steps=t.nonfinite_steps, scaler_skips=t.scaler_skips, epochs=t.epoch,
        minutes=(time.perf_counter() - wall) / 60, final_precision=t.policy.name, history=t.history,
        steps_taken=t.steps_taken, steps_total=len(t.batches(0)) * t.epoch,
    )
