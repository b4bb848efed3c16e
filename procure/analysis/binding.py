"""Binding limits: which power, supply, budget, capacity, share and expansion limits bind, and what relaxing
each is worth.

Rows of :data:`LIMIT_FAMILIES` with a non-zero shadow price, grouped per site, accelerator, provider,
vendor or year and ranked by the value of relaxing the limit by 1 % (shares: by one percentage point).
Values are in expected discounted $M. They come from an LP in which power blocks and lease lots stay fixed
but purchases become continuous (:data:`LIMITS_FREE`): with every purchase fixed, "one more MW" could not be
filled and the dual would be split arbitrarily between the power row and the fleet row; with purchases
free it is the saving from one more MW *filled with the best accelerator, net of its price*. Rows whose
variables are all fixed there (provider capacity, max_blocks) have no informative dual; for them the value
of one more unit is estimated from the reduced costs of the integer columns the row blocks:
``max_j (−rc_j / a_j)``. The LP value function is convex, so that local rate is an *upper* estimate of what
a whole lot saves.
"""

from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo

from procure.analysis.text import musd, quarters_text, short_name
from procure.inputs.data import ModelData
from procure.model.units import natural
from procure.solving.fixed_lp import COEFFICIENT_TOL, FixedLP, constant_rows

DUAL_TOL = 1e-9          # $M per unit: below this a shadow price counts as zero
LIMIT_FAMILIES = ("power", "supply", "budget", "provider_capacity", "vendor_share", "provider_share",
                  "owned_share", "max_blocks")
LIMITS_FREE = ("buy", "lots_to_date")              # purchases move continuously in the LP that prices the limits

BINDING_COLUMNS = ["family", "entity", "label", "quarter", "scenarios", "shadow_musd", "step",
                   "shadow_usd_if_reached", "value_of_1pct_musd", "estimate", "sentence"]


def _row_meta(m, d: ModelData, family: str, index: tuple, names: dict | None) -> dict:
    """Entity, label, quarter, scenarios, step wording and the right-hand side for one row."""
    all_s = set(d.SCENARIOS)
    if family in ("budget",):
        s, y = index
        nodes = tuple(d.node_of[s, t] for t in range(d.T) if d.year_of[t] == y)
        scen = tuple(x for x in d.SCENARIOS
                     if tuple(d.node_of[x, t] for t in range(d.T) if d.year_of[t] == y) == nodes)
        return {"entity": "capex budget", "label": "The capex budget", "quarter": str(y), "node": None,
                "scenarios": scen if set(scen) != all_s else (), "step": "each extra $1 of capex budget",
                "step_unit": 1.0, "rhs": d.capex_budget_musd[y]}
    if family == "max_blocks":
        i, s = index
        mw = d.block_mw[i]
        return {"entity": i, "label": f"{short_name(names, i)} expansion limit ({d.max_blocks[i]} blocks)",
                "quarter": "", "node": None, "scenarios": (s,) if len(d.SCENARIOS) > 1 else (),
                "step": f"one more {mw:,.0f} MW block", "step_unit": 1.0,
                "rhs": d.max_blocks[i] - sum(b for (j, _), b in d.committed_blocks.items() if j == i)}
    *entity, r, t = index
    node = (r, t)
    scen = d.leaf_scenarios(node)
    meta = {"quarter": d.QUARTERS[t], "node": node, "scenarios": scen if set(scen) != all_s else ()}
    if family == "power":
        (i,) = entity
        meta.update(entity=i, label=f"{short_name(names, i)} power", step="one more MW", step_unit=1.0,
                    rhs=pyo.value(m.total_power_mw[i, r, t]), rhs_floor=d.block_mw.get(i, 1.0))
    elif family == "supply":
        (a,) = entity
        meta.update(entity=a, label=f"{a} supply", step=f"one more {a} unit", step_unit=1.0,
                    rhs=d.supply_cap[a, t], rhs_floor=d.buy_lot[a])
    elif family == "provider_capacity":
        (p,) = entity
        meta.update(entity=p, label=f"{short_name(names, p)} capacity",
                    step="one more leased unit (for a whole lease term)", step_unit=1.0, rhs=d.provider_cap[p, t])
    elif family in ("vendor_share", "provider_share"):
        (x,) = entity
        cap = d.max_vendor_share[x] if family == "vendor_share" else d.max_provider_share[x]
        who = x if family == "vendor_share" else short_name(names, x)
        served = sum(pyo.value(m.demand_h100e[w, r, t]) - natural(m.shortfall[w, r, t]) for w in d.WORKLOADS)
        meta.update(entity=x, label=f"The {who} share cap ({cap:.0%})", step="one more percentage point",
                    step_unit=0.01 * served, rhs=None)
    elif family == "owned_share":
        served = sum(pyo.value(m.demand_h100e[w, r, t]) - natural(m.shortfall[w, r, t]) for w in d.WORKLOADS)
        meta.update(entity="own", label=f"The minimum owned share ({d.min_owned_share:.0%})",
                    step="one percentage point less", step_unit=0.01 * served, rhs=None)
    return meta


