"""Why the plan looks the way it does: one call that asks every question of a solved plan.

Everything starts from a solved model (``procure.solve(..., keep_model=True)``) and leaves it as it found it
(values, bounds, fixings, domains and active rows are restored: :func:`procure.solving.fixing.preserved`).
Each question has its own module:

* :mod:`procure.analysis.marginal_costs` — the marginal cost of compute (the shadow price of demand);
* :mod:`procure.analysis.binding` — the binding limits and what relaxing each is worth;
* :mod:`procure.analysis.break_even` — the price at which an unused option enters, or a bound one leaves;
* :mod:`procure.analysis.stochastic` — the value of the stochastic solution (VSS) and of perfect
  information (EVPI).

The first two read LPs with the lumpy decisions fixed (:mod:`procure.solving.fixed_lp`); the last two
re-solve MIPs, sharing a time budget (:class:`procure.solving.clock.Clock`). A search that runs out of it
reports what it has (a wider bracket, a bound) and says so.
"""

from __future__ import annotations

import dataclasses
import time

import pandas as pd

from procure.analysis.binding import LIMITS_FREE, binding_limits, limit_groups, row_coefficients
from procure.analysis.break_even import break_even
from procure.analysis.marginal_costs import marginal_costs
from procure.analysis.plan_options import plan_solve_options
from procure.analysis.stochastic import stochastic_value
from procure.solving.clock import Clock
from procure.solving.fixed_lp import solve_fixed_lp

__all__ = ["Explanation", "explain"]


@dataclasses.dataclass
class Explanation:
    """The answers to every question, notes on how far to trust them, and the seconds each step took."""

    marginal_costs: pd.DataFrame
    binding: pd.DataFrame
    limits: list[dict]
    break_even: pd.DataFrame
    stochastic: dict
    notes: list[str]
    seconds: dict

    def to_json(self) -> dict:
        return {"limits": self.limits, "stochastic": self.stochastic, "notes": self.notes, "seconds": self.seconds,
                "units": {"marginal_usd_per_h100e_quarter": "undiscounted $ per H100e-quarter, given the scenario "
                                                            "reaches the node",
                          "value_musd": "$M, expected discounted: at most what one more step saves, the marginal "
                                        "rate times the step (budget: $ saved per $ of budget)",
                          "value_of_1pct_musd": "$M, expected discounted, for relaxing the limit by 1 % "
                                                "(shares: one percentage point)",
                          "vss_musd": "$M, expected discounted", "evpi_musd": "$M, expected discounted"}}


def explain(plan, names: dict | None = None, time_budget: float | None = None, time_limit: float | None = None,
            break_even_steps: int = 5, break_even_mode: str | None = None) -> Explanation:
    """Explain a solved plan (needs ``plan.model``: solve with ``keep_model=True``).

    ``time_budget`` (seconds) is shared by the extra solves (the two LPs, VSS/EVPI, break-even probes);
    ``time_limit`` (seconds) caps one of them. ``names`` maps site/provider ids to display names.
    ``break_even_mode`` is ``"full"`` or ``"restricted"`` (see :func:`~procure.analysis.break_even.break_even`);
    by default full when the plan's solve took at most 10 s.
    """
    m, d = plan.model, plan.data
    if m is None:
        raise ValueError("explain() needs the solved model: call procure.solve(..., keep_model=True)")
    if getattr(m, "SLACKS", None):
        raise ValueError("the plan comes from the elastic re-solve of an infeasible instance: nothing to explain")
    summary = plan.summary
    opts = plan_solve_options(summary)
    clock = Clock(time_budget)
    seconds: dict[str, float] = {}
    notes = []
    t0 = time.perf_counter()
    lp = solve_fixed_lp(m, time_limit=clock.time_limit(time_limit), threads=opts.threads)
    seconds["fixed_lp"] = round(time.perf_counter() - t0, 3)
    if not lp.duals:
        notes.append(f"the LP with integers fixed gave no duals ({lp.termination}); marginal costs are missing")
    mc = marginal_costs(m, d, lp)
    t0 = time.perf_counter()
    coefficients = row_coefficients(m, d, free=LIMITS_FREE)
    limits_lp = solve_fixed_lp(m, time_limit=clock.time_limit(time_limit), threads=opts.threads, free=LIMITS_FREE)
    seconds["limits_lp"] = round(time.perf_counter() - t0, 3)
    binding = binding_limits(m, d, limits_lp, names, coefficients)
    limits = limit_groups(binding, d)
    if summary.get("status") != "optimal":
        notes.append("the plan is not proven optimal (time limit): duals and comparisons refer to the incumbent")

    # share the rest of the budget: VSS/EVPI first (a fixed number of solves, 70 % of what is left), then
    # break-even probes (the rest)
    t0 = time.perf_counter()
    rp = {"objective": summary.get("objective"), "bound": summary.get("bound")}
    stochastic = stochastic_value(m, d, rp, opts, clock.part(0.7, floor=1.0), time_limit)
    seconds["stochastic"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    if break_even_mode is None:  # full re-solves when the MIP is quick, else hold the other lumpy decisions
        break_even_mode = "full" if (summary.get("seconds", {}).get("solve") or 0) <= 10 else "restricted"
    be = break_even(m, d, opts, clock, lp, steps=break_even_steps, time_limit=time_limit, mode=break_even_mode)
    seconds["break_even"] = round(time.perf_counter() - t0, 3)
    return Explanation(mc, binding, limits, be, stochastic, notes, seconds)
