"""Floating-point (precision) error bounds for Fourier transforms and the spectral block.

Statements and proofs: docs/theory/precision.md (IDs P1-P6). Each bound exists twice:

* a sympy expression (``*_expr``) with the constants written out, used in the docs and checked
  against the numeric form in the tests;
* a fast numeric function working for the exact operation order of :mod:`errbound.emulate`.

The numeric engine is a *stage list*. A computation ``y = G_s(...G_1(x))`` is described by stages
``k = 1..s``, each with

* ``lip``: a Lipschitz constant of the exact map ``G_k`` in the 2-norm with ``G_k(0) = 0`` (for a
  linear map its operator norm, e.g. ``sqrt 2`` for a radix-2 butterfly stage);
* ``alpha``, ``beta``: the computed stage satisfies ``||fl(G_k)(z) - G_k(z)|| <= alpha ||z|| + beta``
  for every computed input ``z`` (``beta`` collects underflow: absolute errors below the normal
  range);
* ``linear``: whether ``G_k`` is linear (needed by the probabilistic bound, P3).

Lemma S (docs/theory/precision.md): with ``N_0 = ||x||``, ``N_k = (lip_k + alpha_k) N_{k-1} + beta_k``
(a bound on the norm of the computed intermediate) and ``E_k = lip_k E_{k-1} + alpha_k N_{k-1} + beta_k``,
``E_0 = 0``, the computed output satisfies ``||y_hat - y|| <= E_s``. Worst-case bounds are ``E_s``.
The probabilistic bound (P3) keeps the errors of rounded constants (``alpha_det``: twiddles, chirps,
matrix entries, weights) worst-case and replaces the sum of the arithmetic rounding errors propagated
through the later linear stages by ``lambda * sqrt(sum_k c_k^2)``,
``c_k = (prod_{j>k} lip_j)((alpha_k - alpha_det_k) N_{k-1} + beta_k)``, which holds with probability at
least ``1 - 2 exp(-lambda^2 / 2)`` when those errors are conditionally mean-zero given the past
(stochastic rounding; for round to nearest this is the model of Higham and Mary) by Pinelis'
Hilbert-space martingale inequality.

Per-operation constants (round to nearest, unit roundoff ``u``, ``tau`` = half the smallest spacing):

* real add/sub/multiply/fma: ``|fl(v) - v| <= u |v| + tau``;
* complex product ``fl(a w)`` with FFTConfig ``cmul="fma"`` (4 roundings):
  ``|fl(a w) - a w| <= sqrt(5) u (1 + u) |a||w| + 2 sqrt(2) tau`` (proof in the docs);
  ``cmul="4m2a"``: ``sqrt(2) gamma_2`` (Higham, Lemma 3.5);
* a constant ``c`` rounded componentwise into the constant format: ``|c_hat - c| <= u_c |c| + sqrt(2) tau_c``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from errbound.errors import ErrboundError
from errbound.formats import Format, get_format

__all__ = [
    "Stage", "StageBound", "evaluate_stages", "op_constants", "OpConstants",
    "input_rounding_bound", "fft_worst_higham", "fft_eta", "fft_worst_pow2", "fft_prob_pow2",
    "prob_failure", "lambda_for_failure",
    "fft_stages", "rfftn_stages", "irfftn_stages", "fftn_stages", "dft_matmul_stages", "idft_matmul_stages",
    "cast_stage", "scale_stage", "contraction_stage",
    "transform_bounds",
    "input_rounding_expr", "higham_fft_expr", "fft_worst_expr", "fft_prob_expr", "prob_failure_expr",
    "dft_matmul_axis_expr", "lemma_s_expr",
]

_NEAREST = ("rne", "rna")


# ---- per-operation constants -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class OpConstants:
    """Rounding constants of one format under one rounding mode.

    ``u``: relative error bound in the normal range (``2**-t`` for nearest modes, ``2**(1-t)`` for
    directed and stochastic ones); ``tau``: absolute error bound below the normal range.
    """

    fmt: Format
    u: float
    tau: float

    def gamma(self, n: int) -> float:
        """``gamma_n = n u / (1 - n u)`` (inf when ``n u >= 1``)."""
        nu = n * self.u
        return math.inf if nu >= 1 else nu / (1 - nu)


def op_constants(fmt: Format | str, mode: str = "rne") -> OpConstants:
    """:class:`OpConstants` of ``fmt`` under ``mode``."""
    fmt = get_format(fmt)
    nearest = mode in _NEAREST
    u = fmt.u if nearest else 2 * fmt.u
    if fmt.subnormals:
        spacing = fmt.min_subnormal
    else:
        spacing = fmt.min_normal
    tau = spacing / 2 if nearest else spacing
    return OpConstants(fmt, u, tau)


def _cmul_gamma(c: OpConstants, cmul: str) -> float:
    if cmul == "fma":
        return math.sqrt(5.0) * c.u * (1 + c.u)
    if cmul == "4m2a":
        return math.sqrt(2.0) * c.gamma(2)
    raise ErrboundError(f"cmul must be 'fma' or '4m2a', got {cmul!r}")


# ---- the stage engine --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of a computation (see the module docstring)."""

    name: str
    lip: float
    alpha: float
    beta: float = 0.0
    linear: bool = True
    #: the part of ``alpha`` due to rounded constants (twiddles, chirps, DFT-matrix entries, weights,
    #: scale factors): deterministic, so P3 adds it worst-case instead of treating it as random
    alpha_det: float = 0.0

    def __post_init__(self) -> None:
        for field in ("lip", "alpha", "beta", "alpha_det"):
            value = getattr(self, field)
            if not (value >= 0):
                raise ErrboundError(f"stage {self.name!r}: {field} must be >= 0, got {value!r}")
        if self.alpha_det > self.alpha:
            raise ErrboundError(f"stage {self.name!r}: alpha_det {self.alpha_det} exceeds alpha {self.alpha}")