def binding_limits(m: pyo.ConcreteModel, d: ModelData, lp: FixedLP, names: dict | None = None,
                   coefficients: dict | None = None) -> pd.DataFrame:
    """Every binding row of :data:`LIMIT_FAMILIES` with its shadow price (see the module docstring).

    ``shadow_musd`` is the expected discounted $M saved, at most, by ``step`` (one MW, one unit, one block,
    one percentage point; the marginal rate times the step) — for the budget it is a ratio, $ saved per $ of
    budget; ``shadow_usd_if_reached`` divides a node's value by ``p_n · δ_t``
    (undiscounted $, given the scenario reaches the node); ``value_of_1pct_musd`` is the saving from
    relaxing the row by 1 % of its limit (shares: one percentage point; a limit at zero, such as a site
    with no power yet, counts as one power block or purchase lot, so it still ranks).
    """
    if not lp.duals:
        return pd.DataFrame(columns=BINDING_COLUMNS)
    coefficients = coefficients if coefficients is not None else row_coefficients(m, d, LIMITS_FREE)
    rows = []
    for family in LIMIT_FAMILIES:
        comp = getattr(m, family, None)
        if comp is None:
            continue
        for index, c in comp.items():
            index = index if isinstance(index, tuple) else (index,)
            if c in coefficients:          # constant row in this LP: estimate from reduced costs
                value = _integer_row_value(c, coefficients[c], lp)
                estimate = "upper estimate"
            else:
                dual = lp.duals.get(c)
                if dual is None:
                    continue
                value = abs(dual)
                estimate = "dual"
            if value is None or value <= DUAL_TOL:
                continue
            meta = _row_meta(m, d, family, index, names)
            per_step = value * meta["step_unit"]
            if family == "budget":
                per_step = value  # $M saved per $M of budget = $ per $
            one_pct = value * 0.01 * max(meta["rhs"], meta.get("rhs_floor", 1.0)) if meta.get("rhs") is not None \
                else per_step
            if_reached = float("nan")
            if meta["node"] is not None:
                r, t = meta["node"]
                if_reached = per_step / (d.node_probability[meta["node"]] * pyo.value(m.discount_factor[t])) * 1e6
            rows.append({"family": family, "entity": meta["entity"], "label": meta["label"],
                         "quarter": meta["quarter"], "scenarios": " ".join(meta["scenarios"]),
                         "shadow_musd": per_step, "step": meta["step"], "shadow_usd_if_reached": if_reached,
                         "value_of_1pct_musd": one_pct, "estimate": estimate,
                         "sentence": _row_sentence(family, meta, per_step, estimate)})
    frame = pd.DataFrame(rows, columns=BINDING_COLUMNS)
    for col in ("shadow_musd", "shadow_usd_if_reached", "value_of_1pct_musd"):
        frame[col] = frame[col].astype(float).round(9)
    return frame


def _where(meta: dict) -> str:
    where = meta["quarter"]
    if meta["scenarios"]:
        where = f"{where}, scenario{'s' if len(meta['scenarios']) > 1 else ''} {', '.join(meta['scenarios'])}"
    return where.strip(", ")


def _saving(family: str, per_step: float, estimate: str) -> str:
    # always "up to": a dual is the rate at the margin, and the LP value function is convex in a bound, so a
    # whole step (a MW, a unit) saves at most rate × step — often less, once the next-best use runs out
    up_to = "up to "
    if family == "budget":
        return f"would save {up_to}${per_step:,.2f}"
    return f"would save {up_to}{musd(per_step)}"


def _row_sentence(family: str, meta: dict, per_step: float, estimate: str) -> str:
    where = _where(meta)
    where = f" ({where})" if where else ""
    return f"{meta['label']}{where} binds: {meta['step']} {_saving(family, per_step, estimate)}"


def row_coefficients(m: pyo.ConcreteModel, d: ModelData, free: tuple[str, ...] = ()) -> dict:
    """``{row: [(decision var, coefficient), ...]}`` for the rows of :data:`LIMIT_FAMILIES` made constant by
    fixing the decisions outside ``free``: which decisions each row limits, and by how much per unit of
    the decision (so the estimate reads the same whatever the formulation carries as integer)."""
    out = {}
    for c in constant_rows(m, free):
        family = c.parent_component().local_name
        if family not in LIMIT_FAMILIES:
            continue
        index = c.index() if isinstance(c.index(), tuple) else (c.index(),)
        out[c] = _decisions_of_row(m, d, family, index)
    return out


