"""Spectral convolution (the Fourier layer's global part) with a precision policy and two backends.

    (K v)(x) = F^{-1}[ R_k . (F v)_k ](x),   k in the retained modes,

with ``norm="forward"`` scaling (the forward transform carries 1/n, the inverse none), ``modes=(m_1, ...,
m_d)``: along every axis but the last the ``m_j`` frequencies ``0..ceil(m_j/2)-1`` and ``-floor(m_j/2)..-1``
are kept; along the last (real-FFT) axis the ``m_d // 2 + 1`` frequencies ``0..m_d//2`` (neuraloperator's
convention, so ``modes=(32, 32)`` matches its ``n_modes=(32, 32)``).

Backends
--------
``fft``
    torch.fft (cuFFT on GPU). fp16 transforms need power-of-two sizes on every axis (cuFFT's restriction):
    otherwise :class:`ErrboundError`, or, with ``fft_fallback=True``, the ``dft`` backend is used for that
    call. Where torch has no native half transform (fp16 on CPU; bf16 everywhere) the transform is
    *emulated*: the half-valued input is transformed in fp32 and the result rounded to the half dtype. The
    truncated spectrum is made Hermitian along the last axis (zero and Nyquist planes) before the inverse
    real FFT, since cuFFT's C2R may misbehave on non-Hermitian input.
``dft``
    The truncated DFT as real matrix products that compute only the retained modes: one ``(n, 2 m)`` real
    matrix for the last axis and one ``(2 n, 2 m)`` real-view matrix per other axis, forward and inverse.
    Any resolution; fp16/bf16 inputs with fp32 accumulation (tensor cores / CPU kernels). The inverse
    computes ``Re`` of the truncated inverse series with weights 1 (zero and Nyquist frequencies) or 2
    (others) on the last axis, i.e. the real signal of the Hermitian-symmetrised spectrum: exactly what an
    inverse real FFT of the zero-padded spectrum computes, for any input.

Precision (see :mod:`errbound.train.precision`): the layer runs outside autocast and casts by itself;
spectral weights are fp32 real tensors ``(..., 2)`` cast on the fly, so GradScaler can unscale them.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from errbound.errors import ErrboundError
from errbound.train.contraction import (
    complex_einsum, complex_einsum_naive, contraction_path, dense_spectral_contract, half_matmul,
)
from errbound.train.precision import FORMAT_NAMES, FULL, PrecisionPolicy

__all__ = [
    "SpectralConv",
    "retained_frequencies",
    "dft_forward",
    "dft_inverse",
    "fft_forward",
    "fft_inverse",
    "check_supported",
    "round_to_float8",
    "fp8_spectral_block",
    "BACKENDS",
]

BACKENDS = ("fft", "dft")


def retained_frequencies(n: int, m: int, last: bool) -> list[int]:
    """Frequencies kept along an axis of ``n`` points for ``m`` modes (see the module docstring)."""
    if last:
        mr = m // 2 + 1
        if mr > n // 2 + 1:
            raise ErrboundError(
                f"{m} modes need {mr} real-FFT frequencies but a grid of {n} points has only {n // 2 + 1}; "
                f"use at most {2 * (n // 2)} modes or a finer grid"
            )
        return list(range(mr))
    if m > n:
        raise ErrboundError(f"{m} modes exceed the {n} grid points of an axis; use at most {n} modes or a finer grid")
    return list(range((m + 1) // 2)) + list(range(-(m // 2), 0))


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def check_supported(policy: PrecisionPolicy, backend: str, spatial: tuple[int, ...], fft_fallback: bool = False) -> str:
    """Backend actually used for ``policy`` at ``spatial`` size; raises ErrboundError when unsupported."""
    if backend not in BACKENDS:
        raise ErrboundError(f"unknown spectral backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend == "fft" and policy.fp8_block:
        if fft_fallback:
            return "dft"
        raise ErrboundError(
            f"the 8-bit spectral block (precision {policy.name!r}) is emulated by matrix products; "
            "use --backend dft"
        )
    if backend == "fft" and policy.block_half and policy.half_dtype == "fp16" and not all(map(_is_pow2, spatial)):
        if fft_fallback:
            return "dft"
        raise ErrboundError(
            f"fp16 FFTs (precision {policy.name!r}, backend 'fft') need power-of-two grid sizes (cuFFT), "
            f"got {'x'.join(map(str, spatial))}; use --backend dft (any size) or a power-of-two resolution"
        )
    return backend


# ----------------------------------------------------------------------------------------------- dft ---
def _dft_matrices(n: int, freqs: list[int], last: bool, normalized: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward and inverse real matrices (float64) for one axis; see the module docstring.
    ``normalized=False`` leaves the forward factor ``1/n`` out (the 8-bit block applies it after the product)."""
    t = torch.arange(n, dtype=torch.float64)
    k = torch.tensor(freqs, dtype=torch.float64)
    theta = 2 * math.pi * torch.outer(t, k) / n  # (n, m)
    c, s = torch.cos(theta), torch.sin(theta)
    if last:
        fwd = torch.cat((c, -s), 1) / (n if normalized else 1)  # x @ fwd -> [re | im]
        weight = torch.tensor([1.0 if (f == 0 or 2 * f == n) else 2.0 for f in freqs], dtype=torch.float64)
        inv = torch.cat((weight[:, None] * c.T, -weight[:, None] * s.T), 0)  # [re | im] @ inv -> real
        return fwd, inv
    fwd = torch.cat((torch.cat((c, -s), 1), torch.cat((s, c), 1)), 0) / (n if normalized else 1)  # (2n) -> (2m)
    inv = torch.cat((torch.cat((c.T, s.T), 1), torch.cat((-s.T, c.T), 1)), 0)  # (2m) -> (2n)
    return fwd, inv


