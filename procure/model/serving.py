"""Serving: allocate every source's units to the workloads it is eligible for; meet demand or pay shortfall."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.units import QUANTITY_SCALE


def available_units(m: pyo.ConcreteModel, d: ModelData) -> dict:
    """Units each source can offer at each node: {(source id, node): expression or constant}."""
    powered = defaultdict(list)
    for a, i, r, t in m.POWERED:
        powered[a, (r, t)].append(QUANTITY_SCALE * m.powered[a, i, r, t])
    units = {}
    for src in d.SOURCES:
        for n in d.NODES:
            t = n[1]
            if src.kind == "own":
                value = sum(powered[src.item, n]) if powered[src.item, n] else None
            elif src.kind == "lease":
                value = m.leased_units[src.item, n] if (src.item, *n) in m.LEASED else None
            elif src.kind == "contract":
                value = d.contract_units.get((src.item, t)) or None
            else:
                value = d.rental_cap.get((src.item, t)) or None
            if value is not None:
                units[src.id, n] = value
    return units


def add_serving(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Allocation and demand.

    Variables ``alloc[u, w, n] ≥ 0`` (thousands of units of source ``u`` serving workload ``w``, only where
    its accelerator ``a(u)`` has throughput ``θ_{a,w} > 0``) and ``shortfall[w, n] ≥ 0`` (thousands of H100e;
    ``K · shortfall`` at most ``D_{w,n}`` through ``meet_demand``), with ``K`` = QUANTITY_SCALE (see
    :mod:`procure.model.units`: rows stay in units and H100e). ``D`` is the mutable ``demand_h100e``.
    Rows::

        source_limit[u, n]:    Σ_w K · alloc[u, w, n] ≤ units[u, n]
        workload_share[u,w,n]: K · alloc[u, w, n] ≤ share_{a,w} · units[u, n]      (only where share_{a,w} < 1)
        meet_demand[w, n]:     Σ_u θ_{a(u),w} · K · alloc[u, w, n] + K · shortfall[w, n] = D_{w,n}

    where ``units`` is Σ_i K · powered (own), leased_units (lease), the contract volume, or the rental cap.
    Expression ``served[u, n] = Σ_w θ_{a(u),w} · K · alloc[u, w, n]`` (H100e) feeds the policy shares, and
    ``used_units[u, n] = Σ_w K · alloc[u, w, n]`` (units) the pay-per-use costs.
    """
    units = available_units(m, d)
    m.available = units
    source = {s.id: s for s in d.SOURCES}
    index = [(u.id, w, n) for u in d.SOURCES for n in d.NODES if (u.id, n) in units
             for w in d.WORKLOADS if (u.accelerator, w) in d.throughput]
    m.ALLOC = pyo.Set(initialize=index, dimen=4, ordered=True)
    m.alloc = pyo.Var(m.ALLOC, within=pyo.NonNegativeReals)
    m.shortfall = pyo.Var(m.WORKLOADS, m.NODES, within=pyo.NonNegativeReals)

    alloc_units = {key: QUANTITY_SCALE * m.alloc[key] for key in m.ALLOC}  # K · alloc: the rows count units
    by_source, by_workload = defaultdict(list), defaultdict(list)
    for u, w, r, t in m.ALLOC:
        by_source[u, (r, t)].append(alloc_units[u, w, r, t])
        by_workload[w, (r, t)].append(d.throughput[source[u].accelerator, w] * alloc_units[u, w, r, t])
    limit_rows = [key for key in units if by_source[key]]
    m.source_limit = pyo.Constraint(
        limit_rows, rule=lambda _, u, r, t: sum(by_source[u, (r, t)]) <= units[u, (r, t)])
    share_rows = [(u, w, r, t) for u, w, r, t in m.ALLOC if (source[u].accelerator, w) in d.share_cap]
    m.workload_share = pyo.Constraint(
        share_rows, rule=lambda _, u, w, r, t:
        alloc_units[u, w, r, t] <= d.share_cap[source[u].accelerator, w] * units[u, (r, t)])
    m.meet_demand = pyo.Constraint(
        m.WORKLOADS, m.NODES, rule=lambda _, w, r, t:
        sum(by_workload[w, (r, t)]) + QUANTITY_SCALE * m.shortfall[w, r, t] == m.demand_h100e[w, r, t])

    served = {key: sum(d.throughput[source[key[0]].accelerator, w] * alloc_units[key[0], w, *key[1]]
                       for w in d.WORKLOADS if (key[0], w, *key[1]) in m.ALLOC)
              for key in limit_rows}
    m.served = served
    m.used_units = {key: sum(by_source[key]) for key in limit_rows}
