"""Gaussian random fields: exact evaluation at any resolution, covariance, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest

from errbound.data import grf
from errbound.errors import ErrboundError

PARAMS = dict(alpha=2.5, tau=7.0, sigma=7.0**1.5)


def _brute_periodic(coeffs: np.ndarray, res: int, dim: int) -> np.ndarray:
    """O(res^d K^d) direct sum of the Fourier series (oracle for eval_periodic)."""
    n_modes = coeffs.shape[-1]
    k = np.fft.fftfreq(n_modes, d=1.0 / n_modes)
    x = np.arange(res) / res
    e = np.exp(2j * np.pi * np.outer(x, k))
    if dim == 1:
        return np.einsum("ik,nk->ni", e, coeffs).real
    return np.einsum("ik,jl,nkl->nij", e, e, coeffs).real


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("res", [6, 8, 12, 16, 24, 31])
def test_eval_periodic_matches_direct_sum(dim: int, res: int) -> None:
    # K = 16 modes; res covers subsampling (8), non-divisible (6, 12), equal (16), zero-padding (24, 31)
    coeffs = grf.grf_torus_coefficients(3, dim, 16, **PARAMS, seed=5)
    got = grf.eval_periodic(coeffs, res, dim)
    want = _brute_periodic(coeffs, res, dim)
    assert got.shape == (3,) + (res,) * dim and got.dtype == np.float64
    # both are O(K^d) float64 sums of terms <= max|c|: a few hundred ulps of the field scale at most
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * np.abs(want).max() * 16**dim)


def test_torus_field_is_real_and_resolution_independent() -> None:
    coeffs = grf.grf_torus_coefficients(2, 2, 16, **PARAMS, seed=1)
    # Hermitian symmetry: the imaginary part of the inverse transform vanishes to rounding
    field = np.fft.ifftn(coeffs, axes=(1, 2), norm="forward")
    assert np.abs(field.imag).max() <= 1e-14 * np.abs(field.real).max() * 16
    fine = grf.eval_periodic(coeffs, 48, 2)
    coarse = grf.eval_periodic(coeffs, 16, 2)
    # grid 48 contains grid 16 (every 3rd point): the same function, equal to rounding
    np.testing.assert_allclose(fine[:, ::3, ::3], coarse, rtol=0, atol=1e-13 * np.abs(coarse).max() * 16)


def test_torus_covariance_matches_spectrum() -> None:
    n, k = 4000, 8
    u = grf.grf_torus(n, k, 2, **PARAMS, seed=3)
    sqrt_eig = grf.torus_sqrt_eigenvalues(k, 2, **PARAMS)
    want = (sqrt_eig**2).sum()  # pointwise variance of a stationary field with orthonormal modes
    got = u.var(axis=0, ddof=1).mean()
    # the estimate averages 64 correlated points of a chi^2-like variable with n = 4000 samples:
    # its relative standard deviation is at most sqrt(2 / n) = 2.2 %; 5 sigma -> 11 %
    assert abs(got / want - 1) < 0.11
    assert abs(u.mean()) < 5 * np.sqrt(want / n)  # zero mean: 5 sigma of the sample mean at one point


def test_neumann_covariance_and_grid() -> None:
    n, k, res = 3000, 6, 7
    u = grf.grf_neumann(n, res, alpha=2.0, tau=3.0, seed=2, n_modes=k)
    sqrt_eig = grf.neumann_sqrt_eigenvalues(k, 2.0, 3.0, 3.0**1.0)
    basis = grf._cosine_basis(np.linspace(0, 1, res), k)
    want = np.einsum("ik,jl,kl->ij", basis**2, basis**2, sqrt_eig**2)  # sum c_k^2 phi_k(x)^2
    got = u.var(axis=0, ddof=1)
    # per point relative std sqrt(2 / n) = 2.6 %; 5 sigma, over 49 points -> 13 %
    np.testing.assert_allclose(got, want, rtol=0.13)


def test_samples_are_deterministic_and_prefix_stable() -> None:
    a = grf.grf_neumann(5, 9, seed=11, stream=1)
    b = grf.grf_neumann(3, 9, seed=11, stream=1)
    c = grf.grf_neumann(2, 9, seed=11, stream=1, start=3)
    np.testing.assert_array_equal(a[:3], b)
    np.testing.assert_array_equal(a[3:], c)
    d = grf.grf_neumann(3, 9, seed=11, stream=0)
    assert not np.array_equal(b, d)  # the test stream differs from the train stream


@pytest.mark.parametrize("bad", [dict(alpha=-1.0), dict(tau=0.0), dict(sigma=float("nan"))])
def test_bad_parameters_raise(bad: dict) -> None:
    params = dict(PARAMS, **bad)
    with pytest.raises(ErrboundError, match="GRF parameter"):
        grf.grf_torus(1, 8, 2, **params, seed=0)


def test_bad_sizes_raise() -> None:
    with pytest.raises(ErrboundError, match="res=1"):
        grf.grf_neumann(1, 1, seed=0)
    with pytest.raises(ErrboundError, match="n_modes"):
        grf.grf_torus(1, 8, 2, **PARAMS, seed=0, n_modes=1)
