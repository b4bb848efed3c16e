"""The benchmark generator: deterministic, valid at every size, and sizes that really grow."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.generator import BASE_DIR, SHIPPED, SIZES, SPECS, BenchSpec, generate, load  # noqa: E402
from procure.inputs.data import build_data  # noqa: E402
from procure.model import build_model  # noqa: E402
from procure.outputs.tables import model_size  # noqa: E402
from procure.inputs.validation import instance_from_dict  # noqa: E402


def test_same_seed_gives_identical_instance():
    for spec in (SPECS["xs"], SPECS["m"], BenchSpec("odd", quarters=9, sites=5, accelerators=7, offers=5,
                                                   scenarios=6, seed=42)):
        assert json.dumps(generate(spec), sort_keys=True) == json.dumps(generate(spec), sort_keys=True)


def test_other_seed_gives_other_instance():
    a, b = generate(SPECS["s"]), generate(SPECS["s"].with_(seed=1))
    assert a["sites"] != b["sites"] or a["scenarios"] != b["scenarios"]


@pytest.mark.parametrize("name", SIZES)
def test_every_spec_validates(name):
    spec = SPECS[name]
    raw = generate(spec)
    loaded = instance_from_dict(raw, base_dir=BASE_DIR)
    inst = loaded.instance
    assert len(inst.sites) == spec.sites
    assert len(inst.purchases) == spec.accelerators
    assert len(inst.lease_offers) == spec.offers
    assert len(inst.scenarios) == spec.scenarios
    assert build_data(loaded).T == spec.quarters


def test_catalog_path_is_relative():
    raw = generate(SPECS["xs"])
    assert all(not Path(c).is_absolute() for c in raw["catalogs"])
    assert (BASE_DIR / raw["catalogs"][0]).resolve() == (ROOT / "models" / "accelerators.json").resolve()


@pytest.mark.parametrize("dim", ["quarters", "sites", "accelerators", "offers", "scenarios"])
def test_each_dimension_scales_alone(dim):
    base = BenchSpec("base", quarters=8, sites=2, accelerators=3, offers=2, scenarios=2)
    small, large = generate(base), generate(base.with_(**{dim: getattr(base, dim) * 2}))
    counts = {"sites": "sites", "accelerators": "purchases", "offers": "lease_offers", "scenarios": "scenarios"}
    for other, key in counts.items():
        grows = len(large[key]) > len(small[key])
        assert grows == (other == dim), (dim, other)
    grows = large["horizon"]["last_quarter"] > small["horizon"]["last_quarter"]
    assert grows == (dim == "quarters")


def test_sizes_grow_monotonically():
    sizes = [model_size(build_model(build_data(load(SPECS[name])))) for name in SIZES]
    for key in ("variables", "integers", "constraints"):
        values = [s[key] for s in sizes]
        assert values == sorted(values) and len(set(values)) == len(values), (key, values)


def test_shipped_instances_exist():
    for path in SHIPPED.values():
        assert path.is_file(), path


def test_bad_dimensions_are_refused():
    with pytest.raises(ValueError):
        generate(BenchSpec("bad", sites=0))


# ------------------------------------------------------------------------------ the driver's command line
@pytest.mark.parametrize("argv, message", [
    (["--instances", ""], "--instances: give at least one"),   # not the full set, silently
    (["--instances", "xs", "--solvers", ""], "--solvers: give at least one"),
    (["--instances", "xs", "--time-limit", "-1"], "--time-limit must be above 0"),
    (["--instances", "xs", "--threads", "0"], "--threads must be"),
    (["--instances", "xs,zz"], "unknown instance(s): zz"),
    (["--instances", "xs", "--solvers", "highs,nosuch"], "unknown solver(s): nosuch"),  # not a skipped row
])
def test_driver_usage_errors_exit_2(argv, message, capsys):
    from benchmarks import run

    assert run.main([*argv, "--no-write"]) == 2
    assert message in capsys.readouterr().err


def test_driver_fails_when_a_case_crashes_and_writes_whole_files(tmp_path, monkeypatch, capsys):
    from benchmarks import run

    rows = iter([{"status": "optimal"}, {"status": "error", "note": "ValueError: boom"}])
    monkeypatch.setattr(run, "measure", lambda instance, solver, *a: {"instance": instance, "solver": solver,
                                                                      **next(rows)})
    monkeypatch.setattr(run, "machine_info", lambda: {"nproc": 2, "cpu": "x", "memory_gib": 1, "python": "3",
                                                      "pyomo": "6"})
    argv = ["--instances", "xs,s", "--solvers", "highs", "--out", str(tmp_path), "--stem", "t"]
    assert run.main(argv) == 1  # a crashed case is a defect: CI must not stay green
    assert "xs highs" not in capsys.readouterr().err.split("crashed or hung:")[1]
    assert (tmp_path / "t.csv").read_text().count("\n") == 3
    assert "| error: ValueError: boom |" in (tmp_path / "t.md").read_text()  # the reason, not only in the CSV
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


# ------------------------------------------------------------------------ the generator's command line
def test_generated_sizes_written_as_files_solve_as_the_registry_does(tmp_path, capsys):
    # The catalog path is rewritten relative to the directory written to, so the file runs where it lies.
    import procure
    from benchmarks import generator

    out = tmp_path / "instances"
    assert generator.main(["--write", str(out), "--instances", "xs"]) == 0
    assert capsys.readouterr().out.strip() == str(out / "xs.json")
    from_file = procure.solve(out / "xs.json")
    from_registry = procure.solve(generator.load_named("xs"))
    assert from_file.summary["objective"] == from_registry.summary["objective"]
    assert generator.main(["--write", str(out), "--instances", "xs"]) == 0  # same content: written again


def test_generator_writes_nothing_over_a_file_of_its_own(tmp_path, capsys):
    from benchmarks import generator

    (tmp_path / "s.json").write_text("mine")
    assert generator.main(["--write", str(tmp_path), "--instances", "xs,s"]) == 2
    assert "s.json already exist" in capsys.readouterr().err
    assert (tmp_path / "s.json").read_text() == "mine" and not (tmp_path / "xs.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["--instances", "zz"], "give instances from"),
    (["--instances", ""], "give instances from"),
    (["--write", "x", "--instances", "meta"], "meta already ship(s) as files"),
])
def test_generator_usage_errors_exit_2(argv, message, capsys):
    from benchmarks import generator

    assert generator.main(argv) == 2
    assert message in capsys.readouterr().err
