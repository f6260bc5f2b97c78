"""Size guards: refuse a grid before allocating it when it cannot fit in memory (or time).

Each command that allocates a grid of ``s**d`` points estimates its peak memory as ``bytes_per_point * sum s**d``
(measured constants below, from ``/usr/bin/time`` peaks on the CPU machines) and, for the mpmath reference of
``errbound discretization``, its run time as ``seconds_per_point * sum s**d``; when the estimate exceeds the
memory available (``MemAvailable`` of /proc/meminfo, else physical memory) or the time limit, it raises one
:class:`~errbound.errors.ErrboundError` naming the estimate, what is available and the largest resolution that
fits, before any allocation (so the CLI answers in well under 2 s with exit status 2).
"""

from __future__ import annotations

import os
from typing import Sequence

from errbound.errors import ErrboundError

__all__ = ["available_memory", "check_grid", "BYTES_PER_POINT", "SECONDS_PER_POINT"]

#: Peak bytes per grid point, measured: emulated spectral block / transform (``precision``, ``crossover``:
#: 400-480 B at 512^2-1024^2, rounded up) and the discretization sweep (55 B at 8192^2, rounded up).
BYTES_PER_POINT = {"precision": 512, "crossover": 512, "discretization": 64}
#: Seconds per grid point of the discretization sweep with the mpmath reference (1.3-1.9 us at 2048^2 and
#: 8192^2 on a shared 2-core machine, rounded up); the limit below is one hour.
SECONDS_PER_POINT = {"discretization": 2e-6}
TIME_LIMIT_S = 3600.0
_MEMORY_FRACTION = 0.8  # leave room for the interpreter, the page cache and other processes


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable``), else total physical memory, else 8 GiB."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _human(nbytes: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{nbytes / 1024:.3g} KiB"


def check_grid(command: str, resolutions: Sequence[int], dim: int, *, timed: bool = False,
               available: int | None = None) -> None:
    """Raise before allocating when ``resolutions`` (grid ``s**dim`` each) exceed memory or, with ``timed``, time.

    The estimate is for all resolutions together (they run one after the other, but the result rows and
    caches accumulate; summing is the conservative choice)."""
    points = sum(int(s) ** dim for s in resolutions)
    mem = BYTES_PER_POINT[command] * points
    avail = available_memory() if available is None else available
    budget = _MEMORY_FRACTION * avail
    seconds = SECONDS_PER_POINT.get(command, 0.0) * points if timed else 0.0
    if mem <= budget and seconds <= TIME_LIMIT_S:
        return
    per_point_limit = min(budget / BYTES_PER_POINT[command],
                          TIME_LIMIT_S / SECONDS_PER_POINT[command] if timed else float("inf"))
    fits = int(per_point_limit ** (1.0 / dim))
    while fits > 1 and fits ** dim > per_point_limit:  # float root may overshoot by one
        fits -= 1
    what = f"about {_human(mem)} of memory ({_human(avail)} available)"
    if seconds > TIME_LIMIT_S:
        what += f" and about {seconds / 3600:.3g} h of mpmath reference time (limit {TIME_LIMIT_S / 3600:g} h)"
    largest = max(int(s) for s in resolutions)
    raise ErrboundError(
        f"{command} at resolution {largest} in {dim}-D ({points:.3g} grid points) needs {what}; "
        f"resolutions up to {fits} fit here: pass --res <= {fits}"
    )
