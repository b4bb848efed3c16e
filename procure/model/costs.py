"""Cost expressions per node and category, and the expected discounted objective."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.elastic import ELASTIC_PENALTY_MUSD
from procure.model.units import QUANTITY_SCALE
from procure.inputs.quarters import HOURS_PER_QUARTER

COST_CATEGORIES = ("capex_power", "capex_accelerators", "opex_fixed", "opex_electricity", "lease_new",
                   "lease_existing", "rental", "shortfall")
"""Undiscounted $M per node. ``residual_value`` (a credit) is kept apart."""


def add_costs(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Expressions ``cost[c, n]`` ($M, undiscounted, in the quarter of node ``n``) and ``residual[n]``::

        capex_power        = Σ_i capex_block_i · (build[i, n] + committed_{i,t})          (paid at start)
        capex_accelerators = Σ_{a,i} price_{a,t} · lot_a · buy[a, i, n]                    (paid at purchase)
        opex_fixed         = Σ_i fixed_opex_i / 4 · total_power_mw[i, n]
        opex_electricity   = Σ_{a,i} K · powered[a, i, n] · kW_a / 1000 · PUE_i · 2190 h · price_i($/MWh) / 1e6
        lease_new          = Σ_o Σ_{k ≤ t < k+L} lot_o · commit[o, k, L, h(n, k)] · price_{o,L} · 2190 / 1e6
                             (take-or-pay; a pay-per-use offer pays only its used_units)
        lease_existing     = Σ_c units_{c,t} · price_c · 2190 / 1e6     (take-or-pay; else used units)
        rental             = Σ_r used_units[r, n] · price_r · 2190 / 1e6
        shortfall          = Σ_w penalty_w / 1e6 · K · shortfall[w, n]

    Units: ``capex_block_i`` = block MW × $M/MW; ``price_{a,t}`` $M per unit (the catalog's k$ path / 1000);
    ``fixed_opex_i`` $M per MW-year (hence / 4); ``kW_a`` per unit; ``price_i`` $/MWh; ``price_{o,L}``,
    ``price_c`` and ``price_r`` $/unit-hour (hence · 2190 h / 1e6); ``penalty_w`` $ per H100e-quarter;
    ``K`` = QUANTITY_SCALE, as ``powered``, ``alloc`` and ``shortfall`` count thousands
    (:mod:`procure.model.units`); ``used_units[u, n] = Σ_w K · alloc[u, w, n]`` (units, :mod:`procure.model.serving`).

    ``residual[n]``: straight-line book value at the horizon end of what node ``n`` bought::

        Σ_i capex_block_i · ρ_{i,t} · (build + committed) + Σ_{a,i} price_{a,t} · lot_a · ρ_{a,t} · buy
          − Σ_{a,i,v} price_{a,v} · ρ_{a,v} · K · idle_at_end[a, i, v, n]      (last-quarter nodes only)

    with ``ρ`` the undepreciated fraction after the horizon's last quarter (blocks depreciate from power-on),
    and no credit for units idle at the horizon end (:func:`procure.model.fleet.add_idle_at_end`).
    Leases are charged on the same straight line: the quarters of a term that fall after the horizon are
    neither paid nor used inside the model, just as an owned unit's price less its book value is what its
    quarters inside the horizon cost. A unit of life ``L`` bought in the last quarter costs ``price / L``
    net; a lease of term ``L`` signed then costs one quarter of its rate. So near the horizon end the plan
    picks the term of the lowest rate (often the longest), as it would all along, and pays for what it uses
    inside the horizon, no more and no less than an owned unit does.
    Every price above is multiplied by its mutable ``price_scale`` (1.0 as built), so sweeps re-price in place.
    """
    terms = {(c, n): [] for c in COST_CATEGORIES for n in d.NODES}
    residual = {n: [] for n in d.NODES}
    for i, r, t in m.build.index_set():
        capex = d.block_capex_musd[i] * m.price_scale[f"block:{i}"]
        terms["capex_power", (r, t)].append(capex * m.build[i, r, t])
        residual[r, t].append(capex * d.block_residual_fraction[i, t] * m.build[i, r, t])
    for (i, t), blocks in d.committed_blocks.items():
        for n in d.NODES:
            if n[1] == t:
                capex = d.block_capex_musd[i] * m.price_scale[f"block:{i}"]
                terms["capex_power", n].append(capex * blocks)
                residual[n].append(capex * d.block_residual_fraction[i, t] * blocks)
    for a, i, r, t in m.buy.index_set():
        spend = d.price_musd_per_unit[a, t] * d.buy_lot[a] * m.price_scale[f"buy:{a}"]
        terms["capex_accelerators", (r, t)].append(spend * m.buy[a, i, r, t])
        residual[r, t].append(spend * d.buy_residual_fraction[a, t] * m.buy[a, i, r, t])
    for a, i, v, r, t in getattr(m, "idle_at_end", {}):  # no credit for a unit idle at the horizon end
        unit = d.price_musd_per_unit[a, v] * m.price_scale[f"buy:{a}"] * d.buy_residual_fraction[a, v]
        residual[r, t].append(-unit * QUANTITY_SCALE * m.idle_at_end[a, i, v, r, t])
    for i in d.SITES:
        for n in d.NODES:
            if d.fixed_opex_musd_per_mw_quarter[i]:
                terms["opex_fixed", n].append(d.fixed_opex_musd_per_mw_quarter[i] * m.price_scale[f"opex:{i}"]
                                              * m.total_power_mw[i, n])
    for a, i, r, t in m.POWERED:
        mwh = d.unit_mw(a, i, QUANTITY_SCALE) * HOURS_PER_QUARTER
        terms["opex_electricity", (r, t)].append(mwh * d.electricity_musd_per_mwh[i] * m.price_scale[f"electricity:{i}"]
                                                 * m.powered[a, i, r, t])

    commits_by_offer = defaultdict(list)
    for o, k, L, r, t in m.commit.index_set():
        commits_by_offer[o].append((k, L, (r, t)))
    for n in d.NODES:
        t = n[1]
        for o in d.OFFERS:
            if d.take_or_pay[o]:
                history = d.history(n)
                for k, L, node in commits_by_offer[o]:
                    if k <= t < k + L and history[k] == node:
                        terms["lease_new", n].append(d.offer_lot[o] * d.lease_musd_per_unit_quarter[o, L]
                                                     * m.price_scale[f"lease:{o}"] * m.commit[o, k, L, *node])
            elif (f"lease:{o}", n) in m.used_units:
                (price,) = {p for (oo, _), p in d.lease_musd_per_unit_quarter.items() if oo == o}
                terms["lease_new", n].append(price * m.price_scale[f"lease:{o}"] * m.used_units[f"lease:{o}", n])
        for c in d.CONTRACTS:
            if d.contract_take_or_pay[c]:
                terms["lease_existing", n].append(d.contract_units.get((c, t), 0.0)
                                                  * d.contract_musd_per_unit_quarter[c] * m.price_scale[f"contract:{c}"])
            elif (f"contract:{c}", n) in m.used_units:
                terms["lease_existing", n].append(d.contract_musd_per_unit_quarter[c] * m.price_scale[f"contract:{c}"]
                                                  * m.used_units[f"contract:{c}", n])
        for rental in d.RENTALS:
            if (f"rental:{rental}", n) in m.used_units:
                terms["rental", n].append(d.rental_musd_per_unit_quarter[rental] * m.price_scale[f"rental:{rental}"]
                                          * m.used_units[f"rental:{rental}", n])
        for w in d.WORKLOADS:
            terms["shortfall", n].append(d.shortfall_musd_per_h100e_quarter[w] * m.price_scale["shortfall"]
                                         * QUANTITY_SCALE * m.shortfall[w, n])

    m.COST_CATEGORIES = pyo.Set(initialize=COST_CATEGORIES, ordered=True)
    m.cost = pyo.Expression(m.COST_CATEGORIES, m.NODES, rule=lambda _, c, r, t: sum(terms[c, (r, t)]))
    m.residual = pyo.Expression(m.NODES, rule=lambda _, r, t: sum(residual[r, t]))


