"""Discretization error of Fourier layers: exact per-mode references, layer-output errors, sweeps.

Per mode (lemma D1 of docs/theory/discretization.md, the aliasing identity):
    E_s(w) = V_s(w) - vhat(w) = sum_{q != 0} vhat(w + s q),
with V_s the forward-normalized DFT of the samples v(j/s). :func:`exact_coefficients` returns E_s and
vhat on the retained box |w_i| <= k, computed either by the float64 fast path of each function
(``method="float64"``) or by its high-precision reference (``method="reference"``: mpmath at ``dps``
>= 30 digits for the separable families, exactly rounded sums for trigonometric polynomials),
cached on disk (:mod:`errbound.cache`), so repeating a sweep does no mpmath work.

Layer output (D5): at the grid points, K_s v - K v = sum_w R(w) E_s(w) e^{2 pi i w.x_j}; the
*measured* error runs the real float64 pipeline (samples -> FFT -> truncate -> weights -> inverse
FFT) against the continuous layer evaluated from exact coefficients, so it includes float64
roundoff (the floor seen for analytic inputs); the *exact* error is the Parseval norm of R E_s.

:func:`sweep` tabulates both against the bounds of :mod:`errbound.bounds.discretization` over a list of
resolutions, in parallel processes (``jobs``) or on a Dask cluster (``dask``), and fits the log-log
rate.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import os
import time
from typing import Any, Sequence

import mpmath
import numpy as np

from errbound.cache import ReferenceCache
from errbound.errors import ErrboundError, MissingDependencyError
from errbound.functions import TorusFunction, get_function
from errbound.functions._base import check_dim, check_resolution
from errbound.layer import FourierLayer

__all__ = [
    "ModeReference", "exact_coefficients", "layer_errors", "sweep", "fit_rate", "parse_resolutions",
    "effective_modes", "METHODS",
]

METHODS = ("reference", "float64")
MIN_DPS = 30


@dataclasses.dataclass(frozen=True, eq=False)
class ModeReference:
    """Exact continuous coefficients and per-mode discretization errors on the box |w_i| <= k.

    ``error_log10`` holds log10|E_s(w)| computed before rounding to float64, so it stays finite where
    |E_s(w)| underflows float64 (analytic inputs at high s); -inf where E_s(w) = 0 exactly.
    """

    s: int
    k: int
    dim: int
    vhat: np.ndarray
    error: np.ndarray
    error_log10: np.ndarray
    method: str

    @property
    def discrete(self) -> np.ndarray:
        """V_s(w) = vhat(w) + E_s(w) (rounded to float64)."""
        return self.vhat + self.error

    @property
    def abs_error(self) -> np.ndarray:
        return np.abs(self.error)


def _log10_abs_mp(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape, dtype=np.float64)
    for idx, v in np.ndenumerate(values):
        a = abs(v)
        out[idx] = -math.inf if a == 0 else float(mpmath.log10(a))
    return out


def _to_complex(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape, dtype=np.complex128)
    for idx, v in np.ndenumerate(values):
        out[idx] = complex(v)
    return out


def exact_coefficients(
    fn: TorusFunction,
    s: int,
    k: int,
    *,
    method: str = "reference",
    dps: int = MIN_DPS,
    cache: ReferenceCache | str | os.PathLike[str] | None | bool = False,
) -> ModeReference:
    """vhat and E_s = V_s - vhat on |w_i| <= k for ``fn`` on the grid of resolution ``s`` (needs s > 2k).

    ``method="reference"``: mpmath at ``dps`` (>= 30) digits for the separable families, exactly
    rounded (math.fsum) partner sums for trigonometric polynomials; ``"float64"``: the fast path.
    ``cache``: a :class:`ReferenceCache`, a folder, None (default folder) or False (no cache; default).
    """
    s = check_resolution(s, k)
    if method not in METHODS:
        raise ErrboundError(f"method must be one of {METHODS}, got {method!r}")
    if method == "reference" and (not isinstance(dps, int) or dps < MIN_DPS):
        raise ErrboundError(f"dps must be an integer >= {MIN_DPS} for the reference, got {dps!r}")
    store = cache if isinstance(cache, ReferenceCache) else ReferenceCache(cache)
    key = {"function": fn.cache_key(), "s": s, "k": int(k), "method": method, "dps": dps if method == "reference" else None}
    hit = store.load(key) if method == "reference" else None
    if hit is not None:
        return ModeReference(s=s, k=k, dim=fn.dim, vhat=hit["vhat"], error=hit["error"], error_log10=hit["error_log10"],
                             method=str(hit["method"]))
    if method == "float64":
        err = fn.mode_error(s, k)
        with np.errstate(divide="ignore"):
            log10 = np.log10(np.abs(err))
        return ModeReference(s=s, k=k, dim=fn.dim, vhat=fn.coef_box(k), error=err, error_log10=log10, method="float64")
    with mpmath.workdps(dps):
        err_mp = fn.mode_error_mp(s, k, dps)
        vhat_mp = fn.coef_box_mp(k, dps)
        ref = ModeReference(
            s=s, k=k, dim=fn.dim, vhat=_to_complex(vhat_mp), error=_to_complex(err_mp), error_log10=_log10_abs_mp(err_mp),
            method="exact-fsum" if fn.reference_method == "exact-fsum" else f"mpmath(dps={dps})",
        )
    store.store(key, {"vhat": ref.vhat, "error": ref.error, "error_log10": ref.error_log10, "method": np.array(ref.method)})
    return ref


def layer_errors(fn: TorusFunction, layer: FourierLayer, s: int, reference: ModeReference | None = None) -> dict[str, float]:
    """Layer-output discretization error on the grid s (one input channel).

    Measured (float64 pipeline): ``abs_l2`` (RMS over grid points and output channels), ``abs_max``,
    ``rel_l2`` = abs_l2 / RMS(K v), ``rel_max`` = abs_max / max|K v|. With a reference, also the exact
    ``exact_abs_l2`` = (mean_o sum_w |sum_c R E|^2)^(1/2) and ``exact_rel_l2`` (Parseval).
    """
    if layer.channels_in != 1:
        raise ErrboundError(f"layer_errors takes one input function; the layer has c_in={layer.channels_in}")
    s = check_resolution(s, layer.k)
    values = fn.eval_grid(s)
    out_discrete = layer.apply_discrete(values)
    out_exact = layer.apply_continuous(fn, s)
    diff = out_discrete - out_exact
    rms = float(np.sqrt(np.mean(np.abs(out_exact) ** 2)))
    peak = float(np.max(np.abs(out_exact)))
    abs_l2 = float(np.sqrt(np.mean(np.abs(diff) ** 2)))
    abs_max = float(np.max(np.abs(diff)))
    res = {
        "abs_l2": abs_l2, "abs_max": abs_max,
        "rel_l2": abs_l2 / rms if rms > 0 else math.inf, "rel_max": abs_max / peak if peak > 0 else math.inf,
        "out_rms": rms,
    }
    if reference is not None:
        spec_err = layer.apply_spectrum(reference.error)
        spec_out = layer.apply_spectrum(reference.vhat)
        axes = tuple(range(1, spec_err.ndim))
        exact_abs = float(np.sqrt(np.mean(np.sum(np.abs(spec_err) ** 2, axis=axes))))
        exact_out = float(np.sqrt(np.mean(np.sum(np.abs(spec_out) ** 2, axis=axes))))
        res["exact_abs_l2"] = exact_abs
        res["exact_rel_l2"] = exact_abs / exact_out if exact_out > 0 else math.inf
        res["exact_out_rms"] = exact_out
    return res


# ----------------------------------------------------------------------------------------------
# sweeps
# ----------------------------------------------------------------------------------------------
def parse_resolutions(text: str | Sequence[Any]) -> list[int]:
    """'8,16,32' or a sequence -> sorted unique ints >= 1 (non-integers raise ErrboundError)."""
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    out = []
    for item in items:
        if isinstance(item, str):
            if not item:
                continue
            try:
                value = float(item)
            except ValueError:
                raise ErrboundError(f"resolutions must be integers separated by commas (e.g. 8,16,32), got {item!r}") from None
            if not value.is_integer():
                raise ErrboundError(f"resolution {item!r} is not an integer: grids have a whole number of points")
            item = int(value)
        out.append(check_resolution(item))
    if not out:
        raise ErrboundError("no resolutions given; pass e.g. --res 8,16,32")
    return sorted(set(out))


def effective_modes(s: int, k: int, strict: bool) -> int:
    """Modes kept at resolution s: k when s > 2k; otherwise an error (strict) or (s - 1) // 2 (clipped)."""
    if s > 2 * k:
        return k
    if strict:
        check_resolution(s, k)
    return (s - 1) // 2


