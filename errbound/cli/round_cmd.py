"""``errbound round VALUE... --format F [--mode M]``: rounded values and their rounding errors.

Every VALUE is read as an exact rational and rounded once (:func:`errbound.rounding.round_rational`), also
beyond float64's range (``1e400`` in ``rz`` is fp16's max 65504, not inf): decimals (``0.1``, ``-1e-8``,
``1e400``), hex floats (``0x1p-30``, ``-0x1.8p+3``), ``inf``, ``-inf``, ``nan``; a negative zero keeps its
sign. Negative values need no ``--``. Integers in the output are printed exactly (65504, not 6.55e+04),
other values as the shortest decimal that reads back to the same float64.
"""

from __future__ import annotations

import argparse
import math
import re
from decimal import Decimal, localcontext
from fractions import Fraction

from errbound.cli._output import CommandOutput, format_table
from errbound.errors import ErrboundError

HELP = "round values into a format and show the rounding error"

#: Largest decimal (or binary, for hex floats) exponent read exactly: 10**100000 has 332,000 bits, still fast;
#: every format rounds anything beyond 1e+-400 like 1e+-400 (overflow or underflow), so larger exponents add nothing.
_MAX_EXPONENT = 100_000
_DEC_EXP = re.compile(r"e([+-]?\d+)$", re.IGNORECASE)
_HEX = re.compile(r"^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$", re.IGNORECASE)
#: Arguments that argparse must read as values, not options: any negative number, -inf, -nan, hex.
_NEGATIVE_VALUE = re.compile(
    r"^-(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|inf(?:inity)?|nan|0x[0-9a-f]*(?:\.[0-9a-f]*)?(?:p[+-]?\d+)?)$",
    re.IGNORECASE,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("values", nargs="+", metavar="VALUE",
                        help="decimal or hex values, read exactly (e.g. 0.1 65520 -1e-8 1e400 0x1p-30 -0.0 -inf nan)")
    parser.add_argument("--format", "-f", required=True, metavar="F", help="format name or custom string (errbound formats)")
    parser.add_argument("--mode", "-m", default="rne", help="rne, rna, rz, ru, rd or sr (default rne)")
    parser.add_argument("--seed", type=int, default=0, help="seed for stochastic rounding, an integer >= 0 (default 0)")
    # argparse reads '-1e-8' or '-inf' as an option unless its negative-number pattern matches them
    parser._negative_number_matcher = _NEGATIVE_VALUE  # noqa: SLF001 - the documented-by-source hook


def parse_value(text: str) -> tuple[Fraction | float, bool]:
    """``(value, negative)``: the exact rational of a decimal or hex-float string (inf/nan as floats) and
    whether it carries a minus sign (so ``-0.0`` keeps its sign)."""
    s = text.strip()
    negative = s.startswith("-")
    m = _HEX.match(s)
    if m:
        whole, frac, exp = m.group(2) or "", m.group(3) or "", int(m.group(4) or 0)
        if not whole and not frac:
            raise ErrboundError(f"cannot read {text!r} as a hex float; write e.g. 0x1p-30 or 0x1.8p+3")
        if abs(exp) > 4 * _MAX_EXPONENT:
            raise ErrboundError(f"exponent of {text!r} is beyond +-{4 * _MAX_EXPONENT}; every format rounds such values "
                                "like 0x1p+2000 or 0x1p-2000: pass one of those")
        mant = int(whole + frac, 16) if whole + frac else 0
        q = Fraction(mant) * Fraction(2) ** (exp - 4 * len(frac))
        return (-q if negative else q), negative
    dec = _DEC_EXP.search(s)
    if dec and abs(int(dec.group(1))) > _MAX_EXPONENT:
        raise ErrboundError(f"exponent of {text!r} is beyond +-{_MAX_EXPONENT}; every format rounds such values like "
                            "1e400 or 1e-400 (overflow or underflow): pass one of those")
    try:
        return Fraction(s), negative
    except (ValueError, ZeroDivisionError):
        pass
    low = s.lower().lstrip("+-")
    if low in ("inf", "infinity", "nan"):
        return float(s), negative
    raise ErrboundError(
        f"cannot read {text!r} as a number; give decimal or hex values like 0.1, -3e5, 1e400, 0x1p-30, -inf or nan"
    )


def _show(v: float | None) -> str | None:
    """Exact integers as integers, other floats as their shortest round-trip decimal."""
    if v is None or not math.isfinite(v):
        return None if v is None else str(v)
    if v == int(v) and abs(v) < 2**63:
        return ("-" if math.copysign(1.0, v) < 0 and v == 0 else "") + str(int(v))
    return repr(v)


def _decimal(q: Fraction, digits: int = 8) -> str:
    """``q`` in scientific notation with ``digits`` significant digits (any exponent, no float overflow)."""
    if q == 0:
        return "0"
    with localcontext() as ctx:
        ctx.prec = digits
        value = Decimal(q.numerator) / Decimal(q.denominator)
    return f"{value:.{digits - 1}e}"


def _as_float(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def run(args: argparse.Namespace) -> CommandOutput:
    import numpy as np

    from errbound.formats import get_format
    from errbound.rounding import ROUNDING_MODES, round_rational, round_to

    fmt = get_format(args.format)
    if args.mode not in ROUNDING_MODES:
        raise ErrboundError(f"unknown rounding mode {args.mode!r}; choose one of {', '.join(ROUNDING_MODES)}")
    if args.seed < 0:
        raise ErrboundError(f"--seed must be an integer >= 0 (a numpy seed), got {args.seed}")
    parsed = [parse_value(v) for v in args.values]
    rng = np.random.default_rng(args.seed) if args.mode == "sr" else None
    rows = []
    for text, (q, negative) in zip(args.values, parsed):
        if isinstance(q, Fraction):
            draw = None if rng is None else float(rng.random())
            r = round_rational(q, fmt, args.mode, draw, negative_zero=negative)
            x = _as_float(q) if q != 0 else (-0.0 if negative else 0.0)
        else:
            x = q
            r = float(round_to(np.float64(q), fmt, args.mode, rng=rng))
        abs_exact = abs(Fraction(r) - q) if isinstance(q, Fraction) and math.isfinite(r) else None
        rel_err = None
        if abs_exact is not None:
            rel_err = _as_float(abs_exact / abs(q)) if q != 0 else 0.0
        rows.append({
            "input": text, "value": x, "rounded": r, "rounded_text": _show(r),
            "abs_err": None if abs_exact is None else _as_float(abs_exact),
            "abs_err_exact": None if abs_exact is None else _decimal(abs_exact),
            "rel_err": rel_err, "rel_err_over_u": None if rel_err is None else rel_err / fmt.u,
        })
    data = {"format": fmt.as_dict(), "mode": args.mode, "results": rows}
    shown = [{"input": row["input"], "rounded": row["rounded_text"], "abs_err": row["abs_err_exact"],
              "rel_err": row["rel_err"], "rel_err_over_u": row["rel_err_over_u"]} for row in rows]
    text = (f"format {fmt.name} (t={fmt.t}, u={fmt.u:.3e}), mode {args.mode}; values are read as exact rationals "
            "and rounded once\n" + format_table(shown, ["input", "rounded", "abs_err", "rel_err", "rel_err_over_u"], digits=8))
    return CommandOutput(data=data, text=text)
