"""Run every statement module and write the verification report (markdown + JSON, atomically).

The JSON report: ``{"provenance": ..., "quick": bool, "all_hold": bool, "seconds": float,
"statements": [<per-statement result>, ...]}``; each statement result carries at least ``id``,
``cases``, ``violations``, ``min_slack``, ``best_ratio``, ``witness``, ``seconds`` (the contract of
``errbound verify --json``). A module that raises is reported with ``error`` set and counts as failed.
"""

from __future__ import annotations

import importlib
import math
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

from proofs_numeric._framework import Context

__all__ = ["STATEMENTS", "run_all", "write_reports", "summary_text", "DEFAULT_OUT", "load_module"]

DEFAULT_OUT = "runs/verify"

#: statement id -> module (order of docs/theory.md)
STATEMENTS: dict[str, str] = {
    "R1": "proofs_numeric.r1_rounding",
    "R2": "proofs_numeric.r2_arith",
    "D1": "proofs_numeric.d1_aliasing",
    "D2": "proofs_numeric.d2_lipschitz",
    "D3": "proofs_numeric.d3_lower",
    "D4": "proofs_numeric.d4_smooth",
    "D5": "proofs_numeric.d5_layer",
    "P1": "proofs_numeric.p1_input",
    "P2": "proofs_numeric.p2_fft",
    "P3": "proofs_numeric.p3_prob",
    "P4": "proofs_numeric.p4_dft_matmul",
    "P5": "proofs_numeric.p5_block",
    "P6": "proofs_numeric.p6_overflow",
    "C1": "proofs_numeric.c1_crossover",
}


#: rough relative cost of each statement's full run (for scheduling the parallel pool only)
_EXPECTED_COST = {"P2": 10, "P6": 6, "D3": 6, "D1": 6, "D2": 5, "P4": 4, "D4": 4, "D5": 4, "P5": 4, "P3": 3,
                  "C1": 2, "R2": 2, "R1": 1, "P1": 1}


