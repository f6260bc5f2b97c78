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

2. **The precision error** of the spectral block for each candidate, a :class:`errbound.policy.Policy` named
   in the trainer's vocabulary (``precision`` and ``backend``: ``full``; per format ``mixed-<f>``, ``half-<f>``
   with the ``fft`` backend and ``half-<f>`` with the ``dft`` backend; 8-bit formats ``half-<f>`` with ``dft``
   only), computed on the first ``n_samples`` samples by :func:`errbound.precision.block_error` with the torch
   engine (the trainer's own layer: bit for bit the emulator for every reduced-precision block, torch's kernels
   for ``full``) when torch is installed and the policy is one it runs, else by the numpy emulator (the
   candidate's ``engine``): ``prec_err`` is the normwise relative L2 error of the block output against the
   float64 block, i.e. ``layer_err_rel`` of ``errbound precision --data F --precision P --backend B`` with the
   same modes, seed and samples. Weights: :func:`errbound.modes.random_weights` (seed), a stand-in for trained
   weights (the error is relative, so their scale cancels).

3. **Overflow**: does the block without a stabilizer (``+none``) produce inf/NaN (``overflow``)? If so, the fix
   is the exact power-of-two pre-scale of the ``pow2`` stabilizer (:func:`errbound.block.pow2_exponent`; the
   block is linear, so the function is unchanged), checked by re-running the block; tanh is the fallback when
   pre-scaling cannot avoid overflow (e.g. a block output beyond the format's range); a tanh-fixed candidate is
   reported but never recommended (tanh changes the function). The candidate's ``precision`` carries the
   stabilizer that ran (fp16 blocks default to ``pow2`` anyway) and ``prec_err`` is that block's error;
   ``underflow`` is the fraction of the nonzero inputs its input cast flushes to zero.

A candidate is ``ok`` when its (fixed) block is finite and ``prec_err <= tolerance * discretization_err``.
With ``target_error`` (the relative test error the user expects from the model in full precision) each
candidate also gets the accuracy criterion: ``predicted_gap = sqrt(1 + (prec_err / target_error)^2) - 1``
(the block's relative error added in quadrature to the model's own error; :func:`predicted_gap`) and
``ok_for_target = predicted_gap <= tolerance``, with its own ``recommended_for_target``. The discretization
criterion is sufficient whenever the model's error is at least the data's discretization error; the
accuracy criterion is the sharper one when the model's error is known (``errbound validate`` compares both).
The recommendation is the cheapest ``ok`` candidate that ``errbound train`` runs natively (cost: storage bits,
then matrix-product DFT < FFT half < mixed < full, then the smaller error), with the exact flags to pass,
built from the policy. The 8-bit candidates (``half-fp8e4m3fn``: the saturating E4M3FN of torch's float8 cast;
``half-fp8e5m2``) are ``trainable`` but never ``recommendable``: their emulation is slower than a 16-bit block;
they exist so that ``errbound validate`` can check fp8 verdicts against training. Formats the trainer has no
dtype for (e.g. fp8_e4m3, tf32, custom) are emulated and reported, never trainable.
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

from errbound.data_io import load_samples
from errbound.errors import ErrboundError
from errbound.formats import get_format
from errbound.modes import default_modes, random_weights
from errbound.policy import make_policy
from errbound.precision import block_error
from errbound.spectral_block import SpectralBlock

__all__ = ["Candidate", "Advice", "advise", "load_data", "estimate_discretization_error",
           "reference_discretization_error", "storage_bits", "predicted_gap", "candidate_policies"]

#: trainer low-format name of each advisor format (errbound format names; E4M3FN maps to the trainer's
#: saturating variant, the one torch's float8 cast computes)
_TRAINER_NAME = {"fp16": "fp16", "bf16": "bf16", "fp8_e4m3fn": "fp8e4m3fn", "fp8_e5m2": "fp8e5m2"}
#: Discretization estimates at or above this are "unresolved": the aliased tail is at least half the size of the
#: retained coefficients, so the grid does not resolve the retained modes (white noise gives about 1) and
#: ``tolerance x discretization_err`` would accept any precision; the advisor then accepts no reduced precision
#: on that criterion and says why (the accuracy criterion, ``target_error``, still applies).
UNRESOLVED = 0.5


@dataclasses.dataclass(frozen=True, kw_only=True)
class Candidate:
    """One policy: its precision error, overflow risk and fix, verdict and train flags.

    ``precision``/``backend``: the names ``errbound train`` accepts (stabilizer included); ``format``: the low
    format (``fp32`` for ``full``); ``engine``: which engine computed ``prec_err``; ``underflow``: the fraction of
    the nonzero input values the block's input cast flushes to zero (data too small for the format)."""

    format: str
    precision: str
    backend: str
    engine: str
    prec_err: float
    overflow: bool
    underflow: float
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
    peak = float(np.max(np.abs(x)))
    if peak > 0:  # relative quantities: work on x / max|x| so tiny or huge data do not under- or overflow norms
        x = x / peak
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


def reference_discretization_error(x: np.ndarray, x_ref: np.ndarray, modes: int) -> dict[str, Any]:
    """Relative discretization error of samples ``x`` (N, *grid) measured against the *same* samples on a finer
    grid ``x_ref`` (N, *grid_ref), in the definition of :func:`estimate_discretization_error`:

        err = median over samples of ||V_s(w) - V_ref(w)||_2 / ||V_ref(w)||_2,  w over |w_i| <= K/2,

    V_s, V_ref the forward-normalized DFTs of the two grids (so V_ref stands in for vhat). When ``x_ref`` is a
    trigonometric polynomial its grid resolves exactly (the generated periodic datasets, docs/data.md), V_ref is
    vhat and this is the exact error; otherwise it is ``E_s - E_ref`` and underestimates ``E_s`` by about the
    reference's own error (a factor ``1 - (s / s_ref)^beta``). Returns ``value``, ``per_sample`` and ``resolution``."""
    x, x_ref = check_samples(x), check_samples(x_ref, "reference samples")
    if x.shape[0] != x_ref.shape[0] or x.ndim != x_ref.ndim:
        raise ErrboundError(f"samples {x.shape} and reference {x_ref.shape} must hold the same samples (same N and "
                            "number of grid axes) on two grids")
    h = max(1, modes // 2)
    if min(x.shape[1:]) <= 2 * h or any(r < n for r, n in zip(x_ref.shape[1:], x.shape[1:])):
        raise ErrboundError(f"grid {x.shape[1:]} must exceed 2 x {h} retained frequencies and the reference grid "
                            f"{x_ref.shape[1:]} must be at least as fine; pass fewer modes or a finer reference")
    axes = tuple(range(1, x.ndim))
    ret = _retained(np.fft.rfftn(x, axes=axes, norm="forward"), h)
    ref = _retained(np.fft.rfftn(x_ref, axes=axes, norm="forward"), h)
    ref_norm = np.linalg.norm(ref, axis=1)
    if np.any(ref_norm == 0):
        raise ErrboundError("reference samples: a sample has all retained coefficients zero; the relative error is undefined")
    per = np.linalg.norm(ret - ref, axis=1) / ref_norm
    return {"value": float(np.median(per)), "per_sample": [float(v) for v in per], "resolution": list(x.shape[1:]),
            "reference_resolution": list(x_ref.shape[1:]), "retained_per_axis": modes}


# ---- precision ----------------------------------------------------------------------------------------------
def _is_pow2(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def candidate_policies(formats: Sequence[str]) -> list[tuple[str, Any]]:
    """(format name, Policy) for ``full`` and, per format, ``mixed``, ``half`` (fft) and ``half`` (dft); 8-bit
    formats ``half`` (dft) only. Trainer formats use the trainer's names; others are emulator-only policies."""
    out: list[tuple[str, Any]] = [("fp32", make_policy("full"))]
    for name in formats:
        fmt = get_format(name)
        if fmt.name in ("fp32", "fp64"):
            continue
        low = _TRAINER_NAME.get(fmt.name, fmt.name)
        if fmt.t <= 4:  # 8-bit: the matrix-product block only (as the trainer computes it)
            out.append((fmt.name, make_policy("half", low, backend="dft")))
            continue
        out.append((fmt.name, make_policy("mixed", low)))
        out.append((fmt.name, make_policy("half", low)))
        out.append((fmt.name, make_policy("half", low, backend="dft")))
    seen, uniq = set(), []
    for f, p in out:
        if (p.name, p.backend) not in seen:
            seen.add((p.name, p.backend))
            uniq.append((f, p))
    return uniq


def _trainable(policy, grid: Sequence[int]) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``errbound train`` runs ``policy`` at ``grid`` (its low format has a trainer name, and an fp16
    FFT needs power-of-two sizes)."""
    if policy.mode == "custom" or (policy.low_name is not None and policy.low_name not in ("fp16", "bf16",
                                                                                         "fp8e4m3fn", "fp8e5m2")):
        return False
    return not (policy.backend == "fft" and policy.block_half and policy.uses_fp16
                and not all(_is_pow2(int(n)) for n in grid))


def _engine_for(policy, trainable: bool) -> str:  # type: ignore[no-untyped-def]
    """The torch engine (the trainer's own layer) when torch is installed and the policy is trainable."""
    if not trainable:
        return "emulator"
    try:
        import torch  # noqa: F401
    except ImportError:
        return "emulator"
    return "torch"


def _block_error(x: np.ndarray, weights: np.ndarray, modes: int, policy, engine: str) -> tuple[float, bool, int, float]:  # type: ignore[no-untyped-def]
    """(relative L2 error of the block output over the samples, overflow flag, pre-scale exponent, fraction of
    the nonzero inputs the input cast flushed to zero)."""
    block = SpectralBlock(weights, [modes] * (x.ndim - 2), policy)
    with np.errstate(over="ignore", invalid="ignore"):
        row = block_error(x, block, certify=False, engine=engine)
    err = float(row["layer_err_rel"]) if not row["overflow"] else math.inf
    return err, bool(row["overflow"]), int(row["prescale_exp"]), float(row["underflow"])


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
        chosen = next(c for c in cands if c.precision == "full")
        reason = f"no reduced-precision candidate meets {what}; train in full precision"
    else:
        reason = f"cheapest natively trainable candidate with {what}"
    return {"format": chosen.format, "precision": chosen.precision, "backend": chosen.backend,
            "prec_err": chosen.prec_err, "train_flags": chosen.train_flags, "reason": reason}


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
        modes = default_modes(d, grid)
    if isinstance(modes, bool) or not isinstance(modes, (int, np.integer)) or modes < 2:
        raise ErrboundError(f"modes must be an integer >= 2 (modes per axis, as for errbound train), got {modes!r}")
    modes = int(modes)
    if modes > 2 * (min(grid) // 2):
        raise ErrboundError(
            f"{modes} modes per axis need at least {modes} grid points per axis, the data has {grid}; "
            f"pass --modes <= {2 * (min(grid) // 2)}"
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
    weights = random_weights(1, 1, [modes] * d, seed=seed)
    limit = tolerance * disc_err
    cands: list[Candidate] = []
    for fmt, policy in candidate_policies([f.strip() for f in formats]):
        trainable = _trainable(policy, grid)
        engine = _engine_for(policy, trainable)
        runs: dict[Any, tuple[float, bool, int, float]] = {}

        def run(p):  # type: ignore[no-untyped-def]  # each policy's block is computed once
            if p not in runs:
                runs[p] = _block_error(sample, weights, modes, p, engine)
            return runs[p]

        _, overflow, _, _ = run(policy.with_stabilizer("none"))
        fix = None
        chosen = policy
        if overflow:
            chosen = policy.with_stabilizer("pow2")
            _, still, e, _ = run(chosen)
            fix = {"kind": "pow2", "exponent": e, "removes_overflow": not still}
            if still:
                chosen = policy.with_stabilizer("tanh")
                _, still_t, _, _ = run(chosen)
                fix = {"kind": "tanh", "exponent": None, "removes_overflow": not still_t,
                       "note": f"the pow2 pre-scale 2^{e} does not keep the block in range (its output exceeds the "
                               "format's range); tanh changes the function, prec_err is against the tanh-stabilized "
                               "float64 block"}
        err, _, _, underflow = run(chosen)
        ok = bool(math.isfinite(err) and err <= limit and not unresolved)
        flags = (["--precision", chosen.name, "--backend", chosen.backend, "--modes", str(modes)]
                 if trainable else None)
        rank = {("half", "dft"): 0, ("half", "fft"): 1, ("mixed", "fft"): 2, ("mixed", "dft"): 2}.get(
            (chosen.mode, chosen.backend), 3)
        cost = (rank == 3, storage_bits(fmt), rank, err)
        gap = None if target_error is None else predicted_gap(err, float(target_error))
        cands.append(Candidate(format=fmt, precision=chosen.name, backend=chosen.backend, engine=engine,
                               prec_err=err, overflow=overflow, underflow=underflow, fix=fix, ok=ok,
                               trainable=trainable,
                               recommendable=trainable and not chosen.fp8_block and chosen.stabilizer.exact,
                               train_flags=flags, cost=cost,
                               predicted_gap=gap, ok_for_target=None if gap is None else bool(gap <= tolerance)))
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
    f = get_format(fmt_name)
    codes = f.emax - f.emin + 2 + (1 if f.has_inf else 0)
    return 1 + math.ceil(math.log2(codes)) + f.t - 1


def _train_command(data_name: str, flags: list[str] | None) -> tuple[str | None, str | None]:
    """The ``errbound train`` command for the data file's folder (:func:`errbound.data_io.train_command`)."""
    from errbound.data_io import train_command

    return train_command(data_name, flags)
