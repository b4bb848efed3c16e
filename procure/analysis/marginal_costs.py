"""Marginal cost of compute: the shadow price of demand, per node and workload.

The dual of ``meet_demand[w, n]`` in the LP with every lumpy decision fixed at its optimal value and every
integer domain relaxed (:func:`procure.solving.fixed_lp.solve_fixed_lp`). The objective weighs node
``n = (r, t)`` by ``p_n · δ_t``, so the raw dual is the change of the *expected discounted* objective ($M)
per extra H100e of demand at that node. It is reported divided by ``p_n · δ_t`` and in $: **undiscounted $
per H100e-quarter in that quarter, given the scenario reaches the node** (an extra H100e is then served by
the cheapest continuous option left: a rental, an idle owned unit, a lease unit, or the shortfall penalty).
"""

from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.solving.fixed_lp import FixedLP

SHARE_FAMILIES = ("vendor_share", "provider_share", "owned_share")


def _share_rows_by_node(m: pyo.ConcreteModel) -> dict[tuple, list]:
    """The active policy-share rows (:mod:`procure.model.policy`) of each node."""
    by_node: dict[tuple, list] = {}
    for family in SHARE_FAMILIES:
        for index, row in getattr(m, family, {}).items():
            if row.active:
                node = tuple(index)[-2:]  # (r, t) closes every share row's index
                by_node.setdefault(node, []).append(row)
    return by_node


def _demand_slope(m: pyo.ConcreteModel, row, w: str, n: tuple) -> float:
    """∂(the row's bound)/∂D_{w,n} as the solver gets the row: the body's constant, which holds D (a share
    row caps or floors a share of Σ_w (D − K · shortfall)), moves to the bound. Read off the row, so it has the
    sign of however Pyomo wrote it (``a ≥ b`` becomes ``b − a ≤ 0``)."""
    from pyomo.repn import generate_standard_repn

    demand = m.demand_h100e[w, n]
    before = generate_standard_repn(row.body, compute_values=True).constant
    demand.value = pyo.value(demand) + 1.0
    try:
        after = generate_standard_repn(row.body, compute_values=True).constant
    finally:
        demand.value = pyo.value(demand) - 1.0
    return before - after  # the body's constant up by c: the bound down by c


def marginal_costs(m: pyo.ConcreteModel, d: ModelData, lp: FixedLP) -> pd.DataFrame:
    """One row per scenario, quarter and workload: ``marginal_usd_per_h100e_quarter`` (undiscounted $ per
    H100e-quarter given the scenario reaches the node, = dual / (p_n · δ_t) × 1e6) and ``node_dual_musd``
    (the raw derivative: expected discounted $M per H100e of demand at the node). Demand sits on the right
    of ``meet_demand[w, n]`` and, through Σ_w (D − K · shortfall), of the node's policy-share rows, so the
    derivative is dual(meet_demand) + Σ_rows ∂bound/∂D · dual(row)."""
    rows, shares = [], _share_rows_by_node(m)
    share_terms: dict[tuple, float] = {}  # (w, n): nodes before a branch are shared by scenarios, sum once
    for s in d.SCENARIOS:
        for t in range(d.T):
            n = d.node_of[s, t]
            weight = d.node_probability[n] * pyo.value(m.discount_factor[t])
            for w in d.WORKLOADS:
                dual = lp.duals.get(m.meet_demand[w, n]) if lp.duals else None
                if dual is None:
                    rows.append((s, d.QUARTERS[t], w, float("nan"), float("nan")))
                    continue
                if (w, n) not in share_terms:
                    share_terms[w, n] = sum(_demand_slope(m, row, w, n) * lp.duals[row] for row in shares.get(n, ())
                                            if lp.duals.get(row))
                dual += share_terms[w, n]
                rows.append((s, d.QUARTERS[t], w, round(dual / weight * 1e6, 4) + 0.0, round(dual, 9) + 0.0))
    return pd.DataFrame(rows, columns=["scenario", "quarter", "workload", "marginal_usd_per_h100e_quarter",
                                       "node_dual_musd"])
