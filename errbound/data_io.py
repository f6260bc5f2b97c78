"""Load user data for the precision and crossover tools.

Accepted files (samples on a periodic grid, shape ``(N, *grid)`` with 1 <= len(grid) <= 3):

* ``.npy``: one array ``(N, *grid)``;
* ``.npz``: the array under ``key`` (default: ``"x"`` if present, else the only array);
* ``.pt``: the neuraloperator layout ``torch.save({"x": (N, *grid), "y": (N, *grid)})`` (NOTES.md
  section 7); ``key`` picks ``"x"`` (default) or ``"y"``. Needs torch (``pip install 'errbound[train]'``).

Every check raises :class:`~errbound.errors.ErrboundError` naming the file, the problem and the fix:
missing or empty file, unknown suffix, wrong rank, non-numeric or complex values, NaN/inf, a grid too
small for the requested modes. Nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from errbound.errors import ErrboundError, MissingDependencyError

__all__ = ["load_samples", "validate_samples", "SUFFIXES"]

SUFFIXES = (".npy", ".npz", ".pt")


def load_samples(path: str | os.PathLike[str], *, key: str | None = None, dim: int | None = None,
                 modes: int | None = None) -> np.ndarray:
    """Read samples ``(N, *grid)`` as float64 from ``path`` and validate them (see the module docstring).

    ``dim``: expected number of grid axes (None: 1 to 3 accepted); ``modes``: retained modes per axis that
    the grid must support (at least ``2 * modes`` points per axis)."""
    p = Path(path)
    if not p.exists():
        raise ErrboundError(f"data file {str(p)!r} does not exist; pass the path of a .npy, .npz or .pt file")
    if p.is_dir():
        raise ErrboundError(f"data path {str(p)!r} is a directory; pass a .npy, .npz or .pt file")
    if p.stat().st_size == 0:
        raise ErrboundError(f"data file {str(p)!r} is empty (0 bytes); regenerate or re-export it")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise ErrboundError(f"data file {str(p)!r} has suffix {suffix or '(none)'!r}; use one of {', '.join(SUFFIXES)}")
    if suffix == ".npy":
        arr = _read_npy(p)
        if key is not None:
            raise ErrboundError(f"--key applies to .npz and .pt files; {str(p)!r} is a single .npy array")
    elif suffix == ".npz":
        arr = _read_npz(p, key)
    else:
        arr = _read_pt(p, key)
    return validate_samples(arr, name=str(p), dim=dim, modes=modes)


def _read_npy(p: Path) -> Any:
    try:
        return np.load(p, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise ErrboundError(f"cannot read {str(p)!r} as a .npy array ({type(exc).__name__}: {exc})") from exc


def _read_npz(p: Path, key: str | None) -> Any:
    try:
        with np.load(p, allow_pickle=False) as z:
            names = list(z.files)
            if not names:
                raise ErrboundError(f"{str(p)!r} holds no arrays; save the samples with np.savez(path, x=samples)")
            if key is None:
                key = "x" if "x" in names else (names[0] if len(names) == 1 else None)
                if key is None:
                    raise ErrboundError(f"{str(p)!r} holds arrays {names}; choose one with --key")
            if key not in names:
                raise ErrboundError(f"{str(p)!r} has no array {key!r}; it holds {names}")
            return z[key]
    except ErrboundError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ErrboundError(f"cannot read {str(p)!r} as a .npz archive ({type(exc).__name__}: {exc})") from exc


def _read_pt(p: Path, key: str | None) -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError("torch", "train", "needed to read .pt files; or convert the data to .npy") from exc
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise ErrboundError(f"cannot read {str(p)!r} as a torch file ({type(exc).__name__}: {exc})") from exc
    if isinstance(obj, dict):
        key = "x" if key is None else key
        if key not in obj:
            raise ErrboundError(
                f"{str(p)!r} holds keys {sorted(map(str, obj))}, not {key!r}; the expected layout is "
                "{'x': (N, *grid), 'y': (N, *grid)}"
            )
        obj = obj[key]
    elif key is not None:
        raise ErrboundError(f"{str(p)!r} holds a single tensor, not a dict; drop --key")
    if not hasattr(obj, "detach"):
        raise ErrboundError(f"{str(p)!r}: expected a tensor under {key!r}, got {type(obj).__name__}")
    t = obj.detach().cpu()
    if t.is_complex():
        raise ErrboundError(f"{str(p)!r}: complex tensors are not supported; pass real samples")
    return t.to(torch.float64).numpy()


def validate_samples(arr: Any, *, name: str = "data", dim: int | None = None, modes: int | None = None) -> np.ndarray:
    """Check an array of samples ``(N, *grid)`` and return it as float64 (see :func:`load_samples`)."""
    a = np.asarray(arr)
    if a.dtype == object or a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise ErrboundError(f"{name}: samples must be real numbers, got dtype {a.dtype}")
    if np.iscomplexobj(a):
        raise ErrboundError(f"{name}: complex samples are not supported; pass real samples")
    if a.size == 0:
        raise ErrboundError(f"{name}: no samples (shape {a.shape}); the file holds an empty array")
    if a.ndim < 2 or a.ndim > 4:
        raise ErrboundError(
            f"{name}: samples must have shape (N, *grid) with 1 to 3 grid axes, got rank {a.ndim} (shape {a.shape}); "
            "add a leading sample axis for a single field (x[None])"
        )
    grid_dim = a.ndim - 1
    if dim is not None and grid_dim != dim:
        raise ErrboundError(f"{name}: expected {dim} grid axes (shape (N, *grid)), got shape {a.shape} ({grid_dim} grid axes)")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ErrboundError(
            f"{name}: {int(bad.sum())} NaN/inf value(s), first at index {first}; clean or mask the data first"
        )
    if modes is not None:
        small = [g for g in a.shape[1:] if g < 2 * modes]
        if small:
            raise ErrboundError(
                f"{name}: grid {a.shape[1:]} is too small for {modes} modes (needs at least {2 * modes} points per "
                f"axis); pass --modes {min(a.shape[1:]) // 2} or finer data"
            )
    return a
