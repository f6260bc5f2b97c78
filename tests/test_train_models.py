"""FNO model and losses: shapes in 1-3 D, config validation, loss semantics."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.errors import ErrboundError  # noqa: E402
from errbound.train import FNO, FNOConfig, H1Loss, LpLoss, parse_policy  # noqa: E402
import errbound.train as train_pkg  # noqa: E402


@pytest.mark.parametrize("modes,spatial", [((8,), (20,)), ((6, 6), (12, 10)), ((4, 4, 4), (8, 8, 6))], ids=str)
@pytest.mark.parametrize("factorization", [None, "cp"])
def test_fno_shapes_in_every_dimension(modes, spatial, factorization):
    torch.manual_seed(0)
    model = FNO(FNOConfig(in_channels=2, out_channels=3, hidden=6, modes=modes, n_layers=2,
                          factorization=factorization, padding=2))
    y = model(torch.randn(2, 2, *spatial))
    assert y.shape == (2, 3, *spatial) and y.dtype == torch.float32
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_fno_is_resolution_independent_and_policy_switchable():
    torch.manual_seed(1)
    model = FNO(FNOConfig(hidden=6, modes=(6, 6), n_layers=2, backend="dft"))
    assert model(torch.randn(1, 1, 16, 16)).shape[-1] == 16
    assert model(torch.randn(1, 1, 27, 27)).shape[-1] == 27
    half = parse_policy("half-bf16")
    model.set_policy(half)
    assert all(layer.policy == half for layer in model.spectral)
    with pytest.raises(ErrboundError):
        model.set_policy("half")


def test_cp_has_fewer_parameters():
    dense = FNO(FNOConfig(hidden=16, modes=(12, 12)))
    cp = FNO(FNOConfig(hidden=16, modes=(12, 12), factorization="cp", rank=0.1))
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(cp) < 0.5 * n(dense)


@pytest.mark.parametrize("kwargs", [dict(modes=()), dict(hidden=0), dict(backend="cufft"), dict(padding=-1),
                                    dict(factorization="tucker"), dict(modes=(4, 4, 4, 4))], ids=str)
def test_bad_configs(kwargs):
    with pytest.raises(ErrboundError):
        FNOConfig(**kwargs)


def test_wrong_input_shape_is_reported():
    with pytest.raises(ErrboundError, match="expects input"):
        FNO(FNOConfig(modes=(4, 4), hidden=4))(torch.randn(2, 8, 8))


def test_lp_loss_matches_its_definition():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(3, 1, 8, 8, generator=g), torch.randn(3, 1, 8, 8, generator=g)
    per = [float(np.linalg.norm((x[i] - y[i]).numpy()) / np.linalg.norm(y[i].numpy())) for i in range(3)]
    assert LpLoss(d=2)(x, y).item() == pytest.approx(sum(per), rel=1e-6)  # fp32 norms of 64 terms
    assert LpLoss(d=2, reduction="mean")(x, y).item() == pytest.approx(sum(per) / 3, rel=1e-6)
    assert LpLoss(d=2)(y, y).item() == 0.0


def test_h1_loss_matches_its_definition():
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(2, 6, 10, generator=g, dtype=torch.float64), torch.randn(2, 6, 10, generator=g, dtype=torch.float64)
    h = (2 * math.pi / 6, 2 * math.pi / 10)  # neuraloperator's L = 2 pi

    def grad(u):
        u = u.numpy()
        return [(np.roll(u, -1, a) - np.roll(u, 1, a)) / (2 * h[a]) for a in (0, 1)]

    want = 0.0
    for i in range(2):
        e, ref = (x[i] - y[i]), y[i]
        num = np.sum(e.numpy() ** 2) + sum(np.sum(gx**2) for gx in grad(e))
        den = np.sum(ref.numpy() ** 2) + sum(np.sum(gy**2) for gy in grad(ref))
        want += math.sqrt(num / den)
    # the loss computes in fp32 (like neuraloperator under AMP): relative accuracy ~1e-6
    assert H1Loss(d=2)(x, y).item() == pytest.approx(want, rel=1e-5)
    with pytest.raises(ErrboundError):
        H1Loss(d=2)(x, y[:, :5])


def test_public_names_are_exported():
    for name in train_pkg.__all__:
        assert hasattr(train_pkg, name)
    public = {n for n in vars(train_pkg) if not n.startswith("_")} - {"annotations"}
    modules = {"emulated", "spectral", "contraction", "models", "losses", "trainer", "bench", "checkpoint", "display",
               "evaluation", "interrupt", "loop"}
    assert public - modules == set(train_pkg.__all__)


def test_cpu_fp16_pointwise_and_matmul_emulation_match_torch_fp16_kernels():
    """On a CPU, fp16 autocast of the pointwise convolutions and the half block's products runs as fp32
    arithmetic on fp16 operands, rounded to fp16 (5x faster than torch's CPU fp16 kernels). Both compute exact
    products with fp32 sums, so they may differ only through the order of the sums: by at most one fp16 ulp
    in a small fraction of entries (a sum lying within an fp32 rounding of an fp16 rounding boundary)."""
    from errbound.train.models import _pointwise
    from errbound.train.spectral import half_matmul

    torch.manual_seed(0)
    conv = _pointwise(24, 48, 2)
    x = torch.randn(4, 24, 16, 16)
    with torch.autocast("cpu", dtype=torch.float16):
        ours = conv(x)
    native = torch.nn.functional.conv2d(x.half(), conv.weight.half(), conv.bias.half())
    assert ours.dtype == torch.float16
    ulp = torch.finfo(torch.float16).eps * native.float().abs().clamp_min(2.0**-14)
    diff = (ours.float() - native.float()).abs()
    assert (diff <= ulp).all() and (diff > 0).float().mean() < 0.01
    a, b = torch.randn(300, 96).half(), torch.randn(96, 40).half()
    ours, native = half_matmul(a, b), a @ b
    diff = (ours.float() - native.float()).abs()
    assert (diff <= torch.finfo(torch.float16).eps * native.float().abs().clamp_min(2.0**-14)).all()
    assert (diff > 0).float().mean() < 0.01
    # gradients still flow to the fp32 master weights
    with torch.autocast("cpu", dtype=torch.float16):
        conv(x).float().sum().backward()
    assert conv.weight.grad is not None and conv.weight.grad.dtype == torch.float32
