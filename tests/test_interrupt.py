"""Ctrl-C during a solve: HiGHS stops at its next check and the best plan so far is kept (procure.solving.interrupt).

Ctrl-C is pressed from inside HiGHS where possible (on its first incumbent), so no test depends on how
fast the machine is. Solves use a 1e-9 gap and a 120 s limit: "well before the limit" is asserted with a
wide margin, it is not a timing measurement.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from typer.testing import CliRunner

import procure.solving.staged
from procure.api import load
from procure.inputs.data import build_data
from procure.solving.interrupt import ctrl_c_stops_solves
from procure.model import build_model
from procure.solving.solve import INTERRUPT_CALLBACKS, HighsSession, SolveOptions
from procure.solving.staged import solve_staged

LIMIT = 120.0
NEVER_PROVEN = SolveOptions(time_limit=LIMIT, gap=1e-9)


@pytest.fixture(autouse=True)
def ctrl_c_raises():
    """Python's own Ctrl-C handler, whatever the test runner started with (a CI shell may ignore SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def press_on_first_incumbent(session: HighsSession) -> dict:
    """Press Ctrl-C once, from HiGHS's callback, when the session's solve finds its first plan."""
    pressed: dict = {}

    def on_incumbent(event):
        if not pressed:
            pressed["at"] = time.perf_counter()
            ctrl_c()

    session.highs.cbMipImprovingSolution.subscribe(on_incumbent)
    return pressed


def small_model(root):
    data = build_data(load(root / "instances" / "small.json"))
    return build_model(data), data


def test_ctrl_c_is_recorded_not_raised_inside_the_block():
    with ctrl_c_stops_solves() as interrupt:
        for _ in range(2):  # a second press must not raise either: the handler may run inside HiGHS
            ctrl_c()
            time.sleep(0.05)  # the handler runs in the main thread between bytecodes
        assert interrupt.requested
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):  # outside the block, as before
        ctrl_c()
        time.sleep(0.05)


def test_raise_at_exit_only_for_the_outermost_block():
    with pytest.raises(KeyboardInterrupt):
        with ctrl_c_stops_solves(raise_at_exit=True):
            ctrl_c()
            time.sleep(0.05)
    with ctrl_c_stops_solves() as outer:
        with ctrl_c_stops_solves(raise_at_exit=True) as inner:  # the outer block decides what Ctrl-C means
            ctrl_c()
            time.sleep(0.05)
        assert inner is outer and outer.requested


def test_ctrl_c_that_is_not_ours_is_left_alone():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a sweep's worker process
    with ctrl_c_stops_solves() as interrupt:
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert not interrupt.requested
    # another thread: signals reach only the main thread, so the block must not touch the handler there
    # (signal.signal would raise) nor share the main thread's block
    signal.signal(signal.SIGINT, signal.default_int_handler)
    seen = {}

    def in_a_thread():
        with ctrl_c_stops_solves() as theirs:
            seen["handler"] = signal.getsignal(signal.SIGINT)
            seen["state"] = theirs

    with ctrl_c_stops_solves() as ours:
        thread = threading.Thread(target=in_a_thread)
        thread.start()
        thread.join()
        assert seen["state"] is not ours
    assert seen["handler"] is not signal.default_int_handler  # our block's handler, left as it was


def test_ctrl_c_stops_a_solve_which_keeps_its_plan_and_the_next_solve_runs(root):
    model, _ = small_model(root)
    session = HighsSession(model)
    pressed = press_on_first_incumbent(session)
    with ctrl_c_stops_solves():
        result = session.solve(NEVER_PROVEN)
    assert result.interrupted and result.termination == "interrupted"
    assert result.has_solution and result.gap > 1e-9  # the plan found before Ctrl-C, with its bound
    assert time.perf_counter() - pressed["at"] < LIMIT / 2
    # HiGHS keeps a callback's last "stop" between solves: the next solve must not stop at its first check
    again = session.solve(SolveOptions(time_limit=1.0, gap=1e-9))
    assert not again.interrupted and again.termination == "maxTimeLimit"


def test_ctrl_c_outside_a_ctrl_c_block_raises_once_highs_has_stopped(root):
    model, _ = small_model(root)
    session = HighsSession(model)
    pressed = press_on_first_incumbent(session)
    with pytest.raises(KeyboardInterrupt):
        session.solve(NEVER_PROVEN)
    assert time.perf_counter() - pressed["at"] < LIMIT / 2


def test_ctrl_c_in_stage_one_keeps_its_rounded_plan_and_starts_no_search(root):
    model, data = small_model(root)
    session = HighsSession(model)
    press_on_first_incumbent(session)
    result, stages = solve_staged(model, data, NEVER_PROVEN, session=session)
    # stopped in the bound stage (block sums whole, blocks continuous): no blocks search follows, the rounding
    # rounds the blocks and leases to their nearest whole and the lots as always
    assert [s.name for s in stages] == ["bound", "lots (rounded)"]
    assert stages[0].status == "feasible"  # stopped, not finished
    # the rounded-plan LP ran to its end although Ctrl-C came first: it is the plan returned
    assert stages[1].status == "optimal"
    assert result.interrupted and result.termination == "staged: interrupted"
    assert result.has_solution and result.objective == pytest.approx(stages[1].objective)
    assert result.bound == pytest.approx(stages[0].bound) and result.bound <= result.objective
    assert all(abs(v.value - round(v.value)) < 1e-6
               for var in (model.blocks_to_date, model.lease_lots_to_date) for v in var.values())


