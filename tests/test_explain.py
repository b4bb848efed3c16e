"""Explanation on tiny instances whose duals, shadow prices, break-even prices, VSS and EVPI are computed by
hand in each test.

Units: $M in the model; a price ``p`` $M per unit-quarter is ``usd_per_hour(p)`` $/unit-hour (helpers.py).
Unit G is 1 H100e and 1 MW at PUE 1; the shortfall penalty is $1M per H100e-quarter unless a test says so.
"""

from __future__ import annotations

import pytest
import pyomo.environ as pyo

import procure
from helpers import base_instance, load, site, usd_per_hour, with_catalog_change
from procure.analysis.break_even import break_even
from procure.analysis.explain import explain
from procure.analysis.marginal_costs import marginal_costs
from procure.analysis.stochastic import stochastic_value
from procure.analysis.text import quarters_text
from procure.solving.clock import Clock
from procure.solving.fixed_lp import solve_fixed_lp
from procure.solving.solve import SolveOptions


def solve(tmp_path, instance, catalog=None):
    plan = procure.solve(load(tmp_path, instance, catalog), keep_model=True)
    assert plan.status == "optimal", plan.summary
    return plan


def rental(rid: str, musd_per_unit_quarter: float, cap: float, accelerator: str = "G") -> dict:
    return {"id": rid, "provider": "cloud", "accelerator": accelerator,
            "price_usd_per_unit_hour": usd_per_hour(musd_per_unit_quarter), "available_units": cap}


def two_scenarios(inst: dict, base: list[float], high: list[float], p_high: float = 0.4) -> dict:
    inst["scenarios"] = [
        {"id": "base", "probability": 1 - p_high, "demand": {"training": {"series": base}}},
        {"id": "high", "probability": p_high, "parent": "base", "branch_quarter": "2026Q2",
         "demand": {"training": {"series": high}}}]
    return inst


# ------------------------------------------------------------------------------------------- marginal costs
def test_marginal_cost_is_the_undiscounted_price_of_the_next_h100e(tmp_path):
    # Two quarters, 8 %/yr discount, scenarios base (p 0.6) and high (p 0.4) branching in 2026Q2.
    # A rental at $0.01M per unit-quarter (cap 10 units) serves demand 5 in base; in high 2026Q2 demand 20
    # exceeds the cap, so the next H100e there is shortfall at the $1M penalty.
    # Raw duals are weighted by p_n·δ_t: 2026Q1 (shared, p 1, δ 1): 0.01; base 2026Q2: 0.6·δ·0.01;
    # high 2026Q2: 0.4·δ·1 with δ = 1.08^(−1/4). Divided by p_n·δ_t they give $10,000 and $1,000,000.
    inst = two_scenarios(base_instance(quarters=2), [5, 5], [5, 20])
    inst["horizon"]["discount_rate"] = 0.08
    inst["rentals"] = [rental("r", 0.01, 10)]
    plan = solve(tmp_path, inst)
    e = explain(plan, time_budget=30)
    mc = e.marginal_costs.set_index(["scenario", "quarter"])
    delta = 1.08 ** -0.25
    assert mc.loc[("base", "2026Q1"), "marginal_usd_per_h100e_quarter"] == pytest.approx(10_000, rel=1e-6)
    assert mc.loc[("high", "2026Q1"), "marginal_usd_per_h100e_quarter"] == pytest.approx(10_000, rel=1e-6)
    assert mc.loc[("base", "2026Q2"), "marginal_usd_per_h100e_quarter"] == pytest.approx(10_000, rel=1e-6)
    assert mc.loc[("high", "2026Q2"), "marginal_usd_per_h100e_quarter"] == pytest.approx(1_000_000, rel=1e-6)
    assert mc.loc[("base", "2026Q1"), "node_dual_musd"] == pytest.approx(0.01, rel=1e-6)
    assert mc.loc[("base", "2026Q2"), "node_dual_musd"] == pytest.approx(0.6 * delta * 0.01, rel=1e-6)
    assert mc.loc[("high", "2026Q2"), "node_dual_musd"] == pytest.approx(0.4 * delta * 1.0, rel=1e-6)


