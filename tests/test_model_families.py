"""Each constraint family alone on a tiny instance whose optimum is computed by hand in the test.

Units: $M. A price ``p`` $/unit-hour costs ``p × 2190 / 1e6`` $M per unit-quarter (see helpers.py).
"""

from __future__ import annotations

import pytest

import procure
from helpers import (PENALTY_USD, base_instance, contract, lease_offer, load, rental, site, usd_per_hour,
                     with_catalog_change)

TOL = 1e-6


def solve(tmp_path, instance, catalog=None, **options):
    plan = procure.solve(load(tmp_path, instance, catalog), **options)
    assert plan.status == "optimal", plan.summary
    return plan


def decisions(plan, decision, scenario="base"):
    rows = plan.plan[(plan.plan["decision"] == decision) & (plan.plan["scenario"] == scenario)]
    return {(r.quarter, r.site, r.item): r.quantity for r in rows.itertuples()}


# ------------------------------------------------------------------------------------------- power pipeline
def test_lead_time_forces_a_lease_until_power_arrives(tmp_path):
    # 4 quarters, demand 10 H100e each. Power and chips are free but a block (10 MW) takes 2 quarters:
    # started in 2026Q1 it powers 10 units of G from 2026Q3. Quarters 1-2 need a 2-quarter lease of 10
    # units at $100/h: 10 × 100 × 2190 × 2 / 1e6 = 4.38 $M. Nothing else costs anything.
    inst = base_instance(quarters=4, demand=[10, 10, 10, 10])
    inst["sites"] = [site(expansion={"block_mw": 10, "max_blocks": 1, "lead_quarters": 2,
                                     "capex_musd_per_mw": 0})]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    inst["lease_offers"] = [lease_offer(terms={2: 100}, max_units=100, lot_size=10, last_start="2026Q4")]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(4.38, abs=1e-4)
    assert decisions(plan, "build_blocks") == {("2026Q1", "s1", "block"): 1}
    assert decisions(plan, "lease_commit") == {("2026Q1", "", "l:2q"): 10}
    online = decisions(plan, "total_power_mw")
    assert ("2026Q2", "s1", "power") not in online and online[("2026Q3", "s1", "power")] == 10


def test_block_groups_sum_the_blocks_online_per_block_size(tmp_path):
    # 4 quarters; s1 and s2 build 10-MW blocks (lead 1 and 2), s3 5-MW blocks (lead 1). A start at quarter
    # τ is online from τ + lead, and starts are allowed while τ + lead ≤ 3: s1 and s3 at 0-2, s2 at 0-1.
    # Blocks online by size: 10 MW at quarter 1 s1's total by 0; at 2 s1's by 1 + s2's by 0; at 3 s1's by 2
    # + s2's by 1. 5 MW: s3's total by 0, 1, 2 at quarters 1, 2, 3. Nothing is online at quarter 0.
    from pyomo.core.expr.visitor import identify_variables
    from procure.inputs.data import build_data
    from procure.model import build_model
    inst = base_instance(quarters=4)
    inst["sites"] = [site(s, expansion={"block_mw": mw, "max_blocks": 3, "lead_quarters": lead, "capex_musd_per_mw": 0})
                     for s, mw, lead in (("s1", 10, 1), ("s2", 10, 2), ("s3", 5, 1))]
    inst["purchases"] = [{"accelerator": "G"}]
    model = build_model(build_data(load(tmp_path, inst)))  # built by default
    assert not hasattr(build_model(build_data(load(tmp_path, inst)), block_groups=False), "group_blocks_online")
    terms = {k: sorted(v.name for v in identify_variables(row.body) if v.parent_component() is model.blocks_to_date)
             for k, row in model.group_blocks_online_def.items()}
    assert terms == {
        (5.0, "base", 1): ["blocks_to_date[s3,base,0]"], (5.0, "base", 2): ["blocks_to_date[s3,base,1]"],
        (5.0, "base", 3): ["blocks_to_date[s3,base,2]"],
        (10.0, "base", 1): ["blocks_to_date[s1,base,0]"],
        (10.0, "base", 2): ["blocks_to_date[s1,base,1]", "blocks_to_date[s2,base,0]"],
        (10.0, "base", 3): ["blocks_to_date[s1,base,2]", "blocks_to_date[s2,base,1]"]}
    assert all(not v.is_integer() for v in model.group_blocks_online.values())  # implied integers, as built


def test_max_blocks_limits_power(tmp_path):
    # One 1-MW block at most, lead 0: one unit of G powered; demand 3 → 2 H100e short × $1M in each of 2
    # quarters = 4.
    inst = base_instance(quarters=2, demand=[3, 3])
    inst["sites"] = [site(expansion={"block_mw": 1, "max_blocks": 1, "lead_quarters": 0,
                                     "capex_musd_per_mw": 0})]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(4.0, abs=1e-4)  # 2 short × 2 quarters × $1M


