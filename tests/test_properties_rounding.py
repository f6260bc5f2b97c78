"""Property-based tests of round_to (hypothesis): idempotent, monotone, within u relative error in the normal
range, the result is one of the two neighbours bracketing x, sign symmetry. Profiles: ``ci`` (default) and
``thorough`` (HYPOTHESIS_PROFILE=thorough, 10^4 examples per property), see tests/conftest.py.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from errbound.formats import get_format
from errbound.rounding import round_to

FORMATS = ["fp32", "tf32", "fp16", "bf16", "fp8_e5m2", "fp8_e4m3fn", "fp8_e4m3", "t5emax7", "t3emax3_nosub"]
DETERMINISTIC = ["rne", "rna", "rz", "ru", "rd"]

formats = st.sampled_from(FORMATS).map(get_format)
modes = st.sampled_from(DETERMINISTIC)


def in_range(fmt):  # type: ignore[no-untyped-def]
    """Finite floats with |x| <= max(F) (no overflow), any binade including subnormals."""
    return st.floats(min_value=-fmt.max, max_value=fmt.max, allow_nan=False, allow_infinity=False)


@st.composite
def fmt_and_x(draw):  # type: ignore[no-untyped-def]
    fmt = draw(formats)
    # mix: uniform floats, values near the normal range boundary, values near powers of two
    x = draw(st.one_of(in_range(fmt),
                       st.floats(min_value=-4 * fmt.min_normal, max_value=4 * fmt.min_normal),
                       st.integers(fmt.emin - fmt.t, fmt.emax - 1).flatmap(
                           lambda e: st.floats(min_value=2.0**e * 0.99, max_value=2.0**e * 1.01))))
    return fmt, float(np.clip(x, -fmt.max, fmt.max))


def _next_up(fmt, y: float) -> float:  # type: ignore[no-untyped-def]
    """The least number of fmt above the fmt number y (y finite, < max)."""
    return float(round_to(np.nextafter(y, math.inf), fmt, "ru"))


@given(fmt_and_x(), modes)
def test_idempotent(fx, mode) -> None:  # type: ignore[no-untyped-def]
    fmt, x = fx
    r = round_to(np.float64(x), fmt, mode)
    assert round_to(r, fmt, mode) == r  # exact: a number of fmt is its own rounding in every mode


@given(formats, st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False), modes)
def test_monotone(fmt, a, b, mode) -> None:  # type: ignore[no-untyped-def]
    lo, hi = min(a, b), max(a, b)
    r = round_to(np.array([lo, hi]), fmt, mode)
    if fmt.overflow == "nan" and np.isnan(r).any():
        return  # overflow to NaN (formats without inf) is not ordered
    assert r[0] <= r[1]


@given(fmt_and_x(), st.sampled_from(["rne", "rna"]))
def test_within_u_relative_error_in_normal_range(fx, mode) -> None:  # type: ignore[no-untyped-def]
    fmt, x = fx
    if not abs(x) >= fmt.min_normal:
        return
    r = float(round_to(np.float64(x), fmt, mode))
    # |r - x| is exact in float64 (Sterbenz) and u|x| is a power-of-two scaling: no tolerance needed
    assert abs(r - x) <= fmt.u / (1 + fmt.u) * abs(x)


@given(fmt_and_x(), st.sampled_from(["rz", "ru", "rd"]))
def test_directed_within_2u_in_normal_range(fx, mode) -> None:  # type: ignore[no-untyped-def]
    fmt, x = fx
    if not abs(x) >= fmt.min_normal:
        return
    r = float(round_to(np.float64(x), fmt, mode))
    assert abs(r - x) < 2 * fmt.u * abs(x)  # R1(c), exact comparison


@given(fmt_and_x(), st.sampled_from(DETERMINISTIC + ["sr"]), st.integers(0, 2**32 - 1))
def test_result_is_a_bracketing_neighbour(fx, mode, seed) -> None:  # type: ignore[no-untyped-def]
    fmt, x = fx
    down = float(round_to(np.float64(x), fmt, "rd"))
    up = float(round_to(np.float64(x), fmt, "ru"))
    assert down <= x <= up
    if down != up:  # adjacent: nothing of fmt strictly between them
        assert _next_up(fmt, down) == up
    r = float(round_to(np.float64(x), fmt, mode, rng=seed if mode == "sr" else None))
    assert r in (down, up)
    if mode in ("rne", "rna") and down != up:
        # nearest: never farther than the other neighbour
        assert abs(r - x) <= abs((up if r == down else down) - x)


@given(fmt_and_x())
def test_sign_symmetry(fx) -> None:  # type: ignore[no-untyped-def]
    fmt, x = fx
    for mode in ("rne", "rna", "rz"):
        assert round_to(np.float64(-x), fmt, mode) == -round_to(np.float64(x), fmt, mode)
    assert round_to(np.float64(-x), fmt, "ru") == -round_to(np.float64(x), fmt, "rd")
