"""Burgers solver: Cole-Hopf exact solution, fourth order in time, conservation, generation."""

from __future__ import annotations

import numpy as np
import pytest

from errbound.data import burgers, grf
from errbound.data.registry import get_dataset
from errbound.errors import ErrboundError

NU = 0.1


def _cole_hopf(x: np.ndarray, t: float, a: float = 1.0, b: float = 0.8) -> np.ndarray:
    """u = -2 nu phi_x / phi with phi = a + b exp(-nu 4 pi^2 t) cos(2 pi x) solving phi_t = nu phi_xx."""
    e = b * np.exp(-NU * 4 * np.pi**2 * t)
    return 4 * np.pi * NU * e * np.sin(2 * np.pi * x) / (a + e * np.cos(2 * np.pi * x))


def test_matches_cole_hopf_solution() -> None:
    x = np.arange(128) / 128
    got = burgers.burgers_solve(_cole_hopf(x, 0.0), T=0.5, nu=NU, dt=0.0025)
    # analytic solution (poles at distance ~0.1 from the real axis): the 128-point spectral error is
    # ~1e-16; the IFRK4 time error at dt = 0.0025 measured 1.2e-9; 1e-8 leaves room for platforms
    assert np.abs(got - _cole_hopf(x, 0.5)).max() < 1e-8


def test_time_stepping_is_fourth_order() -> None:
    x = np.arange(128) / 128
    steps = np.array([25, 50, 100])
    errors = [np.abs(burgers.burgers_solve(_cole_hopf(x, 0.0), T=0.5, nu=NU, dt=0.5 / n) - _cole_hopf(x, 0.5)).max()
              for n in steps]
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    # IFRK4 is fourth order; measured -3.7 to -3.9 on these step sizes (pre-asymptotic)
    assert -4.4 < slope < -3.4, (slope, errors)


def test_mean_is_conserved() -> None:
    u0 = grf.grf_torus(4, 64, 1, alpha=2.0, tau=5.0, sigma=25.0, seed=0) + 0.3
    u = burgers.burgers_solve(u0, T=0.2, nu=NU)
    # the k = 0 mode is untouched by the scheme (the flux derivative has no mean): rounding only
    np.testing.assert_allclose(u.mean(axis=1), u0.mean(axis=1), rtol=0, atol=1e-14)


def test_fine_grid_resolves_the_recipe() -> None:
    # the same GRF functions (256 modes) solved on 256 and on 1024 points agree far below float32
    coeffs = grf.grf_torus_coefficients(3, 1, 256, alpha=2.0, tau=5.0, sigma=25.0, seed=0)
    y256 = burgers.burgers_solve(grf.eval_periodic(coeffs, 256, 1), T=1.0, nu=NU)
    y1024 = burgers.burgers_solve(grf.eval_periodic(coeffs, 1024, 1), T=1.0, nu=NU)
    scale = np.abs(y1024).max()
    assert np.abs(y256 - y1024[:, ::4]).max() < 1e-7 * scale  # float32 resolution is 6e-8 relative


def test_generate_any_resolution_is_exact_evaluation() -> None:
    params = dict(get_dataset("burgers").defaults, T=0.1)
    out = burgers.generate(3, (32, 48, 64), seed=2, stream=1, fine_res=64, params=params)
    assert out[48][1].shape == (3, 48) and out[48][1].dtype == np.float32
    np.testing.assert_array_equal(out[64][0][:, ::2], out[32][0])
    # 48 does not divide 64: values come from the Fourier series; check against the 64-point
    # solution's trigonometric interpolant evaluated by the direct sum at x = j/48
    y64 = out[64][1].astype(np.float64)
    coeffs = np.fft.fft(y64, axis=1) / 64
    coeffs[:, 32] = 0.0
    k = np.fft.fftfreq(64, 1 / 64)
    direct = np.einsum("jk,nk->nj", np.exp(2j * np.pi * np.outer(np.arange(48) / 48, k)), coeffs).real
    # y64 was rounded to float32 before the re-interpolation: agreement to ~10 float32 ulps of max|y|
    assert np.abs(direct - out[48][1]).max() < 1e-6 * np.abs(y64).max()


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(u0=np.zeros(7), T=1.0), "even"), (dict(u0=np.full(8, np.nan), T=1.0), "NaN"),
     (dict(u0=np.zeros(8), T=-1.0), "T >= 0"), (dict(u0=np.zeros(8), T=1.0, dt=0.0), "dt")],
)
def test_bad_input_raises(kwargs: dict, match: str) -> None:
    u0 = kwargs.pop("u0")
    with pytest.raises(ErrboundError, match=match):
        burgers.burgers_solve(u0, **kwargs)