def test_marginal_cost_on_tiny_json_is_the_on_demand_rate(root):
    # instances/tiny.json: own H100s fill the site and the lease is fully used, so the next H100e in every
    # quarter is an on-demand H100 at $3.00/h × 2,190 h = $6,570.
    plan = procure.solve(root / "instances" / "tiny.json", keep_model=True)
    lp = solve_fixed_lp(plan.model)
    mc = marginal_costs(plan.model, plan.data, lp)
    assert list(mc["marginal_usd_per_h100e_quarter"]) == pytest.approx([6570.0] * 4, rel=1e-9)


@pytest.mark.parametrize("policy, expected", [
    # rentals G (nvidia, $0.1M) and X (amd, $0.3M) per unit-quarter, demand 10, nvidia ≤ 50 % of served:
    # 5 G + 5 X = 2.0; at demand 11, 5.5 + 5.5 = 2.2 → the next H100e costs $200,000, not X's $300,000
    ({"max_vendor_share": {"nvidia": 0.5}}, 200_000),
    # the same through a provider cap: G from 'cheap' ≤ 50 % → again half G, half X: $200,000
    ({"max_provider_share": {"cheap": 0.5}}, 200_000),
    # at least 40 % from X... as "owned" it would need a purchase; instead: no policy, G alone: $100,000
    ({}, 100_000),
])
def test_marginal_cost_counts_the_share_rows_demand_moves(tmp_path, policy, expected):
    inst = base_instance(quarters=1, demand=[10])
    inst["providers"] = [{"id": "cloud"}, {"id": "cheap"}]
    inst["rentals"] = [dict(rental("g", 0.1, 100), provider="cheap"), rental("x", 0.3, 100, accelerator="X")]
    inst["policy"].update(policy)
    plan = solve(tmp_path, inst)
    mc = marginal_costs(plan.model, plan.data, solve_fixed_lp(plan.model))
    assert mc["marginal_usd_per_h100e_quarter"].iloc[0] == pytest.approx(expected, rel=1e-6)


def test_marginal_cost_with_a_minimum_owned_share(tmp_path):
    # 10 owned G (existing, free) and demand 20 rented at $0.1M; at least 40 % owned: 10 ≥ 0.4 × 20 binds
    # only above 25. Demand 30: 10 owned ≥ 12 fails → 2 H100e short at $1M so that 10 ≥ 0.4 × (30 − s):
    # s = 5 → served 25 (10 owned + 15 rented). One more H100e of demand: s rises by 1 again (the floor),
    # so the next H100e costs the penalty: $1,000,000 (0 rented more).
    inst = base_instance(quarters=1, demand=[30])
    inst["sites"] = [site(mw=100)]
    inst["existing_fleet"] = [{"site": "s1", "accelerator": "G", "units": 10, "installed": "2026Q1"}]
    inst["rentals"] = [rental("r", 0.1, 100)]
    inst["policy"]["min_owned_share"] = 0.4
    plan = solve(tmp_path, inst)
    assert plan.summary["shortfall_h100e_quarters"] == pytest.approx(5)
    mc = marginal_costs(plan.model, plan.data, solve_fixed_lp(plan.model))
    assert mc["marginal_usd_per_h100e_quarter"].iloc[0] == pytest.approx(1_000_000, rel=1e-6)


def test_fixed_lp_leaves_the_model_as_it_found_it(root):
    plan = procure.solve(root / "instances" / "tiny.json", keep_model=True)
    m = plan.model
    before = {v.name: (v.value, v.fixed, v.domain) for v in m.component_data_objects(pyo.Var)}
    active = {c.name: c.active for c in m.component_data_objects(pyo.Constraint)}
    solve_fixed_lp(m)
    solve_fixed_lp(m, free=("buy", "lots_to_date"))
    assert {v.name: (v.value, v.fixed, v.domain) for v in m.component_data_objects(pyo.Var)} == before
    assert {c.name: c.active for c in m.component_data_objects(pyo.Constraint)} == active


