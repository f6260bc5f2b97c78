"""``errbound round VALUE... --format F [--mode M]``: rounded values and their rounding errors."""

from __future__ import annotations

import argparse
from fractions import Fraction

from errbound.cli._output import CommandOutput, format_table
from errbound.errors import ErrboundError

HELP = "round values into a format and show the rounding error"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("values", nargs="+", metavar="VALUE", help="decimal values (e.g. 0.1 65520 1e-8 inf nan)")
    parser.add_argument("--format", "-f", required=True, metavar="F", help="format name or custom string (errbound formats)")
    parser.add_argument("--mode", "-m", default="rne", help="rne, rna, rz, ru, rd or sr (default rne)")
    parser.add_argument("--seed", type=int, default=0, help="seed for stochastic rounding (default 0)")


def _parse(text: str) -> Fraction | float:
    """The exact rational value of a decimal string (inf/nan as floats)."""
    try:
        return Fraction(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise ErrboundError(f"cannot read {text!r} as a number; give decimal values like 0.1, -3e5, inf or nan") from None
    return value


def _as_float(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return float("inf")


def run(args: argparse.Namespace) -> CommandOutput:
    import math

    import numpy as np

    from errbound.formats import get_format
    from errbound.rounding import ROUNDING_MODES, round_to

    fmt = get_format(args.format)
    if args.mode not in ROUNDING_MODES:
        raise ErrboundError(f"unknown rounding mode {args.mode!r}; choose one of {', '.join(ROUNDING_MODES)}")
    from errbound.arith import round_exact

    exact = [_parse(v) for v in args.values]
    rng = np.random.default_rng(args.seed) if args.mode == "sr" else None
    rows = []
    for text, q in zip(args.values, exact):
        if isinstance(q, Fraction):
            # The decimal is rounded *once*: hi = RN64(q) and the sign of q - hi drive round-to-odd.
            try:
                hi = float(q)
                direction = float((q > Fraction(hi)) - (q < Fraction(hi)))
            except OverflowError:
                hi, direction = (math.inf if q > 0 else -math.inf), 0.0
            r = float(round_exact(np.float64(hi), np.float64(direction), fmt, args.mode, rng))
            x = hi
        else:
            x = q
            r = float(round_to(np.float64(q), fmt, args.mode, rng=rng))
        if isinstance(q, Fraction) and math.isfinite(r):
            abs_err = float(abs(Fraction(r) - q))  # exact difference, rounded once to float64
            rel_err = _as_float(abs(Fraction(r) - q) / abs(q)) if q != 0 else 0.0
        else:
            abs_err = rel_err = None
        rows.append({"input": text, "value": x, "rounded": r, "abs_err": abs_err, "rel_err": rel_err,
                     "rel_err_over_u": None if rel_err is None else rel_err / fmt.u})
    data = {"format": fmt.as_dict(), "mode": args.mode, "results": rows}
    text = f"format {fmt.name} (t={fmt.t}, u={fmt.u:.3e}), mode {args.mode}; decimals are rounded once, exactly\n" + format_table(
        rows, ["input", "rounded", "abs_err", "rel_err", "rel_err_over_u"], digits=8
    )
    return CommandOutput(data=data, text=text)
