"""Shared training runs for the training artefacts (error_vs_time, pareto, stabilizers, schedule_superres).

Runs are cached in-process by (settings, label), so ``errbound repro --all`` trains each configuration once.
Quick mode (CPU): Darcy flow at 32x32 (32 train / 8 test, test also at 64x64 for zero-shot
super-resolution), FNO hidden 16, 8 modes, 2 layers, 4 epochs: minutes on a CPU and far from the paper's
setting (Navier-Stokes / Darcy at 128, 500 epochs, GPU). On CPU the half-precision paths use bf16 (fp16
FFTs do not exist on CPU; torch's fp16 CPU kernels are slow), or fp16 through the matrix-product DFT backend.
Full mode needs CUDA: Darcy at 128 (1000 / 100, test also at 256), hidden 64, 32 modes, 4 layers, 100 epochs,
fp16 policies.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from paper_repro._runner import Context

__all__ = ["Settings", "settings_for", "train_run", "precision_names"]


@dataclasses.dataclass(frozen=True)
class Settings:
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
    seed: int
    low: str  # "bf16" on CPU, "fp16" on CUDA


def settings_for(ctx: Context) -> Settings:
    if ctx.quick:
        return Settings(res=32, test_res=(32, 64), n_train=32, n_test=8, hidden=16, modes=8, n_layers=2, epochs=4,
                        batch_size=8, lr=5e-3, device=ctx.device, seed=ctx.seed, low="bf16" if ctx.device == "cpu" else "fp16")
    return Settings(res=128, test_res=(128, 256), n_train=1000, n_test=100, hidden=64, modes=32, n_layers=4, epochs=100,
                    batch_size=16, lr=1e-3, device=ctx.device, seed=ctx.seed, low="fp16")


def precision_names(st: Settings) -> dict[str, str]:
    """Our precision strings for the paper's settings, in the low format of ``st``."""
    sfx = "" if st.low == "fp16" else "-bf16"
    return {"full": "full", "amp": f"amp{sfx}", "mixed": f"mixed{sfx}", "half": f"half{sfx}"}


_CACHE: dict[tuple, dict[str, Any]] = {}


def _data(st: Settings):
    from errbound.data import make_dataset

    files = make_dataset("darcy", st.res, st.n_train, st.n_test, seed=st.seed, test_res=list(st.test_res))
    return files.load_train(), {r: files.load_test(r) for r in st.test_res}


def train_run(st: Settings, label: str, *, precision: str | None = None, schedule: str | None = None,
              backend: str = "dft", keep_trainer: bool = False) -> dict[str, Any]:
    """Train one configuration (cached); returns history with cumulative training seconds per epoch."""
    key = (st, label, precision, schedule, backend)
    if key in _CACHE:
        return _CACHE[key]
    from errbound.train import FNOConfig, TrainConfig, Trainer, parse_policy, parse_schedule

    sched = parse_schedule(schedule, st.epochs) if schedule else ((0, parse_policy(precision or "full")),)
    train, tests = _data(st)
    mc = FNOConfig(hidden=st.hidden, modes=(st.modes, st.modes), n_layers=st.n_layers, backend=backend)
    tc = TrainConfig(epochs=st.epochs, batch_size=st.batch_size, lr=st.lr, schedule=sched, seed=st.seed)
    trainer = Trainer(mc, tc, train, tests, device=st.device, show_progress=False)
    times: list[float] = []
    t0 = time.perf_counter()
    result = trainer.fit(callbacks=[lambda tr, row: times.append(tr.train_seconds)])
    out = {
        "label": label, "precision": precision, "schedule": schedule, "backend": backend,
        "epochs": [r["epoch"] for r in trainer.history],
        "train_seconds": times,
        "epoch_seconds": [b - a for a, b in zip([0.0, *times[:-1]], times)],
        "test_l2": {str(r): [row["test_l2"][str(r)] for row in trainer.history] for r in st.test_res},
        "test_h1": {str(r): [row["test_h1"][str(r)] for row in trainer.history] for r in st.test_res},
        "final_l2": {str(k): float(v) for k, v in result.test_l2.items()},
        "final_h1": {str(k): float(v) for k, v in result.test_h1.items()},
        "nonfinite_steps": int(result.nonfinite_steps),
        "samples_per_s": float(result.samples_per_s),
        "peak_mem_mib": result.peak_mem_mib,
        "wall_seconds": time.perf_counter() - t0,
        "precisions": [r["precision"] for r in trainer.history],
    }
    if keep_trainer:
        out["_trainer"] = trainer
    _CACHE[key] = out
    return out


def public(run: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able part of a run (drops the kept Trainer)."""
    return {k: v for k, v in run.items() if not k.startswith("_")}


def describe(st: Settings) -> str:
    return (f"Darcy {st.res}x{st.res}, {st.n_train} train / {st.n_test} test, FNO hidden {st.hidden}, {st.modes} modes, "
            f"{st.n_layers} layers, {st.epochs} epochs, batch {st.batch_size}, low format {st.low}, device {st.device}")