def test_block_capex_is_paid_at_start_and_its_book_value_credited(tmp_path):
    # 2 quarters, demand 1 each. A 1-MW block ($1.0M/MW, lead 0, depreciated over 4 quarters) started in
    # 2026Q1 powers G (nearly free) in both quarters: capex 1.0, online 2 of its 4 quarters inside the horizon
    # → residual 1 − 2/4 = 0.5 credited: 1.0 − 0.5 = 0.5. (Starting in 2026Q2: 1 short + 1.0 − 0.75 = 1.25;
    # no block: 2 short = 2.)
    inst = base_instance(quarters=2, demand=[1, 1])
    inst["sites"] = [site(facility_life_quarters=4, expansion={"block_mw": 1, "max_blocks": 1, "lead_quarters": 0,
                                                                 "capex_musd_per_mw": 1.0})]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(0.5, abs=1e-6)
    assert plan.summary["costs"]["capex_power"] == pytest.approx(1.0, abs=1e-6)
    assert plan.summary["costs"]["residual_value"] == pytest.approx(-0.5, abs=1e-6)
    assert decisions(plan, "build_blocks") == {("2026Q1", "s1", "block"): 1}


def test_committed_blocks_are_paid_and_come_online_after_the_lead(tmp_path):
    # A block committed to start in 2026Q1 (1 MW, lead 1, $1.0M/MW, 4-quarter life) comes online in 2026Q2;
    # max_blocks 1 leaves no new start. Demand 1 in both quarters: 2026Q1 is 1 short ($1M); 2026Q2 is served
    # by G (nearly free). The committed capex 1.0 is paid, online 1 of 4 quarters → residual 0.75:
    # 1 + 1.0 − 0.75 = 1.25. (If the committed block never came online: 2 short + 0.25 = 2.25.)
    inst = base_instance(quarters=2, demand=[1, 1])
    inst["sites"] = [site(facility_life_quarters=4, expansion={
        "block_mw": 1, "max_blocks": 1, "lead_quarters": 1, "capex_musd_per_mw": 1.0,
        "committed_starts": {"2026Q1": 1}})]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(1.25, abs=1e-6)
    online = decisions(plan, "total_power_mw")
    assert ("2026Q1", "s1", "power") not in online and online[("2026Q2", "s1", "power")] == 1


# ------------------------------------------------------------------------------------------------ own fleet
def test_units_retire_after_their_lifetime(tmp_path):
    # Demand 1 for 4 quarters; G lives 2 quarters and costs $1M: buy in 2026Q1 and again in 2026Q3.
    # The second unit is fully used by the horizon end (residual 1 − 2/2 = 0): objective = 2 × 1 = 2.
    catalog = with_catalog_change("G", lifetime_quarters=2)
    inst = base_instance(quarters=4, demand=[1, 1, 1, 1])
    inst["sites"] = [site(mw=10)]
    inst["purchases"] = [{"accelerator": "G"}]
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(2.0, abs=1e-6)
    assert decisions(plan, "buy") == {("2026Q1", "s1", "G"): 1, ("2026Q3", "s1", "G"): 1}
    assert decisions(plan, "retire") == {("2026Q3", "s1", "G"): 1}


def test_existing_fleet_retires_and_residual_value_is_credited(tmp_path):
    # An existing unit of G installed 2024Q1 with an 9-quarter life serves 2026Q1 only (2024Q1 + 9 = 2026Q2).
    # 2026Q2 then needs a purchase: $1M, lifetime 4, used 1 quarter of 4 inside the horizon → residual
    # 0.75 credited: objective 1 − 0.75 = 0.25.
    catalog = with_catalog_change("X", lifetime_quarters=4)
    catalog["accelerators"][0]["lifetime_quarters"] = 9  # G
    inst = base_instance(quarters=2, demand=[1, 1])
    inst["sites"] = [site(mw=10)]
    inst["existing_fleet"] = [{"site": "s1", "accelerator": "G", "units": 1, "installed": "2024Q1"}]
    inst["purchases"] = [{"accelerator": "X"}]
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(0.25, abs=1e-6)
    assert plan.summary["costs"]["residual_value"] == pytest.approx(-0.75, abs=1e-6)