class _DFTCache:
    """Per-layer cache of DFT matrices keyed by (size, modes, axis kind, dtype, device)."""

    def __init__(self) -> None:
        self._store: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def get(self, n: int, m: int, last: bool, dtype: torch.dtype, device: torch.device):
        key = (n, m, last, dtype, device)
        if key not in self._store:
            fwd, inv = _dft_matrices(n, retained_frequencies(n, m, last), last)
            self._store[key] = (fwd.to(device=device, dtype=dtype), inv.to(device=device, dtype=dtype))
        return self._store[key]

    def get_rounded(self, n: int, m: int, last: bool, format_name: str, device: torch.device):
        """Unnormalised forward and inverse matrices with every entry correctly rounded (RNE, once, from
        float64) into the format ``format_name``, held as fp32 (exact) for an emulated 8-bit product."""
        key = (n, m, last, format_name, device)
        if key not in self._store:
            from errbound.rounding import round_to

            fwd, inv = _dft_matrices(n, retained_frequencies(n, m, last), last, normalized=False)
            self._store[key] = tuple(
                torch.from_numpy(round_to(a.numpy(), format_name)).to(device=device, dtype=torch.float32)
                for a in (fwd, inv)
            )
        return self._store[key]


_GLOBAL_CACHE = _DFTCache()


def _identity(t: torch.Tensor) -> torch.Tensor:
    return t




def _forward_axes(x: torch.Tensor, modes: tuple[int, ...], matrix, rnd) -> torch.Tensor:
    """Axis-by-axis truncated forward DFT, last axis first; ``rnd`` rounds every product's input."""
    d = len(modes)
    spatial = x.shape[-d:]
    y = half_matmul(rnd(x), matrix(spatial[-1], modes[-1], True)[0])  # (..., 2 mr)
    y = y.reshape(*y.shape[:-1], 2, -1).movedim(-2, 2)  # (B, C, 2, n_1..n_{d-1}, mr)
    for axis in range(d - 1):
        dim = 3 + axis
        z = y.movedim((2, dim), (-2, -1))
        z = half_matmul(rnd(z.reshape(*z.shape[:-2], -1)), matrix(spatial[axis], modes[axis], False)[0])
        y = z.reshape(*z.shape[:-1], 2, -1).movedim((-2, -1), (2, dim))
    return y


