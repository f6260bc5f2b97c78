"""Iterative radix-2 decimation-in-time FFT on an arithmetic backend (n = 2**t).

Operation order (the model; docs/emulation.md):

1. bit-reversal permutation of the input (exact);
2. stages L = 2, 4, ..., n; in stage L every block of L entries holds the length-L/2 DFTs of its
   even (top half) and odd (bottom half) samples and becomes their length-L DFT::

       t      = bottom[j] * w_L^j          (w_L^j = exp(sign 2 pi i j / L), rounded constant;
                                            complex product as chosen by FFTConfig.cmul)
       top[j]    <- fl(top[j] + t)          (real and imaginary parts rounded separately)
       bottom[j] <- fl(top[j] - t)

   j = 0 is multiplied by w = 1 like every other j (exact: fma(a, 1, -fl(b * 0)) = a).

Each stage is three vectorised roundings over the whole array (products, fused products/sums,
butterfly sums). Reference: Cooley and Tukey, Math. Comp. 19 (1965); Van Loan, *Computational
Frameworks for the FFT*, section 1.7.
"""

from __future__ import annotations

import numpy as np

from errbound.emulate._constants import twiddles
from errbound.emulate._ops import Backend

__all__ = ["fft_pow2", "bit_reversal"]


def bit_reversal(n: int) -> np.ndarray:
    """The bit-reversal permutation of 0..n-1 (n a power of two)."""
    bits = n.bit_length() - 1
    idx = np.arange(n, dtype=np.int64)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(bits):
        rev |= ((idx >> b) & 1) << (bits - 1 - b)
    return rev


def fft_pow2(z: np.ndarray, be: Backend, sign: int, label: str = "fft") -> np.ndarray:
    """Unnormalized DFT ``sum_j z_j exp(sign 2 pi i jk / n)`` along the last axis of the complex
    component array ``z`` (shape ``(2, ..., n)``), n a power of two."""
    n = z.shape[-1]
    if n & (n - 1):
        raise AssertionError(f"fft_pow2 needs a power of two, got {n}")
    if n == 1:
        return z
    z = z[..., bit_reversal(n)]
    lead = z.shape[:-1]
    L = 2
    stage = 1
    while L <= n:
        be.stage(f"{label}.stage{stage}")
        h = L // 2
        blocks = z.reshape(tuple(lead) + (n // L, 2, h))
        top, bottom = blocks[..., 0, :], blocks[..., 1, :]
        c, d = twiddles(L, sign, be.config.const_fmt)
        t = be.cmul(bottom, c, d)
        z = be.add(be.xp.stack([top, top], axis=-2), be.xp.stack([t, be.neg(t)], axis=-2)).reshape(tuple(lead) + (n,))
        L *= 2
        stage += 1
    return z
