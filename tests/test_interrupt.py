"""Ctrl-C during a solve: HiGHS stops at its next check and the best plan so far is kept (procure.interrupt).

small.json at a 1e-9 gap runs for minutes, so every solve here is one that only Ctrl-C (or the 120 s limit)
ends; "well before the limit" is asserted with a wide margin, it is not a timing measurement.
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

from procure.api import load
from procure.data import build_data
from procure.interrupt import ctrl_c_stops_solves
from procure.model import build_model
from procure.solve import HighsSession, SolveOptions, solve_model
from procure.staged import solve_staged

LIMIT = 120.0
NEVER_PROVEN = SolveOptions(time_limit=LIMIT, gap=1e-9)


@pytest.fixture(autouse=True)
def ctrl_c_raises():
    """Python's own Ctrl-C handler, whatever the test runner started with (a CI shell may ignore SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def press_ctrl_c(after: float) -> dict:
    """Send this process SIGINT ``after`` seconds from now; returns {"at": perf_counter of the press}."""
    pressed: dict = {}

    def press():
        pressed["at"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    threading.Timer(after, press).start()
    return pressed


def small_model(root):
    data = build_data(load(root / "instances" / "small.json"))
    return build_model(data), data


def test_ctrl_c_is_recorded_not_raised_inside_the_block():
    with ctrl_c_stops_solves() as interrupt:
        for _ in range(2):  # a second press must not raise either: the handler may run inside HiGHS
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs in the main thread between bytecodes
        assert interrupt.requested
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):  # outside the block, as before
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)


def test_raise_at_exit_only_for_the_outermost_block():
    with pytest.raises(KeyboardInterrupt):
        with ctrl_c_stops_solves(raise_at_exit=True):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    with ctrl_c_stops_solves() as outer:
        with ctrl_c_stops_solves(raise_at_exit=True) as inner:  # the outer block decides what Ctrl-C means
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert inner is outer and outer.requested


def test_ctrl_c_that_is_not_ours_is_left_alone():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a sweep's worker process
    with ctrl_c_stops_solves() as interrupt:
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert not interrupt.requested
    seen = {}

    def in_a_thread():
        with ctrl_c_stops_solves():
            seen["handler"] = signal.getsignal(signal.SIGINT)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert seen["handler"] is signal.SIG_IGN


def test_ctrl_c_stops_a_solve_which_keeps_its_plan_and_the_next_solve_runs(root):
    model, _ = small_model(root)
    session = HighsSession(model)
    pressed = press_ctrl_c(1.5)
    with ctrl_c_stops_solves():
        result = session.solve(NEVER_PROVEN)
    returned = time.perf_counter()
    assert result.interrupted and result.termination == "interrupted"
    assert result.has_solution and result.gap > 1e-9  # the plan found before Ctrl-C, with its bound
    assert returned - pressed["at"] < LIMIT / 2
    # HiGHS keeps a callback's last "stop" between solves: the next solve must not stop at its first check
    again = session.solve(SolveOptions(time_limit=1.0, gap=1e-9))
    assert not again.interrupted and again.termination == "maxTimeLimit"


def test_ctrl_c_outside_a_ctrl_c_block_raises_once_highs_has_stopped(root):
    model, _ = small_model(root)
    pressed = press_ctrl_c(1.5)
    with pytest.raises(KeyboardInterrupt):
        solve_model(model, NEVER_PROVEN)
    assert time.perf_counter() - pressed["at"] < LIMIT / 2


def test_ctrl_c_ends_a_staged_solve_after_the_running_stage(root):
    model, data = small_model(root)
    started = time.perf_counter()
    pressed = press_ctrl_c(1.5)
    result, stages = solve_staged(model, data, NEVER_PROVEN)
    assert result.interrupted and result.termination == "staged: interrupted"
    assert time.perf_counter() - pressed["at"] < LIMIT / 2
    # no search starts after Ctrl-C; only the LP that completes stage 1's rounded plan may
    begun = pressed["at"] - started
    start = 0.0
    for stage in stages:
        if start > begun + 0.05:
            assert stage.name == "lots (rounded)", [s.name for s in stages]
        start += stage.seconds
    if result.has_solution:
        assert result.bound <= result.objective


def test_cli_writes_the_plan_so_far_and_exits_130(tmp_path, root):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "procure.cli", "solve", str(root / "instances" / "small.json"),
               "--out", str(out), "--gap", "1e-9", "--time-limit", str(LIMIT), "--log"]
    # SIGINT as from a terminal: the child starts with Python's own handler even if this runner ignores it
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in process.stdout:  # wait for HiGHS to be running before pressing Ctrl-C
        if "Presolving model" in line:
            break
    time.sleep(2.0)
    pressed = time.perf_counter()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=LIMIT)
    assert process.returncode == 130, stderr
    assert time.perf_counter() - pressed < LIMIT / 2
    assert "interrupted" in stderr and "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["termination"].endswith("interrupted")
    assert summary["has_plan"] == (out / "plan.csv").exists()
    assert not (out / "report.md").exists()  # the report would solve again: skipped after Ctrl-C


@pytest.mark.parametrize("strategy", ["direct", "staged"])
def test_ctrl_c_stops_a_serial_sweep_without_recording_the_point_in_flight(tmp_path, root, strategy):
    import procure
    from procure.sweep_run import read_results

    spec = {"instance": str(root / "instances" / "small.json"), "design": "grid",
            "solve": {"gap": 1e-9, "time_limit": LIMIT, "strategy": strategy},
            "parameters": [{"knob": "lease_prices", "values": [0.9, 1.1]}]}
    pressed = press_ctrl_c(3.0)
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
    highs = session.highs
    assert [len(getattr(highs, name).callbacks) for name in ("cbSimplexInterrupt", "cbIpmInterrupt",
                                                                  "cbMipInterrupt")] == [0, 0, 0]
