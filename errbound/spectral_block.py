"""The emulated spectral block (numpy): :func:`errbound.block.run_block` on the correctly rounded numpy
arithmetic, plus the float64 reference, the mpmath certification hooks and the composite bound P5.

The block's arithmetic is defined once in :mod:`errbound.block` (stage by stage) and its precision by a
:class:`errbound.policy.Policy` (parse names with :func:`errbound.policy.parse_policy`; the former preset names
``dft-half``/``dft-bf16`` are aliases there). The trainer's torch layer runs the same definition on torch
tensors (:mod:`errbound.train.emulated`), bit for bit. Retained modes follow :mod:`errbound.modes`
(neuraloperator's ``n_modes``); weights have shape ``(C_out, C_in, *mode_shape(modes))``.

Assumption (documented, not verified on a GPU here): the half contraction accumulates in fp32 like
cuBLAS half GEMMs with fp32 compute; pass a ContractionPolicy with ``acc_fmt=low`` to model fp16
accumulation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from errbound.block import BlockRun, pow2_bound, pow2_exponent, run_block, std_bounds
from errbound.bounds import precision as bp
from errbound.errors import ErrboundError
from errbound.modes import as_modes, check_modes, mode_shape, random_weights, retained_indices
from errbound.policy import Policy

__all__ = ["SpectralBlock", "BlockResult", "random_weights"]


@dataclasses.dataclass
class BlockResult:
    """Output of :meth:`SpectralBlock.run`: the block output, the retained spectrum after the forward
    transform (before the contraction), overflow flag, largest intermediate magnitude, the pre-scale
    exponent applied (0 if none), per-stage maxima and the fraction of nonzero inputs the input cast flushed
    to zero."""

    output: np.ndarray
    spectrum: np.ndarray
    overflow: bool
    max_intermediate: float
    prescale_exp: int
    stage_max: dict[str, float]
    underflow: float = 0.0


class SpectralBlock:
    """Spectral block with complex weights ``(C_out, C_in, *mode_shape(modes))`` and a :class:`Policy`."""

    def __init__(self, weights: np.ndarray, modes: int | Sequence[int], policy: Policy) -> None:
        w = np.asarray(weights)
        if not isinstance(policy, Policy):
            raise ErrboundError(f"policy must be a Policy (see errbound.policy.parse_policy), got {policy!r}")
        if w.ndim < 3:
            raise ErrboundError(f"weights must have shape (C_out, C_in, *mode_shape), got {w.shape}")
        d = w.ndim - 2
        ks = list(as_modes(modes, d))
        expected = mode_shape(ks)
        if w.shape[2:] != expected:
            raise ErrboundError(f"weights for modes {ks} must have mode shape {expected}, got {w.shape[2:]}")
        if not np.all(np.isfinite(w)):
            raise ErrboundError("weights contain NaN or inf")
        self.weights = w.astype(np.complex128)
        self.modes = ks
        self.dim = d
        self.policy = policy

    # ---- input handling ----
    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating) and not np.issubdtype(x.dtype, np.integer):
            raise ErrboundError(f"block input must be real numbers, got dtype {x.dtype}")
        if x.ndim != self.dim + 2:
            raise ErrboundError(
                f"block input must have shape (batch, C_in, *grid) with {self.dim} grid axes, got shape {x.shape}"
            )
        if x.shape[1] != self.weights.shape[1]:
            raise ErrboundError(f"input has {x.shape[1]} channels, weights expect C_in = {self.weights.shape[1]}")
        if x.size == 0:
            raise ErrboundError(f"block input is empty (shape {x.shape})")
        x = x.astype(np.float64)
        if not np.all(np.isfinite(x)):
            raise ErrboundError("block input contains NaN or inf (values beyond float64's range); clean the data")
        check_modes(x.shape[2:], self.modes)
        return x

    @property
    def grid_axes(self) -> tuple[int, ...]:
        return tuple(range(2, 2 + self.dim))

    # ---- exact (float64) reference ----
    def reference(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Float64 reference of the same mathematics (stabilizer applied exactly, no roundings):
        returns (output, retained spectrum)."""
        x = self._check_input(x)
        z = self._stabilize_exact(x)
        idx = retained_indices(x.shape[2:], self.modes)
        X = np.fft.rfftn(z, axes=self.grid_axes, norm="forward")[np.ix_(*([np.arange(s) for s in x.shape[:2]] + idx))]
        Y = np.einsum("oi...,bi...->bo...", self.weights, X)
        return self._synth_exact(Y, x.shape[2:]), X

    def _stabilize_exact(self, x: np.ndarray) -> np.ndarray:
        st = self.policy.stabilizer
        if st.kind == "tanh":
            return np.tanh(x)
        if st.kind == "clip":
            return np.clip(x, -st.bound, st.bound)
        if st.kind == "sigma2":
            lo, hi = std_bounds(x, st.nsigma, self.dim)
            return np.clip(x, lo, hi)
        return x

    def _synth_exact(self, Y: np.ndarray, grid: Sequence[int]) -> np.ndarray:
        idx = retained_indices(grid, self.modes)
        half = tuple(grid[:-1]) + (grid[-1] // 2 + 1,)
        full = np.zeros(Y.shape[:2] + half, dtype=np.complex128)
        full[np.ix_(*([np.arange(s) for s in Y.shape[:2]] + idx))] = Y
        return np.fft.irfftn(full, s=tuple(grid), axes=self.grid_axes, norm="forward")

    # ---- emulation ----
    def run(self, x: np.ndarray) -> BlockResult:
        """Run the emulated block (:func:`errbound.block.run_block`); never raises on overflow (inf/NaN
        propagate, ``overflow`` is set)."""
        x = self._check_input(x)
        with np.errstate(over="ignore", invalid="ignore"):
            r: BlockRun = run_block(x, self.weights.real.copy(), self.weights.imag.copy(), self.modes, self.policy)
        spectrum = np.empty(r.spectrum.shape[1:], dtype=np.complex128)
        spectrum.real, spectrum.imag = r.spectrum[0], r.spectrum[1]
        return BlockResult(r.output, spectrum, r.overflow, r.max_intermediate, r.prescale_exp, r.stage_max,
                           r.underflow)

    def prescale_exponent(self, x: np.ndarray) -> int:
        """The ``pow2`` pre-scale exponent ``e <= 0`` for input ``x`` (:func:`errbound.block.pow2_exponent`
        of :func:`errbound.block.pow2_bound`, for the narrowest format of the policy), whether or not the
        policy's stabilizer is ``pow2``."""
        x = np.abs(np.asarray(x, dtype=np.float64))
        grid = tuple(x.shape[2:])
        bound = pow2_bound(float(x.max()), float(x.sum(axis=self.grid_axes).max()), grid, self.policy)
        return pow2_exponent(bound, self.policy.narrowest)

    # ---- composite bound (P5) ----
    def bound_stages(self, x: np.ndarray):  # type: ignore[no-untyped-def]
        """Stage list of the composite spectral-block bound P5 for input ``x`` (see
        :mod:`errbound.bounds.precision`): (stages_to_spectrum, stages_after_spectrum)."""
        x = self._check_input(x)
        pol = self.policy
        grid = list(x.shape[2:])
        batch = x.shape[0] * x.shape[1]
        m = math.prod(grid)
        count = batch * m
        st: list = [bp.cast_stage(pol.input_fmt, count, pol.forward.mode, "cast.input")]
        stab = pol.stabilizer
        ci = bp.op_constants(pol.input_fmt, pol.forward.mode)
        if stab.kind == "tanh":
            st.append(bp.Stage("tanh", 1.0, ci.u, ci.tau * math.sqrt(count), linear=False))
        elif stab.kind == "clip":
            st.append(bp.Stage("clip", 1.0, 0.0, 0.0, linear=False))
        elif stab.kind == "sigma2":
            # thresholds from the cast data differ from the exact ones by at most delta (docs, P5)
            mean_abs = float(np.mean(np.abs(x)))
            rms = float(np.sqrt(np.mean(x * x)))
            lo, hi = std_bounds(x, stab.nsigma, self.dim)
            big = float(max(np.max(np.abs(lo)), np.max(np.abs(hi))))
            delta = ci.u * mean_abs + stab.nsigma * ci.u * rms * (1 + ci.u) + ci.u * big * (1 + ci.u) + ci.tau
            delta *= 1 + 2 * ci.u
            st.append(bp.Stage("std_clip", 1.0, 0.0, delta * math.sqrt(count), linear=False))
        elif stab.kind == "pow2":
            pass  # exact power-of-two scaling (underflow of the scaled cast is in cast.input's tau)
        half = grid[:-1] + [grid[-1] // 2 + 1]
        idx = retained_indices(grid, self.modes)
        # per-axis counts in the bounds' (k per side, k on the last axis) convention: 2 ceil(m/2) >= m retained
        # entries on the other axes (a superset: the bound stays an upper bound), m // 2 + 1 on the last
        ks = [(m + 1) // 2 for m in self.modes[:-1]] + [self.modes[-1] // 2 + 1]
        kept = batch * math.prod(len(i) for i in idx)
        f = pol.forward
        if f.kind == "fft":
            const = f.twiddle_fmt if f.twiddle_fmt is not None else f.fmt
            if f.fmt != pol.input_fmt:
                st.append(bp.cast_stage(f.fmt, count, f.mode, "cast.fwd"))
            st += bp.rfftn_stages(grid, f.fmt, const_fmt=const, cmul=f.cmul, mode=f.mode, batch=batch)
            out_count = 2 * batch * math.prod(half)
            st.append(bp.scale_stage(1.0 / m, f.fmt, const, out_count, f.mode, "normalize"))
            st.append(bp.Stage("truncate", 1.0, 0.0))
        else:
            st += bp.dft_matmul_stages(grid, ks, f.fmt, f.acc_fmt, out_fmt=f.out_fmt, norm="forward", mode=f.mode,
                                       batch=batch)
        if pol.spectrum_fmt is not None:
            st.append(bp.cast_stage(pol.spectrum_fmt, 2 * kept, f.mode, "cast.spectrum"))
        to_spectrum = list(st)
        c = pol.contraction
        after = bp.contraction_stage(self.weights, c.input_fmt, c.acc_fmt, product_fmt=c.product_fmt,
                                     out_fmt=c.out_fmt, mode=c.mode, batch=x.shape[0])
        inv = pol.inverse
        batch_out = x.shape[0] * self.weights.shape[0]
        if inv.kind == "fft":
            const = inv.twiddle_fmt if inv.twiddle_fmt is not None else inv.fmt
            after.append(bp.Stage("zero_fill", 1.0, 0.0))
            after.append(bp.cast_stage(inv.fmt, 2 * batch_out * math.prod(half), inv.mode, "cast.inv"))
            after += bp.irfftn_stages(grid, inv.fmt, const_fmt=const, cmul=inv.cmul, mode=inv.mode, batch=batch_out)
        else:
            after += bp.idft_matmul_stages(grid, ks, inv.fmt, inv.acc_fmt, out_fmt=inv.out_fmt, norm="forward",
                                           mode=inv.mode, batch=batch_out)
        return to_spectrum, after
