"""Baselines: restrictions of the same model, priced by the same objective, never below the optimum.

Units: $M. A price ``p`` $M per unit-quarter is ``usd_per_hour(p)`` $/unit-hour (helpers.py).
"""

from __future__ import annotations

import pytest

import procure
from helpers import base_instance, load, usd_per_hour
from procure.analysis.baselines import run_baselines

TOL = 1e-6


def by_name(frame):
    return frame.set_index("baseline")


def test_tiny_json_baselines_by_hand(root):
    # instances/tiny.json (its description derives the optimum, 26.24704):
    # lease-only: no purchases; the 1,000-unit lease ($14.016M) and 2,000 on-demand units ($6,570 each per
    #   quarter: 4 × 2,000 × 6,570 = $52.56M) leave 600, 600, 1,000, 1,000 H100e short at $20,000: $64M.
    #   Total 130.576.
    # build-only: the 2,560 own H100 (capex 14.08 − residual 11.52 + electricity 3.36384) and 1,040, 1,040,
    #   1,440, 1,440 H100e short ($20,000 × 4,960 = $99.2M): 105.12384.
    # greedy-myopic: a purchase's quarterly depreciation ($250) plus electricity ($328.50) beats the lease's
    #   quarterly $3,504 and the rental's $6,570, so quarter by quarter it makes the optimal plan: 26.24704.
    plan = procure.solve(root / "instances" / "tiny.json", keep_model=True)
    table = by_name(run_baselines(plan, time_budget=60))
    assert table.loc["optimum", "objective_musd"] == pytest.approx(26.24704, abs=TOL)
    assert table.loc["lease_only", "objective_musd"] == pytest.approx(130.576, abs=TOL)
    assert table.loc["lease_only", "shortfall_h100e_quarters"] == pytest.approx(3200, abs=TOL)
    assert table.loc["lease_only", "short_where"] == "rental availability"  # the 2,000 on-demand units
    assert table.loc["build_only", "short_where"] == "site power"  # the 2,560 H100 fill the 3.84 MW site
    assert table.loc["build_only", "objective_musd"] == pytest.approx(105.12384, abs=TOL)
    assert table.loc["greedy_myopic", "objective_musd"] == pytest.approx(26.24704, abs=TOL)
    # Both restricted baselines leave demand unserved that the optimum serves: no percentage above the optimum
    # (most of it would be the penalty); their cost without the shortfall penalty instead:
    # lease-only 130.576 − 64 = 66.576, build-only 105.12384 − 99.2 = 5.92384.
    for name, cost in (("lease_only", 66.576), ("build_only", 5.92384)):
        assert not table.loc[name, "equal_service"]
        assert table.loc[name, "pct_above_optimum"] is None or table.loc[name, "pct_above_optimum"] != \
            table.loc[name, "pct_above_optimum"]
        assert table.loc[name, "cost_without_shortfall_musd"] == pytest.approx(cost, abs=TOL)
    assert table.loc["greedy_myopic", "equal_service"]
    assert table.loc["greedy_myopic", "pct_above_optimum"] == pytest.approx(0.0, abs=1e-6)
    assert table.loc["optimum", "cost_without_shortfall_musd"] == pytest.approx(26.24704, abs=TOL)
    assert (table["objective_musd"] >= table.loc["optimum", "objective_musd"] - TOL).all()
    # the solved model is left as it was
    assert plan.model.objective.expr() == pytest.approx(26.24704, abs=TOL)


def test_small_json_baselines_are_never_below_the_optimum(root):
    # Time-limited: a baseline's incumbent is at least its own optimum, which is at least the optimum of the
    # unrestricted problem, which is at least the solver's bound.
    plan = procure.solve(root / "instances" / "small.json", keep_model=True, time_limit=10, gap=1e-2)
    assert plan.summary["has_plan"]
    bound = plan.summary["bound"]
    table = by_name(run_baselines(plan, time_budget=20, time_limit=8))
    assert list(table.index) == ["optimum", "lease_only", "build_only", "greedy_myopic"]
    found = table[table["status"].isin(["optimal", "feasible"])]
    assert len(found) >= 3
    assert (found["objective_musd"] >= bound - 1e-6 * abs(bound)).all()


def test_myopic_signs_the_cheap_long_lease_it_will_regret(tmp_path):
    # Demand 10 then 0. Renting costs $0.01M per unit-quarter; a two-quarter take-or-pay lease $0.006M.
    # Optimum: rent in 2026Q1 only: 0.1. The myopic planner sees only 2026Q1's bill (lease 0.06 < rental
    # 0.1), signs the lease and pays its second quarter too: 10 × 0.006 × 2 = 0.12, 20 % above the optimum.
    inst = base_instance(quarters=2, demand=[10, 0])
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "G",
                        "price_usd_per_unit_hour": usd_per_hour(0.01), "available_units": 100}]
    inst["lease_offers"] = [{"id": "l", "provider": "cloud", "accelerator": "G", "first_start": "2026Q1",
                             "last_start": "2026Q2", "terms": [{"quarters": 2,
                                                                "price_usd_per_unit_hour": usd_per_hour(0.006)}],
                             "max_units": 100, "lot_size": 1}]
    plan = procure.solve(load(tmp_path, inst), keep_model=True)
    table = by_name(run_baselines(plan, time_budget=30))
    assert table.loc["optimum", "objective_musd"] == pytest.approx(0.1, abs=TOL)
    assert table.loc["greedy_myopic", "objective_musd"] == pytest.approx(0.12, abs=TOL)
    assert table.loc["greedy_myopic", "pct_above_optimum"] == pytest.approx(20.0, abs=1e-6)
    assert table.loc["lease_only", "objective_musd"] == pytest.approx(0.1, abs=TOL)  # nothing to buy or build
    assert table.loc["build_only", "objective_musd"] == pytest.approx(10.0, abs=TOL)  # all short at $1M
    assert not table.loc["build_only", "equal_service"]  # so no percentage: 10 short H100e-quarters instead
    assert table.loc["build_only", "shortfall_h100e_quarters"] == pytest.approx(10.0, abs=TOL)


def test_myopic_never_starts_a_block(tmp_path):
    # Demand 1 for 3 quarters. A free 1-MW block started in 2026Q1 powers a free G from 2026Q2 (lead 1);
    # until then, and for the myopic planner throughout, demand is rented at $0.01M per quarter.
    # Optimum 0.01 (rent 2026Q1 only); myopic 0.03.
    inst = base_instance(quarters=3, demand=[1, 1, 1])
    inst["sites"] = [{"id": "s1", "pue": 1.0, "electricity_usd_per_mwh": 0.0, "power_online_mw": 0,
                      "expansion": {"block_mw": 1, "max_blocks": 1, "lead_quarters": 1, "capex_musd_per_mw": 0}}]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "G",
                        "price_usd_per_unit_hour": usd_per_hour(0.01), "available_units": 100}]
    plan = procure.solve(load(tmp_path, inst), keep_model=True)
    table = by_name(run_baselines(plan, time_budget=30))
    assert table.loc["optimum", "objective_musd"] == pytest.approx(0.01, abs=1e-5)
    assert table.loc["greedy_myopic", "objective_musd"] == pytest.approx(0.03, abs=1e-5)
    assert table.loc["lease_only", "objective_musd"] == pytest.approx(0.03, abs=1e-5)
