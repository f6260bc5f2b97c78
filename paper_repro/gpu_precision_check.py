"""GPU validation of the fp16 emulator: torch cuFFT ``rfft2`` in half precision against the emulator.

For smooth, discontinuous and random inputs on n x n grids (n = 16 .. 2048, powers of two: cuFFT's
half precision needs them) and for constant inputs at the overflow edge (m * mean(v) just below and
just above 65504), it records

* ``gpu_err``: normwise relative error of ``torch.fft.rfft2(x16.cuda(), norm="forward")`` against the
  float64 transform of the data as given (``x16`` cast on the host with numpy, one correct rounding);
* ``emu_err`` / ``emu_err_tw32``: the same for the emulator with fp16 twiddles / fp32 twiddles;
* ``ratio`` = emu_err / gpu_err (acceptance: within a factor 1.5 either way) for both emulator variants;
* ``gpu_overflow``, ``emu_overflow``, ``predicted_overflow`` (inf/NaN produced; prediction from exact
  magnitudes) and whether they agree.

Run on the device (one prepared run, JSON to $OUT):

    PYTHONPATH=. python3 paper_repro/gpu_precision_check.py --out "$OUT/gpu_precision_check.json"

``--dry-run`` runs on CPU with small sizes and a CPU stand-in for cuFFT (torch float32 FFT of the fp16
input, result rounded to fp16 per component: NOT a cuFFT measurement); the tests use it to exercise
everything except the GPU call. The JSON says which mode produced it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048]
DRY_SIZES = [16, 32]
KINDS = ("smooth", "step", "random")
FP16_MAX = 65504.0


def make_input(kind: str, n: int, seed: int = 0) -> np.ndarray:
    """The n x n sample grid of one input kind (float64)."""
    from errbound.functions import get_function

    if kind == "smooth":
        return get_function("smooth", dim=2).eval_grid(n)
    if kind == "step":
        return get_function("step", dim=2).eval_grid(n)
    if kind == "random":
        return np.random.default_rng(seed + n).standard_normal((n, n))
    if kind.startswith("edge"):
        # constant input with m * v = FP16_MAX * (1 +- 2^-8): the DC term sits just below / above 65504
        m = n * n
        factor = 1 - 2.0**-8 if kind == "edge_below" else 1 + 2.0**-8
        v = np.float64(np.float16(FP16_MAX * factor / m))
        return np.full((n, n), v)
    raise ValueError(f"unknown input kind {kind!r}")


def device_rfft2(x: np.ndarray, dry_run: bool) -> tuple[np.ndarray, str]:
    """fp16 rfft2 with norm='forward' on the device (cuFFT), or the CPU stand-in in dry-run mode."""
    import torch

    x16 = np.asarray(x, dtype=np.float16)  # numpy rounds float64 -> fp16 once (torch would round twice)
    if dry_run:
        y = torch.fft.rfft2(torch.from_numpy(x16.astype(np.float32)), norm="forward").numpy()
        with np.errstate(over="ignore"):
            yr = y.real.astype(np.float16).astype(np.float64)
            yi = y.imag.astype(np.float16).astype(np.float64)
        return yr + 1j * yi, "cpu stand-in (float32 FFT of the fp16 input, rounded to fp16): not cuFFT"
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --dry-run on a CPU machine")
    t = torch.from_numpy(x16).cuda()
    y = torch.fft.rfft2(t, norm="forward")
    torch.cuda.synchronize()
    try:
        y = y.to(torch.complex64).cpu().numpy().astype(np.complex128)
    except RuntimeError:  # complex-half conversion unsupported: go through the real view
        parts = torch.view_as_real(y).to(torch.float32).cpu().numpy().astype(np.float64)
        y = parts[..., 0] + 1j * parts[..., 1]
    return y, f"cuFFT on {torch.cuda.get_device_name(0)}"


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    if not np.all(np.isfinite(a)):
        return math.inf
    den = float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / den if den else 0.0


def check_case(kind: str, n: int, dry_run: bool) -> dict[str, Any]:
    from errbound.emulate import FFTConfig, predict_overflow, rfft2

    x = make_input(kind, n)
    exact = np.fft.rfft2(x, norm="forward")
    t0 = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):
        gpu, how = device_rfft2(x, dry_run)
    t_gpu = time.perf_counter() - t0
    row: dict[str, Any] = {"kind": kind, "n": n, "device_path": how, "gpu_time_s": t_gpu}
    row["gpu_overflow"] = bool(not np.all(np.isfinite(gpu)))
    row["gpu_err"] = rel_err(gpu, exact)
    for label, tw in (("", None), ("_tw32", "fp32")):
        cfg = FFTConfig(fmt="fp16", twiddle_fmt=tw)
        t0 = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):
            emu = rfft2(x, cfg, norm="forward")
        row[f"emu_time_s{label}"] = time.perf_counter() - t0
        row[f"emu_overflow{label}"] = bool(not np.all(np.isfinite(emu)))
        row[f"emu_err{label}"] = rel_err(emu, exact)
        g, e = row["gpu_err"], row[f"emu_err{label}"]
        if math.isfinite(g) and math.isfinite(e) and g > 0:
            row[f"ratio{label}"] = e / g
            row[f"within_1_5{label}"] = bool(1 / 1.5 <= e / g <= 1.5)
        else:
            row[f"ratio{label}"] = None
            row[f"within_1_5{label}"] = None
    pred = predict_overflow(x, FFTConfig(fmt="fp16"), transform="rfftn", norm="forward")
    row["predicted_overflow"] = bool(pred.overflow)
    row["overflow_agree"] = bool(row["gpu_overflow"] == row["emu_overflow"] == row["predicted_overflow"])
    return row


def run(sizes: list[int], dry_run: bool) -> dict[str, Any]:
    from errbound.results import provenance

    rows = []
    cases = [(k, n) for n in sizes for k in KINDS]
    edge_n = 256 if not dry_run else 16
    cases += [("edge_below", edge_n), ("edge_above", edge_n)]
    for kind, n in cases:
        rows.append(check_case(kind, n, dry_run))
        print(f"{kind:>10} n={n:<5} gpu {rows[-1]['gpu_err']:.3e} emu {rows[-1]['emu_err']:.3e} "
              f"emu_tw32 {rows[-1]['emu_err_tw32']:.3e} overflow gpu/emu/pred "
              f"{rows[-1]['gpu_overflow']}/{rows[-1]['emu_overflow']}/{rows[-1]['predicted_overflow']}",
              file=sys.stderr)
    finite = [r for r in rows if r["ratio"] is not None]
    finite32 = [r for r in rows if r["ratio_tw32"] is not None]
    try:
        import torch

        tv = {"torch": torch.__version__, "cuda": getattr(torch.version, "cuda", None)}
    except ImportError:  # pragma: no cover
        tv = {"torch": None, "cuda": None}
    return {
        "script": "paper_repro/gpu_precision_check.py",
        "mode": "dry-run (CPU stand-in, not a GPU measurement)" if dry_run else "gpu",
        "sizes": sizes,
        "rows": rows,
        "summary": {
            "cases": len(rows),
            "ratio_within_1_5": sum(bool(r["within_1_5"]) for r in finite),
            "ratio_cases": len(finite),
            "ratio_within_1_5_tw32": sum(bool(r["within_1_5_tw32"]) for r in finite32),
            "max_ratio": max((max(r["ratio"], 1 / r["ratio"]) for r in finite if r["ratio"]), default=None),
            "overflow_agree": sum(r["overflow_agree"] for r in rows),
        },
        "torch": tv,
        "provenance": provenance(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None,
                        help="JSON path (default $OUT/gpu_precision_check.json, else paper_repro/results/...)")
    parser.add_argument("--sizes", default=None, help="comma-separated n (default 16..2048; dry run 16,32)")
    parser.add_argument("--dry-run", action="store_true", help="CPU stand-in for cuFFT, small sizes (for tests)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (DRY_SIZES if args.dry_run else DEFAULT_SIZES)
    for n in sizes:
        if n < 2 or n & (n - 1):
            parser.error(f"sizes must be powers of two >= 2 (cuFFT half precision), got {n}")
    if args.out:
        out = Path(args.out)
    elif os.environ.get("OUT"):
        out = Path(os.environ["OUT"]) / "gpu_precision_check.json"
    else:
        out = Path(__file__).resolve().parent / "results" / "gpu_precision_check.json"
    from errbound.results import write_json_atomic

    data = run(sizes, args.dry_run)
    write_json_atomic(out, data)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
