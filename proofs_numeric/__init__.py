"""Numerical, adversarial and symbolic checks of every statement of docs/theory.md.

One module per statement (``r1_rounding``, ``d2_lipschitz``, ...). Each quotes its statement (number
and text from docs/theory.md), implements both sides literally, and exposes ``run(ctx) -> dict``
(see :mod:`proofs_numeric._framework` for the result keys). The runner
(:func:`proofs_numeric.runner.run_all`, ``python -m proofs_numeric``, ``errbound verify``) runs them
all and writes a markdown and a JSON report atomically.
"""

from proofs_numeric.runner import STATEMENTS as STATEMENTS
from proofs_numeric.runner import run_all as run_all
from proofs_numeric.runner import write_reports as write_reports

__all__ = ["STATEMENTS", "run_all", "write_reports"]
