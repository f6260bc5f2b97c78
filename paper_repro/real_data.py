"""Discretization vs emulated precision error against resolution on generated Darcy, Navier-Stokes and Burgers data.

For each dataset (:func:`errbound.data.make_dataset`, seed 0) the *test inputs* ``x`` (the arrays the advisor and
``errbound validate`` analyse) are generated once on a solver grid ``s_ref`` and evaluated at every resolution
``s`` of the ladder and at ``s_ref``: the same samples on every grid (docs/data.md). Per resolution:

* **discretization, finer grid** (solid black): :func:`errbound.advise.reference_discretization_error`,
  ``median_n ||V_s(w) - V_ref(w)||_2 / ||V_ref(w)||_2`` over the retained modes ``|w_i| <= K/2`` (K modes per
  axis, the trainer's convention), V the forward-normalized DFT, V_ref that of the same sample at ``s_ref``.
  Navier-Stokes and Burgers samples are trigonometric polynomials of degree < s_ref/2, so V_ref = vhat and the
  value is exact; Darcy's thresholded coefficient is not band-limited, so its value is ``E_s - E_ref`` and
  underestimates ``E_s`` by a factor ``1 - (s/s_ref)^beta`` (beta ~ 1.1: about 0.5 at s = s_ref/2, 0.96 at
  s_ref/16);
* **discretization, advisor estimate** (dashed black): ``value`` of
  :func:`errbound.advise.estimate_discretization_error` on the samples at ``s`` alone (subsampling estimate,
  spectral tail where s/2 <= K): the number ``errbound advise`` and the validate JSONs report;
* **precision** per format (coloured): ``layer_err_rel`` of :func:`errbound.precision.sweep`, the normwise
  relative L2 error of the spectral block's output (forward transform, K retained modes, one-channel
  contraction with :func:`errbound.modes.random_weights` seed 0, inverse transform) against the float64
  block, on the first ``n_prec`` samples (4, as the advisor): the advisor's ``prec_err``. Policy per format:
  the advisor's candidate (:func:`errbound.advise.candidate_policies`) ``half`` with the ``fft`` backend for
  the 16/19-bit formats (fp16 with its default exact ``pow2`` pre-scale: validate's ``half+pow2``) and ``half``
  with the ``dft`` backend for the 8-bit ones (the only block the trainer runs in fp8), ``full`` for fp32;
  a block that overflows without a stabilizer is re-run with ``pow2`` (the advisor's fix). Engine: the numpy
  emulator (bit for bit the trainer's torch block for every reduced format; fp32 is the emulated
  round-to-nearest FFT, not torch's kernels, so it differs slightly from the advisor's fp32 value);
* **crossover** per format (:func:`errbound.crossover.interpolate_crossing`): the first resolution where the
  precision error reaches the discretization error (log-log interpolation), against either curve, with its
  status (``crossed``; ``below_ladder``: precision already >= discretization at the smallest s;
  ``not_reached``: precision below discretization on the whole ladder) and a sentence;
* **training outcome**: the fp16 (and other) runs of ``paper_repro/results/validate_{dataset}_{s}.json``
  (FNO trained in each precision; gap = test L2 / fp32 test L2 - 1), marked at their resolution.

Paper claim (NOTES.md s2 item 5, qualitative, derived): precision error stays below the discretization error up
to a crossover resolution, for fp16 in the range of practical FNO resolutions; the paper reports no
real-data crossover numbers. The validate samples were generated on their own solver grid (127 for Darcy 64,
64 for Navier-Stokes 64), so their fields differ from these (same recipe, different grid): values agree in
size, not digit for digit.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

from paper_repro._runner import REPO_ROOT, ArtefactResult, Comparison, Context, mode_label, new_figure

NAME = "real_data"
TITLE = "discretization vs precision error against resolution on generated Darcy, Navier-Stokes and Burgers data"
GPU_DEPENDENT = False

DATASETS = ("darcy", "navier_stokes", "burgers")
FORMATS = ("fp32", "tf32", "bf16", "fp16", "fp8_e4m3fn", "fp8_e5m2")
STYLE = {  # colour, line style, marker: tf32 overlaps fp16 (same unit roundoff 2^-11), so it is dashed and hollow
    "fp32": ("tab:blue", "-", "o"), "tf32": ("tab:cyan", "--", "D"), "bf16": ("tab:green", "-", "s"),
    "fp16": ("tab:red", "-", "^"), "fp8_e4m3fn": ("tab:purple", "-", "v"), "fp8_e5m2": ("tab:brown", "-", "P"),
}
LABEL = {"darcy": "Darcy (2-D, input a)", "navier_stokes": "Navier-Stokes (2-D, input w0)",
         "burgers": "Burgers (1-D, input u0)"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Setup:
    """Ladder ``res``, reference (solver) grid ``ref``, test samples ``n`` of one dataset."""

    res: tuple[int, ...]
    ref: int
    n: int

    def __post_init__(self) -> None:
        if list(self.res) != sorted(set(self.res)) or self.ref <= max(self.res):
            raise ValueError(f"ladder {self.res} must be increasing and below the reference grid {self.ref}")


#: Full mode. Cost measured here (2 shared cores, one torch thread): a Navier-Stokes sample on the 512 grid
#: (T = 1, dt = 1e-3, 1000 steps) takes ~42 s, so 4 test samples (+ the 1 train sample make_dataset requires);
#: a Darcy sample on the 512 grid ~1.5 s (8 samples); Burgers on 2048 points ~0.4 s per sample (16 samples).
FULL = {"darcy": Setup(res=(32, 64, 128, 256), ref=512, n=8),
        "navier_stokes": Setup(res=(32, 64, 128, 256), ref=512, n=4),
        "burgers": Setup(res=(32, 64, 128, 256, 512, 1024), ref=2048, n=16)}
QUICK = {"darcy": Setup(res=(8, 16, 32), ref=64, n=3),
         "navier_stokes": Setup(res=(8, 16, 32), ref=64, n=3),
         "burgers": Setup(res=(16, 32, 64, 128), ref=256, n=4)}
MODES = {True: 4, False: 12}  # K per axis (quick, full); validate used 12
N_PREC = 4  # samples in the precision measurement (the advisor's n_samples)


def block_policies(formats: tuple[str, ...] = FORMATS) -> dict[str, Any]:
    """Format -> the advisor's candidate policy measured here (module docstring)."""
    from errbound.advise import candidate_policies

    cands = candidate_policies([f for f in formats if f != "fp32"])
    out = {}
    for f in formats:
        mine = [p for name, p in cands if name == f]
        pick = next((p for p in mine if p.mode == "half" and p.backend == "fft"), None)
        pick = pick or next((p for p in mine if p.mode == "half"), None) or mine[0]
        out[f] = pick
    return out


