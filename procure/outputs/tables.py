"""Solved Pyomo model -> tidy long DataFrames (the output contract), in a fixed row order.

Tables (one row per scenario; a node's values are repeated for every scenario that passes through it):

* ``capacity``: scenario, quarter, workload, source, capacity_h100e, served_h100e, demand_h100e,
  shortfall_h100e. ``source`` is ``own:<accelerator>``, ``lease:<offer>``, ``contract:<contract>``,
  ``rental:<rental>`` or ``total``. ``capacity_h100e`` is what the source could give that workload alone
  (units available × throughput × share cap); demand and shortfall are the workload's totals, repeated on
  each row — filter, do not sum them over sources.
* ``plan``: scenario, quarter, decision, site, item, quantity, unit, cost_musd (undiscounted).
* ``costs``: scenario, year, category, undiscounted_musd, discounted_musd; ``residual_value`` is a credit
  (negative) booked in the horizon's last year.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.costs import COST_CATEGORIES
from procure.model.units import natural

DECIMALS = 6
CAPACITY_COLUMNS = ["scenario", "quarter", "workload", "source", "capacity_h100e", "served_h100e",
                    "demand_h100e", "shortfall_h100e"]
PLAN_COLUMNS = ["scenario", "quarter", "decision", "site", "item", "quantity", "unit", "cost_musd"]
COSTS_COLUMNS = ["scenario", "year", "category", "undiscounted_musd", "discounted_musd"]
DECISIONS = ("build_blocks", "total_power_mw", "buy", "retire", "installed", "powered", "lease_commit",
             "leased", "contract", "rental")


def _v(x) -> float:
    value = pyo.value(x, exception=False) if not isinstance(x, (int, float)) else x
    value = 0.0 if value is None else float(value)
    value = round(value, DECIMALS)
    return value + 0.0  # turns -0.0 into 0.0 so files are stable


def _expand(d: ModelData, per_node: dict, make_row) -> list:
    rows = []
    for s in d.SCENARIOS:
        for t in range(d.T):
            n = d.node_of[s, t]
            for key, value in per_node.get(n, []):
                rows.append(make_row(s, d.QUARTERS[t], key, value))
    return rows


def capacity_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    alloc = {(u, w, (r, t)): _v(natural(m.alloc[u, w, r, t])) for u, w, r, t in m.ALLOC}
    rows = []
    for s in d.SCENARIOS:
        for t in range(d.T):
            n = d.node_of[s, t]
            for w in d.WORKLOADS:
                demand = _v(m.demand_h100e[w, n])
                short = _v(natural(m.shortfall[w, n]))
                cap_total = served_total = 0.0
                for u in d.SOURCES:
                    if (u.id, w, n) not in alloc:
                        continue
                    theta = d.throughput[u.accelerator, w]
                    cap = _v(_v(m.available[u.id, n]) * theta * d.share_cap.get((u.accelerator, w), 1.0))
                    served = _v(theta * alloc[u.id, w, n])
                    cap_total += cap
                    served_total += served
                    rows.append((s, d.QUARTERS[t], w, u.id, cap, served, demand, short))
                rows.append((s, d.QUARTERS[t], w, "total", _v(cap_total), _v(served_total), demand, short))
    return pd.DataFrame(rows, columns=CAPACITY_COLUMNS)


def plan_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    per_node: dict = defaultdict(list)

    def scale(key: str) -> float:
        return float(pyo.value(m.price_scale[key]))

    def add(n, decision, site, item, quantity, unit, cost):
        if abs(quantity) > 10 ** -DECIMALS:
            per_node[n].append((decision, site, item, _v(quantity), unit, _v(cost)))

    for i in d.EXPANDABLE:
        for n in d.NODES:
            blocks = (_v(m.build[i, n]) if (i, *n) in m.build else 0.0) + d.committed_blocks.get((i, n[1]), 0)
            add(n, "build_blocks", i, "block", blocks, "blocks", blocks * d.block_capex_musd[i] * scale(f"block:{i}"))
    for i in d.SITES:
        for n in d.NODES:
            mw = _v(m.total_power_mw[i, n])
            add(n, "total_power_mw", i, "power", mw, "MW", mw * d.fixed_opex_musd_per_mw_quarter[i] * scale(f"opex:{i}"))
    bought = {(a, i, (r, t)): _v(m.buy[a, i, r, t]) * d.buy_lot[a] for a, i, r, t in m.buy.index_set()}
    for (a, i, n), units in bought.items():
        add(n, "buy", i, a, units, "units", units * d.price_musd_per_unit[a, n[1]] * scale(f"buy:{a}"))
    for a, i, r, t in m.POWERED:
        n = (r, t)
        add(n, "installed", i, a, _v(m.installed[a, i, r, t]), "units", 0.0)
        add(n, "powered", i, a, _v(natural(m.powered[a, i, r, t])), "units", 0.0)
        # units reaching the end of their life leave after quarter t-1: bought L quarters ago or pre-horizon
        life = d.lifetime[a]
        gone = d.existing_units.get((a, i, t - 1), 0.0) - d.existing_units.get((a, i, t), 0.0) if t > 0 else 0.0
        if t - life >= 0:
            gone += bought.get((a, i, d.history(n)[t - life]), 0.0)
        add(n, "retire", i, a, max(gone, 0.0), "units", 0.0)
    for o, k, L, r, t in m.commit.index_set():
        units = _v(m.commit[o, k, L, r, t]) * d.offer_lot[o]
        inside = min(L, d.T - k)
        add((r, t), "lease_commit", "", f"{o}:{L}q", units, "units",
            units * d.lease_musd_per_unit_quarter[o, L] * scale(f"lease:{o}") * inside)
    for o, r, t in m.LEASED:
        add((r, t), "leased", "", o, _v(m.leased_units[o, r, t]), "units", 0.0)
    for (c, t), units in d.contract_units.items():
        for n in d.NODES:
            if n[1] == t:
                add(n, "contract", "", c, units, "units", units * d.contract_musd_per_unit_quarter[c] * scale(f"contract:{c}"))
    for rental in d.RENTALS:
        for n in d.NODES:
            if (f"rental:{rental}", n) in m.used_units:
                units = _v(m.used_units[f"rental:{rental}", n])
                add(n, "rental", "", rental, units, "units",
                    units * d.rental_musd_per_unit_quarter[rental] * scale(f"rental:{rental}"))

    order = {name: k for k, name in enumerate(DECISIONS)}
    for n in per_node:
        per_node[n].sort(key=lambda row: (order[row[0]], row[1], row[2]))
    rows = _expand(d, {n: [(None, row) for row in rows] for n, rows in per_node.items()},
                   lambda s, q, _, row: (s, q, *row))
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def costs_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    rows = []
    last_year = d.year_of[-1]
    for s in d.SCENARIOS:
        sums: dict = defaultdict(lambda: [0.0, 0.0])
        for t in range(d.T):
            n = d.node_of[s, t]
            for c in COST_CATEGORIES:
                value = pyo.value(m.cost[c, n])
                sums[d.year_of[t], c][0] += value
                sums[d.year_of[t], c][1] += value * pyo.value(m.discount_factor[t])
            credit = pyo.value(m.residual[n])
            sums[last_year, "residual_value"][0] -= credit
            sums[last_year, "residual_value"][1] -= credit * pyo.value(m.discount_end)
        for (year, c), (plain, discounted) in sorted(sums.items(), key=lambda kv: (kv[0][0], _cat_order(kv[0][1]))):
            rows.append((s, year, c, _v(plain), _v(discounted)))
    return pd.DataFrame(rows, columns=COSTS_COLUMNS)


def _cat_order(category: str) -> int:
    return COST_CATEGORIES.index(category) if category in COST_CATEGORIES else len(COST_CATEGORIES)


def expected_costs(costs: pd.DataFrame, d: ModelData) -> dict[str, float]:
    """Probability-weighted discounted $M per category."""
    weights = costs["scenario"].map(d.probability)
    by_cat = (costs["discounted_musd"] * weights).groupby(costs["category"]).sum()
    order = [*COST_CATEGORIES, "residual_value"]
    return {c: round(float(by_cat.get(c, 0.0)), DECIMALS) for c in order}


def expected_shortfall(capacity: pd.DataFrame, d: ModelData) -> float:
    totals = capacity[capacity["source"] == "total"]
    weights = totals["scenario"].map(d.probability)
    return round(float((totals["shortfall_h100e"] * weights).sum()), DECIMALS)


def model_size(m: pyo.ConcreteModel) -> dict[str, int]:
    variables = list(m.component_data_objects(pyo.Var, active=True, descend_into=True))
    return {
        "variables": len(variables),
        "integers": sum(1 for v in variables if v.is_integer() or v.is_binary()),
        "constraints": sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True, descend_into=True)),
    }


def slack_report(m: pyo.ConcreteModel, d: ModelData, tolerance: float = 1e-6) -> list[dict]:
    """Rows of an elastic model that had to give, and by how much (in the row's own unit)."""
    units = {"budget": "$M", "provider_capacity": "units", "vendor_share": "H100e",
             "provider_share": "H100e", "owned_share": "H100e"}
    relaxed = []
    for family in getattr(m, "SLACKS", []):
        var = getattr(m, f"{family}_slack")
        for index, v in var.items():
            amount = pyo.value(v, exception=False) or 0.0
            if amount > tolerance:
                where = [str(x) for x in index]
                if family != "budget" and len(index) >= 2 and index[-2] in d.SCENARIOS:  # a node
                    where = [*where[:-2], f"{index[-2]}@{d.QUARTERS[index[-1]]}"]
                relaxed.append({"constraint": family, "index": where, "amount": round(amount, 6),
                                "unit": units[family]})
    return relaxed
