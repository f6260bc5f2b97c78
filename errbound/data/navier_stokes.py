"""2-D incompressible Navier-Stokes in vorticity form on the torus T^2 = [0,1)^2 (torch).

    w_t + u . grad w = nu Lap w + f,   u = (psi_y, -psi_x),   -Lap psi = w,   div u = 0,

default forcing f(x, y) = 0.1 (sin 2 pi (x + y) + cos 2 pi (x + y)) and w0 ~ GRF(alpha 2.5, tau 7,
sigma 7^1.5) (recipe of Li et al., FNO, ICLR 2021). Array index [i, j] is the point (x_i, y_j) =
(i/s, j/s).

Scheme: Fourier pseudo-spectral in space on the s x s grid (rfft2), the nonlinear term u . grad w
evaluated in physical space and dealiased by the 2/3 rule (modes with |k_x| or |k_y| > s/3
dropped); Nyquist modes of w are kept at zero. Time: an IMEX Crank-Nicolson / Heun scheme (second
order for both parts): with L = -nu 4 pi^2 |k|^2 (diffusion, implicit, trapezoidal) and
N(w) = -u . grad w (explicit),

    w*      = [(1 + dt L/2) w^n + dt (N(w^n) + f)] / (1 - dt L/2)                (predictor)
    w^{n+1} = [(1 + dt L/2) w^n + dt ((N(w^n) + N(w*))/2 + f)] / (1 - dt L/2)    (corrector)

dt is T / ceil(T / dt_max). Runs on CPU or CUDA in float64 by default. Outputs are exact samples of
the computed trigonometric polynomial at any resolution (:func:`errbound.data.grf.eval_periodic`).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from errbound.errors import ErrboundError, MissingDependencyError
from errbound.data.grf import eval_periodic, grf_torus_coefficients

__all__ = ["default_forcing", "NavierStokes2D", "ns_solve", "default_fine_res", "generate", "resolve_device"]


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("torch", "train", "the Navier-Stokes solver runs in torch") from exc
    return torch


def resolve_device(device: str) -> Any:
    """torch.device for ``device``; ErrboundError when it is malformed or CUDA is unavailable."""
    torch = _torch()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ErrboundError(f"device={device!r} is invalid: pass 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ErrboundError(f"device={device!r} requested but CUDA is not available here: pass device='cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ErrboundError(f"device={device!r} is not supported: pass 'cpu' or 'cuda'")
    return dev


def default_forcing(s: int) -> np.ndarray:
    """f(x, y) = 0.1 (sin 2 pi (x+y) + cos 2 pi (x+y)) on the s x s grid, float64."""
    x = np.arange(s) / s
    xy = x[:, None] + x[None, :]
    return 0.1 * (np.sin(2 * np.pi * xy) + np.cos(2 * np.pi * xy))


class NavierStokes2D:
    """Pseudo-spectral vorticity solver on the s x s grid of T^2 (see the module docstring)."""

    def __init__(self, s: int, nu: float, *, device: str = "cpu", dtype: Any = None) -> None:
        torch = _torch()
        if isinstance(s, bool) or not isinstance(s, int) or s < 4 or s % 2:
            raise ErrboundError(f"Navier-Stokes grid size s={s!r} is invalid: pass an even integer >= 4")
        if not math.isfinite(nu) or nu < 0:
            raise ErrboundError(f"viscosity nu={nu!r} is invalid: pass a finite number >= 0")
        self.s, self.nu = s, float(nu)
        self.device = resolve_device(device)
        self.dtype = torch.float64 if dtype is None else dtype
        kx = torch.fft.fftfreq(s, d=1.0 / s, dtype=self.dtype, device=self.device)[:, None]
        ky = torch.fft.rfftfreq(s, d=1.0 / s, dtype=self.dtype, device=self.device)[None, :]
        k2 = kx**2 + ky**2
        self.ikx = 2j * math.pi * kx  # d/dx
        self.iky = 2j * math.pi * ky  # d/dy
        lap = 4 * math.pi**2 * k2  # eigenvalue of -Lap
        self.inv_lap = torch.where(lap > 0, 1.0 / torch.where(lap > 0, lap, torch.ones_like(lap)), torch.zeros_like(lap))
        self.L = -self.nu * lap
        cut = s / 3.0
        self.dealias = ((kx.abs() <= cut) & (ky.abs() <= cut)).to(self.dtype)
        self.keep = ((kx.abs() < s / 2) & (ky.abs() < s / 2)).to(self.dtype)  # Nyquist modes removed

    def rfft(self, w: Any) -> Any:
        return _torch().fft.rfft2(w) * self.keep

    def irfft(self, w_h: Any) -> Any:
        return _torch().fft.irfft2(w_h, s=(self.s, self.s))

    def velocity(self, w_h: Any) -> tuple[Any, Any]:
        """(u, v) = (psi_y, -psi_x) in physical space, psi_h = w_h / (4 pi^2 |k|^2)."""
        psi_h = w_h * self.inv_lap
        return self.irfft(self.iky * psi_h), self.irfft(-self.ikx * psi_h)

    def nonlinear(self, w_h: Any) -> Any:
        """Fourier coefficients of -(u . grad w), dealiased (2/3 rule)."""
        u, v = self.velocity(w_h)
        wx = self.irfft(self.ikx * w_h)
        wy = self.irfft(self.iky * w_h)
        return self.rfft(-(u * wx + v * wy)) * self.dealias

    def step(self, w_h: Any, f_h: Any, dt: float) -> Any:
        """One Crank-Nicolson / Heun step of size dt."""
        plus = 1.0 + 0.5 * dt * self.L
        minus = 1.0 - 0.5 * dt * self.L
        n0 = self.nonlinear(w_h)
        w_star = (plus * w_h + dt * (n0 + f_h)) / minus
        n1 = self.nonlinear(w_star)
        return (plus * w_h + dt * (0.5 * (n0 + n1) + f_h)) / minus

    def solve(self, w0: Any, T: float, dt: float, forcing: Any = None, progress_label: str | None = None) -> Any:
        """w(T) for initial vorticity ``w0`` (..., s, s); ``forcing`` (s, s) or None for f = 0."""
        torch = _torch()
        if not (math.isfinite(T) and T >= 0) or not (math.isfinite(dt) and dt > 0):
            raise ErrboundError(f"need T >= 0 and dt > 0; got T={T!r}, dt={dt!r}")
        w0 = torch.as_tensor(w0, device=self.device, dtype=self.dtype)
        if w0.shape[-2:] != (self.s, self.s):
            raise ErrboundError(f"initial vorticity has spatial shape {tuple(w0.shape[-2:])}; the solver grid is {(self.s, self.s)}")
        n_steps = max(1, math.ceil(T / dt - 1e-9)) if T > 0 else 0
        dt_eff = T / n_steps if n_steps else 0.0
        if forcing is None:
            f_h = 0.0
        else:
            f_h = self.rfft(torch.as_tensor(forcing, device=self.device, dtype=self.dtype))
        w_h = self.rfft(w0)
        steps = range(n_steps)
        if progress_label:
            from errbound.progress import progress

            steps = progress(steps, total=n_steps, label=progress_label)
        for _ in steps:
            w_h = self.step(w_h, f_h, dt_eff)
        return self.irfft(w_h)


def ns_solve(
    w0: Any, *, T: float, nu: float = 1e-3, dt: float = 1e-3, forcing: Any = "default", device: str = "cpu"
) -> Any:
    """w(T) (torch float64, shape of w0) from w0 (..., s, s); forcing "default", None (f=0) or (s, s)."""
    torch = _torch()
    w0 = torch.as_tensor(w0)
    s = int(w0.shape[-1])
    solver = NavierStokes2D(s, nu, device=device)
    if isinstance(forcing, str):
        if forcing != "default":
            raise ErrboundError(f"forcing={forcing!r} is invalid: pass 'default', None or an (s, s) array")
        forcing = default_forcing(s)
    return solver.solve(w0, T, dt, forcing)


def default_fine_res(resolutions: Sequence[int]) -> int:
    """Solver grid: the smallest power of two >= the largest requested resolution."""
    return 1 << (max(resolutions) - 1).bit_length()


def generate(
    n: int, resolutions: Sequence[int], *, seed: int, stream: int, fine_res: int, params: Mapping[str, float],
    device: str = "cpu", chunk: int | None = None,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``n`` samples (x = w0, y = w(T)) at each resolution, float32 arrays (n, r, r)."""
    torch = _torch()
    s = int(fine_res)
    if s % 2:
        raise ErrboundError(f"fine_res={s} must be even for the Navier-Stokes solver")
    solver = NavierStokes2D(s, params["nu"], device=device)
    forcing = default_forcing(s)
    if chunk is None:
        # 2^19 points per field (4 MiB float64) per chunk: larger batches were 3-5x slower per sample
        # on CPU (cache misses); on a GPU 2^24 points (128 MiB) keep the device busy
        budget = (1 << 24) if solver.device.type == "cuda" else (1 << 19)
        chunk = max(1, min(n, budget // (s * s)))
    out = {r: (np.empty((n, r, r), np.float32), np.empty((n, r, r), np.float32)) for r in resolutions}
    split = "train" if stream == 0 else "test"
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        coeffs = grf_torus_coefficients(c1 - c0, 2, s, alpha=params["alpha"], tau=params["tau"], sigma=params["sigma"],
                                        seed=seed, stream=stream, start=c0)
        w0 = eval_periodic(coeffs, s, 2)
        label = f"navier_stokes {split} samples {c0}-{c1 - 1} of {n} (grid {s})"
        w_t = solver.solve(torch.from_numpy(w0), params["T"], params["dt"], forcing, progress_label=label)
        w_t = w_t.cpu().numpy()
        if not np.all(np.isfinite(w_t)):
            raise ErrboundError(f"the Navier-Stokes solve blew up (non-finite vorticity): reduce dt={params['dt']} or raise fine_res")
        wt_coeffs = np.fft.fftn(w_t, axes=(1, 2), norm="forward")
        for r in resolutions:
            out[r][0][c0:c1] = eval_periodic(coeffs, r, 2)
            out[r][1][c0:c1] = eval_periodic(wt_coeffs, r, 2)
    return out
