"""The staged strategy (procure/solving/staged.py) and the warm start it relies on."""

from __future__ import annotations

import json
from collections import defaultdict

import pyomo.environ as pyo
import pytest
from typer.testing import CliRunner

import procure
from procure.api import load
from procure.cli import app
from procure.inputs.data import build_data
from procure.model import build_model
from procure.solving.solve import HighsSession, SolveOptions
from procure.solving import staged
from procure.solving.staged import round_leases, round_lots, solve_staged

from helpers import CATALOG, base_instance, lease_offer, load as load_hand, site, with_catalog_change, write
from test_pinned_objectives import SMALL


def _relaxed_lots_solution(path):
    """``small.json``/``meta.json`` solved with purchase lots continuous (as the staged blocks stage leaves them)."""
    data = build_data(load(path))
    model = build_model(data)
    for v in model.lots_to_date.values():
        v.domain = pyo.NonNegativeReals
    result = HighsSession(model).solve(SolveOptions(gap=1e-3, time_limit=60))
    assert result.has_solution
    return model, data


def test_a_start_is_used_by_highs(root):
    # With no branching and no heuristics HiGHS finds nothing on its own; handed the plan it reports it.
    data = build_data(load(root / "instances" / "small.json"))
    solved = build_model(data)
    reference = HighsSession(solved).solve(SolveOptions(gap=1e-2))
    fresh = build_model(data)
    values = {id(new): old.value for old, new in zip(solved.component_data_objects(pyo.Var),
                                                     fresh.component_data_objects(pyo.Var))
              if old.value is not None}
    session = HighsSession(fresh)
    crippled = SolveOptions(gap=1e-9, solver_options={"mip_max_nodes": 0, "mip_heuristic_effort": 0.0})
    assert not session.solve(crippled).has_solution
    started = session.solve(crippled, start=values)
    assert started.has_solution
    assert started.objective == pytest.approx(reference.objective, rel=1e-9)


@pytest.mark.parametrize("instance", ["small.json", "meta.json"])
def test_rounded_lots_are_integral_monotone_and_within_supply_and_budget(root, instance):
    model, data = _relaxed_lots_solution(root / "instances" / instance)
    fractional = {k: v.value for k, v in model.lots_to_date.items()}
    rounded_by_id = round_lots(model, data)
    rounded = {k: rounded_by_id[id(v)] for k, v in model.lots_to_date.items()}
    assert any(abs(x - round(x)) > 1e-6 for x in fractional.values())  # there was something to round
    before = {}
    for (a, i, r, t), value in rounded.items():
        assert value >= 0 and value == int(value)
        parent = data.parent_node[r, t]
        before[a, i, r, t] = rounded.get((a, i, *parent), 0) if parent else 0
        assert value >= before[a, i, r, t]  # running totals never fall: no negative purchase
    bought = defaultdict(float)
    for (a, i, r, t), value in rounded.items():
        bought[a, t, r] += data.buy_lot[a] * (value - before[a, i, r, t])
    for (a, t, r), units in bought.items():
        cap = data.supply_cap.get((a, t))
        if cap is not None:
            assert units <= cap + 1e-6
    for row in model.budget.values():  # round_lots leaves the rounded totals and their increments in place
        assert pyo.value(row.body) <= pyo.value(row.upper) + 1e-6


def _hand_model(tmp_path, inst, catalog):
    data = build_data(load_hand(tmp_path, inst, catalog))
    return build_model(data), data


