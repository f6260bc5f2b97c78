"""Bounds D2-D5 of docs/theory/discretization.md: they hold, witnesses meet them, sympy = numeric."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from errbound.bounds.discretization import (
    THEOREMS, bv_bound_expr, bv_mode_bound, decay_mode_bound, epstein_box_sum, layer_bound, lipschitz_bound_expr,
    lipschitz_lower_bound, lipschitz_mode_bound, lower_bound_expr, mode_lower_bound, mode_upper_bounds,
    tent_witness_error_expr,
)
from errbound.discretization import exact_coefficients, layer_errors, sweep
from errbound.functions import get_function, mode_box
from errbound.functions._factors import PiecewiseLinearFactor, StepFactor
from errbound.functions._separable import SeparableFunction
from errbound.layer import FourierLayer

# a bound "holds" when error <= bound * (1 + 1e-12): the references are correct to ~1e-15 relative
SLACK = 1 + 1e-12

CASES = [
    ("trig", 1, [8, 16, 64]), ("smooth", 1, [8, 16, 32, 64]), ("tent", 1, [8, 16, 64, 256, 1024, 4096]),
    ("step", 1, [8, 16, 64, 256, 1024, 4096]), ("sobolev:r=1", 1, [16, 256, 4096]), ("sobolev:r=3", 1, [16, 4096]),
    ("grf", 1, [16, 1024]), ("aliased:w=2", 1, [16, 64, 4096]), ("tentgrid", 1, [8, 64, 4096]),
    ("smooth", 2, [8, 16, 64]), ("tent", 2, [16, 128, 1024]), ("step", 2, [16, 128, 1024]),
    ("sobolev:r=2,band=128", 2, [16, 64]), ("grf:band=128", 2, [16, 64]), ("aliased:w=1x-2", 2, [16, 1024]),
    ("tentgrid", 2, [16, 1024]), ("trig", 2, [8, 32]),
    ("tent", 3, [8, 64]), ("step", 3, [8, 64]), ("smooth", 3, [8, 16]), ("sobolev:band=24", 3, [16, 32]),
    ("tentgrid", 3, [8, 64]), ("aliased:w=1", 3, [8, 32]), ("trig:band=3", 3, [8, 16]),
]


@pytest.mark.parametrize("spec, dim, res", CASES, ids=[f"{c[0]}-{c[1]}d" for c in CASES])
def test_every_applicable_upper_bound_holds_per_mode(spec, dim, res):
    family = get_function(spec, dim=dim)
    for s in res:
        k = min(3, (s - 1) // 2)
        fn = family.for_resolution(s)
        err = exact_coefficients(fn, s, k, method="float64").abs_error
        bounds = mode_upper_bounds(fn, s, k)
        assert bounds, f"no bound applies to {spec}"
        for name, b in bounds.items():
            assert np.all(err <= b * SLACK), f"{name} fails for {spec} {dim}-D s={s}: max ratio {np.max(err / b)}"


@pytest.mark.slow
def test_upper_bounds_hold_for_all_cases_in_the_acceptance_grid():
    """Every function x d x resolutions (1-D to 4096, 2-D to 1024, 3-D to 64) through the sweep's ratios."""
    res = {1: "8,16,32,64,128,256,512,1024,2048,4096", 2: "8,16,32,64,128,256,512,1024", 3: "8,16,32,64"}
    for dim in (1, 2, 3):
        for spec in ["trig", "smooth", "tent", "step", "sobolev:r=1", "sobolev:r=2", "sobolev:r=3", "grf", "aliased:w=1", "tentgrid"]:
            out = sweep(spec, dim=dim, resolutions=res[dim], modes=4, method="float64", cache=False)
            for row in out["rows"]:
                for name, ratio in row["ratios"].items():
                    assert ratio <= SLACK, (spec, dim, row["res"], name, ratio)
                if row["bound_lower"] is not None:
                    assert row["witness_err"] >= row["bound_lower"] / SLACK


def test_d2_is_attained_by_the_grid_tent_at_w0():
    for dim in (1, 2, 3):
        for s in (8, 64, 512):
            fn = get_function(f"tentgrid:s={s},slope=2.5", dim=dim)
            err = exact_coefficients(fn, s, 2, method="reference" if s <= 64 else "float64").abs_error
            centre = (2,) * dim
            d2 = lipschitz_mode_bound(s, np.zeros(dim), fn.L_axes, fn.M)
            assert err[centre] == pytest.approx(float(d2), rel=1e-13)  # equality, up to roundoff
            assert err[centre] == pytest.approx(dim * 2.5 / (4 * s), rel=1e-13)


