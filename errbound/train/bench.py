"""Training-step benchmark: samples/s and peak memory of one FNO training step per precision policy.

For each configuration a fresh FNO (2-D by default: hidden 64, 32x32 modes, 4 layers) and AdamW optimiser
are built, random inputs of the given batch and resolution are drawn, ``warmup`` steps are run, then
``steps`` timed steps (device synchronised around each); ``samples_per_s = batch / median step time``, with
the spread of the timed steps (``step_ms_min``, ``step_ms_q1``, ``step_ms_q3``, ``step_ms_max``). Before the
first configuration, :func:`warm_up_process` runs it once untimed, so one-time costs of the process (lazy
imports, allocator growth, first kernel launches) are not charged to whichever configuration comes first.
``peak_mem_mib`` is ``torch.cuda.max_memory_allocated`` over warm-up and timed steps (CUDA only; None on
CPU). ``loss_finite`` says whether every step's loss was finite. When neuraloperator is importable the
same configurations of its FNO run side by side (``lib`` field), with its ``fno_block_precision`` and the
tanh stabilizer for mixed/half, under fp16 autocast for amp/mixed/half.
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
import warnings
from typing import Any, Literal

import torch

from errbound.errors import ErrboundError
from errbound.train.losses import LpLoss
from errbound.train.models import FNO, FNOConfig
from errbound.policy import Policy
from errbound.train.spectral import check_supported

__all__ = ["BenchConfig", "bench_step", "bench_neuralop", "neuralop_available", "warm_up_process", "step_spread"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class BenchConfig:
    res: int
    policy: Policy
    backend: Literal["fft", "dft"] = "dft"
    batch: int = 16
    hidden: int = 64
    modes: int = 32
    n_layers: int = 4
    dim: int = 2
    warmup: int = 2
    steps: int = 5
    device: str = "cuda"
    seed: int = 0
    factorization: Literal["cp"] | None = None
    rank: float = 0.1
    contraction: Literal["pairwise", "naive"] = "pairwise"

    def __post_init__(self) -> None:
        for name in ("res", "batch", "hidden", "modes", "n_layers", "steps"):
            if int(getattr(self, name)) < 1:
                raise ErrboundError(f"bench {name} must be a positive integer, got {getattr(self, name)!r}")
        if self.warmup < 0:
            raise ErrboundError(f"bench warmup must be >= 0, got {self.warmup}")
        if self.dim not in (1, 2, 3):
            raise ErrboundError(f"bench dim must be 1, 2 or 3, got {self.dim}")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _release(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def _row(cfg: BenchConfig, lib: str, precision: str) -> dict[str, Any]:
    return {"lib": lib, "res": cfg.res, "precision": precision, "backend": cfg.backend if lib == "errbound" else "fft",
            "factorization": cfg.factorization or "dense", "contraction": cfg.contraction,
            "batch": cfg.batch, "hidden": cfg.hidden, "modes": cfg.modes, "n_layers": cfg.n_layers,
            "samples_per_s": None, "step_ms_median": None, "step_ms_min": None, "step_ms_q1": None, "step_ms_q3": None,
            "step_ms_max": None, "spread_pct": None, "peak_mem_mib": None, "loss_finite": None, "error": None}


def step_spread(times: list[float]) -> dict[str, float]:
    """Median, min, quartiles (linear interpolation) and max of step times in ms, and the interquartile range
    as a percentage of the median (``spread_pct``)."""
    ms = sorted(1e3 * t for t in times)

    def q(p: float) -> float:
        pos = p * (len(ms) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(ms) - 1)
        return ms[lo] + (ms[hi] - ms[lo]) * (pos - lo)

    med = statistics.median(ms)
    return {"step_ms_median": med, "step_ms_min": ms[0], "step_ms_q1": q(0.25), "step_ms_q3": q(0.75),
            "step_ms_max": ms[-1], "spread_pct": 100 * (q(0.75) - q(0.25)) / med if med > 0 else None}


def _time_steps(step, cfg: BenchConfig, device: torch.device, row: dict[str, Any]) -> dict[str, Any]:
    finite = True
    for _ in range(cfg.warmup):
        finite &= bool(torch.isfinite(step()).item())
    times = []
    for _ in range(cfg.steps):
        _sync(device)
        t0 = time.perf_counter()
        loss = step()
        _sync(device)
        times.append(time.perf_counter() - t0)
        finite &= bool(torch.isfinite(loss).item())
    med = statistics.median(times)
    row.update(step_spread(times))
    row.update(samples_per_s=cfg.batch / med, loss_finite=finite,
               peak_mem_mib=torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None)
    return row


def bench_step(cfg: BenchConfig) -> dict[str, Any]:
    """Benchmark our FNO under ``cfg.policy``; returns one result row (``lib="errbound"``)."""
    device = torch.device(cfg.device)
    policy = cfg.policy
    row = _row(cfg, "errbound", policy.name)
    spatial = (cfg.res,) * cfg.dim
    check_supported(policy, cfg.backend, spatial)
    _release(device)
    torch.manual_seed(cfg.seed)
    model_config = FNOConfig(hidden=cfg.hidden, modes=(cfg.modes,) * cfg.dim, n_layers=cfg.n_layers, backend=cfg.backend,
                             factorization=cfg.factorization, rank=cfg.rank, contraction=cfg.contraction)
    model = FNO(model_config, policy).to(device)
    return time_training_steps(model, policy, cfg, device, row)


def time_training_steps(model: torch.nn.Module, policy: Policy, cfg: BenchConfig, device: torch.device,
                        row: dict[str, Any], *, float_loss: bool = False) -> dict[str, Any]:
    """Time ``cfg``'s training steps of ``model`` (AdamW, relative L2 loss on random data, autocast and a
    GradScaler as ``policy`` says; ``float_loss``: the loss of the prediction cast to fp32) into ``row``; an
    out-of-memory step is recorded, not raised. Releases the model's memory afterwards."""
    spatial = (cfg.res,) * cfg.dim
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device.type, enabled=policy.needs_grad_scaler)
    loss_fn = LpLoss(d=cfg.dim, reduction="mean")
    x = torch.randn(cfg.batch, 1, *spatial, device=device)
    y = torch.randn(cfg.batch, 1, *spatial, device=device)

    def step() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=policy.torch_half_dtype if policy.autocast else None, enabled=policy.autocast):
            pred = model(x)
        loss = loss_fn(pred.float() if float_loss else pred, y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss.detach()

    try:
        return _time_steps(step, cfg, device, row)
    except torch.cuda.OutOfMemoryError:
        row["error"] = "out of memory"
        return row
    finally:
        del model, opt, x, y
        _release(device)


def warm_up_process(cfg: BenchConfig) -> None:
    """Run ``cfg`` once, untimed (at least two warm-up steps), to pay the process's one-time costs."""
    try:
        bench_step(dataclasses.replace(cfg, warmup=max(cfg.warmup, 2), steps=1))
    except ErrboundError:
        pass  # an unsupported first configuration is reported by its own row


def neuralop_available() -> bool:
    try:
        import neuralop  # noqa: F401
    except ImportError:
        return False
    return True


def bench_neuralop(cfg: BenchConfig) -> dict[str, Any]:
    """The same step with neuraloperator's FNO (``lib="neuraloperator"``); precision mapped as in NOTES.md s5."""
    from neuralop.models import FNO as NeuralopFNO

    device = torch.device(cfg.device)
    block = cfg.policy.mode
    row = _row(cfg, "neuraloperator", cfg.policy.name)
    if cfg.policy.low_name not in (None, "fp16") and block != "full":
        row["error"] = "neuraloperator's half modes are fp16 only"
        return row
    _release(device)
    torch.manual_seed(cfg.seed)
    try:
        model = NeuralopFNO(
            n_modes=(cfg.modes,) * cfg.dim, in_channels=1, out_channels=1, hidden_channels=cfg.hidden,
            n_layers=cfg.n_layers, fno_block_precision="full" if block == "amp" else block,
            stabilizer="tanh" if block in ("mixed", "half") else None,
        ).to(device)
    except TypeError as exc:  # a neuraloperator version with another constructor
        row["error"] = f"cannot build neuraloperator FNO: {exc}"
        return row
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = LpLoss(d=cfg.dim, reduction="mean")
    spatial = (cfg.res,) * cfg.dim
    x = torch.randn(cfg.batch, 1, *spatial, device=device)
    y = torch.randn(cfg.batch, 1, *spatial, device=device)
    use_amp = block != "full"

    def step() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            pred = model(x)
        loss = loss_fn(pred, y)
        loss.backward()
        opt.step()
        return loss.detach()

    try:
        with warnings.catch_warnings():  # its complex-half path warns (once per process) that it is experimental
            warnings.filterwarnings("ignore", message="ComplexHalf support is experimental")
            return _time_steps(step, cfg, device, row)
    except torch.cuda.OutOfMemoryError:
        row["error"] = "out of memory"
        return row
    except RuntimeError as exc:  # e.g. cuFFT half at a non-power-of-two size: recorded, not fatal
        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        return row
    finally:
        del model, opt, x, y
        _release(device)
