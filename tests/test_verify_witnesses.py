"""Witnesses belong to their classes (issue 16): rigorous Lipschitz constants and sup norms, and the D3(d) fix.

A lower-bound witness proves ``sup over the class >= its error`` only if its Lipschitz constant (sup norm, ...)
is at most the one it is used with. These tests fail when a witness's rigorous Lipschitz enclosure exceeds the
L it is used with, and when the hypothesis checks are removed from proofs_numeric/d3_lower.py.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from flint import arb

from proofs_numeric import d3_lower
from proofs_numeric._cert import decide, workprec
from proofs_numeric._framework import Check, Context
from proofs_numeric._hypotheses import lipschitz_enclosure_1d, modulated_tent_pieces, pl_lipschitz_exact

QUICK = Context(quick=True, search_budget=1.0)

#: every witness family of D3 and the hypothesis parts that must check it (rigorously, with cases)
HYPOTHESIS_PARTS = (
    "hyp: tent Lipschitz <= L", "hyp: tent sup <= L sqrt(d)/(2s)", "hyp: tent vanishes on the grid",
    "hyp: axis-sum per-axis slope <= L_i", "hyp: dist_2 Lipschitz quotients <= L (sampled)",
    "hyp: aliased cosine Lipschitz <= declared L", "hyp: aliased cosine sup <= declared M",
    "hyp: tentgrid Lipschitz <= declared L", "hyp: tentgrid sup <= declared M",
    "hyp: Lip(W_s / Lambda_w) <= L", "hyp: Lip(W_s) >= 2L (W_s itself is not L-Lipschitz)",
)


@pytest.fixture(scope="module")
def d3_result() -> dict:
    return d3_lower.run(QUICK)


def test_modulated_tent_is_not_L_lipschitz_but_lambda_L() -> None:
    """The issue's example: d = 1, s = 8, w = 1, L = 1: Lip(W_s) = 2.148..., not 1; <= Lambda_w = 2.1487."""
    with workprec():
        lam = d3_lower.lambda_w(8, (1,), 1)
        lo, hi = lipschitz_enclosure_1d(modulated_tent_pieces(8, 1, Fraction(1)), lam)
    assert 2.148 < float(lo.mid()) <= float(hi.mid()) < 2.1487
    assert decide(hi, lam) == "yes"          # the corrected statement: Lip(W_s) <= Lambda_w L, certified
    assert decide(lo, Fraction(1)) == "no"   # the old statement: W_s used as 1-Lipschitz, a certified violation


def test_check_fails_when_rigorous_lipschitz_exceeds_the_L_used() -> None:
    """A witness whose rigorous Lipschitz enclosure exceeds its L is a (certified) violation of the check."""
    chk = Check("X", "t", "s")
    with workprec():
        lo, hi = lipschitz_enclosure_1d(modulated_tent_pieces(8, 1, Fraction(1)), arb(1))
    assert chk.case(None, 1.0, "hyp", cert=(lo, Fraction(1))) is False
    res = chk.result()
    assert res["violations"] == 1 and res["certified_cases"] == 0
    assert "CERTIFIED VIOLATION" in res["uncertified"][0]["reason"]
    # a PL witness used with a smaller slope than its own
    knots = [Fraction(j, 8) for j in range(8)]
    values = [0.0, 0.125, 0.0, 0.125, 0.0, 0.125, 0.0, 0.125]
    assert pl_lipschitz_exact(knots, values) == 1
    assert not chk.case(1.0, 0.5, "hyp", cert=(pl_lipschitz_exact(knots, values), Fraction(1, 2)))


def test_d3_checks_every_witness_hypothesis(d3_result) -> None:
    """Dropping a witness check from d3_lower fails here: each family's hypothesis part exists, has cases, all certified."""
    parts = d3_result["parts"]
    for name in HYPOTHESIS_PARTS:
        assert name in parts, f"hypothesis check {name!r} missing from D3"
        assert parts[name]["cases"] > 0 and parts[name]["violations"] == 0, name
        assert parts[name]["certified_cases"] == parts[name]["cases"], name
    assert d3_result["violations"] == 0


def test_d3_old_constant_is_caught(monkeypatch) -> None:
    """Mutation: D3(d) with Lambda_w = 1 (W_s used as an L-Lipschitz witness of L kappa_d / s) is a violation."""
    monkeypatch.setattr(d3_lower, "lambda_w", lambda s, w, d: arb(1))
    res = d3_lower.run(QUICK)
    assert res["parts"]["hyp: Lip(W_s / Lambda_w) <= L"]["violations"] > 0
    assert res["violations"] > 0


def test_library_witness_constants_are_upper_bounds(monkeypatch) -> None:
    """Mutation: errbound.functions.witnesses declaring L rounded to nearest (not up) is caught by D3."""
    from errbound.functions import witnesses

    monkeypatch.setattr(witnesses, "_UP_ULPS", 0)
    res = d3_lower.run(QUICK)
    bad = res["parts"]["hyp: aliased cosine Lipschitz <= declared L"]["violations"]
    bad += res["parts"]["hyp: tentgrid Lipschitz <= declared L"]["violations"]
    assert bad > 0
