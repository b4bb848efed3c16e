"""Launch dates hold everywhere: nothing is bought, leased or rented before its catalog first quarter.

The catalog's accelerator ``N`` is moved to launch in 2026Q3 (``with_catalog_change``); the instance
then asks for it from 2026Q1 by each route in turn.
"""

from __future__ import annotations

import dataclasses

import pytest

from helpers import base_instance, site, with_catalog_change, write
from procure.inputs.data import build_data
from procure.inputs.validation import InstanceError, load_instance

LATE = with_catalog_change("N", first_quarter="2026Q3")


def instance() -> dict:
    inst = base_instance(quarters=4, demand=[4, 4, 4, 4])
    inst["sites"] = [site(mw=10)]
    return inst


def problems(tmp_path, inst) -> list[str]:
    with pytest.raises(InstanceError) as caught:
        load_instance(write(tmp_path, inst, LATE))
    return [str(p) for p in caught.value.problems]


def test_a_lease_starting_before_the_launch_is_rejected_naming_the_offer(tmp_path):
    inst = instance()
    inst["lease_offers"] = [{"id": "early", "provider": "cloud", "accelerator": "N", "first_start": "2026Q1",
                             "last_start": "2026Q4", "terms": [{"quarters": 2, "price_usd_per_unit_hour": 1}],
                             "max_units": 10}]
    said = problems(tmp_path, inst)
    assert any(p.startswith("lease_offers[0].first_start:") and "first quarter in the catalog (2026Q3)" in p
               for p in said), said
    inst["lease_offers"][0]["first_start"] = "2026Q3"  # from the launch on: valid
    load_instance(write(tmp_path, inst, LATE))


def test_a_purchase_window_before_the_launch_is_rejected(tmp_path):
    inst = instance()
    inst["purchases"] = [{"accelerator": "N", "first_quarter": "2026Q2"}]
    said = problems(tmp_path, inst)
    assert any(p.startswith("purchases[0].first_quarter:") and "2026Q3" in p for p in said), said
    inst["purchases"] = [{"accelerator": "N"}]  # the catalog's window: from the launch
    load_instance(write(tmp_path, inst, LATE))


def test_a_rental_schedule_with_units_before_the_launch_is_rejected(tmp_path):
    inst = instance()
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "N", "price_usd_per_unit_hour": 1,
                        "available_units": {"2026Q1": 0, "2026Q2": 5}}]
    said = problems(tmp_path, inst)
    assert any(p.startswith("rentals[0].available_units.2026Q2:") for p in said), said
    assert not any("available_units.2026Q1" in p for p in said)  # zero units before the launch is fine
    inst["rentals"][0]["available_units"] = 5  # one number: from the launch on
    load_instance(write(tmp_path, inst, LATE))


def test_a_single_number_of_rentable_units_starts_at_the_launch(tmp_path):
    inst = instance()
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "N", "price_usd_per_unit_hour": 1,
                        "available_units": 5}]
    data = build_data(load_instance(write(tmp_path, inst, LATE)))
    assert [data.rental_cap["r", t] for t in range(4)] == [0.0, 0.0, 5.0, 5.0]


def test_a_launch_that_slips_moves_the_lease_starts_and_the_rentals(tmp_path):
    # valid as written (N launches in 2026Q1 in the shipped test catalog); then the catalog's launch moves to
    # 2026Q3, as a generation slip does: no lease may start, and nothing may be rented, before it
    inst = instance()
    inst["lease_offers"] = [{"id": "l", "provider": "cloud", "accelerator": "N", "first_start": "2026Q1",
                             "last_start": "2026Q4", "terms": [{"quarters": 1, "price_usd_per_unit_hour": 1}],
                             "max_units": 10}]
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "N", "price_usd_per_unit_hour": 1,
                        "available_units": 5}]
    loaded = load_instance(write(tmp_path, inst))
    assert sorted(t for _, t, _ in build_data(loaded).COMMIT) == [0, 1, 2, 3]
    slipped = dataclasses.replace(loaded, accelerators={
        **loaded.accelerators, "N": loaded.accelerators["N"].model_copy(update={"first_quarter": "2026Q3"})})
    data = build_data(slipped)
    assert sorted(t for _, t, _ in data.COMMIT) == [2, 3]
    assert [data.rental_cap["r", t] for t in range(4)] == [0.0, 0.0, 5.0, 5.0]
