"""Function library: registry, exact coefficients, values, constants, fast vs direct consistency."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from errbound.errors import ErrboundError
from errbound.functions import TorusFunction, function_names, get_function, grid_points, mode_box
from errbound.functions._factors import PiecewiseLinearFactor, StepFactor, _pl_kernel
from errbound.layer import retained_index

# small bands keep the random fields cheap in the fast suite
SPECS = ["trig", "smooth", "tent", "step", "sobolev:band=40", "grf:band=40", "aliased:w=2,s=16", "tentgrid:s=16"]
SMALL_SPECS = {1: SPECS, 2: SPECS, 3: [s.replace("band=40", "band=6") for s in SPECS]}
CASES = [(spec, d) for d in (1, 2, 3) for spec in SMALL_SPECS[d]]


def _id(case):
    return f"{case[0]}-{case[1]}d"


@pytest.fixture(scope="module", params=CASES, ids=_id)
def fn(request) -> TorusFunction:
    spec, d = request.param
    return get_function(spec, dim=d)


def test_registry_lists_every_family():
    assert set(function_names()) == {"trig", "smooth", "tent", "step", "sobolev", "grf", "aliased", "tentgrid"}


@pytest.mark.parametrize(
    "spec, dim, fragment",
    [
        ("nosuch", 1, "unknown function 'nosuch'"),
        ("smoth", 1, "did you mean 'smooth'"),
        ("smooth:b=1", 1, "unknown parameter 'b' for function 'smooth'"),
        ("smooth:a", 1, "key=value"),
        ("sobolev:band=2.5", 1, "not a valid int"),
        ("smooth:a=x", 1, "not a valid float"),
        ("smooth", 4, "dim must be 1, 2 or 3"),
        ("smooth", 0, "dim must be 1, 2 or 3"),
        ("smooth:dim=2", 3, "contradicts"),
        ("smooth:a=-1", 1, "a must be in (0, 50]"),
        ("step:a=0.7,b=0.2", 1, "0 <= a < b <= 1"),
        ("sobolev:r=0", 1, "r must be > 0"),
        ("aliased:w=5,s=8", 1, "s must be 0"),
        ("aliased:w=1x2x3", 2, "w must have 2 components"),
        ("", 1, "non-empty"),
    ],
)
def test_bad_specs_name_the_problem(spec, dim, fragment):
    with pytest.raises(ErrboundError, match=None) as info:
        get_function(spec, dim=dim)
    assert fragment in str(info.value)


def test_spec_round_trip(fn):
    again = get_function(fn.spec, dim=fn.dim)
    k = mode_box(3, fn.dim)
    np.testing.assert_array_equal(again.coef(k), fn.coef(k))


def test_coefficients_hermitian(fn):
    # v is real: vhat(-k) = conj(vhat(k)); exact for the stored spectra, to roundoff for the closed forms
    k = mode_box(4, fn.dim)
    c = fn.coef(k)
    cm = fn.coef(-k)
    assert np.max(np.abs(cm - np.conj(c))) <= 1e-15 * max(1.0, np.max(np.abs(c)))  # float64 closed forms, few ulps


def test_direct_fft_equals_coefficient_plus_error(fn):
    """V_s(w) from an FFT of the float64 samples equals vhat(w) + E_s(w) (fast path) to roundoff."""
    s, k = 16, 3
    V = np.fft.fftn(fn.eval_grid(s), norm="forward")[retained_index(s, k, fn.dim)]
    lhs = fn.coef_box(k) + fn.mode_error(s, k)
    # FFT of s^d samples of size <= M: error <= c u log2(s^d) M; 1e-13 M leaves a wide margin
    assert np.max(np.abs(V - lhs)) <= 1e-13 * fn.M


def test_mp_coefficients_match_float64(fn):
    for w in [(0,) * fn.dim, (1,) + (0,) * (fn.dim - 1), (2,) * fn.dim, (-3,) + (1,) * (fn.dim - 1)]:
        exact = complex(fn.coef_mp(w, 30))
        fast = complex(fn.coef(np.array([w]))[0])
        # float64 closed forms: scipy Bessel (a few ulps relative) and phases/sines of n*x rounded in
        # float64 (absolute error ~ |n| u per factor, times the coefficient scale M)
        assert abs(exact - fast) <= 1e-14 * abs(exact) + 1e-15 * fn.M * (1 + sum(abs(v) for v in w))


def test_mp_values_match_float64(fn):
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 1, size=(4, fn.dim))
    fast = fn.eval(pts)
    for p, f in zip(pts, fast):
        exact = float(fn.eval_mp(tuple(mpmath.mpf(float(x)) for x in p), 30))
        assert abs(exact - f) <= 1e-13 * fn.M  # float64 evaluation of exp/sin/interp: roundoff


def test_sup_norm_is_an_upper_bound_and_exact_where_claimed(fn):
    s = 96 if fn.dim < 3 else 24
    values = fn.eval_grid(s)
    assert np.max(np.abs(values)) <= fn.M * (1 + 1e-12)
    if fn.M_exact and fn.name in ("smooth", "tent", "step", "tentgrid"):
        # the maximum is attained at a grid point for these (or within a cell of one): 10% slack for the grid
        fine = fn.eval_grid(384 if fn.dim == 1 else 192 if fn.dim == 2 else 64)
        assert np.max(np.abs(fine)) >= 0.85 * fn.M


def test_lipschitz_constants_bound_difference_quotients(fn):
    if fn.L_axes is None:
        pytest.skip("not Lipschitz")
    s = 128 if fn.dim < 3 else 32
    values = fn.eval_grid(s)
    for i, Li in enumerate(fn.L_axes):
        quotient = np.max(np.abs(np.diff(values, axis=i, append=np.take(values, [0], axis=i)))) * s
        assert quotient <= Li * (1 + 1e-9)  # mean-value theorem: difference quotients <= sup |d_i v|


def test_seeded_randomness():
    a = get_function("sobolev:band=20,seed=1", dim=2)
    b = get_function("sobolev:band=20,seed=1", dim=2)
    c = get_function("sobolev:band=20,seed=2", dim=2)
    k = mode_box(5, 2)
    np.testing.assert_array_equal(a.coef(k), b.coef(k))
    assert not np.allclose(a.coef(k), c.coef(k))


def test_sobolev_decay_law():
    fn = get_function("sobolev:r=2,band=30", dim=2)
    k = mode_box(30, 2)
    mag = np.abs(fn.coef(k))
    law = (1 + np.sum(k.astype(float) ** 2, axis=-1)) ** (-(2 / 2 + 2 / 4))
    law[30, 30] = 0
    np.testing.assert_allclose(mag, law, rtol=1e-14, atol=0)  # unit-modulus phases: exact up to roundoff
    assert fn.decay.beta == 1.5 and fn.decay.C <= 1 + 1e-12


def test_trig_is_band_limited():
    fn = get_function("trig:band=5", dim=2)
    assert fn.band == 5
    assert np.all(fn.coef(np.array([[6, 0], [0, -6], [7, 7]])) == 0)


def test_tentgrid_vanishes_on_its_grid_and_has_the_predicted_mean():
    fn = get_function("tentgrid:s=12,slope=3", dim=2)
    assert np.max(np.abs(fn.eval_grid(12))) <= 1e-15  # kinks at j/24: samples at j/12 are zero up to interp roundoff
    assert complex(fn.coef_mp((0, 0), 30)) == pytest.approx(2 * 3 / (4 * 12), rel=1e-15)


def test_aliased_witness_is_seen_as_mode_w():
    fn = get_function("aliased:w=3x-1,s=20,amp=2", dim=2)
    V = np.fft.fftn(fn.eval_grid(20), norm="forward")
    assert V[3, -1] == pytest.approx(1.0, abs=1e-13)  # amp/2; FFT roundoff
    assert fn.coef(np.array([[3, -1]]))[0] == 0


def test_witness_family_builds_member_per_resolution():
    fam = get_function("tentgrid", dim=1)
    member = fam.for_resolution(64)
    assert member.params["s"] == 64 and member.for_resolution(128) is member


def test_step_midpoint_value_on_grid_jumps():
    f = StepFactor(Fraction(1, 4), Fraction(3, 4))
    assert list(f.samples(4)) == [0.0, 0.5, 1.0, 0.5]
    n = np.arange(-1, 2)
    err = f.disc_error(4, n)
    direct = np.fft.fft(f.samples(4), norm="forward")[np.mod(n, 4)] - f.coef(n)
    np.testing.assert_allclose(err, direct, atol=1e-15)  # exact inputs, roundoff only


def test_pl_kernel_is_continuous_at_zero():
    theta = np.linspace(0, 0.95, 7)
    g0 = _pl_kernel(np.zeros(7), theta)
    u = 1e-9
    g_small = _pl_kernel(np.full(7, u), theta)
    np.testing.assert_allclose(g_small, g0, atol=10 * u)  # G is smooth in u with |dG/du| < 10: |G(u) - G(0)| <= 10 u
    np.testing.assert_allclose(g0.real, 1 / 12 - theta * (1 - theta) / 2, atol=1e-16)


@given(
    st.lists(st.integers(0, 999), min_size=2, max_size=6, unique=True),
    st.lists(st.integers(-20, 20), min_size=6, max_size=6),
    st.sampled_from([8, 12, 30, 64, 100]),
)
def test_piecewise_linear_error_formula_matches_direct_dft(points, values, s):
    """Property: the closed-form e_s(n) equals FFT(samples) - c(n) for random rational breakpoints."""
    f = PiecewiseLinearFactor([Fraction(p, 1000) for p in points], [Fraction(v, 7) for v in values[: len(points)]])
    k = (s - 1) // 2
    n = np.arange(-k, k + 1)
    direct = np.fft.fft(f.samples(s), norm="forward")[np.mod(n, s)] - f.coef(n)
    # both sides are float64 sums of O(max|y|) terms: roundoff ~ 1e-15 * sup
    np.testing.assert_allclose(f.disc_error(s, n), direct, atol=2e-14 * max(f.sup, 1))


def test_grid_points_layout():
    g = grid_points(4, 2)
    assert g.shape == (4, 4, 2) and g[1, 3].tolist() == [0.25, 0.75]


def test_public_names_are_exported():
    import errbound.functions as pkg

    assert sorted(pkg.__all__) == sorted(
        ["Decay", "TorusFunction", "grid_points", "mode_box", "FAMILIES", "function_names", "get_function"]
    )
    for name in pkg.__all__:
        assert hasattr(pkg, name)
