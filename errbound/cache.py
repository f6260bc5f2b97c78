"""On-disk cache of exact references (per-mode discretization errors).

Folder: ``--cache DIR`` / ``cache=`` argument, else ``$ERRBOUND_CACHE``, else ``$XDG_CACHE_HOME/errbound``,
else ``~/.cache/errbound``. One ``.npz`` file per (function, resolution, modes, method, digits), named by
the SHA-256 of that key; written atomically (temporary file + rename), so concurrent writers and
interrupted runs never leave a half-written entry. A file that cannot be read is treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from errbound.results import atomic_path

__all__ = ["default_cache_dir", "ReferenceCache", "CACHE_VERSION"]

#: bump when the stored content or its meaning changes
CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """$ERRBOUND_CACHE, else $XDG_CACHE_HOME/errbound, else ~/.cache/errbound."""
    env = os.environ.get("ERRBOUND_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "errbound"
    return Path.home() / ".cache" / "errbound"


class ReferenceCache:
    """Arrays keyed by a JSON-able dict. ``ReferenceCache(None)`` uses the default folder;
    ``ReferenceCache(False)`` disables caching (every lookup misses, nothing is written)."""

    def __init__(self, directory: str | os.PathLike[str] | None | bool = None) -> None:
        if directory is False:
            self.directory: Path | None = None
        elif directory is None or directory is True:
            self.directory = default_cache_dir()
        else:
            self.directory = Path(directory).expanduser()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    @staticmethod
    def digest(key: dict[str, Any]) -> str:
        text = json.dumps({"version": CACHE_VERSION, **key}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def path(self, key: dict[str, Any]) -> Path | None:
        if self.directory is None:
            return None
        digest = self.digest(key)
        return self.directory / "references" / digest[:2] / f"{digest}.npz"

    def load(self, key: dict[str, Any]) -> dict[str, np.ndarray] | None:
        path = self.path(key)
        if path is None or not path.exists():
            self.misses += 1
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                out = {name: data[name] for name in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError):
            self.misses += 1
            return None
        self.hits += 1
        return out

    def store(self, key: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path | None:
        path = self.path(key)
        if path is None:
            return None
        meta = np.array(json.dumps({"version": CACHE_VERSION, **key}, sort_keys=True, default=str))
        try:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, _key=meta, **arrays)
        except OSError:
            return None  # a read-only or full cache folder must not break a computation
        return path
