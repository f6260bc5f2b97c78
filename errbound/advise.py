"""Choose a precision before training, from the data itself.

:func:`advise` answers "which spectral-block precision is safe for *this* data?" in three steps.

1. **The data's own discretization error** at its resolution s, for a Fourier layer keeping K modes per
   axis (neuraloperator/``errbound train --modes`` convention: frequencies ``|w_i| < K/2``). By the aliasing
   identity (NOTES.md s1) the error of a retained coefficient is ``E_s(w) = sum_{q != 0} vhat(w + s q)``; we
   estimate its size relative to the retained coefficients in two independent ways:

   * *spectral tail*: fit the radial amplitude law ``A(r) ~ C r^-beta`` of the data's spectrum on the upper
     part of the grid's band (s/8 < r <= s/2) and sum the aliases with random phases,
     ``|E_s(w)| ~ sqrt(sum_{q != 0} A(s |q|)^2)``;
   * *subsampling*: the retained coefficients of the data subsampled to s/2 differ from those at s by
     ``E_{s/2} - E_s``; with ``E_s ~ s^-beta`` this is ``(2^beta - 1) E_s``, so
     ``E_s ~ ||V_{s/2} - V_s|| / (2^beta - 1)`` (needs s/2 >= K).

   ``discretization_err`` is the subsampling estimate when available (it measures the data directly), else
   the tail estimate; both are reported. Both are medians over the analysed samples.

2. **The precision error** of the spectral block for each candidate format and preset (``full``, ``mixed``,
   ``half``, ``dft-half``, ``dft-bf16`` of :mod:`errbound.spectral_block`), emulated on a sample of the data
   with every operation rounded as the hardware would: relative L2 error of the block output against the
   float64 block, worst sample. Weights: i.i.d. complex normal (:func:`errbound.spectral_block.random_weights`),
   a stand-in for trained weights (the error is relative, so their scale cancels).

3. **Overflow**: does the emulated block (no stabilizer) produce inf/NaN? If so, the fix is the exact
   power-of-two pre-scale (:func:`errbound.emulate.optimal_prescale_exponent`; the block is linear, so the
   function is unchanged), checked by re-running the emulation; tanh is the fallback when pre-scaling cannot
   avoid overflow. The reported ``prec_err`` is that of the fixed block.

A candidate is ``ok`` when its (fixed) block is finite and ``prec_err <= tolerance * discretization_err``.
With ``target_error`` (the relative test error the user expects from the model in full precision) each
candidate also gets the accuracy criterion: ``predicted_gap = sqrt(1 + (prec_err / target_error)^2) - 1``
(the block's relative error added in quadrature to the model's own error; :func:`predicted_gap`) and
``ok_for_target = predicted_gap <= tolerance``, with its own ``recommended_for_target``. The discretization
criterion is sufficient whenever the model's error is at least the data's discretization error; the
accuracy criterion is the sharper one when the model's error is known (``errbound validate`` compares both).
The recommendation is the cheapest ``ok`` candidate that ``errbound train`` runs natively (cost: storage bits,
then matrix-product DFT < FFT half < mixed < full, then the smaller error), with the exact flags to pass.
The fp8 ``dft-half`` candidates are ``trainable`` (the trainer's emulated 8-bit block, ``half-fp8e4m3fn`` /
``half-fp8e5m2``, computes the same arithmetic) but never ``recommendable``: the emulation is slower than a
16-bit block; it exists so that ``errbound validate`` can check fp8 verdicts against training.
Caveat: the advisor analyses the data as given; inside a trained network the block sees hidden activations
after the lifting layer and the trainer's input normalisation, so the fp16 overflow risk there is handled
at run time by the trainer's ``pow2`` stabilizer (its default for fp16), which this check motivates.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from errbound.errors import ErrboundError

__all__ = ["Candidate", "Advice", "advise", "load_data", "estimate_discretization_error", "DEFAULT_MODES",
           "PRESET_COST", "storage_bits", "predicted_gap"]

#: Discretization estimates at or above this are "unresolved": the aliased tail is at least half the size of the
#: retained coefficients, so the grid does not resolve the retained modes (white noise gives about 1) and
#: ``tolerance x discretization_err`` would accept any precision; the advisor then accepts no reduced precision
#: on that criterion and says why (the accuracy criterion, ``target_error``, still applies).
UNRESOLVED = 0.5
#: Default modes per axis (``errbound train`` defaults), by dimension.
DEFAULT_MODES = {1: 32, 2: 24, 3: 16}
#: Relative cost rank of the presets (lower is cheaper on a GPU; NOTES.md s3, issue 6 probe numbers).
PRESET_COST = {"dft-half": 0, "dft-bf16": 0, "half": 1, "mixed": 2, "full": 3}
_TRAINABLE_LOW = ("fp16", "bf16")
#: 8-bit formats the trainer can run as an *emulated* block (``dft-half`` only); never recommended, since the
#: emulation is slower than a native 16-bit block, but trainable so that ``errbound validate`` can check them.
_EMULATED_TRAINABLE = {"fp8_e4m3fn": "fp8e4m3fn", "fp8_e5m2": "fp8e5m2"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Candidate:
    """One format x preset: its emulated precision error, overflow risk and fix, verdict and train flags."""

    format: str
    preset: str
    prec_err: float
    overflow: bool
    fix: dict[str, Any] | None
    ok: bool
    trainable: bool
    recommendable: bool
    train_flags: list[str] | None
    cost: tuple
    predicted_gap: float | None = None
    ok_for_target: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["cost"] = list(self.cost)
        return d


@dataclasses.dataclass(frozen=True, kw_only=True)
class Advice:
    """Result of :func:`advise` (``as_dict`` gives the CLI's JSON)."""

    discretization_err: float
    discretization: dict[str, Any]
    tolerance: float
    modes: int
    grid: tuple[int, ...]
    n_samples: int
    candidates: list[Candidate]
    recommended: dict[str, Any]
    target_error: float | None = None
    recommended_for_target: dict[str, Any] | None = None
    warning: str | None = None

    def as_dict(self) -> dict[str, Any]:
        extra = {} if self.target_error is None else {"target_error": self.target_error,
                                                       "recommended_for_target": self.recommended_for_target}
        if self.warning is not None:
            extra["warning"] = self.warning
        return {**extra,
            "discretization_err": self.discretization_err,
            "discretization": self.discretization,
            "tolerance": self.tolerance,
            "modes": self.modes,
            "grid": list(self.grid),
            "n_samples": self.n_samples,
            "candidates": [c.as_dict() for c in self.candidates],
            "recommended": self.recommended,
        }


# ---- data --------------------------------------------------------------------------------------------------------
def load_data(path: str | Path, key: str | None = None, sample_axis: str | None = None) -> np.ndarray:
    """Read samples ``(N, *grid)`` as float64 from .npy, .npz or the neuraloperator .pt layout
    (see :func:`errbound.data_io.load_samples`, which validates rank, finiteness and emptiness)."""
    from errbound.data_io import load_samples

    return check_samples(load_samples(path, key=key, sample_axis=sample_axis), str(path))


def check_samples(arr: Any, what: str = "data") -> np.ndarray:
    """Validate samples of shape (N, *grid), grid of 1 to 3 axes each >= 4 points, finite, real."""
    arr = np.asarray(arr)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ErrboundError(f"{what}: samples must be real numbers, got dtype {arr.dtype}")
    if not 2 <= arr.ndim <= 4:
        raise ErrboundError(
            f"{what}: expected an array of shape (N, *grid) with 1 to 3 grid axes, got shape {arr.shape}; "
            "add a leading sample axis for a single sample"
        )
    if arr.size == 0 or arr.shape[0] == 0:
        raise ErrboundError(f"{what}: no samples (shape {arr.shape})")
    if min(arr.shape[1:]) < 4:
        raise ErrboundError(f"{what}: grid {arr.shape[1:]} is too small; every grid axis needs at least 4 points")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ErrboundError(f"{what}: {bad} NaN/inf value(s); clean or mask the data before advising")
    return arr


# ---- discretization ----------------------------------------------------------------------------------------------
def _retained(spec: np.ndarray, h: int) -> np.ndarray:
    """Retained coefficients |w_i| <= h of an rfftn output (batch axis first), flattened per sample."""
    grid_dims = spec.ndim - 1
    idx = []
    for ax in range(grid_dims):
        n = spec.shape[ax + 1]
        idx.append(np.arange(h + 1) if ax == grid_dims - 1 else np.r_[0:h + 1, n - h:n])
    sub = spec[np.ix_(np.arange(spec.shape[0]), *idx)]
    return sub.reshape(spec.shape[0], -1)


def _radial_spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean amplitude |V(w)| (norm='forward') per integer shell r = round(|w|_2), averaged over samples."""
    grid = x.shape[1:]
    spec = np.abs(np.fft.fftn(x, axes=tuple(range(1, x.ndim)), norm="forward"))
    freqs = np.meshgrid(*[np.fft.fftfreq(n, 1.0 / n) for n in grid], indexing="ij")
    r = np.rint(np.sqrt(sum(f ** 2 for f in freqs))).astype(int)
    amp = spec.mean(axis=0)
    rmax = min(grid) // 2
    shells = np.arange(1, rmax + 1)
    means = np.array([amp[r == k].mean() if np.any(r == k) else np.nan for k in shells])
    return shells, means


def _alias_factor(beta: float, d: int, Q: int = 16) -> float:
    """sqrt(sum_{q in Z^d, 0 < |q|_inf <= Q} |q|_2^(-2 beta)) (random-phase sum of aliases, truncated)."""
    ax = np.arange(-Q, Q + 1)
    grids = np.meshgrid(*([ax] * d), indexing="ij")
    q2 = sum(g.astype(float) ** 2 for g in grids)
    q2 = q2[q2 > 0]
    return float(math.sqrt(np.sum(q2 ** (-beta))))


def estimate_discretization_error(x: np.ndarray, modes: int) -> dict[str, Any]:
    """Relative discretization error of the retained coefficients of samples ``x`` (N, *grid); see the module
    docstring. Returns ``value`` (the estimate used), ``tail``, ``subsample`` (None when s/2 < K), the fitted
    amplitude decay exponent ``beta`` and the ``method`` used."""
    x = check_samples(x)
    d = x.ndim - 1
    s = min(x.shape[1:])
    h = max(1, modes // 2)  # retained |w_i| <= K/2 (K modes per axis, neuraloperator convention)
    spec = np.fft.rfftn(x, axes=tuple(range(1, x.ndim)), norm="forward")
    ret = _retained(spec, h)
    ret_norm = np.linalg.norm(ret, axis=1)
    if np.all(ret_norm == 0):
        raise ErrboundError("data: every retained Fourier coefficient is zero; the relative error is undefined")
    shells, amps = _radial_spectrum(x)
    lo = max(2, s // 8)
    sel = (shells >= lo) & (shells <= s // 2) & np.isfinite(amps) & (amps > 0)
    if np.count_nonzero(sel) >= 2:
        slope, intercept = np.polyfit(np.log(shells[sel]), np.log(amps[sel]), 1)
        beta = float(min(max(-slope, 0.25), 12.0))
        C = float(math.exp(intercept))
    else:
        beta, C = 1.0, float(amps[np.isfinite(amps)][-1]) if np.any(np.isfinite(amps)) else 0.0
    # tail: per retained mode |E| ~ C s^-beta * alias factor, relative to the RMS retained coefficient
    per_mode = C * float(s) ** (-beta) * _alias_factor(beta, d)
    n_ret = ret.shape[1]
    tail = float(np.median(per_mode * math.sqrt(n_ret) / np.where(ret_norm > 0, ret_norm, np.inf)))
    subsample = None
    if all(n % 2 == 0 for n in x.shape[1:]) and s // 2 > 2 * h:
        half = x[(slice(None),) + (slice(None, None, 2),) * d]
        spec_h = np.fft.rfftn(half, axes=tuple(range(1, x.ndim)), norm="forward")
        diff = np.linalg.norm(_retained(spec_h, h) - ret, axis=1)
        factor = 2.0 ** beta - 1.0
        subsample = float(np.median(diff / np.where(ret_norm > 0, ret_norm, np.inf) / factor))
    value = subsample if subsample is not None else tail
    return {"value": float(value), "tail": tail, "subsample": subsample, "beta": beta,
            "method": "subsample" if subsample is not None else "tail", "resolution": list(x.shape[1:]),
            "retained_per_axis": modes}


# ---- precision ---------------------------------------------------------------------------------------------------
def _is_pow2(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def _train_flags(fmt: str, preset: str, grid: Sequence[int], modes: int) -> list[str] | None:
    """The ``errbound train`` flags realising this candidate, or None when the trainer has no such mode."""
    pow2 = all(_is_pow2(n) for n in grid)
    m = ["--modes", str(modes)]
    if preset == "full":
        return ["--precision", "full", "--backend", "fft", *m] if fmt == "fp32" else None
    if fmt in _EMULATED_TRAINABLE:
        return ["--precision", f"half-{_EMULATED_TRAINABLE[fmt]}", "--backend", "dft", *m] if preset == "dft-half" else None
    if fmt not in _TRAINABLE_LOW:
        return None
    suffix = "" if fmt == "fp16" else "-bf16"
    if preset in ("dft-half", "dft-bf16"):
        return ["--precision", f"half{suffix}", "--backend", "dft", *m]
    backend = "fft" if (pow2 or fmt != "fp16") else "dft"
    return ["--precision", f"{preset}{suffix}", "--backend", backend, *m]


def _block_error(x: np.ndarray, weights: np.ndarray, k: int, policy) -> tuple[float, bool, int]:
    """(worst relative L2 error over samples, overflow flag, prescale exponent) of the emulated block."""
    from errbound.spectral_block import SpectralBlock

    block = SpectralBlock(weights, k, policy)
    with np.errstate(over="ignore", invalid="ignore"):
        res = block.run(x)
        ref, _ = block.reference(x)
    out = res.output
    finite = bool(np.all(np.isfinite(out))) and not res.overflow
    if not finite:
        return math.inf, True, int(res.prescale_exp)
    axes = tuple(range(1, out.ndim))
    num = np.sqrt(np.sum((out - ref) ** 2, axis=axes))
    den = np.sqrt(np.sum(ref ** 2, axis=axes))
    rel = num / np.where(den > 0, den, np.inf)
    return float(np.max(rel)), False, int(res.prescale_exp)


def _candidates(formats: Sequence[str]) -> list[tuple[str, str]]:
    from errbound.formats import get_format

    out: list[tuple[str, str]] = [("fp32", "full")]
    for name in formats:
        fmt = get_format(name).name
        if fmt in ("fp32", "fp64"):
            continue
        if fmt == "tf32":
            out.append((fmt, "mixed"))
            out.append((fmt, "half"))
            continue
        out.append((fmt, "mixed"))
        out.append((fmt, "half"))
        out.append((fmt, "dft-bf16" if fmt == "bf16" else "dft-half"))
    seen, uniq = set(), []
    for c in out:
        if c not in seen:
            seen.add(c)
            uniq.append(c)
    return uniq


def predicted_gap(prec_err: float, model_error: float) -> float:
    """Relative test-error gap expected from a block error ``prec_err`` on top of a model whose full-precision
    relative error is ``model_error``: ``sqrt(1 + (prec_err / model_error)^2) - 1``.

    The quadrature estimate: the block's relative error reaches the output undamped and is uncorrelated
    with the model's own error, so squared errors add. It is an upper estimate in practice (the skip path
    and the later layers damp the block's error, and training adapts to it); it says why the same block
    error is harmless for a model with 10 % error and decisive for one with 1 %."""
    if not math.isfinite(prec_err):
        return math.inf
    if not (model_error > 0 and math.isfinite(model_error)):
        return math.nan
    return math.sqrt(1.0 + (prec_err / model_error) ** 2) - 1.0


def _pick(cands: list[Candidate], accept, what: str) -> dict[str, Any]:
    chosen = next((c for c in cands if accept(c) and c.recommendable), None)
    if chosen is None:
        chosen = next(c for c in cands if c.preset == "full")
        reason = f"no reduced-precision candidate meets {what}; train in full precision"
    else:
        reason = f"cheapest natively trainable candidate with {what}"
    return {"format": chosen.format, "preset": chosen.preset, "prec_err": chosen.prec_err,
            "train_flags": chosen.train_flags, "reason": reason}


def advise(
    data: np.ndarray,
    *,
    modes: int | None = None,
    formats: Sequence[str] = ("fp16", "bf16"),
    tolerance: float = 0.1,
    n_samples: int = 4,
    seed: int = 0,
    data_name: str | None = None,
    target_error: float | None = None,
) -> Advice:
    """Recommend a spectral-block precision for samples ``data`` (N, *grid); see the module docstring.

    ``modes``: retained modes per axis in the ``errbound train --modes`` convention (default the trainer's,
    capped by the grid). ``formats``: low-precision formats to consider (any :func:`errbound.formats.get_format`
    name). ``target_error``: the model's expected full-precision relative test error, enabling the accuracy
    criterion (module docstring). ``tolerance``: a candidate is ok when its precision error is at most ``tolerance`` times the data's
    discretization error. ``n_samples``: samples emulated (the first ones). ``data_name``: file name, used to
    write the full ``errbound train`` command when it follows the ``{name}_train_{res}.pt`` layout.
    """
    from errbound.formats import get_format
    from errbound.spectral_block import preset as make_preset
    from errbound.spectral_block import random_weights

    x = check_samples(data)
    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance > 0):
        raise ErrboundError(f"tolerance must be a positive finite number, got {tolerance!r}")
    if target_error is not None and not (isinstance(target_error, (int, float)) and not isinstance(target_error, bool)
                                         and math.isfinite(target_error) and target_error > 0):
        raise ErrboundError(
            f"target_error must be a positive finite number (the model's expected relative test error, e.g. 0.02), "
            f"got {target_error!r}"
        )
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ErrboundError(f"n_samples must be a positive integer, got {n_samples!r}")
    if isinstance(formats, str):
        formats = [f for f in formats.split(",") if f.strip()]
    if not formats:
        raise ErrboundError("formats is empty; pass at least one format, e.g. fp16,bf16")
    for f in formats:
        get_format(f.strip())  # unknown format -> ErrboundError listing the valid ones
    grid = tuple(int(n) for n in x.shape[1:])
    d = len(grid)
    if modes is None:
        modes = min(DEFAULT_MODES[d], min(grid) // 2)
    if isinstance(modes, bool) or not isinstance(modes, (int, np.integer)) or modes < 2:
        raise ErrboundError(f"modes must be an integer >= 2 (modes per axis, as for errbound train), got {modes!r}")
    modes = int(modes)
    k = modes // 2  # SpectralBlock layout: 0..k-1 and n-k..n-1 (2k = modes per axis)
    if min(grid) < 2 * k or modes > min(grid):
        raise ErrboundError(
            f"{modes} modes per axis need at least {modes} grid points per axis, the data has {grid}; "
            f"pass --modes <= {min(grid)}"
        )
    disc = estimate_discretization_error(x, modes)
    disc_err = disc["value"]
    unresolved = not (disc_err < UNRESOLVED)
    warning = None
    if unresolved:
        warning = (f"the data is not resolved on its grid: discretization estimate {disc_err:.3g} >= {UNRESOLVED:g} "
                   f"(noise-like or aliased data), so 'prec_err <= {tolerance:g} x discretization error' would accept "
                   "any precision; no reduced precision is accepted on that criterion. Use finer data, fewer --modes, "
                   "or --target-error E (the model's expected error) for the accuracy criterion")
    sample = x[:n_samples][:, None]  # (n, C=1, *grid)
    weights = random_weights(1, 1, [k] * d, seed=seed)
    limit = tolerance * disc_err
    cands: list[Candidate] = []
    for fmt, name in _candidates([f.strip() for f in formats]):
        low = None if name in ("full", "dft-bf16") else fmt
        policy = make_preset(name, low)
        err, overflow, _ = _block_error(sample, weights, k, policy)
        fix = None
        if overflow:
            fixed_err, still, e = _block_error(sample, weights, k, policy.with_stabilizer("prescale"))
            fix = {"kind": "prescale", "exponent": e, "removes_overflow": not still}
            if still:
                fixed_err, still_t, _ = _block_error(sample, weights, k, policy.with_stabilizer("tanh"))
                fix = {"kind": "tanh", "exponent": None, "removes_overflow": not still_t,
                       "note": "tanh changes the function; prec_err is against the tanh-stabilized float64 block"}
            err = fixed_err
        ok = bool(math.isfinite(err) and err <= limit and not unresolved)
        flags = _train_flags(fmt, name, grid, modes)
        if flags is not None and fix is not None and fix["kind"] == "tanh" and fix["removes_overflow"]:
            flags = [f + "+tanh" if i > 0 and flags[i - 1] == "--precision" else f for i, f in enumerate(flags)]
        elif flags is not None and fmt == "fp16" and name in ("half", "mixed"):
            flags = [f + "+pow2" if i > 0 and flags[i - 1] == "--precision" else f for i, f in enumerate(flags)]
        cost = (PRESET_COST[name] == 3, storage_bits(fmt), PRESET_COST[name], err)
        gap = None if target_error is None else predicted_gap(err, float(target_error))
        cands.append(Candidate(format=fmt, preset=name, prec_err=err, overflow=overflow, fix=fix, ok=ok,
                               trainable=flags is not None,
                               recommendable=flags is not None and fmt not in _EMULATED_TRAINABLE,
                               train_flags=flags, cost=cost, predicted_gap=gap,
                               ok_for_target=None if gap is None else bool(gap <= tolerance)))
    cands.sort(key=lambda c: c.cost)
    recommended = _pick(cands, lambda c: c.ok,
                        f"prec_err <= {tolerance:g} x discretization_err {disc_err:.3g}"
                        + (" (data unresolved: see the warning)" if unresolved else ""))
    for_target = None
    if target_error is not None:
        for_target = _pick(cands, lambda c: c.ok_for_target,
                           f"predicted accuracy gap <= {tolerance:g} for a model error of {target_error:g}")
    for rec in (recommended, for_target):
        command, note = (None, None) if rec is None or data_name is None else _train_command(data_name, rec["train_flags"])
        if command is not None:
            rec["train_command"] = command
        if note is not None:
            rec["train_command_note"] = note
    return Advice(discretization_err=disc_err, discretization=disc, tolerance=float(tolerance), modes=modes,
                  grid=grid, n_samples=int(sample.shape[0]), candidates=cands, recommended=recommended,
                  target_error=None if target_error is None else float(target_error),
                  recommended_for_target=for_target, warning=warning)


def storage_bits(fmt_name: str) -> int:
    """Bits of one value: sign + exponent field + stored fraction (``t - 1``). The exponent field holds the
    ``emax - emin + 1`` normal binades, the zero/subnormal code and, when the format has them, the inf/NaN
    code (E4M3FN has none: its NaN shares the top binade), e.g. fp16 16, bf16 16, E4M3FN 8, E5M2 8."""
    from errbound.formats import get_format

    f = get_format(fmt_name)
    codes = f.emax - f.emin + 2 + (1 if f.has_inf else 0)
    return 1 + math.ceil(math.log2(codes)) + f.t - 1


def _train_command(data_name: str, flags: list[str] | None) -> tuple[str | None, str | None]:
    """The ``errbound train`` command for the data file's folder (:func:`errbound.data_io.train_command`)."""
    from errbound.data_io import train_command

    return train_command(data_name, flags)
