"""errbound: when is low precision safe in Fourier Neural Operators, and how much does it buy?

Core API (numpy only): float formats (:func:`get_format`), correctly rounded emulation
(:func:`round_to`) and emulated arithmetic (:mod:`errbound.arith`). Discretization and precision
error engines, bounds, and the torch trainer live in submodules.
"""

from errbound._version import __version__ as __version__
from errbound.errors import ErrboundError as ErrboundError
from errbound.formats import Format as Format
from errbound.formats import format_names as format_names
from errbound.formats import get_format as get_format
from errbound.rounding import ROUNDING_MODES as ROUNDING_MODES
from errbound.rounding import round_to as round_to

__all__ = ["__version__", "ErrboundError", "Format", "format_names", "get_format", "ROUNDING_MODES", "round_to"]
