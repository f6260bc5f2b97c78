"""Constants of the emulated transforms, correctly rounded into the constant format.

Twiddles ``cos(pi a / b)``, ``sin(pi a / b)``, Bluestein chirps and kernels and the real-split
factors are first computed in float64; an entry whose float64 value lies within the float64
error window of a rounding boundary of the target format (a midpoint in round-to-nearest-even) is
recomputed with mpmath at 200 bits and rounded exactly by
:func:`errbound.emulate._reference.round_fraction`. Entries that are exactly zero (e.g. ``cos(pi/2)``)
are set to zero by integer tests, never left as float64 residue like 6e-17. Constants are always
rounded to nearest-even, whatever the arithmetic's rounding mode (they are stored tables).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import mpmath
import numpy as np

from errbound.emulate._reference import _mp_to_fraction, _unit, round_fraction
from errbound.formats import Format
from errbound.rounding import round_to

__all__ = ["round_const", "twiddles", "chirp", "bluestein_kernel", "real_split", "round_scalar_const"]


def round_const(approx: np.ndarray, window: float | np.ndarray, exact: Callable[[int], mpmath.mpf], fmt: Format,
                zero: np.ndarray | None = None) -> np.ndarray:
    """Round float64 approximations (absolute error <= ``window``) of exact constants into ``fmt``.

    ``exact(i)`` returns the i-th (flat index) value as an mpmath number at 200 bits; it is called
    only where ``round(approx - window) != round(approx + window)``.
    """
    approx = np.asarray(approx, dtype=np.float64)
    out = round_to(approx, fmt)
    lo = round_to(approx - window, fmt)
    hi = round_to(approx + window, fmt)
    amb = np.flatnonzero(lo != hi)
    if amb.size:
        flat = out.reshape(-1)
        for i in amb:
            flat[i] = float(round_fraction(_mp_to_fraction(exact(int(i))), fmt, "rne"))
    if zero is not None:
        out[zero] = 0.0
    out.setflags(write=False)
    return out


_WINDOW = 2.0**-48  # float64 cos/sin/(1 +- s)/2 of a reduced argument are within a few 1e-16 absolute


def _cos_sin(num: np.ndarray, den: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """float64 (cos, sin)(pi num / den) and masks where each is exactly zero."""
    num = np.mod(num, 2 * den)
    ang = np.pi * (num / den)
    c0 = ((2 * num) % den == 0) & (((2 * num) // den) % 2 == 1)
    s0 = num % den == 0
    return np.cos(ang), np.sin(ang), c0, s0


@functools.lru_cache(maxsize=256)
def _unit_table(num_key: tuple[str, int], den: int, sign: int, fmt: Format) -> tuple[np.ndarray, np.ndarray]:
    kind, n = num_key
    if kind == "twiddle":  # pi * 2j / L for j < L/2
        num = 2 * np.arange(n // 2, dtype=np.int64)
    else:  # chirp: pi * j^2 / n
        j = np.arange(n, dtype=np.int64)
        num = (j * j) % (2 * den)
    c, s, c0, s0 = _cos_sin(num, den)
    cr = round_const(c, _WINDOW, lambda i: _unit(int(num[i]), den)[0], fmt, c0)
    sr = round_const(sign * s, _WINDOW, lambda i: sign * _unit(int(num[i]), den)[1], fmt, s0)
    return cr, sr


def twiddles(L: int, sign: int, fmt: Format) -> tuple[np.ndarray, np.ndarray]:
    """(c_j, d_j) = rounded (cos, sign sin)(2 pi j / L), j = 0..L/2-1: ``w_L^j = exp(sign 2 pi i j / L)``."""
    return _unit_table(("twiddle", L), L, sign, fmt)


def chirp(n: int, sign: int, fmt: Format) -> tuple[np.ndarray, np.ndarray]:
    """Rounded ``exp(sign pi i j^2 / n)``, j = 0..n-1 (exponent reduced mod 2n exactly)."""
    return _unit_table(("chirp", n), n, sign, fmt)


@functools.lru_cache(maxsize=64)
def bluestein_kernel(n: int, M: int, sign: int, fmt: Format) -> tuple[np.ndarray, np.ndarray]:
    """Rounded ``DFT_M(b) / M`` with ``b_m = exp(-sign pi i m^2 / n)`` for ``|m| < n`` (indices mod M),
    0 elsewhere: the convolution kernel of Bluestein's algorithm with the 1/M of the inverse inner
    FFT folded in."""
    m = np.arange(n, dtype=np.int64)
    phase = np.pi * (((m * m) % (2 * n)) / n)
    b = np.zeros(M, dtype=np.complex128)
    b[:n] = np.exp(-sign * 1j * phase)
    b[M - n + 1:] = b[1:n][::-1]
    B = np.fft.fft(b) / M
    # float64 FFT error: well below 2^-40 of max|b|_1 / M = (2n-1)/M <= 1 (Higham Thm 24.2 with u = 2^-53)
    window = 2.0**-40

    def exact(i: int, part: int) -> mpmath.mpf:
        with mpmath.workprec(200):
            acc = mpmath.mpc(0)
            for mm in range(M):
                j = mm if mm < n else (M - mm if mm > M - n else None)
                if j is None:
                    continue
                cb, sb = _unit((j * j) % (2 * n), n)
                cw, sw = _unit((2 * mm * i) % (2 * M), M)
                acc += mpmath.mpc(cb, -sign * sb) * mpmath.mpc(cw, -sw)
            acc /= M
            return acc.real if part == 0 else acc.imag

    re = round_const(B.real, window, lambda i: exact(i, 0), fmt)
    im = round_const(B.imag, window, lambda i: exact(i, 1), fmt)
    return re, im


@functools.lru_cache(maxsize=128)
def real_split(n: int, inverse: bool, fmt: Format) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Real-FFT split factors for even ``n``, k = 0..n/2 (theta = 2 pi k / n).

    Forward: ``A_k = (1 - sin th - i cos th) / 2``, ``B_k = (1 + sin th + i cos th) / 2``, so that
    ``X_k = Z_k A_k + conj(Z_{N-k}) B_k``. Inverse: ``A'_k = 1 - sin th + i cos th``,
    ``B'_k = 1 + sin th - i cos th`` (``2 conj`` of the forward ones). Returns (Ar, Ai, Br, Bi).
    """
    k = np.arange(n // 2 + 1, dtype=np.int64)
    num = 2 * k
    c, s, c0, s0 = _cos_sin(num, n)
    s_one = (4 * k) % n == 0  # sin th = +-1 exactly when 4k/n is odd; +-1 gives exact zeros of 1 -+ s
    s_pos1 = s_one & (((4 * k) // n) % 4 == 1)
    s_neg1 = s_one & (((4 * k) // n) % 4 == 3)
    f = 1.0 if inverse else 0.5
    sc = -1.0 if not inverse else 1.0  # sign of cos in A

    def ex(expr: Callable[[mpmath.mpf, mpmath.mpf], mpmath.mpf]) -> Callable[[int], mpmath.mpf]:
        def g(i: int) -> mpmath.mpf:
            with mpmath.workprec(200):
                cc, ss = _unit(int(num[i]), n)
                return expr(cc, ss)
        return g

    Ar = round_const(f * (1 - s), _WINDOW, ex(lambda cc, ss: f * (1 - ss)), fmt, s_pos1)
    Ai = round_const(sc * f * c, _WINDOW, ex(lambda cc, ss: sc * f * cc), fmt, c0)
    Br = round_const(f * (1 + s), _WINDOW, ex(lambda cc, ss: f * (1 + ss)), fmt, s_neg1)
    Bi = round_const(-sc * f * c, _WINDOW, ex(lambda cc, ss: -sc * f * cc), fmt, c0)
    return Ar, Ai, Br, Bi


def round_scalar_const(value: mpmath.mpf, fmt: Format) -> float:
    """One constant (e.g. a normalization factor) rounded exactly into ``fmt``."""
    return float(round_fraction(_mp_to_fraction(value), fmt, "rne"))
