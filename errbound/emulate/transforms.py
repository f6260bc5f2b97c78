"""Public emulated transforms: numpy-compatible fft / ifft / rfft / irfft and their n-d forms.

Each function casts the data into the working format (input rounding counts), runs the
documented operation order (:mod:`fft_radix2`, :mod:`bluestein`, :mod:`real`) on a
:class:`~errbound.emulate._ops.RoundedBackend` and applies the normalization as the config says
(``scaling="after"``: one rounded multiply of the unnormalized result, as cuFFT and torch do).

Multi-dimensional order: ``fftn``/``ifftn`` transform ``axes[-1]`` first, then ``axes[-2]``, ...;
``rfftn`` does the real transform along ``axes[-1]`` then complex ones along ``axes[-2]``, ...;
``irfftn`` does complex inverses along ``axes[0]``, ``axes[1]``, ..., ``axes[-2]`` and the real
inverse along ``axes[-1]`` last. The normalization (total ``m = prod`` of the lengths) is applied
once, to the n-d result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mpmath
import numpy as np

from errbound.emulate._config import FFTConfig, as_fft_config, check_norm
from errbound.emulate._constants import round_scalar_const
from errbound.emulate._ops import Backend, RoundedBackend, Trace
from errbound.emulate.bluestein import fft_any
from errbound.emulate.real import irfft_last, rfft_last
from errbound.errors import ErrboundError
from errbound.formats import Format

__all__ = [
    "fft", "ifft", "rfft", "irfft", "fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2",
    "TRANSFORMS", "run_transform", "prepare",
]

TRANSFORMS = ("fft", "ifft", "rfft", "irfft", "fftn", "ifftn", "rfftn", "irfftn")
ConfigLike = FFTConfig | Format | str


# ---- validation ------------------------------------------------------------------------------------------------
def _as_data(x: object, *, real: bool, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except Exception as exc:  # noqa: BLE001 - anything numpy cannot read is bad input
        raise ErrboundError(f"{name}: cannot read the input as an array ({exc})") from exc
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number)):
        raise ErrboundError(f"{name}: input must be a real or complex numeric array, got dtype {arr.dtype}")
    if real and np.iscomplexobj(arr):
        raise ErrboundError(
            f"{name}: input must be real (got complex dtype {arr.dtype}); pass x.real or use the complex transform"
        )
    if arr.ndim == 0:
        raise ErrboundError(f"{name}: input must have at least one axis, got a scalar")
    if arr.size == 0:
        raise ErrboundError(f"{name}: input is empty (shape {arr.shape}); pass at least one sample per axis")
    arr = arr.astype(np.complex128 if np.iscomplexobj(arr) else np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ErrboundError(f"{name}: input has {bad} NaN/inf value(s); clean or mask the data before transforming")
    return arr


def _axes(arr: np.ndarray, axes: Sequence[int] | int | None, name: str, default_all: bool) -> tuple[int, ...]:
    if axes is None:
        axes = tuple(range(arr.ndim)) if default_all else (-1,)
    elif isinstance(axes, (int, np.integer)):
        axes = (int(axes),)
    axes = tuple(int(a) for a in axes)
    if not axes:
        raise ErrboundError(f"{name}: axes is empty; pass at least one axis")
    out = []
    for a in axes:
        if not -arr.ndim <= a < arr.ndim:
            raise ErrboundError(
                f"{name}: axis {a} is out of range for an input of rank {arr.ndim} (shape {arr.shape}); "
                f"the input needs at least {len(axes)} axes for this transform"
            )
        out.append(a % arr.ndim)
    if len(set(out)) != len(out):
        raise ErrboundError(f"{name}: repeated axes {axes}; each axis may be transformed once")
    return tuple(out)


# ---- normalization ---------------------------------------------------------------------------------------------
def _norm_factor(norm: str, m: int, inverse: bool) -> mpmath.mpf | None:
    """Exact factor (mpmath, 200 bits) applied to the unnormalized result, None for 1."""
    with mpmath.workprec(200):
        if norm == "ortho":
            return None if m == 1 else 1 / mpmath.sqrt(m)
        if (norm == "forward") != inverse:
            return None if m == 1 else mpmath.mpf(1) / m
    return None


def _split_prescale(factor: mpmath.mpf) -> tuple[int, mpmath.mpf | None]:
    """factor = 2**-e * r with e = floor(log2(1/factor)) and r in (1/2, 1] (None when r == 1)."""
    with mpmath.workprec(200):
        e = int(mpmath.floor(mpmath.log(1 / factor, 2)))
        # guard the floating log near powers of two with exact comparisons
        while mpmath.mpf(2) ** e > 1 / factor:
            e -= 1
        while mpmath.mpf(2) ** (e + 1) <= 1 / factor:
            e += 1
        r = factor * mpmath.mpf(2) ** e
        return e, (None if r == 1 else r)


def _scale(z: np.ndarray, be: Backend, factor: mpmath.mpf | None, label: str) -> np.ndarray:
    if factor is None:
        return z
    be.stage(label)
    return be.scale(z, round_scalar_const(factor, be.config.const_fmt))


# ---- the generic driver ----------------------------------------------------------------------------------------
def prepare(kind: str, x: object, axes: Sequence[int] | int | None, norm: str | None, n: int | Sequence[int] | None):
    """Validate the arguments of ``kind``; returns (data, axes, norm, output lengths along axes)."""
    if kind not in TRANSFORMS:
        raise ErrboundError(f"unknown transform {kind!r}; choose one of {TRANSFORMS}")
    norm = check_norm(norm)
    real_in = kind in ("rfft", "rfftn")
    arr = _as_data(x, real=real_in, name=kind)
    nd = kind.endswith("n")
    ax = _axes(arr, axes, kind, default_all=nd)
    if not nd and len(ax) != 1:
        raise ErrboundError(f"{kind}: transforms one axis; use {kind}n for several")
    lengths = [arr.shape[a] for a in ax]
    if kind in ("irfft", "irfftn"):
        if n is None:
            last = 2 * (arr.shape[ax[-1]] - 1)
            lengths[-1] = last
        else:
            ns = [n] if isinstance(n, (int, np.integer)) else list(n)
            if len(ns) != len(ax):
                raise ErrboundError(f"{kind}: output shape {n!r} must have one length per axis ({len(ax)})")
            lengths = [int(v) for v in ns]
        if any(v < 1 for v in lengths):
            raise ErrboundError(
                f"{kind}: output lengths {lengths} must be >= 1 (an input of {arr.shape[ax[-1]]} bins gives "
                f"n = 2*(bins-1)); pass n/s explicitly"
            )
    elif n is not None:
        raise ErrboundError(f"{kind}: the output length argument is only for irfft/irfftn")
    return arr, ax, norm, lengths


def run_transform(kind: str, arr: np.ndarray, be: Backend, ax: tuple[int, ...], norm: str, lengths: list[int]) -> np.ndarray:
    """Run ``kind`` on validated data with backend ``be``; returns a component array (complex
    output: leading axis 2 = real, imaginary) in the user's axis layout."""
    inverse = kind in ("ifft", "ifftn", "irfft", "irfftn")
    if kind in ("rfft", "rfftn"):
        return rfftn_components(arr, be, ax, norm, lengths)
    comps = np.stack([arr.real, arr.imag]) if np.iscomplexobj(arr) else np.stack([arr, np.zeros_like(arr)])
    if kind in ("irfft", "irfftn"):
        return irfftn_components(comps, be, ax, norm, lengths)
    sign = +1 if inverse else -1
    post, pre_e = _post_and_pre(be, norm, math.prod(lengths), inverse)
    be.stage("cast")
    z = be.cast(comps)
    z = _prescale(z, be, pre_e)
    for a in ax[::-1]:
        z = _fft_axis(z, be, a, sign, inverse)
    return _scale(z, be, post, "normalize")


