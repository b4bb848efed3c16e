"""Quarters, discounting, the scenario tree and demand: what ``model/parameters.py`` and the running totals of
``model/running.py`` consume."""

from __future__ import annotations

from procure.inputs.data.horizon import Horizon
from procure.inputs.data.model_data import Node, freeze
from procure.inputs.quarters import quarter_year
from procure.inputs.schema import DemandSpec, Instance, Scenario


def tree_data(inst: Instance, horizon: Horizon) -> dict[str, object]:
    """Fields ``QUARTERS``, ``WORKLOADS``, ``year_of`` (calendar year of each quarter); the tree ``SCENARIOS``,
    ``probability``, ``NODES``, ``node_of`` (scenario, quarter) -> node, ``node_probability``, ``parent_node``,
    ``histories`` (read by ``model/running.py``, ``costs.py``, ``policy.py``, ``power.py``); ``discount`` per
    quarter and ``discount_end`` (present-value factors at the annual ``discount_rate``) and ``demand``
    (workload, node) -> H100e, the mutable parameters of ``model/parameters.py``."""
    T, rate = horizon.T, inst.horizon.discount_rate
    ids, node_of, nodes, node_probability, parent_node = _scenario_tree(inst.scenarios, horizon)
    scenario_demand = _scenario_demand(inst.scenarios, horizon)
    return dict(
        QUARTERS=horizon.quarters, WORKLOADS=horizon.workloads, SCENARIOS=ids,
        probability=freeze({s.id: s.probability for s in inst.scenarios}),
        NODES=nodes, node_of=freeze(node_of), node_probability=freeze(node_probability),
        parent_node=freeze(parent_node),
        histories=freeze({n: tuple(node_of[n[0], tau] for tau in range(n[1] + 1)) for n in nodes}),
        discount=tuple((1.0 + rate) ** (-t / 4.0) for t in range(T)), discount_end=(1.0 + rate) ** (-T / 4.0),
        year_of=tuple(quarter_year(q) for q in horizon.quarters),
        demand=freeze({(w, n): scenario_demand[n[0]][w][n[1]] for n in nodes for w in horizon.workloads}),
    )


def _demand_series(spec: DemandSpec, horizon: Horizon, start: int = 0, before: float | None = None) -> list[float]:
    """H100e per quarter. Grown from ``base`` at quarter 0, or (``growth`` alone) from ``before``, the
    parent's demand in quarter ``start - 1``; quarters before ``start`` are placeholders (the parent's)."""
    if spec.series is not None:
        if isinstance(spec.series, list):
            return [float(v) for v in spec.series]
        return [horizon.step_at(spec.series, t) for t in range(horizon.T)]
    if isinstance(spec.growth, (int, float)) and not spec.continues_parent:
        return [spec.base * (1.0 + spec.growth) ** (t / 4.0) for t in range(horizon.T)]  # the closed form
    continues = spec.continues_parent
    value, first = (before, start) if continues else (spec.base, 0)
    values = [0.0] * horizon.T
    for t in range(first, horizon.T):
        if t > first or continues:  # a continuing branch already grows into its first quarter
            value *= (1.0 + horizon.step_at(spec.growth, t)) ** 0.25
        values[t] = value
    return values


def _scenario_tree(scenarios: list[Scenario], horizon: Horizon):
    by_id = {s.id: s for s in scenarios}
    branch = {s.id: (horizon.index(s.branch_quarter) if s.branch_quarter else 0) for s in scenarios}

    def node(s: str, t: int) -> Node:
        while by_id[s].parent is not None and t < branch[s]:
            s = by_id[s].parent
        return (s, t)

    ids = tuple(s.id for s in scenarios)
    node_of = {(s, t): node(s, t) for s in ids for t in range(horizon.T)}
    nodes = tuple(sorted(set(node_of.values()), key=lambda n: (n[1], ids.index(n[0]))))
    node_probability = {n: 0.0 for n in nodes}
    for (s, t), n in node_of.items():
        node_probability[n] += by_id[s].probability
    parent_node = {n: (node_of[n[0], n[1] - 1] if n[1] > 0 else None) for n in nodes}
    return ids, node_of, nodes, node_probability, parent_node


def _scenario_demand(scenarios: list[Scenario], horizon: Horizon) -> dict[str, dict[str, list[float]]]:
    """Demand per scenario; a child inherits its parent's demand before its branch quarter and for any
    workload it does not specify, and one with ``growth`` alone continues from it."""
    by_id = {s.id: s for s in scenarios}
    workloads, T = horizon.workloads, horizon.T
    cache: dict[str, dict[str, list[float]]] = {}

    def series(sid: str) -> dict[str, list[float]]:
        if sid in cache:
            return cache[sid]
        s = by_id[sid]
        inherited = series(s.parent) if s.parent is not None else {}
        branch = horizon.index(s.branch_quarter) if s.parent is not None else 0
        own = {w: _demand_series(spec, horizon, branch, inherited[w][branch - 1] if spec.continues_parent else None)
               for w, spec in s.demand.items() if w in workloads}
        if s.parent is not None:
            own = {w: [inherited[w][t] if t < branch or w not in own else own[w][t] for t in range(T)]
                   for w in workloads}
        cache[sid] = own
        return own

    return {s.id: series(s.id) for s in scenarios}
