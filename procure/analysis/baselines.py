"""Baseline strategies evaluated in the same cost model as the optimum.

Every baseline restricts the *built* model — it fixes or bounds variables, it never re-prices anything —
so its cost is the same objective (expected discounted $M net of residual value) and can never beat the
optimum: each baseline is a feasible plan of the original problem.

* ``lease_only`` — no new purchases and no new power blocks (``buy = build = 0``): demand is met by the
  existing fleet, existing contracts, new leases and rentals (or paid as shortfall). Solved as a MIP.
* ``build_only`` — no new leases and no rentals (``commit = signed = 0``, rental allocations 0): new
  power blocks and purchases only, existing contracts kept; shortfall while power is pending. Solved as
  a MIP.
* ``greedy_myopic`` — quarter by quarter (all nodes of quarter ``t`` together, earlier quarters fixed,
  later decisions held at zero), the cheapest way to serve *that quarter only*: the step objective is the
  quarter's own bill — opex, lease and rental payments due that quarter, the shortfall penalty, and
  purchases charged at one quarter of straight-line depreciation (price / lifetime). A power block never
  pays off inside its quarter, so the myopic planner starts none. Each step is a small MIP (only the rows
  of quarter ``t``, plus the budget and provider-capacity rows its leases touch, are active); its integer
  decisions are then fixed and the next quarter follows. Finally every integer decision is fixed and the
  plan is priced by the full objective (an LP).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import pandas as pd
import pyomo.environ as pyo

from procure.analysis.plan_options import plan_solve_options
from procure.inputs.data import ModelData
from procure.model.costs import COST_CATEGORIES
from procure.model.units import natural
from procure.outputs.tables import costs_table, expected_costs
from procure.solving.clock import Clock
from procure.solving.fixing import decision_vars, fix_integers, preserved
from procure.solving.solve import SolveOptions, SolveResult, solve_model

BASELINES = ("lease_only", "build_only", "greedy_myopic")
DESCRIPTIONS = {
    "optimum": "the optimal plan",
    "lease_only": "no new purchases or power blocks: existing fleet, contracts, new leases and rentals",
    "build_only": "no new leases or rentals: new power blocks and purchases (existing contracts kept)",
    "greedy_myopic": "each quarter, the cheapest way to serve that quarter only (no look-ahead)",
}
COLUMNS = ["baseline", "description", "status", "objective_musd", "bound_musd", "equal_service",
           "pct_above_optimum", "cost_without_shortfall_musd", "shortfall_h100e_quarters", "short_where",
           *COST_CATEGORIES, "residual_value"]
"""Columns of the table; the time each baseline took is in ``table.attrs["seconds"]`` (kept out of the file,
so the same input gives the same file)."""
LIMIT_WORDS = {"owned_share": "minimum owned share", "vendor_share": "vendor share cap",
               "provider_share": "provider share cap", "provider_capacity": "provider capacity",
               "power": "site power"}


def _fix_zero(variables) -> None:
    for v in variables:
        v.fix(0)


def restrict_lease_only(m: pyo.ConcreteModel, d: ModelData) -> None:
    _fix_zero(m.buy.values())
    _fix_zero(m.build.values())


def restrict_build_only(m: pyo.ConcreteModel, d: ModelData) -> None:
    _fix_zero(m.commit.values())
    _fix_zero(m.signed.values())
    _fix_zero(m.alloc[u, w, r, t] for u, w, r, t in m.ALLOC if u.startswith("rental:"))


RESTRICTIONS: dict[str, Callable] = {"lease_only": restrict_lease_only, "build_only": restrict_build_only}


def _shortfall(m: pyo.ConcreteModel, d: ModelData) -> float:
    return sum(d.node_probability[n] * natural(m.shortfall[w, n]) for w in d.WORKLOADS for n in d.NODES)


def _tight(c) -> bool:
    body = pyo.value(c.body)
    return any(bound is not None and abs(body - pyo.value(bound)) <= 1e-6 * max(1.0, abs(body))
               for bound in (c.lower, c.upper))


def short_where(m: pyo.ConcreteModel, d: ModelData) -> str:
    """The limits that are tight where demand goes unserved (plain words, most frequent first): the node
    rows of :data:`LIMIT_WORDS` (a share row only where something is served: with nothing served it is
    trivially tight), rental availability, and the capex budget of a year with a short quarter."""
    short = {n for n in d.NODES if sum(natural(m.shortfall[w, n]) for w in d.WORKLOADS) > 1e-6}
    if not short:
        return ""
    served = {n: sum(pyo.value(m.demand_h100e[w, n]) - natural(m.shortfall[w, n]) for w in d.WORKLOADS)
              for n in short}
    counts: dict[str, int] = {}

    def count(words: str) -> None:
        counts[words] = counts.get(words, 0) + 1

    for family, words in LIMIT_WORDS.items():
        for index, c in getattr(m, family, {}).items():
            node = tuple((index if isinstance(index, tuple) else (index,))[-2:])
            if not c.active or node not in short or (family.endswith("_share") and served[node] <= 1e-6):
                continue
            if _tight(c):
                count(words)
    for (u, r, t), c in getattr(m, "source_limit", {}).items():
        if u.startswith("rental:") and (r, t) in short and c.active and _tight(c):
            count("rental availability")
    for (s, y), c in getattr(m, "budget", {}).items():
        if c.active and any(d.node_of[s, t] in short for t in range(d.T) if d.year_of[t] == y) and _tight(c):
            count("capex budget")
    return ", ".join(sorted(counts, key=lambda w: -counts[w]))


SERVICE_TOLERANCE = 1e-6
"""Relative to the expected demand (H100e-quarters): a baseline short by no more than the optimum plus
this serves the same demand."""


def compare_at_equal_service(row: dict, optimum: dict, d: ModelData) -> dict:
    """Add what makes a baseline comparable with the optimum: ``cost_without_shortfall_musd`` (the objective
    less the shortfall penalty: what the plan pays for what it serves), ``equal_service`` (it leaves no
    more demand unserved than the optimum does) and, only then, ``pct_above_optimum``. A baseline that
    serves less gets no percentage: its penalty would be most of it (lease-only read +6,126 % on meta.json,
    355M H100e-quarters short); its shortfall and where it falls short stand beside instead."""
    objective = row.get("objective_musd")
    if objective is None or row.get("shortfall_h100e_quarters") is None:
        return row
    demand = sum(p * d.demand[w, n] for n, p in d.node_probability.items() for w in d.WORKLOADS)
    short, optimum_short = row["shortfall_h100e_quarters"], optimum.get("shortfall_h100e_quarters") or 0.0
    equal = short <= optimum_short + SERVICE_TOLERANCE * max(demand, 1.0)
    row["equal_service"] = bool(equal)
    row["cost_without_shortfall_musd"] = round(objective - (row.get("shortfall") or 0.0), 6)
    optimum_objective = optimum.get("objective_musd")
    row["pct_above_optimum"] = (round(100.0 * (objective - optimum_objective) / abs(optimum_objective), 4)
                                if equal and optimum_objective else None)
    return row


def _row(name: str, result: SolveResult, m: pyo.ConcreteModel, d: ModelData, seconds: float) -> dict:
    row = {"baseline": name, "description": DESCRIPTIONS[name], "status": result.status,
           "objective_musd": result.objective, "bound_musd": result.bound, "seconds": round(seconds, 3)}
    if result.has_solution:
        costs = expected_costs(costs_table(m, d), d)
        row.update(costs)
        row["shortfall_h100e_quarters"] = round(_shortfall(m, d), 6)
        row["short_where"] = short_where(m, d)
    return row


def run_restricted(m: pyo.ConcreteModel, d: ModelData, name: str, opts: SolveOptions) -> dict:
    """Solve the model under one restriction (``lease_only`` or ``build_only``); the model is restored."""
    with preserved(m):
        RESTRICTIONS[name](m, d)
        start = time.perf_counter()
        result = solve_model(m, opts)
        return _row(name, result, m, d, time.perf_counter() - start)


def run_greedy_myopic(m: pyo.ConcreteModel, d: ModelData, opts: SolveOptions,
                      clock: Clock | None = None) -> dict:
    """The quarter-by-quarter myopic plan, priced by the full objective; the model is restored."""
    clock = clock or Clock(None)
    start = time.perf_counter()
    with preserved(m):
        decisions = decision_vars(m)
        by_quarter: dict[int, list] = {t: [] for t in range(d.T)}
        for v in decisions:
            by_quarter[v.index()[-1]].append(v)
        _fix_zero(m.build.values())
        main = next(m.component_data_objects(pyo.Objective, active=True))
        main.deactivate()
        rows_by_quarter = _rows_by_quarter(m, d)
        everything = [c for c in m.component_data_objects(pyo.Constraint, active=True)]
        status = "optimal"
        for t in range(d.T):
            for v in decisions:  # later decisions wait at zero, this quarter's are free
                q = v.index()[-1]
                if q > t and not v.fixed:
                    v.fix(0)
                elif q == t and v.parent_component().local_name != "build":
                    v.unfix()
            for c in everything:
                c.deactivate()
            for c in rows_by_quarter[t]:
                c.activate()
            step = pyo.Objective(expr=_step_cost(m, d, t), sense=pyo.minimize)
            m.add_component("_myopic_step", step)
            result = solve_model(m, dataclasses.replace(opts, time_limit=clock.time_limit()))
            m.del_component("_myopic_step")
            if not result.has_solution:  # keep the zeros (everything later still has a feasible recourse)
                status = "feasible"
                for v in by_quarter[t]:
                    v.set_value(0)
            elif result.status != "optimal":
                status = "feasible"
            fix_integers(by_quarter[t])
        for c in everything:
            c.activate()
        main.activate()
        result = solve_model(m, dataclasses.replace(opts, time_limit=clock.time_limit()))
        if result.has_solution and status != "optimal":
            result = dataclasses.replace(result, status=status)
        return _row("greedy_myopic", result, m, d, time.perf_counter() - start)


def _rows_by_quarter(m: pyo.ConcreteModel, d: ModelData) -> dict[int, list]:
    """Rows a myopic step at quarter ``t`` must respect: every row of a node of quarter ``t``, the capex
    budget of ``t``'s year, and provider capacity from ``t`` on (a lease signed now runs into the future)."""
    rows: dict[int, list] = {t: [] for t in range(d.T)}
    for comp in m.component_objects(pyo.Constraint, active=True):
        name = comp.local_name
        for index, c in comp.items():
            index = index if isinstance(index, tuple) else (index,)
            if name == "budget":
                _, y = index
                for t in range(d.T):
                    if d.year_of[t] == y:
                        rows[t].append(c)
            elif name == "max_blocks":
                continue  # no blocks are started
            elif name.endswith("_def"):  # running totals (if the formulation has them) stay defined
                for t in range(d.T):
                    rows[t].append(c)
            elif name == "provider_capacity":  # a lease signed now runs into the future
                q = index[-1]
                for t in range(q + 1):
                    rows[t].append(c)
            elif isinstance(index[-1], int) and len(index) >= 2:
                rows[index[-1]].append(c)
    return rows


