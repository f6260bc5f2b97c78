"""A Fourier layer, continuous and discretized (float64).

Continuous layer on T^d, retained modes |w_i| <= k (the box W_k), complex weights R_{oc}(w)
(output channel o, input channel c):

    (K v)_o(x) = sum_{w in W_k} sum_c R_{oc}(w) vhat_c(w) e^{2 pi i w.x}.

Discretized counterpart on the grid x_j = j/s (s > 2k so that the retained modes are distinct mod s):

    (K_s v)_o(x_j) = sum_{w in W_k} sum_c R_{oc}(w) V_{c,s}(w) e^{2 pi i w.x_j},
    V_{c,s}(w) = (1/s^d) sum_j v_c(x_j) e^{-2 pi i w.x_j}     (forward-normalized DFT, FNO's norm="forward").

Evaluated at the grid points, ``K_s v - K v = sum_w R(w) (V_s(w) - vhat(w)) e^{2 pi i w.x_j}``, so by
discrete Parseval its RMS over the grid is ``(sum_w |sum_c R_{oc}(w) E_c(w)|^2)^{1/2}``: the layer error is
governed by the per-mode errors E = V_s - vhat (docs/theory/discretization.md, D5).

Weights: ``FourierLayer.random`` draws Hermitian weights (R(-w) = conj R(w)) so a real input gives a real
output, as with FNO's rfft-based layers. The layer is a frozen dataclass that checks its invariants.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from errbound.errors import ErrboundError
from errbound.functions._base import check_dim, check_resolution, mode_box

if TYPE_CHECKING:
    from errbound.functions import TorusFunction

__all__ = ["FourierLayer", "retained_index"]


def retained_index(s: int, k: int, dim: int) -> tuple[np.ndarray, ...]:
    """``np.ix_`` index of the retained modes |w_i| <= k inside an FFT array of shape (s,)*dim."""
    idx = np.mod(np.arange(-k, k + 1), s)
    return np.ix_(*([idx] * dim))


@dataclasses.dataclass(frozen=True, eq=False)
class FourierLayer:
    """Weights R of shape ``(c_out, c_in) + (2k+1,)*dim`` (complex128), index ``w + k`` per axis."""

    weights: np.ndarray
    k: int
    dim: int
    hermitian: bool = True

    def __post_init__(self) -> None:
        check_dim(self.dim)
        if not isinstance(self.k, (int, np.integer)) or self.k < 0:
            raise ErrboundError(f"modes k must be an integer >= 0, got {self.k!r}")
        w = np.asarray(self.weights)
        expected = (2 * self.k + 1,) * self.dim
        if w.ndim != 2 + self.dim or w.shape[2:] != expected:
            raise ErrboundError(f"weights must have shape (c_out, c_in) + {expected}, got {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ErrboundError("weights contain NaN or inf")
        w = w.astype(np.complex128)
        w.setflags(write=False)
        object.__setattr__(self, "weights", w)
        if self.hermitian:
            flipped = np.conj(w[(slice(None), slice(None)) + (slice(None, None, -1),) * self.dim])
            if not np.array_equal(flipped, w):
                raise ErrboundError("hermitian=True but the weights do not satisfy R(-w) = conj(R(w)); pass hermitian=False")

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def random(cls, dim: int, k: int, *, channels_in: int = 1, channels_out: int = 1, seed: int = 0, hermitian: bool = True) -> "FourierLayer":
        """Weights with i.i.d. complex normal entries of variance 1/c_in, made Hermitian by default."""
        dim = check_dim(dim)
        rng = np.random.default_rng([seed, 11, dim, k, channels_in, channels_out])
        shape = (channels_out, channels_in) + (2 * k + 1,) * dim
        w = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2 * channels_in)
        if hermitian:
            flipped = np.conj(w[(slice(None), slice(None)) + (slice(None, None, -1),) * dim])
            w = (w + flipped) / 2
        return cls(weights=w, k=k, dim=dim, hermitian=hermitian)

    @classmethod
    def identity(cls, dim: int, k: int) -> "FourierLayer":
        """R = 1 on every retained mode: the layer is the projection onto W_k."""
        return cls(weights=np.ones((1, 1) + (2 * k + 1,) * dim, dtype=np.complex128), k=k, dim=dim)

    @property
    def channels_in(self) -> int:
        return self.weights.shape[1]

    @property
    def channels_out(self) -> int:
        return self.weights.shape[0]

    @property
    def modes(self) -> np.ndarray:
        """Retained modes, shape ``(2k+1,)*dim + (dim,)``."""
        return mode_box(self.k, self.dim)

    # ---- spectra ----------------------------------------------------------------------------
    def _as_channels(self, spectrum: np.ndarray) -> np.ndarray:
        spectrum = np.asarray(spectrum)
        box = (2 * self.k + 1,) * self.dim
        if spectrum.shape == box:
            spectrum = spectrum[None]
        if spectrum.shape != (self.channels_in,) + box:
            raise ErrboundError(f"spectrum must have shape {(self.channels_in,) + box} (or {box} for one channel), got {spectrum.shape}")
        return spectrum

    def apply_spectrum(self, spectrum: np.ndarray) -> np.ndarray:
        """Output spectrum sum_c R_{oc}(w) X_c(w) on the retained box, shape (c_out,) + box."""
        x = self._as_channels(spectrum)
        return np.einsum("oc...,c...->o...", self.weights, x)

    def synthesize(self, out_spectrum: np.ndarray, s: int) -> np.ndarray:
        """Values on the grid s of sum_w Y(w) e^{2 pi i w.x_j}; shape (c_out,) + (s,)*dim (real if hermitian)."""
        s = check_resolution(s, self.k)
        full = np.zeros((out_spectrum.shape[0],) + (s,) * self.dim, dtype=np.complex128)
        full[(slice(None),) + retained_index(s, self.k, self.dim)] = out_spectrum
        values = np.fft.ifftn(full, axes=tuple(range(1, self.dim + 1)), norm="forward")
        return values.real if self.hermitian else values

    # ---- the two layers --------------------------------------------------------------------
    def apply_continuous(self, source: "TorusFunction | np.ndarray | list", s: int) -> np.ndarray:
        """The continuous layer K v evaluated at the grid points of resolution s.

        ``source``: a TorusFunction (one channel), a list of them (channels), or exact coefficients on the
        retained box, shape ``(c_in,) + (2k+1,)*dim``. Output shape ``(c_out,) + (s,)*dim``.
        """
        spectrum = self.continuous_spectrum(source)
        return self.synthesize(self.apply_spectrum(spectrum), s)

    def continuous_spectrum(self, source: "TorusFunction | np.ndarray | list") -> np.ndarray:
        if isinstance(source, np.ndarray):
            return self._as_channels(source.astype(np.complex128))
        fns = source if isinstance(source, (list, tuple)) else [source]
        if any(fn.dim != self.dim for fn in fns):
            raise ErrboundError(f"function dimension does not match the layer's dim={self.dim}")
        return self._as_channels(np.stack([fn.coef_box(self.k) for fn in fns]))

    def discrete_spectrum(self, values: np.ndarray) -> np.ndarray:
        """V_s on the retained box from grid values, shape (c_in,) + box (forward-normalized FFT)."""
        values = np.asarray(values)
        if values.ndim == self.dim:
            values = values[None]
        if values.ndim != self.dim + 1 or values.shape[0] != self.channels_in or len(set(values.shape[1:])) != 1:
            raise ErrboundError(
                f"grid values must have shape (c_in,) + (s,)*{self.dim} with c_in={self.channels_in} (or (s,)*dim), got {values.shape}"
            )
        s = check_resolution(values.shape[1], self.k)
        if not np.all(np.isfinite(values)):
            raise ErrboundError("grid values contain NaN or inf")
        spectrum = np.fft.fftn(values.astype(np.float64 if np.isrealobj(values) else np.complex128), axes=tuple(range(1, self.dim + 1)), norm="forward")
        return spectrum[(slice(None),) + retained_index(s, self.k, self.dim)]

    def apply_discrete(self, values: np.ndarray) -> np.ndarray:
        """The discretized layer on grid values of shape (c_in,) + (s,)*dim (or (s,)*dim): FFT, truncate, weight, inverse."""
        values = np.asarray(values)
        s = values.shape[-1]
        return self.synthesize(self.apply_spectrum(self.discrete_spectrum(values)), s)
