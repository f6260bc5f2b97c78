"""``sobolev`` and ``grf``: random band-limited fields with prescribed coefficient decay.

``sobolev`` (parameter r): vhat(k) = (1 + |k|_2^2)^(-beta) e^{i phi_k}, beta = r/2 + d/4, phi_k uniform,
phi_{-k} = -phi_k, vhat(0) = 0, for |k|_inf <= band. Since sum_k (1+|k|^2)^(r'-2beta) < inf exactly for
r' < r, v lies in H^{r - eps} uniformly in the band. Aliased mode errors are sums of partners of size
(s |q|)^(-2beta) with random phases: E_s(w) ~ s^-(r + d/2) (rate_theory), for s well below the band.

``grf``: the FNO-paper Gaussian random field, covariance sigma^2 (-Laplacian + tau^2)^(-alpha):
vhat(k) = sigma (4 pi^2 |k|^2 + tau^2)^(-alpha/2) (g1 + i g2)/sqrt 2 made Hermitian, zero mean mode,
for |k|_inf <= band. Error ~ s^-alpha.

Both are exact trigonometric polynomials (their float64 coefficients define them); the band is a
parameter (defaults: 32768 in 1-D, 1024 in 2-D, 48 in 3-D) and the predicted rate is meant for
s <= band / 4.
"""

from __future__ import annotations

import numpy as np

from errbound.errors import ErrboundError
from errbound.functions._base import Decay, mode_box
from errbound.functions._spectral import SpectralFunction, hermitian_box

__all__ = ["make_sobolev", "make_grf", "DEFAULT_BAND"]

DEFAULT_BAND = {1: 32768, 2: 1024, 3: 48}
_MAX_COEFFS = 20_000_000


def _box_norm2(band: int, dim: int) -> np.ndarray:
    if (2 * band + 1) ** dim > _MAX_COEFFS:
        raise ErrboundError(
            f"band {band} in {dim}-D means {(2 * band + 1) ** dim} coefficients (limit {_MAX_COEFFS}); pass a smaller band"
        )
    axis = np.arange(-band, band + 1, dtype=np.float64) ** 2
    out = axis
    for _ in range(dim - 1):
        out = np.add.outer(out, axis)
    return out


def _decay_constant(c: np.ndarray, norm2: np.ndarray, beta: float) -> float:
    # smallest C with |c_k| <= C (1 + |k|^2)^-beta over the finite band, with a 4-ulp safety margin
    return float(np.max(np.abs(c) * (1 + norm2) ** beta)) * (1 + 8 * np.finfo(float).eps)


def make_sobolev(dim: int, *, r: float = 1.0, band: int | None = None, seed: int = 0) -> SpectralFunction:
    if not (np.isfinite(r) and r > 0):
        raise ErrboundError(f"sobolev: r must be > 0, got {r!r}")
    band = DEFAULT_BAND[dim] if band is None else int(band)
    if band < 1:
        raise ErrboundError(f"sobolev: band must be >= 1, got {band}")
    beta = r / 2 + dim / 4
    norm2 = _box_norm2(band, dim)
    rng = np.random.default_rng([seed, 5, dim, band])
    phi = rng.uniform(0.0, 2 * np.pi, norm2.shape)
    phi = phi - phi[(slice(None, None, -1),) * dim]  # antisymmetric: phi_{-k} = -phi_k
    c = (1 + norm2) ** (-beta) * np.exp(1j * phi)
    c[(band,) * dim] = 0
    c = hermitian_box(c)
    fn = SpectralFunction(mode_box(band, dim).reshape(-1, dim), c.reshape(-1), name="sobolev", params={"r": r, "band": band, "seed": seed})
    fn.decay = Decay(C=_decay_constant(c, norm2, beta), beta=beta, band=band)
    fn.rate_theory = -(r + dim / 2)
    fn.rate_note = f"|vhat(k)| ~ (1+|k|^2)^-{beta:g}: error ~ s^-(r + d/2) for s << band"
    fn.rate_max_res = band // 4
    return fn


def make_grf(
    dim: int, *, alpha: float = 2.5, tau: float = 7.0, sigma: float = 1.0, band: int | None = None, seed: int = 0
) -> SpectralFunction:
    if not (alpha > 0 and tau > 0 and sigma > 0):
        raise ErrboundError(f"grf: alpha, tau, sigma must be > 0, got alpha={alpha}, tau={tau}, sigma={sigma}")
    band = DEFAULT_BAND[dim] if band is None else int(band)
    if band < 1:
        raise ErrboundError(f"grf: band must be >= 1, got {band}")
    norm2 = _box_norm2(band, dim)
    rng = np.random.default_rng([seed, 7, dim, band])
    g = (rng.standard_normal(norm2.shape) + 1j * rng.standard_normal(norm2.shape)) / np.sqrt(2)
    c = sigma * (4 * np.pi**2 * norm2 + tau**2) ** (-alpha / 2) * g
    c[(band,) * dim] = 0
    c = hermitian_box(c)
    beta = alpha / 2
    fn = SpectralFunction(
        mode_box(band, dim).reshape(-1, dim),
        c.reshape(-1),
        name="grf",
        params={"alpha": alpha, "tau": tau, "sigma": sigma, "band": band, "seed": seed},
    )
    fn.decay = Decay(C=_decay_constant(c, norm2, beta), beta=beta, band=band)
    fn.rate_theory = -alpha
    fn.rate_note = f"|vhat(k)| ~ |k|^-{alpha:g}: error ~ s^-alpha for s << band"
    fn.rate_max_res = band // 4
    return fn
