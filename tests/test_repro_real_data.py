"""The real_data artefact: discretization vs precision error on generated Darcy, Navier-Stokes and Burgers data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from errbound.advise import reference_discretization_error


def test_reference_discretization_error_is_the_exact_alias_of_a_trig_polynomial():
    # cos(2 pi (s + 1) x) is seen by the s-point grid as cos(2 pi x): V_s(1) = 0.5 + 0.05 against V(1) = 0.5
    # on the 4s grid (which resolves both terms exactly), so the relative error of the retained box is 0.1
    s = 32
    f = lambda n: (np.cos(2 * np.pi * np.arange(n) / n) + 0.1 * np.cos(2 * np.pi * (s + 1) * np.arange(n) / n))[None]
    got = reference_discretization_error(f(s), f(4 * s), modes=8)
    assert got["value"] == pytest.approx(0.1, rel=1e-12)  # float64 DFT of 128 points: error ~1e-15


def test_reference_needs_the_same_samples_on_a_finer_grid():
    from errbound.errors import ErrboundError

    x = np.ones((2, 16))
    with pytest.raises(ErrboundError, match="same samples"):
        reference_discretization_error(x, np.ones((3, 32)), modes=4)
    with pytest.raises(ErrboundError, match="at least as fine"):
        reference_discretization_error(np.ones((2, 32)), np.ones((2, 16)), modes=4)


def test_validation_marks_read_the_committed_validate_files():
    from paper_repro.real_data import validation_marks

    darcy = validation_marks("darcy")
    assert set(darcy) <= {"32", "64"}
    if "64" in darcy:  # committed with the repository; skipped gracefully when absent
        assert darcy["64"]["fp32_test_l2"] == pytest.approx(0.02396, rel=1e-3)
        assert any(r["format"] == "fp16" for r in darcy["64"]["runs"])
    assert validation_marks("burgers") == {}  # no validation runs for Burgers


@pytest.fixture(scope="module")
def quick_doc(tmp_path_factory):
    pytest.importorskip("torch")
    from paper_repro._runner import Context, run_artefact

    root = tmp_path_factory.mktemp("real_data")
    ctx = Context(quick=True, figures_dir=root / "fig", results_dir=root / "res")
    doc = run_artefact("real_data", ctx)
    assert (root / "fig" / "real_data.png").stat().st_size > 1000
    return json.loads((root / "res" / "real_data.json").read_text())


def test_quick_run_has_every_dataset_resolution_and_format(quick_doc):
    from paper_repro.real_data import DATASETS, FORMATS, QUICK

    data = quick_doc["data"]
    assert data["datasets"] == list(DATASETS) and data["formats"] == list(FORMATS)
    for name in DATASETS:
        p = data["panels"][name]
        assert p["res"] == list(QUICK[name].res)
        assert len(p["disc_ref"]) == len(p["disc_advisor"]) == len(p["res"])
        assert set(p["prec"]) == set(FORMATS) and all(len(v) == len(p["res"]) for v in p["prec"].values())
        assert set(p["crossover"]) == set(FORMATS)
    assert quick_doc["quick"] is True
    assert all(not c["comparable"] and c["ratio"] is None for c in quick_doc["comparisons"])


def test_finer_grid_discretization_error_decreases_for_smooth_data(quick_doc):
    # Burgers' u0 is a GRF with algebraically decaying coefficients: its alias sum falls with s
    disc = quick_doc["data"]["panels"]["burgers"]["disc_ref"]
    assert all(b < a for a, b in zip(disc, disc[1:])), disc


def test_fp32_block_error_far_below_fp16(quick_doc):
    # unit roundoff ratio 2^-11 / 2^-24 = 8192; a factor 100 leaves room for log factors and the different kernels
    for p in quick_doc["data"]["panels"].values():
        assert max(p["prec"]["fp32"]) * 100 < min(p["prec"]["fp16"])


def test_crossovers_are_consistent_with_the_curves(quick_doc):
    for p in quick_doc["data"]["panels"].values():
        res = p["res"]
        for fmt, row in p["crossover"].items():
            prec = p["prec"][fmt]
            for curve in ("ref", "advisor"):
                disc = p[f"disc_{curve}"]
                c = row[curve]
                first = next((i for i, (a, b) in enumerate(zip(prec, disc)) if a >= b), None)
                if first is None:
                    assert c["status"] == "not_reached" and c["s_star"] is None
                elif first == 0:
                    assert c["status"] == "below_ladder" and c["s_star"] == res[0]
                else:
                    assert c["status"] == "crossed"
                    assert res[first - 1] <= c["s_star"] <= res[first]
                assert c["why"]
