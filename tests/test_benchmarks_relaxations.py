"""The relaxation driver: each row is the relaxation it names, its bound bounds the MILP, domains come back."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pyomo.environ as pyo
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.generator import load_named  # noqa: E402
from benchmarks.relaxations import (default_relaxations, integer_groups, main, parse_relaxation,  # noqa: E402
                                    solve_relaxations)
from procure.inputs.data import build_data  # noqa: E402
from procure.model import build_model  # noqa: E402
from procure.solving.solve import SolveOptions, solve_model  # noqa: E402
from helpers import base_instance, lease_offer, load, site  # noqa: E402
from test_pinned_objectives import SMALL_OPTIMUM  # noqa: E402


@pytest.fixture(scope="module")
def small():
    return build_data(load_named("small"))


def _lp(data) -> float:
    return solve_model(build_model(data, relax_integers=True), SolveOptions()).objective


def test_rows_are_the_relaxations_they_name(small):
    model = build_model(small)
    rows = {r["relaxation"]: r for r in solve_relaxations(model, ["none", "blocks", "leases", "all"], None, 1e-9, 1)}
    lp = _lp(small)
    # none: every integer column continuous, so the LP relaxation built by build_model(relax_integers=True)
    assert rows["none"]["bound"] == pytest.approx(lp, rel=1e-9)
    assert rows["none"]["integers"] == 0
    # all: the MILP itself, solved to its pinned optimum
    assert rows["all"]["objective"] == pytest.approx(SMALL_OPTIMUM, rel=1e-7)
    assert rows["all"]["integers"] == sum(1 for v in model.component_data_objects(pyo.Var) if v.is_integer())
    # a part keeps part of the gap: between the LP and the MILP, and above the LP here (small's leases
    # alone are worth 2.45 $M of its 3.86 $M integrality gap)
    for part in ("blocks", "leases"):
        assert lp - 1e-6 <= rows[part]["bound"] <= SMALL_OPTIMUM + 1e-6
    assert rows["leases"]["bound"] > lp + 1.0


def test_model_domains_are_restored_and_hold_in_highs(small):
    model = build_model(small)
    before = {id(v): v.domain for v in model.component_data_objects(pyo.Var)}
    solve_relaxations(model, ["none"], None, 1e-9, 1)
    assert {id(v): v.domain for v in model.component_data_objects(pyo.Var)} == before
    # the model solves as the MILP again (not the LP the last relaxation left in HiGHS)
    assert solve_model(model, SolveOptions(gap=1e-9)).objective == pytest.approx(SMALL_OPTIMUM, rel=1e-7)


def test_groups_and_their_names(small):
    model = build_model(small)
    groups = integer_groups(model)
    assert set(groups) >= {"blocks", "lots", "leases"}
    for family in ("blocks", "lots", "leases"):  # a family is the union of its narrowed groups
        narrowed = [v for g, vs in groups.items() if g.startswith(family + ":") for v in vs]
        assert sorted(map(id, narrowed)) == sorted(map(id, groups[family]))
    assert parse_relaxation("none", groups) == ()
    assert parse_relaxation("all", groups) == ("blocks", "lots", "leases")
    assert parse_relaxation("blocks + lots", groups) == ("blocks", "lots")
    with pytest.raises(ValueError, match="nosuch.*this instance has: none, all, blocks"):
        parse_relaxation("blocks+nosuch", groups)
    assert default_relaxations(groups)[0] == "none" and default_relaxations(groups)[-1] == "all"


def test_cli_usage_errors_exit_2(capsys):
    assert main(["nosuch"]) == 2
    assert "unknown instance: nosuch" in capsys.readouterr().err
    assert main(["tiny", "--keep", "blocks"]) == 2  # tiny has no power blocks
    assert "unknown group(s) in 'blocks': blocks" in capsys.readouterr().err
    assert main(["tiny", "--threads", "0"]) == 2
    assert "--threads must be ≥ 1" in capsys.readouterr().err


def test_cli_prints_the_table_and_the_best_bound(capsys):
    assert main(["tiny", "--keep", "none", "--keep", "all", "--time-limit", "10"]) == 0
    out = capsys.readouterr().out
    assert "| none | 0 | optimal | 26.25 | 26.25 | 0.00 |" in out  # tiny's LP is integral already
    assert "Best proven lower bound on the MILP: 26.25 $M" in out



def test_each_relaxation_starts_without_the_last_ones_solution(small, monkeypatch):
    # HiGHS keeps a MIP run's solution through a change of integrality and, finding it fractional, first
    # completes it with a sub-MIP that has the whole time limit to itself: on meta.json a 5 s lots-only
    # relaxation run after the blocks-only one took 10.1 s (5.05 s with the solution cleared).
    solve_module = importlib.import_module("procure.solving.solve")  # procure.solving.solve is also the package's solve()
    held, solve = [], solve_module._solve_highs

    def recording(model, options, solver=None, stoppable=True):
        held.append(solver._solver_model.getSolution().value_valid)
        return solve(model, options, solver, stoppable)

    monkeypatch.setattr(solve_module, "_solve_highs", recording)
    solve_relaxations(build_model(small), ["blocks", "lots", "all"], 2.0, 1e-4, 1)
    assert held == [False, False, False]


def test_binaries_relax_to_the_unit_interval_every_time(tmp_path, monkeypatch):
    # A lease offer with a minimum above one lot has a signing binary. Relaxed twice in a row it must relax
    # to [0, 1] both times, not to [0, ∞) once its domain no longer reads as binary.
    inst = base_instance(quarters=1, demand=[10])
    inst["lease_offers"] = [lease_offer(terms={1: 100}, min_units=20, max_units=30, lot_size=10)]
    model = build_model(build_data(load(tmp_path, inst)))
    signed = next(iter(model.signed.values()))
    solve_module = importlib.import_module("procure.solving.solve")
    seen, solve = [], solve_module._solve_highs

    def recording(model, options, solver=None, stoppable=True):
        seen.append(signed.domain)
        return solve(model, options, solver, stoppable)

    monkeypatch.setattr(solve_module, "_solve_highs", recording)
    solve_relaxations(model, ["none", "none", "leases"], None, 1e-9, 1)
    assert seen == [pyo.UnitInterval, pyo.UnitInterval, pyo.Binary]
    assert signed.domain is pyo.Binary


def test_cutoff_reaches_only_the_relaxations_with_integers_and_does_not_stay(small, monkeypatch):
    # A cutoff just above small.json's proven optimum keeps that plan: the MILP closes at it. Every solve
    # hands HiGHS an objective_bound, the cutoff where the relaxation has integer columns and none (inf)
    # elsewhere: HiGHS keeps options between solves, so an LP after a MILP would otherwise inherit it.
    lp = _lp(small)
    solve_module = importlib.import_module("procure.solving.solve")
    seen, solve = [], solve_module._solve_highs

    def recording(model, options, solver=None, stoppable=True):
        seen.append(solve_module.highs_options(options)["objective_bound"])  # what HiGHS is given
        return solve(model, options, solver, stoppable)

    monkeypatch.setattr(solve_module, "_solve_highs", recording)
    model = build_model(small)
    rows = {r["relaxation"]: r for r in solve_relaxations(model, ["all", "none"], None, 1e-9, 1, SMALL_OPTIMUM + 0.01)}
    assert rows["all"]["objective"] == pytest.approx(SMALL_OPTIMUM, rel=1e-7)
    assert rows["none"]["bound"] == pytest.approx(lp, rel=1e-9)
    assert seen == [SMALL_OPTIMUM + 0.01, math.inf]
    # a cutoff below the optimum prunes it away: HiGHS returns another plan (or none)
    below = solve_relaxations(model, ["all"], None, 1e-9, 1, SMALL_OPTIMUM - 1)[0]
    assert below["objective"] is None or below["objective"] > SMALL_OPTIMUM + 1


def _two_sites(tmp_path, demand: float):
    # One quarter; two sites with 1-MW blocks (lead 0, at most one each), each MW online costing 0.8 $M a
    # quarter in fixed opex (3.2 $M per MW-year); G nearly free, 1 MW and 1 H100e a unit; short H100e cost 1.
    inst = base_instance(quarters=1, demand=[demand])
    expansion = {"block_mw": 1, "max_blocks": 1, "lead_quarters": 0, "capex_musd_per_mw": 0}
    inst["sites"] = [site(s, fixed_opex_musd_per_mw_year=3.2, expansion=expansion) for s in ("s1", "s2")]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 1e-9}]
    return build_model(build_data(load(tmp_path, inst)))


def test_groups_keep_the_sum_of_blocks_whole(tmp_path):
    # Demand 1.5. The LP builds 1.5 blocks: 1.5 × 0.8 = 1.2. With whole blocks: one block and 0.5 short,
    # 0.8 + 0.5 = 1.3 (two blocks: 1.6; none: 1.5). Keeping only the sum of the two sites' blocks whole
    # (groups) costs the same 1.3: sum 1 → 0.8 + 0.5, sum 2 → 1.6.
    model = _two_sites(tmp_path, 1.5)
    assert [list(model.group_blocks_online)] == [[(1.0, "base", 0)]]
    rows = {r["relaxation"]: r for r in solve_relaxations(model, ["none", "groups", "blocks", "all"], None, 1e-9, 1)}
    assert rows["none"]["bound"] == pytest.approx(1.2, abs=1e-6)
    assert rows["groups"]["bound"] == pytest.approx(1.3, abs=1e-6)
    assert rows["groups"]["integers"] == 1
    assert rows["all"]["objective"] == pytest.approx(1.3, abs=1e-6)
    # the MILP as built leaves the group column continuous (it is a sum of integers) and counts no extra integer
    assert rows["all"]["integers"] == sum(1 for v in model.component_data_objects(pyo.Var) if v.is_integer())
    assert all(not v.is_integer() for v in model.group_blocks_online.values())


def test_groups_relaxation_lies_between_the_lp_and_the_blocks_relaxation(small):
    model = build_model(small)
    rows = {r["relaxation"]: r for r in solve_relaxations(model, ["none", "groups", "blocks"], None, 1e-9, 1)}
    # every block total whole makes every sum whole, so keeping the sums is the weaker relaxation
    assert rows["none"]["bound"] - 1e-6 <= rows["groups"]["bound"] <= rows["blocks"]["bound"] + 1e-6
    assert all(v.domain is pyo.NonNegativeReals for v in model.group_blocks_online.values())


def test_highs_options_parse():
    from benchmarks.relaxations import highs_option
    assert highs_option("mip_heuristic_run_rins=false") == ("mip_heuristic_run_rins", False)
    assert highs_option("random_seed=3") == ("random_seed", 3)
    assert highs_option("mip_heuristic_effort=0.3") == ("mip_heuristic_effort", 0.3)
    with pytest.raises(ValueError, match="KEY=VALUE"):
        highs_option("random_seed")