@dataclasses.dataclass(frozen=True)
class StageBound:
    """Result of :func:`evaluate_stages`: absolute 2-norm bounds on ``||y_hat - y||``."""

    worst: float
    prob: float
    lam: float
    failure_prob: float
    out_norm_bound: float
    stages: int


def evaluate_stages(stages: Sequence[Stage], x_norm: float, *, lam: float = 3.0) -> StageBound:
    """Worst-case bound (Lemma S) and probabilistic bound (P3) for input norm ``x_norm``.

    The probabilistic part covers the stages from the last nonlinear one on; the errors of the
    stages before it enter worst-case (propagated through the later Lipschitz constants).
    """
    if lam <= 0:
        raise ErrboundError(f"lambda must be > 0, got {lam!r}")
    n_prev = float(x_norm)
    err = 0.0
    norms_before = []
    for st in stages:
        norms_before.append(n_prev)
        err = st.lip * err + st.alpha * n_prev + st.beta
        n_prev = (st.lip + st.alpha) * n_prev + st.beta
    last_nonlinear = max((i for i, st in enumerate(stages) if not st.linear), default=-1)
    # worst-case error of the prefix (through the last nonlinear stage)
    pre = 0.0
    for i in range(last_nonlinear + 1):
        st = stages[i]
        pre = st.lip * pre + st.alpha * norms_before[i] + st.beta
    tail = stages[last_nonlinear + 1:]
    lip_after = [1.0] * (len(tail) + 1)
    for j in range(len(tail) - 1, -1, -1):
        lip_after[j] = lip_after[j + 1] * tail[j].lip
    sq = 0.0
    det = 0.0
    for j, st in enumerate(tail):
        nb = norms_before[last_nonlinear + 1 + j]
        det += lip_after[j + 1] * st.alpha_det * nb
        ck = lip_after[j + 1] * ((st.alpha - st.alpha_det) * nb + st.beta)
        sq += ck * ck
    prob = lip_after[0] * pre + det + lam * math.sqrt(sq)
    prob = min(prob, err)  # the worst-case bound holds always
    return StageBound(worst=err, prob=prob, lam=lam, failure_prob=prob_failure(lam), out_norm_bound=n_prev,
                      stages=len(stages))


def prob_failure(lam: float) -> float:
    """Failure probability ``2 exp(-lambda^2 / 2)`` of the probabilistic bound P3."""
    return min(1.0, 2.0 * math.exp(-lam * lam / 2.0))


def lambda_for_failure(p: float) -> float:
    """The ``lambda`` with ``2 exp(-lambda^2/2) = p``."""
    if not 0 < p < 1:
        raise ErrboundError(f"failure probability must be in (0, 1), got {p!r}")
    return math.sqrt(2.0 * math.log(2.0 / p))


