"""Test functions on the torus T^d = [0, 1)^d with exactly known Fourier coefficients.

A :class:`TorusFunction` v knows

* its continuous coefficients ``vhat(k) = int_{T^d} v(x) exp(-2 pi i k.x) dx`` exactly: in float64
  (:meth:`TorusFunction.coef`) and to any precision with mpmath (:meth:`TorusFunction.coef_mp`);
* its values, in float64 (:meth:`TorusFunction.eval`, :meth:`TorusFunction.eval_grid`) and in mpmath
  (:meth:`TorusFunction.eval_mp`);
* the constants the bounds of docs/theory/discretization.md need: the sup norm ``M``, the Euclidean
  Lipschitz constant ``L`` = sup |grad v|_2 (None when v is not Lipschitz), the per-axis Lipschitz
  constants ``L_axes[i]`` = sup |d v / d x_i``, the per-axis variations ``V_axes`` (bounded variation,
  used for discontinuous inputs) and a coefficient decay law ``decay`` = (C, beta, band) meaning
  ``|vhat(k)| <= C (1 + |k|_2^2)^(-beta)`` for all k and ``vhat(k) = 0`` for ``|k|_inf > band``;
* the per-mode discretization error ``E_s(w) = V_s(w) - vhat(w)`` (V_s the forward-normalized DFT of the
  samples on the s^d grid ``x_j = j / s``) on the retained box ``|w_i| <= k``, computed

  - by a float64 fast path that never subtracts two O(1) numbers to get a small one
    (:meth:`TorusFunction.mode_error`), and
  - by an independent high-precision reference (:meth:`TorusFunction.mode_error_mp`), mpmath at ``dps``
    digits, or an exactly rounded sum for functions with finitely many float64 coefficients.

Every constant reported as M, L, L_axes, V_axes is exact or a proven upper bound (never an estimate
from samples); ``M_exact`` / ``L_exact`` say which.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Sequence

import numpy as np

from errbound.errors import ErrboundError

__all__ = ["TorusFunction", "Decay", "grid_points", "check_resolution", "check_dim", "mode_box"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decay:
    """Coefficient decay law ``|vhat(k)| <= C (1 + |k|_2^2)^(-beta)``, ``vhat(k) = 0`` beyond ``band``.

    ``band`` is None for functions with infinitely many non-zero coefficients.
    """

    C: float
    beta: float
    band: int | None = None

    def __post_init__(self) -> None:
        if not (self.C >= 0 and np.isfinite(self.C)):
            raise ErrboundError(f"Decay.C must be a finite number >= 0, got {self.C!r}")
        if not np.isfinite(self.beta) or self.beta < 0:
            raise ErrboundError(f"Decay.beta must be a finite number >= 0, got {self.beta!r}")
        if self.band is not None and self.band < 0:
            raise ErrboundError(f"Decay.band must be None or >= 0, got {self.band!r}")


def check_dim(dim: Any) -> int:
    """Validate a dimension (1, 2 or 3)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= int(dim) <= 3:
        raise ErrboundError(f"dim must be 1, 2 or 3 (the torus T^d with d <= 3), got {dim!r}")
    return int(dim)


def check_resolution(s: Any, k: int | None = None) -> int:
    """Validate a grid resolution s (points per dimension); with ``k``, require ``s > 2k``.

    A grid of s points separates the frequencies |w_i| <= k (distinct modulo s) only when s > 2k.
    """
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
        if isinstance(s, float) and s.is_integer():
            s = int(s)
        else:
            raise ErrboundError(f"resolution must be an integer number of grid points, got {s!r}")
    s = int(s)
    if s < 1:
        raise ErrboundError(f"resolution must be >= 1, got {s}")
    if k is not None and s <= 2 * k:
        raise ErrboundError(
            f"resolution {s} cannot resolve the retained modes |w_i| <= {k}: it needs res > 2k = {2 * k}; "
            f"pass a resolution of at least {2 * k + 1} or fewer modes (k <= {(s - 1) // 2})"
        )
    return s


def mode_box(k: int, dim: int) -> np.ndarray:
    """Integer modes of the retained box |w_i| <= k, shape ``(2k+1,)*dim + (dim,)`` (index w + k)."""
    axis = np.arange(-k, k + 1)
    grids = np.meshgrid(*([axis] * dim), indexing="ij")
    return np.stack(grids, axis=-1)


