"""Crossover s* (C1) and the per-mode precision bound P2m."""

from __future__ import annotations

import math

import numpy as np
import pytest

from errbound.crossover import (
    crossover, default_ladder, interpolate_crossing, measure_precision_modes, precision_mode_bound, s_star_class,
)
from errbound.errors import ErrboundError


def test_interpolate_crossing_cases():
    # P = 1e-3 flat, A = 1/s: crossing exactly at s = 1000 on a log-log straight line
    res = [100, 10000]
    s, st = interpolate_crossing(res, [1e-3, 1e-3], [1e-2, 1e-4])
    assert st == "crossed" and s == pytest.approx(1000, rel=1e-9)
    assert interpolate_crossing([8, 16], [1, 1], [0.5, 0.1]) == (8.0, "below_ladder")
    assert interpolate_crossing([8, 16], [0.1, 0.1], [0.5, 0.2]) == (None, "not_reached")
    assert interpolate_crossing([8, 16], [0.1, math.inf], [0.5, 0.2]) == (16.0, "crossed")


def test_default_ladder():
    assert default_ladder(2, 4) == [16, 32, 64, 128, 256, 512, 1024]
    assert default_ladder(1, 8, max_res=64) == [32, 64]
    with pytest.raises(ErrboundError, match="no power-of-two"):
        default_ladder(1, 40, max_res=64)


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp8_e5m2", "fp32"])
def test_p2m_per_mode_bound_holds(fmt):
    rng = np.random.default_rng(0)
    for shape in ((64,), (1024,), (32, 32), (8, 8, 8)):
        for x in (rng.uniform(-1, 1, shape), np.abs(rng.standard_normal(shape)) * 0.01, np.ones(shape) * 0.5):
            M = float(np.max(np.abs(x)))
            meas = measure_precision_modes(x, 3, fmt)
            if meas["overflow"]:
                continue  # P2m assumes no overflow
            assert meas["max_mode_err"] <= precision_mode_bound(shape[0], len(shape), M, fmt)


def test_p2m_rejects_non_pow2():
    with pytest.raises(ErrboundError, match="power-of-two"):
        precision_mode_bound(24, 1, 1.0, "fp16")


def test_s_star_class_scaling():
    # C1: s* ~ L / (c u M log): halving u roughly doubles s* (up to the log factor): ratio in (1.5, 2.1)
    a = s_star_class(10.0, 1.0, 1, 4, "t11emax15")
    b = s_star_class(10.0, 1.0, 1, 4, "t12emax15")
    assert 1.5 < b / a < 2.1


def test_crossover_function_d1():
    r = crossover("tent", ["fp16", "bf16"], dim=1, k=4, resolutions=[16, 64, 256, 1024, 4096])
    f16, b16 = r["formats"]["fp16"], r["formats"]["bf16"]
    assert f16["status_empirical"] == "crossed" and b16["s_star_empirical"] < f16["s_star_empirical"]
    with pytest.raises(ErrboundError, match="cannot hold modes"):
        crossover("tent", ["fp16"], dim=1, k=8, resolutions=[16])


def test_three_crossovers_in_rows_and_their_meaning(capsys):
    """Issue 16 acceptance: `errbound crossover --function tent --dim 2 --formats fp16,bf16 --json` rows carry
    s_star_input_model (P1), s_star_proven (P2m) and s_star_empirical, and what each guarantees."""
    import json

    from errbound.cli import main

    status = main(["crossover", "--function", "tent", "--dim", "2", "--formats", "fp16,bf16", "--json",
                   "--res", "16,32,64,128"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    for row in out["rows"]:
        for key in ("s_star_input_model", "s_star_proven", "s_star_empirical"):
            assert key in row and key in row["guarantees"], key
        assert row["s_star_proven"] < row["s_star_input_model"]
    f16 = next(r for r in out["rows"] if r["format"] == "fp16")
    from errbound.bounds.discretization import kappa
    from errbound.bounds.precision import op_constants

    c = op_constants("fp16")
    assert c.u == 2.0**-11
    assert f16["s_star_input_model"] == pytest.approx(out["L"] * kappa(2) / (c.u * out["M"] + c.tau), rel=1e-12)


@pytest.mark.parametrize("fmt", ["fp16", "bf16"])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_s_star_proven_is_where_the_class_error_meets_p2m(fmt, dim):
    """Below s*_proven the class's worst discretization error L kappa_d / s dominates the proven per-mode FFT bound
    P2m at every power of two; above 2 s*_proven it does not. Swapping the bound (e.g. P1 in place of P2m) fails."""
    from errbound.crossover import class_disc_worst, s_star_input_model, s_star_proven

    for L, M in ((1.0, 1.0), (5.0, 1.0), (1.0, 3.0)):
        s_star = s_star_proven(L, M, dim, fmt)
        assert s_star is not None
        for e in range(1, 30):
            s = 2**e
            A, P = class_disc_worst(s, L, dim), precision_mode_bound(s, dim, M, fmt)
            if s <= s_star:
                assert P <= A, (s, s_star)
            elif s >= 2 * s_star:
                assert P > A, (s, s_star)
        # the input-model crossover: A*(s) = u M + tau exactly there
        from errbound.bounds.precision import op_constants

        c = op_constants(fmt)
        s_in = s_star_input_model(L, M, dim, fmt)
        assert class_disc_worst(s_in, L, dim) == pytest.approx(c.u * M + c.tau, rel=1e-12)
