"""The ``errbound`` command line: a thin layer over the library.

Each subcommand lives in its own module ``errbound.cli.<name>_cmd`` exposing

* ``HELP``: one line shown by ``errbound --help``;
* ``add_arguments(parser)``: declares its options (``--json`` is added for every subcommand);
* ``run(args) -> CommandOutput``: does the work and returns machine data plus human text.

Only the invoked subcommand's module is imported, so ``errbound formats`` never pays for torch.
Bad input raises :class:`errbound.errors.ErrboundError`; ``main`` prints one line
``errbound: error: ...`` on stderr and exits with status 2 (no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Sequence

from errbound.cli._output import CommandOutput
from errbound.errors import ErrboundError

__all__ = ["main", "SUBCOMMANDS", "CommandOutput", "HelpFormatter"]

#: name -> (module, one-line help). Order is the order shown by ``errbound --help``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "formats": ("errbound.cli.formats_cmd", "list the registered floating-point formats and their properties"),
    "round": ("errbound.cli.round_cmd", "round values into a format and show the rounding error"),
    "discretization": ("errbound.cli.discretization_cmd", "discretization error of a Fourier layer across resolutions, with bounds"),
    "precision": ("errbound.cli.precision_cmd", "emulated low-precision error of a Fourier layer/transform, bounds and overflow"),
    "crossover": ("errbound.cli.crossover_cmd", "resolution where precision error meets discretization error, per format"),
    "verify": ("errbound.cli.verify_cmd", "check every lemma and theorem of docs/theory.md numerically"),
    "train": ("errbound.cli.train_cmd", "train an FNO (full, amp, mixed, half precision) on generated or given data"),
    "bench": ("errbound.cli.bench_cmd", "training-step benchmark: samples/s and peak memory per precision"),
    "advise": ("errbound.cli.advise_cmd", "recommend a precision for your data before training"),
    "validate": ("errbound.cli.validate_cmd", "check the advisor's verdicts against real training runs"),
    "repro": ("errbound.cli.repro_cmd", "reproduce the paper's figures and tables"),
}


def _version() -> str:
    from errbound import __version__

    return __version__


def _top_help() -> str:
    width = max(len(name) for name in SUBCOMMANDS)
    lines = [
        "usage: errbound [--version] <command> [options]",
        "",
        "When is low precision safe in Fourier Neural Operators, and how much does it buy?",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    lines += ["", "Every command takes --help and --json (one JSON document on stdout)."]
    return "\n".join(lines)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, adding ``(default: X)`` to every option whose help does not already say it.

    Given to every subcommand's parser, so ``errbound CMD --help`` shows each default once; options
    without a default (None), flags (False) and ``--help`` itself are left as they are.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (default is None or default is False or default is argparse.SUPPRESS or not action.option_strings
                or "default" in text.lower()):
            return text
        shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) else default
        return f"{text} (default: {str(shown).replace('%', '%%')})" if text else f"(default: {shown})"


def _explicit_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> frozenset[str]:
    """Destinations given on the command line (parsed again with every default suppressed)."""
    saved = [(action, action.default) for action in parser._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        given = parser.parse_args(list(argv))
    finally:
        for action, default in saved:
            action.default = default
    return frozenset(vars(given))


def _fail(message: str) -> int:
    print(f"errbound: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``errbound`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_top_help())
        return 0 if args else 2
    if args[0] == "--version":
        print(f"errbound {_version()}")
        return 0
    name = args[0]
    if name not in SUBCOMMANDS:
        import difflib

        close = difflib.get_close_matches(name, list(SUBCOMMANDS), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return _fail(f"unknown command {name!r}; {hint}choose one of: {', '.join(SUBCOMMANDS)}")
    module_name, help_ = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return _fail(f"command {name!r} is not available in this build of errbound")
        raise
    parser = argparse.ArgumentParser(prog=f"errbound {name}", description=help_, formatter_class=HelpFormatter)
    module.add_arguments(parser)
    for action in parser._actions:  # argparse prints no help line (so no default) for options without help
        if action.help is None and action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            action.help = "(default: %(default)s)"
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout instead of tables")
    options = parser.parse_args(args[1:])
    seed = getattr(options, "seed", None)
    if isinstance(seed, int) and not isinstance(seed, bool) and seed < 0:  # numpy and torch seeds are >= 0
        return _fail(f"--seed must be an integer >= 0, got {seed}")
    options._explicit = _explicit_options(parser, args[1:])
    try:
        output = module.run(options)
    except ErrboundError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("errbound: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        return _fail(f"{name}: out of memory; pass smaller sizes (fewer or coarser resolutions, fewer samples)")
    try:
        if options.json:
            print(json.dumps(output.jsonable(), indent=2, allow_nan=False))
        elif output.text:
            print(output.text)
    except BrokenPipeError:  # e.g. `errbound ... | head`: the reader left; nothing more to say
        sys.stderr.close()
        return output.exit_code
    return output.exit_code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
