"""Fourier Neural Operator (FNO, Li et al. 2021) for 1-, 2- and 3-D fields, with an optional CP (TFNO) weight.

    v_0 = P(x, grid),   v_{l+1} = sigma( MLP_l( sigma(K_l v_l + W_l v_l) ) + v_l' ),   u = Q(v_L)

``P`` (lifting) and ``Q`` (projection) are pointwise two-layer MLPs, ``K_l`` a :class:`SpectralConv`,
``W_l`` a pointwise linear skip, ``MLP_l`` a pointwise channel MLP with an identity skip (the
neuraloperator 2.x block layout). The last block has no output activation. Everything but the spectral
convolutions runs under autocast when the precision policy says so (the trainer opens the autocast
context); the spectral convolutions follow the policy themselves.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from errbound.errors import ErrboundError
from errbound.policy import FULL, Policy
from errbound.train.spectral import BACKENDS, SpectralConv

__all__ = ["FNOConfig", "FNO"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FNOConfig:
    """Everything that defines an FNO architecture (precision is separate: a :class:`Policy`).

    ``modes`` has one entry per spatial axis (its length is the dimension, 1 to 3). ``padding`` zero-pads
    each spatial axis on the right by that many points inside the model (for non-periodic problems such
    as Darcy) and crops back. ``grid=True`` appends the d coordinates in [0, 1) as input channels.
    """

    in_channels: int = 1
    out_channels: int = 1
    hidden: int = 32
    modes: tuple[int, ...] = (12, 12)
    n_layers: int = 4
    lifting_ratio: float = 2.0
    projection_ratio: float = 2.0
    mlp_expansion: float = 0.5
    grid: bool = True
    padding: int = 0
    backend: Literal["fft", "dft"] = "fft"
    factorization: Literal["cp"] | None = None
    rank: float = 0.5
    contraction: Literal["pairwise", "naive"] = "pairwise"
    fft_fallback: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "modes", tuple(int(m) for m in self.modes))
        if not 1 <= len(self.modes) <= 3:
            raise ErrboundError(f"modes must have 1 to 3 entries (one per spatial axis), got {self.modes}")
        for name in ("in_channels", "out_channels", "hidden", "n_layers"):
            if int(getattr(self, name)) < 1:
                raise ErrboundError(f"FNOConfig.{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.padding < 0:
            raise ErrboundError(f"FNOConfig.padding must be >= 0, got {self.padding}")
        for name in ("lifting_ratio", "projection_ratio"):
            if not getattr(self, name) > 0:
                raise ErrboundError(f"FNOConfig.{name} must be positive, got {getattr(self, name)!r}")
        if self.mlp_expansion < 0:
            raise ErrboundError(f"FNOConfig.mlp_expansion must be >= 0 (0 disables the channel MLP), got {self.mlp_expansion}")
        if self.backend not in BACKENDS:
            raise ErrboundError(f"unknown spectral backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}")
        if self.factorization not in (None, "cp"):
            raise ErrboundError(f"unknown factorization {self.factorization!r}; use None (dense) or 'cp'")

    @property
    def dim(self) -> int:
        return len(self.modes)


class _CpuHalfConv:
    """Mixin for the pointwise convolutions: fp16 autocast on a CPU computes in fp32 from fp16 operands.

    CPUs without native fp16 arithmetic run torch's fp16 kernels several times slower than fp32 (a 1x1
    convolution: 9 ms vs 1.6 ms here). Products of two fp16 numbers are exact in fp32 and torch accumulates
    its CPU fp16 products in fp32, so rounding the operands to fp16, convolving in fp32 and rounding the result
    to fp16 is the same arithmetic up to the order of the fp32 sums (tests/test_train_models.py compares
    the two). GPUs (and bf16, which has fast CPU kernels) take the normal autocast path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if (x.device.type == "cpu" and torch.is_autocast_enabled("cpu")
                and torch.get_autocast_dtype("cpu") == torch.float16):
            with torch.autocast("cpu", enabled=False):
                bias = None if self.bias is None else self.bias.half().float()
                y = self._conv_forward(x.half().float(), self.weight.half().float(), bias)
            return y.half()
        return super().forward(x)


