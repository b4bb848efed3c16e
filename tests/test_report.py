"""The report step: files written by `procure solve`, re-rendered by `procure report` from saved outputs alone."""

from __future__ import annotations

import ast
import base64
import importlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from procure.cli import app
from procure.report.pipeline import budgets
from procure.outputs.files import ANALYSIS_FILES
from procure.report.plots import PLOT_FILES
from procure.report.document import build_blocks, write_report

runner = CliRunner()
CORE = {"summary.json", "capacity.csv", "plan.csv", "costs.csv", "decisions.csv", "procure-manifest.json"}
REPORT = {"sources.csv", "power.csv", *ANALYSIS_FILES.values(), "report.md", "report.html", "plots"}


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> tuple[Path, str]:
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("out") / "tiny"
    result = runner.invoke(app, ["solve", str(root / "instances" / "tiny.json"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture
def tiny_out(solved) -> Path:
    return solved[0]


def test_solve_writes_report_plots_explanation_and_baselines(tiny_out):
    assert {p.name for p in tiny_out.iterdir()} == CORE | REPORT
    assert {p.name for p in (tiny_out / "plots").iterdir()} == set(PLOT_FILES.values())
    baselines = pd.read_csv(tiny_out / "baselines.csv")
    assert list(baselines["baseline"]) == ["optimum", "lease_only", "build_only", "greedy_myopic"]
    assert (baselines["objective_musd"] >= baselines["objective_musd"].iloc[0] - 1e-6).all()
    explain = json.loads((tiny_out / "explain.json").read_text())
    assert explain["limits"][0]["family"] == "power"
    mc = pd.read_csv(tiny_out / "marginal_costs.csv")
    assert list(mc["marginal_usd_per_h100e_quarter"]) == pytest.approx([6570.0] * 4)


def test_solve_prints_baselines_and_top_binding_limits(solved):
    output = solved[1]
    assert "Baselines" in output and "lease_only" in output
    assert "Top binding limits" in output and "power binds" in output


def test_report_tables_are_byte_identical_across_runs(tiny_out, tmp_path, root):
    out = tmp_path / "again"
    result = runner.invoke(app, ["solve", str(root / "instances" / "tiny.json"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in [n for n in REPORT if n.endswith(".csv")]:
        assert (out / name).read_bytes() == (tiny_out / name).read_bytes(), name


def test_no_report_writes_the_core_outputs_only(tmp_path, root):
    out = tmp_path / "o"
    result = runner.invoke(app, ["solve", str(root / "instances" / "tiny.json"), "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == CORE
    assert "Baselines" not in result.output


def test_report_of_a_no_report_solve_is_a_clear_error(tmp_path, root):
    out = tmp_path / "o"
    assert runner.invoke(app, ["solve", str(root / "instances" / "tiny.json"), "--out", str(out),
                               "--no-report"]).exit_code == 0
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    said = " ".join(result.output.split())  # rich wraps the line to the terminal width
    assert "has no sources.csv or power.csv" in said and "without --no-report" in said
    assert not (out / "report.md").exists()


def test_report_rerenders_from_saved_outputs_without_solving(tiny_out, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_out, copy)
    shutil.rmtree(copy / "plots")
    (copy / "report.md").unlink()
    (copy / "report.html").unlink()

    def no_solving(*args, **kwargs):
        raise AssertionError("the report must not solve anything")

    solve_module = importlib.import_module("procure.solving.solve")
    for name in ("solve_model", "HighsSession", "highs_solver"):
        monkeypatch.setattr(solve_module, name, no_solving)
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (copy / "plots").iterdir()} == set(PLOT_FILES.values())
    assert (copy / "report.md").read_text() == (tiny_out / "report.md").read_text()
    assert "lease_only" in result.output


def test_report_html_is_self_contained(tiny_out):
    page = (tiny_out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(PLOT_FILES)
    assert "http://" not in page and "https://" not in page and 'src="plots/' not in page
    first = page.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in ("Summary", "Mix per quarter", "Plots", "Why this plan", "Marginal cost of compute",
                    "Binding limits", "Break-even prices", "Baselines"):
        assert heading in page


def test_report_md_has_summary_mix_explanation_and_baselines(tiny_out):
    md = (tiny_out / "report.md").read_text()
    assert md.startswith("# procure report — tiny")
    assert "| 2026Q1 |" in md                                 # the mix table
    assert "![Capacity by source vs demand](plots/capacity_by_source.png)" in md
    assert "power binds in 2026Q1–2026Q4" in md
    assert "| lease_only |" in md and "| $66.58 M | serves less |" in md  # 130.576 − the $64M penalty
    assert "lease lease_h100 (used at its limit) would leave the plan" in md


def test_report_without_analysis_files_still_renders(tiny_out, tmp_path):
    copy = tmp_path / "bare"
    copy.mkdir()
    for name in CORE | {"sources.csv", "power.csv"}:
        shutil.copy(tiny_out / name, copy / name)
    write_report(copy, plots=False)
    md = (copy / "report.md").read_text()
    assert "No explanation was computed" in md and "No baselines were computed" in md


def test_report_of_a_failed_solve(tmp_path):
    summary = {"instance": "x", "status": "infeasible", "has_plan": False, "objective": None, "scenarios": {"a": 1},
               "quarters": ["2026Q1", "2026Q1"], "seconds": {"solve": 0.1}, "size": {}, "costs": {}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    _, blocks = build_blocks(tmp_path)
    assert any("No plan was found" in str(b.content) for b in blocks)


@pytest.mark.parametrize("module", ["report/document.py", "report/plots.py"])
def test_rendering_modules_never_import_the_model(module):
    source = (Path(__file__).resolve().parents[1] / "procure" / module).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    banned = ("pyomo", "procure.model", "procure.solving", "procure.analysis", "procure.api")
    assert not [m for m in imported if m.startswith(banned)]


def test_report_budget_scales_with_the_solve():
    assert budgets({"seconds": {"solve": 1.0}}) == (60.0, 20.0)
    assert budgets({"seconds": {"solve": 100.0}}) == (300.0, 100.0)
    assert budgets({"seconds": {"solve": 100.0}}, time_limit=30) == (300.0, 30.0)
    assert budgets({"seconds": {"solve": 3600.0}}) == (1800.0, 600.0)


@pytest.mark.parametrize("name, content, said", [
    ("summary.json", "garbage{", "summary.json: not valid JSON"),
    ("explain.json", "[1, 2]", "explain.json: not a JSON object"),
    ("plan.csv", "garbage{\n", "plan.csv: has no column scenario, quarter, decision, site, item, quantity"),
    ("costs.csv", b"\xff\xfe\x00", "costs.csv: not a CSV table"),
])
def test_report_names_a_file_it_cannot_read_back(tiny_out, tmp_path, name, content, said):
    # each was a traceback (JSONDecodeError, KeyError 'scenario', UnicodeDecodeError), or a report drawn
    # without the file's contents (a costs.csv of garbage), before the files were checked
    copy = tmp_path / "copy"
    shutil.copytree(tiny_out, copy)
    path = copy / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    before = (copy / "report.md").read_bytes()
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 2 and (result.exception is None or isinstance(result.exception, SystemExit))
    assert said in " ".join(result.output.split()) and "procure solve" in result.output
    assert (copy / "report.md").read_bytes() == before  # nothing rewritten


def test_report_of_a_cut_short_table_is_a_clear_error(tiny_out, tmp_path):
    # the header and part of a first row: every column is there, the rows are not (a KeyError in the plots)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_out, copy)
    (copy / "capacity.csv").write_text((tiny_out / "capacity.csv").read_text()[:100])
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 2 and (result.exception is None or isinstance(result.exception, SystemExit))
    assert "cannot draw the report" in " ".join(result.output.split())
