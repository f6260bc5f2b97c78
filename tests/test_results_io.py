"""Atomic writes and provenance of results files."""

from __future__ import annotations

import json
import stat

import pytest

from errbound.results import atomic_path, provenance, write_json_atomic


def test_write_json_atomic_round_trip_and_mode(tmp_path) -> None:
    path = write_json_atomic(tmp_path / "sub" / "r.json", {"x": float("inf"), "y": [1, 2]})
    assert json.loads(path.read_text()) == {"x": "inf", "y": [1, 2]}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # no temporary left behind


def test_interrupted_write_leaves_previous_file_intact(tmp_path) -> None:
    target = tmp_path / "r.json"
    write_json_atomic(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"v": 2, "trunc')
            raise RuntimeError("interrupted")
    assert json.loads(target.read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_provenance_fields() -> None:
    meta = provenance(["errbound", "formats"])
    assert {"versions", "commit", "command", "date", "device"} <= set(meta)
    assert meta["command"] == "errbound formats"
    assert meta["versions"]["numpy"]