def _samples(name: str, setup: Setup, seed: int) -> dict[int, np.ndarray]:
    """Test inputs x (n, *grid) float64 at each ladder resolution and at the reference grid."""
    from errbound.data import make_dataset

    import torch

    grids = [*setup.res, setup.ref]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batched FFTs of the torch Navier-Stokes solver: one thread is faster here (docs/data.md)
    try:
        files = make_dataset(name, setup.res[0], 1, setup.n, seed=seed, test_res=grids, fine_res=setup.ref)
    finally:
        torch.set_num_threads(threads)
    return {s: files.load_test(s)[0].double().numpy() for s in grids}


def _precision(x: np.ndarray, policy: Any, modes: int) -> dict[str, Any]:
    from errbound.precision import sweep

    s = x.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        row = sweep({s: x}, policy, modes=modes, certify=False, engine="emulator")[0]
        if row["overflow"] and policy.stabilizer.kind == "none":
            policy = policy.with_stabilizer("pow2")
            row = sweep({s: x}, policy, modes=modes, certify=False, engine="emulator")[0]
    err = float(row["layer_err_rel"]) if not row["overflow"] else math.inf
    return {"err": err, "overflow": bool(row["overflow"]), "precision": policy.name, "backend": policy.backend,
            "prescale_exp": int(row["prescale_exp"])}


def _why(status: str, fmt: str, curve: str, res: tuple[int, ...]) -> str:
    if status == "crossed":
        return f"{fmt} precision error reaches the {curve} discretization error inside the ladder"
    if status == "below_ladder":
        return (f"{fmt} precision error is already >= the {curve} discretization error at s = {res[0]}: "
                f"the crossover lies at or below the smallest resolution measured")
    return (f"{fmt} precision error stays below the {curve} discretization error up to s = {res[-1]}: "
            f"any crossover lies above the ladder")


