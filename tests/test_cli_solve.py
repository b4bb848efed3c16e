"""`procure solve` through typer's CliRunner: exit codes, files written, time limit, determinism."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from helpers import base_instance, contract, lease_offer, rental, site, write
from procure.cli import app
from procure.outputs.tables import CAPACITY_COLUMNS, COSTS_COLUMNS, PLAN_COLUMNS

runner = CliRunner()


def small_lease_instance() -> dict:
    inst = base_instance(quarters=4, demand=[10, 10, 20, 20])
    inst["sites"] = [site(mw=5, expansion={"block_mw": 10, "max_blocks": 2, "lead_quarters": 2,
                                           "capex_musd_per_mw": 1})]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 0.1}]
    inst["lease_offers"] = [lease_offer(terms={2: 100}, max_units=100, lot_size=5, last_start="2026Q4")]
    inst["rentals"] = [rental(price=300, units=5)]
    return inst


def test_solve_writes_every_output(tmp_path):
    path = write(tmp_path, small_lease_instance())
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "optimal" in result.output and "Mix per quarter" in result.output
    summary = json.loads((out / "summary.json").read_text())
    for key in ("status", "objective", "bound", "gap", "seconds", "size", "costs", "shortfall_h100e_quarters"):
        assert key in summary
    assert set(summary["seconds"]) >= {"build", "solve", "total"}
    assert set(summary["size"]) == {"variables", "integers", "constraints"}
    assert list(pd.read_csv(out / "capacity.csv").columns) == CAPACITY_COLUMNS
    assert list(pd.read_csv(out / "plan.csv").columns) == PLAN_COLUMNS
    costs = pd.read_csv(out / "costs.csv")
    assert list(costs.columns) == COSTS_COLUMNS
    # the cost table adds up to the objective (one scenario, probability 1)
    assert costs["discounted_musd"].sum() == pytest.approx(summary["objective"], abs=1e-4)


def test_json_flag_prints_the_summary(tmp_path):
    path = write(tmp_path, small_lease_instance())
    result = runner.invoke(app, ["solve", str(path), "--out", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "optimal"


def test_same_input_gives_byte_identical_csv(tmp_path):
    path = write(tmp_path, small_lease_instance())
    for name in ("a", "b"):
        assert runner.invoke(app, ["solve", str(path), "--out", str(tmp_path / name)]).exit_code == 0
    for name in ("capacity.csv", "plan.csv", "costs.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_infeasible_exits_1_and_names_the_relaxed_rows(tmp_path):
    inst = base_instance(quarters=1, demand=[1])
    inst["providers"] = [{"id": "cloud", "capacity_units": 5}]
    inst["existing_contracts"] = [contract(units=8, price=1, start="2026Q1", end="2026Q1")]
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(write(tmp_path, inst)), "--out", str(out)])
    assert result.exit_code == 1
    assert "provider_capacity" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "infeasible" and summary["relaxed"][0]["amount"] == 3.0


def test_bad_input_exits_2_without_traceback(tmp_path):
    inst = small_lease_instance()
    inst["purchases"] = [{"accelerator": "NOPE"}]
    result = runner.invoke(app, ["solve", str(write(tmp_path, inst))])
    assert result.exit_code == 2
    assert "purchases[0].accelerator" in result.output
    assert "Traceback" not in result.output


def test_unknown_solver_exits_2(tmp_path):
    path = write(tmp_path, small_lease_instance())
    result = runner.invoke(app, ["solve", str(path), "--solver", "no-such-solver", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "not available" in result.output


def test_unknown_solver_prints_no_pyomo_traceback():
    # Pyomo logs a warning with a traceback for an unknown solver name, on the real stdout (a subprocess,
    # because pytest's own logging capture hides it in-process); the CLI's one-line error says it instead
    script = ("import pyomo.environ as pyo\n"
              "from procure.solving.solve import SolverUnavailable, SolveOptions, solve_model\n"
              "try:\n    solve_model(pyo.ConcreteModel(), SolveOptions(solver='no-such-solver'))\n"
              "except SolverUnavailable:\n    print('unavailable')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "unavailable"
    assert "Traceback" not in done.stdout + done.stderr and "Failed to create solver" not in done.stdout + done.stderr


def test_more_threads_than_the_machine_has_are_capped(tmp_path, root):
    # HiGHS aborted the whole process (SIGABRT, exit 134, no message) asked for 100,000 threads; a
    # subprocess, so that an abort cannot take pytest down with it
    done = subprocess.run([sys.executable, "-c", "from procure.cli import main; main()", "solve",
                           str(root / "instances" / "tiny.json"),
                           "--threads", "100000", "--json", "--no-report", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    from procure.solving.solve import machine_threads

    assert summary["status"] == "optimal" and summary["options"]["threads"] == machine_threads()


def test_out_inside_a_file_is_refused_before_solving(tmp_path, monkeypatch):
    # a FileExistsError traceback (exit 1) once the solve was done, before the check
    import procure.api

    monkeypatch.setattr(procure.api, "build_model", lambda *a, **k: pytest.fail("solved before checking --out"))
    path = write(tmp_path, small_lease_instance())
    (tmp_path / "afile").write_text("x")
    result = runner.invoke(app, ["solve", str(path), "--out", str(tmp_path / "afile" / "sub" / "dir")])
    assert result.exit_code == 2 and (result.exception is None or isinstance(result.exception, SystemExit))
    assert "afile is a file" in " ".join(result.output.split())


def test_a_write_that_fails_is_an_error_not_a_traceback(tmp_path, monkeypatch):
    import procure.api

    def full_disk(self, out_dir, extra=None, force=False):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(procure.api.Plan, "write", full_disk)
    path = write(tmp_path, small_lease_instance())
    result = runner.invoke(app, ["solve", str(path), "--no-report", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and (result.exception is None or isinstance(result.exception, SystemExit))
    said = " ".join(result.output.split())
    assert "No space left on device" in said and "the plan was not written" in said


def test_failed_solve_keeps_previous_outputs(tmp_path):
    path = write(tmp_path, small_lease_instance())
    out = tmp_path / "out"
    assert runner.invoke(app, ["solve", str(path), "--out", str(out)]).exit_code == 0
    before = (out / "plan.csv").read_bytes()
    result = runner.invoke(app, ["solve", str(path), "--solver", "no-such-solver", "--out", str(out)])
    assert result.exit_code == 2
    assert (out / "plan.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_out_never_replaces_a_directory_holding_other_files(tmp_path, monkeypatch):
    # a solve replaces its output directory whole: a directory with anything else in it (the user's notes,
    # the instance itself) is refused before solving, and left as it was
    path = write(tmp_path, small_lease_instance())
    notes = tmp_path / "mine" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("precious")
    for out in (notes.parent, tmp_path):  # tmp_path holds the instance being solved
        result = runner.invoke(app, ["solve", str(path), "--out", str(out), "--no-report"])
        assert result.exit_code == 2
        said = " ".join(result.output.split())
        assert "is not a procure result" in said and "Traceback" not in said
    assert notes.read_text() == "precious" and path.exists()
    assert sorted(p.name for p in notes.parent.iterdir()) == ["notes.txt"]
    monkeypatch.chdir(tmp_path / "mine")
    notes.unlink()  # even empty, the current directory is not replaced (the shell would be left in a deleted one)
    result = runner.invoke(app, ["solve", str(path), "--out", ".", "--no-report"])
    assert result.exit_code == 2 and "current directory" in " ".join(result.output.split())


def test_out_replaces_an_earlier_solves_outputs(tmp_path):
    path = write(tmp_path, small_lease_instance())
    out = tmp_path / "o"
    assert runner.invoke(app, ["solve", str(path), "--out", str(out)]).exit_code == 0
    assert (out / "report.md").exists()
    assert runner.invoke(app, ["solve", str(path), "--out", str(out), "--no-report"]).exit_code == 0
    assert not (out / "report.md").exists()  # the directory is the new solve's, whole


def test_bad_option_is_a_usage_error(tmp_path):
    path = write(tmp_path, small_lease_instance())
    assert runner.invoke(app, ["solve", str(path), "--gap", "-1"]).exit_code == 2
    assert runner.invoke(app, ["solve", str(path), "--threads", "0"]).exit_code == 2


@pytest.mark.parametrize("strategy, termination", [("direct", "maxTimeLimit"), ("staged", "staged: maxTimeLimit")])
def test_time_limit_stops_the_solve_and_keeps_the_incumbent(tmp_path, root, strategy, termination):
    # small.json needs far more than a second to prove a 1e-9 gap; a 1-second limit must stop HiGHS
    # (measured: the solver call returns within the limit plus loading overhead) with a plan in hand,
    # whether in one solve or across the stages (which share the one limit).
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(root / "instances" / "small.json"), "--out", str(out),
                                 "--time-limit", "1", "--gap", "1e-9", "--json", "--no-report",
                                 "--strategy", strategy])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "feasible" and summary["termination"].startswith(termination)
    assert summary["strategy"] == strategy
    assert summary["seconds"]["solve"] < 1 + 2.0
    assert summary["gap"] > 1e-9 and summary["bound"] <= summary["objective"]
    assert (out / "plan.csv").exists()


@pytest.mark.parametrize("solver", ["scip", "cbc"])
def test_other_solvers_reach_the_same_tiny_optimum(tmp_path, root, solver):
    from procure.solving.solve import _legacy_solver

    if _legacy_solver(solver) is None and _legacy_solver(f"{solver}_direct") is None:
        pytest.skip(f"{solver} is not installed here")
    result = runner.invoke(app, ["solve", str(root / "instances" / "tiny.json"), "--solver", solver,
                                 "--out", str(tmp_path / "o"), "--json", "--no-report", "--time-limit", "30"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(26.24704, abs=1e-5)
