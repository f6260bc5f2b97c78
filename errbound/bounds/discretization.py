"""Discretization bounds for Fourier layers (statements D1-D5 of docs/theory/discretization.md).

Every bound exists twice: a sympy expression (``*_expr``), the statement as written in the docs, for
proofs_numeric/ and for rendering, and a vectorised numeric function evaluated in float64. Notation:
grid s points per axis, retained mode w (|w_i| <= k < s/2), per-axis Lipschitz constants
L_i = sup |d_i v|, per-axis variations V_i, sup norm M, decay |vhat(k)| <= C (1 + |k|^2)^-beta.

D2  (Lipschitz):  |E_s(w)| <= (1/(4s)) sum_i sqrt(L_i^2 + (2 pi w_i M)^2)
D2' (bounded variation):  |E_s(w)| <= (1/(2s)) sum_i (V_i + 4 |w_i| M)
D3  (lower bound): sup over {sup|d_i v| <= L_i, |v| <= M} of |E_s(w)| >= ell(w) (explicit witnesses);
     Euclidean class (docs/theory.md D3): sup over {L-Lipschitz} >= L kappa_d / s at w = 0 and
     >= L kappa_d / (Lambda_w s), Lambda_w = 2 sqrt(1 + pi^2 d |w|_2^2 / s^2), at w != 0 (the modulated tent
     W_s = 2 cos(2 pi w.x) T_s is Lambda_w L-Lipschitz, not L-Lipschitz: corrected in issue 16)
D4  (decay):  |E_s(w)| <= C (s - |w|_inf)^(-2 beta) Z_d(2 beta, Q),  Z_d(t, Q) = sum_{0 < |q|_inf <= Q} |q|_2^-t,
              Q = floor((band + |w|_inf) / s) (Q = inf without a band, then 2 beta > d is needed)
D4s (separable inputs): |E_s(w)| <= prod_i (|c_i(w_i)| + b_i(w_i)) - prod_i |c_i(w_i)| with 1-D tail bounds b_i
D5  (layer): RMS over the grid of K_s v - K v <= ( (1/c_out) sum_o sum_w (sum_c |R_oc(w)| B_c(w))^2 )^(1/2),
              max over the grid <= max_o sum_w sum_c |R_oc(w)| B_c(w), for any per-mode bounds B_c.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np


if TYPE_CHECKING:
    import sympy

    from errbound.functions import TorusFunction

__all__ = [
    "lipschitz_mode_bound", "bv_mode_bound", "lipschitz_lower_bound", "decay_mode_bound", "epstein_box_sum",
    "separable_mode_bound", "lipschitz_mode_bound_euclidean", "kappa", "separable_mode_bound_log10",
    "mode_upper_bounds_log10", "layer_bound", "mode_upper_bounds", "mode_lower_bound",
    "lipschitz_bound_expr", "bv_bound_expr", "lower_bound_expr", "decay_bound_expr", "layer_bound_expr",
    "tent_witness_error_expr", "THEOREMS", "lipschitz_lower_bound_euclidean", "modulated_tent_lambda",
]


def _w(w: Any, dim: int | None = None) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 0:
        w = w[None]
    return w


# ----------------------------------------------------------------------------------------------
# numeric bounds
# ----------------------------------------------------------------------------------------------
def lipschitz_mode_bound(s: float, w: Any, L_axes: Sequence[float], M: float) -> np.ndarray:
    """D2: (1/(4s)) sum_i sqrt(L_i^2 + (2 pi w_i M)^2) for modes ``w`` of shape (..., d)."""
    w = _w(w)
    L = np.asarray(L_axes, dtype=np.float64)
    return np.sum(np.sqrt(L**2 + (2 * np.pi * w * M) ** 2), axis=-1) / (4 * s)


#: kappa_d = E|y|_2 for y uniform on [-1/2, 1/2]^d (d = 1, 2, 3)
KAPPA = {1: 0.25, 2: (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6, 3: 0.48029}


def kappa(d: int) -> float:
    """E|y|_2, y uniform on [-1/2, 1/2]^d: exact for d <= 2; for d = 3 rounded up (true value 0.480296...)."""
    if d == 3:
        return 0.4803  # upper bound of the d = 3 constant, see docs/theory/discretization.md
    return KAPPA[d]


def lipschitz_mode_bound_euclidean(s: float, w: Any, L: float, M: float) -> np.ndarray:
    """D2(a): kappa_d sqrt(L^2 + (2 pi |w|_2 M)^2) / s for a Euclidean L-Lipschitz input."""
    w = _w(w)
    d = w.shape[-1]
    return kappa(d) * np.sqrt(L**2 + (2 * np.pi * M) ** 2 * np.sum(w**2, axis=-1)) / s


def modulated_tent_lambda(s: float, w: Any) -> np.ndarray:
    """docs/theory.md D3(d): Lambda_w = 2 sqrt(1 + pi^2 d |w|_2^2 / s^2), the factor by which the modulated tent
    W_s = 2 cos(2 pi w.x) T_s exceeds the Lipschitz constant L of T_s (2L <= Lip(W_s) <= Lambda_w L)."""
    w = _w(w)
    d = w.shape[-1]
    return 2 * np.sqrt(1 + np.pi**2 * d * np.sum(w**2, axis=-1) / float(s) ** 2)


def lipschitz_lower_bound_euclidean(s: float, w: Any, L: float) -> np.ndarray:
    """docs/theory.md D3(a) and D3(d): sup over Euclidean L-Lipschitz inputs of A(v, w; s) is at least
    L kappa_d / s at w = 0 (the distance-to-grid witness T_s, attained: equal to D2(a)) and at least
    L kappa_d / (Lambda_w s) at a retained w != 0 (the L-Lipschitz witness W_s / Lambda_w). No sup-norm
    constraint: the witnesses have |T_s| <= L sqrt(d)/(2s) and |W_s / Lambda_w| <= L sqrt(d) / (Lambda_w s).
    kappa_d is taken from below (a lower bound must not round up): 1/4, kappa_2 four ulps down, 0.48029 for d = 3."""
    w = _w(w)
    d = w.shape[-1]
    zero = np.all(w == 0, axis=-1)
    lam = np.where(zero, 1.0, modulated_tent_lambda(s, w))
    kap = KAPPA[d]
    if d == 2:
        for _ in range(4):
            kap = float(np.nextafter(kap, 0.0))
    return kap * L / (lam * s)


def bv_mode_bound(s: float, w: Any, V_axes: Sequence[float], M: float) -> np.ndarray:
    """D2': (1/(2s)) sum_i (V_i + 4 |w_i| M) for inputs of bounded variation."""
    w = _w(w)
    V = np.asarray(V_axes, dtype=np.float64)
    return np.sum(V + 4 * np.abs(w) * M, axis=-1) / (2 * s)


