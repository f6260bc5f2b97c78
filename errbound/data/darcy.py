"""2-D Darcy flow: -div(a grad u) = f on (0,1)^2, u = 0 on the boundary (numpy + scipy).

Recipe (Li et al., FNO, ICLR 2021): a = a_high (12) where a Neumann GRF (alpha 2, tau 3, see
:mod:`errbound.data.grf`) is >= 0 and a_low (3) elsewhere; f = 1.

Discretization: vertex grid x_i = i/(n-1), i = 0..n-1 (boundary nodes included, u = 0 there), the
5-point finite-volume/finite-difference stencil

    -[a_{i+1/2,j}(u_{i+1,j} - u_{ij}) - a_{i-1/2,j}(u_{ij} - u_{i-1,j})
      + a_{i,j+1/2}(u_{i,j+1} - u_{ij}) - a_{i,j-1/2}(u_{ij} - u_{i,j-1})] / h^2 = f_{ij}

with face coefficients the **harmonic** mean of the two nodal values, 2 a_p a_q / (a_p + a_q).
Why harmonic: across a jump of a the flux a du/dx is continuous while du/dx jumps; the exact
effective conductivity of two half-cells in series is their harmonic mean, so it is the average
that keeps flux continuity for the piecewise-constant 12/3 coefficient (arithmetic averaging
overestimates the conductivity of a face that straddles an interface). For smooth a both averages
are second order (tested on a manufactured solution). The matrix is symmetric positive definite
(an M-matrix); it is factorised by SuperLU (scipy.sparse.linalg.splu). The sparsity pattern is the
same for every sample: the index structure and the COO->CSC permutation are built once per grid
size and reused, only the values change. Working precision float64; stored as float32.

Resolution rule (docs/data.md): each sample is solved once on a fine vertex grid of n_f points
per side (default n_f = 2 (R - 1) + 1, R the largest requested resolution, or the smallest common
refinement when one exists up to that size); at output resolution r, x = a is evaluated exactly
from the GRF's cosine series at the r x r vertex grid and thresholded; y = u is subsampled when
(n_f - 1) is a multiple of (r - 1) (exact), otherwise bilinearly interpolated (second order, the
order of the solver).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from errbound.errors import ErrboundError
from errbound.data.grf import eval_neumann, grf_neumann_coefficients

__all__ = ["DarcySolver", "solve_darcy", "threshold", "default_fine_res", "generate", "FINE_FACTOR"]

#: Default refinement of the solver grid over the largest requested resolution.
FINE_FACTOR = 2


class DarcySolver:
    """Finite-difference Darcy solver on the n x n vertex grid of [0,1]^2 (pattern built once)."""

    def __init__(self, n: int) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 3:
            raise ErrboundError(f"Darcy grid size n={n!r} is invalid: pass an integer >= 3 (boundary + interior)")
        import scipy.sparse as sp

        self.n = n
        m = n - 2
        self.m = m
        self.h = 1.0 / (n - 1)
        idx = np.arange(m * m).reshape(m, m)  # unknown (i, j) <-> interior node (i + 1, j + 1)
        rows = [idx.ravel()]
        cols = [idx.ravel()]
        # neighbours inside the interior: east (i+1), west (i-1), north (j+1), south (j-1)
        rows += [idx[:-1, :].ravel(), idx[1:, :].ravel(), idx[:, :-1].ravel(), idx[:, 1:].ravel()]
        cols += [idx[1:, :].ravel(), idx[:-1, :].ravel(), idx[:, 1:].ravel(), idx[:, :-1].ravel()]
        row = np.concatenate(rows)
        col = np.concatenate(cols)
        nnz = row.size
        probe = sp.coo_matrix((np.arange(1, nnz + 1, dtype=np.float64), (row, col)), shape=(m * m, m * m)).tocsc()
        self._perm = probe.data.astype(np.int64) - 1  # csc.data[k] = values[perm[k]]
        self._indices = probe.indices.copy()
        self._indptr = probe.indptr.copy()
        self._sp = sp

    def matrix(self, a: np.ndarray) -> Any:
        """The CSC stiffness matrix (times 1) for nodal coefficient ``a`` of shape (n, n)."""
        a = np.asarray(a, dtype=np.float64)
        if a.shape != (self.n, self.n):
            raise ErrboundError(f"coefficient shape {a.shape} does not match the solver grid ({self.n}, {self.n})")
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ErrboundError("the Darcy coefficient a must be finite and positive everywhere")
        ax = 2.0 * a[:-1, :] * a[1:, :] / (a[:-1, :] + a[1:, :])  # face (i+1/2, j), shape (n-1, n)
        ay = 2.0 * a[:, :-1] * a[:, 1:] / (a[:, :-1] + a[:, 1:])  # face (i, j+1/2), shape (n, n-1)
        east = ax[1:, 1:-1]  # faces (i+1/2) of interior nodes i = 1..n-2
        west = ax[:-1, 1:-1]
        north = ay[1:-1, 1:]
        south = ay[1:-1, :-1]
        diag = (east + west + north + south).ravel()
        inv_h2 = 1.0 / self.h**2
        values = np.concatenate([
            diag,
            -east[:-1, :].ravel(),  # (i,j)->(i+1,j) uses face i+1/2
            -west[1:, :].ravel(),   # (i,j)->(i-1,j) uses face i-1/2
            -north[:, :-1].ravel(),
            -south[:, 1:].ravel(),
        ]) * inv_h2
        return self._sp.csc_matrix((values[self._perm], self._indices, self._indptr), shape=(self.m**2, self.m**2))

    def solve(self, a: np.ndarray, f: float | np.ndarray = 1.0) -> np.ndarray:
        """u on the n x n grid (zero boundary) for coefficient ``a`` (n, n) and source ``f``."""
        from scipy.sparse.linalg import splu

        mat = self.matrix(a)
        if np.ndim(f) == 0:
            rhs = np.full(self.m * self.m, float(f))
        else:
            f = np.asarray(f, dtype=np.float64)
            if f.shape != (self.n, self.n):
                raise ErrboundError(f"source shape {f.shape} does not match the solver grid ({self.n}, {self.n})")
            rhs = f[1:-1, 1:-1].ravel().copy()
        u = np.zeros((self.n, self.n))
        u[1:-1, 1:-1] = splu(mat, permc_spec="MMD_AT_PLUS_A").solve(rhs).reshape(self.m, self.m)
        return u


@lru_cache(maxsize=8)
def _solver(n: int) -> DarcySolver:
    return DarcySolver(n)


def solve_darcy(a: np.ndarray, f: float | np.ndarray = 1.0) -> np.ndarray:
    """Solve -div(a grad u) = f, u = 0 on the boundary, on the vertex grid of ``a`` (n x n)."""
    a = np.asarray(a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ErrboundError(f"a must be a square (n, n) array; got shape {a.shape}")
    return _solver(int(a.shape[0])).solve(a, f)


def threshold(g: np.ndarray, a_high: float = 12.0, a_low: float = 3.0) -> np.ndarray:
    """a = a_high where g >= 0, a_low elsewhere."""
    return np.where(g >= 0.0, a_high, a_low)


def default_fine_res(resolutions: Sequence[int]) -> int:
    """Solver grid: the smallest n_f in [R, FINE_FACTOR (R-1) + 1] with (n_f-1) divisible by every (r-1)
    and n_f >= FINE_FACTOR (R-1) + 1 when possible; otherwise FINE_FACTOR (R-1) + 1 (R = max)."""
    big = max(resolutions)
    target = FINE_FACTOR * (big - 1) + 1
    common = math.lcm(*(r - 1 for r in resolutions))
    k = -(-(target - 1) // common)  # ceil
    candidate = k * common + 1
    return candidate if candidate <= 2 * target else target


def _interp_matrix(n_from: int, n_to: int) -> np.ndarray:
    """Linear interpolation weights (n_to, n_from) between vertex grids of [0, 1]."""
    x = np.linspace(0.0, 1.0, n_to) * (n_from - 1)
    left = np.minimum(np.floor(x).astype(np.int64), n_from - 2)
    t = x - left
    w = np.zeros((n_to, n_from))
    w[np.arange(n_to), left] = 1.0 - t
    w[np.arange(n_to), left + 1] += t
    return w


def _restrict(u: np.ndarray, r: int) -> np.ndarray:
    n_f = u.shape[-1]
    if (n_f - 1) % (r - 1) == 0:
        step = (n_f - 1) // (r - 1)
        return u[:, ::step, ::step]
    w = _interp_matrix(n_f, r)
    return np.matmul(np.matmul(w, u), w.T)


def generate(
    n: int, resolutions: Sequence[int], *, seed: int, stream: int, fine_res: int, params: Mapping[str, float],
    device: str = "cpu", chunk: int = 64,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``n`` Darcy samples (x = a, y = u) at each resolution, float32 arrays (n, r, r)."""
    from errbound.progress import progress

    n_f = int(fine_res)
    solver = _solver(n_f)
    fine_pts = np.linspace(0.0, 1.0, n_f)
    out = {r: (np.empty((n, r, r), np.float32), np.empty((n, r, r), np.float32)) for r in resolutions}
    hi, lo, f = params["a_high"], params["a_low"], params["forcing"]
    label = f"darcy {'train' if stream == 0 else 'test'} (grid {n_f})"
    starts = range(0, n, chunk)
    bar = iter(progress(range(n), total=n, label=label))
    for c0 in starts:
        c1 = min(n, c0 + chunk)
        coeffs = grf_neumann_coefficients(c1 - c0, n_f, alpha=params["alpha"], tau=params["tau"], seed=seed,
                                          stream=stream, start=c0)
        a_f = threshold(eval_neumann(coeffs, fine_pts), hi, lo)
        u_f = np.empty_like(a_f)
        for j in range(c1 - c0):
            u_f[j] = solver.solve(a_f[j], f)
            next(bar, None)
        for r in resolutions:
            if (n_f - 1) % (r - 1) == 0:
                step = (n_f - 1) // (r - 1)
                a_r = a_f[:, ::step, ::step]
            else:
                a_r = threshold(eval_neumann(coeffs, np.linspace(0.0, 1.0, r)), hi, lo)
            out[r][0][c0:c1] = a_r
            out[r][1][c0:c1] = _restrict(u_f, r)
    for _ in bar:
        pass
    return out
