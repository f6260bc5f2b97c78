"""The emulated 8-bit spectral block of the trainer (``half-fp8e4m3fn``, ``half-fp8e5m2``, dft backend).

What is checked, and why it can fail:

* torch's fp32 -> float8 casts are single correctly rounded roundings, bit for bit equal to
  :func:`errbound.rounding.round_to` into the matching format (E4M3FN *with saturation*: torch clamps to +-448
  instead of producing NaN; E5M2 overflows to inf);
* the straight-through rounding passes gradients unchanged;
* the trainer's fp8 block computes the arithmetic the advisor emulates (``errbound.spectral_block`` preset
  ``dft-half`` with the same format): same inputs and weights give outputs that differ far less than either
  differs from the float64 block;
* policy rules: fp8 only as ``half`` with the dft backend and dense weights, bf16 autocast outside, no
  GradScaler, pow2 stabilizer by default, the non-finite fallback goes to amp-bf16.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.errors import ErrboundError  # noqa: E402
from errbound.rounding import round_to  # noqa: E402
from errbound.policy import TRAINER_LOWS, safer_policy, parse_policy  # noqa: E402
from errbound.train.spectral import SpectralConv, check_supported, round_to_float8  # noqa: E402

FP8 = [("fp8e4m3fn", torch.float8_e4m3fn), ("fp8e5m2", torch.float8_e5m2)]


def _edge_values(fmt_max: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    wide = rng.standard_normal(400_000) * 10.0 ** rng.uniform(-12, 6, 400_000)
    grid = np.linspace(-1.1 * fmt_max, 1.1 * fmt_max, 200_001)
    special = [0.0, -0.0, fmt_max, -fmt_max, np.inf, -np.inf, 2.0**-6, 2.0**-9, 2.0**-10, 2.0**-14, 2.0**-16,
               2.0**-17, 3 * 2.0**-11]
    return np.concatenate([wide, grid, special]).astype(np.float32)


@pytest.mark.parametrize("name, dtype", FP8)
def test_torch_float8_cast_is_one_correct_rounding(name, dtype):
    x = _edge_values(float(torch.finfo(dtype).max))
    got = torch.from_numpy(x).to(dtype).float().numpy()
    want = round_to(x.astype(np.float64), TRAINER_LOWS[name]).astype(np.float32)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert same.all(), (x[~same][:5], got[~same][:5], want[~same][:5])
    assert (np.signbit(got) == np.signbit(want))[got == 0].all()  # signed zeros too


@pytest.mark.parametrize("name, dtype", FP8)
def test_round_to_float8_has_a_straight_through_gradient(name, dtype):
    x = torch.linspace(-3, 3, 101, requires_grad=True)
    y = round_to_float8(x, dtype)
    (y * torch.arange(101.0)).sum().backward()
    assert torch.equal(x.grad, torch.arange(101.0))
    assert torch.equal(y.detach(), x.detach().to(dtype).float())


@pytest.mark.parametrize("name, dtype", FP8)
def test_trainer_fp8_block_is_the_advisors_dft_half_arithmetic(name, dtype):
    """Same roundings as the emulator; only the order of the fp32 sums differs (BLAS vs left to right), which
    can move an fp32 sum across an 8-bit rounding boundary only when it lies within a few fp32 ulps of it: a
    rare one-ulp (2^-3 or 2^-2 relative) change of single entries. Bound: the two outputs differ by less
    than a tenth of the block's own 8-bit error against float64."""
    from errbound.spectral_block import SpectralBlock, preset, random_weights

    n, k = 16, 3
    rng = np.random.default_rng(1)
    x = 0.3 * rng.standard_normal((2, 1, n, n))  # sum |x| < 2^7: no stabilizer scaling needed for E4M3FN
    w = random_weights(1, 1, [k, k], seed=2)  # (C_out, C_in, 2k, k)
    block = SpectralBlock(w, k, preset("dft-half", TRAINER_LOWS[name]))
    emulated = block.run(x).output
    exact, _ = block.reference(x)

    conv = SpectralConv(1, 1, (2 * k, 2 * k), backend="dft", policy=parse_policy(f"half-{name}+none"))
    with torch.no_grad():
        conv.weight.zero_()  # trainer layout (C_in, C_out, 2k, k + 1, 2); its extra last-axis mode stays 0
        conv.weight[0, 0, :, :k, 0] = torch.from_numpy(w[0, 0].real)
        conv.weight[0, 0, :, :k, 1] = torch.from_numpy(w[0, 0].imag)
        trained = conv(torch.from_numpy(x).float()).double().numpy()

    def rel(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    block_err = rel(emulated, exact)
    assert 1e-3 < block_err < 0.5  # an 8-bit block: far from fp32, not garbage
    assert rel(trained, emulated) < 0.1 * block_err
    # and the fp32 trainer block is the float64 block to fp32 accuracy (the layouts really match)
    conv.policy = parse_policy("full")
    with torch.no_grad():
        full = conv(torch.from_numpy(x).float()).double().numpy()
    assert rel(full, exact) < 1e-5  # ~ fp32 unit roundoff 6e-8 times the transform lengths


def test_fp8_policy_rules():
    p = parse_policy("half-fp8e4m3fn")
    assert p.fp8_block and p.stabilizer.kind == "pow2" and not p.needs_grad_scaler
    assert p.torch_half_dtype == torch.bfloat16 and p.torch_fp8_dtype == torch.float8_e4m3fn
    assert parse_policy(p.name) == p and parse_policy("half-fp8e5m2+none").name == "half-fp8e5m2+none"
    assert safer_policy(p) == parse_policy("amp-bf16")
    for bad in ("mixed-fp8e4m3fn", "amp-fp8e5m2", "half-fp8"):
        with pytest.raises(ErrboundError):
            parse_policy(bad)
    with pytest.raises(ErrboundError, match="--backend dft"):
        check_supported(p, "fft", (32, 32))
    assert check_supported(p, "fft", (32, 32), fft_fallback=True) == "dft"
    conv = SpectralConv(2, 2, (4, 4), backend="dft", factorization="cp", policy=p)
    with pytest.raises(ErrboundError, match="dense spectral weights"):
        conv(torch.randn(1, 2, 16, 16))


def test_fp8_stabilizer_prevents_overflow_and_gradients_flow():
    """E5M2 (max 57344, has inf): the block rounds the unnormalised partial sums over the last axis (the
    forward factor 1/n multiplies the fp32 sum of the last product, before its rounding), so inputs whose
    row sums exceed the range overflow to inf without a stabilizer; the default pow2 stabilizer scales them into range (exactly, by a power of two):
    finite output within the 8-bit error level of fp32, and finite gradients."""
    torch.manual_seed(0)
    conv = SpectralConv(2, 2, (6, 6), backend="dft", policy=parse_policy("full"))
    x = (3000.0 + torch.randn(2, 2, 32, 32)).requires_grad_()  # row sums ~ 96000 > 57344
    ref = conv(x).detach()
    conv.policy = parse_policy("half-fp8e5m2+none")
    assert not torch.isfinite(conv(x)).all()
    conv.policy = parse_policy("half-fp8e5m2")
    y = conv(x)
    y.square().sum().backward()
    assert torch.isfinite(y).all() and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()
    err = float((y.detach() - ref).norm() / ref.norm())
    assert err < 0.5  # E5M2 has u = 2^-3: a few stages of it, not garbage


@pytest.mark.parametrize("name", ["fp8e4m3fn", "fp8e5m2"])
@pytest.mark.parametrize("amp", [0.3, 40.0, 3000.0])
def test_emulator_dft_prescale_is_the_trainers_pow2_rule(name, amp):
    """The advisor's pre-scale fix for an 8-bit dft-half block and the trainer's pow2 stabilizer pick the same
    power of two, so a 'prescale' fix in the advice is what the trainer does."""
    from errbound.spectral_block import SpectralBlock, preset, random_weights
    from errbound.train.spectral import _stabilize

    rng = np.random.default_rng(3)
    x = amp * rng.standard_normal((2, 1, 32, 32))
    block = SpectralBlock(random_weights(1, 1, [3, 3], seed=0), 3,
                          preset("dft-half", TRAINER_LOWS[name], stabilizer="prescale"))
    e = block.prescale_exponent(x)
    _, scale = _stabilize(torch.from_numpy(x).float(), parse_policy(f"half-{name}"), "dft-unnormalised", 2)
    assert 2.0**-e == float(scale)
    if amp == 3000.0:
        assert e < 0  # 32 x 3000 x ~3 exceeds both ranges' 2^(emax-1)
        assert np.all(np.isfinite(block.run(x).output))