def measure(name: str, setup: Setup, modes: int, seed: int = 0, formats: tuple[str, ...] = FORMATS) -> dict[str, Any]:
    """All curves and crossovers of one dataset (module docstring)."""
    from errbound.advise import estimate_discretization_error, reference_discretization_error
    from errbound.crossover import interpolate_crossing
    from errbound.progress import progress

    xs = _samples(name, setup, seed)
    policies = block_policies(formats)
    res = list(setup.res)
    out: dict[str, Any] = {"dataset": name, "dim": xs[res[0]].ndim - 1, "res": res, "reference_res": setup.ref,
                           "n_samples": setup.n, "n_prec": min(N_PREC, setup.n), "modes": modes,
                           "disc_ref": [], "disc_advisor": [], "disc_advisor_method": [], "disc_tail": [],
                           "prec": {f: [] for f in formats}, "policy": {}}
    for s in progress(res, total=len(res), label=f"{NAME} {name}"):
        x = xs[s]
        out["disc_ref"].append(reference_discretization_error(x, xs[setup.ref], modes)["value"])
        est = estimate_discretization_error(x, modes)
        out["disc_advisor"].append(est["value"])
        out["disc_advisor_method"].append(est["method"])
        out["disc_tail"].append(est["tail"])
        for f in formats:
            p = _precision(x[:N_PREC], policies[f], modes)
            out["prec"][f].append(p["err"])
            out["policy"][f] = {"precision": p["precision"], "backend": p["backend"]}
    out["crossover"] = {}
    for f in formats:
        row = {}
        for curve in ("ref", "advisor"):
            star, status = interpolate_crossing(res, out["prec"][f], out[f"disc_{curve}"])
            row[curve] = {"s_star": star, "status": status,
                          "why": _why(status, f, "finer-grid" if curve == "ref" else "advisor-estimated", setup.res)}
        out["crossover"][f] = row
    return out