def lipschitz_lower_bound(s: int, w: Any, L_axes: Sequence[float], M: float) -> np.ndarray:
    """D3: ell(w) = the error of the best explicit witness in {sup|d_i v| <= L_i, |v| <= M}.

    Witnesses: the grid tent T(x) = lam sum_i L_i dist(x_i, Z/s) (w = 0 only; error min(sum L_i/(4s), M/2))
    and the aliased cosine a cos(2 pi K.x), K = w - s sign(w_j) e_j (error a/2, or a at w = 0), with the
    largest amplitude a <= M, 2 pi |K_i| a <= L_i, maximised over the alias axis j.
    """
    w = np.asarray(w, dtype=np.int64)
    if w.ndim == 0:
        w = w[None]
    L = np.asarray(L_axes, dtype=np.float64)
    d = w.shape[-1]
    zero = np.all(w == 0, axis=-1)
    best = np.zeros(w.shape[:-1])
    for j in range(d):
        sigma = np.where(w[..., j] >= 0, 1, -1)
        K = w.astype(np.float64).copy()
        K[..., j] = w[..., j] - sigma * s
        with np.errstate(divide="ignore", invalid="ignore"):
            limits = np.where(K != 0, L / (2 * np.pi * np.abs(K)), np.inf)
        amp = np.minimum(M, np.min(limits, axis=-1))
        best = np.maximum(best, np.where(zero, amp, amp / 2))
    tent = min(float(np.sum(L)) / (4 * s), M / 2)
    return np.where(zero, np.maximum(best, tent), best)


