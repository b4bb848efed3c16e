"""Policy limits: capex budget and shares of served compute by vendor, provider and ownership."""

from __future__ import annotations

import pyomo.environ as pyo

from procure.data import OWN, ModelData
from procure.model.elastic import slack


def add_budget(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Annual capex budget. Rows ``budget[s, y]`` per leaf scenario ``s`` and budgeted year ``y``
    (identical rows of scenarios that share the year's history are built once)::

        Σ_{t ∈ y} (cost[capex_power, node(s,t)] + cost[capex_accelerators, node(s,t)]) ≤ B_y (+ slack)
    """
    rows, seen = [], set()
    for s in d.SCENARIOS:
        for y in d.capex_budget_musd:
            nodes = tuple(d.node_of[s, t] for t in range(d.T) if d.year_of[t] == y)
            if nodes and nodes not in seen:
                seen.add(nodes)
                rows.append((s, y))
    give = slack(m, "budget", rows)

    def rule(_, s, y):
        nodes = [d.node_of[s, t] for t in range(d.T) if d.year_of[t] == y]
        capex = sum(m.cost["capex_power", n] + m.cost["capex_accelerators", n] for n in nodes)
        return capex <= d.capex_budget_musd[y] + give[s, y]

    m.budget = pyo.Constraint(rows, rule=rule)


def _total_served(m: pyo.ConcreteModel, d: ModelData, n: tuple):
    return sum(m.demand_h100e[w, n] - m.shortfall[w, n] for w in d.WORKLOADS)


def _served_by(m: pyo.ConcreteModel, d: ModelData, n: tuple, keep) -> list:
    return [m.served[u.id, n] for u in d.SOURCES if keep(u) and (u.id, n) in m.served]


def add_vendor_share(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Vendor concentration. Rows ``vendor_share[v, n]``::

        Σ_{u: vendor(a(u)) = v} served[u, n] ≤ share_v · Σ_w (D_{w,n} − shortfall[w, n]) (+ slack)
    """
    rows = [(v, n) for v in d.max_vendor_share for n in d.NODES
            if _served_by(m, d, n, lambda u, v=v: d.vendor[u.accelerator] == v)]
    give = slack(m, "vendor_share", rows)
    m.vendor_share = pyo.Constraint(rows, rule=lambda _, v, r, t: sum(
        _served_by(m, d, (r, t), lambda u: d.vendor[u.accelerator] == v))
        <= d.max_vendor_share[v] * _total_served(m, d, (r, t)) + give[v, (r, t)])


def add_provider_share(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Provider concentration (``own`` counts as a provider). Rows ``provider_share[p, n]``::

        Σ_{u: provider(u) = p} served[u, n] ≤ share_p · Σ_w (D_{w,n} − shortfall[w, n]) (+ slack)
    """
    rows = [(p, n) for p in d.max_provider_share for n in d.NODES
            if _served_by(m, d, n, lambda u, p=p: u.provider == p)]
    give = slack(m, "provider_share", rows)
    m.provider_share = pyo.Constraint(rows, rule=lambda _, p, r, t: sum(
        _served_by(m, d, (r, t), lambda u: u.provider == p))
        <= d.max_provider_share[p] * _total_served(m, d, (r, t)) + give[p, (r, t)])


def add_owned_share(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Minimum owned share. Rows ``owned_share[n]`` when ``min_owned_share > 0``::

        Σ_{u own} served[u, n] ≥ share_min · Σ_w (D_{w,n} − shortfall[w, n]) (− slack)
    """
    rows = list(d.NODES) if d.min_owned_share > 0 else []
    give = slack(m, "owned_share", rows)
    m.owned_share = pyo.Constraint(rows, rule=lambda _, r, t: sum(
        _served_by(m, d, (r, t), lambda u: u.provider == OWN)) + give[(r, t)]
        >= d.min_owned_share * _total_served(m, d, (r, t)))
