"""Sweeps on tiny instances whose objective is known by hand, in-place re-solves against fresh solves,
failing points, bad specs, and plots.

Units as in helpers.py: $M; a rental at ``p`` $/unit-hour costs ``p × 2190 / 1e6`` $M per unit-quarter.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import procure
from helpers import base_instance, contract, lease_offer, rental, site, write
from procure.cli import EXIT_BAD_INPUT, EXIT_OK, app
from procure.sweeps.spec import latin_hypercube, load_spec, set_value
from procure.inputs.validation import InstanceError, instance_from_dict

RATE = 2190 / 1e6  # $M per (unit-quarter × $/h)


def lead_rental_instance() -> dict:
    """4 quarters, demand 10 H100e each. Power and chips are (almost) free, but a 10 MW block comes online
    ``lead`` quarters after its start in 2026Q1: until then 10 units are rented at ``p`` $/h. Objective
    = 10 × lead × p × 2190 / 1e6 (plus 1e-8 for the chips)."""
    inst = base_instance(quarters=4, demand=[10, 10, 10, 10])
    inst["sites"] = [site(expansion={"block_mw": 10, "max_blocks": 1, "lead_quarters": 1, "capex_musd_per_mw": 0})]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    inst["rentals"] = [rental(price=100, units=100)]
    return inst


def growth_instance() -> dict:
    """Rentals only: demand ``10 (1+g)^(t/4)``, all rented at $100/h, discounted at ``r``."""
    inst = base_instance(quarters=4)
    inst["scenarios"][0]["demand"]["training"] = {"base": 10, "growth": 0.5}
    inst["rentals"] = [rental(price=100, units=1000)]
    return inst


def rich_instance() -> dict:
    """Every kind of price, a two-scenario tree and integer decisions: the model for in-place checks. Its
    optimum builds all three blocks, buys, leases, uses the contract and rents a little."""
    inst = base_instance(quarters=4, demand=[8, 12, 16, 20])
    inst["horizon"]["discount_rate"] = 0.1
    inst["scenarios"] = [
        {"id": "base", "probability": 0.6, "demand": {"training": {"base": 8, "growth": 1.0}}},
        {"id": "high", "probability": 0.4, "parent": "base", "branch_quarter": "2026Q3",
         "demand": {"training": {"base": 10, "growth": 2.0}}}]
    inst["sites"] = [site(mw=4, electricity_usd_per_mwh=20, fixed_opex_musd_per_mw_year=0.1,
                          expansion={"block_mw": 5, "max_blocks": 3, "lead_quarters": 1, "capex_musd_per_mw": 0.2})]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 0.2}]
    inst["lease_offers"] = [lease_offer(terms={2: 70, 4: 55}, max_units=20, lot_size=2, last_start="2026Q4")]
    inst["existing_contracts"] = [contract(units=2, price=30, start="2025Q1", end="2026Q2")]
    inst["rentals"] = [rental(price=90, units=6)]
    inst["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = 300000
    return inst


def run(tmp_path, instance, spec, name="sweep", **options):
    write(tmp_path, instance)
    spec = {"instance": "instance.json", **spec}
    options.setdefault("workers", 1)
    options.setdefault("plot", False)  # matplotlib costs seconds; the plot tests ask for it
    return procure.sweep(spec, out=tmp_path / name, base_dir=tmp_path, progress=False, **options)


# ------------------------------------------------------------------------------------- known by hand
def test_grid_objective_is_lead_times_rental_price(tmp_path):
    spec = {"design": "grid", "solve": {"gap": 0},
            "parameters": [{"path": "sites[s1].expansion.lead_quarters", "values": [0, 1, 2, 3]},
                           {"name": "rental price", "path": "rentals[0].price_usd_per_unit_hour",
                            "values": [50, 100, 200]}]}
    table = run(tmp_path, lead_rental_instance(), spec, plot=True)
    assert len(table) == 12 and (table["status"] == "optimal").all()
    expected = 10 * table["sites[s1].expansion.lead_quarters"] * table["rental price"] * RATE
    assert table["objective"].to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-6)
    assert table["rented_h100e_2026"].to_numpy() == pytest.approx(
        (10 * table["sites[s1].expansion.lead_quarters"] / 4).to_numpy(), abs=1e-6)
    # one model per lead time; each price change re-solves it in place
    assert (table["mode"] == "build").sum() == 4 and (table["mode"] == "persistent").sum() == 8
    assert {p.name for p in (tmp_path / "sweep").iterdir()} >= {"results.csv", "results.parquet", "sweep.json",
                                                                "heatmap.png", "lines.png"}


def test_demand_growth_and_discount_rate_in_place(tmp_path):
    spec = {"design": "grid", "solve": {"gap": 0},
            "parameters": [{"path": "scenarios[base].demand.training.growth", "values": [0, 0.5, 1.0]},
                           {"path": "horizon.discount_rate", "values": [0, 0.1]}]}
    table = run(tmp_path, growth_instance(), spec)
    for row in table.itertuples(index=False):
        g, r = row[1], row[2]
        expected = sum(10 * (1 + g) ** (t / 4) * 100 * RATE * (1 + r) ** (-t / 4) for t in range(4))
        assert row.objective == pytest.approx(expected, rel=1e-9)
    assert list(table["mode"]) == ["build"] + ["persistent"] * 5


MUTABLE_KINDS = [  # every kind of change the model keeps in mutable parameters
    {"path": "purchases[0].price_scale", "values": [0.1, 2.0]},                       # buy:<acc>
    {"path": "sites[0].expansion.capex_musd_per_mw", "values": [0.1, 3.0]},           # block:<site>
    {"path": "lease_offers[0].terms[*].price_usd_per_unit_hour", "mode": "scale",
     "values": [0.3, 1.7]},                                                            # lease:<offer>
    {"path": "existing_contracts[0].price_usd_per_unit_hour", "values": [5, 80]},     # contract:<id>
    {"path": "rentals[0].price_usd_per_unit_hour", "values": [20, 300]},              # rental:<id>
    {"path": "sites[0].electricity_usd_per_mwh", "values": [0, 400]},                 # electricity:<site>
    {"path": "sites[0].fixed_opex_musd_per_mw_year", "values": [0.01, 1.0]},          # opex:<site>
    {"path": "policy.shortfall_penalty_usd_per_h100e_quarter", "values": [50000, 2000000]},  # shortfall
    {"path": "scenarios[0].demand.training.growth", "values": [0.2, 1.6]},            # demand (root)
    {"path": "scenarios[high].demand.training.base", "values": [6, 20]},              # demand (a branch)
    {"path": "horizon.discount_rate", "values": [0.0, 0.3]},                          # discount factors
]


def test_in_place_re_solve_matches_a_fresh_solve_for_every_mutable_kind(tmp_path):
    spec = {"design": "one_at_a_time", "solve": {"gap": 0}, "parameters": MUTABLE_KINDS}
    persistent = run(tmp_path, rich_instance(), spec, name="persistent")
    fresh = run(tmp_path, rich_instance(), {**spec, "solve": {"gap": 0, "reuse": False}}, name="fresh")
    assert len(persistent) == 1 + 2 * len(MUTABLE_KINDS)
    assert list(persistent["mode"]) == ["build"] + ["persistent"] * (len(persistent) - 1)
    assert persistent["warm_start"].iloc[1:].all()
    assert set(fresh["mode"]) == {"fresh"}
    assert (persistent["status"] == "optimal").all() and (fresh["status"] == "optimal").all()
    base = persistent["objective"].iloc[0]
    for kind in MUTABLE_KINDS:
        rows = persistent["varied"] == kind["path"]
        assert persistent.loc[rows, "objective"].to_numpy() == pytest.approx(
            fresh.loc[rows, "objective"].to_numpy(), rel=1e-7, abs=1e-7), kind["path"]
        assert (abs(persistent.loc[rows, "objective"] - base) > 1e-6).any(), f"{kind['path']} moved nothing"
    # and procure.solving.solve of a modified instance agrees
    plan = load_spec({"instance": "instance.json", **spec}, base_dir=tmp_path)
    for point in (plan.points[3], plan.points[-1]):
        document = copy.deepcopy(plan.document)
        for path, value in point.assignments:
            set_value(document, path, value)
        direct = procure.solve(instance_from_dict(document, base_dir=tmp_path), gap=0)
        assert direct.summary["objective"] == pytest.approx(persistent["objective"].iloc[point.id], rel=1e-7,
                                                            abs=1e-6)


def test_structural_changes_rebuild(tmp_path):
    # one lease term re-priced alone cannot be one price_scale factor; lot sizes change the structure
    spec = {"design": "one_at_a_time", "solve": {"gap": 0},
            "parameters": [{"path": "lease_offers[0].terms[0].price_usd_per_unit_hour", "values": [30]},
                           {"path": "lease_offers[0].lot_size", "values": [4]},
                           {"knob": "lease_prices", "values": [0.5]}]}
    table = run(tmp_path, rich_instance(), spec)
    assert list(table["varied"]) == ["base", "lease_offers[0].terms[0].price_usd_per_unit_hour",
                                     "lease_offers[0].lot_size", "lease_prices"]
    assert list(table["mode"]) == ["build", "build", "build", "persistent"]
    fresh = run(tmp_path, rich_instance(), {**spec, "solve": {"gap": 0, "reuse": False}}, name="fresh")
    assert table["objective"].to_numpy() == pytest.approx(fresh["objective"].to_numpy(), rel=1e-7, abs=1e-7)


# ------------------------------------------------------------------------------------------ failures
def test_failing_points_are_recorded_and_the_sweep_goes_on(tmp_path):
    inst = lead_rental_instance()
    inst["sites"][0]["expansion"]["committed_starts"] = {"2026Q1": 1}
    inst["sites"][0]["expansion"]["capex_musd_per_mw"] = 1  # the committed block costs 10 $M in 2026
    spec = {"design": "grid", "solve": {"gap": 0},
            "parameters": [{"path": "sites[0].expansion.lead_quarters", "values": [1, 4, 2]},
                           {"path": "policy.capex_budget_musd_per_year", "values": [100, 5]}]}
    table = run(tmp_path, inst, spec)
    assert len(table) == 6
    by = {(r[1], r[2]): r for r in table.itertuples(index=False)}
    assert by[1, 100].status == "optimal" and by[2, 100].status == "optimal"
    assert by[4, 100].status == "error" and "lead_quarters" in by[4, 100].error
    assert "never come online" in by[4, 100].error
    assert by[1, 5].status == "infeasible" and by[1, 5].error.startswith("no feasible plan")
    assert math.isnan(by[1, 5].objective)
    # power one quarter later: one more quarter of 10 rented units (and a different residual value)
    assert by[2, 100].objective > by[1, 100].objective
    assert by[2, 100].rented_h100e_2026 == pytest.approx(by[1, 100].rented_h100e_2026 + 10 / 4)


def test_time_limit_without_a_plan_is_a_failed_point_not_a_crash(tmp_path):
    spec = {"design": "zip", "solve": {"gap": 0, "time_limit": 1e-9},
            "parameters": [{"path": "rentals[0].price_usd_per_unit_hour", "values": [50, 60]}]}
    table = run(tmp_path, rich_instance(), spec)
    assert len(table) == 2
    assert set(table["status"]) <= {"no_solution", "feasible", "optimal"}


# ------------------------------------------------------------------------------------ spec and paths
def test_paths_by_id_wildcard_and_catalog_fallback(tmp_path):
    inst = rich_instance()
    inst["sites"].append(site("s2", mw=1))  # no expansion: skipped by the wildcard
    write(tmp_path, inst)
    plan = load_spec({"instance": "instance.json", "design": "grid", "parameters": [
        {"name": "slip", "path": ["purchases[G].first_quarter", "lease_offers[l].first_start"], "mode": "add",
         "values": [2]},
        {"knob": "lead_quarters", "values": [1]},
        {"knob": "build_capex", "values": [2]}]}, base_dir=tmp_path)
    (point,) = plan.points
    assert dict(point.assignments) == {"purchases[0].first_quarter": "2026Q3",  # catalog G: 2026Q1
                                       "lease_offers[0].first_start": "2026Q3",
                                       "sites[0].expansion.lead_quarters": 2,
                                       "sites[0].expansion.capex_musd_per_mw": 0.4}


def test_latin_hypercube_is_stratified_and_seeded(tmp_path):
    u = latin_hypercube(20, 3, seed=7)
    for j in range(3):
        assert sorted((u[:, j] * 20).astype(int)) == list(range(20))
    assert (latin_hypercube(20, 3, seed=7) == u).all() and not (latin_hypercube(20, 3, seed=8) == u).all()
    write(tmp_path, growth_instance())
    spec = {"instance": "instance.json", "design": "lhs", "samples": 8, "seed": 3, "parameters": [
        {"path": "horizon.discount_rate", "low": 0.0, "high": 0.2},
        {"path": "rentals[0].price_usd_per_unit_hour", "low": 50, "high": 150, "integer": True}]}
    a = load_spec(spec, base_dir=tmp_path).points
    b = load_spec(spec, base_dir=tmp_path).points
    assert [p.values for p in a] == [p.values for p in b] and len(a) == 8
    assert all(isinstance(p.values["rentals[0].price_usd_per_unit_hour"], int) for p in a)
    table = run(tmp_path, growth_instance(), {k: v for k, v in spec.items() if k != "instance"}, plot=True)
    assert (table["status"] == "optimal").all()
    assert (tmp_path / "sweep" / "scatter.png").exists()


def test_bad_spec_exits_2_naming_spec_and_instance_paths(tmp_path):
    write(tmp_path, lead_rental_instance())
    spec = {"instance": "instance.json", "design": "grid", "metrics": ["objective", "profit"], "parameters": [
        {"path": "sites[3].expansion.lead_quarters", "values": [1]},
        {"path": "sites[0].expansion.lead_quarter", "values": [1]},
        {"path": "rentals[0].price_usd_per_unit_hour", "values": ["cheap"]},
        {"path": "purchases[0].first_quarter", "mode": "scale", "values": [2]},
        {"name": "status", "path": "horizon.discount_rate", "values": [0.1]}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    result = CliRunner().invoke(app, ["sweep", str(tmp_path / "spec.json"), "--out", str(tmp_path / "o")])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    text = result.stderr
    assert "Traceback" not in result.output
    assert "metrics[1]: unknown metric" in text
    assert "parameters[0].path: 'sites[3].expansion.lead_quarters' names no value of" in text
    assert "sites has 1 entries" in text
    assert "parameters[1].path:" in text and "no key 'lead_quarter'" in text
    assert "parameters[4].name: is a reserved results column" in text
    # shape problems of values are found once the paths are right
    spec["parameters"] = spec["parameters"][2:4]
    spec["metrics"] = ["objective"]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    result = CliRunner().invoke(app, ["sweep", str(tmp_path / "spec.json"), "--out", str(tmp_path / "o")])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "parameters[0].values[0]: makes rentals[0].price_usd_per_unit_hour invalid" in result.stderr
    assert "parameters[1].values[0]: mode 'scale' applies to numbers" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("spec, where", [
    ({"parameters": []}, "parameters"),
    ({"parameters": [{"path": "horizon.discount_rate"}]}, "parameters[0]: design 'grid' needs 'values' or 'range'"),
    ({"design": "lhs", "parameters": [{"path": "horizon.discount_rate", "low": 0, "high": 1}]}, "samples"),
    ({"parameters": [{"path": "horizon.last_quarter", "values": ["2027Q4"]}]}, "parameters[0].path: cannot be swept"),
    ({"parameters": [{"path": "sites[0]..pue", "values": [1]}]}, "is not a path"),
    ({"parameters": [{"path": "x", "knob": "lease_prices", "values": [1]}]}, "give either 'path' or 'knob'"),
    ({"parameters": [{"knob": "lease_price", "values": [1]}]}, "unknown knob"),
    ({"parameters": [{"path": "horizon.discount_rate", "range": {"start": 0, "stop": 1}}]}, "parameters[0].range"),
    ({"instance": "missing.json", "parameters": [{"path": "horizon.discount_rate", "values": [0]}]}, "instance"),
    ({"parameters": [{"path": "horizon.discount_rate", "values": [0]}], "colour": 1}, "colour"),
    ({"parameters": [{"name": "nothing", "path": [], "values": [1]}]}, "parameters[0].path"),
    ({"design": "lhs", "samples": 1, "parameters": [{"knob": "rental_prices", "range": {"start": 2, "stop": 1,
                                                                                         "step": 1}}]},
     "parameters[0].range: gives no values"),  # an IndexError before: the hypercube drew from an empty list
    # (1e9 − 0.5) / 0.5 + 1 = 2e9 values: a MemoryError traceback before the rule (under a 4 GB limit)
    ({"parameters": [{"knob": "rental_prices", "range": {"start": 0.5, "stop": 1e9, "step": 0.5}}]},
     "parameters[0].range: gives 2,000,000,000 values; at most 100,000"),
    ({"parameters": [{"knob": "rental_prices", "range": {"start": -1e308, "stop": 1e308, "step": 1}}]},
     "gives over 1e308 values; at most 100,000"),
    # 100,000 × 100,000 = 1e10 grid points, listed before any solve; one at a time: 1 + 2 × 100,000
    ({"parameters": [{"knob": "rental_prices", "range": {"start": 0.5, "stop": 2, "num": 100000}},
                     {"path": "rentals[0].available_units", "range": {"start": 1, "stop": 2, "num": 100000}}]},
     "parameters: design 'grid' gives 10,000,000,000 points; at most 1,000,000"),
])
def test_spec_problems_have_paths(tmp_path, spec, where):
    write(tmp_path, lead_rental_instance())
    with pytest.raises(InstanceError) as caught:
        load_spec({"instance": "instance.json", **spec}, base_dir=tmp_path)
    assert any(str(p).startswith(where) or where in str(p) for p in caught.value.problems), caught.value


def test_cli_sweep_end_to_end(tmp_path):
    write(tmp_path, lead_rental_instance())
    spec = {"instance": "instance.json", "design": "one_at_a_time", "solve": {"gap": 0},
            "parameters": [{"knob": "lead_quarters", "values": [-1, 1, 2]},
                           {"knob": "rental_prices", "range": {"start": 0.5, "stop": 1.5, "num": 3}}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    result = CliRunner().invoke(app, ["sweep", str(tmp_path / "spec.json"), "--out", str(tmp_path / "o"),
                                      "--workers", "1"])
    assert result.exit_code == EXIT_OK, result.output
    assert "persistent" in result.stdout
    table = pd.read_csv(tmp_path / "o" / "results.csv").sort_values("point")  # rows in the order they finished
    # base: lead 1 at $100/h; lead 0, 2, 3; price ×0.5 and ×1.5 (×1 is the base point)
    assert list(table["varied"]) == ["base", "lead_quarters", "lead_quarters", "lead_quarters", "rental_prices",
                                     "rental_prices"]
    expected = [10 * lead * 100 * scale * RATE for lead, scale in
                [(1, 1), (0, 1), (2, 1), (3, 1), (1, 0.5), (1, 1.5)]]
    assert table["objective"].to_numpy() == pytest.approx(expected, abs=1e-6)
    assert (tmp_path / "o" / "tornado.png").exists()


def test_one_sweep_at_a_time_per_directory(tmp_path):
    from procure.sweeps.run import _exclusive

    out = tmp_path / "o"
    out.mkdir()
    with _exclusive(out):  # as a running sweep holds it
        with pytest.raises(OSError, match="in use by another sweep"):
            run(tmp_path, lead_rental_instance(), {"parameters": [{"path": "horizon.discount_rate", "values": [0]}]},
                name="o")
    assert not (out / "results.csv").exists()
    table = run(tmp_path, lead_rental_instance(), {"parameters": [{"path": "horizon.discount_rate", "values": [0]}]},
                name="o")  # once it is released
    assert len(table) == 1


def test_resume_on_a_mangled_journal_is_a_clear_error(tmp_path):
    spec = {"parameters": [{"path": "rentals[0].price_usd_per_unit_hour", "values": [50, 100]}]}
    run(tmp_path, lead_rental_instance(), spec)
    journal = tmp_path / "sweep" / "results.csv"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:2] + [lines[2] + "," + lines[1]]) + "\n")  # two writers' rows run together
    with pytest.raises(InstanceError, match="line 3"):
        run(tmp_path, lead_rental_instance(), spec, resume=True)


def test_default_directory_stays_inside_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, lead_rental_instance())
    spec = {"instance": "instance.json", "name": "../../escaped",
            "parameters": [{"path": "horizon.discount_rate", "values": [0]}]}
    procure.sweep(spec, base_dir=tmp_path, progress=False, workers=1, plot=False)
    assert (tmp_path / "out" / "escaped" / "results.csv").exists()
    assert not (tmp_path.parent.parent / "escaped").exists()


def test_cli_time_limit_zero_is_a_usage_error(tmp_path):
    write(tmp_path, lead_rental_instance())
    (tmp_path / "spec.json").write_text(json.dumps(
        {"instance": "instance.json", "parameters": [{"path": "horizon.discount_rate", "values": [0]}]}))
    result = CliRunner().invoke(app, ["sweep", str(tmp_path / "spec.json"), "--time-limit", "0"])
    assert result.exit_code == EXIT_BAD_INPUT and "--time-limit must be above 0" in result.stderr


# ------------------------------------------------------------------------------------- strategy
@pytest.fixture(scope="module")
def strategy_tables(tmp_path_factory):
    """small.json (124 integers, enough for auto to stage) and the same with dearer leases, under each
    strategy: about 5 s per point."""
    tables = {}
    for strategy in ("auto", "staged", "direct"):
        spec = {"instance": str(Path(__file__).resolve().parents[1] / "instances" / "small.json"),
                "design": "zip", "solve": {"gap": 1e-4, "strategy": strategy},
                "parameters": [{"knob": "lease_prices", "values": [1.0, 1.2]}]}
        out = tmp_path_factory.mktemp(strategy)
        tables[strategy] = procure.sweep(spec, out=out, base_dir=out, workers=1, progress=False,
                                         plot=False).sort_values("point").reset_index(drop=True)
    return tables


@pytest.mark.parametrize("strategy, used", [("auto", ["staged", "direct"]), ("staged", ["staged"] * 2),
                                            ("direct", ["direct"] * 2)])
def test_strategy_per_point(strategy_tables, strategy, used):
    # auto stages only the first point, which starts cold; the next re-solves in place from its plan
    from test_pinned_objectives import SMALL

    table = strategy_tables[strategy]
    assert list(table["strategy"]) == used
    assert list(table["warm_start"]) == [False, True]
    assert list(table["mode"]) == ["build", "persistent"]
    assert (table["status"] == "optimal").all()
    assert table["objective"].iloc[0] == pytest.approx(SMALL, rel=1e-4)  # pinned at gap 1e-4
    # dearer leases cost more: the re-priced point really was re-solved
    assert table["objective"].iloc[0] < table["objective"].iloc[1]
    assert (table["bound"] <= table["objective"] + 1e-6).all() and (table["gap"] <= 1e-4).all()


def test_strategies_agree_within_the_gap(strategy_tables):
    # each point's plan is proven within 1e-4 of the optimum, so any two strategies are within 2e-4
    direct = strategy_tables["direct"]
    for strategy in ("auto", "staged"):
        table = strategy_tables[strategy]
        assert table["objective"].to_numpy() == pytest.approx(direct["objective"].to_numpy(), rel=2e-4)
        assert (table["bound"] <= direct["objective"] * (1 + 1e-9)).all()



def test_a_range_may_give_100000_values_and_no_more():
    from pydantic import ValidationError

    from procure.sweeps.spec import Range

    assert len(Range(start=0.5, stop=99_999.5, step=1).values()) == 100_000  # (99,999.5 − 0.5) / 1 + 1
    with pytest.raises(ValidationError, match="gives 100,001 values"):
        Range(start=0.5, stop=100_000.5, step=1)


def test_a_grid_of_just_over_a_million_points_is_refused_before_it_is_listed(tmp_path):
    # 1,001 × 1,000 = 1,001,000 points
    write(tmp_path, lead_rental_instance())
    spec = {"instance": "instance.json",
            "parameters": [{"knob": "rental_prices", "range": {"start": 1, "stop": 2, "num": 1001}},
                           {"path": "rentals[0].available_units", "range": {"start": 1, "stop": 2, "num": 1000}}]}
    with pytest.raises(InstanceError, match="gives 1,001,000 points; at most 1,000,000"):
        load_spec(spec, base_dir=tmp_path)