def test_rounding_trims_to_the_supply_cap_at_the_site_rounded_up_most(tmp_path):
    # G in lots of 10 units, at most 25 units bought per quarter, two sites. Fractional lots 1.2 and 1.3
    # (25 units) round up to 2 and 2 = 40 units > 25: one lot off s1 (rounded up by 0.8, more than s2's
    # 0.7) leaves 30 > 25, then one off s2 (now rounded up most, 0.7 against s1's −0.2): 1 and 1 = 20.
    catalog = with_catalog_change("G", lot_size=10, supply_cap_units=25)
    inst = base_instance(quarters=1, demand=[0])
    inst["sites"] = [site("s1", mw=100), site("s2", mw=100)]
    inst["purchases"] = [{"accelerator": "G"}]
    model, data = _hand_model(tmp_path, inst, catalog)
    model.lots_to_date["G", "s1", "base", 0].set_value(1.2)
    model.lots_to_date["G", "s2", "base", 0].set_value(1.3)
    rounded = round_lots(model, data)
    assert rounded[id(model.lots_to_date["G", "s1", "base", 0])] == 1
    assert rounded[id(model.lots_to_date["G", "s2", "base", 0])] == 1


def test_rounding_trims_to_the_capex_budget_without_moving_spend_to_another_year(tmp_path):
    # G at $1M a unit, lots of 1, budget $2.5M a year; two quarters of 2026. Fractional totals 1.6 and 2.5
    # (spend 2.5) round up to 2 and 3 (spend 3 > 2.5). Q2's total was rounded up most (0.5 against 0.4):
    # Q2 drops to 2 (its subtree is Q2 alone), spend 2 ≤ 2.5, and Q1 keeps its 2.
    inst = base_instance(quarters=2, demand=[0, 0])
    inst["sites"] = [site("s1", mw=100)]
    inst["purchases"] = [{"accelerator": "G"}]
    inst["policy"]["capex_budget_musd_per_year"] = 2.5
    model, data = _hand_model(tmp_path, inst, with_catalog_change("G"))
    model.lots_to_date["G", "s1", "base", 0].set_value(1.6)
    model.lots_to_date["G", "s1", "base", 1].set_value(2.5)
    rounded = round_lots(model, data)
    assert rounded[id(model.lots_to_date["G", "s1", "base", 0])] == 2
    assert rounded[id(model.lots_to_date["G", "s1", "base", 1])] == 2
    row = next(iter(model.budget.values()))
    assert pyo.value(row.body) == pytest.approx(2.0)


def test_lease_rounding_trims_to_the_provider_cap_at_the_signing_rounded_up_most(tmp_path):
    # Two offers of provider "cloud" (cap 25 units), lots of 10, one quarter. Relaxed lots 1.6 and 0.9
    # (25 units) round to their nearest, 2 and 1 = 30 units > 25: one lot off the signing rounded up most
    # ("a": 2 − 1.6 = 0.4, against "b"'s 1 − 0.9 = 0.1) leaves 1 and 1 = 20 ≤ 25.
    inst = base_instance(quarters=1, demand=[0])
    inst["providers"] = [{"id": "cloud", "capacity_units": 25}]
    inst["lease_offers"] = [lease_offer(o, terms={1: 1.0}, max_units=30, lot_size=10) for o in ("a", "b")]
    model, data = _hand_model(tmp_path, inst, CATALOG)
    model.lease_lots_to_date["a", 1, "base", 0].set_value(1.6)
    model.lease_lots_to_date["b", 1, "base", 0].set_value(0.9)
    rounded = round_leases(model, data)
    assert rounded[id(model.lease_lots_to_date["a", 1, "base", 0])] == 1
    assert rounded[id(model.lease_lots_to_date["b", 1, "base", 0])] == 1


