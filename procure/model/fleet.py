"""Own fleet: integer purchase lots per site, installed units with retirement, power and supply limits."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.running import add_running_total, last_quarters, lots_within, quarter_windows
from procure.model.units import QUANTITY_SCALE


def add_fleet(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Purchases, installed units and powered units.

    Integer variables ``lots_to_date[a, i, n] ∈ ℤ≥0``: lots of ``lot_a`` units of accelerator ``a`` bought
    for site ``i`` up to node ``n``; ``buy[a, i, n] ≥ 0`` is the lots bought at ``n`` (only inside the
    purchase window), linked by rows ``lots_to_date_def[a, i, n]``::

        lots_to_date[a, i, n] = lots_to_date[a, i, parent(n)] + buy[a, i, n]     (buy = 0 outside the window)

    Expression ``installed[a, i, n]``: units bought in the last ``L_a`` quarters plus the pre-horizon fleet,
    so a unit retires after its lifetime ``L_a`` (the sum over the window telescopes)::

        installed[a, i, n] = existing_{a,i,t} + lot_a · Σ_{τ = t−L_a+1}^{t} buy[a, i, h(n, τ)]
                           = existing_{a,i,t} + lot_a · (lots_to_date[a, i, n] − lots_to_date[a, i, h(n, t − L_a)])

    Variables ``powered[a, i, n] ≥ 0`` (thousands of units switched on, see :mod:`procure.model.units`; only
    where ``a`` can be installed at ``i`` by quarter ``t``: its purchase window has opened or pre-horizon units
    are there), rows ``fleet_limit[a, i, n]``: ``K · powered ≤ installed`` with ``K`` = QUANTITY_SCALE (idle
    units draw no power, which lets a power-bound site switch old units off to make room for new ones).
    """
    buy_index = [(a, i, n) for (a, i, t) in d.BUY for n in d.NODES if n[1] == t]
    m.buy = pyo.Var(buy_index, within=pyo.NonNegativeReals)
    windows = quarter_windows(((a, i), t) for a, i, t in d.BUY)
    lots_to_date = add_running_total(
        m, d, "lots_to_date", windows,
        increment=lambda g, n: m.buy[(*g, *n)] if (*g, *n) in m.buy else 0)

    def installed(a: str, i: str, n: tuple):
        t = n[1]
        existing = d.existing_units.get((a, i, t), 0.0)
        if (a, i) not in windows or windows[a, i][0] > t:
            return existing, False
        return existing + d.buy_lot[a] * last_quarters(lots_to_date, d, (a, i), n, d.lifetime[a]), True

    powered_index, installed_expr = [], {}
    for a, i in d.FLEET:
        for n in d.NODES:
            expr, can_buy = installed(a, i, n)
            if can_buy or d.existing_units.get((a, i, n[1]), 0.0) > 0:
                powered_index.append((a, i, n))
                installed_expr[a, i, n] = expr
    m.POWERED = pyo.Set(initialize=powered_index, dimen=4, ordered=True)
    m.installed = pyo.Expression(m.POWERED, rule=lambda _, a, i, r, t: installed_expr[a, i, (r, t)])
    m.powered = pyo.Var(m.POWERED, within=pyo.NonNegativeReals)
    m.fleet_limit = pyo.Constraint(m.POWERED, rule=lambda _, a, i, r, t:
                                  QUANTITY_SCALE * m.powered[a, i, r, t] <= m.installed[a, i, r, t])


def add_delivery(m: pyo.ConcreteModel, d: ModelData) -> None:
    """No warehousing: a unit is powered in the quarter it is delivered. Rows ``delivery[a, i, n]`` for every
    purchase ``buy[a, i, n]``::

        K · powered[a, i, n] ≥ lot_a · buy[a, i, n]

    Without it a plan could buy a generation in its last-buy quarter and hold it unpowered for years until
    power arrives (a test instance bought 74,592 Rubin for power that ran 16,667), paying nothing for the
    warehouse. Units may still be switched off later, to make room for newer ones on a power-bound site,
    but a unit idle in the horizon's last quarter is credited no residual value (:func:`add_idle_at_end`).
    Chosen over a holding cost because no public figure prices one, while the rule is what a capacity plan
    does: order what the halls can power.
    """
    rows = [k for k in m.buy.index_set()]
    m.delivery = pyo.Constraint(rows, rule=lambda _, a, i, r, t: (
        QUANTITY_SCALE * m.powered[a, i, r, t] >= d.buy_lot[a] * m.buy[a, i, r, t]))