def test_supply_cap_spreads_purchases(tmp_path):
    # Demand 0 then 2 for three quarters; G limited to 1 unit per quarter, lifetime 4, $1M.
    # Buy 1 in Q1 (residual 1 − 4/4 = 0) and 1 in Q2 (residual 1 − 3/4 = 0.25): 2 − 0.25 = 1.75.
    # (Uncapped, both in Q2: 2 − 2 × 0.25 = 1.5.)
    catalog = with_catalog_change("G", lifetime_quarters=4, supply_cap_units=1)
    inst = base_instance(quarters=4, demand=[0, 2, 2, 2])
    inst["sites"] = [site(mw=10)]
    inst["purchases"] = [{"accelerator": "G"}]
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(1.75, abs=1e-6)
    uncapped = solve(tmp_path, inst, with_catalog_change("G", lifetime_quarters=4))
    assert uncapped.summary["objective"] == pytest.approx(1.5, abs=1e-6)


def test_supply_cap_counts_units_of_whole_lots(tmp_path):
    # G comes in lots of 2 units ($1M each, lifetime 1: no residual); supply 3 units a quarter → 1 lot.
    # Demand 3 at a $5M penalty: 1 lot (2 units, $2M) + 1 short ($5M) = 7. Uncapped: 2 lots = 4 units, $4M.
    catalog = with_catalog_change("G", lifetime_quarters=1, lot_size=2)
    inst = base_instance(quarters=1, demand=[3])
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = 5 * PENALTY_USD
    inst["sites"] = [site(mw=10)]
    inst["purchases"] = [{"accelerator": "G", "supply_cap_units": 3}]
    plan = solve(tmp_path, inst, catalog, lp_relaxation=True)
    assert plan.summary["objective"] == pytest.approx(7.0, abs=1e-6)
    assert decisions(plan, "buy") == {("2026Q1", "s1", "G"): 2}  # units, one lot
    # The row caps at the last whole lot (2 units), so even with lots continuous the third unit cannot be
    # bought: the LP relaxation is 7 too (with the cap as given, 1.5 lots = 3 units: $3M).
    assert plan.summary["lp_relaxation"]["objective"] == pytest.approx(7.0, abs=1e-6)
    inst["purchases"] = [{"accelerator": "G"}]
    assert solve(tmp_path, inst, catalog).summary["objective"] == pytest.approx(4.0, abs=1e-6)


def test_existing_units_and_purchases_of_one_accelerator_add_up(tmp_path):
    # One existing G at s1 (installed 2026Q1, lifetime 1) and G on sale there ($1M, no residual). Demand 2
    # at a $5M penalty: the existing unit serves 1, one bought serves the other: 1.0 (2.0 if the existing
    # unit were lost).
    catalog = with_catalog_change("G", lifetime_quarters=1)
    inst = base_instance(quarters=1, demand=[2])
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = 5 * PENALTY_USD
    inst["sites"] = [site(mw=10)]
    inst["existing_fleet"] = [{"site": "s1", "accelerator": "G", "units": 1, "installed": "2026Q1"}]
    inst["purchases"] = [{"accelerator": "G"}]
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(1.0, abs=1e-6)
    assert decisions(plan, "installed") == {("2026Q1", "s1", "G"): 2}


@pytest.mark.parametrize("pue, expected", [(1.0, 0.0), (2.0, 1.0)])
def test_power_needs_kw_times_pue_within_total_power_mw(tmp_path, pue, expected):
    # 1 MW online, G draws 500 kW: at PUE 1 two units fit (demand 2 met); at PUE 2 only one → 1 H100e
    # short × $1M = 1. Chips cost nothing.
    catalog = with_catalog_change("G", power_kw=500)
    inst = base_instance(quarters=1, demand=[2])
    inst["sites"] = [site(mw=1, pue=pue)]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(expected, abs=1e-6)


def test_idle_units_draw_no_power(tmp_path):
    # 1 MW site full with 1 old unit of G (1 H100e). Demand 4: switch G off and power one N (4 H100e,
    # $0.5M, lifetime 1 → no residual). Keeping G would cost 3 H100e short × $1M = 3.
    inst = base_instance(quarters=1, demand=[4])
    inst["sites"] = [site(mw=1)]
    inst["existing_fleet"] = [{"site": "s1", "accelerator": "G", "units": 1, "installed": "2026Q1"}]
    inst["purchases"] = [{"accelerator": "N"}]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(0.5, abs=1e-6)
    assert decisions(plan, "powered") == {("2026Q1", "s1", "N"): 1}


