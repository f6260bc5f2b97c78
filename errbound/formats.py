"""Binary floating-point formats as data.

A format is described by its defining parameters only (everything else is derived):

* ``t``: precision, significand bits *including* the hidden bit (fp16: 11);
* ``emin``, ``emax``: exponent range of normal numbers, values are ``m * 2**e`` with
  ``1 <= m < 2`` and ``emin <= e <= emax``;
* ``subnormals``: whether gradual underflow below ``2**emin`` exists;
* ``has_inf``: whether the encoding has infinities;
* ``overflow``: what rounding does past the largest finite value in round-to-nearest:
  ``"inf"`` (IEEE 754), ``"saturate"`` (clamp to the largest finite value) or ``"nan"``
  (formats without infinities such as OCP FP8 E4M3FN);
* ``reserved_top``: number of the largest significands at ``emax`` that encode NaN rather than
  a number (OCP E4M3FN reserves one, so its max is 448 and not 480).

Derived: unit roundoff ``u = 2**-t``, machine epsilon ``eps = 2**(1-t)``, max finite
``(2 - (1 + reserved_top) * 2**(1-t)) * 2**emax``, min normal ``2**emin``, min subnormal
``2**(emin - t + 1)``.

Reference: IEEE 754-2019; OCP 8-bit Floating Point Specification (OFP8) rev. 1.0; Higham,
*Accuracy and Stability of Numerical Algorithms*, 2nd ed., section 2.1.
"""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction
from typing import Literal

from errbound.errors import ErrboundError

__all__ = ["Format", "get_format", "as_format", "register_format", "format_names", "parse_format", "FORMATS"]

OverflowPolicy = Literal["inf", "saturate", "nan"]
_POLICIES = ("inf", "saturate", "nan")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Format:
    """An immutable binary floating-point format (see the module docstring for the fields)."""

    name: str
    t: int
    emin: int
    emax: int
    subnormals: bool = True
    has_inf: bool = True
    overflow: OverflowPolicy = "inf"
    reserved_top: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.t, int) or isinstance(self.t, bool) or self.t < 1:
            raise ErrboundError(f"precision t must be a positive integer (bits incl. the hidden bit), got {self.t!r}")
        if self.t > 53:
            raise ErrboundError(f"precision t={self.t} exceeds float64's 53 bits; errbound emulates formats with t <= 53")
        if not isinstance(self.emin, int) or not isinstance(self.emax, int) or self.emin > self.emax:
            raise ErrboundError(f"need integers emin <= emax, got emin={self.emin!r}, emax={self.emax!r}")
        if self.emax > 1023 or self.emin < -1022:
            raise ErrboundError(
                f"exponent range [{self.emin}, {self.emax}] exceeds float64's [-1022, 1023]; values must be float64-representable"
            )
        if self.overflow not in _POLICIES:
            raise ErrboundError(f"overflow policy must be one of {_POLICIES}, got {self.overflow!r}")
        if self.overflow == "inf" and not self.has_inf:
            raise ErrboundError("overflow='inf' needs has_inf=True; use 'saturate' or 'nan' for formats without infinities")
        if not (0 <= self.reserved_top < 2 ** (self.t - 1)):
            raise ErrboundError(f"reserved_top must be in [0, 2**(t-1)), got {self.reserved_top}")

    # ---- derived properties -------------------------------------------------------------------
    @property
    def u(self) -> float:
        """Unit roundoff 2**-t: the largest relative error of round-to-nearest in the normal range."""
        return 2.0 ** -self.t

    @property
    def eps(self) -> float:
        """Machine epsilon 2**(1-t): the gap between 1 and the next larger number."""
        return 2.0 ** (1 - self.t)

    @property
    def max(self) -> float:
        """Largest finite value."""
        return float(self.max_exact)

    @property
    def max_exact(self) -> Fraction:
        return (2 - (1 + self.reserved_top) * Fraction(2) ** (1 - self.t)) * Fraction(2) ** self.emax

    @property
    def min_normal(self) -> float:
        return 2.0 ** self.emin

    @property
    def min_subnormal(self) -> float:
        """Smallest positive value: 2**(emin-t+1) with subnormals, else the min normal."""
        return 2.0 ** (self.emin - self.t + 1) if self.subnormals else 2.0 ** self.emin

    def as_dict(self) -> dict[str, object]:
        """Parameters and derived properties (the keys of ``errbound formats --json``)."""
        return {
            "name": self.name,
            "t": self.t,
            "emin": self.emin,
            "emax": self.emax,
            "subnormals": self.subnormals,
            "has_inf": self.has_inf,
            "overflow": self.overflow,
            "reserved_top": self.reserved_top,
            "u": self.u,
            "eps": self.eps,
            "max": self.max,
            "min_normal": self.min_normal,
            "min_subnormal": self.min_subnormal,
        }

    def __str__(self) -> str:
        return self.name