def fit_rate(res: Sequence[float], log10_err: Sequence[float]) -> float | None:
    """Least-squares slope of log10(err) against log10(res) over the finite points (None if < 2)."""
    x = np.log10(np.asarray(res, dtype=np.float64))
    y = np.asarray(log10_err, dtype=np.float64)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return None
    return float(np.polyfit(x[ok], y[ok], 1)[0])


def _crop(weights: np.ndarray, k: int, k_eff: int, dim: int) -> np.ndarray:
    sl = slice(k - k_eff, k + k_eff + 1)
    return weights[(slice(None), slice(None)) + (sl,) * dim]


def _finite_or_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _row(task: dict[str, Any], fn: TorusFunction | None = None) -> dict[str, Any]:
    """One resolution of a sweep (runs in a worker process or on a Dask worker)."""
    from errbound.bounds.discretization import layer_bound, mode_lower_bound, mode_upper_bounds, mode_upper_bounds_log10

    start = time.perf_counter()
    if fn is None:
        fn = get_function(task["spec"], dim=task["dim"])
    s, k, dim = task["s"], task["k"], task["dim"]
    k_eff = effective_modes(s, k, task["strict"])
    fn_s = fn.for_resolution(s)
    cache = ReferenceCache(task["cache"])
    ref = exact_coefficients(fn_s, s, k_eff, method=task["method"], dps=task["dps"], cache=cache)
    t_ref = time.perf_counter() - start
    base = FourierLayer.random(dim, k, seed=task["layer_seed"])
    layer = FourierLayer(weights=_crop(base.weights, k, k_eff, dim), k=k_eff, dim=dim)
    lerr = layer_errors(fn_s, layer, s, ref)
    abs_err = ref.abs_error
    err_max_log10 = float(np.max(ref.error_log10))
    err_max = float(np.max(abs_err))
    bounds = mode_upper_bounds(fn_s, s, k_eff)
    logs = mode_upper_bounds_log10(fn_s, s, k_eff)
    err_log = ref.error_log10
    row: dict[str, Any] = {"res": s, "modes": k_eff, "mode_err_max": err_max, "mode_err_max_log10": _finite_or_none(err_max_log10)}
    row["layer_err_rel"] = lerr["rel_l2"]
    row["layer_err_rel_max"] = lerr["rel_max"]
    row["layer_err_abs"] = lerr["abs_l2"]
    row["layer_err_abs_max"] = lerr["abs_max"]
    row["layer_err_rel_exact"] = lerr["exact_rel_l2"]
    per_bound_max = {name: float(np.max(b)) for name, b in bounds.items()}
    per_bound_ratio = {name: _max_ratio(err_log, blog) for name, blog in logs.items()}
    if bounds:
        best_log = np.minimum.reduce(list(logs.values()))
        best_box = np.minimum.reduce(list(bounds.values()))
        best_name = min(logs, key=lambda name: float(np.max(logs[name])))
        upper_log = float(np.max(best_log))
        row["bound_upper"] = float(np.max(best_box))
        row["bound_upper_log10"] = _finite_or_none(upper_log)
        row["bound_upper_by"] = best_name
        row["ratio_upper"] = _ratio_from_logs(err_max_log10, upper_log)
        row["ratio_upper_modewise"] = _max_ratio(err_log, best_log)
        rms_b, max_b = layer_bound(layer.weights, best_box)
        out_rms = lerr["exact_out_rms"]
        row["bound_layer_rel"] = rms_b / out_rms if out_rms > 0 else math.inf
        row["bound_layer_abs_max"] = max_b
        if rms_b > 0:
            row["ratio_layer"] = lerr["exact_abs_l2"] / rms_b
        else:
            row["ratio_layer"] = 0.0 if np.all(np.isneginf(err_log)) else None  # None: both below float64 range
    else:
        row.update(bound_upper=None, bound_upper_log10=None, bound_upper_by=None, ratio_upper=None, ratio_upper_modewise=None,
                   bound_layer_rel=None, bound_layer_abs_max=None, ratio_layer=None)
    row["bounds"] = per_bound_max
    row["ratios"] = per_bound_ratio
    lower = mode_lower_bound(fn_s, s, k_eff)
    if lower is not None:
        w_star = tuple(int(v) for v in getattr(fn_s, "witness_mode", (0,) * dim))
        index = tuple(v + k_eff for v in w_star)
        row["bound_lower"] = float(lower[index])
        row["witness_mode"] = list(w_star)
        row["witness_err"] = float(abs_err[index])
        row["ratio_lower"] = float(abs_err[index] / lower[index]) if lower[index] > 0 else None
    else:
        row["bound_lower"] = None
    row["reference"] = ref.method
    row["time_reference_s"] = t_ref
    row["time_s"] = time.perf_counter() - start
    return row


