"""Correctly rounded low-precision arithmetic on torch tensors: the torch engine of the spectral block.

:class:`TorchArithmetic` has the interface of :class:`errbound.emulate._ops.NumpyArithmetic`, so the one
definition of the block (:func:`errbound.block.run_block`, with the FFT and matrix-product algorithms of
:mod:`errbound.emulate`) runs on torch tensors, on a CPU or a GPU. Every operation returns the correctly
rounded (round to nearest even) result of the exact operation, so the torch engine and the numpy emulator
agree bit for bit: correct rounding is unique, whatever the route to it.

Routes (tensors store every value as float32, which holds fp32, fp16, bf16 and the 8-bit formats exactly):

* ``round(x, fmt)``: float32 -> the format's torch dtype and back (torch's casts round to nearest even;
  E4M3FN saturates, which is the format ``t4emax8emin-6_noinf_rt1_sat``); float64 -> first rounded *to odd*
  at 24 bits, then cast: round-to-odd at ``p + 2`` bits followed by round-to-nearest at ``p`` bits equals
  direct rounding (Boldo and Melquiond, IEEE TC 57(4), 2008).
* ``add`` of two values of a format with ``2 t + 2 <= 24`` (fp16, bf16, fp8): the float32 sum then the cast
  (double rounding innocuous: Figueroa, SIGNUM 1995); fp32: the float32 sum itself.
* ``mul``/``fma``/exact products: in float32 when the product of the two operand formats is exact there
  (``t_a + t_b <= 24``, no product below float32's normal range, none above its max), the fma's sum rounded
  to odd through TwoSum in float32; otherwise in float64 (products exact for ``t_a + t_b <= 53``) with a
  float64 TwoSum and round-to-odd.

Only round to nearest even is supported (what hardware and torch do); the numpy emulator has every mode.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from errbound.errors import ErrboundError
from errbound.formats import Format, get_format

__all__ = ["TorchArithmetic", "TORCH_DTYPES", "torch_supports", "round_to_odd_fp32"]

#: errbound format name -> torch dtype whose float32 cast rounds exactly like errbound.rounding.round_to.
TORCH_DTYPES = {
    "fp32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
    get_format("t4emax8emin-6_noinf_rt1_sat").name: torch.float8_e4m3fn,
    "fp8_e5m2": torch.float8_e5m2,
}
_FP32 = get_format("fp32")
_FP32_MAX = float(torch.finfo(torch.float32).max)
_FP32_TINY = 2.0**-126


def torch_supports(fmt: Format) -> bool:
    """Whether the torch engine can round into ``fmt``."""
    return fmt.name in TORCH_DTYPES


def _dtype(fmt: Format) -> torch.dtype:
    try:
        return TORCH_DTYPES[fmt.name]
    except KeyError:
        raise ErrboundError(
            f"the torch engine rounds into fp32, fp16, bf16, fp8e4m3fn (saturating) and fp8e5m2 only, not "
            f"{fmt.name}; use --engine emulator for other formats"
        ) from None


def round_to_odd_fp32(x: torch.Tensor) -> torch.Tensor:
    """float64 -> float32 rounded to odd (exact values kept; otherwise the neighbour with an odd last bit).
    Finite values beyond float32's range become +-max (odd), so a later narrower cast overflows as it must."""
    f = x.float()
    big = torch.isinf(f) & torch.isfinite(x)
    if bool(big.any()):
        f = torch.where(big, torch.copysign(torch.full_like(f, _FP32_MAX), f), f)
    back = f.double()
    inexact = (back != x) & torch.isfinite(x)
    even = (f.view(torch.int32) & 1) == 0
    nudge = inexact & even
    if bool(nudge.any()):
        towards = torch.where(x > back, torch.full_like(f, math.inf), torch.full_like(f, -math.inf))
        f = torch.where(nudge, torch.nextafter(f, towards), f)
    return f


