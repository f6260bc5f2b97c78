"""Emulated arithmetic: single rounding of exact results, and fixed-order sums/dot products,
checked bit for bit against a Fraction oracle with the same order of operations."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from errbound import ErrboundError, get_format, round_to
from errbound.arith import add, div, dot, fma, matmul, mul, sub, sum_
from tests._oracle import round_fraction, same

FORMATS = ["fp16", "bf16", "fp32", "tf32", "fp8_e4m3fn", "fp8_e5m2", "t5emax7_nosub"]
MODES = ["rne", "rna", "rz", "ru", "rd"]


def representable(fmt_name: str) -> st.SearchStrategy[float]:
    """Values of the format (finite): random float64 rounded into it, plus zeros and extremes."""
    fmt = get_format(fmt_name)
    raw = st.floats(min_value=-fmt.max, max_value=fmt.max, allow_nan=False)
    extremes = st.sampled_from([0.0, -0.0, fmt.max, -fmt.max, fmt.min_subnormal, fmt.min_normal, 1.0])
    return st.one_of(raw.map(lambda v: float(round_to(v, fmt))), extremes)


def _zero_sign_of_sum(a: float, b: float, mode: str) -> bool:
    """IEEE 754 section 6.3: sign of an exactly-zero sum (True means -0)."""
    neg_a, neg_b = math.copysign(1, a) < 0, math.copysign(1, b) < 0
    if a == 0 and b == 0 and neg_a == neg_b:
        return neg_a
    return mode == "rd"


@pytest.mark.parametrize("fmt_name", FORMATS)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "fma"])
def test_single_rounding_matches_oracle(fmt_name: str, op: str) -> None:
    fmt = get_format(fmt_name)
    values = representable(fmt_name)

    @given(values, values, values, st.sampled_from(MODES))
    def check(a: float, b: float, c: float, mode: str) -> None:
        fa, fb, fc = Fraction(a), Fraction(b), Fraction(c)
        if op == "add":
            got, exact, neg0 = add(a, b, fmt, mode), fa + fb, _zero_sign_of_sum(a, b, mode)
        elif op == "sub":
            got, exact, neg0 = sub(a, b, fmt, mode), fa - fb, _zero_sign_of_sum(a, -b, mode)
        elif op == "mul":
            got, exact = mul(a, b, fmt, mode), fa * fb
            neg0 = (math.copysign(1, a) < 0) != (math.copysign(1, b) < 0)
        elif op == "div":
            if b == 0:
                return
            got, exact = div(a, b, fmt, mode), fa / fb
            neg0 = (math.copysign(1, a) < 0) != (math.copysign(1, b) < 0)
        else:
            got, exact = fma(a, b, c, fmt, mode), fa * fb + fc
            prod_neg = (math.copysign(1, a) < 0) != (math.copysign(1, b) < 0)
            if fa * fb == 0 and c == 0:
                neg0 = (prod_neg and math.copysign(1, c) < 0) or (prod_neg != (math.copysign(1, c) < 0) and mode == "rd")
            else:
                neg0 = mode == "rd"
        want = round_fraction(exact, fmt, mode, negative_zero=neg0)
        assert same(float(got), want), (op, a, b, c, mode, float(got), want)

    check()


def _oracle_recursive_dot(a: list[float], b: list[float], acc_fmt: str, mode: str = "rne") -> float:
    fmt = get_format(acc_fmt)
    acc = 0.0
    for x, y in zip(a, b):
        acc = round_fraction(Fraction(acc) + Fraction(x) * Fraction(y), fmt, mode)
    return acc


@pytest.mark.parametrize("input_fmt, acc_fmt", [("fp16", "fp32"), ("bf16", "fp32"), ("fp8_e4m3fn", "fp16"), ("fp16", "fp16")])
def test_dot_tensor_core_model_matches_oracle(input_fmt: str, acc_fmt: str) -> None:
    @given(st.integers(1, 64), st.integers(0, 2**32 - 1), st.floats(1e-3, 10.0))  # no overflow: oracle is finite
    def check(n: int, seed: int, scale: float) -> None:
        rng = np.random.default_rng(seed)
        a = round_to(rng.standard_normal(n) * scale, input_fmt)
        b = round_to(rng.standard_normal(n), input_fmt)
        got = dot(a, b, input_fmt, acc_fmt)
        want = _oracle_recursive_dot(list(a), list(b), acc_fmt)
        assert same(float(got), want)

    check()


def test_pairwise_sum_order_matches_oracle() -> None:
    rng = np.random.default_rng(11)
    fmt = get_format("fp16")
    for n in [1, 2, 3, 7, 16, 33]:
        x = round_to(rng.standard_normal(n) * 100, fmt)
        level = [Fraction(v) for v in x]
        if n == 1:
            want = round_fraction(level[0], fmt, "rne")
        else:
            while len(level) > 1:
                nxt = [Fraction(round_fraction(level[i] + level[i + 1], fmt, "rne")) for i in range(0, len(level) - 1, 2)]
                if len(level) % 2:
                    nxt.append(level[-1])
                level = nxt
            want = float(level[0])
        assert same(float(sum_(x, fmt, order="pairwise")), want), n


def test_matmul_equals_rowwise_dot() -> None:
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4, 9))
    b = rng.standard_normal((3, 9, 5))
    got = matmul(a, b, "fp16", "fp32")
    assert got.shape == (3, 4, 5) and got.dtype == np.float64
    for batch in range(3):
        for i in range(4):
            for j in range(5):
                assert got[batch, i, j] == dot(a[batch, i], b[batch, :, j], "fp16", "fp32")


def test_sum_error_within_recursive_bound() -> None:
    """|fl(sum) - sum| <= gamma_{n-1} sum |x| (Higham 2002, eq. 4.4); data exact in fp16."""
    rng = np.random.default_rng(2)
    fmt = get_format("fp16")
    x = round_to(rng.uniform(0, 1, (200, 64)), fmt)
    got = sum_(x, fmt)
    gamma = (63 * fmt.u) / (1 - 63 * fmt.u)
    assert np.all(np.abs(got - x.sum(axis=1)) <= gamma * np.abs(x).sum(axis=1))


def test_bad_input() -> None:
    with pytest.raises(ErrboundError, match="dtype"):
        add(np.arange(3), np.arange(3), "fp16")
    with pytest.raises(ErrboundError, match="order"):
        sum_(np.ones(3), "fp16", order="kahan")
    with pytest.raises(ErrboundError, match="shapes"):
        matmul(np.ones((2, 3)), np.ones((2, 3)), "fp16", "fp32")
    # fp64 targets in directed modes go through the exact rational path (no round-to-odd margin at t = 53)
    assert add(1.0, 2.0**-60, "fp64", mode="ru") == np.nextafter(1.0, 2.0)
    assert add(1.0, 2.0**-60, "fp64", mode="rz") == 1.0
