"""Real-input transforms (rfft / irfft) along the last axis, on an arithmetic backend.

Even n (the cuFFT-style R2C/C2R "packing", half-length complex FFT):

* rfft: ``z_j = x_{2j} + i x_{2j+1}`` (exact), ``Z = FFT_N(z)`` (N = n/2, emulated, any N), then
  for k = 0..N, with ``Z_N = Z_0``::

      X_k = fl( fl(Z_k * A_k) + fl(conj(Z_{N-k}) * B_k) ),
      A_k = (1 - i w^k) / 2,  B_k = (1 + i w^k) / 2,  w = exp(-2 pi i / n)

  (split-factor form: no intermediate exceeds max |Z| by more than rounding, so the DC term
  ``sum(x)`` overflows exactly when it should and not earlier).
* irfft (numpy semantics: the first n//2+1 bins are used, zero-padded if fewer; the imaginary
  parts of bin 0 and of bin n/2 are ignored, i.e. set to 0: the Hermitian handling):
  ``Z'_k = fl( fl(X_k * A'_k) + fl(conj(X_{N-k}) * B'_k) )``, ``A' = 1 + i conj(w^k)``,
  ``B' = 1 - i conj(w^k)``, ``z = IFFT_N(Z')`` unnormalized, ``x_{2j} = Re z_j``,
  ``x_{2j+1} = Im z_j``; this equals the unnormalized inverse DFT of the Hermitian extension.

Odd n: rfft is the complex FFT (Bluestein) of ``x + 0i`` truncated to n//2+1 bins; irfft builds
the Hermitian extension (exact) and takes the real part of its complex inverse FFT.

Reference: Press et al., *Numerical Recipes*, 3rd ed., section 12.3.2; the identities are checked in
tests/test_emulate_reference.py against numpy in float64.
"""

from __future__ import annotations

import numpy as np

from errbound.emulate._constants import real_split
from errbound.emulate._ops import Backend
from errbound.emulate.bluestein import fft_any

__all__ = ["rfft_last", "irfft_last"]


def rfft_last(x: np.ndarray, be: Backend, label: str = "rfft") -> np.ndarray:
    """Unnormalized real DFT (n//2+1 bins) along the last axis of the real component array ``x``;
    returns a complex component array (2, ..., n//2+1)."""
    n = x.shape[-1]
    if n % 2 == 1:
        z = be.xp.stack([x, be.zeros(tuple(x.shape))])
        return fft_any(z, be, -1, label)[..., : n // 2 + 1]
    N = n // 2
    z = be.xp.stack([x[..., 0::2], x[..., 1::2]])
    Z = fft_any(z, be, -1, label)
    Ar, Ai, Br, Bi = real_split(n, False, be.config.const_fmt)
    be.stage(f"{label}.split")
    k = np.arange(N + 1)
    Zk = Z[..., k % N]
    Zc = be.conj(Z[..., (N - k) % N])
    t = be.cmul(be.xp.stack([Zk, Zc], axis=1), *_pair_consts(Ar, Br, Ai, Bi, Zk.ndim - 2))
    return be.add(t[:, 0], t[:, 1])


def _pair_consts(Ar: np.ndarray, Br: np.ndarray, Ai: np.ndarray, Bi: np.ndarray, nbatch: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack (A, B) on a leading axis that broadcasts against (pair, *batch, bins)."""
    shape = (2,) + (1,) * nbatch + (Ar.shape[-1],)
    return np.stack([Ar, Br]).reshape(shape), np.stack([Ai, Bi]).reshape(shape)


def irfft_last(X: np.ndarray, n: int, be: Backend, label: str = "irfft") -> np.ndarray:
    """Unnormalized inverse real DFT of length ``n`` along the last axis of the complex component
    array ``X``; returns a real component array (..., n)."""
    nb = n // 2 + 1
    have = X.shape[-1]
    if have >= nb:
        X = X[..., :nb]
    else:
        X = be.xp.concatenate([X, be.zeros(tuple(X.shape[:-1]) + (nb - have,))], axis=-1)
    X = be.copy(X)
    X[1, ..., 0] = be.zeros(tuple(X[1, ..., 0].shape))
    if n % 2 == 0:
        X[1, ..., n // 2] = be.zeros(tuple(X[1, ..., n // 2].shape))
    if n % 2 == 1:
        tail = be.conj(be.flip_last(X[..., 1:]))  # bins n-k = conj(X_k), k = n//2..1
        full = be.xp.concatenate([X, tail], axis=-1)
        return fft_any(full, be, +1, label)[0]
    N = n // 2
    Ar, Ai, Br, Bi = real_split(n, True, be.config.const_fmt)
    be.stage(f"{label}.split")
    k = np.arange(N)
    Xk = X[..., k]
    Xc = be.conj(X[..., N - k])
    t = be.cmul(be.xp.stack([Xk, Xc], axis=1), *_pair_consts(Ar[:N], Br[:N], Ai[:N], Bi[:N], Xk.ndim - 2))
    Zp = be.add(t[:, 0], t[:, 1])
    z = fft_any(Zp, be, +1, label)
    out = be.xp.stack([z[0], z[1]], axis=-1)
    return out.reshape(tuple(out.shape[:-2]) + (n,))