@pytest.mark.parametrize("mw, objective, residual, bought", [
    (1, 1.0, 0.0, {("2026Q1", "s1", "N"): 1, ("2026Q2", "s1", "N"): 1}),
    (2, 0.525, -0.975, {("2026Q1", "s1", "G"): 1, ("2026Q2", "s1", "N"): 1}),
])
def test_a_unit_idle_at_the_horizon_end_earns_no_residual_value(tmp_path, mw, objective, residual, bought):
    # Demand 1 then 4. G: 1 H100e, $1M, life 80 (bought in 2026Q1, book value 1 − 2/80 = 0.975 at the end);
    # N: 4 H100e, $0.5M, life 1 (no book value). Both 1 MW. Q2 needs an N (4 H100e).
    # 1 MW: G and N cannot both run in Q2, so G bought in Q1 is idle at the end and earns nothing:
    # G + N = 1.5, against N + N = 1.0 → N + N. (Crediting the idle G its 0.975 made G + N 0.525.)
    # 2 MW: both run in Q2, G keeps its book value: 1 + 0.5 − 0.975 = 0.525 < 1.0 → G + N.
    inst = base_instance(quarters=2, demand=[1, 4])
    inst["sites"] = [site(mw=mw)]
    inst["purchases"] = [{"accelerator": "G"}, {"accelerator": "N"}]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(objective, abs=1e-6)
    assert plan.summary["costs"]["residual_value"] == pytest.approx(residual, abs=1e-6)
    assert decisions(plan, "buy") == bought


def test_electricity_and_fixed_opex(tmp_path):
    # One existing unit (1000 kW) at PUE 1.5, $100/MWh: 1 MW × 1.5 × 2190 h × $100 = $328,500 = 0.3285 $M.
    # Fixed opex $0.4M per MW-year on 10 MW online: 10 × 0.4 / 4 = 1.0 $M per quarter. Total 1.3285.
    inst = base_instance(quarters=1, demand=[1])
    inst["sites"] = [site(mw=10, pue=1.5, electricity_usd_per_mwh=100, fixed_opex_musd_per_mw_year=0.4)]
    inst["existing_fleet"] = [{"site": "s1", "accelerator": "G", "units": 1, "installed": "2026Q1"}]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(1.3285, abs=1e-6)
    assert plan.summary["costs"]["opex_electricity"] == pytest.approx(0.3285, abs=1e-6)
    assert plan.summary["costs"]["opex_fixed"] == pytest.approx(1.0, abs=1e-6)


# --------------------------------------------------------------------------------------------------- leases
def test_take_or_pay_is_paid_even_when_unused(tmp_path):
    # Existing take-or-pay contract, 5 units at $100/h, 2026Q1–Q2, no demand: 5 × 100 × 2190 × 2 / 1e6
    # = 2.19 $M. A pay-per-use contract beside it costs nothing when unused.
    inst = base_instance(quarters=2, demand=[0, 0])
    inst["existing_contracts"] = [
        contract("top", units=5, price=100, start="2025Q1", end="2026Q2"),
        contract("ppu", units=5, price=100, start="2025Q1", end="2026Q2", take_or_pay=False)]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(2.19, abs=1e-6)


def test_new_take_or_pay_lease_pays_its_whole_term(tmp_path):
    # Demand 10 in Q1 only. A 2-quarter lease of 10 units at $100/h costs 10 × 100 × 2190 × 2 / 1e6 = 4.38,
    # idle Q2 included; renting 10 units at $250/h for Q1 would cost 5.475. The lease wins at 4.38.
    inst = base_instance(quarters=2, demand=[10, 0])
    inst["lease_offers"] = [lease_offer(terms={2: 100}, max_units=10, lot_size=10)]
    inst["rentals"] = [rental(price=250, units=10)]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(4.38, abs=1e-6)


def test_pay_per_use_lease_pays_only_the_units_used(tmp_path):
    # Demand 1. A pay-per-use lease in lots of 10 at 0.5 $M per unit-quarter: one lot signed, 1 unit used →
    # 0.5 (take-or-pay would be 10 × 0.5 = 5, worse than 1 short at $1M).
    inst = base_instance(quarters=1, demand=[1])
    inst["lease_offers"] = [lease_offer(terms={1: usd_per_hour(0.5)}, max_units=10, lot_size=10, take_or_pay=False)]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(0.5, abs=1e-6)
    assert plan.summary["costs"]["lease_new"] == pytest.approx(0.5, abs=1e-6)


def test_lease_minimum_volume_is_semi_continuous(tmp_path):
    # Demand 10. Lease at $100/h needs ≥ 20 units if signed: 20 × 100 × 2190 / 1e6 = 4.38; renting 10 at
    # $150/h costs 3.285 → rent. Without the minimum, leasing 10 would cost 2.19.
    inst = base_instance(quarters=1, demand=[10])
    offer = lease_offer(terms={1: 100}, min_units=20, max_units=30, lot_size=10)
    inst["lease_offers"] = [offer]
    inst["rentals"] = [rental(price=150, units=100)]
    assert solve(tmp_path, inst).summary["objective"] == pytest.approx(3.285, abs=1e-6)
    offer["min_units"] = 0
    assert solve(tmp_path, inst).summary["objective"] == pytest.approx(2.19, abs=1e-6)


