"""round_to: exact agreement with numpy's fp16 cast, every code of every small format, exact oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from errbound import ErrboundError, get_format, round_to
from errbound.formats import FORMATS, Format
from tests._oracle import round_float, same

MODES = ("rne", "rna", "rz", "ru", "rd")
CUSTOM = [get_format("t5emax7"), get_format("t3emax3_nosub"), get_format("t6emax9_sat"), get_format("t4emax8emin-6_noinf_rt1")]
ALL_FORMATS = list(FORMATS.values()) + CUSTOM


def fp16_edge_cases() -> np.ndarray:
    """Every tie and near-tie between consecutive fp16 values, overflow and underflow thresholds."""
    codes = np.arange(0, 0x7C00, dtype=np.uint16)  # all finite non-negative fp16 values
    values = codes.view(np.float16).astype(np.float64)
    mids = (values[:-1] + values[1:]) / 2  # exact in float64: one more bit than fp16
    near = np.concatenate([mids, np.nextafter(mids, 0), np.nextafter(mids, np.inf), values])
    specials = np.array([
        65504.0, 65519.99999999999, 65520.0, np.nextafter(65520.0, np.inf), 65536.0, 1e5, 1e300,
        2.0**-24, 2.0**-25, np.nextafter(2.0**-25, 1), np.nextafter(2.0**-25, 0), 3 * 2.0**-26, 2.0**-14,
        np.nextafter(2.0**-14, 0), 5e-324, 0.0, np.inf, np.nan, 1 + 2.0**-11 + 2.0**-40,
    ])
    return np.concatenate([near, -near, specials, -specials])


def test_fp16_matches_numpy_cast_bit_for_bit_on_1e7_values() -> None:
    rng = np.random.default_rng(20241128)
    edges = fp16_edge_cases()
    random_bits = rng.integers(0, 2**64, size=4_000_000, dtype=np.uint64).view(np.float64)  # whole range
    in_range = rng.standard_normal(10**7 - edges.size - random_bits.size) * np.exp2(rng.uniform(-26, 17, 1))
    x = np.concatenate([edges, random_bits, in_range])
    assert x.size >= 10**7
    with np.errstate(all="ignore"):  # numpy warns on the overflowing casts that this test wants
        expected = x.astype(np.float16).astype(np.float64)
    got = round_to(x, "fp16")
    assert got.dtype == np.float64
    # bitwise: compares signed zeros and NaN positions as well
    np.testing.assert_array_equal(got.view(np.uint64)[~np.isnan(x)], expected.view(np.uint64)[~np.isnan(x)])
    assert np.isnan(got[np.isnan(x)]).all()


def test_double_rounding_example() -> None:
    assert round_to(1 + 2.0**-11 + 2.0**-40, "fp16") == 1 + 2.0**-10


def _decode_codes(exp_bits: int, man_bits: int, ieee_specials: bool, fn_nan: bool) -> np.ndarray:
    """All values of a small binary format decoded from its bit fields (NaN for NaN codes)."""
    bias = 2 ** (exp_bits - 1) - 1
    values = []
    for code in range(2 ** (1 + exp_bits + man_bits)):
        sign = -1.0 if code >> (exp_bits + man_bits) else 1.0
        e_field = (code >> man_bits) & (2**exp_bits - 1)
        m_field = code & (2**man_bits - 1)
        if ieee_specials and e_field == 2**exp_bits - 1:
            values.append(sign * math.inf if m_field == 0 else math.nan)
        elif fn_nan and e_field == 2**exp_bits - 1 and m_field == 2**man_bits - 1:
            values.append(math.nan)
        elif e_field == 0:
            values.append(sign * m_field * 2.0 ** (1 - bias - man_bits))
        else:
            values.append(sign * (1 + m_field / 2**man_bits) * 2.0 ** (e_field - bias))
    return np.array(values)


def _widen(codes: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # signalling-NaN codes warn when widened; they stay NaN
        return codes.astype(np.float64)


CODE_TABLES = {
    "fp16": lambda: _widen(np.arange(2**16, dtype=np.uint16).view(np.float16)),
    "bf16": lambda: _widen((np.arange(2**16, dtype=np.uint32) << 16).view(np.float32)),
    "fp8_e5m2": lambda: _decode_codes(5, 2, ieee_specials=True, fn_nan=False),
    "fp8_e4m3": lambda: _decode_codes(4, 3, ieee_specials=True, fn_nan=False),
    "fp8_e4m3fn": lambda: _decode_codes(4, 3, ieee_specials=False, fn_nan=True),
}


@pytest.mark.parametrize("name", sorted(CODE_TABLES))
@pytest.mark.parametrize("mode", (*MODES, "sr"))
def test_every_code_round_trips(name: str, mode: str) -> None:
    values = CODE_TABLES[name]()
    got = round_to(values, name, mode, rng=0)
    nan = np.isnan(values)
    np.testing.assert_array_equal(got.view(np.uint64)[~nan], values.view(np.uint64)[~nan])
    assert np.isnan(got[nan]).all()


@pytest.mark.parametrize("name", sorted(CODE_TABLES))
def test_code_tables_match_format_parameters(name: str) -> None:
    """The decoded code tables agree with the Format's derived max / min values."""
    fmt = get_format(name)
    values = CODE_TABLES[name]()
    finite = values[np.isfinite(values)]
    assert finite.max() == fmt.max
    assert finite[finite > 0].min() == fmt.min_subnormal
    assert np.isinf(values).any() == fmt.has_inf


