"""Overflow prediction from exact magnitude propagation equals emulated overflow."""

from __future__ import annotations


import numpy as np
import pytest

from errbound import emulate
from errbound.emulate.magnitude import BoundBackend
from errbound.errors import ErrboundError
from errbound.formats import get_format


def _emulated_overflow(x, cfg, transform: str, **kw) -> bool:
    tr = emulate.Trace()
    getattr(emulate, transform)(x, cfg, trace=tr, **kw)
    return tr.overflow


def test_thresholds_from_the_format_definition() -> None:
    assert emulate.overflow_threshold("fp16") == (65520.0, True)  # tie at 65520 goes to even 2**16 -> inf
    assert emulate.overflow_threshold("fp8_e4m3fn") == (464.0, False)  # tie at 464 goes to even 448
    assert emulate.overflow_threshold("bf16")[0] == float(get_format("bf16").max_exact) + 2.0 ** (127 - 8)
    with pytest.raises(ErrboundError, match="round-to-nearest"):
        emulate.overflow_threshold("fp16", "rz")


# mean(v) * m just below and above 65504 (and around the true rounding threshold 65520), fp16,
# 64 x 64 grid; constant inputs (exact DC) and inputs with a zero-mean perturbation.
EDGE_TARGETS = [65472.0, 65503.0, 65504.0, 65505.0, 65510.0, 65519.0, 65520.0, 65521.0, 65536.0, 65600.0, 70000.0]


@pytest.mark.parametrize("target", EDGE_TARGETS)
@pytest.mark.parametrize("perturb", [0.0, 0.25])
def test_dc_edge_prediction_equals_emulation(target: float, perturb: float) -> None:
    s = 64
    rng = np.random.default_rng(int(target))
    base = np.full((s, s), target / (s * s))
    if perturb:
        noise = rng.uniform(-perturb, perturb, (s, s))
        base = base + noise - noise.mean()
    for norm in ("backward", "forward"):  # scaling after: norm does not prevent overflow (cuFFT/torch)
        pred = emulate.predict_overflow(base, "fp16", transform="rfftn", norm=norm)
        assert pred.overflow == _emulated_overflow(base, "fp16", "rfft2", norm=norm)
        assert pred.max_intermediate >= abs(base.sum()) * (1 - 1e-12)  # the DC term is an intermediate
    # far from the threshold (more than 1%), magnitudes alone decide
    if abs(target / 65520.0 - 1) > 0.01:
        assert emulate.predict_overflow(base, "fp16", transform="rfftn").certain


def test_constant_exact_inputs_are_certain_at_the_exact_boundary() -> None:
    s = 64
    at_max = np.full((s, s), 65504.0 / s**2)  # 16 - 2**-7: representable, every partial sum exact
    above = np.full((s, s), 16.0)  # DC 65536
    p = emulate.predict_overflow(at_max, "fp16")
    assert p.certain and not p.overflow and not _emulated_overflow(at_max, "fp16", "rfft2")
    p = emulate.predict_overflow(above, "fp16")
    assert p.certain and p.overflow and _emulated_overflow(above, "fp16", "rfft2")


SWEEP = [
    ("fp16", "rfftn", (32, 32)), ("fp16", "fftn", (16, 12)), ("fp16", "irfftn", (16, 9)), ("fp16", "rfft", (3, 421)),
    ("bf16", "rfftn", (16, 16)), ("fp8_e4m3fn", "rfftn", (8, 8)), ("fp8_e4m3", "fftn", (8, 8)), ("fp8_e4m3", "fftn", (4, 6)),
    ("fp8_e5m2", "rfftn", (16, 16)), ("fp8_e5m2", "ifft", (4, 16)),
]


@pytest.mark.parametrize("fmt_name, transform, shape", SWEEP)
def test_random_sweep_prediction_equals_emulation(fmt_name: str, transform: str, shape: tuple[int, int]) -> None:
    fmt = get_format(fmt_name)
    rng = np.random.default_rng(len(fmt_name) * 31 + shape[1])
    certain = 0
    cases = 24
    for i in range(cases):
        # scales spread so that the largest intermediate sweeps across the threshold
        scale = fmt.max / np.prod(shape) * 2.0 ** rng.uniform(-3, 4)
        x = scale * (rng.uniform(-0.5, 1.0, shape) + (1j * rng.uniform(-1, 1, shape) if transform in ("fftn", "ifft", "irfftn") else 0))
        kw = {"s": shape} if transform == "irfftn" else {}
        pred = emulate.predict_overflow(x, fmt, transform=transform, **({"n": kw["s"]} if kw else {}))
        assert pred.overflow == _emulated_overflow(x, fmt, transform, **kw), f"case {i}"
        certain += pred.certain
    # most inputs are decided by magnitudes alone: the bands are about (stages x u) wide, so for fp8
    # (u = 1/16, 1/8) a larger share of this sweep (within 2^4 of the threshold) needs the emulator
    # (Bluestein in fp8: the rigorous bands grow ~30x past the values, nearly all need the emulator)
    if fmt.t >= 8:
        assert certain >= cases // 2
    elif all(n & (n - 1) == 0 for n in shape):
        assert certain >= cases // 8


