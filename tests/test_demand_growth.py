"""Demand forms: growth that steps down over time, and a child scenario that continues from its parent.

Values in H100e; growth rates are annual, applied as (1 + g) ** (1/4) per quarter.
"""

from __future__ import annotations

import pytest

from helpers import base_instance, load
from procure.inputs.data import build_data
from procure.inputs.validation import InstanceError


def demand_path(d, scenario):
    return [d.demand["training", d.node_of[scenario, t]] for t in range(d.T)]


def tree_instance(root: dict, child: dict, quarters: int = 8) -> dict:
    inst = base_instance(quarters=quarters)
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "G", "price_usd_per_unit_hour": 1.0,
                        "available_units": 1e6}]
    inst["scenarios"] = [{"id": "base", "probability": 0.5, "demand": {"training": root}},
                         {"id": "slow", "probability": 0.5, "parent": "base", "branch_quarter": "2027Q1",
                          "demand": {"training": child}}]
    return inst


def test_stepped_growth_and_a_child_that_continues(tmp_path):
    # Root: 100 H100e in 2026Q1, growing 15x a year (g = 15, so ×2 a quarter) in 2026 and flat (g = 0) from
    # 2027Q1: 100, 200, 400, 800, then 800 through 2027. The child (from 2027Q1, growth alone, g = 80, so
    # ×3 a quarter since 81 ** (1/4) = 3) continues from the parent's 2026Q4 value: 2,400, 7,200, 21,600, 64,800.
    inst = tree_instance({"base": 100, "growth": {"2026Q1": 15, "2027Q1": 0}}, {"growth": 80})
    d = build_data(load(tmp_path, inst))
    assert demand_path(d, "base") == pytest.approx([100, 200, 400, 800, 800, 800, 800, 800])
    assert demand_path(d, "slow") == pytest.approx([100, 200, 400, 800, 2400, 7200, 21600, 64800])


def test_constant_growth_keeps_its_closed_form(tmp_path):
    # base × (1 + g) ** (t / 4): 16 × 1.5 ** (t / 4), so 16 in 2026Q1 and 24 in 2027Q1.
    inst = tree_instance({"base": 16, "growth": 0.5}, {"growth": 0.5})
    d = build_data(load(tmp_path, inst))
    assert demand_path(d, "base")[4] == pytest.approx(24.0)
    assert demand_path(d, "slow") == pytest.approx(demand_path(d, "base"))  # the child continues the same way


@pytest.mark.parametrize("root, child, path, rule", [
    ({"growth": 0.5}, {"growth": 0.1}, "scenarios[0].demand.training", "no parent to continue from"),
    ({"base": 1, "growth": {"2035Q1": 0.1}}, {"growth": 0.1}, "scenarios[0].demand.training.growth.2035Q1",
     "horizon"),
])
def test_bad_growth_forms_name_the_path(tmp_path, root, child, path, rule):
    with pytest.raises(InstanceError) as info:
        load(tmp_path, tree_instance(root, child))
    assert any(p.path == path and rule in p.rule for p in info.value.problems), info.value.problems