@lru_cache(maxsize=256)
def epstein_box_sum(t: float, d: int, Q: int | None) -> float:
    """Z_d(t, Q) = sum over 0 < |q|_inf <= Q of |q|_2^-t (an upper bound when Q is None: needs t > d)."""
    if Q is not None and Q < 1:
        return 0.0
    if Q is not None and (2 * Q + 1) ** d <= 4_000_000:
        axis = np.arange(-Q, Q + 1, dtype=np.float64) ** 2
        r2 = axis
        for _ in range(d - 1):
            r2 = np.add.outer(r2, axis)
        r2 = r2[r2 > 0]
        return float(np.sum(r2 ** (-t / 2))) * (1 + 1e-12)
    if t <= d:
        if Q is None:
            return math.inf
        # shell bound: #{|q|_inf = n} <= 2d (2n+1)^(d-1) <= 2d 3^(d-1) n^(d-1), |q|_2 >= n
        import mpmath

        Q0 = min(Q, 100 if d > 1 else 1_000_000)
        head = epstein_box_sum(t, d, Q0)
        tail = 2 * d * 3 ** (d - 1) * float(mpmath.fsum(mpmath.mpf(n) ** (d - 1 - t) for n in range(Q0 + 1, Q + 1))) if Q > Q0 else 0.0
        return head + tail
    import mpmath

    if Q is None:
        if d == 1:
            return float(2 * mpmath.zeta(t)) * (1 + 1e-12)
        if d == 2:
            # sum_{(m,n) != 0} (m^2 + n^2)^-u = 4 zeta(u) beta(u), beta the Dirichlet beta function
            u = t / 2
            return float(4 * mpmath.zeta(u) * mpmath.dirichlet(u, [0, 1, 0, -1])) * (1 + 1e-12)
    # finite head plus a rigorous tail: shells |q|_inf = n > Q0 hold <= 2d (2n+1)^(d-1) points with |q|_2 >= n
    import mpmath

    Q0 = 40 if Q is None else min(Q, 40)
    head = epstein_box_sum(t, d, Q0)
    if Q is not None and Q <= Q0:
        return head
    # (2n+1)^(d-1) <= ((2 + 1/Q0) n)^(d-1) for n > Q0
    c = 2 * d * (2 + 1 / Q0) ** (d - 1)
    if Q is None:
        tail = c * float(mpmath.zeta(t - d + 1, Q0 + 1))
    else:
        tail = c * float(mpmath.zeta(t - d + 1, Q0 + 1) - mpmath.zeta(t - d + 1, Q + 1))
    return head + tail * (1 + 1e-12)