def discounted_net_cost(m: pyo.ConcreteModel, n: tuple):
    """Node ``n``'s costs discounted to today, less its residual credit discounted from the horizon end:
    ``δ_t · Σ_c cost[c, n] − δ_T · residual[n]`` ($M), what the objective weights by ``p_n`` and
    :func:`procure.model.risk.add_risk` sums along each scenario."""
    return m.discount_factor[n[1]] * sum(m.cost[c, n] for c in COST_CATEGORIES) - m.discount_end * m.residual[n]


def add_objective(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Minimise expected discounted cost net of residual value ($M)::

        E = Σ_n p_n · (δ_t · Σ_c cost[c, n] − δ_T · residual[n])
        (1 − W) · E + W · cvar  +  M · Σ slack      (the cvar term when W > 0; M only when elastic)

    ``δ_t = (1 + r)^(−t/4)`` and ``δ_T`` are the mutable ``discount_factor[t]`` and ``discount_end``;
    ``W = cvar_weight`` and ``cvar`` are :func:`procure.model.risk.add_risk`'s (with ``W = 0``, ``E`` alone,
    built exactly as without it).
    """
    expected = sum(d.node_probability[n] * discounted_net_cost(m, n) for n in d.NODES)
    penalty = sum(ELASTIC_PENALTY_MUSD * sum(getattr(m, f"{f}_slack").values())
                  for f in getattr(m, "SLACKS", []))
    if hasattr(m, "cvar"):
        expected = (1.0 - d.cvar_weight) * expected + d.cvar_weight * m.cvar
    m.objective = pyo.Objective(expr=expected + penalty, sense=pyo.minimize)
