"""The spectral block of a Fourier layer, defined once and run on any arithmetic (numpy or torch).

:func:`run_block` is *the* definition of what a reduced-precision spectral block computes under a
:class:`errbound.policy.Policy`; the numpy emulator (:class:`errbound.spectral_block.SpectralBlock`,
the advisor) and the trainer's torch layer (:class:`errbound.train.spectral.SpectralConv` on a CPU, and
``errbound precision --engine torch``) both call it, with :data:`errbound.emulate._ops.NUMPY` or
:class:`errbound.train.emulated.TorchArithmetic`. Both arithmetics round every operation correctly, so the
two engines agree bit for bit.

For input ``v`` of shape ``(batch, C_in, *grid)`` and weights ``R`` of shape ``(C_out, C_in, *mode_shape)``
(:mod:`errbound.modes`: neuraloperator's ``n_modes`` layout):

1. **pre-scale** (stabilizer ``pow2``): ``v <- 2**e v`` with ``e = pow2_exponent(...) <= 0`` (exact);
2. **input cast**: ``z = fl_in(v)``;
3. **stabilizer** ``tanh`` (``fl_in(tanh z)``), ``clip`` (``clip(z, -c, c)``, ``c = fl_in^rz(bound)``) or
   ``sigma2`` (clip to ``mean +- nsigma std`` per sample and channel, float64 statistics of ``z``, thresholds
   rounded into the input format);
4. **forward transform**: ``fft``: the emulated ``rfftn`` of :mod:`errbound.emulate.transforms` (real
   transform along the last axis, complex ones along axes ``d-2, ..., 0``; every operation rounded into the
   working format; ``norm="forward"``: one rounded multiply by ``1/m`` after the unnormalised transform, as
   cuFFT does), then truncation to the retained modes; ``dft``: matrix products with the rounded DFT matrices
   of the retained modes (:func:`errbound.emulate.dft_matmul.dft_forward_components`: last axis first, then
   ``d-2, ..., 0``; the factor ``1/m`` multiplies the fp32 result before its last rounding);
5. **spectrum cast** (``mixed``): ``X <- fl_spec(X)``;
6. **contraction** in real pairs: ``Re Y[o] = sum_i Xr[i] Rr[o,i] - sum_i Xi[i] Ri[o,i]`` and
   ``Im Y[o] = sum_i Xr[i] Ri[o,i] + sum_i Xi[i] Rr[o,i]``, each one left-to-right sum of ``2 C_in`` products
   from +0 (the real-part products first), products exact (or rounded into ``product_fmt``), sums rounded
   into ``acc_fmt``, the result into ``out_fmt``;
7. **inverse transform**: ``fft``: emulated ``irfftn`` of the zero-filled half spectrum (complex inverses
   along axes ``0, ..., d-2``, the real inverse along the last axis, which ignores the imaginary parts of
   frequency 0 and ``n/2``: the Hermitian handling); ``dft``: matrix products with the Hermitian weights
   (1 for frequencies 0 and ``n/2``, 2 otherwise) on the last axis;
8. **undo the pre-scale**: ``out = fl_res(2**-e out)``.

``overflow`` is set when any rounded intermediate is non-finite (the stage maxima are recorded).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from errbound.emulate._ops import NUMPY, RoundedBackend, Trace
from errbound.emulate.dft_matmul import dft_forward_components, dft_inverse_components
from errbound.emulate.transforms import irfftn_components, rfftn_components
from errbound.errors import ErrboundError
from errbound.formats import Format
from errbound.modes import check_modes, mode_shape, retained_indices
from errbound.policy import Policy
from errbound.rounding import round_to

__all__ = ["BlockRun", "run_block", "pow2_exponent", "pow2_bound", "std_bounds"]


@dataclasses.dataclass
class BlockRun:
    """What :func:`run_block` computed: ``output`` (batch, C_out, *grid) and the retained ``spectrum`` as real
    and imaginary component arrays ``(2, batch, C_in, *mode_shape)`` in data units (both in the arithmetic's
    array type), the overflow flag, the largest finite intermediate, the pre-scale exponent ``e`` applied,
    the per-stage maxima and ``underflow``: the fraction of the nonzero inputs that the input cast flushed to
    zero (data too small for the format: the block then loses them entirely)."""

    output: Any
    spectrum: Any
    overflow: bool
    max_intermediate: float
    prescale_exp: int
    stage_max: dict[str, float]
    underflow: float = 0.0


def pow2_bound(x_abs_max: float, x_abs_sum_max: float, grid: tuple[int, ...], policy: Policy) -> float:
    """Bound on the magnitude of the block's rounded intermediates before pre-scaling.

    ``fft``: every intermediate of the radix-2 transform is a partial DFT of the input, so its modulus is at
    most ``sum |x|`` of its (sample, channel): ``x_abs_sum_max`` (the largest such sum). ``dft``: the
    rounded intermediates are the unnormalised partial sums over every transformed axis but the last one
    processed (axis 0; the factor ``1/m`` is applied in the fp32 accumulator before the last rounding), so
    ``|.| <= max|x| prod(n_1, ..., n_{d-1})``."""
    if policy.forward.kind == "fft":
        return x_abs_sum_max
    return x_abs_max * math.prod(grid[1:])


def pow2_exponent(bound: float, fmt: Format) -> int:
    """The pre-scale exponent ``e <= 0`` for a magnitude bound: with ``bound = f 2**p`` (``f`` in
    [1/2, 1)), ``e = -max(0, p - (emax - 1))``, so ``2**e bound < 2**(emax - 1)``: a factor of at least two
    below the format's largest binade (room for rounding growth and for the inverse transform)."""
    if not (bound > 0 and math.isfinite(bound)):
        return 0
    _, p = math.frexp(bound)
    return -max(0, p - (fmt.emax - 1))


