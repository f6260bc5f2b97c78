"""Adversarial search for the worst case of a bound: hypothesis (guided by ``target``) and scipy.optimize.

Both maximise a score ``ratio = lhs / rhs`` of the statement's ``lhs <= rhs`` over a function class or a
set of inputs and hand every evaluated candidate to a callback, so each evaluation is also a checked
case (a search that finds ratio > 1 has found a counterexample and it is counted as a violation).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

__all__ = ["hypothesis_max", "scipy_max"]


class _Budget(Exception):
    pass


def hypothesis_max(
    strategy: Any, score: Callable[[Any], float], *, max_examples: int, seconds: float, seed: int = 0
) -> tuple[float, Any]:
    """Search ``strategy`` for a large ``score`` with hypothesis's targeted property-based search.

    ``score`` must record the case itself (via the Check) and return the ratio. Returns the best
    (score, example). Examples come in a seeded order (no example database); the search stops after
    ``max_examples`` or ``seconds``, whichever comes first, so a slower or busier machine may evaluate a
    prefix of that sequence (case counts in reports vary with load; the cases themselves do not).
    """
    from hypothesis import HealthCheck, Phase, given, seed as hseed, settings, target

    best: list[Any] = [-np.inf, None]
    t_end = time.perf_counter() + seconds

    @hseed(seed)
    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate, Phase.target], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def search(example: Any) -> None:
        if time.perf_counter() > t_end:
            raise _Budget
        value = float(score(example))
        if np.isfinite(value):
            target(value)
        if value > best[0]:
            best[0], best[1] = value, example

    try:
        search()
    except _Budget:
        pass
    return best[0], best[1]


def scipy_max(
    score: Callable[[np.ndarray], float], x0s: list[np.ndarray], *, bounds: list[tuple[float, float]] | None = None,
    seconds: float, maxfev: int = 400,
) -> tuple[float, np.ndarray | None]:
    """Maximise ``score`` from each start in ``x0s`` with Nelder-Mead (derivative-free: the scores are
    piecewise smooth at best); candidates are clipped to ``bounds``. Returns the best (score, x)."""
    from scipy.optimize import minimize

    best_val, best_x = -np.inf, None
    t_end = time.perf_counter() + seconds
    lo = hi = None
    if bounds is not None:
        lo = np.array([b[0] for b in bounds], dtype=float)
        hi = np.array([b[1] for b in bounds], dtype=float)

    def neg(x: np.ndarray) -> float:
        if time.perf_counter() > t_end:
            raise _Budget
        if lo is not None:
            x = np.clip(x, lo, hi)
        value = float(score(x))
        nonlocal best_val, best_x
        if value > best_val:
            best_val, best_x = value, np.array(x, copy=True)
        return -value if np.isfinite(value) else 1e300

    for x0 in x0s:
        try:
            minimize(neg, np.asarray(x0, dtype=float), method="Nelder-Mead",
                     options={"maxfev": maxfev, "xatol": 1e-12, "fatol": 1e-14})
        except _Budget:
            break
    return best_val, best_x
