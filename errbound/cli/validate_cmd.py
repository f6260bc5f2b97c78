"""``errbound validate``: check the advisor's safe/unsafe verdicts against real (small) training runs."""

from __future__ import annotations

import argparse

from errbound.cli._output import CommandOutput, format_table
from errbound.errors import ErrboundError

HELP = "check the advisor's verdicts against real training runs"


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ErrboundError(f"{what} {text!r} is not a comma-separated list of integers, e.g. 32,64") from None
    if not values:
        raise ErrboundError(f"{what} {text!r} lists no value; pass e.g. 32,64")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="darcy", help="darcy, navier_stokes or burgers (default darcy)")
    parser.add_argument("--res", default="32", help="resolutions, comma-separated (default 32)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--n-train", type=int, default=64, help="training samples (default 64)")
    parser.add_argument("--n-test", type=int, default=16, help="test samples (default 16)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs per run (default 8)")
    parser.add_argument("--hidden", type=int, default=16, help="FNO width (default 16)")
    parser.add_argument("--modes", type=int, default=8,
                        help="retained modes per axis, neuraloperator's n_modes as for every command (default 8)")
    parser.add_argument("--layers", type=int, default=2, help="Fourier layers (default 2)")
    parser.add_argument("--formats", default="fp16,bf16,fp8_e4m3fn,fp8_e5m2",
                        help="formats the advisor considers (default fp16,bf16,fp8_e4m3fn,fp8_e5m2; the fp8 ones "
                             "train as an emulated block)")
    parser.add_argument("--tolerance", type=float, default=0.1,
                        help="advisor: ok when prec_err <= tolerance x discretization error; training: observed safe "
                             "when test_l2 <= (1 + tolerance) x full (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (data, weights, batches)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="training seeds per configuration (test errors are averaged; >= 2 also reports the "
                             "baseline's seed-to-seed spread)")
    parser.add_argument("--configs", choices=("protocol", "all"), default="protocol",
                        help="protocol: full, the recommendation and the cheapest rejected configuration; "
                             "all: also every other trainable candidate")
    parser.add_argument("--cache-dir", help="dataset cache folder (default $ERRBOUND_DATA or ~/.cache/errbound/data)")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON report to FILE (atomically)")
    parser.add_argument("--report", metavar="FILE[,FILE...]",
                        help="train nothing: merge saved --out reports and print them, re-deriving verdicts and "
                             "counts with this version's rules")


def run(args: argparse.Namespace) -> CommandOutput:
    from errbound.results import provenance, write_json_atomic
    from errbound.validate import ValidateConfig, report_from_files, validate

    if args.report:
        paths = [p.strip() for p in args.report.split(",") if p.strip()]
        if not paths:
            raise ErrboundError(f"--report {args.report!r} names no file; pass files written by --out")
        report = report_from_files(paths)
        tolerances = {c["tolerance"] for c in report["configs"]}
        tolerance = tolerances.pop() if len(tolerances) == 1 else None
    else:
        formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
        cfg = ValidateConfig(dataset=args.dataset, resolutions=_ints(args.res, "--res"), n_train=args.n_train,
                             n_test=args.n_test, epochs=args.epochs, hidden=args.hidden, modes=args.modes,
                             n_layers=args.layers, tolerance=args.tolerance, formats=formats, device=args.device,
                             seed=args.seed, seeds=args.seeds, configs=args.configs, cache_dir=args.cache_dir)
        report = validate(cfg)
        tolerance = cfg.tolerance
    report["provenance"] = provenance()
    if args.out:
        write_json_atomic(args.out, report)
    return CommandOutput(data=report, text=_text(report, tolerance))


def _config(entry: dict) -> str:
    """``precision (backend)``; reports saved before the one-policy vocabulary name a format and a preset."""
    if "precision" in entry:
        return f"{entry['precision']} ({entry.get('backend', 'fft')})"
    return f"{entry.get('format')} {entry.get('preset')}"


def _text(report: dict, tolerance: float | None) -> str:
    lines = []
    for block in report["results"]:
        noise = block["full_seed_noise"]
        lines.append(f"{block['dataset']} at {block['res']}: discretization_err {block['discretization_err']:.3g}, "
                     f"recommended {_config(block['advice']['recommended'])}"
                     + ("" if noise is None else f", full-precision seed-to-seed spread {noise:.2%}"))
        rows = [{"role": r["role"], "config": _config(r), "flags": " ".join(r["train_flags"]),
                 "pred prec_err": r["predicted_prec_err"], "pred ok": r["predicted_ok"], "test_l2": r["test_l2"],
                 "pred gap": r["predicted_gap"], "gap": r["gap"], "gap<=pred+2sd": r["gap_within_predicted"],
                 "obs safe": r["observed_safe"], "agree": r["agree"] if r["role"] != "full" else "-",
                 "agree@baseline": r["agree_given_baseline"] if r["role"] != "full" else "-"}
                for r in block["runs"]]
        lines.append(format_table(rows, ["role", "config", "flags", "pred prec_err", "pred ok", "test_l2", "pred gap",
                                         "gap", "gap<=pred+2sd", "obs safe", "agree", "agree@baseline"]))
        if block["rejected_note"]:
            lines.append(f"  note: {block['rejected_note']}")
        lines.append("")
    tol = "tolerance" if tolerance is None else f"{tolerance:g}"
    lines.append(f"verdicts agreeing with training (recommended + cheapest rejected): {report['protocol_agreements']} / "
                 f"{report['protocol_verdicts']} (observed safe: finite and test_l2 <= (1 + {tol}) x full)")
    lines.append(f"all trained candidates: {report['agreements']} / {report['verdicts']} agree")
    lines.append(f"accuracy criterion with the baseline's error (pred gap <= {tol}): "
                 f"{report['agreements_given_baseline']} / {report['verdicts']} agree")
    lines.append(f"observed gaps within the predicted gap (quadrature estimate + 2 sd of seed noise): "
                 f"{report['gaps_within_predicted']} / {report['verdicts']}")
    return "\n".join(lines)