# ---- elementary stages ---------------------------------------------------------------------------------------------
def cast_stage(fmt: Format | str, count: int, mode: str = "rne", name: str = "cast") -> Stage:
    """Rounding ``count`` real components into ``fmt``: identity map, ``alpha = u``,
    ``beta = tau sqrt(count)``."""
    c = op_constants(fmt, mode)
    return Stage(name, 1.0, c.u, c.tau * math.sqrt(count))


def scale_stage(factor: float, fmt: Format | str, const_fmt: Format | str, count: int, mode: str = "rne",
                name: str = "scale", factor_rounded: float | None = None) -> Stage:
    """Multiplication of ``count`` real components by ``factor`` held in ``const_fmt``, result rounded
    into ``fmt``: ``lip = |f|``, ``alpha = |f_hat - f| + u |f_hat|``, ``beta = tau sqrt(count)``."""
    c = op_constants(fmt, mode)
    if factor_rounded is None:
        from errbound.rounding import round_to

        factor_rounded = float(round_to(np.float64(factor), get_format(const_fmt)))
    alpha = abs(factor_rounded - factor) + c.u * abs(factor_rounded)
    return Stage(name, abs(factor), alpha, c.tau * math.sqrt(count), alpha_det=abs(factor_rounded - factor))


def _butterfly_stage(c: OpConstants, cc: OpConstants, cmul: str, entries: int, name: str) -> Stage:
    gm = _cmul_gamma(c, cmul)
    mu = cc.u + math.sqrt(2.0) * cc.tau
    nu = mu + (1 + mu) * gm
    alpha = math.sqrt(2.0) * (c.u + (1 + c.u) * nu)
    beta = 3 * (1 + c.u) * c.tau * math.sqrt(2 * entries)
    return Stage(name, math.sqrt(2.0), alpha, beta, alpha_det=math.sqrt(2.0) * mu)


def _cmul_const_stage(c: OpConstants, cc: OpConstants, cmul: str, entries: int, cmax: float, name: str) -> Stage:
    """Entrywise product with rounded constants of modulus <= cmax."""
    gm = _cmul_gamma(c, cmul)
    alpha = cmax * (cc.u + (1 + cc.u) * gm) + math.sqrt(2.0) * cc.tau * (1 + gm)
    det = cmax * cc.u + math.sqrt(2.0) * cc.tau
    return Stage(name, cmax, alpha, 2 * c.tau * math.sqrt(2 * entries), alpha_det=det)


@lru_cache(maxsize=256)
def bluestein_kernel_max(n: int) -> float:
    """``max_k |K_k|`` of the Bluestein kernel ``K = DFT_M(b) / M`` (float64 with a safety margin)."""
    M = 1 << max(0, (2 * n - 2).bit_length())
    m = np.arange(M)
    idx = np.where(m < n, m, M - m)
    b = np.where((m < n) | (m > M - n), np.exp(1j * np.pi * (idx.astype(np.float64) ** 2 % (2 * n)) / n), 0)
    return float(np.max(np.abs(np.fft.fft(b))) / M) * (1 + 1e-9) + 1e-15


def fft_stages(n: int, entries_total: int, fmt: Format | str, *, const_fmt: Format | str | None = None,
               cmul: str = "fma", mode: str = "rne", label: str = "fft") -> list[Stage]:
    """Stages of one unnormalized complex FFT of length ``n`` along an axis, applied to arrays holding
    ``entries_total`` complex numbers in all (radix-2 for powers of two, Bluestein otherwise, the
    order of :mod:`errbound.emulate`)."""
    c = op_constants(fmt, mode)
    cc = op_constants(const_fmt if const_fmt is not None else fmt, mode)
    if n < 1:
        raise ErrboundError(f"transform length must be >= 1, got {n}")
    if n == 1:
        return []
    if n & (n - 1) == 0:
        t = n.bit_length() - 1
        return [_butterfly_stage(c, cc, cmul, entries_total, f"{label}.stage{i + 1}") for i in range(t)]
    M = 1 << max(0, (2 * n - 2).bit_length())
    fibers = entries_total // n
    PM = fibers * M
    st = [_cmul_const_stage(c, cc, cmul, entries_total, 1.0, f"{label}.chirp_in")]
    st += [_butterfly_stage(c, cc, cmul, PM, f"{label}.bluestein.fft{i + 1}") for i in range(M.bit_length() - 1)]
    st.append(_cmul_const_stage(c, cc, cmul, PM, bluestein_kernel_max(n), f"{label}.kernel"))
    st += [_butterfly_stage(c, cc, cmul, PM, f"{label}.bluestein.ifft{i + 1}") for i in range(M.bit_length() - 1)]
    st.append(_cmul_const_stage(c, cc, cmul, entries_total, 1.0, f"{label}.chirp_out"))
    return st


