"""``errbound advise``: recommend a spectral-block precision for your data before training."""

from __future__ import annotations

import argparse

from errbound.cli._output import CommandOutput, format_table
from errbound.errors import ErrboundError

HELP = "recommend a precision for your data before training"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="FILE",
                        help="samples (N, *grid): .npy, .npz or .pt ({'x': ..., 'y': ...} layout; --key picks the array)")
    parser.add_argument("--key", help="array name inside .npz/.pt (default 'x', else the first array)")
    parser.add_argument("--sample-axis", choices=("0", "none"), default=None,
                        help="reading of a single 2-D array: 0 = rows are samples of a 1-D signal, none = one 2-D field")
    parser.add_argument("--modes", type=int, help="retained modes per axis, neuraloperator's n_modes as for every command "
                        "(default by dimension, capped by the grid)")
    parser.add_argument("--formats", default="fp16,bf16",
                        help="low-precision formats to consider (default fp16,bf16; e.g. add fp8_e4m3fn,fp8_e5m2, tf32)")
    parser.add_argument("--tolerance", type=float, default=0.1,
                        help="ok when precision error <= tolerance x discretization error (default 0.1)")
    parser.add_argument("--target-error", type=float, metavar="E",
                        help="relative test error you expect from the model in full precision (e.g. 0.02): adds the "
                             "accuracy criterion, ok when sqrt(1 + (prec_err/E)^2) - 1 <= tolerance")
    parser.add_argument("--samples", type=int, default=4, help="samples analysed (the first N; as errbound precision --samples)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stand-in spectral weights")
    parser.add_argument("--neuralop-model", metavar="FILE",
                        help="a saved neuraloperator FNO/TFNO (torch.save(model) or its state_dict; unpickled: trusted "
                             "files only): emulate its own first spectral layer with its trained weights on --data and "
                             "print the errbound.neuralop.patch(...) call to use (needs errbound[neuralop])")


def run(args: argparse.Namespace) -> CommandOutput:
    from errbound.advise import advise, load_data

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not formats:
        raise ErrboundError(f"--formats {args.formats!r} names no format; pass e.g. fp16,bf16")
    if args.samples < 1:
        raise ErrboundError(f"--samples must be >= 1, got {args.samples}")
    if args.seed < 0:
        raise ErrboundError(f"--seed must be an integer >= 0, got {args.seed}")
    x = load_data(args.data, key=args.key, sample_axis=args.sample_axis)
    if args.neuralop_model:
        from errbound.neuralop import advice_text, advise_model

        adv_model = advise_model(args.neuralop_model, x, formats=formats, tolerance=args.tolerance,
                                 n_samples=args.samples, target_error=args.target_error)
        return CommandOutput(data=adv_model, text=advice_text(adv_model))
    adv = advise(x, modes=args.modes, formats=formats, tolerance=args.tolerance, n_samples=args.samples,
                 seed=args.seed, data_name=args.data, target_error=args.target_error)
    data = adv.as_dict()
    disc = adv.discretization
    rows = [{"format": c.format, "precision": c.precision, "backend": c.backend, "prec_err": c.prec_err,
             "overflow": c.overflow,
             "fix": (f"{c.fix['kind']} 2^{c.fix['exponent']}" if c.fix and c.fix["kind"] == "pow2" else
                     (c.fix["kind"] if c.fix else "-")),
             "ok": c.ok, "pred gap": "-" if c.predicted_gap is None else c.predicted_gap,
             "ok@target": "-" if c.ok_for_target is None else c.ok_for_target,
             "train flags": (" ".join(c.train_flags) + ("" if c.recommendable else "  (emulated; never recommended)"))
             if c.train_flags else "(not trainable)"}
            for c in adv.candidates]
    rec = adv.recommended
    lines = [
        f"data {args.data}: {x.shape[0]} samples on a {'x'.join(map(str, adv.grid))} grid, {adv.modes} modes per axis",
        f"discretization error (relative, retained modes): {adv.discretization_err:.3g} "
        f"[{disc['method']}; tail {disc['tail']:.3g}, subsample "
        f"{'-' if disc['subsample'] is None else format(disc['subsample'], '.3g')}, spectral decay beta {disc['beta']:.2f}]",
        f"ok when prec_err <= {adv.tolerance:g} x {adv.discretization_err:.3g} = {adv.tolerance * adv.discretization_err:.3g}",
        "",
        format_table(rows, ["format", "precision", "backend", "prec_err", "overflow", "fix", "ok"]
                     + (["pred gap", "ok@target"] if adv.target_error is not None else []) + ["train flags"]),
        "",
        f"recommended: {rec['precision']} ({rec['backend']}): errbound train ... {' '.join(rec['train_flags'] or [])}",
        f"  ({rec['reason']})",
    ]
    if "train_command" in rec:
        lines.append(f"  {rec['train_command']}")
    if "train_command_note" in rec:
        lines.append(f"  note: {rec['train_command_note']}")
    if adv.warning is not None:
        lines.insert(3, f"WARNING: {adv.warning}")
    tgt = adv.recommended_for_target
    if tgt is not None:
        lines.append(f"recommended for a model error of {adv.target_error:g}: {tgt['precision']} ({tgt['backend']}): "
                     f"errbound train ... {' '.join(tgt['train_flags'] or [])}")
        lines.append(f"  ({tgt['reason']})")
    return CommandOutput(data=data, text="\n".join(lines))