def test_lease_rounding_keeps_one_signing_within_max_units_across_its_terms(tmp_path):
    # One start, terms of 1, 2 and 3 quarters, at most 20 units (2 lots of 10) per signing. Relaxed lots
    # 0.7, 0.7 and 0.6 (20 units) round to 1, 1 and 1 = 3 lots > 2: one lot off the term rounded up most
    # (3 quarters: 1 − 0.6 = 0.4, against 0.3 for the others) leaves 1, 1 and 0.
    inst = base_instance(quarters=1, demand=[0])
    inst["lease_offers"] = [lease_offer(terms={1: 1.0, 2: 1.0, 3: 1.0}, max_units=20, lot_size=10)]
    model, data = _hand_model(tmp_path, inst, CATALOG)
    for term, value in ((1, 0.7), (2, 0.7), (3, 0.6)):
        model.lease_lots_to_date["l", term, "base", 0].set_value(value)
    rounded = round_leases(model, data)
    assert [rounded[id(model.lease_lots_to_date["l", term, "base", 0])] for term in (1, 2, 3)] == [1, 1, 0]


@pytest.mark.parametrize("threshold, expected", [(0.0, (2, 3)), (0.3, (2, 2)), (0.7, (1, 2))])
def test_rounding_rounds_up_above_the_threshold_never_below_the_parent(tmp_path, threshold, expected):
    # Totals 1.6 (Q1) and 2.25 (Q2). Threshold 0 is the ceiling: 2 and 3. At 0.3, 1.6 rounds up (0.6 > 0.3)
    # and 2.25 down (0.25 ≤ 0.3): 2 and 2. At 0.7, 1.6 rounds down to 1 and 2.25 down to 2.
    inst = base_instance(quarters=2, demand=[0, 0])
    inst["sites"] = [site("s1", mw=100)]
    inst["purchases"] = [{"accelerator": "G"}]
    model, data = _hand_model(tmp_path, inst, with_catalog_change("G"))
    model.lots_to_date["G", "s1", "base", 0].set_value(1.6)
    model.lots_to_date["G", "s1", "base", 1].set_value(2.25)
    rounded = round_lots(model, data, threshold)
    assert (rounded[id(model.lots_to_date["G", "s1", "base", 0])],
            rounded[id(model.lots_to_date["G", "s1", "base", 1])]) == expected


def test_rounded_plan_is_the_cheapest_of_the_thresholds(root, monkeypatch):
    # Stage 1 is the same in every run (no time limit: deterministic); the rounded stage keeps the cheapest
    # of its completed plans, so with every threshold it matches the best run given one threshold alone, and
    # on small.json that beats the ceiling (the only rounding before the thresholds)
    data = build_data(load(root / "instances" / "small.json"))

    def rounded_objective(thresholds):
        monkeypatch.setattr(staged, "ROUNDING_THRESHOLDS", thresholds)
        model = build_model(data)
        _, stages = solve_staged(model, data, SolveOptions(gap=1e-3))
        (stage,) = [s for s in stages if s.name == "lots (rounded)"]
        return stage.objective

    every = staged.ROUNDING_THRESHOLDS
    alone = {t: rounded_objective((t,)) for t in every}
    together = rounded_objective(every)
    assert together == pytest.approx(min(alone.values()), rel=1e-12)
    assert together < alone[0.0] - 1e-6


def test_staged_reaches_the_pinned_small_optimum_with_a_valid_bound(root):
    plan = procure.solve(root / "instances" / "small.json", gap=1e-4, strategy="staged")
    assert plan.summary["strategy"] == "staged"
    assert plan.status == "optimal"
    assert plan.summary["objective"] == pytest.approx(SMALL, rel=1e-4)
    assert plan.summary["bound"] <= SMALL * (1 + 1e-9)
    names = [stage["stage"] for stage in plan.summary["stages"]]
    assert names[:3] == ["bound", "blocks", "lots (rounded)"]
    # stage 1 keeps only the block sums whole: its bound is a lower bound of the full model
    assert plan.summary["stages"][0]["bound"] <= SMALL * (1 + 1e-9)


