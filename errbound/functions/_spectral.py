"""Functions with finitely many non-zero Fourier coefficients (trigonometric polynomials).

v(x) = sum_{k in K} c_k e^{2 pi i k.x} with c_{-k} = conj(c_k) (v real), K a finite set of integer
vectors stored as float64 coefficients. The coefficients *define* the function, so they are exact.

Discretization error (lemma D1, the aliasing identity, exact here because the sum is finite):
E_s(w) = sum_{q != 0} c_{w + s q}. Fast path: zero the terms with |k|_inf <= k_retained (they are the
q = 0 terms of the retained modes and of nothing else, since s > 2k) and fold the rest modulo s with
``np.bincount`` (pairwise-free float64 sums of small numbers: no cancellation against c_w). Reference:
the same partner sums, each computed *exactly rounded* with :func:`math.fsum` (Shewchuk's algorithm):
the float64 number nearest to the exact sum, i.e. as good as any finite-precision mpmath sum.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import mpmath
import numpy as np

from errbound.functions._base import TorusFunction, check_resolution, mode_box

__all__ = ["SpectralFunction", "hermitian_box"]


def hermitian_box(coeffs: np.ndarray) -> np.ndarray:
    """Make a coefficient box (index k + N on each axis) exactly Hermitian: c_{-k} = conj(c_k)."""
    flipped = np.conj(coeffs[(slice(None, None, -1),) * coeffs.ndim])
    return (coeffs + flipped) / 2


class SpectralFunction(TorusFunction):
    """A real trigonometric polynomial given by its non-zero coefficients."""

    reference_method = "exact-fsum"

    def __init__(self, modes: np.ndarray, coeffs: np.ndarray, *, name: str, params: dict[str, Any]) -> None:
        modes = np.asarray(modes, dtype=np.int64)
        coeffs = np.asarray(coeffs, dtype=np.complex128)
        if modes.ndim != 2 or modes.shape[0] != coeffs.shape[0]:
            raise ValueError("modes must have shape (n, dim) and coeffs shape (n,)")
        keep = coeffs != 0
        self.modes = modes[keep]
        self.coeffs = coeffs[keep]
        self.dim = modes.shape[1]
        self.name = name
        self.params = dict(params)
        self.band = int(np.max(np.abs(self.modes), initial=0))
        self._offset = self.band
        base = 2 * self.band + 1
        self._base = base
        keys = self._keys(self.modes)
        order = np.argsort(keys)
        self._sorted_keys = keys[order]
        self._sorted_coeffs = self.coeffs[order]
        absc = np.abs(self.coeffs)
        # sup |v| <= sum |c_k| and sup |d_i v| <= 2 pi sum |k_i| |c_k| (exact for a single cosine)
        # float64 sums of n non-negative terms are within n u of the exact sum: inflate by (1 + 2 n u)
        safety = 1 + 2 * (len(absc) + 1) * np.finfo(float).eps
        self.M = float(np.sum(absc)) * safety
        self.M_exact = len(self.coeffs) <= 2
        self.L_axes = tuple(
            float(2 * np.pi * np.sum(np.abs(self.modes[:, i]) * absc)) * safety
            for i in range(self.dim)
        )
        self.L = float(math.sqrt(sum(x * x for x in self.L_axes)))
        self.L_exact = self.M_exact and self.dim == 1
        self.V_axes = None

    def _keys(self, k: np.ndarray) -> np.ndarray:
        k = np.asarray(k, dtype=np.int64)
        key = np.zeros(k.shape[:-1], dtype=np.int64)
        for i in range(self.dim):
            key = key * self._base + (k[..., i] + self._offset)
        return key

    # ---- coefficients ---------------------------------------------------------------------
    def coef(self, k: np.ndarray) -> np.ndarray:
        k = np.asarray(k, dtype=np.int64)
        inside = np.all(np.abs(k) <= self.band, axis=-1)
        keys = self._keys(np.where(inside[..., None], k, 0))
        pos = np.clip(np.searchsorted(self._sorted_keys, keys), 0, max(len(self._sorted_keys) - 1, 0))
        found = inside & (self._sorted_keys[pos] == keys) if len(self._sorted_keys) else np.zeros_like(inside)
        return np.where(found, self._sorted_coeffs[pos] if len(self._sorted_keys) else 0, 0).astype(np.complex128)

    def coef_mp(self, k: Sequence[int], dps: int) -> Any:
        value = complex(self.coef(np.array([list(k)]))[0])
        return mpmath.mpc(value.real, value.imag)

    def coef_box_mp(self, k: int, dps: int) -> np.ndarray:
        # the float64 coefficients are exact: convert them
        box = self.coef_box(k)
        out = np.empty(box.shape, dtype=object)
        for idx, value in np.ndenumerate(box):
            out[idx] = mpmath.mpc(float(value.real), float(value.imag))
        return out

    # ---- values ---------------------------------------------------------------------------
    def eval(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        flat = points.reshape(-1, self.dim)
        out = np.empty(flat.shape[0])
        chunk = max(1, 2_000_000 // max(1, len(self.coeffs)))
        for start in range(0, flat.shape[0], chunk):
            x = flat[start : start + chunk]
            phase = np.mod(x @ self.modes.T.astype(np.float64), 1.0)
            out[start : start + chunk] = (np.exp(2j * np.pi * phase) @ self.coeffs).real
        return out.reshape(points.shape[:-1])

    def _fold(self, s: int, mask: np.ndarray | None = None) -> np.ndarray:
        """F[j] = sum_{k = j mod s} c_k, shape (s,)*dim."""
        modes, coeffs = (self.modes, self.coeffs) if mask is None else (self.modes[mask], self.coeffs[mask])
        idx = np.zeros(len(coeffs), dtype=np.int64)
        for i in range(self.dim):
            idx = idx * s + np.mod(modes[:, i], s)
        size = s**self.dim
        re = np.bincount(idx, weights=coeffs.real, minlength=size)
        im = np.bincount(idx, weights=coeffs.imag, minlength=size)
        return (re + 1j * im).reshape((s,) * self.dim)

    def eval_grid(self, s: int) -> np.ndarray:
        s = check_resolution(s)
        folded = self._fold(s)
        return (np.fft.ifftn(folded) * s**self.dim).real

    def eval_mp(self, point: Sequence[Any], dps: int) -> Any:
        with mpmath.workdps(dps + 10):
            x = [mpmath.mpf(v) for v in point]
            acc = mpmath.mpf(0)
            for k, c in zip(self.modes.tolist(), self.coeffs.tolist()):
                arg = 2 * mpmath.pi * mpmath.fsum(ki * xi for ki, xi in zip(k, x))
                acc += c.real * mpmath.cos(arg) - c.imag * mpmath.sin(arg)
            return +acc

    # ---- discretization error -------------------------------------------------------------
    def mode_error(self, s: int, k: int) -> np.ndarray:
        s = check_resolution(s, k)
        outside = np.any(np.abs(self.modes) > k, axis=1)
        folded = self._fold(s, outside)
        index = np.mod(np.arange(-k, k + 1), s)
        return folded[np.ix_(*([index] * self.dim))]

    def mode_error_mp(self, s: int, k: int, dps: int) -> np.ndarray:
        s = check_resolution(s, k)
        outside = np.any(np.abs(self.modes) > k, axis=1)
        modes, coeffs = self.modes[outside], self.coeffs[outside]
        idx = np.zeros(len(coeffs), dtype=np.int64)
        for i in range(self.dim):
            idx = idx * s + np.mod(modes[:, i], s)
        order = np.argsort(idx, kind="stable")
        idx_sorted = idx[order]
        re_sorted, im_sorted = coeffs.real[order], coeffs.imag[order]
        box = mode_box(k, self.dim).reshape(-1, self.dim)
        target = np.zeros(len(box), dtype=np.int64)
        for i in range(self.dim):
            target = target * s + np.mod(box[:, i], s)
        lo = np.searchsorted(idx_sorted, target, side="left")
        hi = np.searchsorted(idx_sorted, target, side="right")
        out = np.empty(len(box), dtype=object)
        for t, (a, b) in enumerate(zip(lo.tolist(), hi.tolist())):
            out[t] = mpmath.mpc(math.fsum(re_sorted[a:b].tolist()), math.fsum(im_sorted[a:b].tolist()))
        return out.reshape((2 * k + 1,) * self.dim)

