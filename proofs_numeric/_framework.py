"""The common machinery of every statement module: cases, tightness, witnesses, results.

Every check of docs/theory.md is put in the one form ``lhs <= rhs``:

* an upper bound: ``lhs`` = the exact (or certified) error, ``rhs`` = the bound;
* a lower bound: ``lhs`` = the lower bound, ``rhs`` = the exact error of the witness;
* an identity ``a = b`` with a proven truncation/rounding allowance ``tol``: ``lhs = |a - b|``, ``rhs = tol``;
* an exactness claim (``a == b`` bit for bit): ``lhs = |a - b|``, ``rhs = 0`` (ratio reported as 0 or inf).

For each case the **ratio** ``lhs / rhs`` measures tightness (1 = the bound is attained) and the
**slack** ``(rhs - lhs) / |rhs|`` how much room is left. A case is a **violation** when
``lhs > rhs * (1 + rel_tol) + abs_tol``; ``rel_tol`` and ``abs_tol`` are set per statement with their
reason (e.g. mpmath at 50 digits is certain to ~1e-45 relative, so rel_tol = 1e-30 leaves a margin of
15 digits and can hide no real violation of a bound that is not itself within 1e-30 of attained).

:class:`Check` accumulates cases and keeps the best (largest-ratio) one as the **witness**; each
statement module's ``run(ctx)`` returns the Check's :meth:`Check.result` dict whose keys are the
contract of ``errbound verify --json``: ``id``, ``cases``, ``violations``, ``min_slack``,
``best_ratio``, ``witness``, ``seconds``, ``certified_cases``, ``uncertified`` (plus ``title``, ``kind``,
``statement``, ``parts``, ``notes``, ``symbolic``, ``violation_examples``).

**Certification** (issue 16). The float/mpmath comparison above is a fast pre-filter. The verdict that counts
as a proof is the certified one: a case passes ``cert=(lhs_enclosure, rhs_enclosure)`` (python-flint balls,
exact rationals or exact floats; see :mod:`proofs_numeric._cert`) and is *certified* when the enclosures are
disjoint in the right order (or exactly ordered); a certified ``lhs > rhs`` is a violation whatever the
pre-filter said. ``cert=True`` records a case decided exactly by the caller (e.g. an identity in a cyclotomic
field); ``cert="reason"`` (or None) leaves the case uncertified with that reason. ``certified_cases`` counts
certified cases; ``uncertified`` lists the others grouped by part and reason.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Callable

import numpy as np

__all__ = ["Context", "Check", "Part", "as_float"]


def as_float(x: Any) -> float:
    """float() of an mpmath / numpy / Fraction number (inf for values beyond float64)."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """Run options shared by all statement modules.

    ``quick``: the CI size (each statement a few seconds); ``seed``: every random choice derives
    from it; ``dps``: mpmath decimal digits for the arbitrary-precision sides (>= 50);
    ``search_budget``: seconds each adversarial search may spend (scipy.optimize + hypothesis).
    """

    quick: bool = False
    seed: int = 20240
    dps: int = 50
    search_budget: float = 20.0

    def __post_init__(self) -> None:
        if self.dps < 50:
            raise ValueError(f"proofs_numeric works at >= 50 digits, got dps={self.dps}")

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, salt])

    def size(self, quick: int, full: int) -> int:
        """Pick the quick or the full size of a parameter grid."""
        return quick if self.quick else full


@dataclasses.dataclass
class Part:
    """Counters of one named sub-check (a family of cases: grid, adversarial search, witness, ...)."""

    cases: int = 0
    violations: int = 0
    best_ratio: float = -math.inf
    min_slack: float = math.inf


class Check:
    """Accumulate ``lhs <= rhs`` cases of one statement; see the module docstring."""

    def __init__(
        self,
        statement_id: str,
        title: str,
        statement: str,
        *,
        kind: str = "upper",
        rel_tol: float = 0.0,
        abs_tol: float = 0.0,
        tol_reason: str = "",
    ) -> None:
        if kind not in ("upper", "lower", "identity", "exact", "probabilistic", "equivalence"):
            raise ValueError(f"unknown statement kind {kind!r}")
        self.id = statement_id
        self.title = title
        self.statement = statement.strip()
        self.kind = kind
        self.rel_tol = rel_tol
        self.abs_tol = abs_tol
        self.tol_reason = tol_reason
        self.parts: dict[str, Part] = {}
        self.witness: dict[str, Any] | None = None
        self.best_ratio = -math.inf
        self.min_slack = math.inf
        self.violation_examples: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.symbolic: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}
        self._t0 = time.perf_counter()
        self._tightness_parts: set[str] | None = None
        self.certified: dict[str, int] = {}
        self.uncertified: dict[tuple[str, str], int] = {}
        self.default_reason: dict[str, str] = {}

    # ---- certification --------------------------------------------------------------------------
    def uncertified_reason(self, part: str, reason: str) -> None:
        """The reason recorded for the cases of ``part`` that carry no enclosure (``cert=None``)."""
        self.default_reason[part] = reason

    def _certify(self, part: str, cert: Any, n: int = 1) -> str:
        """Book ``n`` cases of ``part``; return "yes", "no" (certified violation) or "unknown"."""
        from proofs_numeric._cert import decide

        if cert is True:
            verdict = "yes"
            reason = ""
        elif cert is None or isinstance(cert, str):
            verdict = "unknown"
            reason = cert or self.default_reason.get(part, "no rigorous enclosure computed")
        else:
            lhs_enc, rhs_enc = cert
            verdict = decide(lhs_enc, rhs_enc)
            reason = "enclosures overlap (equal or too close to order in ball arithmetic)"
        if verdict == "yes":
            self.certified[part] = self.certified.get(part, 0) + n
        elif verdict == "unknown":
            key = (part, reason)
            self.uncertified[key] = self.uncertified.get(key, 0) + n
        else:
            key = (part, "CERTIFIED VIOLATION: enclosures disjoint in the wrong order")
            self.uncertified[key] = self.uncertified.get(key, 0) + n
        return verdict

    # ---- recording ----------------------------------------------------------------------------
    def case(self, lhs: Any, rhs: Any, part: str = "grid", *, rel_tol: float | None = None, cert: Any = None,
             **info: Any) -> bool:
        """Record one case ``lhs <= rhs``; return True when it holds (within the tolerances).

        ``rel_tol`` overrides the statement's tolerance for this case (float64 evaluations of a side use
        a tolerance of a few hundred float64 roundoffs; the reason is given where it is used).
        ``cert``: see the module docstring (enclosure pair, True, or the reason it is not certified)."""
        if cert is None and _is_rational(lhs) and _is_rational(rhs):
            cert = (lhs, rhs)  # both sides exact rationals (Fractions): the comparison itself is the certificate
        if lhs is None or rhs is None:  # sides given only as enclosures: report their midpoints
            lhs = _mid(cert[0]) if lhs is None else lhs
            rhs = _mid(cert[1]) if rhs is None else rhs
        lhs_f, rhs_f = as_float(lhs), as_float(rhs)
        holds = self._record(lhs, rhs, lhs_f, rhs_f, part, info, self.rel_tol if rel_tol is None else rel_tol)
        if self._certify(part, cert) == "no" and holds:
            self._force_violation(part, lhs_f, rhs_f, info)
            holds = False
        return holds

    def _force_violation(self, part: str, lhs_f: float, rhs_f: float, info: dict[str, Any]) -> None:
        p = self.parts[part]
        p.violations += 1
        if len(self.violation_examples) < 5:
            self.violation_examples.append({"part": part, "lhs": lhs_f, "rhs": rhs_f, "certified": "violation",
                                            **_plain(info)})

    def cases(self, lhs: np.ndarray, rhs: np.ndarray, part: str = "grid", info: Callable[[int], dict] | None = None,
              rel_tol: float | None = None, cert: Any = None, cert_reason: str = "") -> int:
        """Record many float64 cases at once (vectorised); return the number of violations.

        ``cert``: None / a reason string (all uncertified), or a boolean array: True where the case is
        certified (its proof given by the caller, e.g. both sides exact floats compared exactly, see
        :func:`proofs_numeric._cert.le_float_arrays`); the False entries are uncertified with ``cert_reason``."""
        lhs = np.asarray(lhs, dtype=np.float64).ravel()
        rhs = np.asarray(rhs, dtype=np.float64).ravel()
        if lhs.shape != rhs.shape:
            raise ValueError(f"lhs and rhs shapes differ: {lhs.shape} vs {rhs.shape}")
        if lhs.size == 0:
            return 0
        if cert is None or isinstance(cert, str):
            self._certify(part, cert, n=lhs.size)
        else:
            mask = np.asarray(cert, dtype=bool).ravel()
            if mask.shape != lhs.shape:
                raise ValueError(f"cert mask shape {mask.shape} differs from the cases {lhs.shape}")
            ok = int(mask.sum())
            if ok:
                self._certify(part, True, n=ok)
            if ok < mask.size:
                self._certify(part, cert_reason or "not certified", n=mask.size - ok)
        p = self.parts.setdefault(part, Part())
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(rhs != 0, lhs / np.abs(rhs), np.where(lhs <= 0, 0.0, np.inf))
            slack = np.where(rhs != 0, (rhs - lhs) / np.abs(rhs), np.where(lhs <= 0, 0.0, -np.inf))
        tol = self.rel_tol if rel_tol is None else rel_tol
        bad = ~(lhs <= rhs + np.abs(rhs) * tol + self.abs_tol)
        nbad = int(bad.sum())
        p.cases += lhs.size
        p.violations += nbad
        ratio = np.where(np.isnan(ratio), np.inf, ratio)  # a NaN error is a violation and the worst case
        i = int(np.argmax(ratio))
        p.best_ratio = max(p.best_ratio, float(ratio[i]))
        slack = np.where(np.isnan(slack), np.inf, slack)  # inf bounds (vacuous statements) leave infinite slack
        p.min_slack = min(p.min_slack, float(np.min(slack)))
        self.min_slack = min(self.min_slack, float(np.min(slack)))
        if self._counts_for_tightness(part) and float(ratio[i]) > self.best_ratio:
            self.best_ratio = float(ratio[i])
            self.witness = {"part": part, "lhs": float(lhs[i]), "rhs": float(rhs[i]), "ratio": float(ratio[i]),
                            **(info(i) if info else {})}
        if nbad:
            for j in np.flatnonzero(bad)[: max(0, 5 - len(self.violation_examples))]:
                self.violation_examples.append({"part": part, "lhs": float(lhs[j]), "rhs": float(rhs[j]),
                                                **(info(int(j)) if info else {})})
        return nbad

    def probabilistic(self, lhs: np.ndarray, rhs: np.ndarray, failure_prob: float, part: str,
                      info: Callable[[int], dict] | None = None, alpha: float = 1e-6) -> None:
        """Record cases of a bound that may fail with probability <= ``failure_prob`` per case.

        Exceedances (lhs > rhs) are counted in ``extra['exceedances'][part]``; the part counts as *one*
        violation only when the number of exceedances is statistically incompatible with the stated failure
        probability: binomial tail P(X >= observed | n, failure_prob) < ``alpha``."""
        from scipy.stats import binom

        lhs = np.asarray(lhs, dtype=np.float64).ravel()
        rhs = np.asarray(rhs, dtype=np.float64).ravel()
        exceed = int(np.sum(lhs > rhs))
        n = lhs.size
        self._certify(part, "probabilistic statement: the verdict is a binomial test of the exceedance count, "
                            "not an inequality per case (no per-case certificate exists)", n=n)
        pval = float(binom.sf(exceed - 1, n, failure_prob)) if exceed else 1.0
        p = self.parts.setdefault(part, Part())
        ratio = lhs / rhs
        i = int(np.argmax(ratio))
        p.cases += n
        p.best_ratio = max(p.best_ratio, float(ratio[i]))
        p.min_slack = min(p.min_slack, float(np.min((rhs - lhs) / rhs)))
        self.min_slack = min(self.min_slack, float(np.min((rhs - lhs) / rhs)))
        if pval < alpha:
            p.violations += 1
            self.violation_examples.append({"part": part, "exceedances": exceed, "cases": n,
                                            "failure_prob": failure_prob, "p_value": pval})
        if self._counts_for_tightness(part) and float(ratio[i]) > self.best_ratio:
            self.best_ratio = float(ratio[i])
            self.witness = {"part": part, "lhs": float(lhs[i]), "rhs": float(rhs[i]), "ratio": float(ratio[i]),
                            **(info(i) if info else {})}
        self.extra.setdefault("exceedances", {})[part] = {
            "exceedances": exceed, "cases": n, "rate": exceed / n, "failure_prob": failure_prob, "p_value": pval}

    def _counts_for_tightness(self, part: str) -> bool:
        return self._tightness_parts is None or part in self._tightness_parts

    def tightness_from(self, *parts: str) -> None:
        """Only these parts feed ``best_ratio``/``witness`` (e.g. exclude sanity sub-checks)."""
        self._tightness_parts = set(parts)

    def _record(self, lhs: Any, rhs: Any, lhs_f: float, rhs_f: float, part: str, info: dict[str, Any], rel_tol: float) -> bool:
        p = self.parts.setdefault(part, Part())
        p.cases += 1
        holds = bool(lhs <= rhs + abs(rhs) * rel_tol + self.abs_tol)  # not rhs*(1+tol): 1 + 1e-30 == 1 in float64
        if rhs_f != 0:
            ratio = lhs_f / abs(rhs_f)
            slack = as_float((rhs - lhs) / abs(rhs))
        else:
            ratio = 0.0 if lhs_f <= 0 else math.inf
            slack = 0.0 if lhs_f <= 0 else -math.inf
        p.best_ratio = max(p.best_ratio, ratio)
        p.min_slack = min(p.min_slack, slack)
        self.min_slack = min(self.min_slack, slack)
        if not holds:
            p.violations += 1
            if len(self.violation_examples) < 5:
                self.violation_examples.append({"part": part, "lhs": lhs_f, "rhs": rhs_f, **_plain(info)})
        if self._counts_for_tightness(part) and ratio > self.best_ratio:
            self.best_ratio = ratio
            self.witness = {"part": part, "lhs": lhs_f, "rhs": rhs_f, "ratio": ratio, **_plain(info)}
        return holds

    def note(self, text: str) -> None:
        self.notes.append(text)

    # ---- summary ------------------------------------------------------------------------------
    @property
    def n_cases(self) -> int:
        return sum(p.cases for p in self.parts.values())

    @property
    def n_certified(self) -> int:
        return sum(self.certified.values())

    @property
    def n_violations(self) -> int:
        return sum(p.violations for p in self.parts.values())

    def result(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "statement": self.statement,
            "cases": self.n_cases,
            "certified_cases": self.n_certified,
            "violations": self.n_violations,
            "min_slack": _finite_or_none(self.min_slack),
            "best_ratio": _finite_or_none(self.best_ratio),
            "witness": self.witness,
            "seconds": round(time.perf_counter() - self._t0, 3),
            "tolerance": {"rel": self.rel_tol, "abs": self.abs_tol, "reason": self.tol_reason},
            "uncertified": [{"part": part, "cases": n, "reason": reason}
                            for (part, reason), n in sorted(self.uncertified.items())],
            "parts": {name: {"cases": p.cases, "certified_cases": self.certified.get(name, 0),
                             "violations": p.violations,
                             "best_ratio": _finite_or_none(p.best_ratio), "min_slack": _finite_or_none(p.min_slack)}
                      for name, p in self.parts.items()},
            "symbolic": self.symbolic,
            "notes": self.notes,
            "violation_examples": self.violation_examples,
            **self.extra,
        }


def _mid(x: Any) -> float:
    """The float value reported for an enclosure (an Arb ball's midpoint, an exact number's value)."""
    from proofs_numeric._cert import arb_float

    if hasattr(x, "mid"):
        return arb_float(x)
    return float(x)


def _is_rational(x: Any) -> bool:
    """An exact rational *by type* (Fraction, Python int): a float may stand for a rounded real, so it is not."""
    from fractions import Fraction

    return isinstance(x, Fraction) or (isinstance(x, int) and not isinstance(x, bool))


def _finite_or_none(x: float | None) -> float | None:
    """None for "no case recorded" (the -inf/+inf start values) and NaN; the value otherwise."""
    if x is None or (isinstance(x, float) and (math.isnan(x) or x == -math.inf)):
        return None
    return x  # +inf (a vacuous or violated check) is kept; to_jsonable writes it as "inf"


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in info.items():
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        elif hasattr(value, "_mpf_") or hasattr(value, "_mpc_"):
            value = str(value)
        out[key] = value
    return out
