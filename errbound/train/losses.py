"""Relative Lp and H1 losses with neuraloperator's semantics (``neuralop.losses.LpLoss`` / ``H1Loss``).

For each sample (all axes but the batch axis flattened):

    LpLoss.rel(x, y) = ||x - y||_p / ||y||_p                      (quadrature weights cancel)
    H1Loss.rel(x, y) = sqrt( ||x-y||^2 + sum_j ||D_j x - D_j y||^2 ) / sqrt( ||y||^2 + sum_j ||D_j y||^2 )

where ``D_j`` is the periodic central difference ``(u[i+1] - u[i-1]) / (2h)`` along spatial axis j with
``h = L / n`` and ``L = 2 pi`` (neuraloperator's defaults), ``||.||`` the plain Euclidean norm. The
reduction over the batch is ``"sum"`` (neuraloperator's default) or ``"mean"`` (what the trainer uses,
so distributed training averages correctly). Losses are computed in fp32 whatever the input dtype.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from errbound.errors import ErrboundError

__all__ = ["LpLoss", "H1Loss", "central_diff"]


def _reduce(values: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "sum":
        return values.sum()
    if reduction == "mean":
        return values.mean()
    if reduction == "none":
        return values
    raise ErrboundError(f"unknown reduction {reduction!r}; choose 'sum', 'mean' or 'none'")


def central_diff(u: torch.Tensor, d: int, L: float = 2 * math.pi) -> list[torch.Tensor]:
    """Periodic central differences of ``u (..., n_1, ..., n_d)`` along its last ``d`` axes."""
    out = []
    for j in range(-d, 0):
        h = L / u.shape[j]
        out.append((torch.roll(u, -1, j) - torch.roll(u, 1, j)) / (2 * h))
    return out


class LpLoss:
    """Relative (or absolute) Lp loss over ``d`` spatial axes; see the module docstring."""

    def __init__(self, d: int = 2, p: float = 2, reduction: Literal["sum", "mean", "none"] = "sum", relative: bool = True) -> None:
        if d not in (1, 2, 3):
            raise ErrboundError(f"LpLoss dimension must be 1, 2 or 3, got {d}")
        if not p >= 1:
            raise ErrboundError(f"LpLoss p must be >= 1, got {p}")
        self.d, self.p, self.reduction, self.relative = d, p, reduction, relative

    def per_sample(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.shape != y.shape:
            raise ErrboundError(f"prediction shape {tuple(x.shape)} differs from target shape {tuple(y.shape)}")
        xf, yf = x.float().reshape(x.shape[0], -1), y.float().reshape(y.shape[0], -1)
        diff = torch.linalg.vector_norm(xf - yf, self.p, dim=1)
        if not self.relative:
            h = 1.0 / math.prod(x.shape[-self.d:])
            return diff * h ** (1 / self.p)
        return diff / torch.linalg.vector_norm(yf, self.p, dim=1)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _reduce(self.per_sample(x, y), self.reduction)


class H1Loss:
    """Relative H1 loss (value plus periodic central-difference gradient); see the module docstring."""

    def __init__(self, d: int = 2, reduction: Literal["sum", "mean", "none"] = "sum", L: float = 2 * math.pi) -> None:
        if d not in (1, 2, 3):
            raise ErrboundError(f"H1Loss dimension must be 1, 2 or 3, got {d}")
        self.d, self.reduction, self.L = d, reduction, L

    def per_sample(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.shape != y.shape:
            raise ErrboundError(f"prediction shape {tuple(x.shape)} differs from target shape {tuple(y.shape)}")
        xf, yf = x.float(), y.float()
        b = x.shape[0]

        def sq(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, -1).square().sum(1)

        diff = sq(xf - yf)
        norm = sq(yf)
        for dx, dy in zip(central_diff(xf, self.d, self.L), central_diff(yf, self.d, self.L)):
            diff = diff + sq(dx - dy)
            norm = norm + sq(dy)
        return diff.sqrt() / norm.sqrt()

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _reduce(self.per_sample(x, y), self.reduction)