def test_lower_bound_witnesses_meet_their_bound():
    for dim, spec in [(1, "aliased:w=3,amp=2"), (2, "aliased:w=2x1"), (3, "aliased:w=0"), (1, "tentgrid"), (2, "tentgrid:slope=3")]:
        family = get_function(spec, dim=dim)
        for s in (8, 32, 256):
            fn = family.for_resolution(s)
            lower = mode_lower_bound(fn, s, 3)
            assert lower is not None
            w = getattr(fn, "witness_mode", (0,) * dim)
            err = exact_coefficients(fn, s, 3, method="reference").abs_error
            idx = tuple(v + 3 for v in w)
            assert err[idx] >= lower[idx] / SLACK
            assert err[idx] == pytest.approx(lower[idx], rel=1e-12)  # the witnesses are the extremal members


def test_lower_bound_is_theta_one_over_s_and_below_the_upper_bound():
    L, M = (1.0, 1.0), 1.0
    w = mode_box(3, 2)
    ratios = {}
    for s in (16, 64, 256, 1024, 4096):
        low = lipschitz_lower_bound(s, w, L, M)
        up = lipschitz_mode_bound(s, w, L, M)
        assert np.all(low <= up * SLACK)  # a lower bound on the worst case cannot exceed an upper bound
        assert np.all(low * s > 0.05)  # Theta(1/s): s * ell(w) stays bounded away from 0
        ratios[s] = up / low
        assert ratios[s][3, 3] == pytest.approx(1.0)  # at w = 0 the grid tent attains D2 exactly
    # for each fixed w, D2 / D3 tends to a constant: both are Theta(1/s) (constants depend on w, M/L)
    np.testing.assert_allclose(ratios[4096], ratios[1024], rtol=0.01)


def test_best_witness_ratio_for_the_lipschitz_bound_is_within_factor_4():
    out = sweep("tentgrid", dim=2, resolutions=[16, 64], modes=2, cache=False)
    assert all(r["ratios"]["D2"] == pytest.approx(1.0, rel=1e-12) for r in out["rows"])
    out = sweep("aliased:w=2", dim=1, resolutions=[16, 64, 256], modes=3, cache=False)
    assert all(0.25 <= r["ratios"]["D2"] <= 1 for r in out["rows"])


