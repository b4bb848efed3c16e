"""The report: ``report.md`` and a self-contained ``report.html`` rendered from an output directory alone.

Nothing here solves or imports pyomo. A solve writes the tables (``summary.json``, ``capacity.csv``,
``plan.csv``, ``costs.csv``), the report inputs (``sources.csv``, ``power.csv``) and, unless skipped, the
explanation (``explain.json``, ``marginal_costs.csv``, ``binding.csv``, ``break_even.csv``) and the
baselines (``baselines.csv``); :func:`write_report` draws the plots into ``plots/`` and renders both
documents from those files, so ``procure report OUTDIR`` re-renders without re-solving.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from procure.outputs.decisions import decisions_table
from procure.outputs.files import ANALYSIS_FILES, PLOTS_DIR, atomic_write_text, has_tables
from procure.report.plots import PLOT_FILES, PLOT_TITLES, most_likely_scenario, read_outputs, write_plots

if TYPE_CHECKING:  # only for annotations: rendering needs no model code
    from procure.inputs.data import ModelData

SOURCES_COLUMNS = ["source", "kind", "item", "accelerator", "vendor", "generation", "provider", "provider_name",
                   "group", "group_order"]
POWER_COLUMNS = ["scenario", "quarter", "site", "site_name", "total_power_mw", "used_mw", "build_started_mw"]


# ------------------------------------------------------------------------------------ report input tables
def _pretty(word: str) -> str:
    return word[:1].upper() + word[1:] if word else word


def sources_table(d: ModelData, provider_names: dict | None = None,
                  first_quarter: dict | None = None) -> pd.DataFrame:
    """One row per source with the group it is drawn in: ``own · <generation>`` for owned Nvidia (and other)
    fleets, ``lease · <provider>`` for leases and contracts, ``AMD`` and ``TPU`` for those vendors whoever
    holds them, ``rental`` for on-demand capacity. ``group_order`` fixes the legend order."""
    provider_names = provider_names or {}
    first_quarter = first_quarter or {}
    gen_rank = {}
    gens = sorted({d.generation[a] for a in d.ACCELERATORS},
                  key=lambda g: (min(first_quarter.get(a, "9999") for a in d.ACCELERATORS if d.generation[a] == g), g))
    for k, g in enumerate(gens):
        gen_rank[g] = k
    providers = list(d.PROVIDERS)
    rows = []
    for u in d.SOURCES:
        vendor = d.vendor[u.accelerator]
        gen = d.generation[u.accelerator]
        name = provider_names.get(u.provider) or u.provider
        name = name if len(name) <= 20 else u.provider
        if vendor == "amd":
            group, order = "AMD", 200
        elif vendor == "google" or "tpu" in gen.lower():
            group, order = "TPU", 210
        elif u.kind == "own":
            group, order = f"own · {_pretty(gen)}", 100 + gen_rank.get(gen, 0)
        elif u.kind in ("lease", "contract"):
            group, order = f"lease · {name}", 300 + (providers.index(u.provider) if u.provider in providers else 50)
        else:
            group, order = "rental", 400
        rows.append((u.id, u.kind, u.item, u.accelerator, vendor, gen, u.provider, name, group, order))
    return pd.DataFrame(rows, columns=SOURCES_COLUMNS)


def power_table(plan: pd.DataFrame, d: ModelData, site_names: dict | None = None) -> pd.DataFrame:
    """Per scenario, quarter and site: MW online, MW drawn by powered accelerators (kW × PUE) and MW of
    power blocks started that quarter — all from the plan table."""
    site_names = site_names or {}
    rows = []
    if plan.empty:
        return pd.DataFrame(columns=POWER_COLUMNS)
    keyed = {}
    for r in plan[plan["decision"].isin(["total_power_mw", "powered", "build_blocks"])].itertuples():
        k = (r.scenario, r.quarter, r.site)
        entry = keyed.setdefault(k, [0.0, 0.0, 0.0])
        if r.decision == "total_power_mw":
            entry[0] += r.quantity
        elif r.decision == "powered":
            entry[1] += d.unit_mw(r.item, r.site, r.quantity)
        else:
            entry[2] += r.quantity * d.block_mw.get(r.site, 0.0)
    for s in d.SCENARIOS:
        for q in d.QUARTERS:
            for i in d.SITES:
                online, used, started = keyed.get((s, q, i), (0.0, 0.0, 0.0))
                rows.append((s, q, i, site_names.get(i, ""), round(online, 6), round(used, 6), round(started, 6)))
    return pd.DataFrame(rows, columns=POWER_COLUMNS)


# --------------------------------------------------------------------------------------------- reading
def read_analysis(out_dir: Path) -> dict:
    """The explanation and baseline files of an output directory (missing ones are ``None``)."""
    out_dir = Path(out_dir)
    found: dict = {}
    for key, name in ANALYSIS_FILES.items():
        path = out_dir / name
        if not path.exists():
            found[key] = None
        elif name.endswith(".json"):
            found[key] = json.loads(path.read_text(encoding="utf-8"))
        else:
            found[key] = pd.read_csv(path) if path.stat().st_size > 0 else pd.DataFrame()
    return found


# --------------------------------------------------------------------------------------------- document
@dataclass
class Block:
    kind: str            # heading | text | table | image | list
    content: object
    level: int = 2
    caption: str = ""


def _b(value: float | None, digits: int = 1) -> str:
    """$M -> '$12.3 B' / '$456.7 M' / '$2.6 k' / '-$40' (small sums keep their digits)."""
    if value is None or value != value:
        return "—"
    sign, size = ("-" if value < 0 else ""), abs(value)
    if size >= 1000:
        return f"{sign}${size / 1000:,.{digits}f} B"
    if size >= 1 or size == 0:
        return f"{sign}${size:,.{digits}f} M"
    if size >= 1e-3:
        return f"{sign}${size * 1000:,.{digits}f} k"
    return f"{sign}${size * 1e6:,.0f}"


def _text(value) -> str:
    return "" if value is None or value != value else str(value)


def _num(value, digits: int = 0) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:,.{digits}f}"


def mix_frame(outputs: dict, marginal: pd.DataFrame | None, scenario: str) -> pd.DataFrame:
    """Per-quarter mix of one scenario: power online, owned units per generation, leased/contracted/rented
    units, demand, shortfall and the marginal cost of compute per workload."""
    plan, capacity, sources = outputs["plan"], outputs["capacity"], outputs["sources"]
    rows = plan[plan["scenario"] == scenario]
    quarters = list(dict.fromkeys(capacity["quarter"]))
    gen_of = dict(zip(sources["accelerator"], sources["generation"]))
    gens = list(dict.fromkeys(sources[sources["kind"] == "own"].sort_values("group_order")["generation"]))
    totals = capacity[(capacity["scenario"] == scenario) & (capacity["source"] == "total")]
    workloads = list(dict.fromkeys(capacity["workload"]))
    out = []
    for q in quarters:
        r = rows[rows["quarter"] == q]
        inst = r[r["decision"] == "installed"]
        by_gen = inst.groupby(inst["item"].map(gen_of))["quantity"].sum()
        t = totals[totals["quarter"] == q]
        rec = {"quarter": q, "MW online": r.loc[r["decision"] == "total_power_mw", "quantity"].sum()}
        for g in gens:
            rec[f"own {_pretty(g)} installed"] = by_gen.get(g, 0.0)
        rec["leased"] = r.loc[r["decision"] == "leased", "quantity"].sum()
        rec["contracted"] = r.loc[r["decision"] == "contract", "quantity"].sum()
        rec["rented"] = r.loc[r["decision"] == "rental", "quantity"].sum()
        rec["demand H100e"] = t["demand_h100e"].sum()
        rec["shortfall H100e"] = t["shortfall_h100e"].sum()
        if marginal is not None and not marginal.empty:
            mq = marginal[(marginal["scenario"] == scenario) & (marginal["quarter"] == q)]
            for w in workloads:
                v = mq.loc[mq["workload"] == w, "marginal_usd_per_h100e_quarter"]
                rec[f"$/H100e-q {w}"] = float(v.iloc[0]) if len(v) else float("nan")
        out.append(rec)
    return pd.DataFrame(out)


def build_blocks(out_dir: Path) -> tuple[str, list[Block]]:
    """The report as a list of blocks (rendered to markdown and HTML by the same code path)."""
    out_dir = Path(out_dir)
    outputs = read_outputs(out_dir)
    analysis = read_analysis(out_dir)
    summary = outputs["summary"]
    title = f"procure report — {summary.get('instance', out_dir.name)}"
    blocks: list[Block] = []
    probability = summary.get("scenarios", {})
    scenario = most_likely_scenario(probability) if probability else None

    # ---- summary
    blocks.append(Block("heading", "Summary"))
    status = summary.get("status")
    line = f"**Status:** {status}"
    if summary.get("objective") is not None:
        gap = summary.get("gap")
        what = ("expected discounted cost" if not summary.get("cvar_weight") else
                f"objective ({1 - summary['cvar_weight']:g} × expected + {summary['cvar_weight']:g} × CVaR at "
                f"{summary.get('cvar_alpha', 0):g}; expected {_b(summary.get('expected_cost'), 2)}, CVaR "
                f"{_b(summary.get('cvar'), 2)})")
        line += (f" · **{what}** {_b(summary['objective'], 2)} (net of residual value)"
                 f" · bound {_b(summary.get('bound'), 2)} · gap {gap:.2e}" if gap is not None else "")
    blocks.append(Block("text", line))
    scenarios, quarters = list(summary.get("scenarios", {})), summary.get("quarters", [])
    decisions = (decisions_table(outputs.get("plan"), scenarios[0], quarters[0])
                 if has_tables(summary) and scenarios and quarters else None)
    if decisions is not None:
        blocks.append(Block("heading", "Decisions to take now"))
        blocks.append(Block("table", decisions, caption=f"Committed in {summary['quarters'][0]}, before any scenario "
                                                        "is known (decisions.csv; cost $M, undiscounted)"))
    sec, size = summary.get("seconds", {}), summary.get("size", {})
    blocks.append(Block("text", f"Quarters {' – '.join(summary.get('quarters', []))}; scenarios "
                        + ", ".join(f"{s} (p = {p:g})" for s, p in probability.items())
                        + f". Model: {size.get('variables', 0):,} variables ({size.get('integers', 0):,} integer), "
                          f"{size.get('constraints', 0):,} constraints; solved in {sec.get('solve', 0):.1f} s."))
    if summary.get("relaxed"):
        blocks.append(Block("list", [f"had to give: {r['constraint']} {' '.join(r['index'])} by "
                                     f"{r['amount']:,.3f} {r['unit']}" for r in summary["relaxed"]]))
    costs = summary.get("costs") or {}
    if costs:
        frame = pd.DataFrame([{"category": c, "expected discounted": _b(v)} for c, v in costs.items()])
        blocks.append(Block("table", frame, caption="Expected discounted cost by category"))
    if summary.get("shortfall_h100e_quarters"):
        blocks.append(Block("text", f"Expected shortfall: {summary['shortfall_h100e_quarters']:,.0f} H100e-quarters."))
    if not (summary.get("has_plan") or summary.get("has_relaxed_plan")):
        blocks.append(Block("text", "No plan was found, so there is nothing more to report."))
        return title, blocks

    # ---- mix
    blocks.append(Block("heading", f"Mix per quarter — scenario '{scenario}' (p = {probability[scenario]:g})"))
    mix = mix_frame(outputs, analysis["marginal_costs"], scenario)
    shown = mix.copy()
    for col in shown.columns[1:]:  # whole numbers as such; a fraction below 100 keeps one digit (3.84 MW)
        shown[col] = shown[col].map(lambda v: _num(v, 1 if v == v and abs(v) < 100 and v != round(v) else 0))
    blocks.append(Block("table", shown, caption="Units are accelerator units unless stated; the $/H100e-q "
                                                "columns are the marginal cost of compute (see below)."))

    # ---- plots
    blocks.append(Block("heading", "Plots"))
    for key, name in PLOT_FILES.items():
        path = out_dir / PLOTS_DIR / name
        if path.exists():
            blocks.append(Block("image", f"plots/{name}", caption=PLOT_TITLES[key]))

    # ---- explanation
    blocks.append(Block("heading", "Why this plan"))
    explain = analysis["explain"]
    if explain is None:
        blocks.append(Block("text", "No explanation was computed (`procure solve --no-report`, or the plan came "
                                    "from an elastic re-solve)."))
    else:
        blocks.extend(_explanation_blocks(explain, analysis, mix, scenario))

    # ---- baselines
    blocks.append(Block("heading", "Baselines"))
    base = analysis["baselines"]
    if base is None or base.empty:
        blocks.append(Block("text", "No baselines were computed."))
    else:
        blocks.append(Block("text", "Each baseline is a restriction of the same model, priced by the same objective "
                                    "(expected discounted $, net of residual value), so none can beat the optimum. "
                                    "The percentage above the optimum is given only where the baseline serves as "
                                    "much demand as the optimum; where it serves less, compare its cost without "
                                    "the shortfall penalty and the H100e-quarters it leaves unserved."))
        blocks.append(Block("table", baselines_frame(base)))
    for note in (explain or {}).get("notes", []):
        blocks.append(Block("text", f"*Note:* {note}"))
    return title, blocks


def above_optimum_text(row) -> str:
    """A baselines row's comparison with the optimum: "+12.3 %", "serves less" (no percentage: it leaves
    more demand unserved) or "—"."""
    if str(getattr(row, "equal_service", "")) == "False":  # a bool, or its text from the CSV
        return "serves less"
    pct = getattr(row, "pct_above_optimum", None)
    if pct is None or pct != pct:
        return "—"
    return f"{0.0 if abs(pct) < 0.05 else pct:+.1f} %"  # no "-0.0 %"


def baselines_frame(base: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy. The percentage above the optimum is shown only for a baseline that serves as much
    demand as the optimum: one that leaves demand unserved is read by its cost without the shortfall penalty
    and by how much, and where, it falls short."""
    rows = []
    for r in base.itertuples():
        rows.append({"strategy": r.baseline, "what it does": r.description,
                     "expected discounted cost": _b(r.objective_musd, 2),
                     "cost without shortfall": _b(getattr(r, "cost_without_shortfall_musd", None), 2),
                     "above optimum": above_optimum_text(r),
                     "shortfall (H100e-q)": _num(r.shortfall_h100e_quarters),
                     "limits tight where short": _text(getattr(r, "short_where", "")),
                     "status": r.status})
    return pd.DataFrame(rows)


