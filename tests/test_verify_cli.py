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
    # the worst-case Lipschitz bound and the lower bound are attained by explicit witnesses
    by_id = {r["id"]: r for r in report["statements"]}
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