def test_staged_keeps_its_time_limit(root):
    data = build_data(load(root / "instances" / "meta.json"))
    model = build_model(data)
    # 12 s: calibrated meta.json's bound stage (0.7 of the limit) needs its root, 3–6 s, before it has a bound
    result, stages = solve_staged(model, data, SolveOptions(time_limit=12, gap=1e-6))
    assert result.status in ("feasible", "no_solution")  # 1e-6 is out of reach in 12 s
    assert result.termination.startswith("staged: ")
    assert result.bound is not None and (not result.has_solution or result.bound <= result.objective)
    # a limit, not a benchmark: generous slack for Pyomo's bookkeeping between the stages
    assert result.seconds < 12 + 10
    assert sum(stage.seconds for stage in stages) <= result.seconds + 1e-6


def test_stage_one_plan_is_completed_when_it_used_up_the_limit(root, monkeypatch):
    # Stage 1 given the whole limit (share 1.0) cannot prove 5e-7 on meta.json in 10 s, so it stops at
    # the limit with a plan of its relaxation (block sums whole, blocks continuous). With no second left,
    # the blocks search is skipped and the rounding rounds the blocks and leases to their nearest whole
    # too; the rounded plan's LP must still run, past the limit by at most COMPLETION_MIN_SECONDS, rather
    # than throw that plan away; the lots search, with no time left, is skipped.
    monkeypatch.setitem(staged.STAGE_SHARE, "bound", 1.0)
    data = build_data(load(root / "instances" / "meta.json"))
    model = build_model(data)
    result, stages = solve_staged(model, data, SolveOptions(time_limit=10, gap=1e-6))
    assert stages[0].name == "bound" and stages[0].status == "feasible"
    assert [stage.name for stage in stages[1:]] == ["lots (rounded)"]
    assert result.has_solution and result.status == "feasible"
    assert result.termination == "staged: maxTimeLimit (no time for the full stage)"
    assert stages[0].bound <= result.bound <= result.objective
    assert all(abs(v.value - round(v.value)) < 1e-6 for v in model.blocks_to_date.values())
    assert result.seconds < 10 + staged.COMPLETION_MIN_SECONDS + 10


def test_staged_returns_a_plan_at_its_limit(root):
    # small.json is proven to 1e-9 in ~4 s (3.4 s of it the full stage): 2 s stop the full stage at its limit
    plan = procure.solve(root / "instances" / "small.json", gap=1e-9, time_limit=2, strategy="staged")
    assert plan.status == "feasible" and plan.summary["has_plan"]
    assert plan.summary["bound"] <= plan.summary["objective"]
    assert plan.summary["objective"] == pytest.approx(SMALL, rel=5e-3)


def test_unknown_strategy_is_a_clear_error(root):
    result = CliRunner().invoke(app, ["solve", str(root / "instances" / "tiny.json"), "--strategy", "fastest",
                                      "--no-report"])
    assert result.exit_code == 2
    assert "--strategy must be one of auto, direct, staged" in result.output
    assert "Traceback" not in result.output


def test_staged_pushes_its_own_changes_in_a_session_without_auto_updates(root):
    # Sweeps solve with Pyomo's automatic model scan off; the stages must push their domain and bound
    # changes themselves, and undo them in HiGHS too.
    data = build_data(load(root / "instances" / "small.json"))
    model = build_model(data)
    session = HighsSession(model)
    session.stop_auto_updates()
    result, stages = solve_staged(model, data, SolveOptions(gap=1e-4), session=session)
    assert result.objective == pytest.approx(SMALL, rel=1e-4)
    # stage 1 solved the relaxation (optimum 1356.25 $M, below the full model's proven bound of
    # 1359.42 $M), so the relaxed domains (lots, blocks and leases continuous) reached HiGHS
    assert stages[0].objective < 1359.0
    # and back: a plain re-solve in the same session is the full MILP again, with whole lots
    again = session.solve(SolveOptions(gap=1e-4))
    assert again.objective == pytest.approx(SMALL, rel=1e-4)
    assert all(abs(v.value - round(v.value)) < 1e-6 for v in model.lots_to_date.values())
    assert all(v.lb in (None, 0) and v.ub is None for v in model.lots_to_date.values())