def _explanation_blocks(explain: dict, analysis: dict, mix: pd.DataFrame, scenario: str) -> list[Block]:
    blocks: list[Block] = []
    blocks.append(Block("heading", "Marginal cost of compute", level=3))
    mc = analysis["marginal_costs"]
    if mc is not None and not mc.empty:
        stats = (mc.groupby(["workload"])["marginal_usd_per_h100e_quarter"]
                 .agg(["min", "median", "max"]).reset_index())
        blocks.append(Block("text", "What one more H100e of demand would cost in a quarter (undiscounted $ per "
                                    "H100e-quarter, given the scenario reaches it): the dual of the demand row in "
                                    "the LP with every lumpy decision fixed at the plan's value. A few hundred "
                                    "dollars means idle owned capacity with power to spare (the next H100e costs its "
                                    "electricity); thousands mean a rental or lease unit; the shortfall penalty "
                                    "means nothing is left. Per quarter for "
                                    f"scenario '{scenario}' in the mix table above; over all scenarios and quarters:"))
        stats = stats.rename(columns={"min": "lowest $", "median": "median $", "max": "highest $"})
        for col in ("lowest $", "median $", "highest $"):
            stats[col] = stats[col].map(lambda v: _num(v))
        blocks.append(Block("table", stats))
    blocks.append(Block("heading", "Binding limits", level=3))
    limits = explain.get("limits") or []
    if limits:
        blocks.append(Block("text", "Ranked by what relaxing each limit by 1 % would save (shares: one percentage "
                                    "point); savings are expected discounted dollars. Purchases may adjust, power "
                                    "blocks and lease lots stay as planned. A saving per step is at most the "
                                    "marginal rate times the step (hence \"up to\"): a whole MW or unit can save "
                                    "less."))
        blocks.append(Block("list", [f"{g['sentence']} ({g.get('relax', '1 % more')}: "
                                     f"{_b(g['value_of_1pct_musd'], 2)})" for g in limits[:12]]))
        if len(limits) > 12:
            blocks.append(Block("text", f"… and {len(limits) - 12} more in `binding.csv`."))
    else:
        blocks.append(Block("text", "No power, supply, budget, policy or provider-capacity limit binds."))
    blocks.append(Block("heading", "Break-even prices", level=3))
    be = analysis["break_even"]
    if be is not None and not be.empty:
        blocks.append(Block("text", "For options the plan leaves out (or uses only up to a limit): the price, as a "
                                    "multiple of today's, at which they would enter (or leave) the plan, "
                                    "bracketed by a bisection of re-solves"
                                    + (" holding the plan's other lumpy decisions fixed."
                                       if (be["mode"] == "restricted").any() else ".")))
        blocks.append(Block("list", list(be["sentence"])))
    else:
        blocks.append(Block("text", "Every option is used, and none at a limit: no break-even search was needed."))
    st = explain.get("stochastic") or {}
    blocks.append(Block("heading", "Value of planning for uncertainty", level=3))
    if not st.get("applicable"):
        blocks.append(Block("text", "One scenario: VSS and EVPI do not apply."))
    else:
        items = []
        exact = st.get("exact", True)
        if "vss_musd" in st:
            items.append(f"Value of the stochastic solution (VSS): {_estimate(st, 'vss')} — what deciding the "
                         f"first stage ({_quarters(st)}) on expected demand alone would cost in extra, with later "
                         f"decisions re-optimised.")
        if "evpi_musd" in st:
            items.append(f"Expected value of perfect information (EVPI): {_estimate(st, 'evpi')} — what knowing "
                         f"which scenario comes true, before deciding, would be worth.")
        if not items:
            items.append("Not computed within the time budget.")
        if not exact:
            items.append("Some of these solves stopped at their time limit or gap: the ranges come from their "
                         "bounds (both values are ≥ 0 in theory).")
        blocks.append(Block("list", items))
    return blocks


