"""Discretization engine: fast path vs reference, layer errors, trig exactness, rates, cache, sweeps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from errbound.cache import ReferenceCache, default_cache_dir
from errbound.discretization import (
    effective_modes, exact_coefficients, fit_rate, layer_errors, parse_resolutions, sweep,
)
from errbound.errors import ErrboundError, MissingDependencyError
from errbound.functions import get_function
from errbound.layer import FourierLayer


def assert_agree_10_digits(fast: np.ndarray, ref: np.ndarray) -> None:
    """The acceptance criterion: 10 significant digits wherever |E| > 1e-12."""
    big = np.abs(ref) > 1e-12
    rel = np.abs(fast - ref)[big] / np.abs(ref)[big]
    assert rel.size == 0 or np.max(rel) <= 1e-10, f"max relative difference {np.max(rel):.3e}"
    # below 1e-12 the fast path must still be tiny in absolute terms (float64 roundoff of O(1) sums)
    assert np.all(np.abs(fast - ref)[~big] <= 1e-13)


# A CI sample of (spec, dim, s, k); all cases run in the slow test below.
SAMPLE = [
    ("smooth:a=2", 1, 8, 3), ("smooth", 1, 64, 12), ("smooth", 2, 16, 5),
    ("tent", 1, 16, 4), ("tent", 1, 1024, 12), ("tent", 2, 64, 6), ("tent", 3, 16, 2),
    ("step", 1, 32, 4), ("step", 1, 4096, 12), ("step:a=0.25,b=0.75", 2, 64, 4),
    ("sobolev:r=1,band=4096", 1, 64, 8), ("sobolev:r=2,band=64", 2, 32, 4), ("grf:band=64", 2, 16, 3),
    ("trig:band=6", 2, 8, 2), ("aliased:w=2,s=32", 1, 32, 4), ("tentgrid:s=16", 2, 16, 4), ("tentgrid:s=12", 1, 40, 5),
]


@pytest.mark.parametrize("spec, dim, s, k", SAMPLE, ids=[f"{c[0]}-{c[1]}d-s{c[2]}" for c in SAMPLE])
def test_fast_path_agrees_with_reference(spec, dim, s, k):
    fn = get_function(spec, dim=dim)
    fast = exact_coefficients(fn, s, k, method="float64")
    ref = exact_coefficients(fn, s, k, method="reference", dps=30)
    assert ref.method in ("mpmath(dps=30)", "exact-fsum")
    assert_agree_10_digits(fast.error, ref.error)
    # coefficient closed forms in float64: kink/phase sums of O(M) terms, roundoff ~ (number of terms) u M
    np.testing.assert_allclose(fast.vhat, ref.vhat, rtol=1e-13, atol=1e-14 * fn.M)


@pytest.mark.slow
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_fast_path_agrees_with_reference_all_cases(dim):
    """All families x resolutions (1-D to 4096, 2-D to 1024, 3-D to 64) at dps = 30."""
    res = {1: [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096], 2: [8, 16, 32, 64, 128, 256, 512, 1024], 3: [8, 16, 32, 64]}[dim]
    specs = ["trig", "smooth", "tent", "step", "sobolev:r=1", "sobolev:r=2", "sobolev:r=3", "grf", "aliased:w=1", "tentgrid"]
    for spec in specs:
        family = get_function(spec, dim=dim)
        for s in res:
            k = min(4, (s - 1) // 2)
            fn = family.for_resolution(s)
            fast = exact_coefficients(fn, s, k, method="float64")
            ref = exact_coefficients(fn, s, k, method="reference", dps=30)
            assert_agree_10_digits(fast.error, ref.error)


def test_reference_matches_direct_high_resolution_fft():
    """Independent check: V_s from a float64 FFT of the samples equals vhat + E_s (reference)."""
    fn = get_function("tent", dim=2)
    ref = exact_coefficients(fn, 20, 4, method="reference")
    from errbound.layer import retained_index

    V = np.fft.fftn(fn.eval_grid(20), norm="forward")[retained_index(20, 4, 2)]
    np.testing.assert_allclose(V, ref.discrete, atol=1e-15)  # FFT roundoff on O(1) values


def test_trig_has_zero_error_below_its_band():
    fn = get_function("trig:band=6", dim=2)
    for s in (16, 32, 64):  # s > band + k = 10
        ref = exact_coefficients(fn, s, 4, method="reference")
        assert np.all(ref.error == 0)
        layer = FourierLayer.random(2, 4)
        assert layer_errors(fn, layer, s)["rel_l2"] <= 1e-14  # float64 FFT roundoff only
    # and it is not zero when the grid is too coarse for the band (s <= band + k)
    assert np.max(exact_coefficients(fn, 9, 4, method="reference").abs_error) > 1e-3


def test_layer_measured_error_matches_parseval():
    fn = get_function("step", dim=2)
    layer = FourierLayer.random(2, 3, seed=4)
    ref = exact_coefficients(fn, 32, 3, method="reference")
    e = layer_errors(fn, layer, 32, ref)
    # measured (float64 pipeline) vs exact Parseval norm: differ by float64 roundoff only (error ~ 1e-2)
    assert e["rel_l2"] == pytest.approx(e["exact_rel_l2"], rel=1e-10)
    assert e["abs_max"] >= e["abs_l2"]


def test_layer_channel_mixing_and_shapes():
    layer = FourierLayer.random(1, 3, channels_in=2, channels_out=3, seed=1)
    f, g = get_function("tent", dim=1), get_function("smooth", dim=1)
    values = np.stack([f.eval_grid(16), g.eval_grid(16)])
    out = layer.apply_discrete(values)
    assert out.shape == (3, 16) and out.dtype == np.float64
    cont = layer.apply_continuous([f, g], 16)
    assert cont.shape == (3, 16)
    # channel mixing is linear: output = sum over input channels
    single = [FourierLayer(weights=layer.weights[:, c : c + 1], k=3, dim=1) for c in range(2)]
    np.testing.assert_allclose(out, single[0].apply_discrete(values[0]) + single[1].apply_discrete(values[1]), atol=1e-14)


def test_layer_identity_projects_band_limited_input_exactly():
    fn = get_function("trig:band=3", dim=1)
    layer = FourierLayer.identity(1, 3)
    np.testing.assert_allclose(layer.apply_discrete(fn.eval_grid(16))[0], fn.eval_grid(16), atol=1e-14)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(weights=np.ones((1, 1, 5)), k=1, dim=1), "weights must have shape"),
        (dict(weights=np.ones((1, 1, 3)) * 1j, k=1, dim=1), "R(-w) = conj(R(w))"),
        (dict(weights=np.ones((1, 1, 3)), k=1, dim=4), "dim must be 1, 2 or 3"),
    ],
)
def test_layer_rejects_bad_weights(kwargs, fragment):
    with pytest.raises(ErrboundError) as info:
        FourierLayer(**kwargs)
    assert fragment in str(info.value)


def test_layer_rejects_unresolvable_grid_and_bad_values():
    layer = FourierLayer.random(1, 4)
    with pytest.raises(ErrboundError, match="needs res > 2k = 8"):
        layer.apply_discrete(np.zeros(8))
    with pytest.raises(ErrboundError, match="NaN"):
        layer.apply_discrete(np.full(16, np.nan))
    with pytest.raises(ErrboundError, match="needs res > 2k = 8"):
        exact_coefficients(get_function("smooth"), 8, 4)


@pytest.mark.parametrize("text, fragment", [("8,16.5", "not an integer"), ("8,x", "integers separated by commas"),
                                            ("0", "must be >= 1"), ("", "no resolutions")])
def test_parse_resolutions_errors(text, fragment):
    with pytest.raises(ErrboundError) as info:
        parse_resolutions(text)
    assert fragment in str(info.value)


def test_effective_modes_policy():
    assert effective_modes(8, 12, strict=False) == 3
    assert effective_modes(64, 12, strict=False) == 12
    with pytest.raises(ErrboundError, match="needs res > 2k = 24"):
        effective_modes(8, 12, strict=True)


def test_fit_rate_recovers_slope():
    res = [16, 32, 64, 128]
    assert fit_rate(res, [-2.5 * math.log10(r) + 1 for r in res]) == pytest.approx(-2.5)
    assert fit_rate([16], [1.0]) is None


@pytest.mark.parametrize(
    "spec, dim, res",
    [
        ("tent", 1, [32, 64, 128, 256, 512, 1024, 2048, 4096]),
        ("step", 1, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]),
        ("sobolev:r=1", 1, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]),
        ("sobolev:r=2", 1, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]),
        ("sobolev:r=3", 1, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]),
        ("tent", 2, [16, 32, 64, 128, 256, 512, 1024]),
        ("step", 2, [16, 32, 64, 128, 256, 512, 1024]),
        # band 512 keeps CI fast; the default band (1024) is checked in the slow test below
        ("sobolev:r=1,band=512", 2, [16, 32, 64, 128]),
        ("sobolev:r=2,band=512", 2, [16, 32, 64, 128]),
        ("sobolev:r=3,band=512", 2, [16, 32, 64, 128]),
    ],
)
def test_rates_match_theory(spec, dim, res):
    """Fitted log-log slope of max_w |E_s(w)| within +-0.15 of the theory's rate (the acceptance band)."""
    # max_w |E_s(w)| ~ (s - k)^rate: few modes keep the pre-asymptotic bias (k/s) small
    out = sweep(spec, dim=dim, resolutions=res, modes=2 if spec.startswith("sobolev") and dim == 2 else 3,
                method="float64", cache=False)
    assert out["rate"] == pytest.approx(out["rate_theory"], abs=0.15)