def _post_and_pre(be: Backend, norm: str, m: int, inverse: bool) -> tuple[mpmath.mpf | None, int]:
    factor = _norm_factor(norm, m, inverse)
    if be.config.scaling == "prescale" and factor is not None:
        pre_e, post = _split_prescale(factor)
        return post, pre_e
    return factor, 0


def _prescale(z, be: Backend, pre_e: int):  # type: ignore[no-untyped-def]
    if not pre_e:
        return z
    be.stage("prescale")
    return be.scale(z, 2.0**-pre_e)


def _fft_axis(z, be: Backend, a: int, sign: int, inverse: bool):  # type: ignore[no-untyped-def]
    """Complex transform of the component array ``z`` (2, ...) along data axis ``a``."""
    zz = be.xp.moveaxis(z, a + 1, -1)
    zz = fft_any(zz, be, sign, label=f"{'ifft' if inverse else 'fft'}[axis {a}]")
    return be.xp.moveaxis(zz, -1, a + 1)


def rfftn_components(x, be: Backend, ax: tuple[int, ...], norm: str, lengths: list[int]):  # type: ignore[no-untyped-def]
    """Emulated ``rfftn`` of real data ``x`` (numpy or the backend's array type) over ``ax``: cast, real
    transform along ``ax[-1]``, complex ones along ``ax[-2], ax[-3], ...``, then the normalization. Returns a
    component array ``(2, ...)`` in the backend's array type (any backend: numpy or torch)."""
    post, pre_e = _post_and_pre(be, norm, math.prod(lengths), False)
    be.stage("cast")
    data = _prescale(be.cast(x), be, pre_e)
    data = be.xp.moveaxis(data, ax[-1], -1)
    z = rfft_last(data, be, label=f"rfft[axis {ax[-1]}]")
    z = be.xp.moveaxis(z, -1, ax[-1] + 1)
    for a in ax[:-1][::-1]:
        z = _fft_axis(z, be, a, -1, False)
    return _scale(z, be, post, "normalize")


