"""One-dimensional periodic factors from which the separable test functions are built.

Each factor f: [0, 1) -> R knows its coefficients c(n) = int_0^1 f(x) e^{-2 pi i n x} dx, its samples,
and the 1-D discretization error e_s(n) = F_s(n) - c(n), where F_s(n) = (1/s) sum_j f(j/s) e^{-2 pi i n j/s},
both by a float64 formula free of cancellation (``disc_error``) and by an independent reference
(``disc_error_mp``): mpmath at ``dps`` digits.

Factors:

* :class:`BesselFactor`  f(x) = exp(a sin(2 pi (x - shift))); c(n) = I_n(a) (-i)^n e^{-2 pi i n shift}
  (Jacobi-Anger: e^{a cos t} = sum_n I_n(a) e^{i n t}, with t = theta - pi/2). Analytic: the aliasing
  sum e_s(n) = sum_{q != 0} c(n + s q) converges super-exponentially.
* :class:`PiecewiseLinearFactor`  periodic, linear between rational breakpoints p_l, slope jump D_l at p_l.
  c(n) = -sum_l D_l e^{-2 pi i n p_l} / (2 pi n)^2 for n != 0 (from f'' = sum_l D_l delta_{p_l}). The grid
  error has the closed form (docs/theory/discretization.md, lemma D1 and its corollary)
      e_s(n) = -(1/s^2) sum_l D_l e^{-2 pi i n j_l / s} G(n/s, theta_l),   s p_l = j_l + theta_l,
      G(u, t) = [(1 - t) + t e^{-2 pi i u} - e^{-2 pi i u t}] / (4 sin^2 pi u)
                + e^{-2 pi i u t} [1/(4 sin^2 pi u) - 1/(4 pi^2 u^2)],   G(0, t) = 1/12 - t (1 - t)/2,
  evaluated with series where the two parts would cancel.
* :class:`StepFactor`  indicator of [a, b) with the value 1/2 at a jump (the normalised BV representative,
  the value its Fourier series converges to). c(n) = e^{-i pi n (a+b)} sin(pi n (b-a)) / (pi n);
  F_s(n) is a geometric (Dirichlet-kernel) sum.

The mpmath reference for the piecewise factors is the direct O(s) DFT of the exact samples, an
independent route to F_s(n).
"""

from __future__ import annotations

import abc
import bisect
import math
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

import mpmath
import numpy as np

from errbound.errors import ErrboundError
from errbound.functions._phase import cis_neg, cis_neg_mp, frac_floor

__all__ = ["Factor1D", "BesselFactor", "PiecewiseLinearFactor", "StepFactor", "direct_dft_mp"]


class Factor1D(abc.ABC):
    """A 1-periodic real function of one variable with exact coefficients (see module docstring)."""

    sup: float  #: max |f|
    lip: float | None  #: sup |f'| (None: not Lipschitz)
    var: float  #: total variation over one period
    nonnegative: bool = False

    @abc.abstractmethod
    def coef(self, n: np.ndarray) -> np.ndarray: ...

    @abc.abstractmethod
    def coef_mp(self, n: int, dps: int) -> mpmath.mpc: ...

    @abc.abstractmethod
    def eval(self, x: np.ndarray) -> np.ndarray: ...

    @abc.abstractmethod
    def eval_mp(self, x, dps: int) -> mpmath.mpf: ...

    @abc.abstractmethod
    def disc_error(self, s: int, n: np.ndarray) -> np.ndarray: ...

    @abc.abstractmethod
    def disc_error_mp(self, s: int, n: int, dps: int) -> mpmath.mpc: ...

    def samples(self, s: int) -> np.ndarray:
        return self.eval(np.arange(s) / s)