class _Pointwise1d(_CpuHalfConv, nn.Conv1d):
    pass


class _Pointwise2d(_CpuHalfConv, nn.Conv2d):
    pass


class _Pointwise3d(_CpuHalfConv, nn.Conv3d):
    pass


def _pointwise(cin: int, cout: int, d: int) -> nn.Module:
    return (_Pointwise1d, _Pointwise2d, _Pointwise3d)[d - 1](cin, cout, kernel_size=1)


class _MLP(nn.Sequential):
    def __init__(self, cin: int, chid: int, cout: int, d: int) -> None:
        super().__init__(_pointwise(cin, chid, d), nn.GELU(), _pointwise(chid, cout, d))


class FNO(nn.Module):
    """FNO built from an :class:`FNOConfig`; ``policy`` is the spectral blocks' precision policy."""

    def __init__(self, config: FNOConfig, policy: Policy = FULL) -> None:
        super().__init__()
        if not isinstance(config, FNOConfig):
            raise ErrboundError(f"FNO needs an FNOConfig, got {type(config).__name__}")
        self.config = config
        c, d = config, config.dim
        cin = c.in_channels + (d if c.grid else 0)
        self.lifting = _MLP(cin, max(1, round(c.lifting_ratio * c.hidden)), c.hidden, d)
        self.spectral = nn.ModuleList(
            SpectralConv(c.hidden, c.hidden, c.modes, backend=c.backend, factorization=c.factorization,
                         rank=c.rank, contraction=c.contraction, fft_fallback=c.fft_fallback, policy=policy)
            for _ in range(c.n_layers)
        )
        self.skips = nn.ModuleList(_pointwise(c.hidden, c.hidden, d) for _ in range(c.n_layers))
        hid = max(1, round(c.mlp_expansion * c.hidden))
        self.mlps = nn.ModuleList(
            _MLP(c.hidden, hid, c.hidden, d) if c.mlp_expansion > 0 else nn.Identity() for _ in range(c.n_layers)
        )
        self.projection = _MLP(c.hidden, max(1, round(c.projection_ratio * c.hidden)), c.out_channels, d)

    @property
    def policy(self) -> Policy:
        return self.spectral[0].policy

    def set_policy(self, policy: Policy) -> None:
        """Switch every spectral block to ``policy`` (used by precision schedules and fallbacks)."""
        if not isinstance(policy, Policy):
            raise ErrboundError(f"policy must be a Policy, got {policy!r}")
        for layer in self.spectral:
            layer.policy = policy

    def _grid(self, x: torch.Tensor) -> torch.Tensor:
        d = self.config.dim
        spatial = x.shape[-d:]
        axes = [torch.arange(n, device=x.device, dtype=torch.float32) / n for n in spatial]
        mesh = torch.meshgrid(*axes, indexing="ij")
        grid = torch.stack(mesh, 0).unsqueeze(0).expand(x.shape[0], d, *spatial)
        return torch.cat((x, grid.to(x.dtype)), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, d = self.config, self.config.dim
        if x.dim() != d + 2 or x.shape[1] != c.in_channels:
            raise ErrboundError(
                f"FNO expects input (batch, {c.in_channels}, {d} spatial axes), got shape {tuple(x.shape)}"
            )
        if c.grid:
            x = self._grid(x)
        v = self.lifting(x)
        if c.padding:
            v = F.pad(v, (0, c.padding) * d)
        for i, (spec, skip, mlp) in enumerate(zip(self.spectral, self.skips, self.mlps)):
            last = i == c.n_layers - 1
            h = spec(v) + skip(v)
            if not last or not isinstance(mlp, nn.Identity):
                h = F.gelu(h)
            if not isinstance(mlp, nn.Identity):
                h = mlp(h) + h
                if not last:
                    h = F.gelu(h)
            v = h
        if c.padding:
            v = v[(Ellipsis, *[slice(0, n - c.padding) for n in v.shape[-d:]])]
        return self.projection(v)
