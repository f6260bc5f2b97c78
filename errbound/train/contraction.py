"""Complex tensor contractions in real arithmetic (works for fp16/bf16, where torch has no complex-half matmul).

A complex tensor is stored as a real tensor with a trailing axis of length 2 (real, imaginary). The
product of two complex operands is one real contraction: the second operand ``w = c + i d`` becomes the
real 2x2 block ``[[c, d], [-d, c]]`` (its "real-view matrix"), and

    (a + i b)(c + i d) = [a, b] @ [[c, d], [-d, c]],

so ``einsum("<A>p,<B>pq-><C>q", A, Wmat)`` is the complex einsum ``<A>,<B>-><C>`` with real inputs in any
dtype (fp16/bf16 matrix products accumulate in fp32 on tensor cores and in the CPU kernels).

A chain of k complex operands is contracted *pairwise* in an order chosen by a contraction-path search
(``greedy`` or ``optimal``; opt_einsum's when importable, our own otherwise), so intermediates stay small.
The *naive* variant (:func:`complex_einsum_naive`) is one einsum over all real views, evaluated left to
right: it materialises large intermediates and exists only for the memory ablation.

Reference: the paper's "greedy optimal order" complex-half contraction (NOTES.md section 3).
"""

from __future__ import annotations

import itertools
import math
from typing import Literal, Sequence

import torch

from errbound.errors import ErrboundError

__all__ = [
    "real_view_matrix",
    "complex_mul",
    "contraction_path",
    "complex_einsum",
    "complex_einsum_naive",
    "dense_spectral_contract",
    "half_matmul",
    "PATH_METHODS",
]

PATH_METHODS = ("greedy", "optimal")
Path = list[tuple[int, ...]]


def real_view_matrix(w: torch.Tensor) -> torch.Tensor:
    """``(..., 2)`` complex-as-real -> ``(..., 2, 2)`` block ``[[c, d], [-d, c]]`` with ``w = c + i d``."""
    c, d = w[..., 0], w[..., 1]
    return torch.stack((torch.stack((c, d), -1), torch.stack((-d, c), -1)), -2)


