"""Progress on stderr for long commands (training, data generation, sweeps, repro), drawn with tqdm.

* :func:`progress` wraps an iterable in a tqdm bar (count, rate, elapsed and remaining time);
* :func:`bar` opens a bar updated by hand (``update(n)``, ``set_postfix``), e.g. samples in an epoch;
* :func:`note` prints one line without breaking a bar that is being drawn.

Everything goes to stderr and only when :func:`progress_enabled`: stderr is a terminal, or
``ERRBOUND_PROGRESS=1`` asks for it (``ERRBOUND_PROGRESS=0`` silences it). JSON on stdout is never
affected. When tqdm is not importable the same calls print plain lines at most twice a second.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable, Iterator, TypeVar

__all__ = ["progress", "progress_enabled", "note", "bar", "NullBar"]

T = TypeVar("T")

#: "label: 3/10 |####      | 30% [00:02<00:05, 1.4it/s, postfix]": the count first, so logs stay greppable.
_FORMAT = "{desc}: {n_fmt}/{total_fmt} |{bar}| {percentage:3.0f}% [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
_FORMAT_NO_TOTAL = "{desc}: {n_fmt} [{elapsed}, {rate_fmt}{postfix}]"


def progress_enabled() -> bool:
    """``ERRBOUND_PROGRESS`` when set (0/false/no: off), else whether stderr is a terminal."""
    flag = os.environ.get("ERRBOUND_PROGRESS")
    if flag is not None:
        return flag.strip().lower() not in ("0", "", "false", "no", "off")
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _tqdm() -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a core dependency
        return None
    return tqdm


class NullBar:
    """A bar that draws nothing (progress disabled); same methods as a tqdm bar."""

    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "NullBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _LineBar(NullBar):
    """Plain-line fallback when tqdm is missing."""

    def __init__(self, total: int | None, desc: str) -> None:
        self.total, self.desc, self.start, self.last = total, desc, time.monotonic(), 0.0

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last >= 0.5 or self.n == self.total:
            self.last = now
            of = f"/{self.total}" if self.total else ""
            print(f"{self.desc}: {self.n}{of} ({now - self.start:.1f}s elapsed)", file=sys.stderr, flush=True)


def bar(total: int | None = None, desc: str = "", *, unit: str = "it", initial: int = 0, leave: bool = True,
        enabled: bool | None = None) -> Any:
    """A progress bar on stderr (tqdm), or a :class:`NullBar` when progress is disabled."""
    if not (progress_enabled() if enabled is None else enabled):
        return NullBar()
    tqdm = _tqdm()
    if tqdm is None:  # pragma: no cover
        return _LineBar(total, desc)
    return tqdm(total=total, desc=desc, unit=unit, initial=initial, leave=leave, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.2, smoothing=0.1,
                bar_format=_FORMAT if total else _FORMAT_NO_TOTAL)


def progress(items: Iterable[T], total: int | None = None, label: str = "", min_interval: float = 0.2) -> Iterator[T]:
    """Yield from ``items`` while drawing a bar on stderr (nothing when progress is disabled)."""
    if not progress_enabled():
        yield from items
        return
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    tqdm = _tqdm()
    if tqdm is None:  # pragma: no cover
        line = _LineBar(total, label)
        for item in items:
            yield item
            line.update()
        return
    with tqdm(items, total=total, desc=label, file=sys.stderr, dynamic_ncols=True, mininterval=min_interval,
              leave=True, bar_format=_FORMAT if total else _FORMAT_NO_TOTAL) as it:
        yield from it


def note(message: str, *, enabled: bool | None = None) -> None:
    """Print one line on stderr (same switch as :func:`progress`), above any bar being drawn."""
    if not (progress_enabled() if enabled is None else enabled):
        return
    tqdm = _tqdm()
    if tqdm is None:  # pragma: no cover
        print(message, file=sys.stderr, flush=True)
    else:
        tqdm.write(message, file=sys.stderr)