def grid_points(s: int, dim: int) -> np.ndarray:
    """Grid ``x_j = j / s``, shape ``(s,)*dim + (dim,)``, float64."""
    axis = np.arange(s) / s
    grids = np.meshgrid(*([axis] * dim), indexing="ij")
    return np.stack(grids, axis=-1)


class TorusFunction(abc.ABC):
    """A real function v on T^d with exact Fourier coefficients; see the module docstring."""

    #: registry name ("smooth", "tent", ...)
    name: str = ""
    dim: int
    M: float
    M_exact: bool = True
    L: float | None = None
    L_exact: bool = True
    L_axes: tuple[float, ...] | None = None
    V_axes: tuple[float, ...] | None = None
    decay: Decay | None = None
    #: predicted log-log slope of max_w |E_s(w)| in s (None: not algebraic, e.g. analytic inputs)
    rate_theory: float | None = None
    #: note explaining rate_theory
    rate_note: str = ""
    #: largest s at which rate_theory is meant to hold (band-limited random fields: band / 4)
    rate_max_res: int | None = None
    params: dict[str, Any]

    # ---- identity -------------------------------------------------------------------------
    @property
    def spec(self) -> str:
        """The ``name:key=value,...`` string that rebuilds this function with get_function."""
        body = ",".join(f"{key}={_fmt(value)}" for key, value in self.params.items())
        return f"{self.name}:{body}" if body else self.name

    def cache_key(self) -> str:
        """A string identifying this function exactly (used as a cache key)."""
        return f"{self.spec};dim={self.dim}"

    def for_resolution(self, s: int) -> "TorusFunction":
        """The member of a witness family for grid s (plain functions return themselves)."""
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec} dim={self.dim}>"

    # ---- coefficients ---------------------------------------------------------------------
    @abc.abstractmethod
    def coef(self, k: np.ndarray) -> np.ndarray:
        """Exact vhat(k) rounded to complex128; ``k`` integer array of shape (..., dim)."""

    @abc.abstractmethod
    def coef_mp(self, k: Sequence[int], dps: int) -> Any:
        """vhat(k) as an mpmath mpc with ``dps`` correct digits (k a tuple of dim integers)."""

    # ---- values ---------------------------------------------------------------------------
    @abc.abstractmethod
    def eval(self, points: np.ndarray) -> np.ndarray:
        """v at points of shape (..., dim), float64."""

    @abc.abstractmethod
    def eval_mp(self, point: Sequence[Any], dps: int) -> Any:
        """v at one point (dim mpmath numbers or floats, taken exactly) as an mpf."""

    def eval_grid(self, s: int) -> np.ndarray:
        """Samples on the grid x_j = j/s, shape (s,)*dim, float64."""
        return self.eval(grid_points(s, self.dim))

    # ---- discretization error -------------------------------------------------------------
    @abc.abstractmethod
    def mode_error(self, s: int, k: int) -> np.ndarray:
        """Float64 fast path: E_s(w) = V_s(w) - vhat(w) on |w_i| <= k, shape (2k+1,)*dim."""

    @abc.abstractmethod
    def mode_error_mp(self, s: int, k: int, dps: int) -> np.ndarray:
        """Reference E_s(w) (object array of mpc, shape (2k+1,)*dim) at ``dps`` digits."""

    #: how mode_error_mp computes (for provenance)
    reference_method: str = "mpmath"

    def coef_box(self, k: int) -> np.ndarray:
        """vhat(w) on the box |w_i| <= k, shape (2k+1,)*dim, complex128."""
        return self.coef(mode_box(k, self.dim))

    def coef_box_mp(self, k: int, dps: int) -> np.ndarray:
        """vhat(w) on the box |w_i| <= k as an object array of mpc (``dps`` digits)."""
        box = mode_box(k, self.dim).reshape(-1, self.dim)
        out = np.empty(len(box), dtype=object)
        for i, w in enumerate(box.tolist()):
            out[i] = self.coef_mp(tuple(w), dps)
        return out.reshape((2 * k + 1,) * self.dim)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)