# ------------------------------------------------------------------------------------------- binding limits
def test_power_binds_and_one_more_mw_saves_the_rental_it_replaces(tmp_path):
    # One quarter, demand 3. The site has 1 MW: one unit of G (bought for ~nothing) is powered; the other
    # two H100e are rented at $0.01M. One more MW powers one more (free) G and saves one rental: $0.01M.
    inst = base_instance(quarters=1, demand=[3])
    inst["sites"] = [site(mw=1)]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    inst["rentals"] = [rental("r", 0.01, 100)]
    plan = solve(tmp_path, inst)
    e = explain(plan, names={"s1": "Alpha"}, time_budget=30)
    power = e.binding[e.binding["family"] == "power"]
    assert len(power) == 1
    assert power["shadow_musd"].iloc[0] == pytest.approx(0.01, rel=1e-4)
    assert power["sentence"].iloc[0] == "Alpha power (2026Q1) binds: one more MW would save up to $10.0 k"
    assert e.limits[0]["family"] == "power"


def test_budget_binds_at_the_rental_premium_per_dollar(tmp_path):
    # One quarter, demand 5; G costs $1M and lives one quarter (no residual value); renting costs $1.5M per
    # unit-quarter (the shortfall penalty is raised to $10M so nothing goes short). The $2M capex budget
    # buys 2 units, 3 are rented. One more $1 of budget buys 1/1M of a unit and saves 1.5 − 1 = $0.50.
    catalog = with_catalog_change("G", lifetime_quarters=1)
    inst = base_instance(quarters=1, demand=[5])
    inst["sites"] = [site(mw=10)]
    inst["purchases"] = [{"accelerator": "G"}]
    inst["rentals"] = [rental("r", 1.5, 100)]
    inst["policy"]["capex_budget_musd_per_year"] = 2.0
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = 10e6
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(2 + 3 * 1.5, abs=1e-6)
    e = explain(plan, time_budget=30)
    budget = e.binding[e.binding["family"] == "budget"]
    assert budget["shadow_musd"].iloc[0] == pytest.approx(0.5, rel=1e-4)
    assert budget["sentence"].iloc[0].endswith("each extra $1 of capex budget would save up to $0.50")


def test_provider_capacity_value_is_estimated_from_the_blocked_lease(tmp_path):
    # One quarter, demand 10. A one-quarter lease of G at $0.002M per unit-quarter is capped by the
    # provider's 4 units; the rest is rented at $0.01M. One more unit of capacity would lease one more unit
    # instead of renting it: 0.01 − 0.002 = $0.008M (an upper estimate: the row holds integer lots only).
    inst = base_instance(quarters=1, demand=[10])
    inst["providers"] = [{"id": "cloud", "capacity_units": 4}]
    inst["lease_offers"] = [{"id": "l", "provider": "cloud", "accelerator": "G", "first_start": "2026Q1",
                             "last_start": "2026Q1", "terms": [{"quarters": 1,
                                                                "price_usd_per_unit_hour": usd_per_hour(0.002)}],
                             "max_units": 100, "lot_size": 1}]
    inst["rentals"] = [{**rental("r", 0.01, 100), "provider": "other"}]
    inst["providers"].append({"id": "other"})
    plan = solve(tmp_path, inst)
    e = explain(plan, time_budget=30)
    cap = e.binding[e.binding["family"] == "provider_capacity"]
    assert len(cap) == 1
    assert cap["shadow_musd"].iloc[0] == pytest.approx(0.008, rel=1e-4)
    assert cap["estimate"].iloc[0] == "upper estimate"
    assert "would save up to $8.0 k" in cap["sentence"].iloc[0]


def test_quarter_ranges_are_compressed():
    quarters = ("2026Q1", "2026Q2", "2026Q3", "2026Q4", "2027Q1")
    assert quarters_text(["2026Q1", "2026Q2", "2026Q3", "2027Q1"], quarters) == "2026Q1–2026Q3, 2027Q1"


