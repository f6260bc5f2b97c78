"""1-D viscous Burgers equation on the periodic unit interval (numpy).

    u_t + (u^2 / 2)_x = nu u_xx,   x in [0, 1) periodic,

recipe of Li et al. (FNO, ICLR 2021): nu = 0.1, u0 ~ GRF(sigma 25, tau 5, alpha 2) on T^1 (see
:mod:`errbound.data.grf`), map u0 -> u(T = 1).

Scheme: Fourier pseudo-spectral on s points, nonlinear term (u^2)_x / 2 evaluated in physical space
and dealiased by the 2/3 rule (modes |k| > s/3 dropped), Nyquist mode kept at zero; time stepping
by the integrating-factor fourth-order Runge-Kutta method (IFRK4; Trefethen, Spectral Methods in
MATLAB, program 27) on v = exp(nu (2 pi k)^2 t) u_hat, which integrates the diffusion exactly and
treats the advection explicitly. Step: dt = T / ceil(T / dt_max), dt_max = cfl * (1/s) / max|u0|
with the maximum over the whole split (max|u| does not increase for viscous Burgers), so a sample's
trajectory does not depend on batching. Working precision float64; outputs are exact samples of
the computed trigonometric polynomial at any resolution.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from errbound.errors import ErrboundError
from errbound.data.grf import eval_periodic, grf_torus_coefficients

__all__ = ["burgers_solve", "stable_dt", "default_fine_res", "generate", "MIN_FINE_RES"]

#: Smallest default solver grid: nu = 0.1 makes the solution analytic, and 256 points resolve it
#: to below float32 resolution (docs/data.md gives the check).
MIN_FINE_RES = 256


def stable_dt(u_max: float, s: int, cfl: float = 0.5) -> float:
    """dt_max = cfl / (s u_max): RK4 advection limit with margin (dealiased |k| <= s/3)."""
    if not (math.isfinite(u_max) and u_max >= 0):
        raise ErrboundError(f"u_max={u_max!r} must be finite and >= 0")
    return cfl / (s * max(u_max, 1e-12))


def burgers_solve(
    u0: np.ndarray, *, T: float, nu: float = 0.1, dt: float | None = None, cfl: float = 0.5,
    progress_label: str | None = None,
) -> np.ndarray:
    """u(T) (float64, same shape) from u0 (..., s) on the periodic grid j/s by IFRK4 (module doc)."""
    u0 = np.asarray(u0, dtype=np.float64)
    s = u0.shape[-1]
    if s < 4 or s % 2:
        raise ErrboundError(f"Burgers grid size {s} is invalid: pass an even number of points >= 4")
    if not np.all(np.isfinite(u0)):
        raise ErrboundError("u0 contains NaN or inf")
    if not (math.isfinite(T) and T >= 0) or not (math.isfinite(nu) and nu >= 0):
        raise ErrboundError(f"need T >= 0 and nu >= 0; got T={T!r}, nu={nu!r}")
    if dt is None:
        dt = stable_dt(float(np.abs(u0).max(initial=0.0)), s, cfl)
    if not (math.isfinite(dt) and dt > 0):
        raise ErrboundError(f"dt={dt!r} is invalid: pass a positive step")
    if T == 0:
        return u0.copy()
    n_steps = max(1, math.ceil(T / dt - 1e-9))
    h = T / n_steps
    k = np.fft.rfftfreq(s, d=1.0 / s)
    keep = (k < s / 2).astype(np.float64)
    dealias = (k <= s / 3.0).astype(np.float64)
    g = -1j * np.pi * k * dealias  # N(u_hat) = -(1/2) d/dx (u^2) -> -i pi k (u^2)_hat
    lin = -nu * (2 * np.pi * k) ** 2
    e1 = np.exp(lin * h / 2)
    e2 = e1 * e1

    def nonlin(v_h: np.ndarray) -> np.ndarray:
        u = np.fft.irfft(v_h, n=s)
        return g * np.fft.rfft(u * u)

    u_h = np.fft.rfft(u0) * keep
    steps = range(n_steps)
    if progress_label:
        from errbound.progress import progress

        steps = progress(steps, total=n_steps, label=progress_label)
    for _ in steps:
        a = h * nonlin(u_h)
        b = h * nonlin(e1 * (u_h + a / 2))
        c = h * nonlin(e1 * u_h + b / 2)
        d = h * nonlin(e2 * u_h + e1 * c)
        u_h = e2 * u_h + (e2 * a + 2 * e1 * (b + c) + d) / 6
    return np.fft.irfft(u_h, n=s)


def default_fine_res(resolutions: Sequence[int]) -> int:
    """Solver grid: the smallest power of two >= max(MIN_FINE_RES, largest requested resolution)."""
    return 1 << (max(MIN_FINE_RES, *resolutions) - 1).bit_length()


def generate(
    n: int, resolutions: Sequence[int], *, seed: int, stream: int, fine_res: int, params: Mapping[str, float],
    device: str = "cpu",
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``n`` samples (x = u0, y = u(T)) at each resolution, float32 arrays (n, r)."""
    s = int(fine_res)
    coeffs = grf_torus_coefficients(n, 1, s, alpha=params["alpha"], tau=params["tau"], sigma=params["sigma"],
                                    seed=seed, stream=stream)
    u0 = eval_periodic(coeffs, s, 1)
    dt = stable_dt(float(np.abs(u0).max()), s, params["cfl"])
    split = "train" if stream == 0 else "test"
    u_t = burgers_solve(u0, T=params["T"], nu=params["nu"], dt=dt, progress_label=f"burgers {split} (grid {s})")
    if not np.all(np.isfinite(u_t)):
        raise ErrboundError("the Burgers solve produced non-finite values: lower cfl or raise fine_res")
    ut_coeffs = np.fft.fft(u_t, axis=1, norm="forward")
    ut_coeffs[:, s // 2] = 0.0
    return {r: (eval_periodic(coeffs, r, 1).astype(np.float32), eval_periodic(ut_coeffs, r, 1).astype(np.float32))
            for r in resolutions}
