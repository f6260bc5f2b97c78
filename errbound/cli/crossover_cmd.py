"""``errbound crossover``: resolution s* where the precision error meets the discretization error,
per format (empirical and from worst-case bounds). Thin layer over :mod:`errbound.crossover`."""

from __future__ import annotations

import argparse

from errbound.cli._output import CommandOutput, format_table

HELP = "resolution where precision error meets discretization error, per format"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--function", metavar="F", help="built-in function spec name[:key=value,...]")
    src.add_argument("--data", metavar="FILE", help="samples (N, *grid) in .npy, .npz or .pt (empirical s* only)")
    parser.add_argument("--formats", default="fp16,bf16", metavar="LIST", help="comma-separated formats (default fp16,bf16)")
    parser.add_argument("--dim", type=int, default=2, help="dimension of a --function (1..3, default 2)")
    parser.add_argument("--modes", type=int, default=8, metavar="M",
                        help="retained modes per axis, neuraloperator's n_modes as for every command: the layer keeps "
                        "|w_i| <= K = M // 2 (default 8, K = 4)")
    parser.add_argument("--res", default=None, metavar="LIST",
                        help="resolutions (default: powers of two above M up to 65536 / 1024 / 64 for d = 1 / 2 / 3)")
    parser.add_argument("--key", default=None, help="array name in a .npz / key in a .pt dict (default 'x')")
    parser.add_argument("--sample-axis", choices=("0", "none"), default=None,
                        help="reading of a single 2-D array: 0 = rows are samples of a 1-D signal, none = one 2-D field")
    parser.add_argument("--output", default=None, metavar="FILE", help="also write the JSON document to FILE (atomically)")


def run(args: argparse.Namespace) -> CommandOutput:
    from errbound import crossover as cx
    from errbound._guard import check_grid
    from errbound.errors import ErrboundError
    from errbound.formats import get_format
    from errbound.results import provenance, write_json_atomic

    names = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not names:
        raise ErrboundError("no formats given; pass e.g. --formats fp16,bf16")
    fmts = [get_format(n).name for n in names]
    from errbound.modes import box_radius

    k = box_radius(args.modes)
    res = None
    if args.res:
        from errbound.cli.precision_cmd import _parse_res

        res = _parse_res(args.res)
    if args.function is not None:
        from errbound.functions import get_function

        fn = get_function(args.function, dim=args.dim)
        check_grid("crossover", res if res is not None else cx.default_ladder(fn.dim, k), fn.dim)
        result = cx.crossover(fn, fmts, dim=fn.dim, k=k, resolutions=res)
    else:
        from errbound.data_io import load_samples

        data = load_samples(args.data, key=args.key, modes=k, sample_axis=args.sample_axis)
        if res is not None:
            raise ErrboundError("--res is not used with --data (resolutions are the data grid divided by powers of two)")
        result = cx.crossover_data(data, fmts, k=k)
    rows = [{"format": f, **{k: v for k, v in r.items() if k not in ("prec_err", "prec_bound", "format", "why_none")}}
            for f, r in result["formats"].items()]
    guarantees = next((r["guarantees"] for r in rows if r.get("guarantees")), None)
    data_out = {"command": "crossover", **result, "rows": rows, "provenance": provenance()}
    if args.output:
        write_json_atomic(args.output, data_out)
    cols = ["format", "s_star_input_model", "s_star_proven", "s_star_empirical", "status_empirical",
            "s_star_class_empirical", "s_star_bound", "status_bound", "s_star_class", "s_overflow"]
    lines = [
        f"crossover of precision and discretization error: {result.get('function') or args.data}, "
        f"{result['dim']}-D, {args.modes} modes per axis: |w_i| <= {result['modes']}, resolutions {result['resolutions']}",
        "",
        format_table(rows, [c for c in cols if c in rows[0]]),
    ]
    if guarantees:
        lines += ["", "what each s* guarantees (docs/theory.md section 4):"]
        lines += [f"  {name}: {text}" for name, text in guarantees.items()]
    notes = [f"  {f} {field} None: {why}" for f, r in result["formats"].items()
             for field, why in r.get("why_none", {}).items()]
    if notes:
        lines += ["", "why None:", *notes]
    return CommandOutput(data=data_out, text="\n".join(lines))
