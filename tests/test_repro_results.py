"""The committed reproduction results: full runs, honest comparisons, and docs that quote them exactly.

* every committed artefact JSON (``paper_repro/results/NAME.json`` for NAME in the registry) comes from a full
  run (``quick: false``) and has its figure committed;
* every comparison row says whether it is comparable and why; a ratio appears only on comparable rows and is
  ours / paper;
* docs/reproduction.md quotes numbers as ``VALUE<!-- NAME:path:format -->``; each quote is recomputed from the
  committed JSON (``path``: dot-separated keys, list indexes, or ``field=value`` to pick a list element) and must
  print exactly as quoted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from paper_repro._runner import ARTEFACTS, REPO_ROOT

RESULTS = REPO_ROOT / "paper_repro" / "results"
DOC = REPO_ROOT / "docs" / "reproduction.md"
QUOTE = re.compile(r"([-+]?[0-9][0-9.,eE+-]*%?|None|True|False)<!-- ([a-z_0-9.]+):([^ ]+?)(?::([^ ]*))? -->")


def _committed() -> list[str]:
    return [name for name in ARTEFACTS if (RESULTS / f"{name}.json").is_file()]


def _load(name: str) -> dict[str, Any]:
    return json.loads((RESULTS / f"{name}.json").read_text())


def resolve(doc: Any, path: str) -> Any:
    """Follow ``path`` (dot-separated: dict keys, list indexes, ``field=value`` list selectors) in ``doc``."""
    node = doc
    for part in path.split("."):
        if isinstance(node, list) and "=" in part:
            field, value = part.split("=", 1)
            matches = [x for x in node if str(x.get(field)) == value]
            assert len(matches) == 1, f"{path}: {part} selects {len(matches)} elements"
            node = matches[0]
        elif isinstance(node, list):
            node = node[int(part)]
        else:
            assert part in node, f"{path}: no key {part!r} (keys: {sorted(node)[:12]})"
            node = node[part]
    return node


def render(value: Any, spec: str | None) -> str:
    if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def test_the_resolver_and_the_renderer_work_on_a_known_document():
    doc = {"rows": [{"k": "a", "v": 0.12345}, {"k": "b", "v": [1, 2]}]}
    assert render(resolve(doc, "rows.k=a.v"), ".3g") == "0.123"
    assert resolve(doc, "rows.1.v.0") == 1
    assert render(0.5, ".0%") == "50%"


@pytest.mark.parametrize("name", _committed())
def test_committed_results_are_full_runs_with_their_figures(name):
    doc = _load(name)
    assert doc["quick"] is False, f"{name}.json is a quick run; rerun `errbound repro {name}` (full) and commit it"
    assert (REPO_ROOT / "figures" / f"{name}.png").is_file() and (REPO_ROOT / "figures" / f"{name}.pdf").is_file()


@pytest.mark.parametrize("name", _committed())
def test_every_comparison_is_flagged_and_only_comparable_rows_have_a_ratio(name):
    for row in _load(name)["comparisons"]:
        assert isinstance(row["comparable"], bool), row
        assert row["reason"].strip(), row
        if row["comparable"]:
            assert row["ours"] is not None and row["paper"] is not None
            # the ratio is ours / paper, as computed (float division, no rounding)
            assert row["ratio"] == pytest.approx(row["ours"] / row["paper"], rel=1e-12)
        else:
            assert row["ratio"] is None, f"{name}: {row['quantity']} has a ratio but is not comparable"


def test_every_cpu_artefact_is_committed():
    gpu_only = {"memory_throughput"}
    missing = [n for n in ARTEFACTS if n not in gpu_only and not (RESULTS / f"{n}.json").is_file()]
    assert not missing, f"no committed full results for {missing}"


def test_docs_quote_the_committed_numbers_exactly():
    text = DOC.read_text()
    quotes = QUOTE.findall(text)
    cited = {name for _, name, _, _ in quotes}
    assert cited >= set(ARTEFACTS) - {"memory_throughput"}, f"artefacts never quoted: {set(ARTEFACTS) - cited}"
    cache: dict[str, Any] = {}
    wrong = []
    for shown, name, path, spec in quotes:
        doc = cache.setdefault(name, _load(name))
        actual = render(resolve(doc, path), spec or None)
        if actual != shown:
            wrong.append(f"{name}:{path} quoted {shown}, JSON gives {actual}")
    assert not wrong, "\n".join(wrong)
    # no quote marker left unparsed (a typo in a marker would silently skip the check)
    assert text.count("<!-- ") == len(quotes) + text.count("<!-- not a quote")
