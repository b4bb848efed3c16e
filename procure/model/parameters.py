"""Mutable parameters: what a sweep may change between re-solves without rebuilding the model.

A persistent solver updates only the coefficients that depend on a changed parameter, so a sweep over
prices, demand or the discount rate re-solves in place. Anything else (lead times, windows, lifetimes,
caps, the scenario tree) changes the model's structure and needs a rebuild.
"""

from __future__ import annotations

import pyomo.environ as pyo

from procure.inputs.data import ModelData


def price_keys(d: ModelData) -> list[str]:
    """Keys of ``price_scale``: one multiplier per priced item, all 1.0 as built."""
    return ([f"buy:{a}" for a in d.BUYABLE] + [f"block:{i}" for i in d.EXPANDABLE]
            + [f"lease:{o}" for o in d.OFFERS] + [f"contract:{c}" for c in d.CONTRACTS]
            + [f"rental:{r}" for r in d.RENTALS] + [f"electricity:{i}" for i in d.SITES]
            + [f"opex:{i}" for i in d.SITES] + ["shortfall"])


def add_parameters(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Mutable ``demand_h100e[w, n]`` (H100e), ``price_scale[key]`` (multiplier on an item's price),
    ``discount_factor[t]`` and ``discount_end`` (present-value factors)."""
    m.demand_h100e = pyo.Param(m.WORKLOADS, m.NODES, mutable=True,
                               initialize=lambda _, w, r, t: d.demand[w, (r, t)])
    m.PRICE_KEYS = pyo.Set(initialize=price_keys(d), ordered=True)
    m.price_scale = pyo.Param(m.PRICE_KEYS, mutable=True, initialize=1.0)
    m.QUARTER_INDEX = pyo.RangeSet(0, d.T - 1)
    m.discount_factor = pyo.Param(m.QUARTER_INDEX, mutable=True, initialize=lambda _, t: d.discount[t])
    m.discount_end = pyo.Param(mutable=True, initialize=d.discount_end)


def set_discount_rate(m: pyo.ConcreteModel, d: ModelData, annual_rate: float) -> None:
    """Re-price every quarter for a new annual discount rate (same convention as :mod:`procure.inputs.data`)."""
    for t in range(d.T):
        m.discount_factor[t] = (1.0 + annual_rate) ** (-t / 4.0)
    m.discount_end = (1.0 + annual_rate) ** (-d.T / 4.0)
