"""Arithmetic backends the emulated transforms run on.

The transform algorithms (:mod:`fft_radix2`, :mod:`bluestein`, :mod:`real`) are written once,
against the small interface of :class:`Backend`, and run on two backends:

* :class:`RoundedBackend`: the emulation. A complex array is a real array ``Z`` of shape
  ``(2, *batch, n)`` (``Z[0]`` real parts, ``Z[1]`` imaginary parts). Every operation forms the
  exact result (or a round-to-odd stand-in for it, see below) and rounds it once into the working
  format, vectorised over the whole stage. The rounding itself is done by an *arithmetic*:
  :class:`NumpyArithmetic` (float64 numpy arrays, :func:`errbound.rounding.round_to`; every rounding
  mode) or :class:`errbound.train.emulated.TorchArithmetic` (torch tensors on any device, round to
  nearest even). Both return the correctly rounded result of the same exact operation, so the two
  engines agree bit for bit (the algorithms touch arrays only through ``be.xp`` and the methods
  below).
* :class:`errbound.emulate.magnitude.BoundBackend`: exact magnitudes with rigorous rounding
  bands (same operation order), used to predict overflow.

Exactness of one rounding. Products of a working-format value (t bits) and a constant (t_c bits)
are exact in float64 when ``t + t_c <= 53`` (checked by :class:`FFTConfig`); float64 never
under- or overflows for the formats errbound allows (exponents within float64's). A sum of two
working-format values rounded to nearest from its float64 sum is the correctly rounded exact sum
when ``2 t + 1 <= 53`` (double rounding is innocuous: Figueroa, "When is double rounding
innocuous?", SIGNUM 1995). Every other sum (fused multiply-add, mixed widths, directed and
stochastic modes, wide custom formats) is first computed in float64 with *round-to-odd* (TwoSum
gives the exact error; an inexact result with an even last bit is moved one float64 ulp towards
the exact value), and round-to-odd at 53 bits followed by any rounding to ``t <= 51`` bits equals
the direct correct rounding (Boldo and Melquiond, IEEE TC 57(4), 2008). Stochastic rounding from
the round-to-odd value draws its probability from a 53-bit approximation of the exact value.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from errbound.emulate._config import FFTConfig
from errbound.formats import Format
from errbound.rounding import round_to

__all__ = ["Backend", "RoundedBackend", "Trace", "StageRecord", "sum_round_to_odd", "NumpyArithmetic", "NUMPY"]


@dataclasses.dataclass
class StageRecord:
    """One stage of an emulated transform: the largest |component| it produced, whether it
    produced a non-finite value (overflow: inf, or NaN for formats without infinities), and the
    number of nonzero results below the normal range (gradual underflow)."""

    name: str
    max_abs: float = 0.0
    nonfinite: bool = False
    subnormal_count: int = 0
    count: int = 0


class Trace:
    """Collects :class:`StageRecord` s; pass ``trace=Trace()`` to an emulated transform.

    ``trace.overflow`` is True when some operation produced inf/NaN; ``trace.max_abs`` is the
    largest finite |component| of any rounded intermediate (input cast included).
    """

    def __init__(self) -> None:
        self.stages: list[StageRecord] = []

    def _begin(self, name: str) -> StageRecord:
        rec = StageRecord(name)
        self.stages.append(rec)
        return rec

    @property
    def overflow(self) -> bool:
        return any(s.nonfinite for s in self.stages)

    @property
    def max_abs(self) -> float:
        return max((s.max_abs for s in self.stages), default=0.0)

    @property
    def first_overflow_stage(self) -> str | None:
        return next((s.name for s in self.stages if s.nonfinite), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "overflow": self.overflow,
            "max_abs": self.max_abs,
            "stages": [dataclasses.asdict(s) for s in self.stages],
        }


def sum_round_to_odd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` in float64 rounded to odd (exact when representable; else the neighbour with an
    odd last significand bit). Both inputs finite float64; the exact error comes from TwoSum
    (Knuth), so the float64 sum itself must not overflow."""
    s = a + b
    bv = s - a
    err = (a - (s - bv)) + (b - bv)
    fix = (err != 0) & ((s.view(np.int64) & 1) == 0) & np.isfinite(s)
    if np.any(fix):
        s = s.copy()
        s[fix] = np.nextafter(s[fix], np.where(err[fix] > 0, np.inf, -np.inf))
    return s


def _stack_consts(ndim: int, *consts: np.ndarray) -> np.ndarray:
    """Stack constants on a new leading axis that lines up with stacked data of rank ``ndim``."""
    arrs = np.broadcast_arrays(*[np.asarray(c, dtype=np.float64) for c in consts])
    shape = arrs[0].shape
    return np.stack(arrs).reshape((len(arrs),) + (1,) * (ndim - len(shape)) + shape)