def _split_stage(c: OpConstants, cc: OpConstants, cmul: str, entries_out: int, inverse: bool, name: str) -> Stage:
    gm = _cmul_gamma(c, cmul)
    nu = cc.u + (1 + cc.u) * gm
    absc = 4 * (1 + c.u) * cc.tau * (1 + gm)
    if inverse:
        lip = 2.0
        alpha = 2 * c.u + 2 * math.sqrt(2.0) * (1 + c.u) * nu + math.sqrt(2.0) * absc
        det = 2 * math.sqrt(2.0) * cc.u + math.sqrt(2.0) * 4 * cc.tau
    else:
        lip = math.sqrt(2.0)
        alpha = math.sqrt(2.0) * c.u + 2 * (1 + c.u) * nu + absc
        det = 2 * cc.u + 4 * cc.tau
    return Stage(name, lip, alpha, 5 * (1 + c.u) * c.tau * math.sqrt(2 * entries_out), alpha_det=min(det, alpha))


def rfft_last_stages(n: int, fibers: int, fmt, *, const_fmt=None, cmul="fma", mode="rne", label="rfft") -> list[Stage]:
    """Unnormalized real FFT of length n along the last axis of ``fibers`` rows."""
    c = op_constants(fmt, mode)
    cc = op_constants(const_fmt if const_fmt is not None else fmt, mode)
    if n % 2 == 1:
        st = fft_stages(n, fibers * n, fmt, const_fmt=const_fmt, cmul=cmul, mode=mode, label=label)
        return st + [Stage(f"{label}.truncate", 1.0, 0.0)]
    N = n // 2
    st = fft_stages(N, fibers * N, fmt, const_fmt=const_fmt, cmul=cmul, mode=mode, label=label)
    return st + [_split_stage(c, cc, cmul, fibers * (N + 1), False, f"{label}.split")]


def irfft_last_stages(n: int, fibers: int, fmt, *, const_fmt=None, cmul="fma", mode="rne", label="irfft") -> list[Stage]:
    """Unnormalized inverse real FFT producing length n along the last axis of ``fibers`` rows."""
    c = op_constants(fmt, mode)
    cc = op_constants(const_fmt if const_fmt is not None else fmt, mode)
    hermit = Stage(f"{label}.hermitian", 1.0, 0.0)  # zeroing imaginary parts of bins 0, n/2: a projection
    if n % 2 == 1:
        ext = Stage(f"{label}.extend", math.sqrt(2.0), 0.0)
        st = fft_stages(n, fibers * n, fmt, const_fmt=const_fmt, cmul=cmul, mode=mode, label=label)
        return [hermit, ext] + st + [Stage(f"{label}.real_part", 1.0, 0.0)]
    N = n // 2
    st = [hermit, _split_stage(c, cc, cmul, fibers * N, True, f"{label}.split")]
    return st + fft_stages(N, fibers * N, fmt, const_fmt=const_fmt, cmul=cmul, mode=mode, label=label)


