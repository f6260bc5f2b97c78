"""errbound.arith and round_to at float64's range edges, against exact rationals (tests/_oracle.py).

Operands are drawn over float64's whole exponent range (subnormals to 2**1023), plus operands built so that
the Veltkamp split, TwoSum or TwoProduct would over- or underflow float64 and results that land beyond
float64's range or in a format's subnormal/overflow boundary. Every format of the catalogue (and a format
without subnormals), every mode; the oracle rounds the exact Fraction once and never calls errbound's rounding.
Seeds are fixed (numpy default_rng with literal seeds) so every failure replays.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from errbound import arith, get_format, round_to
from errbound.formats import format_names
from tests._oracle import round_fraction, same

FORMATS = [*format_names(), "t5emax7_nosub"]
MODES = ["rne", "rna", "rz", "ru", "rd"]
OPS = ["add", "sub", "mul", "div", "fma"]
N_PER_CASE = 320  # per (format, mode, op): 9 formats x 5 modes x 5 ops x 320 = 72,000 cases, about 5 s on one core


def _wide(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random float64 with 53-bit significands and exponents uniform over [-1074, 1023], random signs."""
    e = rng.integers(-1074, 1024, n)
    m = 1.0 + rng.integers(0, 2**52, n) / 2.0**52
    with np.errstate(under="ignore", over="ignore"):
        x = np.ldexp(m, e)
    return np.where(rng.random(n) < 0.5, -x, x)


def _partner(rng: np.random.Generator, a: np.ndarray, fmt_emax: int, fmt_emin: int, t: int, op: str) -> np.ndarray:
    """A second operand placing ``a * b`` (``a / b``) near float64's or the format's range edges."""
    n = a.size
    ea = np.frexp(a)[1] - 1
    targets = np.array([1023, 1021, -1022, -1074, -1080, -969, -968, 996, fmt_emax, fmt_emax + 1, fmt_emin - t,
                        fmt_emin - t + 1, fmt_emin, 0])
    target = rng.choice(targets, n) + rng.integers(-2, 3, n)
    eb = target - ea if op != "div" else ea - target
    m = 1.0 + rng.integers(0, 2**52, n) / 2.0**52
    with np.errstate(under="ignore", over="ignore"):
        b = np.ldexp(m, np.clip(eb, -1074, 1023))
    return np.where(rng.random(n) < 0.5, -b, b)