def _step_cost(m: pyo.ConcreteModel, d: ModelData, t: int):
    """The bill of quarter ``t`` seen by a myopic planner ($M, probability-weighted over the quarter's nodes):
    every cost category of the quarter except capex, plus one quarter of straight-line depreciation of the
    accelerators bought in it."""
    nodes = [n for n in d.NODES if n[1] == t]
    expr = 0
    for n in nodes:
        running = sum(m.cost[c, n] for c in COST_CATEGORIES if c not in ("capex_power", "capex_accelerators"))
        depreciation = sum(d.price_musd_per_unit[a, t] * d.buy_lot[a] * m.price_scale[f"buy:{a}"] / d.lifetime[a]
                           * m.buy[a, i, r, q] for a, i, r, q in m.buy.index_set() if (r, q) == n)
        expr = expr + d.node_probability[n] * pyo.value(m.discount_factor[t]) * (running + depreciation)
    return expr


def run_baselines(plan, time_budget: float | None = None, time_limit: float | None = None,
                  which: tuple[str, ...] = BASELINES) -> pd.DataFrame:
    """Every baseline next to the optimum, one row each (see the module docstring). Needs ``plan.model``.

    ``time_budget`` (seconds) is shared by the baselines; ``time_limit`` (seconds) caps one MIP solve. A baseline
    stopped by its time limit reports its incumbent (status ``feasible``) and the solver's bound.
    """
    m, d = plan.model, plan.data
    if m is None:
        raise ValueError("baselines need the solved model: call procure.solve(..., keep_model=True)")
    summary = plan.summary
    optimum = summary.get("objective")
    opts = plan_solve_options(summary)
    clock = Clock(time_budget)
    costs = summary.get("costs", {})
    rows = [{"baseline": "optimum", "description": DESCRIPTIONS["optimum"], "status": summary.get("status"),
             "objective_musd": optimum, "bound_musd": summary.get("bound"), "equal_service": True,
             "pct_above_optimum": 0.0,
             "cost_without_shortfall_musd": (None if optimum is None
                                             else round(optimum - costs.get("shortfall", 0.0), 6)),
             "shortfall_h100e_quarters": summary.get("shortfall_h100e_quarters"), "short_where": short_where(m, d),
             "seconds": summary.get("seconds", {}).get("solve"), **costs}]
    for k, name in enumerate(which):
        # an even share of what is left among the baselines still to run, at most time_limit; never under 2 s
        floored = max(time_limit, 2.0) if time_limit is not None else None
        o = dataclasses.replace(opts, time_limit=clock.time_limit(floored, share=1 / (len(which) - k), floor=2.0))
        if name == "greedy_myopic":
            rows.append(run_greedy_myopic(m, d, opts, Clock(o.time_limit)))
        else:
            rows.append(run_restricted(m, d, name, o))
    rows = [rows[0], *(compare_at_equal_service(row, rows[0], d) for row in rows[1:])]
    frame = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in frame:
            frame[col] = None
    seconds = dict(zip(frame["baseline"], frame["seconds"]))
    frame = frame[COLUMNS]
    frame.attrs["seconds"] = seconds
    return frame