def _ratio_from_logs(err_log: float, bound_log: float) -> float:
    """err / bound from log10 values: 0 when err = 0, inf when only the bound is 0."""
    if math.isinf(err_log) and err_log < 0:
        return 0.0
    if math.isinf(bound_log) and bound_log < 0:
        return math.inf
    return float(10 ** (err_log - bound_log))


def _max_ratio(err_log: np.ndarray, bound_log: np.ndarray) -> float:
    """max over modes of err(w) / bound(w), computed from log10 boxes (no underflow)."""
    zero_err = np.isneginf(err_log)
    zero_bound = np.isneginf(bound_log)
    if np.any(zero_bound & ~zero_err):
        return math.inf
    ok = ~zero_err
    if not np.any(ok):
        return 0.0
    return float(10 ** np.max(err_log[ok] - bound_log[ok]))


def _row_from_task(task: dict[str, Any]) -> dict[str, Any]:
    return _row(task)


def _run_tasks(tasks: list[dict[str, Any]], fn: TorusFunction, jobs: int, dask: str | None, label: str) -> list[dict[str, Any]]:
    from errbound.progress import progress

    if dask:
        try:
            from dask.distributed import Client
        except ImportError:
            raise MissingDependencyError("distributed", "dask", "needed for --dask") from None
        try:
            client = Client(dask, set_as_default=False)
        except OSError as exc:
            raise ErrboundError(f"cannot connect to the Dask scheduler at {dask!r}: {exc}") from None
        try:
            futures = client.map(_row_from_task, tasks, pure=False)
            return [f.result() for f in progress(futures, len(futures), label)]
        finally:
            client.close()
    if jobs > 1 and len(tasks) > 1:
        with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            futures = [pool.submit(_row_from_task, t) for t in tasks]
            for _ in progress(concurrent.futures.as_completed(futures), len(futures), label):
                pass
            return [f.result() for f in futures]
    return [_row(t, fn) for t in progress(tasks, len(tasks), label)]