def test_term_choice_takes_the_cheaper_total(tmp_path):
    # Demand 10 for 2 quarters. Term 1 at $200/h twice: 2 × 10 × 200 × 2190 / 1e6 = 8.76; term 2 at $150/h:
    # 10 × 150 × 2190 × 2 / 1e6 = 6.57 → the 2-quarter term.
    inst = base_instance(quarters=2, demand=[10, 10])
    inst["lease_offers"] = [lease_offer(terms={1: 200, 2: 150}, max_units=10, lot_size=10, last_start="2026Q2")]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(6.57, abs=1e-6)


def test_one_signing_commits_at_most_max_units_across_its_terms(tmp_path):
    # One quarter, demand 20, no other source. The offer has terms of 1 and 2 quarters at $100/h and a
    # maximum of 10 units per signing. Each term signed at its maximum would serve all 20 for 2 × 10 × 100
    # × 2190 / 1e6 = 4.38 (the 2-quarter term's second quarter is past the horizon); one signing of 10
    # leaves 10 short: 2.19 + 10 × $1M = 12.19.
    inst = base_instance(quarters=1, demand=[20])
    inst["lease_offers"] = [lease_offer(terms={1: 100, 2: 100}, max_units=10, lot_size=10)]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(12.19, abs=1e-6)
    assert sum(decisions(plan, "lease_commit").values()) == 10


@pytest.mark.parametrize("price_kusd, objective, source", [(800, 2.0, "buy"), (1200, 2.5, "lease_commit")])
def test_a_term_past_the_horizon_is_charged_on_the_straight_line_of_an_owned_unit(tmp_path, price_kusd,
                                                                                    objective, source):
    # One quarter, demand 10. G lives 4 quarters: 10 bought at $0.8M cost 8 less a book value of 3/4 × 8 = 6,
    # net 2.0 (at $1.2M: 12 − 9 = 3.0). A 4-quarter lease at $0.25M per unit-quarter signed now pays its
    # quarter inside the horizon, 10 × 0.25 = 2.5. Each pays for its quarter inside the horizon alone: the
    # cheaper of the two per quarter wins, buying at $0.8M, leasing at $1.2M.
    catalog = with_catalog_change("G", lifetime_quarters=4, price={"initial_kusd": price_kusd})
    inst = base_instance(quarters=1, demand=[10])
    inst["sites"] = [site(mw=100)]
    inst["purchases"] = [{"accelerator": "G"}]
    inst["lease_offers"] = [lease_offer(terms={4: usd_per_hour(0.25)}, max_units=10, lot_size=10)]
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(objective, abs=1e-6)
    assert sum(decisions(plan, source).values()) == 10


def test_provider_capacity_counts_existing_contracts(tmp_path):
    # Provider capped at 5 units; an existing contract holds 3 (pay-per-use, $100/h: 0.219 per unit-quarter).
    # Demand 10: contract 3 (0.657) + new lease ≤ 2 units at $100/h (0.438) + 5 rented from another provider
    # at $200/h (2.19). Total 3.285.
    inst = base_instance(quarters=1, demand=[10])
    inst["providers"] = [{"id": "cloud", "capacity_units": 5}, {"id": "other"}]
    inst["existing_contracts"] = [contract(units=3, price=100, start="2026Q1", end="2026Q1", take_or_pay=False)]
    inst["lease_offers"] = [lease_offer(terms={1: 100}, max_units=100, lot_size=1)]
    inst["rentals"] = [rental(price=200, units=100, provider="other")]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(3.285, abs=1e-6)


def test_rentals_do_not_count_against_provider_capacity(tmp_path):
    # 'cloud' may hold 5 units of leases and contracts; its on-demand rental (its own cap, 10 units at
    # $100/h = 0.219 per unit-quarter) is outside that. Demand 10: rent 10 = 2.19. The dear lease
    # ($300/h) only makes the capacity row exist. (Counted against the 5: 5 × 0.219 + 5 short = 6.095.)
    inst = base_instance(quarters=1, demand=[10])
    inst["providers"] = [{"id": "cloud", "capacity_units": 5}]
    inst["lease_offers"] = [lease_offer(terms={1: 300}, max_units=100, lot_size=1)]
    inst["rentals"] = [rental(price=100, units=10)]
    assert solve(tmp_path, inst).summary["objective"] == pytest.approx(2.19, abs=1e-6)