# --------------------------------------------------------------------------------------------
# analytic factor
# --------------------------------------------------------------------------------------------
class BesselFactor(Factor1D):
    """f(x) = exp(a sin(2 pi (x - shift)))."""

    def __init__(self, a: float, shift: float = 0.0) -> None:
        if not (math.isfinite(a) and 0 < a <= 50):
            raise ErrboundError(f"smooth: a must be in (0, 50], got {a!r} (exp(a) must stay finite)")
        self.a = float(a)
        self.shift = Fraction(float(shift))
        self.sup = math.exp(self.a)
        # sup |f'| = 2 pi a max_t cos t e^{a sin t}: at sin t = (sqrt(1 + 4a^2) - 1) / (2a)
        st = (math.sqrt(1 + 4 * self.a**2) - 1) / (2 * self.a)
        self.lip = 2 * math.pi * self.a * math.sqrt(1 - st * st) * math.exp(self.a * st)
        self.var = 2 * (math.exp(self.a) - math.exp(-self.a))
        self.nonnegative = True
        # last order with I_n(a) > 1e-310 (float64 cannot hold smaller): the float64 aliasing sum stops there
        from scipy.special import iv

        n = 0
        while iv(n, self.a) > 1e-310:
            n += 8
        self._nmax = n

    def _phase(self, n: np.ndarray) -> np.ndarray:
        # (-i)^n e^{-2 pi i n shift} = e^{-2 pi i n (1/4 + shift)}
        x = Fraction(1, 4) + self.shift
        num = np.asarray(n, dtype=np.int64) * x.numerator
        return cis_neg(num, x.denominator) if x.denominator < 2**62 // max(1, int(np.max(np.abs(n), initial=1))) else np.exp(
            -2j * np.pi * np.mod(np.asarray(n, dtype=np.float64) * float(x), 1.0)
        )

    def coef(self, n: np.ndarray) -> np.ndarray:
        from scipy.special import iv

        n = np.asarray(n, dtype=np.int64)
        return iv(np.abs(n), self.a) * self._phase(n)

    def coef_mp(self, n: int, dps: int) -> mpmath.mpc:
        with mpmath.workdps(dps + 5):
            return mpmath.besseli(abs(int(n)), mpmath.mpf(self.a)) * cis_neg_mp(int(n) * (Fraction(1, 4) + self.shift), dps)

    def eval(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.a * np.sin(2 * np.pi * (np.asarray(x, dtype=np.float64) - float(self.shift))))

    def eval_mp(self, x, dps: int) -> mpmath.mpf:
        with mpmath.workdps(dps + 5):
            x = mpmath.mpf(x) if not isinstance(x, Fraction) else mpmath.mpf(x.numerator) / x.denominator
            return mpmath.exp(self.a * mpmath.sin(2 * mpmath.pi * (x - mpmath.mpf(self.shift.numerator) / self.shift.denominator)))

    def disc_error(self, s: int, n: np.ndarray) -> np.ndarray:
        n = np.asarray(n, dtype=np.int64)
        qmax = (self._nmax + int(np.max(np.abs(n), initial=0))) // s + 1
        q = np.concatenate([np.arange(-qmax, 0), np.arange(1, qmax + 1)])
        partners = n[:, None] + s * q[None, :]
        terms = self.coef(partners)
        # add smallest first (terms decay fast away from q = -sign(n))
        order = np.argsort(-np.abs(partners), axis=1)
        return np.take_along_axis(terms, order, axis=1).sum(axis=1)

    def disc_error_mp(self, s: int, n: int, dps: int) -> mpmath.mpc:
        with mpmath.workdps(dps + 10):
            total = mpmath.mpc(0)
            for sign in (1, -1):
                q = 1
                first = None
                while True:
                    term = self.coef_mp(n + sign * s * q, dps + 10)
                    total += term
                    size = abs(term)
                    if first is None:
                        first = size
                    # terms decay faster than geometrically: stop once negligible at this precision
                    if size == 0 or (first > 0 and size < first * mpmath.mpf(10) ** (-(dps + 10))):
                        break
                    q += 1
            return total


