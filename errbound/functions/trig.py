"""``trig``: a random real trigonometric polynomial of degree ``band`` (per axis).

v(x) = sum_{|k|_inf <= band} c_k e^{2 pi i k.x}, c_k standard complex normal / (2 band + 1)^{d/2},
made Hermitian. Band-limited: for s > band + k no retained mode has an alias in the band, so the
discretization error is exactly zero (the float64 pipeline shows only roundoff).
"""

from __future__ import annotations

import numpy as np

from errbound.functions._base import Decay, mode_box
from errbound.functions._spectral import SpectralFunction, hermitian_box

__all__ = ["make_trig"]


def make_trig(dim: int, *, band: int = 6, seed: int = 0) -> SpectralFunction:
    rng = np.random.default_rng([seed, 3, dim, band])
    shape = (2 * band + 1,) * dim
    c = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / (2 * band + 1) ** (dim / 2)
    c = hermitian_box(c)
    fn = SpectralFunction(mode_box(band, dim).reshape(-1, dim), c.reshape(-1), name="trig", params={"band": band, "seed": seed})
    fn.decay = Decay(C=float(np.max(np.abs(c))), beta=0.0, band=band)
    fn.rate_theory = None
    fn.rate_note = "band-limited: error exactly 0 once s > band + modes"
    return fn
