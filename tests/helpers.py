"""Tiny instances for hand-computed tests.

Conventions that keep the arithmetic short: zero discount rate, one unit of ``G`` = 1 H100e on every
workload, 1000 kW (1 MW at PUE 1) and $1M; a lease or rental price ``p`` $/unit-hour costs
``p × 2190 h / 1e6`` $M per unit-quarter; the shortfall penalty is $1M per H100e-quarter.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from procure.inputs.quarters import HOURS_PER_QUARTER, quarter_name, quarter_ordinal
from procure.inputs.validation import LoadedInstance, load_instance

PENALTY_USD = 1e6


def usd_per_hour(musd_per_unit_quarter: float) -> float:
    """The $/unit-hour price that costs ``musd_per_unit_quarter`` $M per unit-quarter."""
    return musd_per_unit_quarter * 1e6 / HOURS_PER_QUARTER


CATALOG = {
    "sources": [{"id": "hand", "title": "hand-made test figures"}],
    "accelerators": [
        {"id": "G", "name": "generic GPU", "vendor": "nvidia", "generation": "g", "first_quarter": "2026Q1",
         "throughput_h100e": {"training": 1, "inference": 1}, "power_kw": 1000,
         "price": {"initial_kusd": 1000}, "lifetime_quarters": 80, "lot_size": 1},
        {"id": "X", "name": "other vendor GPU", "vendor": "amd", "generation": "x", "first_quarter": "2026Q1",
         "throughput_h100e": {"training": 1, "inference": 1}, "power_kw": 1000,
         "price": {"initial_kusd": 1000}, "lifetime_quarters": 80, "lot_size": 1},
        {"id": "N", "name": "new generation GPU", "vendor": "nvidia", "generation": "n", "first_quarter": "2026Q1",
         "throughput_h100e": {"training": 4, "inference": 4}, "power_kw": 1000,
         "price": {"initial_kusd": 500}, "lifetime_quarters": 1, "lot_size": 1},
        {"id": "S", "name": "share-capped chip", "vendor": "google", "generation": "s", "first_quarter": "2026Q1",
         "throughput_h100e": {"training": 1, "inference": 1}, "max_workload_share": {"training": 0.25},
         "power_kw": 1000, "price": {"initial_kusd": 1000}, "lifetime_quarters": 80},
        {"id": "T", "name": "inference-only chip", "vendor": "google", "generation": "t", "first_quarter": "2026Q1",
         "throughput_h100e": {"inference": 2}, "power_kw": 1},
    ],
}


def base_instance(quarters: int = 1, demand: list[float] | None = None, workloads=("training",)) -> dict:
    demand = demand if demand is not None else [0.0] * quarters
    last = quarter_name(quarter_ordinal("2026Q1") + quarters - 1)
    return {
        "name": "hand",
        "catalogs": ["catalog.json"],
        "horizon": {"first_quarter": "2026Q1", "last_quarter": last, "discount_rate": 0.0},
        "workloads": [{"id": w} for w in workloads],
        "scenarios": [{"id": "base", "probability": 1.0,
                       "demand": {w: {"series": list(demand) if w == workloads[0] else [0.0] * quarters}
                                  for w in workloads}}],
        "sites": [],
        "purchases": [],
        "existing_fleet": [],
        "providers": [{"id": "cloud"}],
        "lease_offers": [],
        "existing_contracts": [],
        "rentals": [],
        "policy": {"shortfall_penalty_usd_per_h100e_quarter": PENALTY_USD},
    }


def site(site_id: str = "s1", mw: float = 0.0, pue: float = 1.0, **extra) -> dict:
    return {"id": site_id, "pue": pue, "electricity_usd_per_mwh": 0.0, "power_online_mw": mw, **extra}


def lease_offer(offer_id: str = "l", *, terms: dict[int, float], max_units: float, lot_size: int,
                first_start: str = "2026Q1", last_start: str = "2026Q1", provider: str = "cloud",
                accelerator: str = "G", **extra) -> dict:
    """A lease offer; ``terms`` maps each term's length in quarters to its price in $/unit-hour, and
    ``extra`` adds fields as they are (``min_units``, ``take_or_pay``, ...)."""
    return {"id": offer_id, "provider": provider, "accelerator": accelerator, "first_start": first_start,
            "last_start": last_start,
            "terms": [{"quarters": q, "price_usd_per_unit_hour": p} for q, p in terms.items()],
            "max_units": max_units, "lot_size": lot_size, **extra}


def contract(contract_id: str = "c", *, units: float, price: float, start: str, end: str,
             provider: str = "cloud", accelerator: str = "G", **extra) -> dict:
    """An existing lease contract of ``units`` at ``price`` $/unit-hour from ``start`` to ``end`` (take-or-pay
    unless ``extra`` says ``take_or_pay=False``)."""
    return {"id": contract_id, "provider": provider, "accelerator": accelerator, "start": start, "end": end,
            "units": units, "price_usd_per_unit_hour": price, **extra}


def rental(rental_id: str = "r", *, price: float, units: float, provider: str = "cloud",
           accelerator: str = "G") -> dict:
    """An on-demand rental: up to ``units`` at ``price`` $/unit-hour in every quarter."""
    return {"id": rental_id, "provider": provider, "accelerator": accelerator, "price_usd_per_unit_hour": price,
            "available_units": units}


def write(tmp_path: Path, instance: dict, catalog: dict | None = None) -> Path:
    (tmp_path / "catalog.json").write_text(json.dumps(catalog or CATALOG))
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(instance))
    return path


def load(tmp_path: Path, instance: dict, catalog: dict | None = None) -> LoadedInstance:
    return load_instance(write(tmp_path, instance, catalog))


def with_catalog_change(accelerator: str, **fields) -> dict:
    catalog = copy.deepcopy(CATALOG)
    for entry in catalog["accelerators"]:
        if entry["id"] == accelerator:
            entry.update(fields)
    return catalog
