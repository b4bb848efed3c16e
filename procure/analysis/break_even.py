"""Break-even prices: at what price an unused option would enter the plan, or a bound one leave it.

For purchasable accelerators, power blocks, lease offers and rentals that the plan does not use (or uses
only at a bound: every lot at its supply cap, every block, a lease lot at its maximum, a rental at its cap
wherever used), a bisection over the mutable ``price_scale[key]`` with MIP re-solves in one
:class:`~procure.solving.solve.HighsSession`, warm-started from the optimal plan — re-optimising everything
(``full``) or, on slow instances, holding the other options' lumpy decisions (``restricted``). The result
is a bracket ``[low, high]`` of price multipliers: an unused option enters at ``low`` × today's price and
not at ``high``; a bound option leaves at ``high`` and not at ``low``. A search that runs out of its time
budget reports the bracket it has and says so.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.units import QUANTITY_SCALE
from procure.solving.clock import Clock
from procure.solving.fixed_lp import COEFFICIENT_TOL, OPTION_KINDS, FixedLP
from procure.solving.fixing import decision_vars, preserved
from procure.solving.solve import HighsSession, SolveOptions


@dataclasses.dataclass
class Option:
    key: str            # price_scale key, e.g. "lease:cw_rubin"
    kind: str           # buy | block | lease | rental
    item: str
    usage: str          # unused | at_bound | used
    volume: float       # expected volume in its unit
    unit: str
    price_text: str     # today's price in words
    price_at: Any = None  # scale -> the price in words at that multiple of today's


def _option_volumes(m: pyo.ConcreteModel, d: ModelData) -> dict[str, float]:
    """Expected volume per option key: units bought, blocks started, unit-quarters leased or rented."""
    vol: dict[str, float] = defaultdict(float)
    for a, i, r, t in m.buy.index_set():
        vol[f"buy:{a}"] += d.node_probability[r, t] * d.buy_lot[a] * (pyo.value(m.buy[a, i, r, t]) or 0.0)
    for i, r, t in m.build.index_set():
        vol[f"block:{i}"] += d.node_probability[r, t] * (pyo.value(m.build[i, r, t]) or 0.0)
    for o, k, L, r, t in m.commit.index_set():
        vol[f"lease:{o}"] += d.node_probability[r, t] * d.offer_lot[o] * L * (pyo.value(m.commit[o, k, L, r, t]) or 0.0)
    for rental in d.RENTALS:
        for n in d.NODES:
            if (f"rental:{rental}", n) in m.used_units:
                vol[f"rental:{rental}"] += d.node_probability[n] * (pyo.value(m.used_units[f"rental:{rental}", n]) or 0.0)
    return vol


def _at_bound(m: pyo.ConcreteModel, d: ModelData, key: str) -> bool:
    kind, item = key.split(":", 1)
    if kind == "buy":
        nodes = {(r, t) for a, i, r, t in m.buy.index_set() if a == item and (pyo.value(m.buy[a, i, r, t]) or 0) > 0.5}
        if not nodes:
            return False
        for n in nodes:
            if (item, *n) not in m.supply:
                return False
            c = m.supply[item, *n]
            if pyo.value(c.upper) - pyo.value(c.body) >= d.buy_lot[item] - 1e-6:
                return False
        return True
    if kind == "block":
        rows = [c for (i, s), c in m.max_blocks.items() if i == item]
        return bool(rows) and all(pyo.value(c.upper) - pyo.value(c.body) < 1 - 1e-6 for c in rows)
    if kind == "lease":
        return any(round(pyo.value(v) or 0) >= v.ub - 1e-9 and v.ub > 0
                   for (o, *_), v in m.commit.items() if o == item)
    if kind == "rental":
        used = [(n, pyo.value(m.used_units[f"rental:{item}", n])) for n in d.NODES
                if (f"rental:{item}", n) in m.used_units]
        used = [(n, u) for n, u in used if u > 1e-6]
        return bool(used) and all(u >= d.rental_cap[item, n[1]] - 1e-6 for n, u in used)
    return False


def options(m: pyo.ConcreteModel, d: ModelData) -> list[Option]:
    """The priced options a break-even search may move, with how the plan uses them."""
    vol = _option_volumes(m, d)
    out = []
    for key in m.PRICE_KEYS:
        kind, item = key.split(":", 1) if ":" in key else (key, "")
        if kind not in OPTION_KINDS:
            continue
        v = vol.get(key, 0.0)
        usage = "unused" if v <= 1e-6 else ("at_bound" if _at_bound(m, d, key) else "used")
        unit = {"buy": "units", "block": "blocks", "lease": "unit-quarters", "rental": "unit-quarters"}[kind]
        out.append(Option(key, kind, item, usage, round(v, 6), unit, _price_text(d, kind, item),
                          lambda scale, kind=kind, item=item: _price_text(d, kind, item, scale)))
    return out


def _price_text(d: ModelData, kind: str, item: str, scale: float = 1.0) -> str:
    """An option's price in words, at ``scale`` × today's."""
    per_hour = 1e6 / 2190.0
    if kind == "buy":
        ts = sorted(t for (a, t) in d.price_musd_per_unit if a == item)
        return (f"${d.price_musd_per_unit[item, ts[0]] * scale * 1e3:,.1f}k per unit in {d.QUARTERS[ts[0]]}"
                if ts else "")
    if kind == "block":
        return f"${d.block_capex_musd[item] / d.block_mw[item] * scale:,.2f}M per MW"
    if kind == "lease":  # the longest term; every term's price moves with the same multiplier
        terms = sorted((L, p) for (o, L), p in d.lease_musd_per_unit_quarter.items() if o == item)
        L, p = terms[-1]
        return f"${p * per_hour * scale:,.2f}/h for {L} q" + (" (other terms alike)" if len(terms) > 1 and scale != 1
                                                               else "")
    if kind == "rental":
        return f"${d.rental_musd_per_unit_quarter[item] * per_hour * scale:,.2f}/h"
    return ""


def _option_columns(m: pyo.ConcreteModel) -> dict[str, set]:
    """Integer columns that belong to each option key (ids)."""
    cols: dict[str, set] = defaultdict(set)
    for (a, *_), v in m.buy.items():
        cols[f"buy:{a}"].add(id(v))
    for (i, *_), v in m.build.items():
        cols[f"block:{i}"].add(id(v))
    for (o, *_), v in m.commit.items():
        cols[f"lease:{o}"].add(id(v))
    for (o, *_), v in m.signed.items():
        cols[f"lease:{o}"].add(id(v))
    return cols


def break_even(m: pyo.ConcreteModel, d: ModelData, opts: SolveOptions, clock: Clock,
               lp: FixedLP | None = None, steps: int = 5, low: float = 0.1, high: float = 4.0,
               time_limit: float | None = None, mode: str = "full") -> pd.DataFrame:
    """Bisection over ``price_scale[key]`` for every unused or bound option (see the module docstring).

    Each probe is a MIP re-solve in a persistent session (load once, change the parameter, re-solve),
    warm-started from the optimal plan. ``mode="full"`` re-optimises every decision; ``mode="restricted"``
    holds every other lumpy decision (blocks, lots, lease lots) at its optimal value (through its bounds, so
    the session is loaded once) and lets only the option's own decisions and the continuous ones move —
    much cheaper on large instances, and the answer to "at what price would this option displace part of
    the plan as it stands". Options are searched in
    order of their local (reduced-cost) estimate, nearest to today's price first, while the clock allows;
    one probe takes at most ``time_limit`` seconds.
    """
    candidates = [o for o in options(m, d) if o.usage in ("unused", "at_bound")]
    columns = ["option", "kind", "item", "usage", "volume", "unit", "price_today", "direction", "low_scale",
               "high_scale", "break_even_scale", "local_estimate", "probes", "mode", "status", "sentence"]
    if not candidates:
        return pd.DataFrame(columns=columns)
    local = _local_estimates(m, d, lp, [o.key for o in candidates]) if lp is not None else {}
    candidates.sort(key=lambda o: (abs(math.log(min(max(local.get(o.key, 0.5), 1e-3), 1e3))), o.key))
    rows = []
    with preserved(m):
        start_values = {id(v): (v.value or 0.0) for v in m.component_data_objects(pyo.Var, descend_into=True)}
        decisions = decision_vars(m)
        bounds = {id(v): (v.lower, v.upper) for v in decisions}
        own = _option_columns(m)
        session = None
        for o in candidates:
            enter = o.usage == "unused"
            lo, hi = (low, 1.0) if enter else (1.0, high)
            # reduced costs of a degenerate LP can point the wrong way: an unused option can only enter below
            # today's price, a used one only leave above it; any other estimate is dropped, not shown or probed
            estimate = local.get(o.key)
            if estimate is not None and not (0 < estimate < 1 if enter else estimate > 1):
                estimate = None
            probes, status = 0, "searched"
            if clock.expired:
                rows.append(_be_row(o, enter, lo, hi, probes, "not searched (time budget)", estimate, mode))
                continue
            if mode == "restricted":  # pin the other options' decisions by their bounds (cheap to change)
                mine = own.get(o.key, set())
                for v in decisions:
                    lower, upper = bounds[id(v)] if id(v) in mine else (round(start_values[id(v)]),) * 2
                    v.setlb(lower)
                    v.setub(upper)
            if session is None:
                session = HighsSession(m)
            old = pyo.value(m.price_scale[o.key])

            def used_at(scale: float) -> bool | None:
                nonlocal probes
                if clock.expired:
                    return None
                m.price_scale[o.key] = old * scale
                try:
                    result = session.solve(dataclasses.replace(opts, time_limit=clock.time_limit(time_limit)),
                                           start=start_values)
                finally:
                    m.price_scale[o.key] = old
                probes += 1
                if not result.has_solution:
                    return None
                return _option_volumes(m, d).get(o.key, 0.0) > 1e-6

            # the far end of the bracket first: does the option move at all inside the range?
            far = used_at(lo if enter else hi)
            if far is None:
                rows.append(_be_row(o, enter, lo, hi, probes, "not searched (time budget)", estimate, mode))
                continue
            if enter and not far:
                rows.append(_be_row(o, enter, None, lo, probes, f"does not enter at {lo:g}×", estimate, mode))
                continue
            if not enter and far:
                rows.append(_be_row(o, enter, hi, None, probes, f"still used at {hi:g}×", estimate, mode))
                continue
            guess = estimate
            # the local estimate is usually right: probe just either side of it first (at the estimate itself
            # both answers are optimal, and the warm-started solver keeps the current plan)
            near = []
            if guess is not None and lo < guess < hi:
                guess = min(max(guess, lo + 0.05 * (hi - lo)), hi - 0.05 * (hi - lo))
                near = [guess + 0.005 * (hi - lo), guess - 0.005 * (hi - lo)]
            for k in range(steps):
                mid = (lo + hi) / 2
                while near and not lo < near[0] < hi:
                    near.pop(0)
                if near:
                    mid = near.pop(0)
                used = used_at(mid)
                if used is None:
                    status = "partial (time budget)"
                    break
                if used:
                    lo = mid
                else:
                    hi = mid
            rows.append(_be_row(o, enter, lo, hi, probes, status, estimate, mode))
    return pd.DataFrame(rows, columns=columns)


def _be_row(o: Option, enter: bool, lo: float | None, hi: float | None, probes: int, status: str,
            local: float | None, mode: str) -> dict:
    direction = "enters below" if enter else "leaves above"
    if lo is not None and hi is not None:
        scale = (lo + hi) / 2
        bracket = f"{lo:.2f}–{hi:.2f}×"
    else:
        scale = float("nan")
        bracket = ""
    name = f"{o.kind} {o.item}"

    def price(x: float) -> str:
        return o.price_at(x) if o.price_at is not None else f"{x:.2f}× today's price"
    if status.startswith("not searched"):
        sentence = f"{name}: not searched in the time budget"
        if local is not None and math.isfinite(local):
            sentence += f" (local estimate {local:.2f}× today's price)"
    elif status.startswith("does not enter"):
        sentence = f"{name} does not enter the plan even at {price(hi)} — {hi:.2f}× today's {o.price_text}"
    elif status.startswith("still used"):
        sentence = f"{name} stays in the plan even at {price(lo)} — {lo:.2f}× today's {o.price_text}"
    elif enter:
        sentence = f"{name} would enter the plan at about {price(scale)} — {bracket} today's {o.price_text}"
    else:
        sentence = (f"{name} (used at its limit) would leave the plan at about {price(scale)} — {bracket} today's "
                    f"{o.price_text}")
    if status.startswith("partial"):
        sentence += " — search stopped by the time budget"
    return {"option": o.key, "kind": o.kind, "item": o.item, "usage": o.usage, "volume": o.volume, "unit": o.unit,
            "price_today": o.price_text, "direction": direction, "low_scale": lo, "high_scale": hi,
            "break_even_scale": scale, "local_estimate": local, "probes": probes, "mode": mode, "status": status,
            "sentence": sentence}


def _local_estimates(m: pyo.ConcreteModel, d: ModelData, lp: FixedLP, keys: list[str]) -> dict[str, float]:
    """Local break-even multiplier per option from the LP with integers fixed (others held where they are).

    A column ``j`` with price coefficient ``c_j`` and reduced cost ``rc_j`` breaks even at the multiplier
    ``1 − rc_j / c_j``; a rental at its cap (its ``source_limit`` row binds with dual ``y ≤ 0``, per unit)
    stays worth its price up to ``1 − K · y / c``: an ``alloc`` column counts ``K`` = QUANTITY_SCALE units
    (:mod:`procure.model.units`), so its ``c`` is per thousand units. The option's estimate is the best over
    its columns.
    """
    out: dict[str, float] = {}
    if not lp.reduced_costs:
        return out
    columns = defaultdict(list)
    for a, i, r, t in m.buy.index_set():
        columns[f"buy:{a}"].append(m.buy[a, i, r, t])
    for i, r, t in m.build.index_set():
        columns[f"block:{i}"].append(m.build[i, r, t])
    for o, k, L, r, t in m.commit.index_set():
        columns[f"lease:{o}"].append(m.commit[o, k, L, r, t])
    for u, w, r, t in m.ALLOC:
        if u.startswith("rental:") or u.startswith("lease:"):
            columns[u].append(m.alloc[u, w, r, t])
    for key in keys:
        best = None
        for v in columns.get(key, []):
            c = lp.price_coefs.get(id(v), 0.0)
            rc = lp.reduced_costs.get(v)
            if c <= COEFFICIENT_TOL or rc is None:
                continue
            s = 1.0 - rc / c
            if key.startswith("rental:"):
                u, w, r, t = v.index()
                row = m.source_limit[u, r, t] if (u, r, t) in m.source_limit else None
                y = lp.duals.get(row) if row is not None else None
                if y is not None and y < 0:
                    s = max(s, 1.0 - QUANTITY_SCALE * y / c)
            best = s if best is None else max(best, s)
        if best is not None:
            out[key] = best
    return out
