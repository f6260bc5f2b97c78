"""Exact magnitude propagation, overflow / underflow prediction, optimal pre-scaling.

:class:`BoundBackend` runs the *same* operation order as the emulator (the transform code is shared,
see :mod:`errbound.emulate._ops`) on pairs ``(v, r)``: ``v`` is the float64 value of the
exact-arithmetic intermediate (with the rounded constants the emulator uses) and ``r`` a rigorous
bound on ``|emulated - v|``. For each operation with pre-rounding exact result ``s`` of the
emulator, ``|s - v| <= rho`` (``rho`` = propagated radii, plus ``2**-52 |v|``-type terms for float64's
own rounding of ``v``, exact from TwoSum / TwoProduct), and after rounding into ``fmt`` with unit roundoff ``u``:
``r = rho + u (|v| + rho) + tiny``, or ``r = 0`` when ``rho = 0`` and ``v`` is representable (the
operation is then exact) (``tiny`` = half the least subnormal, or the least normal
without subnormals; twice ``u`` and ``tiny`` for directed and stochastic modes). Radii are
inflated by ``1 + 2**-40`` to absorb float64 rounding of the bound computation itself.

Overflow of one rounding happens exactly when ``|s| >= T`` (or ``> T``): ``T = max + ulp(max)/2``
for round to nearest (:func:`overflow_threshold`; the tie goes up when the significand of ``max``
is odd, e.g. fp16: 65520 overflows, 65519.99 rounds to 65504; OCP E4M3FN: 464 rounds to 448). A
component is a *certain* overflow when ``|v| - rho`` is past ``T``, *possible* when ``|v| + rho`` is.
The prediction is certain when some operation certainly overflows, or none possibly does. Only
inputs whose intermediates come within ``rho`` (a few units of rounding) of ``T`` are uncertain;
those are decided by running the emulator (``resolve=True``) and reported as such.

Underflow: an intermediate whose exact value is nonzero and below the least normal number loses
relative accuracy (below half the least subnormal it flushes to zero); these are counted per
stage, and a histogram of binary exponents is kept so that the effect of a power-of-two
pre-scaling ``2**e`` on every count is known without rerunning (:func:`optimal_prescale_exponent`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from errbound.emulate._config import FFTConfig, as_fft_config
from errbound.emulate._ops import Backend, Trace
from errbound.emulate.bluestein import bluestein_length
from errbound.emulate.transforms import prepare, run_transform
from errbound.arith import two_prod, two_sum
from errbound.errors import ErrboundError
from errbound.formats import Format, get_format
from errbound.rounding import round_to

__all__ = [
    "overflow_threshold", "BoundBackend", "BoundStage", "MagnitudeReport", "OverflowPrediction", "PrescaleChoice",
    "max_intermediate", "predict_overflow", "optimal_prescale_exponent", "largest_safe_resolution",
]

_INFLATE = 1.0 + 2.0**-40
_EXP_LO, _EXP_HI = -1100, 1100  # histogram range of binary exponents (float64's with margin)


def overflow_threshold(fmt: Format | str, mode: str = "rne") -> tuple[float, bool]:
    """``(T, inclusive)``: rounding ``s`` into ``fmt`` overflows iff ``|s| >= T`` (inclusive) or
    ``|s| > T``. Round to nearest only (``rne``, ``rna``): ``T = max + 2**(emax - t)``; with ``rne``
    the tie goes to the even neighbour, which is above ``max`` exactly when ``max``'s significand
    is odd (no reserved top codes)."""
    fmt = get_format(fmt)
    if mode not in ("rne", "rna"):
        raise ErrboundError(
            f"overflow prediction supports round-to-nearest modes 'rne' and 'rna', got {mode!r}; directed modes "
            "overflow asymmetrically"
        )
    T = float(fmt.max_exact + 2.0 ** (fmt.emax - fmt.t))
    max_sig = 2**fmt.t - 1 - fmt.reserved_top
    inclusive = mode == "rna" or max_sig % 2 == 1
    return T, inclusive


@dataclasses.dataclass
class BoundStage:
    """Exact magnitudes of one stage. ``max_abs``: largest |component| of the exact intermediates;
    ``max_upper``: largest ``|v| + rho`` (the emulated pre-rounding value cannot exceed it);
    ``certain_overflow`` / ``possible_overflow``: see the module docstring; ``underflow_count``:
    nonzero exact results below the least normal; ``count``: results."""

    name: str
    max_abs: float = 0.0
    max_upper: float = 0.0
    certain_overflow: bool = False
    possible_overflow: bool = False
    underflow_count: int = 0
    count: int = 0
    exp_hist: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(_EXP_HI - _EXP_LO, dtype=np.int64), repr=False)

    def as_dict(self) -> dict[str, object]:
        d = dataclasses.asdict(self)
        d.pop("exp_hist")
        return d


class BoundBackend(Backend):
    """(value, radius) arithmetic in the emulator's operation order. Component arrays are complex128
    arrays encoding ``v + i r`` so that the shared transform code can index, stack and reshape them."""

    def __init__(self, config: FFTConfig, histogram: bool = False):
        self.config = config
        self.histogram = histogram
        fmt = config.fmt
        self.T, self.inclusive = overflow_threshold(fmt, config.mode)
        directed = not config.nearest
        self.u = fmt.u * (2 if directed else 1)
        tiny = fmt.min_subnormal / 2 if fmt.subnormals else fmt.min_normal
        self.tiny = tiny * (2 if directed else 1)
        self.min_normal = fmt.min_normal
        self.stages: list[BoundStage] = [BoundStage("start")]

    def stage(self, name: str) -> None:
        self.stages.append(BoundStage(name))

    def _finish(self, v: np.ndarray, rho: np.ndarray) -> np.ndarray:
        a = np.abs(v)
        rho = rho * _INFLATE
        hi = a + rho
        rec = self.stages[-1]
        if a.size:
            max_hi = float(hi.max())
            cmp = np.greater_equal if self.inclusive else np.greater
            if cmp(max_hi, self.T):  # only then can some component be past the threshold
                rec.possible_overflow = True
                rec.certain_overflow |= bool(np.any(cmp(a - rho, self.T)))
            rec.max_abs = max(rec.max_abs, float(a.max()))
            rec.max_upper = max(rec.max_upper, max_hi)
            if float(a.min()) < self.min_normal:
                rec.underflow_count += int(np.count_nonzero((a > 0) & (a < self.min_normal)))
            nz = a[a > 0] if self.histogram else a[:0]
            if nz.size:
                _, e = np.frexp(nz)  # nz = f 2**e, f in [0.5, 1): binary exponent e - 1
                rec.exp_hist += np.bincount(np.clip(e - 1 - _EXP_LO, 0, _EXP_HI - _EXP_LO - 1), minlength=_EXP_HI - _EXP_LO)
            rec.count += a.size
        hi *= self.u * _INFLATE
        hi += rho * _INFLATE + self.tiny * _INFLATE
        r = hi  # = (rho + u (|v| + rho) + tiny) * inflate
        known = np.flatnonzero(rho == 0)
        if known.size:  # known exactly: the rounding is exact too when v is representable
            vk = v.reshape(-1)[known]
            r.reshape(-1)[known[round_to(vk, self.config.fmt, "rne") == vk]] = 0.0
        out = np.empty(v.shape, dtype=np.complex128)
        out.real = v
        out.imag = r
        return out

    def cast(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return self._finish(x, np.zeros_like(x))

    # float64's own errors come exactly from TwoSum / TwoProduct (no under/overflow in our ranges)
    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        v, e = two_sum(a.real, b.real)
        return self._finish(v, a.imag + b.imag + np.abs(e))

    def mul(self, a: np.ndarray, c: np.ndarray) -> np.ndarray:
        v, e = two_prod(a.real, np.broadcast_to(c, np.broadcast_shapes(np.shape(c), a.shape)))
        return self._finish(v, a.imag * np.abs(c) + np.abs(e))

    def fma(self, a: np.ndarray, c: np.ndarray, b: np.ndarray) -> np.ndarray:
        p, e1 = two_prod(a.real, np.broadcast_to(c, np.broadcast_shapes(np.shape(c), a.shape)))
        v, e2 = two_sum(p, b.real)
        return self._finish(v, a.imag * np.abs(c) + b.imag + np.abs(e1) + np.abs(e2))

    def neg(self, a: np.ndarray) -> np.ndarray:
        return -np.conj(a)

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape, dtype=np.complex128)


@dataclasses.dataclass
class MagnitudeReport:
    """Per-stage exact magnitudes of a transform (see :class:`BoundStage`)."""

    fmt: str
    threshold: float
    inclusive: bool
    stages: list[BoundStage]

    @property
    def max_intermediate(self) -> float:
        """Largest |component| of any exact intermediate (input cast and normalization included)."""
        return max((s.max_abs for s in self.stages), default=0.0)

    @property
    def max_upper(self) -> float:
        return max((s.max_upper for s in self.stages), default=0.0)

    @property
    def argmax_stage(self) -> str:
        return max(self.stages, key=lambda s: s.max_abs).name

    @property
    def certain_overflow(self) -> bool:
        return any(s.certain_overflow for s in self.stages)

    @property
    def possible_overflow(self) -> bool:
        return any(s.possible_overflow for s in self.stages)

    @property
    def underflow_count(self) -> int:
        return sum(s.underflow_count for s in self.stages)

    @property
    def count(self) -> int:
        return sum(s.count for s in self.stages)

    def as_dict(self) -> dict[str, object]:
        return {
            "fmt": self.fmt, "threshold": self.threshold, "inclusive": self.inclusive,
            "max_intermediate": self.max_intermediate, "argmax_stage": self.argmax_stage,
            "certain_overflow": self.certain_overflow, "possible_overflow": self.possible_overflow,
            "underflow_count": self.underflow_count, "count": self.count,
            "stages": [s.as_dict() for s in self.stages],
        }


@dataclasses.dataclass(frozen=True)
class OverflowPrediction:
    """``overflow``: the emulated transform produces inf (NaN in formats without inf).
    ``certain``: decided by the magnitude bands alone; else decided by running the emulator
    (``resolved``) or, with ``resolve=False``, a best guess from the exact values.
    ``stage``: first stage that (certainly or possibly) overflows."""

    overflow: bool
    certain: bool
    resolved: bool
    stage: str | None
    max_intermediate: float
    threshold: float
    margin: float  # threshold / max_intermediate: > 1 is headroom, log2 of it bounds the pre-scale

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class PrescaleChoice:
    """Optimal pre-scale ``2**exponent``: the largest exponent with no possible overflow (so the
    least underflow, since counts only decrease as the exponent grows). ``underflow_count`` and
    ``underflow_count_unscaled`` count nonzero exact intermediates below the least normal with and
    without the pre-scale; ``overflow_free`` is False only if no exponent in the searched range
    avoids overflow (e.g. a normalization stage that overflows whatever the scale)."""

    exponent: int
    overflow_free: bool
    underflow_count: int
    underflow_count_unscaled: int
    max_intermediate_scaled: float

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


_Axes = Sequence[int] | int | None


def _bound_run(x: object, config: FFTConfig, transform: str, axes: _Axes, norm: str | None, n,
               histogram: bool = False) -> MagnitudeReport:
    arr, ax, norm_, lengths = prepare(transform, x, axes, norm, n)
    be = BoundBackend(config, histogram=histogram)
    run_transform(transform, arr, be, ax, norm_, lengths)
    return MagnitudeReport(config.fmt.name, be.T, be.inclusive, [s for s in be.stages if s.count])


def max_intermediate(x: object, config: FFTConfig | Format | str, *, transform: str = "rfftn", axes: _Axes = None,
                     norm: str | None = "backward", n=None) -> MagnitudeReport:
    """Exact per-stage maximum magnitudes of ``transform`` (``fft``, ``ifft``, ``rfft``, ``irfft``,
    ``fftn``, ``ifftn``, ``rfftn``, ``irfftn``; numpy argument meanings) in the emulator's operation
    order. ``report.max_intermediate`` is the largest; for the unnormalized forward transform of
    real data it is at least ``|sum(v)| = m |mean(v)|`` (the DC term)."""
    return _bound_run(x, as_fft_config(config), transform, axes, norm, n)


def predict_overflow(x: object, config: FFTConfig | Format | str, *, transform: str = "rfftn", axes: _Axes = None,
                     norm: str | None = "backward", n=None, resolve: bool = True) -> OverflowPrediction:
    """Does the emulated ``transform`` of ``x`` overflow? Decided from exact magnitudes with rigorous
    rounding bands; the rare inputs within rounding distance of the threshold are decided by the
    emulator when ``resolve`` (``certain=False, resolved=True``)."""
    cfg = as_fft_config(config)
    rep = _bound_run(x, cfg, transform, axes, norm, n)
    mx = rep.max_intermediate
    margin = math.inf if mx == 0 else rep.threshold / mx
    certain_stage = next((s.name for s in rep.stages if s.certain_overflow), None)
    possible_stage = next((s.name for s in rep.stages if s.possible_overflow), None)
    if certain_stage is not None:
        return OverflowPrediction(True, True, False, certain_stage, mx, rep.threshold, margin)
    if possible_stage is None:
        return OverflowPrediction(False, True, False, None, mx, rep.threshold, margin)
    if resolve:
        if cfg.fmt.overflow == "saturate":
            raise ErrboundError(
                f"{cfg.fmt.name} saturates instead of overflowing, so the emulator cannot decide a marginal case; "
                "pass resolve=False"
            )
        from errbound.emulate import transforms

        trace = Trace()
        kwargs = {"s": n} if transform == "irfftn" else ({"n": n} if transform == "irfft" else {})
        key = "axes" if transform.endswith("n") else "axis"
        if axes is not None:
            kwargs[key] = axes
        getattr(transforms, transform)(x, cfg, norm=norm, trace=trace, **kwargs)
        return OverflowPrediction(trace.overflow, False, True, trace.first_overflow_stage or possible_stage, mx,
                                  rep.threshold, margin)
    guess = mx >= rep.threshold if rep.inclusive else mx > rep.threshold
    return OverflowPrediction(bool(guess), False, False, possible_stage, mx, rep.threshold, margin)


def _hist_underflow(rep: MagnitudeReport, e: int, min_normal: float) -> int:
    """Nonzero exact intermediates below the least normal after scaling by 2**e (from the exponent
    histogram: binary exponent k scaled is k + e; below normal iff k + e < log2(min_normal))."""
    emin = int(math.log2(min_normal))  # min_normal is an exact power of two
    total = 0
    for s in rep.stages:
        cut = emin - e - _EXP_LO  # bins with k < emin - e
        if cut > 0:
            total += int(s.exp_hist[: min(cut, s.exp_hist.size)].sum())
    return total


def optimal_prescale_exponent(x: object, config: FFTConfig | Format | str, *, transform: str = "rfftn",
                              axes: _Axes = None, norm: str | None = "backward", n=None,
                              search: int = 64) -> PrescaleChoice:
    """The exponent ``e`` such that transforming ``x * 2**e`` (and undoing ``2**-e`` afterwards,
    exactly in a wider format) cannot overflow and underflows least. Scaling by a power of two
    scales every exact intermediate by ``2**e`` (the pre-scaled input is what gets rounded), so
    ``e`` is the largest exponent whose rigorous magnitude bands stay below the overflow
    threshold; it is verified by a second band run on ``x * 2**e`` (decremented if needed)."""
    cfg = as_fft_config(config)
    arr = np.asarray(x)
    rep0 = _bound_run(arr, cfg, transform, axes, norm, n, histogram=True)
    up = rep0.max_upper
    mn = cfg.fmt.min_normal
    if up == 0:
        return PrescaleChoice(0, True, 0, 0, 0.0)
    # first guess from the unscaled bands, then exact checks: up while safe, down until safe
    e = math.floor(math.log2(rep0.threshold / up))

    def run(k: int) -> MagnitudeReport | None:
        scaled = arr * 2.0**k
        if abs(k) > 2000 or not np.all(np.isfinite(scaled)):
            return None
        return _bound_run(scaled, cfg, transform, axes, norm, n)

    rep = run(e)
    tries = 0
    if rep is not None and not rep.possible_overflow:
        while tries < search:
            nxt = run(e + 1)
            if nxt is None or nxt.possible_overflow:
                break
            e, rep = e + 1, nxt
            tries += 1
        return PrescaleChoice(e, True, rep.underflow_count, rep0.underflow_count, rep.max_intermediate)
    while tries < search:
        e -= 1
        tries += 1
        rep = run(e)
        if rep is not None and not rep.possible_overflow:
            return PrescaleChoice(e, True, rep.underflow_count, rep0.underflow_count, rep.max_intermediate)
    return PrescaleChoice(e, False, _hist_underflow(rep0, e, mn), rep0.underflow_count, up * 2.0**e)


def _growth(cfg: FFTConfig) -> float:
    """Per-stage growth factor ``g`` of a modulus bound, beyond the exact factor 2 of a butterfly.

    A rounded complex product (either cmul kind) has componentwise error at most
    ``2 u (1 + u) (|ar c| + |ai d|)`` (resp. ``|ar d| + |ai c|``), a vector of modulus at most
    ``2 sqrt(2) u (1 + u) |a| |w| <= 4 u |a| |w|``; the rounded twiddle has ``|w^| <= 1 + sqrt(2) u_c``;
    the butterfly sum rounds each component, multiplying the modulus by at most ``1 + u``. So one
    stage maps a modulus bound ``B`` to ``(B + B (1 + 4u)(1 + 1.5 u_c)) (1 + u) = 2 B g``.
    Directed/stochastic modes double ``u``. Subnormal absolute errors are added separately.
    """
    u = cfg.fmt.u * (1 if cfg.nearest else 2)
    uc = cfg.const_fmt.u
    return (1.0 + ((1 + 4 * u) * (1 + 1.5 * uc) - 1) / 2) * (1 + u)


def _pow2_transform_bound(n: int, cfg: FFTConfig) -> float:
    """Bound on the growth of the modulus through an emulated length-n transform (all stages)."""
    g = _growth(cfg)
    if n & (n - 1) == 0:
        return n * g ** max(1, int(math.log2(n)))
    M = bluestein_length(n)
    t = int(math.log2(M))
    # chirp (x g), forward FFT of n nonzeros (<= n growth), kernel (|K| <= (2n-1)/M <= 1),
    # inverse FFT (<= M growth, partial sums), chirp out: rigorous and loose
    return n * M * g ** (2 * t + 3)


def largest_safe_resolution(magnitude: float, fmt: Format | str, dim: int, *, transform: str = "rfftn",
                            norm: str | None = "backward", power_of_two: bool = True,
                            config: FFTConfig | None = None, max_resolution: int = 2**20) -> int:
    """Largest ``s`` such that the emulated ``transform`` (``rfftn`` of real data, or ``fftn`` of
    complex data with ``|Re|, |Im| <= magnitude``) on an ``s**dim`` grid cannot overflow for ANY
    input with ``|v| <= magnitude``. Returns 0 if even ``s = 1`` is unsafe.

    Worst case: every exact intermediate of a length-n transform has modulus ``<= n max|x|``
    (partial DFT sums; the DC term of a constant input attains it), and rounding inflates this by
    at most :func:`_growth` per stage. With ``scaling="after"`` the normalization does not help
    (cuFFT/torch behaviour); with ``scaling="prescale"`` the pre-scaled input is bounded instead.
    Non-powers of two (``power_of_two=False``) use a loose rigorous Bluestein bound.
    """
    cfg = config if config is not None else FFTConfig(fmt=get_format(fmt))
    if config is not None and fmt is not None and get_format(fmt) != cfg.fmt:
        raise ErrboundError(f"fmt {get_format(fmt).name} differs from config.fmt {cfg.fmt.name}; pass one of them")
    if not (isinstance(magnitude, (int, float)) and math.isfinite(magnitude) and magnitude > 0):
        raise ErrboundError(f"magnitude must be a positive finite number, got {magnitude!r}")
    if not isinstance(dim, int) or dim < 1:
        raise ErrboundError(f"dim must be a positive integer, got {dim!r}")
    if transform not in ("rfftn", "fftn"):
        raise ErrboundError(f"largest_safe_resolution supports transform 'rfftn' or 'fftn', got {transform!r}")
    from errbound.emulate._config import check_norm

    norm = check_norm(norm)
    T, inclusive = overflow_threshold(cfg.fmt, cfg.mode)
    g = _growth(cfg)

    tiny = cfg.fmt.min_subnormal if cfg.fmt.subnormals else cfg.fmt.min_normal

    def safe(s: int) -> bool:
        m = s**dim
        mag = magnitude * (1.0 if transform == "rfftn" else math.sqrt(2.0))
        if cfg.scaling == "prescale" and norm != "backward":
            f = 1.0 / m if norm == "forward" else 1.0 / math.sqrt(m)
            mag *= 2.0 ** math.ceil(math.log2(f))  # the power of two 2**-e >= f actually applied
        if magnitude * (1 + cfg.fmt.u) >= T:  # the input cast itself
            return False
        per_axis = _pow2_transform_bound(s, cfg)
        stages = dim * (2 * max(1, math.ceil(math.log2(max(s, 2)))) + 8)
        # cast, each axis, two split steps per axis; absolute subnormal errors: <= 4 tiny per op and stage
        bound = mag * (1 + cfg.fmt.u) * per_axis**dim * g ** (2 * dim) + 4 * tiny * stages * m
        return bound < T

    best = 0
    if power_of_two:
        s = 1
        while s <= max_resolution and safe(s):
            best = s
            s *= 2
        return best
    s = 1
    while s <= max_resolution and s <= 4 * best + 8:
        if safe(s):
            best = s
        s += 1
    return best
