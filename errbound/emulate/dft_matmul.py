"""The truncated DFT as a matrix product: only the retained modes (tensor-core model).

A GPU can run a half-precision Fourier layer at any resolution by multiplying with the
``n x k`` matrix of the retained Fourier modes instead of calling an FFT. The model is
:func:`errbound.arith.matmul`: both operands rounded (RNE) into ``input_fmt``, products exact, the
sum over the inner index accumulated left to right, each partial sum rounded into ``acc_fmt``.

Complex numbers are real pairs. Along one axis, with ``F = C + i S`` the rounded matrix of
``exp(-2 pi i j k / n)`` (``C``, ``S`` rounded separately) and ``x = a + i b``:

* real data (first axis of a real transform): ``[Re, Im] = a @ [C | S]`` (inner index j);
* complex data: ``[Re, Im] = [a | b] @ [[C, S], [-S, C]]``: the inner index runs over the real
  parts first, then the imaginary parts (one accumulation of length 2n per output).

Axis order: ``axes[-1]`` first (the real one when ``real=True``), then ``axes[-2]``, ... Between
axes the partial result (in ``acc_fmt``) is the next product's input, so it is rounded into
``input_fmt`` again, as a tensor-core pipeline stores it. The retained indices along an axis of
length n are ``0..k-1`` on the real (last) axis and ``0..k-1, n-k..n-1`` (in this order) on the
others (the FNO convention: ``x_ft[..., :k1, :k2]`` and ``x_ft[..., -k1:, :k2]``).

Normalization: ``scaling="after"`` multiplies the result by the total factor (rounded into
``acc_fmt``, one rounding); ``"matrix"`` folds each axis's factor (``1/n_i`` or ``1/sqrt(n_i)``) into
that axis's matrix before it is rounded into ``input_fmt``. Finally the result is rounded into
``out_fmt`` when given.

The inverse (:func:`idft_modes`) synthesises the grid from the retained modes with ``exp(+2 pi i j k / n)``
matrices; on the real axis ``x_j = sum_k w_k Re(X_k e^{2 pi i j k / n})`` with Hermitian weights ``w_0 = 1``,
``w_k = 2`` for ``0 < k < n/2`` and ``w_{n/2} = 1``, i.e. ``x = [Re X | Im X] @ [[w C], [-w S]]`` (the imaginary
parts of bin 0 and of bin n/2 meet exact zeros of S, so they are ignored).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import mpmath
import numpy as np

from errbound.emulate._config import MatmulConfig, as_matmul_config, check_norm
from errbound.emulate._constants import _WINDOW, round_const, round_scalar_const
from errbound.emulate._ops import NUMPY
from errbound.emulate._reference import _unit
from errbound.errors import ErrboundError
from errbound.formats import Format

__all__ = ["retained_indices", "dft_modes", "idft_modes", "dft_matrix", "dft_forward_components", "dft_inverse_components"]


def retained_indices(n: int, k: int, *, real: bool) -> np.ndarray:
    """Retained Fourier indices along an axis of length ``n``: ``0..k-1`` if ``real`` (needs
    ``k <= n//2 + 1``), else ``0..k-1`` then ``n-k..n-1`` (needs ``2k <= n``)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ErrboundError(f"the number of retained modes must be a positive integer, got {k!r}")
    if real:
        if k > n // 2 + 1:
            raise ErrboundError(
                f"a grid of {n} points has only {n // 2 + 1} real-FFT modes; {k} modes need n >= {2 * (k - 1)}: "
                "use a finer grid or fewer modes"
            )
        return np.arange(k)
    if 2 * k > n:
        raise ErrboundError(
            f"{k} modes on each side need a grid of at least {2 * k} points along this axis, got {n}; "
            "use a finer grid or fewer modes"
        )
    return np.concatenate([np.arange(k), np.arange(n - k, n)])


def _axis_factor(norm: str, n: int, inverse: bool) -> mpmath.mpf | None:
    with mpmath.workprec(200):
        if norm == "ortho":
            return 1 / mpmath.sqrt(n)
        if (norm == "forward") != inverse:
            return mpmath.mpf(1) / n
    return None


@functools.lru_cache(maxsize=64)
def dft_matrix(n: int, idx: tuple[int, ...], sign: int, fmt: Format, factor_key: str | None = None,
               weights: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rounded ``(C, S)``, shape ``(n, len(idx))``: ``w_k * f * (cos, sign sin)(2 pi j idx_k / n)``.

    ``factor_key`` is ``None`` or a decimal string of the exact factor ``f`` (``"1/n"`` forms);
    ``weights`` (Hermitian synthesis weights) default to 1. Exact zeros are set exactly.
    """
    j = np.arange(n, dtype=np.int64)[:, None]
    kk = np.asarray(idx, dtype=np.int64)[None, :]
    num = np.mod(2 * j * kk, 2 * n)
    w = np.ones(len(idx)) if weights is None else np.asarray(weights, dtype=np.float64)
    f_exact = None if factor_key is None else _parse_factor(factor_key)
    f64 = 1.0 if f_exact is None else float(f_exact)
    ang = np.pi * (num / n)
    c0 = ((2 * num) % n == 0) & (((2 * num) // n) % 2 == 1)
    s0 = num % n == 0
    window = _WINDOW * 4 * max(1.0, float(np.max(w)))

    def exact(part: int):
        def g(i: int) -> mpmath.mpf:
            r, col = divmod(i, len(idx))
            with mpmath.workprec(200):
                c, s = _unit(int(num[r, col]), n)
                v = (c if part == 0 else sign * s) * int(w[col])
                return v if f_exact is None else v * f_exact
        return g

    C = round_const(w * f64 * np.cos(ang), window, exact(0), fmt, c0)
    S = round_const(w * f64 * sign * np.sin(ang), window, exact(1), fmt, s0)
    return C, S


def _parse_factor(key: str) -> mpmath.mpf:
    kind, n = key.split(":")
    with mpmath.workprec(200):
        return mpmath.mpf(1) / int(n) if kind == "inv" else 1 / mpmath.sqrt(int(n))


def _factor_key(norm: str, n: int, inverse: bool) -> str | None:
    if norm == "ortho":
        return f"isqrt:{n}"
    if (norm == "forward") != inverse:
        return f"inv:{n}"
    return None


def _check(x: object, real: bool, name: str) -> np.ndarray:
    from errbound.emulate.transforms import _as_data

    return _as_data(x, real=real, name=name)


def _axes_modes(arr: np.ndarray, modes: int | Sequence[int], axes: Sequence[int] | None, name: str):
    ks = [int(modes)] if isinstance(modes, (int, np.integer)) else [int(k) for k in modes]
    if axes is None:
        axes = tuple(range(arr.ndim - len(ks), arr.ndim))
    axes = tuple(int(a) for a in axes)
    if len(axes) != len(ks):
        raise ErrboundError(f"{name}: {len(ks)} mode counts for {len(axes)} axes; give one per axis")
    if len(ks) > arr.ndim:
        raise ErrboundError(f"{name}: {len(ks)} transformed axes but the input has rank {arr.ndim} (shape {arr.shape})")
    for a in axes:
        if not -arr.ndim <= a < arr.ndim:
            raise ErrboundError(f"{name}: axis {a} out of range for rank {arr.ndim}")
    axes = tuple(a % arr.ndim for a in axes)
    if len(set(axes)) != len(axes):
        raise ErrboundError(f"{name}: repeated axes {axes}")
    return ks, axes


def _apply(a_re, a_im, C: np.ndarray, S: np.ndarray, cfg: MatmulConfig, ar):  # type: ignore[no-untyped-def]
    """One axis (the last one): complex (or real if a_im is None) data times C + i S, as one real
    matmul per the module docstring. Returns (re, im) in acc_fmt."""
    K = C.shape[1]
    if a_im is None:
        out = ar.matmul(a_re, np.concatenate([C, S], axis=1), cfg.input_fmt, cfg.acc_fmt, cfg.mode)
    else:
        A = ar.xp.concatenate([a_re, a_im], axis=-1)
        out = ar.matmul(A, np.block([[C, S], [-S, C]]), cfg.input_fmt, cfg.acc_fmt, cfg.mode)
    return out[..., :K], out[..., K:]


def _finish(re, im, cfg: MatmulConfig, factor: mpmath.mpf | None, ar):  # type: ignore[no-untyped-def]
    if factor is not None and cfg.scaling == "after":
        f = round_scalar_const(factor, cfg.acc_fmt)
        re = ar.mul(re, f, cfg.acc_fmt, cfg.mode, const_fmt=cfg.acc_fmt)
        im = None if im is None else ar.mul(im, f, cfg.acc_fmt, cfg.mode, const_fmt=cfg.acc_fmt)
    if cfg.out_fmt is not None:
        re = ar.round(re, cfg.out_fmt, cfg.mode)
        im = None if im is None else ar.round(im, cfg.out_fmt, cfg.mode)
    return re, im


def dft_forward_components(x, idxs: Sequence[np.ndarray], cfg: MatmulConfig, ar, axes: Sequence[int], *,  # type: ignore[no-untyped-def]
                           real: bool = True, norm: str = "forward", x_im=None):
    """The matrix-product DFT of ``x`` (real, or complex with ``x_im``) at the retained indices ``idxs`` along
    ``axes``, on the arithmetic ``ar`` (numpy or torch): ``axes[-1]`` first, then ``axes[-2]``, ...; between
    axes the partial result (in ``acc_fmt``) is rounded into ``input_fmt`` by the next product. Returns
    ``(re, im)`` in ``ar``'s array type."""
    lengths = [x.shape[a] for a in axes]
    re, im = x, x_im
    for a, n, idx in reversed(list(zip(axes, lengths, idxs))):
        key = _factor_key(norm, n, False) if cfg.scaling == "matrix" else None
        C, S = dft_matrix(n, tuple(int(i) for i in idx), -1, cfg.input_fmt, key)
        r, i_ = _apply(ar.xp.moveaxis(re, a, -1), None if im is None else ar.xp.moveaxis(im, a, -1), C, S, cfg, ar)
        re, im = ar.xp.moveaxis(r, -1, a), ar.xp.moveaxis(i_, -1, a)
    return _finish(re, im, cfg, _total_factor(norm, math.prod(lengths), False), ar)


def dft_inverse_components(re, im, shape: Sequence[int], idxs: Sequence[np.ndarray], cfg: MatmulConfig, ar,  # type: ignore[no-untyped-def]
                           axes: Sequence[int], *, real: bool = True, norm: str = "forward"):
    """Synthesis from the retained coefficients ``re + i im`` at indices ``idxs``: complex inverses along
    ``axes[0], ..., axes[-2]``, then the last axis (real output with Hermitian weights when ``real``).
    Returns ``(re, im)`` (``im`` None for a real output) in ``ar``'s array type."""
    for i, (a, n, idx) in enumerate(zip(axes, shape, idxs)):
        last_real = real and i == len(axes) - 1
        key = _factor_key(norm, n, True) if cfg.scaling == "matrix" else None
        if last_real:
            wts = tuple(1 if (k == 0 or 2 * k == n) else 2 for k in idx)
            C, S = dft_matrix(n, tuple(int(k) for k in idx), +1, cfg.input_fmt, key, wts)
            A = ar.xp.concatenate([ar.xp.moveaxis(re, a, -1), ar.xp.moveaxis(im, a, -1)], axis=-1)
            out = ar.matmul(A, np.concatenate([C.T, -S.T], axis=0), cfg.input_fmt, cfg.acc_fmt, cfg.mode)
            re, im = ar.xp.moveaxis(out, -1, a), None
        else:
            C, S = dft_matrix(n, tuple(int(k) for k in idx), +1, cfg.input_fmt, key)
            r, i_ = _apply(ar.xp.moveaxis(re, a, -1), ar.xp.moveaxis(im, a, -1), np.ascontiguousarray(C.T),
                           np.ascontiguousarray(S.T), cfg, ar)
            re, im = ar.xp.moveaxis(r, -1, a), ar.xp.moveaxis(i_, -1, a)
    return _finish(re, im, cfg, _total_factor(norm, math.prod(shape), True), ar)


def _total_factor(norm: str, m: int, inverse: bool) -> mpmath.mpf | None:
    return _axis_factor(norm, m, inverse) if m > 1 else None


def dft_modes(x: object, modes: int | Sequence[int], config: MatmulConfig | tuple, *, axes: Sequence[int] | None = None,
              real: bool = True, norm: str | None = "backward") -> np.ndarray:
    """Retained Fourier coefficients of ``x`` by matrix products (tensor-core model).

    Args:
        x: data, shape ``(..., n_1, ..., n_d)`` (real when ``real``).
        modes: ``k`` per transformed axis (an int for one axis).
        config: :class:`MatmulConfig` or ``(input_fmt, acc_fmt)``.
        axes: transformed axes (default: the last ``len(modes)``).
        real: real input; the last axis keeps ``0..k-1`` (like ``rfftn``), the others
            ``0..k-1, n-k..n-1``; with ``real=False`` every axis keeps both sides.
        norm: numpy semantics, total factor over the transformed axes.

    Returns:
        complex128, shape with each transformed axis replaced by its retained count; equals
        ``numpy.fft.rfftn(x)`` (or ``fftn``) at the retained indices up to rounding.
    """
    cfg = as_matmul_config(config)
    norm = check_norm(norm)
    arr = _check(x, real, "dft_modes")
    ks, ax = _axes_modes(arr, modes, axes, "dft_modes")
    lengths = [arr.shape[a] for a in ax]
    idxs = [retained_indices(n, k, real=(real and i == len(ax) - 1)) for i, (n, k) in enumerate(zip(lengths, ks))]
    re = arr.real.astype(np.float64) if np.iscomplexobj(arr) else arr
    im = arr.imag.astype(np.float64) if np.iscomplexobj(arr) else None
    re, im = dft_forward_components(re, idxs, cfg, NUMPY, ax, real=real, norm=norm, x_im=im)
    out = np.empty(re.shape, dtype=np.complex128)
    out.real, out.imag = re, im
    return out


def idft_modes(X: object, shape: Sequence[int], config: MatmulConfig | tuple, *, axes: Sequence[int] | None = None,
               real: bool = True, norm: str | None = "backward") -> np.ndarray:
    """Synthesise the grid values from retained modes by matrix products (tensor-core model).

    ``X`` has the layout :func:`dft_modes` returns; ``shape`` is the output grid along the
    transformed axes. With ``real`` the output is real (Hermitian weights on the last axis;
    numpy ``irfftn`` of the zero-filled spectrum), else complex (``ifftn``). Complex inverses run
    along ``axes[0], ..., axes[-2]`` first, the last axis last.
    """
    cfg = as_matmul_config(config)
    norm = check_norm(norm)
    arr = _check(X, False, "idft_modes")
    shape = [int(s) for s in shape]
    if axes is None:
        axes = tuple(range(arr.ndim - len(shape), arr.ndim))
    if len(axes) != len(shape) or len(shape) > arr.ndim:
        raise ErrboundError(f"idft_modes: output shape {shape} needs one length per axis of the input (rank {arr.ndim})")
    ax = tuple(int(a) % arr.ndim for a in axes)
    idxs = []
    for i, (a, n) in enumerate(zip(ax, shape)):
        have = arr.shape[a]
        last_real = real and i == len(ax) - 1
        if not last_real and have % 2:
            raise ErrboundError(f"idft_modes: axis {a} holds {have} modes; the two-sided layout needs an even count")
        idxs.append(retained_indices(n, have if last_real else have // 2, real=last_real))
    re, im = dft_inverse_components(arr.real.astype(np.float64), arr.imag.astype(np.float64), shape, idxs, cfg,
                                    NUMPY, ax, real=real, norm=norm)
    if im is None:
        return re
    out = np.empty(re.shape, dtype=np.complex128)
    out.real, out.imag = re, im
    return out
