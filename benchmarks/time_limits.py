"""What `--time-limit T` bounds: the solve, and the command with its report.

    python -m benchmarks.time_limits                      # meta.json at 5, 15 and 30 s
    python -m benchmarks.time_limits --instance small --limits 2 --strategies staged --report

Each row is one `procure solve INSTANCE --time-limit T --json` in a fresh process: wall time (start-up
and writing included), the solve's own seconds and total, and both as multiples of T. The rule it shows
(docs/cli.md, "Time limits"): the solve ends within T plus what HiGHS's root work and the completion of a
rounded plan take past it; the report's extra solves share three times the solve's seconds (at least a
minute, at most half an hour), so a command with the report can take about 4 T.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(instance: Path, limit: float, strategy: str, report: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "procure.cli", "solve", str(instance), "--time-limit", f"{limit:g}",
                   "--strategy", strategy, "--json", "--out", str(Path(tmp) / "out")]
        if not report:
            command.append("--no-report")
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - started
    summary = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    seconds = summary.get("seconds", {})
    return {"limit": limit, "strategy": strategy, "report": report, "exit": done.returncode,
            "status": summary.get("status"), "gap": summary.get("gap"), "solve": seconds.get("solve"),
            "wall": wall}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="meta", help="a name in instances/ (without .json) or a path")
    parser.add_argument("--limits", type=float, nargs="+", default=[5.0, 15.0, 30.0])
    parser.add_argument("--strategies", nargs="+", default=["staged", "direct"])
    parser.add_argument("--report", action="store_true", help="also with the report (the default is without)")
    args = parser.parse_args(argv)
    instance = Path(args.instance)
    if not instance.suffix:
        instance = ROOT / "instances" / f"{args.instance}.json"
    print("| T (s) | strategy | report | exit | status | gap | solve (s) | wall (s) | solve / T | wall / T |")
    print("| ---: | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for limit in args.limits:
        for strategy in args.strategies:
            for report in ([False, True] if args.report else [False]):
                row = run_once(instance, limit, strategy, report)
                gap = f"{row['gap']:.1e}" if row["gap"] is not None else "–"
                solve = row["solve"] if row["solve"] is not None else float("nan")
                print(f"| {limit:g} | {strategy} | {'yes' if report else 'no'} | {row['exit']} | {row['status']} "
                      f"| {gap} | {solve:.1f} | {row['wall']:.1f} | {solve / limit:.2f} | {row['wall'] / limit:.2f} |",
                      flush=True)


if __name__ == "__main__":
    main()
