"""Bluestein's chirp-z FFT for any length n, with emulated power-of-two inner FFTs.

With ``jk = (j^2 + k^2 - (k - j)^2) / 2``::

    X_k = c_k * sum_j (x_j c_j) b_{k-j},   c_j = exp(sign pi i j^2 / n),  b_m = conj(c_m),

a circular convolution of length ``M = 2**ceil(log2(2n - 1))`` done by FFTs. Operation order:

1. ``a_j = fl(x_j * c_j)`` (complex product per FFTConfig.cmul, chirp rounded into the constant
   format), zero-padded to M;
2. ``A = FFT_M(a)`` (emulated radix-2, forward);
3. ``P_k = fl(A_k * K_k)`` with the kernel ``K = DFT_M(b) / M`` computed in high precision and
   rounded into the constant format (the 1/M of the inverse FFT is folded into the kernel, so the
   inner inverse transform does not grow the magnitudes by M);
4. ``p = IFFT_M(P)`` unnormalized (emulated radix-2, inverse sign);
5. ``X_k = fl(p_k * c_k)``, k < n.

Reference: Bluestein, IEEE Trans. Audio Electroacoustics 18 (1970); Rabiner, Schafer and Rader,
the chirp z-transform algorithm (1969).
"""

from __future__ import annotations

import numpy as np

from errbound.emulate._constants import bluestein_kernel, chirp
from errbound.emulate._ops import Backend
from errbound.emulate.fft_radix2 import fft_pow2

__all__ = ["fft_bluestein", "fft_any", "bluestein_length"]


def bluestein_length(n: int) -> int:
    """Inner FFT length M: the least power of two >= 2n - 1."""
    return 1 << max(0, (2 * n - 2).bit_length())


def fft_bluestein(z: np.ndarray, be: Backend, sign: int, label: str = "fft") -> np.ndarray:
    n = z.shape[-1]
    M = bluestein_length(n)
    cf = be.config.const_fmt
    c, d = chirp(n, sign, cf)
    kr, ki = bluestein_kernel(n, M, sign, cf)
    be.stage(f"{label}.bluestein.chirp_in")
    a = be.cmul(z, c, d)
    a = be.xp.concatenate([a, be.zeros(tuple(a.shape[:-1]) + (M - n,))], axis=-1)
    A = fft_pow2(a, be, -1, label=f"{label}.bluestein.fft")
    be.stage(f"{label}.bluestein.kernel")
    P = be.cmul(A, kr, ki)
    p = fft_pow2(P, be, +1, label=f"{label}.bluestein.ifft")
    be.stage(f"{label}.bluestein.chirp_out")
    return be.cmul(p[..., :n], c, d)


def fft_any(z: np.ndarray, be: Backend, sign: int, label: str = "fft") -> np.ndarray:
    """Unnormalized DFT along the last axis: radix-2 for powers of two, Bluestein otherwise."""
    n = z.shape[-1]
    if n & (n - 1) == 0:
        return fft_pow2(z, be, sign, label)
    return fft_bluestein(z, be, sign, label)
