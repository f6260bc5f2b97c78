"""The one data loader of every command (advise, precision, crossover, train, validate).

Accepted files (samples on a periodic grid, shape ``(N, *grid)`` with 1 <= len(grid) <= 3):

* ``.npy``: one array ``(N, *grid)``;
* ``.npz``: the array under ``key`` (default: ``"x"`` if present, else the only array);
* ``.pt``: the neuraloperator layout ``torch.save({"x": (N, *grid), "y": (N, *grid)})`` (NOTES.md
  section 7); ``key`` picks ``"x"`` (default) or ``"y"``. Needs torch (``pip install 'errbound[train]'``).

Every check raises :class:`~errbound.errors.ErrboundError` naming the file, the problem and the fix:
missing or empty file, unknown suffix, wrong rank, non-numeric or complex values, NaN/inf, a grid too
small for the requested modes, a grid that contradicts the resolution in the file name (``darcy_test_16.pt``
must hold a 16 x ... x 16 grid). Nothing is written.

Conversions and readings that change what the numbers mean are said once per file on stderr
(``errbound: note: ...``): bool and integer arrays become float64 (neuraloperator's Darcy files store the
coefficient ``x`` as ``torch.bool``; False/True read as 0/1, integers exactly up to 2**53); a single 2-D
array is either N samples of a 1-D signal (``sample_axis="0"``) or one 2-D field (``sample_axis="none"``):
a square array needs the choice, a non-square one is read as samples and the note says so.

Pairs for training (:func:`load_xy`): ``{"x": (N, *grid), "y": (N, *grid)}``; a space-time ``y`` of shape
``(N, T, *grid)`` (neuraloperator's Burgers files: ``x`` (N, 16), ``y`` (N, 17, 16)) needs ``target_time``
(``"last"`` or an index along T), which selects ``y[:, t]``. :func:`train_command` turns a data file and the
advisor's train flags into an ``errbound train`` command that runs as printed (the train file that exists, the
sample counts the files hold, ``--target-time`` when needed), with the reason when it differs from the file given.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from errbound.errors import ErrboundError, MissingDependencyError

__all__ = ["load_samples", "validate_samples", "load_xy", "read_array", "resolution_in_name", "train_command",
           "SUFFIXES", "SAMPLE_AXES"]

SUFFIXES = (".npy", ".npz", ".pt")
SAMPLE_AXES = ("0", "none")
_NAME_RES = re.compile(r"^(?P<name>.+)_(?P<split>train|test)_(?P<res>\d+)\.(?:pt|npy|npz)$")
_ANNOUNCED: set[tuple[str, str]] = set()


def _note(path: str, what: str, text: str) -> None:
    """Say ``text`` on stderr once per (file, kind of note) in this process."""
    key = (path, what)
    if key not in _ANNOUNCED:
        _ANNOUNCED.add(key)
        print(f"errbound: note: {text}", file=sys.stderr)


def _check_path(p: Path) -> str:
    if not p.exists():
        raise ErrboundError(f"data file {str(p)!r} does not exist; pass the path of a .npy, .npz or .pt file")
    if p.is_dir():
        raise ErrboundError(f"data path {str(p)!r} is a directory; pass a .npy, .npz or .pt file")
    if p.stat().st_size == 0:
        raise ErrboundError(f"data file {str(p)!r} is empty (0 bytes); regenerate or re-export it")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise ErrboundError(f"data file {str(p)!r} has suffix {suffix or '(none)'!r}; use one of {', '.join(SUFFIXES)}")
    return suffix


def read_array(path: str | os.PathLike[str], key: str | None = None) -> np.ndarray:
    """The raw array stored in ``path`` under ``key`` (module docstring), in its stored dtype (bool kept)."""
    p = Path(path)
    suffix = _check_path(p)
    if suffix == ".npy":
        if key is not None:
            raise ErrboundError(f"--key applies to .npz and .pt files; {str(p)!r} is a single .npy array")
        return np.asarray(_read_npy(p))
    if suffix == ".npz":
        return np.asarray(_read_npz(p, key))
    return _read_pt(p, key)


def to_float(a: np.ndarray, name: str, what: str = "samples") -> np.ndarray:
    """float64 copy of real samples; bool and integer arrays are converted and the conversion said once."""
    if a.dtype == bool:
        _note(name, f"{what}-bool", f"{name}: {what} are bool; read as float (False = 0.0, True = 1.0)")
    elif np.issubdtype(a.dtype, np.integer):
        big = a.size and int(np.max(np.abs(a.astype(np.float64)))) > 2**53
        _note(name, f"{what}-int", f"{name}: {what} are integers ({a.dtype}); read as float64"
              + (" (values above 2**53 rounded)" if big else " (exactly)"))
    elif a.dtype == object or not np.issubdtype(a.dtype, np.number):
        raise ErrboundError(f"{name}: {what} must be real numbers, got dtype {a.dtype}")
    if np.iscomplexobj(a):
        raise ErrboundError(f"{name}: complex {what} are not supported; pass real samples")
    return a.astype(np.float64)


def resolution_in_name(path: str | os.PathLike[str]) -> tuple[str, str, int] | None:
    """``(name, split, res)`` from a file named ``{name}_{train|test}_{res}.{pt,npy,npz}``, else None."""
    m = _NAME_RES.match(Path(path).name)
    return None if m is None else (m["name"], m["split"], int(m["res"]))


def _check_name_resolution(name: str, grid: Sequence[int]) -> None:
    parsed = resolution_in_name(name)
    if parsed is None:
        return
    res = parsed[2]
    if any(int(g) != res for g in grid):
        shown = "x".join(map(str, grid))
        raise ErrboundError(
            f"{name}: the file name says resolution {res} but it holds a {shown} grid; rename it to "
            f"{parsed[0]}_{parsed[1]}_{grid[0]}{Path(name).suffix} (or regenerate it at {res})"
        )


def load_samples(path: str | os.PathLike[str], *, key: str | None = None, dim: int | None = None,
                 modes: int | None = None, sample_axis: str | None = None) -> np.ndarray:
    """Read samples ``(N, *grid)`` as float64 from ``path`` and validate them (see the module docstring).

    ``dim``: expected number of grid axes (None: 1 to 3 accepted); ``modes``: retained modes per axis that
    the grid must support (at least ``2 * modes`` points per axis); ``sample_axis``: the reading of a single
    2-D array, ``"0"`` (rows are samples of a 1-D signal) or ``"none"`` (one 2-D field)."""
    p = Path(path)
    arr = read_array(p, key)
    if sample_axis is not None and sample_axis not in SAMPLE_AXES:
        raise ErrboundError(f"--sample-axis must be one of {', '.join(SAMPLE_AXES)}, got {sample_axis!r}")
    if arr.ndim == 2 and (p.suffix.lower() != ".pt" or sample_axis is not None):
        # a .pt dict follows the neuraloperator layout (N, *grid): not ambiguous unless a reading is given
        if sample_axis == "none":
            arr = arr[None]
            _note(str(p), "axis", f"{p}: read the {arr.shape[1]}x{arr.shape[2]} array as one 2-D field (--sample-axis none)")
        elif sample_axis is None and arr.shape[0] == arr.shape[1]:
            raise ErrboundError(
                f"{p}: a single {arr.shape[0]}x{arr.shape[1]} array is ambiguous; pass --sample-axis none (one 2-D "
                f"field) or --sample-axis 0 ({arr.shape[0]} samples of a {arr.shape[1]}-point 1-D signal)"
            )
        else:
            _note(str(p), "axis", f"{p}: read the {arr.shape[0]}x{arr.shape[1]} array as {arr.shape[0]} samples of a "
                  f"{arr.shape[1]}-point 1-D signal (--sample-axis 0; pass --sample-axis none for one 2-D field)")
    elif sample_axis == "none" and arr.ndim in (1, 3):
        arr = arr[None]
    out = validate_samples(arr, name=str(p), dim=dim, modes=modes)
    if key in (None, "x"):  # the name's resolution is the grid of x (a space-time y has more axes)
        _check_name_resolution(str(p), out.shape[1:])
    return out


def load_xy(path: str | os.PathLike[str], *, n: int | None = None, spatial: Sequence[int] | None = None,
            target_time: str | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read a training pair ``{"x", "y"}`` (.pt dict, or .npz with arrays x and y) as float64 numpy arrays.

    Checks, each naming the file and the fix: both arrays present, same N, ``y`` on the grid of ``x`` (or a
    space-time ``y`` of shape (N, T, *grid) with ``target_time`` = ``"last"`` or an index), the grid equal to
    ``spatial`` when given and to the resolution in the file name, at least ``n`` samples (then the first
    ``n``; None: all), finite values. Bool/int arrays are converted (said once on stderr)."""
    p = Path(path)
    if not p.is_file():
        raise ErrboundError(f"dataset file {p} does not exist: generate it (errbound.data.make_dataset) or pass "
                            f"--data DIR with {p.name}")
    suffix = _check_path(p)
    if suffix == ".npy":
        raise ErrboundError(f"{p}: a .npy file holds one array; training needs x and y: save them as "
                            "torch.save({'x': x, 'y': y}, ...) or np.savez(path, x=x, y=y)")
    x_raw, y_raw = _read_pair(p, suffix)
    x, y = to_float(x_raw, str(p), "x"), to_float(y_raw, str(p), "y")
    if x.ndim < 2 or y.ndim < 2 or x.shape[0] != y.shape[0]:
        raise ErrboundError(f"{p}: x and y must be (N, *spatial) with the same N; got {x.shape} and {y.shape}")
    if y.ndim == x.ndim + 1 and y.shape[2:] == x.shape[1:]:
        if target_time is None:
            raise ErrboundError(
                f"{p}: y {y.shape} is a space-time solution (N, T={y.shape[1]}, *grid) for x {x.shape}; pass "
                "--target-time last to learn the final time y[:, -1] (or --target-time K for step K)"
            )
        t = y.shape[1] - 1 if target_time == "last" else _time_index(target_time, y.shape[1], p)
        y = y[:, t]
    elif target_time is not None:
        raise ErrboundError(f"{p}: --target-time applies to a space-time y (N, T, *grid); this y is {y.shape}, "
                            "drop --target-time")
    if x.shape[1:] != y.shape[1:]:
        raise ErrboundError(f"{p}: x {x.shape} and y {y.shape} are on different grids; both must be (N, *grid)")
    if spatial is not None and tuple(x.shape[1:]) != tuple(int(s) for s in spatial):
        raise ErrboundError(f"{p}: expected spatial shape {tuple(spatial)} for x and y; got {tuple(x.shape[1:])}")
    _check_name_resolution(str(p), x.shape[1:])
    if n is not None:
        if n > x.shape[0]:
            raise ErrboundError(f"{p} holds {x.shape[0]} samples but {n} were requested: pass at most {x.shape[0]} "
                                "(or omit the count to use them all)")
        x, y = x[:n], y[:n]
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ErrboundError(f"{p} contains NaN or inf values: clean or regenerate it")
    zero = int(np.count_nonzero(~np.any(y.reshape(y.shape[0], -1) != 0, axis=1)))
    if zero:
        _note(str(p), "zero-y", f"{p}: {zero} of {y.shape[0]} samples have y identically 0; relative L2/H1 errors "
              "(the trainer's loss and metrics) are infinite for them: drop those samples")
    return x, y


