"""Plots of a plan, drawn from the saved output tables (matplotlib, Agg backend, PNG files).

Every function takes DataFrames in the output contract (see :mod:`procure.outputs.tables` and
:func:`procure.report.document.sources_table`) and returns the ``Figure`` so tests can inspect its axes and
series; :func:`write_plots` reads an output directory and saves the PNGs under ``plots/``.

Colours live in one place (:data:`CATEGORY_COLOURS`, :func:`source_colours`, :func:`scenario_colours`):
a source group gets the same colour in every plot.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from procure.outputs.files import PLOT_FILES, PLOTS_DIR  # noqa: E402

PLOT_TITLES = {
    "capacity": "Capacity by source vs demand",
    "fan": "Scenario fan: demand and served compute",
    "spend": "Spend per year by category",
    "power": "Power per site",
    "leases": "Lease commitments",
}

# ------------------------------------------------------------------------------------------------ palette
# Owned fleet: cool colours by generation (oldest first); leases and contracts: warm colours by provider;
# AMD red, TPU gold, on-demand rentals violet. Costs use their own fixed colours.
OWN_COLOURS = ("#9ecae1", "#4292c6", "#08519c", "#41ab5d", "#006d2c", "#17becf", "#08306b")
LEASE_COLOURS = ("#fd8d3c", "#a65628", "#f781bf", "#e6550d", "#fdae6b", "#8c510a", "#d95f0e")
GROUP_COLOURS = {"AMD": "#d62728", "TPU": "#e6b800", "rental": "#9467bd"}
FALLBACK_COLOURS = ("#7f7f7f", "#bcbd22", "#8c564b", "#e377c2")
CATEGORY_COLOURS = {
    "capex_power": "#1f3b73", "capex_accelerators": "#3a75c4", "opex_fixed": "#8c8c8c",
    "opex_electricity": "#c7c7c7", "lease_new": "#f28e2b", "lease_existing": "#ffbe7d", "rental": "#9467bd",
    "shortfall": "#d62728", "residual_value": "#59a14f",
}
CATEGORY_LABELS = {
    "capex_power": "capex: power blocks", "capex_accelerators": "capex: accelerators", "opex_fixed": "opex: fixed",
    "opex_electricity": "opex: electricity", "lease_new": "new leases", "lease_existing": "existing contracts",
    "rental": "on-demand rental", "shortfall": "shortfall penalty", "residual_value": "residual value (credit)",
}
SCENARIO_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
SHORTFALL_COLOUR = "#d62728"


def source_colours(sources: pd.DataFrame) -> dict[str, str]:
    """Colour per source group, from the full sources table (so every plot agrees)."""
    groups = list(dict.fromkeys(sources.sort_values("group_order")["group"]))
    colours, own, lease, other = {}, 0, 0, 0
    for g in groups:
        if g in GROUP_COLOURS:
            colours[g] = GROUP_COLOURS[g]
        elif g.startswith("own"):
            colours[g] = OWN_COLOURS[own % len(OWN_COLOURS)]
            own += 1
        elif g.startswith("lease"):
            colours[g] = LEASE_COLOURS[lease % len(LEASE_COLOURS)]
            lease += 1
        else:
            colours[g] = FALLBACK_COLOURS[other % len(FALLBACK_COLOURS)]
            other += 1
    return colours


def scenario_colours(scenarios) -> dict[str, str]:
    return {s: SCENARIO_COLOURS[k % len(SCENARIO_COLOURS)] for k, s in enumerate(scenarios)}


# ------------------------------------------------------------------------------------------------ helpers
def most_likely_scenario(probability: dict[str, float]) -> str:
    """The most likely scenario (the first one on ties), as in the CLI's mix table."""
    order = list(probability)
    return max(order, key=lambda s: (probability[s], -order.index(s)))


def _quarter_axis(ax, quarters: list[str], label: bool = True, narrow: bool = False) -> None:
    """Quarters on x: every quarter for short horizons, else a tick per year at its Q1."""
    if len(quarters) <= 8:
        ax.set_xticks(range(len(quarters)))
        ax.set_xticklabels(quarters, rotation=45 if narrow else 0, ha="right" if narrow else "center")
    else:
        ticks = [k for k, q in enumerate(quarters) if q.endswith("Q1")] or [0]
        ax.set_xticks(ticks)
        ax.set_xticklabels([quarters[k][:4] for k in ticks])
        ax.set_xticks(range(len(quarters)), minor=True)
    ax.set_xlim(-0.5, len(quarters) - 0.5)
    if label:
        ax.set_xlabel("quarter" if len(quarters) <= 8 else "year (ticks at Q1)")
    ax.grid(axis="y", alpha=0.3)


