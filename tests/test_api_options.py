"""The Python API's options: checked before anything is built, and as on the command line."""

from __future__ import annotations

import json
import threading

import pytest

import procure
from procure.outputs.files import OutputDirError


@pytest.mark.parametrize("options, message", [
    ({"gap": -1}, "gap must be"), ({"gap": float("nan")}, "gap must be"),
    ({"time_limit": -5}, "time_limit must be"), ({"threads": 0}, "threads must be"),
    ({"threads": 1.5}, "threads must be"), ({"strategy": "fast"}, "strategy must be"),
])
def test_bad_options_raise_value_error_before_building(root, options, message, monkeypatch):
    import procure.api

    monkeypatch.setattr(procure.api, "build_model", lambda *a, **k: pytest.fail("built a model"))
    with pytest.raises(ValueError, match=message):
        procure.solve(root / "instances" / "tiny.json", **options)


def test_time_limit_zero_means_no_limit_as_on_the_command_line(root):
    plan = procure.solve(root / "instances" / "tiny.json", time_limit=0)
    assert plan.status == "optimal"


def test_threads_may_change_between_solves_in_one_process(root):
    # HiGHS sizes a thread's task scheduler at that thread's first run; a later run asking for another count
    # fails at once, which read as "no plan". A fresh thread whose first HiGHS run is not procure's (a raw
    # highspy model with 1 thread) is the case procure cannot know about: it must restart the scheduler.
    import highspy

    from procure.solving.fixed_lp import solve_fixed_lp

    tiny, seen = root / "instances" / "tiny.json", []

    def solves():
        raw = highspy.Highs()
        raw.setOptionValue("output_flag", False)
        raw.setOptionValue("threads", 1)
        raw.addVar(0.0, 1.0)
        raw.run()
        for threads in (2, None, 2, 1):
            plan = procure.solve(tiny, threads=threads, keep_model=True)
            seen.append((threads, plan.status, plan.summary["termination"]))
        fixed = solve_fixed_lp(plan.model, threads=2)  # the explanation's LP, after a 1-thread solve
        seen.append(("fixed LP", "optimal" if fixed.duals else "no duals", fixed.termination))

    worker = threading.Thread(target=solves)
    worker.start()
    worker.join(timeout=120)
    assert [status for _, status, _ in seen] == ["optimal"] * 5, seen


def test_a_dict_instance_finds_its_catalogs_through_base_dir(root, tmp_path, monkeypatch):
    document = json.loads((root / "instances" / "tiny.json").read_text())
    monkeypatch.chdir(tmp_path)  # its catalog path is relative to instances/, not to here
    with pytest.raises(procure.InstanceError):
        procure.solve(document)
    plan = procure.solve(document, base_dir=root / "instances")
    assert plan.summary["objective"] == pytest.approx(26.24704, abs=1e-6)


