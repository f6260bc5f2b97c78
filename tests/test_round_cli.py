"""``errbound round`` at the edges: exact parsing beyond float64's range, hex floats, negative values without
``--``, signed zeros, exact integers in the text output, and one-line errors (no traceback) on bad seeds."""

from __future__ import annotations

import json
import math

import pytest

from errbound.cli import main


def _rows(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["round", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["results"]


@pytest.mark.parametrize(
    "value, mode, want",
    [
        ("1e400", "rz", 65504.0),
        ("-1e400", "ru", -65504.0),
        ("1e400", "rne", math.inf),
        ("-1e-8", "rne", -0.0),
        ("-1e-8", "rd", -(2.0**-24)),
        ("0x1p-30", "ru", 2.0**-24),
        ("-0x1.8p+3", "rne", -12.0),
        ("-0.0", "rne", -0.0),
        ("-inf", "rne", -math.inf),
        ("65519.99999999999999999", "rne", 65504.0),
        ("65520", "rne", math.inf),
    ],
    ids=lambda v: str(v),
)
def test_round_values_exact(capsys: pytest.CaptureFixture[str], value: str, mode: str, want: float) -> None:
    (row,) = _rows(capsys, value, "--format", "fp16", "--mode", mode)
    got = row["rounded"]
    got = float(got) if isinstance(got, str) else got  # JSON spells inf as a string
    assert got == want and math.copysign(1.0, got) == math.copysign(1.0, want), (value, mode, got)


def test_tiny_decimal_has_consistent_errors(capsys: pytest.CaptureFixture[str]) -> None:
    (row,) = _rows(capsys, "1e-400", "--format", "fp16")
    assert row["rounded"] == 0.0 and row["rel_err"] == 1.0
    assert row["abs_err_exact"] == "1.0000000e-400"  # the exact error, not float64's underflowed 0


def test_integers_printed_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["round", "65504", "70000", "--format", "fp16", "--mode", "rz"]) == 0
    out = capsys.readouterr().out
    assert "65504" in out and "6.55e+04" not in out


def test_negative_seed_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["round", "1", "--format", "fp16", "--mode", "sr", "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("errbound: error: --seed") and "Traceback" not in err


def test_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advize"]) == 2
    assert "did you mean 'advise'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["round", "1e99999999999", "--format", "fp16"],
                                  ["round", "0x1p99999999999", "--format", "fp16"],
                                  ["precision", "--function", "smooth", "--format", "fp16", "--res", "16", "--seed", "-1"],
                                  ["discretization", "--function", "smooth", "--res", "16", "--seed", "-1"]],
                         ids=["huge-decimal-exponent", "huge-hex-exponent", "precision-seed", "discretization-seed"])
def test_impossible_inputs_are_one_line_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("errbound: error: ") and err.count("\n") == 1


def test_negative_values_without_double_dash(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(capsys, "--format", "fp16", "-5", "-inf", "-0x1p-3", "-.5")
    assert [r["rounded"] for r in rows] == [-5.0, "-inf", -0.125, -0.5]
