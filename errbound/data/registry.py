"""Dataset catalogue and the one entry point :func:`make_dataset` (generate once, cache, reuse).

Each dataset module (``errbound.data.darcy``, ``.navier_stokes``, ``.burgers``) exposes
``generate(n, resolutions, *, seed, stream, fine_res, params, device) -> {res: (x, y)}`` and
``default_fine_res(resolutions) -> int``. The registry imports a module only when it is used, so
``import errbound.data`` needs neither torch nor scipy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from errbound.errors import ErrboundError
from errbound.data.storage import (clean_temp_files, dataset_filename, default_cache_dir, file_record, folder_lock,
                                   load_pair, save_pair, verify_files)

__all__ = ["DatasetSpec", "DatasetFiles", "DATASETS", "dataset_names", "get_dataset", "make_dataset"]

#: Bumped whenever a generator changes its output for the same arguments (invalidates caches).
RECIPE_VERSION = 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class DatasetSpec:
    """A dataset recipe: its name, spatial dimension, defaults and generator module.

    ``defaults`` are the physical parameters accepted by ``make_dataset(params=...)``;
    ``min_res`` is the smallest resolution the recipe supports; ``exact_upsampling`` is True when
    outputs are trigonometric polynomials evaluated exactly at any grid, so a solver grid coarser
    than an output resolution is allowed (periodic spectral datasets).
    """

    name: str
    dim: int
    description: str
    module: str
    defaults: Mapping[str, float]
    min_res: int
    exact_upsampling: bool = False

    def __post_init__(self) -> None:
        if self.dim not in (1, 2, 3):
            raise ValueError(f"DatasetSpec {self.name}: dim must be 1, 2 or 3")
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    def _module(self) -> Any:
        return importlib.import_module(self.module)

    def generator(self) -> Callable[..., dict[int, tuple[Any, Any]]]:
        """The module's ``generate`` function (imports the module)."""
        return self._module().generate

    def default_fine_res(self, resolutions: Sequence[int]) -> int:
        """Solver grid used when ``fine_res`` is not given (see docs/data.md for the rule)."""
        return int(self._module().default_fine_res(tuple(resolutions)))

    def resolve_params(self, params: Mapping[str, float] | None) -> dict[str, float]:
        """Defaults updated by ``params``; unknown names raise ErrboundError listing the valid ones."""
        merged = dict(self.defaults)
        for key, value in (params or {}).items():
            if key not in self.defaults:
                raise ErrboundError(
                    f"unknown parameter {key!r} for dataset {self.name!r}: valid parameters are {', '.join(sorted(self.defaults))}"
                )
            try:
                merged[key] = float(value)
            except (TypeError, ValueError) as exc:
                raise ErrboundError(f"parameter {key}={value!r} for dataset {self.name!r} must be a number") from exc
        return merged


DATASETS: Mapping[str, DatasetSpec] = MappingProxyType({
    "darcy": DatasetSpec(
        name="darcy", dim=2, module="errbound.data.darcy", min_res=5,
        description="2-D Darcy flow -div(a grad u) = 1 on (0,1)^2, u = 0 on the boundary; x = a (12/3 thresholded Neumann GRF), y = u",
        defaults={"alpha": 2.0, "tau": 3.0, "a_high": 12.0, "a_low": 3.0, "forcing": 1.0},
    ),
    "navier_stokes": DatasetSpec(
        name="navier_stokes", dim=2, module="errbound.data.navier_stokes", min_res=8, exact_upsampling=True,
        description="2-D incompressible Navier-Stokes vorticity on T^2; x = w(0) (GRF), y = w(T)",
        defaults={"nu": 1e-3, "T": 1.0, "dt": 1e-3, "alpha": 2.5, "tau": 7.0, "sigma": 7.0**1.5},
    ),
    "burgers": DatasetSpec(
        name="burgers", dim=1, module="errbound.data.burgers", min_res=8, exact_upsampling=True,
        description="1-D viscous Burgers u_t + (u^2/2)_x = nu u_xx on the periodic unit interval; x = u(0) (GRF), y = u(T)",
        defaults={"nu": 0.1, "T": 1.0, "alpha": 2.0, "tau": 5.0, "sigma": 25.0, "cfl": 0.5},
    ),
})


def dataset_names() -> tuple[str, ...]:
    """Registered dataset names."""
    return tuple(DATASETS)


