"""The report pipeline: what ``procure solve`` writes beside the plan, and ``procure report OUTDIR``.

``procure solve`` (unless ``--no-report``) explains the plan and runs the baselines, then writes — inside
the same atomic output directory — ``sources.csv`` and ``power.csv`` (report inputs), ``explain.json``,
``marginal_costs.csv``, ``binding.csv``, ``break_even.csv``, ``baselines.csv``, the plots under
``plots/`` and ``report.md`` / ``report.html``. ``procure report OUTDIR`` re-renders the plots and the
two documents from those files without solving anything.

Time: the extra solves share a budget of ``REPORT_BUDGET_FACTOR`` × the plan's solve time (between
``MIN_BUDGET_SECONDS`` and ``MAX_BUDGET_SECONDS``), half for the explanation and half for the baselines;
one extra MIP solve never gets more than the plan's own solve took (at least ``MIN_PER_SOLVE_SECONDS``),
a third of the budget, or the ``--time-limit``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import pandas as pd

from procure.outputs.files import (ANALYSIS_FILES, KIND, PLOT_FILES, PLOTS_DIR, REPORT_FILES, REPORT_INPUTS,
                                   SUMMARY_FILE, has_tables, write_json, write_table)
from procure.outputs.ownership import MANIFEST_FILE, Manifest, digest, read_manifest, survey, write_manifest
from procure.report.document import POWER_COLUMNS, SOURCES_COLUMNS, power_table, sources_table, write_report

REPORT_BUDGET_FACTOR = 3.0
MIN_BUDGET_SECONDS = 60.0
MAX_BUDGET_SECONDS = 1800.0
MIN_PER_SOLVE_SECONDS = 20.0


def names_from(loaded) -> dict:
    """Display names of sites and providers, and first quarters of accelerators, from a loaded instance."""
    if loaded is None:
        return {"sites": {}, "providers": {}, "first_quarter": {}}
    inst = loaded.instance
    return {"sites": {s.id: s.name for s in inst.sites if getattr(s, "name", "")},
            "providers": {p.id: p.name for p in inst.providers if getattr(p, "name", "")},
            "first_quarter": {a: acc.first_quarter for a, acc in loaded.accelerators.items()}}


def budgets(summary: dict, time_limit: float | None = None) -> tuple[float, float]:
    """(``time_budget``: seconds shared by the report's extra solves, ``time_limit`` of one of them); the
    plan's own ``time_limit`` caps the second."""
    solve_seconds = float(summary.get("seconds", {}).get("solve") or 0.0)
    time_budget = min(max(MIN_BUDGET_SECONDS, REPORT_BUDGET_FACTOR * solve_seconds), MAX_BUDGET_SECONDS)
    solve_time_limit = min(max(MIN_PER_SOLVE_SECONDS, solve_seconds), time_budget / 3)
    if time_limit:
        solve_time_limit = min(solve_time_limit, max(time_limit, 1.0))
    return time_budget, solve_time_limit


def analyse(plan, loaded=None, time_budget: float | None = None, time_limit: float | None = None,
            log: Callable[[str], None] | None = None) -> dict:
    """Explanation and baselines of a plan solved with ``keep_model=True``: ``{name: DataFrame or dict}``
    keyed like :data:`procure.report.document.ANALYSIS_FILES`. Empty when there is nothing to explain."""
    from procure.analysis.baselines import run_baselines
    from procure.analysis.explain import explain

    log = log or (lambda _: None)
    if plan.model is None or not plan.summary.get("has_plan") or plan.summary.get("relaxed"):
        return {}
    if time_budget is None:
        time_budget, default_time_limit = budgets(plan.summary)
        time_limit = time_limit or default_time_limit
    names = names_from(loaded)
    display = {**names["sites"], **names["providers"]}
    started = time.perf_counter()
    log("explaining the plan (marginal costs, binding limits, break-even prices, VSS/EVPI)…")
    e = explain(plan, names=display, time_budget=time_budget / 2, time_limit=time_limit)
    log("running the baselines (lease-only, build-only, greedy-myopic)…")
    base = run_baselines(plan, time_budget=max(time_budget - (time.perf_counter() - started), time_budget / 4),
                         time_limit=time_limit)
    info = e.to_json()
    info["seconds"]["baselines"] = {k: v for k, v in base.attrs.get("seconds", {}).items() if k != "optimum"}
    info["budget_seconds"] = {"total": round(time_budget, 1), "per_solve": time_limit}  # explain.json keeps its key
    return {"explain": info, "marginal_costs": e.marginal_costs, "binding": e.binding,
            "break_even": e.break_even, "baselines": base}


def report_inputs(plan, loaded=None) -> dict[str, pd.DataFrame]:
    """``sources.csv`` and ``power.csv``: what the plots need beyond the core tables."""
    names = names_from(loaded)
    sources, power = REPORT_INPUTS
    return {sources: sources_table(plan.data, names["providers"], names["first_quarter"]),
            power: power_table(plan.plan, plan.data, names["sites"])}


def write_analysis(out_dir: Path, analysis: dict) -> None:
    for key, name in ANALYSIS_FILES.items():
        value = analysis.get(key)
        if value is None:
            continue
        if isinstance(value, pd.DataFrame):
            write_table(value, out_dir / name)
        else:
            write_json(value, out_dir / name)


def report_writer(plan, loaded=None, analysis: dict | None = None) -> Callable[[Path], None]:
    """The ``extra`` callable for :meth:`procure.api.Plan.write`: report inputs, analysis files, plots and
    the report, written into the staging directory before it replaces the output directory."""

    def extra(staging: Path) -> None:
        if not has_tables(plan.summary):
            write_report(staging, plots=False)
            return
        for name, frame in report_inputs(plan, loaded).items():
            write_table(frame, staging / name)
        write_analysis(staging, analysis or {})
        write_report(staging)

    return extra


def write_outputs(plan, loaded, out_dir: Path, report: bool = True, time_limit: float | None = None,
                  log: Callable[[str], None] | None = None, force: bool = False) -> Path:
    """Write a solve's outputs; with ``report``, also explain the plan, run the baselines and write the
    report — all inside the same atomic directory swap."""
    if not report:
        return plan.write(out_dir, force=force)
    analysis: dict = {}
    if plan.summary.get("has_plan") and plan.model is not None:
        time_budget, solve_time_limit = budgets(plan.summary, time_limit)
        try:
            analysis = analyse(plan, loaded, time_budget, solve_time_limit, log)
        except Exception as exc:  # the plan stands without its explanation; say why in the report
            (log or (lambda _: None))(f"could not explain the plan: {exc}")
            analysis = {"explain": {"limits": [], "stochastic": {}, "seconds": {},
                                    "notes": [f"the explanation failed: {type(exc).__name__}: {exc}"]}}
    return plan.write(out_dir, extra=report_writer(plan, loaded, analysis), force=force)


def unreadable_outputs(out_dir: Path) -> list[str]:
    """Why each file the report reads is not as ``procure solve`` wrote it (edited, truncated, another
    program's): ``"<file>: <reason>"`` lines, none when every file present reads back."""
    from procure.analysis.baselines import COLUMNS as BASELINE_COLUMNS  # (these import the model: not at the top)
    from procure.analysis.binding import BINDING_COLUMNS
    from procure.outputs.tables import CAPACITY_COLUMNS, COSTS_COLUMNS, PLAN_COLUMNS

    out_dir = Path(out_dir)
    problems = []
    for name in (SUMMARY_FILE, ANALYSIS_FILES["explain"]):
        path = out_dir / name
        if path.exists():
            try:
                if not isinstance(json.loads(path.read_text(encoding="utf-8")), dict):
                    problems.append(f"{name}: not a JSON object")
            except ValueError as exc:  # not JSON, or not UTF-8
                problems.append(f"{name}: not valid JSON ({exc})")
    columns = {"capacity.csv": CAPACITY_COLUMNS, "plan.csv": PLAN_COLUMNS, "costs.csv": COSTS_COLUMNS,
               "sources.csv": SOURCES_COLUMNS, "power.csv": POWER_COLUMNS, ANALYSIS_FILES["binding"]: BINDING_COLUMNS,
               ANALYSIS_FILES["baselines"]: BASELINE_COLUMNS, ANALYSIS_FILES["marginal_costs"]: (),
               ANALYSIS_FILES["break_even"]: ()}
    for name, expected in columns.items():
        path = out_dir / name
        if not path.exists() or path.stat().st_size == 0:
            continue
        try:
            found = pd.read_csv(path).columns
        except (ValueError, pd.errors.ParserError) as exc:  # (EmptyDataError and UnicodeDecodeError are ValueErrors)
            problems.append(f"{name}: not a CSV table ({exc})")
            continue
        lacking = [c for c in expected if c not in found]
        if lacking:
            problems.append(f"{name}: has no column {', '.join(lacking)}")
    return problems


class ReportInputError(ValueError):
    """An output directory the report cannot be drawn from: ``lines`` say why, one problem each."""

    def __init__(self, message: str, lines: list[str] | None = None):
        super().__init__(message)
        self.lines = lines or []


def redraw_report(out_dir: Path) -> list[Path]:
    """Draw the plots, ``report.md`` and ``report.html`` again from a solve's saved outputs (no solving),
    in place; the files written. Raises :class:`ReportInputError` when ``out_dir`` is not a finished
    solve's output, a file there cannot be read back, or a report file there is not procure's as written."""
    out_dir = Path(out_dir)
    if not (out_dir / SUMMARY_FILE).exists():
        raise ReportInputError(f"{out_dir} has no summary.json (is it a solve's output?)")
    if read_manifest(out_dir) is None:  # a killed run's staging directory, or files procure did not write
        raise ReportInputError(f"{out_dir} has no {MANIFEST_FILE}: it is not a finished solve's output (a run "
                               "killed part-way, or files procure did not write); run `procure solve` again")
    unreadable = unreadable_outputs(out_dir)
    if unreadable:  # an edited or truncated file: say which, rather than fail somewhere inside the plots
        raise ReportInputError(f"{out_dir} holds files procure cannot read back; run `procure solve` again to "
                               "rewrite them:", unreadable)
    missing = [name for name in REPORT_INPUTS if not (out_dir / name).exists()]
    if missing and has_tables(summary_of(out_dir)):  # without a plan there is nothing to draw anyway
        raise ReportInputError(f"{out_dir} has no {' or '.join(missing)}: its solve wrote the plan tables only "
                               "(--no-report, or Ctrl-C before the report); run `procure solve` again without "
                               "--no-report")
    found = survey(out_dir)  # the report rewrites its own files in place: only those still as procure wrote them
    blocked = sorted(rel for rel in (*found.changed, *found.foreign) if rel in REPORT_OUTPUTS)
    if blocked:
        raise ReportInputError(f"{out_dir}: {', '.join(blocked)} changed since procure wrote it (or procure did not "
                               "write it); procure overwrites only its own files as it wrote them: move it away first")
    try:
        return rewrite_report(out_dir)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:  # rows missing or changed
        raise ReportInputError(f"cannot draw the report from {out_dir} ({type(exc).__name__}: {exc}): a file there "
                               "was edited or cut short? Run `procure solve` again to rewrite them") from exc


REPORT_OUTPUTS = frozenset({*REPORT_FILES, *(f"{PLOTS_DIR}/{name}" for name in PLOT_FILES.values())})


def rewrite_report(out_dir: Path) -> list[Path]:
    """Draw the report again in a solve's output directory and record the new files in its manifest
    (which first names them unpinned, so a run killed half-way leaves them known as procure's)."""
    previous = read_manifest(out_dir)
    write_manifest(out_dir, Manifest(KIND, {**previous.files, **{rel: None for rel in REPORT_OUTPUTS}}))
    written = write_report(out_dir)
    files = {rel: sha for rel, sha in previous.files.items() if rel not in REPORT_OUTPUTS or (out_dir / rel).exists()}
    files.update({path.relative_to(out_dir).as_posix(): digest(path) for path in written})
    write_manifest(out_dir, Manifest(KIND, files))
    return written


def summary_of(out_dir: Path) -> dict:
    return json.loads((Path(out_dir) / "summary.json").read_text(encoding="utf-8"))
