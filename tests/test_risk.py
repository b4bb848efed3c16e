"""The risk-averse objective (procure/model/risk.py): (1 − W) · E[cost] + W · CVaR_α[cost] over the leaves."""

from __future__ import annotations

import pytest

import procure
from helpers import base_instance, lease_offer, load, rental, usd_per_hour
from procure.model.risk import risk_measures


def hedge() -> dict:
    # Two quarters, two leaves of probability 0.5 branching in 2026Q2: "base" needs nothing, "high" 10 H100e
    # in 2026Q2. A 2-quarter lease of 10 units signed for 2026Q1 (the root, before the branch) at $0.1M a
    # unit-quarter costs 10 × 0.1 × 2 = 2.0 in both leaves; renting 10 units in high's 2026Q2 at $0.3M
    # costs 3.0 there and nothing in base.
    #   no lease: base 0, high 3.0: E = 1.5, CVaR_0.5 = 3.0 (the worse half), VaR_0.5 = 0
    #   lease:    2.0 in both:      E = 2.0, CVaR_0.5 = 2.0
    # (1 − W) · 1.5 + W · 3.0 against 2.0: the lease wins above W = 1/3.
    inst = base_instance(quarters=2, demand=[0, 0])
    inst["scenarios"][0]["probability"] = 0.5
    inst["scenarios"].append({"id": "high", "probability": 0.5, "parent": "base", "branch_quarter": "2026Q2",
                              "demand": {"training": {"series": [0, 10]}}})
    inst["lease_offers"] = [lease_offer(terms={2: usd_per_hour(0.1)}, max_units=10, lot_size=10)]
    inst["rentals"] = [rental(price=usd_per_hour(0.3), units=10)]
    inst["policy"]["risk"] = {"cvar_alpha": 0.5, "weight": 0.0}
    return inst


@pytest.mark.parametrize("weight, objective, expected, cvar, leases", [
    (0.0, 1.5, 1.5, 3.0, 0),      # expected cost alone: rent only where needed
    (0.25, 1.875, 1.5, 3.0, 0),   # 0.75 × 1.5 + 0.25 × 3.0 = 1.875 < 2.0
    (0.5, 2.0, 2.0, 2.0, 10),     # 0.5 × 1.5 + 0.5 × 3.0 = 2.25 > 2.0: the hedge
    (1.0, 2.0, 2.0, 2.0, 10),
])
def test_a_higher_cvar_weight_buys_the_hedge(tmp_path, weight, objective, expected, cvar, leases):
    inst = hedge()
    inst["policy"]["risk"]["weight"] = weight
    plan = procure.solve(load(tmp_path, inst), gap=0)
    assert plan.status == "optimal"
    assert plan.summary["objective"] == pytest.approx(objective, abs=1e-6)
    assert plan.summary["expected_cost"] == pytest.approx(expected, abs=1e-6)
    assert plan.summary["cvar"] == pytest.approx(cvar, abs=1e-6)
    assert plan.summary["cvar_weight"] == weight and plan.summary["cvar_alpha"] == 0.5
    signed = plan.plan[plan.plan["decision"] == "lease_commit"]
    assert signed.drop_duplicates("quarter")["quantity"].sum() == leases


def test_the_options_override_the_instance(tmp_path):
    plan = procure.solve(load(tmp_path, hedge()), gap=0, cvar_weight=1.0)
    assert plan.summary["objective"] == pytest.approx(2.0, abs=1e-6) and plan.summary["cvar_weight"] == 1.0
    with pytest.raises(ValueError, match="cvar_alpha"):
        procure.solve(load(tmp_path, hedge()), cvar_alpha=1.0)


def test_weight_zero_builds_no_risk_columns(tmp_path):
    from procure.inputs.data import build_data
    from procure.model import build_model

    model = build_model(build_data(load(tmp_path, hedge())))
    assert not hasattr(model, "value_at_risk") and not hasattr(model, "cvar_excess_def")


def test_risk_measures_of_a_discrete_distribution():
    # costs 1, 2, 10 with probabilities 0.5, 0.3, 0.2; at α = 0.8 the VaR is 2 (P(cost ≤ 2) = 0.8) and the
    # CVaR 2 + 0.2 × (10 − 2) / 0.2 = 10; at α = 0.5, VaR 1 and CVaR 1 + (0.3 × 1 + 0.2 × 9) / 0.5 = 5.2
    costs, probability = {"a": 1.0, "b": 2.0, "c": 10.0}, {"a": 0.5, "b": 0.3, "c": 0.2}
    assert risk_measures(costs, probability, 0.8) == pytest.approx({"expected_cost": 3.1, "var": 2.0, "cvar": 10.0})
    assert risk_measures(costs, probability, 0.5) == pytest.approx({"expected_cost": 3.1, "var": 1.0, "cvar": 5.2})


def test_the_cli_takes_the_cvar_options(tmp_path):
    import json

    from typer.testing import CliRunner

    from helpers import write
    from procure.cli import EXIT_BAD_INPUT, app

    path = write(tmp_path, hedge())
    result = CliRunner().invoke(app, ["solve", str(path), "--gap", "0", "--cvar-weight", "0.5", "--json",
                                      "--no-report", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["cvar_weight"] == 0.5 and summary["objective"] == pytest.approx(2.0, abs=1e-6)
    assert summary["cvar"] == pytest.approx(2.0, abs=1e-6) and summary["var"] == pytest.approx(2.0, abs=1e-6)
    bad = CliRunner().invoke(app, ["solve", str(path), "--cvar-alpha", "1", "--no-report",
                                   "--out", str(tmp_path / "bad")])
    assert bad.exit_code == EXIT_BAD_INPUT and "--cvar-alpha: Input should be less than 1" in " ".join(bad.output.split())
    assert "Traceback" not in bad.output


def test_the_terminal_and_the_report_say_what_the_objective_is(tmp_path):
    from typer.testing import CliRunner

    from helpers import write
    from procure.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["solve", str(write(tmp_path, hedge())), "--gap", "0", "--cvar-weight", "0.5",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "objective 2.0 $M (0.5 × expected + 0.5 × CVaR at 0.5, discounted; expected 2.0, CVaR 2.0 $M)" in said
    report = (out / "report.md").read_text()
    assert "**objective (0.5 × expected + 0.5 × CVaR at 0.5; expected" in report
