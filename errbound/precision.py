"""Precision error of the emulated Fourier transform and spectral block, with bounds and a certified reference.

Quantities (docs/precision.md):

* ``prec_err_rel``: ``||X_hat - X||_2 / ||X||_2`` where ``X`` is the exact transform of the data *as
  given* (float64 samples, stabilizer applied exactly) and ``X_hat`` the emulated one, so input
  rounding counts. For the block it is the retained spectrum entering the contraction; for
  ``transform="rfft2"`` the whole forward-normalized half spectrum.
* ``layer_err_rel``: the same for the block output on the grid.
* per-mode errors ``|X_hat(w) - X(w)|`` (absolute), compared with P1 ``u M``.
* ``bound_worst`` / ``bound_prob``: P2/P4/P5 (worst case) and P3 (probabilistic, failure probability
  ``2 exp(-lambda^2/2)``) for ``prec_err_rel``; ``layer_bound_worst`` / ``layer_bound_prob`` for
  ``layer_err_rel`` (docs/theory/precision.md).

The reference is float64 (numpy's FFT, relative error ~1e-16 (log2 m)^(1/2)); :func:`certify_reference`
recomputes the retained spectrum and the block output with mpmath at ``dps`` digits (separable
direct sums) and reports how far the float64 reference is from it, so a measured error is only
trusted when it is far above that distance (``certified``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

import mpmath
import numpy as np

from errbound.bounds.precision import evaluate_stages, transform_bounds
from errbound.emulate import FFTConfig, Trace, optimal_prescale_exponent, rfftn
from errbound.errors import ErrboundError, MissingDependencyError
from errbound.formats import Format, get_format
from errbound.functions import get_function
from errbound.modes import check_modes, default_modes, random_weights, retained_indices
from errbound.progress import progress
from errbound.spectral_block import BlockResult, SpectralBlock

__all__ = [
    "rel_err", "transform_error", "block_error", "mode_errors", "certify_reference", "sweep", "source_arrays",
    "CERTIFY_MAX_POINTS", "ENGINES", "run_engine", "output_sha256", "channel_inputs", "DEFAULT_SAMPLES",
]

CERTIFY_MAX_POINTS = 1024
#: engines of ``errbound precision --engine``: the numpy emulator, or the trainer's torch layer (CPU)
ENGINES = ("emulator", "torch")
#: data samples analysed by default (``precision --samples``, ``advise``)
DEFAULT_SAMPLES = 4


def output_sha256(output: Any) -> str:
    """SHA-256 of the block output of the first sample as little-endian float64 in C order, every NaN replaced
    by one canonical quiet NaN (so the digest is the same whatever NaN payload an engine produced)."""
    a = np.array(np.asarray(output)[0], dtype="<f8", order="C", copy=True)
    a[np.isnan(a)] = np.float64("nan")
    return hashlib.sha256(a.tobytes()).hexdigest()


def channel_inputs(samples: np.ndarray, channels: int) -> np.ndarray:
    """Block input ``(N, C, *grid)`` from samples ``(S, *grid)``: channel ``c`` of sample ``b`` is source sample
    ``(b C + c) mod S`` (distinct samples where there are enough; a single sample repeats)."""
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
        raise ErrboundError(f"channels must be a positive integer, got {channels!r}")
    s = samples.shape[0]
    n = max(1, s // channels) if s >= channels else 1
    idx = (np.arange(n)[:, None] * channels + np.arange(channels)[None, :]) % s
    return samples[idx]


def run_engine(block, x: np.ndarray, engine: str = "emulator"):  # type: ignore[no-untyped-def]
    """Run ``block`` (a :class:`~errbound.spectral_block.SpectralBlock`) on ``x`` with ``engine``: the numpy
    emulator, or the trainer's own :class:`~errbound.train.spectral.SpectralConv` on a CPU with the same
    weights and policy (reduced-precision blocks: the same definition on torch tensors, bit for bit; fp32
    blocks: torch's kernels). Returns a :class:`~errbound.spectral_block.BlockResult` (numpy arrays)."""
    if engine not in ENGINES:
        raise ErrboundError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if engine == "emulator":
        return block.run(x)
    try:
        import torch

        from errbound.train.emulated import torch_supports
        from errbound.train.spectral import SpectralConv
    except ImportError:
        raise MissingDependencyError("torch", "train") from None
    policy = block.policy
    if policy.mode == "custom":
        raise ErrboundError("the torch engine runs named policies only (full, amp, mixed, half and their variants)")
    bad = [f.name for f in policy.formats_used() if not torch_supports(f)]
    if bad or policy.forward.mode != "rne" or policy.forward.twiddle_fmt is not None:
        raise ErrboundError(
            f"the torch engine cannot run precision {policy.name!r} on this device: "
            + (f"format(s) {', '.join(sorted(set(bad)))} have no torch dtype (it runs fp32, fp16, bf16, "
               "fp8e4m3fn, fp8e5m2)" if bad else "it rounds to nearest even with twiddles in the working format")
            + "; use --engine emulator"
        )
    x = block._check_input(x)
    c_out, c_in = block.weights.shape[:2]
    conv = SpectralConv(c_in, c_out, tuple(block.modes), backend=policy.backend, policy=policy)
    conv.set_weights(block.weights)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # elementwise rounding passes: one thread, like numpy (no oversubscription)
    try:
        r = conv.block_run(torch.from_numpy(x))
    finally:
        torch.set_num_threads(threads)
    spec = np.asarray(r.spectrum.detach().to(torch.float64).numpy())
    spectrum = np.empty(spec.shape[1:], dtype=np.complex128)
    spectrum.real, spectrum.imag = spec[0], spec[1]
    out = r.output.detach().to(torch.float64).numpy()
    return BlockResult(out, spectrum, bool(r.overflow), float(r.max_intermediate), int(r.prescale_exp), r.stage_max,
                       float(r.underflow))


def rel_err(approx: np.ndarray, exact: np.ndarray) -> float:
    """Normwise relative error ``||approx - exact||_2 / ||exact||_2`` (inf for non-finite approx), computed on
    both arrays divided by ``max |exact|`` so that data near float64's range limits (1e-300, 1e300) do not
    under- or overflow the squares (a flushed output of tiny data has error 1, not 0/0)."""
    a = np.asarray(approx)
    e = np.asarray(exact)
    if not np.all(np.isfinite(a)):
        return math.inf
    scale = float(np.max(np.abs(e))) if e.size else 0.0
    if scale > 0:
        a, e = a / scale, e / scale
    den = float(np.linalg.norm(e))
    num = float(np.linalg.norm(a - e))
    if den == 0:
        return 0.0 if num == 0 else math.inf
    return num / den


def _grid_axes(x: np.ndarray, dim: int) -> tuple[int, ...]:
    return tuple(range(x.ndim - dim, x.ndim))


# ---- bare forward transform (--transform rfft2) -------------------------------------------------------------------
def transform_error(x: np.ndarray, fmt: Format | str, *, dim: int | None = None, twiddle_fmt: Format | str | None = None,
                    cmul: str = "fma", lam: float = 3.0) -> dict[str, Any]:
    """Emulated forward rfftn (cast into ``fmt``, unnormalized transform, then 1/m, like torch's
    ``rfft2(x.half(), norm="forward")``) of real ``x`` of shape ``(batch, *grid)`` over the last ``dim`` axes."""
    x = np.asarray(x, dtype=np.float64)
    dim = x.ndim - 1 if dim is None else dim
    fmt = get_format(fmt)
    axes = _grid_axes(x, dim)
    cfg = FFTConfig(fmt=fmt, twiddle_fmt=twiddle_fmt, cmul=cmul, scaling="after")
    tr = Trace()
    with np.errstate(over="ignore", invalid="ignore"):
        y = rfftn(x, cfg, axes=axes, norm="forward", trace=tr)
    exact = np.fft.rfftn(x, axes=axes, norm="forward")
    overflow = bool(tr.overflow or not np.all(np.isfinite(y)))
    err = rel_err(y, exact)
    worst = prob = 0.0
    fail = None
    for b in range(x.shape[0]):
        bd = transform_bounds(x[b], fmt, transform="rfftn", norm="forward", const_fmt=twiddle_fmt, cmul=cmul,
                              lam=lam, y_norm=float(np.linalg.norm(exact[b])))
        # combine per-sample relative bounds normwise: ||e|| <= sqrt(sum (b_i ||y_i||)^2)
        yb = float(np.linalg.norm(exact[b]))
        worst += (bd["worst"] * yb) ** 2
        prob += (bd["prob"] * yb) ** 2
        fail = bd["failure_prob"]
    yn = float(np.linalg.norm(exact))
    presc = optimal_prescale_exponent(x, cfg, transform="rfftn", axes=axes, norm="forward")
    return {
        "prec_err_rel": err,
        "layer_err_rel": None,
        "bound_worst": math.inf if overflow or yn == 0 else math.sqrt(worst) / yn,
        "bound_prob": math.inf if overflow or yn == 0 else math.sqrt(prob) / yn,
        "failure_prob": fail,
        "overflow": overflow,
        "max_intermediate": float(tr.max_abs),
        "prescale_exp": int(presc.exponent),
        "mode_err_max": float(np.max(np.abs(y - exact))) if not overflow else math.inf,
        "mode_bound_p1": get_format(fmt).u * float(np.max(np.abs(x))),
    }


# ---- spectral block -------------------------------------------------------------------------------------------------
def block_error(x: np.ndarray, block, *, lam: float = 3.0, certify: bool | None = None, dps: int = 40,  # type: ignore[no-untyped-def]
                engine: str = "emulator") -> dict[str, Any]:
    """Measured and bounded precision error of a :class:`~errbound.spectral_block.SpectralBlock` on
    input ``x`` (batch, C_in, *grid), computed by ``engine`` (:func:`run_engine`)."""
    x = np.asarray(x, dtype=np.float64)
    res = run_engine(block, x, engine)
    ref_out, ref_spec = block.reference(x)
    overflow = res.overflow
    spec_err = rel_err(res.spectrum, ref_spec)
    out_err = rel_err(res.output, ref_out)
    mode_err = np.abs(res.spectrum - ref_spec) if not overflow else None
    # bounds (P5): worst and probabilistic, for the spectrum and for the output
    to_spec, after = block.bound_stages(x)
    scale = 2.0 ** res.prescale_exp
    xn = float(np.linalg.norm(x)) * scale
    b_spec = evaluate_stages(to_spec, xn, lam=lam)
    b_all = evaluate_stages(to_spec + after, xn, lam=lam)
    sn = float(np.linalg.norm(ref_spec)) * scale
    on = float(np.linalg.norm(ref_out)) * scale
    row: dict[str, Any] = {
        "prec_err_rel": spec_err,
        "layer_err_rel": out_err,
        "bound_worst": math.inf if overflow or sn == 0 else b_spec.worst / sn,
        "bound_prob": math.inf if overflow or sn == 0 else b_spec.prob / sn,
        "layer_bound_worst": math.inf if overflow or on == 0 else b_all.worst / on,
        "layer_bound_prob": math.inf if overflow or on == 0 else b_all.prob / on,
        "failure_prob": b_spec.failure_prob,
        "overflow": bool(overflow),
        "max_intermediate": res.max_intermediate,
        "prescale_exp": int(res.prescale_exp) if res.prescale_exp else int(block.prescale_exponent(x)),
        "prescale_applied": bool(res.prescale_exp),
        "output_sha256": output_sha256(res.output),
        "underflow": res.underflow,
        "mode_err_max": float(np.max(mode_err)) if mode_err is not None else math.inf,
        "mode_bound_p1": block.policy.input_fmt.u * float(np.max(np.abs(x))),
    }
    m = math.prod(x.shape[2:])
    if certify is None:
        certify = m <= CERTIFY_MAX_POINTS and x.shape[0] * x.shape[1] <= 4
    if certify:
        cert = certify_reference(x, block, dps=dps, ref=(ref_out, ref_spec))
        row["ref_err_rel"] = cert["spectrum_rel"]
        row["ref_layer_err_rel"] = cert["output_rel"]
        row["certified"] = bool(
            (spec_err == 0 or cert["spectrum_rel"] <= 1e-3 * spec_err)
            and (out_err == 0 or cert["output_rel"] <= 1e-3 * out_err)
        )
    else:
        row["ref_err_rel"] = None
        row["ref_layer_err_rel"] = None
        row["certified"] = None
    return row


def mode_errors(x: np.ndarray, block) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Per-mode precision error of the block's retained spectrum: ``abs`` = ``|X^(w) - X(w)|`` (absolute,
    shape (batch, C_in, *mode_layout)), ``rel`` = that divided by ``max_w |X(w)|`` per sample and channel
    (inf where the emulated pipeline overflowed)."""
    x = np.asarray(x, dtype=np.float64)
    res = block.run(x)
    _, ref = block.reference(x)
    with np.errstate(invalid="ignore"):
        err = np.abs(res.spectrum - ref)
    err = np.where(np.isfinite(err), err, np.inf)
    axes = tuple(range(2, ref.ndim))
    scale = np.max(np.abs(ref), axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, err / np.where(scale > 0, scale, 1.0), np.inf)
    return {"abs": err, "rel": rel}


# ---- arbitrary-precision certification --------------------------------------------------------------------------
def _mp_axis_dft(arr: np.ndarray, n: int, in_idx: Sequence[int], out_idx: Sequence[int], sign: int, mp,  # type: ignore[no-untyped-def]
                 weights: Sequence[int] | None = None) -> np.ndarray:
    """Direct DFT along the last axis of an object array of mpc:
    out[..., q] = sum_p weights[p] a[..., p] e^{sign 2 pi i in_idx[p] out_idx[q] / n} (weights default 1)."""
    two_pi = 2 * mp.pi
    tw: dict[int, object] = {}
    wts = [1] * len(in_idx) if weights is None else list(weights)
    flat_in = arr.reshape(-1, arr.shape[-1])
    out = np.empty(arr.shape[:-1] + (len(out_idx),), dtype=object)
    flat_out = out.reshape(-1, len(out_idx))
    for q, k in enumerate(out_idx):
        col = []
        for j, wt in zip(in_idx, wts):
            key = (j * k) % n
            if key not in tw:
                ang = two_pi * key / n
                tw[key] = mp.mpc(mp.cos(ang), sign * mp.sin(ang))
            col.append(wt * tw[key])
        for row in range(flat_in.shape[0]):
            s = mp.mpc(0)
            for p, c in enumerate(col):
                s += flat_in[row, p] * c
            flat_out[row, q] = s
    return out


def certify_reference(x: np.ndarray, block, *, dps: int = 40, ref: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Distance of the float64 reference (retained spectrum and block output) from an mpmath
    computation at ``dps`` digits of the same mathematics (separable direct sums). Supported for
    the stabilizers none, clip and pow2 (exact maps); tanh and sigma2 use float64 values of the
    stabilized input (their own float64 error, ~1e-16, is then not certified)."""
    x = np.asarray(x, dtype=np.float64)
    if ref is None:
        ref = block.reference(x)
    ref_out, ref_spec = ref
    grid = list(x.shape[2:])
    z = block._stabilize_exact(x)
    idx = retained_indices(grid, block.modes)
    with mpmath.workdps(dps):
        a = np.empty(z.shape, dtype=object)
        for i, v in np.ndenumerate(z):
            a[i] = mpmath.mpc(float(v), 0)
        m = math.prod(grid)
        for ax in range(len(grid) - 1, -1, -1):
            a = np.moveaxis(a, 2 + ax, -1)
            a = _mp_axis_dft(a, grid[ax], range(grid[ax]), [int(i) for i in idx[ax]], -1, mpmath)
            a = np.moveaxis(a, -1, 2 + ax)
        spec = a / m
        # contraction
        W = block.weights
        Y = np.empty((x.shape[0], W.shape[0]) + spec.shape[2:], dtype=object)
        for b in range(x.shape[0]):
            for o in range(W.shape[0]):
                for pos in np.ndindex(*spec.shape[2:]):
                    s = mpmath.mpc(0)
                    for i in range(W.shape[1]):
                        w = W[(o, i) + pos]
                        s += mpmath.mpc(w.real, w.imag) * spec[(b, i) + pos]
                    Y[(b, o) + pos] = s
        # synthesis of a real output: full Hermitian sum = sum over retained modes with weights
        # (last axis bins 1.. count twice, real part) as numpy's irfftn of the zero-filled half spectrum
        out = Y
        for ax in range(len(grid)):
            n = grid[ax]
            src_idx = [int(i) for i in idx[ax]]
            last = ax == len(grid) - 1
            weights = [1 if (k == 0 or 2 * k == n) else 2 for k in src_idx] if last else None
            out = np.moveaxis(out, 2 + ax, -1)
            out = _mp_axis_dft(out, n, src_idx, range(n), +1, mpmath, weights)
            out = np.moveaxis(out, -1, 2 + ax)
        out = np.vectorize(mpmath.re, otypes=[object])(out)

        def dist(f64: np.ndarray, mp_arr: np.ndarray) -> float:
            num = mpmath.mpf(0)
            den = mpmath.mpf(0)
            for i, v in np.ndenumerate(mp_arr):
                num += abs(mpmath.mpc(f64[i]) - v) ** 2
                den += abs(v) ** 2
            return float(mpmath.sqrt(num / den)) if den > 0 else 0.0

        return {"spectrum_rel": dist(ref_spec, spec), "output_rel": dist(ref_out, out), "dps": dps}


