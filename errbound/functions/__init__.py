"""Functions on the torus T^d (d = 1, 2, 3) with exactly known Fourier coefficients.

``get_function("name:key=value,...", dim=d)`` builds one; :class:`TorusFunction` is the protocol
(dim, M, L, L_axes, V_axes, decay, coef, coef_mp, eval, eval_grid, eval_mp, mode_error,
mode_error_mp). Families: trig, smooth, tent, step, sobolev, grf, aliased, tentgrid (see
``function_names()`` and docs/discretization.md).
"""

from errbound.functions._base import Decay as Decay
from errbound.functions._base import TorusFunction as TorusFunction
from errbound.functions._base import grid_points as grid_points
from errbound.functions._base import mode_box as mode_box
from errbound.functions._registry import FAMILIES as FAMILIES
from errbound.functions._registry import function_names as function_names
from errbound.functions._registry import get_function as get_function

__all__ = ["Decay", "TorusFunction", "grid_points", "mode_box", "FAMILIES", "function_names", "get_function"]
