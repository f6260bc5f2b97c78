"""The Lipschitz class {L-Lipschitz, |v| <= M} on T^2: its worst-case witnesses and a full-magnitude member.

* :func:`euclid_witness_error`: the measured error ``A(T_s, 0; s) = |V_s(0) - vhat(0)|`` of D3(a)'s witness
  ``T_s(x) = L dist_2(x, s^-1 Z^2)`` (docs/theory.md), which attains D2(a), ``L kappa_2 / s``. ``V_s(0)`` is the
  mean of its samples on the grid; ``vhat(0)``, its integral, by the midpoint rule with ``r x r`` points on one
  grid cell (``T_s`` has period ``1/s`` in each axis, so the torus mean is the cell mean; the rule's error for
  this Lipschitz, piecewise smooth integrand is O(r^-2) relative). Independent of the closed form of kappa_2.
* :func:`tentgrid_witness_error`: the library witness ``tentgrid`` (D3(b), ``U_s``, per-axis slopes ``L/sqrt 2``),
  exact by the aliasing identity; it attains D2(b) ``sqrt(2) L / (4s)``, i.e. ``sqrt(2) / (4 kappa_2) = 0.924``
  of the class line, not the line itself.
* :func:`cone_samples`: ``M - L dist_2(x, x0)`` on the torus, an L-Lipschitz member with sup exactly ``M``.
  Both witnesses vanish on the grid (their samples are all 0, so their precision error is exactly 0); the
  precision error of the class is measured on this member, whose samples use the class's full magnitude.
"""

from __future__ import annotations

import numpy as np

__all__ = ["euclid_witness_error", "tentgrid_witness_error", "cone_samples"]


def _torus_dist(t: np.ndarray, period: float) -> np.ndarray:
    """Distance of ``t`` to the lattice ``period Z`` (componentwise)."""
    return np.abs(t - period * np.round(t / period))


def euclid_witness_error(s: int, L: float, *, r: int = 1024) -> float:
    """Measured ``|V_s(0) - vhat(0)|`` of ``T_s = L dist_2(., s^-1 Z^2)`` (D3(a)); see the module docstring."""
    g = np.arange(s) / s
    grid_vals = L * np.hypot(_torus_dist(g[:, None], 1.0 / s), _torus_dist(g[None, :], 1.0 / s))
    v_s0 = float(grid_vals.mean())  # 0 up to float64 rounding of j/s
    t = (np.arange(r) + 0.5) / (r * s)  # midpoints of one cell [0, 1/s)^2
    vhat0 = float((L * np.hypot(_torus_dist(t[:, None], 1.0 / s), _torus_dist(t[None, :], 1.0 / s))).mean())
    return abs(v_s0 - vhat0)


def tentgrid_witness_error(s: int, L: float, k: int) -> float:
    """Exact ``max_w A(U_s, w; s)`` over retained modes of the library witness ``tentgrid`` with Euclidean
    Lipschitz constant ``L`` (slope ``L / sqrt 2`` per axis); the maximum is at ``w = 0``: ``sqrt(2) L / (4s)``."""
    from errbound.functions import get_function

    fn = get_function(f"tentgrid:slope={float(L / np.sqrt(2.0))!r}", dim=2).for_resolution(s)
    return float(np.max(np.abs(fn.mode_error(s, k))))


def cone_samples(s: int, L: float, M: float, x0: tuple[float, float] = (0.37, 0.61)) -> np.ndarray:
    """Samples on the ``s x s`` grid of ``M - L dist_2(x, x0)`` (torus distance): L-Lipschitz, ``sup = M``,
    ``inf = M - L / sqrt 2`` (so ``|v| <= M`` when ``L <= 2 sqrt(2) M``)."""
    g = np.arange(s) / s
    return M - L * np.hypot(_torus_dist(g[:, None] - x0[0], 1.0), _torus_dist(g[None, :] - x0[1], 1.0))