# --------------------------------------------------------------------------------------------
# piecewise factors: direct high-precision DFT reference
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _roots_mp(s: int, dps: int) -> tuple:
    with mpmath.workdps(dps):
        return tuple(
            mpmath.mpc(mpmath.cospi(mpmath.mpf(-2 * m) / s), mpmath.sinpi(mpmath.mpf(-2 * m) / s)) for m in range(s)
        )


def direct_dft_mp(samples: Sequence[Fraction], n: int, dps: int) -> mpmath.mpc:
    """(1/s) sum_j samples[j] e^{-2 pi i n j/s} with exact rational samples, at ``dps`` digits."""
    s = len(samples)
    roots = _roots_mp(s, dps)
    with mpmath.workdps(dps):
        acc = mpmath.mpc(0)
        for j, y in enumerate(samples):
            if y:
                acc += (mpmath.mpf(y.numerator) / y.denominator) * roots[(n * j) % s]
        return acc / s


def _extra_digits(s: int) -> int:
    # V_s(n) and c(n) are O(1); their difference can be as small as O(1/s^2): keep 2 log10(s) + 10 guard digits
    return 2 * int(math.log10(max(s, 2))) + 12


class _SampledFactor(Factor1D):
    """Factors whose samples are exact rationals: reference by direct mp DFT of the samples."""

    @abc.abstractmethod
    def exact_sample(self, x: Fraction) -> Fraction: ...

    def disc_error_mp(self, s: int, n: int, dps: int) -> mpmath.mpc:
        work = dps + _extra_digits(s)
        samples = [self.exact_sample(Fraction(j, s)) for j in range(s)]
        with mpmath.workdps(work):
            return direct_dft_mp(samples, int(n), work) - self.coef_mp(int(n), work)

    def eval_mp(self, x, dps: int) -> mpmath.mpf:
        xf = x if isinstance(x, Fraction) else Fraction(float(x)) if not isinstance(x, mpmath.mpf) else None
        if xf is None:
            # an mpf is a dyadic rational: convert exactly
            man, exp = mpmath.mpf(x).man_exp
            xf = Fraction(int(man)) * (Fraction(2) ** int(exp))
        y = self.exact_sample(xf)
        with mpmath.workdps(dps):
            return mpmath.mpf(y.numerator) / y.denominator


# csc^2 x - 1/x^2 = sum_{k>=1} (2k-1) 2^{2k} |B_{2k}| x^{2k-2} / (2k)!
def _csc2_minus_series_coeffs(count: int = 14) -> np.ndarray:
    coeffs = []
    for k in range(1, count + 1):
        b = abs(Fraction(mpmath.bernfrac(2 * k)[0], mpmath.bernfrac(2 * k)[1]))
        coeffs.append(float((2 * k - 1) * 2 ** (2 * k) * b / math.factorial(2 * k)))
    return np.array(coeffs)


_CSC2_COEFFS = _csc2_minus_series_coeffs()


def _bern_series_coeffs(count: int = 12) -> np.ndarray:
    """B_2k / (2k)! for k = 1..count (1/(e^z - 1) - 1/z = -1/2 + sum_k B_2k z^(2k-1) / (2k)!)."""
    out = []
    for k in range(1, count + 1):
        num, den = mpmath.bernfrac(2 * k)
        out.append(float(Fraction(int(num), int(den)) / math.factorial(2 * k)))
    return np.array(out)


_BERN_SERIES = _bern_series_coeffs()