def test_ctrl_c_with_no_plan_of_the_model_returns_none(root, monkeypatch):
    # The plans of stages 1 and 2 are of relaxations (lots continuous): when their rounding gives no plan and
    # Ctrl-C came, there is no plan of the model to return, whatever those stages found
    model, data = small_model(root)

    def rounding_fails(*args, **kwargs):
        ctrl_c()
        time.sleep(0.05)
        return None

    monkeypatch.setattr(procure.solving.staged, "_round_and_complete", rounding_fails)
    result, stages = solve_staged(model, data, SolveOptions(time_limit=LIMIT, gap=1e-2))
    assert [s.name for s in stages] == ["bound", "blocks"] and stages[0].status in ("optimal", "feasible")
    assert result.interrupted and result.status == "no_solution" and result.objective is None
    assert result.bound == pytest.approx(stages[0].bound)


def test_cli_writes_the_plan_so_far_and_exits_130(tmp_path, root):
    # a real Ctrl-C to a real process, on meta.json (no 120 s staged solve of it ends by itself)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "procure.cli", "solve", str(root / "instances" / "meta.json"),
               "--out", str(out), "--time-limit", str(LIMIT)]
    # the child starts with SIGINT at its default (this process has Python's handler: see the fixture)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    said = process.stderr.readline()  # "solving meta.json: ...", just before the build (0.5 s) and solve
    assert said.startswith("solving meta.json") and "Ctrl-C" in said
    time.sleep(8.0)  # well into the solve, which runs for 120 s
    pressed = time.perf_counter()
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=LIMIT)
    finally:  # never leave a solve running into the next tests
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert time.perf_counter() - pressed < LIMIT / 2
    assert "interrupted" in stderr and "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["termination"].endswith("interrupted")
    assert summary["has_plan"] == (out / "plan.csv").exists()
    assert not (out / "report.md").exists()  # the report would solve again: skipped after Ctrl-C


def test_ctrl_c_while_the_report_is_written_still_writes_the_plan(tmp_path, root, monkeypatch):
    import procure.report.pipeline
    from procure.cli import app

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(procure.report.pipeline, "report_writer", interrupted)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["solve", str(root / "instances" / "tiny.json"), "--out", str(out)])
    assert result.exit_code == 130, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["interrupted"] is True and (out / "plan.csv").exists()
    assert not (out / "report.md").exists()


def test_ctrl_c_while_the_plan_is_written_does_not_lose_it(tmp_path, root, monkeypatch):
    # users press twice when the first press takes seconds: a press while the plan goes to disk is recorded
    import procure.report.pipeline
    from procure.cli import app

    write_outputs = procure.report.pipeline.write_outputs

    def pressed_while_writing(*args, **kwargs):
        ctrl_c()
        time.sleep(0.05)
        return write_outputs(*args, **kwargs)

    monkeypatch.setattr(procure.report.pipeline, "write_outputs", pressed_while_writing)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["solve", str(root / "instances" / "tiny.json"), "--out", str(out),
                                      "--no-report"])
    assert result.exit_code == 130, result.output
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal" and (out / "plan.csv").exists()


@pytest.mark.parametrize("strategy", ["direct", "staged"])
def test_ctrl_c_stops_a_serial_sweep_without_recording_the_point_in_flight(tmp_path, root, monkeypatch,
                                                                           strategy):
    import importlib

    import procure
    from procure.sweeps.run import read_results

    solve_module = importlib.import_module("procure.solving.solve")  # `procure.solving.solve` is the API function
    solve_highs = solve_module._solve_highs
    pressed: dict = {}

    def first_solve_gets_ctrl_c(model, options, solver=None, stoppable=True):
        if not pressed:  # from inside HiGHS, at its first plan
            pressed["at"] = None

            def on_incumbent(event):
                if pressed["at"] is None:
                    pressed["at"] = time.perf_counter()
                    ctrl_c()

            solver._solver_model.cbMipImprovingSolution.subscribe(on_incumbent)
        return solve_highs(model, options, solver, stoppable)

    monkeypatch.setattr(solve_module, "_solve_highs", first_solve_gets_ctrl_c)
    spec = {"instance": str(root / "instances" / "small.json"), "design": "grid",
            "solve": {"gap": 1e-9, "time_limit": LIMIT, "strategy": strategy},
            "parameters": [{"knob": "lease_prices", "values": [0.9, 1.1]}]}
    with pytest.raises(KeyboardInterrupt):
        procure.sweep(spec, out=tmp_path / "out", workers=1, progress=False, plot=False)
    assert time.perf_counter() - pressed["at"] < LIMIT / 2
    assert len(read_results(tmp_path / "out")) == 0  # resume solves the interrupted point again


def test_a_session_does_not_pile_up_interrupt_callbacks(root):
    # Pyomo subscribes highspy's Ctrl-C handler before every run; left there, a session of N solves would
    # call N of them at every simplex check
    model, _ = small_model(root)
    session = HighsSession(model)
    for _ in range(3):
        session.solve(SolveOptions(time_limit=1.0))
    assert [len(getattr(session.highs, name).callbacks) for name in INTERRUPT_CALLBACKS] == [0, 0, 0]
