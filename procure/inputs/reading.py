"""Reading input files: regular files only, within a size cap, as strict JSON, from the places an instance
may read.

Every limit here is the one place of its default and names the environment variable that overrides it
(docs/instance-format.md, "Reading rules"). A refused file is never opened, so nothing it holds reaches an
error message.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

MAX_INPUT_MB = 64.0
"""Largest instance or catalog file read, in MB (10^6 bytes); ``PROCURE_MAX_INPUT_MB`` overrides it. The
shipped meta.json is 0.06 MB."""
MAX_INPUT_MB_VARIABLE = "PROCURE_MAX_INPUT_MB"
CATALOG_ROOTS_VARIABLE = "PROCURE_CATALOG_ROOTS"
"""More folders catalogs may be read from, separated by ``os.pathsep``."""
PROJECT_MODELS = Path(__file__).resolve().parents[2] / "models"
"""The project's catalog root (models/accelerators.json), for instances written elsewhere (benchmarks)."""


class ReadError(Exception):
    """A file that cannot be read as an input; ``str()`` is the rule it broke."""


def max_input_bytes() -> int:
    text = os.environ.get(MAX_INPUT_MB_VARIABLE)
    if text is None:
        return int(MAX_INPUT_MB * 1e6)
    try:
        megabytes = float(text)
    except ValueError:
        raise ReadError(f"{MAX_INPUT_MB_VARIABLE} must be a number of MB (got {text!r})") from None
    if not megabytes > 0:
        raise ReadError(f"{MAX_INPUT_MB_VARIABLE} must be positive (got {text!r})")
    return int(megabytes * 1e6)


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``, a regular file within :func:`max_input_bytes`. Opened without blocking
    and checked again once open, so a FIFO or device swapped in after the first check is not read."""
    limit = max_input_bytes()
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ReadError(f"cannot read file: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. a NUL byte in the file name
        raise ReadError(f"cannot read file: {exc}") from None
    _check_regular(info, limit)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ReadError(f"cannot read file: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "rb") as handle:
        _check_regular(os.fstat(handle.fileno()), limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ReadError(_too_large(len(data), limit))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReadError("file is not UTF-8 text") from None


def _check_regular(info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ReadError("not a regular file (a directory, device or pipe is never read)")
    if info.st_size > limit:
        raise ReadError(_too_large(info.st_size, limit))


def _too_large(size: int, limit: int) -> str:
    return (f"file is over the {limit / 1e6:g} MB input limit ({size / 1e6:.1f} MB or more; "
            f"{MAX_INPUT_MB_VARIABLE} raises it)")


class _Object(dict):
    """A JSON object that remembers the keys it was given more than once."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object()
    seen, repeated = set(), []
    for key, value in pairs:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
        result[key] = value
    if repeated:
        result.duplicates = tuple(repeated)
    return result


def parse_json(text: str) -> tuple[Any, list[tuple[str, str]]]:
    """Parse ``text``; returns the value and the ``(JSON path, key)`` of every key an object repeats (JSON
    keeps the last silently, which hides a typo'd edit). Raises :class:`ReadError` on bad JSON."""
    try:
        value = json.loads(text, object_pairs_hook=_object)  # NaN/Infinity parse; the schema rejects them
    except json.JSONDecodeError as exc:
        raise ReadError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ReadError("JSON nested too deeply") from None
    return value, list(_repeated_keys(value, ""))


def _repeated_keys(value: Any, path: str):
    stack = [(value, path)]
    while stack:  # iterative: a deep document must not exhaust the stack here either
        node, where = stack.pop()
        if isinstance(node, dict):
            for key in getattr(node, "duplicates", ()):
                yield where, key
            stack.extend((child, f"{where}.{key}" if where else str(key)) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{k}]") for k, child in reversed(list(enumerate(node))))


def catalog_roots(base_dir: Path) -> list[Path]:
    """Where an instance in ``base_dir`` may read catalogs: its own folder tree, a ``models/`` folder beside
    that folder (the project's layout: instances/ and models/), the project's models/, and the folders in
    ``PROCURE_CATALOG_ROOTS``."""
    base = base_dir.resolve()
    extra = [Path(p).resolve() for p in os.environ.get(CATALOG_ROOTS_VARIABLE, "").split(os.pathsep) if p]
    return [base, base.parent / "models", PROJECT_MODELS, *extra]


def resolve_catalog(name: str, base_dir: Path) -> Path:
    """The file a catalog entry names (relative to ``base_dir``), or :class:`ReadError` when it lies outside
    :func:`catalog_roots` (symbolic links followed): an instance cannot make procure read and echo files
    elsewhere on the machine."""
    try:
        path = (base_dir / name).resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        raise ReadError(f"cannot resolve the catalog path: {exc}") from None
    if not any(path.is_relative_to(root) for root in catalog_roots(base_dir)):
        raise ReadError(f"a catalog must be inside the instance's folder, a models/ folder beside it or "
                        f"{CATALOG_ROOTS_VARIABLE} (docs/instance-format.md)")
    return path