@given(
    st.lists(st.integers(0, 499), min_size=2, max_size=5, unique=True),
    st.lists(st.integers(-9, 9), min_size=5, max_size=5),
    st.integers(5, 200),
)
def test_d2_holds_for_random_piecewise_linear_inputs(points, values, s):
    factor = PiecewiseLinearFactor([Fraction(p, 500) for p in points], [Fraction(v, 4) for v in values[: len(points)]])
    fn = SeparableFunction([factor], "product", name="pl", params={})
    k = min(4, (s - 1) // 2)
    err = np.abs(fn.mode_error(s, k))
    bound = lipschitz_mode_bound(s, mode_box(k, 1), fn.L_axes, fn.M)
    assert np.all(err <= bound * SLACK + 1e-16)  # + float64 floor for identically zero errors


@given(st.integers(0, 998), st.integers(1, 999), st.integers(3, 300))
def test_bv_bound_holds_for_random_steps(a, width, s):
    b = min(a + width, 999)
    if b <= a:
        return
    fn = SeparableFunction([StepFactor(Fraction(a, 1000), Fraction(b, 1000))], "product", name="st", params={})
    k = min(3, (s - 1) // 2)
    err = np.abs(fn.mode_error(s, k))
    assert np.all(err <= bv_mode_bound(s, mode_box(k, 1), fn.V_axes, fn.M) * SLACK)


def test_layer_bound_d5_holds():
    for spec, dim, s in [("tent", 2, 32), ("step", 1, 64), ("sobolev:band=256", 1, 32), ("smooth", 2, 12)]:
        fn = get_function(spec, dim=dim)
        layer = FourierLayer.random(dim, 3, seed=2)
        ref = exact_coefficients(fn, s, 3, method="reference")
        e = layer_errors(fn, layer, s, ref)
        B = np.minimum.reduce(list(mode_upper_bounds(fn, s, 3).values()))
        rms, mx = layer_bound(layer.weights, B)
        assert e["exact_abs_l2"] <= rms * SLACK and e["abs_max"] <= mx * SLACK


def test_epstein_sums():
    from mpmath import zeta

    assert epstein_box_sum(3.0, 1, None) == pytest.approx(2 * float(zeta(3)), rel=1e-11)
    # d = 2: the closed form 4 zeta(u) beta(u) versus a large box (tail < 2 pi / Q for t = 3)
    assert epstein_box_sum(3.0, 2, 400) <= epstein_box_sum(3.0, 2, None)
    assert epstein_box_sum(3.0, 2, None) - epstein_box_sum(3.0, 2, 400) < 2 * math.pi / 400
    # d = 3 upper bound is above a large box and close to it
    big = epstein_box_sum(5.0, 3, 60)
    assert big <= epstein_box_sum(5.0, 3, None) <= big * 1.05
    assert epstein_box_sum(2.0, 2, 0) == 0.0
    assert decay_mode_bound(64, np.array([[0]]), 1.0, 1.0, band=10)[0] == 0.0  # no partner inside the band


def test_sympy_statements_match_numeric_functions():
    import sympy as sp

    rng = np.random.default_rng(0)
    for d in (1, 2, 3):
        expr = lipschitz_bound_expr(d)
        syms = sorted(expr.free_symbols, key=lambda x: x.name)
        f = sp.lambdify(syms, expr)
        for _ in range(5):
            s, M = int(rng.integers(5, 500)), float(rng.uniform(0.1, 3))
            L = rng.uniform(0, 5, d)
            w = rng.integers(-3, 4, d)
            values = {"s": s, "M": M, **{f"L_{i + 1}": L[i] for i in range(d)}, **{f"w_{i + 1}": int(w[i]) for i in range(d)}}
            got = f(*[values[x.name] for x in syms])
            assert got == pytest.approx(float(lipschitz_mode_bound(s, w, L, M)), rel=1e-13)
        e2 = bv_bound_expr(d)
        vals = {"s": 10, "M": 1.0, **{f"V_{i + 1}": 2.0 for i in range(d)}, **{f"w_{i + 1}": 1 for i in range(d)}}
        assert float(e2.subs({x: vals[x.name] for x in e2.free_symbols})) == pytest.approx(
            float(bv_mode_bound(10, np.ones(d), [2.0] * d, 1.0)))
        tw = tent_witness_error_expr(d)
        assert float(tw.subs({x: 1.0 if x.name.startswith("L") else 8 for x in tw.free_symbols})) == pytest.approx(d / 32)
    low = lower_bound_expr(2)
    vals = {"s": 64, "M": 1.0, "L_1": 50.0, "L_2": 50.0, "w_1": 2, "w_2": 1}
    got = float(low.subs({x: vals[x.name] for x in low.free_symbols}))
    want = float(lipschitz_lower_bound(64, np.array([2, 1]), [50.0, 50.0], 1.0))
    assert got <= want * SLACK  # the sympy form aliases along axis 1 only; the numeric one maximises over axes
    assert set(THEOREMS) == {"D2", "D2a", "D2'", "D3", "D4", "D4s", "D5"}


def test_euclidean_lower_bound_d3_corrected_constant() -> None:
    """docs/theory.md D3: L kappa_d / s at w = 0 (= D2(a)), L kappa_d / (Lambda_w s) at w != 0 (issue 16), below D2(a)."""
    from errbound.bounds.discretization import (
        kappa, lipschitz_lower_bound_euclidean, lipschitz_mode_bound_euclidean, modulated_tent_lambda,
    )

    assert float(np.ravel(lipschitz_lower_bound_euclidean(8, [0], 1.0))[0]) == 1 / 32
    lam = float(np.ravel(modulated_tent_lambda(8, [1]))[0])
    assert abs(lam - 2.148686) < 1e-6  # d = 1, s = 8, w = 1: the example (Lip(W_s) ~ 2.148 L)
    assert float(np.ravel(lipschitz_lower_bound_euclidean(8, [1], 1.0))[0]) == 1 / (32 * lam)
    for d in (1, 2, 3):
        for w in ([0] * d, [1] * d, [3] + [0] * (d - 1)):
            lo = float(np.ravel(lipschitz_lower_bound_euclidean(8, w, 1.0))[0])
            hi = float(np.ravel(lipschitz_mode_bound_euclidean(8, w, 1.0, 1.0))[0])
            assert 0 < lo <= hi
            # never above the w = 0 value, at least a factor 2 sqrt(1 + pi^2 d^2/4) below it
            assert lo >= kappa(d) / 8 / (2 * (1 + np.pi**2 * d * d / 4) ** 0.5) * (1 - 1e-6)
