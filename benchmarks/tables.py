"""What the benchmark drivers (:mod:`benchmarks.run`, :mod:`benchmarks.scaling`,
:mod:`benchmarks.relaxations`) write the same way: markdown table cells, CSV text, and the line that
describes the machine a table was measured on."""

from __future__ import annotations

import csv
import io
import math
import os
import platform
import subprocess
from pathlib import Path


# ------------------------------------------------------------------------------------- markdown cells
def number_cell(value, digits: int = 2) -> str:
    """A number for a markdown cell: ``digits`` decimals, thousands separated and no decimals from 10,000
    on, ``–`` for a missing value (None, empty or NaN); anything else as ``str``."""
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if abs(value) >= 1e4:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def gap_cell(value) -> str:
    """A relative MIP gap for a markdown cell: ``1.2e-04``, ``0`` when closed, ``–`` when missing."""
    if value is None or value == "":
        return "–"
    return f"{float(value):.1e}" if float(value) > 0 else "0"


def size_cell(row: dict) -> str:
    """A measured row's model size, ``variables / integers / constraints`` (``–`` when not measured)."""
    if row.get("variables") is None:
        return "–"
    return f"{row['variables']:,} / {row['integers']:,} / {row['constraints']:,}"


def markdown_head(head: str) -> list[str]:
    """A markdown table's header line ``head`` (``| a | b |``) and the ``|---|---|`` line under it."""
    return [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]


# ------------------------------------------------------------------------------------------------ CSV
def csv_text(rows: list[dict], columns) -> str:
    """``rows`` as CSV text with the given columns (missing values empty)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
    return text.getvalue()


# -------------------------------------------------------------------------------------------- machine
def machine_info() -> dict:
    """The machine and software a benchmark runs on: cores, CPU model, memory (GiB), Python, and the versions
    of Pyomo and of each solver found (None where one is missing)."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    for module in ("pyomo", "highspy", "pyscipopt"):
        try:
            versions[module] = __import__(module).__version__
        except Exception:
            versions[module] = None
    try:
        import highspy

        versions["highspy"] = highspy.Highs().version()
    except Exception:
        pass
    try:
        out = subprocess.run(["cbc", "-quit"], capture_output=True, text=True, timeout=10).stdout
        versions["cbc"] = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Version")), None)
    except (OSError, subprocess.SubprocessError):
        versions["cbc"] = None
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": mem_gib, "python": platform.python_version(),
            **versions}


def machine_line(info: dict) -> str:
    """:func:`machine_info` as the one line a table's header gives."""
    solvers = ", ".join(f"{k} {v}" for k, v in info.items() if k in ("highspy", "cbc", "pyscipopt") and v)
    return (f"{info['nproc']} cores ({info['cpu']}), {info['memory_gib']} GiB, Python {info['python']}, "
            f"Pyomo {info.get('pyomo')}; solvers: {solvers or 'none'}")
