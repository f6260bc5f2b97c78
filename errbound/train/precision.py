"""Precision policies for FNO training: what runs in which format, and how overflow is prevented.

A :class:`PrecisionPolicy` says three things:

* ``block``: how the spectral block computes

  - ``"full"``: transform, contraction and inverse in fp32;
  - ``"amp"``: same as full inside the block (its input is cast back to fp32), autocast outside;
  - ``"mixed"``: forward transform in fp32, spectrum cast to ``half_dtype``, contraction and inverse
    transform in ``half_dtype`` (fp32 accumulation in the matrix products);
  - ``"half"``: block input cast to ``half_dtype``, forward transform, contraction and inverse all in
    ``half_dtype`` (fp32 accumulation in the matrix products).

* ``half_dtype``: ``"fp16"`` or ``"bf16"``, used by autocast outside the block (for every mode but
  ``full``) and inside the block for ``mixed``/``half``; or an *emulated* 8-bit block format,
  ``"fp8e4m3fn"`` (OCP E4M3, max 448, no inf) or ``"fp8e5m2"``, for ``half`` with the ``dft`` backend
  only: every operand of the block's matrix products is rounded into the 8-bit format (torch's float8
  casts, straight-through gradient), products are accumulated in fp32 and each product's result is
  rounded back into the 8-bit format, the arithmetic model of ``errbound.spectral_block``'s ``dft-half``
  preset with that format (what the advisor emulates). Outside the block these policies autocast in bf16.
* ``stabilizer``: a :class:`Stabilizer` applied to the tensor entering the forward transform (never to
  the skip path).

Spectral weights stay fp32 master copies and are cast on the fly. fp16 policies need a GradScaler
(:attr:`PrecisionPolicy.needs_grad_scaler`); bf16 ones do not (bf16 has fp32's exponent range).

Strings are parsed once, at the CLI boundary, by :func:`parse_precision`:
``<mode>[-bf16|-fp8e4m3fn|-fp8e5m2][+<stabilizer>]`` with mode in ``full amp mixed half`` and stabilizer in
``none tanh clip sigma2 pow2``; e.g. ``half``, ``half+tanh``, ``mixed-bf16+none``, ``half-fp8e4m3fn``.
Default stabilizers: ``pow2`` (exact power-of-two pre-scaling) for fp16 and fp8 mixed/half, ``none`` otherwise.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from errbound.errors import ErrboundError

__all__ = [
    "BLOCK_MODES",
    "STABILIZER_KINDS",
    "PRECISION_NAMES",
    "Stabilizer",
    "PrecisionPolicy",
    "parse_precision",
    "parse_schedule",
    "FULL",
    "SAFER",
]

BLOCK_MODES = ("full", "amp", "mixed", "half")
HALF_DTYPES = ("fp16", "bf16", "fp8e4m3fn", "fp8e5m2")
FP8_DTYPES = ("fp8e4m3fn", "fp8e5m2")
#: errbound.formats name of each block dtype. torch's fp32 -> float8_e4m3fn cast saturates at +-448 (E4M3FN
#: with saturation, checked bit for bit in tests/test_train_fp8.py), unlike the named fp8_e4m3fn (NaN).
FORMAT_NAMES = {"fp16": "fp16", "bf16": "bf16", "fp8e4m3fn": "t4emax8emin-6_noinf_rt1_sat", "fp8e5m2": "fp8_e5m2"}
STABILIZER_KINDS = ("none", "tanh", "clip", "sigma2", "pow2")
#: The named policies (each also accepts ``+<stabilizer>``).
PRECISION_NAMES = ("full", "amp", "mixed", "half", "amp-bf16", "mixed-bf16", "half-bf16", "half-fp8e4m3fn",
                   "half-fp8e5m2")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Stabilizer:
    """Transform applied to the spectral block's input before the forward transform.

    * ``none``: identity (fp16 can overflow: the unnormalised DFT of n points grows up to n max|x|);
    * ``tanh``: ``tanh(x)`` (the paper's choice; changes the function);
    * ``clip``: clamp to ``[-bound, bound]`` (changes the function);
    * ``sigma2``: clamp each (sample, channel) to mean +- ``nsigma`` standard deviations;
    * ``pow2``: multiply by ``2**-k`` before the block and by ``2**k`` after it. The block is linear,
      so this is exact up to underflow: ``k = max(0, e - target_exp)`` where ``2**e`` bounds
      ``sum |x|`` (the largest possible unnormalised DFT coefficient) of the worst (sample, channel),
      and ``target_exp`` is the half format's ``emax - 1`` (14 for fp16, 126 for bf16).
    """

    kind: Literal["none", "tanh", "clip", "sigma2", "pow2"] = "none"
    bound: float = 1.0
    nsigma: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in STABILIZER_KINDS:
            raise ErrboundError(
                f"unknown stabilizer {self.kind!r}; choose one of: {', '.join(STABILIZER_KINDS)}"
            )
        if not (self.bound > 0 and self.bound != float("inf")):
            raise ErrboundError(f"stabilizer bound must be a positive finite number, got {self.bound!r}")
        if not (self.nsigma > 0 and self.nsigma != float("inf")):
            raise ErrboundError(f"stabilizer nsigma must be a positive finite number, got {self.nsigma!r}")

    @property
    def exact(self) -> bool:
        """True when the stabilizer does not change the function (``none`` and ``pow2``)."""
        return self.kind in ("none", "pow2")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrecisionPolicy:
    """Where each part of an FNO runs in reduced precision; see the module docstring."""

    block: Literal["full", "amp", "mixed", "half"] = "full"
    half_dtype: Literal["fp16", "bf16", "fp8e4m3fn", "fp8e5m2"] = "fp16"
    stabilizer: Stabilizer = Stabilizer()

    def __post_init__(self) -> None:
        if self.block not in BLOCK_MODES:
            raise ErrboundError(f"unknown precision mode {self.block!r}; choose one of: {', '.join(BLOCK_MODES)}")
        if self.half_dtype not in HALF_DTYPES:
            raise ErrboundError(f"unknown half dtype {self.half_dtype!r}; choose one of: {', '.join(HALF_DTYPES)}")
        if not isinstance(self.stabilizer, Stabilizer):
            raise ErrboundError(
                f"stabilizer must be a Stabilizer object, got {type(self.stabilizer).__name__}; "
                "build one with Stabilizer(kind=...)"
            )
        if self.block == "full" and self.half_dtype != "fp16":
            raise ErrboundError("precision 'full' uses no half dtype; pass block='full' without half_dtype")
        if self.half_dtype in FP8_DTYPES and self.block != "half":
            raise ErrboundError(
                f"the 8-bit block format {self.half_dtype} is emulated for block mode 'half' only "
                f"(with --backend dft), got {self.block!r}; use half-{self.half_dtype}"
            )
        if self.block in ("full", "amp") and self.stabilizer.kind != "none":
            raise ErrboundError(
                f"stabilizer {self.stabilizer.kind!r} only applies to the half-precision block modes "
                "'mixed' and 'half'; use stabilizer none with 'full' or 'amp'"
            )

    @property
    def name(self) -> str:
        """Canonical string form, parsed back by :func:`parse_precision`."""
        base = self.block if self.block == "full" or self.half_dtype == "fp16" else f"{self.block}-{self.half_dtype}"
        if self.block in ("mixed", "half") and self.stabilizer != _default_stabilizer(self.block, self.half_dtype):
            base += f"+{self.stabilizer.kind}"
        return base

    @property
    def autocast(self) -> bool:
        """Whether the layers outside the spectral block run under autocast."""
        return self.block != "full"

    @property
    def block_half(self) -> bool:
        """Whether the spectral block computes (partly) in ``half_dtype``."""
        return self.block in ("mixed", "half")

    @property
    def uses_fp16(self) -> bool:
        return self.block != "full" and self.half_dtype == "fp16"

    @property
    def fp8_block(self) -> bool:
        """Whether the spectral block is an emulated 8-bit block (``half-fp8e4m3fn``, ``half-fp8e5m2``)."""
        return self.half_dtype in FP8_DTYPES

    @property
    def needs_grad_scaler(self) -> bool:
        """fp16 needs loss scaling (narrow exponent range); bf16 and fp32 do not."""
        return self.uses_fp16

    @property
    def torch_half_dtype(self):  # -> torch.dtype
        """The 16-bit dtype of autocast (and of the block for fp16/bf16); bf16 for the fp8 block policies."""
        import torch

        return torch.float16 if self.half_dtype == "fp16" else torch.bfloat16

    @property
    def torch_fp8_dtype(self):  # -> torch.dtype
        """The torch float8 dtype of an emulated 8-bit block (``fp8_block`` only)."""
        import torch

        if not self.fp8_block:
            raise ErrboundError(f"precision {self.name!r} has no 8-bit block")
        return torch.float8_e4m3fn if self.half_dtype == "fp8e4m3fn" else torch.float8_e5m2

    @property
    def half_emax(self) -> int:
        """Largest binade exponent of the block format (its max finite value is below ``2**(emax + 1)``)."""
        from errbound.formats import get_format

        return get_format(FORMAT_NAMES[self.half_dtype]).emax

    def __str__(self) -> str:
        return self.name


FULL = PrecisionPolicy(block="full")


def _default_stabilizer(block: str, half_dtype: str) -> Stabilizer:
    if block in ("mixed", "half") and half_dtype in ("fp16", *FP8_DTYPES):
        return Stabilizer(kind="pow2")
    return Stabilizer(kind="none")


def parse_precision(text: str) -> PrecisionPolicy:
    """Parse ``<mode>[-bf16|-fp16|-fp8e4m3fn|-fp8e5m2][+<stabilizer>]`` into a :class:`PrecisionPolicy` (CLI boundary only)."""
    if not isinstance(text, str) or not text.strip():
        raise ErrboundError(f"precision must be a non-empty string; choose one of: {', '.join(PRECISION_NAMES)}")
    raw = text.strip().lower()
    head, plus, stab = raw.partition("+")
    if plus and not stab:
        raise ErrboundError(
            f"precision {text!r} ends with '+' but names no stabilizer; choose one of: {', '.join(STABILIZER_KINDS)}"
        )
    mode, _, dtype = head.partition("-")
    dtype = dtype or "fp16"
    if mode not in BLOCK_MODES or dtype not in HALF_DTYPES or (mode == "full" and head != "full"):
        raise ErrboundError(
            f"unknown precision {text!r}; choose one of: {', '.join(PRECISION_NAMES)} "
            f"(optionally followed by +stabilizer, stabilizer in {', '.join(STABILIZER_KINDS)})"
        )
    if mode == "full":
        dtype = "fp16"
    if dtype in FP8_DTYPES and mode != "half":
        raise ErrboundError(
            f"precision {text!r}: the 8-bit block formats are emulated for 'half' only; use half-{dtype}"
        )
    stabilizer = Stabilizer(kind=stab) if stab else _default_stabilizer(mode, dtype)  # type: ignore[arg-type]
    return PrecisionPolicy(block=mode, half_dtype=dtype, stabilizer=stabilizer)  # type: ignore[arg-type]


#: Order used by the non-finite fallback: each policy's next safer one.
def SAFER(policy: PrecisionPolicy) -> PrecisionPolicy:
    """The next safer policy: half -> mixed -> amp -> full (8-bit half -> amp-bf16) (same half dtype and stabilizer kept if valid)."""
    if policy.fp8_block:  # the emulated 8-bit block has no mixed variant: fall back to bf16 autocast
        return PrecisionPolicy(block="amp", half_dtype="bf16")
    if policy.block == "half":
        return dataclasses.replace(policy, block="mixed")
    if policy.block == "mixed":
        return PrecisionPolicy(block="amp", half_dtype=policy.half_dtype)
    return FULL


def parse_schedule(text: str, epochs: int | None = None) -> tuple[tuple[int, PrecisionPolicy], ...]:
    """Parse a precision schedule ``"half:0,mixed+none:125,full:375"`` (policy:first_epoch, ...).

    Returns ``((epoch, policy), ...)`` sorted by epoch; the first entry must start at epoch 0.
    """
    entries = []
    for part in text.split(","):
        part = part.strip()
        name, sep, start = part.rpartition(":")
        if not sep or not name:
            raise ErrboundError(
                f"schedule entry {part!r} is not 'precision:epoch'; write e.g. 'half:0,mixed+none:125,full:375'"
            )
        try:
            epoch = int(start)
        except ValueError:
            raise ErrboundError(f"schedule entry {part!r}: epoch {start!r} is not an integer") from None
        if epoch < 0 or (epochs is not None and epoch >= epochs):
            raise ErrboundError(f"schedule entry {part!r}: epoch {epoch} is outside [0, {epochs})")
        entries.append((epoch, parse_precision(name)))
    entries.sort(key=lambda e: e[0])
    if not entries or entries[0][0] != 0:
        raise ErrboundError(f"precision schedule {text!r} must have an entry starting at epoch 0")
    if len({e for e, _ in entries}) != len(entries):
        raise ErrboundError(f"precision schedule {text!r} has two entries for the same epoch")
    return tuple(entries)
