"""Common runner for the paper's artefacts: compute, plot, write atomically, compare with the paper.

Every artefact module in :mod:`paper_repro` defines

* ``NAME`` (its file name), ``TITLE`` (one line), ``GPU_DEPENDENT`` (bool: its paper setting needs a GPU);
* ``compute(ctx: Context) -> ArtefactResult``: the computation, its figure and its comparisons with the
  paper's numbers (:mod:`paper_repro.paper_numbers`);
* optionally ``from_gpu_json(payload: dict, ctx) -> ArtefactResult``: rebuild the full (GPU) version from a
  committed GPU results file ``paper_repro/results/NAME.gpu.json``.

:func:`run_artefact` writes ``figures/NAME.png`` (dpi 100), ``figures/NAME.pdf`` and
``paper_repro/results/NAME.json`` (data, comparisons, notes, provenance: versions, device, commit, command;
a full run with ``--device cuda`` writes ``NAME.gpu.{png,pdf,json}`` instead, beside the CPU version),
each through :func:`errbound.results.atomic_path`, so an interrupted run leaves the previous file or none,
never a half-written one. Figures are built on :class:`matplotlib.figure.Figure` directly (Agg canvas), so no
global matplotlib backend is set anywhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from errbound.errors import ErrboundError

__all__ = ["Context", "Comparison", "ArtefactResult", "ARTEFACTS", "REPO_ROOT", "run_artefact", "run_all",
           "format_report", "new_figure", "mode_label", "plain_log_axis", "main", "QUICK_NOTE", "NeedsGPU"]

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Registry: artefact name -> one-line description (module paper_repro.<name>). Order = run order of --all.
ARTEFACTS: dict[str, str] = {
    "error_vs_resolution": "discretization vs precision error against resolution, bounds and crossover",
    "real_data": "discretization vs precision error per format against resolution on Darcy, Navier-Stokes, Burgers",
    "frequency_modes": "relative fp16 error per frequency against mode amplitude",
    "overflow": "largest safe resolution against input magnitude, with and without tanh and pre-scaling",
    "memory_throughput": "peak memory and samples/s per precision (errbound bench)",
    "precision_table": "final test error (mean +- std over seeds) and epoch time per precision",
    "error_vs_time": "test error against wall time for full, mixed, half and the precision schedule",
    "pareto": "test error against epoch time per precision, architecture (dense, CP) and modes",
    "stabilizers": "none, hard clip, 2-sigma clip, tanh, power-of-two pre-scale: error and non-finite steps",
    "contraction": "peak memory of naive vs greedy vs optimal contraction order",
    "schedule_superres": "precision schedule, zero-shot super-resolution, full model evaluated with a half block",
}

QUICK_NOTE = "CPU quick mode, not the paper's setting"


class NeedsGPU(ErrboundError):
    """A GPU-only artefact was asked for in full mode on a machine without a GPU and without committed GPU
    results: reported as skipped by ``--all`` (not a failure of a CPU run), an error when asked for by name."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """How an artefact runs: size mode, device, output folders, seed."""

    quick: bool = True
    device: str = "cpu"
    figures_dir: Path = REPO_ROOT / "figures"
    results_dir: Path = REPO_ROOT / "paper_repro" / "results"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda"):
            raise ErrboundError(f"--device must be 'cpu' or 'cuda', got {self.device!r}")
        object.__setattr__(self, "figures_dir", Path(self.figures_dir))
        object.__setattr__(self, "results_dir", Path(self.results_dir))


@dataclasses.dataclass
class Comparison:
    """One of our numbers beside the paper's (``paper`` None: the paper states it only qualitatively).

    ``comparable`` says whether the two numbers measure the same thing in the same setting (same quantity,
    dataset, scale, hardware class); ``reason`` says why or why not, in one sentence, and is required.
    ``ratio`` (ours / paper) exists only for a comparable row: a CPU timing is never divided by a GPU one,
    and an untrained model's error is never divided by a converged one.
    """

    quantity: str
    ours: float | None
    paper: float | None
    unit: str = ""
    source: str = ""
    note: str = ""
    comparable: bool = False
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ErrboundError(f"comparison {self.quantity!r} needs a reason (why it is or is not comparable)")
        if self.comparable and (self.ours is None or self.paper is None):
            raise ErrboundError(f"comparison {self.quantity!r} is marked comparable but has no number on one side")

    @property
    def ratio(self) -> float | None:
        from paper_repro.paper_numbers import ratio

        return ratio(self.ours, self.paper) if self.comparable else None

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ratio": self.ratio}


@dataclasses.dataclass
class ArtefactResult:
    """What an artefact computed: JSON data, the figure, comparisons and notes printed with them."""

    data: dict[str, Any]
    figure: Any  # matplotlib.figure.Figure
    comparisons: list[Comparison] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    mode: str = "quick"


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.8):
    """A matplotlib Figure on the Agg canvas (no pyplot, no global backend) and its axes array."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def plain_log_axis(axis) -> None:  # type: ignore[no-untyped-def]
    """Ticks of a log-scale axis (``ax.xaxis`` or ``ax.yaxis``) at 1, 2, 5 x 10^k, printed as plain numbers,
    no minor labels: readable whether the data span a fraction of a decade or several."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def mode_label(ctx: Context, gpu_dependent: bool) -> str:
    """Suffix for titles: says plainly when a figure is not the paper's setting."""
    if ctx.quick and gpu_dependent:
        return f"{QUICK_NOTE} (device {ctx.device})"
    if ctx.quick:
        return "quick mode (small sizes)"
    return f"full mode (device {ctx.device})"