def _decisions_of_row(m: pyo.ConcreteModel, d: ModelData, family: str, index: tuple) -> list:
    if family == "max_blocks":
        i, s = index
        return [(m.build[i, n], 1.0) for n in (d.node_of[s, t] for t in range(d.T)) if (i, *n) in m.build]
    if family == "provider_capacity":
        p, r, t = index
        history = d.history((r, t))
        return [(v, float(d.offer_lot[o])) for (o, k, L, rr, tt), v in m.commit.items()
                if d.offer_provider[o] == p and k <= t < k + L and history[k] == (rr, tt)]
    if family == "supply":
        a, r, t = index
        return [(v, float(d.buy_lot[a])) for (aa, i, rr, tt), v in m.buy.items() if (aa, rr, tt) == (a, r, t)]
    if family == "budget":
        s, y = index
        nodes = {d.node_of[s, t] for t in range(d.T) if d.year_of[t] == y}
        out = [(v, d.price_musd_per_unit[a, t] * d.buy_lot[a] * pyo.value(m.price_scale[f"buy:{a}"]))
               for (a, i, r, t), v in m.buy.items() if (r, t) in nodes]
        out += [(v, d.block_capex_musd[i] * pyo.value(m.price_scale[f"block:{i}"]))
                for (i, r, t), v in m.build.items() if (r, t) in nodes]
        return out
    return []


def _integer_row_value(c, coefs: list, lp: FixedLP) -> float | None:
    """Saving per unit of a constant ``≤`` row's limit: the best ``−rc_j / a_j`` over the decision columns
    it blocks (one more lot of ``j`` would not fit)."""
    if c.upper is None:
        return None
    slack = pyo.value(c.upper) - pyo.value(c.body)
    best = 0.0
    for v, a in coefs:
        if a <= COEFFICIENT_TOL or slack >= a - 1e-6 * max(1.0, abs(a)):
            continue
        rc = lp.reduced_costs.get(v)
        if rc is not None and -rc / a > best:
            best = -rc / a
    return best


def _when(g: pd.DataFrame, d: ModelData, family: str) -> str:
    """Where a group of rows binds: quarter runs (years for the budget), each with the scenarios it is
    limited to when that is not every scenario — "2026Q1–2026Q2, 2031Q4 in fast"."""
    by_scen: dict[str, list[str]] = {}
    for q, sc in zip(g["quarter"], g["scenarios"]):
        key = "" if sc != sc or not sc else str(sc)
        if q:
            by_scen.setdefault(key, []).append(str(q))
    def runs(quarters: list[str]) -> str:
        quarters = list(dict.fromkeys(quarters))
        return ", ".join(sorted(quarters)) if family == "budget" else quarters_text(quarters, d.QUARTERS)

    parts = [runs(quarters) + (f" in {', '.join(key.split())}" if key else "") for key, quarters in by_scen.items()]
    detailed = "; ".join(parts)
    if len(parts) <= 3 and len(detailed) <= 90:
        return detailed
    everywhere = runs([q for quarters in by_scen.values() for q in quarters])
    return everywhere + (" (in some scenarios only for part of it)" if set(by_scen) - {""} else "")


def limit_groups(binding: pd.DataFrame, d: ModelData) -> list[dict]:
    """Binding rows grouped per limit (family and entity), ranked by the value of relaxing it by 1 %."""
    if binding.empty:
        return []
    groups = []
    for (family, entity), g in binding.groupby(["family", "entity"], sort=False):
        first = g.iloc[0]
        additive = family in ("power", "vendor_share", "provider_share", "owned_share", "supply", "budget")
        value = g["shadow_musd"].sum() if additive else g["shadow_musd"].max()
        one_pct = g["value_of_1pct_musd"].sum() if additive else g["value_of_1pct_musd"].max()
        estimate = "dual" if (g["estimate"] == "dual").all() else "upper estimate"
        quarters = [q for q in g["quarter"] if q]
        scenarios = sorted({s for x in g["scenarios"] for s in str(x).split() if s and x == x},
                           key=d.SCENARIOS.index)
        if len(g) == 1:
            sentence = first["sentence"]
        elif family == "max_blocks":
            in_s = f" (in {', '.join(scenarios)})" if scenarios and len(scenarios) < len(d.SCENARIOS) else ""
            sentence = f"{first['label']} binds{in_s}: {first['step']} {_saving(family, value, estimate)}"
        else:
            each = " in each of those years" if family == "budget" else (" in each of those quarters" if additive
                                                                         else "")
            when = _when(g, d, family)
            span = f" in {when}" if when else ""
            sentence = f"{first['label']} binds{span}: {first['step']}{each} {_saving(family, value, estimate)}"
        relax = "one point more" if family in ("vendor_share", "provider_share") else (
            "one point less" if family == "owned_share" else "1 % more")
        groups.append({"family": family, "entity": entity, "label": first["label"], "rows": int(len(g)),
                       "quarters": list(dict.fromkeys(quarters)), "value_musd": float(value),
                       "value_of_1pct_musd": float(one_pct), "relax": relax, "estimate": estimate,
                       "sentence": sentence})
    groups.sort(key=lambda x: -x["value_of_1pct_musd"])
    return groups
