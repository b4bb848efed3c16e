"""The package's floors: each stage of the data flow imports only from the stages before it.

inputs → model → solving → outputs → analysis → report → sweeps → api → cli. ``outputs`` (the plan read
into tables, files written atomically) comes before ``analysis`` because the analyses read the plan's
tables; nothing upstream ever imports a later floor, so a newcomer can read the package in this order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "procure"
FLOORS = ("inputs", "model", "solving", "outputs", "analysis", "report", "sweeps", "api", "cli")
TERMINAL = ("typer", "rich")  # the terminal's libraries: the CLI's, and the sweep's live progress bar


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def floor_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "__init__.py")


def test_every_module_sits_on_a_floor():
    assert {floor_of(p) for p in modules()} <= set(FLOORS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_import_goes_up_a_floor(path):
    here = FLOORS.index(floor_of(path))
    upward = sorted(name for name in imports_of(path) if name.startswith("procure.")
                    and name.split(".")[1] in FLOORS and FLOORS.index(name.split(".")[1]) > here)
    assert not upward, f"{path.relative_to(PACKAGE)} imports a later floor: {upward}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_terminal_libraries_stay_in_the_cli(path):
    terminal = sorted(name for name in imports_of(path) if name.split(".")[0] in TERMINAL)
    if floor_of(path) == "cli" or path.relative_to(PACKAGE).as_posix() == "sweeps/run.py":  # its progress bar
        return
    assert not terminal, f"{path.relative_to(PACKAGE)} imports {terminal}"
