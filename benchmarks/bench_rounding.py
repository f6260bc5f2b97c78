"""Throughput of errbound.round_to against numpy's own float16 cast (and ml_dtypes), same run.

Usage: python benchmarks/bench_rounding.py [--n 10000000] [--repeats 7] [--json] [--out FILE]

Elements per second (median over repeats) of round_to on n float64 values, for two inputs:
``in_range`` (standard normal times 100: no fp16 overflow) and ``wide`` (standard normal times a
log-uniform scale 2^-20..2^14, part of it overflowing fp16), for fp16, bf16 and fp8 E4M3FN in RNE and
stochastic modes; the baselines are numpy's float64 -> float16 cast and, where installed, ml_dtypes' casts
(which round twice for bf16/fp8, through float32). Ratios > 1 mean errbound is faster.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from errbound import round_to
from _timing import median_seconds  # benchmarks/_timing.py (script folder is on sys.path)

from errbound.results import provenance, to_jsonable, write_json_atomic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10**7)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", default=None, help="also write the JSON document to this file (atomically)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    inputs = {
        "in_range": rng.standard_normal(args.n) * 100.0,
        "wide": rng.standard_normal(args.n) * np.exp2(rng.uniform(-20, 14, args.n)),
    }
    rows = []
    for dist, x in inputs.items():
        _bench_one(dist, x, args, rows)
    result = {"n": args.n, "repeats": args.repeats, "rows": rows, "provenance": provenance()}
    if args.out:
        write_json_atomic(args.out, result)
    if args.json:
        print(json.dumps(to_jsonable(result), indent=2))
    else:
        print(f"{'input':9s} {'case':28s} {'median s':>9s} {'Melem/s':>9s} {'vs numpy fp16':>14s}")
        for row in rows:
            print(f"{row['input']:9s} {row['case']:28s} {row['median_s']:9.4f} {row['elements_per_s'] / 1e6:9.1f} "
                  f"{row['speedup_vs_numpy_fp16']:14.2f}")
    return 0


def _bench_one(dist: str, x: np.ndarray, args: argparse.Namespace, rows: list[dict]) -> None:
    def record(name: str, seconds: float, baseline: float | None) -> None:
        rows.append({"input": dist, "case": name, "median_s": seconds, "elements_per_s": x.size / seconds,
                     "speedup_vs_numpy_fp16": None if baseline is None else baseline / seconds})

    with np.errstate(over="ignore"):
        numpy_fp16 = median_seconds(lambda: x.astype(np.float16), args.repeats)
    record("numpy astype(float16)", numpy_fp16, numpy_fp16)
    try:
        import ml_dtypes

        for label, dtype in [("ml_dtypes bfloat16", ml_dtypes.bfloat16), ("ml_dtypes float8_e4m3fn", ml_dtypes.float8_e4m3fn)]:
            with np.errstate(over="ignore"):
                record(label, median_seconds(lambda d=dtype: x.astype(d), args.repeats), numpy_fp16)
    except ImportError:
        pass
    for fmt in ("fp16", "bf16", "fp8_e4m3fn"):
        record(f"round_to {fmt} rne", median_seconds(lambda f=fmt: round_to(x, f), args.repeats), numpy_fp16)
        record(f"round_to {fmt} sr", median_seconds(lambda f=fmt: round_to(x, f, "sr", rng=1), args.repeats), numpy_fp16)


if __name__ == "__main__":
    sys.exit(main())
