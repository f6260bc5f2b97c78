"""The paper's numbers, transcribed from /work/shared/paper/NOTES.md (cited by section).

Only numbers that NOTES.md states are here; derived ratios are computed from them in code, never typed.
Sections: 2 (derived theory statements), 3 (method), 4 (experiments and headline numbers), 5 (the
reference library measured on one H200). Each entry is a :class:`PaperNumber` with its source.
"""

from __future__ import annotations

import dataclasses

__all__ = ["PaperNumber", "NS_EPOCH", "ACCURACY_H1", "SCHEDULE_H1", "HALF_EVAL_OF_FULL_MODEL", "NEURALOP_H200",
           "FP16_MAX", "OVERFLOW_EXAMPLE", "TFNO_CP_RANK", "ratio"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaperNumber:
    """A number reported by the paper (or measured in NOTES.md), with where it comes from."""

    value: float
    unit: str
    source: str
    what: str


def _ns(gpu: str, setting: str, epoch_s: float, mem: float) -> dict[str, PaperNumber]:
    src = "NOTES.md s4, Navier-Stokes table (authors' plotting code)"
    return {
        "epoch_s": PaperNumber(value=epoch_s, unit="s", source=src, what=f"{gpu} {setting} epoch time"),
        "memory_mib": PaperNumber(value=mem, unit="MiB", source=src, what=f"{gpu} {setting} peak memory"),
    }


#: Navier-Stokes training, NOTES.md s4: {gpu: {setting: {"epoch_s", "memory_mib"}}}.
NS_EPOCH: dict[str, dict[str, dict[str, PaperNumber]]] = {
    "RTX 3090 Ti": {
        "fp32": _ns("RTX 3090 Ti", "fp32 baseline", 77.95, 10686),
        "tf32": _ns("RTX 3090 Ti", "TF32", 72.52, 10534),
        "amp": _ns("RTX 3090 Ti", "AMP only", 67.16, 9284),
        "half": _ns("RTX 3090 Ti", "half spectral block only", 69.55, 6750),
        "amp+half": _ns("RTX 3090 Ti", "AMP + half", 55.45, 5350),
    },
    "V100": {
        "fp32": _ns("V100", "fp32 baseline", 125.83, 11781),
        "amp": _ns("V100", "AMP only", 111.49, 10265),
        "half": _ns("V100", "half spectral block only", 95.63, 8373),
        "amp+half": _ns("V100", "AMP + half", 79.56, 6483),
    },
}

_ACC = "NOTES.md s4, accuracy (4-layer, V100, mean of 3 seeds, H1 test error)"
#: Full vs AMP+half+tanh H1 test error, NOTES.md s4: {case: (full, amp+half+tanh)}.
ACCURACY_H1: dict[str, tuple[PaperNumber, PaperNumber]] = {
    case: (PaperNumber(value=f, unit="rel. H1", source=_ACC, what=f"{case} full"),
           PaperNumber(value=h, unit="rel. H1", source=_ACC, what=f"{case} AMP+half+tanh"))
    for case, f, h in (("Darcy FNO-16", 0.0561, 0.0584), ("Darcy FNO-32", 0.0427, 0.0438),
                       ("NS FNO-32", 0.0193, 0.0211), ("NS FNO-64", 0.0171, 0.0194))
}

_SCH = "NOTES.md s3, precision schedule (8-layer Navier-Stokes, H1 test error)"
#: Precision schedule vs full vs half alone, NOTES.md s3.
SCHEDULE_H1: dict[str, PaperNumber] = {
    "schedule": PaperNumber(value=0.00515, unit="rel. H1", source=_SCH, what="schedule half->mixed->full"),
    "full": PaperNumber(value=0.00536, unit="rel. H1", source=_SCH, what="full precision"),
    "half": PaperNumber(value=0.00645, unit="rel. H1", source=_SCH, what="half alone"),
}

_HE = "NOTES.md s3, full-precision model evaluated with a half spectral block, no retraining"
HALF_EVAL_OF_FULL_MODEL: dict[str, PaperNumber] = {
    "full_eval": PaperNumber(value=0.0105, unit="rel. H1", source=_HE, what="evaluated in full precision"),
    "half_eval": PaperNumber(value=0.069, unit="rel. H1", source=_HE, what="evaluated with a half block"),
}

_NO = "NOTES.md s5, neuraloperator 2.0.0 on one H200 (FNO 2-D, hidden 64, 32x32 modes, 4 layers, batch 16)"
#: The reference library measured, NOTES.md s5: {res: {config: (samples/s, peak MiB, loss finite)}}.
NEURALOP_H200: dict[int, dict[str, tuple[float, float, bool]]] = {
    256: {"full": (355, 7880, True), "amp": (425, 6228, True), "mixed+tanh+amp": (408, 7138, True),
          "half+tanh+amp": (426, 7384, True)},
    512: {"full": (93.5, 30244, True), "amp": (108, 23563, False), "mixed+tanh+amp": (95.0, 27159, False),
          "half+tanh+amp": (89.0, 28165, False)},
}
NEURALOP_SOURCE = _NO

#: fp16's largest finite value, NOTES.md s2 item 6.
FP16_MAX = PaperNumber(value=65504.0, unit="", source="NOTES.md s2 item 6", what="fp16 max")
TFNO_CP_RANK = PaperNumber(value=0.05, unit="fraction of the dense weight count", source="NOTES.md s4",
                           what="CP rank of the paper's TFNO models")
#: "a 256x256 grid with mean(v) >= 1 overflows fp16 (max 65504) even after tanh", NOTES.md s2 item 6.
OVERFLOW_EXAMPLE = {"res": 256, "mean": 1.0, "source": "NOTES.md s2 item 6"}


def ratio(ours: float | None, paper: float | None) -> float | None:
    """ours / paper, or None when either is missing or the paper's value is zero."""
    if ours is None or paper is None or paper == 0:
        return None
    return float(ours) / float(paper)
