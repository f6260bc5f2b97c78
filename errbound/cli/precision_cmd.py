"""``errbound precision``: emulated low-precision error of a Fourier layer (or its bare forward
transform), with worst-case and probabilistic bounds and overflow facts.

Thin layer over :mod:`errbound.precision`; nothing heavy is imported at module level.
"""

from __future__ import annotations

import argparse

from errbound.cli._output import CommandOutput, format_table

HELP = "emulated low-precision error of a Fourier layer/transform, bounds and overflow"

DEFAULT_RES = {1: "64,256,1024,4096", 2: "32,64,128,256", 3: "16,32"}
PRESET_CHOICES = ("full", "mixed", "half", "dft-half", "dft-bf16")
COLUMNS = ["res", "prec_err_rel", "layer_err_rel", "bound_worst", "bound_prob", "overflow", "max_intermediate",
           "prescale_exp"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--function", metavar="F", help="built-in function spec name[:key=value,...] (e.g. smooth:a=1)")
    src.add_argument("--data", metavar="FILE", help="samples (N, *grid) in .npy, .npz or .pt ({'x': ..., 'y': ...})")
    parser.add_argument("--format", required=True, metavar="FMT",
                        help="low-precision format: fp16 bf16 fp8_e4m3fn fp8_e4m3 fp8_e5m2 tf32 fp32 or a custom 't11emax15'")
    parser.add_argument("--preset", default="half", metavar="P",
                        help=f"spectral-block preset: {', '.join(PRESET_CHOICES)} (default half)")
    parser.add_argument("--res", default=None, metavar="LIST",
                        help="comma-separated resolutions; functions default by dimension "
                        + "; ".join(f"{d}-D {r}" for d, r in DEFAULT_RES.items())
                        + "; data default: its own grid (other values must divide it: strided subsampling)")
    parser.add_argument("--dim", type=int, default=2, help="dimension of a --function (1..3, default 2)")
    parser.add_argument("--modes", type=int, default=8, metavar="K", help="retained modes per axis, FNO layout (default 8)")
    parser.add_argument("--transform", choices=("block", "rfft2"), default="block",
                        help="block: the whole spectral block (default); rfft2: the bare forward transform "
                        "(input cast to FMT, normalized like torch's norm='forward')")
    parser.add_argument("--stabilizer", default="none", help="none, tanh, clip, std_clip or prescale (default none)")
    parser.add_argument("--key", default=None, help="array name in a .npz / key in a .pt dict (default 'x')")
    parser.add_argument("--sample-axis", choices=("0", "none"), default=None,
                        help="reading of a single 2-D array: 0 = rows are samples of a 1-D signal, none = one 2-D field")
    parser.add_argument("--samples", type=int, default=1, metavar="N", help="use the first N data samples (default 1)")
    parser.add_argument("--channels-out", type=int, default=1, help="output channels of the random weights (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (default 0)")
    parser.add_argument("--lam", type=float, default=3.0,
                        help="lambda of the probabilistic bound; failure probability 2 exp(-lambda^2/2) (default 3)")
    parser.add_argument("--twiddle-fmt", default=None, metavar="FMT",
                        help="format of FFT twiddle factors (default: the working format)")
    parser.add_argument("--output", default=None, metavar="FILE", help="also write the JSON document to FILE (atomically)")


def _parse_res(text: str) -> list[int]:
    from errbound.errors import ErrboundError

    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            value = int(item)
        except ValueError:
            raise ErrboundError(f"resolutions must be integers separated by commas (e.g. 32,64), got {item!r}") from None
        if value < 2:
            raise ErrboundError(f"resolution must be >= 2, got {value}")
        out.append(value)
    if not out:
        raise ErrboundError("no resolutions given; pass e.g. --res 32,64")
    return sorted(set(out))


def run(args: argparse.Namespace) -> CommandOutput:
    from errbound import precision
    from errbound._guard import check_grid
    from errbound.errors import ErrboundError
    from errbound.formats import get_format
    from errbound.results import provenance, write_json_atomic
    from errbound.spectral_block import PRESETS, STABILIZERS, preset

    fmt = get_format(args.format)
    if args.preset not in PRESETS:
        raise ErrboundError(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
    if args.stabilizer not in STABILIZERS:
        raise ErrboundError(f"unknown stabilizer {args.stabilizer!r}; choose one of {', '.join(STABILIZERS)}")
    if args.modes < 1:
        raise ErrboundError(f"--modes must be >= 1, got {args.modes}")
    if args.samples < 1:
        raise ErrboundError(f"--samples must be >= 1, got {args.samples}")
    if args.lam <= 0:
        raise ErrboundError(f"--lam must be > 0, got {args.lam}")
    twiddle = get_format(args.twiddle_fmt) if args.twiddle_fmt else None
    if args.transform == "block":
        preset(args.preset, None if args.preset == "full" else fmt, stabilizer=args.stabilizer, twiddle_fmt=twiddle)
    samples: dict[int, object] = {}
    if args.function is not None:
        from errbound.functions import get_function

        fn = get_function(args.function, dim=args.dim)
        res_list = _parse_res(args.res if args.res is not None else DEFAULT_RES[fn.dim])
        check_grid("precision", res_list, fn.dim)
        for r in res_list:
            samples[r] = precision.source_arrays(function=fn, res=r, dim=fn.dim)
        source = fn.spec
    else:
        from errbound.data_io import load_samples

        data = load_samples(args.data, key=args.key, modes=args.modes if args.transform == "block" else None, sample_axis=args.sample_axis)
        data = data[: args.samples]
        grid = data.shape[1:]
        res_list = _parse_res(args.res) if args.res is not None else [grid[0]]
        check_grid("precision", res_list, len(grid))
        if args.res is None and any(g != grid[0] for g in grid):
            res_list = [grid[0]]
        for r in res_list:
            samples[r] = precision.source_arrays(data=data, res=None if args.res is None else r)
        source = str(args.data)
    rows = precision.sweep(samples, fmt, preset_name=args.preset, modes=args.modes, transform=args.transform,
                           stabilizer=args.stabilizer, channels_out=args.channels_out, seed=args.seed, lam=args.lam,
                           twiddle_fmt=twiddle)
    data_out = {
        "command": "precision",
        "source": source,
        "format": fmt.name,
        "preset": args.preset if args.transform == "block" else None,
        "transform": args.transform,
        "stabilizer": args.stabilizer,
        "modes": args.modes,
        "lambda": args.lam,
        "failure_prob": rows[0]["failure_prob"] if rows else None,
        "rows": rows,
        "provenance": provenance(),
    }
    if args.output:
        write_json_atomic(args.output, data_out)
    what = "bare forward rfftn (torch norm='forward' order)" if args.transform == "rfft2" else f"spectral block, preset {args.preset}"
    lines = [
        f"precision error of {what} in {fmt.name}: {source}, modes {args.modes}, stabilizer {args.stabilizer}",
        "",
        format_table(rows, COLUMNS),
        "",
        f"prec_err_rel: spectrum vs the exact transform of the data as given; bound_worst: P2/P4/P5; bound_prob: P3 "
        f"(fails with probability <= {rows[0]['failure_prob']:.3g} under the rounding model).",
    ]
    if any(r["overflow"] for r in rows):
        lines.append("overflow: inf/NaN produced; prescale_exp is the optimal power-of-two pre-scale "
                     "(use --stabilizer prescale).")
    return CommandOutput(data=data_out, text="\n".join(lines))