def _cases(fmt_name: str, mode: str, op: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fmt = get_format(fmt_name)
    seed = 1000 * FORMATS.index(fmt_name) + 10 * MODES.index(mode) + OPS.index(op)  # fixed, replayable
    rng = np.random.default_rng(seed)
    n = N_PER_CASE
    a = _wide(rng, n)
    half = n // 2
    b = np.concatenate([_wide(rng, half), _partner(rng, a[half:], fmt.emax, fmt.emin, fmt.t, op)])
    with np.errstate(over="ignore", under="ignore"):
        near = -(a * b) * (1.0 + rng.integers(-4, 5, n) * 2.0**-52)  # cancellation in fma
    c = np.where(rng.random(n) < 0.5, near, _wide(rng, n))
    c = np.where(np.isfinite(c), c, 1.0)
    if op in ("add", "sub"):
        big = rng.random(n) < 0.3  # both operands near float64's max: TwoSum overflows
        a = np.where(big, np.copysign(np.ldexp(1.0 + rng.integers(0, 2**52, n) / 2.0**52, 1023), a), a)
        b = np.where(big, np.copysign(np.ldexp(1.0 + rng.integers(0, 2**52, n) / 2.0**52, 1022), b), b)
    specials = np.array([0.0, -0.0, 2.0**-1074, -(2.0**-1022), 1.7976931348623157e308, 1.0])
    a[:6] = specials
    b[:6] = specials[::-1]
    return a, b, c


def _oracle(op: str, a: float, b: float, c: float, fmt, mode: str) -> float:  # type: ignore[no-untyped-def]
    A, B, C = Fraction(a), Fraction(b), Fraction(c)
    na, nb, nc = (math.copysign(1.0, v) < 0 for v in (a, b, c))

    def sum_zero(nx: bool, ny: bool, x_zero: bool, y_zero: bool) -> bool:
        if x_zero and y_zero and nx == ny:
            return nx
        return mode == "rd"

    if op == "add":
        return round_fraction(A + B, fmt, mode, negative_zero=sum_zero(na, nb, a == 0, b == 0))
    if op == "sub":
        return round_fraction(A - B, fmt, mode, negative_zero=sum_zero(na, not nb, a == 0, b == 0))
    if op == "mul":
        return round_fraction(A * B, fmt, mode, negative_zero=na != nb)
    if op == "div":
        return round_fraction(A / B, fmt, mode, negative_zero=na != nb)
    p = A * B
    return round_fraction(p + C, fmt, mode, negative_zero=sum_zero(na != nb, nc, p == 0, c == 0))


def _run(op: str, a: np.ndarray, b: np.ndarray, c: np.ndarray, fmt, mode: str, rng=None) -> np.ndarray:  # type: ignore[no-untyped-def]
    if op == "fma":
        return np.asarray(arith.fma(a, b, c, fmt, mode, rng))
    return np.asarray(getattr(arith, op)(a, b, fmt, mode, rng))


@pytest.mark.parametrize("fmt_name", FORMATS)
def test_wide_exponent_range_matches_exact_rationals(fmt_name: str) -> None:
    fmt = get_format(fmt_name)
    mismatches, count = [], 0
    for mode in MODES:
        for op in OPS:
            a, b, c = _cases(fmt_name, mode, op)
            if op == "div":
                b = np.where(b == 0, 1.0, b)
            got = _run(op, a, b, c, fmt, mode)
            for i in range(a.size):
                want = _oracle(op, float(a[i]), float(b[i]), float(c[i]), fmt, mode)
                count += 1
                if not same(float(got[i]), want):
                    mismatches.append((op, mode, a[i].hex(), b[i].hex(), c[i].hex(), float(got[i]), want))
    assert count == len(MODES) * len(OPS) * N_PER_CASE
    assert not mismatches, f"{len(mismatches)} of {count} wrong, first: {mismatches[:3]}"


@pytest.mark.parametrize("fmt_name", ["fp16", "fp32", "fp8_e4m3fn", "fp64"])
def test_stochastic_rounding_lands_on_a_neighbour(fmt_name: str) -> None:
    """sr is random: the result must be the round-down or round-up of the exact value (no exact match)."""
    fmt = get_format(fmt_name)
    for op in OPS:
        a, b, c = _cases(fmt_name, "rne", op)
        if op == "div":
            b = np.where(b == 0, 1.0, b)
        got = _run(op, a, b, c, fmt, "sr", rng=7)
        for i in range(a.size):
            lo = _oracle(op, float(a[i]), float(b[i]), float(c[i]), fmt, "rd")
            hi = _oracle(op, float(a[i]), float(b[i]), float(c[i]), fmt, "ru")
            g = float(got[i])
            ok = same(g, lo) or same(g, hi) or (g == lo == hi) or (math.isinf(g) and abs(lo) == fmt.max)
            assert ok, (op, a[i].hex(), b[i].hex(), g, lo, hi)


ISSUE_CASES = [
    pytest.param("mul", (2.0**1000, 3 * 2.0**-1000), "fp32", "rd", 3.0, id="mul-split-overflow-rd"),
    pytest.param("fma", (2.0**1000, 3 * 2.0**-1000, 1.0), "fp32", "rne", 4.0, id="fma-split-overflow"),
    pytest.param("mul", (1e-200, 1e-200), "fp32", "ru", 2.0**-149, id="mul-underflow-ru"),
    pytest.param("add", (1.7e308, 1.7e308), "fp32", "rz", float(get_format("fp32").max_exact), id="add-beyond-f64-rz"),
    pytest.param("mul", (1e200, 1e200), "fp8_e4m3fn", "rz", 448.0, id="mul-beyond-f64-e4m3fn-rz"),
    pytest.param("fma", (2.0**-600, 2.0**-600, 1.0), "fp16", "ru", 1.0 + 2.0**-10, id="fma-tiny-product-ru"),
    pytest.param("div", (-5.46e-129, -1.68e306), "fp32", "rne", 0.0, id="div-underflow-sign"),
    pytest.param("div", (-5.46e-129, -1.68e306), "fp32", "ru", 2.0**-149, id="div-underflow-ru"),
]


@pytest.mark.parametrize("op, args, fmt, mode, want", ISSUE_CASES)
def test_issue_cases_exact(op: str, args: tuple, fmt: str, mode: str, want: float) -> None:
    got = float(getattr(arith, op)(*args, fmt, mode))
    assert same(got, want), (got, want)


def test_python_ints_round_once() -> None:
    """A Python int is rounded from its exact value: 2**60 + 2**36 + 1 is just above the fp32 midpoint
    2**60 + 2**36, so it rounds up to 2**60 + 2**37 (float() would first round it to the midpoint, then
    ties-to-even would go down)."""
    x = 2**60 + 2**36 + 1
    assert float(round_to(x, "fp32")) == float(2**60 + 2**37)
    assert float(round_to(2**2000, "fp16")) == math.inf
    assert float(round_to(-(2**2000), "fp16", "rz")) == -65504.0
    assert float(round_to(2**2000, "fp8_e4m3fn")) != float(round_to(2**2000, "fp8_e4m3fn"))  # NaN policy
    assert float(round_to(3**700, "fp64", "rd")) == get_format("fp64").max
    for v in (0, 7, -(2**53) - 1, 2**1024 - 2**970):
        assert same(float(round_to(v, "bf16", "rne")), round_fraction(Fraction(v), get_format("bf16"), "rne"))
