"""errbound's spectral layer inside neuraloperator models (optional extra ``errbound[neuralop]``).

:func:`patch` replaces, in place, every ``neuralop.layers.spectral_convolution.SpectralConv`` of a
neuraloperator 2.0 model (FNO, TFNO; 1-, 2-, 3-D; dense, CP and Tucker weights) by a
:class:`PatchedSpectralConv`: errbound's :class:`~errbound.train.spectral.SpectralConv` under a
:class:`~errbound.policy.Policy`, holding the same weights (as fp32 master copies) and the same retained
modes, plus neuraloperator's bias. :func:`unpatch` puts neuraloperator's layers back with the (possibly
trained) weights written into them, so a checkpoint saved afterwards loads in plain neuraloperator.

Layouts (read from neuraloperator 2.0.0's ``layers/spectral_convolution.py``, mapped here exactly)
--------------------------------------------------------------------------------------------------
* neuraloperator keeps ``n_modes = (m_1, ..., m_d)`` and stores ``(m_1, ..., m_{d-1}, m_d // 2 + 1)`` spectral
  entries, as :func:`errbound.modes.mode_shape`. Along the last (real-FFT) axis both keep frequencies
  ``0..m_d // 2`` in that order.
* Along every other axis both keep the same ``m`` frequencies, ``-(m // 2), ..., ceil(m/2) - 1`` (odd ``m``
  included), but neuraloperator stores them in ``fftshift`` order (most negative first) and errbound in FFT
  order (``0, 1, ..., -1``): errbound's entry ``i`` is neuraloperator's ``(i + m // 2) mod m``, a roll by
  ``-(m // 2)`` (:func:`_to_errbound` / :func:`_to_neuralop`).
* Weights: neuraloperator's complex ``(C_in, C_out, *K)`` (tensorly-torch ``DenseTensor``), CP
  (``weights (r,)``, factors ``(C_in, r)``, ``(C_out, r)``, ``(k_j, r)``) and Tucker (``core`` of shape
  ``rank``, factors ``(C_in, r_0)``, ``(C_out, r_1)``, ``(k_j, r_{2+j})``); errbound keeps the same tensors as
  real views ``(..., 2)``: dense and CP in errbound's existing parametrisation, Tucker in the small
  ``factorization="tucker"`` extension of errbound's SpectralConv (core and factors are trained, not a
  reconstructed dense weight, so :func:`unpatch` writes them back exactly).
* Bias: neuraloperator adds ``bias (C_out, 1, ..., 1)`` after the inverse transform; so does the patched layer.

Semantics: ``precision="full"`` computes the same layer as neuraloperator in fp32 (tests: within 1e-5
relative at the training resolution and 1.5x finer). One difference, neuraloperator's: at an **odd** grid size
along an axis other than the last, neuraloperator 2.0.0 undoes its forward ``fftshift`` with ``fftshift``
(not ``ifftshift``), which moves every output frequency by one bin; the patched layer computes the Fourier
layer as defined (:mod:`errbound.modes`), so outputs differ at such sizes (even sizes agree). Below the
training resolution neuraloperator drops modes the grid cannot hold; the patched layer refuses such grids.

Not supported (a one-line :class:`~errbound.errors.ErrboundError` names what is): ``separable=True``,
``complex_data=True``, tensor-train (``tt``) weights, ``max_n_modes`` different from ``n_modes``,
``resolution_scaling_factor`` or an ``output_shape`` that changes the grid.
"""

from __future__ import annotations

from typing import Any

from errbound.errors import ErrboundError, MissingDependencyError

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - torch comes with the extra
    raise MissingDependencyError("torch", "neuralop") from None
try:
    from neuralop.layers.spectral_convolution import SpectralConv as NeuralopSpectralConv
except ImportError:
    raise MissingDependencyError("neuraloperator", "neuralop", "neuraloperator==2.0.0") from None

from errbound.policy import STABILIZERS, Policy, parse_policy
from errbound.train.spectral import SpectralConv, check_supported

__all__ = ["PatchedSpectralConv", "patch", "unpatch", "resolve_policy", "spectral_layers", "SUPPORTED_FACTORIZATIONS",
           "load_model", "advise_model", "advice_text", "bench_patched", "bench_rows"]