# ---- sources and sweeps ----------------------------------------------------------------------------------------------
def source_arrays(*, function: Any = None, data: np.ndarray | None = None, res: int | None = None,
                  dim: int = 2) -> np.ndarray:
    """Samples ``(N, *grid)``: a function (name or TorusFunction) on the ``res^dim`` grid, or user data
    (subsampled by an integer stride when ``res`` divides its grid)."""
    if (function is None) == (data is None):
        raise ErrboundError("give exactly one of a function or data")
    if function is not None:
        fn = get_function(function, dim=dim) if isinstance(function, str) else function
        if res is None:
            raise ErrboundError("a resolution is needed to sample a function; pass --res")
        fn = fn.for_resolution(res)
        return fn.eval_grid(res)[None]
    data = np.asarray(data, dtype=np.float64)
    grid = data.shape[1:]
    if res is None or all(g == res for g in grid):
        return data
    if any(g % res for g in grid):
        raise ErrboundError(
            f"resolution {res} does not divide the data grid {grid}; pass a divisor of the data resolution "
            "(the data is subsampled by an integer stride) or omit --res"
        )
    sl = (slice(None),) + tuple(slice(None, None, g // res) for g in grid)
    return data[sl]


def sweep(samples: dict[int, np.ndarray], policy, *, modes: int | None = None, transform: str = "block",  # type: ignore[no-untyped-def]
          channels: int = 1, seed: int = 0, lam: float = 3.0, certify: bool | None = None, engine: str = "emulator",
          fmt: Format | str | None = None, twiddle_fmt: Format | str | None = None) -> list[dict[str, Any]]:
    """Rows per resolution. ``samples``: {res: array (N, *grid)}; ``policy``: a
    :class:`~errbound.policy.Policy` (block); ``transform="rfft2"``: the bare forward transform in ``fmt``.
    ``modes``: n_modes per axis (default :func:`errbound.modes.default_modes`); ``channels``: C_in = C_out of
    the block, its input built by :func:`channel_inputs`; weights :func:`errbound.modes.random_weights` (seed)."""
    if transform not in ("block", "rfft2"):
        raise ErrboundError(f"transform must be 'block' or 'rfft2', got {transform!r}")
    rows = []
    for res in progress(sorted(samples), total=len(samples), label="precision"):
        x = samples[res]
        dim = x.ndim - 1
        if transform == "rfft2":
            f = get_format(fmt if fmt is not None else "fp16")
            row = {"res": res, "format": f.name, **transform_error(x, f, dim=dim, twiddle_fmt=twiddle_fmt, lam=lam)}
        else:
            m = default_modes(dim, x.shape[1:]) if modes is None else modes
            ks = check_modes(x.shape[1:], m)
            block = SpectralBlock(random_weights(channels, channels, ks, seed=seed), ks, policy)
            row = {"res": res, "modes": list(ks), "precision": policy.name, "backend": policy.backend,
                   "engine": engine, **block_error(channel_inputs(x, channels), block, lam=lam, certify=certify,
                                                   engine=engine)}
        rows.append(row)
    return rows
