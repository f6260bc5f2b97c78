"""A training run's folder: where it lives, who owns it, and its files.

A run folder holds

* ``run.json``: the run's configuration (the command-line options that define it), written when the run
  starts, before any data is generated; ``--resume`` restores it;
* ``checkpoint.pt``: the commit point (see :mod:`errbound.train.checkpoint`);
* ``metrics.jsonl``: one JSON object per finished epoch, derived from the checkpoint (rewritten from it on
  every commit and whenever a run opens the folder, so a kill between the two renames is repaired);
* ``summary.json``: written once the run has finished (removed when a run continues, so that a summary
  always describes the checkpoint beside it);
* ``.lock``: held (``fcntl.flock``) by the process training in the folder. The kernel drops the lock when
  that process dies, even by ``kill -9``, so a stale lock never blocks; the file records the holder's pid,
  host and command so that a refused second process can name it. Where ``flock`` is unsupported
  (some network file systems), the recorded pid is checked for liveness instead.

Every file is written atomically (a temporary file ``.NAME.*`` renamed over the target); temporary files
left by a killed process are removed when the next process takes the lock, and on exit.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from errbound.errors import ErrboundError
from errbound.results import atomic_path, remove_atomic_leftovers, to_jsonable

__all__ = ["RunFolder", "check_writable_dir", "default_run_path", "os_error_message",
           "CHECKPOINT_NAME", "METRICS_NAME", "SUMMARY_NAME", "CONFIG_NAME", "LOCK_NAME"]

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.jsonl"
SUMMARY_NAME = "summary.json"
CONFIG_NAME = "run.json"
LOCK_NAME = ".lock"
_RUN_FILES = (CHECKPOINT_NAME, METRICS_NAME, SUMMARY_NAME, CONFIG_NAME)

#: Locks this process holds: resolved folder -> [file descriptor, depth] (re-entrant within a process).
_HELD: dict[Path, list[int]] = {}


def os_error_message(exc: OSError, what: str, fix: str, path: str | os.PathLike[str] | None = None) -> str:
    """One line for a disk or permission error: the path (the error's own, else ``path``), the system's reason
    and the fix."""
    path = exc.filename or path or "?"
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        fix = "free disk space or " + fix
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "make it writable or " + fix
    return f"cannot {what} {path}: {reason}; {fix}"


def check_writable_dir(path: str | os.PathLike[str], what: str, fix: str) -> Path:
    """Check, without creating anything, that ``path`` is or can be created as a writable folder.

    Walks up to the nearest existing ancestor: it must be a folder this process may write into (and, if
    ``path`` exists, ``path`` itself must be a writable folder). Raises :class:`ErrboundError` naming the
    path and ``fix``. Returns ``path`` as a :class:`Path`.
    """
    path = Path(path).expanduser()
    probe = path
    while not probe.exists():
        if probe.is_symlink():
            raise ErrboundError(f"{what} {path}: {probe} is a broken symbolic link; {fix}")
        parent = probe.parent
        if parent == probe:
            break
        probe = parent
    if not probe.is_dir():
        where = "is a file" if probe == path else f"is under the file {probe}"
        raise ErrboundError(f"{what} {path} {where}, not a folder; {fix}")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == path else f" (its nearest existing folder {probe} is not writable)"
        raise ErrboundError(f"{what} {path} is not writable{where}; {fix}")
    return path


def default_run_path(root: str | os.PathLike[str], dataset: str, res: int, precision: str) -> Path:
    """``root/{dataset}_r{res}_{precision}_{NNN}`` with the first counter not yet taken (not created here)."""
    stem = "".join(c if c.isalnum() or c in "-_+." else "-" for c in f"{Path(dataset).name}_r{res}_{precision}")
    root = Path(root)
    taken = set()
    if root.is_dir():
        for child in root.iterdir():
            head, _, tail = child.name.rpartition("_")
            if head == stem and tail.isdigit():
                taken.add(int(tail))
    n = max(taken, default=0) + 1
    return root / f"{stem}_{n:03d}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunFolder:
    """One run folder (see the module docstring). Cheap to build; nothing touches the disk until used."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # -- names ---------------------------------------------------------------------------------------------
    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_NAME

    @property
    def metrics(self) -> Path:
        return self.path / METRICS_NAME

    @property
    def summary(self) -> Path:
        return self.path / SUMMARY_NAME

    @property
    def config(self) -> Path:
        return self.path / CONFIG_NAME

    def holds_run(self) -> bool:
        """Whether the folder holds (part of) a run: a configuration, a checkpoint or a summary."""
        return any((self.path / name).exists() for name in (CONFIG_NAME, CHECKPOINT_NAME, SUMMARY_NAME))

    # -- ownership -----------------------------------------------------------------------------------------
    def acquire(self) -> None:
        """Create the folder and take its lock (re-entrant in one process); refuse if another process holds it."""
        key = self.path.resolve()
        if key in _HELD:
            _HELD[key][1] += 1
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ErrboundError(os_error_message(exc, "create the run folder", "pass another --out")) from None
        try:
            self._lock(fd)
            holder = f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}: " \
                     + " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:300]
            os.ftruncate(fd, 0)
            os.pwrite(fd, (holder + "\n").encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        _HELD[key] = [fd, 1]
        self.clean_temp_files()

    def _lock(self, fd: int) -> None:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except OSError as exc:  # flock unsupported here: fall back to the recorded pid
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            pid = self._holder_pid(fd)
            if pid is None or pid == os.getpid() or not _pid_alive(pid):
                return  # stale: the recorded holder is gone
        raise ErrboundError(
            f"run folder {self.path} is in use by another process ({self._holder(fd)}); wait for it to finish, "
            "stop it, or pass another --out"
        )

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            text = os.pread(fd, 1000, 0).decode(errors="replace").strip()
        except OSError:
            text = ""
        return text or "holder unknown"

    def _holder_pid(self, fd: int) -> int | None:
        words = self._holder(fd).split()
        return int(words[1]) if len(words) > 1 and words[0] == "pid" and words[1].isdigit() else None

    def release(self) -> None:
        """Drop one level of the lock taken by :meth:`acquire`; the last release cleans temp files and unlocks."""
        key = self.path.resolve()
        entry = _HELD.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _HELD[key]
        try:
            self.clean_temp_files()
        finally:
            os.close(entry[0])  # closing the descriptor releases the flock

    def __enter__(self) -> "RunFolder":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    # -- files ---------------------------------------------------------------------------------------------
    def clean_temp_files(self) -> list[Path]:
        """Remove ``.NAME.*`` temporary files of this folder's run files (left by a killed writer)."""
        return remove_atomic_leftovers(self.path, lambda n: any(n.startswith(f".{name}.") for name in _RUN_FILES))

    def clear(self) -> None:
        """Remove the run's files (``--overwrite``); the lock must be held."""
        for name in _RUN_FILES:
            (self.path / name).unlink(missing_ok=True)

    def write_text(self, target: Path, text: str, what: str) -> None:
        """Write ``text`` to ``target`` atomically; disk/permission errors become one-line ErrboundErrors."""
        try:
            with atomic_path(target) as tmp:
                tmp.write_text(text)
        except OSError as exc:
            raise ErrboundError(os_error_message(exc, f"write the {what}", "pass another --out", target)) from None

    def write_metrics(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """``metrics.jsonl``: one JSON object per finished epoch (NaN written as NaN: losses can be)."""
        self.write_text(self.metrics, "".join(json.dumps(dict(r), allow_nan=True) + "\n" for r in rows), "metrics")

    def write_json(self, target: Path, data: Any, what: str) -> None:
        self.write_text(target, json.dumps(to_jsonable(data), indent=2, allow_nan=True) + "\n", what)

    def read_config(self) -> dict[str, Any] | None:
        """The saved configuration (``run.json``), None when absent; ErrboundError when unreadable."""
        if not self.config.is_file():
            return None
        try:
            data = json.loads(self.config.read_text())
        except (OSError, ValueError) as exc:
            raise ErrboundError(f"cannot read the run configuration {self.config} ({exc}); start a new run with "
                                "another --out, or --overwrite") from None
        if not isinstance(data, dict) or not isinstance(data.get("options"), dict):
            raise ErrboundError(f"{self.config} is not a run configuration written by errbound train; "
                                "start a new run with another --out, or --overwrite")
        return data
