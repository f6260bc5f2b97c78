"""Plain-text tables and compact numbers for humans (used by the CLI, proofs_numeric and paper_repro)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

__all__ = ["format_table", "format_number"]


def format_number(value: Any, digits: int = 4) -> str:
    """Compact human formatting: ints as is, floats with ``digits`` significant digits."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}"
    if isinstance(value, np.generic):
        return format_number(value.item(), digits)
    return str(value)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, digits: int = 4) -> str:
    """Render rows (dicts) as an aligned text table with the given column order."""
    if not rows:
        return "(no rows)"
    columns = list(columns) if columns is not None else list(rows[0].keys())
    cells = [[format_number(row.get(col), digits) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    header = "  ".join(col.rjust(w) for col, w in zip(columns, widths))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join([header, rule, *body])
