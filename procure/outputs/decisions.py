"""decisions.csv: the decisions to take now, read off the plan table (pandas only: the report uses it too)."""

from __future__ import annotations

import pandas as pd

COMMITMENTS = ("build_blocks", "buy", "lease_commit", "rental")
"""The plan rows that are decisions to place (the others are states: power online, units installed...)."""
DECISIONS_COLUMNS = ["place_by", "decision", "site", "item", "quantity", "unit", "cost_musd"]


def decisions_table(plan: pd.DataFrame, first_scenario: str, first_quarter: str) -> pd.DataFrame:
    """What the plan commits to at the root node, the first quarter, which every scenario shares: blocks
    to start, lots to buy, leases to sign, capacity to rent, one row each (the plan table repeats them once
    per scenario: ``first_scenario``'s copy is taken), with their cost ($M, undiscounted) and the quarter by
    which each must be placed."""
    if plan is None or plan.empty:
        return pd.DataFrame(columns=DECISIONS_COLUMNS)
    root = plan[(plan["scenario"] == first_scenario) & (plan["quarter"] == first_quarter)
                & plan["decision"].isin(COMMITMENTS)]
    root = root.rename(columns={"quarter": "place_by"})[DECISIONS_COLUMNS].reset_index(drop=True)
    site = root["site"].astype(object)
    return root.assign(site=site.where(site.notna(), ""))  # read back from CSV, an empty site is NaN
