"""Emulated floating-point arithmetic: every operation rounded once into a target format.

Each primitive computes the *exact* result as an unevaluated float64 pair with an error-free
transformation, then rounds it once:

* ``a + b = s + e`` exactly with TwoSum (Knuth; Higham 2002, Alg. 4.4);
* ``a * b = p + e`` exactly with Dekker's TwoProduct (Veltkamp splitting; Higham, section 4.3 /
  Dekker 1971), valid while no float64 overflow or underflow occurs;
* ``a / b``: ``q = RN(a / b)`` and the sign of the exact remainder ``a - q b`` (exactly representable);
* ``a * b + c``: TwoProduct then two TwoSums, keeping the exact value as ``hi + (h + g)``.

These transformations are exact only while no float64 overflow or underflow occurs (the Veltkamp split
``(2**27 + 1) a`` overflows for ``|a| >= 2**997``; the product's low part underflows when
``e_a + e_b < -968`` with ``e = floor(log2 |.|)``; a quotient below ``2**-1022`` loses bits). Each operation
tests its operands against a *safe box*, from magnitudes (``mul``: both normal, below ``2**996``, and
``2**-958 <= |RN(a b)| < 2**1020``, which implies ``-960 <= e_a + e_b <= 1019``; ``div``: ``|a| >= 2**-959``,
``b`` normal below ``2**996``, ``2**-999 <= |a / b| < 2**989``; ``add``: both below ``2**1022``; ``fma``: the
``mul`` box with ``|RN(a b)| < 2**1018`` and ``|c| < 2**1019``); a global range test (``_within``) skips the
per-entry mask when every operand lies well inside. The few entries outside the box, and every
entry of a fp64 target in a mode other than ``rne``, are computed as exact rationals and rounded once with
:func:`errbound.rounding.round_rational`: exact for every finite float64 operand, including results beyond
float64's range (``mul(1e200, 1e200, "fp32", mode="rz")`` is fp32's max). Zero results take IEEE 754's
signs (products and quotients: the xor of the signs; sums: section 6.3).

In every case ``hi = RN64(exact)`` is a float64 neighbour of the exact value and only the *direction*
of ``exact - hi`` is needed: the exact value is first rounded to 53 bits *to odd* (``hi`` itself when
exact or odd, else its neighbour toward the exact value) and then rounded into the target format with
:func:`errbound.round_to`. Rounding to odd at precision ``p >= t + 2`` followed by any rounding
(nearest-even, nearest-away, directed) to ``t`` bits equals rounding the exact value directly
(Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to
odd", IEEE Trans. Computers 57(4), 2008). Hence the fast path needs ``t <= 51``; fp64 itself (``t = 53``)
takes it in round-to-nearest-even, where the result is simply ``hi``, and the exact path in the other
modes. Stochastic rounding
through the odd intermediate has up-probability exact to within 2**(t-52).

Sums, dot products and matrix products fix their order of operations explicitly (``recursive``:
left to right; ``pairwise``: adjacent pairs level by level, an odd last element carried up), so an
exact-arithmetic reference with the same order reproduces them bit for bit. The tensor-core model of
:func:`dot` / :func:`matmul`: inputs rounded to ``input_fmt``, products exact (they fit in float64
when ``input_fmt.t <= 26``), accumulation rounded into ``acc_fmt`` after every addition (use
``acc_mode="rz"`` to mimic the truncation-like alignment of some tensor cores).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from errbound.errors import ErrboundError
from errbound.formats import Format, get_format
from errbound.rounding import ROUNDING_MODES, as_generator, round_rational, round_to

__all__ = ["add", "sub", "mul", "div", "fma", "sum_", "dot", "matmul", "two_sum", "two_prod", "round_exact"]

SumOrder = Literal["recursive", "pairwise"]
_SPLITTER = 134217729.0  # 2**27 + 1 (Veltkamp)


def two_sum(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """``s = RN(a + b)`` and ``e`` with ``s + e == a + b`` exactly (Knuth's TwoSum, 6 flops)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def _split(a: NDArray) -> tuple[NDArray, NDArray]:
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """``p = RN(a b)`` and ``e`` with ``p + e == a b`` exactly (Dekker's TwoProduct)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = al * bl - (((p - ah * bh) - al * bh) - ah * bl)
    return p, e


def _to_odd(hi: NDArray, direction: NDArray) -> NDArray:
    """Round-to-odd at 53 bits of a value whose RN64 is ``hi`` and with ``sign(exact - hi) = direction``."""
    with np.errstate(invalid="ignore"):
        inexact = (direction != 0) & np.isfinite(hi)
        even = (hi.view(np.int64) & 1) == 0
        nudge = inexact & even
    if not nudge.any():
        return hi
    out = hi.copy()
    out[nudge] = np.nextafter(hi[nudge], np.where(direction[nudge] > 0, np.inf, -np.inf))
    return out


def round_exact(hi: ArrayLike, direction: ArrayLike, fmt: Format | str, mode: str = "rne", rng=None) -> NDArray:  # type: ignore[no-untyped-def]
    """Round the exact value ``x`` into ``fmt`` given ``hi = RN64(x)`` and ``direction = sign(x - hi)``."""
    fmt = get_format(fmt)
    hi = np.asarray(hi, dtype=np.float64)
    direction = np.asarray(direction, dtype=np.float64)
    if fmt.t > 51:
        if mode != "rne":
            raise ErrboundError(
                f"emulated arithmetic into {fmt.name} (t={fmt.t} > 51) supports mode 'rne' only, got {mode!r}"
            )
        return round_to(hi, fmt)
    return round_to(_to_odd(hi, np.broadcast_to(direction, hi.shape)), fmt, mode, rng)


def _prepare(*operands: ArrayLike) -> list[NDArray]:
    arrays = []
    for op in operands:
        arr = np.asarray(op)
        if arr.dtype.kind not in "f":
            raise ErrboundError(
                f"emulated arithmetic takes real float arrays, got dtype {arr.dtype}; "
                "pass float64 values (complex numbers as real pairs)"
            )
        arrays.append(arr.astype(np.float64, copy=False))
    return list(np.broadcast_arrays(*arrays))


def _check_mode(mode: str) -> None:
    if mode not in ROUNDING_MODES:
        raise ErrboundError(f"unknown rounding mode {mode!r}; choose one of {', '.join(ROUNDING_MODES)}")


def _unsafe_mask(ok: NDArray, zero: Callable[[], NDArray], zero_unsafe: Callable[[], NDArray],
                 finite: Callable[[], NDArray]) -> NDArray:
    """Entries outside the safe box: ``~ok`` among finite nonzero operands, ``zero_unsafe`` among zero ones.

    ``ok`` is False for zeros, inf and NaN (comparisons with NaN are False), so the common all-safe case costs
    one ``any``; the refinement runs only when some entry is not ``ok``."""
    unsafe = ~ok
    if not unsafe.any():
        return unsafe
    return finite() & np.where(zero(), zero_unsafe(), unsafe)


def _neutral(x: NDArray, unsafe: NDArray, value: float) -> NDArray:
    """``x`` with its unsafe entries replaced by a harmless ``value`` (no copy when none is unsafe)."""
    return np.where(unsafe, value, x) if unsafe.any() else x


def _within(x: NDArray, lo: float, hi: float) -> bool:
    """Whether every ``|x|`` lies in ``[lo, hi)`` (False on NaN, empty arrays count as inside): a cheap global
    test that lets the common case skip the per-entry safe-box mask."""
    if x.size == 0:
        return True
    m = np.abs(x)
    return bool(m.min() >= lo and m.max() < hi)


def _all_finite(*xs: NDArray) -> NDArray:
    ok = np.ones(xs[0].shape, dtype=bool)
    for x in xs:
        ok &= np.isfinite(x)
    return ok


def _exact_fix(result: NDArray, unsafe: NDArray, fmt: Format | str, mode: str, rng,  # type: ignore[no-untyped-def]
               exact: Callable[[tuple[float, ...]], tuple[Fraction, bool]], *operands: NDArray) -> NDArray:
    """Replace the ``unsafe`` entries of ``result`` by the exact rational result rounded once.

    ``exact(floats)`` returns ``(value, negative_zero)``: the exact result and the IEEE sign of a zero result.
    """
    if not unsafe.any():
        return result
    fmt = get_format(fmt)
    out = np.array(result, dtype=np.float64, copy=True).reshape(-1)
    flat_ops = [np.ravel(op) for op in operands]
    gen = as_generator(rng) if mode == "sr" else None
    for i in np.flatnonzero(unsafe):
        value, neg0 = exact(tuple(float(op[i]) for op in flat_ops))
        draw = None if gen is None else float(gen.random())
        out[i] = round_rational(value, fmt, mode, draw, negative_zero=neg0)
    out = out.reshape(unsafe.shape)
    return out[()] if out.ndim == 0 else out


def _neg(x: float) -> bool:
    return np.signbit(x).item()


def _sum_zero_sign(x: float, y: float, mode: str) -> bool:
    """IEEE 754 section 6.3: the sign of an exactly zero sum ``x + y`` (True: -0)."""
    if x == 0 and y == 0 and _neg(x) == _neg(y):
        return _neg(x)
    return mode == "rd"


def _exact_everywhere(fmt: Format | str, mode: str) -> bool:
    """fp64-precision targets (t > 51) in modes other than rne: no round-to-odd margin, exact path for all."""
    return get_format(fmt).t > 51 and mode != "rne"


def add(a: ArrayLike, b: ArrayLike, fmt: Format | str, mode: str = "rne", rng=None) -> NDArray:  # type: ignore[no-untyped-def]
    """``fl(a + b)``: the exact sum rounded once into ``fmt``."""
    _check_mode(mode)
    a_, b_ = _prepare(a, b)
    if _exact_everywhere(fmt, mode):
        unsafe = _all_finite(a_, b_)
    elif _within(a_, 0.0, 2.0**1022) and _within(b_, 0.0, 2.0**1022):
        unsafe = np.zeros(a_.shape, dtype=bool)
    else:  # |a| or |b| >= 2**1022: TwoSum may overflow
        unsafe = np.maximum(np.abs(a_), np.abs(b_)) >= 2.0**1022
        if unsafe.any():
            unsafe &= _all_finite(a_, b_)
    with np.errstate(invalid="ignore", over="ignore"):
        s, e = two_sum(_neutral(a_, unsafe, 0.0), _neutral(b_, unsafe, 0.0))
    fast = _zero_sum_sign(round_exact(s, np.sign(e), fmt, mode, rng), s, e, a_, b_, mode) if not unsafe.all() \
        else np.zeros(a_.shape)

    def exact(v: tuple[float, ...]) -> tuple[Fraction, bool]:
        return Fraction(v[0]) + Fraction(v[1]), _sum_zero_sign(v[0], v[1], mode)

    return _exact_fix(fast, unsafe, fmt, mode, rng, exact, a_, b_)


def _zero_sum_sign(result: NDArray, hi: NDArray, lo: NDArray, x: NDArray, y: NDArray, mode: str) -> NDArray:
    """IEEE 754 section 6.3: an exactly zero sum ``x + y`` is -0 in roundTowardNegative unless both
    addends are +0 (float64 arithmetic already gives the right sign in the other modes)."""
    if mode != "rd":
        return result
    both_plus_zero = (x == 0) & (y == 0) & ~np.signbit(x) & ~np.signbit(y)
    exact_zero = (hi == 0) & (lo == 0) & ~both_plus_zero
    return np.where(exact_zero, -0.0, result)


def sub(a: ArrayLike, b: ArrayLike, fmt: Format | str, mode: str = "rne", rng=None) -> NDArray:  # type: ignore[no-untyped-def]
    """``fl(a - b)``: the exact difference rounded once into ``fmt``."""
    a_, b_ = _prepare(a, b)
    return add(a_, -b_, fmt, mode, rng)


def mul(a: ArrayLike, b: ArrayLike, fmt: Format | str, mode: str = "rne", rng=None) -> NDArray:  # type: ignore[no-untyped-def]
    """``fl(a * b)``: the exact product rounded once into ``fmt``."""
    _check_mode(mode)
    a_, b_ = _prepare(a, b)
    unsafe = _mul_unsafe(a_, b_) | (_all_finite(a_, b_) & _exact_everywhere(fmt, mode))
    with np.errstate(invalid="ignore", over="ignore"):
        p, e = two_prod(_neutral(a_, unsafe, 1.0), _neutral(b_, unsafe, 1.0))
    fast = round_exact(p, np.sign(e), fmt, mode, rng) if not unsafe.all() else np.zeros(a_.shape)

    def exact(v: tuple[float, ...]) -> tuple[Fraction, bool]:
        return Fraction(v[0]) * Fraction(v[1]), _neg(v[0]) != _neg(v[1])

    return _exact_fix(fast, unsafe, fmt, mode, rng, exact, a_, b_)


def _mul_unsafe(a: NDArray, b: NDArray, p_max: float = 2.0**1020) -> NDArray:
    """Entries where Dekker's TwoProduct may over- or underflow (module docstring, safe box), from magnitudes:
    both operands normal and below ``2**996`` and ``2**-958 <= |RN(a b)| < p_max`` (which implies
    ``-960 <= e_a + e_b <= 1019``); a zero operand is unsafe only when the other is too large to split."""
    if _within(a, 2.0**-479, 2.0**495) and _within(b, 2.0**-479, 2.0**495):  # products in [2^-958, 2^990)
        return np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=bool)
    aa, ab = np.abs(a), np.abs(b)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        pp = aa * ab
    ok = ((pp >= 2.0**-958) & (pp < p_max) & (aa < 2.0**996) & (ab < 2.0**996)
          & (aa >= 2.0**-1022) & (ab >= 2.0**-1022))
    return _unsafe_mask(ok, lambda: (a == 0) | (b == 0), lambda: (aa >= 2.0**996) | (ab >= 2.0**996),
                        lambda: _all_finite(a, b))


def _div_unsafe(a: NDArray, b: NDArray) -> NDArray:
    """Entries where ``q = RN(a / b)`` or its remainder ``a - q b`` (TwoProduct) may leave float64's range:
    safe when ``|a| >= 2**-959``, ``b`` normal below ``2**996`` and ``2**-999 <= |a / b| < 2**989`` (so
    ``-1000 <= e_a - e_b <= 990``); ``0 / b`` is unsafe only for ``|b| >= 2**996`` (the split of b overflows)."""
    aa, ab = np.abs(a), np.abs(b)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        qq = aa / ab
    ok = (aa >= 2.0**-959) & (ab < 2.0**996) & (ab >= 2.0**-1022) & (qq >= 2.0**-999) & (qq < 2.0**989)
    return _unsafe_mask(ok, lambda: (a == 0) | (b == 0), lambda: (a == 0) & (ab >= 2.0**996) & (b != 0),
                        lambda: _all_finite(a, b))


def div(a: ArrayLike, b: ArrayLike, fmt: Format | str, mode: str = "rne", rng=None) -> NDArray:  # type: ignore[no-untyped-def]
    """``fl(a / b)``: the exact quotient rounded once into ``fmt`` (division by zero gives inf/NaN)."""
    _check_mode(mode)
    a_, b_ = _prepare(a, b)
    if _within(a_, 2.0**-479, 2.0**494) and _within(b_, 2.0**-494, 2.0**494):  # quotients in (2^-973, 2^988)
        unsafe = np.zeros(a_.shape, dtype=bool)
    else:
        unsafe = _div_unsafe(a_, b_)
    if _exact_everywhere(fmt, mode):
        unsafe = _all_finite(a_, b_) & (b_ != 0)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        a_s, b_s = _neutral(a_, unsafe, 1.0), _neutral(b_, unsafe, 1.0)
        q = a_s / b_s
        p, e = two_prod(q, b_s)
        remainder = (a_s - p) - e
        direction = np.where(np.isfinite(q) & (b_s != 0), np.sign(remainder) * np.sign(b_s), 0.0)
    fast = round_exact(q, direction, fmt, mode, rng) if not unsafe.all() else np.zeros(a_.shape)

    def exact(v: tuple[float, ...]) -> tuple[Fraction, bool]:
        return Fraction(v[0]) / Fraction(v[1]), _neg(v[0]) != _neg(v[1])

    return _exact_fix(fast, unsafe, fmt, mode, rng, exact, a_, b_)


def fma(a: ArrayLike, b: ArrayLike, c: ArrayLike, fmt: Format | str, mode: str = "rne", rng=None) -> NDArray:  # type: ignore[no-untyped-def]
    """``fl(a * b + c)`` with a single rounding (fused multiply-add)."""
    _check_mode(mode)
    a_, b_, c_ = _prepare(a, b, c)
    unsafe = _mul_unsafe(a_, b_, p_max=2.0**1018) | (np.abs(c_) >= 2.0**1019)
    if unsafe.any():
        unsafe &= _all_finite(a_, b_, c_)
    if _exact_everywhere(fmt, mode):
        unsafe = _all_finite(a_, b_, c_)
    if unsafe.any():
        fast = fma(_neutral(a_, unsafe, 0.0), _neutral(b_, unsafe, 0.0), _neutral(c_, unsafe, 0.0), fmt,
                   "rne" if _exact_everywhere(fmt, mode) else mode, rng) if not unsafe.all() else np.zeros(a_.shape)

        def exact(v: tuple[float, ...]) -> tuple[Fraction, bool]:
            prod = Fraction(v[0]) * Fraction(v[1])
            zero_sign = (-0.0 if _neg(v[0]) != _neg(v[1]) else 0.0) if prod == 0 else (1.0 if prod > 0 else -1.0)
            return prod + Fraction(v[2]), _sum_zero_sign(zero_sign, v[2] if prod == 0 else -zero_sign, mode)

        return _exact_fix(fast, unsafe, fmt, mode, rng, exact, a_, b_, c_)
    with np.errstate(invalid="ignore", over="ignore"):
        p, e = two_prod(a_, b_)
        s, f = two_sum(p, c_)
        u, g = two_sum(f, e)
        hi, h = two_sum(s, u)
        direction = np.sign(h + g)  # RN preserves the sign of the exact h + g
    result = _zero_sum_sign(round_exact(hi, direction, fmt, mode, rng), hi, direction, p, c_, mode)
    zero_product = (p == 0) & (e == 0)
    if zero_product.any():  # a*b is an exact (signed) zero: the fma is the sum p + c
        result = np.where(zero_product, add(p, c_, fmt, mode, rng), result)
    return result


def _check_order(order: str) -> None:
    if order not in ("recursive", "pairwise"):
        raise ErrboundError(f"unknown summation order {order!r}; choose 'recursive' or 'pairwise'")


def sum_(
    x: ArrayLike, fmt: Format | str, order: SumOrder = "recursive", axis: int = -1, mode: str = "rne", rng=None  # type: ignore[no-untyped-def]
) -> NDArray:
    """Sum along ``axis`` with every partial sum rounded into ``fmt``.

    ``recursive``: ``((0 + x0) + x1) + ...`` (the accumulator starts at zero, so the first summand
    is rounded into ``fmt`` too). ``pairwise``: level by level,
    ``y_i = x_{2i} + x_{2i+1}``, an odd last element passed up unchanged, until one value is left.
    The summands are used as given (round them first if they must lie in ``fmt``); an empty axis
    sums to 0. Worst-case error: ``gamma_{n-1}`` (recursive) or ``gamma_{ceil(log2 n)}`` (pairwise)
    times ``sum |x_i|`` (Higham, section 4.2).
    """
    _check_order(order)
    (arr,) = _prepare(x)
    arr = np.moveaxis(arr, axis, -1)
    gen = as_generator(rng) if mode == "sr" else None
    n = arr.shape[-1]
    if n == 0:
        return np.zeros(arr.shape[:-1])
    if order == "recursive":
        acc = np.zeros(arr.shape[:-1])
        for i in range(n):
            acc = add(acc, arr[..., i], fmt, mode, gen)
        return np.asarray(acc, dtype=np.float64)
    if n == 1:
        return round_to(arr[..., 0], fmt, mode, gen)
    level = arr
    while level.shape[-1] > 1:
        m = level.shape[-1]
        pairs = add(level[..., 0 : m - 1 : 2], level[..., 1:m:2], fmt, mode, gen)
        if m % 2:
            pairs = np.concatenate([pairs, level[..., -1:]], axis=-1)
        level = pairs
    return level[..., 0]


def _exact_products(a: NDArray, b: NDArray, input_fmt: Format, acc_fmt: Format, acc_mode: str, gen) -> NDArray:  # type: ignore[no-untyped-def]
    if input_fmt.t <= 26:
        return a * b  # at most 52 significant bits: exact in float64
    return mul(a, b, acc_fmt, acc_mode, gen)


def dot(
    a: ArrayLike,
    b: ArrayLike,
    input_fmt: Format | str,
    acc_fmt: Format | str,
    order: SumOrder = "recursive",
    axis: int = -1,
    acc_mode: str = "rne",
    rng=None,  # type: ignore[no-untyped-def]
) -> NDArray:
    """Dot product along ``axis`` in the tensor-core model.

    ``a`` and ``b`` are rounded (RNE) to ``input_fmt``; products are exact when
    ``input_fmt.t <= 26`` (otherwise rounded into ``acc_fmt``); the accumulation is :func:`sum_` in
    ``acc_fmt`` with ``order`` and ``acc_mode``.
    """
    input_fmt, acc_fmt = get_format(input_fmt), get_format(acc_fmt)
    a_, b_ = _prepare(a, b)
    gen = as_generator(rng) if acc_mode == "sr" else None
    products = _exact_products(round_to(a_, input_fmt), round_to(b_, input_fmt), input_fmt, acc_fmt, acc_mode, gen)
    return sum_(products, acc_fmt, order=order, axis=axis, mode=acc_mode, rng=gen)


def matmul(
    a: ArrayLike,
    b: ArrayLike,
    input_fmt: Format | str,
    acc_fmt: Format | str,
    acc_mode: str = "rne",
    rng=None,  # type: ignore[no-untyped-def]
) -> NDArray:
    """Matrix product ``a @ b`` (batched over leading axes) in the tensor-core model.

    Each output entry is ``sum_k a[i, k] b[k, j]`` accumulated left to right over ``k`` in ``acc_fmt``
    (the recursive order), products exact for ``input_fmt.t <= 26``. Memory is O(m n) per step.
    """
    input_fmt, acc_fmt = get_format(input_fmt), get_format(acc_fmt)
    a_ = np.asarray(a)
    b_ = np.asarray(b)
    if a_.ndim < 2 or b_.ndim < 2 or a_.shape[-1] != b_.shape[-2]:
        raise ErrboundError(
            f"matmul needs shapes (..., m, k) and (..., k, n), got {a_.shape} and {b_.shape}"
        )
    (a_,) = _prepare(a_)
    (b_,) = _prepare(b_)
    a_, b_ = round_to(a_, input_fmt), round_to(b_, input_fmt)
    gen = as_generator(rng) if acc_mode == "sr" else None
    out_shape = np.broadcast_shapes(a_.shape[:-2], b_.shape[:-2]) + (a_.shape[-2], b_.shape[-1])
    acc = np.zeros(out_shape)
    for j in range(a_.shape[-1]):
        term = _exact_products(a_[..., :, j : j + 1], b_[..., j : j + 1, :], input_fmt, acc_fmt, acc_mode, gen)
        acc = add(acc, term, acc_fmt, acc_mode, gen)
    return acc