def _time_index(value: str | int, steps: int, p: Path) -> int:
    try:
        t = int(value)
    except (TypeError, ValueError):
        raise ErrboundError(f"--target-time must be 'last' or an integer index, got {value!r}") from None
    if not -steps <= t < steps:
        raise ErrboundError(f"{p}: --target-time {t} is outside the {steps} time steps of y")
    return t % steps


def _peek_y_spacetime(p: Path) -> bool:
    try:
        x, y = _read_pair(p, p.suffix.lower())
    except ErrboundError:
        return False
    return y.ndim == x.ndim + 1 and y.shape[2:] == x.shape[1:]


def train_command(data_path: str | os.PathLike[str], flags: Sequence[str] | None) -> tuple[str | None, str | None]:
    """``(command, reason)``: the ``errbound train`` command for the folder of ``data_path`` with ``flags``.

    ``data_path`` named ``{name}_{train|test}_{res}.pt`` trains on ``{name}_train_{res}.pt`` when it exists;
    otherwise on the train file that exists at the nearest resolution (testing at that resolution and at
    ``res``, zero-shot), and ``reason`` says why. ``--modes`` in ``flags`` is capped at that resolution.
    ``--target-time last`` is added for a space-time ``y``. Sample counts are left to the trainer, which
    uses what the files hold. ``(None, reason)`` when no train file exists or the name has no resolution."""
    p = Path(data_path)
    parsed = resolution_in_name(p)
    if flags is None:
        return None, None
    if parsed is None or p.suffix.lower() != ".pt":
        return None, (f"{p.name} is not named {{name}}_{{train|test}}_{{res}}.pt, so no `errbound train --data` "
                      "command can name it; rename it or pass the flags above")
    name, _, res = parsed
    folder = p.parent
    train_res = res
    reason = None
    if not (folder / f"{name}_train_{res}.pt").is_file():
        found = sorted(int(m["res"]) for f in folder.glob(f"{name}_train_*.pt")
                       if (m := _NAME_RES.match(f.name)) and m["name"] == name)
        if not found:
            return None, (f"no {name}_train_*.pt in {folder}: put the train file there "
                          f"(neuraloperator layout {{'x': (N, *grid), 'y': (N, *grid)}}) to get the train command")
        train_res = min(found, key=lambda r: (abs(r - res), -r))
        reason = (f"no {name}_train_{res}.pt in {folder}; training at {train_res}, the resolution that exists, "
                  f"and testing at {train_res} and {res} (zero-shot)")
    out = list(flags)
    if "--modes" in out:
        i = out.index("--modes") + 1
        out[i] = str(min(int(out[i]), train_res))
    cmd = ["errbound", "train", "--data", str(folder) if str(folder) else ".", "--dataset", name, "--res",
           str(train_res)]
    if train_res != res:
        cmd += ["--test-res", f"{train_res},{res}"]
    if _peek_y_spacetime(folder / f"{name}_train_{train_res}.pt"):
        cmd += ["--target-time", "last"]
    return " ".join([*cmd, *out]), reason


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


