"""Shared test configuration: hypothesis profiles and markers.

Profiles: ``ci`` (default; fast, deterministic) and ``thorough`` (HYPOTHESIS_PROFILE=thorough,
>= 10^4 examples per property). The example database lives in .hypothesis/ (git-ignored).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
