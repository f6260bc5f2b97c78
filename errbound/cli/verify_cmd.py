"""``errbound verify [--quick] [--only IDS] [--out DIR] [--json] [--workers N]``: check every statement of docs/theory.md.

Runs the modules of ``proofs_numeric`` (arbitrary-precision grids, adversarial searches, symbolic
derivations), prints one row per statement and writes ``verify.json`` and ``verify.md`` into ``--out``
atomically. Exit status 0 when every statement holds on every case, 1 otherwise.
"""

from __future__ import annotations

import argparse

from errbound.cli._output import CommandOutput

HELP = "check every lemma and theorem of docs/theory.md numerically"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="CI size: fewer cases and short searches (about a minute)")
    parser.add_argument("--only", default="", metavar="IDS", help="comma-separated statement ids, e.g. D2,P1 (default: all)")
    parser.add_argument("--out", default=None, metavar="DIR", help="folder for verify.json and verify.md (default runs/verify)")
    parser.add_argument("--seed", type=int, default=20240, help="seed of every random choice (default 20240)")
    parser.add_argument("--no-write", action="store_true", help="do not write report files")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="run the statements in N processes (default 1; the full run uses 2 on the 2-core machine)")


def run(args: argparse.Namespace) -> CommandOutput:
    import sys

    from proofs_numeric.runner import DEFAULT_OUT, run_all, summary_text, write_reports

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    report = run_all(quick=args.quick, only=only or None, seed=args.seed, command=["errbound", "verify", *sys.argv[2:]],
                     workers=args.workers)
    text = summary_text(report)
    if not args.no_write:
        paths = write_reports(report, args.out or DEFAULT_OUT)
        report["reports"] = [str(p) for p in paths]
        text += "\nreports: " + ", ".join(str(p) for p in paths)
    return CommandOutput(data=report, text=text, exit_code=0 if report["all_hold"] else 1)
