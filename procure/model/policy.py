"""Policy limits: capex budget and shares of served compute by vendor, provider and ownership."""

from __future__ import annotations

import pyomo.environ as pyo

from procure.inputs.data import OWN, ModelData
from procure.model.elastic import slack
from procure.model.units import QUANTITY_SCALE


def add_budget(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Annual capex budget. Rows ``budget[s, y]`` per leaf scenario ``s`` and budgeted year ``y``
    (identical rows of scenarios that share the year's history are built once)::

        Σ_{t ∈ y} (cost[capex_power, node(s,t)] + cost[capex_accelerators, node(s,t)]) ≤ B_y (+ slack)
    """
    rows: dict[tuple[str, int], tuple] = {}
    seen = set()
    for s in d.SCENARIOS:
        for y in d.capex_budget_musd:
            nodes = tuple(d.node_of[s, t] for t in range(d.T) if d.year_of[t] == y)
            if nodes and nodes not in seen:
                seen.add(nodes)
                rows[s, y] = nodes
    give = slack(m, "budget", list(rows))

    def rule(_, s, y):
        capex = sum(m.cost["capex_power", n] + m.cost["capex_accelerators", n] for n in rows[s, y])
        return capex <= d.capex_budget_musd[y] + give[s, y]

    m.budget = pyo.Constraint(list(rows), rule=rule)


def _total_served(m: pyo.ConcreteModel, d: ModelData, n: tuple):
    return sum(m.demand_h100e[w, n] - QUANTITY_SCALE * m.shortfall[w, n] for w in d.WORKLOADS)


def _served_by(m: pyo.ConcreteModel, d: ModelData, key_of) -> dict:
    """``{(key, node): [served[u, node] for the sources u with key_of(u) == key]}``, built in one pass."""
    groups: dict = {}
    for u in d.SOURCES:
        for n in d.NODES:
            if (u.id, n) in m.served:
                groups.setdefault((key_of(u), n), []).append(m.served[u.id, n])
    return groups


def _add_share_cap(m: pyo.ConcreteModel, d: ModelData, family: str, caps, key_of) -> None:
    served = _served_by(m, d, key_of)
    rows = [(k, n) for k in caps for n in d.NODES if (k, n) in served]
    give = slack(m, family, rows)
    m.add_component(family, pyo.Constraint(rows, rule=lambda _, k, r, t: sum(served[k, (r, t)])
                                           <= caps[k] * _total_served(m, d, (r, t)) + give[k, (r, t)]))


def add_vendor_share(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Vendor concentration. Rows ``vendor_share[v, n]``::

        Σ_{u: vendor(a(u)) = v} served[u, n] ≤ share_v · Σ_w (D_{w,n} − K · shortfall[w, n]) (+ slack)
    """
    _add_share_cap(m, d, "vendor_share", d.max_vendor_share, lambda u: d.vendor[u.accelerator])


def add_provider_share(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Provider concentration (``own`` counts as a provider). Rows ``provider_share[p, n]``::

        Σ_{u: provider(u) = p} served[u, n] ≤ share_p · Σ_w (D_{w,n} − K · shortfall[w, n]) (+ slack)
    """
    _add_share_cap(m, d, "provider_share", d.max_provider_share, lambda u: u.provider)


def add_owned_share(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Minimum owned share. Rows ``owned_share[n]`` when ``min_owned_share > 0``::

        Σ_{u own} served[u, n] ≥ share_min · Σ_w (D_{w,n} − K · shortfall[w, n]) (− slack)
    """
    rows = list(d.NODES) if d.min_owned_share > 0 else []
    owned = _served_by(m, d, lambda u: u.provider) if rows else {}
    give = slack(m, "owned_share", rows)
    m.owned_share = pyo.Constraint(rows, rule=lambda _, r, t: sum(owned.get((OWN, (r, t)), []))
                                   + give[(r, t)] >= d.min_owned_share * _total_served(m, d, (r, t)))
