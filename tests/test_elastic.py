"""An infeasible instance names exactly what has to give (procure.solving.elastic), at any gap.

Two known causes, one quarter apart:

* budget: two committed 1-MW blocks at $3M/MW = $6M of capex in 2026 against a $5M budget → $1M;
* provider capacity: an existing contract of 1,005 units with a provider capped at 5 → 1,000 units in each
  of 2026Q1 and 2026Q2.

The least total violation is 1 + 2 × 1,000 = 2,001 (each row's unit, as the penalty weighs them); penalised
at 1e5 $M per unit the one-shot objective was about 2e8 $M, on which a relative gap of 1e-4 is 2e4 $M of
room for slack that is not needed.
"""

from __future__ import annotations

import pytest

import procure
from helpers import base_instance, load, site


def two_causes() -> dict:
    inst = base_instance(quarters=2, demand=[2, 2])
    inst["sites"] = [site(mw=5, expansion={"block_mw": 1, "max_blocks": 2, "lead_quarters": 1,
                                           "capex_musd_per_mw": 3, "committed_starts": {"2026Q1": 2}})]
    inst["providers"] = [{"id": "cloud", "capacity_units": 5}]
    inst["existing_contracts"] = [{"id": "c", "provider": "cloud", "accelerator": "G", "start": "2026Q1",
                                   "end": "2026Q2", "units": 1005, "price_usd_per_unit_hour": 0}]
    inst["policy"]["capex_budget_musd_per_year"] = 5
    return inst


def causes(plan) -> list[tuple]:
    return sorted((r["constraint"], tuple(r["index"]), r["amount"]) for r in plan.summary["relaxed"])


@pytest.mark.parametrize("gap", [1e-4, 1e-2])
def test_the_causes_named_are_exact_at_any_gap(tmp_path, gap):
    plan = procure.solve(load(tmp_path, two_causes()), gap=gap)
    # no plan of the instance (exit 1), and the relaxed plan's tables show what had to give
    assert plan.status == "infeasible" and not plan.summary["has_plan"] and plan.summary["has_relaxed_plan"]
    assert len(plan.plan) > 0
    assert causes(plan) == [("budget", ("base", "2026"), 1.0),
                            ("provider_capacity", ("cloud", "base@2026Q1"), 1000.0),
                            ("provider_capacity", ("cloud", "base@2026Q2"), 1000.0)]
    exact = procure.solve(load(tmp_path, two_causes()), gap=1e-9)
    assert causes(plan) == causes(exact)


def test_the_elastic_objective_is_the_cost_without_the_penalty(tmp_path):
    # the contract (at $0/h) serves the demand; the blocks' $6M of capex, online from 2026Q2, serve 1 of
    # their 80 quarters of facility life inside the horizon and are credited the other 79 at the end (no
    # discounting): 6 − 6 × 79/80 = 0.075 $M, where the penalised objective added 1e5 × 2,001
    plan = procure.solve(load(tmp_path, two_causes()), gap=0)
    assert plan.summary["elastic_objective"] == pytest.approx(6.0 / 80, abs=1e-6)


def test_has_plan_agrees_with_the_exit_code(tmp_path):
    # infeasible: exit 1 and has_plan false, while the tables hold the relaxed plan (has_relaxed_plan)
    import json

    from typer.testing import CliRunner

    from helpers import write
    from procure.cli import EXIT_NO_PLAN, app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["solve", str(write(tmp_path, two_causes())), "--out", str(out), "--no-report"])
    assert result.exit_code == EXIT_NO_PLAN, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["has_plan"] is False and summary["has_relaxed_plan"] is True
    assert (out / "plan.csv").stat().st_size > 0
