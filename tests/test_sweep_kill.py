"""kill -9 of `procure sweep`: its worker processes die with it, and `--resume` finishes the sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:  # fields: state, ppid, ...
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("into", [0.0, 2.0, 6.0])
def test_kill_9_of_a_sweep_ends_its_workers_and_resume_finishes_it(tmp_path, root, into):
    # four points of small.json proven to 1e-9 (~4 s each) on two workers, killed `into` seconds after both
    # have started: as they import, while they solve their first points, between points
    spec = {"instance": str(root / "instances" / "small.json"), "design": "grid", "solve": {"gap": 1e-9},
            "parameters": [{"path": "horizon.discount_rate", "values": [0.05, 0.07, 0.09, 0.11]}]}
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "procure.cli", "sweep", str(spec_path), "--out", str(out), "--workers", "2",
               "--no-plot"]
    sweep = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:  # the resource tracker is a child too
            time.sleep(0.2)
            workers = [p for p in children(sweep.pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(workers) == 2, "the pool's workers did not start"
        time.sleep(into)
        helpers = children(sweep.pid)
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(p) for p in helpers):
            time.sleep(0.2)
        assert not [p for p in helpers if alive(p)], "processes of the killed sweep outlived it"
    finally:
        if sweep.poll() is None:
            sweep.kill()
    resumed = subprocess.run([*command, "--resume"], cwd=root, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    table = pd.read_csv(out / "results.csv")
    assert sorted(table["point"]) == [0, 1, 2, 3] and set(table["status"]) == {"optimal"}


def test_an_unreachable_dask_scheduler_fails_in_seconds_and_writes_nothing(tmp_path, root):
    # port 9 (discard) has no scheduler: the client's connect times out after DASK_CONNECT_SECONDS
    pytest.importorskip("distributed")
    from typer.testing import CliRunner

    from procure.cli import EXIT_BAD_INPUT, app
    from procure.sweeps.run import DASK_CONNECT_SECONDS

    spec = {"instance": str(root / "instances" / "tiny.json"), "design": "grid",
            "parameters": [{"path": "horizon.discount_rate", "values": [0.05, 0.07]}]}
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    out = tmp_path / "out"
    started = time.monotonic()
    result = CliRunner().invoke(app, ["sweep", str(spec_path), "--out", str(out), "--dask", "tcp://127.0.0.1:9"])
    seconds = time.monotonic() - started
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "--dask: no Dask scheduler answered at 'tcp://127.0.0.1:9'" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not out.exists()  # no lock, no partial results.csv
    assert seconds < DASK_CONNECT_SECONDS + 20
