"""End-to-end check of the advisor: do its safe/unsafe verdicts match what training actually does?

For each resolution, :func:`validate`

1. generates the dataset (:func:`errbound.data.make_dataset`, cached) and runs :func:`errbound.advise.advise`
   on its test inputs;
2. trains three FNOs with the same seed, data and architecture (:class:`errbound.train.Trainer`): full
   precision (the baseline), the advisor's recommendation, and the cheapest trainable configuration the
   advisor rejects (when it rejects one);
3. compares prediction with observation. Predicted: the candidate's ``ok`` and its emulated block error
   ``prec_err``. Observed: the relative test-L2 gap ``gap = test_l2 / test_l2_full - 1``; a configuration is
   *observed safe* when its loss stayed finite and ``gap <= tolerance`` (the same tolerance the advisor used:
   "precision costs at most a ``tolerance`` fraction of the accuracy"). ``agree`` says whether both verdicts
   match. Also reported: ``predicted_gap`` (the emulated block error ``prec_err``) against the observed
   ``gap``, and ``gap_within_predicted`` (``|gap| <= prec_err``): whether the block error bounds the damage.

The runs are small so that they fit a CPU (defaults: 64 training samples, 8 epochs, hidden 16, 2 layers);
with so little training the observed gaps are dominated by optimisation noise, which the report makes
visible rather than hides.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Sequence


from errbound.errors import ErrboundError

__all__ = ["ValidateConfig", "validate", "flags_to_policy"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ValidateConfig:
    """Sizes of the validation runs (CPU-sized defaults)."""

    dataset: str = "darcy"
    resolutions: tuple[int, ...] = (32,)
    n_train: int = 64
    n_test: int = 16
    epochs: int = 8
    batch_size: int = 8
    hidden: int = 16
    modes: int = 8
    n_layers: int = 2
    lr: float = 3e-3
    tolerance: float = 0.1
    formats: tuple[str, ...] = ("fp16", "bf16")
    device: str = "cpu"
    seed: int = 0
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test", "epochs", "batch_size", "hidden", "modes", "n_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ErrboundError(f"validate {name} must be a positive integer, got {v!r}")
        res = tuple(int(r) for r in self.resolutions)
        if not res or any(r < 8 for r in res):
            raise ErrboundError(f"validate resolutions must be integers >= 8, got {self.resolutions!r}")
        object.__setattr__(self, "resolutions", res)
        if not (self.tolerance > 0 and math.isfinite(self.tolerance)):
            raise ErrboundError(f"tolerance must be a positive finite number, got {self.tolerance!r}")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ErrboundError(f"device must be 'cpu' or 'cuda', got {self.device!r}")


def flags_to_policy(flags: Sequence[str]) -> tuple[Any, str, int | None]:
    """(PrecisionPolicy, backend, modes) from ``errbound train`` flags as the advisor writes them."""
    from errbound.train.precision import parse_precision

    opts = dict(zip(flags[::2], flags[1::2]))
    if "--precision" not in opts:
        raise ErrboundError(f"train flags {list(flags)} name no --precision")
    modes = int(opts["--modes"]) if "--modes" in opts else None
    return parse_precision(opts["--precision"]), opts.get("--backend", "fft"), modes


def _train(cfg: ValidateConfig, data, tests, dim: int, flags: Sequence[str]) -> dict[str, Any]:
    from errbound.train import FNOConfig, TrainConfig, Trainer

    policy, backend, modes = flags_to_policy(flags)
    mc = FNOConfig(hidden=cfg.hidden, modes=(modes or cfg.modes,) * dim, n_layers=cfg.n_layers, backend=backend)
    tc = TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, schedule=((0, policy),), seed=cfg.seed)
    t0 = time.perf_counter()
    result = Trainer(mc, tc, data, tests, device=cfg.device, show_progress=False).fit()
    (res_key,) = list(result.test_l2)[:1]
    l2 = float(result.test_l2[res_key])
    return {"precision": policy.name, "backend": backend, "train_flags": list(flags), "test_l2": l2,
            "test_h1": float(result.test_h1[res_key]), "nonfinite_steps": int(result.nonfinite_steps),
            "finite": bool(math.isfinite(l2)), "seconds": time.perf_counter() - t0}


def _validate_res(cfg: ValidateConfig, res: int) -> dict[str, Any]:
    from errbound.advise import advise
    from errbound.data import get_dataset, make_dataset

    dim = get_dataset(cfg.dataset).dim
    files = make_dataset(cfg.dataset, res, cfg.n_train, cfg.n_test, seed=cfg.seed, cache_dir=cfg.cache_dir,
                         test_res=[res], device=cfg.device)
    train = files.load_train()
    test = files.load_test(res)
    adv = advise(test[0].double().numpy(), modes=cfg.modes, formats=cfg.formats, tolerance=cfg.tolerance)
    cands = [c for c in adv.candidates if c.trainable]
    rec = adv.recommended
    chosen = {"full": next(c for c in cands if c.preset == "full")}
    rec_c = next(c for c in cands if c.format == rec["format"] and c.preset == rec["preset"])
    if rec_c.preset != "full":
        chosen["recommended"] = rec_c
    rejected = [c for c in cands if not c.ok]
    if rejected:
        chosen["rejected"] = rejected[0]  # candidates are sorted cheapest first
    runs = {}
    for role, cand in chosen.items():
        run = _train(cfg, train, {res: test}, dim, cand.train_flags)
        run.update(role=role, format=cand.format, preset=cand.preset, predicted_prec_err=cand.prec_err,
                   predicted_ok=cand.ok, predicted_overflow=cand.overflow)
        runs[role] = run
    base = runs["full"]["test_l2"]
    for run in runs.values():
        run["gap"] = run["test_l2"] / base - 1.0 if math.isfinite(run["test_l2"]) else math.inf
        run["observed_safe"] = bool(run["finite"] and run["gap"] <= cfg.tolerance)
        run["agree"] = run["predicted_ok"] == run["observed_safe"]
        # predicted vs observed accuracy gap: is the emulated block error an upper estimate of the damage?
        run["predicted_gap"] = run["predicted_prec_err"]
        run["gap_within_predicted"] = bool(run["finite"] and abs(run["gap"]) <= run["predicted_prec_err"])
    return {"dataset": cfg.dataset, "res": res, "discretization_err": adv.discretization_err,
            "advice": adv.as_dict(), "runs": list(runs.values()),
            "rejected_note": None if rejected else "the advisor rejected no trainable configuration at this tolerance"}


def validate(cfg: ValidateConfig) -> dict[str, Any]:
    """Run the validation for every resolution of ``cfg``; returns the report (see the module docstring)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        from errbound.errors import MissingDependencyError

        raise MissingDependencyError("torch", "train") from None
    from errbound.data import dataset_names

    if cfg.dataset not in dataset_names():
        raise ErrboundError(f"unknown dataset {cfg.dataset!r}; choose one of: {', '.join(dataset_names())}")
    if cfg.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ErrboundError("--device cuda was requested but no CUDA device is available; pass --device cpu")
    per_res = [_validate_res(cfg, r) for r in cfg.resolutions]
    runs = [r for p in per_res for r in p["runs"] if r["role"] != "full"]
    return {"config": dataclasses.asdict(cfg), "results": per_res,
            "verdicts": len(runs), "agreements": sum(r["agree"] for r in runs),
            "all_agree": all(r["agree"] for r in runs),
            "gaps_within_predicted": sum(r["gap_within_predicted"] for r in runs)}
