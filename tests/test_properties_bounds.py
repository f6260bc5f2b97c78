"""Every bound of docs/theory.md holds on hypothesis-generated inputs (float64 evaluation of both sides; the
tolerances are stated per test). The statements' own arbitrary-precision checks live in proofs_numeric/."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from errbound.formats import get_format
from errbound.rounding import round_to

finite = st.floats(-4, 4, allow_nan=False, allow_subnormal=False)
# float64 evaluation of sums of <= 2^10 terms of size <= 4: relative error < 1e-12 of the bound's scale
TOL = 1e-9


@given(st.lists(finite, min_size=2, max_size=24), st.integers(2, 40), st.integers(-6, 6))
def test_D2_lipschitz_bound_on_piecewise_linear(values, s, w) -> None:  # type: ignore[no-untyped-def]
    from proofs_numeric._pl import PL
    from proofs_numeric.d2_lipschitz import bound_a, bound_b

    knots = np.arange(len(values)) / len(values)
    fn = PL(knots, values)
    assume(fn.L > 1e-6)
    A = float(np.abs(fn.dft(s, np.array([w])) - fn.coef(np.array([w])))[0])
    assert A <= bound_b(s, (w,), (fn.L,), fn.M) * (1 + TOL)
    assert A <= bound_a(s, (w,), fn.L, fn.M, 1) * (1 + TOL)


@given(st.integers(4, 64), st.floats(0.6, 3.0), st.integers(0, 2**32 - 1))
def test_D4_decay_bound_on_random_fields(s, beta, seed) -> None:  # type: ignore[no-untyped-def]
    from proofs_numeric.d4_smooth import Z_box

    rng = np.random.default_rng(seed)
    B = 4 * s
    xi = np.arange(-B, B + 1)
    coef = (1 + xi.astype(float) ** 2) ** -beta * rng.uniform(0, 1, xi.size) * np.exp(2j * np.pi * rng.uniform(0, 1, xi.size))
    k = (s - 1) // 2
    for w in range(-k, k + 1):
        A = abs(sum(coef[(w + s * q) + B] for q in range(-5, 6) if q and abs(w + s * q) <= B))
        Q = (B + abs(w)) // s
        assert A <= float(Z_box(2 * beta, 1, Q)) * (s - abs(w)) ** (-2 * beta) * (1 + TOL)


@given(st.sampled_from(["fp16", "bf16", "fp8_e4m3fn", "tf32"]), st.integers(1, 300), st.integers(0, 2**32 - 1),
       st.floats(-6, 4))
def test_P1_input_rounding_bound(name, n, seed, log_scale) -> None:  # type: ignore[no-untyped-def]
    from proofs_numeric.p1_input import eta

    fmt = get_format(name)
    v = np.random.default_rng(seed).standard_normal(n) * 10.0**log_scale
    v = np.clip(v, -fmt.max, fmt.max)
    err = round_to(v, fmt) - v  # exact (Sterbenz)
    E = np.abs(np.fft.fft(err)) / n
    # float64 FFT of the error vector: relative error < 1e-13 of sum|err| <= the bound's scale
    assert np.all(E <= (fmt.u / (1 + fmt.u) * np.mean(np.abs(v)) + eta(fmt)) * (1 + TOL))


@given(st.sampled_from(["fp16", "bf16", "fp8_e5m2"]), st.sampled_from([2, 4, 8, 16, 32, 64]),
       st.integers(0, 2**32 - 1), st.sampled_from(["fma", "4m2a"]))
def test_P2_fft_bound(name, n, seed, cmul) -> None:  # type: ignore[no-untyped-def]
    from proofs_numeric.p2_fft import _wide, bound, emulated, mu_bound

    fmt = get_format(name)
    rng = np.random.default_rng(seed)
    x = round_to((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * (0.5 if fmt.max < 1e5 else 1), fmt)
    y_hat = emulated(x, fmt, cmul)
    assume(np.array_equal(y_hat, emulated(x, _wide(fmt), cmul)))  # standing assumptions (no under/overflow)
    y = np.fft.fft(x)
    # float64 reference error < 1e-14 relative, below 1e-9 of the bound
    assert np.linalg.norm(y_hat - y) <= bound(n, fmt.u, mu_bound(fmt)) * np.linalg.norm(y) * (1 + TOL)


@given(st.sampled_from([("fp16", "fp32"), ("bf16", "fp32"), ("fp16", "fp16")]), st.sampled_from([8, 16, 64, 128]),
       st.integers(0, 2**32 - 1))
def test_P4_dft_matmul_bound(pair, n, seed) -> None:  # type: ignore[no-untyped-def]
    from errbound.emulate import MatmulConfig
    from errbound.emulate.dft_matmul import dft_modes

    from proofs_numeric.p4_dft_matmul import factor

    I, G = get_format(pair[0]), get_format(pair[1])
    x = round_to(np.random.default_rng(seed).standard_normal(n), I)[None, :]
    k = min(8, n // 2)
    err = np.abs(dft_modes(x, k, MatmulConfig(input_fmt=I, acc_fmt=G)) - np.fft.rfft(x)[:, :k])
    assert np.all(err <= factor(n, I, G) * np.sum(np.abs(x)) * (1 + TOL))


@given(st.sampled_from(["fp16", "fp8_e4m3fn"]), st.sampled_from([8, 32, 128]), st.floats(0.3, 3.0),
       st.integers(0, 2**32 - 1))
def test_P6_magnitude_and_sufficient_condition(name, n, rel, seed) -> None:  # type: ignore[no-untyped-def]
    from errbound.emulate import FFTConfig, Trace
    from errbound.emulate.transforms import fft

    from proofs_numeric.p2_fft import mu_bound
    from proofs_numeric.p6_overflow import theta

    fmt = get_format(name)
    c = fmt.max / n * rel
    x = round_to(c * np.random.default_rng(seed).uniform(-1, 1, n), fmt)
    X = float(np.max(np.abs(x)))
    tr = Trace()
    with np.errstate(all="ignore"):
        fft(x.astype(complex), FFTConfig(fmt=fmt), trace=tr)
    th = theta(fmt.u, mu_bound(fmt))
    t = int(math.log2(n))
    if n * th**t * X <= fmt.max:
        assert not tr.overflow  # P6(a)
    if not tr.overflow:
        assert tr.max_abs <= (2 * th) ** t * X * (1 + 1e-12)  # 1e-12: float64 evaluation of the bound
