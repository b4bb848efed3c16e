"""What procure refuses to read, and how strictly it reads the rest (procure/inputs/reading.py, the
schema's strict types): every case exits 2 naming the JSON path or file, with no traceback."""

from __future__ import annotations

import json
import os

import pytest

from test_validate_cli import assert_clean_failure, flat, make_instance, run, write


def test_a_catalog_outside_the_instance_folder_is_not_read_and_its_values_never_shown(tmp_path):
    secret = tmp_path / "elsewhere" / "secret.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"api_token": "SECRET-abc123"}))
    for name in (str(secret), "../elsewhere/secret.json", "../../../../../../etc/passwd"):
        inst = make_instance()
        inst["catalogs"] = [name]
        result = run("validate", str(write(tmp_path / "project", inst)))
        assert_clean_failure(result)
        assert "catalogs[0]: a catalog must be inside the instance's folder" in flat(result.stderr)
        assert "SECRET" not in result.output and "root:" not in result.output


def test_a_catalog_in_a_models_folder_beside_the_instance_folder_is_read(tmp_path):
    # the project's own layout: instances/meta.json reads ../models/accelerators.json
    path = write(tmp_path / "instances", make_instance())
    (tmp_path / "models").mkdir()
    (tmp_path / "instances" / "catalog.json").rename(tmp_path / "models" / "catalog.json")
    inst = make_instance()
    inst["catalogs"] = ["../models/catalog.json"]
    path.write_text(json.dumps(inst))
    assert run("validate", str(path)).exit_code == 0


def test_a_catalog_root_can_be_added_by_environment(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    write(shared, make_instance())  # leaves catalog.json there
    inst = make_instance()
    inst["catalogs"] = [str(shared / "catalog.json")]
    path = write(tmp_path / "project", inst)
    assert run("validate", str(path)).exit_code == 2
    monkeypatch.setenv("PROCURE_CATALOG_ROOTS", str(shared))
    assert run("validate", str(path)).exit_code == 0


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_without_reading_it(device):
    result = run("validate", device)
    assert_clean_failure(result)
    assert f"{device}: not a regular file" in flat(result.stderr)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "instance.json"
    os.mkfifo(fifo)
    result = run("validate", str(fifo))  # would block forever on open() without the check
    assert_clean_failure(result)
    assert "not a regular file" in flat(result.stderr)


def test_a_file_over_the_size_limit_is_refused_and_the_limit_can_be_raised(tmp_path, monkeypatch):
    inst = make_instance()
    inst["description"] = "x" * 20_000  # a ~21 kB file
    path = write(tmp_path, inst)
    monkeypatch.setenv("PROCURE_MAX_INPUT_MB", "0.01")
    result = run("validate", str(path))
    assert_clean_failure(result)
    assert "over the 0.01 MB input limit" in flat(result.stderr)
    assert "PROCURE_MAX_INPUT_MB raises it" in flat(result.stderr)
    monkeypatch.setenv("PROCURE_MAX_INPUT_MB", "1")
    assert run("validate", str(path)).exit_code == 0


def test_duplicate_keys_are_named_by_their_path(tmp_path):
    raw = json.dumps(make_instance())
    raw = raw.replace('"power_online_mw": 2.0', '"power_online_mw": 2.0, "power_online_mw": 20.0')
    raw = raw.replace('"name": "mini"', '"name": "mini", "name": "other"')
    result = run("validate", str(write(tmp_path, raw=raw)))
    assert_clean_failure(result)
    text = flat(result.stderr)
    assert "sites[0].power_online_mw: duplicate key" in text
    assert "• name: duplicate key" in text


@pytest.mark.parametrize("path, value, fragment", [
    (("sites", 0, "power_online_mw"), "2.0", "sites[0].power_online_mw: Input should be a valid number"),
    (("rentals", 0, "available_units"), True, "rentals[0].available_units: Input should be a valid number"),
    (("horizon", "first_quarter"), "２０２６Q1", "horizon.first_quarter: String should match pattern"),
])
def test_types_are_strict(tmp_path, path, value, fragment):
    # "2.0" is not a number and true is not 1, though Python would convert both; non-ASCII digits are not
    # a year (a quarter key of them once became a quarter that never came)
    inst = make_instance()
    node = inst
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    result = run("validate", str(write(tmp_path, inst)))
    assert_clean_failure(result)
    assert fragment in flat(result.stderr)


def test_an_integer_is_still_a_valid_number(tmp_path):
    inst = make_instance()
    inst["sites"][0]["power_online_mw"] = 2  # JSON has one number type: 2 and 2.0 are the same value
    assert run("validate", str(write(tmp_path, inst))).exit_code == 0


def test_many_problems_print_the_first_ones_and_a_count(tmp_path, monkeypatch):
    inst = make_instance()
    inst["sites"][0].update({f"typo_{k}": k for k in range(120)})
    path = write(tmp_path, inst)
    result = run("validate", str(path))
    assert_clean_failure(result)
    assert "120 problem(s)" in result.stderr
    assert result.stderr.count("Extra inputs are not permitted") == 50
    assert "… and 70 more (PROCURE_MAX_PROBLEMS=50 shown)" in result.stderr
    monkeypatch.setenv("PROCURE_MAX_PROBLEMS", "200")
    assert run("validate", str(path)).stderr.count("Extra inputs are not permitted") == 120


def test_the_validation_size_benchmark_runs(capsys):
    from benchmarks.input_sizes import main

    main(["--mb", "0.05"])
    row = capsys.readouterr().out.splitlines()[-1]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2] == "2"  # every bad key is a problem: exit 2
    assert 0.04 <= float(cells[0]) <= 0.06
