"""Benchmark driver: time every phase of ``procure`` on the benchmark instances, per solver.

    python -m benchmarks.run                      # the full set, writes benchmarks/results/<date>.{csv,md}
    python -m benchmarks.run --set ci --no-write  # xs and s, prints the table only
    python -m benchmarks.run --instances xs,meta --solvers highs --time-limit 30

Each (instance, solver) case runs in a fresh subprocess, so its peak memory is its own and HiGHS's
global thread pool starts with the requested thread count. Phases, in seconds of wall-clock time:

* ``data``: read/generate and validate the instance, ``build_data``;
* ``build``: ``build_model`` (the Pyomo model);
* ``load``: HiGHS only — ``HighsSession(model)``, handing the model to HiGHS (for CBC and SCIP the
  hand-over happens inside the solve call and is counted in ``solve``);
* ``solve``: the solver call with the time limit, gap and thread count given;
* ``highs_run``: HiGHS's own run time inside that solve call (``Highs.getRunTime``) — the same model,
  so ``total - highs_run`` is what the modelling layer costs in this case;
* ``highs_alone``: HiGHS reading the model from an MPS file in a fresh process and solving it through
  ``highspy`` alone — the floor without any modelling layer. ``overhead = total / highs_alone``. MPS
  rounds some coefficients in their last digits, which can send the MIP search down another path: on
  a case solved to the gap, compare with ``highs_run`` before reading the ratio as modelling cost.

Peak memory is ``resource.getrusage`` ``ru_maxrss`` of the case's process plus that of its own children
(CBC runs as a child process), in MiB — an upper bound on the case's peak resident set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.generator import REPO, SHIPPED, SPECS, BenchSpec  # noqa: E402
from benchmarks.tables import (csv_text, gap_cell, machine_info, machine_line, markdown_head,  # noqa: E402
                               number_cell, size_cell)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SETS = {
    "ci": ("xs", "s"),
    "full": ("tiny", "small", "xs", "s", "m", "l", "xl", "meta"),
}
SOLVERS = ("highs", "highs-staged", "cbc", "scip")  # highs-staged: HiGHS with procure's staged strategy
COLUMNS = ("date", "instance", "solver", "status", "termination", "objective", "bound", "gap",
           "variables", "integers", "constraints", "data_s", "build_s", "load_s", "solve_s", "total_s",
           "build_load_share", "peak_mib", "highs_run_s", "overhead_in_process", "highs_alone_s",
           "highs_alone_status", "highs_alone_objective", "highs_alone_peak_mib", "overhead", "time_limit",
           "gap_target", "threads", "loadavg", "note")


# ------------------------------------------------------------------------------------------ solvers
def solver_available(name: str) -> tuple[bool, str]:
    """Whether ``name`` can run here, and a note saying why not (or which version runs)."""
    if name in ("highs", "highs-staged"):
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False, "highspy not installed"
        return True, ""
    if name == "cbc":
        import pyomo.environ as pyo

        try:
            ok = pyo.SolverFactory("cbc").available(exception_flag=False)
        except Exception:  # pyomo raises several kinds for a missing executable
            ok = False
        return (True, "") if ok else (False, "cbc executable not found (apt-get install coinor-cbc)")
    if name == "scip":
        if shutil.which("scip"):
            return True, ""
        try:
            import pyscipopt  # noqa: F401
        except ImportError:
            return False, "pyscipopt not installed (pip install pyscipopt)"
        return True, ""
    return False, f"unknown solver {name!r}"


def solve_options(solver: str, time_limit: float, gap: float, threads: int | None):
    """``SolveOptions`` for ``procure.solving.solve``: the same limit, gap and threads for every solver.

    ``procure.solving.solve`` maps them to each solver's own option names (CBC's limit in wall-clock seconds;
    ``scip`` runs through PySCIPOpt's ``scip_direct`` when there is no ``scip`` executable).
    """
    from procure.solving.solve import SolveOptions

    return SolveOptions(solver="highs" if solver == "highs-staged" else solver, time_limit=time_limit, gap=gap,
                        threads=threads)


# ---------------------------------------------------------------------------------- one case (child)
def _peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((own + children) / 1024.0, 1)  # Linux reports KiB


def _load(instance: str):
    from benchmarks.generator import load, load_named

    if instance.startswith("{"):
        return load(BenchSpec(**json.loads(instance)))
    return load_named(instance)


def run_case(instance: str, solver: str, time_limit: float, gap: float, threads: int | None,
             mps: str | None = None) -> dict:
    """Build and solve one instance with one solver in this process; returns the measured row."""
    from procure.inputs.data import build_data
    from procure.model import build_model
    from procure.outputs.tables import model_size
    from procure.solving.solve import HighsSession, solve_model

    row: dict = {"solver": solver}
    t0 = time.perf_counter()
    data = build_data(_load(instance))
    t1 = time.perf_counter()
    model = build_model(data)
    t2 = time.perf_counter()
    row.update(model_size(model))
    row["data_s"], row["build_s"] = t1 - t0, t2 - t1
    options = solve_options(solver, time_limit, gap, threads)
    if solver == "highs":
        session = HighsSession(model)
        row["load_s"] = session.load_seconds
        if mps:
            session.highs.writeModel(mps)
        result = session.solve(options)
        row["highs_run_s"] = session.highs.getRunTime()  # HiGHS's own clock for the run just made
    elif solver == "highs-staged":  # the same session, solved in stages (procure.solving.staged), whatever the size
        from procure.solving.staged import solve_staged

        session = HighsSession(model)
        row["load_s"] = session.load_seconds
        result, stages = solve_staged(model, data, options, session=session)
        row["note"] = "; ".join(f"{st.name} {st.seconds:.1f} s" for st in stages)
    else:
        row["load_s"] = None
        result = solve_model(model, options)
    row.update(status=result.status, termination=result.termination, objective=result.objective,
               bound=result.bound, gap=result.gap, solve_s=result.seconds)
    if result.termination == "intermediateNonInteger":
        # CBC stopped before any integer solution and handed back its LP relaxation point
        row.update(status="no_solution", objective=None, gap=None,
                   note="no integer solution: the solver returned its LP relaxation")
    row["total_s"] = row["data_s"] + row["build_s"] + (row["load_s"] or 0.0) + row["solve_s"]
    row["peak_mib"] = _peak_mib()
    return row


def run_highs_alone(mps: str, time_limit: float, gap: float, threads: int | None) -> dict:
    """HiGHS alone on an MPS file: read, then run with the same limits and threads, and the same parallel
    tree search as procure's solves (:func:`procure.solving.solve.highs_options`)."""
    import highspy

    from procure.solving.solve import SolveOptions, capped_threads, highs_options

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    threads = capped_threads(threads)  # as procure's solves are
    if threads:
        h.setOptionValue("threads", int(threads))
    # given the limit, highs_options leaves it to the setOptionValue below (it states "no limit" otherwise)
    for key, value in highs_options(SolveOptions(time_limit=time_limit, gap=gap, threads=threads)).items():
        h.setOptionValue(key, value)
    t0 = time.perf_counter()
    h.readModel(mps)
    read_s = time.perf_counter() - t0
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    t1 = time.perf_counter()
    h.run()
    run_s = time.perf_counter() - t1
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    objective = info.objective_function_value if info.primal_solution_status else None
    return {"status": status, "read_s": read_s, "run_s": run_s, "objective": objective,
            "bound": info.mip_dual_bound, "gap": info.mip_gap, "peak_mib": _peak_mib()}


