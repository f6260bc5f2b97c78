"""Rigorous enclosures for the certified verdicts of ``errbound verify`` (python-flint's Arb ball arithmetic).

A case ``lhs <= rhs`` is **certified** when both sides are computed as rigorous enclosures and the
enclosures are disjoint in the right order (``sup lhs <= inf rhs``), or when both sides are exact
rationals and ``lhs <= rhs`` holds exactly. An Arb ball with radius 0 is an exact dyadic number, so a
comparison of exact floats (every float64 is a dyadic rational) is decided exactly as well, equalities
included. Two equal numbers that are *not* exact (e.g. an integral and its closed form) have overlapping
balls: ball arithmetic cannot order them, and such a case stays uncertified with that reason.

:func:`decide` returns ``"yes"`` (certified ``lhs <= rhs``), ``"no"`` (certified ``lhs > rhs``: a violation
that no floating-point tolerance can hide) or ``"unknown"``.

Working precision: :data:`PREC` = 256 bits (about 77 digits), set with :func:`workprec` around every
computation; python-flint's precision is a global of ``flint.ctx``, restored on exit. 256 bits make
the radii of every enclosure used here (sums of at most ~10^5 terms of elementary functions) below
2^-200 relative, far below the smallest nonzero slack of any check (float64 quantities, >= 2^-60).
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from typing import Any, Iterator

import numpy as np
from flint import acb, arb, ctx, fmpq, fmpz

__all__ = ["PREC", "workprec", "to_arb", "decide", "exact_le", "arb_hi", "arb_lo", "acb_abs", "arb_float",
           "le_float_arrays", "cyclotomic_is_zero", "dft_enclosure", "abs_upper", "upper", "lower"]

PREC = 256


@contextlib.contextmanager
def workprec(prec: int = PREC) -> Iterator[None]:
    old = ctx.prec
    ctx.prec = prec
    try:
        yield
    finally:
        ctx.prec = old


def to_arb(x: Any) -> arb:
    """An exact ball for an int / Fraction / fmpq / float (a float64 is a dyadic rational: exact), or the
    ball itself; an mpmath number is NOT accepted (its error is unknown: recompute the quantity in Arb)."""
    if isinstance(x, arb):
        return x
    if isinstance(x, acb):
        raise TypeError("to_arb: a complex ball has no order; take its modulus (acb_abs) first")
    if isinstance(x, (bool, np.bool_)):
        return arb(int(x))
    if isinstance(x, (int, np.integer, fmpz)):
        return arb(int(x))
    if isinstance(x, (float, np.floating)):
        xf = float(x)
        if xf != xf or xf in (float("inf"), float("-inf")):
            raise ValueError(f"to_arb: {xf} is not a finite number")
        return arb(xf)  # exact: arb(float) keeps all 53 bits
    if isinstance(x, Fraction):
        return arb(fmpq(x.numerator, x.denominator))
    if isinstance(x, fmpq):
        return arb(x)
    raise TypeError(f"to_arb: no exact ball for {type(x).__name__} (compute it in Arb, not in mpmath)")


def _exact_rational(x: Any) -> Fraction | None:
    if isinstance(x, (bool, np.bool_)):
        return Fraction(int(x))
    if isinstance(x, (int, np.integer, fmpz)):
        return Fraction(int(x))
    if isinstance(x, Fraction):
        return x
    if isinstance(x, fmpq):
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, (float, np.floating)) and np.isfinite(x):
        return Fraction(float(x))
    return None


def exact_le(a: Any, b: Any) -> bool | None:
    """``a <= b`` decided exactly when both are exact rationals (floats included); None otherwise."""
    fa, fb = _exact_rational(a), _exact_rational(b)
    if fa is None or fb is None:
        return None
    return fa <= fb


def decide(lhs: Any, rhs: Any) -> str:
    """``"yes"`` if ``lhs <= rhs`` is certified, ``"no"`` if ``lhs > rhs`` is certified, else ``"unknown"``."""
    ex = exact_le(lhs, rhs)
    if ex is not None:
        return "yes" if ex else "no"
    with workprec():
        a, b = to_arb(lhs), to_arb(rhs)
        if a <= b:
            return "yes"
        if a > b:
            return "no"
    return "unknown"


def arb_hi(x: arb) -> float:
    """A float64 >= every point of the ball (the upper end, rounded up)."""
    return float(np.nextafter(float(x.upper()), np.inf))


def arb_lo(x: arb) -> float:
    return float(np.nextafter(float(x.lower()), -np.inf))


def arb_float(x: arb | acb) -> float:
    """The midpoint as a float64 (for reporting ratios; never for a verdict)."""
    if isinstance(x, acb):
        x = acb_abs(x)
    return float(x.mid())


def acb_abs(z: acb) -> arb:
    return abs(z)


def le_float_arrays(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Exact elementwise ``lhs <= rhs`` for float64 arrays (both exact dyadic numbers): the float comparison
    of two finite floats *is* the exact comparison of the rationals they represent. NaN/inf are not certified."""
    lhs = np.asarray(lhs, dtype=np.float64)
    rhs = np.asarray(rhs, dtype=np.float64)
    return np.isfinite(lhs) & np.isfinite(rhs) & (lhs <= rhs)


def cyclotomic_is_zero(coeffs: dict[int, int] | np.ndarray, n: int) -> bool:
    """Exact test that sum_k c_k zeta^k = 0 for zeta = e^{2 pi i / n} and integer c_k (k taken mod n):
    the polynomial sum_k c_k x^(k mod n) is divisible by the n-th cyclotomic polynomial (flint, exact)."""
    from flint import fmpz_poly

    vec = [0] * n
    items = coeffs.items() if isinstance(coeffs, dict) else enumerate(np.asarray(coeffs).tolist())
    for k, c in items:
        vec[int(k) % n] += int(c)
    poly = fmpz_poly(vec)
    if poly == 0:
        return True
    return poly % fmpz_poly.cyclotomic(n) == 0


def dft_enclosure(x: np.ndarray, *, inverse: bool = False) -> np.ndarray:
    """Rigorous enclosures of the unnormalized DFT sum_j x_j e^(-+2 pi i k.j/n) of a real or complex float64
    array (any dimension, taken exactly), as an object array of ``acb`` balls (flint's ``acb.dft`` axis by axis).
    The caller sets the precision (:func:`workprec`)."""
    x = np.asarray(x)
    arr = np.empty(x.shape, dtype=object)
    flat = x.ravel()
    out = arr.ravel()
    for i, v in enumerate(flat):
        out[i] = acb(float(np.real(v)), float(np.imag(v))) if np.iscomplexobj(x) else acb(float(v))
    arr = out.reshape(x.shape)
    for axis in range(arr.ndim):
        moved = np.moveaxis(arr, axis, -1)
        res = np.empty(moved.shape, dtype=object)
        for idx in np.ndindex(*moved.shape[:-1]):
            res[idx] = np.array(acb.dft(list(moved[idx]), inverse), dtype=object) if not inverse else \
                np.array([z * moved.shape[-1] for z in acb.dft(list(moved[idx]), True)], dtype=object)
        arr = np.moveaxis(res, -1, axis)
    return arr


def abs_upper(z: np.ndarray) -> np.ndarray:
    """float64 upper ends (rounded up) of |z| for an object array of acb/arb balls."""
    flat = [arb_hi(abs(v)) for v in np.asarray(z, dtype=object).ravel()]
    return np.asarray(flat, dtype=np.float64).reshape(np.shape(z))


def upper(x: arb) -> float:
    return arb_hi(x)


def lower(x: arb) -> float:
    return arb_lo(x)
