"""Write a solve's outputs atomically: the directory appears complete or not at all."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

SUMMARY_FILE = "summary.json"
TABLE_FILES = {"capacity": "capacity.csv", "plan": "plan.csv", "costs": "costs.csv"}
REPORT_INPUTS = ("sources.csv", "power.csv")  # what the plots need beyond the core tables (not with --no-report)
ANALYSIS_FILES = {"explain": "explain.json", "marginal_costs": "marginal_costs.csv", "binding": "binding.csv",
                  "break_even": "break_even.csv", "baselines": "baselines.csv"}
REPORT_FILES = ("report.md", "report.html")
PLOTS_DIR = "plots"
OUTPUT_NAMES = frozenset({SUMMARY_FILE, *TABLE_FILES.values(), *REPORT_INPUTS, *ANALYSIS_FILES.values(),
                          *REPORT_FILES, PLOTS_DIR})
"""Every name a solve may write into its output directory: the only ones a new solve may replace."""
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})  # file browsers' own: replaced freely
FLOAT_FORMAT = "%.6f"


class OutputDirError(ValueError):
    """The output directory cannot be replaced without losing something procure did not write."""


def output_target(out_dir: Path) -> Path:
    """The directory a solve writes to: ``out_dir``, or where it points when it is a symbolic link (the
    link is kept and points at the new outputs)."""
    out_dir = Path(out_dir)
    return Path(os.path.realpath(out_dir)) if out_dir.is_symlink() else out_dir


def check_output_dir(out_dir: Path) -> None:
    """Raise :class:`OutputDirError` unless ``out_dir`` is new, empty or an earlier solve's outputs.

    A solve replaces its output directory whole (see :func:`write_directory`); a directory holding anything
    else — the user's notes, the instance being solved — or the current directory must not be replaced.
    """
    out_dir = output_target(out_dir)
    if not out_dir.exists():
        ancestor = next(p for p in out_dir.absolute().parents if p.exists())  # the root always exists
        if not ancestor.is_dir():
            raise OutputDirError(f"{out_dir} cannot be made: {ancestor} is a file")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise OutputDirError(f"{out_dir} cannot be made: {ancestor} is not writable")
        return
    if not out_dir.is_dir():
        raise OutputDirError(f"{out_dir} is a file, not a directory")
    here, target = Path.cwd().resolve(), out_dir.resolve()
    if target == here or target in here.parents:
        raise OutputDirError(f"{out_dir} is the current directory (or holds it): it would be replaced whole; "
                             "choose another --out")
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in OUTPUT_NAMES | SYSTEM_FILES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise OutputDirError(f"{out_dir} holds files a solve did not write ({shown}); a solve replaces its "
                             "output directory whole: choose a new or empty --out")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def atomic_write_text(path: Path, text: str) -> None:
    """Write one file via a temporary sibling and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_directory(out_dir: Path, summary: dict, tables: dict[str, pd.DataFrame], extra=None) -> Path:
    """Write ``summary.json`` and the tables into ``out_dir``, replacing it whole.

    Files are written into a temporary sibling directory which then takes ``out_dir``'s place; a
    failure part-way leaves the previous outputs untouched. ``extra(tmp_dir)`` may add files (plots,
    reports) before the swap. Raises :class:`OutputDirError` (before writing anything) when ``out_dir``
    holds anything a solve does not write (:func:`check_output_dir`).
    """
    check_output_dir(out_dir)
    out_dir = output_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    try:
        write_json(summary, staging / SUMMARY_FILE)
        for name, frame in tables.items():
            write_table(frame, staging / TABLE_FILES[name])
        if extra is not None:
            extra(staging)
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
