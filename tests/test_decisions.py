"""decisions.csv: the decisions to take now, the root node's rows of plan.csv once each."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from helpers import write
from procure.cli import EXIT_OK, app
from procure.outputs.decisions import COMMITMENTS
from test_risk import hedge


def solve(path, out, *flags):
    result = CliRunner().invoke(app, ["solve", str(path), "--out", str(out), "--gap", "0", *flags])
    assert result.exit_code == EXIT_OK, result.output
    return result


@pytest.mark.parametrize("weight, expected", [
    (0.0, []),  # expected cost alone: nothing is committed before the branch (renting waits for it)
    (0.5, [("2026Q1", "lease_commit", "", "l:2q", 10.0, "units", 2.0)]),  # the hedge, signed now: 10 × 0.1 × 2
])
def test_decisions_are_the_root_rows_of_the_plan_once_each(tmp_path, weight, expected):
    inst = hedge()
    inst["policy"]["risk"]["weight"] = weight
    out = tmp_path / "out"
    result = solve(write(tmp_path, inst), out, "--no-report")
    decisions = pd.read_csv(out / "decisions.csv", keep_default_na=False)
    assert [tuple(r) for r in decisions.itertuples(index=False)] == expected
    plan = pd.read_csv(out / "plan.csv", keep_default_na=False)
    root = plan[(plan["quarter"] == "2026Q1") & plan["decision"].isin(COMMITMENTS)]
    assert len(root) == 2 * len(decisions)  # two scenarios share the root: each row twice in plan.csv
    assert "Decisions to take now" in result.output


def test_the_report_leads_with_the_decisions(tmp_path, root):
    out = tmp_path / "out"
    solve(root / "instances" / "tiny.json", out)
    report = (out / "report.md").read_text()
    assert report.index("## Decisions to take now") < report.index("Quarters ")
    decisions = pd.read_csv(out / "decisions.csv", keep_default_na=False)
    assert set(decisions["decision"]) == {"buy", "lease_commit", "rental"} and (decisions["place_by"] == "2026Q1").all()