@pytest.mark.parametrize("left, stage1_seconds, runs", [
    (11.5, 42.0, False),   # 11.5 < 0.2 × 60, and stage 1 used its 42 s share: the full root may not fit
    (11.5, 0.1, True),     # stage 1 finished in 0.1 s (an easy model, m): 11.5 ≥ 3 × 0.1
    (10.0, 5.0, False),    # finished early, but 10 < 3 × 5
    (13.0, 42.0, True),    # 13 ≥ 0.2 × 60 whatever stage 1 took
    (0.5, 0.1, False),     # under a second is never worth a full stage
])
def test_time_for_full_stage(left, stage1_seconds, runs):
    from procure.solving.solve import SolveResult
    from procure.solving.staged import _time_for_full_stage

    first = SolveResult("optimal", "convergenceCriteriaSatisfied", 1.0, 1.0, 0.0, stage1_seconds, "highs")
    assert _time_for_full_stage(left, first, 60.0) is runs


def test_staged_on_a_model_with_nothing_to_stage_solves_directly(tmp_path):
    # no expansion and no purchases: no blocks or lots to stage (this crashed with an IndexError).
    # 10, 10, 20, 20 H100e over four quarters, rented at $300/h: 60 unit-quarters × 2,190 h × $300
    # = $39.42 M, undiscounted (rate 0).
    inst = base_instance(quarters=4, demand=[10, 10, 20, 20])
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "G", "price_usd_per_unit_hour": 300,
                        "available_units": 50}]
    path = write(tmp_path, inst)
    result = CliRunner().invoke(app, ["solve", str(path), "--strategy", "staged", "--json", "--no-report",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["strategy"] == "direct" and summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(60 * 2190 * 300 / 1e6, rel=1e-9)


@pytest.mark.parametrize("bound, gap", [(100.0, 0.01), (150_656.59, 1e-4), (-50.0, 0.02), (0.0, 1e-4)])
def test_target_objective_is_the_highest_plan_that_meets_the_gap(bound, gap):
    # relative_gap(z, bound) = (z − bound) / |z|: for bound 100 and gap 1 %, z ≤ 100 / 0.99 = 101.0101...
    from procure.solving.solve import relative_gap

    target = staged.target_objective(bound, gap)
    assert relative_gap(target, bound) <= gap
    assert relative_gap(target + 1e-6 * max(abs(target), 1.0), bound) > gap  # a hair above it does not
    if bound == 100.0:
        assert target == pytest.approx(100 / 0.99, rel=1e-8)


def test_no_target_without_a_finite_bound():
    assert staged.target_objective(None, 1e-4) is None
    assert staged.target_objective(float("-inf"), 1e-4) is None


def test_a_stage_stops_at_the_target_and_the_next_solve_does_not_inherit_it(root):
    # small.json at gap 1 %: the lots search starts from a rounded plan already within 1 % of stage 1's
    # bound, so HiGHS stops at its objective target ("objectiveLimit"). HiGHS keeps options between solves:
    # a plain solve on the same session afterwards must still run to the proven optimum, not stop at once.
    from procure.solving.solve import highs_options
    from test_pinned_objectives import SMALL_OPTIMUM

    data = build_data(load(root / "instances" / "small.json"))
    model = build_model(data)
    session = HighsSession(model)
    result, stages = solve_staged(model, data, SolveOptions(gap=1e-2), session=session)
    lots = next(s for s in stages if s.name == "lots")
    assert lots.termination == "objectiveLimit"
    assert result.status == "optimal" and result.gap <= 1e-2
    again = session.solve(SolveOptions(gap=1e-9))
    assert again.termination == "convergenceCriteriaSatisfied"
    assert again.objective == pytest.approx(SMALL_OPTIMUM, rel=1e-7)
    assert highs_options(SolveOptions())["objective_target"] == float("-inf")
    assert highs_options(SolveOptions(solver_options={"objective_target": 5.0}))["objective_target"] == 5.0


def test_a_solve_without_limits_does_not_inherit_an_earlier_limit(root):
    # Pyomo passes time_limit and threads to HiGHS only when given; HiGHS keeps options between solves (and
    # counts its run time across them). A solve with no limit after one with a tiny limit must run to the end.
    from procure.solving.solve import highs_options
    from test_pinned_objectives import SMALL_OPTIMUM

    model = build_model(build_data(load(root / "instances" / "small.json")))
    session = HighsSession(model)
    first = session.solve(SolveOptions(gap=1e-9, time_limit=0.01, threads=2))
    assert first.termination != "convergenceCriteriaSatisfied"
    again = session.solve(SolveOptions(gap=1e-9))
    assert again.termination == "convergenceCriteriaSatisfied"
    assert again.objective == pytest.approx(SMALL_OPTIMUM, rel=1e-7)
    assert highs_options(SolveOptions())["time_limit"] == float("inf")
    assert "time_limit" not in highs_options(SolveOptions(time_limit=5.0))  # Pyomo passes a given limit


def _kinds(model):
    """Per integer family of ``model``: "integer", "held" (every column's bounds equal) or "continuous"."""
    families = {"sums": getattr(model, "group_blocks_online", {}), "blocks": model.blocks_to_date,
                "lots": model.lots_to_date, "leases": model.lease_lots_to_date}
    kinds = {}
    for name, var in families.items():
        columns = [v for v in var.values() if not v.fixed]
        if not columns:
            continue
        if all(v.lb is not None and v.lb == v.ub for v in columns):
            kinds[name] = "held"
        else:
            kinds[name] = "integer" if all(v.is_integer() for v in columns) else "continuous"
    return kinds


def _recorded_staged_solve(monkeypatch, model, data, options):
    """Run the staged solve, recording for every HiGHS solve: (kinds of the integer families, requested gap,
    the sub-MIP heuristic options passed)."""
    seen = []
    solve = HighsSession.solve

    def recording(self, options=SolveOptions(), start=None, stoppable=True):
        heuristics = {options.solver_options.get(k) for k in staged.SUB_MIP_HEURISTICS}
        seen.append((_kinds(self.model), options.gap, heuristics))
        return solve(self, options, start, stoppable)

    monkeypatch.setattr(HighsSession, "solve", recording)
    session = HighsSession(model)
    result, stages = solve_staged(model, data, options, session=session)
    monkeypatch.setattr(HighsSession, "solve", solve)
    return result, stages, seen, session


def test_each_stage_keeps_whole_holds_and_aims_at_what_it_says(root, monkeypatch):
    # small.json at gap 1e-9, so that every stage runs. What HiGHS is given at each solve, in order: the
    # bound stage (only the block sums whole, sub-MIP heuristics off, a tenth of the gap), the blocks stage
    # (sums held, blocks and leases whole, lots continuous, a tenth), the rounded plans' LPs (every integer
    # held, the gap), the lots search (blocks and leases held, lots whole, half the gap), the full stage
    # (everything whole, the sums implied by them, the gap): staged.STAGE_GAP_FRACTION.
    data = build_data(load(root / "instances" / "small.json"))
    model = build_model(data)
    result, stages, seen, session = _recorded_staged_solve(monkeypatch, model, data,
                                                           SolveOptions(gap=1e-9, time_limit=60))
    assert [s.name for s in stages] == ["bound", "blocks", "lots (rounded)", "lots", "full"]
    every = len(staged.ROUNDING_THRESHOLDS)
    assert [kinds for kinds, _, _ in seen] == (
        [{"sums": "integer", "blocks": "continuous", "lots": "continuous", "leases": "continuous"},
         {"sums": "held", "blocks": "integer", "lots": "continuous", "leases": "integer"}]
        + [{"sums": "continuous", "blocks": "held", "lots": "held", "leases": "held"}] * every
        + [{"sums": "continuous", "blocks": "held", "lots": "integer", "leases": "held"},
           {"sums": "continuous", "blocks": "integer", "lots": "integer", "leases": "integer"}])
    assert [gap for _, gap, _ in seen] == [pytest.approx(g) for g in [1e-10, 1e-10] + [1e-9] * every
                                           + [5e-10, 1e-9]]
    assert seen[0][2] == {False} and all(heuristics == {None} for _, _, heuristics in seen[1:])
    # and HiGHS is handed back what it had: the next plain solve runs its sub-MIP heuristics (options stay
    # on a HiGHS object between solves), with the sums continuous and the blocks, lots and leases whole
    again = session.solve(SolveOptions(gap=1e-9))
    assert again.objective == pytest.approx(result.objective, rel=1e-7)
    assert all(session.highs.getOptionValue(k)[1] is True for k in staged.SUB_MIP_HEURISTICS)
    import highspy
    column = session.solver._pyomo_var_to_solver_var_map
    integrality = session.highs.getLp().integrality_
    kind = {name: {integrality[column[id(v)]] for v in getattr(model, name).values()}
            for name in ("group_blocks_online", "blocks_to_date", "lots_to_date", "lease_lots_to_date")}
    assert kind["group_blocks_online"] == {highspy.HighsVarType.kContinuous}
    assert all(kind[name] == {highspy.HighsVarType.kInteger}
               for name in ("blocks_to_date", "lots_to_date", "lease_lots_to_date"))
    assert all(v.lb in (None, 0) and v.ub is None for v in model.group_blocks_online.values())


def test_without_the_block_sums_the_bound_stage_keeps_the_blocks_whole(root, monkeypatch):
    # A model built with block_groups=False: stage 1 is the blocks relaxation (blocks whole, lots and leases
    # continuous), stage 2 holds the blocks and searches the leases; the proven optimum is reached as with
    # the sums (SMALL_OPTIMUM at gap 1e-9, stage 1's bound below it)
    from test_pinned_objectives import SMALL_OPTIMUM

    data = build_data(load(root / "instances" / "small.json"))
    model = build_model(data, block_groups=False)
    result, stages, seen, _ = _recorded_staged_solve(monkeypatch, model, data, SolveOptions(gap=1e-9))
    assert [s.name for s in stages][:2] == ["bound", "blocks"]
    assert seen[0][0] == {"blocks": "integer", "lots": "continuous", "leases": "continuous"}
    assert seen[1][0] == {"blocks": "held", "lots": "continuous", "leases": "integer"}
    assert stages[0].bound <= SMALL_OPTIMUM * (1 + 1e-9)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(SMALL_OPTIMUM, rel=1e-7)


def _staged_with_held_blocks_stage_ending(root, monkeypatch, status, termination):
    """small.json staged at gap 1e-4, with the blocks stage that holds the sums reported as ending with
    ``status`` and no plan (HiGHS itself is not run for it)."""
    from procure.solving.solve import SolveResult

    solve = HighsSession.solve

    def held_blocks_stage_ends(self, options=SolveOptions(), start=None, stoppable=True):
        if _kinds(self.model).get("sums") == "held":
            return SolveResult(status, termination, None, None, None, 0.01, "highs")
        return solve(self, options, start, stoppable)

    monkeypatch.setattr(HighsSession, "solve", held_blocks_stage_ends)
    data = build_data(load(root / "instances" / "small.json"))
    model = build_model(data)
    result, stages = solve_staged(model, data, SolveOptions(gap=1e-4))
    return model, result, stages


def test_blocks_stage_frees_the_sums_when_they_admit_no_whole_blocks(root, monkeypatch):
    # When HiGHS proves the held sums infeasible for whole blocks per site, the blocks stage runs again
    # with the sums free
    _, result, stages = _staged_with_held_blocks_stage_ending(root, monkeypatch, "infeasible", "provenInfeasible")
    assert [s.name for s in stages][:3] == ["bound", "blocks", "blocks (sums free)"]
    assert stages[1].status == "infeasible" and stages[2].status == "optimal"
    assert result.status == "optimal" and result.objective == pytest.approx(SMALL, rel=1e-4)


def test_a_blocks_stage_without_a_plan_leaves_the_bound_stage_plan_to_round(root, monkeypatch):
    # A blocks stage stopped before its first plan (a limit) is not retried: the bound stage's plan (blocks
    # fractional) is rounded and completed instead, and the search goes on from there
    model, result, stages = _staged_with_held_blocks_stage_ending(root, monkeypatch, "no_solution", "maxTimeLimit")
    assert [s.name for s in stages][:3] == ["bound", "blocks", "lots (rounded)"]
    assert stages[2].objective is not None  # the bound stage's plan, rounded, completed by the LP
    assert result.has_solution and result.bound <= result.objective
    assert all(abs(v.value - round(v.value)) < 1e-6 for v in model.blocks_to_date.values())


def test_rounded_leases_keep_every_signing_within_its_offers_minimum(tmp_path):
    # l (benchmarks.generator) has an offer with a minimum above one lot (512 units, lots of 256): the LP
    # relaxation's signings are fractional; rounded, every signing is whole, zero or at least the minimum,
    # and ``signed`` says which
    from benchmarks.generator import load_named
    from procure.solving.staged import round_leases

    data = build_data(load_named("l"))
    model = build_model(data, relax_integers=True)
    assert len(model.signed) > 0
    assert HighsSession(model).solve(SolveOptions()).status == "optimal"
    assert any(abs(v.value - round(v.value)) > 1e-6 for v in model.signed.values())
    rounded = round_leases(model, data)
    totals = {k: rounded[id(v)] for k, v in model.lease_lots_to_date.items()}
    for (o, L, r, t), total in totals.items():
        parent = data.parent_node[r, t]
        assert total >= (totals.get((o, L, *parent), 0) if parent else 0)  # monotone along the tree
    for (o, k, L, r, t), flag in model.signed.items():
        parent = data.parent_node[r, t]
        lots = totals[o, L, r, t] - (totals.get((o, L, *parent), 0) if parent else 0)
        assert rounded[id(flag)] == (1 if lots > 0 else 0)
        assert lots == 0 or data.offer_min_units[o] <= lots * data.offer_lot[o] <= data.offer_max_units[o]


def test_rounded_leases_drop_a_signing_below_the_minimum_with_its_subtree():
    # l's offer7: minimum 512 units, lots of 256, so a signing needs 2 lots. Totals of 1.2 lots from one
    # signing node on (its subtree) round to 1 lot: dropped there and at every later node of the subtree,
    # signed 0. Totals of 2.4 round to 2 lots: kept, signed 1.
    from benchmarks.generator import load_named
    from procure.solving.staged import round_leases, _subtree

    data = build_data(load_named("l"))
    model = build_model(data)
    for v in list(model.lease_lots_to_date.values()) + list(model.signed.values()):
        v.set_value(0, skip_validation=True)
    (o, k, L, r, t) = next(key for key in model.signed if key[4] > 0)
    node_totals = {key: None for key in model.lease_lots_to_date}
    subtree = _subtree(data, node_totals, (o, L, r, t))
    assert (o, L, r, t) in subtree
    for lots, kept in ((1.2, 0), (2.4, 2)):
        for key in subtree:
            model.lease_lots_to_date[key].set_value(lots, skip_validation=True)
        rounded = round_leases(model, data)
        assert all(rounded[id(model.lease_lots_to_date[key])] == kept for key in subtree)
        assert rounded[id(model.signed[o, k, L, r, t])] == (1 if kept else 0)
