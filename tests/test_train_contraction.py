"""Complex contractions through real views: pairwise (path search) and naive, against complex128 einsum."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from errbound.errors import ErrboundError  # noqa: E402
from errbound.train import contraction as C  # noqa: E402

CP_EQ = "bixy,r,ir,or,xr,yr->boxy"
CP_SHAPES = [(3, 4, 5, 3), (6,), (4, 6), (5, 6), (5, 6), (3, 6)]


def _rand(shapes, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, 2, generator=g, dtype=dtype) for s in shapes]


def _as_complex(ops):
    return [torch.view_as_complex(o.contiguous()) for o in ops]


@pytest.mark.parametrize("method", ["greedy", "optimal"])
@pytest.mark.parametrize("use_opt_einsum", [True, False])
def test_pairwise_matches_complex_einsum(method, use_opt_einsum):
    ops = _rand(CP_SHAPES)
    path = C.contraction_path(CP_EQ, CP_SHAPES, method, use_opt_einsum=use_opt_einsum)
    got = torch.view_as_complex(C.complex_einsum(CP_EQ, *ops, path=path).contiguous())
    want = torch.einsum(CP_EQ, *_as_complex(ops))
    # float64 throughout: differences are a few ulps of the summed magnitudes
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)


def test_naive_single_einsum_matches_pairwise():
    ops = _rand(CP_SHAPES, seed=1)
    a = C.complex_einsum_naive(CP_EQ, *ops)
    b = C.complex_einsum(CP_EQ, *ops)
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)  # float64, same sums in another order


def test_own_optimal_path_has_no_larger_peak_than_greedy():
    inputs, out = CP_EQ.split("->")[0].split(","), "boxy"
    dims = {"b": 16, "i": 64, "o": 64, "x": 32, "y": 17, "r": 40}
    shapes = [[dims[c] for c in t] for t in inputs]

    def peak(path):
        terms, best = list(inputs), 0
        for i, j in path:
            others = [t for k, t in enumerate(terms) if k not in (i, j)]
            res = C._contract_result(terms[i], terms[j], others, out)
            best = max(best, math.prod(dims[c] for c in res))
            terms = others + [res]
        return best

    greedy = C.contraction_path(CP_EQ, shapes, "greedy", use_opt_einsum=False)
    optimal = C.contraction_path(CP_EQ, shapes, "optimal", use_opt_einsum=False)
    assert peak(optimal) <= peak(greedy)
    # the pairwise order never materialises a tensor larger than the input spectrum times the rank
    assert peak(optimal) <= 16 * 64 * 32 * 17 * 40


def test_dense_contraction_matches_complex_reference():
    g = torch.Generator().manual_seed(2)
    spec = torch.randn(3, 4, 2, 5, 6, generator=g, dtype=torch.float64)
    w = torch.randn(4, 7, 5, 6, 2, generator=g, dtype=torch.float64)
    got = C.dense_spectral_contract(spec, w)
    zc = torch.complex(spec[:, :, 0], spec[:, :, 1])
    want = torch.einsum("bixy,ioxy->boxy", zc, torch.view_as_complex(w))
    assert got.shape == (3, 7, 2, 5, 6)
    assert torch.allclose(got[:, :, 0], want.real, atol=1e-12) and torch.allclose(got[:, :, 1], want.imag, atol=1e-12)


@pytest.mark.parametrize("dtype,u", [(torch.float16, 2.0**-11), (torch.bfloat16, 2.0**-8)])
def test_half_contraction_error_is_a_few_unit_roundoffs(dtype, u):
    ops = _rand(CP_SHAPES, seed=3)
    want = C.complex_einsum(CP_EQ, *ops)
    got = C.complex_einsum(CP_EQ, *[o.to(dtype) for o in ops])
    assert got.dtype == dtype  # no silent upcast
    err = torch.linalg.vector_norm(got.double() - want) / torch.linalg.vector_norm(want)
    # inputs rounded once (u each) and every pairwise product rounded once: 5 steps + 6 inputs, each <= u
    # in norm to first order (fp32 accumulation inside the products), so normwise error < 12 u
    assert err < 12 * u


def test_bad_equations():
    with pytest.raises(ErrboundError):
        C.contraction_path("ab,bc", [(2, 3), (3, 4)])
    with pytest.raises(ErrboundError):
        C.contraction_path("ab,bc->ac", [(2, 3), (4, 4)])
    with pytest.raises(ErrboundError):
        C.contraction_path("ap,pc->ac", [(2, 3), (3, 4)])
    with pytest.raises(ErrboundError):
        C.contraction_path("ab,bc->ac", [(2, 3), (3, 4)], "exhaustive")
