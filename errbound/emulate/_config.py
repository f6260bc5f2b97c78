"""Arithmetic policy of an emulated transform (validated once, when built).

:class:`FFTConfig` says in which format every add and multiply of an emulated FFT is rounded,
with which rounding mode, how twiddle factors are held, how a complex product is formed and how
the normalization is applied. :class:`MatmulConfig` is the tensor-core model of the truncated
DFT as a matrix product (input and accumulator formats).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from errbound.errors import ErrboundError
from errbound.formats import Format, as_format, get_format

__all__ = ["FFTConfig", "MatmulConfig", "as_fft_config", "as_matmul_config", "check_norm", "NORMS"]

NORMS = ("backward", "forward", "ortho")
CMUL_KINDS = ("fma", "4m2a")
SCALINGS = ("after", "prescale")
_NEAREST = ("rne", "rna")
_MODES = ("rne", "rna", "rz", "ru", "rd", "sr")


def check_norm(norm: str | None) -> str:
    """Canonical numpy ``norm`` (``None`` means ``"backward"``); anything else is an ErrboundError."""
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise ErrboundError(f"norm must be one of {NORMS} (numpy semantics), got {norm!r}")
    return norm


@dataclasses.dataclass(frozen=True, kw_only=True)
class FFTConfig:
    """How an emulated FFT rounds (a frozen policy object; strings are parsed once here).

    Attributes:
        fmt: working format; the result of every add, multiply and fused multiply-add is rounded
            into it, and so is the input (cast) and every stored constant unless ``twiddle_fmt``.
        mode: rounding mode of :func:`errbound.rounding.round_to` (``rne`` default, as hardware).
            Overflow prediction supports the nearest modes ``rne`` and ``rna`` only.
        twiddle_fmt: format the twiddle factors (and the Bluestein chirps and the normalization
            constant) are held in. ``None`` (default): rounded into ``fmt``. A wider format (e.g.
            ``"fp32"``) models a kernel that keeps its twiddles in higher precision: the product
            ``a * w`` is then formed exactly and rounded once into ``fmt``. Needs
            ``fmt.t + twiddle_fmt.t <= 53`` so that the float64 product is exact.
        cmul: how ``a * w`` (complex, ``a = ar + i ai``, ``w = c + i d``) is formed.
            ``"fma"`` (default): ``re = fma(ar, c, -fl(ai*d))``, ``im = fma(ar, d, fl(ai*c))``,
            4 roundings. This is what nvcc emits for ``ar*c - ai*d`` with its default
            ``-fmad=true`` contraction, our best guess for cuFFT's half kernels (assumption: cuFFT's
            source is closed). ``"4m2a"``: 4 products and 2 adds, each rounded (6 roundings).
        scaling: ``"after"`` (default, what cuFFT and torch do): the unnormalized transform is
            computed and the result multiplied by the normalization factor ``f`` (``1/m`` for
            ``forward``, ``1/sqrt(m)`` for ``ortho``, rounded into ``const_fmt``), one rounded
            multiply per component, so overflow happens before scaling. ``"prescale"``: the input
            is first multiplied by the power of two ``2**-e``, ``e = floor(log2(1/f))`` (exact
            unless it underflows), and the remainder ``f * 2**e`` in ``(1/2, 1]`` is applied after
            the transform when it is not 1 (never for power-of-two ``m`` with ``forward``).
    """

    fmt: Format
    mode: str = "rne"
    twiddle_fmt: Format | None = None
    cmul: Literal["fma", "4m2a"] = "fma"
    scaling: Literal["after", "prescale"] = "after"

    def __post_init__(self) -> None:
        object.__setattr__(self, "fmt", as_format(self.fmt, "fmt"))
        if self.twiddle_fmt is not None:
            object.__setattr__(self, "twiddle_fmt", as_format(self.twiddle_fmt, "twiddle_fmt"))
        if self.mode not in _MODES:
            raise ErrboundError(f"rounding mode must be one of {_MODES}, got {self.mode!r}")
        if self.cmul not in CMUL_KINDS:
            raise ErrboundError(f"cmul must be one of {CMUL_KINDS}, got {self.cmul!r}")
        if self.scaling not in SCALINGS:
            raise ErrboundError(f"scaling must be one of {SCALINGS}, got {self.scaling!r}")
        if self.fmt.t > 26:
            raise ErrboundError(
                f"working format {self.fmt.name} (t={self.fmt.t}) is too wide to emulate exactly with float64 "
                "(need t <= 26 so that products with the twiddles are exact); fp32 and narrower formats are "
                "supported, and numpy's float64 FFT is the fp64 computation itself"
            )
        if self.fmt.t + self.const_fmt.t > 53:
            raise ErrboundError(
                f"working format {self.fmt.name} (t={self.fmt.t}) with twiddles in {self.const_fmt.name} "
                f"(t={self.const_fmt.t}) needs t + t_twiddle <= 53 for exact float64 products; "
                "pass a narrower twiddle_fmt (e.g. 'fp32' for fp16 work) or None"
            )

    @property
    def const_fmt(self) -> Format:
        """Format the constants (twiddles, chirps, scale factors) are rounded into."""
        return self.twiddle_fmt if self.twiddle_fmt is not None else self.fmt

    @property
    def nearest(self) -> bool:
        return self.mode in _NEAREST


@dataclasses.dataclass(frozen=True, kw_only=True)
class MatmulConfig:
    """Tensor-core model of a DFT as a matrix product.

    Attributes:
        input_fmt: the data and the DFT matrix entries are rounded into it (fp16 on tensor cores).
        acc_fmt: products of two ``input_fmt`` values are exact; every accumulation step is
            rounded into ``acc_fmt`` (fp32 on tensor cores), in the order documented by
            :func:`errbound.arith.matmul` (left to right over the inner index).
        out_fmt: the result is finally rounded into it (``None``: left in ``acc_fmt``).
        mode: rounding mode of every rounding (``rne`` default).
        scaling: ``"after"``: the normalization constant multiplies the accumulated result (one
            rounding into ``acc_fmt``); ``"matrix"``: it is folded into the DFT matrix entries
            before they are rounded into ``input_fmt``.
    """

    input_fmt: Format
    acc_fmt: Format
    out_fmt: Format | None = None
    mode: str = "rne"
    scaling: Literal["after", "matrix"] = "after"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_fmt", as_format(self.input_fmt, "input_fmt"))
        object.__setattr__(self, "acc_fmt", as_format(self.acc_fmt, "acc_fmt"))
        if self.out_fmt is not None:
            object.__setattr__(self, "out_fmt", as_format(self.out_fmt, "out_fmt"))
        if self.mode not in _MODES:
            raise ErrboundError(f"rounding mode must be one of {_MODES}, got {self.mode!r}")
        if self.scaling not in ("after", "matrix"):
            raise ErrboundError(f"scaling must be 'after' or 'matrix', got {self.scaling!r}")
        if 2 * self.input_fmt.t > 53:
            raise ErrboundError(
                f"input format {self.input_fmt.name} (t={self.input_fmt.t}) is too wide for exact float64 "
                "products (need 2 t <= 53); use fp32 or narrower inputs"
            )


def as_fft_config(config: FFTConfig | Format | str) -> FFTConfig:
    """Accept a config, a Format or a format name (shorthand for ``FFTConfig(fmt=...)``)."""
    if isinstance(config, FFTConfig):
        return config
    if isinstance(config, (str, Format)):
        return FFTConfig(fmt=get_format(config))
    raise ErrboundError(f"expected an FFTConfig, a Format or a format name, got {type(config).__name__}")


def as_matmul_config(config: MatmulConfig | tuple[str | Format, str | Format]) -> MatmulConfig:
    """Accept a MatmulConfig or a pair ``(input_fmt, acc_fmt)``."""
    if isinstance(config, MatmulConfig):
        return config
    if isinstance(config, tuple) and len(config) == 2:
        return MatmulConfig(input_fmt=config[0], acc_fmt=config[1])
    raise ErrboundError(
        f"expected a MatmulConfig or a pair (input_fmt, acc_fmt) such as ('fp16', 'fp32'), got {config!r}"
    )