# -------------------------------------------------------------------------------------------------- rentals
def test_rental_availability_cap(tmp_path):
    # Demand 10, only 4 units rentable at $100/h: 4 × 100 × 2190 / 1e6 = 0.876, plus 6 short × $1M = 6.
    inst = base_instance(quarters=1, demand=[10])
    inst["rentals"] = [rental(price=100, units=4)]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(6.876, abs=1e-6)
    assert plan.summary["shortfall_h100e_quarters"] == pytest.approx(6)


# -------------------------------------------------------------------------------------------------- serving
def test_workload_share_cap_and_ineligible_workload(tmp_path):
    # 20 owned units of S may give at most 25 % = 5 units to training: demand 10 → 5 short × $1M.
    # T (inference only, 2 H100e per unit) cannot serve training at all; 3 units cover inference 6.
    inst = base_instance(quarters=1, demand=[10], workloads=("training", "inference"))
    inst["scenarios"][0]["demand"]["inference"] = {"series": [6]}
    inst["sites"] = [site(mw=100)]
    inst["existing_fleet"] = [{"site": "s1", "accelerator": "S", "units": 20, "installed": "2026Q1"}]
    inst["existing_contracts"] = [contract("tpu", units=3, price=0, start="2026Q1", end="2026Q1", accelerator="T")]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(5.0, abs=1e-6)
    served = plan.capacity.set_index(["workload", "source"])["served_h100e"]
    assert served["training", "own:S"] == pytest.approx(5)
    assert ("training", "contract:tpu") not in served.index


# --------------------------------------------------------------------------------------------------- policy
def test_capex_budget(tmp_path):
    # Demand 2, G costs $1M with lifetime 1 (no residual); budget $1M/year → buy 1, and the other H100e
    # is short at the $10M penalty: 1 + 10 = 11. Without the budget both are bought: 2.
    catalog = with_catalog_change("G", lifetime_quarters=1)
    inst = base_instance(quarters=1, demand=[2])
    inst["sites"] = [site(mw=10)]
    inst["purchases"] = [{"accelerator": "G"}]
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = 10e6
    inst["policy"]["capex_budget_musd_per_year"] = 1
    assert solve(tmp_path, inst, catalog).summary["objective"] == pytest.approx(11.0, abs=1e-6)
    inst["policy"]["capex_budget_musd_per_year"] = None
    assert solve(tmp_path, inst, catalog).summary["objective"] == pytest.approx(2.0, abs=1e-6)


def nvidia_capped_rentals(x_units: int) -> dict:
    """Demand 10 in one quarter, served by rentals only: ``g`` (G, nvidia) at $100/h, 100 units, and ``x``
    (X, amd) at $200/h, ``x_units`` units; nvidia may serve at most 50 %."""
    inst = base_instance(quarters=1, demand=[10])
    inst["rentals"] = [rental("g", price=100, units=100), rental("x", price=200, units=x_units, accelerator="X")]
    inst["policy"]["max_vendor_share"] = {"nvidia": 0.5}
    return inst


def test_max_vendor_share(tmp_path):
    # Demand 10 from rentals: G (nvidia) at $100/h, X (amd) at $200/h. Nvidia ≤ 50 %: 5 + 5 units:
    # 5 × 100 × 2190 / 1e6 + 5 × 200 × 2190 / 1e6 = 1.095 + 2.19 = 3.285.
    inst = nvidia_capped_rentals(x_units=100)
    assert solve(tmp_path, inst).summary["objective"] == pytest.approx(3.285, abs=1e-6)


def test_shares_are_of_served_compute_not_of_demand(tmp_path):
    # Demand 10; rentals G (nvidia, $100/h = 0.219) unlimited and X (amd, $200/h = 0.438) only 2 units;
    # nvidia ≤ 50 % of what is served: g ≤ g + x − g → g ≤ x = 2. Served 4, 6 short:
    # 2 × 0.219 + 2 × 0.438 + 6 = 7.314. (As a share of demand, g ≤ 5: 1.095 + 0.876 + 3 short = 4.971.)
    inst = nvidia_capped_rentals(x_units=2)
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(7.314, abs=1e-6)
    assert plan.summary["shortfall_h100e_quarters"] == pytest.approx(6)


def test_max_provider_share(tmp_path):
    # Same prices, the cheap G rental from 'cheap' capped at 30 % of served compute: 3 × 0.219 + 7 × 0.438
    # = 0.657 + 3.066 = 3.723.
    inst = base_instance(quarters=1, demand=[10])
    inst["providers"] = [{"id": "cheap"}, {"id": "dear"}]
    inst["rentals"] = [
        rental("g", price=100, units=100, provider="cheap"),
        rental("x", price=200, units=100, provider="dear")]
    inst["policy"]["max_provider_share"] = {"cheap": 0.3}
    assert solve(tmp_path, inst).summary["objective"] == pytest.approx(3.723, abs=1e-6)