def irfftn_components(comps, be: Backend, ax: tuple[int, ...], norm: str, lengths: list[int]):  # type: ignore[no-untyped-def]
    """Emulated ``irfftn`` of the complex component array ``comps`` ``(2, ...)``: numpy's ``s`` handling of
    the complex axes (crop or zero-pad), complex inverses along ``ax[0], ..., ax[-2]``, the real inverse along
    ``ax[-1]`` last, then the normalization. Returns real data in the backend's array type."""
    post, pre_e = _post_and_pre(be, norm, math.prod(lengths), True)
    be.stage("cast")
    z = _prescale(be.cast(comps), be, pre_e)
    for a, ln in zip(ax[:-1], lengths[:-1]):  # numpy's s: crop or zero-pad the complex axes
        have = z.shape[a + 1]
        if have > ln:
            z = be.xp.moveaxis(be.xp.moveaxis(z, a + 1, -1)[..., :ln], -1, a + 1)
        elif have < ln:
            pad_shape = list(z.shape)
            pad_shape[a + 1] = ln - have
            z = be.xp.concatenate([z, be.zeros(tuple(pad_shape))], axis=a + 1)
    for a in ax[:-1]:
        z = _fft_axis(z, be, a, +1, True)
    a = ax[-1]
    zz = be.xp.moveaxis(z, a + 1, -1)
    out = irfft_last(zz, lengths[-1], be, label=f"irfft[axis {a}]")
    return _scale(be.xp.moveaxis(out, -1, a), be, post, "normalize")


def _to_complex(z: np.ndarray) -> np.ndarray:
    out = np.empty(z.shape[1:], dtype=np.complex128)
    out.real = z[0]
    out.imag = z[1]
    return out


def _emulate(kind: str, x: object, config: ConfigLike, axes, norm, n, trace: Trace | None, rng) -> np.ndarray:
    cfg = as_fft_config(config)
    if cfg.mode == "sr" and rng is None:
        raise ErrboundError("stochastic rounding (mode='sr') needs rng=numpy.random.Generator(...) or a seed")
    arr, ax, norm, lengths = prepare(kind, x, axes, norm, n)
    be = RoundedBackend(cfg, rng=np.random.default_rng(rng) if rng is not None else None, trace=trace)
    z = run_transform(kind, arr, be, ax, norm, lengths)
    return z if kind in ("irfft", "irfftn") else _to_complex(z)


# ---- public functions ------------------------------------------------------------------------------------------
def fft(x, config: ConfigLike, *, axis: int = -1, norm: str | None = "backward", trace: Trace | None = None,
        rng=None) -> np.ndarray:
    """Emulated ``numpy.fft.fft(x, axis=axis, norm=norm)``: complex128 values representable in the
    working format. Radix-2 DIT for powers of two, Bluestein otherwise. ``rng`` (seed or
    Generator) only for ``mode="sr"``."""
    return _emulate("fft", x, config, axis, norm, None, trace, rng)


