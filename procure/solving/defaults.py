"""The defaults every solve shares, in one place: the CLI, the API, sweep specs and the report read them here.

No heavy imports: the CLI reads these before it knows whether it will solve anything."""

from __future__ import annotations

DEFAULT_GAP = 1e-4
"""Relative MIP gap a solve stops at unless told otherwise: the same for the CLI, the API and sweeps."""
DEFAULT_TIME_LIMIT = 120.0
"""Seconds a solve (or a sweep point) may take unless told otherwise: the same for the CLI, the API and sweeps.
meta.json is proven to the default gap in about a minute on 2 cores; a bounded default keeps an interactive
solve interactive, and the summary states status, bound and gap when the limit stops it."""


def time_limit_or_none(time_limit: float | None) -> float | None:
    """The time limit as the solvers take it: seconds, or ``None`` for no limit (0 means no limit, as on the
    command line). The one place that reads 0 as "none"."""
    return float(time_limit) if time_limit else None
