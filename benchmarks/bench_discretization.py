"""Benchmark: the default 2-D discretization sweep, cold and warm reference cache.

Target (issue 3): ``errbound discretization --function smooth --dim 2 --res 8,16,...,1024 --modes 12``
(run with ``--clip-modes``: res 8 and 16 cannot hold |w_i| <= 12, and the CLI rejects them by default)
under 30 s with a cold cache and under 5 s with a warm cache on a 2-core machine. Timings are end to
end (a fresh ``errbound`` process each time, imports included), medians over ``--repeats``; each cold
run gets a new empty cache folder. The machine is shared and noisy, so the same run also measures a
baseline, the float64 fast path without any cache (``--method float64 --no-cache``), and reports the
ratios to it.

    python benchmarks/bench_discretization.py [--repeats 3] [--jobs 1] [--out results.json]
    python benchmarks/bench_discretization.py --acceptance [--out acceptance.json]

``--acceptance`` instead runs issue 3's acceptance grid (every function x d x resolutions: 1-D to 4096,
2-D to 1024, 3-D to 64) with the cached high-precision reference and prints, per case, the largest
error/bound ratio of every bound, the witnesses' error/lower-bound ratio, trig's largest error, and the
fitted rates against the theory's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP = ["discretization", "--function", "smooth", "--dim", "2", "--res", "8,16,32,64,128,256,512,1024", "--modes", "12", "--clip-modes", "--json"]


def _errbound() -> list[str]:
    return [sys.executable, "-m", "errbound"]


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(_errbound() + args, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(args)}\n{proc.stderr}")
    return elapsed


ACCEPT_RES = {1: [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096], 2: [8, 16, 32, 64, 128, 256, 512, 1024], 3: [8, 16, 32, 64]}
ACCEPT_SPECS = ["trig", "smooth", "tent", "step", "sobolev:r=1", "sobolev:r=2", "sobolev:r=3", "grf", "aliased:w=1", "tentgrid"]
RATE_RES = {1: [16, 32, 64, 128, 256, 512, 1024, 2048, 4096], 2: [16, 32, 64, 128, 256, 512, 1024]}
RATE_SPECS = ["tent", "step", "sobolev:r=1", "sobolev:r=2", "sobolev:r=3"]


def acceptance(out: str | None, jobs: int) -> int:
    from errbound.discretization import sweep

    report: dict = {"bounds": [], "rates": []}
    worst = 0.0
    ok = True
    for dim in (1, 2, 3):
        for spec in ACCEPT_SPECS:
            start = time.perf_counter()
            res = sweep(spec, dim=dim, resolutions=ACCEPT_RES[dim], modes=4, jobs=jobs)
            ratios: dict[str, float] = {}
            for row in res["rows"]:
                for name, value in row["ratios"].items():
                    ratios[name] = max(ratios.get(name, 0.0), value)
            lower = [row["witness_err"] / row["bound_lower"] for row in res["rows"] if row["bound_lower"]]
            trig_max = max(row["mode_err_max"] for row in res["rows"] if row["res"] > 6 + 4) if spec == "trig" else None
            case = {"function": spec, "dim": dim, "max_ratio_per_bound": ratios,
                    "min_witness_ratio": min(lower) if lower else None,
                    "max_witness_ratio": max(lower) if lower else None,
                    "trig_max_error_above_band": trig_max, "seconds": time.perf_counter() - start}
            report["bounds"].append(case)
            worst = max([worst, *ratios.values()])
            ok &= all(v <= 1 + 1e-12 for v in ratios.values()) and (not lower or min(lower) >= 1 - 1e-12)
            ok &= trig_max is None or trig_max == 0.0
            print(f"{spec:12s} {dim}-D  max ratio per bound: "
                  + ", ".join(f"{k} {v:.3g}" for k, v in ratios.items())
                  + (f"; witness err/lower in [{min(lower):.12g}, {max(lower):.12g}]" if lower else "")
                  + (f"; trig max error for s > band + k: {trig_max}" if trig_max is not None else "")
                  + f"  ({case['seconds']:.1f} s)", flush=True)
    for dim in (1, 2):
        for spec in RATE_SPECS:
            res = sweep(spec, dim=dim, resolutions=RATE_RES[dim], modes=3, jobs=jobs)
            good = res["rate"] is not None and abs(res["rate"] - res["rate_theory"]) <= 0.15
            ok &= good
            report["rates"].append({"function": spec, "dim": dim, "rate": res["rate"], "rate_theory": res["rate_theory"],
                                    "fit_resolutions": res["rate_fit_resolutions"], "within_0.15": good})
            print(f"rate {spec:12s} {dim}-D: fitted {res['rate']:.3f}, theory {res['rate_theory']:.3f} "
                  f"over res {res['rate_fit_resolutions']} -> {'ok' if good else 'OUT OF BAND'}", flush=True)
    res = sweep("smooth", dim=2, resolutions=ACCEPT_RES[2], modes=4, jobs=jobs)
    report["smooth_local_rates"] = res["local_rates"]
    report["smooth_layer_err_rel"] = [row["layer_err_rel"] for row in res["rows"]]
    print("smooth 2-D local rates:", ", ".join(f"{r:.1f}" for r in res["local_rates"] if r is not None))
    print("smooth 2-D layer_err_rel (float64 pipeline):", ", ".join(f"{r:.2e}" for r in report["smooth_layer_err_rel"]))
    report["worst_upper_ratio"] = worst
    report["all_ok"] = bool(ok)
    print(f"largest error/bound ratio over all cases: {worst:.4f}; all acceptance checks: {'pass' if ok else 'FAIL'}")
    if out:
        from errbound.results import provenance, write_json_atomic

        write_json_atomic(out, {**report, "provenance": provenance()})
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="--jobs passed to the sweep (default 1)")
    parser.add_argument("--out", default=None, help="write the results as JSON (atomically)")
    parser.add_argument("--acceptance", action="store_true", help="run the acceptance grid instead of the timing")
    opts = parser.parse_args(argv)
    if opts.acceptance:
        return acceptance(opts.out, opts.jobs)
    sweep = SWEEP + ["--jobs", str(opts.jobs)]
    cold, warm, base = [], [], []
    with tempfile.TemporaryDirectory(prefix="errbound-bench-") as root:
        for r in range(opts.repeats):
            base.append(_timed(sweep + ["--method", "float64", "--no-cache"]))
            folder = Path(root) / f"cache{r}"
            cold.append(_timed(sweep + ["--cache", str(folder)]))
            warm.append(_timed(sweep + ["--cache", str(folder)]))
    med = {name: statistics.median(v) for name, v in (("cold", cold), ("warm", warm), ("baseline_float64", base))}
    result = {
        "command": "errbound " + " ".join(sweep),
        "repeats": opts.repeats,
        "seconds": {"cold": cold, "warm": warm, "baseline_float64": base},
        "median_s": med,
        "ratio_cold_to_baseline": med["cold"] / med["baseline_float64"],
        "ratio_warm_to_baseline": med["warm"] / med["baseline_float64"],
        "targets_s": {"cold": 30.0, "warm": 5.0},
        "meets_targets": med["cold"] < 30.0 and med["warm"] < 5.0,
    }
    for key in ("cold", "warm", "baseline_float64"):
        print(f"{key:17s} median {med[key]:6.2f} s   runs {', '.join(f'{t:.2f}' for t in result['seconds'][key])}")
    print(f"cold / baseline = {result['ratio_cold_to_baseline']:.2f}, warm / baseline = {result['ratio_warm_to_baseline']:.2f}; "
          f"targets cold < 30 s, warm < 5 s: {'met' if result['meets_targets'] else 'NOT met'}")
    if opts.out:
        from errbound.results import provenance, write_json_atomic

        write_json_atomic(opts.out, {**result, "provenance": provenance()})
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
