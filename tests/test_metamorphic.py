"""Metamorphic properties: relations between solves that must hold whatever the optimum is."""

from __future__ import annotations

import copy

import pytest

import procure
from helpers import CATALOG, base_instance, contract, lease_offer, load, rental, site


def rich_instance() -> dict:
    """Six quarters, two workloads, a two-scenario tree, every kind of source."""
    inst = base_instance(quarters=6, demand=[6, 8, 10, 12, 14, 16], workloads=("training", "inference"))
    inst["horizon"]["discount_rate"] = 0.08
    inst["scenarios"] = [
        {"id": "base", "probability": 0.6,
         "demand": {"training": {"base": 6, "growth": 0.5}, "inference": {"base": 4, "growth": 1.0}}},
        {"id": "high", "probability": 0.4, "parent": "base", "branch_quarter": "2026Q3",
         "demand": {"inference": {"base": 4, "growth": 2.0}}}]
    inst["sites"] = [site(mw=6, pue=1.2, electricity_usd_per_mwh=80, fixed_opex_musd_per_mw_year=0.2,
                          expansion={"block_mw": 5, "max_blocks": 3, "lead_quarters": 2, "capex_musd_per_mw": 0.3})]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 0.3}, {"accelerator": "N", "price_scale": 0.5}]
    inst["existing_fleet"] = [{"site": "s1", "accelerator": "G", "units": 3, "installed": "2025Q1"}]
    inst["providers"] = [{"id": "cloud", "capacity_units": 12}, {"id": "tpu"}]
    inst["lease_offers"] = [lease_offer(terms={2: 120, 4: 100}, max_units=10, lot_size=2, last_start="2026Q4")]
    inst["existing_contracts"] = [contract(units=2, price=90, start="2025Q3", end="2026Q2")]
    inst["rentals"] = [rental(price=400, units=6, provider="tpu", accelerator="T")]
    inst["policy"].update({"capex_budget_musd_per_year": 40, "max_vendor_share": {"nvidia": 0.95},
                           "min_owned_share": 0.2})
    return inst


def objective(tmp_path, inst, catalog=None) -> float:
    plan = procure.solve(load(tmp_path, inst, catalog), gap=1e-9)
    assert plan.status == "optimal", plan.summary
    return plan.summary["objective"]


def test_doubling_every_price_doubles_the_objective(tmp_path):
    inst, catalog = rich_instance(), copy.deepcopy(CATALOG)
    base = objective(tmp_path, inst, catalog)
    for entry in catalog["accelerators"]:
        if entry.get("price"):
            entry["price"]["initial_kusd"] *= 2
    for s in inst["sites"]:
        s["electricity_usd_per_mwh"] *= 2
        s["fixed_opex_musd_per_mw_year"] *= 2
        s["expansion"]["capex_musd_per_mw"] *= 2
    for item in [*inst["existing_contracts"], *inst["rentals"]]:
        item["price_usd_per_unit_hour"] *= 2
    for offer in inst["lease_offers"]:
        for term in offer["terms"]:
            term["price_usd_per_unit_hour"] *= 2
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] *= 2
    inst["policy"]["capex_budget_musd_per_year"] *= 2  # a budget is money too
    assert objective(tmp_path, inst, catalog) == pytest.approx(2 * base, rel=1e-6)


def test_adding_an_offer_never_raises_the_cost(tmp_path):
    inst = rich_instance()
    base = objective(tmp_path, inst)
    inst["lease_offers"].append(lease_offer("extra", terms={3: 400}, max_units=4, lot_size=1, first_start="2026Q2",
                                             last_start="2026Q3", provider="tpu", accelerator="N"))
    assert objective(tmp_path, inst) <= base + 1e-6


def test_removing_a_rental_never_lowers_the_cost(tmp_path):
    inst = rich_instance()
    base = objective(tmp_path, inst)
    inst["rentals"] = [{**inst["rentals"][0], "available_units": 0}]
    assert objective(tmp_path, inst) >= base - 1e-6


@pytest.mark.parametrize("longer", [3, 4])
def test_longer_lead_times_never_lower_the_cost(tmp_path, longer):
    inst = rich_instance()
    base = objective(tmp_path, inst)
    inst["sites"][0]["expansion"]["lead_quarters"] = longer
    assert objective(tmp_path, inst) >= base - 1e-6


def test_a_tree_of_identical_scenarios_equals_the_deterministic_solve(tmp_path):
    inst = rich_instance()
    inst["scenarios"] = [inst["scenarios"][0] | {"probability": 1.0}]
    deterministic = objective(tmp_path, inst)
    root = inst["scenarios"][0] | {"probability": 0.5}
    twin = {"id": "twin", "probability": 0.5, "parent": "base", "branch_quarter": "2026Q2",
            "demand": root["demand"]}
    inst["scenarios"] = [root, twin]
    assert objective(tmp_path, inst) == pytest.approx(deterministic, rel=1e-9)


def test_the_stochastic_solution_is_no_better_than_perfect_foresight(tmp_path):
    # expected cost with non-anticipativity ≥ Σ_s p_s · (cost of scenario s solved alone, its demand known)
    from procure.inputs.data import build_data

    inst = rich_instance()
    loaded = load(tmp_path, inst)
    d = build_data(loaded)
    stochastic = procure.solve(loaded, gap=1e-9).summary["objective"]
    wait_and_see = 0.0
    for scenario in d.SCENARIOS:
        alone = copy.deepcopy(inst)
        alone["scenarios"] = [{"id": scenario, "probability": 1.0, "demand": {
            w: {"series": [d.demand[w, d.node_of[scenario, t]] for t in range(d.T)]} for w in d.WORKLOADS}}]
        wait_and_see += d.probability[scenario] * objective(tmp_path, alone)
    assert stochastic >= wait_and_see - 1e-6
