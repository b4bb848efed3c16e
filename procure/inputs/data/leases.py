"""Lease offers, existing contracts, rentals and provider capacity: what ``model/leases.py`` builds on (and
``model/serving.py`` and ``model/costs.py`` use)."""

from __future__ import annotations

from typing import Mapping

from procure.inputs.data.horizon import Horizon
from procure.inputs.data.model_data import freeze
from procure.inputs.quarters import HOURS_PER_QUARTER
from procure.inputs.schema import Accelerator, Instance

MUSD_PER_UNIT_QUARTER = HOURS_PER_QUARTER / 1e6  # one $ per unit-hour, in $M per unit-quarter


def lease_data(inst: Instance, catalog: Mapping[str, Accelerator], horizon: Horizon) -> dict[str, object]:
    """The offer, contract, rental and provider fields (below), together. Nothing leased or rented delivers
    before its accelerator's first quarter in the catalog (``launch``)."""
    launch = {a: horizon.index(acc.first_quarter) for a, acc in catalog.items()}
    return {**offer_data(inst, horizon, launch), **contract_data(inst, horizon), **rental_data(inst, horizon, launch),
            **provider_data(inst, horizon)}


def offer_data(inst: Instance, horizon: Horizon, launch: Mapping[str, int]) -> dict[str, object]:
    """Fields of the lease offers (``OFFERS``): ``COMMIT`` (offer, start quarter, term quarters) that may be
    signed, ``offer_provider``, ``offer_accelerator``, ``offer_lot`` (units a lot), ``offer_min_units`` and
    ``offer_max_units`` (units a signing), ``take_or_pay``, ``lease_musd_per_unit_quarter`` (offer, term) -> $M.
    A start is offered from ``first_start`` or the accelerator's launch, whichever is later (validation
    rejects an instance that asks for less; a catalog that moves the launch later moves the starts too).

    Read by ``model/leases.py`` and ``model/costs.py`` (prices, lots, take-or-pay)."""
    offers = inst.lease_offers
    commits, lease_price = [], {}
    for o in offers:
        lo = max(horizon.index(o.first_start), launch.get(o.accelerator, 0), 0)
        hi = min(horizon.index(o.last_start), horizon.T - 1)
        for term in o.terms:
            lease_price[o.id, term.quarters] = term.price_usd_per_unit_hour * MUSD_PER_UNIT_QUARTER
            commits.extend((o.id, t, term.quarters) for t in range(lo, hi + 1))
    return dict(
        OFFERS=tuple(o.id for o in offers), COMMIT=tuple(commits),
        offer_provider=freeze({o.id: o.provider for o in offers}),
        offer_accelerator=freeze({o.id: o.accelerator for o in offers}),
        offer_lot=freeze({o.id: o.lot_size for o in offers}),
        offer_min_units=freeze({o.id: o.min_units for o in offers}),
        offer_max_units=freeze({o.id: o.max_units for o in offers}),
        take_or_pay=freeze({o.id: o.take_or_pay for o in offers}),
        lease_musd_per_unit_quarter=freeze(lease_price),
    )


def contract_data(inst: Instance, horizon: Horizon) -> dict[str, object]:
    """Fields of the existing contracts (``CONTRACTS``): ``contract_provider``, ``contract_units`` (contract,
    quarter) -> units in the quarters it runs, ``contract_musd_per_unit_quarter`` ($M),
    ``contract_take_or_pay``.

    Read by ``model/leases.py`` (provider capacity), ``model/serving.py`` and ``model/costs.py``."""
    contracts = inst.existing_contracts
    return dict(
        CONTRACTS=tuple(c.id for c in contracts),
        contract_provider=freeze({c.id: c.provider for c in contracts}),
        contract_units=freeze({(c.id, t): c.units for c in contracts for t in range(horizon.T)
                               if horizon.index(c.start) <= t <= horizon.index(c.end)}),
        contract_musd_per_unit_quarter=freeze({c.id: c.price_usd_per_unit_hour * MUSD_PER_UNIT_QUARTER
                                               for c in contracts}),
        contract_take_or_pay=freeze({c.id: c.take_or_pay for c in contracts}),
    )


def rental_data(inst: Instance, horizon: Horizon, launch: Mapping[str, int]) -> dict[str, object]:
    """Fields of the on-demand rentals (``RENTALS``): ``rental_cap`` (rental, quarter) -> units available,
    0 before the accelerator's launch (a single number of ``available_units`` means from the launch on),
    ``rental_musd_per_unit_quarter`` ($M).

    Read by ``model/serving.py`` (caps) and ``model/costs.py`` (prices)."""
    return dict(
        RENTALS=tuple(r.id for r in inst.rentals),
        rental_cap=freeze({(r.id, t): horizon.step_at(r.available_units, t) if t >= launch.get(r.accelerator, 0)
                           else 0.0 for r in inst.rentals for t in range(horizon.T)}),
        rental_musd_per_unit_quarter=freeze({r.id: r.price_usd_per_unit_hour * MUSD_PER_UNIT_QUARTER
                                             for r in inst.rentals}),
    )


def provider_data(inst: Instance, horizon: Horizon) -> dict[str, object]:
    """Fields of the providers (``PROVIDERS``): ``provider_cap`` (provider, quarter) -> units it can supply across
    its leases and contracts, where capped. Read by ``model/leases.py``."""
    return dict(
        PROVIDERS=tuple(p.id for p in inst.providers),
        provider_cap=freeze({(p.id, t): horizon.step_at(p.capacity_units, t)
                             for p in inst.providers if p.capacity_units is not None for t in range(horizon.T)}),
    )
