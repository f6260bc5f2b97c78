"""Impossible or ambiguous inputs end in one line and exit status 2, fast: size guards before allocation,
the advisor's warning on unresolved data, and the reason for every None of ``crossover --data``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from errbound._guard import check_grid
from errbound.cli import main
from errbound.errors import ErrboundError


@pytest.mark.parametrize(
    "argv",
    [
        ["precision", "--function", "smooth", "--format", "fp16", "--res", "100000"],
        ["crossover", "--function", "smooth", "--res", "1000000"],
        ["discretization", "--function", "smooth", "--dim", "2", "--res", "100000"],
    ],
    ids=["precision-1e5", "crossover-1e6", "discretization-2d-1e5"],
)
def test_size_guard_refuses_in_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    assert main(argv) == 2
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert elapsed < 2.0, elapsed  # the acceptance limit; nothing is allocated before the guard
    assert err.count("\n") == 1 and err.startswith("errbound: error: ")
    assert "available" in err and "fit here: pass --res <=" in err


def test_guard_names_a_size_that_fits() -> None:
    with pytest.raises(ErrboundError, match=r"up to (\d+)") as info:
        check_grid("precision", [4096], 2, available=1 << 30)
    fits = int(info.value.args[0].split("up to ")[1].split()[0])
    check_grid("precision", [fits], 2, available=1 << 30)  # the suggested size passes the same guard
    with pytest.raises(ErrboundError):
        check_grid("precision", [fits + 1], 2, available=1 << 30)
    with pytest.raises(ErrboundError, match="mpmath reference time"):
        check_grid("discretization", [60000], 2, timed=True, available=1 << 50)


def test_advisor_warns_on_unresolved_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "noise.npy", np.random.default_rng(3).standard_normal((4, 64, 64)))
    assert main(["advise", "--data", str(tmp_path / "noise.npy"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["discretization_err"] >= 0.5 and "not resolved" in doc["warning"]
    assert not any(c["ok"] for c in doc["candidates"])  # white noise no longer accepts every candidate
    assert doc["recommended"]["precision"] == "full"


def test_crossover_data_explains_every_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(5)
    k = np.fft.fftfreq(64) * 64
    field = np.fft.ifft2((rng.standard_normal((1, 64, 64)) + 1j) * (1 + k[:, None] ** 2 + k[None, :] ** 2) ** -1.5).real
    np.save(tmp_path / "f.npy", field * 64)
    assert main(["crossover", "--data", str(tmp_path / "f.npy"), "--formats", "fp16,fp32", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for name, entry in doc["formats"].items():
        for field_name in ("s_star_empirical", "s_star_bound"):
            if entry[field_name] is None:
                assert entry["why_none"][field_name], (name, field_name)
