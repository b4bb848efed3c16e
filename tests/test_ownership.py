"""No run deletes or overwrites a file procure did not write (solve, report and sweep alike).

Each test puts the user's files where a run writes, runs it through the CLI and checks the exit code,
the message (naming the file, no traceback) and that every user file is byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from helpers import base_instance, site, write
from procure.cli import EXIT_BAD_INPUT, EXIT_OK, app
from procure.outputs.ownership import MANIFEST_FILE, read_manifest

runner = CliRunner()


def instance() -> dict:
    inst = base_instance(quarters=2, demand=[10, 10])
    inst["sites"] = [site(mw=20)]
    inst["purchases"] = [{"accelerator": "G", "price_scale": 0.1}]
    return inst


def solve(path, out, *flags):
    result = runner.invoke(app, ["solve", str(path), "--out", str(out), "--no-report", *flags])
    return result.exit_code, " ".join(result.output.split())


def user_files(out, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)


def assert_kept(out, files: dict[str, str]) -> None:
    for rel, text in files.items():
        assert (out / rel).read_text() == text, rel


def test_solve_refuses_a_directory_that_is_not_a_procure_result(tmp_path):
    # the reproducer: a nested file and one at a name procure writes, in a directory without manifest
    path = write(tmp_path, instance())
    out = tmp_path / "d"
    mine = {"plots/thesis.tex": "x\n", "report.md": "notes\n"}
    user_files(out, mine)
    code, said = solve(path, out)
    assert code == EXIT_BAD_INPUT and "not a procure result" in said and "plots/thesis.tex" in said
    assert "Traceback" not in said
    assert_kept(out, mine)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["plots", "plots/thesis.tex",
                                                                           "report.md"]


def test_force_writes_beside_foreign_files_and_never_over_them(tmp_path):
    path = write(tmp_path, instance())
    out = tmp_path / "d"
    mine = {"plots/thesis.tex": "x\n", "report.md": "notes\n"}
    user_files(out, mine)
    # --no-report writes no report.md: the user's stays beside the plan
    code, _ = solve(path, out, "--force")
    assert code == EXIT_OK
    assert_kept(out, mine)
    assert set(read_manifest(out).files) == {"summary.json", "capacity.csv", "plan.csv", "costs.csv", "decisions.csv"}
    again, _ = solve(path, out)  # still foreign files there: --force is needed every time
    assert again == EXIT_BAD_INPUT
    # with the report, report.md stands where the solve writes: refused even with --force, before solving
    result = runner.invoke(app, ["solve", str(path), "--out", str(out), "--force"])
    said = " ".join(result.output.split())
    assert result.exit_code == EXIT_BAD_INPUT and "report.md stands where this solve writes" in said
    assert "solving" not in said
    assert_kept(out, mine)


def test_force_deletes_procure_files_a_new_solve_no_longer_writes(tmp_path):
    path = write(tmp_path, instance())
    out = tmp_path / "d"
    assert runner.invoke(app, ["solve", str(path), "--out", str(out)]).exit_code == EXIT_OK
    assert (out / "report.md").exists() and (out / "plots").is_dir()
    user_files(out, {"plots/mine.tex": "x"})
    code, _ = solve(path, out, "--force")  # the plan alone now: the old report goes, the user's file stays
    assert code == EXIT_OK
    assert not (out / "report.md").exists() and not (out / "plots" / "scenario_fan.png").exists()
    assert_kept(out, {"plots/mine.tex": "x"})
    assert set(read_manifest(out).files) == {"summary.json", "capacity.csv", "plan.csv", "costs.csv", "decisions.csv"}


def test_an_edited_output_is_the_users_now(tmp_path):
    path = write(tmp_path, instance())
    out = tmp_path / "d"
    assert solve(path, out)[0] == EXIT_OK
    assert solve(path, out)[0] == EXIT_OK  # an earlier solve's untouched outputs are replaced
    with open(out / "plan.csv", "a") as handle:
        handle.write("my note\n")
    edited = (out / "plan.csv").read_text()
    for flags in ((), ("--force",)):
        code, said = solve(path, out, *flags)
        assert code == EXIT_BAD_INPUT and "plan.csv changed since procure wrote it" in said
    assert (out / "plan.csv").read_text() == edited


def test_report_command_rewrites_only_its_own_files(tmp_path):
    path = write(tmp_path, instance())
    out = tmp_path / "d"
    assert runner.invoke(app, ["solve", str(path), "--out", str(out)]).exit_code == EXIT_OK
    before = read_manifest(out).files
    assert runner.invoke(app, ["report", str(out)]).exit_code == EXIT_OK
    assert read_manifest(out).files.keys() == before.keys()  # and every digest is the new file's:
    assert solve(path, out)[0] == EXIT_OK
    assert runner.invoke(app, ["solve", str(path), "--out", str(out)]).exit_code == EXIT_OK
    (out / "report.md").write_text("my edits\n")
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == EXIT_BAD_INPUT and "report.md" in result.output
    assert (out / "report.md").read_text() == "my edits\n"


def test_a_killed_runs_staging_directory_is_not_a_result_and_is_cleaned(tmp_path):
    path = write(tmp_path, instance())
    out = tmp_path / "d"
    assert runner.invoke(app, ["solve", str(path), "--out", str(out)]).exit_code == EXIT_OK
    # what kill -9 during the report leaves: a staging sibling with summary.json and no manifest
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    staging = tmp_path / f".d.procure-tmp-{dead}-abc123"
    staging.mkdir()
    for name in ("summary.json", "plan.csv", "capacity.csv", "costs.csv", "sources.csv", "power.csv"):
        (staging / name).write_bytes((out / name).read_bytes())
    result = runner.invoke(app, ["report", str(staging)])
    assert result.exit_code == EXIT_BAD_INPUT and "not a finished solve's output" in " ".join(result.output.split())
    alive = tmp_path / f".d.procure-tmp-{os.getpid()}-running"  # a run still going: left alone
    alive.mkdir()
    assert solve(path, out)[0] == EXIT_OK
    assert not staging.exists() and alive.exists()


def test_manifest_lists_every_file_with_its_digest(tmp_path):
    path = write(tmp_path, instance())
    out = tmp_path / "d"
    assert runner.invoke(app, ["solve", str(path), "--out", str(out)]).exit_code == EXIT_OK
    document = json.loads((out / MANIFEST_FILE).read_text())
    assert document["kind"] == "solve"
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)
    assert sorted(document["files"]) == on_disk and all(len(v) == 64 for v in document["files"].values())


# ------------------------------------------------------------------------------------------ sweeps
def sweep_spec(tmp_path) -> dict:
    inst = base_instance(quarters=1, demand=[10])
    inst["rentals"] = [{"id": "r", "provider": "cloud", "accelerator": "G", "price_usd_per_unit_hour": 100,
                        "available_units": 100}]
    write(tmp_path, inst)
    spec = {"instance": "instance.json", "design": "grid", "solve": {"gap": 0},
            "parameters": [{"path": "rentals[0].price_usd_per_unit_hour", "values": [50, 100]}]}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def sweep(spec, out, *flags):
    result = runner.invoke(app, ["sweep", str(spec), "--out", str(out), "--workers", "1", *flags])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("plot", ["--plot", "--no-plot"])
def test_sweep_refuses_a_directory_of_the_users_files(tmp_path, plot):
    # the reproducer: results.csv was truncated and lines.png deleted, even with --no-plot
    spec = sweep_spec(tmp_path)
    out = tmp_path / "s"
    mine = {"results.csv": "my,table\n1,2\n", "lines.png": "not a png", "notes.txt": "notes"}
    user_files(out, mine)
    for flags in ((plot,), (plot, "--force")):  # results.csv and lines.png stand where a sweep writes
        code, said = sweep(spec, out, *flags)
        assert code == EXIT_BAD_INPUT and "Traceback" not in said
        assert ("lines.png" in said) and ("results.csv" in said)
        assert_kept(out, mine)
    assert sorted(p.name for p in out.iterdir()) == ["lines.png", "notes.txt", "results.csv"]


def test_sweep_with_force_leaves_foreign_files_and_reruns_over_its_own(tmp_path):
    spec = sweep_spec(tmp_path)
    out = tmp_path / "s"
    user_files(out, {"notes.txt": "notes"})
    assert sweep(spec, out)[0] == EXIT_BAD_INPUT
    code, said = sweep(spec, out, "--force")
    assert code == EXIT_OK, said
    assert_kept(out, {"notes.txt": "notes"})
    manifest = read_manifest(out)
    assert manifest.kind == "sweep" and "lines.png" in manifest.files and manifest.files["results.csv"] is None
    (out / "notes.txt").unlink()
    assert sweep(spec, out)[0] == EXIT_OK  # its own files alone: no --force needed
    assert sweep(spec, out, "--resume")[0] == EXIT_OK
    (out / "lines.png").write_bytes(b"my own drawing")
    code, said = sweep(spec, out)
    assert code == EXIT_BAD_INPUT and "lines.png changed since procure wrote it" in said
    assert (out / "lines.png").read_bytes() == b"my own drawing"


def test_a_solve_directory_is_not_a_sweep_directory(tmp_path):
    spec = sweep_spec(tmp_path)
    (tmp_path / "solve").mkdir()
    path = write(tmp_path / "solve", instance())
    out = tmp_path / "d"
    assert solve(path, out)[0] == EXIT_OK
    code, said = sweep(spec, out, "--force")
    assert code == EXIT_BAD_INPUT and "holds a solve's outputs" in said


def test_a_sweep_directory_holds_its_spec_to_run_again(tmp_path):
    spec = sweep_spec(tmp_path)
    out = tmp_path / "s"
    assert sweep(spec, out)[0] == EXIT_OK
    again = json.loads((out / "spec.json").read_text())
    assert again["instance"] == str((tmp_path / "instance.json").resolve())  # runs from anywhere
    assert read_manifest(out).files["spec.json"] is not None
    code, said = sweep(out / "spec.json", out)  # into its own directory: procure's files alone
    assert code == EXIT_OK, said


@pytest.mark.parametrize("umask, directory_mode, file_mode", [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_outputs_honour_the_umask(tmp_path, umask, directory_mode, file_mode):
    # the staging directory and the files written through a temporary sibling are made by tempfile (0700,
    # 0600 whatever the umask) and renamed into place: they get the modes a plain mkdir and open would
    path = write(tmp_path, instance())
    out = tmp_path / "d"
    previous = os.umask(umask)
    try:
        code, output = solve(path, out)
    finally:
        os.umask(previous)
    assert code == EXIT_OK, output
    assert out.stat().st_mode & 0o777 == directory_mode
    for name in ("summary.json", "plan.csv", MANIFEST_FILE):
        assert (out / name).stat().st_mode & 0o777 == file_mode, name
