"""Spectral convolution (the Fourier layer's global part) under a precision :class:`~errbound.policy.Policy`.

    (K v)(x) = F^{-1}[ R_k . (F v)_k ](x),   k in the retained modes (errbound.modes: neuraloperator's n_modes),

with ``norm="forward"`` scaling (the forward transform carries 1/m, the inverse none).

How a block is computed
-----------------------
* **Reduced-precision blocks on a CPU** (every ``mixed``/``half`` policy, fp16, bf16 and 8-bit; the 8-bit
  blocks on every device): the one definition of the block, :func:`errbound.block.run_block`, on torch
  tensors with correctly rounded arithmetic (:class:`errbound.train.emulated.TorchArithmetic`): the same
  radix-2 FFT or matrix-product DFT, operation for operation, as the advisor's numpy emulator, so the output
  is bit for bit the emulator's, and an fp16 FFT overflows exactly where the emulator (and cuFFT) does.
  Gradients are straight-through: the backward pass is that of the same block in exact fp32 arithmetic
  (``out = emulated.detach() + (exact - exact.detach())``: the value is the emulated one, bit for bit), the usual
  estimator for rounded forward passes.
* **fp32 blocks** (``full``, ``amp``) on every device, and **fp16/bf16 blocks on CUDA**: torch's native
  kernels (cuFFT, cuBLAS with fp32 accumulation) in the same stage order, axis order and retained layout;
  cuFFT refuses fp16 transforms of sizes that are not powers of two (an error, or the ``dft`` backend with
  ``fft_fallback``), and torch has no bf16 FFT (the bf16 transform is fp32 rounded to bf16). These agree with
  the definition up to the order of the sums inside the kernels.

Spectral weights are fp32 master copies ``(C_in, C_out, *mode_shape, 2)``, cast on the fly, so GradScaler
can unscale them.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from torch import nn

from errbound.block import BlockRun, run_block
from errbound.emulate.dft_matmul import dft_matrix
from errbound.errors import ErrboundError
from errbound.formats import get_format
from errbound.modes import check_modes, hermitian_weights, mode_shape, retained_frequencies
from errbound.policy import BACKENDS, FULL, Policy, make_policy
from errbound.train.contraction import (
    complex_einsum, complex_einsum_naive, contraction_path, dense_spectral_contract, half_matmul,
)
from errbound.train.emulated import TorchArithmetic

__all__ = ["SpectralConv", "fft_forward", "fft_inverse", "dft_forward", "dft_inverse", "check_supported",
           "policy_for_backend", "stabilize_exact"]

_FP64 = get_format("fp64")


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def policy_for_backend(policy: Policy, backend: str) -> Policy:
    """``policy`` with its transforms switched to ``backend`` (named policies only)."""
    if policy.backend == backend:
        return policy
    if policy.mode == "custom":
        raise ErrboundError("a custom (stage-by-stage) policy fixes its transforms; it cannot change backend")
    return make_policy(policy.mode, policy.low_name or "fp16", stabilizer=policy.stabilizer, backend=backend)


def check_supported(policy: Policy, backend: str, spatial: tuple[int, ...], fft_fallback: bool = False) -> str:
    """Backend actually used for ``policy`` at ``spatial`` size; raises ErrboundError when unsupported.

    fp16 FFTs need power-of-two sizes on every axis on every device (cuFFT's restriction, kept on a CPU so
    that a run is what it would be on a GPU); the 8-bit blocks need ``dft``."""
    if backend not in BACKENDS:
        raise ErrboundError(f"unknown spectral backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if policy.fp8_block and policy.mode != "half":
        raise ErrboundError(
            f"the trainer runs 8-bit blocks as 'half' only (precision {policy.name!r}); use "
            f"--precision half-{policy.low_name} --backend dft"
        )
    if backend == "fft" and policy.fp8_block:
        if fft_fallback:
            return "dft"
        raise ErrboundError(
            f"the 8-bit spectral block (precision {policy.name!r}) is computed by matrix products; use --backend dft"
        )
    if backend == "fft" and policy.block_half and policy.uses_fp16 and policy.mode != "custom" \
            and not all(map(_is_pow2, spatial)):
        if fft_fallback:
            return "dft"
        raise ErrboundError(
            f"fp16 FFTs (precision {policy.name!r}, backend 'fft') need power-of-two grid sizes (cuFFT), "
            f"got {'x'.join(map(str, spatial))}; use --backend dft (any size) or a power-of-two resolution"
        )
    return backend


# --------------------------------------------------------------------------------------- native fft ---
def _native_fft(dtype: torch.dtype, device: torch.device) -> bool:
    return dtype in (torch.float32, torch.float64) or (dtype == torch.float16 and device.type == "cuda")


def fft_forward(x: torch.Tensor, modes: tuple[int, ...]) -> torch.Tensor:
    """Truncated ``rfftn(norm="forward")`` of ``x (B, C, *n)`` -> ``(B, C, 2, *mode_shape)`` in x's dtype
    (torch's kernels; bf16 and CPU fp16: the fp32 transform rounded to the dtype)."""
    d = len(modes)
    spatial = tuple(x.shape[-d:])
    check_modes(spatial, modes)
    dims = tuple(range(-d, 0))
    if _native_fft(x.dtype, x.device):
        spec = torch.view_as_real(torch.fft.rfftn(x, dim=dims, norm="forward"))
    else:
        spec = torch.view_as_real(torch.fft.rfftn(x.float(), dim=dims, norm="forward")).to(x.dtype)
    for axis in range(d - 1):
        m, dim = modes[axis], 2 + axis
        pos, neg = (m + 1) // 2, m // 2
        parts = [spec.narrow(dim, 0, pos)] + ([spec.narrow(dim, spatial[axis] - neg, neg)] if neg else [])
        spec = torch.cat(parts, dim)
    spec = spec.narrow(1 + d, 0, modes[-1] // 2 + 1)
    return spec.movedim(-1, 2)


def _hermitian_last_planes(full: torch.Tensor, d: int, n_last: int) -> torch.Tensor:
    """Symmetrise the zero (and Nyquist) planes of the last axis, Z[k] <- (Z[k] + conj Z[-k]) / 2, since
    cuFFT's C2R may misbehave on non-Hermitian input (the same real output as ignoring their imaginary parts
    after the complex inverses, which is what the definition does)."""
    planes = [0] + ([n_last // 2] if n_last % 2 == 0 and full.shape[-2] > n_last // 2 else [])
    dims = tuple(range(2, 2 + d - 1))
    for p in planes:
        z = full[..., p, :]
        flipped = z
        if dims:
            flipped = torch.roll(torch.flip(z, dims), shifts=(1,) * len(dims), dims=dims)
        conj = torch.stack((flipped[..., 0], -flipped[..., 1]), -1)
        full[..., p, :] = (z + conj) / 2
    return full


def fft_inverse(spec: torch.Tensor, spatial: tuple[int, ...], modes: tuple[int, ...]) -> torch.Tensor:
    """Inverse of :func:`fft_forward`: zero-fill, make Hermitian, ``irfftn(norm="forward")``."""
    d = len(modes)
    b, c = spec.shape[0], spec.shape[1]
    full = spec.new_zeros((b, c, *spatial[:-1], spatial[-1] // 2 + 1, 2))
    z = spec.movedim(2, -1)  # (B, C, *K, 2)
    blocks: list[tuple[list[slice], list[slice]]] = [([], [])]
    for axis in range(d - 1):
        m = modes[axis]
        pos, neg = (m + 1) // 2, m // 2
        new = []
        for dst, src in blocks:
            new.append((dst + [slice(0, pos)], src + [slice(0, pos)]))
            if neg:
                new.append((dst + [slice(spatial[axis] - neg, spatial[axis])], src + [slice(pos, pos + neg)]))
        blocks = new
    mr = z.shape[-2]
    lead = [slice(None), slice(None)]
    for dst, src in blocks:
        full[tuple(lead + dst + [slice(0, mr)])] = z[tuple(lead + src + [slice(None)])]
    full = _hermitian_last_planes(full, d, spatial[-1])
    dims = tuple(range(-d, 0))
    if _native_fft(spec.dtype, spec.device):
        return torch.fft.irfftn(torch.view_as_complex(full), s=spatial, dim=dims, norm="forward")
    out = torch.fft.irfftn(torch.view_as_complex(full.float()), s=spatial, dim=dims, norm="forward")
    return out.to(spec.dtype)


# --------------------------------------------------------------------------------------- native dft ---
class _DFTCache:
    """Per-layer cache of the DFT matrices of :func:`errbound.emulate.dft_matrix` (the one definition, rounded
    into the compute format), as real block matrices keyed by (size, modes, axis kind, dtype, device)."""

    def __init__(self) -> None:
        self._store: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def get(self, n: int, m: int, last: bool, dtype: torch.dtype, device: torch.device):
        key = (n, m, last, dtype, device)
        if key not in self._store:
            fmt = {torch.float16: get_format("fp16"), torch.bfloat16: get_format("bf16")}.get(dtype, _FP64)
            freqs = retained_frequencies(n, m, last)
            idx = tuple(f % n for f in freqs)
            C, S = dft_matrix(n, idx, -1, fmt)  # (n, k): cos, -sin; unnormalised
            Ci, Si = dft_matrix(n, idx, +1, fmt, None, hermitian_weights(n, freqs) if last else None)
            if last:
                fwd = np.concatenate([C, S], 1)  # x @ fwd -> [re | im]
                inv = np.concatenate([Ci.T, -Si.T], 0)  # [re | im] @ inv -> real
            else:
                fwd = np.block([[C, S], [-S, C]])  # [re | im] (2n) -> (2k)
                inv = np.block([[Ci.T, Si.T], [-Si.T, Ci.T]])
            self._store[key] = (torch.from_numpy(fwd).to(device=device, dtype=dtype),
                                torch.from_numpy(inv).to(device=device, dtype=dtype))
        return self._store[key]


_GLOBAL_CACHE = _DFTCache()


def dft_forward(x: torch.Tensor, modes: tuple[int, ...], cache: _DFTCache | None = None) -> torch.Tensor:
    """Truncated DFT (``norm="forward"``) of real ``x (B, C, *n)`` -> ``(B, C, 2, *mode_shape)`` by matrix
    products in x's dtype (fp32 accumulation), the last axis first, then ``d-2, ..., 0``; the factor ``1/m``
    multiplies the fp32 result of the last product before it is rounded to x's dtype."""
    cache = cache or _GLOBAL_CACHE
    d = len(modes)
    spatial = tuple(x.shape[-d:])
    check_modes(spatial, modes)
    dtype = x.dtype
    fwd = cache.get(spatial[-1], modes[-1], True, dtype, x.device)[0]
    y = _wide_matmul(x, fwd) if d == 1 else half_matmul(x, fwd)
    y = y.reshape(*y.shape[:-1], 2, -1).movedim(-2, 2)  # (B, C, 2, n_1..n_{d-1}, k_d)
    for axis in range(d - 2, -1, -1):
        dim = 3 + axis
        mat = cache.get(spatial[axis], modes[axis], False, dtype, x.device)[0]
        z = y.movedim((2, dim), (-2, -1))
        z = z.reshape(*z.shape[:-2], -1)
        z = _wide_matmul(z.to(dtype), mat) if axis == 0 else half_matmul(z.to(dtype), mat)
        y = z.reshape(*z.shape[:-1], 2, -1).movedim((-2, -1), (2, dim))
    wide = y.dtype
    return (y * torch.tensor(1.0 / math.prod(spatial), dtype=wide, device=y.device)).to(dtype)


def _wide_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` with a result at least fp32 wide (half operands: exact products, fp32 sums)."""
    if a.dtype in (torch.float16, torch.bfloat16):
        return torch.matmul(a.float(), b.float())
    return torch.matmul(a, b)


def dft_inverse(spec: torch.Tensor, spatial: tuple[int, ...], modes: tuple[int, ...],
                cache: _DFTCache | None = None) -> torch.Tensor:
    """Inverse of :func:`dft_forward` on the retained modes: ``(B, C, 2, *K)`` -> real ``(B, C, *spatial)``,
    axes ``0, ..., d-2`` first, the last axis (Hermitian weights) last; no normalisation."""
    cache = cache or _GLOBAL_CACHE
    d = len(modes)
    y = spec
    for axis in range(d - 1):
        dim = 3 + axis
        z = y.movedim((2, dim), (-2, -1))
        z = half_matmul(z.reshape(*z.shape[:-2], -1), cache.get(spatial[axis], modes[axis], False, spec.dtype,
                                                                  spec.device)[1])
        y = z.reshape(*z.shape[:-1], 2, -1).movedim((-2, -1), (2, dim))
    z = y.movedim(2, -2)
    return half_matmul(z.reshape(*z.shape[:-2], -1), cache.get(spatial[-1], modes[-1], True, spec.dtype,
                                                                spec.device)[1])


# ------------------------------------------------------------------------------------------ layer ---
def stabilize_exact(x: torch.Tensor, policy: Policy, d: int) -> torch.Tensor:
    """The stabilizer without rounding (differentiable): tanh, clip, sigma2; none and pow2 are the identity."""
    st = policy.stabilizer
    if st.kind == "tanh":
        return torch.tanh(x)
    if st.kind == "clip":
        return x.clamp(-st.bound, st.bound)
    if st.kind == "sigma2":
        dims = tuple(range(-d, 0))
        mean = x.mean(dims, keepdim=True)
        std = x.std(dims, keepdim=True, unbiased=False)
        return torch.maximum(torch.minimum(x, mean + st.nsigma * std), mean - st.nsigma * std)
    return x


def _low_dtype(policy: Policy) -> torch.dtype:
    return torch.float16 if policy.low_name == "fp16" else torch.bfloat16


def _native_pow2(x: torch.Tensor, policy: Policy, backend: str, d: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The ``pow2`` pre-scale for the native (CUDA) half paths: the rule of :func:`errbound.block.pow2_bound`
    computed on the device."""
    if policy.stabilizer.kind != "pow2":
        return x, None
    with torch.no_grad():
        xa = x.detach().abs().float()
        dims = tuple(range(-d, 0))
        if backend == "fft":
            bound = xa.sum(dims).amax()
        else:
            bound = xa.amax() * (math.prod(x.shape[-d + 1:]) if d > 1 else 1)
        _, p = torch.frexp(bound.clamp_min(torch.finfo(torch.float32).tiny))
        k = (p - (policy.narrowest.emax - 1)).clamp_min(0).to(torch.float32)
    return x * torch.exp2(-k).to(x.dtype), torch.exp2(k)


class SpectralConv(nn.Module):
    """Fourier layer ``v -> F^{-1}(R . F v)`` on ``d = len(modes)`` spatial axes (see the module docstring).

    Args:
        in_channels, out_channels: channel counts.
        modes: retained modes per axis (:mod:`errbound.modes`, neuraloperator's ``n_modes``).
        backend: ``"fft"`` or ``"dft"``.
        factorization: ``None`` (dense complex weight ``(Cin, Cout, *K)``), ``"cp"`` (CP/TFNO weight of
            rank ``rank``: ``W[i,o,k] = sum_r l_r A[i,r] B[o,r] prod_j C_j[k_j,r]``; the emulated blocks
            contract with the reconstructed dense weight) or ``"tucker"`` (neuraloperator's TFNO weight:
            ``W[i,o,k] = sum_{a,b,c} G[a,b,c] U[i,a] V[o,b] prod_j M_j[k_j,c_j]``, core ``G`` of shape
            ``rank``; every block contracts with the reconstructed dense weight, computed in fp32 and cast to
            the block's format, so gradients reach the core and the factors).
        rank: CP rank (int), or a fraction of the dense parameter count when a float < 1; for ``"tucker"`` a
            tuple of ``2 + d`` ints (input, output and one per mode axis).
        contraction: ``"pairwise"`` (path search) or ``"naive"`` (single einsum; ablation) for CP weights.
        path_method: ``"greedy"`` or ``"optimal"`` contraction-path search.
        fft_fallback: use the dft backend when an fp16 fft would need a non-power-of-two size.
        policy: the :class:`~errbound.policy.Policy`; mutable attribute so a precision schedule can switch it.
    """

    def __init__(
        self, in_channels: int, out_channels: int, modes: tuple[int, ...], *,
        backend: Literal["fft", "dft"] = "fft", factorization: Literal["cp", "tucker"] | None = None,
        rank: float | tuple[int, ...] = 0.5, contraction: Literal["pairwise", "naive"] = "pairwise",
        path_method: Literal["greedy", "optimal"] = "greedy", fft_fallback: bool = False,
        policy: Policy = FULL,
    ) -> None:
        super().__init__()
        modes = tuple(int(m) for m in modes)
        if not 1 <= len(modes) <= 3 or any(m < 1 for m in modes):
            raise ErrboundError(f"modes must be 1 to 3 positive integers (one per spatial axis), got {modes}")
        if backend not in BACKENDS:
            raise ErrboundError(f"unknown spectral backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
        if factorization not in (None, "cp", "tucker"):
            raise ErrboundError(f"unknown factorization {factorization!r}; use None (dense), 'cp' or 'tucker'")
        if contraction not in ("pairwise", "naive"):
            raise ErrboundError(f"unknown contraction {contraction!r}; use 'pairwise' or 'naive'")
        if not isinstance(policy, Policy):
            raise ErrboundError(f"policy must be a Policy (use errbound.policy.parse_policy for names), got {policy!r}")
        self.in_channels, self.out_channels, self.modes = in_channels, out_channels, modes
        self.backend, self.factorization = backend, factorization
        self.contraction, self.path_method, self.fft_fallback = contraction, path_method, fft_fallback
        self.policy = policy
        kshape = mode_shape(modes)
        self.kshape = kshape
        std = (2.0 / (in_channels + out_channels)) ** 0.5
        if factorization is None:
            self.weight = nn.Parameter(torch.randn(in_channels, out_channels, *kshape, 2) * (std / math.sqrt(2)))
        elif factorization == "tucker":
            ranks = tuple(int(r) for r in rank) if isinstance(rank, (tuple, list)) else ()
            if len(ranks) != 2 + len(kshape) or any(r < 1 for r in ranks):
                raise ErrboundError(f"a Tucker weight needs rank = {2 + len(kshape)} positive ints (input, output, "
                                    f"one per mode axis), got {rank!r}")
            self.rank = ranks
            fstd = (std**2 / math.prod(ranks)) ** (1 / (2 * (len(ranks) + 1)))
            self.tucker_core = nn.Parameter(torch.randn(*ranks, 2) * fstd / math.sqrt(2))
            self.tucker_in = nn.Parameter(torch.randn(in_channels, ranks[0], 2) * fstd / math.sqrt(2))
            self.tucker_out = nn.Parameter(torch.randn(out_channels, ranks[1], 2) * fstd / math.sqrt(2))
            self.tucker_modes = nn.ParameterList(
                [nn.Parameter(torch.randn(k, r, 2) * fstd / math.sqrt(2)) for k, r in zip(kshape, ranks[2:])])
        else:
            dense = in_channels * out_channels * math.prod(kshape)
            r = int(rank) if rank >= 1 else max(1, round(rank * dense / (in_channels + out_channels + sum(kshape) + 1)))
            self.rank = r
            n_f = 2 + len(kshape)  # product of 4 + d - 1 complex factors: each factor's std gives ~std overall
            fstd = (std**2 / r) ** (1 / (2 * n_f))
            self.cp_lambda = nn.Parameter(torch.stack((torch.ones(r), torch.zeros(r)), -1))
            self.cp_in = nn.Parameter(torch.randn(in_channels, r, 2) * fstd / math.sqrt(2))
            self.cp_out = nn.Parameter(torch.randn(out_channels, r, 2) * fstd / math.sqrt(2))
            self.cp_modes = nn.ParameterList([nn.Parameter(torch.randn(k, r, 2) * fstd / math.sqrt(2)) for k in kshape])
            letters = "xyz"[: len(kshape)]
            self._cp_equation = f"bi{letters},r,ir,or," + ",".join(f"{c}r" for c in letters) + f"->bo{letters}"
            self._cp_paths: dict[tuple, list] = {}
        self._cache = _DFTCache()
        self._arith: dict[torch.device, TorchArithmetic] = {}

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, modes={self.modes}, backend={self.backend!r}, "
                f"factorization={self.factorization!r}, policy={self.policy.name!r}")

    def set_weights(self, weights: np.ndarray) -> None:
        """Load complex weights ``(C_out, C_in, *mode_shape)`` (the emulator's layout) into a dense layer."""
        if self.factorization is not None:
            raise ErrboundError("set_weights needs a dense layer (factorization=None)")
        w = np.asarray(weights)
        expected = (self.out_channels, self.in_channels, *self.kshape)
        if w.shape != expected:
            raise ErrboundError(f"weights must have shape {expected}, got {w.shape}")
        t = torch.from_numpy(np.stack([w.real, w.imag], -1)).float().movedim(0, 1).contiguous()
        with torch.no_grad():
            self.weight.copy_(t)

    # -- pieces -------------------------------------------------------------------------------------------
    def _forward_transform(self, x: torch.Tensor, backend: str) -> torch.Tensor:
        return dft_forward(x, self.modes, self._cache) if backend == "dft" else fft_forward(x, self.modes)

    def _inverse_transform(self, spec: torch.Tensor, spatial: tuple[int, ...], backend: str) -> torch.Tensor:
        if backend == "dft":
            return dft_inverse(spec, spatial, self.modes, self._cache)
        return fft_inverse(spec, spatial, self.modes)

    def _contract(self, spec: torch.Tensor) -> torch.Tensor:
        dtype = spec.dtype
        if self.factorization is None:
            return dense_spectral_contract(spec, self.weight.to(dtype))
        if self.factorization == "tucker":
            return dense_spectral_contract(spec, self._dense_weight_real().to(dtype))
        x = spec.movedim(2, -1)  # (B, Cin, *K, 2)
        ops = [x, self.cp_lambda.to(dtype), self.cp_in.to(dtype), self.cp_out.to(dtype)]
        ops += [f.to(dtype) for f in self.cp_modes]
        if self.contraction == "naive":
            out = complex_einsum_naive(self._cp_equation, *ops)
        else:
            key = tuple(x.shape)
            if key not in self._cp_paths:
                self._cp_paths[key] = contraction_path(self._cp_equation, [o.shape[:-1] for o in ops], self.path_method)
            out = complex_einsum(self._cp_equation, *ops, path=self._cp_paths[key])
        return out.movedim(-1, 2)

    def _dense_weight_real(self) -> torch.Tensor:
        """``(Cin, Cout, *K, 2)`` fp32 (reconstructed from the CP factors when factorised)."""
        if self.factorization is None:
            return self.weight
        letters = "xyz"[: len(self.kshape)]
        if self.factorization == "tucker":
            core = "ab" + "cde"[: len(letters)]
            eq = f"{core},ia,ob," + ",".join(f"{x}{c}" for x, c in zip(letters, core[2:])) + f"->io{letters}"
            return complex_einsum(eq, self.tucker_core, self.tucker_in, self.tucker_out, *self.tucker_modes)
        eq = "r,ir,or," + ",".join(f"{c}r" for c in letters) + f"->io{letters}"
        return complex_einsum(eq, self.cp_lambda, self.cp_in, self.cp_out, *self.cp_modes)

    def dense_weight(self) -> torch.Tensor:
        """The complex weight ``(Cin, Cout, *K)`` (reconstructed from CP or Tucker factors if factorised)."""
        return torch.view_as_complex(self._dense_weight_real().detach().contiguous())

    def effective_policy(self, spatial: tuple[int, ...]) -> Policy:
        """The policy this layer computes at ``spatial``, its backend resolved (fft_fallback included)."""
        backend = check_supported(self.policy, self.backend, spatial, self.fft_fallback)
        return policy_for_backend(self.policy, backend)

    def _emulated(self, policy: Policy, device: torch.device) -> bool:
        return policy.block_half and (device.type == "cpu" or policy.fp8_block)

    def _exact_block(self, x: torch.Tensor, policy: Policy, backend: str) -> torch.Tensor:
        """The block in fp32 with torch's kernels (the stabilizer applied exactly; differentiable)."""
        spatial = tuple(x.shape[-len(self.modes):])
        xs = stabilize_exact(x.float(), policy, len(self.modes))
        spec = self._forward_transform(xs, backend)
        return self._inverse_transform(self._contract(spec), spatial, backend)

    def block_run(self, x: torch.Tensor) -> BlockRun:
        """Run the block on ``x`` without gradients and report what it computed (``errbound precision
        --engine torch``): the output, the retained spectrum ``(2, B, C_in, *K)``, overflow and pre-scale."""
        d = len(self.modes)
        spatial = tuple(x.shape[-d:])
        policy = self.effective_policy(spatial)
        with torch.no_grad():
            if self._emulated(policy, x.device):
                return self._run_emulated(x, policy)
            out = self.forward(x)
            spec = self._forward_transform(stabilize_exact(x.float(), policy, d), policy.backend).float()
            spectrum = spec.movedim(2, 0)
            finite = bool(torch.isfinite(out).all())
            mx = float(spec.abs().amax()) if spec.numel() else 0.0
            nonzero = x != 0
            count = int(nonzero.sum())
            flushed = float((nonzero & (x.float() == 0)).sum()) / count if count else 0.0
            return BlockRun(out, spectrum, not finite, mx, 0, {"native": mx}, flushed)

    def _run_emulated(self, x: torch.Tensor, policy: Policy, report_underflow: bool = True) -> BlockRun:
        w = self._dense_weight_real().detach().float().movedim(0, 1)  # (Cout, Cin, *K, 2)
        if x.device not in self._arith:
            self._arith[x.device] = TorchArithmetic(x.device)
        return run_block(x.detach(), w[..., 0], w[..., 1], self.modes, policy, self._arith[x.device],
                         report_underflow=report_underflow)

    # -- forward ------------------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = len(self.modes)
        if x.dim() != d + 2 or x.shape[1] != self.in_channels:
            raise ErrboundError(
                f"SpectralConv expects input (batch, {self.in_channels}, {d} spatial axes), got {tuple(x.shape)}"
            )
        spatial = tuple(x.shape[-d:])
        policy = self.effective_policy(spatial)
        backend = policy.backend
        with torch.autocast(device_type=x.device.type, enabled=False):
            if not policy.block_half:
                return self._exact_block(x, policy, backend)
            if self._emulated(policy, x.device):
                emulated = self._run_emulated(x, policy, report_underflow=False).output
                exact = self._exact_block(x, policy, backend)
                # straight-through: the value is the emulated block's exactly (exact - exact is +0), the
                # gradient the exact fp32 block's
                out = emulated.detach() + (exact - exact.detach())
                # fp16/bf16 blocks return their dtype, as on CUDA (the values are exactly representable in it)
                return out if policy.fp8_block else out.to(_low_dtype(policy))
            return self._native_half(x, policy, backend, spatial)

    def _native_half(self, x: torch.Tensor, policy: Policy, backend: str, spatial: tuple[int, ...]) -> torch.Tensor:
        """fp16/bf16 block with torch's CUDA kernels (module docstring)."""
        d = len(self.modes)
        half = _low_dtype(policy)
        xs, scale = _native_pow2(x.float(), policy, backend, d)
        xs = stabilize_exact(xs, policy, d)
        if policy.mode == "mixed":
            spec = self._forward_transform(xs, backend).to(half)
        else:
            spec = self._forward_transform(xs.to(half), backend)
        out = self._inverse_transform(self._contract(spec), spatial, backend)
        return out if scale is None else out * scale.to(out.dtype)
