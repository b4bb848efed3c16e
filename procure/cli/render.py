"""Terminal rendering of what the commands print: the instance summary, the plan's mix and status lines,
a sweep's summary. Rich tables only; nothing here computes what a Python user would need."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the commands that print these import pandas and the sweep module themselves
    import pandas as pd

    from procure.inputs.validation import LoadedInstance


def instance_table(loaded: LoadedInstance) -> Table:
    inst = loaded.instance
    from procure.inputs.quarters import quarter_range

    quarters = quarter_range(inst.horizon.first_quarter, inst.horizon.last_quarter)
    estimates = sum(1 for p in inst.provenance.values() if p.estimate)
    table = Table(title=f"{inst.name}: valid", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("quarters", f"{len(quarters)} ({quarters[0]}–{quarters[-1]}), discount "
                              f"{inst.horizon.discount_rate:.1%}/yr")
    table.add_row("workloads", ", ".join(w.id for w in inst.workloads))
    table.add_row("scenarios", ", ".join(
        f"{s.id} (p={s.probability:g}" + (f", from {s.parent} at {s.branch_quarter})" if s.parent else ")")
        for s in inst.scenarios))
    table.add_row("sites", ", ".join(s.id for s in inst.sites) or "—")
    table.add_row("purchasable", ", ".join(p.accelerator for p in inst.purchases) or "—")
    table.add_row("existing fleet", f"{sum(f.units for f in inst.existing_fleet):,.0f} units")
    table.add_row("lease offers", ", ".join(o.id for o in inst.lease_offers) or "—")
    table.add_row("existing contracts", ", ".join(c.id for c in inst.existing_contracts) or "—")
    table.add_row("rentals", ", ".join(r.id for r in inst.rentals) or "—")
    table.add_row("providers", ", ".join(p.id for p in inst.providers) or "—")
    table.add_row("catalog accelerators", str(len(loaded.accelerators)))
    table.add_row("sources", str(len(inst.sources) + len(loaded.catalog_sources)))
    table.add_row("provenance", f"{len(inst.provenance)} values annotated, {estimates} marked as estimates")
    return table


def objective_label(summary: dict) -> str:
    """What the objective is: the expected discounted cost, or with a CVaR weight W > 0 the blend
    (1 − W) · E + W · CVaR_alpha, with the plan's expected cost and CVaR beside it."""
    weight = summary.get("cvar_weight") or 0.0
    if weight <= 0:
        return "expected discounted"
    label = f"{1 - weight:g} × expected + {weight:g} × CVaR at {summary.get('cvar_alpha', 0):g}, discounted"
    if summary.get("expected_cost") is not None and summary.get("cvar") is not None:
        label += f"; expected {summary['expected_cost']:,.1f}, CVaR {summary['cvar']:,.1f} $M"
    return label


def print_plan(console: Console, plan, out_dir: Path) -> None:
    summary = plan.summary
    if summary["has_plan"]:
        console.print(decisions_now_table(plan))
    if summary["has_plan"] or summary.get("has_relaxed_plan"):
        console.print(mix_table(plan))
    status = summary["status"]
    colour = {"optimal": "green", "feasible": "yellow"}.get(status, "red")
    line = f"[bold {colour}]{status}[/]"
    if summary["objective"] is not None:
        gap = summary["gap"]
        line += (f"  objective {summary['objective']:,.1f} $M ({objective_label(summary)})"
                 f"  gap {gap:.2e}" if gap is not None else "")
    console.print(line)
    for relaxed in summary.get("relaxed", []):
        console.print(f"  [red]had to give:[/] {relaxed['constraint']} {' '.join(relaxed['index'])} by "
                      f"{relaxed['amount']:,.3f} {relaxed['unit']}")
    seconds = summary["seconds"]
    console.print(f"build {seconds['build']:.2f} s, solve {seconds['solve']:.2f} s, total {seconds['total']:.2f} s; "
                  f"{summary['size']['variables']:,} variables ({summary['size']['integers']:,} integer), "
                  f"{summary['size']['constraints']:,} constraints; outputs in {out_dir}/")


