"""The CLI shell: help, --json documents, and one-line errors with a non-zero exit status."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from errbound.cli import SUBCOMMANDS, main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "errbound", *args], capture_output=True, text=True, timeout=120)


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"  {name}" in out


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help_and_json(name: str) -> None:
    result = run_cli(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout


def test_formats_json_keys() -> None:
    result = run_cli("formats", "--json")
    assert result.returncode == 0
    rows = json.loads(result.stdout)
    keys = {"name", "t", "emin", "emax", "subnormals", "has_inf", "overflow", "u", "eps", "max", "min_normal", "min_subnormal"}
    assert {row["name"] for row in rows} >= {"fp64", "fp32", "tf32", "fp16", "bf16", "fp8_e5m2", "fp8_e4m3fn", "fp8_e4m3"}
    assert all(keys <= set(row) for row in rows)
    e4m3fn = next(row for row in rows if row["name"] == "fp8_e4m3fn")
    assert e4m3fn["max"] == 448 and e4m3fn["has_inf"] is False


def test_round_reads_decimals_exactly() -> None:
    """1.00048828125000001 lies just above the fp16 tie 1 + 2^-11; reading it through float64 first
    would land on the tie and round down to 1."""
    result = run_cli("round", "1.00048828125000001", "65520", "--format", "fp16", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["results"]
    assert rows[0]["rounded"] == 1 + 2**-10
    assert rows[1]["rounded"] == "inf"


@pytest.mark.parametrize(
    "args, needle",
    [
        (("round", "1", "--format", "fp17"), "unknown format"),
        (("round", "1", "--format", "fp16", "--mode", "up"), "unknown rounding mode"),
        (("round", "abc", "--format", "fp16"), "cannot read"),
        (("round", "1", "--format", "t0emax15"), "precision"),
        (("nosuchcommand",), "unknown command"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(args: tuple[str, ...], needle: str) -> None:
    result = run_cli(*args)
    assert result.returncode != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
