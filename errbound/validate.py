"""End-to-end check of the advisor: do its safe/unsafe verdicts match what training actually does?

For each resolution, :func:`validate`

1. generates the dataset (:func:`errbound.data.make_dataset`, cached) and runs :func:`errbound.advise.advise`
   on its test inputs, with the formats of the config (default fp16, bf16 and the two fp8 formats);
2. trains FNOs with the same data and architecture (:class:`errbound.train.Trainer`), each with ``seeds``
   seeds (test errors averaged): full precision (the baseline), the advisor's recommendation, and the
   cheapest trainable configuration the advisor rejects (the *protocol*; candidates are sorted cheapest
   first, so with the fp8 formats in the list this is an emulated 8-bit block); ``configs="all"`` also
   trains every other trainable candidate, so that cautious rejections show up too;
3. compares prediction with observation. Predicted: the candidate's ``ok`` and its emulated block error
   ``prec_err``. Observed: the relative test-L2 gap ``gap = test_l2 / test_l2_full - 1``; a configuration is
   *observed safe* when its loss stayed finite and ``gap <= tolerance`` (the same tolerance the advisor used:
   "precision costs at most a ``tolerance`` fraction of the accuracy"). ``agree`` says whether both verdicts
   match. Also reported: the observed ``gap`` against ``predicted_gap`` (:func:`predicted_gap`, the
   quadrature estimate from ``prec_err`` and the baseline's error), with two or more seeds the baseline's
   seed-to-seed spread ``full_seed_noise`` (relative standard deviation) and the resulting standard deviation
   of a gap ``gap_noise``, and ``gap_within_predicted`` (``gap <= predicted_gap + 2 gap_noise``).

The advisor's criterion (``prec_err <= tolerance x discretization_err``) is sufficient, not necessary: the
trained model's own error is usually well above the data's discretization error, so a configuration
rejected near the threshold may still train as well as fp32. The report counts the protocol verdicts
(``protocol_agreements``) and all verdicts (``agreements``), and lists every disagreement.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from typing import Any, Sequence


from errbound.errors import ErrboundError
from errbound.advise import predicted_gap
from errbound.progress import note

__all__ = ["ValidateConfig", "validate", "flags_to_policy", "predicted_gap", "derive_block", "summarize",
           "report_from_files"]


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
    formats: tuple[str, ...] = ("fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2")
    device: str = "cpu"
    seed: int = 0
    seeds: int = 1
    configs: str = "protocol"
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test", "epochs", "batch_size", "hidden", "modes", "n_layers", "seeds"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ErrboundError(f"validate {name} must be a positive integer, got {v!r}")
        res = tuple(int(r) for r in self.resolutions)
        if not res or any(r < 8 for r in res):
            raise ErrboundError(f"validate resolutions must be integers >= 8, got {self.resolutions!r}")
        object.__setattr__(self, "resolutions", res)
        if not (self.tolerance > 0 and math.isfinite(self.tolerance)):
            raise ErrboundError(f"tolerance must be a positive finite number, got {self.tolerance!r}")
        if self.configs not in ("protocol", "all"):
            raise ErrboundError(f"configs must be 'protocol' or 'all', got {self.configs!r}")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ErrboundError(f"device must be 'cpu' or 'cuda', got {self.device!r}")


def flags_to_policy(flags: Sequence[str]) -> tuple[Any, str, int | None]:
    """(Policy, backend, modes) from ``errbound train`` flags as the advisor writes them."""
    from errbound.policy import parse_policy

    opts = dict(zip(flags[::2], flags[1::2]))
    if "--precision" not in opts:
        raise ErrboundError(f"train flags {list(flags)} name no --precision")
    modes = int(opts["--modes"]) if "--modes" in opts else None
    backend = opts.get("--backend", "fft")
    return parse_policy(opts["--precision"], backend), backend, modes


def _train(cfg: ValidateConfig, data, tests, dim: int, flags: Sequence[str], seed: int) -> dict[str, Any]:
    from errbound.train import FNOConfig, TrainConfig, Trainer

    policy, backend, modes = flags_to_policy(flags)
    mc = FNOConfig(hidden=cfg.hidden, modes=(modes or cfg.modes,) * dim, n_layers=cfg.n_layers, backend=backend)
    tc = TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, schedule=((0, policy),), seed=seed)
    t0 = time.perf_counter()
    result = Trainer(mc, tc, data, tests, device=cfg.device, show_progress=False).fit()
    (res_key,) = list(result.test_l2)[:1]
    l2 = float(result.test_l2[res_key])
    return {"seed": seed, "test_l2": l2, "test_h1": float(result.test_h1[res_key]),
            "nonfinite_steps": int(result.nonfinite_steps), "finite": bool(math.isfinite(l2)),
            "seconds": time.perf_counter() - t0}


def _choose(cfg: ValidateConfig, adv) -> list[tuple[str, Any]]:
    """(role, candidate) pairs to train: full, the recommendation and the rejected configuration(s)."""
    cands = [c for c in adv.candidates if c.trainable]
    rec = adv.recommended
    full = next(c for c in cands if c.precision == "full")
    chosen: list[tuple[str, Any]] = [("full", full)]
    rec_c = next(c for c in cands if c.precision == rec["precision"] and c.backend == rec["backend"])
    if rec_c is not full:
        chosen.append(("recommended", rec_c))
    rejected = [c for c in cands if not c.ok]  # candidates are sorted cheapest first
    if rejected:
        chosen.append(("rejected", rejected[0]))
    if cfg.configs == "all":
        for c in cands:
            if all(c is not other for _, other in chosen):
                chosen.append(("accepted" if c.ok else "rejected (extra)", c))
    return chosen


def _validate_res(cfg: ValidateConfig, res: int) -> dict[str, Any]:
    from errbound.advise import advise
    from errbound.data import get_dataset, make_dataset

    dim = get_dataset(cfg.dataset).dim
    files = make_dataset(cfg.dataset, res, cfg.n_train, cfg.n_test, seed=cfg.seed, cache_dir=cfg.cache_dir,
                         test_res=[res], device=cfg.device)
    train = files.load_train()
    test = files.load_test(res)
    adv = advise(test[0].double().numpy(), modes=cfg.modes, formats=cfg.formats, tolerance=cfg.tolerance)
    seeds = [cfg.seed + i for i in range(cfg.seeds)]
    runs = []
    for role, cand in _choose(cfg, adv):
        per_seed = []
        for seed in seeds:
            note(f"validate {cfg.dataset} {res}: training {role} {cand.precision} ({cand.backend}) (seed {seed})")
            per_seed.append(_train(cfg, train, {res: test}, dim, cand.train_flags, seed))
        l2s = [r["test_l2"] for r in per_seed]
        finite = all(r["finite"] for r in per_seed)
        policy, backend, _ = flags_to_policy(cand.train_flags)
        runs.append({
            "role": role, "format": cand.format, "precision": policy.name,
            "backend": backend, "train_flags": list(cand.train_flags), "predicted_prec_err": cand.prec_err,
            "predicted_ok": cand.ok, "predicted_overflow": cand.overflow, "finite": finite,
            "test_l2": statistics.fmean(l2s) if finite else math.inf, "test_l2_per_seed": l2s,
            "nonfinite_steps": sum(r["nonfinite_steps"] for r in per_seed),
            "seconds": sum(r["seconds"] for r in per_seed), "seeds": per_seed,
        })
    block = {"dataset": cfg.dataset, "res": res, "discretization_err": adv.discretization_err,
             "advice": adv.as_dict(), "runs": runs}
    return derive_block(block, cfg.tolerance, len(seeds))


def derive_block(block: dict[str, Any], tolerance: float, n_seeds: int) -> dict[str, Any]:
    """Add the derived fields of one resolution's runs (everything but the training results themselves), so
    that a saved report can be re-derived by :func:`report_from_files`.

    Per run: ``gap``, ``observed_safe``, ``agree``, ``predicted_gap`` (quadrature estimate with the baseline's
    error), ``gap_noise``, ``gap_within_predicted``, and the accuracy-criterion verdict
    ``predicted_ok_given_baseline`` (``predicted_gap <= tolerance``: what :func:`errbound.advise.advise` says
    with ``target_error`` = the baseline's error) with ``agree_given_baseline``.
    Per block: ``full_seed_noise`` and ``rejected_note``."""
    runs = block["runs"]
    base = runs[0]
    base_l2 = base["test_l2"]
    # run-to-run noise of the baseline: relative spread of its per-seed test errors (None with one seed)
    l2s = base.get("test_l2_per_seed", [base_l2])
    noise = (statistics.stdev(l2s) / base_l2) if n_seeds > 1 and len(l2s) > 1 and base["finite"] else None
    # standard deviation of a gap between two seed-averaged errors, from the baseline's spread (0: unknown)
    gap_noise = noise * math.sqrt(2.0 / n_seeds) if noise is not None else 0.0
    for run in runs:
        run["gap"] = run["test_l2"] / base_l2 - 1.0 if run["finite"] else math.inf
        run["observed_safe"] = bool(run["finite"] and run["gap"] <= tolerance)
        run["agree"] = run["predicted_ok"] == run["observed_safe"]
        run["predicted_gap"] = predicted_gap(run["predicted_prec_err"], base_l2)
        run["gap_noise"] = gap_noise
        run["gap_within_predicted"] = bool(run["finite"] and run["gap"] <= run["predicted_gap"] + 2 * gap_noise)
        run["predicted_ok_given_baseline"] = bool(run["predicted_gap"] <= tolerance)
        run["agree_given_baseline"] = run["predicted_ok_given_baseline"] == run["observed_safe"]
    block["full_seed_noise"] = noise
    block["rejected_note"] = (None if any(r["role"].startswith("rejected") for r in runs)
                              else "the advisor rejected no trainable configuration at this tolerance")
    return block


def summarize(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over the non-baseline runs of ``blocks``: protocol (recommended + cheapest rejected) and all."""
    runs = [r for b in blocks for r in b["runs"] if r["role"] != "full"]
    protocol = [r for r in runs if r["role"] in ("recommended", "rejected")]
    return {
        "verdicts": len(runs), "agreements": sum(r["agree"] for r in runs),
        "all_agree": all(r["agree"] for r in runs),
        "protocol_verdicts": len(protocol), "protocol_agreements": sum(r["agree"] for r in protocol),
        "agreements_given_baseline": sum(r["agree_given_baseline"] for r in runs),
        "gaps_within_predicted": sum(r["gap_within_predicted"] for r in runs),
        "disagreements": [{"dataset": b["dataset"], "res": b["res"], "format": r["format"],
                           "precision": r.get("precision", r.get("preset")), "backend": r.get("backend"),
                           "role": r["role"], "predicted_ok": r["predicted_ok"], "observed_safe": r["observed_safe"],
                           "gap": r["gap"]}
                          for b in blocks for r in b["runs"] if r["role"] != "full" and not r["agree"]],
    }


def report_from_files(paths: Sequence[str]) -> dict[str, Any]:
    """Merge saved ``errbound validate --out`` reports and re-derive every derived field and count with this
    version's rules (the training results, advice and configs are taken as saved)."""
    import json
    from pathlib import Path

    blocks, configs, provenances = [], [], []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise ErrboundError(f"validate report {p!r} does not exist; pass files written by errbound validate --out")
        try:
            doc = json.loads(path.read_text())
            results, cfg = doc["results"], doc["config"]
            tol, n_seeds = float(cfg["tolerance"]), int(cfg.get("seeds", 1))
        except (ValueError, KeyError, TypeError) as exc:
            raise ErrboundError(f"{p}: not an errbound validate report ({exc.__class__.__name__}: {exc})") from None
        for block in results:
            for run in block["runs"]:
                for key in ("test_l2", "predicted_prec_err"):
                    if isinstance(run.get(key), str):  # non-finite floats are saved as strings
                        run[key] = float(run[key])
            blocks.append(derive_block(block, tol, n_seeds))
        configs.append(cfg)
        provenances.append(doc.get("provenance"))
    return {"results": blocks, "configs": configs, "sources": [str(p) for p in paths],
            "source_provenance": provenances, **summarize(blocks)}


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
    return {"config": dataclasses.asdict(cfg), "results": per_res, **summarize(per_res)}
