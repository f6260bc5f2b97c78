"""On-disk layout of datasets: the .pt files read by neuraloperator's loaders.

One file per split and resolution, ``{name}_{train|test}_{res}.pt``, holding
``torch.save({"x": x, "y": y})`` with ``x`` and ``y`` float32 tensors of shape (N, *spatial) (no
channel axis). Files are written atomically (:func:`errbound.results.atomic_path`). A generated
dataset lives in its own folder under the cache (default ``~/.cache/errbound/data``, or the
environment variable ``ERRBOUND_DATA``) together with ``meta.json`` (parameters and provenance).
torch is needed only to read and write the files (``pip install 'errbound[train]'``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from errbound.errors import ErrboundError, MissingDependencyError
from errbound.results import atomic_path

__all__ = ["SPLITS", "default_cache_dir", "dataset_filename", "save_pair", "load_pair", "load_split"]

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
    with atomic_path(path) as tmp:
        torch.save({"x": x_t, "y": y_t}, tmp)
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
