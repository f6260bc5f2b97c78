"""Speed of the emulated transforms against numpy's float64 FFT and round_to, same run.

Usage: python benchmarks/bench_emulate.py [--n 1024] [--repeats 5] [--json] [--out FILE]

Median wall time over repeats (after one warm-up) of:

* ``rfft2_fp16``: emulated fp16 ``rfft2`` of an n x n float64 input, norm="forward" (target: < 3 s
  at n = 1024 on the project's 2-core machine); also bf16 and a 421 x 421 (Bluestein) grid;
* ``predict_overflow_fp16``: exact magnitude propagation with rounding bands, same input;
* ``dft_modes_fp16_fp32``: truncated DFT by matrix products, 16 x 16 retained modes;
* baselines: ``numpy.fft.rfft2`` (float64) and ``round_to`` on n*n values (one rounding pass).

Reported ratios: emulated time / numpy FFT time, and emulated time / one round_to pass over the
same number of values (the emulator does about 3 rounding passes per radix-2 stage).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from errbound import emulate, round_to
from _timing import median_seconds  # benchmarks/_timing.py (script folder is on sys.path)

from errbound.results import provenance, to_jsonable, write_json_atomic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", default=None, help="also write the JSON document to this file (atomically)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    n = args.n
    x = rng.standard_normal((n, n))
    x421 = rng.standard_normal((421, 421))
    base_fft = median_seconds(lambda: np.fft.rfft2(x, norm="forward"), args.repeats)
    base_round = median_seconds(lambda: round_to(x, "fp16"), args.repeats)
    cases = {
        "rfft2_fp16": lambda: emulate.rfft2(x, "fp16", norm="forward"),
        "rfft2_bf16": lambda: emulate.rfft2(x, "bf16", norm="forward"),
        "rfft2_fp16_421x421_bluestein": lambda: emulate.rfft2(x421, "fp16", norm="forward"),
        "predict_overflow_fp16": lambda: emulate.predict_overflow(x, "fp16", norm="forward"),
        "dft_modes_fp16_fp32_k16": lambda: emulate.dft_modes(x, (16, 16), ("fp16", "fp32"), norm="forward"),
    }
    rows = []
    for name, fn in cases.items():
        t = median_seconds(fn, args.repeats)
        rows.append({"case": name, "median_s": t, "ratio_vs_numpy_rfft2": t / base_fft,
                     "ratio_vs_one_round_to_pass": t / base_round})
        print(f"  {name}: {t:.3f} s", file=sys.stderr)
    result = {
        "n": n, "repeats": args.repeats,
        "baselines": {"numpy_rfft2_float64_s": base_fft, "round_to_fp16_n2_values_s": base_round},
        "target": {"case": "rfft2_fp16", "max_s": 3.0, "met": rows[0]["median_s"] < 3.0} if n == 1024 else None,
        "rows": rows, "provenance": provenance(),
    }
    if args.out:
        write_json_atomic(args.out, result)
    if args.json:
        print(json.dumps(to_jsonable(result), indent=2))
    else:
        print(f"baselines: numpy rfft2 {base_fft:.4f} s, round_to on {n * n} values {base_round:.4f} s")
        print(f"{'case':32s} {'median s':>9s} {'x numpy':>9s} {'x round_to':>10s}")
        for r in rows:
            print(f"{r['case']:32s} {r['median_s']:9.3f} {r['ratio_vs_numpy_rfft2']:9.0f} {r['ratio_vs_one_round_to_pass']:10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
