"""Truncated DFT as a matrix product (tensor-core model)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from errbound import emulate
from errbound.emulate._reference import _mp_to_fraction, _unit, round_fraction
from errbound.errors import ErrboundError
from errbound.formats import get_format


def _rel(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _numpy_modes(x: np.ndarray, k: tuple[int, int]) -> np.ndarray:
    X = np.fft.rfft2(x)
    rows = np.r_[0 : k[0], x.shape[-2] - k[0] : x.shape[-2]]
    return X[..., rows, : k[1]]


def test_retained_indices_fno_layout() -> None:
    assert list(emulate.retained_indices(16, 3, real=True)) == [0, 1, 2]
    assert list(emulate.retained_indices(16, 3, real=False)) == [0, 1, 2, 13, 14, 15]
    with pytest.raises(ErrboundError, match="finer grid"):
        emulate.retained_indices(8, 5, real=False)
    with pytest.raises(ErrboundError, match="finer grid"):
        emulate.retained_indices(8, 6, real=True)


@pytest.mark.parametrize("shape", [(16, 16), (21, 30)])
def test_modes_match_numpy_fp32_and_fp16(shape) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2,) + shape)
    k = (4, 5)
    want = _numpy_modes(x, k)
    got32 = emulate.dft_modes(x, k, ("fp32", "fp32"))
    assert got32.shape == want.shape
    # recursive sums of n terms: gamma_n u-level per axis (Higham 3.1), n <= 30, two axes
    assert _rel(got32, want) < 2 * 60 * get_format("fp32").u
    got16 = emulate.dft_modes(x, k, emulate.MatmulConfig(input_fmt="fp16", acc_fmt="fp32"))
    err16 = _rel(got16, want)
    # dominated by rounding the data, the matrix and the between-axes result to fp16: a few u
    assert 0.1 * get_format("fp16").u < err16 < 8 * get_format("fp16").u


def test_norms_and_matrix_folding() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 32))
    want = _numpy_modes(x, (3, 3)) / x.size
    for scaling in ("after", "matrix"):
        cfg = emulate.MatmulConfig(input_fmt="fp16", acc_fmt="fp32", scaling=scaling)
        got = emulate.dft_modes(x, (3, 3), cfg, norm="forward")
        assert _rel(got, want) < 8 * get_format("fp16").u  # as above


def test_inverse_synthesis_matches_irfft2_of_truncated_spectrum() -> None:
    rng = np.random.default_rng(2)
    shape = (16, 12)
    k = (3, 4)
    X = emulate.dft_modes(rng.standard_normal(shape), k, ("fp32", "fp32"), norm="forward")
    full = np.zeros((shape[0], shape[1] // 2 + 1), dtype=complex)
    full[: k[0], : k[1]] = X[: k[0]]
    full[-k[0]:, : k[1]] = X[k[0]:]
    want = np.fft.irfft2(full, s=shape, norm="forward")
    got = emulate.idft_modes(X, shape, ("fp32", "fp32"), norm="forward")
    assert got.shape == shape and got.dtype == np.float64
    assert _rel(got, want) < 2 * 60 * get_format("fp32").u  # recursive sums, as above
    cplx = emulate.idft_modes(X, shape, ("fp32", "fp32"), real=False, norm="forward")
    assert cplx.dtype == np.complex128


def _ref_axis_real(x: list[float], idx: list[int], in_fmt, acc_fmt) -> list[tuple[Fraction, Fraction]]:
    """Scalar reference of the last-axis real product: [Re | Im] = a @ [C | S], recursive sum."""
    n = len(x)
    a = [round_fraction(Fraction(v), in_fmt) for v in x]
    out = []
    for part in (0, 1):
        for k in idx:
            acc = Fraction(0)
            for j in range(n):
                c, s = _unit((2 * j * k) % (2 * n), n)
                w = round_fraction(_mp_to_fraction(c if part == 0 else -s), in_fmt)
                acc = round_fraction(acc + a[j] * w, acc_fmt)
            out.append(acc)
    K = len(idx)
    return list(zip(out[:K], out[K:]))


def test_bit_exact_against_scalar_reference_1d() -> None:
    in_fmt, acc_fmt = get_format("fp16"), get_format("fp32")
    rng = np.random.default_rng(3)
    for n in (8, 12, 16):
        x = 3 * rng.standard_normal(n)
        got = emulate.dft_modes(x, 3, emulate.MatmulConfig(input_fmt=in_fmt, acc_fmt=acc_fmt))
        ref = _ref_axis_real(list(x), [0, 1, 2], in_fmt, acc_fmt)
        assert np.array_equal(got.real, [float(a) for a, _ in ref])
        assert np.array_equal(got.imag, [float(b) for _, b in ref])


def test_bad_input() -> None:
    with pytest.raises(ErrboundError, match="NaN"):
        emulate.dft_modes(np.array([[1.0, np.nan], [0, 0]]), (1, 1), ("fp16", "fp32"))
    with pytest.raises(ErrboundError, match="one per axis"):
        emulate.dft_modes(np.ones((8, 8)), (2, 2, 2), ("fp16", "fp32"), axes=(0, 1))
    with pytest.raises(ErrboundError, match="finer grid"):
        emulate.dft_modes(np.ones((8, 8)), (5, 2), ("fp16", "fp32"))
    with pytest.raises(ErrboundError, match="MatmulConfig"):
        emulate.dft_modes(np.ones((8, 8)), (2, 2), "fp16")
    with pytest.raises(ErrboundError, match="unknown format"):
        emulate.MatmulConfig(input_fmt="fp17", acc_fmt="fp32")