def _inverse_axes(spec: torch.Tensor, spatial: tuple[int, ...], modes: tuple[int, ...], matrix, rnd) -> torch.Tensor:
    """Axis-by-axis truncated inverse DFT, the non-last axes first; ``rnd`` rounds every product's input."""
    d = len(modes)
    y = spec
    for axis in range(d - 1):
        dim = 3 + axis
        z = y.movedim((2, dim), (-2, -1))
        z = half_matmul(rnd(z.reshape(*z.shape[:-2], -1)), matrix(spatial[axis], modes[axis], False)[1])
        y = z.reshape(*z.shape[:-1], 2, -1).movedim((-2, -1), (2, dim))
    z = y.movedim(2, -2)
    return half_matmul(rnd(z.reshape(*z.shape[:-2], -1)), matrix(spatial[-1], modes[-1], True)[1])


def dft_forward(x: torch.Tensor, modes: tuple[int, ...], cache: _DFTCache | None = None) -> torch.Tensor:
    """Truncated forward DFT (``norm="forward"``) of real ``x (B, C, *n)`` -> ``(B, C, 2, *K)`` in x's dtype."""
    cache = cache or _GLOBAL_CACHE
    return _forward_axes(x, modes, lambda n, m, last: cache.get(n, m, last, x.dtype, x.device), _identity)


def dft_inverse(spec: torch.Tensor, spatial: tuple[int, ...], modes: tuple[int, ...], cache: _DFTCache | None = None) -> torch.Tensor:
    """Inverse of :func:`dft_forward` on the retained modes: ``(B, C, 2, *K)`` -> real ``(B, C, *spatial)``."""
    cache = cache or _GLOBAL_CACHE
    return _inverse_axes(spec, spatial, modes, lambda n, m, last: cache.get(n, m, last, spec.dtype, spec.device),
                         _identity)


# ------------------------------------------------------------------------------------- emulated fp8 ---
class _RoundToFloat8(torch.autograd.Function):
    """Round fp32 values to a torch float8 dtype and back (RNE, one rounding); straight-through gradient."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:  # type: ignore[override]
        return x.to(dtype).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return grad, None


def round_to_float8(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``x`` (fp32) rounded to the float8 ``dtype`` and held as fp32; the gradient passes straight through.

    One rounding (fp32 -> fp8 directly, round to nearest even; values beyond the format's range become NaN
    for E4M3FN, which has no infinity, and inf for E5M2)."""
    return _RoundToFloat8.apply(x.float(), dtype)


def fp8_spectral_block(x: torch.Tensor, weight: torch.Tensor, spatial: tuple[int, ...], modes: tuple[int, ...],
                       policy: PrecisionPolicy, cache: _DFTCache, contract) -> torch.Tensor:
    """The spectral block in an emulated 8-bit format: the ``dft-half`` arithmetic of
    :mod:`errbound.spectral_block` with ``low`` = the 8-bit format.

    Every input of every matrix product (data, unnormalised DFT matrices, spectral weights) is rounded into
    the format, products and sums are fp32, and each product's result is rounded back into the format
    before it feeds the next one; the forward factor ``1/prod(n)`` multiplies the fp32 sum of the last
    forward product before its rounding (``scaling="after"``). ``x``: the (already stabilized) fp32 block
    input; ``contract(spec, weight)``: the channel contraction. Gradients pass straight through the roundings.
    """
    dtype = policy.torch_fp8_dtype
    fmt = FORMAT_NAMES[policy.half_dtype]

    def rnd(t: torch.Tensor) -> torch.Tensor:
        return round_to_float8(t, dtype)

    def matrix(n: int, m: int, last: bool):
        return cache.get_rounded(n, m, last, fmt, x.device)

    spec = _forward_axes(x.float(), modes, matrix, rnd)
    spec = rnd(spec * (1.0 / math.prod(spatial)))
    mixed = rnd(contract(spec, rnd(weight.float())))
    return rnd(_inverse_axes(mixed, spatial, modes, matrix, rnd))


