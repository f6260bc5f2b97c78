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
import sys
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import torch
from torch import nn

from errbound.errors import ErrboundError
from errbound.train import checkpoint
from errbound.train.evaluation import autocast_for, evaluate
from errbound.train.interrupt import SignalFlag, TrainingInterrupted
from errbound.train.loop import Callback, TrainResult, run_epochs, train_epoch
from errbound.train.losses import H1Loss, LpLoss
from errbound.train.models import FNO, FNOConfig
from errbound.policy import FULL, Policy, safer_policy
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
    schedule: tuple[tuple[int, Policy], ...] = ((0, FULL),)
    fallback_after: int | None = None
    grad_clip: float | None = None
    eval_every: int = 1
    eval_batch_size: int = 32
    normalize: bool | Literal["output"] = True
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
        if self.normalize not in (True, False, "output"):
            raise ErrboundError(f"normalize must be True, False or 'output' (targets only), got {self.normalize!r}")

    def policy_at(self, epoch: int) -> Policy:
        """The scheduled policy of epoch ``epoch`` (before any non-finite fallback)."""
        policy = self.schedule[0][1]
        for start, p in self.schedule:
            if start <= epoch:
                policy = p
        return policy


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

    def fit(self, x: torch.Tensor, y: torch.Tensor, inputs: bool = True) -> None:
        """Set the buffers to the channel-wise mean and std of ``x`` (unless ``inputs`` is False: raw inputs)
        and ``y`` (std floored at 1e-12)."""
        dims = [0, *range(2, x.dim())]
        if inputs:
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
    """Train an :class:`FNO`: the model and its optimiser, the run's position and counters, and one step.

    The pieces around it: :mod:`errbound.train.loop` (the epoch loop behind :meth:`fit`),
    :mod:`errbound.train.checkpoint` (what a commit point holds), :mod:`errbound.run_folder` (the folder and
    its lock), :mod:`errbound.train.evaluation`, :mod:`errbound.train.display`. ``out_dir`` (a path or a
    :class:`RunFolder`) receives the checkpoint and metrics; an existing checkpoint there is continued with
    ``resume=True``, replaced with ``overwrite=True``, and otherwise refused. ``data_source`` is a one-line
    description of the data for the start banner.
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
        self.show_progress, self.data_source = show_progress, data_source
        self._load_data(train_data, test_data)
        self._build()
        self.epoch = 0  # finished epochs
        self.batch = 0  # batches of epoch ``self.epoch`` already taken (nonzero only after an interrupt)
        self.epoch_losses: list[float] = []
        self.policy = config.schedule[0][1]
        self.nonfinite_steps = self.scaler_skips = self.steps_taken = self.events_since_switch = 0
        self.history: list[dict[str, Any]] = []
        self.train_seconds, self.train_samples = 0.0, 0
        self.resumed_from: tuple[int, int] | None = None
        if resume:
            path = self.run.checkpoint  # type: ignore[union-attr]
            state = checkpoint.read_checkpoint(path, model_config=dataclasses.asdict(model_config),
                                               map_location=self.device)
            checkpoint.restore(self, state, path)
            self.resumed_from = (self.epoch, self.batch)

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
        for _, policy in self.config.schedule:
            check_supported(policy, mc.backend, tuple(n + mc.padding for n in x.shape[2:]), mc.fft_fallback)
        self.data_warnings = degenerate_data(x, y)

    def _build(self) -> None:
        mc, config = self.model_config, self.config
        torch.manual_seed(config.seed)
        self.net = NormalizedModel(FNO(mc, config.schedule[0][1]), mc.in_channels, mc.out_channels).to(self.device)
        if config.normalize:
            self.net.fit(self.x_train.to(self.device), self.y_train.to(self.device),
                         inputs=config.normalize is True)
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
        self.loss_fn = LpLoss(d=mc.dim, reduction="mean") if config.loss == "l2" else H1Loss(d=mc.dim, reduction="mean")

    @property
    def n_parameters(self) -> int:
        """Trainable parameters (real numbers; a complex weight counts twice)."""
        return sum(p.numel() for p in self.net.parameters() if p.requires_grad)

    # -- state ---------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint stores (:func:`errbound.train.checkpoint.capture`)."""
        return checkpoint.capture(self)

    def save_checkpoint(self) -> Path | None:
        """Commit: write the checkpoint atomically, then ``metrics.jsonl`` from its history (rank 0 only)."""
        if self.run is None or self.rank != 0:
            return None
        checkpoint.write_checkpoint(self.run.checkpoint, self.state_dict())
        self.run.write_metrics(self.history)
        return self.run.checkpoint

    def set_policy(self, policy: Policy, keep_events: bool = False) -> None:
        """Switch the precision policy of the model (and reset the non-finite event count, unless asked)."""
        self.policy = policy
        self.net.model.set_policy(policy)
        if not keep_events:
            self.events_since_switch = 0

    # -- one step ------------------------------------------------------------------------------------------
    def train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[float, bool]:
        """One optimisation step; returns (loss, taken). A non-finite step is skipped and counted."""
        use_scaler = self.policy.needs_grad_scaler and self.scaler.is_enabled()
        self.optimizer.zero_grad(set_to_none=True)
        with autocast_for(self.policy, self.device):
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
        self.events_since_switch += 1
        n = self.config.fallback_after
        if n is not None and self.events_since_switch >= n and self.policy != FULL:
            safer = safer_policy(self.policy)
            print(f"errbound train: {self.events_since_switch} non-finite steps in precision "
                  f"{self.policy.name!r}; falling back to {safer.name!r}", file=sys.stderr)
            self.set_policy(safer)
        return float("nan"), False

    def batches(self, epoch: int) -> list[torch.Tensor]:
        """This process's sample indices of each batch of epoch ``epoch`` (a permutation seeded by (seed, epoch))."""
        n, bs = self.x_train.shape[0], self.config.batch_size
        gen = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        perm = torch.randperm(n, generator=gen)
        out = []
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            if idx.numel() % self.world:
                continue  # a final batch that cannot be shared equally among the processes is dropped
            local = idx.numel() // self.world
            out.append(idx[self.rank * local:(self.rank + 1) * local])
        return out

    def stop_requested(self, flag: SignalFlag | None) -> bool:
        """Whether a signal asked to stop (agreed by every process of a distributed run)."""
        stop = flag is not None and flag.received is not None
        if self.world > 1:
            t = torch.tensor([float(stop)], device=self.device if self.device.type == "cuda" else "cpu")
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            stop = bool(t.item())
        return stop

    # -- epochs --------------------------------------------------------------------------------------------
    def train_epoch(self, epoch: int, flag: SignalFlag | None = None, bar: Any = None) -> float:
        """Train epoch ``epoch`` from the current batch (:func:`errbound.train.loop.train_epoch`)."""
        return train_epoch(self, epoch, flag, bar)

    def evaluate(self) -> tuple[dict[int, float], dict[int, float]]:
        """Mean relative L2 and H1 errors on each test resolution, under the current policy."""
        return evaluate(self.net, self.test_data, model_config=self.model_config, policy=self.policy,
                        device=self.device, batch_size=self.config.eval_batch_size)

    def fit(self, callbacks: Sequence[Callback] = ()) -> TrainResult:
        """Train from the current position to ``config.epochs``, committing a checkpoint at each epoch end
        (:func:`errbound.train.loop.run_epochs`: holds the run folder's lock; SIGINT/SIGTERM stop after the
        current step with a checkpoint and raise :class:`TrainingInterrupted`)."""
        return run_epochs(self, callbacks)