@pytest.mark.parametrize("fmt_name", ["fp16", "bf16", "fp8_e5m2"])
def test_bands_contain_emulated_stage_maxima(fmt_name: str) -> None:
    """Per stage, every emulated |component| lies within the rigorous band of the exact one."""
    fmt = get_format(fmt_name)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((24, 32)) * (1.0 if fmt_name != "fp8_e5m2" else 4.0)
    rep = emulate.max_intermediate(x, fmt, transform="rfftn")
    tr = emulate.Trace()
    emulate.rfft2(x, fmt, trace=tr)
    emu = {s.name: s.max_abs for s in tr.stages if s.count}
    bands = {s.name: s for s in rep.stages}
    assert set(emu) == set(bands)
    for name, mx in emu.items():
        # rounding |s| <= max_upper gives at most max_upper (1 + u) (plus half a subnormal)
        assert mx <= bands[name].max_upper * (1 + fmt.u) + fmt.min_subnormal, name
        # the element attaining max_abs has radius rho <= max_upper - max_abs; rounding shrinks by <= (1 - u)
        rho = bands[name].max_upper - bands[name].max_abs
        assert mx >= (bands[name].max_abs - rho) * (1 - fmt.u) - fmt.min_subnormal, name


def test_optimal_prescale_exponent_is_largest_overflow_free() -> None:
    rng = np.random.default_rng(6)
    for scale in (1e-6, 1.0, 300.0):
        x = scale * rng.standard_normal((64, 64))
        choice = emulate.optimal_prescale_exponent(x, "fp16", norm="forward")
        assert choice.overflow_free
        e = choice.exponent
        assert not _emulated_overflow(x * 2.0**e, "fp16", "rfft2", norm="forward")
        nxt = emulate.max_intermediate(x * 2.0 ** (e + 1), "fp16", norm="forward")
        assert nxt.possible_overflow  # one more binade could overflow: e is the largest safe exponent
        less = emulate.max_intermediate(x * 2.0 ** (e - 3), "fp16", norm="forward")
        assert choice.underflow_count <= less.underflow_count  # least underflow among safe exponents
    tiny = 1e-6 * rng.standard_normal((64, 64))
    c = emulate.optimal_prescale_exponent(tiny, "fp16")
    assert c.exponent > 10 and c.underflow_count < c.underflow_count_unscaled


@pytest.mark.parametrize("dim", [1, 2])
def test_largest_safe_resolution_fp16(dim: int) -> None:
    M = 1.0
    s = emulate.largest_safe_resolution(M, "fp16", dim)
    assert s == {1: 32768, 2: 128}[dim]  # s**dim * M < 65504 <= (2 s)**dim * M, and rounding slack is small
    rng = np.random.default_rng(7)
    shape = (s,) * dim
    for x in (np.full(shape, M), rng.uniform(-M, M, shape), np.where(rng.random(shape) < 0.5, M, -M)):
        assert not _emulated_overflow(x, "fp16", "rfftn")
    assert _emulated_overflow(np.full((2 * s,) * dim, M), "fp16", "rfftn")  # constant M: DC = m M >= 65520


def test_largest_safe_resolution_guarantee_other_formats() -> None:
    rng = np.random.default_rng(8)
    for fmt_name in ("fp8_e4m3fn", "fp8_e5m2"):
        s = emulate.largest_safe_resolution(1.0, fmt_name, 2)
        assert s >= 2
        for _ in range(5):
            x = rng.choice([-1.0, 1.0, 0.5], size=(s, s))
            assert not _emulated_overflow(x, fmt_name, "rfftn")
    assert emulate.largest_safe_resolution(1e6, "fp16", 2) == 0  # the input itself overflows fp16
    with pytest.raises(ErrboundError, match="magnitude"):
        emulate.largest_safe_resolution(float("nan"), "fp16", 2)


def test_bound_backend_keeps_radii_nonnegative_under_negation() -> None:
    be = BoundBackend(emulate.FFTConfig(fmt="fp16"))
    z = be.cast(np.array([1.0 + 2**-12, -3.0]))
    assert np.all(be.neg(z).imag >= 0) and np.array_equal(be.neg(z).real, -z.real)


@pytest.mark.parametrize("level", [3.0, 5.0, 8.0])
def test_tanh_stabilized_256_grid(level: float) -> None:
    """NOTES section 2.6: on 256 x 256 (m = 65536) even tanh-bounded inputs overflow fp16 when their
    mean is near 1, whatever norm says (scaling after). tanh(3) = 0.995 -> DC about 65210 (safe);
    tanh(5), tanh(8) -> DC above 65520 (overflow)."""
    rng = np.random.default_rng(int(level))
    v = np.tanh(level + 0.1 * rng.standard_normal((256, 256)))
    pred = emulate.predict_overflow(v, "fp16", norm="forward")
    assert pred.overflow == _emulated_overflow(v, "fp16", "rfft2", norm="forward")
    assert pred.overflow == (level > 4)
    assert pred.max_intermediate >= v.sum() * (1 - 1e-12)
