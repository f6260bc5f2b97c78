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
    path: str | os.PathLike[str], *, spatial: Sequence[int] | None = None, n: int | None = None
) -> tuple[Any, Any]:
    """Load and validate a ``{"x", "y"}`` .pt file; return float32 tensors (x, y).

    Checks: the file exists and is a torch file holding a dict with tensors under "x" and "y"
    (other keys are ignored), both (N, *spatial) with the same N, optional expected ``spatial``
    shape, at least ``n`` samples (then the first ``n`` are returned), and no NaN or inf.
    """
    torch = _torch()
    path = Path(path)
    if not path.is_file():
        raise ErrboundError(f"dataset file {path} does not exist: generate it (errbound.data.make_dataset) or pass --data DIR with {path.name}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise ErrboundError(
            f"cannot read {path} as a torch .pt file of tensors (loaded with weights_only=True, so only tensors, "
            f"dicts, lists and numbers are accepted): {type(exc).__name__}: {first}"
        ) from exc
    if not isinstance(data, dict) or "x" not in data or "y" not in data:
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ErrboundError(f"{path} must hold a dict with keys 'x' and 'y' (the neuraloperator .pt layout); found {keys}")
    x, y = data["x"], data["y"]
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise ErrboundError(f"{path}: 'x' and 'y' must be tensors; found {type(x).__name__} and {type(y).__name__}")
    if x.ndim < 2 or y.ndim < 2 or x.shape[0] != y.shape[0]:
        raise ErrboundError(f"{path}: x and y must be (N, *spatial) with the same N; got {tuple(x.shape)} and {tuple(y.shape)}")
    if spatial is not None:
        want = tuple(int(s) for s in spatial)
        if tuple(x.shape[1:]) != want or tuple(y.shape[1:]) != want:
            raise ErrboundError(
                f"{path}: expected spatial shape {want} for x and y; got {tuple(x.shape[1:])} and {tuple(y.shape[1:])}"
            )
    if n is not None:
        if n > x.shape[0]:
            raise ErrboundError(f"{path} holds {x.shape[0]} samples but {n} were requested: pass at most {x.shape[0]}")
        x, y = x[:n], y[:n]
    if not x.is_floating_point() or not y.is_floating_point():
        raise ErrboundError(f"{path}: x and y must be floating-point tensors; got {x.dtype} and {y.dtype}")
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise ErrboundError(f"{path} contains NaN or inf values: regenerate it")
    return x.to(torch.float32), y.to(torch.float32)


def load_split(
    folder: str | os.PathLike[str], name: str, split: str, res: int, *, dim: int | None = None, n: int | None = None
) -> tuple[Any, Any]:
    """Load ``folder/{name}_{split}_{res}.pt``; with ``dim`` the spatial shape must be (res,)*dim."""
    path = Path(folder) / dataset_filename(name, split, res)
    spatial = None if dim is None else (res,) * dim
    return load_pair(path, spatial=spatial, n=n)
