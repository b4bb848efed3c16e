"""The Python API's options: checked before anything is built, and as on the command line."""

from __future__ import annotations

import json

import pytest

import procure
from procure.outputs import OutputDirError


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
    # HiGHS sizes its task scheduler at the first solve of a thread; procure restarts it when asked for
    # another count (without that, the second solve failed at once and read as "no plan")
    tiny = root / "instances" / "tiny.json"
    for threads in (1, 2, None, 2, 1):
        plan = procure.solve(tiny, threads=threads)
        assert plan.status == "optimal", (threads, plan.summary["termination"])


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
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["capacity.csv", "costs.csv", "plan.csv",
                                                                   "summary.json"]
