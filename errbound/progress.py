"""Minimal progress reporting on stderr (no dependency).

``progress(iterable, total, label)`` prints ``label: i/total (eta)`` lines on stderr, at most a few
per second, only when stderr is a terminal or ``ERRBOUND_PROGRESS=1`` is set; set
``ERRBOUND_PROGRESS=0`` to silence it. JSON output on stdout is never affected.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

__all__ = ["progress", "progress_enabled", "note"]

T = TypeVar("T")


def progress_enabled() -> bool:
    flag = os.environ.get("ERRBOUND_PROGRESS")
    if flag is not None:
        return flag not in ("0", "", "false", "no")
    return sys.stderr.isatty()


def progress(items: Iterable[T], total: int | None = None, label: str = "", min_interval: float = 0.5) -> Iterator[T]:
    """Yield from ``items`` while reporting progress on stderr."""
    if not progress_enabled():
        yield from items
        return
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    start = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= min_interval or (total is not None and done == total):
            last = now
            elapsed = now - start
            if total:
                eta = elapsed / done * (total - done)
                msg = f"{label}: {done}/{total} ({elapsed:.1f}s elapsed, ~{eta:.1f}s left)"
            else:
                msg = f"{label}: {done} ({elapsed:.1f}s elapsed)"
            print(msg, file=sys.stderr, flush=True)


def note(message: str) -> None:
    """Print one progress line on stderr (same switch as :func:`progress`)."""
    if progress_enabled():
        print(message, file=sys.stderr, flush=True)
