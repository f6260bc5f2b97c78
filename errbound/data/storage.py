"""On-disk layout of datasets: the .pt files read by neuraloperator's loaders.

One file per split and resolution, ``{name}_{train|test}_{res}.pt``, holding
``torch.save({"x": x, "y": y})`` with ``x`` and ``y`` float32 tensors of shape (N, *spatial) (no
channel axis). Files are written atomically (:func:`errbound.results.atomic_path`). A generated
dataset lives in its own folder under the cache (default ``~/.cache/errbound/data``, or the
environment variable ``ERRBOUND_DATA``) together with ``meta.json`` (parameters, provenance, and the size
and SHA-256 of every file: :func:`file_record`, checked by :func:`verify_files` before a cached file is
used, so a truncated or damaged file is regenerated instead of failing every later run). Writers of a
cache folder hold :func:`folder_lock`; the holder removes temporary files left by a killed writer
(:func:`clean_temp_files`). torch is needed only to read and write the files (``pip install 'errbound[train]'``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from errbound.errors import ErrboundError, MissingDependencyError
from errbound.results import atomic_path, remove_atomic_leftovers

__all__ = ["SPLITS", "default_cache_dir", "dataset_filename", "save_pair", "load_pair", "load_split", "file_record",
           "verify_files", "clean_temp_files", "folder_lock"]

SPLITS = ("train", "test")


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is installed in the test environment
        raise MissingDependencyError("torch", "train", "needed to read and write .pt datasets") from exc
    return torch


def default_cache_dir() -> Path:
    """``$ERRBOUND_DATA`` when set, else ``~/.cache/errbound/data``."""
    env = os.environ.get("ERRBOUND_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "errbound" / "data"


def dataset_filename(name: str, split: str, res: int) -> str:
    """``{name}_{split}_{res}.pt`` (split is 'train' or 'test')."""
    if split not in SPLITS:
        raise ErrboundError(f"split={split!r} is invalid: pass one of {', '.join(SPLITS)}")
    if isinstance(res, bool) or not isinstance(res, int) or res < 1:
        raise ErrboundError(f"res={res!r} is invalid: pass a positive integer")
    return f"{name}_{split}_{res}.pt"


def save_pair(path: str | os.PathLike[str], x: Any, y: Any) -> Path:
    """Save ``{"x": x, "y": y}`` (numpy arrays or tensors, same leading size) as float32 atomically."""
    torch = _torch()
    x_t = torch.as_tensor(x).detach().to("cpu", torch.float32).contiguous()
    y_t = torch.as_tensor(y).detach().to("cpu", torch.float32).contiguous()
    if x_t.ndim < 2 or y_t.ndim < 2 or x_t.shape[0] != y_t.shape[0]:
        raise ErrboundError(
            f"x and y must have shapes (N, *spatial) with the same N; got {tuple(x_t.shape)} and {tuple(y_t.shape)}"
        )
    if not (torch.isfinite(x_t).all() and torch.isfinite(y_t).all()):
        raise ErrboundError(f"refusing to save non-finite values to {path}: the generator produced NaN or inf")
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            torch.save({"x": x_t, "y": y_t}, tmp)
    except (OSError, RuntimeError) as exc:  # torch's zip writer reports a full disk as a RuntimeError
        import shutil

        need = x_t.nbytes + y_t.nbytes
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = None
        reason = (f"No space left on device ({free} bytes free, {need} needed)" if free is not None and free < need
                  else (getattr(exc, "strerror", None) or (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]))
        raise ErrboundError(f"cannot write the dataset file {path}: {reason}; free disk space, or pass --cache-dir DIR "
                            "(or set ERRBOUND_DATA) on a disk with room") from None
    return path


def load_pair(
    path: str | os.PathLike[str], *, spatial: Sequence[int] | None = None, n: int | None = None,
    target_time: str | int | None = None,
) -> tuple[Any, Any]:
    """Load and validate a ``{"x", "y"}`` .pt file; return float32 tensors (x, y).

    Reading and every check is :func:`errbound.data_io.load_xy` (the one loader of all commands): the file
    exists and holds ``x`` and ``y`` (N, *spatial) with the same N (bool/int converted, said once), optional
    expected ``spatial`` shape and the resolution in the file name, at least ``n`` samples (then the first
    ``n``; None: all), no NaN or inf; a space-time ``y`` (N, T, *spatial) needs ``target_time``.
    """
    from errbound.data_io import load_xy

    torch = _torch()
    x, y = load_xy(path, n=n, spatial=spatial, target_time=target_time)
    return torch.from_numpy(x).to(torch.float32), torch.from_numpy(y).to(torch.float32)


def load_split(
    folder: str | os.PathLike[str], name: str, split: str, res: int, *, dim: int | None = None, n: int | None = None
) -> tuple[Any, Any]:
    """Load ``folder/{name}_{split}_{res}.pt``; with ``dim`` the spatial shape must be (res,)*dim."""
    path = Path(folder) / dataset_filename(name, split, res)
    spatial = None if dim is None else (res,) * dim
    return load_pair(path, spatial=spatial, n=n)


def file_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"bytes": size, "sha256": hex digest}`` of a file (read in 1 MiB chunks)."""
    path = Path(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def verify_files(folder: str | os.PathLike[str], records: Any) -> str | None:
    """None when every file of ``records`` (name -> :func:`file_record`) is in ``folder`` with its recorded
    size and checksum; otherwise the first problem found, in words."""
    if not isinstance(records, Mapping) or not records:
        return "the metadata records no file sizes and checksums"
    for name, record in records.items():
        path = Path(folder) / str(name)
        if not isinstance(record, Mapping) or "bytes" not in record or "sha256" not in record:
            return f"the metadata of {name} has no size and checksum"
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != record["bytes"]:
            return f"{name} has {size} bytes, {record['bytes']} expected (truncated or replaced)"
        if file_record(path)["sha256"] != record["sha256"]:
            return f"{name} does not match its recorded SHA-256 (damaged)"
    return None


def clean_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of atomic writes (``.NAME.*``) left in ``folder`` by a killed writer.

    Call it only while holding :func:`folder_lock`: a live writer's temporary file would be removed too.
    """
    return remove_atomic_leftovers(folder, lambda name: name.startswith(".") and name != ".lock"
                                   and (name.endswith(".pt") or name.startswith(".meta.json.")))
    for child in folder.iterdir():
        if child.name.startswith(".") and child.name != ".lock" and child.is_file() \
                and (child.name.endswith(".pt") or child.name.startswith(".meta.json.")):
            try:
                child.unlink()
                removed.append(child)
            except FileNotFoundError:
                pass
    return removed


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive ``flock`` on ``folder/.lock`` (created with the folder), waiting for another holder.

    The kernel releases the lock when its holder exits, even by ``kill -9``. Disk and permission errors
    become an :class:`ErrboundError` naming the folder and the fix.
    """
    import fcntl

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ErrboundError(
            f"cannot create the dataset cache folder {exc.filename or folder}: {exc.strerror or exc}; pass --cache-dir "
            "DIR or set ERRBOUND_DATA to a writable folder"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # no flock on this file system: proceed unlocked (writes stay atomic)
            pass
        yield folder
    finally:
        os.close(fd)