def _two_sum(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


def _to_odd(s: torch.Tensor, err: torch.Tensor) -> torch.Tensor:
    """Round-to-odd at the working precision of ``s`` given the exact error ``err`` of ``s = RN(x)``: an inexact
    ``s`` with an even last bit moves one ulp towards ``x``. On the raw bits (sign and magnitude) that is
    ``+1`` when ``x`` lies farther from zero than ``s`` (``err`` has the sign of ``s``; ``s != 0`` whenever
    ``err != 0``) and ``-1`` otherwise; an infinite ``s`` (overflow) is left alone."""
    bits = s.view(torch.int64 if s.dtype == torch.float64 else torch.int32)
    nudge = (err != 0) & ((bits & 1) == 0) & (s.abs() != math.inf)
    if not bool(nudge.any()):
        return s
    step = torch.where((err > 0) == (s > 0), 1, -1).to(bits.dtype)
    return (bits + step * nudge.to(bits.dtype)).view(s.dtype)


def _exact_in_fp32(fa: Format, fb: Format) -> bool:
    """Whether every product of an ``fa`` and an ``fb`` value is exact in float32."""
    return (fa.t + fb.t <= 24 and fa.min_subnormal * fb.min_subnormal >= _FP32_TINY
            and fa.max * fb.max < _FP32_MAX)


class _TorchNamespace:
    """The few array functions the algorithms call through ``be.xp``, returning contiguous tensors (torch's
    elementwise kernels are orders of magnitude slower on the strided views that moveaxis makes)."""

    @staticmethod
    def stack(arrays, axis: int = 0) -> torch.Tensor:  # type: ignore[no-untyped-def]
        return torch.stack(list(arrays), dim=axis)

    @staticmethod
    def concatenate(arrays, axis: int = 0) -> torch.Tensor:  # type: ignore[no-untyped-def]
        return torch.cat([a.contiguous() for a in arrays], dim=axis)

    @staticmethod
    def moveaxis(a: torch.Tensor, source: int, destination: int) -> torch.Tensor:
        return torch.movedim(a, source, destination).contiguous()

    tanh = staticmethod(torch.tanh)
    clip = staticmethod(torch.clip)
    minimum = staticmethod(torch.minimum)
    maximum = staticmethod(torch.maximum)


class TorchArithmetic:
    """Correctly rounded (RNE) arithmetic on float32 torch tensors (module docstring).

    ``device``: where constants (numpy arrays) are moved. Methods mirror
    :class:`errbound.emulate._ops.NumpyArithmetic`."""

    xp = _TorchNamespace
    name = "torch"

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)

    # ---- arrays ----
    def asarray(self, a) -> torch.Tensor:  # type: ignore[no-untyped-def]
        if isinstance(a, torch.Tensor):
            return a
        arr = np.asarray(a, dtype=np.float64)
        if arr.ndim == 0:
            return torch.tensor(float(arr), dtype=torch.float64, device=self.device)
        return torch.from_numpy(np.ascontiguousarray(arr)).to(self.device)

    def to_numpy(self, a) -> np.ndarray:  # type: ignore[no-untyped-def]
        return a.detach().to("cpu", torch.float64).numpy() if isinstance(a, torch.Tensor) else np.asarray(a, np.float64)

    def zeros(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.zeros(tuple(shape), dtype=torch.float32, device=self.device)

    def copy(self, a: torch.Tensor) -> torch.Tensor:
        return a.clone()

    def flip_last(self, a: torch.Tensor) -> torch.Tensor:
        return a.flip(-1)

    @staticmethod
    def _check_mode(mode: str, rng=None) -> None:  # type: ignore[no-untyped-def]
        if mode != "rne" or rng is not None:
            raise ErrboundError(
                f"the torch engine rounds to nearest even only (got mode {mode!r}); use --engine emulator"
            )

    # ---- rounding ----
    def round(self, x, fmt: Format, mode: str = "rne", rng=None) -> torch.Tensor:  # type: ignore[no-untyped-def]
        self._check_mode(mode, rng)
        x = self.asarray(x).contiguous()
        dtype = _dtype(fmt)
        if x.dtype == torch.float64:
            if dtype == torch.float32:
                return x.float()
            x = round_to_odd_fp32(x)
        elif x.dtype != torch.float32:
            x = x.float()
        if dtype == torch.float32:
            return x
        return x.to(dtype).float()

    def _const(self, c) -> torch.Tensor:  # type: ignore[no-untyped-def]
        t = self.asarray(c)
        return t.float() if t.dtype == torch.float64 else t

    def add(self, a, b, fmt: Format, mode: str = "rne", rng=None) -> torch.Tensor:  # type: ignore[no-untyped-def]
        """Both operands values of ``fmt``."""
        self._check_mode(mode, rng)
        a, b = a.contiguous(), b.contiguous()
        if fmt.t == 24 or 2 * fmt.t + 2 <= 24:
            return self.round(a + b, fmt)
        s, err = _two_sum(a.double(), b.double())
        return self.round(_to_odd(s, err), fmt)

    def mul(self, a, c, fmt: Format, mode: str = "rne", rng=None, *, const_fmt: Format | None = None) -> torch.Tensor:  # type: ignore[no-untyped-def]
        """``a`` a value of ``fmt``, ``c`` of ``const_fmt`` (default ``fmt``)."""
        self._check_mode(mode, rng)
        a = a.contiguous()
        cf = fmt if const_fmt is None else const_fmt
        if _exact_in_fp32(fmt, cf):
            return self.round(a * self._const(c), fmt)
        return self.round(a.double() * self.asarray(c).double(), fmt)

    def fma(self, a, c, b, fmt: Format, mode: str = "rne", rng=None, *, const_fmt: Format | None = None) -> torch.Tensor:  # type: ignore[no-untyped-def]
        """``a * c + b`` rounded once; ``a``, ``b`` values of ``fmt``, ``c`` of ``const_fmt``."""
        self._check_mode(mode, rng)
        a, b = a.contiguous(), b.contiguous()
        cf = fmt if const_fmt is None else const_fmt
        if _exact_in_fp32(fmt, cf) and fmt.t + 2 <= 24:
            s, err = _two_sum(a * self._const(c), b)
            return self.round(_to_odd(s, err), fmt)
        s, err = _two_sum(a.double() * self.asarray(c).double(), b.double())
        return self.round(_to_odd(s, err), fmt)

    def product(self, a, b, operand_fmt: Format, fmt: Format | None) -> torch.Tensor:  # type: ignore[no-untyped-def]
        """``a * b`` for values of ``operand_fmt``: exact (``fmt`` None) or rounded once into ``fmt``."""
        if fmt is None:
            if _exact_in_fp32(operand_fmt, operand_fmt):
                return a * b
            return a.double() * b.double()  # exact: 2 t <= 53 (ContractionPolicy checks it)
        if _exact_in_fp32(operand_fmt, operand_fmt):
            return self.round(a * b, fmt)
        return self.round(a.double() * b.double(), fmt)

    def accumulate(self, acc: torch.Tensor, term: torch.Tensor, fmt: Format, mode: str = "rne") -> torch.Tensor:
        """``fl(acc + term)`` for an accumulator in ``fmt`` and an exact term (float32 or float64)."""
        self._check_mode(mode)
        if fmt.t == 24 and term.dtype == torch.float32 and acc.dtype == torch.float32:
            return acc + term  # one float32 rounding of the exact sum
        s, err = _two_sum(acc.double(), term.double())
        return self.round(_to_odd(s, err), fmt)

    def matmul(self, a, b, input_fmt: Format, acc_fmt: Format, mode: str = "rne") -> torch.Tensor:  # type: ignore[no-untyped-def]
        """``a @ b`` over the last axis of ``a`` in the tensor-core model of :func:`errbound.arith.matmul`:
        operands rounded into ``input_fmt``, exact products, left-to-right sums from +0 rounded into ``acc_fmt``."""
        self._check_mode(mode)
        a = self.round(a, input_fmt)
        b = self.round(self.asarray(b), input_fmt)
        acc = torch.zeros(tuple(a.shape[:-1]) + (b.shape[-1],), dtype=torch.float32, device=a.device)
        fast = _exact_in_fp32(input_fmt, input_fmt) and acc_fmt.t == 24 and acc_fmt.name == _FP32.name
        for j in range(a.shape[-1]):
            if fast:
                acc = torch.addcmul(acc, a[..., j : j + 1], b[j])  # exact product, one float32 rounding
            else:
                acc = self.accumulate(acc, a[..., j : j + 1].double() * b[j].double(), acc_fmt)
        return acc

    # ---- facts ----
    def stats(self, out: torch.Tensor, fmt: Format) -> tuple[float, bool, int, int]:
        """(largest finite |value|, any non-finite, 0, count): the torch engine does not count subnormals."""
        if out.numel() == 0:
            return 0.0, False, 0, 0
        lo, hi = torch.aminmax(out.contiguous())  # one pass; NaN or inf as soon as one entry is
        mx = max(float(hi), -float(lo))
        if math.isfinite(mx):
            return mx, False, 0, int(out.numel())
        a = out.abs()
        a = a[torch.isfinite(a)]
        return (float(a.amax()) if a.numel() else 0.0), True, 0, int(out.numel())

    def all_finite(self, a: torch.Tensor) -> bool:
        return bool(torch.isfinite(a.contiguous()).all())
