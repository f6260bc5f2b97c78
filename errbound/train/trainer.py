"""Training loop for FNOs in full, AMP, mixed and half precision.

* Adam/AdamW, cosine or step learning-rate schedules (stepped once per epoch);
* relative L2 or H1 training loss (batch mean), evaluation of both at every test resolution;
* precision schedule: ``((0, half), (125, mixed+none), (375, full))`` switches policies at epoch starts;
* GradScaler exactly when the current policy uses fp16 (never for bf16 or fp32);
* non-finite guard: a step whose loss or gradients are not finite is skipped (no optimizer update) and
  counted (``nonfinite_steps``; under fp16 loss scaling, overflowing *scaled* gradients with a finite loss are
  GradScaler's normal calibration and are counted separately as ``scaler_skips``); with ``fallback_after=N`` the policy moves to the next safer one (half -> mixed -> amp -> full)
  after N such events;
* channel-wise Gaussian normalisation of inputs and outputs (statistics of the training set, stored in
  the model so checkpoints and other resolutions use the same ones);
* a run folder (:mod:`errbound.run_folder`: lock, temp-file cleanup) and one commit point per epoch,
  the checkpoint (:mod:`errbound.train.checkpoint`: model, optimizer, scaler, scheduler, RNG states,
  position, counters, metrics history, policy), written atomically; ``metrics.jsonl`` is derived from it.
  ``resume=True`` continues from it. The data order of epoch ``e`` is a permutation drawn from a generator
  seeded by ``(seed, e)``, so a resumed run replays the same batches;
* Ctrl-C / SIGTERM (:mod:`errbound.train.interrupt`): the current step finishes, a checkpoint holding the
  position inside the epoch is written, and :class:`TrainingInterrupted` is raised;
* learning-rate schedules are closed-form functions of the epoch (``cosine``: ``lr * (1 + cos(pi e / E)) / 2``
  with ``E = epochs``), so a resumed run with more epochs follows the schedule of a run planned that long;
* distributed data parallel when ``torch.distributed`` is initialised (``torchrun``; gloo on CPU, nccl on
  CUDA): each rank takes an equal share of each global batch, gradients are averaged, rank 0 writes files.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from errbound.errors import ErrboundError
from errbound.progress import progress_enabled
from errbound.train.checkpoint import (FORMAT_VERSION, policy_from_dict, policy_to_dict, read_checkpoint, rng_state,
                                       set_rng_state, write_checkpoint)
from errbound.train.display import TrainDisplay, format_count
from errbound.train.evaluation import autocast_for, evaluate
from errbound.train.interrupt import SignalFlag, TrainingInterrupted, deferred_signals
from errbound.train.losses import H1Loss, LpLoss
from errbound.train.models import FNO, FNOConfig
from errbound.train.precision import FULL, SAFER, PrecisionPolicy
from errbound.run_folder import CHECKPOINT_NAME, METRICS_NAME, RunFolder
from errbound.train.spectral import check_supported

__all__ = ["TrainConfig", "Trainer", "TrainResult", "NormalizedModel", "TrainingInterrupted", "resolve_device",
           "degenerate_data", "lr_factor", "CHECKPOINT_NAME", "METRICS_NAME"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Optimisation settings. ``schedule`` is ``((first_epoch, policy), ...)`` starting at epoch 0."""

    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: Literal["adam", "adamw"] = "adamw"
    scheduler: Literal["cosine", "step", "none"] = "cosine"
    step_size: int = 50
    gamma: float = 0.5
    loss: Literal["l2", "h1"] = "l2"
    schedule: tuple[tuple[int, PrecisionPolicy], ...] = ((0, FULL),)
    fallback_after: int | None = None
    grad_clip: float | None = None
    eval_every: int = 1
    eval_batch_size: int = 32
    normalize: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "step_size", "eval_every", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ErrboundError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ErrboundError(f"learning rate must be positive and finite, got {self.lr!r}")
        if self.weight_decay < 0:
            raise ErrboundError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.optimizer not in ("adam", "adamw"):
            raise ErrboundError(f"unknown optimizer {self.optimizer!r}; choose 'adam' or 'adamw'")
        if self.scheduler not in ("cosine", "step", "none"):
            raise ErrboundError(f"unknown scheduler {self.scheduler!r}; choose 'cosine', 'step' or 'none'")
        if self.loss not in ("l2", "h1"):
            raise ErrboundError(f"unknown loss {self.loss!r}; choose 'l2' or 'h1'")
        sched = tuple((int(e), p) for e, p in self.schedule)
        if not sched or sched[0][0] != 0 or any(not isinstance(p, PrecisionPolicy) for _, p in sched):
            raise ErrboundError("schedule must be ((0, policy), (epoch, policy), ...) with PrecisionPolicy objects")
        if any(b <= a for (a, _), (b, _) in zip(sched, sched[1:])):
            raise ErrboundError(f"schedule epochs must increase strictly, got {[e for e, _ in sched]}")
        object.__setattr__(self, "schedule", sched)
        if self.fallback_after is not None and self.fallback_after < 1:
            raise ErrboundError(f"fallback_after must be None or >= 1, got {self.fallback_after!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ErrboundError(f"grad_clip must be None or positive, got {self.grad_clip!r}")

    def policy_at(self, epoch: int) -> PrecisionPolicy:
        """The scheduled policy of epoch ``epoch`` (before any non-finite fallback)."""
        policy = self.schedule[0][1]
        for start, p in self.schedule:
            if start <= epoch:
                policy = p
        return policy


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


def resolve_device(device: str | torch.device) -> torch.device:
    """``cpu``/``cuda``/``cuda:N`` -> torch.device; ErrboundError when CUDA is requested but absent."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ErrboundError(f"unknown device {device!r}; pass 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ErrboundError(f"device {device!r} requested but no CUDA GPU is available here; pass --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise ErrboundError(f"unsupported device {device!r}; pass 'cpu' or 'cuda'")
    return dev


class NormalizedModel(nn.Module):
    """``y = decode(model(encode(x)))`` with channel-wise mean/std buffers (resolution independent)."""

    def __init__(self, model: FNO, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("x_mean", torch.zeros(in_channels))
        self.register_buffer("x_std", torch.ones(in_channels))
        self.register_buffer("y_mean", torch.zeros(out_channels))
        self.register_buffer("y_std", torch.ones(out_channels))

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Set the buffers to the channel-wise mean and std of ``x`` and ``y`` (std floored at 1e-12)."""
        dims = [0, *range(2, x.dim())]
        self.x_mean.copy_(x.mean(dims))
        self.x_std.copy_(x.std(dims).clamp_min(1e-12))
        self.y_mean.copy_(y.mean(dims))
        self.y_std.copy_(y.std(dims).clamp_min(1e-12))

    def _shape(self, v: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return v.reshape(1, -1, *([1] * (ref.dim() - 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self._shape(self.x_mean, x)) / self._shape(self.x_std, x)
        out = self.model(x).float()
        return out * self._shape(self.y_std, out) + self._shape(self.y_mean, out)


def _as_channels(t: torch.Tensor, dim: int, what: str) -> torch.Tensor:
    if t.dim() == dim + 1:
        return t.unsqueeze(1)
    if t.dim() == dim + 2:
        return t
    raise ErrboundError(
        f"{what} must have shape (N, *spatial) or (N, C, *spatial) with {dim} spatial axes, got {tuple(t.shape)}"
    )


def _dist() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def degenerate_data(x: torch.Tensor, y: torch.Tensor) -> list[str]:
    """Warnings for training data a model cannot learn from: a constant input or target channel, or values
    so large that fp32 statistics overflow. ``x``, ``y``: (N, C, *spatial)."""
    out = []
    for t, what in ((x, "input"), (y, "target")):
        dims = [0, *range(2, t.dim())]
        flat = t.double()
        if not torch.isfinite(flat.abs().amax()).item() or float(flat.abs().amax()) > 1e18:
            out.append(f"the training {what} reaches |value| {float(flat.abs().amax()):.3g}: fp32 statistics overflow "
                       "and training will likely produce only non-finite steps; rescale the data")
            continue
        const = [c for c, s in enumerate(flat.std(dims).tolist()) if not s > 0]
        if const:
            out.append(f"the training {what} is constant (channel {', '.join(map(str, const))}): there is nothing to "
                       "learn from it and relative errors may be meaningless; check the data")
    return out


def lr_factor(scheduler: str, epoch: int, epochs: int, step_size: int, gamma: float) -> float:
    """Learning-rate multiplier of epoch ``epoch`` (0-based): ``cosine`` ``(1 + cos(pi e / epochs)) / 2``,
    ``step`` ``gamma ** (e // step_size)``, ``none`` 1. Closed form, so it depends on the epoch only."""
    if scheduler == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(epoch, epochs) / epochs))
    if scheduler == "step":
        return gamma ** (epoch // step_size)
    return 1.0


class Trainer:
    """Train an :class:`FNO` (see the module docstring). Use :meth:`fit`; it returns a :class:`TrainResult`.

    ``out_dir`` (a path or a :class:`RunFolder`) receives the checkpoint and metrics; an existing checkpoint
    there is continued with ``resume=True``, replaced with ``overwrite=True``, and otherwise refused.
    ``data_source`` is a one-line description of the data for the start banner.
    """

    def __init__(
        self,
        model_config: FNOConfig,
        config: TrainConfig,
        train_data: tuple[torch.Tensor, torch.Tensor],
        test_data: Mapping[int, tuple[torch.Tensor, torch.Tensor]],
        *,
        device: str | torch.device = "cpu",
        out_dir: str | Path | RunFolder | None = None,
        resume: bool = False,
        overwrite: bool = False,
        show_progress: bool = True,
        data_source: str | None = None,
    ) -> None:
        if not isinstance(model_config, FNOConfig) or not isinstance(config, TrainConfig):
            raise ErrboundError("Trainer needs an FNOConfig and a TrainConfig")
        self.model_config, self.config = model_config, config
        self.device = resolve_device(device)
        self.rank, self.world = _dist()
        self.run = out_dir if isinstance(out_dir, RunFolder) else (RunFolder(out_dir) if out_dir is not None else None)
        self.out_dir = self.run.path if self.run is not None else None
        if resume and self.run is None:
            raise ErrboundError("resume needs an output folder holding a checkpoint (pass --out DIR)")
        if self.run is not None and not resume and not overwrite and self.run.checkpoint.exists():
            raise ErrboundError(f"{self.run.path} already holds a run ({CHECKPOINT_NAME}); pass --resume to continue it, "
                                "--overwrite to replace it, or another --out")
        self.overwrite = overwrite and not resume
        self.show_progress = show_progress
        self.data_source = data_source
        self._load_data(train_data, test_data)
        self._build()
        self.epoch = 0  # finished epochs
        self.batch = 0  # batches of epoch ``self.epoch`` already taken (nonzero only after an interrupt)
        self.epoch_losses: list[float] = []
        self.policy = config.schedule[0][1]
        self.nonfinite_steps = self.scaler_skips = self.steps_taken = self._events_since_switch = 0
        self.history: list[dict[str, Any]] = []
        self.train_seconds = 0.0
        self.train_samples = 0
        self.resumed_from: tuple[int, int] | None = None
        if resume:
            self._restore(read_checkpoint(self.run.checkpoint, model_config=dataclasses.asdict(model_config),
                                          map_location=self.device))

    # -- setup ---------------------------------------------------------------------------------------------
    def _load_data(self, train_data: tuple[torch.Tensor, torch.Tensor],
                   test_data: Mapping[int, tuple[torch.Tensor, torch.Tensor]]) -> None:
        mc, d = self.model_config, self.model_config.dim
        x, y = (_as_channels(t.float(), d, name) for t, name in zip(train_data, ("training inputs", "training targets")))
        if x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[2:]:
            raise ErrboundError(f"training inputs {tuple(x.shape)} and targets {tuple(y.shape)} do not match")
        if x.shape[1] != mc.in_channels or y.shape[1] != mc.out_channels:
            raise ErrboundError(
                f"data has {x.shape[1]} input / {y.shape[1]} output channels but the model expects "
                f"{mc.in_channels} / {mc.out_channels}"
            )
        if self.config.batch_size % self.world:
            raise ErrboundError(f"batch size {self.config.batch_size} is not divisible by the {self.world} processes")
        self.x_train, self.y_train = x, y
        self.test_data = {
            int(r): tuple(_as_channels(t.float(), d, f"test data at {r}") for t in pair) for r, pair in test_data.items()
        }
        spatial = tuple(x.shape[2:])
        for _, policy in self.config.schedule:
            check_supported(policy, mc.backend, tuple(n + mc.padding for n in spatial), mc.fft_fallback)
        self.data_warnings = degenerate_data(x, y)

    def _build(self) -> None:
        mc, config = self.model_config, self.config
        torch.manual_seed(config.seed)
        fno = FNO(mc, config.schedule[0][1])
        self.net = NormalizedModel(fno, mc.in_channels, mc.out_channels).to(self.device)
        if config.normalize:
            self.net.fit(self.x_train.to(self.device), self.y_train.to(self.device))
        self.model: nn.Module = self.net
        if self.world > 1:
            self.model = nn.parallel.DistributedDataParallel(
                self.net, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        opt_cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        self.optimizer = opt_cls(self.net.parameters(), lr=config.lr, weight_decay=config.weight_decay)

        def factor(epoch: int) -> float:  # a closure, so LambdaLR's state_dict never stores (and restores) it
            return lr_factor(config.scheduler, epoch, config.epochs, config.step_size, config.gamma)

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=any(p.needs_grad_scaler for _, p in config.schedule)
                                           or config.fallback_after is not None)
        d = mc.dim
        self.loss_fn = LpLoss(d=d, reduction="mean") if config.loss == "l2" else H1Loss(d=d, reduction="mean")

    @property
    def n_parameters(self) -> int:
        """Trainable parameters (real numbers; a complex weight counts twice)."""
        return sum(p.numel() for p in self.net.parameters() if p.requires_grad)

    # -- state ---------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything :mod:`errbound.train.checkpoint` stores (format ``FORMAT_VERSION``)."""
        return {
            "format_version": FORMAT_VERSION,
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": self.epoch,
            "batch": self.batch,
            "epoch_losses": list(self.epoch_losses),
            "policy": policy_to_dict(self.policy),
            "counters": {"nonfinite_steps": self.nonfinite_steps, "scaler_skips": self.scaler_skips,
                         "steps_taken": self.steps_taken, "events_since_switch": self._events_since_switch,
                         "train_seconds": self.train_seconds, "train_samples": self.train_samples},
            "history": self.history,
            "model_config": dataclasses.asdict(self.model_config),
            "train_config": {k: v for k, v in dataclasses.asdict(self.config).items() if k != "schedule"},
            "rng": rng_state(),
        }

    def _restore(self, state: Mapping[str, Any]) -> None:
        path = self.run.checkpoint  # type: ignore[union-attr]
        if state["epoch"] > self.config.epochs:
            raise ErrboundError(f"the run in {self.run.path} has already trained {state['epoch']} epochs; "  # type: ignore[union-attr]
                                f"pass --epochs {state['epoch']} or more to resume it")
        try:
            self.net.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scaler.load_state_dict(state["scaler"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.policy = policy_from_dict(state["policy"])
            counters = state["counters"]
            self.nonfinite_steps, self.scaler_skips = int(counters["nonfinite_steps"]), int(counters["scaler_skips"])
            self.steps_taken, self._events_since_switch = int(counters["steps_taken"]), int(counters["events_since_switch"])
            self.train_seconds, self.train_samples = float(counters["train_seconds"]), int(counters["train_samples"])
            self.history = [dict(row) for row in state["history"]]
            set_rng_state(state["rng"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:160]
            raise ErrboundError(f"checkpoint {path} cannot be restored ({type(exc).__name__}: {first}); "
                                "start again with --overwrite (or another --out)") from None
        self.net.model.set_policy(self.policy)
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        self.epoch_losses = [float(v) for v in state["epoch_losses"]]
        # the schedule is closed form: re-evaluate it for this run's planned length (resume with more epochs)
        for group, base in zip(self.optimizer.param_groups, self.scheduler.base_lrs):
            group["lr"] = base * self.scheduler.lr_lambdas[0](self.scheduler.last_epoch)
        self.resumed_from = (self.epoch, self.batch)

    def save_checkpoint(self) -> Path | None:
        """Commit: write the checkpoint atomically, then ``metrics.jsonl`` from its history (rank 0 only)."""
        if self.run is None or self.rank != 0:
            return None
        write_checkpoint(self.run.checkpoint, self.state_dict())
        self.run.write_metrics(self.history)
        return self.run.checkpoint

    # -- steps ---------------------------------------------------------------------------------------------
    def _autocast(self) -> torch.autocast:
        return autocast_for(self.policy, self.device)

    def _set_policy(self, policy: PrecisionPolicy) -> None:
        self.policy = policy
        self.net.model.set_policy(policy)
        self._events_since_switch = 0

    def train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[float, bool]:
        """One optimisation step; returns (loss, taken). A non-finite step is skipped and counted."""
        use_scaler = self.policy.needs_grad_scaler and self.scaler.is_enabled()
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            pred = self.model(xb)
        loss = self.loss_fn(pred, yb)
        if use_scaler:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        grads = [p.grad for p in self.net.parameters() if p.grad is not None]
        flags = torch.zeros(2, device=loss.device)
        flags[0] = (~torch.isfinite(loss.detach())).float()
        if grads:
            flags[1] = torch.stack([(~torch.isfinite(g)).any() for g in grads]).any().float()
        if self.world > 1:
            torch.distributed.all_reduce(flags, op=torch.distributed.ReduceOp.MAX)
        loss_bad, grad_bad = (bool(v) for v in flags.tolist())
        if loss_bad or grad_bad:
            return self._skip_step(loss, loss_bad, use_scaler)
        if self.config.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.config.grad_clip)
        if use_scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.steps_taken += 1
        return float(loss.detach()), True

    def _skip_step(self, loss: torch.Tensor, loss_bad: bool, use_scaler: bool) -> tuple[float, bool]:
        self.optimizer.zero_grad(set_to_none=True)
        if use_scaler:
            self.scaler.update()  # unscale_ recorded the inf: the scale shrinks
            if not loss_bad:
                # finite loss, overflowing *scaled* gradients: GradScaler's normal calibration, not an event
                self.scaler_skips += 1
                return float(loss.detach()), False
        self.nonfinite_steps += 1
        self._events_since_switch += 1
        n = self.config.fallback_after
        if n is not None and self._events_since_switch >= n and self.policy != FULL:
            safer = SAFER(self.policy)
            print(f"errbound train: {self._events_since_switch} non-finite steps in precision "
                  f"{self.policy.name!r}; falling back to {safer.name!r}", file=sys.stderr)
            self._set_policy(safer)
        return float("nan"), False

    def _batches(self, epoch: int) -> list[torch.Tensor]:
        n, bs = self.x_train.shape[0], self.config.batch_size
        gen = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        perm = torch.randperm(n, generator=gen)
        batches = []
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            if idx.numel() % self.world:
                continue  # a final batch that cannot be shared equally among the processes is dropped
            local = idx.numel() // self.world
            batches.append(idx[self.rank * local:(self.rank + 1) * local])
        return batches

    def _stop_requested(self, flag: SignalFlag | None) -> bool:
        stop = flag is not None and flag.received is not None
        if self.world > 1:  # every rank stops at the same step
            t = torch.tensor([float(stop)], device=self.device if self.device.type == "cuda" else "cpu")
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            stop = bool(t.item())
        return stop

    def train_epoch(self, epoch: int, flag: SignalFlag | None = None, bar: Any = None) -> float:
        """Train epoch ``epoch`` from batch ``self.batch``; return the mean loss of its taken steps.

        With a :class:`SignalFlag` that has received a signal, stops after the current step, writes a
        checkpoint holding the position and raises :class:`TrainingInterrupted`.
        """
        self.model.train()
        sync = torch.cuda.synchronize if self.device.type == "cuda" else (lambda: None)
        batches = self._batches(epoch)
        x_train, y_train = self.x_train, self.y_train
        for i in range(self.batch, len(batches)):
            idx = batches[i]
            sync()
            start = time.perf_counter()
            xb = x_train[idx].to(self.device, non_blocking=True)
            yb = y_train[idx].to(self.device, non_blocking=True)
            loss, taken = self.train_step(xb, yb)
            sync()
            self.train_seconds += time.perf_counter() - start
            if taken:
                self.epoch_losses.append(loss)
            self.train_samples += idx.numel() * self.world
            self.batch = i + 1
            if bar is not None:
                bar.update(idx.numel() * self.world)
                if taken:
                    bar.set_postfix_str(f"loss {np.mean(self.epoch_losses):.4g}", refresh=False)
            if self._stop_requested(flag) and self.batch < len(batches):
                checkpoint = self.save_checkpoint()
                raise TrainingInterrupted(flag.received or 2, checkpoint, self.epoch, self.batch)  # type: ignore[union-attr]
        return float(np.mean(self.epoch_losses)) if self.epoch_losses else float("nan")

    def evaluate(self) -> tuple[dict[int, float], dict[int, float]]:
        """Mean relative L2 and H1 errors on each test resolution, under the current policy."""
        return evaluate(self.net, self.test_data, model_config=self.model_config, policy=self.policy,
                        device=self.device, batch_size=self.config.eval_batch_size)

    # -- loop ----------------------------------------------------------------------------------------------
    def _banner(self) -> list[tuple[str, str]]:
        c, mc = self.config, self.model_config
        sched = ", ".join(f"{p.name} from epoch {e}" for e, p in c.schedule) if len(c.schedule) > 1 else c.schedule[0][1].name
        tests = ", ".join(f"{r}: {tuple(x.shape)}" for r, (x, _) in sorted(self.test_data.items()))
        start = "new run" if self.resumed_from is None else (
            f"resuming after epoch {self.epoch}" + (f", batch {self.batch}" if self.batch else ""))
        items = [
            ("model", f"FNO {mc.dim}-D, hidden {mc.hidden}, modes {mc.modes}, {mc.n_layers} layers, {mc.backend} "
                      f"backend: {format_count(self.n_parameters)} parameters ({self.n_parameters})"),
            ("device", f"{self.device}" + (f" x {self.world} processes" if self.world > 1 else "")),
            ("precision", sched + (f" (policy now {self.policy.name})" if self.policy != c.schedule[0][1] else "")),
            ("data", f"train {tuple(self.x_train.shape)}, test {tests}" + (f" from {self.data_source}" if self.data_source else "")),
            ("optimiser", f"{c.optimizer} lr {c.lr:g} weight decay {c.weight_decay:g}, {c.scheduler} schedule, "
                          f"{c.loss} loss, batch {c.batch_size}, {c.epochs} epochs"),
            ("run folder", str(self.run.path) if self.run is not None else "none (nothing is saved)"),
            ("start", start),
        ]
        return items

    def fit(self, callbacks: Sequence[Callable[["Trainer", dict[str, Any]], None]] = ()) -> TrainResult:
        """Train from the current position to ``config.epochs``, committing a checkpoint at each epoch end.

        Holds the run folder's lock throughout; SIGINT/SIGTERM stop the run after the current step with a
        checkpoint (:class:`TrainingInterrupted`).
        """
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        wall = time.perf_counter()
        display = TrainDisplay(self.show_progress and self.rank == 0 and progress_enabled())
        owner = self.run if self.run is not None and self.rank == 0 else None
        if owner is not None:
            owner.acquire()
        try:
            if owner is not None:
                if self.overwrite:
                    owner.clear()
                    self.overwrite = False
                if self.epoch < self.config.epochs:
                    owner.summary.unlink(missing_ok=True)  # a summary describes a finished run only
                if self.resumed_from is not None:
                    owner.write_metrics(self.history)  # repair: metrics are what the commit point implies
            display.banner(self._banner())
            with deferred_signals() as flag:
                self._loop(flag, display, callbacks)
        finally:
            if owner is not None:
                owner.release()
        result = self._result(wall)
        display.line(f"done: {result.epochs} epochs, {result.minutes:.2f} min, {result.samples_per_s:.0f} samples/s, "
                     + ", ".join(f"test@{r} l2 {v:.4g}" for r, v in sorted(result.test_l2.items())))
        return result

    def _loop(self, flag: SignalFlag, display: TrainDisplay,
              callbacks: Sequence[Callable[["Trainer", dict[str, Any]], None]]) -> None:
        c = self.config
        for epoch in range(self.epoch, c.epochs):
            if self.batch == 0:
                scheduled = c.policy_at(epoch)
                if any(start == epoch for start, _ in c.schedule) and epoch > 0 and scheduled != self.policy:
                    self._set_policy(scheduled)
            seconds0, samples0 = self.train_seconds, self.train_samples
            n_samples = (self.x_train.shape[0] // (c.batch_size)) * c.batch_size if self.world > 1 else self.x_train.shape[0]
            bar = display.epoch_bar(epoch, c.epochs, n_samples, min(self.batch * c.batch_size, n_samples))
            try:
                train_loss = self.train_epoch(epoch, flag, bar)
            finally:
                bar.close()
            with warnings.catch_warnings():  # an epoch whose every step was skipped is reported, not warned about
                warnings.filterwarnings("ignore", message=re.escape("Detected call of `lr_scheduler.step()`"))
                self.scheduler.step()
            self.epoch, self.batch, self.epoch_losses = epoch + 1, 0, []
            row: dict[str, Any] = {"epoch": self.epoch, "train_loss": train_loss, "precision": self.policy.name,
                                   "nonfinite_steps": self.nonfinite_steps, "scaler_skips": self.scaler_skips,
                                   "lr": self.optimizer.param_groups[0]["lr"]}
            if self.epoch % c.eval_every == 0 or self.epoch == c.epochs:
                l2, h1 = self.evaluate()
                row["test_l2"] = {str(k): v for k, v in l2.items()}
                row["test_h1"] = {str(k): v for k, v in h1.items()}
            self.history.append(row)
            self.save_checkpoint()
            display.epoch_line(row, c.epochs, self.train_seconds - seconds0, self.train_samples - samples0, c.loss)
            for cb in callbacks:
                cb(self, row)
            if self.epoch < c.epochs and self._stop_requested(flag):
                raise TrainingInterrupted(flag.received or 2, self.run.checkpoint if self.run else None, self.epoch, 0)

    def _result(self, wall: float) -> TrainResult:
        last = self.history[-1] if self.history else {}
        if last.get("epoch") == self.epoch and "test_l2" in last and len(last["test_l2"]) == len(self.test_data):
            l2 = {int(k): v for k, v in last["test_l2"].items()}
            h1 = {int(k): v for k, v in last["test_h1"].items()}
        else:
            l2, h1 = self.evaluate()
        peak = torch.cuda.max_memory_allocated(self.device) / 2**20 if self.device.type == "cuda" else None
        train_losses = [r["train_loss"] for r in self.history]
        n_batches = len(self._batches(0))
        return TrainResult(
            test_l2=l2, test_h1=h1, train_loss=train_losses[-1] if train_losses else float("nan"),
            samples_per_s=self.train_samples / self.train_seconds if self.train_seconds > 0 else float("nan"),
            peak_mem_mib=peak, nonfinite_steps=self.nonfinite_steps, scaler_skips=self.scaler_skips, epochs=self.epoch,
            minutes=(time.perf_counter() - wall) / 60, final_precision=self.policy.name, history=self.history,
            steps_taken=self.steps_taken, steps_total=n_batches * self.epoch,
        )
