"""``errbound precision``: emulated low-precision error of a Fourier layer (or its bare forward
transform), with worst-case and probabilistic bounds and overflow facts.

Thin layer over :mod:`errbound.precision`; nothing heavy is imported at module level.
"""

from __future__ import annotations

import argparse

from errbound.cli._output import CommandOutput, format_table

HELP = "emulated low-precision error of a Fourier layer/transform, bounds and overflow"

DEFAULT_RES = {1: "64,256,1024,4096", 2: "32,64,128,256", 3: "16,32"}
COLUMNS = ["res", "prec_err_rel", "layer_err_rel", "bound_worst", "bound_prob", "overflow", "max_intermediate",
           "prescale_exp"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from errbound.modes import DEFAULT_MODES
    from errbound.policy import BACKENDS, PRECISION_NAMES, STABILIZERS
    from errbound.precision import DEFAULT_SAMPLES, ENGINES

    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--function", metavar="F", help="built-in function spec name[:key=value,...] (e.g. smooth:a=1)")
    src.add_argument("--data", metavar="FILE", help="samples (N, *grid) in .npy, .npz or .pt ({'x': ..., 'y': ...})")
    parser.add_argument("--precision", default="half", metavar="P",
                        help=f"spectral-block precision, the trainer's names: {', '.join(PRECISION_NAMES)}, optionally "
                        f"+stabilizer ({', '.join(STABILIZERS)}); aliases dft-half, dft-bf16 (default half)")
    parser.add_argument("--backend", default="fft", metavar="B",
                        help=f"{' or '.join(BACKENDS)}: fft, the emulated FFT (cuFFT's algorithm); dft, matrix products "
                        "of the retained modes")
    parser.add_argument("--engine", default="emulator", metavar="E",
                        help=f"{' or '.join(ENGINES)}: emulator: the numpy emulation; torch: the trainer's own spectral layer on this CPU "
                        "(bit for bit the emulator for reduced-precision blocks)")
    parser.add_argument("--format", default=None, metavar="FMT",
                        help="low format when --precision names none (e.g. --precision half --format bf16, or any "
                        "format such as fp8_e4m3 or 't11emax15' for the emulator); the format of --transform rfft2")
    parser.add_argument("--res", default=None, metavar="LIST",
                        help="comma-separated resolutions; functions default by dimension "
                        + "; ".join(f"{d}-D {r}" for d, r in DEFAULT_RES.items())
                        + "; data default: its own grid (other values must divide it: strided subsampling)")
    parser.add_argument("--dim", type=int, default=2, help="dimension of a --function (1..3)")
    parser.add_argument("--modes", type=int, default=None, metavar="M",
                        help="retained modes per axis, neuraloperator's n_modes (default by dimension "
                        + ", ".join(f"{d}-D {m}" for d, m in DEFAULT_MODES.items()) + ", capped by the grid)")
    parser.add_argument("--channels", type=int, default=1, metavar="C", help="channels in and out of the block")
    parser.add_argument("--transform", choices=("block", "rfft2"), default="block",
                        help="block: the whole spectral block; rfft2: the bare forward transform "
                        "(input cast to FMT, normalized like torch's norm='forward')")
    parser.add_argument("--stabilizer", default=None,
                        help="override the precision's stabilizer: none, tanh, clip, sigma2 or pow2 "
                        "(aliases prescale, std_clip)")
    parser.add_argument("--key", default=None, help="array name in a .npz / key in a .pt dict (default 'x')")
    parser.add_argument("--sample-axis", choices=("0", "none"), default=None,
                        help="reading of a single 2-D array: 0 = rows are samples of a 1-D signal, none = one 2-D field")
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, metavar="N", help="use the first N data samples")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--lam", type=float, default=3.0,
                        help="lambda of the probabilistic bound; failure probability 2 exp(-lambda^2/2)")
    parser.add_argument("--twiddle-fmt", default=None, metavar="FMT",
                        help="format of FFT twiddle factors (default: the working format; emulator only)")
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
    from errbound.policy import parse_policy
    from errbound.results import provenance, write_json_atomic

    from errbound.policy import BACKENDS

    if args.engine not in precision.ENGINES:
        raise ErrboundError(f"unknown engine {args.engine!r}; choose one of: {', '.join(precision.ENGINES)}")
    if args.backend not in BACKENDS:
        raise ErrboundError(f"unknown backend {args.backend!r}; choose one of: {', '.join(BACKENDS)}")
    if args.modes is not None and args.modes < 1:
        raise ErrboundError(f"--modes must be >= 1, got {args.modes}")
    if args.samples < 1:
        raise ErrboundError(f"--samples must be >= 1, got {args.samples}")
    if args.channels < 1:
        raise ErrboundError(f"--channels must be >= 1, got {args.channels}")
    if args.lam <= 0:
        raise ErrboundError(f"--lam must be > 0, got {args.lam}")
    twiddle = get_format(args.twiddle_fmt) if args.twiddle_fmt else None
    policy = parse_policy(args.precision, args.backend, low=args.format, stabilizer=args.stabilizer,
                          twiddle_fmt=twiddle)
    if twiddle is not None and args.engine == "torch":
        raise ErrboundError("--twiddle-fmt is an emulator option; the torch engine keeps twiddles in the working "
                            "format (drop --twiddle-fmt or use --engine emulator)")
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

        data = load_samples(args.data, key=args.key, modes=None, sample_axis=args.sample_axis)
        data = data[: args.samples * args.channels]
        grid = data.shape[1:]
        res_list = _parse_res(args.res) if args.res is not None else [grid[0]]
        check_grid("precision", res_list, len(grid))
        if args.res is None and any(g != grid[0] for g in grid):
            res_list = [grid[0]]
        for r in res_list:
            samples[r] = precision.source_arrays(data=data, res=None if args.res is None else r)
        source = str(args.data)
    rows = precision.sweep(samples, policy, modes=args.modes, transform=args.transform, channels=args.channels,
                           seed=args.seed, lam=args.lam, engine=args.engine, fmt=args.format, twiddle_fmt=twiddle)
    data_out = {
        "command": "precision",
        "source": source,
        "precision": policy.name if args.transform == "block" else None,
        "backend": policy.backend if args.transform == "block" else None,
        "engine": args.engine,
        "policy": policy.as_dict() if args.transform == "block" else None,
        "format": (policy.low.name if policy.low is not None else "fp32") if args.transform == "block"
        else get_format(args.format or "fp16").name,
        "transform": args.transform,
        "stabilizer": policy.stabilizer.kind,
        "modes": args.modes,
        "channels": args.channels,
        "seed": args.seed,
        "lambda": args.lam,
        "failure_prob": rows[0]["failure_prob"] if rows else None,
        "rows": rows,
        "provenance": provenance(),
    }
    if args.output:
        write_json_atomic(args.output, data_out)
    what = ("bare forward rfftn (torch norm='forward' order)" if args.transform == "rfft2"
            else f"spectral block, precision {policy.name}, backend {policy.backend}, engine {args.engine}")
    modes = rows[0].get("modes") if rows else None
    lines = [
        f"precision error of {what}: {source}, modes {modes or args.modes}, channels {args.channels}",
        "",
        format_table(rows, COLUMNS),
        "",
        f"prec_err_rel: spectrum vs the exact transform of the data as given; bound_worst: P2/P4/P5; bound_prob: P3 "
        f"(fails with probability <= {rows[0]['failure_prob']:.3g} under the rounding model).",
    ]
    if any(r["overflow"] for r in rows):
        lines.append("overflow: inf/NaN produced; prescale_exp is the power-of-two pre-scale of the pow2 stabilizer "
                     "(use --precision <name>+pow2).")
    return CommandOutput(data=data_out, text="\n".join(lines))