def decisions_now_table(plan) -> Table:
    """decisions.csv: what the plan commits to now, before any scenario is known."""
    decisions = plan.decisions
    first = plan.data.QUARTERS[0]
    table = Table(title=f"Decisions to take now (placed by {first}; decisions.csv)")
    for col in ("decision", "site", "item", "quantity", "unit", "cost $M"):
        table.add_column(col, justify="right" if col in ("quantity", "cost $M") else "left")
    for row in decisions.itertuples():
        table.add_row(row.decision, row.site, row.item, f"{row.quantity:,.0f}", row.unit, f"{row.cost_musd:,.1f}")
    if decisions.empty:
        table.add_row("none", "", "", "", "", "")
    return table


def mix_table(plan) -> Table:
    """Per-quarter mix of the most likely scenario."""
    d = plan.data
    scenario = max(d.SCENARIOS, key=lambda s: (d.probability[s], -d.SCENARIOS.index(s)))
    rows = plan.plan[plan.plan["scenario"] == scenario]
    cap = plan.capacity[(plan.capacity["scenario"] == scenario) & (plan.capacity["source"] == "total")]
    generations = sorted({d.generation[a] for a in d.ACCELERATORS if any(f[0] == a for f in d.FLEET)})
    table = Table(title=f"Mix per quarter — scenario '{scenario}' (p={d.probability[scenario]:g})")
    for col in ["quarter", "own MW", *[f"{g} units" for g in generations], "leased", "contracted", "rented",
                "demand H100e", "shortfall H100e"]:
        table.add_column(col, justify="right")
    for q in d.QUARTERS:
        r = rows[rows["quarter"] == q]
        installed = r[r["decision"] == "installed"]
        by_gen = installed.groupby(installed["item"].map(d.generation))["quantity"].sum()

        def total(decision: str) -> float:
            return float(r.loc[r["decision"] == decision, "quantity"].sum())

        c = cap[cap["quarter"] == q]
        table.add_row(q, f"{total('total_power_mw'):,.0f}",
                      *[f"{by_gen.get(g, 0.0):,.0f}" for g in generations],
                      f"{total('leased'):,.0f}", f"{total('contract'):,.0f}", f"{total('rental'):,.0f}",
                      f"{c['demand_h100e'].sum():,.0f}", f"{c['shortfall_h100e'].sum():,.0f}")
    return table


def sweep_table(table: pd.DataFrame, out_dir: Path, title: str = "sweep") -> Table:
    """A rich table: points by status, seconds per point by mode, where the outputs are."""
    from procure.sweeps.run import RESULTS_CSV

    result = Table(title=title, show_header=False)
    result.add_column("what", style="bold")
    result.add_column("value")
    if table.empty:
        result.add_row("points", "0")
        return result
    statuses = table["status"].value_counts()
    result.add_row("points", f"{len(table)}: " + ", ".join(f"{n} {s}" for s, n in statuses.items()))
    ok = table[table["status"].isin(("optimal", "feasible"))]
    if len(ok):
        result.add_row("objective", f"{ok['objective'].min():,.1f} … {ok['objective'].max():,.1f} $M"
                                    f" (largest gap {ok['gap'].max():.2e})")
    for mode, rows in table.dropna(subset=["mode"]).groupby("mode"):
        result.add_row(f"mode {mode}", f"{len(rows)} points, median {rows['seconds'].median():.2f} s per point")
    failed = table[~table["status"].isin(("optimal", "feasible"))]
    for row in failed.head(5).itertuples():
        result.add_row(f"point {row.point}", f"[red]{row.status}[/]: {row.error}")
    if len(failed) > 5:
        result.add_row("…", f"{len(failed) - 5} more failures in {RESULTS_CSV}")
    result.add_row("outputs", f"{out_dir}/")
    return result