def _scale(max_value: float, unit: str) -> tuple[float, str]:
    if max_value >= 2e6:
        return 1e6, f"million {unit}"
    if max_value >= 2e3:
        return 1e3, f"thousand {unit}"
    return 1.0, unit


def _empty(fig: Figure, ax, message: str) -> Figure:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=11, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


# ------------------------------------------------------------------------------------------------ plots
def capacity_plot(capacity: pd.DataFrame, sources: pd.DataFrame, scenario: str,
                  probability: float | None = None, colours: dict | None = None) -> Figure:
    """Served compute stacked by source group per quarter against demand, one panel per workload.

    Bars are what each source group serves (H100e); the black line is demand and the red hatched part
    the shortfall. Series labels are the source groups, ``demand`` and ``shortfall``.
    """
    colours = colours or source_colours(sources)
    group_of = dict(zip(sources["source"], sources["group"]))
    order = list(dict.fromkeys(sources.sort_values("group_order")["group"]))
    rows = capacity[(capacity["scenario"] == scenario) & (capacity["source"] != "total")].copy()
    totals = capacity[(capacity["scenario"] == scenario) & (capacity["source"] == "total")]
    workloads = list(dict.fromkeys(capacity["workload"])) or ["(none)"]
    quarters = list(dict.fromkeys(capacity["quarter"]))
    fig, axes = plt.subplots(len(workloads), 1, figsize=(13, 4.2 * len(workloads) + 0.8), squeeze=False,
                             sharex=True, layout="constrained")
    p = f" (p = {probability:g})" if probability is not None else ""
    fig.suptitle(f"Compute served by source vs demand — scenario '{scenario}'{p}", fontsize=14, fontweight="bold")
    rows["group"] = rows["source"].map(group_of).fillna("other")
    handles: dict[str, object] = {}
    extra: dict[str, object] = {}
    for ax, w in zip(axes[:, 0], workloads):
        served = (rows[rows["workload"] == w].pivot_table(index="quarter", columns="group", values="served_h100e",
                                                          aggfunc="sum").reindex(quarters).fillna(0.0))
        tot = totals[totals["workload"] == w].set_index("quarter").reindex(quarters)
        demand = tot["demand_h100e"].fillna(0.0).to_numpy()
        short = tot["shortfall_h100e"].fillna(0.0).to_numpy()
        factor, unit = _scale(max(demand.max(initial=0.0), served.sum(axis=1).max() if len(served) else 0.0), "H100e")
        x = np.arange(len(quarters))
        bottom = np.zeros(len(quarters))
        for g in [g for g in order if g in served.columns and served[g].abs().sum() > 1e-9]:
            values = served[g].to_numpy() / factor
            bars = ax.bar(x, values, bottom=bottom, width=0.85, color=colours.get(g, "#7f7f7f"), label=g,
                          edgecolor="white", linewidth=0.3)
            handles.setdefault(g, bars)
            bottom += values
        if short.sum() > 1e-9:
            bars = ax.bar(x, short / factor, bottom=bottom, width=0.85, facecolor="none", edgecolor=SHORTFALL_COLOUR,
                          hatch="///", linewidth=0.6, label="shortfall")
            extra.setdefault("shortfall", bars)
        line = ax.stairs(demand / factor, np.arange(len(quarters) + 1) - 0.5, color="black", linewidth=2,
                         label="demand", baseline=None)
        extra.setdefault("demand", line)
        ax.set_ylim(0, max(float((bottom + short / factor).max(initial=0.0)), float(demand.max(initial=0.0)) / factor,
                           1e-9) * 1.06)
        ax.set_title(f"{w}", loc="left", fontsize=12)
        ax.set_ylabel(f"{unit} (served per quarter)")
        _quarter_axis(ax, quarters, label=ax is axes[-1, 0])
    handles = {g: handles[g] for g in order if g in handles} | {g: h for g, h in handles.items() if g not in order}
    handles |= {k: extra[k] for k in ("shortfall", "demand") if k in extra}
    fig.legend(list(handles.values()), list(handles), loc="outside right center", fontsize=9, title="source",
               frameon=False)
    return fig


