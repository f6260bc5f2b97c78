"""User-facing errors.

Every error caused by bad input (wrong shape, NaN, unknown name, missing file) is raised as
:class:`ErrboundError`. It subclasses :class:`ValueError` so library users can catch it the usual
way; the CLI catches it, prints one line ``errbound: error: <message>`` and exits with status 2.
Messages say what was passed, why it is wrong, and what to pass instead.
"""

from __future__ import annotations

__all__ = ["ErrboundError", "MissingDependencyError"]


class ErrboundError(ValueError):
    """Bad input or an unsupported request; the message names the problem and the fix."""


class MissingDependencyError(ErrboundError, ImportError):
    """An optional dependency (e.g. torch for training) is not installed."""

    def __init__(self, package: str, extra: str, hint: str | None = None) -> None:
        msg = (
            f"this feature needs the optional package {package!r}, which is not installed; "
            f"install it with: pip install 'errbound[{extra}]'"
        )
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)