# --------------------------------------------------------------------------------- parent: orchestration
def _child(args: list[str], timeout: float) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # its own process group: a hung case is killed with whatever it started (CBC runs as a grandchild),
    # which would otherwise go on using a core under the next cases' timings
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.run", *args], cwd=REPO, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"status": "killed", "note": f"killed after {timeout:.0f} s"}
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if child.returncode != 0 or not lines:
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "note": tail[:200]}
    return json.loads(lines[-1])


def measure(instance: str, solver: str, time_limit: float, gap: float, threads: int | None,
            highs_alone: bool = True, date: str | None = None) -> dict:
    """One table row: the case in a subprocess, and (HiGHS) the MPS floor in another."""
    from procure.solving.solve import capped_threads

    common = ["--time-limit", str(time_limit), "--gap", str(gap)] + (["--threads", str(threads)] if threads else [])
    timeout = 3 * time_limit + 600
    row = {"date": date or dt.date.today().isoformat(), "instance": instance, "solver": solver,
           "time_limit": time_limit, "gap_target": gap, "threads": capped_threads(threads),
           "loadavg": round(os.getloadavg()[0], 2)}
    ok, note = solver_available(solver)
    if not ok:
        row.update(status="skipped", note=note)
        return row
    with tempfile.TemporaryDirectory(prefix="procure-bench-") as tmp:
        mps = str(Path(tmp) / "model.mps")
        extra = ["--mps", mps] if solver == "highs" and highs_alone else []
        row.update(_child(["_case", "--instance", instance, "--solver", solver, *common, *extra], timeout))
        if extra and Path(mps).exists():
            alone = _child(["_highs_alone", "--mps", mps, *common], timeout)
            row["highs_alone_s"] = alone.get("run_s")
            row["highs_alone_status"] = alone.get("status")
            row["highs_alone_objective"] = alone.get("objective")
            row["highs_alone_peak_mib"] = alone.get("peak_mib")
            if row.get("highs_alone_s") and row.get("total_s"):
                row["overhead"] = row["total_s"] / row["highs_alone_s"]
    if row.get("total_s") and row.get("highs_run_s"):
        row["overhead_in_process"] = row["total_s"] / row["highs_run_s"]
    if row.get("total_s"):
        row["build_load_share"] = (row["data_s"] + row["build_s"] + (row.get("load_s") or 0.0)) / row["total_s"]
    return row


