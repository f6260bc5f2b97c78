"""``step``: the indicator of a box prod_i [a, b) (value 1/2 on a jump: the normalised BV representative).

Discontinuous, bounded variation, 1-D coefficients (e^{-2 pi i n a} - e^{-2 pi i n b}) / (2 pi i n) ~ 1/n.
The per-mode discretization error decays like 1/s (bound D2-BV of docs/theory/discretization.md).
"""

from __future__ import annotations

from errbound.functions._factors import StepFactor
from errbound.functions._separable import SeparableFunction

__all__ = ["make_step"]


def make_step(dim: int, *, a: float = 0.2, b: float = 0.7) -> SeparableFunction:
    fn = SeparableFunction([StepFactor(a, b) for _ in range(dim)], "product", name="step", params={"a": a, "b": b})
    fn.rate_theory = -1.0
    fn.rate_note = "jump discontinuities: error ~ 1/s"
    return fn
