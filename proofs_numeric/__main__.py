"""``python -m proofs_numeric [--quick] [--only ID,...] [--out DIR]``: run every check, write reports."""

from __future__ import annotations

import argparse
import sys

from proofs_numeric.runner import DEFAULT_OUT, run_all, summary_text, write_reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proofs_numeric", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI size (about a minute in all)")
    parser.add_argument("--only", default="", help="comma-separated statement ids (e.g. D2,P1)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"report folder (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=20240)
    args = parser.parse_args(argv)
    only = [s for s in args.only.split(",") if s.strip()]
    report = run_all(quick=args.quick, only=only or None, seed=args.seed, command=["python", "-m", "proofs_numeric", *(argv if argv is not None else sys.argv[1:])])
    paths = write_reports(report, args.out)
    print(summary_text(report))
    print("reports: " + ", ".join(str(p) for p in paths))
    return 0 if report["all_hold"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