def decay_mode_bound(s: int, w: Any, C: float, beta: float, band: int | None, d: int | None = None) -> np.ndarray:
    """D4: C (s - |w|_inf)^(-2 beta) Z_d(2 beta, Q), Q = floor((band + |w|_inf)/s) (inf when band is None)."""
    w = np.asarray(w, dtype=np.int64)
    if w.ndim == 0:
        w = w[None]
    d = w.shape[-1] if d is None else d
    winf = np.max(np.abs(w), axis=-1)
    out = np.empty(winf.shape, dtype=np.float64)
    for value in np.unique(winf):
        Q = None if band is None else int((band + value) // s)
        z = epstein_box_sum(2 * beta, d, Q)
        out[winf == value] = C * float(s - value) ** (-2 * beta) * z if z > 0 else 0.0
    return out


def separable_mode_bound(cs: Sequence[np.ndarray], bs: Sequence[np.ndarray], combine: str) -> np.ndarray:
    """D4s: prod_i(|c_i| + b_i) - prod_i |c_i| (product) or sum_i b_i [w_j = 0, j != i] (sum), on the box."""
    acs = [np.abs(c) for c in cs]
    if combine == "product":
        err, prod = bs[0], acs[0]
        for c, b in zip(acs[1:], bs[1:]):
            err = np.multiply.outer(err, c + b) + np.multiply.outer(prod, b)
            prod = np.multiply.outer(prod, c)
        return err
    size, d = len(bs[0]), len(bs)
    k = (size - 1) // 2
    out = np.zeros((size,) * d)
    for i, b in enumerate(bs):
        index = [k] * d
        index[i] = slice(None)
        out[tuple(index)] += b
    return out


def _factor_tail_bound(factor: Any, s: int, n: np.ndarray, log10: bool = False) -> np.ndarray | None:
    """1-D bound b(n) >= |sum_{q != 0} c(n + s q)| for the factors that have one (log10 b with ``log10``)."""
    from errbound.functions._factors import BesselFactor, PiecewiseLinearFactor

    m0 = s - np.abs(n)
    if isinstance(factor, PiecewiseLinearFactor):
        # |c(m)| <= sum_l |D_l| / (4 pi^2 m^2);  sum_{q != 0} (n + s q)^-2 <= 2 zeta(2) / (s - |n|)^2
        total = float(sum(abs(float(dj)) for dj in factor.jumps))
        b = total / (4 * np.pi**2) * (np.pi**2 / 3) / m0.astype(np.float64) ** 2
        if log10:
            with np.errstate(divide="ignore"):
                return np.log10(b)
        return b
    if isinstance(factor, BesselFactor):
        # I_m(a) <= (a/2)^m e^{a^2/4} / m!; partners |n + s q| are >= m0, each value taken at most twice
        a = factor.a
        if np.any(a >= 2 * (m0 + 1)):
            return None
        logb = (
            math.log(2) + a * a / 4 + m0 * math.log(a / 2) - np.array([math.lgamma(m + 1) for m in m0]) - np.log1p(-a / (2 * (m0 + 1)))
        )
        return logb / math.log(10) if log10 else np.exp(logb)
    return None


def separable_mode_bound_log10(cs: Sequence[np.ndarray], logbs: Sequence[np.ndarray], combine: str) -> np.ndarray:
    """log10 of D4s, summing the 2^d - 1 positive terms of the expansion in log space (no underflow)."""
    import itertools

    d = len(cs)
    size = len(cs[0])
    with np.errstate(divide="ignore"):
        logc = [np.log(np.abs(c)) for c in cs]
    lnb = [lb * math.log(10) for lb in logbs]
    if combine != "product":
        out = np.full((size,) * d, -np.inf)
        k = (size - 1) // 2
        for i, lb in enumerate(lnb):
            index = [k] * d
            index[i] = slice(None)
            out[tuple(index)] = np.logaddexp(out[tuple(index)], lb)
        return out / math.log(10)
    total = np.full((size,) * d, -np.inf)
    for mask in itertools.product((0, 1), repeat=d):
        if not any(mask):
            continue
        term = np.zeros((size,) * d)
        for i, use_b in enumerate(mask):
            shape = [1] * d
            shape[i] = size
            term = term + (lnb[i] if use_b else logc[i]).reshape(shape)
        total = np.logaddexp(total, term)
    return total / math.log(10)


def mode_upper_bounds_log10(fn: "TorusFunction", s: int, k: int) -> dict[str, np.ndarray]:
    """log10 of every bound of :func:`mode_upper_bounds` (-inf where a bound is 0), finite where the float64
    value underflows (D4s for analytic inputs)."""
    from errbound.functions._separable import SeparableFunction

    out = {}
    with np.errstate(divide="ignore"):
        for name, b in mode_upper_bounds(fn, s, k).items():
            out[name] = np.log10(b)
    if "D4s" in out and isinstance(fn, SeparableFunction):
        n = np.arange(-k, k + 1)
        logbs = [_factor_tail_bound(f, s, n, log10=True) for f in fn.factors]
        out["D4s"] = separable_mode_bound_log10([f.coef(n) for f in fn.factors], logbs, fn.combine)
    return out


def mode_upper_bounds(fn: "TorusFunction", s: int, k: int) -> dict[str, np.ndarray]:
    """Every upper bound that applies to ``fn`` on the box |w_i| <= k, as {theorem id: box array}."""
    from errbound.functions import mode_box
    from errbound.functions._separable import SeparableFunction

    w = mode_box(k, fn.dim)
    out: dict[str, np.ndarray] = {}
    if fn.L_axes is not None:
        out["D2"] = lipschitz_mode_bound(s, w, fn.L_axes, fn.M)
    if fn.L is not None:
        # fn.L >= sup |grad v|_2 always (exact, sqrt(sum L_i^2), or a sum-of-coefficients bound)
        out["D2a"] = lipschitz_mode_bound_euclidean(s, w, fn.L, fn.M)
    if fn.V_axes is not None:
        out["D2'"] = bv_mode_bound(s, w, fn.V_axes, fn.M)
    if fn.decay is not None:
        d = fn.decay
        Qcheck = d.band is not None or 2 * d.beta > fn.dim
        if Qcheck:
            out["D4"] = decay_mode_bound(s, w, d.C, d.beta, d.band, fn.dim)
    if isinstance(fn, SeparableFunction):
        n = np.arange(-k, k + 1)
        bs = [_factor_tail_bound(f, s, n) for f in fn.factors]
        if all(b is not None for b in bs):
            cs = [f.coef(n) for f in fn.factors]
            out["D4s"] = separable_mode_bound(cs, bs, fn.combine)
    return out


def mode_lower_bound(fn: "TorusFunction", s: int, k: int) -> np.ndarray | None:
    """D3 on the box for the lower-bound witnesses (tentgrid at its own s, aliased at its own s); else None."""
    from errbound.functions import mode_box

    if fn.name not in ("tentgrid", "aliased") or int(fn.params.get("s", 0)) != s or fn.L_axes is None:
        return None
    return lipschitz_lower_bound(s, mode_box(k, fn.dim), fn.L_axes, fn.M)


def layer_bound(weights: np.ndarray, mode_bounds: np.ndarray) -> tuple[float, float]:
    """D5: (RMS bound, max bound) of the layer-output error from per-mode bounds B_c(w).

    ``weights`` (c_out, c_in) + box, ``mode_bounds`` (c_in,) + box (or box for one channel).
    """
    weights = np.asarray(weights)
    B = np.asarray(mode_bounds, dtype=np.float64)
    if B.ndim == weights.ndim - 2:
        B = B[None]
    per_out = np.einsum("oc...,c...->o...", np.abs(weights), B)  # sum_c |R_oc(w)| B_c(w)
    axes = tuple(range(1, per_out.ndim))
    rms = float(np.sqrt(np.mean(np.sum(per_out**2, axis=axes))))
    mx = float(np.max(np.sum(per_out, axis=axes)))
    return rms, mx


# ----------------------------------------------------------------------------------------------
# sympy statements
# ----------------------------------------------------------------------------------------------
def _symbols(d: int):
    import sympy as sp

    s, M = sp.symbols("s M", positive=True)
    L = sp.symbols(f"L_1:{d + 1}", nonnegative=True)
    w = sp.symbols(f"w_1:{d + 1}", integer=True)
    return sp, s, M, L, w


def lipschitz_bound_expr(d: int) -> "sympy.Expr":
    """D2 as a sympy expression in s, M, L_i, w_i."""
    sp, s, M, L, w = _symbols(d)
    return sp.Add(*[sp.sqrt(L[i] ** 2 + (2 * sp.pi * w[i] * M) ** 2) for i in range(d)]) / (4 * s)


def bv_bound_expr(d: int) -> "sympy.Expr":
    """D2' as a sympy expression in s, M, V_i, w_i."""
    import sympy as sp

    s, M = sp.symbols("s M", positive=True)
    V = sp.symbols(f"V_1:{d + 1}", nonnegative=True)
    w = sp.symbols(f"w_1:{d + 1}", integer=True)
    return sp.Add(*[V[i] + 4 * sp.Abs(w[i]) * M for i in range(d)]) / (2 * s)


def tent_witness_error_expr(d: int) -> "sympy.Expr":
    """D3(a): the grid tent's exact error at w = 0, sum_i L_i / (4 s) (equal to D2 at w = 0)."""
    sp, s, M, L, w = _symbols(d)
    return sp.Add(*L) / (4 * s)


def lower_bound_expr(d: int) -> "sympy.Expr":
    """D3(b) for w != 0 with aliasing along axis 1: a/2, a = min(M, min_i L_i / (2 pi |K_i|)), K = w - s e_1."""
    sp, s, M, L, w = _symbols(d)
    K = [w[0] - s] + list(w[1:])
    limits = [L[i] / (2 * sp.pi * sp.Abs(K[i])) for i in range(d)]
    return sp.Min(M, *limits) / 2


def decay_bound_expr(d: int) -> "sympy.Expr":
    """D4 with Z = Z_d(2 beta, Q) left as a symbol."""
    import sympy as sp

    s, C, beta, Z = sp.symbols("s C beta Z", positive=True)
    winf = sp.Symbol("w_inf", nonnegative=True, integer=True)
    return C * (s - winf) ** (-2 * beta) * Z


def layer_bound_expr() -> "sympy.Expr":
    """D5 (one channel, RMS form): (sum_w |R(w)|^2 B(w)^2)^(1/2) written with an indexed sum."""
    import sympy as sp

    n = sp.Symbol("n", integer=True, positive=True)
    j = sp.Idx("j", n)
    R = sp.IndexedBase("R_abs")
    B = sp.IndexedBase("B")
    return sp.sqrt(sp.Sum(R[j] ** 2 * B[j] ** 2, (j, 1, n)))


#: theorem id -> (short statement, sympy builder, numeric function)
THEOREMS: dict[str, tuple[str, Any, Any]] = {
    "D2": ("Lipschitz worst-case upper bound, per-axis form D2(b)", lipschitz_bound_expr, lipschitz_mode_bound),
    "D2a": ("Lipschitz worst-case upper bound, Euclidean form D2(a)", None, lipschitz_mode_bound_euclidean),
    "D2'": ("bounded-variation upper bound", bv_bound_expr, bv_mode_bound),
    "D3": ("Theta(1/s) lower bound: grid tent and aliased cosine witnesses", lower_bound_expr, lipschitz_lower_bound),
    "D4": ("decay / Sobolev aliasing bound", decay_bound_expr, decay_mode_bound),
    "D4s": ("separable-input aliasing bound", None, separable_mode_bound),
    "D5": ("layer-level bound from per-mode bounds", layer_bound_expr, layer_bound),
}