def ifft(x, config: ConfigLike, *, axis: int = -1, norm: str | None = "backward", trace: Trace | None = None,
         rng=None) -> np.ndarray:
    """Emulated ``numpy.fft.ifft`` (same sign convention: ``exp(+2 pi i jk/n)``, 1/n for backward)."""
    return _emulate("ifft", x, config, axis, norm, None, trace, rng)


def rfft(x, config: ConfigLike, *, axis: int = -1, norm: str | None = "backward", trace: Trace | None = None,
         rng=None) -> np.ndarray:
    """Emulated ``numpy.fft.rfft``: real input, n//2+1 bins (half-length packing for even n)."""
    return _emulate("rfft", x, config, axis, norm, None, trace, rng)


def irfft(x, config: ConfigLike, *, n: int | None = None, axis: int = -1, norm: str | None = "backward",
          trace: Trace | None = None, rng=None) -> np.ndarray:
    """Emulated ``numpy.fft.irfft``: float64 output of length ``n`` (default 2*(bins-1)); the
    imaginary parts of bin 0 and bin n/2 are ignored (Hermitian handling)."""
    return _emulate("irfft", x, config, axis, norm, n, trace, rng)


def fftn(x, config: ConfigLike, *, axes: Sequence[int] | None = None, norm: str | None = "backward",
         trace: Trace | None = None, rng=None) -> np.ndarray:
    """Emulated ``numpy.fft.fftn`` over ``axes`` (default all), last axis first."""
    return _emulate("fftn", x, config, axes, norm, None, trace, rng)


def ifftn(x, config: ConfigLike, *, axes: Sequence[int] | None = None, norm: str | None = "backward",
          trace: Trace | None = None, rng=None) -> np.ndarray:
    """Emulated ``numpy.fft.ifftn`` over ``axes`` (default all), last axis first."""
    return _emulate("ifftn", x, config, axes, norm, None, trace, rng)


def rfftn(x, config: ConfigLike, *, axes: Sequence[int] | None = None, norm: str | None = "backward",
          trace: Trace | None = None, rng=None) -> np.ndarray:
    """Emulated ``numpy.fft.rfftn``: real transform along ``axes[-1]``, then complex ones along
    ``axes[-2], axes[-3], ...``."""
    return _emulate("rfftn", x, config, axes, norm, None, trace, rng)


def irfftn(x, config: ConfigLike, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
           norm: str | None = "backward", trace: Trace | None = None, rng=None) -> np.ndarray:
    """Emulated ``numpy.fft.irfftn``: complex inverses along ``axes[0..-2]``, then the real inverse
    along ``axes[-1]`` (output length ``s[-1]``, default 2*(bins-1))."""
    return _emulate("irfftn", x, config, axes, norm, s, trace, rng)


def fft2(x, config: ConfigLike, *, axes: Sequence[int] = (-2, -1), norm: str | None = "backward",
         trace: Trace | None = None, rng=None) -> np.ndarray:
    """:func:`fftn` over the last two axes."""
    return fftn(x, config, axes=axes, norm=norm, trace=trace, rng=rng)


def ifft2(x, config: ConfigLike, *, axes: Sequence[int] = (-2, -1), norm: str | None = "backward",
          trace: Trace | None = None, rng=None) -> np.ndarray:
    """:func:`ifftn` over the last two axes."""
    return ifftn(x, config, axes=axes, norm=norm, trace=trace, rng=rng)


def rfft2(x, config: ConfigLike, *, axes: Sequence[int] = (-2, -1), norm: str | None = "backward",
          trace: Trace | None = None, rng=None) -> np.ndarray:
    """:func:`rfftn` over the last two axes (the FNO forward transform)."""
    return rfftn(x, config, axes=axes, norm=norm, trace=trace, rng=rng)


def irfft2(x, config: ConfigLike, *, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
           norm: str | None = "backward", trace: Trace | None = None, rng=None) -> np.ndarray:
    """:func:`irfftn` over the last two axes."""
    return irfftn(x, config, s=s, axes=axes, norm=norm, trace=trace, rng=rng)