def fan_plot(capacity: pd.DataFrame, probability: dict[str, float]) -> Figure:
    """Demand (solid) and served compute (dashed) per scenario, one panel per workload; the grey band spans
    the scenarios' demand. Line labels are ``<scenario> demand`` and ``<scenario> served``."""
    totals = capacity[capacity["source"] == "total"]
    workloads = list(dict.fromkeys(capacity["workload"])) or ["(none)"]
    quarters = list(dict.fromkeys(capacity["quarter"]))
    scenarios = [s for s in probability if s in set(totals["scenario"])]
    colours = scenario_colours(list(probability))
    fig, axes = plt.subplots(1, len(workloads), figsize=(max(6.5 * len(workloads), 9) + 2, 5), squeeze=False,
                             layout="constrained")
    fig.suptitle("Scenario fan: demand (solid) and compute served (dashed)", fontsize=14, fontweight="bold")
    x = np.arange(len(quarters))
    for ax, w in zip(axes[0], workloads):
        t = totals[totals["workload"] == w]
        demand = t.pivot_table(index="quarter", columns="scenario", values="demand_h100e").reindex(quarters)
        served = t.pivot_table(index="quarter", columns="scenario", values="served_h100e").reindex(quarters)
        factor, unit = _scale(float(np.nanmax(demand.to_numpy())) if demand.size else 0.0, "H100e")
        if len(scenarios) > 1:
            ax.fill_between(x, demand[scenarios].min(axis=1) / factor, demand[scenarios].max(axis=1) / factor,
                            color="#dddddd", label="demand range")
        for s in scenarios:
            ax.plot(x, demand[s] / factor, color=colours[s], linewidth=3, alpha=0.55, label=f"{s} demand")
            ax.plot(x, served[s] / factor, color=colours[s], linewidth=1.4, linestyle="--", label=f"{s} served")
        ax.set_ylim(bottom=0)
        ax.set_title(w, loc="left", fontsize=12)
        ax.set_ylabel(f"{unit} per quarter")
        _quarter_axis(ax, quarters)
    handles = [plt.Line2D([], [], color=colours[s], linewidth=2,
                          label=f"{s} (p = {probability[s]:g})") for s in scenarios]
    handles += [plt.Line2D([], [], color="black", linewidth=3, alpha=0.55, label="demand"),
                plt.Line2D([], [], color="black", linewidth=1.4, linestyle="--", label="served")]
    if len(scenarios) > 1:
        handles.append(Patch(color="#dddddd", label="demand range"))
    fig.legend(handles=handles, loc="outside right center", fontsize=9, frameon=False, title="scenario")
    return fig