def instance_label(instance: str) -> str:
    if instance.startswith("{"):
        return json.loads(instance).get("name", "spec")
    return instance


# ------------------------------------------------------------------------------------------ output
def markdown_table(rows: list[dict]) -> str:
    head = ("| instance | vars / int / rows | solver | status | objective $M | gap | data+build s | load s "
            "| solve s | total s | build+load % | peak MiB | HiGHS run s | HiGHS alone s | overhead |")
    lines = markdown_head(head)
    for r in rows:
        size = size_cell(r)
        if r.get("status") == "skipped":
            lines.append(f"| {r['instance']} | {size} | {r['solver']} | skipped: {r.get('note', '')} "
                         + "| " * 11 + "|")
            continue
        status = str(r.get("status"))
        if status in FAILED and r.get("note"):  # why the case broke, not only in the CSV
            status = f"{status}: {r['note']}".replace("|", "/").replace("\n", " ")
        db = (r.get("data_s") or 0.0) + (r.get("build_s") or 0.0) if r.get("build_s") is not None else None
        share = r.get("build_load_share")
        lines.append("| " + " | ".join([
            r["instance"], size, r["solver"], status, number_cell(r.get("objective"), 1), gap_cell(r.get("gap")),
            number_cell(db), number_cell(r.get("load_s")), number_cell(r.get("solve_s")),
            number_cell(r.get("total_s")), number_cell(100 * share, 0) if share is not None else "–",
            number_cell(r.get("peak_mib"), 0), number_cell(r.get("highs_run_s")),
            number_cell(r.get("highs_alone_s")), number_cell(r.get("overhead")),
        ]) + " |")
    return "\n".join(lines)


def write_results(rows: list[dict], out_dir: Path, stem: str, header: str) -> tuple[Path, Path]:
    """``<stem>.csv`` and ``<stem>.md`` in ``out_dir``, each written whole and swapped in (a run with the
    same stem replaces them)."""
    from procure.outputs.files import atomic_write_text

    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    atomic_write_text(csv_path, csv_text(rows, COLUMNS))
    atomic_write_text(md_path, header + "\n\n" + markdown_table(rows) + "\n")
    return csv_path, md_path


def usage_problems(instances: list[str], solvers: list[str], time_limit: float, gap: float,
                   threads: int) -> list[str]:
    """What is wrong with the command line (empty when nothing is)."""
    problems = []
    unknown = [i for i in instances if i not in SPECS and i not in SHIPPED]
    if not instances:
        problems.append("--instances: give at least one instance (or leave it out to use --set)")
    if unknown:
        problems.append(f"unknown instance(s): {', '.join(unknown)}")
    if not solvers:
        problems.append("--solvers: give at least one solver")
    unknown_solvers = [s for s in solvers if s not in SOLVERS]
    if unknown_solvers:  # a typo; a known solver that is not installed is a skipped row instead
        problems.append(f"unknown solver(s): {', '.join(unknown_solvers)} (known: {', '.join(SOLVERS)})")
    return problems + option_problems(time_limit, gap, threads)