def _load_pt(p: Path) -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError("torch", "train", "needed to read .pt files; or convert the data to .npy") from exc
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise ErrboundError(
            f"cannot read {str(p)!r} as a torch .pt file of tensors (loaded with weights_only=True, so only tensors, "
            f"dicts, lists and numbers are accepted): {type(exc).__name__}: {first}"
        ) from exc


def _tensor_array(obj: Any, p: Path, key: str | None) -> np.ndarray:
    import torch

    if not isinstance(obj, torch.Tensor):
        raise ErrboundError(f"{str(p)!r}: {key!r} must be a tensor (x and y must be tensors), got {type(obj).__name__}")
    t = obj.detach().cpu()
    if t.is_complex():
        raise ErrboundError(f"{str(p)!r}: complex tensors are not supported; pass real samples")
    if t.is_floating_point():
        return t.to(torch.float64).numpy()
    return t.numpy()  # bool / integer: converted (and said) by to_float


def _read_pt(p: Path, key: str | None) -> Any:
    obj = _load_pt(p)
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
    return _tensor_array(obj, p, key)


def _read_pair(p: Path, suffix: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``(x, y)`` of a .pt dict or an .npz archive."""
    if suffix == ".npz":
        return np.asarray(_read_npz(p, "x")), np.asarray(_read_npz(p, "y"))
    obj = _load_pt(p)
    if not isinstance(obj, dict) or "x" not in obj or "y" not in obj:
        keys = sorted(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__
        raise ErrboundError(f"{p} must hold a dict with keys 'x' and 'y' (the neuraloperator .pt layout); found {keys}")
    return _tensor_array(obj["x"], p, "x"), _tensor_array(obj["y"], p, "y")


def validate_samples(arr: Any, *, name: str = "data", dim: int | None = None, modes: int | None = None) -> np.ndarray:
    """Check an array of samples ``(N, *grid)`` and return it as float64 (see :func:`load_samples`;
    bool and integer samples are converted, said once on stderr)."""
    a = np.asarray(arr)
    if a.dtype == object or not (a.dtype == bool or np.issubdtype(a.dtype, np.number)):
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
    a = to_float(a, name)
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