# ----------------------------------------------------------------------------------------------- fft ---
def _native_fft(dtype: torch.dtype, device: torch.device) -> bool:
    return dtype == torch.float32 or dtype == torch.float64 or (dtype == torch.float16 and device.type == "cuda")


def fft_forward(x: torch.Tensor, modes: tuple[int, ...]) -> torch.Tensor:
    """Truncated ``rfftn(norm="forward")`` of ``x (B, C, *n)`` -> ``(B, C, 2, *K)`` in x's dtype."""
    d = len(modes)
    spatial = tuple(x.shape[-d:])
    dims = tuple(range(-d, 0))
    if _native_fft(x.dtype, x.device):
        spec = torch.view_as_real(torch.fft.rfftn(x, dim=dims, norm="forward"))
    else:  # emulated half transform: half-valued input, fp32 transform, rounded to the half dtype
        spec = torch.view_as_real(torch.fft.rfftn(x.float(), dim=dims, norm="forward")).to(x.dtype)
    # spec: (B, C, n_1, ..., n_{d-1}, n_d//2+1, 2)
    for axis in range(d - 1):
        m, dim = modes[axis], 2 + axis
        retained_frequencies(spatial[axis], m, False)
        pos, neg = (m + 1) // 2, m // 2
        parts = [spec.narrow(dim, 0, pos)] + ([spec.narrow(dim, spatial[axis] - neg, neg)] if neg else [])
        spec = torch.cat(parts, dim)
    spec = spec.narrow(1 + d, 0, len(retained_frequencies(spatial[-1], modes[-1], True)))
    return spec.movedim(-1, 2)


