"""Emulated spectral block of a Fourier layer, with per-stage formats and policies.

The block maps real input ``v`` of shape ``(batch, C_in, *grid)`` to ``(batch, C_out, *grid)``:

1. **input cast**: ``z = fl_in(v)`` (round into ``BlockPolicy.input_fmt``);
2. **stabilizer** (:class:`Stabilizer`): ``none``; ``tanh`` (``fl_in(tanh z)``); ``clip``
   (``clip(z, -c, c)``, c rounded into the input format, exact); ``std_clip`` (clip to
   ``mean +- nstd * std`` per sample and channel, statistics in float64 from ``z``, thresholds rounded
   into the input format); ``prescale`` (multiply by the power of two ``2**e`` of
   :func:`errbound.emulate.optimal_prescale_exponent`, undone exactly at the end);
3. **forward transform** (:class:`TransformPolicy`): the emulated ``rfftn`` (``kind="fft"``, norm
   "forward", scaling after the unnormalized transform as cuFFT does) followed by truncation, or
   the truncated DFT as a matrix product (``kind="dft"``, tensor-core model);
4. **truncation** to the FNO mode layout: ``0..k-1`` on the last (real) axis and ``0..k-1, n-k..n-1``
   on the others; an optional cast of the spectrum (``spectrum_fmt``: the "cast to complex-half" of
   the mixed mode);
5. **complex contraction** (:class:`ContractionPolicy`) ``Y[o, w] = sum_i R[o, i, w] X[i, w]`` in real
   pairs: ``Re = sum_i (Xr Rr - Xi Ri)``, ``Im = sum_i (Xr Ri + Xi Rr)``; operands rounded into
   ``input_fmt``, each product rounded into ``product_fmt`` (``None``: exact, the tensor-core model),
   the ``2 C_in`` products of one component accumulated left to right (real-part products first)
   in ``acc_fmt``, the result rounded into ``out_fmt``;
6. **inverse transform**: emulated ``irfftn`` of the zero-filled half spectrum (norm "forward": no
   scaling, so the output is ``sum_w Y(w) e^{2 pi i w.x}``), or the matrix-product synthesis.

Presets (:func:`preset`; NOTES.md section 3, with the low format ``low``, default fp16):

* ``full``: every stage in fp32 (fp32 twiddles, fp32 contraction);
* ``mixed``: fp32 input and forward FFT, spectrum cast to ``low``, contraction with ``low`` operands,
  exact products, fp32 accumulation, ``low`` result, inverse FFT in ``low``;
* ``half``: input cast to ``low``, forward FFT, contraction and inverse FFT in ``low``;
* ``dft-half`` / ``dft-bf16``: both transforms as matrix products with ``low`` (fp16, resp. bf16)
  operands and fp32 accumulation, results rounded into the low format; contraction as in ``half``.

Assumption (documented, not verified on a GPU here): the half contraction accumulates in fp32 like
cuBLAS half GEMMs with fp32 compute; pass a ContractionPolicy with ``acc_fmt=low`` to model fp16
accumulation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from errbound.errors import ErrboundError
from errbound.formats import Format, get_format

__all__ = [
    "Stabilizer", "TransformPolicy", "ContractionPolicy", "BlockPolicy", "PRESETS", "preset",
    "SpectralBlock", "BlockResult", "retained_slices", "random_weights", "STABILIZERS",
]

STABILIZERS = ("none", "tanh", "clip", "std_clip", "prescale")
PRESETS = ("full", "mixed", "half", "dft-half", "dft-bf16")
_MODES = ("rne", "rna", "rz", "ru", "rd")


def _fmt(value: object, what: str) -> Format:
    if isinstance(value, (str, Format)):
        return get_format(value)
    raise ErrboundError(f"{what} must be a format name such as 'fp16' or a Format, got {value!r}")


def _opt_fmt(value: object, what: str) -> Format | None:
    return None if value is None else _fmt(value, what)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Stabilizer:
    """What is applied to the tensor entering the forward transform (not to any skip path)."""

    kind: Literal["none", "tanh", "clip", "std_clip", "prescale"] = "none"
    clip: float = 1.0
    nstd: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in STABILIZERS:
            raise ErrboundError(f"unknown stabilizer {self.kind!r}; choose one of {', '.join(STABILIZERS)}")
        if not (math.isfinite(self.clip) and self.clip > 0):
            raise ErrboundError(f"clip value must be a positive finite number, got {self.clip!r}")
        if not (math.isfinite(self.nstd) and self.nstd > 0):
            raise ErrboundError(f"nstd must be a positive finite number, got {self.nstd!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransformPolicy:
    """A forward or inverse transform: ``kind="fft"`` (emulated FFT in ``fmt`` with twiddles in
    ``twiddle_fmt`` (None: ``fmt``) and complex products ``cmul``) or ``kind="dft"`` (matrix product,
    operands in ``fmt``, accumulation in ``acc_fmt``, result rounded into ``out_fmt``)."""

    kind: Literal["fft", "dft"] = "fft"
    fmt: Format
    twiddle_fmt: Format | None = None
    cmul: Literal["fma", "4m2a"] = "fma"
    acc_fmt: Format | None = None
    out_fmt: Format | None = None
    mode: str = "rne"

    def __post_init__(self) -> None:
        object.__setattr__(self, "fmt", _fmt(self.fmt, "fmt"))
        object.__setattr__(self, "twiddle_fmt", _opt_fmt(self.twiddle_fmt, "twiddle_fmt"))
        object.__setattr__(self, "acc_fmt", _opt_fmt(self.acc_fmt, "acc_fmt"))
        object.__setattr__(self, "out_fmt", _opt_fmt(self.out_fmt, "out_fmt"))
        if self.kind not in ("fft", "dft"):
            raise ErrboundError(f"transform kind must be 'fft' or 'dft', got {self.kind!r}")
        if self.mode not in _MODES:
            raise ErrboundError(f"rounding mode must be one of {_MODES}, got {self.mode!r}")
        if self.kind == "dft" and self.acc_fmt is None:
            raise ErrboundError("a matrix-product transform (kind='dft') needs acc_fmt, e.g. 'fp32'")
        if self.kind == "fft":
            self.fft_config()  # validate the combination now

    def fft_config(self):  # type: ignore[no-untyped-def]
        from errbound.emulate import FFTConfig

        return FFTConfig(fmt=self.fmt, mode=self.mode, twiddle_fmt=self.twiddle_fmt, cmul=self.cmul, scaling="after")

    def matmul_config(self):  # type: ignore[no-untyped-def]
        from errbound.emulate import MatmulConfig

        return MatmulConfig(input_fmt=self.fmt, acc_fmt=self.acc_fmt, out_fmt=self.out_fmt, mode=self.mode)

    @property
    def result_fmt(self) -> Format:
        if self.kind == "fft":
            return self.fmt
        return self.out_fmt if self.out_fmt is not None else self.acc_fmt  # type: ignore[return-value]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContractionPolicy:
    """Formats of the complex contraction done in real pairs (see the module docstring)."""

    input_fmt: Format
    acc_fmt: Format
    product_fmt: Format | None = None
    out_fmt: Format | None = None
    mode: str = "rne"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_fmt", _fmt(self.input_fmt, "input_fmt"))
        object.__setattr__(self, "acc_fmt", _fmt(self.acc_fmt, "acc_fmt"))
        object.__setattr__(self, "product_fmt", _opt_fmt(self.product_fmt, "product_fmt"))
        object.__setattr__(self, "out_fmt", _opt_fmt(self.out_fmt, "out_fmt"))
        if self.mode not in _MODES:
            raise ErrboundError(f"rounding mode must be one of {_MODES}, got {self.mode!r}")
        if self.product_fmt is None and 2 * self.input_fmt.t > 53:
            raise ErrboundError(
                f"exact products need 2 t <= 53, {self.input_fmt.name} has t={self.input_fmt.t}; "
                "give product_fmt (e.g. 'fp32')"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class BlockPolicy:
    """Per-stage formats and policies of the emulated spectral block."""

    name: str = "custom"
    input_fmt: Format
    stabilizer: Stabilizer = Stabilizer()
    forward: TransformPolicy
    spectrum_fmt: Format | None = None
    contraction: ContractionPolicy
    inverse: TransformPolicy

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_fmt", _fmt(self.input_fmt, "input_fmt"))
        object.__setattr__(self, "spectrum_fmt", _opt_fmt(self.spectrum_fmt, "spectrum_fmt"))
        for field, cls in (("stabilizer", Stabilizer), ("forward", TransformPolicy),
                           ("contraction", ContractionPolicy), ("inverse", TransformPolicy)):
            if not isinstance(getattr(self, field), cls):
                raise ErrboundError(f"BlockPolicy.{field} must be a {cls.__name__}, got {getattr(self, field)!r}")

    def with_stabilizer(self, stabilizer: Stabilizer | str) -> "BlockPolicy":
        st = stabilizer if isinstance(stabilizer, Stabilizer) else Stabilizer(kind=stabilizer)
        return dataclasses.replace(self, stabilizer=st)

    def formats(self) -> list[str]:
        """Names of every format the policy uses (for reports)."""
        names = {self.input_fmt.name, self.forward.fmt.name, self.inverse.fmt.name,
                 self.contraction.input_fmt.name, self.contraction.acc_fmt.name}
        return sorted(names)


def preset(name: str, low: Format | str | None = None, *, stabilizer: Stabilizer | str = "none",
           twiddle_fmt: Format | str | None = None) -> BlockPolicy:
    """A named preset (``full``, ``mixed``, ``half``, ``dft-half``, ``dft-bf16``) with low format ``low``."""
    if name not in PRESETS:
        raise ErrboundError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    st = stabilizer if isinstance(stabilizer, Stabilizer) else Stabilizer(kind=stabilizer)
    fp32 = get_format("fp32")
    if name == "dft-bf16":
        if low is not None and get_format(low).name != "bf16":
            raise ErrboundError(
                f"preset dft-bf16 fixes the low format to bf16, got {get_format(low).name}; "
                "use --preset dft-half --format <fmt> for other formats"
            )
        lo = get_format("bf16")
    else:
        lo = get_format(low if low is not None else "fp16")
    if name == "full":
        return BlockPolicy(
            name="full", input_fmt=fp32, stabilizer=st,
            forward=TransformPolicy(fmt=fp32, twiddle_fmt=twiddle_fmt),
            contraction=ContractionPolicy(input_fmt=fp32, acc_fmt=fp32, out_fmt=fp32),
            inverse=TransformPolicy(fmt=fp32, twiddle_fmt=twiddle_fmt),
        )
    contraction = ContractionPolicy(input_fmt=lo, acc_fmt=fp32, out_fmt=lo)
    if name == "mixed":
        return BlockPolicy(
            name="mixed", input_fmt=fp32, stabilizer=st,
            forward=TransformPolicy(fmt=fp32), spectrum_fmt=lo, contraction=contraction,
            inverse=TransformPolicy(fmt=lo, twiddle_fmt=twiddle_fmt),
        )
    if name == "half":
        return BlockPolicy(
            name="half", input_fmt=lo, stabilizer=st,
            forward=TransformPolicy(fmt=lo, twiddle_fmt=twiddle_fmt), contraction=contraction,
            inverse=TransformPolicy(fmt=lo, twiddle_fmt=twiddle_fmt),
        )
    return BlockPolicy(
        name=name, input_fmt=lo, stabilizer=st,
        forward=TransformPolicy(kind="dft", fmt=lo, acc_fmt=fp32, out_fmt=lo), contraction=contraction,
        inverse=TransformPolicy(kind="dft", fmt=lo, acc_fmt=fp32, out_fmt=lo),
    )


# ---- mode layout and weights ---------------------------------------------------------------------------------------
def retained_slices(grid: Sequence[int], modes: int | Sequence[int]) -> tuple[list[np.ndarray], list[int]]:
    """Indices into the rfftn half spectrum of the retained modes (FNO layout) and the per-axis mode counts."""
    grid = [int(v) for v in grid]
    ks = [int(modes)] * len(grid) if isinstance(modes, (int, np.integer)) else [int(k) for k in modes]
    if len(ks) != len(grid):
        raise ErrboundError(f"need one mode count per grid axis ({len(grid)}), got {len(ks)}")
    idx = []
    for i, (n, k) in enumerate(zip(grid, ks)):
        if k < 1:
            raise ErrboundError(f"modes must be >= 1, got {k} on axis {i}")
        if n < 2 * k:
            raise ErrboundError(
                f"grid axis {i} has {n} points, too few for {k} modes: the FNO layout needs at least 2k = {2 * k} "
                f"points per axis; use a finer grid or modes <= {n // 2}"
            )
        if i == len(grid) - 1:
            idx.append(np.arange(k))
        else:
            idx.append(np.concatenate([np.arange(k), np.arange(n - k, n)]))
    return idx, ks


def random_weights(c_out: int, c_in: int, modes: Sequence[int], *, seed: int = 0, scale: float | None = None) -> np.ndarray:
    """Complex weights ``(C_out, C_in, 2k_1, ..., 2k_{d-1}, k_d)`` with i.i.d. standard complex normal
    entries times ``scale`` (default ``1/sqrt(C_in)``, keeping the output magnitude of the input's)."""
    modes = [int(k) for k in modes]
    shape = (c_out, c_in) + tuple(2 * k for k in modes[:-1]) + (modes[-1],)
    rng = np.random.default_rng(seed)
    sc = 1 / math.sqrt(c_in) if scale is None else scale
    return sc * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


@dataclasses.dataclass
class BlockResult:
    """Output of :meth:`SpectralBlock.run`: the block output, the retained spectrum after the forward
    transform (before the contraction), overflow flag, largest intermediate magnitude, the pre-scale
    exponent applied (0 if none) and per-stage maxima."""

    output: np.ndarray
    spectrum: np.ndarray
    overflow: bool
    max_intermediate: float
    prescale_exp: int
    stage_max: dict[str, float]


class SpectralBlock:
    """Spectral block with weights ``(C_out, C_in, *mode_layout)`` (complex) and a :class:`BlockPolicy`."""

    def __init__(self, weights: np.ndarray, modes: int | Sequence[int], policy: BlockPolicy) -> None:
        w = np.asarray(weights)
        if not isinstance(policy, BlockPolicy):
            raise ErrboundError(f"policy must be a BlockPolicy (see errbound.spectral_block.preset), got {policy!r}")
        if w.ndim < 3:
            raise ErrboundError(f"weights must have shape (C_out, C_in, *modes), got {w.shape}")
        d = w.ndim - 2
        ks = [int(modes)] * d if isinstance(modes, (int, np.integer)) else [int(k) for k in modes]
        if len(ks) != d:
            raise ErrboundError(f"weights have {d} mode axes but {len(ks)} mode counts were given")
        expected = tuple(2 * k for k in ks[:-1]) + (ks[-1],)
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
        if not np.all(np.isfinite(x)):
            raise ErrboundError("block input contains NaN or inf")
        retained_slices(x.shape[2:], self.modes)
        return x.astype(np.float64)

    @property
    def grid_axes(self) -> tuple[int, ...]:
        return tuple(range(2, 2 + self.dim))

    # ---- exact (float64) reference ----
    def reference(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Float64 reference of the same mathematics (stabilizer applied exactly, no roundings):
        returns (output, retained spectrum)."""
        x = self._check_input(x)
        z = self._stabilize_exact(x)
        idx, _ = retained_slices(x.shape[2:], self.modes)
        X = np.fft.rfftn(z, axes=self.grid_axes, norm="forward")[np.ix_(*([np.arange(s) for s in x.shape[:2]] + idx))]
        Y = np.einsum("oi...,bi...->bo...", self.weights, X)
        return self._synth_exact(Y, x.shape[2:]), X

    def _stabilize_exact(self, x: np.ndarray) -> np.ndarray:
        st = self.policy.stabilizer
        if st.kind == "tanh":
            return np.tanh(x)
        if st.kind == "clip":
            return np.clip(x, -st.clip, st.clip)
        if st.kind == "std_clip":
            lo, hi = _std_bounds(x, st.nstd, self.dim)
            return np.clip(x, lo, hi)
        return x

    def _synth_exact(self, Y: np.ndarray, grid: Sequence[int]) -> np.ndarray:
        idx, _ = retained_slices(grid, self.modes)
        half = tuple(grid[:-1]) + (grid[-1] // 2 + 1,)
        full = np.zeros(Y.shape[:2] + half, dtype=np.complex128)
        full[np.ix_(*([np.arange(s) for s in Y.shape[:2]] + idx))] = Y
        return np.fft.irfftn(full, s=tuple(grid), axes=self.grid_axes, norm="forward")

    # ---- emulation ----
    def run(self, x: np.ndarray) -> BlockResult:
        """Run the emulated block; never raises on overflow (inf/NaN propagate, ``overflow`` is set)."""
        from errbound import arith
        from errbound.emulate import Trace, dft_modes, idft_modes, irfftn, rfftn
        from errbound.rounding import round_to

        x = self._check_input(x)
        pol = self.policy
        grid = x.shape[2:]
        stage_max: dict[str, float] = {}

        def note(name: str, arr: np.ndarray) -> None:
            a = np.abs(np.asarray(arr))
            finite = a[np.isfinite(a)]
            stage_max[name] = float(finite.max()) if finite.size else 0.0
            if not np.all(np.isfinite(a)):
                stage_max[name + ".nonfinite"] = 1.0

        with np.errstate(over="ignore", invalid="ignore"):
            z = round_to(x, pol.input_fmt, pol.forward.mode)
            note("cast", z)
            z, e = self._stabilize(z)
            note("stabilizer", z)
            idx, ks = retained_slices(grid, self.modes)
            lead = [np.arange(s) for s in x.shape[:2]]
            if pol.forward.kind == "fft":
                tr = Trace()
                X = rfftn(z, pol.forward.fft_config(), axes=self.grid_axes, norm="forward", trace=tr)
                for rec in tr.stages:
                    stage_max["fwd." + rec.name] = rec.max_abs
                    if rec.nonfinite:
                        stage_max["fwd." + rec.name + ".nonfinite"] = 1.0
                X = X[np.ix_(*(lead + idx))]
            else:
                X = dft_modes(z, ks, pol.forward.matmul_config(), axes=self.grid_axes, real=True, norm="forward")
                note("fwd.dft", X)
            if pol.spectrum_fmt is not None:
                X = round_to(X, pol.spectrum_fmt, pol.forward.mode)
            spectrum = X
            Y = self._contract(X, arith, round_to)
            note("contract", Y)
            if pol.inverse.kind == "fft":
                half = tuple(grid[:-1]) + (grid[-1] // 2 + 1,)
                full = np.zeros(Y.shape[:2] + half, dtype=np.complex128)
                full[np.ix_(*([np.arange(s) for s in Y.shape[:2]] + idx))] = Y
                if np.all(np.isfinite(full)):
                    tr = Trace()
                    out = irfftn(full, pol.inverse.fft_config(), s=tuple(grid), axes=self.grid_axes, norm="forward",
                                 trace=tr)
                    for rec in tr.stages:
                        stage_max["inv." + rec.name] = rec.max_abs
                        if rec.nonfinite:
                            stage_max["inv." + rec.name + ".nonfinite"] = 1.0
                else:
                    out = np.full(x.shape[:1] + (Y.shape[1],) + tuple(grid), np.nan)
            else:
                if np.all(np.isfinite(Y)):
                    out = idft_modes(Y, grid, pol.inverse.matmul_config(), axes=self.grid_axes, real=True,
                                     norm="forward")
                else:
                    out = np.full(x.shape[:1] + (Y.shape[1],) + tuple(grid), np.nan)
                note("inv.dft", out)
            if e:
                out = round_to(out * 2.0**-e, pol.inverse.result_fmt, pol.inverse.mode)
                spectrum = spectrum * 2.0**-e  # reported in data units (exact power-of-two scaling)
        overflow = any(k.endswith(".nonfinite") for k in stage_max) or not np.all(np.isfinite(out))
        mx = max((v for k, v in stage_max.items() if not k.endswith(".nonfinite")), default=0.0)
        return BlockResult(out, spectrum, bool(overflow), mx, e, stage_max)

    def _stabilize(self, z: np.ndarray) -> tuple[np.ndarray, int]:
        from errbound.rounding import round_to

        st = self.policy.stabilizer
        fmt = self.policy.input_fmt
        mode = self.policy.forward.mode
        if st.kind == "tanh":
            return round_to(np.tanh(z), fmt, mode), 0
        if st.kind == "clip":
            c = float(round_to(np.float64(st.clip), fmt, "rz"))
            return np.clip(z, -c, c), 0
        if st.kind == "std_clip":
            lo, hi = _std_bounds(z, st.nstd, self.dim)
            return np.clip(z, round_to(lo, fmt, mode), round_to(hi, fmt, mode)), 0
        if st.kind == "prescale":
            e = self.prescale_exponent(z)
            return round_to(z * 2.0**e, fmt, mode), e
        return z, 0

    def prescale_exponent(self, z: np.ndarray) -> int:
        """Power-of-two pre-scale exponent ``e <= 0`` for the block.

        FFT path: the optimal exponent of :func:`errbound.emulate.optimal_prescale_exponent` for the forward
        transform run in the narrowest-range format the block uses, capped at 0.
        Matrix-product (DFT) path: the rounded intermediates are the unnormalised partial sums over every
        transformed axis but the last one processed (``axes[0]``; the forward factor is applied in the
        accumulator before the final rounding), so ``|.| <= B = max|z| * prod(n_i, i != axes[0])``; with
        ``B = m 2^p`` (``m`` in [1/2, 1)) the exponent is ``-max(0, p - (emax - 1))`` for the narrowest format:
        the rule of the trainer's ``pow2`` stabilizer on its emulated 8-bit block
        (:mod:`errbound.train.spectral`). It is 0 for fp16 and bf16 at any practical size."""
        from errbound.emulate import optimal_prescale_exponent

        pol = self.policy
        used = [pol.input_fmt, pol.forward.fmt, pol.contraction.input_fmt, pol.inverse.fmt]
        if pol.spectrum_fmt is not None:
            used.append(pol.spectrum_fmt)
        narrow = min(used, key=lambda f: f.max)
        if pol.forward.kind != "fft":
            grid = [z.shape[a] for a in self.grid_axes]
            bound = float(np.max(np.abs(z))) * math.prod(grid[1:])
            if not bound > 0 or not math.isfinite(bound):
                return 0
            _, p = math.frexp(bound)
            return -max(0, p - (narrow.emax - 1))
        cfg = dataclasses.replace(pol.forward, fmt=narrow, twiddle_fmt=None).fft_config()
        choice = optimal_prescale_exponent(z, cfg, transform="rfftn", axes=self.grid_axes, norm="forward")
        # only scale down: scaling up would move the risk to the contraction and inverse transform
        return min(int(choice.exponent), 0)

    def _contract(self, X: np.ndarray, arith, round_to) -> np.ndarray:  # type: ignore[no-untyped-def]
        c = self.policy.contraction
        Xr = round_to(X.real, c.input_fmt, c.mode)
        Xi = round_to(X.imag, c.input_fmt, c.mode)
        R = self.weights
        Rr = round_to(R.real, c.input_fmt, c.mode)
        Ri = round_to(R.imag, c.input_fmt, c.mode)
        # products, shape (batch, C_out, C_in, *modes)
        def prod(a: np.ndarray, w: np.ndarray) -> np.ndarray:
            p = a[:, None] * w[None]
            if c.product_fmt is not None:
                p = arith.mul(a[:, None], w[None], c.product_fmt, c.mode)
            return p
        re_terms = np.concatenate([prod(Xr, Rr), -prod(Xi, Ri)], axis=2)
        im_terms = np.concatenate([prod(Xr, Ri), prod(Xi, Rr)], axis=2)
        re = arith.sum_(re_terms, c.acc_fmt, order="recursive", axis=2, mode=c.mode)
        im = arith.sum_(im_terms, c.acc_fmt, order="recursive", axis=2, mode=c.mode)
        if c.out_fmt is not None:
            re = round_to(re, c.out_fmt, c.mode)
            im = round_to(im, c.out_fmt, c.mode)
        out = np.empty(re.shape, dtype=np.complex128)
        out.real, out.imag = re, im
        return out

    # ---- composite bound (P5) ----
    def bound_stages(self, x: np.ndarray):  # type: ignore[no-untyped-def]
        """Stage list of the composite spectral-block bound P5 for input ``x`` (see
        :mod:`errbound.bounds.precision`): (stages_to_spectrum, stages_after_spectrum)."""
        from errbound.bounds import precision as bp

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
        elif stab.kind == "std_clip":
            # thresholds from the cast data differ from the exact ones by at most delta (docs, P5)
            mean_abs = float(np.mean(np.abs(x)))
            rms = float(np.sqrt(np.mean(x * x)))
            lo, hi = _std_bounds(x, stab.nstd, self.dim)
            big = float(max(np.max(np.abs(lo)), np.max(np.abs(hi))))
            delta = ci.u * mean_abs + stab.nstd * ci.u * rms * (1 + ci.u) + ci.u * big * (1 + ci.u) + ci.tau
            delta *= 1 + 2 * ci.u
            st.append(bp.Stage("std_clip", 1.0, 0.0, delta * math.sqrt(count), linear=False))
        elif stab.kind == "prescale":
            pass  # exact power-of-two scaling (underflow of the scaled cast is in cast.input's tau)
        half = grid[:-1] + [grid[-1] // 2 + 1]
        idx, ks = retained_slices(grid, self.modes)
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


def _std_bounds(x: np.ndarray, nstd: float, dim: int) -> tuple[np.ndarray, np.ndarray]:
    axes = tuple(range(x.ndim - dim, x.ndim))
    mean = np.mean(x, axis=axes, keepdims=True)
    std = np.std(x, axis=axes, keepdims=True)
    return mean - nstd * std, mean + nstd * std
