"""Navier-Stokes vorticity solver: advection term, exact viscous decay, time order, invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from errbound.data import grf  # noqa: E402
from errbound.data import navier_stokes as ns  # noqa: E402
from errbound.data.registry import get_dataset  # noqa: E402
from errbound.errors import ErrboundError  # noqa: E402

PARAMS = dict(alpha=2.5, tau=7.0, sigma=7.0**1.5)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny grids: intra-op threading costs 50x more than it saves on a loaded 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _grid(s: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(s) / s
    return np.meshgrid(x, x, indexing="ij")


def test_advection_term_matches_hand_computation() -> None:
    # w = sin(2 pi x) + cos(4 pi y): psi = sin(2 pi x)/(4 pi^2) + cos(4 pi y)/(16 pi^2),
    # u = psi_y = -sin(4 pi y)/(4 pi), v = -psi_x = -cos(2 pi x)/(2 pi),
    # u w_x + v w_y = -cos(2 pi x) sin(4 pi y)/2 + 2 cos(2 pi x) sin(4 pi y), so N = -1.5 cos sin
    s = 32
    X, Y = _grid(s)
    w = np.sin(2 * np.pi * X) + np.cos(4 * np.pi * Y)
    solver = ns.NavierStokes2D(s, 0.0)
    got = solver.irfft(solver.nonlinear(solver.rfft(torch.from_numpy(w)))).numpy()
    want = -1.5 * np.cos(2 * np.pi * X) * np.sin(4 * np.pi * Y)
    # every mode is resolved and inside the 2/3 band: exact up to FFT rounding (~10 ulps of O(1))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)


def test_single_shell_mode_decays_at_exact_viscous_rate() -> None:
    # w0 on the shell |k| = 1 (sin 2 pi x + cos 2 pi y) has psi parallel to w, so u . grad w = 0
    # and with f = 0 the exact solution is w0 exp(-nu 4 pi^2 t)
    s, nu, T, dt = 16, 0.05, 1.0, 0.05
    X, Y = _grid(s)
    w0 = np.sin(2 * np.pi * X) + np.cos(2 * np.pi * Y)
    got = ns.ns_solve(w0, T=T, nu=nu, dt=dt, forcing=None).numpy()
    z = nu * 4 * np.pi**2 * dt
    exact = w0 * math.exp(-nu * 4 * np.pi**2 * T)
    # Crank-Nicolson amplification (1 - z/2)/(1 + z/2) vs exp(-z): the product over T/dt steps is
    # known exactly; the solver must reproduce it to rounding, and the exact solution to the
    # CN error n z^3/12 relative (first term of the expansion) with a factor 2 margin
    cn = w0 * ((1 - z / 2) / (1 + z / 2)) ** round(T / dt)
    np.testing.assert_allclose(got, cn, rtol=0, atol=1e-13)
    rel = np.abs(got - exact).max() / np.abs(exact).max()
    assert rel < 2 * round(T / dt) * z**3 / 12


def test_time_stepping_is_second_order() -> None:
    s, nu, T = 16, 1e-2, 0.5
    w0 = 20 * grf.grf_torus(2, s, 2, **PARAMS, seed=1)  # amplified: a strongly nonlinear regime
    solver = ns.NavierStokes2D(s, nu)
    f = ns.default_forcing(s)
    steps = np.array([16, 32, 64, 128])
    sols = [solver.solve(w0, T, T / n, f) for n in steps]
    # successive differences |w_n - w_2n| behave like C n^-p for a p-th order scheme
    errors = [(sols[i] - sols[i + 1]).abs().max().item() for i in range(3)]
    slope = np.polyfit(np.log(steps[:3]), np.log(errors), 1)[0]
    assert -2.3 < slope < -1.8, (slope, errors)


def _invariants(w: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    wh = np.fft.fft2(w) / s**2
    k = np.fft.fftfreq(s, 1 / s)
    k2 = 4 * np.pi**2 * (k[:, None] ** 2 + k[None, :] ** 2)
    k2[0, 0] = np.inf
    return (np.abs(wh) ** 2 / k2).sum(axis=(-1, -2)), (np.abs(wh) ** 2).sum(axis=(-1, -2))


def test_inviscid_energy_and_enstrophy_conserved_to_time_error() -> None:
    s = 32
    coeffs = grf.grf_torus_coefficients(2, 2, s, **PARAMS, seed=0)
    k = np.abs(np.fft.fftfreq(s, 1 / s))
    coeffs *= (k[:, None] <= 10) & (k[None, :] <= 10)  # inside the 2/3 band: Galerkin truncation
    w0 = 20 * grf.eval_periodic(coeffs, s, 2)
    e0, z0 = _invariants(w0, s)
    drifts = []
    for dt in (0.01, 0.005):
        w = ns.ns_solve(w0, T=1.0, nu=0.0, dt=dt, forcing=None).numpy()
        e, z = _invariants(w, s)
        drifts.append(max(np.abs(e / e0 - 1).max(), np.abs(z / z0 - 1).max()))
        assert np.abs(w - w0).max() > 1.0  # the flow did evolve (not a trivially conserved state)
    # the truncated semi-discrete system conserves both exactly; Heun's error on this nearly
    # skew system is O(dt^2) or better, so halving dt must cut the drift at least 4x; measured
    # drifts 6e-3 and 2e-4
    assert drifts[1] < drifts[0] / 4 and drifts[1] < 1e-3, drifts


def test_viscous_unforced_enstrophy_decreases() -> None:
    s = 16
    w = torch.from_numpy(5 * grf.grf_torus(2, s, 2, **PARAMS, seed=2))
    solver = ns.NavierStokes2D(s, 1e-2)
    history = [_invariants(w.numpy(), s)[1]]
    for _ in range(5):
        w = solver.solve(w, 0.1, 0.01)
        history.append(_invariants(w.numpy(), s)[1])
    assert np.all(np.diff(np.array(history), axis=0) < 0)  # d/dt enstrophy = -2 nu |grad w|^2 < 0


def test_generate_shapes_resolutions_and_determinism() -> None:
    params = dict(get_dataset("navier_stokes").defaults, T=0.02, dt=0.01)
    a = ns.generate(3, (8, 16, 12), seed=1, stream=0, fine_res=16, params=params)
    b = ns.generate(2, (8,), seed=1, stream=0, fine_res=16, params=params)
    for r in (8, 16, 12):
        assert a[r][0].shape == (3, r, r) and a[r][0].dtype == np.float32
    np.testing.assert_array_equal(a[16][0][:, ::2, ::2], a[8][0])  # same function, subsampled
    np.testing.assert_array_equal(a[8][1][:2], b[8][1])  # prefix-stable and deterministic
    assert not np.array_equal(a[16][0], a[16][1])


def test_bad_input_raises() -> None:
    with pytest.raises(ErrboundError, match="even integer"):
        ns.NavierStokes2D(15, 1e-3)
    with pytest.raises(ErrboundError, match="nu"):
        ns.NavierStokes2D(16, -1.0)
    with pytest.raises(ErrboundError, match="not supported|invalid"):
        ns.resolve_device("tpu")
    with pytest.raises(ErrboundError, match="forcing"):
        ns.ns_solve(np.zeros((8, 8)), T=0.1, forcing="kolmogorov")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without a GPU")
def test_cuda_without_gpu_is_a_clear_error() -> None:
    with pytest.raises(ErrboundError, match="CUDA is not available"):
        ns.NavierStokes2D(16, 1e-3, device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:  # pragma: no cover - GPU only
    w0 = grf.grf_torus(2, 32, 2, **PARAMS, seed=0)
    cpu = ns.ns_solve(w0, T=0.1, dt=0.01).numpy()
    gpu = ns.ns_solve(w0, T=0.1, dt=0.01, device="cuda").cpu().numpy()
    np.testing.assert_allclose(gpu, cpu, rtol=0, atol=1e-10)  # float64 FFTs differ by rounding only