def rfftn_stages(shape: Sequence[int], fmt, *, const_fmt=None, cmul="fma", mode="rne", batch: int = 1) -> list[Stage]:
    """Unnormalized ``rfftn`` over all axes of ``shape`` (real transform on the last axis, then complex
    ones on the others, last to first), for ``batch`` independent arrays."""
    shape = [int(v) for v in shape]
    total = batch * math.prod(shape)
    half = shape[:-1] + [shape[-1] // 2 + 1]
    half_total = batch * math.prod(half)
    st = rfft_last_stages(shape[-1], total // shape[-1], fmt, const_fmt=const_fmt, cmul=cmul, mode=mode,
                          label="rfft[-1]")
    for ax in range(len(shape) - 2, -1, -1):
        st += fft_stages(shape[ax], half_total, fmt, const_fmt=const_fmt, cmul=cmul, mode=mode, label=f"fft[{ax}]")
    return st


def fftn_stages(shape: Sequence[int], fmt, *, const_fmt=None, cmul="fma", mode="rne", batch: int = 1) -> list[Stage]:
    """Unnormalized complex ``fftn`` over all axes of ``shape``."""
    total = batch * math.prod(int(v) for v in shape)
    st: list[Stage] = []
    for ax in range(len(shape) - 1, -1, -1):
        st += fft_stages(int(shape[ax]), total, fmt, const_fmt=const_fmt, cmul=cmul, mode=mode, label=f"fft[{ax}]")
    return st


def irfftn_stages(shape: Sequence[int], fmt, *, const_fmt=None, cmul="fma", mode="rne", batch: int = 1) -> list[Stage]:
    """Unnormalized ``irfftn`` to the real grid ``shape`` (complex inverses on axes 0..d-2, then the
    real inverse on the last axis)."""
    shape = [int(v) for v in shape]
    half = shape[:-1] + [shape[-1] // 2 + 1]
    half_total = batch * math.prod(half)
    st: list[Stage] = []
    for ax in range(len(shape) - 1):
        st += fft_stages(shape[ax], half_total, fmt, const_fmt=const_fmt, cmul=cmul, mode=mode, label=f"ifft[{ax}]")
    st += irfft_last_stages(shape[-1], half_total // half[-1], fmt, const_fmt=const_fmt, cmul=cmul, mode=mode,
                            label="irfft[-1]")
    return st


# ---- matrix-product DFT (tensor-core model) -------------------------------------------------------------------------
def _matmul_stage(ci: OpConstants, ca: OpConstants, *, L: int, q: int, row: float, lip: float, fibers: int,
                  name: str) -> Stage:
    """One matrix product along an axis: inner length ``L`` (real terms), ``q`` real outputs per fiber,
    exact rows of 2-norm <= ``row``, exact map norm ``lip``; matrix entries rounded into the input
    format, products exact, recursive accumulation in the accumulator format (L roundings)."""
    gL = ca.gamma(L)
    per = row * (ci.u + (1 + ci.u) * gL) + ci.tau * math.sqrt(L) * (1 + gL)
    alpha = math.sqrt(q) * per
    beta = L * ca.tau * math.sqrt(q * fibers)
    det = math.sqrt(q) * (row * ci.u + ci.tau * math.sqrt(L))
    return Stage(name, lip, alpha, beta, alpha_det=min(det, alpha))


def dft_matmul_stages(shape: Sequence[int], modes: Sequence[int], input_fmt, acc_fmt, *, out_fmt=None,
                      norm: str = "forward", mode: str = "rne", batch: int = 1) -> list[Stage]:
    """Stages of :func:`errbound.emulate.dft_modes` (real input, ``scaling="after"``)."""
    shape = [int(v) for v in shape]
    modes = [int(v) for v in modes]
    ci, ca = op_constants(input_fmt, mode), op_constants(acc_fmt, mode)
    d = len(shape)
    cur = list(shape)
    st = [cast_stage(input_fmt, batch * math.prod(shape), mode, "cast.input")]
    for i in range(d - 1, -1, -1):
        n = shape[i]
        real_axis = i == d - 1
        K = modes[i] if real_axis else 2 * modes[i]
        fibers = batch * math.prod(cur) // n
        if i != d - 1:
            st.append(cast_stage(input_fmt, 2 * batch * math.prod(cur), mode, f"cast.axis{i}"))
        L = n if real_axis else 2 * n
        st.append(_matmul_stage(ci, ca, L=L, q=2 * K, row=math.sqrt(n), lip=math.sqrt(n), fibers=fibers,
                                name=f"dft[{i}]"))
        cur[i] = K
    count = 2 * batch * math.prod(cur)
    m = math.prod(shape)
    f = _norm_factor_value(norm, m, inverse=False)
    if f != 1.0:
        st.append(scale_stage(f, acc_fmt, acc_fmt, count, mode, "normalize"))
    if out_fmt is not None:
        st.append(cast_stage(out_fmt, count, mode, "cast.out"))
    return st


def idft_matmul_stages(shape: Sequence[int], modes: Sequence[int], input_fmt, acc_fmt, *, out_fmt=None,
                       norm: str = "forward", mode: str = "rne", batch: int = 1) -> list[Stage]:
    """Stages of :func:`errbound.emulate.idft_modes` (real output, ``scaling="after"``)."""
    shape = [int(v) for v in shape]
    modes = [int(v) for v in modes]
    ci, ca = op_constants(input_fmt, mode), op_constants(acc_fmt, mode)
    d = len(shape)
    cur = [2 * modes[i] for i in range(d - 1)] + [modes[-1]]
    st = [cast_stage(input_fmt, 2 * batch * math.prod(cur), mode, "cast.spectrum")]
    for i in range(d):
        n = shape[i]
        fibers = batch * math.prod(cur) // cur[i]
        if i > 0:
            st.append(cast_stage(input_fmt, 2 * batch * math.prod(cur), mode, f"cast.axis{i}"))
        if i == d - 1:
            K = modes[-1]
            st.append(_matmul_stage(ci, ca, L=2 * K, q=n, row=2 * math.sqrt(K), lip=2 * math.sqrt(n),
                                    fibers=fibers, name=f"idft[{i}]"))
        else:
            K2 = 2 * modes[i]
            st.append(_matmul_stage(ci, ca, L=2 * K2, q=2 * n, row=math.sqrt(K2), lip=math.sqrt(n),
                                    fibers=fibers, name=f"idft[{i}]"))
        cur[i] = n
    count = batch * math.prod(shape)
    f = _norm_factor_value(norm, math.prod(shape), inverse=True)
    if f != 1.0:
        st.append(scale_stage(f, acc_fmt, acc_fmt, count, mode, "normalize"))
    if out_fmt is not None:
        st.append(cast_stage(out_fmt, count, mode, "cast.out"))
    return st


def contraction_stage(weights: np.ndarray, input_fmt, acc_fmt, *, product_fmt=None, out_fmt=None,
                      mode: str = "rne", batch: int = 1) -> list[Stage]:
    """Stages of the complex contraction ``out[o, w] = sum_i R[o, i, w] X[i, w]`` done in real pairs:
    the spectrum and the weights rounded into ``input_fmt``, each real product rounded into
    ``product_fmt`` (None: exact), the ``2 C_in`` products of one output component accumulated
    recursively in ``acc_fmt``, the result rounded into ``out_fmt`` (None: left in acc_fmt).

    ``weights``: complex array (C_out, C_in, *modes)."""
    R = np.asarray(weights)
    c_out, c_in = R.shape[:2]
    P = int(np.prod(R.shape[2:]))
    Rm = R.reshape(c_out, c_in, P)
    norm_op = 0.0
    norm_abs = 0.0
    for w in range(P):
        norm_op = max(norm_op, float(np.linalg.norm(Rm[:, :, w], 2)))
        norm_abs = max(norm_abs, float(np.linalg.norm(np.abs(Rm[:, :, w]), 2)))
    norm_op *= 1 + 1e-12
    norm_abs *= 1 + 1e-12
    ci, ca = op_constants(input_fmt, mode), op_constants(acc_fmt, mode)
    cp = op_constants(product_fmt, mode) if product_fmt is not None else OpConstants(ci.fmt, 0.0, 0.0)
    L = 2 * c_in
    gL = ca.gamma(L)
    wmax = float(np.max(np.abs(Rm))) if Rm.size else 0.0
    theta = ci.u + (1 + ci.u) * (cp.u + (1 + cp.u) * gL)
    # weights rounded: |R_hat - R| <= u |R| + sqrt2 tau; spectrum cast handled as a separate stage
    alpha = math.sqrt(2.0) * theta * norm_abs + math.sqrt(2.0) * ci.tau * math.sqrt(c_in * c_out) * 2
    outputs = batch * c_out * P
    beta = (L * ca.tau + L * cp.tau * (1 + gL) + (1 + gL) * L * ci.tau * wmax) * math.sqrt(2 * outputs)
    det = math.sqrt(2.0) * ci.u * norm_abs + math.sqrt(2.0) * ci.tau * math.sqrt(c_in * c_out) * 2
    st = [cast_stage(input_fmt, 2 * batch * c_in * P, mode, "cast.spectrum"),
          Stage("contract", norm_op, alpha, beta, alpha_det=min(det, alpha))]
    if out_fmt is not None:
        st.append(cast_stage(out_fmt, 2 * outputs, mode, "cast.contract_out"))
    return st


def _norm_factor_value(norm: str, m: int, inverse: bool) -> float:
    if m == 1:
        return 1.0
    if norm == "ortho":
        return 1 / math.sqrt(m)
    if (norm == "forward") != inverse:
        return 1.0 / m
    return 1.0


# ---- transform bounds for measured data ----------------------------------------------------------------------------
def transform_bounds(x: np.ndarray, fmt: Format | str, *, transform: str = "rfftn", norm: str = "forward",
                     const_fmt=None, cmul: str = "fma", mode: str = "rne", lam: float = 3.0,
                     input_cast: bool = True, y_norm: float | None = None) -> dict[str, float]:
    """Relative worst-case and probabilistic bounds (P2, P3, with P1 for the cast) on
    ``||fl(T x) - T x|| / ||T x||`` for the emulated ``transform`` ("rfftn" or "fftn" over all axes of
    ``x`` after the leading batch axes are folded: pass ``x`` of the grid shape or with one batch axis
    first when ``x.ndim > grid``). ``y_norm``: the exact output norm (computed in float64 if None)."""
    x = np.asarray(x)
    if transform not in ("rfftn", "fftn"):
        raise ErrboundError(f"transform must be 'rfftn' or 'fftn', got {transform!r}")
    shape = x.shape
    fmt = get_format(fmt)
    const = get_format(const_fmt) if const_fmt is not None else fmt
    total = math.prod(shape)
    stages: list[Stage] = []
    if input_cast:
        stages.append(cast_stage(fmt, total * (2 if np.iscomplexobj(x) else 1), mode, "cast.input"))
    if transform == "rfftn":
        stages += rfftn_stages(shape, fmt, const_fmt=const, cmul=cmul, mode=mode)
        out_count = 2 * math.prod(list(shape[:-1]) + [shape[-1] // 2 + 1])
        exact = np.fft.rfftn(x, norm=norm)
    else:
        stages += fftn_stages(shape, fmt, const_fmt=const, cmul=cmul, mode=mode)
        out_count = 2 * total
        exact = np.fft.fftn(x, norm=norm)
    f = _norm_factor_value(norm, total, inverse=False)
    if f != 1.0:
        stages.append(scale_stage(f, fmt, const, out_count, mode, "normalize"))
    res = evaluate_stages(stages, float(np.linalg.norm(x)), lam=lam)
    yn = float(np.linalg.norm(exact)) if y_norm is None else float(y_norm)
    if yn == 0:
        return {"worst": math.inf, "prob": math.inf, "failure_prob": res.failure_prob, "lambda": lam}
    return {"worst": res.worst / yn, "prob": res.prob / yn, "failure_prob": res.failure_prob, "lambda": lam}


# ---- closed forms (P1-P4) ------------------------------------------------------------------------------------------
def input_rounding_bound(M: float, fmt: Format | str, mode: str = "rne") -> float:
    """P1: ``|V_hat_s(w) - V_s(w)| <= u M + tau`` for every mode w and resolution s, when the only
    rounding is the cast of samples with ``|v| <= M`` (the DFT itself exact)."""
    c = op_constants(fmt, mode)
    return c.u * M + c.tau


def fft_worst_higham(n: int, u: float, mu: float) -> float:
    """Higham (2002), Thm 24.2, literally: ``t eta / (1 - t eta)``, ``eta = mu + gamma_4 (sqrt 2 + mu)``,
    ``t = log2 n`` (radix-2, n = 2**t, complex data, no input rounding). Returns inf when ``t eta >= 1``."""
    t = _log2_exact(n)
    g4 = 4 * u / (1 - 4 * u)
    eta = mu + g4 * (math.sqrt(2.0) + mu)
    return math.inf if t * eta >= 1 else t * eta / (1 - t * eta)


def fft_eta(u: float, mu: float, gm: float) -> float:
    """Our per-stage constant: ``eta = u + (1 + u)(mu + (1 + mu) gm)`` (gm: complex-product constant)."""
    return u + (1 + u) * (mu + (1 + mu) * gm)


def fft_worst_pow2(n: int, fmt: Format | str, *, const_fmt=None, cmul: str = "fma") -> float:
    """P2 (our constant, no underflow): ``(1 + eta)^t - 1`` for a radix-2 complex FFT, n = 2**t, with
    ``mu = u_c + sqrt(2) tau_c`` (twiddles rounded into the constant format)."""
    c = op_constants(fmt)
    cc = op_constants(const_fmt if const_fmt is not None else fmt)
    t = _log2_exact(n)
    return (1 + fft_eta(c.u, cc.u + math.sqrt(2.0) * cc.tau, _cmul_gamma(c, cmul))) ** t - 1


def fft_prob_pow2(n: int, fmt: Format | str, *, lam: float = 3.0, const_fmt=None, cmul: str = "fma") -> float:
    """P3 (no underflow): ``(1 + eta)^(t-1) (t mu + lambda sqrt(t) eta_r)`` with
    ``eta_r = u + u mu + (1 + u)(1 + mu) g`` (the random part of eta; the twiddle error mu is
    deterministic and enters worst-case); failure probability ``2 exp(-lambda^2/2)``."""
    c = op_constants(fmt)
    cc = op_constants(const_fmt if const_fmt is not None else fmt)
    t = _log2_exact(n)
    mu = cc.u + math.sqrt(2.0) * cc.tau
    g = _cmul_gamma(c, cmul)
    eta = fft_eta(c.u, mu, g)
    eta_r = c.u + c.u * mu + (1 + c.u) * (1 + mu) * g
    return (1 + eta) ** (t - 1) * (t * mu + lam * math.sqrt(t) * eta_r)


def _log2_exact(n: int) -> int:
    if not isinstance(n, (int, np.integer)) or n < 1 or (n & (n - 1)):
        raise ErrboundError(f"this closed form is for radix-2 lengths n = 2**t, got {n!r}")
    return int(n).bit_length() - 1


def _sympy():
    import sympy

    return sympy


def input_rounding_expr():
    """P1 as sympy: ``u*M + tau``."""
    sp = _sympy()
    u, M, tau = sp.symbols("u M tau", positive=True)
    return u * M + tau


def higham_fft_expr():
    """Higham Thm 24.2 as sympy in ``t, u, mu``."""
    sp = _sympy()
    t, u, mu = sp.symbols("t u mu", positive=True)
    g4 = 4 * u / (1 - 4 * u)
    eta = mu + g4 * (sp.sqrt(2) + mu)
    return t * eta / (1 - t * eta)


def fft_worst_expr():
    """P2 (ours) as sympy in ``t, u, mu, g`` (g: complex-product constant, sqrt(5) u (1+u) with FMA)."""
    sp = _sympy()
    t, u, mu, g = sp.symbols("t u mu g", positive=True)
    eta = u + (1 + u) * (mu + (1 + mu) * g)
    return (1 + eta) ** t - 1


def fft_prob_expr():
    """P3 as sympy in ``lam, t, u, mu, g``: ``(1 + eta)^(t-1) (t mu + lam sqrt(t) eta_r)``."""
    sp = _sympy()
    lam, t, u, mu, g = sp.symbols("lam t u mu g", positive=True)
    eta = u + (1 + u) * (mu + (1 + mu) * g)
    eta_r = u + u * mu + (1 + u) * (1 + mu) * g
    return (1 + eta) ** (t - 1) * (t * mu + lam * sp.sqrt(t) * eta_r)


def prob_failure_expr():
    """Failure probability of P3 as sympy: ``2 exp(-lam^2/2)``."""
    sp = _sympy()
    lam = sp.symbols("lam", positive=True)
    return 2 * sp.exp(-lam**2 / 2)


def dft_matmul_axis_expr():
    """P4, one axis, no underflow, as sympy: relative stage constant of a truncated DFT as a matrix
    product, ``alpha / ||A|| = sqrt(q) (u_in + (1 + u_in) gamma_L(u_acc))`` with ``row = ||A|| = sqrt(n)``."""
    sp = _sympy()
    q, L, u_in, u_acc = sp.symbols("q L u_in u_acc", positive=True)
    gL = L * u_acc / (1 - L * u_acc)
    return sp.sqrt(q) * (u_in + (1 + u_in) * gL)


def lemma_s_expr(stages: int):
    """Lemma S (P5's engine) as sympy for ``stages`` stages: ``(E_s, N_s)`` in the symbols
    ``x`` (input norm), ``lip_k``, ``alpha_k``, ``beta_k`` (k = 1..stages)."""
    sp = _sympy()
    if stages < 0:
        raise ErrboundError(f"number of stages must be >= 0, got {stages}")
    x = sp.Symbol("x", nonnegative=True)
    E, N = sp.Integer(0), x
    for k in range(1, stages + 1):
        lip, a, b = sp.symbols(f"lip_{k} alpha_{k} beta_{k}", nonnegative=True)
        E = lip * E + a * N + b
        N = (lip + a) * N + b
    return E, N
