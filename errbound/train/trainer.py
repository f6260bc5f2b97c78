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
* checkpoint of everything (model, optimizer, scaler, scheduler, RNG states, epoch, metrics, policy) at
  every epoch end, written atomically; ``resume=True`` continues from it. The data order of epoch ``e`` is
  a permutation drawn from a generator seeded by ``(seed, e)``, so a resumed run replays the same batches;
* metrics log ``metrics.jsonl`` (one JSON object per epoch, rewritten atomically);
* distributed data parallel when ``torch.distributed`` is initialised (``torchrun``; gloo on CPU, nccl on
  CUDA): each rank takes an equal share of each global batch, gradients are averaged, rank 0 writes files.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from errbound.errors import ErrboundError
from errbound.progress import progress
from errbound.results import atomic_path
from errbound.train.losses import H1Loss, LpLoss
from errbound.train.models import FNO, FNOConfig
from errbound.policy import FULL, Policy, safer_policy
from errbound.train.spectral import check_supported

__all__ = ["TrainConfig", "Trainer", "TrainResult", "NormalizedModel", "resolve_device", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.jsonl"


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
    schedule: tuple[tuple[int, Policy], ...] = ((0, FULL),)
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
        if not sched or sched[0][0] != 0 or any(not isinstance(p, Policy) for _, p in sched):
            raise ErrboundError("schedule must be ((0, policy), (epoch, policy), ...) with Policy objects")
        if any(b <= a for (a, _), (b, _) in zip(sched, sched[1:])):
            raise ErrboundError(f"schedule epochs must increase strictly, got {[e for e, _ in sched]}")
        object.__setattr__(self, "schedule", sched)
        if self.fallback_after is not None and self.fallback_after < 1:
            raise ErrboundError(f"fallback_after must be None or >= 1, got {self.fallback_after!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ErrboundError(f"grad_clip must be None or positive, got {self.grad_clip!r}")

    def policy_at(self, epoch: int) -> Policy:
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


def _policy_to_dict(p: Policy) -> dict[str, Any]:
    return {"precision": p.name, "backend": p.backend}


def _policy_from_dict(d: Mapping[str, Any]) -> Policy:
    from errbound.policy import parse_policy

    if "precision" not in d:
        raise ErrboundError("the checkpoint's precision policy is from an older errbound (no 'precision' name); "
                            "start a new run without --resume")
    return parse_policy(d["precision"], d.get("backend", "fft"))


class Trainer:
    """Train an :class:`FNO` (see the module docstring). Use :meth:`fit`; it returns a :class:`TrainResult`."""

    def __init__(
        self,
        model_config: FNOConfig,
        config: TrainConfig,
        train_data: tuple[torch.Tensor, torch.Tensor],
        test_data: Mapping[int, tuple[torch.Tensor, torch.Tensor]],
        *,
        device: str | torch.device = "cpu",
        out_dir: str | Path | None = None,
        resume: bool = False,
        show_progress: bool = True,
    ) -> None:
        if not isinstance(model_config, FNOConfig) or not isinstance(config, TrainConfig):
            raise ErrboundError("Trainer needs an FNOConfig and a TrainConfig")
        self.model_config, self.config = model_config, config
        self.device = resolve_device(device)
        self.rank, self.world = _dist()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        if resume and self.out_dir is None:
            raise ErrboundError("resume needs an output folder holding a checkpoint (pass --out DIR)")
        self.show_progress = show_progress
        d = model_config.dim
        x, y = (_as_channels(t.float(), d, name) for t, name in zip(train_data, ("training inputs", "training targets")))
        if x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[2:]:
            raise ErrboundError(f"training inputs {tuple(x.shape)} and targets {tuple(y.shape)} do not match")
        if x.shape[1] != model_config.in_channels or y.shape[1] != model_config.out_channels:
            raise ErrboundError(
                f"data has {x.shape[1]} input / {y.shape[1]} output channels but the model expects "
                f"{model_config.in_channels} / {model_config.out_channels}"
            )
        if config.batch_size % self.world:
            raise ErrboundError(f"batch size {config.batch_size} is not divisible by the {self.world} processes")
        self.x_train, self.y_train = x, y
        self.test_data = {
            int(r): tuple(_as_channels(t.float(), d, f"test data at {r}") for t in pair) for r, pair in test_data.items()
        }
        spatial = tuple(x.shape[2:])
        for _, policy in config.schedule:
            check_supported(policy, model_config.backend, tuple(n + model_config.padding for n in spatial), model_config.fft_fallback)
        torch.manual_seed(config.seed)
        fno = FNO(model_config, config.schedule[0][1])
        self.net = NormalizedModel(fno, model_config.in_channels, model_config.out_channels).to(self.device)
        if config.normalize:
            self.net.fit(x.to(self.device), y.to(self.device))
        self.model: nn.Module = self.net
        if self.world > 1:
            self.model = nn.parallel.DistributedDataParallel(
                self.net, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        opt_cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        self.optimizer = opt_cls(self.net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        if config.scheduler == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=config.epochs)
        elif config.scheduler == "step":
            self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=config.step_size, gamma=config.gamma)
        else:
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda _: 1.0)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=any(p.needs_grad_scaler for _, p in config.schedule) or config.fallback_after is not None)
        self.loss_fn = LpLoss(d=d, reduction="mean") if config.loss == "l2" else H1Loss(d=d, reduction="mean")
        self.epoch = 0
        self.policy = config.schedule[0][1]
        self.nonfinite_steps = 0
        self.scaler_skips = 0
        self._events_since_switch = 0
        self.history: list[dict[str, Any]] = []
        self.train_seconds = 0.0
        self.train_samples = 0
        if resume:
            self._load_checkpoint()

    # -- state ---------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = {
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": self.epoch,
            "policy": _policy_to_dict(self.policy),
            "nonfinite_steps": self.nonfinite_steps,
            "scaler_skips": self.scaler_skips,
            "events_since_switch": self._events_since_switch,
            "history": self.history,
            "train_seconds": self.train_seconds,
            "train_samples": self.train_samples,
            "model_config": dataclasses.asdict(self.model_config),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                "numpy": np.random.get_state(),
                "python": random.getstate(),
            },
        }
        return state

    def save_checkpoint(self) -> Path | None:
        """Write ``out_dir/checkpoint.pt`` atomically (rank 0 only); return its path."""
        if self.out_dir is None or self.rank != 0:
            return None
        path = self.out_dir / CHECKPOINT_NAME
        with atomic_path(path) as tmp:
            torch.save(self.state_dict(), tmp)
        with atomic_path(self.out_dir / METRICS_NAME) as tmp:
            tmp.write_text("".join(json.dumps(row, allow_nan=True) + "\n" for row in self.history))
        return path

    def _load_checkpoint(self) -> None:
        path = self.out_dir / CHECKPOINT_NAME  # type: ignore[operator]
        if not path.is_file():
            raise ErrboundError(f"no checkpoint to resume from at {path}; run without --resume to start a new run")
        try:
            state = torch.load(path, map_location=self.device, weights_only=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is bad input
            raise ErrboundError(f"cannot read checkpoint {path} ({type(exc).__name__}: {exc})") from exc
        if state.get("model_config") != dataclasses.asdict(self.model_config):
            raise ErrboundError(
                f"checkpoint {path} was written for a different model configuration; use the same options "
                "as the interrupted run or a new --out folder"
            )
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epoch = int(state["epoch"])
        self.policy = _policy_from_dict(state["policy"])
        self.net.model.set_policy(self.policy)
        self.nonfinite_steps = int(state["nonfinite_steps"])
        self.scaler_skips = int(state["scaler_skips"])
        self._events_since_switch = int(state["events_since_switch"])
        self.history = list(state["history"])
        self.train_seconds = float(state["train_seconds"])
        self.train_samples = int(state["train_samples"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"].cpu())
        if rng["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        np.random.set_state(rng["numpy"])
        random.setstate(rng["python"])

    # -- steps ---------------------------------------------------------------------------------------------
    def _autocast(self):
        p = self.policy
        return torch.autocast(self.device.type, dtype=p.torch_half_dtype if p.autocast else None, enabled=p.autocast)

    def _set_policy(self, policy: Policy) -> None:
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
                safer = safer_policy(self.policy)
                print(f"errbound train: {self._events_since_switch} non-finite steps in precision "
                      f"{self.policy.name!r}; falling back to {safer.name!r}", file=sys.stderr)
                self._set_policy(safer)
            return float("nan"), False
        if self.config.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.config.grad_clip)
        if use_scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        return float(loss.detach()), True

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

    def train_epoch(self, epoch: int) -> float:
        self.model.train()
        losses = []
        sync = torch.cuda.synchronize if self.device.type == "cuda" else (lambda: None)
        sync()
        start = time.perf_counter()
        for idx in self._batches(epoch):
            xb = self.x_train[idx].to(self.device, non_blocking=True)
            yb = self.y_train[idx].to(self.device, non_blocking=True)
            loss, taken = self.train_step(xb, yb)
            if taken:
                losses.append(loss)
            self.train_samples += idx.numel() * self.world
        sync()
        self.train_seconds += time.perf_counter() - start
        return float(np.mean(losses)) if losses else float("nan")

    @torch.no_grad()
    def evaluate(self) -> tuple[dict[int, float], dict[int, float]]:
        """Mean relative L2 and H1 errors on each test resolution, under the current policy."""
        self.net.eval()
        d = self.model_config.dim
        l2, h1 = LpLoss(d=d, reduction="sum"), H1Loss(d=d, reduction="sum")
        out_l2, out_h1 = {}, {}
        for res, (x, y) in sorted(self.test_data.items()):
            check_supported(self.policy, self.model_config.backend,
                            tuple(n + self.model_config.padding for n in x.shape[2:]), self.model_config.fft_fallback)
            s2 = sh = 0.0
            for start in range(0, x.shape[0], self.config.eval_batch_size):
                xb = x[start:start + self.config.eval_batch_size].to(self.device)
                yb = y[start:start + self.config.eval_batch_size].to(self.device)
                with self._autocast():
                    pred = self.net(xb)
                s2 += float(l2(pred, yb))
                sh += float(h1(pred, yb))
            out_l2[res], out_h1[res] = s2 / x.shape[0], sh / x.shape[0]
        return out_l2, out_h1

    # -- loop ----------------------------------------------------------------------------------------------
    def fit(self, callbacks: Sequence[Callable[["Trainer", dict[str, Any]], None]] = ()) -> TrainResult:
        """Train from the current epoch to ``config.epochs``; checkpoint at each epoch end."""
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        wall = time.perf_counter()
        epochs = range(self.epoch, self.config.epochs)
        iterator = progress(epochs, total=len(epochs), label="train") if self.show_progress and self.rank == 0 else epochs
        for epoch in iterator:
            scheduled = self.config.policy_at(epoch)
            if any(start == epoch for start, _ in self.config.schedule) and epoch > 0 and scheduled != self.policy:
                self._set_policy(scheduled)
            train_loss = self.train_epoch(epoch)
            self.scheduler.step()
            self.epoch = epoch + 1
            row: dict[str, Any] = {"epoch": self.epoch, "train_loss": train_loss, "precision": self.policy.name,
                                   "nonfinite_steps": self.nonfinite_steps, "scaler_skips": self.scaler_skips, "lr": self.optimizer.param_groups[0]["lr"]}
            if self.epoch % self.config.eval_every == 0 or self.epoch == self.config.epochs:
                l2, h1 = self.evaluate()
                row["test_l2"] = {str(k): v for k, v in l2.items()}
                row["test_h1"] = {str(k): v for k, v in h1.items()}
            self.history.append(row)
            self.save_checkpoint()
            for cb in callbacks:
                cb(self, row)
        last = self.history[-1] if self.history else {}
        if last.get("epoch") == self.epoch and "test_l2" in last and len(last["test_l2"]) == len(self.test_data):
            l2 = {int(k): v for k, v in last["test_l2"].items()}
            h1 = {int(k): v for k, v in last["test_h1"].items()}
        else:
            l2, h1 = self.evaluate()
        peak = torch.cuda.max_memory_allocated(self.device) / 2**20 if self.device.type == "cuda" else None
        train_losses = [r["train_loss"] for r in self.history]
        return TrainResult(
            test_l2=l2, test_h1=h1, train_loss=train_losses[-1] if train_losses else float("nan"),
            samples_per_s=self.train_samples / self.train_seconds if self.train_seconds > 0 else float("nan"),
            peak_mem_mib=peak, nonfinite_steps=self.nonfinite_steps, scaler_skips=self.scaler_skips, epochs=self.epoch,
            minutes=(time.perf_counter() - wall) / 60, final_precision=self.policy.name, history=self.history,
        )
