"""Scalar exact-arithmetic reference for the emulated transforms (slow; tests and small n only).

Independent of :func:`errbound.rounding.round_to` and of the vectorised code: values are
:class:`fractions.Fraction` pairs, every operation is done exactly and then rounded by
:func:`round_fraction`, written here from the format definition (``t``, ``emin``, ``emax``,
subnormals, overflow policy, reserved top significands). Constants (twiddles, chirps, the
Bluestein kernel, the real-split factors) come from mpmath at 200 bits, rounded by
:func:`round_fraction` as well. Operation order is the one documented in docs/emulation.md, coded
a second time with scalar loops so that a bit-for-bit match tests the vectorised emulator.

Infinity and NaN are represented by the floats ``inf`` and ``nan``; arithmetic on them follows
IEEE 754 (inf - inf and inf * 0 give NaN).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath

from errbound.errors import ErrboundError
from errbound.formats import Format

__all__ = [
    "round_fraction", "ref_fft", "ref_rfft", "ref_irfft", "ref_fftn", "ref_rfftn", "ref_irfftn", "Num",
]

Num = Fraction | float  # a Fraction, or a float inf/nan after overflow

_MP_PREC = 200


def _floor_log2(a: Fraction) -> int:
    """floor(log2 a) for a > 0, exactly (integer bit lengths, no floating log)."""
    e = a.numerator.bit_length() - a.denominator.bit_length()
    # now 2**(e-1) < a < 2**(e+1); fix to 2**e <= a < 2**(e+1)
    if Fraction(2) ** e > a:
        e -= 1
    return e


def round_fraction(q: Num, fmt: Format, mode: str = "rne") -> Num:
    """Round the exact value ``q`` into ``fmt`` (modes rne, rna, rz, ru, rd), from the definition.

    The exponent range is unbounded above while rounding; a result above ``fmt.max`` then
    overflows: to inf (``overflow="inf"``, except rz and the direction towards zero which give
    max), to max (``"saturate"``), to NaN (``"nan"``, except towards zero).
    """
    if isinstance(q, float):
        if math.isnan(q):
            return q
        if fmt.overflow == "inf":
            return q
        if fmt.overflow == "saturate":
            return float(fmt.max_exact) if q > 0 else -float(fmt.max_exact)
        return math.nan
    if q == 0:
        return Fraction(0)
    sign = 1 if q > 0 else -1
    a = abs(q)
    e = _floor_log2(a)
    if fmt.subnormals:
        quantum = Fraction(2) ** (max(e, fmt.emin) - fmt.t + 1)
    else:
        quantum = Fraction(2) ** (e - fmt.t + 1) if e >= fmt.emin else Fraction(2) ** fmt.emin
    y = a / quantum
    n = y.numerator // y.denominator
    r = y - n
    if mode == "rne":
        up = r > Fraction(1, 2) or (r == Fraction(1, 2) and n % 2 == 1)
    elif mode == "rna":
        up = r >= Fraction(1, 2)
    elif mode == "rz":
        up = False
    elif mode == "ru":
        up = r > 0 and sign > 0
    elif mode == "rd":
        up = r > 0 and sign < 0
    else:
        raise ErrboundError(f"the scalar reference supports rne, rna, rz, ru, rd; got {mode!r}")
    mag = (n + (1 if up else 0)) * quantum
    if mag > fmt.max_exact:
        towards_zero = mode == "rz" or (mode == "ru" and sign < 0) or (mode == "rd" and sign > 0)
        if towards_zero or fmt.overflow == "saturate":
            mag = fmt.max_exact
        elif fmt.overflow == "inf":
            return math.inf * sign
        else:
            return math.nan
    return sign * mag


# ---- exact arithmetic on Num with IEEE special values --------------------------------------------------------
def _add(a: Num, b: Num) -> Num:
    if isinstance(a, float) or isinstance(b, float):
        return float(a) + float(b)
    return a + b


def _mul(a: Num, b: Num) -> Num:
    if isinstance(a, float) or isinstance(b, float):
        return float(a) * float(b)
    return a * b


def _neg(a: Num) -> Num:
    return -a


class _Ctx:
    def __init__(self, fmt: Format, const_fmt: Format, mode: str, cmul: str):
        self.fmt, self.const_fmt, self.mode, self.cmul_kind = fmt, const_fmt, mode, cmul

    def r(self, q: Num) -> Num:
        return round_fraction(q, self.fmt, self.mode)

    def const(self, value: mpmath.mpf) -> Fraction:
        return round_fraction(_mp_to_fraction(value), self.const_fmt, "rne")

    def add(self, a: Num, b: Num) -> Num:
        return self.r(_add(a, b))

    def cadd(self, a: tuple[Num, Num], b: tuple[Num, Num]) -> tuple[Num, Num]:
        return self.add(a[0], b[0]), self.add(a[1], b[1])

    def cmul(self, z: tuple[Num, Num], w: tuple[Fraction, Fraction]) -> tuple[Num, Num]:
        (zr, zi), (c, d) = z, w
        if self.cmul_kind == "fma":
            p0 = self.r(_mul(zi, d))
            p1 = self.r(_mul(zi, c))
            return self.r(_add(_mul(zr, c), _neg(p0))), self.r(_add(_mul(zr, d), p1))
        p = [self.r(_mul(zr, c)), self.r(_mul(zr, d)), self.r(_mul(zi, d)), self.r(_mul(zi, c))]
        return self.r(_add(p[0], _neg(p[2]))), self.r(_add(p[1], p[3]))

    def scale(self, z: tuple[Num, Num], f: Fraction) -> tuple[Num, Num]:
        return self.r(_mul(z[0], f)), self.r(_mul(z[1], f))


def _mp_to_fraction(v: mpmath.mpf) -> Fraction:
    sgn, man, exp, _ = mpmath.mpf(v)._mpf_  # (sign bit, |mantissa|, exponent, bitcount); man_exp drops the sign
    if not man:
        if exp:  # inf or nan are encoded with man = 0 and a special exponent
            raise ValueError(f"not a finite number: {v}")
        return Fraction(0)
    q = Fraction(int(man)) * Fraction(2) ** int(exp)
    return -q if sgn else q


def _unit(num: int, den: int) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(cos, sin) of pi * num / den at 200 bits, exact zeros where they are exactly zero."""
    with mpmath.workprec(_MP_PREC):
        num %= 2 * den
        c = mpmath.mpf(0) if (2 * num) % den == 0 and ((2 * num) // den) % 2 == 1 else mpmath.cospi(mpmath.mpf(num) / den)
        s = mpmath.mpf(0) if num % den == 0 else mpmath.sinpi(mpmath.mpf(num) / den)
        return c, s


def _bitrev(n: int) -> list[int]:
    bits = n.bit_length() - 1
    return [int(format(i, f"0{bits}b")[::-1], 2) if bits else 0 for i in range(n)]


def _fft_pow2(ctx: _Ctx, x: list[tuple[Num, Num]], sign: int) -> list[tuple[Num, Num]]:
    """Iterative radix-2 DIT: bit-reversal permutation, then stages L = 2, 4, ..., n;
    t = x[k+j+L/2] * w_L^j (w_L = exp(sign 2 pi i / L)), x[k+j] += t, x[k+j+L/2] = x[k+j] - t."""
    n = len(x)
    x = [x[i] for i in _bitrev(n)]
    L = 2
    while L <= n:
        h = L // 2
        tw = []
        for j in range(h):
            c, s = _unit(2 * j, L)
            tw.append((ctx.const(c), ctx.const(sign * s)))
        for k in range(0, n, L):
            for j in range(h):
                top, bot = x[k + j], x[k + j + h]
                t = ctx.cmul(bot, tw[j])
                x[k + j] = ctx.cadd(top, t)
                x[k + j + h] = ctx.cadd(top, (_neg(t[0]), _neg(t[1])))
        L *= 2
    return x


def _fft_bluestein(ctx: _Ctx, x: list[tuple[Num, Num]], sign: int) -> list[tuple[Num, Num]]:
    n = len(x)
    M = 1
    while M < 2 * n - 1:
        M *= 2
    chirp = []
    for j in range(n):
        c, s = _unit((j * j) % (2 * n), n)
        chirp.append((ctx.const(c), ctx.const(sign * s)))
    # kernel B = DFT_M(b) / M, b_m = exp(-sign pi i m^2 / n) for |m| < n (wrapped), exact then rounded
    with mpmath.workprec(_MP_PREC):
        b = [mpmath.mpc(0)] * M
        for m in range(n):
            c, s = _unit((m * m) % (2 * n), n)
            b[m] = mpmath.mpc(c, -sign * s)
            if m:
                b[M - m] = b[m]
        kern = []
        for k in range(M):
            acc = mpmath.mpc(0)
            for m in range(M):
                c, s = _unit((2 * m * k) % (2 * M), M)
                acc += b[m] * mpmath.mpc(c, -s)
            acc /= M
            kern.append((ctx.const(acc.real), ctx.const(acc.imag)))
    a = [ctx.cmul(x[j], chirp[j]) for j in range(n)] + [(Fraction(0), Fraction(0))] * (M - n)
    A = _fft_pow2(ctx, a, -1)
    P = [ctx.cmul(A[k], kern[k]) for k in range(M)]
    p = _fft_pow2(ctx, P, +1)
    return [ctx.cmul(p[k], chirp[k]) for k in range(n)]


def _fft_any(ctx: _Ctx, x: list[tuple[Num, Num]], sign: int) -> list[tuple[Num, Num]]:
    n = len(x)
    if n & (n - 1) == 0:
        return _fft_pow2(ctx, x, sign)
    return _fft_bluestein(ctx, x, sign)


def _split_consts(ctx: _Ctx, n: int, inverse: bool) -> list[tuple[tuple[Fraction, Fraction], tuple[Fraction, Fraction]]]:
    """Forward: A_k = (1 - sin th - i cos th)/2, B_k = (1 + sin th + i cos th)/2, th = 2 pi k / n.
    Inverse: A'_k = 1 - sin th + i cos th, B'_k = 1 + sin th - i cos th."""
    out = []
    N = n // 2
    with mpmath.workprec(_MP_PREC):
        for k in range(N + 1):
            c, s = _unit(2 * k, n)
            if inverse:
                A = (ctx.const(1 - s), ctx.const(c))
                B = (ctx.const(1 + s), ctx.const(-c))
            else:
                A = (ctx.const((1 - s) / 2), ctx.const(-c / 2))
                B = (ctx.const((1 + s) / 2), ctx.const(c / 2))
            out.append((A, B))
    return out


def _rfft_1d(ctx: _Ctx, x: list[Num]) -> list[tuple[Num, Num]]:
    n = len(x)
    if n % 2 == 1 or n == 1:
        full = _fft_any(ctx, [(v, Fraction(0)) for v in x], -1)
        return full[: n // 2 + 1]
    N = n // 2
    z = [(x[2 * j], x[2 * j + 1]) for j in range(N)]
    Z = _fft_any(ctx, z, -1)
    consts = _split_consts(ctx, n, inverse=False)
    out = []
    for k in range(N + 1):
        zk = Z[k % N]
        zc = Z[(N - k) % N]
        zc = (zc[0], _neg(zc[1]))
        A, B = consts[k]
        out.append(ctx.cadd(ctx.cmul(zk, A), ctx.cmul(zc, B)))
    return out


def _irfft_1d(ctx: _Ctx, X: list[tuple[Num, Num]], n: int) -> list[Num]:
    nb = n // 2 + 1
    X = list(X[:nb]) + [(Fraction(0), Fraction(0))] * max(0, nb - len(X))
    X[0] = (X[0][0], Fraction(0))
    if n % 2 == 0:
        X[n // 2] = (X[n // 2][0], Fraction(0))
    if n % 2 == 1:
        full = [X[k] if k < nb else (X[n - k][0], _neg(X[n - k][1])) for k in range(n)]
        z = _fft_any(ctx, full, +1)
        return [v[0] for v in z]
    N = n // 2
    consts = _split_consts(ctx, n, inverse=True)
    Z = []
    for k in range(N):
        xk = X[k]
        xc = (X[N - k][0], _neg(X[N - k][1]))
        A, B = consts[k]
        Z.append(ctx.cadd(ctx.cmul(xk, A), ctx.cmul(xc, B)))
    z = _fft_any(ctx, Z, +1)
    out: list[Num] = []
    for v in z:
        out.extend([v[0], v[1]])
    return out


def _norm_factor(norm: str, m: int, inverse: bool) -> mpmath.mpf | None:
    with mpmath.workprec(_MP_PREC):
        if norm == "ortho":
            return 1 / mpmath.sqrt(m)
        if (norm == "forward") != inverse:
            return mpmath.mpf(1) / m
    return None


def _prescale(factor: mpmath.mpf | None, scaling: str) -> tuple[Fraction | None, mpmath.mpf | None]:
    """For ``scaling="prescale"``: (2**-e, remainder) with 2**e <= 1/factor < 2**(e+1); else (None, factor)."""
    if scaling != "prescale" or factor is None:
        return None, factor
    with mpmath.workprec(_MP_PREC):
        inv = 1 / factor
        e = 0
        while mpmath.mpf(2) ** (e + 1) <= inv:
            e += 1
        while mpmath.mpf(2) ** e > inv:
            e -= 1
        rem = factor * mpmath.mpf(2) ** e
        return Fraction(1, 2**e) if e >= 0 else Fraction(2 ** (-e)), (None if rem == 1 else rem)


def _pre(ctx: _Ctx, values: list, p: Fraction | None, real: bool) -> list:
    if p is None:
        return values
    if real:
        return [ctx.r(_mul(v, p)) for v in values]
    return [(ctx.r(_mul(a, p)), ctx.r(_mul(b, p))) for a, b in values]


def _scale_all(ctx: _Ctx, values: list, factor: mpmath.mpf | None, real: bool) -> list:
    if factor is None:
        return values
    f = ctx.const(factor)
    if real:
        return [ctx.r(_mul(v, f)) for v in values]
    return [ctx.scale(v, f) for v in values]


# ---- public scalar references (lists of lists for 2-D) ------------------------------------------------------
def _ctx(fmt: Format, const_fmt: Format | None, mode: str, cmul: str) -> _Ctx:
    return _Ctx(fmt, const_fmt or fmt, mode, cmul)


def _cast_c(ctx: _Ctx, v: complex) -> tuple[Num, Num]:
    return ctx.r(Fraction(v.real)), ctx.r(Fraction(v.imag))


def ref_fft(x, fmt: Format, *, inverse: bool = False, norm: str = "backward", const_fmt: Format | None = None,
            mode: str = "rne", cmul: str = "fma", scaling: str = "after") -> list[tuple[Num, Num]]:
    """1-D complex transform of the sequence ``x`` (complex numbers), normalized per ``scaling``."""
    ctx = _ctx(fmt, const_fmt, mode, cmul)
    pre, post = _prescale(_norm_factor(norm, len(x), inverse), scaling)
    z = _pre(ctx, [_cast_c(ctx, complex(v)) for v in x], pre, real=False)
    y = _fft_any(ctx, z, +1 if inverse else -1)
    return _scale_all(ctx, y, post, real=False)


def ref_rfft(x, fmt: Format, *, norm: str = "backward", const_fmt: Format | None = None, mode: str = "rne",
             cmul: str = "fma") -> list[tuple[Num, Num]]:
    ctx = _ctx(fmt, const_fmt, mode, cmul)
    xs = [ctx.r(Fraction(float(v))) for v in x]
    y = _rfft_1d(ctx, xs)
    return _scale_all(ctx, y, _norm_factor(norm, len(x), False), real=False)


def ref_irfft(X, n: int, fmt: Format, *, norm: str = "backward", const_fmt: Format | None = None, mode: str = "rne",
              cmul: str = "fma") -> list[Num]:
    ctx = _ctx(fmt, const_fmt, mode, cmul)
    Xs = [_cast_c(ctx, complex(v)) for v in X]
    y = _irfft_1d(ctx, Xs, n)
    return _scale_all(ctx, y, _norm_factor(norm, n, True), real=True)


def _columns(ctx: _Ctx, rows: list[list[tuple[Num, Num]]], sign: int) -> list[list[tuple[Num, Num]]]:
    cols = [_fft_any(ctx, [rows[i][j] for i in range(len(rows))], sign) for j in range(len(rows[0]))]
    return [[cols[j][i] for j in range(len(cols))] for i in range(len(rows))]


def ref_fftn(x, fmt: Format, *, inverse: bool = False, norm: str = "backward", const_fmt: Format | None = None,
             mode: str = "rne", cmul: str = "fma") -> list[list[tuple[Num, Num]]]:
    """2-D complex transform of a list of rows: rows (last axis) first, then columns."""
    ctx = _ctx(fmt, const_fmt, mode, cmul)
    sign = +1 if inverse else -1
    rows = [_fft_any(ctx, [_cast_c(ctx, complex(v)) for v in row], sign) for row in x]
    out = _columns(ctx, rows, sign)
    f = _norm_factor(norm, len(x) * len(x[0]), inverse)
    return [_scale_all(ctx, r, f, real=False) for r in out]


def ref_rfftn(x, fmt: Format, *, norm: str = "backward", const_fmt: Format | None = None, mode: str = "rne",
              cmul: str = "fma", scaling: str = "after") -> list[list[tuple[Num, Num]]]:
    """2-D real transform: rfft along rows (last axis), then complex FFT along columns."""
    ctx = _ctx(fmt, const_fmt, mode, cmul)
    pre, post = _prescale(_norm_factor(norm, len(x) * len(x[0]), False), scaling)
    rows = [_rfft_1d(ctx, _pre(ctx, [ctx.r(Fraction(float(v))) for v in row], pre, real=True)) for row in x]
    out = _columns(ctx, rows, -1)
    return [_scale_all(ctx, r, post, real=False) for r in out]


def ref_irfftn(X, n_last: int, fmt: Format, *, norm: str = "backward", const_fmt: Format | None = None,
               mode: str = "rne", cmul: str = "fma") -> list[list[Num]]:
    """2-D inverse real transform: complex inverse along columns first, then irfft along rows."""
    ctx = _ctx(fmt, const_fmt, mode, cmul)
    rows = [[_cast_c(ctx, complex(v)) for v in row] for row in X]
    rows = _columns(ctx, rows, +1)
    out = [_irfft_1d(ctx, r, n_last) for r in rows]
    f = _norm_factor(norm, len(X) * n_last, True)
    return [_scale_all(ctx, r, f, real=True) for r in out]
