"""Value of planning for uncertainty: the value of the stochastic solution (VSS) and the expected value of
perfect information (EVPI), when there are at least two scenarios.

The expected-value problem (one path with probability-weighted demand) is solved, its first-stage decisions
(nodes every scenario shares) are fixed in the stochastic model and the rest re-optimised (EEV);
``VSS = EEV − RP``. Each scenario is solved alone (wait-and-see) and ``EVPI = RP − Σ_s p_s z_s``. ``RP`` is
the stochastic optimum. Values computed from a time-limited solve come with the range the bounds allow.
"""

from __future__ import annotations

import dataclasses
import time
from types import MappingProxyType
from typing import Any

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model import build_model
from procure.solving.clock import Clock
from procure.solving.fixing import decision_vars, integer_vars, node_of_index, preserved
from procure.solving.solve import SolveOptions, SolveResult, solve_model


def single_path_data(d: ModelData, scenario_id: str, demand: dict) -> ModelData:
    """A one-scenario copy of ``d`` with the given demand ``{(workload, t): H100e}``."""
    nodes = tuple((scenario_id, t) for t in range(d.T))
    return dataclasses.replace(
        d, SCENARIOS=(scenario_id,), probability=MappingProxyType({scenario_id: 1.0}), NODES=nodes,
        node_of=MappingProxyType({(scenario_id, t): (scenario_id, t) for t in range(d.T)}),
        node_probability=MappingProxyType({n: 1.0 for n in nodes}),
        parent_node=MappingProxyType({(scenario_id, t): ((scenario_id, t - 1) if t else None) for t in range(d.T)}),
        histories=MappingProxyType({(scenario_id, t): nodes[:t + 1] for t in range(d.T)}),
        demand=MappingProxyType({(w, (scenario_id, t)): float(demand[w, t]) for w in d.WORKLOADS for t in range(d.T)}))


def expected_demand(d: ModelData) -> dict:
    return {(w, t): sum(d.probability[s] * d.demand[w, d.node_of[s, t]] for s in d.SCENARIOS)
            for w in d.WORKLOADS for t in range(d.T)}


def first_stage_nodes(d: ModelData) -> set:
    return {n for n in d.NODES if d.node_probability[n] >= 1 - 1e-9}


def stochastic_value(m: pyo.ConcreteModel, d: ModelData, rp: dict, opts: SolveOptions, clock: Clock,
                     time_limit: float | None = None) -> dict:
    """VSS and EVPI (see the module docstring); ``rp`` is ``{"objective", "bound"}`` of the stochastic
    solve. The extra solves share ``clock``'s time budget by their size, each at most ``time_limit``
    seconds; values computed from a time-limited solve say so."""
    out: dict[str, Any] = {"applicable": len(d.SCENARIOS) >= 2}
    if not out["applicable"]:
        out["note"] = "one scenario: nothing to be uncertain about"
        return out
    root = d.node_of[d.SCENARIOS[0], 0][0]
    first = first_stage_nodes(d)
    out["first_stage_quarters"] = [d.QUARTERS[t] for _, t in sorted(first, key=lambda n: n[1])]
    started = time.perf_counter()
    shares = {"left": 1 + 2 + len(d.SCENARIOS)}  # EV 1, EEV 2 (the whole tree), each scenario alone 1

    def limited(o: SolveOptions, share: int = 1) -> SolveOptions:
        """``o`` with the next solve's time limit: its shares of what is left (at least 1 s)."""
        solve_time_limit = clock.time_limit(time_limit, share=share / shares["left"], floor=1.0)
        shares["left"] = max(shares["left"] - share, 1)
        return dataclasses.replace(o, time_limit=solve_time_limit)

    # expected-value problem
    ev_model = build_model(single_path_data(d, root, expected_demand(d)))
    ev = solve_model(ev_model, limited(opts))
    out["ev"] = _result_dict(ev)
    if ev.has_solution:
        with preserved(m):
            by_name = {}
            for v in decision_vars(ev_model) + integer_vars(ev_model):
                n = node_of_index(v)
                if n in first:
                    by_name[v.name] = round(v.value or 0)
            for v in decision_vars(m) + integer_vars(m):
                if v.name in by_name and not v.fixed:
                    v.fix(by_name[v.name])
            eev = solve_model(m, limited(opts, share=2))
        out["eev"] = _result_dict(eev)
        if eev.has_solution and rp.get("objective") is not None:
            out["vss_musd"] = eev.objective - rp["objective"]
            out["vss_range_musd"] = [(eev.bound if eev.bound is not None else eev.objective) - rp["objective"],
                                     eev.objective - (rp.get("bound") or rp["objective"])]
    # wait-and-see: each scenario alone
    ws, ws_bound, exact = 0.0, 0.0, True
    per_scenario = {}
    for s in d.SCENARIOS:
        demand = {(w, t): d.demand[w, d.node_of[s, t]] for w in d.WORKLOADS for t in range(d.T)}
        res = solve_model(build_model(single_path_data(d, s, demand)), limited(opts))
        per_scenario[s] = _result_dict(res)
        if not res.has_solution:
            ws = None
            break
        ws += d.probability[s] * res.objective
        ws_bound += d.probability[s] * (res.bound if res.bound is not None else res.objective)
        exact = exact and res.status == "optimal"
    out["wait_and_see"] = per_scenario
    if ws is not None and rp.get("objective") is not None:
        out["ws_musd"] = ws
        out["evpi_musd"] = rp["objective"] - ws
        out["evpi_range_musd"] = [(rp.get("bound") or rp["objective"]) - ws, rp["objective"] - ws_bound]
    out["exact"] = exact and out.get("eev", {}).get("status") == "optimal" and ev.status == "optimal"
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


def _result_dict(r: SolveResult) -> dict:
    return {"status": r.status, "objective": r.objective, "bound": r.bound, "gap": r.gap,
            "seconds": round(r.seconds, 3)}
