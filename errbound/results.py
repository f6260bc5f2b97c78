"""Provenance and atomic writes for every results file errbound produces.

Every JSON document written by errbound carries :func:`provenance`: the package and library
versions, the git commit of the working tree (when there is one), the command line, the date
(UTC, ISO 8601), the host's CPU count and the compute device. Files are written atomically:
content goes to a temporary file in the same folder, is flushed and fsynced, then renamed over the
target, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

__all__ = ["provenance", "write_json_atomic", "atomic_path", "remove_atomic_leftovers", "git_commit", "to_jsonable"]


def git_commit(path: str | os.PathLike[str] | None = None) -> str | None:
    """Return the git commit hash (with ``-dirty`` when tracked files other than the run outputs under
    ``paper_repro/results/`` and ``figures/`` have uncommitted changes) or None."""
    cwd = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(  # outputs a run writes itself (results, figures) do not make the code dirty
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)",
             ":(top,exclude)paper_repro/results", ":(top,exclude)figures"],
            cwd=cwd, capture_output=True, text=True, timeout=10,
        )
        suffix = "-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else ""
        return head.stdout.strip() + suffix
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str | None]:
    """Versions of errbound and its main libraries, read from package metadata (no imports)."""
    from importlib import metadata

    from errbound import __version__

    versions: dict[str, str | None] = {"python": platform.python_version(), "errbound": __version__}
    for name in ("numpy", "scipy", "mpmath", "sympy", "matplotlib", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    torch = sys.modules.get("torch")
    if torch is not None:
        versions["cuda"] = getattr(torch.version, "cuda", None)
    return versions


def _device() -> str:
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return torch.cuda.get_device_name(0)
        except Exception:  # noqa: BLE001 - device probing must never break a results file
            pass
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def provenance(command: list[str] | None = None) -> dict[str, Any]:
    """Metadata recorded in every results file: versions, commit, command, date, device."""
    return {
        "versions": _versions(),
        "commit": git_commit(),
        "command": " ".join(command if command is not None else sys.argv),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "device": _device(),
        "platform": platform.platform(),
    }


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, Paths and dataclasses into plain JSON types.

    Non-finite floats become the strings "inf", "-inf", "nan" so the output stays strict JSON.
    """
    import dataclasses
    import math

    import numpy as np

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(obj, Path):
        return str(obj)
    return obj


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success.

    Use for writers that need a file name (matplotlib ``savefig``, ``torch.save``, ``np.save``).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp_path, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def remove_atomic_leftovers(folder: str | os.PathLike[str], is_leftover) -> list[Path]:  # type: ignore[no-untyped-def]
    """Remove the files of ``folder`` for which ``is_leftover(name)`` holds: the ``.NAME.*`` temporaries that
    :func:`atomic_path` leaves behind when its writer is killed. Call it only while no writer is live (hold the
    folder's lock): a live writer's temporary file would be removed too. Returns the removed paths."""
    removed: list[Path] = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for child in folder.iterdir():
        if child.is_file() and is_leftover(child.name):
            try:
                child.unlink()
                removed.append(child)
            except FileNotFoundError:  # another cleaner was first
                pass
    return removed


def write_json_atomic(target: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented strict JSON to ``target`` atomically; return the path."""
    target = Path(target)
    text = json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n"
    with atomic_path(target) as tmp:
        tmp.write_text(text)
    return target
