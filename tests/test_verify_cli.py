"""``errbound verify``: the quick run (part of CI), the JSON contract, the reports, statements quoted verbatim."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from errbound.cli import main
from proofs_numeric.runner import STATEMENTS, load_module

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("id", "cases", "violations", "min_slack", "best_ratio", "witness", "seconds")


def test_quick_verification_all_statements_hold(tmp_path, capsys) -> None:
    """The CI run: every statement checked, no violation, a tightness figure for every upper bound."""
    status = main(["verify", "--quick", "--json", "--out", str(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    assert status == 0, [r for r in report["statements"] if r["violations"] or r.get("error")]
    assert report["all_hold"] is True
    assert [r["id"] for r in report["statements"]] == list(STATEMENTS)
    for r in report["statements"]:
        for key in KEYS:
            assert key in r, (r["id"], key)
        assert r["cases"] >= 100 and r["violations"] == 0, r["id"]
        if r["kind"] in ("upper", "lower"):
            assert r["best_ratio"] is not None and 0 < r["best_ratio"] <= 1 + 1e-6, r["id"]
            assert r["witness"], r["id"]
    # issue 16: every case certified (rigorous enclosures in the right order) except the two kinds that ball
    # arithmetic cannot decide: P3 (a statistical statement) and D3(a)'s integral = closed form equalities
    by_id = {r["id"]: r for r in report["statements"]}
    for r in report["statements"]:
        assert "certified_cases" in r and "uncertified" in r, r["id"]
        assert not any("CERTIFIED VIOLATION" in u["reason"] for u in r["uncertified"]), r["id"]
        if r["id"] == "P3":
            assert r["certified_cases"] == 0 and all("probabilistic" in u["reason"] for u in r["uncertified"])
        elif r["id"] == "D3":
            assert [u["part"] for u in r["uncertified"]] == ["a: Euclidean distance d>=2"]
            assert r["cases"] - r["certified_cases"] == r["uncertified"][0]["cases"] <= 10
        else:
            assert r["certified_cases"] == r["cases"], (r["id"], r["uncertified"])
    # the worst-case Lipschitz bound and the lower bound are attained by explicit witnesses
    assert by_id["D2"]["best_ratio"] >= 0.25 and by_id["D3"]["best_ratio"] == pytest.approx(1, abs=1e-12)
    on_disk = json.loads((tmp_path / "verify.json").read_text())
    assert on_disk["all_hold"] and len(on_disk["statements"]) == len(STATEMENTS)
    assert "## D2" in (tmp_path / "verify.md").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # atomic writes leave no temp files


def test_only_and_text_output(tmp_path, capsys) -> None:
    status = main(["verify", "--quick", "--only", "R1,P1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert "R1" in out and "P1" in out and "D2" not in out.split("reports:")[0]


def test_unknown_statement_is_a_clear_error(tmp_path, capsys) -> None:
    status = main(["verify", "--only", "Z9", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2 and "Z9" in err and "R1" in err
    assert not (tmp_path / "verify.json").exists()


def _theory_statements() -> dict[str, str]:
    text = (ROOT / "docs" / "theory.md").read_text()
    return {m.group(1): m.group(0) for m in re.finditer(r"\*\*([RDPC]\d) \(", text)}


def test_every_statement_has_a_module_quoting_it_verbatim() -> None:
    text = (ROOT / "docs" / "theory.md").read_text()
    ids = set(_theory_statements())
    assert ids == set(STATEMENTS), ids ^ set(STATEMENTS)
    for sid in STATEMENTS:
        module = load_module(sid)
        assert module.ID == sid
        # the module's quoted statement is the text of docs/theory.md, character for character
        assert module.STATEMENT.strip() in text, f"{sid}: the quoted statement differs from docs/theory.md"


def test_crashing_module_is_reported_not_hidden(monkeypatch, tmp_path, capsys) -> None:
    module = load_module("R1")

    def boom(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("planted crash")

    monkeypatch.setattr(module, "run", boom)
    status = main(["verify", "--quick", "--only", "R1", "--json", "--out", str(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    assert status == 1 and not report["all_hold"]
    assert "planted crash" in report["statements"][0]["error"]


def test_check_records_violations_ratios_and_witness() -> None:
    import numpy as np

    from proofs_numeric._framework import Check

    chk = Check("X1", "t", "s", rel_tol=1e-12)
    assert chk.case(1.0, 2.0, "a", tag="half")
    assert chk.case(1.0 + 1e-13, 1.0, "a", tag="within tolerance")  # 1e-13 < rel_tol: holds
    assert not chk.case(1.1, 1.0, "b", tag="violated")
    chk.cases(np.array([np.nan, 0.25]), np.array([1.0, 1.0]), "c")  # a NaN error is a violation
    res = chk.result()
    assert res["cases"] == 5 and res["violations"] == 2
    assert res["witness"]["part"] == "c" and res["best_ratio"] == float("inf")
    assert res["parts"]["a"]["best_ratio"] == 1.0 + 1e-13 and res["parts"]["b"]["violations"] == 1


def test_probabilistic_check_uses_a_binomial_test() -> None:
    import numpy as np

    from proofs_numeric._framework import Check

    chk = Check("X2", "t", "s", kind="probabilistic")
    rhs = np.ones(1000)
    chk.probabilistic(np.r_[np.full(10, 2.0), np.zeros(990)], rhs, 0.02, "allowed")  # 1% <= 2%: fine
    chk.probabilistic(np.r_[np.full(100, 2.0), np.zeros(900)], rhs, 0.02, "too many")  # 10% >> 2%
    res = chk.result()
    assert res["parts"]["allowed"]["violations"] == 0 and res["parts"]["too many"]["violations"] == 1
    assert res["exceedances"]["allowed"]["exceedances"] == 10
