"""Correctly rounded emulation of binary floating-point formats.

``round_to(x, fmt, mode)`` maps float64 (or float32/float16, real or complex) values to the value of
``fmt`` selected by the rounding ``mode``, computed with *one* rounding from the exact input value
(no detour through float32, so no double rounding), and returns it as float64 (complex128).

Algorithm (generic path). For finite ``x != 0`` write ``|x| = f * 2**E`` with ``f in [0.5, 1)``
(:func:`numpy.frexp`: exact, never a floating log2), so ``e = E - 1`` is the exponent of ``|x|``.
The spacing of ``fmt`` around ``|x|`` is the quantum ``2**q`` with

* ``q = max(e, emin) - (t - 1)`` with subnormals (gradual underflow),
* ``q = e - (t - 1)`` for ``e >= emin`` and ``q = emin`` below it without subnormals (the only
  candidates are then ``0`` and ``2**emin``).

``y = |x| * 2**-q`` is exact (a power-of-two scaling of a float64 whose result stays normal or is
exactly representable), ``n = floor(y)`` and ``r = y - n`` are exact; the mode decides from ``r`` (and
the parity of ``n``, the sign of ``x``, or a uniform draw) whether the magnitude is ``n`` or ``n + 1``
quanta. The result ``(n + up) * 2**q`` may carry into the next binade, which is still exact.
Overflow is judged on that unbounded-exponent result, as IEEE 754 section 7.4 prescribes: a result
above the largest finite value becomes inf, the largest finite value, or NaN according to the mode
and the format's overflow policy (see :func:`_overflow_value`).

Fast path (round-to-nearest-even, ``t <= 51``): Veltkamp's splitting ``c = RN(C x)``,
``hi = RN(c - RN(c - x))`` with ``C = 2**(53 - t) + 1`` rounds ``x`` to ``t`` significant bits, to nearest
with ties to even (Dekker 1971; Boldo, "Pitfalls of a full floating-point proof", IJCAR 2006), in three
float64 operations. It is exact for nonzero magnitudes in ``[2**emin, max]``; the few entries with a subnormal result, an overflow or inf are recomputed by the
generic path. Both paths run on a thread pool (numpy releases the GIL), and the fast path is tested against
the generic one on every midpoint of every fp16 and bf16 binade.

Stochastic rounding (``sr``) rounds the magnitude up with probability ``r`` (the distance to the lower
neighbour in quanta) using a uniform draw on a 2**-53 grid; ``r`` is a multiple of 2**-52 in the normal
range, so the probability is exact there (within 2**-53 in the subnormal range). Overflow in ``sr``
follows the round-to-nearest policy (inf, saturate or NaN).

Signed zeros are kept (the sign of ``x`` is copied onto the result), NaN propagates, ``+-inf`` maps to
``+-inf`` in formats with infinities, to ``+-max`` with the saturate policy and to NaN otherwise.

Exact rationals (scalar path, :func:`round_rational`). A Python ``int`` of any size or a
:class:`fractions.Fraction` ``q`` (also beyond float64's range, where ``float(q)`` would overflow or
round first) is rounded with the same quantum rule in exact integer arithmetic: ``e = floor(log2 |q|)``
from bit lengths, ``y = |q| / 2**q_exp``, ``n = floor(y)``, ``r = y - n`` as rationals, then the mode's
decision and the overflow rule above. :func:`round_to` takes this path for Python ints that float64 does not
hold exactly and for Fractions, so ``round_to(2**60 + 2**36 + 1, "fp32")`` is rounded once (not through
``float()``) and ``round_to(2**2000, "fp16")`` is ``inf``; :mod:`errbound.arith` uses it for the few
operands whose error-free transformation would over- or underflow float64.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from errbound.errors import ErrboundError
from errbound.formats import Format, get_format

__all__ = ["ROUNDING_MODES", "RoundingMode", "round_to", "round_rational", "as_generator",
           "check_subnormals_supported"]

RoundingMode = Literal["rne", "rna", "rz", "ru", "rd", "sr"]
ROUNDING_MODES: tuple[str, ...] = ("rne", "rna", "rz", "ru", "rd", "sr")

_EXP_MASK = np.uint64(0x7FF0000000000000)
_ABS_MASK = np.uint64(0x7FFFFFFFFFFFFFFF)
_CHUNK = 1 << 17
_PARALLEL_MIN = 1 << 18
_ACCEPTED_REAL = (np.float64, np.float32, np.float16)
_ACCEPTED_COMPLEX = (np.complex128, np.complex64)


def check_subnormals_supported() -> None:
    """Raise if the process flushes float64 subnormals to zero (e.g. a library set FTZ/DAZ).

    Subnormal emulation relies on IEEE gradual underflow of float64 itself.
    """
    tiny = np.float64(2.0**-1074)
    if not (tiny > 0 and np.float64(2.0**-1022) / 2 == np.float64(2.0**-1023)):
        raise ErrboundError(
            "float64 subnormals are flushed to zero in this process (FTZ/DAZ is on, often set by a fast-math "
            "library); errbound's rounding emulation needs IEEE gradual underflow: unset FTZ/DAZ"
        )


def _floor_log2(num: int, den: int) -> int:
    """``floor(log2(num / den))`` for positive integers, exactly (bit lengths, one comparison)."""
    e = num.bit_length() - den.bit_length()
    # 2**(e-1) < num/den < 2**(e+1); decide between e - 1 and e with one integer comparison.
    if (num << -e if e < 0 else num) < (den << e if e > 0 else den):
        e -= 1
    return e


def round_rational(q: Fraction | int, fmt: Format | str, mode: RoundingMode | str = "rne",
                   draw: float | None = None, *, negative_zero: bool = False) -> float:
    """Round the exact rational ``q`` (any size, also beyond float64's range) once into ``fmt``.

    Scalar reference of :func:`round_to` in exact integer arithmetic (module docstring, "Exact
    rationals"): with ``e = floor(log2 |q|)`` the quantum is ``2**q_exp``, ``q_exp = max(e, emin) - (t - 1)``
    (``emin`` below the normal range without subnormals); ``|q| = (n + r) 2**q_exp`` with integer ``n`` and
    ``0 <= r < 1`` exactly, and the mode rounds the magnitude to ``n`` or ``n + 1`` quanta. Overflow is judged
    on that unbounded result (IEEE 754 section 7.4, per the format's policy). ``draw`` is the uniform [0, 1)
    variate of ``mode="sr"`` (up iff ``draw < r``). A zero ``q`` returns ``-0.0`` when ``negative_zero``;
    a nonzero ``q`` that rounds to zero keeps its sign. Returns the float64 value (every format value is
    one), ``+-inf`` or NaN per the format.
    """
    fmt = get_format(fmt)
    if mode not in ROUNDING_MODES:
        raise ErrboundError(f"unknown rounding mode {mode!r}; choose one of {', '.join(ROUNDING_MODES)}")
    if not isinstance(q, (int, Fraction)) or isinstance(q, bool):
        raise ErrboundError(f"round_rational takes an int or fractions.Fraction, got {type(q).__name__}")
    q = Fraction(q)
    if q == 0:
        return -0.0 if negative_zero else 0.0
    positive = q > 0
    num, den = abs(q.numerator), q.denominator
    e = _floor_log2(num, den)
    if fmt.subnormals:
        q_exp = max(e, fmt.emin) - (fmt.t - 1)
    else:
        q_exp = fmt.emin if e < fmt.emin else e - (fmt.t - 1)
    # y = |q| / 2**q_exp = num' / den' exactly
    num_s, den_s = (num, den << q_exp) if q_exp >= 0 else (num << -q_exp, den)
    n, rem = divmod(num_s, den_s)  # r = rem / den_s in [0, 1)
    if mode == "rne":
        up = 2 * rem > den_s or (2 * rem == den_s and n % 2 == 1)
    elif mode == "rna":
        up = 2 * rem >= den_s
    elif mode == "rz":
        up = False
    elif mode == "ru":
        up = rem > 0 and positive
    elif mode == "rd":
        up = rem > 0 and not positive
    else:  # sr
        if draw is None:
            raise ErrboundError("stochastic rounding of a rational needs draw=<uniform [0, 1) variate>")
        up = Fraction(draw) * den_s < rem
    mag_int = n + int(up)
    mag = Fraction(mag_int) * Fraction(2) ** q_exp
    if mag > fmt.max_exact:
        value = float(_overflow_value(mode, fmt, np.array([positive]))[0])
        return value
    value = math.ldexp(float(mag_int), q_exp)  # mag_int <= 2**t: exact
    return value if positive else -value


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    """Turn a seed or Generator into a Generator; stochastic rounding needs one explicitly."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ErrboundError(
        f"stochastic rounding needs rng=<int seed or numpy.random.Generator> for reproducibility, got {rng!r}"
    )


def _float_exact(i: int) -> bool:
    """Whether the Python int ``i`` is a float64 value (so ``float(i)`` neither rounds nor overflows)."""
    m = abs(i)
    if m < 2**53:
        return True
    return m.bit_length() <= 1024 and (m & -m).bit_length() >= m.bit_length() - 52


def _as_float_array(x: ArrayLike) -> NDArray:
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return np.asarray(float(x), dtype=np.float64)
    if isinstance(x, complex):
        return np.asarray(x, dtype=np.complex128)
    arr = np.asarray(x)
    if arr.dtype.type in _ACCEPTED_REAL:
        return arr.astype(np.float64, copy=False)
    if arr.dtype.type in _ACCEPTED_COMPLEX:
        return arr.astype(np.complex128, copy=False)
    raise ErrboundError(
        f"round_to accepts float64/float32/float16 or complex128/complex64 arrays, got dtype {arr.dtype}; "
        "convert integers explicitly with .astype(np.float64) (object arrays are not supported)"
    )


def _overflow_value(mode: str, fmt: Format, positive: NDArray) -> NDArray:
    """Value of an overflowing result with sign ``positive`` (bool array), per mode and policy.

    Round-to-nearest (and stochastic) modes overflow to inf (policy "inf"), to the largest finite
    value ("saturate") or to NaN ("nan"). Directed modes return inf only in the direction of
    rounding and the largest finite value otherwise (IEEE 754 section 7.4); with the "nan" policy
    that inf becomes NaN, with "saturate" the largest finite value.
    """
    big = {"inf": np.inf, "saturate": fmt.max, "nan": np.nan}[fmt.overflow]
    if mode in ("rne", "rna", "sr"):
        mag = np.full(positive.shape, big)
    elif mode == "rz":
        mag = np.full(positive.shape, fmt.max)
    elif mode == "ru":
        mag = np.where(positive, big, fmt.max)
    else:  # rd
        mag = np.where(positive, fmt.max, big)
    return np.where(positive, mag, -mag)


def _round_generic(x: NDArray, fmt: Format, mode: str, draws: NDArray | None) -> NDArray:
    """Exact rounding of float64 ``x`` by the frexp/floor decomposition (all modes, all formats).

    ``draws`` holds the uniform [0, 1) variates of stochastic rounding (same shape as ``x``).
    """
    ax = np.abs(x)
    finite = np.isfinite(x)
    safe = np.where(finite, ax, 0.0)
    _, big_e = np.frexp(safe)
    e = big_e.astype(np.int64) - 1
    if fmt.subnormals:
        q = np.maximum(e, fmt.emin) - (fmt.t - 1)
    else:
        q = np.where(e < fmt.emin, fmt.emin, e - (fmt.t - 1))
    y = np.ldexp(safe, -q)
    n = np.floor(y)
    frac = y - n
    if mode == "rne":
        up = (frac > 0.5) | ((frac == 0.5) & (np.fmod(n, 2.0) == 1.0))
    elif mode == "rna":
        up = frac >= 0.5
    elif mode == "rz":
        up = np.zeros(x.shape, dtype=bool)
    elif mode == "ru":
        up = (frac > 0) & (x > 0)
    elif mode == "rd":
        up = (frac > 0) & (x < 0)
    else:  # sr
        assert draws is not None
        up = draws < frac
    mag = np.ldexp(n + up, q)
    over = finite & (mag > fmt.max)
    result = np.copysign(mag, x)
    if over.any():
        result[over] = _overflow_value(mode, fmt, x[over] > 0)
    return _non_finite(result, x, finite, fmt)


def _non_finite(result: NDArray, x: NDArray, finite: NDArray, fmt: Format) -> NDArray:
    if finite.all():
        return result
    nan = np.isnan(x)
    result[nan] = np.nan
    inf = ~finite & ~nan
    if inf.any():
        if fmt.has_inf:
            result[inf] = x[inf]
        elif fmt.overflow == "saturate":
            result[inf] = np.copysign(fmt.max, x[inf])
        else:
            result[inf] = np.nan
    return result


_LOCAL = threading.local()


def _scratch(size: int) -> NDArray:
    """A per-thread float64 work buffer of at least ``size`` entries (reused across chunks)."""
    buf = getattr(_LOCAL, "buf", None)
    if buf is None or buf.size < size:
        buf = _LOCAL.buf = np.empty(max(size, _CHUNK), dtype=np.float64)
    return buf[:size]


def _rne_chunk(x: NDArray, out: NDArray, fmt: Format) -> None:
    """Round-to-nearest-even of one chunk into ``out`` by Veltkamp splitting.

    With ``C = 2**(53 - t) + 1``: ``c = RN(C x)``, ``hi = RN(c - RN(c - x))`` is ``x`` rounded to
    ``t`` significant bits, to nearest (Veltkamp; Dekker 1971; Boldo 2006 for the formal proof), and
    with float64's ties-to-even it breaks ties to even (checked on every midpoint of every fp16 and
    bf16 binade and on random ties of the other formats against the generic path, tests/test_rounding.py).
    It rounds at the value's own exponent, so entries with a subnormal (or flushed) result, and
    entries that overflow or are infinite, are recomputed by the generic path afterwards.
    """
    np.abs(x, out=out)
    special = None
    if not np.fmax.reduce(out) <= fmt.max:  # overflow or inf present (NaN propagates through the split)
        special = np.greater(out, fmt.max)
    if not np.fmin.reduce(out) >= fmt.min_normal:  # zeros or subnormal results present (cheap reduction first)
        tiny = np.less(out, fmt.min_normal)
        if tiny.any():
            tiny &= out != 0  # zeros are exact in the split (and keep their sign)
            special = tiny if special is None else special | tiny
    split = _scratch(out.size)
    np.multiply(x, 2.0 ** (53 - fmt.t) + 1.0, out=out)  # c
    np.subtract(out, x, out=split)  # c - x
    np.subtract(out, split, out=out)  # hi (keeps the sign of x, and of a zero)
    if special is not None:
        index = np.flatnonzero(special)
        if index.size:
            out[index] = _round_generic(x[index], fmt, "rne", None)


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))
    return _POOL


