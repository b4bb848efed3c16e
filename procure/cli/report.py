"""``procure report OUTDIR`` and the highlights a solve prints after its plan: terminal rendering only."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from procure.outputs.files import REPORT_FILES
from procure.report.document import above_optimum_text, read_analysis
from procure.report.pipeline import ReportInputError, redraw_report


def _musd(value) -> str:
    return "—" if value is None or value != value else f"{value:,.1f} $M"


def highlights(out_dir: Path) -> list:
    """Rich renderables: the baselines table and the top three binding limits, from the saved files."""
    analysis = read_analysis(out_dir)
    items: list = []
    base = analysis.get("baselines")
    if base is not None and not base.empty:
        table = Table(title="Baselines (same cost model)")
        for col in ("strategy", "expected discounted cost", "cost without shortfall", "above optimum",
                    "shortfall H100e-q", "status"):
            table.add_column(col, justify="left" if col in ("strategy", "status") else "right")
        for r in base.itertuples():
            table.add_row(r.baseline, _musd(r.objective_musd), _musd(getattr(r, "cost_without_shortfall_musd", None)),
                          above_optimum_text(r),
                          "—" if r.shortfall_h100e_quarters != r.shortfall_h100e_quarters
                          else f"{r.shortfall_h100e_quarters:,.0f}", str(r.status))
        items.append(table)
    explain = analysis.get("explain")
    if explain:
        limits = explain.get("limits") or []
        if limits:
            items.append("[bold]Top binding limits[/] (expected discounted savings)")
            items.extend(f"  {k}. {g['sentence']}" for k, g in enumerate(limits[:3], start=1))
        else:
            items.append("No power, supply, budget, policy or provider-capacity limit binds.")
    return items


def print_highlights(console: Console, out_dir: Path) -> None:
    for item in highlights(out_dir):
        console.print(item, highlight=False) if isinstance(item, str) else console.print(item)


def report_command(out_dir: Path, console: Console | None = None) -> None:
    """Re-render the plots, report.md and report.html from a solve's saved outputs (no solving)."""
    console = console or Console()
    errors = Console(stderr=True)
    try:
        written = redraw_report(out_dir)
    except ReportInputError as exc:
        errors.print(f"error: {exc}", style="bold red", markup=False, highlight=False, soft_wrap=True)
        for line in exc.lines:
            errors.print(f"  • {line}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    print_highlights(console, out_dir)
    shown = [p.name for p in written if p.name in REPORT_FILES]
    console.print(f"wrote {', '.join(shown)} and {len(written) - len(shown)} plot(s) in {out_dir}/")