def get_dataset(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` called ``name``; ErrboundError listing the names otherwise."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise ErrboundError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}") from None


@dataclasses.dataclass(frozen=True, kw_only=True)
class DatasetFiles:
    """Where a generated dataset lives, and loaders for its splits.

    ``folder`` holds ``{name}_train_{res}.pt``, ``{name}_test_{r}.pt`` for each r in ``test_res``,
    and ``meta.json``; pass ``folder`` as the trainer's ``--data DIR``.
    """

    name: str
    folder: Path
    res: int
    test_res: tuple[int, ...]
    n_train: int
    n_test: int
    dim: int
    generated: bool  # True when this call generated the files, False when they came from the cache

    @property
    def train_path(self) -> Path:
        return self.folder / dataset_filename(self.name, "train", self.res)

    @property
    def test_paths(self) -> dict[int, Path]:
        return {r: self.folder / dataset_filename(self.name, "test", r) for r in self.test_res}

    def load_train(self) -> tuple[Any, Any]:
        """(x, y) float32 torch tensors of shape (n_train, res, ...)."""
        return load_pair(self.train_path, spatial=(self.res,) * self.dim, n=self.n_train)

    def load_test(self, res: int | None = None) -> tuple[Any, Any]:
        """(x, y) float32 torch tensors of the test split at ``res`` (default: the training res)."""
        res = self.res if res is None else res
        if res not in self.test_res:
            raise ErrboundError(f"no test split at res={res}: available test resolutions are {list(self.test_res)}")
        return load_pair(self.test_paths[res], spatial=(res,) * self.dim, n=self.n_test)


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ErrboundError(f"{name}={value!r} is invalid: pass an integer >= {minimum}")
    return value


def _canonical_test_res(test_res: int | Sequence[int] | None, res: int) -> tuple[int, ...]:
    if test_res is None:
        return (res,)
    if isinstance(test_res, int):
        return (test_res,)
    values = tuple(test_res)
    if not values:
        raise ErrboundError("test_res is empty: pass one or more resolutions, or None for the training resolution")
    return tuple(dict.fromkeys(values))


def make_dataset(
    name: str,
    res: int,
    n_train: int,
    n_test: int,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    test_res: int | Sequence[int] | None = None,
    device: str = "cpu",
    *,
    params: Mapping[str, float] | None = None,
    fine_res: int | None = None,
    overwrite: bool = False,
) -> DatasetFiles:
    """Generate (or reuse from the cache) a dataset and return its :class:`DatasetFiles`.

    The train split has ``n_train`` samples at ``res``; the test split has ``n_test`` samples
    evaluated at every resolution in ``test_res`` (default ``(res,)``): the same functions at each
    resolution, for zero-shot super-resolution. All splits are computed on one solver grid
    ``fine_res`` (default: the dataset's rule in docs/data.md) and sampled down to each resolution
    (periodic datasets also accept ``fine_res`` below a resolution: exact evaluation of the computed
    Fourier series; Darcy needs ``fine_res`` >= every resolution).
    Deterministic in (name, params, seed, fine_res): sample i of a split depends only on those and
    i. ``device`` ("cpu", "cuda", "cuda:0") is used by the torch solver (navier_stokes); the numpy
    solvers ignore it. Files already in the cache with matching metadata are reused unless
    ``overwrite``.
    """
    spec = get_dataset(name)
    res = _check_int("res", res, spec.min_res)
    n_train = _check_int("n_train", n_train, 1)
    n_test = _check_int("n_test", n_test, 1)
    seed = _check_int("seed", seed, 0)
    tres = _canonical_test_res(test_res, res)
    for r in tres:
        _check_int("test_res", r, spec.min_res)
    if not isinstance(device, str) or not device:
        raise ErrboundError(f"device={device!r} is invalid: pass 'cpu' or 'cuda'")
    resolved = spec.resolve_params(params)
    all_res = tuple(sorted({res, *tres}))
    if fine_res is None:
        fine_res = spec.default_fine_res(all_res)
    fine_res = _check_int("fine_res", fine_res, spec.min_res if spec.exact_upsampling else max(all_res))

    key = {
        "recipe_version": RECIPE_VERSION, "name": name, "params": resolved, "seed": seed, "fine_res": fine_res,
        "res": res, "test_res": list(tres), "n_train": n_train, "n_test": n_test,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    folder = root / f"{name}_r{res}_n{n_train}-{n_test}_s{seed}_{digest}"
    files = DatasetFiles(name=name, folder=folder, res=res, test_res=tres, n_train=n_train, n_test=n_test,
                         dim=spec.dim, generated=False)
    meta_path = folder / "meta.json"
    created = not folder.exists()
    try:
        with folder_lock(folder):  # one writer per cache entry; the holder may clean what a killed writer left
            clean_temp_files(folder)
            if not overwrite and _cache_complete(files, meta_path, key):
                return files
            return _generate(spec, files, meta_path, key, resolved, fine_res, device)
    except BaseException:
        if created:  # leave no empty cache entry behind a failed generation
            (folder / ".lock").unlink(missing_ok=True)
            try:
                folder.rmdir()
            except OSError:
                pass
        raise


def _generate(spec: DatasetSpec, files: DatasetFiles, meta_path: Path, key: Mapping[str, Any],
              resolved: Mapping[str, float], fine_res: int, device: str) -> DatasetFiles:
    name, res, seed = files.name, files.res, int(key["seed"])
    generate = spec.generator()
    train = generate(files.n_train, (res,), seed=seed, stream=0, fine_res=fine_res, params=resolved, device=device)
    save_pair(files.train_path, *train[res])
    del train
    test = generate(files.n_test, files.test_res, seed=seed, stream=1, fine_res=fine_res, params=resolved, device=device)
    for r, path in files.test_paths.items():
        save_pair(path, *test[r])
    from errbound.results import provenance, write_json_atomic

    records = {p.name: file_record(p) for p in (files.train_path, *files.test_paths.values())}
    write_json_atomic(meta_path, {"key": key, "dim": spec.dim, "description": spec.description, "name": name,
                                  "files": records, "provenance": provenance()})
    return dataclasses.replace(files, generated=True)


def _cache_complete(files: DatasetFiles, meta_path: Path, key: Mapping[str, Any]) -> bool:
    if not meta_path.is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if meta.get("key") != json.loads(json.dumps(key)):
        return False
    problem = verify_files(files.folder, meta.get("files"))
    if problem is not None:
        from errbound.progress import note

        note(f"dataset cache {files.folder}: {problem}; regenerating")
        return False
    return True
