"""Mutation checks: weakening a bound in the wrong direction must make the verification report violations.

Each test plants a bug (a constant halved, or the log factor dropped) by monkeypatching the transcription of
the bound in its proofs_numeric module, runs that statement's checks (quick size) and requires violations.
The same checks pass unmutated (test_verify_cli), so these tests show the suite can fail.

A mutation is detectable only where the bound is nearly attained: D2 and P1 by their witnesses (ratio 1), P2 by
its refined form (exact first two stages; a tie witness attains it at n = 2 and random inputs reach 0.98 of it),
C1 by its exact identity.
"""

from __future__ import annotations

import json

from errbound.cli import main
from proofs_numeric._framework import Context

QUICK = Context(quick=True, search_budget=0.5)


def test_D2_constant_halved_is_caught(monkeypatch) -> None:
    from proofs_numeric import d2_lipschitz as m

    a, b = m.bound_a, m.bound_b
    monkeypatch.setattr(m, "bound_a", lambda *args, **kw: a(*args, **kw) / 2)
    monkeypatch.setattr(m, "bound_b", lambda *args, **kw: b(*args, **kw) / 2)
    res = m.run(QUICK)
    assert res["violations"] > 0
    assert res["parts"]["witness"]["violations"] > 0  # the tent witness attains the true bound exactly


def test_P2_constant_halved_is_caught(monkeypatch) -> None:
    from proofs_numeric import p2_fft as m

    refined = m.bound_refined
    monkeypatch.setattr(m, "FORMATS", ("fp16", "bf16"))  # fewer formats: CI time; the witness exists for each
    monkeypatch.setattr(m, "bound_refined", lambda *a, **kw: refined(*a, **kw) / 2)
    res = m.run(QUICK)
    assert res["parts"]["tie witness (t = 1)"]["violations"] > 0


def test_P2_log_factor_dropped_is_caught(monkeypatch) -> None:
    """Replace t = log2 n by 1 in P2's (refined) bound: (1 + u) - 1 = u for every n."""
    from proofs_numeric import p2_fft as m

    monkeypatch.setattr(m, "FORMATS", ("fp16", "bf16"))  # fewer formats: CI time
    monkeypatch.setattr(m, "bound_refined", lambda n, u, mu, scaled=False: (1 + u) * ((1 + u) if scaled else 1) - 1)
    res = m.run(QUICK)
    assert res["violations"] > 0 and res["parts"]["grid"]["violations"] > 0


def test_C1_log_factor_dropped_is_caught(monkeypatch) -> None:
    """Dropping the log2 s^d factor of P* in C1's closed form (s* for a > 0) breaks the identity with the root."""
    from proofs_numeric import c1_crossover as m

    original = m.s_star
    monkeypatch.setattr(m, "s_star", lambda L, M, u, c, a, d: original(L, M, u, c, 0.0, d))
    res = m.run(QUICK)
    assert res["violations"] > 0 and res["parts"]["closed form = root"]["violations"] > 0


def test_P1_constant_halved_is_caught_through_the_cli(monkeypatch, tmp_path, capsys) -> None:
    from proofs_numeric import p1_input as m

    original = m.eta
    monkeypatch.setattr(m, "eta", lambda fmt: original(fmt))
    # weaken u/(1+u) to u/(2(1+u)) in every transcription of P1's right-hand side
    from errbound.formats import Format

    monkeypatch.setattr(Format, "u", property(lambda self: 2.0 ** -(self.t + 1)))
    status = main(["verify", "--quick", "--only", "P1", "--json", "--out", str(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["statements"][0]["violations"] > 0 and not report["all_hold"]


# ---- issue 16: the certified verdicts catch mutations the float pre-filter could hide -----------------------------

def test_D2_certified_bound_halved_is_caught(monkeypatch) -> None:
    """The grid's verdict is the Arb comparison: halving the Arb transcription of D2(a), D2(b) is a certified violation."""
    from proofs_numeric import d2_lipschitz as m

    a, b = m.bound_a_arb, m.bound_b_arb
    monkeypatch.setattr(m, "bound_a_arb", lambda *args, **kw: a(*args, **kw) / 2)
    monkeypatch.setattr(m, "bound_b_arb", lambda *args, **kw: b(*args, **kw) / 2)
    monkeypatch.setattr(m, "_adversarial", lambda ctx, chk: None)  # CI time: the grid suffices
    res = m.run(QUICK)
    assert res["parts"]["witness"]["violations"] > 0  # the tents attain D2 at w = 0
    assert any("CERTIFIED VIOLATION" in u["reason"] for u in res["uncertified"])


def test_tolerance_cannot_hide_a_certified_violation() -> None:
    """A case inside the float tolerance but certified in the wrong order is a violation."""
    from flint import arb

    from proofs_numeric._framework import Check

    chk = Check("X", "t", "s", rel_tol=1e-6)
    assert chk.case(1.0 + 1e-9, 1.0, "p", cert=(arb(1) + arb(10) ** -9, arb(1))) is False
    res = chk.result()
    assert res["violations"] == 1 and res["certified_cases"] == 0


def test_crossover_bound_swapped_is_caught(monkeypatch) -> None:
    """Mutation: s_star_proven computed with the input-rounding bound P1 instead of P2m (the crossover's bound swapped):
    C1's check of errbound.crossover fails (the class error no longer meets P2m there)."""
    import errbound.crossover as cx
    from proofs_numeric import c1_crossover as m

    monkeypatch.setattr(cx, "s_star_proven", lambda L, M, dim, fmt, **kw: cx.s_star_input_model(L, M, dim, fmt))
    res = m.run(QUICK)
    assert res["parts"]["errbound.crossover s_star_proven: A* >= P2m just below"]["violations"] > 0
    assert res["violations"] > 0
