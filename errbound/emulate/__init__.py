"""Emulated low-precision Fourier transforms, bit-exact to a documented operation order.

Every add, multiply and fused multiply-add is rounded once into the working format with
:func:`errbound.rounding.round_to`; data are float64 / complex128 arrays whose entries are
representable in that format. All functions are vectorised over leading (batch, channel) axes
and raise :class:`errbound.errors.ErrboundError` on bad input (unknown format, NaN/inf in the
data, wrong rank, bad axes, too few points for the modes). Details: docs/emulation.md.

Policies (frozen, validated when built; a format name or Format is shorthand for the default)::

    FFTConfig(*, fmt, mode="rne", twiddle_fmt=None, cmul="fma", scaling="after")
    MatmulConfig(*, input_fmt, acc_fmt, out_fmt=None, mode="rne", scaling="after")

Transforms (numpy semantics and ``norm`` in {"backward", "forward", "ortho"}; any length: powers
of two use iterative radix-2 decimation in time, other lengths Bluestein's chirp-z with emulated
power-of-two inner FFTs)::

    (every transform also takes rng=None: a seed or Generator, required for mode="sr")
    fft(x, config, *, axis=-1, norm="backward", trace=None) -> complex128 ndarray
    ifft(x, config, *, axis=-1, norm="backward", trace=None) -> complex128 ndarray
    rfft(x, config, *, axis=-1, norm="backward", trace=None) -> complex128 ndarray  (n//2+1 bins)
    irfft(X, config, *, n=None, axis=-1, norm="backward", trace=None) -> float64 ndarray
    fftn / ifftn(x, config, *, axes=None, norm="backward", trace=None)
    rfftn(x, config, *, axes=None, norm="backward", trace=None)
    irfftn(X, config, *, s=None, axes=None, norm="backward", trace=None)
    fft2 / ifft2 / rfft2 / irfft2: the n-d ones with axes=(-2, -1)

Multi-dimensional order: ``fftn``/``ifftn`` transform ``axes`` from last to first; ``rfftn`` does
the real transform on ``axes[-1]`` then complex ones on ``axes[-2], axes[-3], ...``; ``irfftn``
does complex inverses on ``axes[0], ..., axes[-2]`` then the real inverse on ``axes[-1]``.

Truncated DFT as a matrix product (tensor-core model, only the retained modes)::

    retained_indices(n, k, *, real) -> ndarray           (0..k-1, or 0..k-1 and n-k..n-1)
    dft_modes(x, modes, config, *, axes=None, real=True, norm="backward") -> complex128 ndarray
    idft_modes(X, shape, config, *, axes=None, real=True, norm="backward") -> ndarray
    dft_matrix(n, idx, sign, fmt, factor_key=None, weights=None) -> (C, S) rounded matrices
    (accumulation: errbound.arith.matmul, left to right over the inner index)

Overflow and magnitudes (exact propagation of magnitudes through every stage of the same
decomposition, with rigorous rounding bands)::

    overflow_threshold(fmt, mode="rne") -> (float threshold, bool inclusive)
    max_intermediate(x, config, *, transform="rfftn", axes=None, norm="backward", n=None)
        -> MagnitudeReport
    predict_overflow(x, config, *, transform="rfftn", axes=None, norm="backward", n=None,
                     resolve=True) -> OverflowPrediction
    optimal_prescale_exponent(x, config, *, transform="rfftn", axes=None, norm="backward", n=None,
                              search=64) -> PrescaleChoice
    largest_safe_resolution(magnitude, fmt, dim, *, transform="rfftn", norm="backward",
                            power_of_two=True, config=None, max_resolution=2**20) -> int
    Trace()  (pass as ``trace=`` to a transform to record per-stage emulated max magnitudes;
              .overflow, .max_abs, .first_overflow_stage, .stages, .as_dict())

Result objects have ``as_dict()`` for JSON. ``transform`` names: fft ifft rfft irfft fftn ifftn
rfftn irfftn (``axes`` is an int or a sequence; ``n`` is irfft's n or irfftn's s).
"""

from __future__ import annotations

from errbound.emulate._config import FFTConfig as FFTConfig
from errbound.emulate._config import MatmulConfig as MatmulConfig
from errbound.emulate._ops import Trace as Trace
from errbound.emulate.dft_matmul import dft_matrix as dft_matrix
from errbound.emulate.dft_matmul import dft_modes as dft_modes
from errbound.emulate.dft_matmul import idft_modes as idft_modes
from errbound.emulate.dft_matmul import retained_indices as retained_indices
from errbound.emulate.magnitude import MagnitudeReport as MagnitudeReport
from errbound.emulate.magnitude import OverflowPrediction as OverflowPrediction
from errbound.emulate.magnitude import PrescaleChoice as PrescaleChoice
from errbound.emulate.magnitude import largest_safe_resolution as largest_safe_resolution
from errbound.emulate.magnitude import max_intermediate as max_intermediate
from errbound.emulate.magnitude import optimal_prescale_exponent as optimal_prescale_exponent
from errbound.emulate.magnitude import overflow_threshold as overflow_threshold
from errbound.emulate.magnitude import predict_overflow as predict_overflow
from errbound.emulate.transforms import fft as fft
from errbound.emulate.transforms import fft2 as fft2
from errbound.emulate.transforms import fftn as fftn
from errbound.emulate.transforms import ifft as ifft
from errbound.emulate.transforms import ifft2 as ifft2
from errbound.emulate.transforms import ifftn as ifftn
from errbound.emulate.transforms import irfft as irfft
from errbound.emulate.transforms import irfft2 as irfft2
from errbound.emulate.transforms import irfftn as irfftn
from errbound.emulate.transforms import rfft as rfft
from errbound.emulate.transforms import rfft2 as rfft2
from errbound.emulate.transforms import rfftn as rfftn

__all__ = [
    "FFTConfig", "MatmulConfig", "Trace",
    "fft", "ifft", "rfft", "irfft", "fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2",
    "retained_indices", "dft_modes", "idft_modes", "dft_matrix",
    "overflow_threshold", "max_intermediate", "predict_overflow", "optimal_prescale_exponent",
    "largest_safe_resolution", "MagnitudeReport", "OverflowPrediction", "PrescaleChoice",
]
