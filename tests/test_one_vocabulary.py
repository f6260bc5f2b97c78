"""One definition of every concept: the source tree and the user docs name each once.

Fails when a second Stabilizer class, a second precision parser, a second modes-default table or an old
vocabulary word (``--preset``, ``PrecisionPolicy``, ``parse_precision``, ``BlockPolicy``, ``SAFER``) comes back.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for d in ("errbound", "proofs_numeric", "paper_repro", "benchmarks") for p in (ROOT / d).rglob("*.py")]
DOCS = [ROOT / "README.md", *(ROOT / "docs" / n for n in ("precision.md", "training.md", "advisor.md"))]


def _where(pattern: str, files) -> list[str]:
    rx = re.compile(pattern, re.MULTILINE)
    return [str(p.relative_to(ROOT)) for p in files for _ in rx.finditer(p.read_text())]


def test_one_stabilizer_one_parser_one_modes_table():
    assert _where(r"^class Stabilizer\b", SOURCES) == ["errbound/policy.py"]
    assert _where(r"^def parse_policy\b", SOURCES) == ["errbound/policy.py"]
    assert _where(r"^def (preset|parse_precision)\b", SOURCES) == []
    assert _where(r"^DEFAULT_MODES\s*=", SOURCES) == ["errbound/modes.py"]
    assert _where(r"^def retained_frequencies\b", SOURCES) == ["errbound/modes.py"]
    assert _where(r"^def (_fmt|_opt_fmt)\(value: object", SOURCES) == []  # one format-argument helper: as_format


def test_docs_use_only_the_one_vocabulary():
    for word in (r"--preset", r"PrecisionPolicy", r"parse_precision", r"BlockPolicy", r"\bSAFER\b", r"std_clip\b(?!`)"):
        assert _where(word, DOCS) == [], word


def test_library_code_does_not_import_the_cli():
    # benchmark scripts may run commands; the library, proofs_numeric and paper_repro may not import the CLI
    outside_cli = [p for p in SOURCES if "errbound/cli" not in str(p) and p.name != "__main__.py"
                   and "benchmarks" not in p.parts]
    assert _where(r"from errbound\.cli", outside_cli) == []