def load_module(statement_id: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(STATEMENTS[statement_id])


def _run_one(statement_id: str, ctx: Context) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        module = load_module(statement_id)
        result = module.run(ctx)
    except Exception as exc:  # noqa: BLE001 - a crashing check is reported, never hidden
        return {
            "id": statement_id, "title": "", "cases": 0, "certified_cases": 0, "violations": 0, "min_slack": None, "best_ratio": None,
            "witness": None, "seconds": round(time.perf_counter() - t0, 3),
            "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
        }
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def _holds(result: dict[str, Any]) -> bool:
    return not result.get("error") and result["violations"] == 0 and result["cases"] > 0


def _run_one_in_worker(args: tuple[str, bool, int, float]) -> dict[str, Any]:
    statement_id, quick, seed, budget = args
    return _run_one(statement_id, Context(quick=quick, seed=seed, search_budget=budget))


def run_all(
    *, quick: bool = False, only: Sequence[str] | None = None, seed: int = 20240, command: list[str] | None = None,
    progress: bool = True, workers: int = 1,
) -> dict[str, Any]:
    """Run the statement modules (all, or the ids in ``only``); return the report dict.

    ``workers > 1`` runs the statements in that many processes (each statement is independent and seeded,
    so the report is the same as a serial run's apart from the timings)."""
    from errbound.errors import ErrboundError
    from errbound.results import provenance

    ids = list(STATEMENTS)
    if only:
        unknown = [s for s in only if s.upper() not in STATEMENTS]
        if unknown:
            raise ErrboundError(f"unknown statement id(s) {', '.join(unknown)}; choose from {', '.join(STATEMENTS)}")
        ids = [s for s in ids if s in {o.upper() for o in only}]
    if workers < 1:
        raise ErrboundError(f"--workers must be >= 1, got {workers}")
    budget = 2.0 if quick else 40.0
    ctx = Context(quick=quick, seed=seed, search_budget=budget)
    t0 = time.perf_counter()
    results = []

    def report(res: dict[str, Any]) -> None:
        if progress:
            status = "ok" if _holds(res) else ("ERROR" if res.get("error") else "VIOLATED")
            print(f"[verify] {res['id']} {status}: {res['cases']} cases, {res.get('certified_cases', 0)} certified, "
                  f"{res['violations']} violations, best_ratio {_fmt(res.get('best_ratio'))}, {res['seconds']:.1f} s",
                  file=sys.stderr, flush=True)

    if workers == 1 or len(ids) == 1:
        for sid in ids:
            if progress:
                print(f"[verify] {sid} ...", file=sys.stderr, flush=True)
            res = _run_one(sid, ctx)
            report(res)
            results.append(res)
    else:
        import concurrent.futures as cf
        import multiprocessing

        # longest statements first so the pool stays busy; results are put back in docs/theory.md order
        order = sorted(ids, key=lambda s: -_EXPECTED_COST.get(s, 1))
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futs = {pool.submit(_run_one_in_worker, (sid, quick, seed, budget)): sid for sid in order}
            done = {}
            for fut in cf.as_completed(futs):
                res = fut.result()
                report(res)
                done[futs[fut]] = res
        results = [done[sid] for sid in ids]
    return {
        "provenance": provenance(command),
        "quick": quick,
        "seed": seed,
        "all_hold": all(_holds(r) for r in results),
        "seconds": round(time.perf_counter() - t0, 3),
        "workers": workers,
        "statements": results,
    }


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isinf(x) or math.isnan(x):
            return str(x)
        return f"{x:.4g}"
    return str(x)


def summary_text(report: dict[str, Any]) -> str:
    from errbound.tables import format_table

    rows = []
    for r in report["statements"]:
        w = r.get("witness") or {}
        rows.append({
            "id": r["id"], "status": "ok" if _holds(r) else ("error" if r.get("error") else "VIOLATED"),
            "cases": r["cases"], "certified_cases": r.get("certified_cases", 0), "violations": r["violations"], "min_slack": r.get("min_slack"),
            "best_ratio": r.get("best_ratio"), "witness": w.get("part", "-"), "seconds": r["seconds"],
        })
    head = (f"{'quick' if report['quick'] else 'full'} verification: "
            f"{'all statements hold' if report['all_hold'] else 'SOME STATEMENTS FAIL'} ({report['seconds']:.1f} s)")
    return head + "\n" + format_table(rows, ["id", "status", "cases", "certified_cases", "violations", "min_slack", "best_ratio", "witness", "seconds"])


def markdown(report: dict[str, Any]) -> str:
    prov = report["provenance"]
    lines = [
        "# errbound verification report",
        "",
        f"Mode: {'quick' if report['quick'] else 'full'}; seed {report['seed']}; total {report['seconds']:.1f} s; "
        f"commit {prov.get('commit')}; {prov.get('date')}; command `{prov.get('command')}`.",
        "",
        f"**{'All statements hold.' if report['all_hold'] else 'Some statements FAIL (see below).'}**",
        "",
        "Every check is `lhs <= rhs`: for an upper bound lhs = error and rhs = bound, for a lower bound lhs = "
        "bound and rhs = the witness's error. `best_ratio` = max lhs/rhs (tightness: 1 = attained), "
        "`min_slack` = min (rhs - lhs)/|rhs|.",
        "",
        "A case is *certified* when both sides were computed as rigorous enclosures (python-flint Arb balls, exact "
        "rationals or exact floats) that are disjoint in the right order; `uncertified` lists the other cases with "
        "the reason.",
        "",
        "| id | title | cases | certified_cases | violations | min_slack | best_ratio | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["statements"]:
        lines.append(f"| {r['id']} | {r.get('title', '')} | {r['cases']} | {r.get('certified_cases', 0)} | {r['violations']} | "
                     f"{_fmt(r.get('min_slack'))} | {_fmt(r.get('best_ratio'))} | {r['seconds']:.1f} |")
    for r in report["statements"]:
        lines += ["", f"## {r['id']}: {r.get('title', '')}", ""]
        if r.get("error"):
            lines += ["**ERROR** " + r["error"], "", "```", r.get("traceback", ""), "```"]
            continue
        if r.get("statement"):
            lines += ["> " + r["statement"].replace("\n", "\n> "), ""]
        lines.append(f"Kind: {r.get('kind')}; tolerance: {r.get('tolerance')}")
        lines += ["", "| part | cases | certified | violations | best_ratio | min_slack |", "|---|---|---|---|---|---|"]
        for name, p in (r.get("parts") or {}).items():
            lines.append(f"| {name} | {p['cases']} | {p.get('certified_cases', 0)} | {p['violations']} | "
                         f"{_fmt(p['best_ratio'])} | {_fmt(p['min_slack'])} |")
        lines += ["", f"Witness (largest ratio): `{r.get('witness')}`"]
        if r.get("uncertified"):
            lines += ["", "Uncertified cases:"] + [f"- {u['part']}: {u['cases']} ({u['reason']})" for u in r["uncertified"]]
        if r.get("violation_examples"):
            lines += ["", "**Violations:**"] + [f"- `{v}`" for v in r["violation_examples"]]
        if r.get("symbolic"):
            lines += ["", "Symbolic:"] + [f"- {k}: `{v}`" for k, v in r["symbolic"].items()]
        if r.get("notes"):
            lines += ["", "Notes:"] + [f"- {n}" for n in r["notes"]]
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], out: str | Path) -> list[Path]:
    """Write ``verify.json`` and ``verify.md`` into ``out`` atomically; return their paths."""
    from errbound.results import atomic_path, write_json_atomic

    out = Path(out)
    json_path = write_json_atomic(out / "verify.json", report)
    md_path = out / "verify.md"
    with atomic_path(md_path) as tmp:
        tmp.write_text(markdown(report))
    return [json_path, md_path]
