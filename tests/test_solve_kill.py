"""kill -9 of `procure solve` at several moments: the output directory is always a whole result (the old
one or the new one), never a half-written one, and the next run cleans what the killed one left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from procure.outputs.files import clean_stale_staging
from procure.outputs.ownership import MANIFEST_FILE, digest, read_manifest


def whole(out) -> bool:
    """``out`` holds a result whose every file matches the digest its manifest gives it."""
    manifest = read_manifest(out)
    return manifest is not None and all(
        (out / rel).exists() and (checksum is None or digest(out / rel) == checksum)
        for rel, checksum in manifest.files.items())


def solve(root, out, *flags):
    return subprocess.Popen([sys.executable, "-m", "procure.cli", "solve", str(root / "instances" / "tiny.json"),
                             "--out", str(out), *flags], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.mark.parametrize("delay", [1.0, 2.0, 2.8, 3.4])
def test_kill_9_of_a_solve_leaves_the_old_result_or_the_new_one(tmp_path, root, delay):
    # tiny.json with its report takes ~4 s here (start-up ~1.5 s, then the solve, the report's solves and
    # plots, the writing): the kills land in each
    out = tmp_path / "d"
    assert solve(root, out, "--no-report").wait(300) == 0 and whole(out)
    run = solve(root, out)
    time.sleep(delay)
    os.kill(run.pid, signal.SIGKILL)
    run.wait(10)
    assert whole(out)
    assert solve(root, out, "--no-report").wait(300) == 0 and whole(out)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".d.procure-")]  # cleaned


def test_a_solve_killed_between_the_renames_gets_its_old_result_back(tmp_path, root):
    out = tmp_path / "d"
    assert solve(root, out, "--no-report").wait(300) == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    old = tmp_path / f".d.procure-old-{dead}"
    os.replace(out, old)  # where _swap's first rename leaves it, had the process died there
    clean_stale_staging(out)
    assert whole(out) and not old.exists() and (out / MANIFEST_FILE).exists()


RACE = """
import sys
import procure
plan = procure.solve(sys.argv[1])
errors = 0
for _ in range(int(sys.argv[3])):
    try:
        plan.write(sys.argv[2])
    except Exception as exc:
        errors += 1
print(errors)
"""


def test_two_writers_into_one_out_are_serialised(tmp_path, root):
    # without the writers' lock: 184 of 400 writes failed ("changed since procure wrote it") and an old
    # directory was left beside the output
    out = tmp_path / "shared"
    command = [sys.executable, "-c", RACE, str(root / "instances" / "tiny.json"), str(out), "60"]
    writers = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    results = [w.communicate(timeout=300) for w in writers]
    assert [int(stdout.strip().splitlines()[-1]) for stdout, _ in results] == [0, 0], results
    assert whole(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"]
