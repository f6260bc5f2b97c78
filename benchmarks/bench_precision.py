"""Precision benchmark and acceptance measurements (issue 4, items 2-4, 6, 7).

    .venv/bin/python benchmarks/bench_precision.py [--output FILE] [--quick]

Reports (JSON on stdout, with provenance):

* ``crossover_cli``: wall time of ``errbound crossover --function smooth --dim 2 --formats fp16,bf16``
  (default ladder), median of ``--repeat`` runs, and its ratio to a float64 baseline measured in the
  same run (median time of numpy rfft2 of a 1024 x 1024 array): timings on a shared machine are
  noisy, the ratio is the comparable number;
* ``emulated_rfft2_1024``: emulated fp16 rfft2 of 1024 x 1024 (median), same baseline ratio;
* ``growth``: emulated fp16 rfft2 relative error of the smooth input for n = 16..1024 (optimal
  power-of-two pre-scale so overflow does not interfere), least-squares fits ``e = a + b log2 n`` and
  ``e = a + b sqrt(log2 n)`` with their R^2 (which fits better);
* ``probabilistic``: violation rate of the probabilistic bound P3 over >= 1000 random inputs per
  case against its failure probability ``2 exp(-lambda^2/2)``;
* ``worst_case``: largest measured error / worst-case bound over the tested transforms (must be <= 1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _timing import median_seconds  # benchmarks/_timing.py (script folder is on sys.path)


def baseline(repeat: int = 5) -> float:
    x = np.random.default_rng(0).standard_normal((1024, 1024))
    return median_seconds(lambda: np.fft.rfft2(x), repeat)


def crossover_cli(repeat: int) -> dict:
    exe = Path(sys.executable).with_name("errbound")
    cmd = [str(exe), "crossover", "--function", "smooth", "--dim", "2", "--formats", "fp16,bf16", "--json"]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
    data = json.loads(out.stdout)
    return {"command": " ".join(cmd[1:]), "median_s": statistics.median(times), "times_s": times,
            "s_star": {f: {k: v[k] for k in ("s_star_empirical", "s_star_bound", "s_star_class", "s_overflow")}
                       for f, v in data["formats"].items()}}


def emulated_rfft2(repeat: int) -> float:
    from errbound.emulate import rfft2

    x = np.random.default_rng(1).standard_normal((1024, 1024))
    return median_seconds(lambda: rfft2(x, "fp16", norm="forward"), repeat)


def growth(ns: list[int], kind: str = "smooth", seeds: int = 1) -> dict:
    from errbound.emulate import FFTConfig, optimal_prescale_exponent, rfft2
    from errbound.functions import get_function

    fn = get_function("smooth", dim=2)
    errs, exps = [], []
    for n in ns:
        acc = []
        for seed in range(seeds):
            x = fn.eval_grid(n) if kind == "smooth" else np.random.default_rng(seed).standard_normal((n, n))
            e = optimal_prescale_exponent(x, FFTConfig(fmt="fp16"), transform="rfftn", norm="forward").exponent
            y = rfft2(x * 2.0**e, "fp16", norm="forward") * 2.0**-e
            ex = np.fft.rfft2(x, norm="forward")
            acc.append(float(np.linalg.norm(y - ex) / np.linalg.norm(ex)))
        errs.append(float(np.mean(acc)))
        exps.append(int(e))
    t = np.log2(ns)
    fits = {}
    for name, feat in (("log2_n", t), ("sqrt_log2_n", np.sqrt(t))):
        A = np.stack([np.ones_like(feat), feat], axis=1)
        coef, *_ = np.linalg.lstsq(A, np.array(errs), rcond=None)
        pred = A @ coef
        ss_res = float(np.sum((np.array(errs) - pred) ** 2))
        ss_tot = float(np.sum((np.array(errs) - np.mean(errs)) ** 2))
        fits[name] = {"a": float(coef[0]), "b": float(coef[1]), "r2": 1 - ss_res / ss_tot if ss_tot else None}
    better = max(fits, key=lambda k: fits[k]["r2"] if fits[k]["r2"] is not None else -1)
    return {"input": kind, "seeds": seeds, "n": ns, "err": errs, "prescale_exp": exps, "fits": fits,
            "better_fit": better, "u": 2.0**-11}


def probabilistic(N: int) -> list[dict]:
    from errbound.bounds import precision as bp
    from errbound.emulate import rfftn

    out = []
    rng = np.random.default_rng(7)
    for fmt, shape in (("fp16", (64,)), ("bf16", (64,)), ("fp16", (16, 16)), ("bf16", (256,))):
        x = rng.standard_normal((N,) + shape) * rng.uniform(0.1, 10, size=(N,) + (1,) * len(shape))
        axes = tuple(range(1, len(shape) + 1))
        y = rfftn(x, fmt, axes=axes, norm="forward")
        ex = np.fft.rfftn(x, axes=axes, norm="forward")
        err = np.sqrt(np.sum(np.abs(y - ex) ** 2, axis=axes))
        m = int(np.prod(shape))
        half = list(shape[:-1]) + [shape[-1] // 2 + 1]
        stages = [bp.cast_stage(fmt, m)] + bp.rfftn_stages(shape, fmt)
        stages.append(bp.scale_stage(1 / m, fmt, fmt, 2 * int(np.prod(half))))
        norms = np.sqrt(np.sum(x * x, axis=axes))
        for lam in (1.5, 2.0, 3.0):
            bnd = np.array([bp.evaluate_stages(stages, float(v), lam=lam).prob for v in norms])
            worst = np.array([bp.evaluate_stages(stages, float(v), lam=lam).worst for v in norms])
            out.append({"format": fmt, "shape": list(shape), "inputs": N, "lambda": lam,
                        "failure_prob": bp.prob_failure(lam), "violation_rate": float(np.mean(err > bnd)),
                        "worst_violations": int(np.sum(err > worst)),
                        "median_err_over_prob_bound": float(np.median(err / bnd))})
    return out


def worst_case() -> dict:
    from errbound.bounds.precision import transform_bounds
    from errbound.emulate import rfftn

    rng = np.random.default_rng(3)
    worst_ratio, cases, skipped = 0.0, 0, 0
    for fmt in ("fp16", "bf16", "fp8_e4m3fn", "fp8_e4m3", "fp8_e5m2", "tf32", "fp32"):
        for shape in ((16,), (100,), (421,), (64, 64), (24, 20), (128, 128)):
            for x in (rng.standard_normal(shape), np.abs(rng.standard_normal(shape)), 1e-5 * rng.standard_normal(shape)):
                with np.errstate(over="ignore", invalid="ignore"):
                    y = rfftn(x, fmt, norm="forward")
                if not np.all(np.isfinite(y)):
                    skipped += 1
                    continue
                ex = np.fft.rfftn(x, norm="forward")
                err = np.linalg.norm(y - ex) / np.linalg.norm(ex)
                worst_ratio = max(worst_ratio, err / transform_bounds(x, fmt)["worst"])
                cases += 1
    return {"cases": cases, "overflow_skipped": skipped, "max_err_over_bound": worst_ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="precision benchmark and acceptance numbers")
    parser.add_argument("--output", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the timing parts")
    args = parser.parse_args(argv)
    from errbound.results import provenance, write_json_atomic

    res: dict = {"provenance": provenance()}
    if not args.quick:
        base = baseline()
        res["baseline_numpy_rfft2_1024_s"] = base
        cc = crossover_cli(args.repeat)
        cc["ratio_to_baseline"] = cc["median_s"] / base
        res["crossover_cli"] = cc
        em = emulated_rfft2(args.repeat)
        res["emulated_rfft2_1024"] = {"median_s": em, "ratio_to_baseline": em / base}
    res["growth"] = growth([16, 32, 64, 128, 256, 512, 1024])
    res["growth_random"] = growth([16, 32, 64, 128, 256, 512], kind="random", seeds=3)
    res["probabilistic"] = probabilistic(1200)
    res["worst_case"] = worst_case()
    text = json.dumps(res, indent=2, default=str)
    print(text)
    if args.output:
        write_json_atomic(args.output, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