def option_problems(time_limit: float, gap: float, threads: int) -> list[str]:
    """What is wrong with the solve options every benchmark driver takes (empty when nothing is)."""
    problems = []
    if not time_limit > 0:
        problems.append(f"--time-limit must be above 0 seconds (got {time_limit:g})")
    if not gap >= 0:
        problems.append(f"--gap must be ≥ 0 (got {gap:g})")
    if threads < 1:
        problems.append(f"--threads must be ≥ 1 (got {threads})")
    return problems


FAILED = ("error", "killed")
"""Row statuses that mean the benchmark itself broke (a crash or a hang), not a slow solve: exit 1."""


# --------------------------------------------------------------------------------------------- CLI
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--set", choices=sorted(SETS), default="full", help="named instance set (default full)")
    p.add_argument("--instances", help="comma-separated instances instead of --set: "
                                       + ", ".join([*SPECS, *SHIPPED]))
    p.add_argument("--solvers", default=",".join(SOLVERS), help=f"comma-separated (default {','.join(SOLVERS)})")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (default 60)")
    p.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap (default 1e-4)")
    p.add_argument("--threads", type=int, default=2, help="solver threads (default 2)")
    p.add_argument("--no-highs-alone", action="store_true", help="skip the MPS + highspy floor")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="results directory (default benchmarks/results)")
    p.add_argument("--stem", help="file name stem (default: today's date)")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    return p


def _child_parser(mode: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m benchmarks.run {mode}")
    if mode == "_case":
        p.add_argument("--instance", required=True)
        p.add_argument("--solver", required=True)
    p.add_argument("--mps", required=(mode == "_highs_alone"))
    p.add_argument("--time-limit", type=float, required=True)
    p.add_argument("--gap", type=float, required=True)
    p.add_argument("--threads", type=int)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("_case", "_highs_alone"):
        a = _child_parser(argv[0]).parse_args(argv[1:])
        if argv[0] == "_case":
            out = run_case(a.instance, a.solver, a.time_limit, a.gap, a.threads, a.mps)
        else:
            out = run_highs_alone(a.mps, a.time_limit, a.gap, a.threads)
        print(json.dumps(out))
        return 0

    a = _parser().parse_args(argv)
    instances = ([i.strip() for i in a.instances.split(",") if i.strip()] if a.instances is not None
                 else list(SETS[a.set]))
    solvers = [s.strip() for s in a.solvers.split(",") if s.strip()]
    problems = usage_problems(instances, solvers, a.time_limit, a.gap, a.threads)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    date = dt.date.today().isoformat()
    info = machine_info()
    load_at_start = os.getloadavg()[0]
    started = time.perf_counter()
    rows = []
    for instance in instances:
        for solver in solvers:
            row = measure(instance, solver, a.time_limit, a.gap, a.threads, not a.no_highs_alone, date)
            rows.append(row)
            print(f"  {instance:6s} {solver:5s} {row.get('status', '?'):11s} "
                  f"total {number_cell(row.get('total_s'))} s  {row.get('note', '')}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    header = (f"Benchmarks {date}: time limit {a.time_limit:g} s, gap {a.gap:g}, threads {a.threads}; "
              f"{machine_line(info)}; load average at start {load_at_start:.2f}; ran in {elapsed:.0f} s.")
    print(header)
    print()
    print(markdown_table(rows))
    if not a.no_write:
        csv_path, md_path = write_results(rows, a.out, a.stem or date, header)
        print(f"\nwrote {csv_path.relative_to(REPO) if csv_path.is_relative_to(REPO) else csv_path} and "
              f"{md_path.name}")
    broken = [f"{r.get('instance')} {r.get('solver')}: {r.get('status')} ({r.get('note', '')})" for r in rows
              if r.get("status") in FAILED]
    if broken:  # benchmarks report times, but a case that crashed or hung is a defect: fail the run (CI)
        print("\n".join(["cases that crashed or hung:", *broken]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
