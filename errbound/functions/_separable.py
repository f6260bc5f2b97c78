"""Separable functions on T^d: products or sums of one-dimensional factors.

Product v(x) = prod_i f_i(x_i):  vhat(w) = prod_i c_i(w_i) and, the grid being a tensor grid,
V_s(w) = prod_i F_{i,s}(w_i). The error is expanded without cancellation,
    E(w) = prod_i (c_i + e_i) - prod_i c_i,   built by  E_{<=i} = E_{<i} (c_i + e_i) + P_{<i} e_i,
with P_{<i} = prod_{j<i} c_j.
Sum v(x) = sum_i f_i(x_i):  vhat(w) = sum_i c_i(w_i) [w_j = 0 for j != i], and the same for E.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import mpmath
import numpy as np

from errbound.functions._base import TorusFunction, check_resolution
from errbound.functions._factors import Factor1D

__all__ = ["SeparableFunction"]


class SeparableFunction(TorusFunction):
    """v(x) = prod_i f_i(x_i) (``combine="product"``) or sum_i f_i(x_i) (``combine="sum"``)."""

    def __init__(self, factors: Sequence[Factor1D], combine: str, *, name: str, params: dict[str, Any]) -> None:
        if combine not in ("product", "sum"):
            raise ValueError(f"combine must be 'product' or 'sum', got {combine!r}")
        self.factors = list(factors)
        self.combine = combine
        self.dim = len(self.factors)
        self.name = name
        self.params = dict(params)
        sups = [f.sup for f in self.factors]
        if combine == "product":
            self.M = float(math.prod(sups))
            others = [math.prod(sups[:i] + sups[i + 1 :]) for i in range(self.dim)]
        else:
            self.M = float(sum(sups))
            self.M_exact = all(f.nonnegative for f in self.factors) or self.dim == 1
            others = [1.0] * self.dim
        if all(f.lip is not None for f in self.factors):
            self.L_axes = tuple(float(f.lip * o) for f, o in zip(self.factors, others))
            # |grad v|_2 <= sqrt(sum_i sup |d_i v|^2); equality in 1-D
            self.L = float(math.sqrt(sum(x * x for x in self.L_axes)))
            self.L_exact = self.dim == 1
        else:
            self.L_axes = None
            self.L = None
        self.V_axes = tuple(float(f.var * o) for f, o in zip(self.factors, others))

    # ---- coefficients ---------------------------------------------------------------------
    def coef(self, k: np.ndarray) -> np.ndarray:
        k = np.asarray(k, dtype=np.int64)
        parts = [f.coef(k[..., i]) for i, f in enumerate(self.factors)]
        if self.combine == "product":
            out = parts[0]
            for p in parts[1:]:
                out = out * p
            return out
        out = np.zeros(k.shape[:-1], dtype=np.complex128)
        for i, p in enumerate(parts):
            others_zero = np.all(np.delete(k, i, axis=-1) == 0, axis=-1)
            out = out + np.where(others_zero, p, 0)
        return out

    def coef_mp(self, k: Sequence[int], dps: int) -> Any:
        k = tuple(int(v) for v in k)
        with mpmath.workdps(dps + 5):
            if self.combine == "product":
                out = mpmath.mpc(1)
                for f, n in zip(self.factors, k):
                    out *= f.coef_mp(n, dps)
                return out
            out = mpmath.mpc(0)
            for i, f in enumerate(self.factors):
                if all(v == 0 for j, v in enumerate(k) if j != i):
                    out += f.coef_mp(k[i], dps)
            return out

    def coef_box_mp(self, k: int, dps: int) -> np.ndarray:
        n = range(-k, k + 1)
        with mpmath.workdps(dps + 5):
            cs = [np.array([f.coef_mp(m, dps) for m in n], dtype=object) for f in self.factors]
            if self.combine == "product":
                out = cs[0]
                for c in cs[1:]:
                    out = np.multiply.outer(out, c)
                return out
            return self._combine([c * 0 for c in cs], cs, k, mpmath.mpc(1), mpmath.mpc(0))

    # ---- values ---------------------------------------------------------------------------
    def eval(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        parts = [f.eval(points[..., i]) for i, f in enumerate(self.factors)]
        return math.prod(parts[1:], start=parts[0]) if self.combine == "product" else sum(parts[1:], start=parts[0])

    def eval_grid(self, s: int) -> np.ndarray:
        s = check_resolution(s)
        samples = [f.samples(s) for f in self.factors]
        out = samples[0]
        for smp in samples[1:]:
            out = np.multiply.outer(out, smp) if self.combine == "product" else np.add.outer(out, smp)
        return np.asarray(out, dtype=np.float64)

    def eval_mp(self, point: Sequence[Any], dps: int) -> Any:
        with mpmath.workdps(dps + 5):
            vals = [f.eval_mp(x, dps + 5) for f, x in zip(self.factors, point)]
            out = vals[0]
            for v in vals[1:]:
                out = out * v if self.combine == "product" else out + v
            return +out

    # ---- discretization error -------------------------------------------------------------
    def _combine(self, cs: list[np.ndarray], es: list[np.ndarray], zero_index: int, one: Any, zero: Any) -> np.ndarray:
        if self.combine == "product":
            err, prod = es[0], cs[0]
            for c, e in zip(cs[1:], es[1:]):
                err = np.multiply.outer(err, c + e) + np.multiply.outer(prod, e)
                prod = np.multiply.outer(prod, c)
            return err
        size = len(es[0])
        shape = (size,) * self.dim
        out = np.empty(shape, dtype=es[0].dtype)
        out[...] = zero
        for i, e in enumerate(es):
            index = [zero_index] * self.dim
            index[i] = slice(None)
            out[tuple(index)] = out[tuple(index)] + e
        return out

    def mode_error(self, s: int, k: int) -> np.ndarray:
        s = check_resolution(s, k)
        n = np.arange(-k, k + 1)
        cs = [f.coef(n) for f in self.factors]
        es = [f.disc_error(s, n) for f in self.factors]
        return self._combine(cs, es, k, 1.0, 0.0)

    def mode_error_mp(self, s: int, k: int, dps: int) -> np.ndarray:
        s = check_resolution(s, k)
        n = range(-k, k + 1)
        with mpmath.workdps(dps + 5):
            cs = [np.array([f.coef_mp(m, dps) for m in n], dtype=object) for f in self.factors]
            es = [np.array([f.disc_error_mp(s, m, dps) for m in n], dtype=object) for f in self.factors]
            return self._combine(cs, es, k, mpmath.mpc(1), mpmath.mpc(0))
