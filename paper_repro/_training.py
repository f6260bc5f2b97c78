"""Training runs shared by the training artefacts (precision_table, error_vs_time, pareto, stabilizers,
schedule_superres): settings, run specifications, a process pool and an in-process cache.

A :class:`RunSpec` is everything that defines one training run (problem, model, optimisation, precision or
precision schedule, backend, seed, and the extra evaluations of the final model). Artefacts ask for a list of
specs with :func:`train_runs`; specs already trained in this process are reused (``errbound repro --all``
trains each configuration once), the others are trained in parallel by ``workers`` processes with one torch
thread each (on a CPU, two single-threaded small runs use two cores better than one run with two threads).

Settings (:func:`settings_for`):

* **CPU full** (the converged CPU scale): Darcy flow 32x32, 200 train / 50 test samples (test also at 64x64
  for zero-shot super-resolution), FNO hidden 16, ``n_modes`` 8 per axis, 4 layers, 30 epochs, batch 16, AdamW
  lr 5e-3 cosine, relative L2 loss, 3 seeds (model initialisation and batch order; the data are fixed). fp32
  reaches a relative L2 test error near 0.04 there (:mod:`paper_repro.precision_table` reports the number).
* **CPU quick**: the same problem at 32 train / 8 test samples, 2 layers, 4 epochs, 1 seed: a smoke test.
* **CUDA full** (sized so paper_repro/gpu_trainer_check.sh trains every GPU artefact in a few minutes on one
  H200; never run yet): Darcy 64x64, 1000 / 100 samples (test also at 128), hidden 64, 16 modes, 4 layers, 10
  epochs, batch 16, 1 seed.

The stabilizer ablation trains on :func:`overflow_settings`: the same Darcy problem with the coefficient in
units 100x larger (a in {300, 1200}, forcing 100, so the solution u is unchanged), inputs not normalised
(targets are),
data on which the emulator predicts an fp16 overflow of the forward transform (the artefact records the
prediction).
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from typing import Any, Sequence

from paper_repro._runner import Context
from paper_repro.paper_numbers import TFNO_CP_RANK

__all__ = ["Settings", "RunSpec", "settings_for", "overflow_settings", "train_runs", "register_pending",
           "precision_names", "describe",
           "seed_stats", "final_metric", "public"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Problem, model and optimisation of a training run (precision is in :class:`RunSpec`)."""

    res: int
    test_res: tuple[int, ...]
    n_train: int
    n_test: int
    hidden: int
    modes: int
    n_layers: int
    epochs: int
    batch_size: int
    lr: float
    device: str
    seeds: tuple[int, ...]
    low: str  # the low format of the paper's fp16 settings: "fp16"
    dataset: str = "darcy"
    data_params: tuple[tuple[str, float], ...] = ()
    normalize: bool | str = True  # TrainConfig.normalize: True, False or "output" (targets only)
    factorization: str | None = None
    rank: float = TFNO_CP_RANK.value  # CP rank, a fraction of the dense weight count: the paper's TFNO
    data_seed: int = 0
    parallel: bool = True  # train missing runs in a process pool (quick mode: in this process)

    def with_(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One training run: settings, precision (``precision`` or ``schedule``), backend, seed, extra evaluations
    of the final model under other policies (``evals``: policy names, evaluated with ``backend``)."""

    settings: Settings
    precision: str | None = "full"
    schedule: str | None = None
    backend: str = "dft"
    seed: int = 0
    evals: tuple[str, ...] = ()

    @property
    def emulated(self) -> bool:
        """Whether a CPU computes this run's reduced-precision blocks by the op-by-op emulation."""
        head = (self.precision or "full").split("+")[0].split("-")[0]
        return self.settings.device == "cpu" and (self.schedule is not None or head in ("mixed", "half"))

    @property
    def eval_every(self) -> int:
        """Evaluate every epoch (error-against-time curves), except where evaluation costs as much as training on
        a CPU (an emulated FFT block, CPU autocast): there only the final epoch is evaluated. A function of the
        other fields, so runs shared between artefacts agree."""
        slow = (self.emulated and self.backend == "fft") or (self.settings.device == "cpu" and
                                                             (self.precision or "").startswith("amp"))
        return self.settings.epochs if slow else 1

    @property
    def label(self) -> str:
        what = self.precision if self.schedule is None else f"schedule {self.schedule}"
        return f"{what} ({self.backend}) seed {self.seed}"


def settings_for(ctx: Context) -> Settings:
    """Settings of the training artefacts for ``ctx`` (module docstring)."""
    if ctx.device == "cuda" and not ctx.quick:
        return Settings(res=64, test_res=(64, 128), n_train=1000, n_test=100, hidden=64, modes=16, n_layers=4,
                        epochs=10, batch_size=16, lr=2e-3, device="cuda", seeds=(ctx.seed,), low="fp16")
    if ctx.quick:
        return Settings(res=32, test_res=(32, 64), n_train=32, n_test=8, hidden=16, modes=8, n_layers=2, epochs=4,
                        batch_size=8, lr=5e-3, device=ctx.device, seeds=(ctx.seed,), low="fp16", parallel=False)
    return Settings(res=32, test_res=(32, 64), n_train=200, n_test=50, hidden=16, modes=8, n_layers=4, epochs=30,
                    batch_size=16, lr=5e-3, device=ctx.device, seeds=(ctx.seed, ctx.seed + 1, ctx.seed + 2),
                    low="fp16")


#: Coefficient units 100x larger: a in {300, 1200}, forcing 100 (u unchanged); raw inputs.
OVERFLOW_SCALE = 100.0


def overflow_settings(st: Settings) -> Settings:
    """``st`` on the stabilizer-ablation data (module docstring); quick and full keep their sizes except that
    full mode trains 128 samples for 16 epochs (the faithful fp16 FFT is emulated op by op: slow on a CPU)."""
    params = (("a_high", 12.0 * OVERFLOW_SCALE), ("a_low", 3.0 * OVERFLOW_SCALE), ("forcing", OVERFLOW_SCALE))
    changes: dict[str, Any] = {"data_params": params, "normalize": "output", "test_res": (st.res,)}
    if st.device == "cpu" and st.n_train > 128:
        changes.update(n_train=128, epochs=16)
    return st.with_(**changes)


def precision_names(st: Settings) -> dict[str, str]:
    """Our precision strings for the paper's settings, in the low format of ``st``."""
    sfx = "" if st.low == "fp16" else f"-{st.low}"
    return {"full": "full", "amp": f"amp{sfx}", "mixed": f"mixed{sfx}", "half": f"half{sfx}"}


_CACHE: dict[RunSpec, dict[str, Any]] = {}
#: Runs that later artefacts of this process will ask for (:func:`register_pending`): trained in the same pool
#: as the first request, so the workers stay busy across artefacts.
_PENDING: list[RunSpec] = []


def register_pending(specs: Sequence[RunSpec]) -> None:
    """Announce runs that artefacts of this process will request (``errbound repro`` with several names)."""
    _PENDING.extend(s for s in specs if s not in _CACHE and s not in _PENDING)


def _cost(spec: RunSpec) -> float:
    """Rough relative cost, for longest-first scheduling; the factors are read off the per-run wall times of
    a CPU full run: an emulated FFT block ~8x an fp32 run, an emulated ``mixed`` or bf16 DFT block ~6x, the
    other emulated DFT blocks ~2x; more modes cost more."""
    st = spec.settings
    base = st.epochs * st.n_train * st.res ** 2 * st.hidden * (1.0 + st.modes / 16.0)
    if not spec.emulated:
        return base
    if spec.backend == "fft":
        return base * 8.0
    prec = spec.precision or ""
    return base * (6.0 if prec.startswith("mixed") or "bf16" in prec else 2.0)


def _dataset(st: Settings):  # type: ignore[no-untyped-def]
    from errbound.data import make_dataset

    return make_dataset(st.dataset, st.res, st.n_train, st.n_test, seed=st.data_seed, test_res=list(st.test_res),
                        params=dict(st.data_params) or None)


def _metrics(l2: dict, h1: dict) -> dict[str, dict[str, float]]:
    return {"l2": {str(k): float(v) for k, v in l2.items()}, "h1": {str(k): float(v) for k, v in h1.items()}}


def execute(spec: RunSpec, threads: int | None = 1) -> dict[str, Any]:
    """Train one run in this process and return its JSON-able record (history, timings, final errors,
    non-finite steps, extra evaluations)."""
    import torch

    from errbound.train import FNOConfig, TrainConfig, Trainer, parse_policy, parse_schedule
    from errbound.train.trainer import _as_channels

    if threads is not None:
        torch.set_num_threads(threads)
    st = spec.settings
    files = _dataset(st)
    # evaluated during training: the training resolution only; the other test resolutions (zero-shot) once, at
    # the end (on a CPU a 2x-resolution evaluation of an emulated block costs more than the epoch's training)
    train, tests = files.load_train(), {st.res: files.load_test(st.res)}
    if spec.schedule:
        sched = parse_schedule(spec.schedule, st.epochs, spec.backend)
    else:
        sched = ((0, parse_policy(spec.precision or "full", spec.backend)),)
    mc = FNOConfig(hidden=st.hidden, modes=(st.modes, st.modes), n_layers=st.n_layers, backend=spec.backend,
                   factorization=st.factorization, rank=st.rank)  # type: ignore[arg-type]
    tc = TrainConfig(epochs=st.epochs, batch_size=st.batch_size, lr=st.lr, schedule=sched, seed=spec.seed,
                     normalize=st.normalize, eval_every=spec.eval_every)
    trainer = Trainer(mc, tc, train, tests, device=st.device, show_progress=False)
    times: list[float] = []
    t0 = time.perf_counter()
    result = trainer.fit(callbacks=[lambda tr, row: times.append(tr.train_seconds)])
    wall = time.perf_counter() - t0
    evaluated = [row for row in trainer.history if "test_l2" in row]
    final = _metrics(result.test_l2, result.test_h1)
    others = {r: tuple(_as_channels(t.float(), mc.dim, f"test data at {r}") for t in files.load_test(r))
              for r in st.test_res if r != st.res}
    if others:
        trainer.test_data, at_res = others, trainer.test_data
        extra = _metrics(*trainer.evaluate())
        final = {m: {**final[m], **extra[m]} for m in final}
        trainer.test_data = {**at_res, **others}  # the extra evaluations below cover every test resolution
    evals = {}
    before = trainer.policy
    for name in spec.evals:
        policy = parse_policy(name, spec.backend)
        try:
            trainer.net.model.set_policy(policy)
            trainer.policy = policy
            evals[name] = _metrics(*trainer.evaluate())
        finally:
            trainer.net.model.set_policy(before)
            trainer.policy = before
    return {
        "label": spec.label, "precision": spec.precision, "schedule": spec.schedule, "backend": spec.backend,
        "seed": spec.seed,
        "epochs": [r["epoch"] for r in trainer.history],
        "train_seconds": times,
        "epoch_seconds": [b - a for a, b in zip([0.0, *times[:-1]], times)],
        "eval_epochs": [r["epoch"] for r in evaluated],
        "eval_train_seconds": [times[r["epoch"] - 1] for r in evaluated],
        "test_l2": {str(st.res): [row["test_l2"][str(st.res)] for row in evaluated]},
        "test_h1": {str(st.res): [row["test_h1"][str(st.res)] for row in evaluated]},
        "final_l2": final["l2"],
        "final_h1": final["h1"],
        "nonfinite_steps": int(result.nonfinite_steps),
        "steps": int(st.epochs * -(-st.n_train // st.batch_size)),
        "samples_per_s": float(result.samples_per_s),
        "peak_mem_mib": result.peak_mem_mib,
        "wall_seconds": wall,
        "precisions": [r["precision"] for r in trainer.history],
        "evals": evals,
    }


def _workers(st: Settings) -> int:
    env = os.environ.get("ERRBOUND_REPRO_WORKERS")
    if env:
        return max(1, int(env))
    if st.device != "cpu" or not st.parallel:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def _disk_cache() -> Any:
    """``$ERRBOUND_REPRO_CACHE`` (a folder) when set: finished run records are kept there and reused by a later
    process (re-plotting without retraining); records say the commit that trained them. Unset: no disk cache."""
    from pathlib import Path

    folder = os.environ.get("ERRBOUND_REPRO_CACHE")
    return Path(folder) if folder else None


def _cache_file(spec: RunSpec) -> Any:
    import hashlib

    from errbound import __version__

    folder = _disk_cache()
    if folder is None:
        return None
    key = hashlib.sha256(f"{__version__} {spec!r}".encode()).hexdigest()[:24]
    return folder / f"{key}.json"


def _load_cached(spec: RunSpec) -> dict[str, Any] | None:
    import json

    path = _cache_file(spec)
    if path is None or not path.is_file():
        return None
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return _nonfinite_back(rec) if rec.get("spec") == repr(spec) else None


def _nonfinite_back(value: Any) -> Any:
    """Undo :func:`errbound.results.to_jsonable`'s strings for non-finite floats ("nan", "inf", "-inf")."""
    if isinstance(value, dict):
        return {k: _nonfinite_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nonfinite_back(v) for v in value]
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value


def _store(spec: RunSpec, rec: dict[str, Any]) -> None:
    from errbound.results import provenance, write_json_atomic

    _CACHE[spec] = rec
    path = _cache_file(spec)
    if path is not None:
        rec.setdefault("trained_by", provenance()["commit"])
        write_json_atomic(path, {**rec, "spec": repr(spec)})


def train_runs(specs: Sequence[RunSpec], *, label: str = "train") -> list[dict[str, Any]]:
    """Records of ``specs`` in order: cached ones reused, the others trained by a process pool (CPU: one
    single-threaded process per core, at most 2; CUDA: in this process), with one progress line per run."""
    import sys

    from errbound.progress import progress

    todo = list(dict.fromkeys(s for s in specs if s not in _CACHE))
    if todo and _PENDING:
        todo = list(dict.fromkeys([*todo, *(s for s in _PENDING if s not in _CACHE)]))
        _PENDING.clear()
    for spec in list(todo):
        cached = _load_cached(spec)
        if cached is not None:
            cached.pop("spec", None)
            _CACHE[spec] = cached
            todo.remove(spec)
    todo.sort(key=_cost, reverse=True)
    if todo:
        for st in dict.fromkeys(s.settings for s in todo):
            _dataset(st)  # generate (or load) the data once, before the workers read it
        workers = _workers(todo[0].settings)
        t0 = time.perf_counter()

        def report(spec: RunSpec, rec: dict[str, Any]) -> None:
            r0 = str(spec.settings.res)
            print(f"[{label}] {spec.label}: {rec['wall_seconds']:.0f} s, test L2 {rec['final_l2'][r0]:.4g}, "
                  f"non-finite steps {rec['nonfinite_steps']} ({time.perf_counter() - t0:.0f} s elapsed)",
                  file=sys.stderr)

        if workers == 1 or len(todo) == 1:
            for spec in progress(todo, total=len(todo), label=label):
                _store(spec, execute(spec, threads=None if spec.settings.device != "cpu" else 1))
                report(spec, _CACHE[spec])
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = {pool.submit(execute, spec, 1): spec for spec in todo}
                for fut in progress(as_completed(futures), total=len(futures), label=label):
                    spec = futures[fut]
                    _store(spec, fut.result())
                    report(spec, _CACHE[spec])
    return [_CACHE[s] for s in specs]


def final_metric(rec: dict[str, Any], metric: str, res: int | str) -> float:
    """Final relative ``metric`` ("l2" or "h1") error of a run record at test resolution ``res``."""
    return float(rec[f"final_{metric}"][str(res)])


def seed_stats(values: Sequence[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (0 for one value), min, max and the values themselves."""
    vals = [float(v) for v in values]
    return {"mean": statistics.fmean(vals), "std": statistics.stdev(vals) if len(vals) > 1 else 0.0,
            "min": min(vals), "max": max(vals), "n": len(vals), "values": vals}


def public(run: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able part of a run record."""
    return {k: v for k, v in run.items() if not k.startswith("_")}


_NORMALISATION = {True: "normalised inputs and targets", False: "raw inputs and targets",
                  "output": "raw inputs, normalised targets"}


def describe(st: Settings) -> str:
    data = f"{st.dataset} {st.res}x{st.res}"
    if st.data_params:
        data += " (" + ", ".join(f"{k}={v:g}" for k, v in st.data_params) + ")"
    arch = "CP-factorised FNO" if st.factorization == "cp" else "FNO"
    return (f"{data}, {st.n_train} train / {st.n_test} test, {arch} hidden {st.hidden}, {st.modes} modes, "
            f"{st.n_layers} layers, {st.epochs} epochs, batch {st.batch_size}, lr {st.lr:g}, "
            f"{_NORMALISATION[st.normalize]}, seeds {list(st.seeds)}, device {st.device}")
