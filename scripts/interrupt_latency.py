"""How long after Ctrl-C a solve returns: press it at chosen moments of a solve and time the return.

For each ``--at`` second (counted from the start of the solve, after the model is built) the instance is
built afresh, solved with the given strategy inside a Ctrl-C block, and SIGINT is sent to this process at
that moment. Prints, per press, the seconds until the solve returned and what it returned.

    python scripts/interrupt_latency.py instances/meta.json --strategy staged --at 1 3 5 8 12 20 30 45
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import threading
import time

from procure.api import load
from procure.inputs.data import build_data
from procure.solving.interrupt import ctrl_c_stops_solves
from procure.model import build_model
from procure.solving.solve import SolveOptions, solve_model
from procure.solving.staged import solve_staged


def press_and_time(instance: str, strategy: str, at: float, time_limit: float) -> dict:
    data = build_data(load(instance))
    model = build_model(data)
    pressed: dict = {}
    started = time.perf_counter()

    def press():
        pressed["at"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(at, press)
    timer.start()
    options = SolveOptions(time_limit=time_limit)
    with ctrl_c_stops_solves():
        result = solve_staged(model, data, options)[0] if strategy == "staged" else solve_model(model, options)
        returned = time.perf_counter()
        timer.cancel()
        timer.join()  # a press already under way lands inside the block
    latency = returned - pressed["at"] if "at" in pressed else None
    return {"at": at, "returned_after": round(returned - started, 2),
            "latency": None if latency is None else round(latency, 2), "termination": result.termination,
            "objective": result.objective, "gap": result.gap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("--strategy", choices=("direct", "staged"), default="staged")
    parser.add_argument("--at", type=float, nargs="+", default=[1, 3, 5, 8, 12, 20, 30, 45])
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with Ctrl-C ignored
    latencies = []
    for at in args.at:
        row = press_and_time(args.instance, args.strategy, at, args.time_limit)
        print(f"{args.strategy}: Ctrl-C at {row['at']:.1f} s, returned at {row['returned_after']:.2f} s "
              f"(latency {row['latency']} s): {row['termination']}, objective {row['objective']}, "
              f"gap {row['gap']}", flush=True)
        if row["latency"] is not None:
            latencies.append(row["latency"])
    if latencies:
        print(f"latency: median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s, "
              f"{len(latencies)} presses")


if __name__ == "__main__":
    main()
