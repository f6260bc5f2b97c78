"""Crossover resolution s*: where the precision error meets the discretization error (C1 in
docs/theory/precision.md).

Both errors are measured per retained Fourier mode on the box ``|w_i| <= k`` (the discretization
convention of :mod:`errbound.discretization`), as the largest absolute error over the box:

* discretization ``A(s) = max_w |V_s(w) - vhat(w)|`` (exact aliasing sums of the function);
* precision ``P(s) = max_w |fl(V_s)(w) - V_s(w)|`` where ``fl(V_s)`` is the emulated forward transform
  in the format (samples cast into it, unnormalized rfftn, then ``1/m``: the half/torch order), with
  the optimal power-of-two pre-scale applied when the plain transform would overflow (the resolution
  where it first overflows is reported as ``s_overflow``).

``s_star_empirical``: the smallest resolution on the ladder where ``P >= A``, refined by log-log
interpolation between the two ladder points around the crossing (``None`` if ``P < A`` on the whole
ladder; ``below_ladder`` if ``P >= A`` already at the first point).
``s_star_bound``: the same with the worst-case per-mode bounds: precision P2m (componentwise form of
P2, power-of-two grids) against the best proven discretization bound of the function
(:func:`errbound.bounds.discretization.mode_upper_bounds`, the minimum over the theorems that apply).
``s_star_class``: the Lipschitz-class worst case of C1, ``(L + 2 pi |w|_2 M) sqrt(d) / s = P2m(s)``.

The three crossovers of docs/theory.md section 4 (issue 16), each of the worst-case discretization error of
the class {L-Lipschitz, |v| <= M} at w = 0, ``A*(s) = L kappa_d / s`` (exact: D2(a) attained by D3(a)), against
a different precision figure (continuous in s; ``guarantees`` in each row says what each one means):

* ``s_star_input_model``: against P1, ``u M + eta_F`` (only the input is rounded, the transform is exact);
  ``s* = L kappa_d / (u M + eta_F)`` (C1 with a = 0);
* ``s_star_proven``: against the tightest proven bound for the transform actually used here, the emulated
  radix-2 FFT in the format (P2m: the per-mode form of P2 with input rounding, :func:`precision_mode_bound`);
* ``s_star_empirical`` (unchanged): where the *measured* precision error of this function meets its exact
  discretization error on the ladder; and ``s_star_class_empirical``: ``A*(s)`` against the largest measured
  precision error of this function over the ladder, ``c_emp u M``, i.e. ``s = L kappa_d / (c_emp u M)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from errbound.errors import ErrboundError
from errbound.formats import Format, get_format

__all__ = ["precision_mode_bound", "crossover", "default_ladder", "interpolate_crossing", "s_star_class",
           "measure_precision_modes", "class_disc_worst", "s_star_input_model", "s_star_proven", "GUARANTEES"]

#: what each crossover resolution guarantees (docs/theory.md, section 4, "Three crossovers")
GUARANTEES = {
    "s_star_input_model": (
        "P1 (input rounding only, exact transform): for s <= s*, the worst-case discretization error over the class "
        "{L-Lipschitz, |v| <= M} (L kappa_d / s at w = 0, attained) is >= u M + eta_F, a bound on the error of the "
        "exact DFT of the rounded samples of every input of the class. Says nothing about the rounding inside the FFT."),
    "s_star_proven": (
        "proven for the transform used (P2m: per-mode form of P2 with input rounding, radix-2 FFT in the format, "
        "round to nearest, no overflow): for s <= s*, the class's worst-case discretization error L kappa_d / s is >= "
        "the proven bound on |fl(V_s)(w) - V_s(w)| for every input with |v| <= M and every mode. A guarantee, but "
        "from a worst-case bound far above typical errors."),
    "s_star_empirical": (
        "measured, this function only: the first ladder resolution (log-log interpolated) where the emulated "
        "precision error of this input reaches its exact discretization error. No guarantee for other inputs or "
        "resolutions off the ladder."),
    "s_star_class_empirical": (
        "estimate: the class's worst-case discretization error L kappa_d / s against c_emp u M, c_emp the largest "
        "measured precision error / (u M) of this function on the ladder. Typical, not guaranteed."),
}


def _kappa(dim: int) -> float:
    """kappa_d to float64 accuracy from its closed forms (errbound.bounds.discretization.kappa rounds kappa_3 *up*,
    right for an upper bound but not for the crossover equation, which needs the value itself)."""
    if dim == 1:
        return 0.25
    if dim == 2:
        return (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6
    if dim == 3:
        return (6 * math.sqrt(3) + 12 * math.log(2 + math.sqrt(3)) - math.pi) / 48
    raise ErrboundError(f"kappa_d is known for d in 1..3, got d = {dim}")


def class_disc_worst(s: float, L: float, dim: int) -> float:
    """A*(s) = L kappa_d / s: the worst case over {L-Lipschitz, |v| <= M} of A(v, 0; s) (docs/theory.md D2(a),
    attained by D3(a) when M >= L sqrt(d) / (2s))."""
    return L * _kappa(dim) / s


def s_star_input_model(L: float, M: float, dim: int, fmt: Format | str) -> float:
    """C1 with P1 (c = 1, a = 0, plus the subnormal term eta_F of P1): s* = L kappa_d / (u M + eta_F)."""
    from errbound.bounds.precision import op_constants

    c = op_constants(fmt)
    return L * _kappa(dim) / (c.u * M + c.tau)


def _p2m_continuous(fmt: Format | str, M: float, dim: int):  # type: ignore[no-untyped-def]
    """P2m (precision_mode_bound) as a function of a real log2 s, with t = dim log2 s taken continuously (the
    bound is increasing in t)."""
    from errbound.bounds.precision import _cmul_gamma, fft_eta, op_constants

    c = op_constants(fmt)
    eta = fft_eta(c.u, c.u + math.sqrt(2.0) * c.tau, _cmul_gamma(c, "fma"))

    def p2m(log2s: float) -> float:
        t = dim * log2s
        B = (1 + c.u) * M + c.tau
        grow = (1 + eta) ** t
        E = math.sqrt(2.0) * (grow - 1) * B + 8 * c.tau * grow
        return c.u * M + c.tau + (1 + c.u) * E + c.u * (B + E) + c.tau

    return p2m


def _first_crossing(gap, lo: float, hi: float, iterations: int, at_lo: float) -> float | None:  # type: ignore[no-untyped-def]
    """Bisection for the least log2 s in [lo, hi] with ``gap >= 0`` (gap increasing): ``at_lo`` if already at
    lo, None if not reached at hi, else ``2**log2 s``."""
    if gap(lo) >= 0:
        return at_lo
    if gap(hi) < 0:
        return None
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if gap(mid) >= 0:
            hi = mid
        else:
            lo = mid
    return 2.0**hi


def s_star_proven(L: float, M: float, dim: int, fmt: Format | str, *, s_max: float = 2.0**40) -> float | None:
    """The resolution where A*(s) = L kappa_d / s meets P2m(s) (precision_mode_bound with t = dim log2 s taken
    continuous; P2m is increasing in t), by bisection on log2 s; 1.0 if P2m >= A* already at s = 1, None if
    not reached below ``s_max``."""
    p2m = _p2m_continuous(fmt, M, dim)
    return _first_crossing(lambda log2s: p2m(log2s) - class_disc_worst(2.0**log2s, L, dim), 0.0, math.log2(s_max),
                           100, 1.0)

#: the box radius K (retained |w_i| <= K) of the default 8 modes per axis (errbound.modes.box_radius)
DEFAULT_K = 4
_MAX_RES = {1: 1 << 16, 2: 1024, 3: 64}


def default_ladder(dim: int, k: int, max_res: int | None = None) -> list[int]:
    """Powers of two from the least one above 2k up to ``max_res`` (default 65536, 1024, 64 for d = 1, 2, 3)."""
    top = _MAX_RES.get(dim, 64) if max_res is None else int(max_res)
    s = 1
    while s <= 2 * k:
        s *= 2
    out = []
    while s <= top:
        out.append(s)
        s *= 2
    if not out:
        raise ErrboundError(f"no power-of-two resolution in ({2 * k}, {top}]; lower --modes or raise --max-res")
    return out


def precision_mode_bound(s: int, dim: int, M: float, fmt: Format | str, *, const_fmt: Format | str | None = None,
                         cmul: str = "fma") -> float:
    """P2m: worst-case bound on ``max_w |fl(V_s)(w) - V_s(w)|`` for samples with ``|v| <= M``, a radix-2
    grid ``s^dim`` (forward-normalized rfftn, scaling after, round to nearest, no overflow)::

        u M + tau + (1 + u) [ sqrt(2) ((1 + eta)^t - 1) B + 8 tau (1 + eta)^t ] + u (B + E) + tau,
        B = (1 + u) M + tau,  t = dim log2 s,  eta = u + (1 + u)(mu + (1 + mu) g)

    with E the bracket (docs/theory/precision.md, P2m)."""
    from errbound.bounds.precision import _cmul_gamma, fft_eta, op_constants

    if s < 2 or s & (s - 1):
        raise ErrboundError(f"P2m is proved for power-of-two grids, got s = {s}")
    c = op_constants(fmt)
    cc = op_constants(const_fmt if const_fmt is not None else fmt)
    eta = fft_eta(c.u, cc.u + math.sqrt(2.0) * cc.tau, _cmul_gamma(c, cmul))
    t = dim * (s.bit_length() - 1)
    B = (1 + c.u) * M + c.tau
    grow = (1 + eta) ** t
    E = math.sqrt(2.0) * (grow - 1) * B + 8 * c.tau * grow
    return c.u * M + c.tau + (1 + c.u) * E + c.u * (B + E) + c.tau


def measure_precision_modes(x: np.ndarray, k: int, fmt: Format | str) -> dict[str, Any]:
    """Emulated forward transform of one sample ``x`` (grid) in ``fmt``; the largest per-mode absolute
    error on the half box (``w_last >= 0``; the other half are complex conjugates) and overflow facts."""
    from errbound.emulate import FFTConfig, Trace, optimal_prescale_exponent, rfftn

    fmt = get_format(fmt)
    d = x.ndim
    s = x.shape[0]
    cfg = FFTConfig(fmt=fmt, scaling="after")
    tr = Trace()
    with np.errstate(over="ignore", invalid="ignore"):
        y = rfftn(x, cfg, norm="forward", trace=tr)
    overflow = bool(tr.overflow or not np.all(np.isfinite(y)))
    e = 0
    if overflow:
        e = int(optimal_prescale_exponent(x, cfg, transform="rfftn", norm="forward").exponent)
        with np.errstate(over="ignore", invalid="ignore"):
            y = rfftn(x * 2.0**e, cfg, norm="forward") * 2.0**-e
    exact = np.fft.rfftn(x, norm="forward")
    idx = [np.mod(np.arange(-k, k + 1), s)] * (d - 1) + [np.arange(k + 1)]
    sel = np.ix_(*idx)
    err = np.abs(y[sel] - exact[sel])
    return {"max_mode_err": float(np.max(err)) if np.all(np.isfinite(err)) else math.inf, "overflow": overflow,
            "prescale_exp": e, "max_intermediate": float(tr.max_abs)}


def interpolate_crossing(res: Sequence[int], prec: Sequence[float], disc: Sequence[float]) -> tuple[float | None, str]:
    """First crossing of ``prec >= disc`` along ``res`` (log-log interpolation); returns (s*, status) with
    status ``crossed``, ``below_ladder`` or ``not_reached``."""
    for i, (p, a) in enumerate(zip(prec, disc)):
        if p >= a:
            if i == 0:
                return float(res[0]), "below_ladder"
            p0, a0 = prec[i - 1], disc[i - 1]
            if a <= 0 or p <= 0 or a0 <= 0 or p0 <= 0 or not all(map(math.isfinite, (p, a, p0, a0))):
                return float(res[i]), "crossed"
            g0 = math.log(p0 / a0)
            g1 = math.log(p / a)
            frac = g0 / (g0 - g1) if g0 != g1 else 1.0
            ls = math.log(res[i - 1]) + frac * (math.log(res[i]) - math.log(res[i - 1]))
            return float(math.exp(ls)), "crossed"
    return None, "not_reached"


def s_star_class(L: float, M: float, dim: int, k: int, fmt: Format | str, *, s_max: int = 1 << 24) -> float | None:
    """C1 for the Lipschitz class: the resolution where the worst-case discretization bound
    ``(L + 2 pi k sqrt(d) M) sqrt(d) / s`` (largest retained |w|_2 = k sqrt d) meets P2m (continuous in s,
    bisection on log s); None if not reached below ``s_max``."""
    wmax = k * math.sqrt(dim)
    p2m = _p2m_continuous(fmt, M, dim)

    def gap(log2s: float) -> float:
        return p2m(log2s) - (L + 2 * math.pi * wmax * M) * math.sqrt(dim) / 2.0**log2s

    return _first_crossing(gap, 1.0, math.log2(s_max), 80, 2.0)


def crossover(function: Any, formats: Sequence[str], *, dim: int = 2, k: int = DEFAULT_K,
              resolutions: Sequence[int] | None = None) -> dict[str, Any]:
    """Per-format crossover for a built-in function (name or TorusFunction); see the module docstring."""
    from errbound.bounds.discretization import mode_upper_bounds
    from errbound.functions import get_function
    from errbound.progress import progress

    fn = get_function(function, dim=dim) if isinstance(function, str) else function
    dim = fn.dim
    fmts = [get_format(f) for f in formats]
    if not fmts:
        raise ErrboundError("no formats given; pass e.g. --formats fp16,bf16")
    res = list(resolutions) if resolutions is not None else default_ladder(dim, k)
    for s in res:
        if s <= 2 * k:
            raise ErrboundError(f"resolution {s} cannot hold modes |w_i| <= {k} (needs s > {2 * k}); lower --modes")
    disc, disc_bound, samples = [], [], {}
    for s in res:
        f_s = fn.for_resolution(s)
        disc.append(float(np.max(np.abs(f_s.mode_error(s, k)))))
        bounds = mode_upper_bounds(f_s, s, k)
        disc_bound.append(float(np.max(np.min(np.stack(list(bounds.values())), axis=0))) if bounds else math.inf)
        samples[s] = f_s.eval_grid(s)
    out: dict[str, Any] = {"function": fn.spec, "dim": dim, "modes": k, "resolutions": res,
                           "disc_err": disc, "disc_bound": disc_bound, "M": fn.M, "L": fn.L, "formats": {}}
    for fmt in fmts:
        prec, prec_bound, overflow_at = [], [], None
        for s in progress(res, total=len(res), label=f"crossover {fmt.name}"):
            meas = measure_precision_modes(samples[s], k, fmt)
            prec.append(meas["max_mode_err"])
            if meas["overflow"] and overflow_at is None:
                overflow_at = s
            prec_bound.append(precision_mode_bound(s, dim, fn.M, fmt) if s & (s - 1) == 0 else math.inf)
        s_emp, st_emp = interpolate_crossing(res, prec, disc)
        s_bnd, st_bnd = interpolate_crossing(res, prec_bound, disc_bound)
        from errbound.bounds.precision import op_constants

        u = op_constants(fmt).u
        finite = [p for p in prec if math.isfinite(p)]
        c_emp = max(finite) / (u * fn.M) if finite and fn.M else None
        has_L = fn.L is not None and fn.M
        out["formats"][fmt.name] = {
            "format": fmt.name,
            "s_star_empirical": s_emp, "status_empirical": st_emp,
            "s_star_bound": s_bnd, "status_bound": st_bnd,
            "s_star_class": s_star_class(fn.L, fn.M, dim, k, fmt) if fn.L is not None else None,
            "s_star_input_model": s_star_input_model(fn.L, fn.M, dim, fmt) if has_L else None,
            "s_star_proven": s_star_proven(fn.L, fn.M, dim, fmt) if has_L else None,
            "bound_proven": "P2m (per-mode P2 + P1, radix-2 FFT in the format)",
            "s_star_class_empirical": (class_disc_worst(1.0, fn.L, dim) / (c_emp * u * fn.M)
                                       if has_L and c_emp else None),
            "c_emp": c_emp,
            "guarantees": dict(GUARANTEES),
            "s_overflow": overflow_at,
            "prec_err": prec, "prec_bound": prec_bound,
        }
    return out


def crossover_data(samples: np.ndarray, formats: Sequence[str], *, k: int = DEFAULT_K,
                   strides: Sequence[int] | None = None) -> dict[str, Any]:
    """Empirical crossover for a dataset ``(N, *grid)``: the discretization error at resolution
    ``s = grid / stride`` is estimated against the finest grid (the data's own), per mode, and the
    precision error is emulated at each resolution (first sample). ``s_star_bound`` is not defined
    for data (no proven constants) and is reported as None. Every None comes with its reason in
    ``why_none`` (per format: field -> sentence)."""
    x = np.asarray(samples, dtype=np.float64)
    grid = x.shape[1:]
    d = len(grid)
    n = grid[0]
    if any(g != n for g in grid):
        raise ErrboundError(f"crossover on data needs a square grid, got {grid}")
    if strides is None:
        strides = [2**i for i in range(8) if n // 2**i > 2 * k and n % 2**i == 0][::-1]
    res = [n // st for st in strides]
    fine = np.fft.rfftn(x[0], norm="forward")

    def box(arr: np.ndarray, s: int) -> np.ndarray:
        idx = [np.mod(np.arange(-k, k + 1), s)] * (d - 1) + [np.arange(k + 1)]
        return arr[np.ix_(*idx)]

    ref = box(fine, n)
    disc = []
    subs = {}
    for s, st in zip(res, strides):
        sub = x[0][tuple(slice(None, None, st) for _ in range(d))]
        subs[s] = sub
        disc.append(float(np.max(np.abs(box(np.fft.rfftn(sub, norm="forward"), s) - ref))))
    out: dict[str, Any] = {"function": None, "dim": d, "modes": k, "resolutions": res, "disc_err": disc,
                           "disc_note": "relative to the data's own grid (finest); 0 there by construction",
                           "formats": {}}
    for name in formats:
        fmt = get_format(name)
        prec = [measure_precision_modes(subs[s], k, fmt)["max_mode_err"] for s in res]
        rr, pp, aa = zip(*[(r, p, a) for r, p, a in zip(res, prec, disc) if a > 0]) if any(a > 0 for a in disc) else ((), (), ())
        s_emp, st_emp = interpolate_crossing(list(rr), list(pp), list(aa)) if rr else (None, "no_coarser_grid")
        why = {"s_star_bound": "worst-case bounds need a function's proven constants (L, M, coefficient decay), "
                               "which sampled data does not give; use --function for s_star_bound"}
        if s_emp is None:
            why["s_star_empirical"] = (
                f"the data's grid {n} leaves no coarser resolution above 2K = {2 * k} to compare with "
                f"(the discretization error is measured against the data's own grid); use finer data or fewer --modes"
                if not rr else
                f"the precision error stays below the discretization error at every compared resolution "
                f"{list(rr)}: any crossing lies above {max(rr)} (the data's own grid {n} is the reference, "
                "so it cannot be compared); finer data would show it")
        out["formats"][fmt.name] = {"format": fmt.name, "s_star_empirical": s_emp, "status_empirical": st_emp,
                                    "s_star_bound": None, "status_bound": "not_defined_for_data",
                                    "why_none": why, "prec_err": prec}
    return out
