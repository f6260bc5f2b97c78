"""Gaussian random fields (GRF): periodic on the torus T^d and Neumann on the unit square.

Both are Karhunen-Loeve expansions of a centred Gaussian measure with covariance operator

    C = sigma^2 (-Laplacian + tau^2 I)^(-alpha)

in an orthonormal eigenbasis of the Laplacian, truncated to finitely many modes, with the constant
(mean) mode set to zero (Li et al., "Fourier Neural Operator for Parametric PDEs", ICLR 2021, data
recipes; see docs/data.md).

* Torus T^d = [0, 1)^d: basis exp(2 pi i k.x), eigenvalue 4 pi^2 |k|^2, modes k in the FFT grid of
  size K per axis with the Nyquist mode (|k_i| = K/2) removed, so each sample is a real trigonometric
  polynomial of degree < K/2 that can be evaluated exactly at any grid (:func:`eval_periodic`).
* Unit square, Neumann: basis phi_k1(x) phi_k2(y), phi_0 = 1, phi_k = sqrt(2) cos(pi k x),
  eigenvalue pi^2 |k|^2, modes 0 <= k1, k2 < K.

Sampling is deterministic: sample ``i`` of a stream draws its normals from
``numpy.random.default_rng([seed, stream, i])``, so a sample does not depend on how many samples are
drawn or in which chunk (prefix-stable datasets). Working precision: float64.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from errbound.errors import ErrboundError

__all__ = [
    "torus_sqrt_eigenvalues",
    "grf_torus_coefficients",
    "grf_torus",
    "eval_periodic",
    "neumann_sqrt_eigenvalues",
    "grf_neumann_coefficients",
    "eval_neumann",
    "grf_neumann",
    "sample_rng",
]


def sample_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """The generator of sample ``index`` in ``stream`` (e.g. 0 = train, 1 = test) for ``seed``."""
    return np.random.default_rng([int(seed), int(stream), int(index)])


def _check_positive_int(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ErrboundError(f"{name}={value!r} is invalid: pass an integer >= {minimum}")
    return int(value)


def _check_params(alpha: float, tau: float, sigma: float) -> None:
    for name, value in (("alpha", alpha), ("tau", tau), ("sigma", sigma)):
        if not np.isfinite(value) or value <= 0:
            raise ErrboundError(f"GRF parameter {name}={value!r} is invalid: pass a finite positive number")


def torus_sqrt_eigenvalues(n_modes: int, dim: int, alpha: float, tau: float, sigma: float) -> np.ndarray:
    """sqrt of the covariance eigenvalues on the FFT grid of size ``n_modes``^dim (FFT order).

    Entry k is ``sigma (4 pi^2 |k|^2 + tau^2)^(-alpha/2)``; the mean mode and, for even
    ``n_modes``, every Nyquist mode are set to 0.
    """
    n_modes = _check_positive_int("n_modes", n_modes, 2)
    _check_params(alpha, tau, sigma)
    k = np.fft.fftfreq(n_modes, d=1.0 / n_modes)
    grids = np.meshgrid(*([k] * dim), indexing="ij")
    k2 = sum(g**2 for g in grids)
    sqrt_eig = sigma * (4.0 * np.pi**2 * k2 + tau**2) ** (-alpha / 2.0)
    sqrt_eig[(0,) * dim] = 0.0
    if n_modes % 2 == 0:
        for g in grids:
            sqrt_eig[np.abs(g) == n_modes // 2] = 0.0
    return sqrt_eig


def grf_torus_coefficients(
    n: int, dim: int, n_modes: int, *, alpha: float, tau: float, sigma: float, seed: int, stream: int = 0, start: int = 0
) -> np.ndarray:
    """Fourier coefficients (FFT order, complex128, shape (n, n_modes, ..)) of GRF samples on T^dim.

    Coefficient k of sample i is ``sqrt_eig[k] * xi_k`` with xi the orthonormal DFT of real white
    noise (E|xi_k|^2 = 1, xi_{-k} = conj(xi_k)), so the field is real with covariance C truncated.
    Samples are ``start, ..., start + n - 1`` of the stream.
    """
    n = _check_positive_int("n", n, 0)
    sqrt_eig = torus_sqrt_eigenvalues(n_modes, dim, alpha, tau, sigma)
    shape = (n_modes,) * dim
    out = np.empty((n, *shape), dtype=np.complex128)
    for j in range(n):
        white = sample_rng(seed, stream, start + j).standard_normal(shape)
        out[j] = np.fft.fftn(white, norm="ortho") * sqrt_eig
    return out


def eval_periodic(coeffs: np.ndarray, res: int, dim: int) -> np.ndarray:
    """Evaluate real trigonometric polynomials given by FFT-ordered coefficients on the grid j/res.

    ``coeffs`` has shape (n, K, ..., K) (dim axes) and represents
    u(x) = sum_k coeffs[k] exp(2 pi i k.x) with Nyquist modes zero. The result (float64,
    shape (n, res, ..., res)) is exact up to rounding at every resolution: zero-padding when
    res >= K, subsampling when K is a multiple of res, otherwise direct evaluation by DFT matrices.
    """
    res = _check_positive_int("res", res, 2)
    coeffs = np.asarray(coeffs)
    n_modes = coeffs.shape[-1]
    axes = tuple(range(1, dim + 1))
    if res >= n_modes or n_modes % res == 0:
        if res >= n_modes:
            big = _zero_pad(coeffs, res, dim)
            return np.fft.ifftn(big, axes=axes, norm="forward").real
        fine = np.fft.ifftn(coeffs, axes=axes, norm="forward").real
        step = n_modes // res
        return fine[(slice(None),) + (slice(None, None, step),) * dim]
    k = np.fft.fftfreq(n_modes, d=1.0 / n_modes)
    x = np.arange(res) / res
    mat = np.exp(2j * np.pi * np.outer(x, k))  # (res, K)
    out = coeffs
    for axis in axes:
        out = np.moveaxis(np.tensordot(out, mat, axes=([axis], [1])), -1, axis)
    return out.real


def _zero_pad(coeffs: np.ndarray, res: int, dim: int) -> np.ndarray:
    """Embed FFT-ordered coefficients of size K into size res >= K (Nyquist of K assumed zero)."""
    n_modes = coeffs.shape[-1]
    big = np.zeros((coeffs.shape[0],) + (res,) * dim, dtype=np.complex128)
    pos = (n_modes + 1) // 2  # indices 0..pos-1 are k >= 0
    neg = n_modes - pos
    idx_src = [np.r_[0:pos, n_modes - neg:n_modes] for _ in range(dim)]
    idx_dst = [np.r_[0:pos, res - neg:res] for _ in range(dim)]
    big[np.ix_(np.arange(coeffs.shape[0]), *idx_dst)] = coeffs[np.ix_(np.arange(coeffs.shape[0]), *idx_src)]
    return big


def grf_torus(
    n: int, res: int, dim: int = 2, *, alpha: float, tau: float, sigma: float, seed: int, stream: int = 0,
    n_modes: int | None = None, start: int = 0,
) -> np.ndarray:
    """GRF samples on T^dim evaluated on the grid j/res, shape (n, res, ..., res), float64.

    ``n_modes`` (default ``res``) fixes the truncation, hence the function: samples with the same
    ``n_modes`` and seed are the same functions whatever ``res`` they are evaluated at.
    """
    n_modes = res if n_modes is None else n_modes
    coeffs = grf_torus_coefficients(n, dim, n_modes, alpha=alpha, tau=tau, sigma=sigma, seed=seed, stream=stream, start=start)
    return eval_periodic(coeffs, res, dim)


def neumann_sqrt_eigenvalues(n_modes: int, alpha: float, tau: float, sigma: float) -> np.ndarray:
    """sqrt eigenvalues sigma (pi^2 |k|^2 + tau^2)^(-alpha/2), k in [0, n_modes)^2, mean mode 0."""
    n_modes = _check_positive_int("n_modes", n_modes, 2)
    _check_params(alpha, tau, sigma)
    k = np.arange(n_modes)
    k2 = k[:, None] ** 2 + k[None, :] ** 2
    sqrt_eig = sigma * (np.pi**2 * k2 + tau**2) ** (-alpha / 2.0)
    sqrt_eig[0, 0] = 0.0
    return sqrt_eig


def grf_neumann_coefficients(
    n: int, n_modes: int, *, alpha: float, tau: float, sigma: float | None = None, seed: int, stream: int = 0, start: int = 0
) -> np.ndarray:
    """Cosine-series coefficients (n, n_modes, n_modes) of Neumann GRF samples on the unit square.

    ``sigma`` defaults to ``tau**(alpha - 1)``, the normalisation of the FNO Darcy recipe (the
    thresholded Darcy coefficient does not depend on it).
    """
    sigma = tau ** (alpha - 1.0) if sigma is None else sigma
    sqrt_eig = neumann_sqrt_eigenvalues(n_modes, alpha, tau, sigma)
    out = np.empty((n, n_modes, n_modes))
    for j in range(n):
        out[j] = sample_rng(seed, stream, start + j).standard_normal((n_modes, n_modes)) * sqrt_eig
    return out


def _cosine_basis(points: np.ndarray, n_modes: int) -> np.ndarray:
    k = np.arange(n_modes)
    basis = np.sqrt(2.0) * np.cos(np.pi * np.outer(points, k))
    basis[:, 0] = 1.0
    return basis


def eval_neumann(coeffs: np.ndarray, points: Sequence[float] | np.ndarray) -> np.ndarray:
    """Evaluate cosine series ``coeffs`` (n, K, K) on the tensor grid points x points (n, p, p)."""
    basis = _cosine_basis(np.asarray(points, dtype=np.float64), np.asarray(coeffs).shape[-1])
    # per-sample matmuls: a sample's value does not depend on the batch it is evaluated in
    return np.matmul(np.matmul(basis, coeffs), basis.T)


def grf_neumann(
    n: int, res: int, *, alpha: float = 2.0, tau: float = 3.0, sigma: float | None = None, seed: int,
    stream: int = 0, n_modes: int | None = None, start: int = 0,
) -> np.ndarray:
    """Neumann GRF samples on the vertex grid i/(res-1) of [0, 1]^2, shape (n, res, res), float64."""
    res = _check_positive_int("res", res, 2)
    n_modes = res if n_modes is None else n_modes
    coeffs = grf_neumann_coefficients(n, n_modes, alpha=alpha, tau=tau, sigma=sigma, seed=seed, stream=stream, start=start)
    return eval_neumann(coeffs, np.linspace(0.0, 1.0, res))
