"""What the sweep scripts share: their common options, and running a spec and printing its table.

Copy this file beside a sweep script you copy (each imports it as ``_common``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import procure

if TYPE_CHECKING:
    import pandas as pd


def sweep_parser(description: str, name: str) -> argparse.ArgumentParser:
    """A parser with the options every sweep script takes: ``--instance`` (default ``instances/meta.json``),
    ``--out`` (default ``out/<name>``), ``--time-limit``, ``--gap``, ``--workers`` and ``--resume``. Add the
    values the script sweeps to it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--instance", type=Path, default=Path("instances/meta.json"))
    parser.add_argument("--out", type=Path, default=Path("out") / name)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per point (default 60)")
    parser.add_argument("--gap", type=float, default=1e-2, help="relative MIP gap (default 1e-2)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: the cores)")
    parser.add_argument("--resume", action="store_true", help="finish an interrupted run in --out")
    return parser


def run_sweep(sweep: dict, args: argparse.Namespace, columns: list[str]) -> pd.DataFrame:
    """Run ``sweep`` into ``args.out`` with the parser's ``--workers`` and ``--resume`` and print ``columns``
    of its table; returns the table. The sweep writes the spec it ran as ``<out>/spec.json`` (run it again
    with ``procure sweep <out>/spec.json``)."""
    table = procure.sweep(sweep, out=args.out, workers=args.workers, resume=args.resume)
    print(table[columns].to_string(index=False))
    return table