@pytest.mark.slow
@pytest.mark.parametrize("r", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sobolev_2d_rates_default_band(r, seed):
    """2-D sobolev at its default band (1024), resolutions 32..256 (<= band/4), three seeds."""
    out = sweep(f"sobolev:r={r},seed={seed}", dim=2, resolutions=[32, 64, 128, 256], modes=4, method="float64", cache=False)
    assert out["rate"] == pytest.approx(out["rate_theory"], abs=0.15)


def test_smooth_decays_faster_than_any_power():
    out = sweep("smooth", dim=1, resolutions=[8, 16, 32, 64], modes=3, cache=False)
    local = out["local_rates"]
    assert all(b < a for a, b in zip(local, local[1:]))  # steepening slopes: super-algebraic
    assert local[-1] < -20
    # the float64 pipeline reaches the float64 floor and stays there
    floor = [r["layer_err_rel"] for r in out["rows"] if r["res"] >= 32]
    assert max(floor) < 1e-14


def test_cache_hit_returns_identical_reference(tmp_path):
    cache = ReferenceCache(tmp_path)
    fn = get_function("tent", dim=1)
    first = exact_coefficients(fn, 64, 4, cache=cache)
    assert cache.misses == 1 and cache.hits == 0
    second = exact_coefficients(fn, 64, 4, cache=cache)
    assert cache.hits == 1
    np.testing.assert_array_equal(first.error, second.error)
    np.testing.assert_array_equal(first.error_log10, second.error_log10)
    files = list(tmp_path.rglob("*"))
    assert not any(p.name.startswith(".") for p in files)  # no temporary files left behind
    # a corrupt entry is a miss, not a crash
    entry = next(p for p in files if p.suffix == ".npz")
    entry.write_bytes(b"garbage")
    third = exact_coefficients(fn, 64, 4, cache=cache)
    np.testing.assert_array_equal(third.error, first.error)


def test_cache_folder_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("ERRBOUND_CACHE", str(tmp_path / "a"))
    assert default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("ERRBOUND_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x" / "errbound"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == __import__("pathlib").Path.home() / ".cache" / "errbound"


def test_sweep_parallel_equals_serial(tmp_path):
    kwargs = dict(dim=1, resolutions=[16, 32, 64], modes=3, cache=str(tmp_path))
    serial = sweep("tent", jobs=1, **kwargs)
    parallel = sweep("tent", jobs=2, **kwargs)
    keys = ["res", "mode_err_max", "layer_err_rel", "bound_upper", "ratio_upper"]
    assert [[r[k] for k in keys] for r in serial["rows"]] == [[r[k] for k in keys] for r in parallel["rows"]]


def test_sweep_dask_without_distributed_is_a_clear_error():
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match=r"errbound\[dask\]"):
            sweep("tent", resolutions=[16], modes=2, dask="tcp://127.0.0.1:1", cache=False)
    else:
        pytest.skip("dask.distributed is installed")


def test_sweep_strict_modes_rejects_coarse_grid():
    with pytest.raises(ErrboundError, match="needs res > 2k = 24"):
        sweep("smooth", resolutions=[8, 64], modes=12, strict_modes=True, cache=False)


def test_ratios_stay_defined_when_errors_underflow_float64():
    """smooth at s = 512: error ~ 1e-1284 and bound both underflow; the ratio comes from log10 values."""
    row = sweep("smooth", dim=1, resolutions=[512], modes=3, cache=False)["rows"][0]
    assert row["mode_err_max"] == 0.0 and row["mode_err_max_log10"] < -300
    assert 0.1 < row["ratio_upper"] <= 1  # D4s is within a factor 10 of the true error here
    assert row["ratios"]["D4s"] <= 1