def _module(name: str):
    if name not in ARTEFACTS:
        import difflib

        close = difflib.get_close_matches(name, list(ARTEFACTS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ErrboundError(f"unknown artefact {name!r}{hint}; choose one of: {', '.join(ARTEFACTS)} or --all")
    return importlib.import_module(f"paper_repro.{name}")


def _check_device(device: str) -> None:
    if device == "cuda":
        try:
            import torch
        except ImportError:
            raise ErrboundError("--device cuda needs torch with CUDA; install torch or pass --device cpu") from None
        if not torch.cuda.is_available():
            raise ErrboundError("--device cuda was requested but no CUDA device is available; pass --device cpu")


def _compute(module, ctx: Context) -> ArtefactResult:
    gpu_dependent = bool(getattr(module, "GPU_DEPENDENT", False))
    if gpu_dependent and not ctx.quick:
        gpu_json = ctx.results_dir / f"{module.NAME}.gpu.json"
        if gpu_json.is_file() and hasattr(module, "from_gpu_json"):
            import json

            try:
                payload = json.loads(gpu_json.read_text())
            except (OSError, ValueError) as exc:
                raise ErrboundError(f"committed GPU results {gpu_json} cannot be read ({exc}); regenerate them on a GPU") from None
            if isinstance(payload, dict) and "artefact" in payload and "data" in payload:
                payload = payload["data"]  # a whole document written by a full run on a GPU (run_artefact)
            result = module.from_gpu_json(payload, ctx)
            result.mode = "full (committed GPU JSON)"
            result.notes.append(f"plotted from committed GPU results {gpu_json.name}")
            return result
        if ctx.device != "cuda":
            raise NeedsGPU(
                f"artefact {module.NAME!r} needs a GPU for its full (paper) setting and no committed GPU results "
                f"exist at {gpu_json}; run it with --quick (CPU, tiny sizes) or on a GPU with --device cuda"
            )
    result = module.compute(ctx)
    result.mode = "quick" if ctx.quick else "full"
    if ctx.quick and gpu_dependent:
        result.notes.insert(0, f"{QUICK_NOTE}: tiny sizes on {ctx.device}; no committed GPU results exist yet "
                               f"({module.NAME}.gpu.json absent: no GPU was available to this project's runs)")
    return result


def run_artefact(name: str, ctx: Context, command: Sequence[str] | None = None) -> dict[str, Any]:
    """Compute one artefact, write its figure (png, pdf) and JSON atomically; return the JSON document."""
    from errbound.results import atomic_path, provenance, write_json_atomic

    module = _module(name)
    _check_device(ctx.device)
    t0 = time.perf_counter()
    result = _compute(module, ctx)
    seconds = time.perf_counter() - t0
    # a full run on a GPU writes NAME.gpu.{json,png,pdf}: the GPU version sits beside the CPU one, and a
    # GPU-only artefact re-plots from its NAME.gpu.json on any machine (_compute)
    stem = f"{name}.gpu" if ctx.device == "cuda" and not ctx.quick else name
    fig_paths = {}
    for ext in ("png", "pdf"):
        target = ctx.figures_dir / f"{stem}.{ext}"
        with atomic_path(target) as tmp:
            result.figure.savefig(tmp, dpi=100, format=ext)
        fig_paths[ext] = str(target)
    doc = {
        "artefact": name,
        "title": module.TITLE,
        "mode": result.mode,
        "gpu_dependent": bool(getattr(module, "GPU_DEPENDENT", False)),
        "quick": ctx.quick,
        "device": ctx.device,
        "seconds": seconds,
        "notes": result.notes,
        "comparisons": [c.as_dict() for c in result.comparisons],
        "data": result.data,
        "figures": fig_paths,
        "provenance": provenance(list(command) if command is not None else None),
    }
    write_json_atomic(ctx.results_dir / f"{stem}.json", doc)
    doc["results"] = str(ctx.results_dir / f"{stem}.json")
    return doc


def run_all(ctx: Context, names: Sequence[str] | None = None, command: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run several artefacts; an artefact that cannot run here (ErrboundError) is reported, not fatal.
    Training runs of all the selected artefacts (their ``training_specs``) are announced first, so one process
    pool trains them together and each configuration once."""
    names = list(names or ARTEFACTS)
    if len(names) > 1:
        from paper_repro._training import register_pending

        for name in names:
            module = _module(name)
            if hasattr(module, "training_specs") and (not getattr(module, "GPU_DEPENDENT", False) or ctx.quick
                                                      or ctx.device == "cuda"):
                register_pending(module.training_specs(ctx))
    docs = []
    for name in names:
        try:
            docs.append(run_artefact(name, ctx, command))
        except ErrboundError as exc:
            docs.append({"artefact": name, "skipped": str(exc), "needs_gpu": isinstance(exc, NeedsGPU)})
        print(f"[repro] {name}: " + ("skipped" if "skipped" in docs[-1] else f"done in {docs[-1]['seconds']:.1f} s"),
              file=sys.stderr)
    return docs


def _fmt(value: Any) -> str:
    from errbound.tables import format_number

    return "-" if value is None else format_number(value, 4)


def format_report(doc: dict[str, Any]) -> str:
    """Human text: title, mode notes, and our numbers beside the paper's with their ratio."""
    if "skipped" in doc:
        return f"== {doc['artefact']}: SKIPPED: {doc['skipped']}"
    from errbound.tables import format_table

    lines = [f"== {doc['artefact']}: {doc['title']}  [{doc['mode']}, {doc['device']}, {doc['seconds']:.1f} s]"]
    lines += [f"   note: {n}" for n in doc["notes"]]
    rows = [{"quantity": c["quantity"], "ours": _fmt(c["ours"]), "paper": _fmt(c["paper"]), "ratio": _fmt(c["ratio"]),
             "comparable": "yes" if c["comparable"] else "no", "unit": c["unit"],
             "why": c["reason"] + (f"; {c['note']}" if c["note"] else ""), "source": c["source"]}
            for c in doc["comparisons"]]
    if rows:
        lines.append(format_table(rows, ["quantity", "ours", "paper", "ratio", "comparable", "unit", "why", "source"]))
    lines.append(f"   wrote {doc['figures']['png']}, {doc['figures']['pdf']}, {doc['results']}")
    return "\n".join(lines)


def main(name: str, argv: Sequence[str] | None = None) -> int:
    """``python -m paper_repro.NAME [--quick] [--device cpu|cuda]``."""
    parser = argparse.ArgumentParser(prog=f"python -m paper_repro.{name}", description=ARTEFACTS.get(name, ""))
    parser.add_argument("--quick", action="store_true", help="small sizes (CPU, minutes)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--figures", default=None, help="folder for NAME.png/.pdf (default figures/, with --quick "
                        "runs/repro-quick/figures/)")
    parser.add_argument("--results", default=None, help="folder for NAME.json (default paper_repro/results/, with "
                        "--quick runs/repro-quick/results/)")
    args = parser.parse_args(argv)
    quick_root = REPO_ROOT / "runs" / "repro-quick"  # untracked: quick runs never replace committed artefacts
    figures = args.figures or (quick_root / "figures" if args.quick else REPO_ROOT / "figures")
    results = args.results or (quick_root / "results" if args.quick else REPO_ROOT / "paper_repro" / "results")
    try:
        ctx = Context(quick=args.quick, device=args.device, figures_dir=Path(figures), results_dir=Path(results))
        doc = run_artefact(name, ctx, [sys.executable, "-m", f"paper_repro.{name}", *(argv if argv is not None else sys.argv[1:])])
    except ErrboundError as exc:
        print(f"errbound: error: {exc}", file=sys.stderr)
        return 2
    print(format_report(doc))
    return 0
