"""Plots: the expected axes and series, inspected on the Figure objects (not pixels), from hand-made tables."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from procure.report import plots

QUARTERS = ["2026Q1", "2026Q2", "2026Q3", "2026Q4", "2027Q1"]


def sources() -> pd.DataFrame:
    rows = [("own:H100", "own", "H100", "H100", "nvidia", "hopper", "own", "own", "own · Hopper", 100),
            ("own:Rubin", "own", "Rubin", "Rubin", "nvidia", "rubin", "own", "own", "own · Rubin", 101),
            ("lease:cw", "lease", "cw", "Rubin", "nvidia", "rubin", "coreweave", "CoreWeave", "lease · CoreWeave", 300),
            ("contract:c1", "contract", "c1", "GB300", "nvidia", "blackwell", "coreweave", "CoreWeave",
             "lease · CoreWeave", 300),
            ("lease:tpu", "lease", "tpu", "TPUv7", "google", "tpu-v7", "google", "Google", "TPU", 210),
            ("rental:od", "rental", "od", "H100", "nvidia", "hopper", "lambda", "Lambda", "rental", 400)]
    return pd.DataFrame(rows, columns=["source", "kind", "item", "accelerator", "vendor", "generation", "provider",
                                       "provider_name", "group", "group_order"])


def capacity() -> pd.DataFrame:
    rows = []
    served = {"own:H100": [10, 10, 10, 10, 10], "own:Rubin": [0, 5, 10, 15, 20], "lease:cw": [5, 5, 5, 5, 5],
              "contract:c1": [3, 3, 3, 3, 3], "lease:tpu": [0, 0, 2, 2, 2], "rental:od": [2, 0, 0, 0, 0]}
    for s, extra in (("base", 0), ("high", 10)):
        for w in ("training", "inference"):
            for k, q in enumerate(QUARTERS):
                total = sum(v[k] for v in served.values())
                demand = total + (extra if k >= 2 else 0) + (1 if w == "inference" else 0)
                short = demand - total
                for u, v in served.items():
                    rows.append((s, q, w, u, v[k], v[k], demand, short))
                rows.append((s, q, w, "total", total, total, demand, short))
    return pd.DataFrame(rows, columns=["scenario", "quarter", "workload", "source", "capacity_h100e",
                                       "served_h100e", "demand_h100e", "shortfall_h100e"])


def test_capacity_plot_stacks_groups_against_demand_per_workload():
    fig = plots.capacity_plot(capacity(), sources(), "base", 0.6)
    axes = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in axes] == ["training", "inference"]
    assert "scenario 'base'" in fig._suptitle.get_text()
    for ax in axes:
        assert "H100e" in ax.get_ylabel()
        labels = [c.get_label() for c in ax.containers]
        # one bar series per group that serves anything (the contract and the lease share their provider group)
        assert labels == ["own · Hopper", "own · Rubin", "TPU", "lease · CoreWeave", "rental"] + (
            ["shortfall"] if ax.get_title(loc="left") == "inference" else [])
        heights = np.sum([[b.get_height() for b in c] for c in ax.containers if c.get_label() != "shortfall"], axis=0)
        assert list(heights) == pytest.approx([20, 23, 30, 35, 40])
    legend = fig.legends[0]
    assert {t.get_text() for t in legend.get_texts()} >= {"demand", "own · Hopper", "rental", "shortfall"}


def test_fan_plot_has_demand_and_served_per_scenario():
    fig = plots.fan_plot(capacity(), {"base": 0.6, "high": 0.4})
    axes = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in axes] == ["training", "inference"]
    for ax in axes:
        labels = [line.get_label() for line in ax.get_lines()]
        assert labels == ["base demand", "base served", "high demand", "high served"]
        high = ax.get_lines()[2].get_ydata()
        assert list(high) == pytest.approx([20, 23, 40, 45, 50] if ax.get_title(loc="left") == "training"
                                           else [21, 24, 41, 46, 51])
        assert ax.get_ylim()[0] == 0


def test_spend_plot_stacks_expected_categories_per_year():
    costs = pd.DataFrame([("base", 2026, "capex_accelerators", 100.0, 100.0), ("base", 2026, "rental", 20.0, 19.0),
                          ("base", 2027, "rental", 40.0, 37.0), ("base", 2027, "residual_value", -30.0, -28.0),
                          ("high", 2026, "capex_accelerators", 200.0, 200.0), ("high", 2027, "rental", 80.0, 74.0)],
                         columns=["scenario", "year", "category", "undiscounted_musd", "discounted_musd"])
    fig = plots.spend_plot(costs, {"base": 0.5, "high": 0.5})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "year" and "$M" in ax.get_ylabel()
    bars = {c.get_label(): [b.get_height() for b in c] for c in ax.containers}
    assert bars["capex: accelerators"] == pytest.approx([150.0, 0.0])
    assert bars["on-demand rental"] == pytest.approx([10.0, 60.0])
    assert bars["residual value (credit)"] == pytest.approx([0.0, -15.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026", "2027"]


def test_power_plot_one_panel_per_site_with_block_starts():
    rows = []
    for k, q in enumerate(QUARTERS):
        rows.append(("base", q, "a", "Alpha", 100.0 + (50 if k >= 3 else 0), 90.0, 50.0 if k == 0 else 0.0))
        rows.append(("base", q, "b", "", 20.0, 20.0, 0.0))
    power = pd.DataFrame(rows, columns=["scenario", "quarter", "site", "site_name", "total_power_mw", "used_mw",
                                        "build_started_mw"])
    fig = plots.power_plot(power, "base", {"a": "Alpha"})
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in axes] == ["Alpha", "b"]
    alpha = axes[0]
    assert alpha.get_ylabel() == "MW at the meter"
    online = [p for p in alpha.patches if p.get_label() == "online MW"][0]
    assert list(online.get_data().values) == pytest.approx([100, 100, 100, 150, 150])
    starts = [c for c in alpha.collections if c.get_label() == "block start"]
    assert len(starts) == 1 and list(starts[0].get_offsets()[:, 0]) == [0]
    assert not [c for c in axes[1].collections if c.get_label() == "block start"]


def plan_rows() -> pd.DataFrame:
    rows = [("base", q, "contract", "", "c1", 3.0, "units", 3.0 * 0.01095) for q in QUARTERS[:4]]
    rows += [("base", "2026Q2", "lease_commit", "", "cw:8q", 5.0, "units", 5 * 0.0219 * 4),
             ("base", "2026Q3", "lease_commit", "", "tpu:4q", 2.0, "units", 2 * 0.0131 * 3),
             ("high", "2026Q3", "lease_commit", "", "cw:4q", 9.0, "units", 1.0)]
    return pd.DataFrame(rows, columns=["scenario", "quarter", "decision", "site", "item", "quantity", "unit",
                                       "cost_musd"])


def test_lease_timeline_one_bar_per_contract_and_commitment():
    bars = plots.lease_bars(plan_rows(), "base", QUARTERS)
    assert list(plots.lease_bars(plan_rows(), "base", QUARTERS, other_scenarios=True)["label"])[-1] == \
        "cw · 4 q from 2026Q3 (only in high)"
    assert list(bars["label"]) == ["c1 (existing)", "cw · 8 q from 2026Q2", "tpu · 4 q from 2026Q3"]
    assert list(bars["start"]) == [0, 1, 2] and list(bars["end"]) == [3, 8, 5]
    assert list(bars["end_quarter"]) == ["2026Q4", "2028Q1", "2027Q2"]
    assert bars["usd_per_unit_hour"].iloc[0] == pytest.approx(5.0)   # 0.01095 $M / 2190 h
    assert bars["usd_per_unit_hour"].iloc[1] == pytest.approx(10.0)  # cost over the 4 quarters inside
    fig = plots.lease_timeline(plan_rows(), sources(), "base", QUARTERS)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [*bars["label"], "cw · 4 q from 2026Q3 (only in high)"]
    patches = ax.patches
    assert len(patches) == 4
    assert patches[0].get_hatch() == "//" and patches[1].get_hatch() is None
    assert [p.get_width() for p in patches] == [4, 4, 3, 3]  # clipped at the horizon's last quarter
    assert patches[3].get_alpha() == pytest.approx(0.4)


def test_a_source_group_has_one_colour_in_every_plot():
    colours = plots.source_colours(sources())
    cap = plots.capacity_plot(capacity(), sources(), "base")
    lease = plots.lease_timeline(plan_rows(), sources(), "base", QUARTERS)
    bar_colour = {c.get_label(): mcolors.to_hex(c.patches[0].get_facecolor()) for c in cap.axes[0].containers}
    lease_colours = [mcolors.to_hex(p.get_facecolor(), keep_alpha=False) for p in lease.axes[0].patches]
    assert bar_colour["lease · CoreWeave"] == colours["lease · CoreWeave"] == lease_colours[0] == lease_colours[1]
    assert bar_colour["TPU"] == colours["TPU"] == lease_colours[2]
    assert len(set(colours.values())) == len(colours)


def test_empty_plan_gives_placeholders():
    fig = plots.lease_timeline(plan_rows().iloc[0:0], sources(), "base", QUARTERS)
    assert "no leases" in fig.axes[0].texts[0].get_text()


def test_a_large_end_of_horizon_credit_is_clipped_and_labelled():
    costs = pd.DataFrame([("base", 2026, "capex_accelerators", 100.0, 100.0),
                          ("base", 2027, "residual_value", -500.0, -450.0)],
                         columns=["scenario", "year", "category", "undiscounted_musd", "discounted_musd"])
    ax = plots.spend_plot(costs, {"base": 1.0}).axes[0]
    assert ax.get_ylim()[0] > -500 and ax.get_ylim()[1] > 100
    assert any("-500.0" in t.get_text() and "off scale" in t.get_text() for t in ax.texts)