def sweep(
    function: str | TorusFunction,
    *,
    dim: int | None = None,
    resolutions: Sequence[int] | str = (8, 16, 32, 64, 128),
    modes: int = 4,
    method: str = "reference",
    dps: int = MIN_DPS,
    jobs: int = 1,
    dask: str | None = None,
    cache: str | os.PathLike[str] | None | bool = None,
    strict_modes: bool = False,
    layer_seed: int = 0,
) -> dict[str, Any]:
    """Discretization error of a Fourier layer across resolutions, with bounds and the fitted rate.

    Returns ``{"rows": [...], "rate", "rate_theory", ...}``; each row has ``res``, ``modes``,
    ``mode_err_max``, ``layer_err_rel``, ``bound_upper``, ``bound_lower``, ``ratio_upper`` and more
    (docs/discretization.md lists them). ``modes`` is the largest retained frequency k; resolutions
    s <= 2k keep (s-1)//2 modes (the modes that grid resolves) unless ``strict_modes``.
    """
    fn = function if isinstance(function, TorusFunction) else get_function(function, dim=dim)
    if dim is not None and fn.dim != check_dim(dim):
        raise ErrboundError(f"function has dim={fn.dim} but dim={dim} was requested")
    if isinstance(modes, bool) or not isinstance(modes, (int, np.integer)) or modes < 0:
        raise ErrboundError(f"modes must be an integer >= 0, got {modes!r}")
    res_list = parse_resolutions(resolutions) if isinstance(resolutions, str) else parse_resolutions(list(resolutions))
    for s in res_list:
        effective_modes(s, modes, strict_modes)  # raise early on strict violations
    if method not in METHODS:
        raise ErrboundError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(jobs, int) or jobs < 1:
        raise ErrboundError(f"jobs must be an integer >= 1, got {jobs!r}")
    if dim is not None:
        check_dim(dim)
    cache_dir: Any = cache if cache is False else str(ReferenceCache(cache).directory)
    tasks = [
        {"spec": fn.spec, "dim": fn.dim, "s": s, "k": int(modes), "method": method, "dps": dps, "cache": cache_dir,
         "strict": strict_modes, "layer_seed": layer_seed}
        for s in res_list
    ]
    start = time.perf_counter()
    rows = _run_tasks(tasks, fn, jobs, dask, f"discretization {fn.spec} {fn.dim}-D")
    elapsed = time.perf_counter() - start
    fit_rows = [r for r in rows if r["mode_err_max_log10"] is not None and (fn.rate_max_res is None or r["res"] <= fn.rate_max_res)]
    rate = fit_rate([r["res"] for r in fit_rows], [r["mode_err_max_log10"] for r in fit_rows])
    local = []
    for a, b in zip(rows, rows[1:]):
        if a["mode_err_max_log10"] is not None and b["mode_err_max_log10"] is not None:
            local.append((b["mode_err_max_log10"] - a["mode_err_max_log10"]) / math.log10(b["res"] / a["res"]))
        else:
            local.append(None)
    return {
        "function": fn.spec,
        "dim": fn.dim,
        "modes": int(modes),
        "method": method,
        "dps": dps if method == "reference" else None,
        "M": fn.M, "M_exact": fn.M_exact, "L": fn.L, "L_axes": fn.L_axes, "V_axes": fn.V_axes,
        "decay": dataclasses.asdict(fn.decay) if fn.decay is not None else None,
        "rows": rows,
        "rate": rate,
        "rate_theory": fn.rate_theory,
        "rate_note": fn.rate_note,
        "rate_fit_resolutions": [r["res"] for r in fit_rows],
        "local_rates": local,
        "cache": None if cache is False else cache_dir,
        "elapsed_s": elapsed,
    }
