"""Write a solve's outputs atomically: the directory appears complete or not at all."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

TABLE_FILES = {"capacity": "capacity.csv", "plan": "plan.csv", "costs": "costs.csv"}
FLOAT_FORMAT = "%.6f"


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
    reports) before the swap.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    try:
        write_json(summary, staging / "summary.json")
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