def _csc2_minus_inv2(x: np.ndarray) -> np.ndarray:
    """csc^2(x) - 1/x^2 for |x| <= pi/2 without cancellation (series below 0.5, direct above)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = np.abs(x) < 0.5
    xs = x[small] ** 2
    acc = np.zeros_like(xs)
    for c in _CSC2_COEFFS[::-1]:  # Horner in x^2 (ratio of terms ~ (x/pi)^2 < 0.026: 14 terms reach 1e-22)
        acc = acc * xs + c
    out[small] = acc
    xl = x[~small]
    out[~small] = 1.0 / np.sin(xl) ** 2 - 1.0 / xl**2
    return out


def _pl_kernel(u: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """G(u, t) of the module docstring, broadcast over u (|u| < 1/2) and theta in [0, 1)."""
    u, theta = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(theta, np.float64))
    phi = 2 * np.pi * u
    # N = (1 - t) + t e^{-i phi} - e^{-i phi t} = sum_{m>=2} (-i phi)^m (t - t^m) / m!   (|phi| <= pi)
    num = np.zeros(u.shape, dtype=np.complex128)
    term = np.ones(u.shape, dtype=np.complex128)
    tpow = theta.copy()
    for m in range(1, 45):  # pi^45/45! ~ 1e-34: far below float64
        term = term * (-1j * phi) / m
        if m >= 2:
            tpow = tpow * theta
            num += term * (theta - tpow)
    x = np.pi * u
    h = _csc2_minus_inv2(x) / 4.0  # 1/(4 sin^2 x) - 1/(4 x^2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # N / (4 sin^2 pi u) = (N / phi^2) * (phi^2 / (4 sin^2 pi u)) = (N/phi^2) * pi^2 u^2 / sin^2(pi u) * ...
        ratio = np.where(u == 0, 1.0, (x / np.where(u == 0, 1.0, np.sin(x))) ** 2)  # x^2/sin^2 x
        n_over_phi2 = np.where(u == 0, -(theta - theta**2) / 2, num / np.where(u == 0, 1.0, phi) ** 2)
    first = n_over_phi2 * ratio  # N/(4 sin^2 pi u) = N/phi^2 * (4 pi^2 u^2)/(4 sin^2 pi u)
    phase = np.exp(-1j * phi * theta)
    return first + phase * h


class PiecewiseLinearFactor(_SampledFactor):
    """Periodic piecewise-linear f through (p_l, y_l), p_l exact rationals in [0, 1)."""

    def __init__(self, points: Sequence[Fraction], values: Sequence[float | Fraction]) -> None:
        pairs = sorted((Fraction(p) % 1, Fraction(y)) for p, y in zip(points, values, strict=True))
        if len(pairs) < 2:
            raise ErrboundError("a piecewise-linear factor needs at least two breakpoints")
        ps = [p for p, _ in pairs]
        if len(set(ps)) != len(ps):
            raise ErrboundError(f"breakpoints must be distinct modulo 1, got {ps}")
        self.points = ps
        self.values = [y for _, y in pairs]
        count = len(ps)
        nxt = [ps[(i + 1) % count] + (1 if i == count - 1 else 0) for i in range(count)]
        slopes = [(self.values[(i + 1) % count] - self.values[i]) / (nxt[i] - ps[i]) for i in range(count)]
        self.slopes = slopes
        self.jumps = [slopes[i] - slopes[i - 1] for i in range(count)]  # slope jump at p_i
        self.mean = sum(((self.values[i] + self.values[(i + 1) % count]) / 2) * (nxt[i] - ps[i]) for i in range(count))
        self.sup = float(max(abs(y) for y in self.values))
        self.lip = float(max(abs(m) for m in slopes))
        self.var = float(sum(abs(self.values[(i + 1) % count] - self.values[i]) for i in range(count)))
        self.nonnegative = min(self.values) >= 0
        self._pf = np.array([float(p) for p in ps])
        self._jf = np.array([float(d) for d in self.jumps])

    def coef(self, n: np.ndarray) -> np.ndarray:
        n = np.asarray(n, dtype=np.int64)
        out = np.empty(n.shape, dtype=np.complex128)
        zero = n == 0
        nz = n[~zero].astype(np.float64)
        phase = np.exp(-2j * np.pi * np.mod(nz[:, None] * self._pf[None, :], 1.0))
        out[~zero] = -(phase @ self._jf) / (4 * np.pi**2 * nz**2)
        out[zero] = float(self.mean)
        return out

    def coef_mp(self, n: int, dps: int) -> mpmath.mpc:
        n = int(n)
        with mpmath.workdps(dps + 5):
            if n == 0:
                return mpmath.mpc(mpmath.mpf(self.mean.numerator) / self.mean.denominator)
            acc = mpmath.mpc(0)
            for p, d in zip(self.points, self.jumps):
                if d:
                    acc += (mpmath.mpf(d.numerator) / d.denominator) * cis_neg_mp(n * p, dps)
            return -acc / (4 * mpmath.pi**2 * n * n)

    def eval(self, x: np.ndarray) -> np.ndarray:
        x = np.mod(np.asarray(x, dtype=np.float64), 1.0)
        xp = np.concatenate([self._pf, [self._pf[0] + 1.0]])
        yp = np.array([float(y) for y in self.values] + [float(self.values[0])])
        x = np.where(x < xp[0], x + 1.0, x)
        return np.interp(x, xp, yp)

    def exact_sample(self, x: Fraction) -> Fraction:
        x = x % 1
        ps = self.points
        i = bisect.bisect_right(ps, x) - 1  # segment starting at ps[i] (i = -1: wraps from the last)
        p0 = ps[i] if i >= 0 else ps[-1] - 1
        return self.values[i] + self.slopes[i] * (x - p0)

    def disc_error(self, s: int, n: np.ndarray) -> np.ndarray:
        n = np.asarray(n, dtype=np.int64)
        js, thetas = [], []
        for p in self.points:
            j, t = frac_floor(p * s)
            js.append(j)
            thetas.append(float(t))
        j = np.array(js, dtype=np.int64)
        theta = np.array(thetas)
        u = n.astype(np.float64) / s
        g = _pl_kernel(u[:, None], theta[None, :])
        phase = cis_neg(n[:, None] * j[None, :], s)
        return -((phase * g) @ self._jf) / s**2


class StepFactor(_SampledFactor):
    """Indicator of [a, b) (0 <= a < b <= 1), value 1/2 at the two jumps."""

    def __init__(self, a: float | Fraction, b: float | Fraction) -> None:
        a, b = Fraction(a), Fraction(b)
        if not (0 <= a < b <= 1) or b - a >= 1:
            raise ErrboundError(f"step: need 0 <= a < b <= 1 and b - a < 1, got a={float(a)}, b={float(b)}")
        self.a, self.b = a, b
        self.sup = 1.0
        self.lip = None
        self.var = 2.0
        self.nonnegative = True

    def coef(self, n: np.ndarray) -> np.ndarray:
        n = np.asarray(n, dtype=np.int64)
        nf = n.astype(np.float64)
        mid = (self.a + self.b) / 2
        phase = np.exp(-2j * np.pi * np.mod(nf * float(mid), 1.0))
        width = float(self.b - self.a)
        with np.errstate(divide="ignore", invalid="ignore"):
            amp = np.where(n == 0, width, np.sin(np.pi * np.mod(nf * width, 2.0)) / (np.pi * np.where(n == 0, 1, nf)))
        return amp * phase

    def coef_mp(self, n: int, dps: int) -> mpmath.mpc:
        n = int(n)
        with mpmath.workdps(dps + 5):
            width = self.b - self.a
            if n == 0:
                return mpmath.mpc(mpmath.mpf(width.numerator) / width.denominator)
            amp = mpmath.sinpi(mpmath.mpf((n * width).numerator) / (n * width).denominator) / (mpmath.pi * n)
            return amp * cis_neg_mp(n * (self.a + self.b) / 2, dps)

    def eval(self, x: np.ndarray) -> np.ndarray:
        x = np.mod(np.asarray(x, dtype=np.float64), 1.0)
        a, b = float(self.a), float(self.b)
        out = ((x > a) & (x < b)).astype(np.float64)
        out[(x == a) | (x == b % 1.0)] = 0.5
        return out

    def exact_sample(self, x: Fraction) -> Fraction:
        x = x % 1
        if x == self.a or x == self.b % 1:
            return Fraction(1, 2)
        return Fraction(1) if self.a < x < self.b else Fraction(0)

    def _discrete(self, s: int, n: np.ndarray) -> np.ndarray:
        """F_s(n) = (1/s) sum_j f(j/s) e^{-2 pi i n j / s} in closed form (Dirichlet kernel)."""
        j0 = -((-self.a * s).numerator // (-self.a * s).denominator)  # ceil(a s)
        j1 = -((-self.b * s).numerator // (-self.b * s).denominator)  # ceil(b s)
        count = j1 - j0  # indices j0 .. j1-1 lie in [a, b)
        nz = np.mod(n, s) != 0
        out = np.empty(n.shape, dtype=np.complex128)
        nn = n[nz]
        # sum_{j=j0}^{j1-1} e^{-2 pi i n j/s} = e^{-2 pi i n (j0 + (count-1)/2)/s} sin(pi n count/s)/sin(pi n/s)
        centre = cis_neg(nn * (2 * j0 + count - 1), 2 * s)
        ratio = np.sin(np.pi * np.mod(nn * count, 2 * s) / s) / np.sin(np.pi * nn / s)
        out[nz] = centre * ratio
        out[~nz] = count
        # value 1/2 at a jump that falls on a grid point
        if (self.a * s).denominator == 1:
            out -= 0.5 * cis_neg(n * int(self.a * s), s)  # j = a s was counted with weight 1
        if (self.b * s).denominator == 1:
            out += 0.5 * cis_neg(n * int(self.b * s), s)  # j = b s (mod s) was not counted
        return out / s

    def disc_error(self, s: int, n: np.ndarray) -> np.ndarray:
        """e_s(n) from the jumps, without cancellation (docs/theory/discretization.md, D1 corollary).

        With jumps J_l at p_l, s p_l = j_l + theta_l, u = n/s, phi = 2 pi u:
            e_s(n) = (1/s) sum_l J_l e^{-2 pi i n j_l/s} K(u, theta_l),
            K(u, t) = [1/(e^{i phi} - 1) - 1/(i phi)] + (1 - e^{-i phi t})/(i phi)   (t > 0),
            K(u, 0) = [1/(e^{i phi} - 1) - 1/(i phi)] + 1/2                          (jump on a grid point),
        the first bracket by its Bernoulli series -1/2 + sum_k B_2k (i phi)^(2k-1)/(2k)! for |phi| < 1.
        """
        n = np.asarray(n, dtype=np.int64)
        u = n.astype(np.float64) / s
        phi = 2 * np.pi * u
        z = 1j * phi
        small = np.abs(phi) < 1.0
        bern = np.empty(n.shape, dtype=np.complex128)
        zs = z[small]
        acc = np.full(zs.shape, -0.5 + 0j)
        zpow = zs.copy()
        for coeff in _BERN_SERIES:  # B_2k/(2k)!, ratio of terms (phi/2pi)^2 < 0.026: 12 terms reach 1e-19
            acc = acc + coeff * zpow
            zpow = zpow * zs * zs
        bern[small] = acc
        zl = z[~small]
        bern[~small] = 1.0 / np.expm1(zl) - 1.0 / zl
        total = np.zeros(n.shape, dtype=np.complex128)
        for p, jump in ((self.a, 1.0), (self.b % 1, -1.0)):
            j, theta = frac_floor(p * s)
            if theta == 0:
                second = np.full(n.shape, 0.5 + 0j)
            else:
                tz = -z * float(theta)
                with np.errstate(invalid="ignore", divide="ignore"):
                    second = np.where(n == 0, float(theta), -np.expm1(tz) / np.where(n == 0, 1.0, z))
            total += jump * cis_neg(n * j, s) * (bern + second)
        return total / s
