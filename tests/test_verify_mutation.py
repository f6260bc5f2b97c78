"""Mutation checks: weakening a bound in the wrong direction must make the verification report violations.

Each test plants a bug (a constant halved, or the log factor dropped) by monkeypatching the transcription of
the bound in its proofs_numeric module, runs that statement's checks (quick size) and requires violations.
The same checks pass unmutated (test_verify_cli), so these tests show the suite can fail.

Not every mutation is detectable: P2's worst-case FFT bound is attained only up to a ratio of about 0.22
(the tightness figure of its report), so neither halving its constant nor dropping its log2 n factor produces a
violation on any input found so far (docs/verification.md). The mutations below target bounds whose witnesses
attain them (D2 and P1: ratio 1) and an exact identity (C1).
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
