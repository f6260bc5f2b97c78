"""One definition, two engines: the numpy emulator and the trainer's torch layer compute the same block.

What is checked, and why it can fail:

* torch's fp32 -> float8 casts and the torch arithmetic's roundings from float64 are single correct roundings,
  bit for bit equal to :func:`errbound.rounding.round_to` (a double rounding through fp32 would differ);
* for every reduced-precision policy (fp16, bf16 and 8-bit; mixed and half; fft and dft backends), in 1-D, 2-D
  and 3-D, with 1 and 4 channels, on random inputs and on inputs that overflow, the trainer's
  :class:`~errbound.train.spectral.SpectralConv` (torch engine) and :class:`~errbound.spectral_block.SpectralBlock`
  (emulator) give the same ``output_sha256`` and the same overflow flag: any difference in axis order, retained
  layout, matrix rounding, normalisation, pre-scale rule or summation order changes the digest;
* the layer's gradient is the straight-through (exact fp32) one, finite where the forward is finite;
* the 8-bit rules: dft only, bf16 autocast outside, no GradScaler, pow2 by default, fallback to amp-bf16.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.errors import ErrboundError  # noqa: E402
from errbound.modes import random_weights  # noqa: E402
from errbound.policy import TRAINER_LOWS, parse_policy, safer_policy  # noqa: E402
from errbound.precision import output_sha256, run_engine  # noqa: E402
from errbound.rounding import round_to  # noqa: E402
from errbound.spectral_block import SpectralBlock  # noqa: E402
from errbound.train.emulated import TorchArithmetic  # noqa: E402
from errbound.train.spectral import SpectralConv, check_supported  # noqa: E402

FP8 = [("fp8e4m3fn", torch.float8_e4m3fn), ("fp8e5m2", torch.float8_e5m2)]
#: every policy the torch engine computes with emulated arithmetic on a CPU
EMULATED = [("half", "fft"), ("half+none", "fft"), ("mixed", "fft"), ("half-bf16", "fft"), ("mixed-bf16", "fft"),
            ("half+tanh", "fft"), ("half", "dft"), ("half+none", "dft"), ("mixed", "dft"), ("half-bf16", "dft"),
            ("mixed-bf16", "dft"), ("half-fp8e4m3fn", "dft"), ("half-fp8e5m2+none", "dft"), ("half+clip", "dft")]
#: (grid, modes) per dimension: power-of-two grids (cuFFT's fp16 sizes)
GRIDS = {1: ((32,), 12), 2: ((16, 16), 8), 3: ((8, 8, 8), 6)}


def _edge_values(fmt_max: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    wide = rng.standard_normal(400_000) * 10.0 ** rng.uniform(-12, 6, 400_000)
    grid = np.linspace(-1.1 * fmt_max, 1.1 * fmt_max, 200_001)
    special = [0.0, -0.0, fmt_max, -fmt_max, np.inf, -np.inf, 2.0**-6, 2.0**-9, 2.0**-10, 2.0**-14, 2.0**-16,
               2.0**-17, 3 * 2.0**-11]
    return np.concatenate([wide, grid, special])


@pytest.mark.parametrize("name, dtype", FP8)
def test_torch_float8_cast_is_one_correct_rounding(name, dtype):
    x = _edge_values(float(torch.finfo(dtype).max)).astype(np.float32)
    got = torch.from_numpy(x).to(dtype).float().numpy()
    want = round_to(x.astype(np.float64), TRAINER_LOWS[name]).astype(np.float32)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert same.all(), (x[~same][:5], got[~same][:5], want[~same][:5])
    assert (np.signbit(got) == np.signbit(want))[got == 0].all()  # signed zeros too


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp32", "fp8_e5m2", "t4emax8emin-6_noinf_rt1_sat"])
def test_torch_rounding_from_float64_is_single(fmt):
    """float64 -> fmt through round-to-odd fp32: equal to round_to, including values a double rounding breaks
    (1 + 2^-11 + 2^-40 -> 1 + 2^-10 in fp16, where float64 -> fp32 -> fp16 gives 1.0)."""
    from errbound.formats import get_format

    f = get_format(fmt)
    x = _edge_values(min(f.max, 1e30))
    x = np.concatenate([x, [1 + 2.0**-11 + 2.0**-40, -(1 + 2.0**-8 + 2.0**-40), 1e300, -1e-300, 2.0**-25 * 1.5]])
    got = TorchArithmetic().round(torch.from_numpy(x), f).double().numpy()
    want = round_to(x, f)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert same.all(), (x[~same][:5], got[~same][:5], want[~same][:5])
    assert (np.signbit(got) == np.signbit(want))[got == 0].all()
    assert got[-5] == 1 + 2.0**-10 if fmt == "fp16" else True


def _inputs(d: int, c: int, overflow: bool) -> np.ndarray:
    grid, _ = GRIDS[d]
    rng = np.random.default_rng(100 * d + c)
    x = rng.standard_normal((2, c) + grid)
    if overflow:  # mean 3000 (fp16 max 65504): the unnormalised DC term of every transform exceeds the range
        x = 3000.0 + 200.0 * x
    return x


@pytest.mark.parametrize("overflow", [False, True], ids=["random", "overflowing"])
@pytest.mark.parametrize("c", [1, 4])
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("name, backend", EMULATED)
def test_torch_layer_and_emulator_are_bit_equal(name, backend, d, c, overflow):
    grid, m = GRIDS[d]
    policy = parse_policy(name, backend)
    block = SpectralBlock(random_weights(c, c, [m] * d, seed=7), [m] * d, policy)
    x = _inputs(d, c, overflow)
    emu = run_engine(block, x, "emulator")
    tor = run_engine(block, x, "torch")
    assert output_sha256(tor.output) == output_sha256(emu.output)
    assert tor.overflow == emu.overflow and tor.prescale_exp == emu.prescale_exp
    same = (tor.output == emu.output) | (np.isnan(tor.output) & np.isnan(emu.output))
    assert same.all()  # every sample, not only the first one hashed
    if overflow and policy.stabilizer.kind == "none" and policy.uses_fp16 and policy.mode == "half" and backend == "fft":
        assert emu.overflow  # the DC sum 2^d... x 3000 >= 32 x 3000 > 65504 overflows an fp16 FFT
    if policy.stabilizer.kind == "pow2":
        assert not emu.overflow


def test_3d_e4m3fn_block_is_bit_equal_where_the_axis_order_used_to_differ():
    """The 3-D E4M3FN case of the one-specification issue: the trainer visited the axes last, 0, 1 and the
    emulator last, 1, 0; with one axis order the two are bit-equal (and the block error is far from zero, so a
    different order would show)."""
    policy = parse_policy("half-fp8e4m3fn", "dft")
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 16, 12, 8))
    block = SpectralBlock(random_weights(3, 3, [8, 6, 6], seed=3), [8, 6, 6], policy)
    emu, tor = run_engine(block, x, "emulator"), run_engine(block, x, "torch")
    assert output_sha256(tor.output) == output_sha256(emu.output)
    ref, _ = block.reference(x)
    assert 0.05 < np.linalg.norm(emu.output - ref) / np.linalg.norm(ref) < 0.5  # E4M3FN: u = 2^-4


def test_layer_gradient_is_straight_through_and_finite():
    torch.manual_seed(0)
    conv = SpectralConv(2, 2, (8, 8), backend="fft", policy=parse_policy("half"))
    x = torch.randn(2, 2, 16, 16, requires_grad=True)
    y = conv(x)
    y.square().sum().backward()
    g_half = x.grad.clone()
    assert torch.isfinite(g_half).all() and g_half.abs().sum() > 0 and torch.isfinite(conv.weight.grad).all()
    # the gradient is that of the exact fp32 block evaluated at the same point, up to the forward's rounding
    # (the loss gradient 2y uses the rounded output): relative difference of the order of fp16's u = 2^-11
    x.grad = None
    conv.policy = parse_policy("full")
    ref = conv(x)
    (2 * y.detach() * ref).sum().backward()
    assert torch.allclose(g_half, x.grad, rtol=0, atol=1e-5 * float(x.grad.abs().max()))


def test_fp16_fft_layer_overflows_without_stabilizer_and_pow2_prevents_it():
    """On a CPU the half FFT is the emulated radix-2 transform, so it overflows where cuFFT would: a 64x64
    input of mean 20 has a DC sum of 81920 > 65504."""
    conv = SpectralConv(1, 1, (12, 12), backend="fft", policy=parse_policy("half+none"))
    x = 20.0 + torch.randn(1, 1, 64, 64)
    assert not torch.isfinite(conv(x)).all()
    conv.policy = parse_policy("half")  # pow2 by default for fp16
    assert torch.isfinite(conv(x)).all()


def test_fp8_policy_rules():
    p = parse_policy("half-fp8e4m3fn", "dft")
    assert p.fp8_block and p.stabilizer.kind == "pow2" and not p.needs_grad_scaler
    assert p.torch_half_dtype == torch.bfloat16
    assert parse_policy(p.name, "dft") == p and parse_policy("half-fp8e5m2+none", "dft").name == "half-fp8e5m2+none"
    assert safer_policy(p) == parse_policy("amp-bf16", "dft")
    with pytest.raises(ErrboundError):
        parse_policy("half-fp8", "dft")
    for emulator_only in ("mixed-fp8e4m3fn", "amp-fp8e5m2"):  # the emulator computes them, the trainer refuses
        with pytest.raises(ErrboundError, match="'half' only"):
            check_supported(parse_policy(emulator_only, "dft"), "dft", (32, 32))
    with pytest.raises(ErrboundError, match="--backend dft"):
        check_supported(p, "fft", (32, 32))
    assert check_supported(p, "fft", (32, 32), fft_fallback=True) == "dft"


def test_torch_engine_refuses_what_it_cannot_run_and_names_why():
    block = SpectralBlock(random_weights(1, 1, [8, 8]), [8, 8], parse_policy("half", low="fp8_e4m3"))
    x = np.random.default_rng(0).standard_normal((1, 1, 16, 16))
    with pytest.raises(ErrboundError, match="fp8_e4m3.*--engine emulator"):
        run_engine(block, x, "torch")
    with pytest.raises(ErrboundError, match="emulator, torch"):
        run_engine(block, x, "gpu")


@pytest.mark.parametrize("d, channels, scale", [(1, 4, 1.0), (2, 1, 1.0), (2, 4, 3000.0), (3, 4, 1.0)])
@pytest.mark.parametrize("precision, backend", [("half+none", "fft"), ("mixed-bf16", "fft"), ("half", "dft"),
                                                ("half-fp8e4m3fn", "dft")])
def test_the_same_through_the_cli(tmp_path, capsys, precision, backend, d, channels, scale):
    import json

    from errbound.cli import main

    grid, m = GRIDS[d]
    data = scale * np.abs(np.random.default_rng(d).standard_normal((2 * channels,) + grid)) if scale > 1 else \
        np.random.default_rng(d).standard_normal((2 * channels,) + grid)
    np.save(tmp_path / "x.npy", data)
    rows = {}
    for engine in ("emulator", "torch"):
        assert main(["precision", "--data", str(tmp_path / "x.npy"), "--precision", precision, "--backend", backend,
                     "--engine", engine, "--channels", str(channels), "--modes", str(m), "--json"]) == 0
        rows[engine] = json.loads(capsys.readouterr().out)["rows"][0]
    assert rows["torch"]["output_sha256"] == rows["emulator"]["output_sha256"]
    assert rows["torch"]["overflow"] == rows["emulator"]["overflow"]
    if scale > 1 and precision == "half+none":
        assert rows["torch"]["overflow"]  # |x| ~ 3000 on 16x16: the DC sum exceeds 65504


def test_unknown_names_get_one_line_and_exit_2(capsys):
    from errbound.cli import main

    for argv, valid in ((["train", "--dataset", "darcy", "--res", "16", "--backend", "cufft"], "fft, dft"),
                        (["train", "--dataset", "darcy", "--res", "16", "--precision", "hlaf"], "full, amp, mixed"),
                        (["train", "--dataset", "darcy", "--res", "16", "--precision", "half+tan"], "pow2"),
                        (["precision", "--function", "smooth", "--engine", "gpu"], "emulator, torch")):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("errbound: error:") and "\n" not in err and valid in err


@pytest.mark.parametrize("name, backend", [("half+none", "fft"), ("half-fp8e4m3fn", "dft"), ("mixed-bf16", "dft")])
def test_training_forward_value_is_the_emulated_block(name, backend):
    """What the trainer computes in its forward pass (with autograd on) is the block the emulator predicts."""
    torch.manual_seed(3)
    policy = parse_policy(name, backend)
    conv = SpectralConv(2, 2, (8, 8), backend=backend, policy=policy)
    x = torch.randn(2, 2, 16, 16, requires_grad=True)
    y = conv(x)
    w = conv.weight.detach().movedim(0, 1).double().numpy()
    block = SpectralBlock(w[..., 0] + 1j * w[..., 1], [8, 8], policy)
    emu = block.run(x.detach().double().numpy())
    assert np.array_equal(y.detach().double().numpy(), emu.output)
