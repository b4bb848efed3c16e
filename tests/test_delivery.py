"""No warehousing (procure.model.fleet.add_delivery): a unit is powered in the quarter it is delivered.

Three quarters, demand 0, 0, 10 H100e. ``G`` can be bought only in 2026Q1, at $1M a unit (1 H100e, 1 MW at
PUE 1, 80-quarter life, no discounting). Bought then and kept to the horizon's end it is credited
1 − 3/80 of its price, so ten units cost 10 × 3/80 = 0.375 $M. The site's power arrives only in 2026Q3
(a free 10-MW block started in 2026Q1 with a 2-quarter lead), so ten units bought in 2026Q1 could only be
held unpowered for two quarters: that warehouse is what the rule closes. The fallback is renting 10 units
in 2026Q3 at $100/h: 10 × 100 × 2190 / 1e6 = 2.19 $M.
"""

from __future__ import annotations

import pytest

import procure
from helpers import base_instance, load, site


def instance(power_from_the_start: bool) -> dict:
    inst = base_instance(quarters=3, demand=[0, 0, 10])
    expansion = {"block_mw": 10, "max_blocks": 1, "lead_quarters": 2, "capex_musd_per_mw": 0,
                 "committed_starts": {"2026Q1": 1}}
    inst["sites"] = [site(mw=10 if power_from_the_start else 0, expansion=expansion)]
    inst["purchases"] = [{"accelerator": "G", "last_quarter": "2026Q1"}]
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "G", "price_usd_per_unit_hour": 100,
                        "available_units": 10}]
    return inst


def test_units_cannot_be_bought_before_there_is_power_for_them(tmp_path):
    plan = procure.solve(load(tmp_path, instance(power_from_the_start=False)), gap=0)
    assert plan.status == "optimal"
    assert plan.summary["objective"] == pytest.approx(2.19, abs=1e-6)  # rented, not warehoused (0.375)
    assert plan.plan[plan.plan["decision"] == "buy"]["quantity"].sum() == 0


def test_units_with_power_at_delivery_are_bought(tmp_path):
    plan = procure.solve(load(tmp_path, instance(power_from_the_start=True)), gap=0)
    assert plan.status == "optimal"
    assert plan.summary["objective"] == pytest.approx(10 * 3 / 80, abs=1e-6)
    bought = plan.plan[plan.plan["decision"] == "buy"]
    assert list(bought["quarter"]) == ["2026Q1"] and bought["quantity"].sum() == pytest.approx(10)
