"""Registry of function families and the ``name:key=value,...`` spec parser."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Callable

from errbound.errors import ErrboundError
from errbound.functions._base import TorusFunction, check_dim

__all__ = ["get_function", "function_names", "FAMILIES", "Family"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Family:
    """A named function family: builder(dim, **params) and its parameters {name: (type, help)}."""

    name: str
    summary: str
    builder: Callable[..., TorusFunction]
    params: dict[str, tuple[type, str]]


def _families() -> dict[str, Family]:
    from errbound.functions.smooth import make_smooth
    from errbound.functions.sobolev import make_grf, make_sobolev
    from errbound.functions.step import make_step
    from errbound.functions.tent import make_tent
    from errbound.functions.trig import make_trig
    from errbound.functions.witnesses import make_aliased, make_tentgrid

    fams = [
        Family(name="trig", summary="random band-limited trigonometric polynomial (error exactly 0 for s > band + k)",
               builder=make_trig, params={"band": (int, "degree per axis (6)"), "seed": (int, "random seed (0)")}),
        Family(name="smooth", summary="exp(a sum_i sin 2 pi (x_i - shift)), analytic (Bessel coefficients)",
               builder=make_smooth, params={"a": (float, "amplitude (1.0)"), "shift": (float, "phase shift (0.0)")}),
        Family(name="tent", summary="product of periodic hats, Lipschitz with kinks (|k|^-2)",
               builder=make_tent, params={"center": (float, "0.37"), "halfwidth": (float, "0.21"), "height": (float, "1.0")}),
        Family(name="step", summary="indicator of the box [a, b)^d, discontinuous (|k|^-1)",
               builder=make_step, params={"a": (float, "0.2"), "b": (float, "0.7")}),
        Family(name="sobolev", summary="random field with |vhat(k)| = (1+|k|^2)^-(r/2+d/4), in H^(r-eps)",
               builder=make_sobolev, params={"r": (float, "smoothness (1.0)"), "band": (int, "band limit (32768/1024/48 in 1/2/3-D)"), "seed": (int, "0")}),
        Family(name="grf", summary="FNO Gaussian random field sigma^2 (-Lap + tau^2)^-alpha, exact coefficients",
               builder=make_grf, params={"alpha": (float, "2.5"), "tau": (float, "7.0"), "sigma": (float, "1.0"), "band": (int, "band limit"), "seed": (int, "0")}),
        Family(name="aliased", summary="worst-case aliasing witness amp cos(2 pi (w - s e_1).x) for grid s and mode w",
               builder=make_aliased, params={"w": (str, "mode, e.g. 3 or 3x-1 (1)"), "s": (int, "grid (0: each resolution)"), "amp": (float, "1.0")}),
        Family(name="tentgrid", summary="lower-bound witness slope * sum_i dist(x_i, Z/s), zero on the grid s",
               builder=make_tentgrid, params={"s": (int, "grid (0: each resolution)"), "slope": (float, "1.0")}),
    ]
    return {f.name: f for f in fams}


FAMILIES: dict[str, Family] = {}


def function_names() -> list[str]:
    """Registered family names."""
    if not FAMILIES:
        FAMILIES.update(_families())
    return list(FAMILIES)


def _convert(family: Family, key: str, text: str) -> Any:
    kind, _ = family.params[key]
    try:
        if kind is int:
            value = float(text)
            if not value.is_integer():
                raise ValueError
            return int(value)
        return kind(text)
    except ValueError:
        raise ErrboundError(f"{family.name}: parameter {key}={text!r} is not a valid {kind.__name__}") from None


def get_function(spec: str, dim: int | None = None) -> TorusFunction:
    """Build a function from ``name`` or ``name:key=value,key=value`` (``dim=`` may be in the spec).

    >>> get_function("sobolev:r=2,seed=3", dim=2)          # doctest: +SKIP
    """
    names = function_names()
    if not isinstance(spec, str) or not spec.strip():
        raise ErrboundError(f"function spec must be a non-empty string like 'smooth:a=2'; choose from: {', '.join(names)}")
    name, _, body = spec.strip().partition(":")
    name = name.strip()
    if name not in FAMILIES:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ErrboundError(f"unknown function {name!r}{hint}; choose one of: {', '.join(names)}")
    family = FAMILIES[name]
    params: dict[str, Any] = {}
    spec_dim = None
    for item in filter(None, (part.strip() for part in body.split(","))):
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq:
            raise ErrboundError(f"{name}: parameters are key=value pairs separated by commas, got {item!r}")
        if key == "dim":
            try:
                spec_dim = int(text)
            except ValueError:
                raise ErrboundError(f"dim must be 1, 2 or 3, got {text!r}") from None
            continue
        if key not in family.params:
            raise ErrboundError(
                f"unknown parameter {key!r} for function {name!r}; its parameters are: {', '.join(family.params) or '(none)'}"
            )
        params[key] = _convert(family, key, text.strip())
    if dim is not None and spec_dim is not None and int(dim) != spec_dim:
        raise ErrboundError(f"dim={spec_dim} in the spec contradicts dim={dim}")
    d = check_dim(dim if dim is not None else (spec_dim if spec_dim is not None else 1))
    return family.builder(d, **params)