def _quarters(st: dict) -> str:
    q = st.get("first_stage_quarters") or []
    return f"{q[0]}–{q[-1]}" if len(q) > 1 else (q[0] if q else "the first quarter")


def _estimate(st: dict, key: str) -> str:
    """A value, clipped at 0 (VSS and EVPI are never negative), with its range when not exact."""
    value = max(st[f"{key}_musd"], 0.0)
    r = st.get(f"{key}_range_musd")
    if st.get("exact", True) or not r:
        return _b(value, 2)
    return f"≈ {_b(value, 2)} (between {_b(max(r[0], 0.0), 2)} and {_b(max(r[1], 0.0), 2)})"


# ------------------------------------------------------------------------------------------- renderers
def to_markdown(title: str, blocks: list[Block]) -> str:
    lines = [f"# {title}", ""]
    for b in blocks:
        if b.kind == "heading":
            lines += ["#" * b.level + " " + str(b.content), ""]
        elif b.kind == "text":
            lines += [str(b.content), ""]
        elif b.kind == "list":
            lines += [f"- {x}" for x in b.content] + [""]
        elif b.kind == "table":
            frame: pd.DataFrame = b.content
            if b.caption:
                lines += [f"*{b.caption}*", ""]
            lines.append("| " + " | ".join(str(c) for c in frame.columns) + " |")
            lines.append("|" + "|".join("---:" if _numeric(frame[c]) else "---" for c in frame.columns) + "|")
            for row in frame.itertuples(index=False):
                lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in row) + " |")
            lines.append("")
        elif b.kind == "image":
            lines += [f"![{b.caption}]({b.content})", ""]
    return "\n".join(lines)


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.7em;border-bottom:2px solid #333;padding-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.86em}th,td{border:1px solid #ddd;padding:3px 8px}
th{background:#f3f3f3}td.num{text-align:right}td.txt{text-align:left}caption{caption-side:top;text-align:left;
font-style:italic;color:#555;padding-bottom:.3em}figure{margin:1em 0 2em}img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-style:italic}code{background:#f5f5f5;padding:0 3px}
"""


def _numeric(column: pd.Series) -> bool:
    """A column of numbers, money or percentages (right-aligned)."""
    import re

    values = [str(v) for v in column if str(v) not in ("", "—", "nan")]
    return bool(values) and all(re.fullmatch(r"[≈+\-$]*[\d,.]+( ?[%BMk]| \$?[BM])?", v.replace("$", "")) for v in values)


def _inline(text: str) -> str:
    """The markdown emphasis and code spans used above, as HTML."""
    import re

    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"\*(.+?)\*", r"<em>\1</em>", out)
    out = re.sub(r"`(.+?)`", r"<code>\1</code>", out)
    return out


def to_html(title: str, blocks: list[Block], out_dir: Path) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]
    for b in blocks:
        if b.kind == "heading":
            parts.append(f"<h{b.level}>{html.escape(str(b.content))}</h{b.level}>")
        elif b.kind == "text":
            parts.append(f"<p>{_inline(str(b.content))}</p>")
        elif b.kind == "list":
            parts.append("<ul>" + "".join(f"<li>{_inline(str(x))}</li>" for x in b.content) + "</ul>")
        elif b.kind == "table":
            frame: pd.DataFrame = b.content
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
            align = ["num" if _numeric(frame[c]) else "txt" for c in frame.columns]
            body = "".join("<tr>" + "".join(f'<td class="{a}">{html.escape(str(x))}</td>' for a, x in zip(align, row))
                           + "</tr>" for row in frame.itertuples(index=False))
            caption = f"<caption>{html.escape(b.caption)}</caption>" if b.caption else ""
            parts.append(f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif b.kind == "image":
            data = base64.b64encode((Path(out_dir) / str(b.content)).read_bytes()).decode("ascii")
            parts.append(f'<figure><img alt="{html.escape(b.caption)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{html.escape(b.caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(out_dir: Path, plots: bool = True) -> list[Path]:
    """Draw the plots (unless ``plots`` is false) and write ``report.md`` and ``report.html`` into
    ``out_dir``, from the files there alone."""
    out_dir = Path(out_dir)
    written = write_plots(out_dir) if plots else []
    title, blocks = build_blocks(out_dir)
    md = out_dir / "report.md"
    atomic_write_text(md, to_markdown(title, blocks) + "\n")
    page = out_dir / "report.html"
    atomic_write_text(page, to_html(title, blocks, out_dir))
    return [*written, md, page]
