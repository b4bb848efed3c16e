"""Accelerators, purchases and the existing fleet: what ``model/fleet.py`` builds on (and ``model/serving.py``
serves with)."""

from __future__ import annotations

from procure.inputs.data.horizon import Horizon
from procure.inputs.data.model_data import freeze
from procure.inputs.quarters import quarter_ordinal
from procure.inputs.schema import Accelerator, Instance, PricePath


def price_kusd(path: PricePath, first_quarter: str, ordinal: int) -> float:
    """Unit price in k$ at an absolute quarter ordinal: the last ``by_quarter`` entry so far (the first before
    it starts), else ``initial_kusd`` declining by ``annual_decline`` a year from ``first_quarter``."""
    if path.by_quarter:
        keys = sorted(path.by_quarter, key=quarter_ordinal)
        value = path.by_quarter[keys[0]]
        for q in keys:
            if quarter_ordinal(q) <= ordinal:
                value = path.by_quarter[q]
        return float(value)
    years = (ordinal - quarter_ordinal(first_quarter)) / 4.0
    return path.initial_kusd * (1.0 - path.annual_decline) ** max(years, 0.0)


def fleet_data(inst: Instance, catalog: dict[str, Accelerator], horizon: Horizon) -> dict[str, object]:
    """The accelerator fields and the purchase fields (below), together."""
    return {**accelerator_data(inst, catalog, horizon), **purchase_data(inst, catalog, horizon)}


def accelerator_data(inst: Instance, catalog: dict[str, Accelerator], horizon: Horizon) -> dict[str, object]:
    """Fields of every accelerator any source uses (``ACCELERATORS``, sorted): ``vendor``, ``generation``,
    ``throughput`` (accelerator, workload) -> H100e a unit, where eligible; ``share_cap`` (accelerator, workload)
    -> largest fraction of the workload, where below 1; ``power_kw`` (kW a unit), ``lifetime`` (quarters).

    Read by ``model/fleet.py``, ``model/serving.py`` (throughput, share caps), ``model/policy.py`` (vendor) and
    ``model/costs.py`` (power)."""
    used = ({p.accelerator for p in inst.purchases} | {f.accelerator for f in inst.existing_fleet}
            | {o.accelerator for o in inst.lease_offers} | {c.accelerator for c in inst.existing_contracts}
            | {r.accelerator for r in inst.rentals})
    accels = tuple(sorted(used))
    acc = {a: catalog[a] for a in accels}
    throughput = {(a, w): acc[a].throughput_h100e[w] for a in accels for w in horizon.workloads
                  if acc[a].throughput_h100e.get(w, 0) > 0}
    share_cap = {(a, w): acc[a].max_workload_share[w] for (a, w) in throughput
                 if acc[a].max_workload_share.get(w, 1.0) < 1.0}
    return dict(
        ACCELERATORS=accels, vendor=freeze({a: acc[a].vendor for a in accels}),
        generation=freeze({a: acc[a].generation for a in accels}),
        throughput=freeze(throughput), share_cap=freeze(share_cap),
        power_kw=freeze({a: acc[a].power_kw for a in accels}),
        lifetime=freeze({a: acc[a].lifetime_quarters for a in accels}),
    )


def purchase_data(inst: Instance, catalog: dict[str, Accelerator], horizon: Horizon) -> dict[str, object]:
    """Fields of the owned fleet: ``BUY`` (accelerator, site, quarter) where a purchase is open (priced
    accelerators only, inside the purchase's and the catalog's window), ``BUYABLE``, ``buy_lot`` (units a lot),
    ``price_musd_per_unit`` ($M), ``supply_cap`` (units a quarter, where capped), ``buy_residual_fraction``
    (share of the price still worth something at the horizon's end), ``existing_units`` (accelerator, site,
    quarter) -> units installed before the horizon and still alive, ``FLEET`` (accelerator, site) pairs that
    can hold units.

    Read by ``model/fleet.py`` and ``model/costs.py`` (prices, lots, residual values)."""
    T = horizon.T
    site_index = {s.id: k for k, s in enumerate(inst.sites)}
    buy, price, supply, buy_residual, buy_lot = [], {}, {}, {}, {}
    for p in inst.purchases:
        a = catalog[p.accelerator]
        if a.price is None:
            continue
        lo = max(horizon.index(p.first_quarter or a.first_quarter), 0)
        last_q = p.last_quarter or a.last_quarter
        hi = min(horizon.index(last_q), T - 1) if last_q else T - 1
        buy_lot[a.id] = a.lot_size
        hosts = sorted(p.sites or site_index, key=site_index.__getitem__)
        cap_steps = p.supply_cap_units if p.supply_cap_units is not None else a.supply_cap_units
        for t in range(lo, hi + 1):
            price[a.id, t] = price_kusd(a.price, a.first_quarter, horizon.first + t) * p.price_scale / 1000.0
            if cap_steps is not None:
                supply[a.id, t] = horizon.step_at(cap_steps, t)
            buy_residual[a.id, t] = max(0.0, 1.0 - (T - t) / a.lifetime_quarters)
            buy.extend((a.id, s, t) for s in hosts)

    existing_units = _existing_units(inst, catalog, horizon)
    fleet = tuple(sorted({(a, s) for a, s, _ in buy} | {(a, s) for a, s, _ in existing_units},
                         key=lambda pair: (pair[0], site_index[pair[1]])))
    return dict(
        BUYABLE=tuple(sorted(buy_lot)), BUY=tuple(buy), buy_lot=freeze(buy_lot), price_musd_per_unit=freeze(price),
        supply_cap=freeze(supply), buy_residual_fraction=freeze(buy_residual),
        existing_units=freeze(existing_units), FLEET=fleet,
    )


def _existing_units(inst: Instance, catalog: dict[str, Accelerator],
                    horizon: Horizon) -> dict[tuple[str, str, int], float]:
    """(accelerator, site, quarter) -> units of the existing fleet alive in the quarter, summed over entries."""
    units: dict[tuple[str, str, int], float] = {}
    for f in inst.existing_fleet:
        start = horizon.index(f.installed)
        for t in range(max(start, 0), min(start + catalog[f.accelerator].lifetime_quarters, horizon.T)):
            key = (f.accelerator, f.site, t)
            units[key] = units.get(key, 0.0) + f.units
    return units