def validation_marks(name: str, results_dir=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Training outcome of ``validate_{name}_{s}.json`` (s = 32, 64): fp32 test L2 and each run's gap."""
    folder = results_dir if results_dir is not None else REPO_ROOT / "paper_repro" / "results"
    marks: dict[str, Any] = {}
    for s in (32, 64):
        path = folder / f"validate_{name}_{s}.json"
        if not path.is_file():
            continue
        doc = json.loads(path.read_text())
        block = next((b for b in doc["results"] if b["res"] == s), None)
        if block is None:
            continue
        runs = block["runs"]
        full = next(r for r in runs if r["role"] == "full")
        marks[str(s)] = {
            "file": path.name, "fp32_test_l2": full["test_l2"], "advisor_disc": block["discretization_err"],
            "runs": [{"format": r["format"], "precision": r["precision"], "backend": r["backend"], "gap": r["gap"],
                      "test_l2": r["test_l2"], "prec_err": r["predicted_prec_err"]} for r in runs if r["role"] != "full"],
        }
    return marks


def _gap_text(mark: dict[str, Any], fmt: str) -> str:
    gaps = [100 * r["gap"] for r in mark["runs"] if r["format"] == fmt and math.isfinite(r["gap"])]
    if not gaps:
        return "-"
    lo, hi = f"{min(gaps):+.2f}", f"{max(gaps):+.2f}"
    return f"{lo} %" if lo == hi else f"{lo}..{hi} %"


def _plot(ax, p: dict[str, Any], marks: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    res = p["res"]
    ax.loglog(res, p["disc_ref"], "k-o", lw=2.2, ms=5, zorder=5)
    ax.loglog(res, p["disc_advisor"], "k--x", lw=1.4, ms=6, zorder=5)
    for f, vals in p["prec"].items():
        color, ls, marker = STYLE[f]
        finite = [(s, v) for s, v in zip(res, vals) if math.isfinite(v)]
        if finite:
            ax.loglog(*zip(*finite), ls=ls, marker=marker, color=color, ms=5, lw=1.3,
                      mfc="none" if f == "tf32" else color)
        star = p["crossover"][f]["ref"]
        if star["status"] == "crossed":
            y = float(np.exp(np.interp(np.log(star["s_star"]), np.log(res), np.log(vals))))
            ax.plot([star["s_star"]], [y], marker="*", ms=14, color=color, mec="k", ls="none", zorder=6)
    for s, mark in marks.items():
        if int(s) in res:
            i = res.index(int(s))
            ax.plot([int(s)], [p["prec"]["fp16"][i]], marker="o", ms=15, mfc="none", mec="k", mew=1.5, ls="none",
                    zorder=7)
    ax.set_xscale("log", base=2)
    ax.set_xticks(res, [str(s) for s in res])
    ax.set_xlabel("resolution s (grid points per axis)")
    ax.set_ylabel("relative L2 error (dimensionless)")
    ax.grid(True, which="both", alpha=0.3)
    vals = [v for v in (*p["disc_ref"], *p["disc_advisor"], *(v for f in p["prec"].values() for v in f))
            if math.isfinite(v) and v > 0]
    ax.set_ylim(min(vals) / 3, max(vals) * 3)
    lines = [LABEL[p["dataset"]], f"K = {p['modes']} modes, {p['n_samples']} samples, reference grid {p['reference_res']}"]
    if marks:
        lines.append("trained FNO, test L2 vs fp32 (validate, circled):")
        for s, mark in sorted(marks.items(), key=lambda kv: int(kv[0])):
            lines.append(f"s={s}: fp16 {_gap_text(mark, 'fp16')}, fp8 e4m3 {_gap_text(mark, 'fp8_e4m3fn')}")
    else:
        lines += ["no validation runs for this dataset", "(no validate JSON: nothing circled)"]
    ax.set_title("\n".join(lines), fontsize=7.5)


def _legend(fig, formats: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    from matplotlib.lines import Line2D

    h = [Line2D([], [], color="k", ls="-", marker="o", lw=2.2, label="discretization, vs finer grid (same samples)"),
         Line2D([], [], color="k", ls="--", marker="x", lw=1.4, label="discretization, advisor estimate")]
    for f in formats:
        color, ls, marker = STYLE[f]
        h.append(Line2D([], [], color=color, ls=ls, marker=marker, mfc="none" if f == "tf32" else color,
                        label=f"precision, {f} block" + (" (same u as fp16)" if f == "tf32" else "")))
    h.append(Line2D([], [], color="w", marker="*", ms=14, mfc="0.6", mec="k", label="crossover s* (vs finer grid)"))
    h.append(Line2D([], [], color="w", marker="o", ms=13, mfc="none", mec="k", mew=1.5,
                    label="trained in validate (gap in title)"))
    fig.legend(handles=h, loc="outside lower center", ncol=4, fontsize=8, frameon=False,
               title="discretization: relative error of the retained coefficients (median over samples); precision: "
                     "relative error of the spectral block output (first 4 samples)", title_fontsize=8)


def compute(ctx: Context) -> ArtefactResult:
    setups = QUICK if ctx.quick else FULL
    modes = MODES[ctx.quick]
    panels = {name: measure(name, setups[name], modes, seed=ctx.seed) for name in DATASETS}
    marks = {name: validation_marks(name) for name in DATASETS}
    fig, axes = new_figure(ncols=3, width=5.4, height=5.6)
    for ax, name in zip(axes[0], DATASETS):
        _plot(ax, panels[name], marks[name])
    _legend(fig, FORMATS)
    fig.suptitle(f"Real data: discretization vs emulated precision error of an FNO spectral block, "
                 f"{mode_label(ctx, GPU_DEPENDENT)}", fontsize=10)
    reason = ("the paper reports no crossover for real data; its claim (NOTES.md s2 item 5, derived) is qualitative: "
              "fp16 precision error below discretization up to practical resolutions")
    comps = []
    for name in DATASETS:
        c = panels[name]["crossover"]["fp16"]["ref"]
        comps.append(Comparison(quantity=f"fp16 crossover s*, {name} (vs finer grid)", ours=c["s_star"], paper=None,
                                unit="points/axis", source="NOTES.md s2 item 5", reason=reason,
                                note=f"{c['status']}: {c['why']}"))
    notes = []
    for name in DATASETS:
        if not marks[name]:
            notes.append(f"{name}: no validate_{name}_{{32,64}}.json in paper_repro/results: no training outcome marked")
        for f in FORMATS:
            bad = [s for s, v in zip(panels[name]["res"], panels[name]["prec"][f]) if not math.isfinite(v)]
            if bad:
                notes.append(f"{name}: {f} block overflows (non-finite) at s = {bad} even with the pow2 pre-scale")
        for s, mark in marks[name].items():
            if int(s) in panels[name]["res"]:
                i = panels[name]["res"].index(int(s))
                notes.append(f"{name} s={s}: disc (finer grid) {panels[name]['disc_ref'][i]:.3g}, advisor "
                             f"{panels[name]['disc_advisor'][i]:.3g} (validate's advisor: {mark['advisor_disc']:.3g}); "
                             f"fp16 block {panels[name]['prec']['fp16'][i]:.3g}; fp16 training gap "
                             f"{_gap_text(mark, 'fp16')} vs fp32")
    if ctx.quick and any(marks.values()):
        notes.append(f"quick mode: the circled validation outcomes come from K = 12 runs at s = 32, 64; these curves use "
                     f"K = {modes} and tiny sample counts")
    if "darcy" in panels:
        notes.append("darcy: the finer-grid value underestimates E_s by about 1 - (s/s_ref)^beta (the input is not "
                     "band-limited); Navier-Stokes and Burgers inputs are trigonometric polynomials resolved exactly "
                     "by the reference grid")
    data = {"modes": modes, "formats": list(FORMATS), "datasets": list(DATASETS), "panels": panels,
            "validation": marks}
    return ArtefactResult(data=data, figure=fig, comparisons=comps, notes=notes)


if __name__ == "__main__":
    from paper_repro._runner import main

    raise SystemExit(main(NAME))