def spend_plot(costs: pd.DataFrame, probability: dict[str, float]) -> Figure:
    """Expected (probability-weighted) undiscounted spend per calendar year, stacked by cost category;
    the residual-value credit is drawn below zero. Bar labels are the category names."""
    fig, ax = plt.subplots(figsize=(12, 5.4), layout="constrained")
    ax.set_title("Spend per year by category — expected over scenarios, undiscounted", fontsize=14,
                 fontweight="bold")
    if costs.empty:
        return _empty(fig, ax, "no plan")
    weights = costs["scenario"].map(probability).fillna(0.0)
    table = (costs.assign(v=costs["undiscounted_musd"] * weights)
             .pivot_table(index="year", columns="category", values="v", aggfunc="sum").fillna(0.0))
    years = list(table.index)
    big = table.clip(lower=0).sum(axis=1).max() if len(table) else 0.0
    factor, unit = (1e3, "$B") if big >= 2e3 else (1.0, "$M")
    x = np.arange(len(years))
    pos, neg = np.zeros(len(years)), np.zeros(len(years))
    scale = float(np.abs(table.to_numpy()).sum()) / factor
    for c in [c for c in CATEGORY_COLOURS if c in table.columns]:
        values = table[c].to_numpy() / factor
        if np.abs(values).sum() <= 1e-4 * scale:  # invisible at this scale: keep it out of the legend too
            continue
        base = np.where(values >= 0, pos, neg)
        ax.bar(x, values, bottom=base, width=0.6, color=CATEGORY_COLOURS[c], label=CATEGORY_LABELS.get(c, c),
               edgecolor="white", linewidth=0.4)
        pos += np.where(values >= 0, values, 0)
        neg += np.where(values < 0, values, 0)
    ax.axhline(0, color="black", linewidth=0.8)
    for k, total in enumerate(table.sum(axis=1).to_numpy() / factor):
        ax.annotate(f"net {total:,.1f}", (x[k], pos[k]), textcoords="offset points", xytext=(0, 3), ha="center",
                    fontsize=8)
    top, low = float(pos.max(initial=0.0)), float(neg.min(initial=0.0))
    if top > 0 and low < -0.6 * top:  # a large end-of-horizon credit would squash every other bar: clip it
        floor = -0.6 * top
        for k in np.flatnonzero(neg < floor):
            ax.annotate(f"{neg[k]:,.1f}\n↓ off scale", (x[k], floor), textcoords="offset points", xytext=(0, 4),
                        ha="center", va="bottom", fontsize=8, color="white", fontweight="bold")
        low = floor / 1.04
    span = max(top - low, 1e-9)
    ax.set_ylim(low - 0.04 * span if low < 0 else 0, top + 0.1 * span)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}" if span >= 10 else "{x:,.1f}"))
    ax.set_xticks(x)
    ax.set_xticklabels([str(y) for y in years])
    ax.set_xlabel("year")
    ax.set_ylabel(f"{unit} per year (undiscounted)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_xlim(-0.6, len(years) - 0.4)
    fig.legend(loc="outside right center", fontsize=9, frameon=False, title="category")
    return fig


def power_plot(power: pd.DataFrame, scenario: str, site_names: dict | None = None,
               probability: float | None = None) -> Figure:
    """Online MW (step line) vs MW drawn by powered accelerators (filled) per site, one panel per site;
    triangles mark quarters where power blocks were started (labelled with the MW started)."""
    site_names = site_names or {}
    rows = power[power["scenario"] == scenario] if not power.empty else power
    sites = list(dict.fromkeys(rows["site"])) if not rows.empty else []
    quarters = list(dict.fromkeys(power["quarter"])) if not power.empty else []
    cols = min(3, max(len(sites), 1))
    nrows = max(1, -(-len(sites) // cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(max(5.2 * cols, 10), 3.6 * nrows + 1.2), squeeze=False,
                             layout="constrained")
    p = f" (p = {probability:g})" if probability is not None else ""
    fig.suptitle(f"Power per site — scenario '{scenario}'{p}: MW online vs MW used, ▲ power blocks started",
                 fontsize=14, fontweight="bold")
    if not sites:
        return _empty(fig, axes[0, 0], "no sites")
    for k, ax in enumerate(axes.flat):
        if k >= len(sites):
            ax.set_visible(False)
            continue
        site = sites[k]
        r = rows[rows["site"] == site].set_index("quarter").reindex(quarters).fillna(0.0)
        edges = np.arange(len(quarters) + 1) - 0.5
        ax.stairs(r["used_mw"].to_numpy(), edges, fill=True, color="#4c72b0", alpha=0.55, label="used MW")
        ax.stairs(r["total_power_mw"].to_numpy(), edges, color="black", linewidth=1.8, label="online MW", baseline=None)
        if float(r["total_power_mw"].max()) <= 0 and r["build_started_mw"].sum() <= 0:
            ax.text(0.5, 0.5, "no power online or started", transform=ax.transAxes, ha="center", va="center",
                    color="#666666")
        starts = r[r["build_started_mw"] > 0]
        top = max(float(r["total_power_mw"].max()), float(r["used_mw"].max()), 1.0)
        if not starts.empty:
            xs = [quarters.index(q) for q in starts.index]
            ax.scatter(xs, [0] * len(xs), marker="^", s=70, color="#d62728", zorder=5, clip_on=False,
                       label="block start")
            for xi, mw in zip(xs, starts["build_started_mw"]):  # vertical labels: one per quarter never collide
                ax.annotate(f"+{mw:,.0f}", (xi, 0), textcoords="offset points", xytext=(0, 7), ha="center",
                            va="bottom", rotation=90, fontsize=7, color="#d62728",
                            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75})
        ax.set_ylim(0, top * 1.12)
        name = site_names.get(site, site)
        ax.set_title(name if len(name) <= 28 else site, loc="left", fontsize=11)
        ax.set_ylabel("MW at the meter")
        _quarter_axis(ax, quarters, label=k >= len(sites) - cols, narrow=cols > 1)
    handles = [Patch(color="#4c72b0", alpha=0.55, label="MW used (powered IT load × PUE)"),
               plt.Line2D([], [], color="black", linewidth=1.8, label="MW online"),
               plt.Line2D([], [], marker="^", color="#d62728", linestyle="", label="block start (MW started)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    return fig


def lease_timeline(plan: pd.DataFrame, sources: pd.DataFrame, scenario: str, quarters: list[str],
                   colours: dict | None = None) -> Figure:
    """One horizontal bar per contract (existing, hatched) and per new lease commitment of the scenario,
    from its first to its last quarter, coloured by source group and labelled with its units and price;
    commitments signed only in other scenarios follow, faded and named after their scenarios."""
    colours = colours or source_colours(sources)
    group_of = dict(zip(sources["source"], sources["group"]))
    bars = lease_bars(plan, scenario, quarters, other_scenarios=True)
    height = max(3.0, 0.42 * len(bars) + 1.8)
    fig, ax = plt.subplots(figsize=(13, height), layout="constrained")
    ax.set_title(f"Lease commitments — scenario '{scenario}' (hatched: existing contracts)", fontsize=14,
                 fontweight="bold")
    if bars.empty:
        return _empty(fig, ax, "no leases or contracts in this plan")
    for y, b in enumerate(bars.itertuples()):
        group = group_of.get(b.source, "other")
        other = b.kind == "other"
        ax.barh(y, min(b.end, len(quarters) - 1) - b.start + 1, left=b.start - 0.5, height=0.7,
                color=colours.get(group, "#7f7f7f"), alpha=0.4 if other else 1.0,
                hatch="//" if b.kind == "contract" else None, edgecolor="black", linewidth=0.5,
                linestyle="--" if other else "-")
        price = f", ${b.usd_per_unit_hour:,.2f}/h" if b.usd_per_unit_hour == b.usd_per_unit_hour else ""
        until = f", to {b.end_quarter}" if b.end >= len(quarters) else ""
        ax.text(min(b.end, len(quarters) - 1) + 0.6, y, f"{b.units:,.0f} units{price}{until}", va="center",
                fontsize=8)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels(bars["label"], fontsize=9)
    ax.invert_yaxis()
    _quarter_axis(ax, quarters)
    ax.set_xlim(-0.5, len(quarters) - 0.5 + max(2.5, 0.4 * len(quarters)))
    ax.axvline(len(quarters) - 0.5, color="#888888", linewidth=0.8, linestyle=":")
    present = list(dict.fromkeys(group_of.get(s, "other") for s in bars["source"]))
    handles = [Patch(facecolor=colours.get(g, "#7f7f7f"), edgecolor="black", label=g) for g in present]
    if (bars["kind"] == "contract").any():
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="existing contract"))
    if (bars["kind"] == "other").any():
        handles.append(Patch(facecolor="#bbbbbb", alpha=0.4, edgecolor="black", linestyle="--",
                             label="signed in other scenarios only"))
    fig.legend(handles=handles, loc="outside right center", fontsize=9, frameon=False, title="source")
    return fig


def lease_bars(plan: pd.DataFrame, scenario: str, quarters: list[str], other_scenarios: bool = False) -> pd.DataFrame:
    """Contracts and new lease commitments of one scenario as bars: source, kind (``contract``, ``lease``,
    or ``other`` for commitments signed only in other scenarios, with ``other_scenarios``), label, start,
    end (quarter positions, inclusive; past the horizon for terms that run beyond it), end_quarter, units,
    usd_per_unit_hour."""
    from procure.inputs.quarters import quarter_name, quarter_ordinal

    columns = ["source", "kind", "label", "start", "end", "end_quarter", "units", "usd_per_unit_hour"]
    if plan.empty:
        return pd.DataFrame(columns=columns)
    index = {q: k for k, q in enumerate(quarters)}
    rows = plan[plan["scenario"] == scenario]
    out = []
    contracts = rows[rows["decision"] == "contract"]
    for c, g in contracts.groupby("item", sort=False):
        pos = sorted(index[q] for q in g["quarter"])
        units = float(g["quantity"].max())
        per_quarter = float(g["cost_musd"].iloc[0]) / units if units else float("nan")
        out.append((f"contract:{c}", "contract", f"{c} (existing)", pos[0], pos[-1], quarters[pos[-1]], units,
                    per_quarter * 1e6 / 2190.0))
    def commitment(r, kind: str, suffix: str = "") -> tuple:
        offer, term = r.item.rsplit(":", 1)
        term_q = int(term.rstrip("q"))
        start = index[r.quarter]
        inside = min(term_q, len(quarters) - start)
        price = r.cost_musd / (r.quantity * inside) * 1e6 / 2190.0 if r.quantity else float("nan")
        end_quarter = quarter_name(quarter_ordinal(r.quarter) + term_q - 1)
        return (f"lease:{offer}", kind, f"{offer} · {term_q} q from {r.quarter}{suffix}", start, start + term_q - 1,
                end_quarter, float(r.quantity), price)

    commits = rows[rows["decision"] == "lease_commit"]
    for r in commits.itertuples():
        out.append(commitment(r, "lease"))
    if other_scenarios:
        mine = {(r.quarter, r.item, r.quantity) for r in commits.itertuples()}
        others = plan[(plan["scenario"] != scenario) & (plan["decision"] == "lease_commit")]
        seen: dict = {}
        for r in others.itertuples():
            key = (r.quarter, r.item, r.quantity)
            if key not in mine:
                seen.setdefault(key, (r, []))[1].append(r.scenario)
        for r, scenarios in seen.values():
            out.append(commitment(r, "other", f" (only in {', '.join(scenarios)})"))
    frame = pd.DataFrame(out, columns=columns)
    return frame.sort_values(["kind", "start", "label"], ascending=[True, True, True], kind="stable").reset_index(
        drop=True)


# ------------------------------------------------------------------------------------------------ writer
def read_outputs(out_dir: Path) -> dict:
    """The tables and summary a report needs, read from an output directory."""
    out_dir = Path(out_dir)

    def table(name: str) -> pd.DataFrame:
        path = out_dir / name
        return pd.read_csv(path) if path.exists() and path.stat().st_size > 0 else pd.DataFrame()

    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    return {"summary": summary, "capacity": table("capacity.csv"), "plan": table("plan.csv"),
            "costs": table("costs.csv"), "sources": table("sources.csv"), "power": table("power.csv")}


def make_figures(outputs: dict) -> dict[str, Figure]:
    """Every plot for the outputs of one solve (nothing when there is no plan)."""
    summary = outputs["summary"]
    capacity, sources = outputs["capacity"], outputs["sources"]
    if capacity.empty or sources.empty:
        return {}
    probability = summary["scenarios"]
    scenario = most_likely_scenario(probability)
    colours = source_colours(sources)
    quarters = list(dict.fromkeys(capacity["quarter"]))
    power = outputs["power"]
    names = {}
    if not power.empty and "site_name" in power:
        names = {k: (v if isinstance(v, str) and v else k) for k, v in zip(power["site"], power["site_name"])}
    return {
        "capacity": capacity_plot(capacity, sources, scenario, probability[scenario], colours),
        "fan": fan_plot(capacity, probability),
        "spend": spend_plot(outputs["costs"], probability),
        "power": power_plot(power, scenario, names, probability[scenario]),
        "leases": lease_timeline(outputs["plan"], sources, scenario, quarters, colours),
    }


def write_plots(out_dir: Path, outputs: dict | None = None, dpi: int = 110) -> list[Path]:
    """Draw every plot from the files in ``out_dir`` and save them as ``plots/<name>.png``."""
    out_dir = Path(out_dir)
    outputs = outputs or read_outputs(out_dir)
    figures = make_figures(outputs)
    written = []
    if figures:
        (out_dir / PLOTS_DIR).mkdir(exist_ok=True)
    for name, fig in figures.items():
        path = out_dir / PLOTS_DIR / PLOT_FILES[name]
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")  # the old figure stays whole until the new one is
        fig.savefig(tmp, dpi=dpi, format="png", metadata={"Software": None})
        os.replace(tmp, path)
        plt.close(fig)
        written.append(path)
    return written
