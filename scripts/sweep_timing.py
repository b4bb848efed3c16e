"""Time a sweep's re-solve in place against a fresh build + solve per point, and points per minute.

Runs the same lease-price sweep three ways, one worker each: persistent with a warm start, persistent
without, and fresh (build and solve every point); then the persistent way on ``--workers`` processes.
Prints the seconds per point (median, excluding each run's first point, which builds the model either
way) and what each way reached (objective, gap), and writes ``timing.json`` into ``--out``.

    python scripts/sweep_timing.py instances/meta.json --time-limit 30 --gap 1e-2 --points 5

With a time limit, the solver time per point is the limit whenever HiGHS does not reach the gap; the
difference between the ways is then the model build and load, and the quality of the plan found in time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import procure


def run(instance: Path, out: Path, points: int, time_limit: float | None, gap: float, reuse: bool, warm: bool,
        workers: int, strategy: str) -> dict:
    spec = {"name": out.name, "instance": str(instance.resolve()), "design": "grid",
            "parameters": [{"knob": "lease_prices", "values": [float(v) for v in np.linspace(0.8, 1.2, points)]}],
            "metrics": ["lease_share"],
            "solve": {"time_limit": time_limit, "gap": gap, "threads": 1, "reuse": reuse, "warm_start": warm,
                      "strategy": strategy}}
    started = time.perf_counter()
    table = procure.sweep(spec, out=out, workers=workers, progress=True, plot=False)
    wall = time.perf_counter() - started
    later = table.iloc[1:] if workers == 1 else table
    return {"points": len(table), "wall_seconds": round(wall, 1),
            "points_per_minute": round(len(table) / wall * 60, 2),
            "median_seconds_per_point": round(float(later["seconds"].median()), 2),
            "median_build_seconds": round(float(later["build_seconds"].median()), 2),
            "median_solve_seconds": round(float(later["solve_seconds"].median()), 2),
            "modes": table["mode"].value_counts().to_dict(),
            "objective": [round(float(v), 1) for v in table["objective"]],
            "gap": [round(float(v), 4) for v in table["gap"]],
            "warm_start": [bool(v) for v in table["warm_start"]],
            "strategy": table["strategy"].value_counts().to_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path, nargs="?", default=Path("instances/meta.json"))
    parser.add_argument("--out", type=Path, default=Path("out/sweep_timing"))
    parser.add_argument("--points", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per point (default 30)")
    parser.add_argument("--gap", type=float, default=1e-2, help="relative MIP gap (default 1e-2)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--strategy", choices=["auto", "direct", "staged"], default="auto",
                        help="solve.strategy of every point (default auto: staged where a point starts cold)")
    args = parser.parse_args()
    report = {"instance": str(args.instance), "time_limit": args.time_limit, "gap": args.gap,
              "strategy": args.strategy}
    ways = {"persistent_warm": (True, True, 1), "persistent_cold": (True, False, 1), "fresh": (False, False, 1),
            f"persistent_warm_{args.workers}_workers": (True, True, args.workers)}
    for name, (reuse, warm, workers) in ways.items():
        report[name] = run(args.instance, args.out / name, args.points, args.time_limit, args.gap, reuse, warm,
                           workers, args.strategy)
        print(name, json.dumps(report[name]), flush=True)
    (args.out / "timing.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