class Backend:
    """Interface the transform algorithms use. Arrays are opaque "component arrays" the
    algorithm may only index, slice, reshape, stack and concatenate (numpy); all arithmetic,
    negation included, goes through these methods. Complex arrays stack real and imaginary
    component arrays on axis 0."""

    config: FFTConfig
    #: array namespace the algorithms use for stack / concatenate / moveaxis (numpy or torch)
    xp = np

    def copy(self, a):  # type: ignore[no-untyped-def]
        return a.copy()

    def flip_last(self, a):  # type: ignore[no-untyped-def]
        """``a[..., ::-1]`` (torch tensors have no negative steps)."""
        return a[..., ::-1]

    def cast(self, x: np.ndarray) -> np.ndarray:  # data (float64, layout (2, ...)) -> working format
        raise NotImplementedError

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def mul(self, a: np.ndarray, c: np.ndarray) -> np.ndarray:  # c: constant float64 array
        raise NotImplementedError

    def fma(self, a: np.ndarray, c: np.ndarray, b: np.ndarray) -> np.ndarray:  # a*c + b, once rounded
        raise NotImplementedError

    def neg(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def stage(self, name: str) -> None:
        """Mark the start of a named stage (bookkeeping only)."""

    # ---- complex helpers built on the primitives (same operation order on every backend) ----
    def conj(self, z: np.ndarray) -> np.ndarray:
        return self.xp.stack([z[0], self.neg(z[1])])

    def times_i(self, z: np.ndarray, sign: int) -> np.ndarray:
        """``z * (sign * i)`` exactly: (re, im) -> (-sign im, sign re)."""
        if sign > 0:
            return self.xp.stack([self.neg(z[1]), z[0]])
        return self.xp.stack([z[1], self.neg(z[0])])

    def cadd(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Complex add: both components rounded, one call."""
        return self.add(a, b)

    def cmul(self, z: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``z * (c + i d)`` for constants ``c, d`` (already in the constant format).

        ``fma``:  p = [fl(zi*d), fl(zi*c)];  re = fl(zr*c - p0),  im = fl(zr*d + p1).
        ``4m2a``: p = [fl(zr*c), fl(zr*d)], q = [fl(zi*d), fl(zi*c)];  re = fl(p0 - q0),
                  im = fl(p1 + q1).
        """
        zr, zi = z[0], z[1]
        st = self.xp.stack
        if self.config.cmul == "fma":
            p = self.mul(st([zi, zi]), _stack_consts(zr.ndim, d, c))
            return self.fma(st([zr, zr]), _stack_consts(zr.ndim, c, d), st([self.neg(p[0]), p[1]]))
        prods = self.mul(st([zr, zr, zi, zi]), _stack_consts(zr.ndim, c, d, d, c))
        return self.add(prods[:2], st([self.neg(prods[2]), prods[3]]))

    def scale(self, z: np.ndarray, f: float) -> np.ndarray:
        """Multiply every component by the constant ``f`` (already in the constant format)."""
        return self.mul(z, np.asarray(f, dtype=np.float64))


class NumpyArithmetic:
    """Correctly rounded arithmetic on float64 numpy arrays (every mode of :func:`round_to`).

    Arrays hold values representable in the format they were rounded into. ``add``/``mul``/``fma`` form
    the exact result (see the module docstring) and round it once; ``matmul`` and ``sum_terms`` are the
    tensor-core model of :mod:`errbound.arith` (exact products, left-to-right accumulation from +0)."""

    xp = np
    name = "numpy"

    def asarray(self, a):  # type: ignore[no-untyped-def]
        return np.asarray(a, dtype=np.float64)

    def to_numpy(self, a) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.asarray(a, dtype=np.float64)

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape)

    def copy(self, a: np.ndarray) -> np.ndarray:
        return a.copy()

    def flip_last(self, a: np.ndarray) -> np.ndarray:
        return a[..., ::-1]

    def round(self, x, fmt: Format, mode: str = "rne", rng=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        return round_to(np.asarray(x, dtype=np.float64), fmt, mode=mode, rng=rng)

    def add(self, a, b, fmt: Format, mode: str = "rne", rng=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        with np.errstate(invalid="ignore"):  # inf - inf after an overflow gives NaN, as hardware does
            if mode in ("rne", "rna") and 2 * fmt.t + 1 <= 53:  # double rounding innocuous (Figueroa)
                return self.round(a + b, fmt, mode, rng)
            return self.round(sum_round_to_odd(a, b), fmt, mode, rng)

    def mul(self, a, c, fmt: Format, mode: str = "rne", rng=None, *, const_fmt: Format | None = None) -> np.ndarray:  # type: ignore[no-untyped-def]
        with np.errstate(invalid="ignore"):  # inf * 0 after an overflow gives NaN, as hardware does
            return self.round(a * c, fmt, mode, rng)  # exact in float64: t + t_c <= 53

    def fma(self, a, c, b, fmt: Format, mode: str = "rne", rng=None, *, const_fmt: Format | None = None) -> np.ndarray:  # type: ignore[no-untyped-def]
        with np.errstate(invalid="ignore"):
            return self.round(sum_round_to_odd(a * c, b), fmt, mode, rng)

    def matmul(self, a, b, input_fmt: Format, acc_fmt: Format, mode: str = "rne") -> np.ndarray:  # type: ignore[no-untyped-def]
        """``a @ b`` over the last axis of ``a`` (any rank) with ``b`` of shape (k, n): :func:`errbound.arith.matmul`."""
        from errbound import arith

        return arith.matmul(a[..., None, :], b, input_fmt, acc_fmt, acc_mode=mode)[..., 0, :]

    def product(self, a, b, operand_fmt: Format, fmt: Format | None, mode: str = "rne") -> np.ndarray:  # type: ignore[no-untyped-def]
        """``a * b`` for values of ``operand_fmt``: exact (``fmt`` None; 2 t <= 53) or rounded once into ``fmt``."""
        if fmt is None:
            return a * b
        from errbound import arith

        return arith.mul(a, b, fmt, mode)

    def accumulate(self, acc, term, fmt: Format, mode: str = "rne") -> np.ndarray:  # type: ignore[no-untyped-def]
        """``fl(acc + term)`` rounded once into ``fmt`` (:func:`errbound.arith.add`)."""
        from errbound import arith

        return arith.add(acc, term, fmt, mode)

    def stats(self, out, fmt: Format) -> tuple[float, bool, int, int]:  # type: ignore[no-untyped-def]
        """(largest finite |value|, any non-finite, count of nonzero subnormals, count)."""
        a = np.abs(out)
        finite = np.isfinite(a)
        nonfinite = not bool(finite.all())
        if nonfinite:
            a = a[finite]
        mx = float(a.max()) if a.size else 0.0
        sub = int(np.count_nonzero((a > 0) & (a < fmt.min_normal))) if a.size else 0
        return mx, nonfinite, sub, int(np.size(out))

    def all_finite(self, a) -> bool:  # type: ignore[no-untyped-def]
        return bool(np.all(np.isfinite(a)))


NUMPY = NumpyArithmetic()


class RoundedBackend(Backend):
    """The emulation: every result rounded once into ``config.fmt`` (see the module docstring) by
    ``arithmetic`` (default :data:`NUMPY`)."""

    def __init__(self, config: FFTConfig, rng: np.random.Generator | None = None, trace: Trace | None = None,
                 arithmetic=None):  # type: ignore[no-untyped-def]
        self.config = config
        self.fmt: Format = config.fmt
        self.mode = config.mode
        self.rng = rng
        self.trace = trace
        self.arith = NUMPY if arithmetic is None else arithmetic
        self.xp = self.arith.xp
        self._record = trace._begin("start") if trace is not None else None
        if self.arith is not NUMPY:
            self.copy = self.arith.copy  # type: ignore[method-assign]
            self.flip_last = self.arith.flip_last  # type: ignore[method-assign]

    def stage(self, name: str) -> None:
        if self.trace is not None:
            self._record = self.trace._begin(name)

    def _note(self, out):  # type: ignore[no-untyped-def]
        rec = self._record
        if rec is not None:
            mx, nonfinite, sub, count = self.arith.stats(out, self.fmt)
            rec.nonfinite = rec.nonfinite or nonfinite
            rec.max_abs = max(rec.max_abs, mx)
            rec.subnormal_count += sub
            rec.count += count
        return out

    def cast(self, x):  # type: ignore[no-untyped-def]
        return self._note(self.arith.round(self.arith.asarray(x), self.fmt, self.mode, self.rng))

    def add(self, a, b):  # type: ignore[no-untyped-def]
        return self._note(self.arith.add(a, b, self.fmt, self.mode, self.rng))

    def mul(self, a, c):  # type: ignore[no-untyped-def]
        return self._note(self.arith.mul(a, c, self.fmt, self.mode, self.rng, const_fmt=self.config.const_fmt))

    def fma(self, a, c, b):  # type: ignore[no-untyped-def]
        return self._note(self.arith.fma(a, c, b, self.fmt, self.mode, self.rng, const_fmt=self.config.const_fmt))

    def neg(self, a):  # type: ignore[no-untyped-def]
        return -a

    def zeros(self, shape: tuple[int, ...]):  # type: ignore[no-untyped-def]
        return self.arith.zeros(shape)
