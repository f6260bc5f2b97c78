"""``errbound discretization``: discretization error of a Fourier layer across resolutions, with bounds.

Thin layer over :func:`errbound.discretization.sweep`; nothing heavy is imported at module level.
"""

from __future__ import annotations

import argparse

from errbound.cli._output import CommandOutput, format_number, format_table

HELP = "discretization error of a Fourier layer across resolutions, with bounds"

DEFAULT_RES = {1: "16,32,64,128,256,512,1024,2048,4096", 2: "16,32,64,128,256,512", 3: "16,32,64"}

COLUMNS = ["res", "modes", "mode_err_max", "layer_err_rel", "bound_upper", "bound_lower", "ratio_upper", "bound_upper_by"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--function", required=True, metavar="F",
                        help="function spec name[:key=value,...]; names: trig smooth tent step sobolev grf aliased tentgrid")
    parser.add_argument("--dim", type=int, default=None, help="dimension d in 1..3 (default 2, or dim= in the spec)")
    parser.add_argument("--res", default=None, metavar="LIST",
                        help="comma-separated resolutions (points per axis); default by dimension: "
                        + "; ".join(f"{d}-D {r}" for d, r in DEFAULT_RES.items()))
    parser.add_argument("--modes", type=int, default=8, metavar="M",
                        help="retained modes per axis, neuraloperator's n_modes as for every command: the layer keeps "
                        "|w_i| <= K = M // 2 (default 8, K = 4)")
    parser.add_argument("--clip-modes", action="store_true",
                        help="keep the (s-1)//2 modes a grid s <= 2K resolves instead of rejecting such resolutions "
                        "(by default res <= 2K is an error: the modes are not resolvable)")
    parser.add_argument("--method", choices=("reference", "float64"), default="reference",
                        help="per-mode errors from the high-precision reference (default, cached) or the float64 fast path")
    parser.add_argument("--dps", type=int, default=30, help="mpmath digits of the reference (>= 30; default 30)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS", help="run on a Dask cluster (scheduler address; needs errbound[dask])")
    parser.add_argument("--cache", default=None, metavar="DIR",
                        help="reference cache folder (default $ERRBOUND_CACHE, $XDG_CACHE_HOME/errbound or ~/.cache/errbound)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the reference cache")
    parser.add_argument("--seed", type=int, default=0, help="seed of the layer weights (default 0)")


def _display(row: dict) -> dict:
    """Show values below the float64 range as 10^x (from the log10 fields) in the text table."""
    out = dict(row)
    for key in ("mode_err_max", "bound_upper"):
        log = row.get(f"{key}_log10")
        if row.get(key) == 0 and log is not None:
            out[key] = f"10^{log:.1f}"
    return out


def run(args: argparse.Namespace) -> CommandOutput:
    from errbound.discretization import sweep
    from errbound.errors import ErrboundError
    from errbound.functions import get_function
    from errbound.modes import box_radius
    from errbound.results import provenance

    k = box_radius(args.modes)
    fn = get_function(args.function, dim=2 if args.dim is None and "dim=" not in args.function else args.dim)
    res = args.res if args.res is not None else DEFAULT_RES[fn.dim]
    if args.no_cache and args.cache:
        raise ErrboundError("--cache and --no-cache contradict each other; pass one of them")
    cache = False if args.no_cache else args.cache
    from errbound._guard import check_grid
    from errbound.discretization import parse_resolutions

    check_grid("discretization", parse_resolutions(res), fn.dim, timed=args.method == "reference")
    result = sweep(fn, resolutions=res, modes=k, method=args.method, dps=args.dps, jobs=args.jobs,
                   dask=args.dask, cache=cache, strict_modes=not args.clip_modes, layer_seed=args.seed)
    data = {"command": "discretization", **result, "n_modes": args.modes, "provenance": provenance()}
    lines = [
        f"discretization error of a Fourier layer: {result['function']} in {result['dim']}-D, {args.modes} modes per "
        f"axis: |w_i| <= {k}",
        f"M = {format_number(result['M'])}"
        + (f", L = {format_number(result['L'])}" if result["L"] is not None else ", not Lipschitz")
        + f"; reference: {result['rows'][0]['reference']}",
        "",
        format_table([_display(row) for row in result["rows"]], COLUMNS),
        "",
    ]
    clipped = [r["res"] for r in result["rows"] if r["modes"] < k]
    if clipped:
        lines.append(f"note: resolutions {clipped} cannot hold modes up to {k}; they keep |w_i| <= (res-1)//2 "
                     "(--clip-modes)")
    rate = result["rate"]
    theory = result["rate_theory"]
    lines.append(f"fitted rate (log-log slope of mode_err_max over res {result['rate_fit_resolutions']}): "
                 f"{format_number(rate) if rate is not None else 'n/a'}; theory: "
                 f"{format_number(theory) if theory is not None else 'n/a'} ({result['rate_note']})")
    if theory is None and any(r is not None for r in result["local_rates"]):
        lines.append("local rates between consecutive resolutions: "
                     + ", ".join("n/a" if r is None else format_number(r, 3) for r in result["local_rates"]))
    lines.append(f"time {result['elapsed_s']:.2f} s")
    return CommandOutput(data=data, text="\n".join(lines))