def _ieee(name: str, t: int, exponent_bits: int) -> Format:
    emax = 2 ** (exponent_bits - 1) - 1
    return Format(name=name, t=t, emin=1 - emax, emax=emax)


FORMATS: dict[str, Format] = {}


def register_format(fmt: Format, *, replace: bool = False) -> Format:
    """Add ``fmt`` to the catalogue under ``fmt.name``."""
    key = fmt.name.lower()
    if key in FORMATS and not replace and FORMATS[key] != fmt:
        raise ErrboundError(f"a different format is already registered as {fmt.name!r}; pass replace=True")
    FORMATS[key] = fmt
    return fmt


for _fmt in (
    _ieee("fp64", 53, 11),
    _ieee("fp32", 24, 8),
    Format(name="tf32", t=11, emin=-126, emax=127),
    _ieee("fp16", 11, 5),
    Format(name="bf16", t=8, emin=-126, emax=127),
    _ieee("fp8_e5m2", 3, 5),
    # OCP E4M3FN: bias 7, exponent field 15 holds normals, S.1111.111 is the single NaN, no inf.
    Format(name="fp8_e4m3fn", t=4, emin=-6, emax=8, has_inf=False, overflow="nan", reserved_top=1),
    # IEEE-754-like E4M3: exponent field 15 reserved for inf/NaN, max 240.
    _ieee("fp8_e4m3", 4, 4),
):
    register_format(_fmt)

_ALIASES = {
    "float64": "fp64", "double": "fp64", "binary64": "fp64",
    "float32": "fp32", "single": "fp32", "binary32": "fp32",
    "float16": "fp16", "half": "fp16", "binary16": "fp16",
    "bfloat16": "bf16",
}

_CUSTOM = re.compile(
    r"^t(?P<t>-?\d+)emax(?P<emax>-?\d+)(?:emin(?P<emin>-?\d+))?(?P<flags>(?:_(?:nosub|noinf|sat|nan|inf|rt\d+))*)$"
)


def format_names() -> list[str]:
    """Names of the registered formats, in catalogue order."""
    return list(FORMATS)


def parse_format(spec: str) -> Format:
    """Build a custom format from a short string.

    Grammar: ``t<T>emax<EMAX>[emin<EMIN>]`` followed by optional flags ``_nosub`` (no subnormals),
    ``_noinf`` (no infinities; overflow becomes NaN unless ``_sat``), ``_sat`` (saturate on overflow),
    ``_nan`` (overflow to NaN), ``_rt<K>`` (K reserved top significands). ``emin`` defaults to
    ``1 - emax`` as in IEEE 754. Example: ``t11emax15`` is fp16's parameters.
    """
    match = _CUSTOM.match(spec.strip().lower())
    if not match:
        raise ErrboundError(
            f"cannot parse format {spec!r}; use a registered name ({', '.join(FORMATS)}) or a custom "
            "string like 't11emax15', 't4emax8emin-6_noinf_rt1', 't8emax127_nosub_sat'"
        )
    t = int(match["t"])
    emax = int(match["emax"])
    emin = int(match["emin"]) if match["emin"] is not None else 1 - emax
    flags = [f for f in match["flags"].split("_") if f]
    has_inf = "noinf" not in flags
    overflow: OverflowPolicy = "inf" if has_inf else "nan"
    if "sat" in flags:
        overflow = "saturate"
    elif "nan" in flags:
        overflow = "nan"
    reserved = [int(f[2:]) for f in flags if f.startswith("rt")]
    return Format(
        name=spec.strip().lower(), t=t, emin=emin, emax=emax, subnormals="nosub" not in flags,
        has_inf=has_inf, overflow=overflow, reserved_top=reserved[0] if reserved else 0,
    )


def get_format(name: str | Format) -> Format:
    """Return a registered format by name (case-insensitive, common aliases accepted), a custom
    format parsed from a short string (see :func:`parse_format`), or ``name`` itself if it is
    already a :class:`Format`.
    """
    if isinstance(name, Format):
        return name
    if not isinstance(name, str):
        raise ErrboundError(f"a format is a name or a Format, got {type(name).__name__}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in FORMATS:
        return FORMATS[key]
    if key.startswith("t") and _CUSTOM.match(key):
        return parse_format(key)
    raise ErrboundError(
        f"unknown format {name!r}; registered formats: {', '.join(FORMATS)}; "
        "or give parameters like 't11emax15' (see errbound formats --help)"
    )


def as_format(value: object, what: str = "format") -> Format:
    """The one format-argument check: a :class:`Format` or a format name, else an error naming ``what``."""
    if isinstance(value, (str, Format)):
        return get_format(value)
    raise ErrboundError(f"{what} must be a format name such as 'fp16' or a Format, got {value!r}")