def test_plan_write_refuses_a_directory_holding_other_files(root, tmp_path):
    plan = procure.solve(root / "instances" / "tiny.json")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirError, match="notes.txt"):
        plan.write(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    plan.write(tmp_path / "out")
    plan.write(tmp_path / "out")  # an earlier solve's outputs are replaced
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["capacity.csv", "costs.csv", "decisions.csv", "plan.csv",
                                                                   "procure-manifest.json", "summary.json"]


def test_plan_write_through_a_symbolic_link_replaces_its_target(root, tmp_path):
    plan = procure.solve(root / "instances" / "tiny.json")
    target, link, dangling = tmp_path / "runs" / "a", tmp_path / "latest", tmp_path / "next"
    plan.write(target)
    (target / ".DS_Store").write_text("")  # a file browser's own file does not block the next write
    link.symlink_to(target, target_is_directory=True)
    dangling.symlink_to(tmp_path / "runs" / "b", target_is_directory=True)
    plan.write(link)
    plan.write(dangling)
    assert link.is_symlink() and (link / "summary.json").exists() and not (target / ".DS_Store").exists()
    assert dangling.is_symlink() and (tmp_path / "runs" / "b" / "summary.json").exists()
    assert not [p for p in tmp_path.rglob(".*old-*")]  # nothing left beside them


def test_more_than_one_thread_turns_on_highs_parallel_tree_search(root, monkeypatch):
    # HiGHS 1.15 searches the tree on one thread unless ``parallel`` is "on", whatever ``threads`` says; and
    # options stay set on a HiGHS object between solves, so a 1-thread re-solve must set it back.
    from procure.api import load
    from procure.inputs.data import build_data
    from procure.model import build_model
    import importlib

    from procure.solving.solve import HighsSession, SolveOptions, highs_options

    solve_module = importlib.import_module("procure.solving.solve")  # (procure.solving.solve is also the API's function)
    monkeypatch.setattr(solve_module, "machine_threads", lambda: 2)  # so that 2 threads stay 2 on any machine
    assert highs_options(SolveOptions(threads=2))["parallel"] == "on"
    assert highs_options(SolveOptions(threads=1))["parallel"] == "choose"
    assert highs_options(SolveOptions(threads=2, solver_options={"parallel": "off"}))["parallel"] == "off"
    session = HighsSession(build_model(build_data(load(root / "instances" / "tiny.json"))))
    seen = []
    for threads in (2, 1):
        assert session.solve(SolveOptions(threads=threads)).status == "optimal"
        seen.append(session.highs.getOptionValue("parallel")[1])  # (status, value)
    assert seen == ["on", "choose"]


def test_threads_above_the_machines_are_capped_to_them():
    import os

    from procure.solving.solve import SolveOptions, machine_threads

    assert 1 <= machine_threads() <= len(os.sched_getaffinity(0))
    assert SolveOptions(threads=100_000).threads == machine_threads()
    assert SolveOptions(threads=1).threads == 1 and SolveOptions().threads is None


@pytest.mark.parametrize("files, affinity, expected", [
    ({"cpu.max": "max 100000\n"}, 8, 8),                          # v2, no quota: the affinity
    ({"cpu.max": "200000 100000\n"}, 8, 2),                       # v2, 2 CPUs' worth on an 8-CPU host
    ({"cpu.max": "150000 100000\n"}, 8, 2),                       # 1.5 CPUs: rounded up
    ({"cpu.max": "50000 100000\n"}, 8, 1),                        # half a CPU: at least one
    ({"cpu.max": "400000 100000\n"}, 3, 3),                       # quota above the affinity: the affinity
    ({"quota": "-1\n", "period": "100000\n"}, 4, 4),              # v1, no quota
    ({"quota": "300000\n", "period": "100000\n"}, 16, 3),         # v1, 3 CPUs' worth
    ({"cpu.max": "garbage\n"}, 4, 4),                             # a form not recognised: no quota
    ({}, 4, 4),                                                   # no cgroup files (not Linux, not mounted)
])
def test_machine_threads_are_the_cpus_the_process_may_use(tmp_path, monkeypatch, files, affinity, expected):
    # os.cpu_count() counts the host: a container given 2 CPUs on a 64-core host would have started 64 sweep
    # workers and told HiGHS about 64 threads
    import importlib
    import os

    solve_module = importlib.import_module("procure.solving.solve")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(solve_module, "CGROUP_CPU_LIMITS", (
        (tmp_path / "cpu.max", None), (tmp_path / "quota", tmp_path / "period")))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)))
    assert solve_module.machine_threads() == expected
    assert solve_module.default_threads() == (expected + 1) // 2  # HiGHS's rule, on the CPUs procure may use
    assert solve_module.SolveOptions(threads=64).threads == expected


def test_default_threads_are_stated_to_highs(monkeypatch):
    # HiGHS's own default counts the hardware threads; procure states its count, so that a container's
    # quota holds and the task scheduler is sized for the count the run uses
    import importlib

    solve_module = importlib.import_module("procure.solving.solve")
    monkeypatch.setattr(solve_module, "machine_threads", lambda: 3)
    assert solve_module.highs_options(solve_module.SolveOptions())["threads"] == 2
    assert solve_module.highs_options(solve_module.SolveOptions())["parallel"] == "on"
    monkeypatch.setattr(solve_module, "machine_threads", lambda: 2)
    assert solve_module.highs_options(solve_module.SolveOptions())["threads"] == 1
    assert solve_module.highs_options(solve_module.SolveOptions())["parallel"] == "choose"
    assert solve_module.highs_options(solve_module.SolveOptions(threads=2))["parallel"] == "on"