def std_bounds(z: np.ndarray, nsigma: float, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``mean -+ nsigma std`` over the last ``dim`` axes (float64 numpy)."""
    axes = tuple(range(z.ndim - dim, z.ndim))
    mean = np.mean(z, axis=axes, keepdims=True)
    std = np.std(z, axis=axes, keepdims=True)
    return mean - nsigma * std, mean + nsigma * std


def _stage(stage_max: dict[str, float], name: str, arr, ar, fmt: Format) -> None:  # type: ignore[no-untyped-def]
    mx, nonfinite, _, _ = ar.stats(arr, fmt)
    stage_max[name] = mx
    if nonfinite:
        stage_max[name + ".nonfinite"] = 1.0


def _trace_into(stage_max: dict[str, float], prefix: str, tr: Trace) -> None:
    for rec in tr.stages:
        stage_max[prefix + rec.name] = max(stage_max.get(prefix + rec.name, 0.0), rec.max_abs)
        if rec.nonfinite:
            stage_max[prefix + rec.name + ".nonfinite"] = 1.0


def _index(arr, idxs, first_axis: int):  # type: ignore[no-untyped-def]
    """``arr`` restricted to the index arrays ``idxs`` along consecutive axes from ``first_axis``."""
    for i, idx in enumerate(idxs):
        ax = first_axis + i
        sl = (slice(None),) * ax + (idx,)
        arr = arr[sl]
    return arr


def _stabilize(z, policy: Policy, ar, dim: int):  # type: ignore[no-untyped-def]
    st = policy.stabilizer
    fmt = policy.input_fmt
    mode = policy.forward.mode
    if st.kind == "tanh":
        zz = ar.xp.tanh(z.double()) if ar is not NUMPY else np.tanh(z)
        return ar.round(zz, fmt, mode)
    if st.kind == "clip":
        c = float(round_to(np.float64(st.bound), fmt, "rz"))
        return ar.xp.clip(z, -c, c)
    if st.kind == "sigma2":
        lo, hi = std_bounds(ar.to_numpy(z), st.nsigma, dim)
        lo, hi = ar.asarray(round_to(lo, fmt, mode)), ar.asarray(round_to(hi, fmt, mode))
        if ar is not NUMPY:
            lo, hi = lo.to(z.dtype), hi.to(z.dtype)
            return ar.xp.minimum(ar.xp.maximum(z, lo), hi)
        return np.clip(z, lo, hi)
    return z


def run_block(x, weights_re, weights_im, modes, policy: Policy, ar=NUMPY, *,  # type: ignore[no-untyped-def]
              prescale_exp: int | None = None, report_underflow: bool = True) -> BlockRun:
    """Run the spectral block (module docstring) on arithmetic ``ar``.

    ``x``: real input ``(batch, C_in, *grid)``; ``weights_re``/``weights_im``: ``(C_out, C_in,
    *mode_shape(modes))``; all in ``ar``'s array type (numpy float64, or torch). ``prescale_exp``: the ``pow2``
    exponent if already known (None: computed here from ``x``). ``report_underflow=False`` skips the flushed
    fraction (``underflow`` 0.0: a training step does not need it). Never raises on overflow: inf/NaN propagate
    and ``overflow`` is set."""
    grid = tuple(int(n) for n in x.shape[2:])
    d = len(grid)
    ms = check_modes(grid, modes)
    if tuple(weights_re.shape[2:]) != mode_shape(ms):
        raise ErrboundError(f"weights for modes {ms} must have mode shape {mode_shape(ms)}, got {tuple(weights_re.shape[2:])}")
    idxs = retained_indices(grid, ms)
    axes = tuple(range(2, 2 + d))
    stage_max: dict[str, float] = {}
    e = 0
    if policy.stabilizer.kind == "pow2":
        if prescale_exp is None:
            xa = np.abs(ar.to_numpy(x))
            bound = pow2_bound(float(xa.max()), float(xa.sum(axis=axes).max()), grid, policy)
            e = pow2_exponent(bound, policy.narrowest)
        else:
            e = int(prescale_exp)
    xs = x if e == 0 else (x.double() if ar is not NUMPY else x) * 2.0**e
    z = ar.round(xs, policy.input_fmt, policy.forward.mode)
    _stage(stage_max, "cast", z, ar, policy.input_fmt)
    z = _stabilize(z, policy, ar, d)
    _stage(stage_max, "stabilizer", z, ar, policy.input_fmt)
    fwd = policy.forward
    if fwd.kind == "fft":
        tr = Trace()
        be = RoundedBackend(fwd.fft_config(), trace=tr, arithmetic=ar)
        X = rfftn_components(z, be, axes, "forward", list(grid))  # (2, B, C, *half)
        _trace_into(stage_max, "fwd.", tr)
        X = _index(X, idxs, 3)
        Xr, Xi = X[0], X[1]
    else:
        Xr, Xi = dft_forward_components(z, idxs, fwd.matmul_config(), ar, axes, norm="forward")
        _stage(stage_max, "fwd.dft", ar.xp.stack([Xr, Xi]), ar, fwd.result_fmt)
    if policy.spectrum_fmt is not None:
        Xr, Xi = ar.round(Xr, policy.spectrum_fmt, fwd.mode), ar.round(Xi, policy.spectrum_fmt, fwd.mode)
    Yr, Yi = _contract(Xr, Xi, weights_re, weights_im, policy, ar)
    _stage(stage_max, "contract", ar.xp.stack([Yr, Yi]), ar, policy.contraction.acc_fmt)
    inv = policy.inverse
    out_shape = (x.shape[0], weights_re.shape[0]) + grid
    finite = ar.all_finite(Yr) and ar.all_finite(Yi)
    if not finite:
        out = ar.xp.full(out_shape, float("nan")) if ar is NUMPY else ar.zeros(out_shape) + float("nan")
    elif inv.kind == "fft":
        half = grid[:-1] + (grid[-1] // 2 + 1,)
        full = ar.zeros((2,) + out_shape[:2] + half)
        sl = np.ix_(*[np.arange(2), np.arange(out_shape[0]), np.arange(out_shape[1])] + idxs)
        full[sl] = ar.xp.stack([Yr, Yi])
        tr = Trace()
        be = RoundedBackend(inv.fft_config(), trace=tr, arithmetic=ar)
        out = irfftn_components(full, be, axes, "forward", list(grid))
        _trace_into(stage_max, "inv.", tr)
    else:
        out, _ = dft_inverse_components(Yr, Yi, grid, idxs, inv.matmul_config(), ar, axes, norm="forward")
        _stage(stage_max, "inv.dft", out, ar, inv.result_fmt)
    spectrum = ar.xp.stack([Xr, Xi])
    if e:
        out = ar.round((out.double() if ar is not NUMPY else out) * 2.0**-e, inv.result_fmt, inv.mode)
        spectrum = (spectrum.double() if ar is not NUMPY else spectrum) * 2.0**-e  # data units (exact)
    # the input cast's inf/NaN count only when the stabilizer does not absorb them (tanh and clip map +-inf
    # to finite values: hardware would compute exactly that)
    overflow = any(k.endswith(".nonfinite") and k != "cast.nonfinite" for k in stage_max) or not ar.all_finite(out)
    underflow = _flushed_fraction(x, z, ar) if report_underflow else 0.0
    mx = max((v for k, v in stage_max.items() if not k.endswith(".nonfinite")), default=0.0)
    return BlockRun(out, spectrum, bool(overflow), mx, e, stage_max, underflow)


def _flushed_fraction(x, z, ar) -> float:  # type: ignore[no-untyped-def]
    """Fraction of the nonzero entries of ``x`` that are zero after the input cast (and stabilizer)."""
    xn, zn = ar.to_numpy(x), ar.to_numpy(z)
    nonzero = xn != 0
    count = int(np.count_nonzero(nonzero))
    return float(np.count_nonzero(nonzero & (zn == 0)) / count) if count else 0.0


def _contract(Xr, Xi, Wr, Wi, policy: Policy, ar):  # type: ignore[no-untyped-def]
    """Step 6 of the module docstring: one left-to-right sum of ``2 C_in`` terms per output component."""
    c = policy.contraction
    fin, mode = c.input_fmt, c.mode
    Xr, Xi = ar.round(Xr, fin, mode), ar.round(Xi, fin, mode)
    Rr, Ri = ar.round(Wr, fin, mode), ar.round(Wi, fin, mode)
    c_in = Xr.shape[1]
    shape = (Xr.shape[0], Rr.shape[0]) + tuple(Xr.shape[2:])
    re = ar.zeros(shape)
    im = ar.zeros(shape)

    def prod(a, w):  # type: ignore[no-untyped-def]
        return ar.product(a[:, None], w[None], fin, c.product_fmt)

    for i in range(c_in):
        re = ar.accumulate(re, prod(Xr[:, i], Rr[:, i]), c.acc_fmt, mode)
    for i in range(c_in):
        re = ar.accumulate(re, -prod(Xi[:, i], Ri[:, i]), c.acc_fmt, mode)
    for i in range(c_in):
        im = ar.accumulate(im, prod(Xr[:, i], Ri[:, i]), c.acc_fmt, mode)
    for i in range(c_in):
        im = ar.accumulate(im, prod(Xi[:, i], Rr[:, i]), c.acc_fmt, mode)
    if c.out_fmt is not None:
        re, im = ar.round(re, c.out_fmt, mode), ar.round(im, c.out_fmt, mode)
    return re, im