# ------------------------------------------------------------------------------------------ break-even prices
def test_unused_rental_enters_at_half_its_price(tmp_path):
    # One quarter, demand 10, two rentals of the same chip: A at $0.01M, B at $0.02M (unused). B enters once
    # its price drops below A's: at 0.5× today's price.
    inst = base_instance(quarters=1, demand=[10])
    inst["rentals"] = [rental("a", 0.01, 100), rental("b", 0.02, 100)]
    plan = solve(tmp_path, inst)
    be = break_even(plan.model, plan.data, SolveOptions(), Clock(60), steps=8)
    row = be.set_index("option").loc["rental:b"]
    assert row["usage"] == "unused" and row["direction"] == "enters below"
    assert row["low_scale"] <= 0.5 <= row["high_scale"]
    assert row["high_scale"] - row["low_scale"] < 0.01


def test_a_rental_at_its_cap_stays_worth_it_up_to_the_next_source(tmp_path):
    # One quarter, demand 10: rental A ($0.01M per unit-quarter, 4 units) is used to its cap, B ($0.03M) serves
    # the other 6. A's source_limit row binds with dual y = 0.01 − 0.03 = −0.02 per unit, so A stays worth its
    # price up to 1 − y / c = 1 + 0.02 / 0.01 = 3× (B's price). The alloc column counts thousands of units
    # (procure.model.units): its price coefficient is 1,000 × 0.01, and the estimate must not change with that.
    inst = base_instance(quarters=1, demand=[10])
    inst["rentals"] = [rental("a", 0.01, 4), rental("b", 0.03, 100)]
    plan = solve(tmp_path, inst)
    assert plan.summary["objective"] == pytest.approx(4 * 0.01 + 6 * 0.03, rel=1e-9)
    be = break_even(plan.model, plan.data, SolveOptions(), Clock(60), lp=solve_fixed_lp(plan.model), steps=8)
    row = be.set_index("option").loc["rental:a"]
    assert row["local_estimate"] == pytest.approx(3.0, rel=1e-6)
    assert row["low_scale"] - 1e-9 <= 3.0 <= row["high_scale"] + 1e-9  # the probes agree (a tie at 3×)


def test_an_unused_purchase_has_no_impossible_local_estimate(tmp_path):
    # Demand 5 for 4 quarters; G ($1M, 4-quarter life: no residual at the end) can be bought in 2026Q1 only;
    # renting costs $0.2M per unit-quarter, 0.8 per unit over the horizon → buying enters below 0.8×.
    # The LP's reduced costs are degenerate here (buy's is 0, giving "1.0×"): an unused option cannot
    # enter at or above today's price, so such an estimate is dropped rather than shown or probed.
    inst = base_instance(quarters=4, demand=[5, 5, 5, 5])
    inst["sites"] = [site(mw=10)]
    inst["purchases"] = [{"accelerator": "G", "last_quarter": "2026Q1"}]
    inst["rentals"] = [rental("r", 0.2, 100)]
    plan = solve(tmp_path, inst, with_catalog_change("G", lifetime_quarters=4))
    be = break_even(plan.model, plan.data, SolveOptions(), Clock(60), lp=solve_fixed_lp(plan.model), steps=8)
    row = be.set_index("option").loc["buy:G"]
    assert row["usage"] == "unused" and row["low_scale"] <= 0.8 <= row["high_scale"]
    assert row["local_estimate"] is None or not row["local_estimate"] >= 1.0


@pytest.mark.parametrize("mode", ["full", "restricted"])
def test_tiny_json_lease_leaves_the_plan_at_1_875_times_its_price(root, mode):
    # instances/tiny.json: the 1,000-unit lease costs 4 × $3,504 = $14,016 per unit for the year and
    # replaces 4 quarters of on-demand H100 at $6,570: it leaves the plan above 26,280 / 14,016 = 1.875×
    # (with the purchases held, as in the restricted search, or not: owning stays cheaper either way).
    plan = procure.solve(root / "instances" / "tiny.json", keep_model=True)
    e = explain(plan, time_budget=60, break_even_steps=7, break_even_mode=mode)
    row = e.break_even.set_index("option").loc["lease:lease_h100"]
    assert row["usage"] == "at_bound" and row["direction"] == "leaves above"
    assert row["low_scale"] <= 1.875 <= row["high_scale"]
    assert row["high_scale"] - row["low_scale"] < 0.03
    assert row["local_estimate"] == pytest.approx(1.875, rel=1e-6)
    assert row["mode"] == mode


