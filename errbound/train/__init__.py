"""Half-precision FNO training (needs the optional ``train`` extra: torch).

Public API (re-exported from the private-ish modules of this package):

* precision policies live in :mod:`errbound.policy` (one vocabulary for the emulator, the advisor and the
  trainer): :class:`~errbound.policy.Policy`, :func:`~errbound.policy.parse_policy`, re-exported here;
* layers: :class:`SpectralConv` (``fft`` and ``dft`` backends), contraction helpers in
  :mod:`errbound.train.contraction`;
* models: :class:`FNOConfig`, :class:`FNO`;
* losses: :class:`LpLoss`, :class:`H1Loss`;
* training: :class:`TrainConfig`, :class:`Trainer`;
* benchmark: :func:`bench_step`.

Importing this package without torch raises :class:`errbound.errors.MissingDependencyError`.
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
except ImportError as _exc:  # pragma: no cover - exercised only without torch
    from errbound.errors import MissingDependencyError

    raise MissingDependencyError("torch", "train") from _exc

from errbound.policy import (
    PRECISION_NAMES as PRECISION_NAMES,
    Policy as Policy,
    Stabilizer as Stabilizer,
    parse_policy as parse_policy,
    parse_schedule as parse_schedule,
)
from errbound.train.spectral import SpectralConv as SpectralConv
from errbound.train.models import FNO as FNO, FNOConfig as FNOConfig
from errbound.train.losses import H1Loss as H1Loss, LpLoss as LpLoss
from errbound.train.trainer import TrainConfig as TrainConfig, Trainer as Trainer, TrainResult as TrainResult
from errbound.train.bench import BenchConfig as BenchConfig, bench_step as bench_step

__all__ = [
    "PRECISION_NAMES",
    "Policy",
    "Stabilizer",
    "parse_policy",
    "parse_schedule",
    "SpectralConv",
    "FNO",
    "FNOConfig",
    "LpLoss",
    "H1Loss",
    "TrainConfig",
    "Trainer",
    "TrainResult",
    "BenchConfig",
    "bench_step",
]
