"""``errbound repro``: reproduce the paper's figures and tables (one artefact, or all of them)."""

from __future__ import annotations

import argparse
import sys

from errbound.cli._output import CommandOutput
from errbound.errors import ErrboundError

HELP = "reproduce the paper's figures and tables"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="*", help="artefact(s) to build (see --list); omit with --all. Several names run "
                        "in one process, so training runs they share are trained once")
    parser.add_argument("--all", action="store_true", help="build every artefact")
    parser.add_argument("--list", action="store_true", help="list the artefacts and exit")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes that run on a CPU in minutes (GPU artefacts say they are not the paper's setting)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--figures", metavar="DIR", help="folder for NAME.png/.pdf (default: figures/ of the repository; "
                        "with --quick runs/repro-quick/figures/, so quick runs never replace the committed figures)")
    parser.add_argument("--results", metavar="DIR", help="folder for NAME.json (default: paper_repro/results/; with "
                        "--quick runs/repro-quick/results/)")


def run(args: argparse.Namespace) -> CommandOutput:
    from paper_repro._runner import ARTEFACTS, REPO_ROOT, Context, format_report, run_all

    if args.list:
        return CommandOutput(data={"artefacts": ARTEFACTS},
                             text="\n".join(f"{name:<20} {desc}" for name, desc in ARTEFACTS.items()))
    if args.all and args.name:
        raise ErrboundError(f"pass either artefact names ({', '.join(args.name)}) or --all, not both")
    if not args.all and not args.name:
        raise ErrboundError(f"name an artefact or pass --all; artefacts: {', '.join(ARTEFACTS)}")
    if args.device not in ("cpu", "cuda"):
        raise ErrboundError(f"--device must be 'cpu' or 'cuda', got {args.device!r}")
    kwargs = {}
    quick_root = REPO_ROOT / "runs" / "repro-quick"  # untracked (.gitignore): a quick run leaves git status clean
    if args.figures or args.quick:
        kwargs["figures_dir"] = args.figures or str(quick_root / "figures")
    if args.results or args.quick:
        kwargs["results_dir"] = args.results or str(quick_root / "results")
    ctx = Context(quick=args.quick, device=args.device, **kwargs)
    names = list(ARTEFACTS) if args.all else list(args.name)
    if not args.all:
        from paper_repro._runner import _module

        for name in names:
            _module(name)  # unknown name -> clear error before any work
    import time

    t0 = time.perf_counter()
    docs = run_all(ctx, names, command=["errbound", *sys.argv[1:]] if sys.argv else None)
    total = time.perf_counter() - t0
    if not args.all and len(docs) == 1 and "skipped" in docs[0]:
        raise ErrboundError(docs[0]["skipped"])
    text = "\n\n".join(format_report(d) for d in docs)
    skipped = [d["artefact"] for d in docs if "skipped" in d]
    failed = [d["artefact"] for d in docs if "skipped" in d and not d.get("needs_gpu")]
    if skipped:
        text += f"\n\nskipped: {', '.join(skipped)}"
        if len(failed) < len(skipped):
            text += " (GPU-only artefacts without committed GPU results are not an error of a CPU run)"
    text += f"\n\ntotal wall time: {total / 60:.1f} min ({len(docs)} artefacts)"
    return CommandOutput(data={"artefacts": docs, "total_seconds": total}, text=text, exit_code=1 if failed else 0)