# -------------------------------------------------------------------------------------------------- VSS / EVPI
def test_vss_and_evpi_of_a_newsvendor(tmp_path):
    # Buy G in 2026Q1 only ($1M, lives 2 quarters: no residual at the end of the 2-quarter horizon); demand
    # is 0 in 2026Q1 and 0 or 20 (p ½ each) in 2026Q2; unmet demand costs $3M per H100e-quarter.
    # Buying x ≤ 20 costs x + 3 · ½ · (20 − x) = 30 − x/2: the stochastic optimum buys 20, RP = 20.
    # The expected-value problem sees demand 10 and buys 10; with that first stage, EEV = 10 + 1.5 · 10 = 25,
    # so VSS = 5. Wait-and-see: 0 (low) and 20 (high), WS = 10, EVPI = 20 − 10 = 10.
    catalog = with_catalog_change("G", lifetime_quarters=2)
    inst = two_scenarios(base_instance(quarters=2), [0, 0], [0, 20], p_high=0.5)
    inst["sites"] = [site(mw=100)]
    inst["purchases"] = [{"accelerator": "G", "last_quarter": "2026Q1"}]
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = 3e6
    plan = solve(tmp_path, inst, catalog)
    assert plan.summary["objective"] == pytest.approx(20, abs=1e-6)
    rp = {"objective": plan.summary["objective"], "bound": plan.summary["bound"]}
    st = stochastic_value(plan.model, plan.data, rp, SolveOptions(), Clock(60))
    assert st["first_stage_quarters"] == ["2026Q1"]
    assert st["ev"]["objective"] == pytest.approx(10 + 0, abs=1e-6)
    assert st["eev"]["objective"] == pytest.approx(25, abs=1e-6)
    assert st["vss_musd"] == pytest.approx(5, abs=1e-6)
    assert st["ws_musd"] == pytest.approx(10, abs=1e-6)
    assert st["evpi_musd"] == pytest.approx(10, abs=1e-6)
    assert st["exact"]
    assert plan.summary["objective"] == pytest.approx(20, abs=1e-6)  # the stochastic plan is untouched


def test_one_scenario_has_no_vss(root):
    plan = procure.solve(root / "instances" / "tiny.json", keep_model=True)
    st = stochastic_value(plan.model, plan.data, {"objective": 1.0}, SolveOptions(), Clock(10))
    assert not st["applicable"]


def test_grouped_limits_say_where_and_in_which_scenarios():
    from types import SimpleNamespace

    import pandas as pd

    from procure.analysis.binding import BINDING_COLUMNS, limit_groups

    d = SimpleNamespace(SCENARIOS=("base", "fast"), QUARTERS=("2026Q1", "2026Q2", "2026Q3", "2026Q4"))
    rows = [("vendor_share", "nvidia", "The nvidia share cap (85%)", q, sc, v, "one more percentage point", 0.0, v,
             "dual", "") for q, sc, v in (("2026Q1", "", 1.0), ("2026Q2", "", 2.0), ("2026Q4", "fast", 0.5))]
    rows.append(("power", "a", "Alpha power", "2026Q3", "", 0.25, "one more MW", 0.0, 3.0, "dual", "one row"))
    groups = limit_groups(pd.DataFrame(rows, columns=BINDING_COLUMNS), d)
    assert [g["family"] for g in groups] == ["vendor_share", "power"]  # 3.5 vs 3.0 for 1 % (one point) more
    assert groups[0]["sentence"] == ("The nvidia share cap (85%) binds in 2026Q1–2026Q2; 2026Q4 in fast: one more "
                                     "percentage point in each of those quarters would save up to $3.5 M")
    assert groups[0]["relax"] == "one point more"
    assert groups[1]["sentence"] == "one row"