def test_min_owned_share(tmp_path):
    # Demand 10; own G costs $1M (lifetime 1), renting costs 0.219 per unit-quarter. At least 30 % owned:
    # 3 bought (3.0) + 7 rented (1.533) = 4.533.
    catalog = with_catalog_change("G", lifetime_quarters=1)
    inst = base_instance(quarters=1, demand=[10])
    inst["sites"] = [site(mw=100)]
    inst["purchases"] = [{"accelerator": "G"}]
    inst["rentals"] = [rental(price=100, units=100)]
    inst["policy"]["min_owned_share"] = 0.3
    assert solve(tmp_path, inst, catalog).summary["objective"] == pytest.approx(4.533, abs=1e-6)


# ------------------------------------------------------------------------------------------------ scenarios
def hedging_instance() -> dict:
    # Two quarters. G can only be bought in Q1 ($1M, lifetime 2 → no residual); renting in Q2 costs
    # 1.5 $M per unit-quarter (shortfall $10M, never worth it). Demand in Q2 is 10 (base) or 20 (high),
    # each p = 0.5, revealed in Q2.
    inst = base_instance(quarters=2, demand=[0, 10])
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = 10 * PENALTY_USD
    inst["scenarios"] = [
        {"id": "base", "probability": 0.5, "demand": {"training": {"series": [0, 10]}}},
        {"id": "high", "probability": 0.5, "parent": "base", "branch_quarter": "2026Q2",
         "demand": {"training": {"series": [0, 20]}}}]
    inst["sites"] = [site(mw=100)]
    inst["purchases"] = [{"accelerator": "G", "last_quarter": "2026Q1"}]
    inst["rentals"] = [rental(price=usd_per_hour(1.5), units=100)]
    return inst


def test_non_anticipativity_makes_the_first_stage_decision_common(tmp_path):
    # One Q1 purchase x for both scenarios: cost x + 0.5 × 1.5 × (10 − x)⁺ + 0.5 × 1.5 × (20 − x)⁺.
    # Slope −0.5 below 10, +0.25 between 10 and 20 → x = 10, cost 10 + 0.75 × 10 = 17.5.
    # (Perfect foresight would buy 10 or 20: expected 15.)
    catalog = with_catalog_change("G", lifetime_quarters=2)
    plan = solve(tmp_path, hedging_instance(), catalog)
    assert plan.summary["objective"] == pytest.approx(17.5, abs=1e-6)
    assert decisions(plan, "buy", "base") == decisions(plan, "buy", "high") == {("2026Q1", "s1", "G"): 10}
    assert decisions(plan, "rental", "high") == {("2026Q2", "", "r"): 10}
    assert decisions(plan, "rental", "base") == {}


def test_discounting_uses_the_quarter_of_each_cost(tmp_path):
    # 8 % a year: a $2.19M contract quarter in 2027Q1 (4 quarters in) is worth 2.19 / 1.08 today.
    inst = base_instance(quarters=5, demand=[0] * 5)
    inst["horizon"]["discount_rate"] = 0.08
    inst["existing_contracts"] = [contract(units=10, price=100, start="2027Q1", end="2027Q1")]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(2.19 / 1.08, abs=1e-6)


def test_residual_value_is_discounted_from_the_horizon_end(tmp_path):
    # 4 quarters at 8 %/yr. G ($1M, lifetime 8) bought in 2026Q1 (undiscounted) serves demand 1 throughout;
    # 4 of its 8 quarters remain at the end of 2026Q4 → book value 0.5, credited at δ_T = 1.08^(−4/4):
    # 1 − 0.5 / 1.08 = 0.537037. (Undiscounted credit: 0.5.)
    catalog = with_catalog_change("G", lifetime_quarters=8)
    inst = base_instance(quarters=4, demand=[1, 1, 1, 1])
    inst["horizon"]["discount_rate"] = 0.08
    inst["sites"] = [site(mw=10)]
    inst["purchases"] = [{"accelerator": "G"}]
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(1 - 0.5 / 1.08, abs=1e-6)


def test_shortfall_penalty_per_workload(tmp_path):
    # Nothing to serve with: 2 training short at $1M and 3 inference short at $2M: 2 + 6 = 8.
    inst = base_instance(quarters=1, demand=[2], workloads=("training", "inference"))
    inst["scenarios"][0]["demand"]["inference"] = {"series": [3]}
    inst["rentals"] = [rental(price=0, units=0)]
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = {"training": PENALTY_USD,
                                                                 "inference": 2 * PENALTY_USD}
    assert solve(tmp_path, inst).summary["objective"] == pytest.approx(8.0, abs=1e-6)


