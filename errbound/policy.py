"""The one precision policy of errbound: what the spectral block computes, stage by stage.

A :class:`Policy` is used unchanged by the numpy emulator (:mod:`errbound.spectral_block`), the torch layer
of the trainer (:mod:`errbound.train.spectral`) and the advisor (:mod:`errbound.advise`). It says:

1. ``input_fmt``: the block input is rounded into it (after the ``pow2`` pre-scale, before any other
   stabilizer);
2. ``stabilizer`` (:class:`Stabilizer`): ``none``, ``tanh``, ``clip``, ``sigma2`` or ``pow2``;
3. ``forward`` (:class:`TransformPolicy`): ``kind="fft"`` (radix-2 / Bluestein FFT with every operation
   rounded into ``fmt``, twiddles in ``twiddle_fmt``, scaling by ``1/m`` after the unnormalised transform,
   as cuFFT does) or ``kind="dft"`` (the truncated DFT as matrix products: operands in ``fmt``, exact
   products, sums left to right in ``acc_fmt``, result in ``out_fmt``);
4. ``spectrum_fmt``: optional cast of the retained spectrum (the "complex-half" cast of ``mixed``);
5. ``contraction`` (:class:`ContractionPolicy`): operands, products, accumulator and output formats of the
   complex channel contraction done in real pairs;
6. ``inverse``: as ``forward``, for the synthesis;
7. ``autocast_dtype``: the 16-bit dtype the layers *outside* the block run in under ``torch.autocast`` (``None``:
   no autocast).

Users type names, parsed once by :func:`parse_policy` (the trainer's vocabulary)::

    <mode>[-<low>][+<stabilizer>]      mode in full amp mixed half
                                       low in fp16 (default) bf16 fp8e4m3fn fp8e5m2, or any errbound format
                                       name for the emulator (e.g. half-t11emax15)
                                       stabilizer in none tanh clip sigma2 pow2

with a separate backend ``fft`` or ``dft``. ``policy.name`` round-trips: ``parse_policy(p.name,
backend=p.backend) == p``. Documented aliases of the former emulator presets: ``dft-half`` = ``half`` with
backend ``dft``, ``dft-bf16`` = ``half-bf16`` with backend ``dft``; stabilizer aliases ``prescale`` = ``pow2``,
``std_clip`` = ``sigma2``. Default stabilizer: ``pow2`` for fp16 and 8-bit ``mixed``/``half`` blocks, ``none``
otherwise (bf16 has fp32's exponent range).

The presets (NOTES.md section 3, low format ``lo``):

* ``full`` / ``amp``: every stage fp32 (``amp`` autocasts outside the block);
* ``mixed``: fp32 input and forward transform, spectrum cast to ``lo``, contraction with ``lo`` operands
  (exact products, fp32 accumulation, ``lo`` result), inverse transform in ``lo``;
* ``half``: input cast to ``lo``; forward transform, contraction and inverse in ``lo``.

With backend ``dft`` both transforms are matrix products (operands in the block format, fp32 accumulation,
result rounded into the block format). Every combination can be emulated; the trainer runs 8-bit blocks as
``half`` with backend ``dft`` only (:func:`errbound.train.spectral.check_supported` says so); their E4M3FN is
the saturating variant torch's float8 cast implements (``t4emax8emin-6_noinf_rt1_sat``).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from errbound.emulate import FFTConfig, MatmulConfig
from errbound.errors import ErrboundError
from errbound.formats import Format, as_format

__all__ = [
    "MODES", "BACKENDS", "STABILIZERS", "TRAINER_LOWS", "PRECISION_NAMES", "ALIASES",
    "Stabilizer", "TransformPolicy", "ContractionPolicy", "Policy",
    "make_policy", "parse_policy", "parse_stabilizer", "safer_policy", "parse_schedule", "FULL",
]

MODES = ("full", "amp", "mixed", "half")
BACKENDS = ("fft", "dft")
STABILIZERS = ("none", "tanh", "clip", "sigma2", "pow2")
_STABILIZER_ALIASES = {"prescale": "pow2", "std_clip": "sigma2"}
#: Low formats of the trainer (the names ``errbound train --precision`` accepts) and their errbound formats.
TRAINER_LOWS = {"fp16": "fp16", "bf16": "bf16", "fp8e4m3fn": "t4emax8emin-6_noinf_rt1_sat", "fp8e5m2": "fp8_e5m2"}
_FP8 = ("fp8e4m3fn", "fp8e5m2")
#: The named policies of the trainer (each also accepts ``+<stabilizer>``).
PRECISION_NAMES = ("full", "amp", "mixed", "half", "amp-bf16", "mixed-bf16", "half-bf16", "half-fp8e4m3fn",
                   "half-fp8e5m2")
#: Former emulator preset names: alias -> (policy name, backend).
ALIASES = {"dft-half": ("half", "dft"), "dft-bf16": ("half-bf16", "dft")}
_ROUNDING = ("rne", "rna", "rz", "ru", "rd")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Stabilizer:
    """What is applied to the tensor entering the forward transform (never to a skip path).

    * ``none``: identity (a half block can overflow: the unnormalised DFT of m points grows up to
      ``sum |x|``);
    * ``tanh``: ``fl_in(tanh z)`` (the paper's choice; changes the function);
    * ``clip``: clamp to ``[-bound, bound]`` (``bound`` rounded toward zero into the input format);
    * ``sigma2``: clamp each (sample, channel) to ``mean +- nsigma * std`` (float64 statistics of the cast
      input, thresholds rounded into the input format);
    * ``pow2``: multiply the block input by the exact power of two ``2**e`` (``e <= 0``) of
      :func:`errbound.block.pow2_exponent` before the input cast and by ``2**-e`` after the block: the block
      is linear, so this changes nothing but under- and overflow.
    """

    kind: Literal["none", "tanh", "clip", "sigma2", "pow2"] = "none"
    bound: float = 1.0
    nsigma: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in STABILIZERS:
            raise ErrboundError(f"unknown stabilizer {self.kind!r}; choose one of: {', '.join(STABILIZERS)}")
        for what, v in (("bound", self.bound), ("nsigma", self.nsigma)):
            if not (isinstance(v, (int, float)) and v > 0 and v != float("inf")):
                raise ErrboundError(f"stabilizer {what} must be a positive finite number, got {v!r}")

    @property
    def exact(self) -> bool:
        """True when the stabilizer does not change the function (``none`` and ``pow2``)."""
        return self.kind in ("none", "pow2")


def parse_stabilizer(value: Stabilizer | str) -> Stabilizer:
    """A Stabilizer from an object or a name (aliases ``prescale`` -> ``pow2``, ``std_clip`` -> ``sigma2``)."""
    if isinstance(value, Stabilizer):
        return value
    if not isinstance(value, str):
        raise ErrboundError(f"stabilizer must be a name or a Stabilizer, got {value!r}")
    name = value.strip().lower()
    return Stabilizer(kind=_STABILIZER_ALIASES.get(name, name))  # type: ignore[arg-type]


def _opt(value: object, what: str) -> Format | None:
    return None if value is None else as_format(value, what)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransformPolicy:
    """A forward or inverse transform: ``kind="fft"`` (emulated FFT in ``fmt``, twiddles in ``twiddle_fmt``
    (None: ``fmt``), complex products ``cmul``) or ``kind="dft"`` (matrix product: operands in ``fmt``, exact
    products, left-to-right accumulation in ``acc_fmt``, result rounded into ``out_fmt``)."""

    kind: Literal["fft", "dft"] = "fft"
    fmt: Format
    twiddle_fmt: Format | None = None
    cmul: Literal["fma", "4m2a"] = "fma"
    acc_fmt: Format | None = None
    out_fmt: Format | None = None
    mode: str = "rne"

    def __post_init__(self) -> None:
        object.__setattr__(self, "fmt", as_format(self.fmt, "fmt"))
        for f in ("twiddle_fmt", "acc_fmt", "out_fmt"):
            object.__setattr__(self, f, _opt(getattr(self, f), f))
        if self.kind not in BACKENDS:
            raise ErrboundError(f"transform kind must be one of: {', '.join(BACKENDS)}; got {self.kind!r}")
        if self.mode not in _ROUNDING:
            raise ErrboundError(f"rounding mode must be one of: {', '.join(_ROUNDING)}; got {self.mode!r}")
        if self.kind == "dft" and self.acc_fmt is None:
            raise ErrboundError("a matrix-product transform (kind='dft') needs acc_fmt, e.g. 'fp32'")
        if self.kind == "fft":
            self.fft_config()  # validate the combination now
        else:
            self.matmul_config()

    def fft_config(self) -> FFTConfig:
        return FFTConfig(fmt=self.fmt, mode=self.mode, twiddle_fmt=self.twiddle_fmt, cmul=self.cmul, scaling="after")

    def matmul_config(self) -> MatmulConfig:
        return MatmulConfig(input_fmt=self.fmt, acc_fmt=self.acc_fmt, out_fmt=self.out_fmt, mode=self.mode)

    @property
    def result_fmt(self) -> Format:
        if self.kind == "fft":
            return self.fmt
        return self.out_fmt if self.out_fmt is not None else self.acc_fmt  # type: ignore[return-value]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContractionPolicy:
    """Formats of the complex contraction ``Y[o, w] = sum_i R[o, i, w] X[i, w]`` in real pairs:
    ``Re = sum_i Xr Rr - sum_i Xi Ri`` and ``Im = sum_i Xr Ri + sum_i Xi Rr`` as one left-to-right sum of
    ``2 C_in`` terms each (real-part products first); operands rounded into ``input_fmt``, each product into
    ``product_fmt`` (None: exact, the tensor-core model), sums into ``acc_fmt``, the result into ``out_fmt``."""

    input_fmt: Format
    acc_fmt: Format
    product_fmt: Format | None = None
    out_fmt: Format | None = None
    mode: str = "rne"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_fmt", as_format(self.input_fmt, "input_fmt"))
        object.__setattr__(self, "acc_fmt", as_format(self.acc_fmt, "acc_fmt"))
        object.__setattr__(self, "product_fmt", _opt(self.product_fmt, "product_fmt"))
        object.__setattr__(self, "out_fmt", _opt(self.out_fmt, "out_fmt"))
        if self.mode not in _ROUNDING:
            raise ErrboundError(f"rounding mode must be one of: {', '.join(_ROUNDING)}; got {self.mode!r}")
        if self.product_fmt is None and 2 * self.input_fmt.t > 53:
            raise ErrboundError(
                f"exact products need 2 t <= 53, {self.input_fmt.name} has t={self.input_fmt.t}; "
                "give product_fmt (e.g. 'fp32')"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Policy:
    """Per-stage formats of the spectral block plus the autocast dtype outside it (module docstring).

    ``mode``/``low``/``backend`` record what the user asked for (``mode="custom"`` for a policy built stage by
    stage); the stage fields are what every engine computes. Build named policies with :func:`make_policy` or
    :func:`parse_policy`."""

    mode: Literal["full", "amp", "mixed", "half", "custom"] = "custom"
    low: Format | None = None
    backend: Literal["fft", "dft"] = "fft"
    input_fmt: Format
    stabilizer: Stabilizer = Stabilizer()
    forward: TransformPolicy
    spectrum_fmt: Format | None = None
    contraction: ContractionPolicy
    inverse: TransformPolicy
    autocast_dtype: Literal["fp16", "bf16"] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_fmt", as_format(self.input_fmt, "input_fmt"))
        object.__setattr__(self, "spectrum_fmt", _opt(self.spectrum_fmt, "spectrum_fmt"))
        object.__setattr__(self, "low", _opt(self.low, "low"))
        for field, cls in (("stabilizer", Stabilizer), ("forward", TransformPolicy),
                           ("contraction", ContractionPolicy), ("inverse", TransformPolicy)):
            if not isinstance(getattr(self, field), cls):
                raise ErrboundError(f"Policy.{field} must be a {cls.__name__}, got {getattr(self, field)!r}")
        if self.mode not in (*MODES, "custom"):
            raise ErrboundError(f"unknown precision mode {self.mode!r}; choose one of: {', '.join(MODES)}")
        if self.backend not in BACKENDS:
            raise ErrboundError(f"unknown spectral backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}")
        if self.autocast_dtype not in (None, "fp16", "bf16"):
            raise ErrboundError(f"autocast_dtype must be None, 'fp16' or 'bf16', got {self.autocast_dtype!r}")

    # ---- names ----
    @property
    def low_name(self) -> str | None:
        """The ``-<low>`` token of the name: a trainer name (fp16 bf16 fp8e4m3fn fp8e5m2) or a format name."""
        if self.low is None:
            return None
        for short, fmt in TRAINER_LOWS.items():
            if self.low.name == as_format(fmt).name:
                return short
        return self.low.name

    @property
    def name(self) -> str:
        """Canonical name (without the backend), parsed back by :func:`parse_policy`; ``custom`` for a
        policy built stage by stage."""
        if self.mode == "custom":
            return "custom"
        base = self.mode
        if self.mode != "full" and self.low_name != "fp16":
            base += f"-{self.low_name}"
        if self.stabilizer != default_stabilizer(self.mode, self.low_name):
            base += f"+{self.stabilizer.kind}"
        return base

    def __str__(self) -> str:
        return self.name if self.mode == "custom" else f"{self.name} ({self.backend})"

    def with_stabilizer(self, stabilizer: Stabilizer | str) -> "Policy":
        return dataclasses.replace(self, stabilizer=parse_stabilizer(stabilizer))

    # ---- what the trainer needs ----
    @property
    def autocast(self) -> bool:
        """Whether the layers outside the spectral block run under autocast."""
        return self.autocast_dtype is not None

    @property
    def torch_half_dtype(self):  # type: ignore[no-untyped-def]  # -> torch.dtype
        """The torch dtype of autocast (fp16 or bf16; bf16 when there is no autocast)."""
        import torch  # optional dependency: only the trainer asks

        return torch.float16 if self.autocast_dtype == "fp16" else torch.bfloat16

    @property
    def block_half(self) -> bool:
        """Whether any stage of the block computes in a format narrower than fp32."""
        fp32 = as_format("fp32")
        return any(f.t < fp32.t or f.emax < fp32.emax for f in self.formats_used())

    @property
    def emulated_on_cpu(self) -> bool:
        """Whether the torch layer computes this block with emulated (bit-exact) arithmetic on a CPU: every
        reduced-precision block (torch's CPU kernels have no fp16/bf16/fp8 FFTs)."""
        return self.block_half

    @property
    def fp8_block(self) -> bool:
        return self.low is not None and self.low.t <= 4

    @property
    def uses_fp16(self) -> bool:
        return self.autocast_dtype == "fp16" or any(f.name == "fp16" for f in self.formats_used())

    @property
    def needs_grad_scaler(self) -> bool:
        """fp16 needs loss scaling (narrow exponent range); bf16 and fp32 do not."""
        return self.uses_fp16

    @property
    def narrowest(self) -> Format:
        """The format with the smallest range among the block's stages (decides the pre-scale)."""
        return min(self.formats_used(), key=lambda f: f.max)

    def formats_used(self) -> list[Format]:
        used = [self.input_fmt, self.forward.fmt, self.contraction.input_fmt, self.inverse.fmt]
        used += [f for f in (self.spectrum_fmt, self.forward.out_fmt, self.contraction.out_fmt,
                             self.inverse.out_fmt) if f is not None]
        return used

    def formats(self) -> list[str]:
        """Names of every format the policy uses (for reports)."""
        return sorted({f.name for f in self.formats_used()} | {self.contraction.acc_fmt.name})

    def as_dict(self) -> dict[str, object]:
        return {"precision": self.name, "backend": self.backend, "mode": self.mode,
                "low": None if self.low is None else self.low.name, "stabilizer": self.stabilizer.kind,
                "formats": self.formats(), "autocast": self.autocast_dtype}


def default_stabilizer(mode: str, low: str | None) -> Stabilizer:
    """``pow2`` for fp16 and 8-bit ``mixed``/``half`` blocks, ``none`` otherwise."""
    if mode in ("mixed", "half") and low is not None and (low == "fp16" or low in _FP8 or _narrow_range(low)):
        return Stabilizer(kind="pow2")
    return Stabilizer(kind="none")


def _narrow_range(low: str) -> bool:
    try:
        return as_format(low).emax < as_format("fp32").emax
    except ErrboundError:
        return False


def make_policy(mode: str, low: Format | str | None = "fp16", *, stabilizer: Stabilizer | str | None = None,
                backend: str = "fft", twiddle_fmt: Format | str | None = None) -> Policy:
    """The named policy ``mode`` (full, amp, mixed, half) with low format ``low`` and ``backend``.

    ``low``: a trainer name (fp16 bf16 fp8e4m3fn fp8e5m2) or any errbound format; ignored for full/amp
    autocast except that ``amp-bf16`` autocasts in bf16. ``stabilizer``: None for the default
    (:func:`default_stabilizer`). ``twiddle_fmt``: format of FFT twiddles (None: the working format)."""
    if mode not in MODES:
        raise ErrboundError(f"unknown precision mode {mode!r}; choose one of: {', '.join(MODES)}")
    if backend not in BACKENDS:
        raise ErrboundError(f"unknown spectral backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    low_key = "fp16" if low is None else (low if isinstance(low, str) and low in TRAINER_LOWS else as_format(low).name)
    lo = as_format(TRAINER_LOWS.get(low_key, low_key))
    short = next((k for k, v in TRAINER_LOWS.items() if as_format(v).name == lo.name), lo.name)
    if mode == "full" and short != "fp16":
        raise ErrboundError("precision 'full' uses no low format; use 'full' (or 'amp-bf16' for bf16 autocast)")
    st = default_stabilizer(mode, short) if stabilizer is None else parse_stabilizer(stabilizer)
    if mode in ("full", "amp") and st.kind != "none":
        raise ErrboundError(
            f"stabilizer {st.kind!r} only applies to the reduced-precision block modes 'mixed' and 'half'; "
            "use 'full' or 'amp' without a stabilizer"
        )
    fp32 = as_format("fp32")
    autocast = None if mode == "full" else ("fp16" if short == "fp16" else "bf16")
    if autocast is not None and lo.name not in ("fp16", "bf16") and short not in _FP8:
        autocast = "bf16"  # emulator-only low formats: the layers outside the block are not modelled

    def transform(fmt: Format) -> TransformPolicy:
        if backend == "dft":
            return TransformPolicy(kind="dft", fmt=fmt, acc_fmt=fp32, out_fmt=fmt)
        return TransformPolicy(fmt=fmt, twiddle_fmt=twiddle_fmt)

    if mode in ("full", "amp"):
        return Policy(mode=mode, low=None if mode == "full" else lo, backend=backend,  # type: ignore[arg-type]
                      input_fmt=fp32, stabilizer=st, forward=transform(fp32),
                      contraction=ContractionPolicy(input_fmt=fp32, acc_fmt=fp32, product_fmt=fp32, out_fmt=fp32),
                      inverse=transform(fp32), autocast_dtype=autocast)  # type: ignore[arg-type]
    contraction = ContractionPolicy(input_fmt=lo, acc_fmt=fp32, out_fmt=lo)
    if mode == "mixed":
        return Policy(mode="mixed", low=lo, backend=backend, input_fmt=fp32, stabilizer=st,  # type: ignore[arg-type]
                      forward=transform(fp32), spectrum_fmt=lo, contraction=contraction, inverse=transform(lo),
                      autocast_dtype=autocast)  # type: ignore[arg-type]
    return Policy(mode="half", low=lo, backend=backend, input_fmt=lo, stabilizer=st,  # type: ignore[arg-type]
                  forward=transform(lo), contraction=contraction, inverse=transform(lo),
                  autocast_dtype=autocast)  # type: ignore[arg-type]


def _valid_names() -> str:
    return (f"{', '.join(PRECISION_NAMES)} (optionally +stabilizer, stabilizer in {', '.join(STABILIZERS)}); "
            f"aliases {', '.join(ALIASES)}")


def parse_policy(text: str | Policy, backend: str = "fft", *, low: Format | str | None = None,
                 stabilizer: str | None = None, twiddle_fmt: Format | str | None = None) -> Policy:
    """Parse ``<mode>[-<low>][+<stabilizer>]`` (or an alias) into a :class:`Policy` (CLI boundary only).

    ``low`` sets the low format when the name has no ``-<low>`` part (the emulator's ``--format``);
    ``stabilizer`` overrides the name's (the emulator's ``--stabilizer``)."""
    if isinstance(text, Policy):
        return text
    if backend not in BACKENDS:
        raise ErrboundError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if not isinstance(text, str) or not text.strip():
        raise ErrboundError(f"precision must be a non-empty name; choose one of: {_valid_names()}")
    raw = text.strip().lower()
    head, plus, stab = raw.partition("+")
    if plus and not stab:
        raise ErrboundError(
            f"precision {text!r} ends with '+' but names no stabilizer; choose one of: {', '.join(STABILIZERS)}"
        )
    if head in ALIASES:
        head, alias_backend = ALIASES[head]
        if backend == "fft" and alias_backend == "dft":
            backend = "dft"
    mode, dash, low_token = head.partition("-")
    if mode not in MODES or (dash and not low_token):
        raise ErrboundError(f"unknown precision {text!r}; choose one of: {_valid_names()}")
    if mode == "full" and dash:
        raise ErrboundError(f"unknown precision {text!r}: 'full' takes no low format; choose one of: {_valid_names()}")
    if low_token and low is not None and as_format(TRAINER_LOWS.get(low_token, low_token)).name != as_format(
            TRAINER_LOWS.get(str(low), low)).name:
        raise ErrboundError(f"precision {text!r} names low format {low_token} but --format says {low}; give one")
    if low is not None and not (isinstance(low, str) and low in TRAINER_LOWS):
        as_format(low, "low format")  # an unknown --format names itself and lists the formats
    chosen = low_token or (None if low is None else low)
    if low_token and low_token not in TRAINER_LOWS:
        try:
            as_format(low_token)
        except ErrboundError:
            raise ErrboundError(f"unknown precision {text!r}: {low_token!r} is not a format; choose one of: "
                                f"{_valid_names()}") from None
    st = stab if stab else stabilizer
    return make_policy(mode, "fp16" if chosen is None or mode == "full" else chosen,
                       stabilizer=None if not st else st, backend=backend, twiddle_fmt=twiddle_fmt)


FULL = make_policy("full")


def safer_policy(policy: Policy) -> Policy:
    """The next safer policy for the trainer's non-finite fallback: half -> mixed -> amp -> full; an 8-bit
    half block falls back to amp-bf16 (it has no mixed variant)."""
    if policy.fp8_block:
        return make_policy("amp", "bf16", backend=policy.backend)
    low = policy.low_name or "fp16"
    if policy.mode == "half":
        return make_policy("mixed", low, stabilizer=policy.stabilizer, backend=policy.backend)
    if policy.mode == "mixed":
        return make_policy("amp", low, backend=policy.backend)
    return dataclasses.replace(FULL, backend=policy.backend)


def parse_schedule(text: str, epochs: int | None = None, backend: str = "fft") -> tuple[tuple[int, Policy], ...]:
    """Parse a precision schedule ``"half:0,mixed+none:125,full:375"`` (policy:first_epoch, ...).

    Returns ``((epoch, policy), ...)`` sorted by epoch; the first entry must start at epoch 0."""
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
        entries.append((epoch, parse_policy(name, backend)))
    entries.sort(key=lambda e: e[0])
    if not entries or entries[0][0] != 0:
        raise ErrboundError(f"precision schedule {text!r} must have an entry starting at epoch 0")
    if len({e for e, _ in entries}) != len(entries):
        raise ErrboundError(f"precision schedule {text!r} has two entries for the same epoch")
    return tuple(entries)
