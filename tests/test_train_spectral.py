"""Spectral convolution: dft == fft backends, against a direct O(n^2) DFT, every CPU policy, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.errors import ErrboundError  # noqa: E402
from errbound.policy import PRECISION_NAMES, parse_policy  # noqa: E402
from errbound.block import pow2_bound, pow2_exponent  # noqa: E402
from errbound.modes import retained_frequencies  # noqa: E402
from errbound.train.spectral import (  # noqa: E402
    SpectralConv, dft_forward, dft_inverse, fft_forward, fft_inverse, stabilize_exact,
)

CASES = [  # (spatial, modes): even/odd/non-power-of-two sizes, all modes, 1-3 D
    ((16,), (6,)), ((15,), (15,)), ((16, 12), (8, 8)), ((15, 13), (7, 9)), ((12, 12), (12, 12)),
    ((8, 10, 6), (4, 6, 4)), ((7, 6, 5), (7, 6, 5)),
]


def _relnorm(a, b):
    a, b = a.detach().double(), b.detach().double()
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


def _direct_truncated_dft(x: np.ndarray, modes) -> np.ndarray:
    """O(n^2) reference: X[k] = (1/N) sum_t x[t] exp(-2 pi i k.t/n) on the retained frequencies."""
    spatial = x.shape[2:]
    d = len(spatial)
    freqs = [retained_frequencies(n, m, j == d - 1) for j, (n, m) in enumerate(zip(spatial, modes))]
    out = x.astype(np.complex128)
    for j, (n, ks) in enumerate(zip(spatial, freqs)):
        mat = np.exp(-2j * np.pi * np.outer(np.arange(n), ks) / n) / n
        out = np.moveaxis(np.tensordot(out, mat, axes=([2 + j], [0])), -1, 2 + j)
    return out


@pytest.mark.parametrize("spatial,modes", CASES, ids=str)
def test_forward_transforms_match_direct_dft(spatial, modes):
    x = torch.randn(2, 3, *spatial, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    want = _direct_truncated_dft(x.numpy(), modes)
    for spec in (dft_forward(x, modes), fft_forward(x, modes)):
        got = spec[:, :, 0].numpy() + 1j * spec[:, :, 1].numpy()
        # float64: error of an n-term sum is O(n u_64) normwise; 1e-12 leaves a wide margin
        assert np.linalg.norm(got - want) <= 1e-12 * np.linalg.norm(want)


@pytest.mark.parametrize("spatial,modes", CASES, ids=str)
def test_inverse_is_hermitian_correct_and_backends_agree(spatial, modes):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, *spatial, dtype=torch.float64, generator=g)
    spec = fft_forward(x, modes)
    spec = spec + 0.3 * torch.randn(spec.shape, dtype=torch.float64, generator=g)  # not Hermitian anywhere
    a = dft_inverse(spec, spatial, modes)
    b = fft_inverse(spec.clone(), spatial, modes)
    # reference: numpy irfftn of the zero-padded spectrum (numpy's C2R also takes the Hermitian part)
    full = np.zeros((2, 3, *spatial[:-1], spatial[-1] // 2 + 1), np.complex128)
    d = len(spatial)
    freqs = [retained_frequencies(n, m, j == d - 1) for j, (n, m) in enumerate(zip(spatial, modes))]
    z = spec[:, :, 0].numpy() + 1j * spec[:, :, 1].numpy()
    for idx in itertools.product(*[range(len(f)) for f in freqs]):
        full[(slice(None), slice(None), *[f[i] % n for f, i, n in zip(freqs, idx, spatial)])] = z[(slice(None), slice(None), *idx)]
    want = np.fft.irfftn(full, s=spatial, axes=tuple(range(2, 2 + d)), norm="forward")
    for got in (a, b):
        assert np.linalg.norm(got.numpy() - want) <= 1e-12 * np.linalg.norm(want)  # float64 sums, as above


@pytest.mark.parametrize("factorization", [None, "cp"])
@pytest.mark.parametrize("spatial,modes", [((20,), (8,)), ((16, 12), (8, 6)), ((9, 8, 6), (4, 4, 4))], ids=str)
def test_dft_backend_equals_fft_backend_in_fp32(spatial, modes, factorization):
    torch.manual_seed(3)
    fft = SpectralConv(3, 4, modes, backend="fft", factorization=factorization)
    dft = SpectralConv(3, 4, modes, backend="dft", factorization=factorization)
    dft.load_state_dict(fft.state_dict())
    x = torch.randn(2, 3, *spatial)
    a, b = fft(x), dft(x)
    assert a.dtype == b.dtype == torch.float32
    # acceptance criterion: 1e-5 relative in fp32 (u_32 = 6e-8 times modest sums)
    assert _relnorm(b, a) < 1e-5
    (a.square().sum()).backward()
    (b.square().sum()).backward()
    ga = fft.weight.grad if factorization is None else fft.cp_in.grad
    gb = dft.weight.grad if factorization is None else dft.cp_in.grad
    assert _relnorm(gb, ga) < 1e-5  # same operator, so same gradient to fp32 accuracy


ALL_POLICIES = [parse_policy(n) for n in PRECISION_NAMES if "fp8" not in n] + [  # fp8: test_engine_equivalence.py
    parse_policy(f"half+{k}") for k in ("none", "tanh", "clip", "sigma2")
] + [parse_policy("mixed-bf16+pow2")]


@pytest.mark.parametrize("backend", ["fft", "dft"])
@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: p.name)
def test_every_policy_runs_on_cpu_with_the_declared_dtypes(policy, backend):
    torch.manual_seed(4)
    layer = SpectralConv(3, 3, (8, 8), backend=backend, policy=policy)
    ref = SpectralConv(3, 3, (8, 8), backend="dft")
    ref.load_state_dict(layer.state_dict())
    x = 0.5 * torch.randn(2, 3, 16, 16)
    with torch.autocast("cpu", dtype=policy.torch_half_dtype, enabled=policy.autocast):
        y = layer(x)
    expected = policy.torch_half_dtype if policy.block_half else torch.float32
    assert y.dtype == expected  # silent precision changes fail
    y.float().square().sum().backward()
    assert layer.weight.grad.dtype == torch.float32 and torch.isfinite(layer.weight.grad).all()
    if policy.stabilizer.exact:
        u = 2.0**-8 if policy.low_name == "bf16" else 2.0**-11
        err = _relnorm(y.float(), ref(x).detach()) if policy.block_half else _relnorm(y, ref(x).detach())
        # five rounded stages (input, forward x2, contraction, inverse x2 in 2-D); normwise error of each is
        # O(u) with fp32 accumulation; 16 u is a loose first-order bound for this depth
        assert err < (16 * u if policy.block_half else 1e-5)


def test_stabilizers_act_on_the_block_input():
    x = torch.full((1, 2, 8, 8), 5.0)
    assert stabilize_exact(x, parse_policy("half-bf16+clip"), 2).max() == 1.0
    assert torch.allclose(stabilize_exact(x, parse_policy("half-bf16+tanh"), 2), torch.tanh(x))
    z = torch.randn(1, 2, 8, 8)
    out = stabilize_exact(z, parse_policy("half-bf16+sigma2"), 2)
    mean, std = z.mean((-2, -1), keepdim=True), z.std((-2, -1), keepdim=True, unbiased=False)
    assert (out <= mean + 2 * std + 1e-6).all() and (out >= mean - 2 * std - 1e-6).all()
    assert torch.equal(stabilize_exact(z, parse_policy("half+pow2"), 2), z)  # pow2 is applied by the block


def test_pow2_prescale_is_a_power_of_two_that_bounds_the_fft_sum():
    policy = parse_policy("half")  # fp16, pow2 by default
    x = np.full((2, 1, 64, 64), 100.0)  # sum |x| = 409600 > fp16 max 65504: an unscaled cuFFT overflows
    e = pow2_exponent(pow2_bound(100.0, 409600.0, (64, 64), policy), policy.narrowest)
    assert e <= -1 and 409600.0 * 2.0**e <= 2.0**14  # the largest unnormalised coefficient now fits fp16
    assert pow2_exponent(pow2_bound(0.01, 0.64, (8, 8), policy), policy.narrowest) == 0  # never scales up
    layer = SpectralConv(1, 1, (8, 8), backend="fft", policy=policy)
    run = layer.block_run(torch.from_numpy(x))
    assert run.prescale_exp == e and not run.overflow


def test_pow2_layer_output_equals_unstabilized_output():
    torch.manual_seed(5)
    a = SpectralConv(2, 2, (6, 6), backend="dft", policy=parse_policy("half+pow2"))
    b = SpectralConv(2, 2, (6, 6), backend="dft", policy=parse_policy("half+none"))
    b.load_state_dict(a.state_dict())
    x = 50 * torch.randn(2, 2, 16, 16)
    # scaling by 2^-k commutes with every rounding (no underflow at these sizes): identical fp16 results
    assert torch.equal(a(x), b(x))


def test_half_fft_at_non_power_of_two_is_an_error_or_falls_back():
    half = parse_policy("half")
    layer = SpectralConv(2, 2, (6, 6), backend="fft", policy=half)
    with pytest.raises(ErrboundError, match="power-of-two"):
        layer(torch.randn(1, 2, 12, 12))
    fallback = SpectralConv(2, 2, (6, 6), backend="fft", policy=half, fft_fallback=True)
    ref = SpectralConv(2, 2, (6, 6), backend="dft", policy=half)
    ref.load_state_dict(fallback.state_dict())
    x = torch.randn(1, 2, 12, 12)
    assert torch.equal(fallback(x), ref(x))
    assert layer(torch.randn(1, 2, 16, 16)).dtype == torch.float16  # powers of two are fine
    assert SpectralConv(2, 2, (6, 6), backend="dft", policy=half)(x).dtype == torch.float16  # dft: any size


def test_bad_layer_arguments():
    with pytest.raises(ErrboundError):
        SpectralConv(2, 2, (6, 6), backend="cufft")
    with pytest.raises(ErrboundError):
        SpectralConv(2, 2, (6, 6), policy="half")
    with pytest.raises(ErrboundError):
        SpectralConv(2, 2, (6, 6, 6, 6))
    with pytest.raises(ErrboundError, match="modes"):
        SpectralConv(2, 2, (20, 20))(torch.randn(1, 2, 8, 8))
    with pytest.raises(ErrboundError):
        SpectralConv(2, 2, (6, 6))(torch.randn(1, 3, 8, 8))


def test_cp_weight_reconstruction_matches_factorised_forward():
    torch.manual_seed(6)
    cp = SpectralConv(3, 4, (6, 6), factorization="cp", rank=5)
    dense = SpectralConv(3, 4, (6, 6))
    with torch.no_grad():
        dense.weight.copy_(torch.view_as_real(cp.dense_weight()))
    x = torch.randn(2, 3, 12, 12)
    assert _relnorm(cp(x).detach(), dense(x).detach()) < 1e-5  # fp32, two contraction orders
    assert sum(p.numel() for p in cp.parameters()) < dense.weight.numel()


def test_naive_and_pairwise_cp_agree():
    torch.manual_seed(7)
    a = SpectralConv(3, 3, (6, 6), factorization="cp", rank=4, contraction="pairwise")
    b = SpectralConv(3, 3, (6, 6), factorization="cp", rank=4, contraction="naive")
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 12, 12)
    assert _relnorm(b(x).detach(), a(x).detach()) < 1e-5  # fp32, different summation orders


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("backend", ["fft", "dft"])
@pytest.mark.parametrize("name", ["half", "mixed", "half-bf16", "mixed-bf16"])
def test_cuda_half_paths_match_fp32(name, backend):
    torch.manual_seed(8)
    policy = parse_policy(name)
    layer = SpectralConv(8, 8, (16, 16), backend=backend, policy=policy).cuda()
    ref = SpectralConv(8, 8, (16, 16), backend="fft").cuda()
    ref.load_state_dict(layer.state_dict())
    x = torch.randn(4, 8, 64, 64, device="cuda")
    y = layer(x)
    assert y.dtype == policy.torch_half_dtype
    u = 2.0**-8 if policy.low_name == "bf16" else 2.0**-11
    assert _relnorm(y.float(), ref(x)) < 16 * u  # same first-order bound as the CPU test
    y.float().sum().backward()
    assert torch.isfinite(layer.weight.grad).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_half_fft_refuses_non_power_of_two_and_dft_runs():
    layer = SpectralConv(4, 4, (16, 16), backend="fft", policy=parse_policy("half")).cuda()
    x = torch.randn(2, 4, 48, 48, device="cuda")
    with pytest.raises(ErrboundError, match="power-of-two"):
        layer(x)
    dft = SpectralConv(4, 4, (16, 16), backend="dft", policy=parse_policy("half")).cuda()
    assert torch.isfinite(dft(x)).all()
