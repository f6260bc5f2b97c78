"""``errbound discretization``: JSON contract, table, bad input (exit 2, one-line message)."""

from __future__ import annotations

import json

import pytest

from errbound.cli import main


def run_cli(capsys, *args):
    code = main(["discretization", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_contract(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "--function", "tent", "--dim", "1", "--res", "16,32,64", "--modes", "3",
                           "--cache", str(tmp_path), "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("rows", "rate", "rate_theory", "provenance", "function", "dim", "modes"):
        assert key in data
    assert data["rate_theory"] == -2.0
    assert {"versions", "commit", "command", "date", "device"} <= set(data["provenance"])
    for row in data["rows"]:
        for key in ("res", "mode_err_max", "layer_err_rel", "bound_upper", "bound_lower", "ratio_upper"):
            assert key in row
        assert row["bound_lower"] is None  # tent is not a lower-bound witness
        assert 0 < row["ratio_upper"] <= 1
    assert [r["res"] for r in data["rows"]] == [16, 32, 64]


def test_witness_rows_carry_lower_bound(capsys):
    code, out, _ = run_cli(capsys, "--function", "tentgrid", "--dim", "2", "--res", "16,32", "--modes", "2", "--no-cache", "--json")
    rows = json.loads(out)["rows"]
    assert code == 0 and all(r["bound_lower"] == pytest.approx(r["witness_err"], rel=1e-12) for r in rows)


def test_table_output_and_clip_note(capsys):
    code, out, _ = run_cli(capsys, "--function", "smooth", "--res", "8,32", "--modes", "24", "--no-cache", "--clip-modes")
    assert code == 0
    assert "mode_err_max" in out and "ratio_upper" in out and "fitted rate" in out
    assert "resolutions [8] cannot hold modes up to 12" in out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--function", "nosuch"], "unknown function 'nosuch'"),
        (["--function", "smooth:z=1"], "unknown parameter 'z'"),
        (["--function", "smooth", "--dim", "4"], "dim must be 1, 2 or 3"),
        (["--function", "smooth", "--res", "8,12.5"], "not an integer"),
        (["--function", "smooth", "--res", "16,32", "--modes", "16"], "needs res > 2k = 16"),
        (["--function", "smooth", "--res", "16", "--dps", "15"], "dps must be an integer >= 30"),
        (["--function", "smooth", "--res", "16", "--jobs", "0"], "jobs must be an integer >= 1"),
        (["--function", "smooth", "--cache", "x", "--no-cache"], "contradict"),
    ],
)
def test_bad_input_exits_2_with_message(capsys, args, fragment):
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("errbound: error: ") and fragment in err and "Traceback" not in err
