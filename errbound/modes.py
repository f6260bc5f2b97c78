"""The retained-mode layout of a Fourier layer: one convention for every engine and every command.

errbound uses neuraloperator's ``n_modes`` convention everywhere (``errbound train --modes``, ``precision``,
``advise``, ``validate``, ``bench``, and the spectral block of the emulator). ``modes = (m_1, ..., m_d)``
retained modes per axis of a real input on the grid ``(n_1, ..., n_d)``:

* along every axis but the last, the ``m_j`` frequencies ``0, 1, ..., ceil(m_j/2) - 1`` followed by
  ``-floor(m_j/2), ..., -1`` (needs ``m_j <= n_j``);
* along the last (real-FFT) axis the ``m_d // 2 + 1`` frequencies ``0, ..., m_d // 2`` (needs
  ``m_d // 2 <= n_d // 2``); by Hermitian symmetry the layer then acts on ``|w_d| <= m_d // 2``.

The weights of a layer with ``C_in`` inputs and ``C_out`` outputs have the complex shape
``(C_out, C_in, m_1, ..., m_{d-1}, m_d // 2 + 1)`` (:func:`mode_shape`). On the last axis the synthesis
counts each retained frequency twice (its Hermitian mirror), except 0 and the Nyquist frequency ``n/2``
(:func:`hermitian_weights`).

For the discretization theory (``errbound discretization`` / ``crossover``), which works with the symmetric
box ``|w_i| <= K``, ``--modes m`` means ``K = m // 2`` (:func:`box_radius`): the box is the Hermitian closure
of the last axis's retained set and contains the other axes' retained sets, so sup-norm statements over the
box cover the layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from errbound.errors import ErrboundError

__all__ = [
    "DEFAULT_MODES", "default_modes", "as_modes", "retained_frequencies", "retained_indices", "mode_shape",
    "hermitian_weights", "random_weights", "box_radius", "check_modes",
]

#: Default retained modes per axis, by dimension (every command; capped by the grid).
DEFAULT_MODES = {1: 32, 2: 24, 3: 16}


def as_modes(modes: int | Sequence[int], dim: int) -> tuple[int, ...]:
    """``modes`` as one positive integer per axis (an int is repeated ``dim`` times)."""
    if isinstance(modes, (int, np.integer)) and not isinstance(modes, bool):
        ms = (int(modes),) * dim
    else:
        try:
            ms = tuple(int(m) for m in modes)  # type: ignore[union-attr]
        except TypeError:
            raise ErrboundError(f"modes must be an integer or one integer per axis, got {modes!r}") from None
    if len(ms) != dim:
        raise ErrboundError(f"need one mode count per grid axis ({dim}), got {len(ms)}: {ms}")
    if any(m < 1 for m in ms):
        raise ErrboundError(f"modes must be positive integers, got {ms}")
    return ms


def default_modes(dim: int, grid: Sequence[int] | None = None) -> int:
    """The default modes per axis for ``dim`` (:data:`DEFAULT_MODES`), capped so that the grid holds them."""
    if dim not in DEFAULT_MODES:
        raise ErrboundError(f"dimension must be 1, 2 or 3, got {dim}")
    m = DEFAULT_MODES[dim]
    if grid:
        m = min(m, min(2 * (int(n) // 2) for n in grid))
    return max(1, m)


def retained_frequencies(n: int, m: int, last: bool) -> list[int]:
    """Frequencies kept along an axis of ``n`` points for ``m`` modes (module docstring), in storage order."""
    if m < 1:
        raise ErrboundError(f"modes must be >= 1, got {m}")
    if last:
        if m // 2 > n // 2:
            raise ErrboundError(
                f"{m} modes need {m // 2 + 1} real-FFT frequencies but a grid of {n} points has only {n // 2 + 1}; "
                f"use at most {2 * (n // 2)} modes or a finer grid"
            )
        return list(range(m // 2 + 1))
    if m > n:
        raise ErrboundError(f"{m} modes exceed the {n} grid points of an axis; use at most {n} modes or a finer grid")
    return list(range((m + 1) // 2)) + list(range(-(m // 2), 0))


def check_modes(grid: Sequence[int], modes: int | Sequence[int]) -> tuple[int, ...]:
    """Validate ``modes`` against ``grid``; returns one count per axis."""
    ms = as_modes(modes, len(grid))
    for i, (n, m) in enumerate(zip(grid, ms)):
        retained_frequencies(int(n), m, i == len(grid) - 1)
    return ms


def retained_indices(grid: Sequence[int], modes: int | Sequence[int]) -> list[np.ndarray]:
    """Index arrays into the ``rfftn`` half spectrum (shape ``(n_1, ..., n_d//2+1)``) of the retained modes,
    one per axis, in storage order (frequency ``f < 0`` is index ``n + f``)."""
    ms = check_modes(grid, modes)
    d = len(grid)
    return [np.array([f % int(n) for f in retained_frequencies(int(n), m, i == d - 1)], dtype=np.int64)
            for i, (n, m) in enumerate(zip(grid, ms))]


def mode_shape(modes: Sequence[int]) -> tuple[int, ...]:
    """Shape of the retained spectrum: ``(m_1, ..., m_{d-1}, m_d // 2 + 1)``."""
    ms = tuple(int(m) for m in modes)
    return (*ms[:-1], ms[-1] // 2 + 1)


def hermitian_weights(n: int, freqs: Sequence[int]) -> tuple[int, ...]:
    """Synthesis weights on the last axis: 1 for frequency 0 and ``n/2`` (self-conjugate), 2 otherwise."""
    return tuple(1 if (f == 0 or 2 * f == n) else 2 for f in freqs)


def random_weights(c_out: int, c_in: int, modes: Sequence[int], *, seed: int = 0,
                   scale: float | None = None) -> np.ndarray:
    """Complex weights ``(C_out, C_in, *mode_shape(modes))`` with i.i.d. standard complex normal entries times
    ``scale`` (default ``1/sqrt(C_in)``, keeping the output magnitude of the input's); seeded (numpy PCG64).
    Real and imaginary parts are fp32 values (rounded once from float64), because the trainer keeps fp32 master
    weights: the emulator and the torch layer of ``errbound precision --engine`` start from the same values."""
    shape = (int(c_out), int(c_in)) + mode_shape(modes)
    rng = np.random.default_rng(seed)
    sc = 1 / math.sqrt(c_in) if scale is None else scale
    w = sc * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)
    return w.real.astype(np.float32).astype(np.float64) + 1j * w.imag.astype(np.float32).astype(np.float64)


def box_radius(modes: int) -> int:
    """The discretization theory's ``K`` (retained ``|w_i| <= K``) for ``modes`` in the n_modes convention."""
    if isinstance(modes, bool) or not isinstance(modes, (int, np.integer)) or modes < 2:
        raise ErrboundError(f"modes must be an integer >= 2 (n_modes convention: |w_i| <= modes // 2), got {modes!r}")
    return int(modes) // 2
