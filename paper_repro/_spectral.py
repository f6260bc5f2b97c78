"""Shared numerics for the error artefacts: emulated forward transforms and retained-mode errors.

Precision error of the forward transform as the FNO computes it: samples cast to the format (one correct
rounding, :func:`errbound.rounding.round_to`), emulated ``rfft2`` in that format with every operation rounded
(:mod:`errbound.emulate`), normalized like torch's ``norm="forward"``; compared with the float64 transform of
the samples as given (so input rounding counts). Float64 is an adequate reference here: its error (~1e-16) is
far below every format studied (fp32's u = 6e-8); NOTES.md s6.
"""

from __future__ import annotations

import numpy as np

__all__ = ["retained_rows", "emulated_rfft2", "retained_error"]


def retained_rows(s: int, k: int) -> np.ndarray:
    """Row indices of the retained modes |w_1| <= k in rfft2 layout (0..k and s-k..s-1)."""
    return np.r_[0:k + 1, s - k:s]


def emulated_rfft2(x: np.ndarray, fmt: str) -> np.ndarray:
    """``rfft2(x, norm="forward")`` with x cast to ``fmt`` and every operation rounded into ``fmt``."""
    from errbound import emulate
    from errbound.rounding import round_to

    return emulate.rfft2(round_to(np.asarray(x, dtype=np.float64), fmt), fmt, norm="forward")


def retained_error(approx: np.ndarray, exact: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-mode |approx - exact| and |exact| on the retained modes (|w_i| <= k) of rfft2 outputs."""
    s = exact.shape[-2]
    rows = retained_rows(s, k)
    a = approx[..., rows, : k + 1]
    e = exact[..., rows, : k + 1]
    return np.abs(a - e), np.abs(e)
