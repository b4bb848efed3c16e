"""The solve options a plan's extra solves (explanations, baselines) reuse: the plan's own gap and threads."""

from __future__ import annotations

from procure.solving.solve import SolveOptions


def plan_solve_options(summary: dict) -> SolveOptions:
    """``SolveOptions`` with the gap and threads recorded in the plan's ``summary`` (a missing or zero gap
    reads as the default gap)."""
    recorded = summary.get("options", {})
    default_gap = SolveOptions().gap
    return SolveOptions(gap=recorded.get("gap", default_gap) or default_gap, threads=recorded.get("threads"))
