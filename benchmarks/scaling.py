"""How solve time grows with one dimension at a time: a series per dimension and a fitted exponent.

    python -m benchmarks.scaling                         # scenarios and sites, 1..16, around xs
    python -m benchmarks.scaling --dims scenarios --values 1,2,4,8 --time-limit 30

Each point is one HiGHS case from :mod:`benchmarks.run` (own subprocess, same phases). The exponent ``b``
of ``y ≈ a · x^b`` is the least-squares slope of ``log y`` on ``log x`` (``numpy.polyfit``), fitted for
the model size (variables), the build+load time and the solve time. Points whose solve stopped at the
time limit are censored (the true time is longer), so the solve-time fit uses only points solved to the
gap, and says how many it used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

import numpy as np  # noqa: E402

from benchmarks.generator import SPECS, BenchSpec  # noqa: E402
from benchmarks.run import FAILED, RESULTS_DIR, measure, option_problems  # noqa: E402
from benchmarks.tables import csv_text, machine_info, machine_line, number_cell, size_cell  # noqa: E402
from procure.outputs.files import atomic_write_text  # noqa: E402

DIMENSIONS = ("scenarios", "sites", "quarters", "accelerators", "offers")


def fit_exponent(x: list[float], y: list[float]) -> float | None:
    """Slope of log y on log x; None with fewer than two usable points."""
    pts = [(a, b) for a, b in zip(x, y) if a and b and a > 0 and b > 0]
    if len(pts) < 2 or len({a for a, _ in pts}) < 2:
        return None
    lx, ly = np.log([a for a, _ in pts]), np.log([b for _, b in pts])
    return float(np.polyfit(lx, ly, 1)[0])


def series(base: BenchSpec, dim: str, values: list[int], time_limit: float, gap: float,
           threads: int | None) -> list[dict]:
    rows = []
    for v in values:
        spec = base.with_(**{dim: v})
        payload = json.dumps(asdict(spec))
        row = measure(payload, "highs", time_limit, gap, threads, highs_alone=False)
        row.update(instance=spec.name, dimension=dim, value=v)
        rows.append(row)
        print(f"  {dim}={v:<3d} {row.get('status', '?'):11s} vars {row.get('variables')} "
              f"solve {number_cell(row.get('solve_s'))} s", file=sys.stderr, flush=True)
    return rows


def fits(rows: list[dict]) -> dict:
    x = [r["value"] for r in rows]
    solved = [r for r in rows if r.get("status") == "optimal"]
    return {
        "variables": fit_exponent(x, [r.get("variables") for r in rows]),
        "build_load": fit_exponent(x, [(r.get("build_s") or 0) + (r.get("load_s") or 0) for r in rows]),
        "solve": fit_exponent([r["value"] for r in solved], [r.get("solve_s") for r in solved]),
        "solve_points": f"{len(solved)}/{len(rows)}",
    }


def markdown(results: dict[str, list[dict]], base: BenchSpec) -> str:
    out = [f"Scaling around `{base.name}` ({', '.join(f'{k}={v}' for k, v in base.dimensions().items())}), "
           "HiGHS, one dimension at a time.", "",
           "| dimension | value | vars / int / rows | status | gap | build+load s | solve s |",
           "|---|---|---|---|---|---|---|"]
    for dim, rows in results.items():
        for r in rows:
            size = size_cell(r)
            bl = (r.get("build_s") or 0) + (r.get("load_s") or 0) if r.get("build_s") is not None else None
            gap = r.get("gap")
            out.append(f"| {dim} | {r['value']} | {size} | {r.get('status')} | "
                       f"{'–' if gap is None else f'{gap:.1e}'} | {number_cell(bl)} | "
                       f"{number_cell(r.get('solve_s'))} |")
    out += ["", "| dimension | exponent: variables | build+load | solve (points solved to the gap) |",
            "|---|---|---|---|"]
    for dim, rows in results.items():
        f = fits(rows)
        show = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        out.append(f"| {dim} | {show(f['variables'])} | {show(f['build_load'])} | "
                   f"{show(f['solve'])} ({f['solve_points']}) |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="xs", choices=sorted(SPECS), help="spec the series vary (default xs)")
    p.add_argument("--dims", default="scenarios,sites", help="comma-separated dimensions (default scenarios,sites)")
    p.add_argument("--values", default="1,2,4,8,16", help="values of each dimension (default 1,2,4,8,16)")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (default 60)")
    p.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap (default 1e-4)")
    p.add_argument("--threads", type=int, default=2, help="solver threads (default 2)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="results directory (default benchmarks/results)")
    p.add_argument("--stem", help="file name stem (default <date>-scaling)")
    p.add_argument("--no-write", action="store_true", help="print the tables only")
    a = p.parse_args(argv)
    dims = [d.strip() for d in a.dims.split(",") if d.strip()]
    bad = [d for d in dims if d not in DIMENSIONS]
    problems = [f"unknown dimension(s): {', '.join(bad)}; known: {', '.join(DIMENSIONS)}"] if bad else []
    if not dims:
        problems.append("--dims: give at least one dimension")
    try:
        values = [int(v) for v in a.values.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        problems.append(f"--values: whole numbers ≥ 1, comma-separated (got {a.values!r})")
    problems += option_problems(a.time_limit, a.gap, a.threads)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    base = SPECS[a.base]
    started = time.perf_counter()
    results = {d: series(base, d, values, a.time_limit, a.gap, a.threads) for d in dims}
    date = dt.date.today().isoformat()
    header = (f"Scaling {date}: time limit {a.time_limit:g} s, gap {a.gap:g}, threads {a.threads}; "
              f"{machine_line(machine_info())}; ran in {time.perf_counter() - started:.0f} s.")
    text = header + "\n\n" + markdown(results, base)
    print(text)
    if not a.no_write:
        a.out.mkdir(parents=True, exist_ok=True)
        stem = a.stem or f"{date}-scaling"
        columns = ["date", "dimension", "value", "instance", "status", "gap", "variables", "integers",
                   "constraints", "data_s", "build_s", "load_s", "solve_s", "total_s", "peak_mib", "time_limit",
                   "gap_target", "threads", "loadavg"]
        every_row = [r for rows in results.values() for r in rows]
        atomic_write_text(a.out / f"{stem}.csv", csv_text(every_row, columns))  # same stem: replaced
        atomic_write_text(a.out / f"{stem}.md", text + "\n")
    broken = [f"{d} = {r.get('value')}: {r.get('status')}" for d, rows in results.items() for r in rows
              if r.get("status") in FAILED]
    if broken:  # a point that crashed or hung is a defect, not a slow solve
        print("\n".join(["points that crashed or hung:", *broken]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