def _hermitian_last_planes(full: torch.Tensor, d: int, n_last: int) -> torch.Tensor:
    """Symmetrise the zero (and Nyquist) planes of the last axis: Z[k] <- (Z[k] + conj Z[-k]) / 2."""
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
    """Inverse of :func:`fft_forward`: zero-pad, make Hermitian, ``irfftn(norm="forward")``."""
    d = len(modes)
    b, c = spec.shape[0], spec.shape[1]
    full = spec.new_zeros((b, c, *spatial[:-1], spatial[-1] // 2 + 1, 2))
    z = spec.movedim(2, -1)  # (B, C, *K, 2)
    index = [slice(None), slice(None)]
    # scatter the retained blocks (positive and negative frequencies of each non-last axis)
    blocks = [([], [])]
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
    for dst, src in blocks:
        full[tuple(index + dst + [slice(0, mr)])] = z[tuple(index + src + [slice(None)])]
    full = _hermitian_last_planes(full, d, spatial[-1])
    dims = tuple(range(-d, 0))
    if _native_fft(spec.dtype, spec.device):
        return torch.fft.irfftn(torch.view_as_complex(full), s=spatial, dim=dims, norm="forward")
    out = torch.fft.irfftn(torch.view_as_complex(full.float()), s=spatial, dim=dims, norm="forward")
    return out.to(spec.dtype)


# --------------------------------------------------------------------------------------------- layer ---
def _stabilize(x: torch.Tensor, policy: PrecisionPolicy, backend: str, d: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Apply the policy's stabilizer to the block input; return (x, output scale or None)."""
    kind = policy.stabilizer.kind
    if kind == "none" or not policy.block_half:
        return x, None
    if kind == "tanh":
        return torch.tanh(x), None
    if kind == "clip":
        b = policy.stabilizer.bound
        return x.clamp(-b, b), None
    dims = tuple(range(-d, 0))
    if kind == "sigma2":
        xf = x.float()
        mean = xf.mean(dims, keepdim=True)
        std = xf.std(dims, keepdim=True)
        ns = policy.stabilizer.nsigma
        return torch.maximum(torch.minimum(xf, mean + ns * std), mean - ns * std).to(x.dtype), None
    # pow2: exact power-of-two scaling; bound on the largest intermediate of the forward transform
    with torch.no_grad():  # the scale is a constant for autograd; no fp32 copy of x is kept
        xa = x.detach().abs()
        if backend == "fft":  # the largest unnormalised forward coefficient: sum |x|
            bound = xa.sum(dims, dtype=torch.float32).amax()
        elif backend == "dft-unnormalised":  # 8-bit block: its rounded intermediates are unnormalised partial
            # sums over every axis but the last one transformed (axes -1, 0, .., d-3): <= their size x max|x|
            bound = xa.amax().float() * (math.prod(x.shape[-d:]) // x.shape[-d:][-2] if d > 1 else 1)
        else:  # normalised matrix products: |x @ F| <= max |x|
            bound = xa.amax().float()
        _, exponent = torch.frexp(bound.clamp_min(torch.finfo(torch.float32).tiny))
        k = (exponent - (policy.half_emax - 1)).clamp_min(0).to(torch.float32)
    return x * torch.exp2(-k).to(x.dtype), torch.exp2(k)


class SpectralConv(nn.Module):
    """Fourier layer ``v -> F^{-1}(R . F v)`` on ``d = len(modes)`` spatial axes (see the module docstring).

    Args:
        in_channels, out_channels: channel counts.
        modes: retained modes per axis (neuraloperator's ``n_modes`` convention).
        backend: ``"fft"`` or ``"dft"``.
        factorization: ``None`` (dense complex weight ``(Cin, Cout, *K)``) or ``"cp"`` (CP/TFNO weight of
            rank ``rank``: ``W[i,o,k] = sum_r l_r A[i,r] B[o,r] prod_j C_j[k_j,r]``).
        rank: CP rank (int), or a fraction of the dense parameter count when a float < 1.
        contraction: ``"pairwise"`` (path search) or ``"naive"`` (single einsum; ablation) for CP weights.
        path_method: ``"greedy"`` or ``"optimal"`` contraction-path search.
        fft_fallback: use the dft backend when an fp16 fft would need a non-power-of-two size.
        policy: the :class:`PrecisionPolicy`; mutable attribute so a precision schedule can switch it.
    """

    def __init__(
        self, in_channels: int, out_channels: int, modes: tuple[int, ...], *,
        backend: Literal["fft", "dft"] = "fft", factorization: Literal["cp"] | None = None,
        rank: float = 0.5, contraction: Literal["pairwise", "naive"] = "pairwise",
        path_method: Literal["greedy", "optimal"] = "greedy", fft_fallback: bool = False,
        policy: PrecisionPolicy = FULL,
    ) -> None:
        super().__init__()
        modes = tuple(int(m) for m in modes)
        if not 1 <= len(modes) <= 3 or any(m < 1 for m in modes):
            raise ErrboundError(f"modes must be 1 to 3 positive integers (one per spatial axis), got {modes}")
        if backend not in BACKENDS:
            raise ErrboundError(f"unknown spectral backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
        if factorization not in (None, "cp"):
            raise ErrboundError(f"unknown factorization {factorization!r}; use None (dense) or 'cp'")
        if contraction not in ("pairwise", "naive"):
            raise ErrboundError(f"unknown contraction {contraction!r}; use 'pairwise' or 'naive'")
        if not isinstance(policy, PrecisionPolicy):
            raise ErrboundError(f"policy must be a PrecisionPolicy (use parse_precision for strings), got {policy!r}")
        self.in_channels, self.out_channels, self.modes = in_channels, out_channels, modes
        self.backend, self.factorization = backend, factorization
        self.contraction, self.path_method, self.fft_fallback = contraction, path_method, fft_fallback
        self.policy = policy
        kshape = (*modes[:-1], modes[-1] // 2 + 1)
        self.kshape = kshape
        std = (2.0 / (in_channels + out_channels)) ** 0.5
        if factorization is None:
            self.weight = nn.Parameter(torch.randn(in_channels, out_channels, *kshape, 2) * (std / math.sqrt(2)))
        else:
            dense = in_channels * out_channels * math.prod(kshape)
            r = int(rank) if rank >= 1 else max(1, round(rank * dense / (in_channels + out_channels + sum(kshape) + 1)))
            self.rank = r
            # product of 4 + d - 1 complex factors: choose each factor's std so the reconstructed weight has ~std
            n_f = 2 + len(kshape)
            fstd = (std**2 / r) ** (1 / (2 * n_f))
            self.cp_lambda = nn.Parameter(torch.stack((torch.ones(r), torch.zeros(r)), -1))
            self.cp_in = nn.Parameter(torch.randn(in_channels, r, 2) * fstd / math.sqrt(2))
            self.cp_out = nn.Parameter(torch.randn(out_channels, r, 2) * fstd / math.sqrt(2))
            self.cp_modes = nn.ParameterList(
                [nn.Parameter(torch.randn(k, r, 2) * fstd / math.sqrt(2)) for k in kshape]
            )
            letters = "xyz"[: len(kshape)]
            self._cp_equation = f"bi{letters},r,ir,or," + ",".join(f"{c}r" for c in letters) + f"->bo{letters}"
            self._cp_paths: dict[tuple, list] = {}
        self._cache = _DFTCache()

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, modes={self.modes}, backend={self.backend!r}, "
                f"factorization={self.factorization!r}, policy={self.policy.name!r}")

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

    def dense_weight(self) -> torch.Tensor:
        """The complex weight ``(Cin, Cout, *K)`` (reconstructed from CP factors if factorised)."""
        if self.factorization is None:
            return torch.view_as_complex(self.weight.detach().contiguous())
        letters = "xyz"[: len(self.kshape)]
        eq = f"r,ir,or," + ",".join(f"{c}r" for c in letters) + f"->io{letters}"
        ops = [self.cp_lambda, self.cp_in, self.cp_out, *self.cp_modes]
        w = complex_einsum(eq, *[o.detach() for o in ops])
        return torch.view_as_complex(w.contiguous())

    # -- forward ------------------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = len(self.modes)
        if x.dim() != d + 2 or x.shape[1] != self.in_channels:
            raise ErrboundError(
                f"SpectralConv expects input (batch, {self.in_channels}, {d} spatial axes), got {tuple(x.shape)}"
            )
        spatial = tuple(x.shape[-d:])
        policy = self.policy
        backend = check_supported(policy, self.backend, spatial, self.fft_fallback)
        with torch.autocast(device_type=x.device.type, enabled=False):
            if not policy.block_half:
                spec = self._forward_transform(x.float(), backend)
                out = self._inverse_transform(self._contract(spec), spatial, backend)
                return out
            if policy.fp8_block:
                if self.factorization is not None:
                    raise ErrboundError(
                        f"the emulated 8-bit block (precision {policy.name!r}) supports dense spectral weights "
                        "only; drop --factorization cp"
                    )
                xs, scale = _stabilize(x.float(), policy, "dft-unnormalised", d)
                out = fp8_spectral_block(xs, self.weight, spatial, self.modes, policy, self._cache,
                                         dense_spectral_contract)
                return out if scale is None else out * scale
            half = policy.torch_half_dtype
            if policy.block == "mixed":
                xs, scale = _stabilize(x.float(), policy, backend, d)
                spec = self._forward_transform(xs, backend).to(half)
            else:
                xs, scale = _stabilize(x.to(half), policy, backend, d)
                spec = self._forward_transform(xs, backend)
            out = self._inverse_transform(self._contract(spec), spatial, backend)
            if scale is not None:
                out = out * scale.to(out.dtype)
            return out