#: neuraloperator factorizations the patched layer carries (tensorly-torch tensor names, lower case)
SUPPORTED_FACTORIZATIONS = ("dense", "cp", "tucker")
#: low formats the torch layer runs (a precision with another low format is emulator-only)
_RUNNABLE_LOWS = ("fp16", "bf16", "fp8e4m3fn", "fp8e5m2")


# ---- layout ------------------------------------------------------------------------------------------------------
def _roll_axes(t: torch.Tensor, dims: list[int], sign: int) -> torch.Tensor:
    """Roll each ``dims`` axis of length m by ``sign * (m // 2)``."""
    if not dims:
        return t
    return torch.roll(t, shifts=[sign * (t.shape[d] // 2) for d in dims], dims=dims)


def _to_errbound(t: torch.Tensor, dims: list[int]) -> torch.Tensor:
    """neuraloperator's fftshift order -> errbound's FFT order along ``dims`` (the non-last mode axes)."""
    return _roll_axes(t, dims, -1)


def _to_neuralop(t: torch.Tensor, dims: list[int]) -> torch.Tensor:
    """Inverse of :func:`_to_errbound`."""
    return _roll_axes(t, dims, +1)


def _real(t: torch.Tensor) -> torch.Tensor:
    return torch.view_as_real(t.detach().resolve_conj()).float().clone()


def _kind(conv: NeuralopSpectralConv) -> str:
    name = getattr(conv.weight, "name", None)
    if torch.is_tensor(conv.weight):
        return "dense"
    return str(name).lower() if name is not None else type(conv.weight).__name__


def _check_convertible(conv: NeuralopSpectralConv, where: str) -> None:
    kind = _kind(conv)
    if kind not in SUPPORTED_FACTORIZATIONS:
        raise ErrboundError(f"{where}: neuraloperator factorization {kind!r} is not supported; supported: "
                            f"{', '.join(SUPPORTED_FACTORIZATIONS)} (factorization=None, 'cp', 'tucker')")
    problems = []
    if conv.separable:
        problems.append("separable=True")
    if conv.complex_data:
        problems.append("complex_data=True")
    if conv.resolution_scaling_factor is not None:
        problems.append("resolution_scaling_factor")
    if not conv.separable and tuple(conv.weight.shape[2:]) != tuple(_declared_modes(conv)):
        # max_n_modes larger than n_modes: neuraloperator uses a centred slice of a larger weight
        problems.append(f"a weight of {tuple(conv.weight.shape[2:])} modes for n_modes {_declared_modes(conv)} "
                        "(max_n_modes != n_modes)")
    if conv.fft_norm != "forward":
        problems.append(f"fft_norm={conv.fft_norm!r}")
    if problems:
        raise ErrboundError(f"{where}: {', '.join(problems)} is not supported; the patched layer carries "
                            "non-separable real-data layers with fft_norm='forward' and max_n_modes == n_modes")


def _declared_modes(conv: NeuralopSpectralConv) -> list[int]:
    """The stored mode shape ``(m_1, ..., m_{d-1}, m_d // 2 + 1)`` (neuraloperator's internal n_modes)."""
    return [int(m) for m in conv.n_modes]


def _errbound_modes(conv: NeuralopSpectralConv) -> tuple[int, ...]:
    """errbound's ``modes`` with the same retained set: the last entry ``2 (k - 1)`` has ``k`` rfft frequencies."""
    k = _declared_modes(conv)
    return (*k[:-1], 2 * (k[-1] - 1) if k[-1] > 1 else 1)


# ---- the layer ---------------------------------------------------------------------------------------------------
class PatchedSpectralConv(nn.Module):
    """A neuraloperator ``SpectralConv`` computed by errbound's spectral layer under a :class:`Policy`.

    ``forward(x, output_shape=None)`` and ``transform(x, output_shape=None)`` have neuraloperator's signature
    (``FNOBlocks`` calls both). Parameters: ``conv`` (errbound's :class:`SpectralConv`, fp32 master weights in
    errbound's layout) and ``bias`` (neuraloperator's, unchanged). The neuraloperator layer it replaced is kept
    outside the module tree (not in ``state_dict`` or ``parameters()``) for :func:`unpatch`."""

    def __init__(self, original: NeuralopSpectralConv, policy: Policy, backend: str) -> None:
        super().__init__()
        _check_convertible(original, "patch")
        kind = _kind(original)
        self.kind = kind
        modes = _errbound_modes(original)
        self.modes = modes
        d = len(modes)
        self._mode_dims = list(range(2, 2 + d - 1))  # non-last mode axes of a (C_in, C_out, *K) weight
        cin, cout = original.in_channels, original.out_channels
        device = original.bias.device if original.bias is not None else next(original.parameters()).device
        w = original.weight
        with torch.no_grad():
            if kind == "dense":
                dense = w.to_tensor() if not torch.is_tensor(w) else w
                conv = SpectralConv(cin, cout, modes, backend=backend, policy=policy)
                conv.weight.copy_(_real(_to_errbound(dense, self._mode_dims)))
            elif kind == "cp":
                conv = SpectralConv(cin, cout, modes, backend=backend, factorization="cp", rank=int(w.rank),
                                    policy=policy)
                f = list(w.factors)
                conv.cp_lambda.copy_(_real(w.weights))
                conv.cp_in.copy_(_real(f[0]))
                conv.cp_out.copy_(_real(f[1]))
                for j, (dst, src) in enumerate(zip(conv.cp_modes, f[2:])):
                    dst.copy_(_real(_to_errbound(src, [0]) if j < d - 1 else src))
            else:  # tucker
                conv = SpectralConv(cin, cout, modes, backend=backend, factorization="tucker",
                                    rank=tuple(int(r) for r in w.core.shape), policy=policy)
                f = list(w.factors)
                conv.tucker_core.copy_(_real(w.core))
                conv.tucker_in.copy_(_real(f[0]))
                conv.tucker_out.copy_(_real(f[1]))
                for j, (dst, src) in enumerate(zip(conv.tucker_modes, f[2:])):
                    dst.copy_(_real(_to_errbound(src, [0]) if j < d - 1 else src))
        self.conv = conv.to(device)
        self.bias = None if original.bias is None else nn.Parameter(original.bias.detach().clone())
        self._original = [original]  # a list: not a registered submodule

    @property
    def policy(self) -> Policy:
        return self.conv.policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        if not isinstance(policy, Policy):
            raise ErrboundError(f"policy must be a Policy (errbound.policy.parse_policy for names), got {policy!r}")
        self.conv.policy = policy

    def extra_repr(self) -> str:
        return f"neuraloperator {self.kind} weights"

    def transform(self, x: torch.Tensor, output_shape: Any = None) -> torch.Tensor:
        """neuraloperator's skip-path resampling: the identity (the patched layer keeps the grid)."""
        self._check_shape(x, output_shape)
        return x

    def _check_shape(self, x: torch.Tensor, output_shape: Any) -> None:
        d = len(self.modes)
        if output_shape is not None and tuple(int(s) for s in output_shape) != tuple(x.shape[-d:]):
            raise ErrboundError(f"the patched spectral layer keeps the grid {tuple(x.shape[-d:])}; an output_shape "
                                f"{tuple(output_shape)} that resamples is not supported (unpatch the model for it)")

    def forward(self, x: torch.Tensor, output_shape: Any = None) -> torch.Tensor:
        self._check_shape(x, output_shape)
        out = self.conv(x)
        return out if self.bias is None else out + self.bias

    def write_back(self) -> NeuralopSpectralConv:
        """The original neuraloperator layer with this layer's current weights and bias copied into it."""
        original = self._original[0]
        conv, d = self.conv, len(self.modes)

        def cplx(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
            return torch.view_as_complex(t.detach().float().contiguous()).to(device=like.device, dtype=like.dtype)

        w = original.weight
        with torch.no_grad():
            if self.kind == "dense":
                target = w if torch.is_tensor(w) else w.tensor
                target.copy_(_to_neuralop(cplx(conv.weight, target), self._mode_dims))
            elif self.kind == "cp":
                f = list(w.factors)
                w.weights.copy_(cplx(conv.cp_lambda, w.weights))
                f[0].copy_(cplx(conv.cp_in, f[0]))
                f[1].copy_(cplx(conv.cp_out, f[1]))
                for j, (src, dst) in enumerate(zip(conv.cp_modes, f[2:])):
                    v = cplx(src, dst)
                    dst.copy_(_to_neuralop(v, [0]) if j < d - 1 else v)
            else:
                f = list(w.factors)
                w.core.copy_(cplx(conv.tucker_core, w.core))
                f[0].copy_(cplx(conv.tucker_in, f[0]))
                f[1].copy_(cplx(conv.tucker_out, f[1]))
                for j, (src, dst) in enumerate(zip(conv.tucker_modes, f[2:])):
                    v = cplx(src, dst)
                    dst.copy_(_to_neuralop(v, [0]) if j < d - 1 else v)
            if self.bias is not None:
                original.bias.copy_(self.bias.detach().to(original.bias.device))
        device = self.bias.device if self.bias is not None else next(self.conv.parameters()).device
        return original.to(device)


# ---- patch / unpatch ---------------------------------------------------------------------------------------------
def resolve_policy(precision: str | Policy = "half", backend: str = "dft", stabilizer: str | None = None) -> Policy:
    """The :class:`Policy` for ``precision`` (an errbound name, or a Policy, which keeps its own backend) and
    ``backend``, checked to be one the torch layer runs (low format fp16, bf16, fp8e4m3fn or fp8e5m2; 8-bit blocks ``half`` with ``dft``).
    ``stabilizer`` (``none tanh clip sigma2 pow2``) overrides the name's."""
    if isinstance(precision, Policy):
        policy = precision if stabilizer is None else precision.with_stabilizer(stabilizer)
    else:
        if stabilizer is not None and stabilizer not in STABILIZERS:
            raise ErrboundError(f"unknown stabilizer {stabilizer!r}; choose one of: {', '.join(STABILIZERS)}")
        policy = parse_policy(precision, backend, stabilizer=stabilizer)
    if policy.mode == "custom" or (policy.low_name is not None and policy.low_name not in _RUNNABLE_LOWS):
        raise ErrboundError(f"precision {policy.name!r} is emulator-only (no torch dtype); the patched layer runs "
                            f"full, amp, mixed, half with low formats {', '.join(_RUNNABLE_LOWS)}")
    check_supported(policy, policy.backend, (2,))  # 8-bit blocks: half with dft only
    return policy


def spectral_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(qualified name, layer)`` of every neuraloperator SpectralConv and every patched layer in ``model``."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (NeuralopSpectralConv, PatchedSpectralConv))]


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def patch(model: nn.Module, precision: str | Policy = "half", backend: str = "dft",
          stabilizer: str | None = None) -> nn.Module:
    """Replace, in place, every neuraloperator SpectralConv of ``model`` by errbound's layer; returns ``model``.

    ``precision``: an errbound name (``full``, ``amp``, ``mixed``, ``half``, ``-bf16``, ``-fp8e4m3fn``,
    ``-fp8e5m2``, ``+none|tanh|clip|sigma2|pow2``; :func:`errbound.policy.parse_policy`) or a
    :class:`Policy` (then ``backend`` is the policy's own). ``backend``: ``dft`` (matrix products of the
    retained modes, any grid size, the default) or ``fft``. Patching a patched model switches its policy.
    The model's own layers outside the spectral blocks are untouched: run them under ``torch.autocast`` with
    ``policy.torch_half_dtype`` when ``policy.autocast`` (and a GradScaler when ``policy.needs_grad_scaler``)."""
    if not isinstance(model, nn.Module):
        raise ErrboundError(f"patch needs a torch.nn.Module (a neuraloperator FNO/TFNO), got {type(model).__name__}")
    policy = resolve_policy(precision, backend if not isinstance(precision, Policy) else precision.backend, stabilizer)
    layers = spectral_layers(model)
    if not layers:
        raise ErrboundError(f"{type(model).__name__} has no neuraloperator SpectralConv; patch supports "
                            "neuraloperator FNO/TFNO models (1-D, 2-D, 3-D; dense, CP, Tucker weights)")
    for name, layer in layers:  # validate everything before changing anything
        if isinstance(layer, NeuralopSpectralConv):
            _check_convertible(layer, f"patch: layer {name}")
    for name, layer in layers:
        if isinstance(layer, PatchedSpectralConv):
            layer.policy = policy
            layer.conv.backend = policy.backend
        else:
            new = PatchedSpectralConv(layer, policy, policy.backend)
            new.train(layer.training)
            _replace(model, name, new)
    return model


def unpatch(model: nn.Module) -> nn.Module:
    """Put neuraloperator's SpectralConv layers back, with the patched layers' (possibly trained) weights and
    biases written into them; returns ``model``. A model with no patched layer is an error."""
    layers = [(n, m) for n, m in spectral_layers(model) if isinstance(m, PatchedSpectralConv)]
    if not layers:
        raise ErrboundError(f"{type(model).__name__} has no patched spectral layer; call errbound.neuralop.patch first")
    for name, layer in layers:
        original = layer.write_back()
        original.train(layer.training)
        _replace(model, name, original)
    return model


# ---- advise: the model's own first spectral layer on the user's data ---------------------------------------------
def load_model(path: str | Any) -> nn.Module:
    """A neuraloperator model from ``torch.save(model, FILE)`` or from a neuraloperator ``state_dict()`` (which
    carries the constructor arguments under ``_metadata``). The file is unpickled (``weights_only=False``):
    load only files you trust. A model object is returned unchanged."""
    if isinstance(path, nn.Module):
        return path
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise ErrboundError(f"model file {str(path)!r} not found") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one message
        raise ErrboundError(f"cannot read model file {str(path)!r}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    if isinstance(obj, nn.Module):
        return obj
    if isinstance(obj, dict) and isinstance(obj.get("_metadata"), dict):
        from neuralop.models.base_model import BaseModel

        meta = dict(obj["_metadata"])
        name = str(meta.pop("_name", "")).lower()
        cls = BaseModel._models.get(name)
        if cls is None:
            raise ErrboundError(f"model file {str(path)!r}: unknown neuraloperator model {name!r}")
        meta.pop("_version", None)
        args = meta.pop("args", ())
        model = cls(*args, **meta)
        model.load_state_dict(obj)
        return model
    raise ErrboundError(f"model file {str(path)!r} holds neither a torch module nor a neuraloperator state_dict "
                        "(with its _metadata); save it with torch.save(model, FILE) or torch.save(model.state_dict(), FILE)")


def _first_layer_input(model: nn.Module, x: torch.Tensor) -> tuple[str, NeuralopSpectralConv, torch.Tensor]:
    """(name, layer, input) of the model's first neuraloperator spectral layer, run in fp32 on ``x``."""
    layers = spectral_layers(model)
    if not layers:
        raise ErrboundError(f"{type(model).__name__} has no neuraloperator SpectralConv; --neuralop-model needs a "
                            "neuraloperator FNO/TFNO (1-D, 2-D, 3-D; dense, CP, Tucker weights)")
    name, layer = layers[0]
    if isinstance(layer, PatchedSpectralConv):
        raise ErrboundError("the model is patched; advise on the neuraloperator model (errbound.neuralop.unpatch)")
    _check_convertible(layer, f"layer {name}")
    seen: list[torch.Tensor] = []
    handle = layer.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().float()))
    try:
        with torch.no_grad():
            model(x)
    except ErrboundError:
        raise
    except Exception as exc:  # noqa: BLE001 - shape mismatches etc. from the user's model: one line
        raise ErrboundError(f"the model does not run on the data {tuple(x.shape)}: "
                            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    finally:
        handle.remove()
    return name, layer, seen[0]


def advise_model(model: nn.Module | str, data: Any, *, formats: tuple[str, ...] | list[str] = ("fp16", "bf16"),
                 tolerance: float = 0.1, n_samples: int = 2, target_error: float | None = None) -> dict[str, Any]:
    """Recommend a precision for a neuraloperator model's spectral layers from its first one, on ``data``.

    The model (or file, :func:`load_model`) runs in fp32 on the first ``n_samples`` samples of ``data``
    ``(N, *grid)`` (as the model sees them: normalise them first if your pipeline does); the activations entering
    its first SpectralConv and that layer's trained weights (errbound's layout, :class:`PatchedSpectralConv`)
    define a block that every candidate policy of :func:`errbound.advise.candidate_policies` computes (the
    torch engine: bit for bit errbound's arithmetic). ``prec_err`` is the relative L2 error of the block output
    against the float64 block, ``overflow`` whether the block without a stabilizer overflows. A candidate is
    ``ok`` when its block is finite and ``prec_err <= tolerance * discretization_err`` (the data's own
    discretization error, :func:`errbound.advise.estimate_discretization_error`, at the model's largest mode
    count); with ``target_error`` also the accuracy criterion :func:`errbound.advise.predicted_gap`. The
    recommendation is the cheapest ok candidate the patched layer runs at this grid (16-bit before fp32, then
    matrix-product ``half`` < FFT ``half`` < ``mixed``), with the ``patch(...)`` call to use."""
    import math

    import numpy as np

    from errbound.advise import candidate_policies, check_samples, estimate_discretization_error, predicted_gap, \
        storage_bits
    from errbound.precision import block_error
    from errbound.spectral_block import SpectralBlock

    x = check_samples(data)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ErrboundError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance > 0):
        raise ErrboundError(f"tolerance must be a positive finite number, got {tolerance!r}")
    net = load_model(model)
    net = net.cpu().float().eval()
    grid = tuple(int(n) for n in x.shape[1:])
    inp = torch.from_numpy(x[:n_samples]).float().unsqueeze(1)
    name, layer, act = _first_layer_input(net, inp)
    if act.dim() != len(grid) + 2:
        raise ErrboundError(f"the model's spectral layers are {act.dim() - 2}-D, the data {len(grid)}-D")
    patched = PatchedSpectralConv(layer, parse_policy("full", "dft"), "dft")
    modes = patched.modes
    weights = patched.conv.dense_weight().numpy().astype(np.complex128).transpose(1, 0, *range(2, 2 + len(modes)))
    act_np = act.double().numpy()
    spatial = tuple(act.shape[2:])
    disc = estimate_discretization_error(x, int(min(max(modes), 2 * (min(grid) // 2))))
    disc_err = float(disc["value"])

    def run(policy: Policy) -> tuple[float, bool, int]:
        row = block_error(act_np, SpectralBlock(weights, list(modes), policy), certify=False, engine="torch")
        return (math.inf if row["overflow"] else float(row["layer_err_rel"])), bool(row["overflow"]), \
            int(row["prescale_exp"])

    cands = []
    for fmt, policy in candidate_policies(list(formats)):
        try:
            resolve_policy(policy)
            check_supported(policy, policy.backend, spatial)
        except ErrboundError as exc:
            cands.append({"format": fmt, "precision": policy.name, "backend": policy.backend, "prec_err": None,
                          "overflow": None, "ok": False, "runs": False, "why_not": str(exc)})
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            _, overflow, _ = run(policy.with_stabilizer("none"))
            err, still, exp = run(policy)
        ok = bool(math.isfinite(err) and err <= tolerance * disc_err)
        gap = None if target_error is None else predicted_gap(err, float(target_error))
        rank = {("half", "dft"): 0, ("half", "fft"): 1}.get((policy.mode, policy.backend), 2)
        cands.append({"format": fmt, "precision": policy.name, "backend": policy.backend, "prec_err": err,
                      "overflow": overflow, "overflow_with_stabilizer": still, "prescale_exp": exp, "ok": ok,
                      "predicted_gap": gap, "ok_for_target": None if gap is None else bool(gap <= tolerance),
                      "runs": True, "recommendable": not policy.fp8_block,
                      "cost": [policy.mode == "full", storage_bits(fmt), rank, err]})
    runnable = sorted((c for c in cands if c["runs"]), key=lambda c: c["cost"])

    def pick(key: str, what: str) -> dict[str, Any]:
        chosen = next((c for c in runnable if c[key] and c["recommendable"] and c["precision"] != "full"), None)
        reason = f"cheapest candidate with {what}"
        if chosen is None:
            chosen = next(c for c in runnable if c["precision"] == "full")
            reason = f"no reduced-precision candidate meets {what}; keep full precision"
        call = f"errbound.neuralop.patch(model, precision={chosen['precision']!r}, backend={chosen['backend']!r})"
        return {"precision": chosen["precision"], "backend": chosen["backend"], "prec_err": chosen["prec_err"],
                "patch_call": call, "reason": reason}

    out = {"model": type(net).__name__, "layer": name, "factorization": patched.kind, "modes": list(modes),
           "channels": [layer.in_channels, layer.out_channels], "grid": list(grid), "n_samples": int(inp.shape[0]),
           "activation_abs_max": float(act.abs().max()), "discretization_err": disc_err, "discretization": disc,
           "tolerance": float(tolerance), "candidates": cands,
           "recommended": pick("ok", f"prec_err <= {tolerance:g} x discretization_err {disc_err:.3g}")}
    if target_error is not None:
        out["target_error"] = float(target_error)
        out["recommended_for_target"] = pick("ok_for_target", f"predicted accuracy gap <= {tolerance:g} for a "
                                                              f"model error of {target_error:g}")
    return out


def advice_text(adv: dict[str, Any]) -> str:
    """The table ``errbound advise --neuralop-model`` prints for :func:`advise_model`'s result."""
    from errbound.tables import format_table

    rows = [{k: ("-" if c.get(k) is None else c.get(k)) for k in
             ("format", "precision", "backend", "prec_err", "overflow", "ok", "predicted_gap")}
            | {"note": "" if c["runs"] else "not run: " + c["why_not"].split(";")[0]} for c in adv["candidates"]]
    cols = ["format", "precision", "backend", "prec_err", "overflow", "ok"]
    cols += ["predicted_gap"] if "target_error" in adv else []
    lines = [
        f"model {adv['model']}: first spectral layer {adv['layer']} ({adv['factorization']} weights, "
        f"{adv['channels'][0]}->{adv['channels'][1]} channels, modes {adv['modes']}) on {adv['n_samples']} samples "
        f"of a {'x'.join(map(str, adv['grid']))} grid (largest |activation| {adv['activation_abs_max']:.3g})",
        f"discretization error of the data (relative): {adv['discretization_err']:.3g}; ok when prec_err <= "
        f"{adv['tolerance']:g} x that",
        "",
        format_table(rows, cols + ["note"]),
        "",
        f"recommended: {adv['recommended']['precision']} ({adv['recommended']['backend']}): "
        f"{adv['recommended']['patch_call']}",
        f"  ({adv['recommended']['reason']})",
    ]
    if "recommended_for_target" in adv:
        tgt = adv["recommended_for_target"]
        lines += [f"recommended for a model error of {adv['target_error']:g}: {tgt['patch_call']}",
                  f"  ({tgt['reason']})"]
    return "\n".join(lines)


# ---- bench: neuraloperator's own precision modes against the same model patched with errbound's -------------------
def bench_patched(cfg: Any) -> dict[str, Any]:
    """One training-step benchmark row (``lib="neuraloperator+errbound"``) of neuraloperator's FNO as
    :func:`errbound.train.bench.bench_neuralop` builds it (``fno_block_precision="full"``, no tanh), patched with
    ``cfg.policy`` on ``cfg.backend``; autocast and a GradScaler as the policy says. ``cfg`` is a
    :class:`errbound.train.bench.BenchConfig`."""
    from neuralop.models import FNO as NeuralopFNO

    from errbound.train.bench import _release, _row, time_training_steps

    device = torch.device(cfg.device)
    policy = cfg.policy if cfg.policy.backend == cfg.backend else parse_policy(cfg.policy.name, cfg.backend)
    row = _row(cfg, "neuraloperator+errbound", policy.name)
    row["backend"] = policy.backend
    spatial = (cfg.res,) * cfg.dim
    try:
        resolve_policy(policy)
        check_supported(policy, policy.backend, spatial)
    except ErrboundError as exc:
        row["error"] = str(exc)
        return row
    _release(device)
    torch.manual_seed(cfg.seed)
    model = patch(NeuralopFNO(n_modes=(cfg.modes,) * cfg.dim, in_channels=1, out_channels=1,
                              hidden_channels=cfg.hidden, n_layers=cfg.n_layers), policy).to(device)
    return time_training_steps(model, policy, cfg, device, row, float_loss=True)


def bench_rows(configs: list[Any]) -> list[dict[str, Any]]:
    """For each :class:`~errbound.train.bench.BenchConfig`: neuraloperator's own mode of the same name
    (``full``; ``amp``; ``mixed``/``half`` with its tanh stabilizer; errors such as "MKL FFT doesn't support
    tensors of type: Half" on a CPU or cuFFT's power-of-two rule are recorded in ``error``), then the same FNO
    patched with errbound's policy (:func:`bench_patched`)."""
    from errbound.train.bench import bench_neuralop

    rows, seen = [], set()
    for cfg in configs:
        key = (cfg.res, cfg.policy.name)
        if key not in seen:  # neuraloperator's own row does not depend on errbound's backend
            seen.add(key)
            rows.append(bench_neuralop(cfg))
        rows.append(bench_patched(cfg))
    return rows