def _in_chunks(x: NDArray, work) -> NDArray:  # type: ignore[no-untyped-def]
    """Apply ``work(flat_slice, out_slice)`` over cache-sized chunks, on threads for big arrays."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    starts = range(0, flat.size, _CHUNK)

    def one(start: int) -> None:
        # Every operation below is exact or deliberately overflowing; NaN inputs propagate. The
        # error state is per thread, so it is set here, inside the worker.
        with np.errstate(all="ignore"):
            work(slice(start, start + _CHUNK), flat, out)

    if flat.size >= _PARALLEL_MIN and (os.cpu_count() or 1) > 1:
        list(_pool().map(one, starts))
    else:
        for start in starts:
            one(start)
    return out.reshape(x.shape)


def _round_real(x: NDArray, fmt: Format, mode: str, gen: np.random.Generator | None) -> NDArray:
    if fmt.t == 53 and fmt.emin == -1022 and fmt.emax == 1023 and fmt.subnormals:
        # float64 values are already in this format; only the overflow policy could matter, and no
        # finite float64 exceeds its max.
        return _non_finite(x.copy(), x, np.isfinite(x), fmt)
    if mode == "rne" and fmt.t <= 51 and fmt.emax + 55 - fmt.t <= 1023:

        def fast(sl: slice, flat: NDArray, out: NDArray) -> None:
            _rne_chunk(flat[sl], out[sl], fmt)

        return _in_chunks(x, fast)
    draws = gen.random(x.size) if gen is not None else None

    def generic(sl: slice, flat: NDArray, out: NDArray) -> None:
        out[sl] = _round_generic(flat[sl], fmt, mode, None if draws is None else draws[sl])

    return _in_chunks(x, generic)


def round_to(
    x: ArrayLike,
    fmt: Format | str,
    mode: RoundingMode | str = "rne",
    rng: int | np.random.Generator | None = None,
) -> NDArray:
    """Round ``x`` into ``fmt`` with one correct rounding; return float64 (complex128) values.

    Parameters
    ----------
    x : array_like of float64, float32 or float16 (real or complex, any shape), or a Python int of any
        size or a :class:`fractions.Fraction` (rounded once from its exact value, :func:`round_rational`).
        Complex values have their real and imaginary parts rounded separately.
    fmt : Format or format name (see :func:`errbound.get_format`)
    mode : ``"rne"`` nearest ties-to-even, ``"rna"`` nearest ties-away, ``"rz"`` toward zero,
        ``"ru"`` toward +inf, ``"rd"`` toward -inf, ``"sr"`` stochastic (up with probability equal
        to the distance from the lower neighbour, in units of the local spacing).
    rng : seed or numpy Generator, required for ``mode="sr"``.

    Returns
    -------
    ndarray of float64 (complex128 for complex input) with every entry exactly representable in
    ``fmt`` (or +-inf / NaN per the format), same shape as ``x``.
    """
    fmt = get_format(fmt)
    if mode not in ROUNDING_MODES:
        raise ErrboundError(f"unknown rounding mode {mode!r}; choose one of {', '.join(ROUNDING_MODES)}")
    gen = as_generator(rng) if mode == "sr" else None
    if isinstance(x, Fraction) or (isinstance(x, int) and not isinstance(x, bool) and not _float_exact(x)):
        # exact scalar path: float(x) would round (or overflow) before the format's rounding
        draw = None if gen is None else float(gen.random())
        return np.float64(round_rational(x, fmt, mode, draw))
    arr = _as_float_array(x)
    if np.iscomplexobj(arr):
        result = np.empty(arr.shape, dtype=np.complex128)
        result.real = _round_real(np.ascontiguousarray(arr.real), fmt, mode, gen)
        result.imag = _round_real(np.ascontiguousarray(arr.imag), fmt, mode, gen)
    else:
        result = _round_real(arr, fmt, mode, gen)
    return result[()] if result.ndim == 0 else result
