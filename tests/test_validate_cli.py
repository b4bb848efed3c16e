"""`procure validate` through typer's CliRunner.

In this typer version CliRunner keeps the streams apart (``result.stdout``, ``result.stderr``) and also
offers both interleaved as ``result.output``: the summary goes to stdout, problems to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from procure.cli import EXIT_BAD_INPUT, EXIT_OK, app

CATALOG: dict = {
    "sources": [{"id": "sheet", "title": "Vendor data sheet"}],
    "accelerators": [
        {"id": "h100", "name": "H100 SXM", "vendor": "nvidia", "generation": "hopper",
         "first_quarter": "2024Q1", "throughput_h100e": {"training": 1.0, "inference": 1.0},
         "power_kw": 1.4, "price": {"initial_kusd": 30.0}, "lot_size": 8},
    ],
}


def make_instance() -> dict:
    return {
        "name": "mini",
        "catalogs": ["catalog.json"],
        "horizon": {"first_quarter": "2026Q1", "last_quarter": "2027Q4"},
        "workloads": [{"id": "training"}, {"id": "inference"}],
        "scenarios": [
            {"id": "base", "probability": 0.7,
             "demand": {"training": {"base": 100.0, "growth": 0.5}, "inference": {"series": [50.0] * 8}}},
            {"id": "high", "probability": 0.3, "parent": "base", "branch_quarter": "2026Q3",
             "demand": {"training": {"base": 200.0, "growth": 1.0}}},
        ],
        "sites": [{"id": "dc1", "electricity_usd_per_mwh": 60.0, "power_online_mw": 2.0}],
        "purchases": [{"accelerator": "h100"}],
        "providers": [{"id": "cloud"}],
        "rentals": [{"id": "r1", "provider": "cloud", "accelerator": "h100", "price_usd_per_unit_hour": 3.0,
                     "available_units": 100}],
        "policy": {"shortfall_penalty_usd_per_h100e_quarter": 1e4},
        "provenance": {"rentals[0].price_usd_per_unit_hour": {"source": "sheet", "estimate": True}},
    }


def write(directory: Path, instance: dict | None = None, *, raw: str | None = None,
          name: str = "instance.json") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "catalog.json").write_text(json.dumps(CATALOG), encoding="utf-8")
    path = directory / name
    path.write_text(raw if raw is not None else json.dumps(instance), encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def flat(text: str) -> str:
    """Rich wraps long lines at the console width (80 columns under CliRunner): compare with whitespace
    collapsed."""
    return " ".join(text.split())


def assert_clean_failure(result) -> None:
    """Exit 2 through typer.Exit, not an escaped exception, and no traceback anywhere in the output."""
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def test_valid_instance(tmp_path):
    result = run("validate", str(write(tmp_path, make_instance())))
    assert result.exit_code == EXIT_OK, result.output
    out = result.stdout
    assert "mini: valid" in out
    for row in ("quarters", "sites", "scenarios", "workloads", "rentals", "provenance"):
        assert row in out
    assert "8 (2026Q1–2027Q4)" in out
    assert "base (p=0.7)" in out and "high (p=0.3, from base at 2026Q3)" in out
    assert "dc1" in out
    assert "1 values annotated, 1 marked as estimates" in out
    assert result.stderr == ""


def test_broken_instance_lists_json_paths(tmp_path):
    doc = make_instance()
    doc["rentals"][0]["price_usd_per_unit_hour"] = -3
    doc["sites"][0]["pue_ratio"] = 1.2
    result = run("validate", str(write(tmp_path, doc)))
    assert_clean_failure(result)
    assert result.stdout == ""
    assert "2 problem(s)" in flat(result.stderr)
    assert "rentals[0].price_usd_per_unit_hour: Input should be greater than or equal to" in flat(result.stderr)
    assert "sites[0].pue_ratio: Extra inputs are not permitted" in flat(result.stderr)


def test_semantic_problems_are_all_listed(tmp_path):
    doc = make_instance()
    doc["rentals"][0]["accelerator"] = "b200"
    doc["scenarios"][0]["probability"] = 0.5
    doc["scenarios"][1]["branch_quarter"] = "2029Q1"
    result = run("validate", str(write(tmp_path, doc)))
    assert_clean_failure(result)
    assert "3 problem(s)" in flat(result.stderr)
    for fragment in ("rentals[0].accelerator: unknown catalog accelerator id", "scenarios: probabilities must sum",
                     "scenarios[1].branch_quarter: quarter outside the horizon"):
        assert fragment in flat(result.stderr)


def test_missing_file(tmp_path):
    result = run("validate", str(tmp_path / "absent.json"))
    assert_clean_failure(result)
    assert "cannot read file" in flat(result.stderr)


def test_directory_instead_of_file(tmp_path):
    result = run("validate", str(tmp_path))
    assert_clean_failure(result)
    assert "not a regular file" in flat(result.stderr)


@pytest.mark.parametrize(("raw", "fragment"), [
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
    ("[1, 2]", "(root): an instance must be a JSON object"),
    ("null", "(root): an instance must be a JSON object"),
])
def test_unparseable_or_non_object(tmp_path, raw, fragment):
    result = run("validate", str(write(tmp_path, raw=raw)))
    assert_clean_failure(result)
    assert fragment in flat(result.stderr)


def test_missing_catalog(tmp_path):
    doc = make_instance()
    doc["catalogs"] = ["../models/none.json"]
    result = run("validate", str(write(tmp_path, doc)))
    assert_clean_failure(result)
    assert "catalogs[0] (../models/none.json): cannot read file" in flat(result.stderr)


def test_no_argument_is_a_usage_error():
    result = run("validate")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "Traceback" not in result.output


def test_path_with_closing_markup_tag(tmp_path):
    (tmp_path / "a[").mkdir()
    result = run("validate", str(tmp_path / "a[" / "]b.json"))
    assert_clean_failure(result)


def test_path_with_brackets_is_shown_verbatim(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("validate", "scenario[v2].json")
    assert_clean_failure(result)
    assert "scenario[v2].json: 1 problem(s)" in flat(result.stderr)


def test_deeply_nested_json(tmp_path):
    result = run("validate", str(write(tmp_path, raw="[" * 100_000 + "]" * 100_000)))
    assert_clean_failure(result)


def test_each_problem_is_one_line(tmp_path):
    doc = make_instance()
    doc["policy"]["shortfall_penalty_usd_per_h100e_quarter"] = {"training": 1.0}
    doc["scenarios"][0]["demand"]["inference"]["series"] = [50.0] * 7
    result = run("validate", str(write(tmp_path, doc)))
    assert_clean_failure(result)
    lines = result.stderr.splitlines()
    assert "  • policy.shortfall_penalty_usd_per_h100e_quarter: missing workload 'inference'" in lines
    assert "  • scenarios[0].demand.inference.series: a list series needs one value per quarter (8) (got 7)" in lines
