"""What a subcommand returns (plain-text tables live in :mod:`errbound.tables`, re-exported here for the
commands)."""

from __future__ import annotations

import dataclasses
from typing import Any

from errbound.results import to_jsonable
from errbound.tables import format_number as format_number
from errbound.tables import format_table as format_table

__all__ = ["CommandOutput", "format_table", "format_number"]


@dataclasses.dataclass
class CommandOutput:
    """Result of one CLI command: ``data`` for ``--json``, ``text`` for humans."""

    data: Any
    text: str = ""
    exit_code: int = 0

    def jsonable(self) -> Any:
        return to_jsonable(self.data)