def test_named_format_constants() -> None:
    """Against numpy.finfo and ml_dtypes.finfo (independent sources)."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    pairs = {
        "fp16": np.finfo(np.float16), "fp32": np.finfo(np.float32), "fp64": np.finfo(np.float64),
        "bf16": ml_dtypes.finfo(ml_dtypes.bfloat16), "fp8_e4m3fn": ml_dtypes.finfo(ml_dtypes.float8_e4m3fn),
        "fp8_e5m2": ml_dtypes.finfo(ml_dtypes.float8_e5m2), "fp8_e4m3": ml_dtypes.finfo(ml_dtypes.float8_e4m3),
    }
    for name, info in pairs.items():
        fmt = get_format(name)
        assert fmt.max == float(info.max), name
        assert fmt.min_normal == float(info.smallest_normal), name
        assert fmt.min_subnormal == float(info.smallest_subnormal), name
        assert fmt.eps == float(info.eps), name
    assert get_format("tf32").t == 11 and get_format("tf32").emax == 127


def _edge_values(fmt: Format) -> st.SearchStrategy[float]:
    """Floats weighted toward the format's edges: exact values, midpoints, neighbours of both."""
    top = min(fmt.emax + 2, 1023)
    bottom = max(fmt.emin - fmt.t - 2, -1074)
    exponent = st.integers(bottom, top)
    significand = st.integers(0, 2 ** min(fmt.t + 1, 53) - 1)

    def build(e: int, m: int, nudge: int, negative: bool) -> float:
        value = math.ldexp(m, e - min(fmt.t, 52))  # one extra bit: exact values and midpoints
        with np.errstate(over="ignore"):  # nudging fp64's max upwards gives inf: a special value worth testing
            for _ in range(abs(nudge)):
                value = float(np.nextafter(value, math.inf if nudge > 0 else 0.0))
        return -value if negative else value

    structured = st.builds(build, exponent, significand, st.integers(-2, 2), st.booleans())
    specials = st.sampled_from([fmt.max, fmt.min_normal, fmt.min_subnormal, fmt.min_subnormal / 2, 0.0, -0.0,
                                math.inf, -math.inf, math.nan, float(fmt.max_exact + (fmt.max_exact * fmt.u))])
    return st.one_of(structured, specials, st.floats(allow_nan=True, allow_infinity=True))


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("mode", MODES)
def test_agrees_with_exact_fraction_oracle(fmt: Format, mode: str) -> None:
    @given(st.lists(_edge_values(fmt), min_size=1, max_size=40))
    def check(values: list[float]) -> None:
        got = round_to(np.array(values), fmt, mode)
        for x, g in zip(values, got):
            want = round_float(x, fmt, mode)
            assert same(float(g), want), (x, float(g), want)

    check()


GMPY_MODES = {"rne": "RoundToNearest", "rz": "RoundToZero", "ru": "RoundUp", "rd": "RoundDown"}


@pytest.mark.parametrize("name", ["fp16", "bf16", "fp32", "tf32", "fp8_e5m2", "fp8_e4m3"])
@pytest.mark.parametrize("mode", sorted(GMPY_MODES))
def test_agrees_with_gmpy2(name: str, mode: str) -> None:
    gmpy2 = pytest.importorskip("gmpy2")
    fmt = get_format(name)
    ctx = gmpy2.context(precision=fmt.t, emax=fmt.emax + 1, emin=fmt.emin - fmt.t + 2, subnormalize=True,
                        round=getattr(gmpy2, GMPY_MODES[mode]))

    @given(st.lists(_edge_values(fmt).filter(lambda v: not math.isnan(v)), min_size=1, max_size=40))
    def check(values: list[float]) -> None:
        got = round_to(np.array(values), fmt, mode)
        with gmpy2.context(ctx):
            for x, g in zip(values, got):
                want = float(gmpy2.mpfr(x))  # MPFR rounds the float64 input once, into the context
                assert same(float(g), want), (x, float(g), want)

    check()


@pytest.mark.parametrize("name, info", [("fp8_e4m3fn", "format_info_ocp_e4m3"), ("fp8_e5m2", "format_info_ocp_e5m2"),
                                        ("bf16", "format_info_bfloat16"), ("fp16", "format_info_binary16")])
