"""Shared numerics for the error artefacts: emulated forward transforms and retained-mode errors.

Precision error of the forward transform as the FNO computes it: samples cast to the format (one correct
rounding, :func:`errbound.rounding.round_to`), emulated ``rfft2`` in that format with every operation rounded
(:mod:`errbound.emulate`), normalized like torch's ``norm="forward"``; compared with the float64 transform of
the samples as given (so input rounding counts). Float64 is an adequate reference here: its error (~1e-16) is
far below every format studied (fp32's u = 6e-8); NOTES.md s6.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["retained_rows", "emulated_rfft2", "retained_error", "safe_precision_error"]


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


def safe_precision_error(x: np.ndarray, fmt: str, k: int) -> tuple[float, int]:
    """Largest retained-mode error ``max_w |fl(V_s)(w) - V_s(w)|`` of the emulated forward ``rfft2`` (torch's
    order: unnormalized transform, then ``1/m``), with the smallest power-of-two down-scale ``2**-e`` that keeps
    it finite, undone exactly afterwards; returns ``(error, e)`` (``e = 0``: the plain transform, no overflow).

    The unnormalized transform's intermediates are bounded by ``m max|x|`` in exact arithmetic (NOTES.md s6
    item 6), so the first guess is ``e = ceil(log2(2 m max|x| / max(F)))`` (factor 2 for rounding growth), raised
    by one while the result is not finite. The scale is exact unless samples fall below the format's subnormal
    range (fp8 at large m: then the error is large, and that is the finding).
    """
    from errbound import emulate
    from errbound.formats import get_format

    f = get_format(fmt)
    x = np.asarray(x, dtype=np.float64)
    exact = np.fft.rfft2(x, norm="forward")
    peak = x.size * float(np.max(np.abs(x)))
    e = 0
    with np.errstate(over="ignore", invalid="ignore"):
        y = emulate.rfft2(x, emulate.FFTConfig(fmt=f), norm="forward")
        while not np.all(np.isfinite(y)):
            e = max(e + 1, int(np.ceil(np.log2(2.0 * peak / f.max))))
            if e > 200:
                return math.inf, e
            y = emulate.rfft2(x * 2.0**-e, emulate.FFTConfig(fmt=f), norm="forward") * 2.0**e
    err, _ = retained_error(y, exact, k)
    return float(err.max()), e
