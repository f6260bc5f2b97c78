"""``errbound formats``: every registered format with its parameters and derived properties."""

from __future__ import annotations

import argparse

from errbound.cli._output import CommandOutput, format_table

HELP = "list the registered floating-point formats and their properties"

COLUMNS = ["name", "t", "emin", "emax", "subnormals", "has_inf", "overflow", "u", "eps", "max", "min_normal", "min_subnormal"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", action="append", default=None, metavar="F",
        help="show only these formats (repeatable); custom strings such as 't11emax15' are accepted",
    )


def run(args: argparse.Namespace) -> CommandOutput:
    from errbound.formats import FORMATS, get_format

    formats = [get_format(name) for name in args.format] if args.format else list(FORMATS.values())
    rows = [{key: fmt.as_dict()[key] for key in COLUMNS} for fmt in formats]
    text = format_table(rows, COLUMNS) + "\n\nu = 2^-t (unit roundoff), eps = 2^(1-t); custom formats: t<T>emax<E>[emin<E>][_nosub][_noinf][_sat]"
    return CommandOutput(data=rows, text=text)