def test_agrees_with_gfloat(name: str, info: str) -> None:
    gfloat = pytest.importorskip("gfloat")
    import gfloat.formats

    fi = getattr(gfloat.formats, info)
    modes = {"rne": gfloat.RoundMode.TiesToEven, "rna": gfloat.RoundMode.TiesToAway, "rz": gfloat.RoundMode.TowardZero,
             "ru": gfloat.RoundMode.TowardPositive, "rd": gfloat.RoundMode.TowardNegative}
    fmt = get_format(name)

    @given(st.lists(_edge_values(fmt).filter(lambda v: not math.isnan(v)), min_size=1, max_size=20),
           st.sampled_from(sorted(modes)))
    def check(values: list[float], mode: str) -> None:
        got = round_to(np.array(values), fmt, mode)
        for x, g in zip(values, got):
            want = gfloat.round_float(fi, x, modes[mode], sat=False)
            if name == "fp8_e4m3fn" and math.isinf(x):
                continue  # OCP leaves the non-saturating conversion of inf to the implementation
            assert same(float(g), float(want)), (x, float(g), want, mode)

    check()


def test_stochastic_rounding_is_unbiased_and_uses_two_neighbours() -> None:
    rng = np.random.default_rng(7)
    fmt = get_format("fp16")
    lower, upper = 1.0, 1.0 + fmt.eps
    x = lower + 0.3 * fmt.eps  # distance ratio 0.3 to the lower neighbour
    draws = round_to(np.full(10**6, x), fmt, "sr", rng=rng)
    assert set(np.unique(draws)) <= {lower, upper}
    err = draws - x
    standard_error = err.std(ddof=1) / math.sqrt(err.size)
    assert abs(err.mean()) < 5 * standard_error  # 5 standard errors: false-alarm probability ~6e-7
    p_up = np.mean(draws == upper)
    assert abs(p_up - 0.3) < 5 * math.sqrt(0.3 * 0.7 / err.size)


def test_stochastic_rounding_reproducible_from_seed() -> None:
    x = np.linspace(-3, 3, 1001)
    np.testing.assert_array_equal(round_to(x, "bf16", "sr", rng=3), round_to(x, "bf16", "sr", rng=3))
    with pytest.raises(ErrboundError, match="rng"):
        round_to(x, "bf16", "sr")


def test_complex_parts_rounded_separately() -> None:
    z = np.array([1 + 2.0**-12 + 1j * (3 - 2.0**-12), complex(-0.0, np.inf)])
    got = round_to(z, "fp16")
    assert got.dtype == np.complex128
    np.testing.assert_array_equal(got.real, round_to(z.real.copy(), "fp16"))
    np.testing.assert_array_equal(got.imag, round_to(z.imag.copy(), "fp16"))
    assert math.copysign(1, got[1].real) < 0


def test_float32_input_and_shapes() -> None:
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    got = round_to(x, "bf16")
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_array_equal(got, round_to(x.astype(np.float64), "bf16"))


@pytest.mark.parametrize("bad", [np.arange(3), np.array([1, "a"], dtype=object), np.array([True])])
def test_rejects_unsupported_dtypes(bad: np.ndarray) -> None:
    with pytest.raises(ErrboundError, match="dtype"):
        round_to(bad, "fp16")


def test_rejects_unknown_format_and_mode() -> None:
    with pytest.raises(ErrboundError, match="fp16"):  # the message lists the registered names
        round_to(1.0, "fp17")
    with pytest.raises(ErrboundError, match="rne"):
        round_to(1.0, "fp16", "nearest")


@pytest.mark.parametrize("t", [0, -3])
def test_rejects_nonpositive_precision(t: int) -> None:
    with pytest.raises(ErrboundError, match="precision"):
        Format(name="bad", t=t, emin=-14, emax=15)
    with pytest.raises(ErrboundError, match="precision"):
        get_format(f"t{t}emax15")


@pytest.mark.parametrize("name", ["fp16", "bf16", "tf32", "fp32", "fp8_e4m3fn", "fp8_e5m2", "t6emax9_sat", "t3emax3_nosub"])
def test_fast_path_equals_generic_path_on_every_midpoint(name: str) -> None:
    """The Veltkamp fast path (RNE) against the frexp/floor generic path, which the oracles check:
    every binade of the format's normal range, and in each binade every midpoint between consecutive values
    (all significands for t <= 10, a strided sample of 512 otherwise), both signs, and their float64
    neighbours."""
    from errbound.rounding import _round_generic, _round_real

    fmt = get_format(name)
    step = max(1, 2 ** (fmt.t - 1) // 512)
    significands = np.arange(2 ** (fmt.t - 1), 2**fmt.t, step, dtype=np.float64)
    exponents = np.arange(fmt.emin, fmt.emax + 1)  # every binade (bf16, tf32, fp32: all 254)
    assert exponents.size == fmt.emax - fmt.emin + 1
    values = np.ldexp(significands[None, :], (exponents - (fmt.t - 1))[:, None]).ravel()
    quantum = np.ldexp(1.0, np.frexp(values)[1] - fmt.t)
    mids = values + quantum / 2
    x = np.concatenate([mids, np.nextafter(mids, 0), np.nextafter(mids, np.inf), values])
    x = np.concatenate([x, -x])
    x = x[np.abs(x) <= fmt.max]
    fast = _round_real(x, fmt, "rne", None)
    with np.errstate(all="ignore"):
        generic = _round_generic(x, fmt, "rne", None)
    np.testing.assert_array_equal(fast.view(np.uint64), generic.view(np.uint64))