def complex_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise complex product of two real views (reference helper for tests)."""
    return torch.einsum("...p,...pq->...q", a, real_view_matrix(b))


def _parse(equation: str, n_operands: int) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    if "->" not in eq:
        raise ErrboundError(f"contraction equation {equation!r} needs an explicit output ('...->out')")
    lhs, out = eq.split("->")
    inputs = lhs.split(",")
    if len(inputs) != n_operands:
        raise ErrboundError(f"equation {equation!r} names {len(inputs)} operands but {n_operands} were given")
    for term in [*inputs, out]:
        if not term.isalpha() or "p" in term or "q" in term:
            raise ErrboundError(
                f"equation {equation!r}: use letters other than 'p' and 'q' (reserved for the real-view axes)"
            )
    return inputs, out


def _size(term: str, dims: dict[str, int]) -> int:
    return math.prod(dims[c] for c in term)


def _contract_result(a: str, b: str, others: Sequence[str], out: str) -> str:
    keep = set("".join(others)) | set(out)
    seen = []
    for c in a + b:
        if c in keep and c not in seen:
            seen.append(c)
    return "".join(seen)


def _own_path(inputs: list[str], out: str, dims: dict[str, int], method: str) -> Path:
    """Pairwise order minimising intermediate memory: greedy (cheapest next pair) or exhaustive."""

    def step_cost(terms: list[str], i: int, j: int) -> tuple[int, int, str]:
        others = [t for k, t in enumerate(terms) if k not in (i, j)]
        res = _contract_result(terms[i], terms[j], others, out)
        flops = _size("".join(sorted(set(terms[i] + terms[j]))), dims)
        return _size(res, dims), flops, res

    if method == "greedy":
        terms, path = list(inputs), []
        while len(terms) > 1:
            best = None
            for i, j in itertools.combinations(range(len(terms)), 2):
                size, flops, res = step_cost(terms, i, j)
                key = (size - _size(terms[i], dims) - _size(terms[j], dims), size, flops)
                if best is None or key < best[0]:
                    best = (key, i, j, res)
            _, i, j, res = best  # type: ignore[misc]
            terms = [t for k, t in enumerate(terms) if k not in (i, j)] + [res]
            path.append((i, j))
        return path

    if len(inputs) > 8:
        raise ErrboundError(f"optimal path search over {len(inputs)} operands is too costly; use method='greedy'")

    def search(terms: list[str]) -> tuple[tuple[int, int], Path]:
        if len(terms) == 1:
            return (0, 0), []
        best: tuple[tuple[int, int], Path] | None = None
        for i, j in itertools.combinations(range(len(terms)), 2):
            size, flops, res = step_cost(terms, i, j)
            rest = [t for k, t in enumerate(terms) if k not in (i, j)] + [res]
            (peak, total), sub = search(rest)
            key = (max(size, peak), flops + total)
            if best is None or key < best[0]:
                best = (key, [(i, j), *sub])
        return best  # type: ignore[return-value]

    return search(list(inputs))[1]


def contraction_path(
    equation: str, shapes: Sequence[Sequence[int]], method: Literal["greedy", "optimal"] = "greedy",
    use_opt_einsum: bool = True,
) -> Path:
    """Pairwise contraction order for ``equation`` over operands of the given (complex) ``shapes``.

    Uses opt_einsum's ``greedy``/``optimal`` when importable (and ``use_opt_einsum``), else our own search
    (greedy: pair with the smallest memory growth; optimal: exhaustive, minimising the peak intermediate
    size, then the flop count). The path is in opt_einsum's format: a list of index pairs into the current
    operand list, contracted operands removed and their result appended.
    """
    if method not in PATH_METHODS:
        raise ErrboundError(f"unknown contraction path method {method!r}; choose one of: {', '.join(PATH_METHODS)}")
    inputs, out = _parse(equation, len(shapes))
    dims: dict[str, int] = {}
    for term, shape in zip(inputs, shapes):
        if len(term) != len(shape):
            raise ErrboundError(f"operand {term!r} of {equation!r} has shape {tuple(shape)} of the wrong rank")
        for c, n in zip(term, shape):
            if dims.setdefault(c, int(n)) != int(n):
                raise ErrboundError(f"index {c!r} of {equation!r} has inconsistent sizes {dims[c]} and {n}")
    if len(inputs) == 1:
        return [(0,)]
    if use_opt_einsum:
        try:
            import opt_einsum
        except ImportError:
            opt_einsum = None
        if opt_einsum is not None:
            path, _ = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize=method)
            return [tuple(p) for p in path]
    return _own_path(inputs, out, dims, method)


def complex_einsum(
    equation: str, *operands: torch.Tensor, path: Path | None = None,
    method: Literal["greedy", "optimal"] = "greedy",
) -> torch.Tensor:
    """Complex einsum over real views (trailing axis 2), contracted pairwise along ``path``.

    Each pairwise step is one real einsum ``<A>p,<B>pq-><C>q`` (see the module docstring), so the dtype of
    the operands (fp32, fp16, bf16) is the compute dtype; no complex-half kernel is needed.
    """
    inputs, out = _parse(equation, len(operands))
    for op in operands:
        if op.shape[-1] != 2:
            raise ErrboundError(f"complex_einsum operands need a trailing real/imag axis of length 2, got {tuple(op.shape)}")
    if path is None:
        path = contraction_path(equation, [op.shape[:-1] for op in operands], method)
    terms, tensors = list(inputs), list(operands)
    for step in path:
        if len(step) == 1:
            continue
        i, j = step
        others = [t for k, t in enumerate(terms) if k not in (i, j)]
        res = _contract_result(terms[i], terms[j], others, out)
        a, b = tensors[i], tensors[j]
        value = torch.einsum(f"{terms[i]}p,{terms[j]}pq->{res}q", a, real_view_matrix(b))
        terms = others + [res]
        tensors = [t for k, t in enumerate(tensors) if k not in (i, j)] + [value]
    (term,), (value,) = terms, tensors
    if term != out:
        value = torch.einsum(f"{term}p->{out}p", value)
    return value


def complex_einsum_naive(equation: str, *operands: torch.Tensor) -> torch.Tensor:
    """The same complex einsum as ONE real einsum over all real views, evaluated left to right.

    Operand k>0 enters as its real-view matrix with axes (p_{k-1}, p_k); torch's contraction-order
    optimisation is switched off for the call, so intermediates grow as in a naive implementation.
    For the memory ablation only.
    """
    inputs, out = _parse(equation, len(operands))
    axes = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if len(operands) > len(axes) - 1:
        raise ErrboundError("too many operands for the naive complex einsum")
    terms, tensors = [inputs[0] + axes[0]], [operands[0]]
    for k, (term, op) in enumerate(zip(inputs[1:], operands[1:]), start=1):
        terms.append(term + axes[k - 1] + axes[k])
        tensors.append(real_view_matrix(op))
    eq = ",".join(terms) + "->" + out + axes[len(operands) - 1]
    with torch.backends.opt_einsum.flags(enabled=False):
        return torch.einsum(eq, *tensors)


def half_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` (or a batched product); fp16 operands on a CPU are multiplied in fp32 and the result rounded
    to fp16: the same arithmetic as torch's slow CPU fp16 kernels (exact products, fp32 sums) up to the
    order of the sums (see :class:`errbound.train.models._CpuHalfConv`)."""
    if a.dtype == torch.float16 and a.device.type == "cpu":
        return torch.matmul(a.float(), b.float()).half()
    return a @ b


def dense_spectral_contract(spec: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-mode channel mixing ``out[b,o,k] = sum_i spec[b,i,k] w[i,o,k]`` as one batched real matmul.

    ``spec``: ``(B, Cin, 2, *K)`` (real/imag axis at position 2); ``weight``: ``(Cin, Cout, *K, 2)`` in the
    compute dtype. Returns ``(B, Cout, 2, *K)``. The spectrum becomes ``(K, B, 2 Cin)`` and the weight the
    block matrix ``(K, 2 Cin, 2 Cout) = [[Wr, Wi], [-Wi, Wr]]``; one ``bmm`` does the complex product with
    fp32 accumulation for half inputs. Memory: the two operands and the output, nothing larger.
    """
    b, cin = spec.shape[0], spec.shape[1]
    kshape = spec.shape[3:]
    nk = math.prod(kshape)
    cout = weight.shape[1]
    d = len(kshape)
    x = spec.permute(*range(3, 3 + d), 0, 2, 1).reshape(nk, b, 2 * cin).contiguous()
    wk = weight.permute(*range(2, 2 + d), 0, 1, 2 + d).reshape(nk, cin, cout, 2).contiguous()
    wr, wi = wk[..., 0], wk[..., 1]
    # contiguous (K, 2Cin, 2Cout) block: strided batch views send CPU bmm down a slow path
    w = torch.cat((torch.cat((wr, wi), 2), torch.cat((-wi, wr), 2)), 1)
    y = half_matmul(x, w).reshape(*kshape, b, 2, cout)
    return y.permute(d, d + 2, d + 1, *range(d))