def add_idle_at_end(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Units idle at the horizon end earn no residual value. At each last-quarter node ``n`` (quarter
    ``T−1``), variables ``idle_at_end[a, i, v, n] ≥ 0`` (thousands) count the units bought at quarter ``v``
    (still installed: ``v > T−1−L_a``) that are switched off, in rows ``idle_at_end_vintage`` and
    ``idle_at_end_count``::

        K · idle_at_end[a, i, v, n] ≤ lot_a · buy[a, i, h(n, v)]
        K · Σ_v idle_at_end[a, i, v, n] ≥ installed[a, i, n] − existing_{a,i,T−1} − K · powered[a, i, n]

    and the residual credit of ``n`` drops by ``price_{a,v} · ρ_{a,v} · K · idle_at_end`` (see
    :func:`procure.model.costs.add_costs`). The residual value is the capacity the plan carries past the
    horizon at book value; a unit the plan has no power for carries none. Crediting it in full made buying
    ahead of power free: bought, powered for its delivery quarter (:func:`add_delivery`), switched off, and
    still credited its whole book value. The pre-horizon fleet earns no residual, so it counts as the first
    idle; among purchases the plan may switch off the vintages of least book value (the oldest), as an
    operator would.
    """
    last = d.T - 1
    index, rows = [], []
    for a, i, r, t in m.POWERED:
        if t != last:
            continue
        history = d.history((r, t))
        vintages = [v for v in range(max(last - d.lifetime[a] + 1, 0), last + 1)
                    if (a, i, *history[v]) in m.buy]
        if vintages:
            rows.append((a, i, r, t))
            index += [(a, i, v, r, t) for v in vintages]
    m.idle_at_end = pyo.Var(index, within=pyo.NonNegativeReals)
    m.idle_at_end_vintage = pyo.Constraint(index, rule=lambda _, a, i, v, r, t: (
        QUANTITY_SCALE * m.idle_at_end[a, i, v, r, t] <= d.buy_lot[a] * m.buy[a, i, *d.history((r, t))[v]]))
    by_row = defaultdict(list)
    for a, i, v, r, t in index:
        by_row[a, i, r, t].append(m.idle_at_end[a, i, v, r, t])
    m.idle_at_end_count = pyo.Constraint(rows, rule=lambda _, a, i, r, t: (
        QUANTITY_SCALE * sum(by_row[a, i, r, t]) >= m.installed[a, i, r, t]
        - d.existing_units.get((a, i, t), 0.0) - QUANTITY_SCALE * m.powered[a, i, r, t]))


def add_supply(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Vendor supply caps. Rows ``supply[a, n]`` where accelerator ``a`` is capped in quarter ``t``::

        lot_a · Σ_i buy[a, i, n] ≤ lot_a · ⌊supply_cap_{a,t} / lot_a⌋

    Every ``buy`` is a whole number of lots (a difference of integer running totals), so the cap binds at
    its last whole lot and this row allows exactly the plans that ``≤ supply_cap_{a,t}`` allows. Written
    with the whole-lot multiple it is tighter wherever lots are continuous: the LP relaxation and the
    staged solve's first stage, whose bound is the one reported (on the l benchmark, 60 s: that bound
    +34 $M and the plan −159 $M; meta.json: gap 2.3e-4 → 2.1e-4).
    """
    by_key = defaultdict(list)
    for a, i, r, t in m.buy.index_set():
        if (a, t) in d.supply_cap:
            by_key[a, (r, t)].append(m.buy[a, i, r, t])
    rows = sorted(by_key, key=lambda k: (k[0], k[1][1], k[1][0]))
    m.supply = pyo.Constraint(rows, rule=lambda _, a, r, t: (
        d.buy_lot[a] * sum(by_key[a, (r, t)]) <= d.buy_lot[a] * lots_within(d.supply_cap[a, t], d.buy_lot[a])))


def add_power_capacity(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Site power. Rows ``power[i, n]``: powered IT load times PUE within the MW online (``K · powered``
    is units, so ``K · powered · kW / 1000`` is MW)::

        Σ_a K · powered[a, i, n] · kW_a · PUE_i / 1000 ≤ total_power_mw[i, n]
    """
    load = defaultdict(list)
    for a, i, r, t in m.POWERED:
        load[i, (r, t)].append(d.unit_mw(a, i, QUANTITY_SCALE) * m.powered[a, i, r, t])
    rows = [(i, n) for i in d.SITES for n in d.NODES if (i, n) in load]
    m.power = pyo.Constraint(rows, rule=lambda _, i, r, t: sum(load[i, (r, t)]) <= m.total_power_mw[i, r, t])
