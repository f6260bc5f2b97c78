"""Ctrl-C and SIGTERM during training: finish the current step, checkpoint, stop.

:func:`deferred_signals` installs handlers (main thread only) that record the first SIGINT or SIGTERM
instead of raising; the training loop polls :attr:`SignalFlag.received` after every step and, when set,
writes a checkpoint and raises :class:`TrainingInterrupted`. The first signal restores the previous
handlers, so a second Ctrl-C interrupts at once (without a new checkpoint; the last one stays intact).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Any, Iterator

__all__ = ["SignalFlag", "TrainingInterrupted", "deferred_signals", "EXIT_CODES"]

#: Conventional shell exit status for a process stopped by a signal: 128 + signal number.
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class TrainingInterrupted(Exception):
    """Training stopped on a signal after writing ``checkpoint`` (None when there is no run folder)."""

    def __init__(self, signum: int, checkpoint: Path | None, epoch: int, batch: int) -> None:
        self.signum, self.checkpoint, self.epoch, self.batch = signum, checkpoint, epoch, batch
        where = f"checkpoint {checkpoint}" if checkpoint is not None else "no checkpoint (no run folder)"
        super().__init__(f"interrupted by {signal.Signals(signum).name} at epoch {epoch} batch {batch}; {where}")

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signum, 128 + int(self.signum))


class SignalFlag:
    """The first signal received while :func:`deferred_signals` is active (None if none)."""

    def __init__(self) -> None:
        self.received: int | None = None


@contextlib.contextmanager
def deferred_signals() -> Iterator[SignalFlag]:
    """Record SIGINT/SIGTERM in the yielded :class:`SignalFlag` instead of raising (main thread only)."""
    flag = SignalFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        flag.received = signum
        for sig, old in previous.items():  # a second signal acts at once
            signal.signal(sig, old)

    for sig in EXIT_CODES:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
