"""Command line: parses, calls the API, prints with rich. No modelling logic here.

Exit codes: 0 success (a plan was found, or the input is valid); 1 no plan (infeasible, or no incumbent
by the time limit); 2 bad input or usage; 130 interrupted by Ctrl-C (``solve`` still writes the best plan
found before it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from procure.inputs.schema import catalog_json_schema, instance_json_schema
from procure.cli.render import instance_table, print_plan, sweep_table
from procure.inputs.validation import InstanceError, LoadedInstance, load_instance
from procure.solving.defaults import DEFAULT_GAP, DEFAULT_TIME_LIMIT, time_limit_or_none

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Optimise long-term AI compute procurement: build, buy, lease or rent.")
console = Console()
if not console.is_terminal:  # logs and pipes: keep the wide per-quarter table whole instead of 80 columns
    console = Console(width=200)
errors = Console(stderr=True)

EXIT_OK, EXIT_NO_PLAN, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


MAX_PROBLEMS_SHOWN = 50
"""Problems printed for a bad instance, the first ones in file order, then a count of the rest;
``PROCURE_MAX_PROBLEMS`` overrides it (a 44 MB file with 1.2M bad keys spent 180 s printing them)."""
MAX_PROBLEMS_VARIABLE = "PROCURE_MAX_PROBLEMS"


def _max_problems_shown() -> int:
    text = os.environ.get(MAX_PROBLEMS_VARIABLE, "")
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else MAX_PROBLEMS_SHOWN


def _fail_input(exc: InstanceError, path: Path) -> None:
    errors.print(f"{path}: {len(exc.problems)} problem(s)", style="bold red", markup=False, highlight=False,
                 soft_wrap=True)
    shown = _max_problems_shown()
    # one line per problem, never wrapped, so paths can be grepped; one write, not one print per problem
    lines = [f"  • {problem}" for problem in exc.problems[:shown]]
    if len(exc.problems) > shown:
        lines.append(f"  … and {len(exc.problems) - shown} more ({MAX_PROBLEMS_VARIABLE}={shown} shown)")
    errors.file.write("\n".join(lines) + "\n")
    errors.file.flush()
    raise typer.Exit(EXIT_BAD_INPUT)


def _load(path: Path) -> LoadedInstance:
    try:
        return load_instance(path)
    except InstanceError as exc:
        _fail_input(exc, path)
        raise  # unreachable: _fail_input exits


@app.command()
def validate(instance: Path = typer.Argument(..., help="Instance JSON file.")) -> None:
    """Check an instance and print a summary; exit 2 with every problem listed if it is invalid."""
    loaded = _load(instance)
    console.print(instance_table(loaded))


@app.command()
def schema(catalog: bool = typer.Option(False, "--catalog", help="Print the catalog schema instead.")) -> None:
    """Print the JSON Schema of instance files (or of catalogs)."""
    document = catalog_json_schema() if catalog else instance_json_schema()
    typer.echo(json.dumps(document, indent=2))


@app.command()
def solve(
    instance: Path = typer.Argument(..., help="Instance JSON file."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory (default out/<instance-stem>)."),
    solver: str = typer.Option("highs", "--solver", help="highs, or any Pyomo solver name (cbc, scip, gurobi)."),
    time_limit: float = typer.Option(
        DEFAULT_TIME_LIMIT, "--time-limit", min=0,
        help="Seconds before the solver stops and returns its best plan with bound and gap; 0 = no limit."),
    gap: float = typer.Option(DEFAULT_GAP, "--gap", min=0, help="Relative MIP gap to stop at."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                          help="Solver threads (more than the machine has are capped to it)."),
    as_json: bool = typer.Option(False, "--json", help="Print summary.json to stdout instead of tables."),
    lp_relaxation: bool = typer.Option(False, "--lp-relaxation", help="Also solve the LP relaxation, report its gap."),
    strategy: str = typer.Option(
        "auto", "--strategy",
        help="auto, direct or staged: staged proves a bound with only the blocks online per block size whole, "
             "places whole blocks and leases, rounds and searches the lots, then solves the whole model from "
             "that plan (HiGHS; auto = staged on models with 100+ integers)."),
    tee: bool = typer.Option(False, "--log", help="Stream the solver log."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip the report (plots, explanation, baselines)."),
    force: bool = typer.Option(False, "--force", help="Write into an --out that also holds files procure did not "
                                                      "write: replace procure's own files, leave the others."),
    cvar_alpha: Optional[float] = typer.Option(None, "--cvar-alpha", help="CVaR level, in [0, 1) (overrides "
                                                                          "policy.risk.cvar_alpha)."),
    cvar_weight: Optional[float] = typer.Option(None, "--cvar-weight", help="Weight of CVaR in the objective, in "
                                                                            "[0, 1] (overrides policy.risk.weight)."),
) -> None:
    """Build the MILP, solve it, write summary.json, capacity.csv, plan.csv, costs.csv and the report."""
    from procure.api import solve as run_solve, with_risk
    from procure.cli.report import print_highlights
    from procure.report.pipeline import write_outputs
    from procure.solving.interrupt import ctrl_c_stops_solves
    from procure.outputs.files import OutputDirError, check_output_dir
    from procure.solving.solve import SolverUnavailable

    from procure.solving.staged import STRATEGIES

    if strategy not in STRATEGIES:
        errors.print(f"[bold red]error:[/] --strategy must be one of {', '.join(STRATEGIES)} (got {strategy!r})")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        loaded = with_risk(_load(instance), cvar_alpha, cvar_weight)
    except ValueError as exc:  # out of its range
        errors.print(f"error: --{str(exc).replace('cvar_', 'cvar-')}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    time_limit = time_limit_or_none(time_limit)
    out_dir = out or Path("out") / instance.stem
    try:  # before solving: a solve that cannot write its outputs is wasted
        check_output_dir(out_dir, force=force, report=not no_report)
    except OutputDirError as exc:
        errors.print(f"[bold red]error:[/] --out: {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    if not as_json:  # a solve can take minutes in silence: say what runs and how to stop it
        limit = f"time limit {time_limit:g} s" if time_limit else "no time limit"
        errors.print(f"solving {instance.name}: {limit}, gap {gap:g} (Ctrl-C stops it and keeps the best plan "
                     f"so far)", markup=False, highlight=False, soft_wrap=True)
    # One Ctrl-C block from the solve until the plan is on disk: a press then (a second one, say) is recorded,
    # not raised, so the plan found is never lost
    with ctrl_c_stops_solves() as interrupt:
        try:
            plan = run_solve(loaded, solver=solver, time_limit=time_limit, gap=gap, threads=threads, tee=tee,
                             lp_relaxation=lp_relaxation, keep_model=not no_report, strategy=strategy)
        except SolverUnavailable as exc:
            errors.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(EXIT_BAD_INPUT)
        summary = plan.summary
        interrupted = summary["interrupted"] = summary["interrupted"] or interrupt.requested
        report = not (no_report or interrupted)  # the report solves again: not after a Ctrl-C
        if not report:
            _write_or_exit(lambda: write_outputs(plan, loaded, out_dir, report=False, force=force))
    interrupted = interrupted or interrupt.requested  # a press while the plan was written: exit 130 too
    if report:  # outside the block: the report's solves stop at Ctrl-C and raise KeyboardInterrupt
        try:
            _write_or_exit(lambda: write_outputs(plan, loaded, out_dir, report=True, time_limit=time_limit,
                                                 log=None if as_json else errors.print, force=force))
        except KeyboardInterrupt:  # while explaining or writing the report: write the plan alone
            interrupted, report = True, False
            summary["interrupted"] = True
            with ctrl_c_stops_solves():
                _write_or_exit(lambda: plan.write(out_dir, force=force))
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        print_plan(console, plan, out_dir)
        if report:
            print_highlights(console, out_dir)
    if interrupted:
        what = ("the outputs hold the best plan found before it, without the report" if summary["has_plan"]
                else "no plan had been found")
        errors.print(f"[yellow]interrupted[/] (Ctrl-C): {what}", soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    if summary["status"] not in ("optimal", "feasible"):
        raise typer.Exit(EXIT_NO_PLAN)


def _write_or_exit(write) -> None:
    """Run ``write``; a file that appeared in ``--out`` during the solve, or a write that fails, is an error
    (exit 2), not a traceback."""
    from procure.outputs.files import OutputDirError

    try:
        write()
    except OutputDirError as exc:
        errors.print(f"[bold red]error:[/] --out: {exc}; the plan was not written", soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    except OSError as exc:  # checked before the solve, but the disk can fill or the directory change since
        errors.print(f"[bold red]error:[/] --out: cannot write there ({exc}); the plan was not written",
                     soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def sweep(
    spec: Path = typer.Argument(..., help="Sweep spec JSON file."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory (default out/<spec-stem>)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                          help="Local worker processes (default: one per CPU this process may use)."),
    dask: Optional[str] = typer.Option(None, "--dask", help="Run on a Dask cluster (scheduler address)."),
    resume: bool = typer.Option(False, "--resume", help="Keep the points already in DIR; run only the missing."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", min=0, help="Seconds per point (overrides spec)."),
    gap: Optional[float] = typer.Option(None, "--gap", min=0, help="Relative MIP gap per point (overrides spec)."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write the plot that fits the sweep's design."),
    force: bool = typer.Option(False, "--force", help="Run in an --out that also holds files procure did not "
                                                      "write, leaving them alone."),
) -> None:
    """Solve the instance at every point of a sweep; write results.csv (and .parquet) and a plot."""
    from procure.outputs.ownership import OutputDirError
    from procure.sweeps.run import sweep as run_sweep

    if time_limit == 0:  # unlike `procure solve`, a sweep point always has a limit (the spec's, if not given)
        errors.print("[bold red]error:[/] --time-limit must be above 0 seconds (leave it out to use the spec's)")
        raise typer.Exit(EXIT_BAD_INPUT)
    out_dir = out or Path("out") / spec.stem
    try:
        table = run_sweep(spec, out=out_dir, workers=workers, dask=dask, resume=resume, progress=True,
                          time_limit=time_limit, gap=gap, plot=plot, force=force)
    except InstanceError as exc:
        _fail_input(exc, spec)
    except OutputDirError as exc:
        errors.print(f"[bold red]error:[/] --out: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        errors.print(f"[yellow]interrupted[/]: finished points are in {out_dir}/results.csv; "
                     f"run again with --resume to finish")
        raise typer.Exit(EXIT_INTERRUPTED)
    except OSError as exc:  # e.g. no Dask scheduler at that address
        errors.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_BAD_INPUT)
    console.print(sweep_table(table, out_dir, title=f"sweep {spec.stem}"))
    if table.empty or not table["status"].isin(("optimal", "feasible")).any():
        raise typer.Exit(EXIT_NO_PLAN)


@app.command()
def report(out_dir: Path = typer.Argument(..., help="Output directory written by `procure solve`.")) -> None:
    """Re-render the plots, report.md and report.html from a solve's saved outputs (no solving)."""
    from procure.cli.report import report_command

    report_command(out_dir, console)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