# ------------------------------------------------------------------------------------------ infeasibility
def test_infeasible_instance_names_what_had_to_give(tmp_path):
    # An existing contract of 8 units with a provider capped at 5: no plan satisfies the cap. The elastic
    # re-solve relaxes provider_capacity by exactly 3 units.
    inst = base_instance(quarters=1, demand=[1])
    inst["providers"] = [{"id": "cloud", "capacity_units": 5}]
    inst["existing_contracts"] = [contract(units=8, price=1, start="2026Q1", end="2026Q1")]
    plan = procure.solve(load(tmp_path, inst))
    assert plan.status == "infeasible"
    assert plan.summary["relaxed"] == [{"constraint": "provider_capacity", "index": ["cloud", "base@2026Q1"],
                                        "amount": 3.0, "unit": "units"}]


def test_committed_capex_over_budget_is_infeasible(tmp_path):
    # Two committed 1-MW blocks at $3M/MW = $6M in 2026 against a $5M budget: budget gives by $1M.
    inst = base_instance(quarters=2, demand=[0, 0])
    inst["sites"] = [site(expansion={"block_mw": 1, "max_blocks": 2, "lead_quarters": 1, "capex_musd_per_mw": 3,
                                     "committed_starts": {"2026Q1": 2}})]
    inst["rentals"] = [rental(price=1, units=1)]
    inst["policy"]["capex_budget_musd_per_year"] = 5
    plan = procure.solve(load(tmp_path, inst))
    assert plan.status == "infeasible"
    assert [(r["constraint"], r["amount"]) for r in plan.summary["relaxed"]] == [("budget", 1.0)]


# ---------------------------------------------------------------------------------------- quantity scale
def test_quantity_columns_count_thousands_and_rows_stay_in_natural_units(tmp_path):
    # procure.model.units: powered, alloc and shortfall are columns in thousands, every row and cost takes
    # them × 1,000. One quarter, demand 2,500 H100e; 2,000 existing G (1 H100e, 1 MW each) on a 2,000 MW site
    # at PUE 1 and $100/MWh: 2,000 powered → 2,000 MW × 2190 h × $100 = 438 $M; the other 500 H100e are short
    # at the $1M penalty (500 $M). The plan reports units; the columns hold 2.0, 2.0 and 0.5.
    import pyomo.environ as pyo
    from pyomo.repn import generate_standard_repn

    from procure.model.units import QUANTITY_SCALE

    inst = base_instance(quarters=1, demand=[2500])
    inst["sites"] = [site(mw=2000, electricity_usd_per_mwh=100)]
    inst["existing_fleet"] = [{"site": "s1", "accelerator": "G", "units": 2000, "installed": "2026Q1"}]
    plan = solve(tmp_path, inst, keep_model=True)
    assert plan.summary["objective"] == pytest.approx(438 + 500, abs=1e-6)
    assert decisions(plan, "powered") == {("2026Q1", "s1", "G"): 2000}
    m, n = plan.model, ("base", 0)
    assert QUANTITY_SCALE == 1000
    assert pyo.value(m.powered["G", "s1", *n]) == pytest.approx(2.0, abs=1e-9)
    assert pyo.value(m.shortfall["training", *n]) == pytest.approx(0.5, abs=1e-9)
    assert sum(pyo.value(v) for v in m.alloc.values()) == pytest.approx(2.0, abs=1e-9)
    row = generate_standard_repn(m.meet_demand["training", *n].body)
    assert dict(zip((v.name for v in row.linear_vars), row.linear_coefs))[m.shortfall["training", *n].name] == 1000
    assert pyo.value(m.meet_demand["training", *n].upper) == pytest.approx(2500)  # H100e, not thousands
    assert plan.capacity.query("source == 'total'")["shortfall_h100e"].tolist() == pytest.approx([500])


def test_solver_noise_on_a_quantity_column_reads_as_zero():
    # A column in thousands within HiGHS's feasibility tolerance (1e-7) of 0 would read as 1e-4 units:
    # natural() reads it as 0, and anything beyond the tolerance as value × 1,000.
    import pyomo.environ as pyo

    from procure.model.units import natural

    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=-5e-8)
    assert natural(m.x) == 0.0
    m.x.set_value(1e-7)
    assert natural(m.x) == 0.0
    m.x.set_value(2e-3)
    assert natural(m.x) == pytest.approx(2.0)
    m.y = pyo.Var()
    assert natural(m.y) == 0.0
