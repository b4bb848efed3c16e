"""Sweep specifications: which instance values to vary, over which values, and what to record.

A spec is a JSON file checked like an instance: every problem is a :class:`procure.inputs.validation.Problem`
whose path names the offending value of the spec (``parameters[1].path``) and, where it matters, the
instance path it points at. :func:`load_spec` raises :class:`procure.inputs.validation.InstanceError` with the
full list; nothing here prints or solves.

Parameters address values by path into the instance file:

* ``sites[2].expansion.lead_quarters`` — list index;
* ``sites[hyperion].expansion.lead_quarters`` — list element by ``id`` (``purchases[Rubin]`` by accelerator);
* ``lease_offers[*].terms[*].price_usd_per_unit_hour`` — every element (``.*`` for every key of an object);
  elements where the rest of the path is absent (e.g. a site without ``expansion``) are skipped.

Modes: ``set`` (the value replaces the instance value), ``add`` (adds to a number; shifts a quarter, or the
quarters of a ``{quarter: value}`` schedule, by that many quarters) and ``scale`` (multiplies a number, or
every number of a schedule or series). Parameters act in the spec's order, each on the value the ones
before it left, so two parameters may touch the same path (a term's own price, then all lease prices). A value of a purchase's ``first_quarter``, ``last_quarter`` or
``supply_cap_units`` that the instance leaves to the catalog is read from the catalog.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from procure.inputs.quarters import is_quarter, quarter_name, quarter_ordinal
from procure.inputs.schema import Instance, Strict
from procure.inputs.validation import InstanceError, LoadedInstance, Problem, load_instance
from procure.solving.defaults import DEFAULT_GAP, DEFAULT_TIME_LIMIT

DESIGNS = ("grid", "one_at_a_time", "lhs", "zip")

METRIC_GROUPS = {
    "objective": "objective, bound and gap ($M, expected discounted); always recorded",
    "owned_mw": "owned_mw_<year>: MW online at own sites in the year's last quarter (expected)",
    "new_mw": "new_mw: MW of new power blocks started over the horizon (expected)",
    "owned_h100e": "owned_h100e_<year>: H100e served by owned accelerators, mean over the year's quarters",
    "leased_h100e": "leased_h100e_<year>: H100e served by leases and existing contracts, mean over the year",
    "rented_h100e": "rented_h100e_<year>: H100e served by on-demand rentals, mean over the year",
    "lease_share": "lease_share: share of served H100e-quarters from leases and contracts (expected)",
    "shortfall": "shortfall_h100e_quarters: unmet demand (expected)",
    "spend": "spend_<category>: $M expected discounted per cost category, residual value as a credit",
}

KNOBS: dict[str, tuple[list[str], str]] = {
    "lease_prices": (["lease_offers[*].terms[*].price_usd_per_unit_hour"], "scale"),
    "rental_prices": (["rentals[*].price_usd_per_unit_hour"], "scale"),
    "contract_prices": (["existing_contracts[*].price_usd_per_unit_hour"], "scale"),
    "chip_prices": (["purchases[*].price_scale"], "scale"),
    "build_capex": (["sites[*].expansion.capex_musd_per_mw"], "scale"),
    "electricity_prices": (["sites[*].electricity_usd_per_mwh"], "scale"),
    "lead_quarters": (["sites[*].expansion.lead_quarters"], "add"),
    "demand_growth": (["scenarios[*].demand.*.growth"], "scale"),
    "demand_base": (["scenarios[*].demand.*.base"], "scale"),
    "shortfall_penalty": (["policy.shortfall_penalty_usd_per_h100e_quarter"], "scale"),
}
"""Named shorthands: ``{"knob": "lease_prices", "values": [0.7, 1, 1.3]}`` scales every lease price."""

# what every results row records about its solve, after the point and its parameters
OUT_COLUMNS = ("status", "error", "objective", "bound", "gap", "seconds", "solve_seconds", "build_seconds",
               "mode", "strategy", "warm_start", "worker")
# columns every results row has; parameter names may not take them
RESERVED_COLUMNS = ("point", "varied", *OUT_COLUMNS)
_FORBIDDEN_PATHS = ("horizon.first_quarter", "horizon.last_quarter", "name", "catalogs")
MAX_VALUES = 100_000
"""Most values one parameter's ``range`` may give (a ``num`` is held to it by the schema)."""
MAX_POINTS = 1_000_000
"""Most points a sweep may have, as ``samples`` of a Latin hypercube. Points are listed before any is
solved, so a grid of 1e15 points would exhaust memory before the first solve; a million solves of even
the tiny instance take days."""


# ----------------------------------------------------------------------------------------------- schema
class Range(Strict):
    """Evenly spaced values from ``start`` to ``stop`` inclusive: give ``step`` or ``num``."""

    start: float
    stop: float
    step: float | None = Field(default=None, gt=0, description="Spacing; the last value is ≤ stop.")
    num: int | None = Field(default=None, ge=1, le=MAX_VALUES, description="How many values (linspace).")

    @model_validator(mode="after")
    def _one_of(self) -> "Range":
        if (self.step is None) == (self.num is None):
            raise ValueError("give either 'step' or 'num'")
        if self.step is not None:
            count = (self.stop - self.start) / self.step + 1  # inf when the span overflows
            if not count <= MAX_VALUES:  # unchecked, 2e9 values ended in a MemoryError traceback (4 GB limit)
                shown = f"{math.floor(count):,}" if math.isfinite(count) else "over 1e308"
                raise ValueError(f"gives {shown} values; at most {MAX_VALUES:,} (a larger 'step', or 'num')")
        return self

    def values(self) -> list[float]:
        if self.num is not None:
            return [float(v) for v in np.linspace(self.start, self.stop, self.num)]
        count = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [self.start + k * self.step for k in range(max(count, 0))]


class Parameter(Strict):
    """One swept quantity: one or more instance paths moved together by the same value."""

    name: str | None = Field(default=None, min_length=1, max_length=120,
                             description="Column name in the results; default: the path or knob.")
    path: str | Annotated[list[str], Field(min_length=1)] | None = Field(
        default=None, description="Instance path(s) this parameter sets.")
    knob: str | None = Field(default=None, description=f"A named shorthand: {', '.join(KNOBS)}.")
    mode: Literal["set", "add", "scale"] | None = Field(
        default=None, description="How a value acts on the instance value (default: set; a knob's own).")
    values: list[Any] | None = Field(default=None, min_length=1, description="Explicit values.")
    range: Range | None = Field(default=None, description="Evenly spaced values.")
    low: float | None = Field(default=None, description="Lower end for Latin hypercube sampling.")
    high: float | None = Field(default=None, description="Upper end for Latin hypercube sampling.")
    integer: bool = Field(default=False, description="Round range and sampled values to integers.")
    base: Any = Field(default=None, description="Value of the base point (one-at-a-time); default: no change.")

    @model_validator(mode="after")
    def _target(self) -> "Parameter":
        if (self.path is None) == (self.knob is None):
            raise ValueError("give either 'path' or 'knob'")
        if self.knob is not None and self.knob not in KNOBS:
            raise ValueError(f"unknown knob '{self.knob}' (known: {', '.join(KNOBS)})")
        if self.values is not None and self.range is not None:
            raise ValueError("give 'values' or 'range', not both")
        if (self.low is None) != (self.high is None):
            raise ValueError("'low' and 'high' go together")
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError("'high' is below 'low'")
        return self

    @property
    def paths(self) -> list[str]:
        if self.knob is not None:
            return list(KNOBS[self.knob][0])
        return [self.path] if isinstance(self.path, str) else list(self.path or [])

    @property
    def effective_mode(self) -> str:
        if self.mode is not None:
            return self.mode
        return KNOBS[self.knob][1] if self.knob is not None else "set"

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return self.knob if self.knob is not None else self.paths[0]

    def listed_values(self) -> list[Any] | None:
        if self.values is not None:
            return list(self.values)
        if self.range is not None:
            values = self.range.values()
            return [int(round(v)) for v in values] if self.integer else values
        return None


class SolveSettings(Strict):
    time_limit: float | None = Field(default=DEFAULT_TIME_LIMIT, gt=0,
                                     description="Seconds per point before HiGHS stops; null: no limit.")
    gap: float = Field(default=DEFAULT_GAP, ge=0, description="Relative MIP gap per point.")
    threads: int | None = Field(default=1, ge=1, description="HiGHS threads per worker (points run in parallel).")
    reuse: bool = Field(default=True, description="Re-solve in place when only prices, demand or the discount "
                                                  "rate change; false = fresh build and solve per point.")
    warm_start: bool = Field(default=True, description="Start HiGHS from the previous point's plan.")
    strategy: Literal["auto", "direct", "staged"] = Field(
        default="auto", description="auto: staged for a point without a previous plan to start from, on models "
                                    "with 100+ integers; direct: one MILP solve; staged: every point staged (the "
                                    "previous plan starts its first stage) where the model has blocks and "
                                    "purchases to stage.")


class SweepSpec(Strict):
    name: str | None = Field(default=None, description="Sweep name (default: the spec file's stem).")
    description: str = ""
    instance: str = Field(description="Base instance file, relative to the spec file.")
    design: Literal["grid", "one_at_a_time", "lhs", "zip"] = Field(
        default="grid", description="grid: every combination; one_at_a_time: the base point plus each value of "
                                    "one parameter at a time; lhs: Latin hypercube sample; zip: k-th values together.")
    samples: int | None = Field(default=None, ge=1, le=MAX_POINTS, description="Points of a Latin hypercube.")
    seed: int = Field(default=0, ge=0, description="Seed of the Latin hypercube.")
    parameters: list[Parameter] = Field(min_length=1)
    metrics: list[str] = Field(default_factory=lambda: list(METRIC_GROUPS),
                               description=f"Metric groups to record: {', '.join(METRIC_GROUPS)}.")
    solve: SolveSettings = Field(default_factory=SolveSettings)


# -------------------------------------------------------------------------------------------- paths
_SEGMENT = re.compile(r"\.?([^.\[\]]+)|\[([^\[\]]*)\]")


def parse_path(path: str) -> list[tuple[str, str]] | None:
    """``a.b[2][*][x].*`` -> [("key","a"), ("key","b"), ("index","2"), ("all",""), ("id","x"), ("all","")]."""
    parts: list[tuple[str, str]] = []
    pos = 0
    text = path.strip()
    if not text:
        return None
    while pos < len(text):
        match = _SEGMENT.match(text, pos)
        if not match or match.end() == pos:
            return None
        if pos == 0 and text[0] == ".":
            return None
        key, bracket = match.groups()
        if key is not None:
            parts.append(("all", "") if key == "*" else ("key", key))
        elif bracket == "*":
            parts.append(("all", ""))
        elif bracket.isdigit():
            parts.append(("index", bracket))
        elif bracket:
            parts.append(("id", bracket))
        else:
            return None
        pos = match.end()
    return parts


def _format(parts: list[tuple[str, Any]]) -> str:
    text = ""
    for kind, value in parts:
        text += f"[{value}]" if kind == "index" else ("." if text else "") + str(value)
    return text


class PathError(Exception):
    pass


def resolve_path(document: Any, path: str, document_name: str = "the instance") -> list[str]:
    """Concrete paths (``sites[2].expansion.lead_quarters``) that ``path`` names in ``document``.

    Raises :class:`PathError` saying where the path stops matching.
    """
    parts = parse_path(path)
    if parts is None:
        raise PathError(f"'{path}' is not a path (write e.g. sites[2].expansion.lead_quarters)")
    wildcard = any(kind == "all" for kind, _ in parts)
    found: list[list[tuple[str, Any]]] = []
    misses: list[str] = []

    def walk(node: Any, k: int, done: list[tuple[str, Any]]) -> None:
        if k == len(parts):
            found.append(done)
            return
        kind, token = parts[k]
        where = _format(done) or "the instance"
        if kind == "key":
            if isinstance(node, dict) and token in node:
                if node[token] is None and k + 1 < len(parts):
                    misses.append(f"{_format(done + [('key', token)])} is null")
                    return
                walk(node[token], k + 1, done + [("key", token)])
            elif isinstance(node, dict):
                keys = ", ".join(sorted(node)) or "none"
                misses.append(f"{where} has no key '{token}' (keys: {keys})")
            else:
                misses.append(f"{where} is not an object")
        elif kind == "index":
            index = int(token)
            if isinstance(node, list) and index < len(node):
                walk(node[index], k + 1, done + [("index", index)])
            elif isinstance(node, list):
                misses.append(f"{where} has {len(node)} entries (indices 0–{len(node) - 1})")
            else:
                misses.append(f"{where} is not a list")
        elif kind == "id":
            if not isinstance(node, list):
                misses.append(f"{where} is not a list")
                return
            for index, item in enumerate(node):
                if isinstance(item, dict) and token in (item.get("id"), item.get("accelerator")):
                    walk(item, k + 1, done + [("index", index)])
                    return
            ids = [str(item.get("id", item.get("accelerator"))) for item in node if isinstance(item, dict)]
            misses.append(f"{where} has no entry with id '{token}' (ids: {', '.join(ids) or 'none'})")
        else:  # all
            if isinstance(node, list):
                for index, item in enumerate(node):
                    walk(item, k + 1, done + [("index", index)])
            elif isinstance(node, dict):
                for key in node:
                    walk(node[key], k + 1, done + [("key", key)])
            else:
                misses.append(f"{where} is neither a list nor an object")

    walk(document, 0, [])
    if not found:
        reason = misses[0] if misses else "nothing matches"
        raise PathError(f"'{path}' names no value of {document_name}: {reason}")
    if wildcard:
        return [_format(done) for done in found]
    return [_format(found[0])]


def get_value(document: Any, concrete: str) -> Any:
    node = document
    for kind, token in parse_path(concrete):
        node = node[int(token)] if kind == "index" else node[token]
    return node


def set_value(document: Any, concrete: str, value: Any) -> None:
    parts = parse_path(concrete)
    node = document
    for kind, token in parts[:-1]:
        node = node[int(token)] if kind == "index" else node[token]
    kind, token = parts[-1]
    if kind == "index":
        node[int(token)] = value
    else:
        node[token] = value


# -------------------------------------------------------------------------------------- applying values
class ValueProblem(Exception):
    pass


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def apply_mode(mode: str, current: Any, value: Any) -> Any:
    """The instance value after applying ``value`` with ``mode`` to ``current``."""
    if mode == "set":
        return copy.deepcopy(value)
    if not _is_number(value):
        raise ValueProblem(f"mode '{mode}' needs a number (got {json.dumps(value)})")
    if current is None:
        raise ValueProblem(f"the instance has no value here to {mode} (null); use mode 'set'")
    if mode == "add":
        if _is_number(current):
            return current + value
        if float(value) != int(value):
            raise ValueProblem(f"quarters shift by whole quarters (got {value})")
        if is_quarter(current):
            return quarter_name(quarter_ordinal(current) + int(value))
        if isinstance(current, dict) and all(is_quarter(q) for q in current):
            return {quarter_name(quarter_ordinal(q) + int(value)): v for q, v in current.items()}
        raise ValueProblem("mode 'add' applies to numbers, quarters and {quarter: value} schedules")
    # scale
    if _is_number(current):
        return current * value
    if isinstance(current, dict) and all(_is_number(v) for v in current.values()):
        return {q: v * value for q, v in current.items()}
    if isinstance(current, list) and all(_is_number(v) for v in current):
        return [v * value for v in current]
    raise ValueProblem("mode 'scale' applies to numbers, schedules and series")


_PURCHASE_FALLBACK = re.compile(r"^purchases\[(\d+)\]\.(first_quarter|last_quarter|supply_cap_units)$")


def effective_value(document: dict, concrete: str, loaded: LoadedInstance) -> Any:
    """The instance value at ``concrete``; purchase fields left to the catalog are read from it."""
    value = get_value(document, concrete)
    match = _PURCHASE_FALLBACK.match(concrete)
    if value is None and match:
        purchase = document["purchases"][int(match.group(1))]
        accelerator = loaded.accelerators.get(purchase["accelerator"])
        if accelerator is not None:
            value = getattr(accelerator, match.group(2))
            return value if isinstance(value, (str, float, int)) or value is None else copy.deepcopy(value)
    return value


# ---------------------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Point:
    """One point of a sweep: parameter values by column name and the instance values they set."""

    id: int
    values: dict[str, Any]                 # parameter label -> spec value
    assignments: tuple[tuple[str, Any], ...]  # (concrete instance path, new value)
    varied: str | None = None              # one-at-a-time: the parameter moved ("base" for the base point)


@dataclass(frozen=True)
class SweepPlan:
    spec: SweepSpec
    spec_path: Path | None
    instance_path: Path
    loaded: LoadedInstance
    document: dict                         # the instance as JSON, defaults filled in
    labels: tuple[str, ...]                # parameter columns, in spec order
    points: tuple[Point, ...]
    years: tuple[int, ...]

    @property
    def name(self) -> str:
        if self.spec.name:
            return self.spec.name
        return self.spec_path.stem if self.spec_path else "sweep"

    def describe(self) -> dict:
        """What identifies the sweep's points (written as sweep.json; checked on resume)."""
        return {"name": self.name, "instance": str(self.instance_path), "design": self.spec.design,
                "parameters": [{"name": label, "paths": p.paths, "mode": p.effective_mode}
                               for label, p in zip(self.labels, self.spec.parameters)],
                "solve": self.spec.solve.model_dump(), "metrics": list(self.spec.metrics),
                "points": [{"point": pt.id, "varied": pt.varied, "values": pt.values} for pt in self.points]}


# pydantic appends the tried member of a union to an error's location; such tags are not JSON keys
_TYPE_TAG = re.compile(r"^(float|int|str|bool|none|list\[.*|dict\[.*|function-.*|constrained-.*|"
                       r"tagged-union\[.*|literal\[.*|.*\[.*\].*)$")


def _pydantic_problems(error: ValidationError) -> list[Problem]:
    """One problem per JSON path (a union's members merged), e.g. ``parameters[1].range``."""
    merged: dict[str, Problem] = {}
    for item in error.errors():
        path = ""
        for part in item["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif not (isinstance(part, str) and _TYPE_TAG.match(part) and not is_quarter(part)):
                path += ("." if path else "") + str(part)
        path = path or "(root)"
        rule = item["msg"].removeprefix("Value error, ")
        value = None if item["type"] == "missing" else item.get("input")
        if isinstance(value, (dict, list)) and item["type"] not in ("dict_type", "list_type"):
            value = None  # a whole object is noise next to the rule
        if path in merged:
            if rule not in merged[path].rule:
                merged[path] = Problem(path, f"{merged[path].rule}; or {rule}", merged[path].value)
        else:
            merged[path] = Problem(path, rule, value)
    return list(merged.values())


def _read_spec(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstanceError([Problem(str(path), f"cannot read file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise InstanceError([Problem(str(path), "file is not UTF-8 text")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstanceError([Problem(str(path), f"not valid JSON: {exc.msg} at line {exc.lineno} "
                                                f"column {exc.colno}")]) from None


def load_spec(source: str | Path | dict, base_dir: str | Path | None = None,
              overrides: dict | None = None) -> SweepPlan:
    """Read and check a sweep spec (a JSON file or a dict) and expand it into points.

    ``base_dir`` resolves a dict spec's ``instance`` path (default: the working directory); a file's
    ``instance`` is relative to the file. ``overrides`` replaces ``solve`` settings (time_limit, gap, ...).
    """
    spec_path: Path | None = None
    if isinstance(source, (str, Path)):
        spec_path = Path(source)
        raw = _read_spec(spec_path)
        base = spec_path.parent
    else:
        raw = copy.deepcopy(source)
        base = Path(base_dir) if base_dir is not None else Path(".")
    if not isinstance(raw, dict):
        raise InstanceError([Problem("(root)", "a sweep spec must be a JSON object", type(raw).__name__)])
    if overrides:
        solve = dict(raw.get("solve") or {}) if isinstance(raw.get("solve", {}), dict) else {}
        solve.update({k: v for k, v in overrides.items() if v is not None})
        raw["solve"] = solve
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise InstanceError(_pydantic_problems(exc)) from None

    problems: list[Problem] = []
    instance_path = base / spec.instance
    try:
        loaded = load_instance(instance_path)
    except InstanceError as exc:
        raise InstanceError([Problem("instance", f"the base instance {instance_path} is not valid: "
                                                 f"{p.path}: {p.rule}", p.value) for p in exc.problems]) from None
    document = loaded.instance.model_dump(mode="json")

    for k, metric in enumerate(spec.metrics):
        if metric not in METRIC_GROUPS:
            problems.append(Problem(f"metrics[{k}]", f"unknown metric (known: {', '.join(METRIC_GROUPS)})",
                                    metric))
    labels = [p.label for p in spec.parameters]
    for k, label in enumerate(labels):
        if label in RESERVED_COLUMNS:
            problems.append(Problem(f"parameters[{k}].name", "is a reserved results column; give another name",
                                    label))
        elif labels.index(label) != k:
            problems.append(Problem(f"parameters[{k}].name", "two parameters have the same name", label))
        elif re.match(r"^(owned_mw|owned_h100e|leased_h100e|rented_h100e|spend)_|^(new_mw|lease_share|"
                      r"shortfall_h100e_quarters)$", label):
            problems.append(Problem(f"parameters[{k}].name", "collides with a metric column; give another name",
                                    label))
        p = spec.parameters[k]
        if isinstance(p.path, list) and len(p.path) > 1 and not p.name:
            problems.append(Problem(f"parameters[{k}].name", "a parameter with several paths needs a name"))

    # the values each design needs
    listed: list[list[Any] | None] = []
    for k, p in enumerate(spec.parameters):
        where = f"parameters[{k}]"
        values = p.listed_values()
        listed.append(values)
        if values == []:  # whatever the design (a Latin hypercube drawing from it raised an IndexError)
            problems.append(Problem(f"{where}.range", "gives no values (stop before start)"))
        elif spec.design == "lhs":
            if p.low is None and values is None:
                problems.append(Problem(where, "a Latin hypercube needs 'low' and 'high' (or 'values' to draw from)"))
        elif values is None:
            problems.append(Problem(where, f"design '{spec.design}' needs 'values' or 'range'"))
    if spec.design == "lhs" and spec.samples is None:
        problems.append(Problem("samples", "a Latin hypercube needs 'samples'"))
    if spec.design == "zip":
        lengths = {len(v) for v in listed if v is not None}
        if len(lengths) > 1:
            problems.append(Problem("parameters", "design 'zip' needs the same number of values for every "
                                                  "parameter", sorted(lengths)))
    counts = [len(v) for v in listed if v is not None]
    if len(counts) == len(listed) and spec.design in ("grid", "one_at_a_time"):
        points = math.prod(counts) if spec.design == "grid" else 1 + sum(counts)
        if points > MAX_POINTS:
            problems.append(Problem("parameters", f"design '{spec.design}' gives {points:,} points; at most "
                                                  f"{MAX_POINTS:,}", counts))

    # paths: they must name values of the instance
    concrete: list[list[str]] = []
    for k, p in enumerate(spec.parameters):
        found: list[str] = []
        for j, path in enumerate(p.paths):
            where = (f"parameters[{k}].path" + (f"[{j}]" if isinstance(p.path, list) else "")
                     if p.knob is None else f"parameters[{k}].knob")
            if any(path == f or path.startswith(f + ".") for f in _FORBIDDEN_PATHS):
                problems.append(Problem(where, "cannot be swept (it changes the horizon or the catalogs; "
                                               "make a separate instance)", path))
                continue
            try:
                found += resolve_path(document, path, str(instance_path))
            except PathError as exc:
                problems.append(Problem(where, str(exc)))
        concrete.append(sorted(set(found), key=found.index))
    if problems:
        raise InstanceError(problems)

    # every value must give an instance of the right shape (semantic checks happen per point)
    for k, p in enumerate(spec.parameters):
        where = f"parameters[{k}]"
        candidates = [(f"{where}.values[{j}]" if p.values is not None else f"{where}.range", v)
                      for j, v in enumerate(listed[k] or [])]
        if p.low is not None:
            candidates += [(f"{where}.low", _round(p.low, p.integer)), (f"{where}.high", _round(p.high, p.integer))]
        if p.base is not None:
            candidates.append((f"{where}.base", p.base))
        for label, value in candidates:
            try:
                trial = copy.deepcopy(document)
                for path in concrete[k]:
                    set_value(trial, path, apply_mode(p.effective_mode, effective_value(document, path, loaded),
                                                      value))
                Instance.model_validate(trial)
            except ValueProblem as exc:  # (its message may name the value already)
                problems.append(Problem(label, f"{exc} (at {path})", None if "(got " in str(exc) else value))
            except ValidationError as exc:
                for prob in _pydantic_problems(exc):
                    problems.append(Problem(label, f"makes {prob.path} invalid: {prob.rule}", value))
                    break
    if problems:
        raise InstanceError(problems)

    bases = [_base_value(p, concrete[k], document, loaded) for k, p in enumerate(spec.parameters)]
    points = _design(spec, labels, listed, bases)
    plan_points = []
    for pid, (values, varied) in enumerate(points):
        # parameters act in spec order, each on the value the ones before it left (paths may overlap)
        assignments: dict[str, Any] = {}
        for k, p in enumerate(spec.parameters):
            value = values[labels[k]]
            if value is _KEEP:
                continue  # this parameter stays as in the instance
            for path in concrete[k]:
                current = assignments[path] if path in assignments else effective_value(document, path, loaded)
                try:
                    assignments[path] = apply_mode(p.effective_mode, current, value)
                except ValueProblem as exc:
                    problems.append(Problem(f"parameters[{k}]", f"at point {pid}: {exc} (at {path})", value))
        shown = {label: (None if v is _KEEP else v) for label, v in values.items()}
        plan_points.append(Point(pid, shown, tuple(assignments.items()), varied))
    if problems:
        raise InstanceError(problems[:20])
    from procure.inputs.quarters import quarter_range, quarter_year

    years = tuple(sorted({quarter_year(q) for q in quarter_range(loaded.instance.horizon.first_quarter,
                                                                 loaded.instance.horizon.last_quarter)}))
    return SweepPlan(spec, spec_path, instance_path, loaded, document, tuple(labels), tuple(plan_points), years)


_KEEP = object()  # a one-at-a-time base that leaves the instance as it is


def _base_value(p: Parameter, paths: list[str], document: dict, loaded: LoadedInstance) -> Any:
    """The value of the base point: the spec's ``base``, else what changes nothing (0 to add, 1 to scale,
    the instance's own value to set, when all its paths hold the same one)."""
    if p.base is not None:
        return p.base
    mode = p.effective_mode
    if mode == "add":
        return 0
    if mode == "scale":
        return 1
    current = [effective_value(document, path, loaded) for path in paths]
    if current and all(c == current[0] for c in current) and isinstance(current[0], (int, float, str, bool)):
        return current[0]
    return _KEEP


def _round(value: float, integer: bool) -> Any:
    return int(round(value)) if integer else float(value)


def latin_hypercube(samples: int, dimensions: int, seed: int) -> np.ndarray:
    """``samples × dimensions`` points in [0, 1): each column has exactly one point in each of the
    ``samples`` equal strata, strata paired at random (McKay et al. 1979)."""
    rng = np.random.default_rng(seed)
    u = np.empty((samples, dimensions))
    for j in range(dimensions):
        u[:, j] = (rng.permutation(samples) + rng.random(samples)) / samples
    return u


def _design(spec: SweepSpec, labels: list[str], listed: list[list[Any] | None],
            bases: list[Any]) -> list[tuple[dict, str | None]]:
    params = spec.parameters
    if spec.design == "grid":
        return [(dict(zip(labels, combo)), None) for combo in itertools.product(*listed)]
    if spec.design == "zip":
        return [(dict(zip(labels, combo)), None) for combo in zip(*listed)]
    if spec.design == "one_at_a_time":
        base = dict(zip(labels, bases))
        points = [(dict(base), "base")]
        for label, values in zip(labels, listed):
            for value in values:
                if value == base[label]:
                    continue
                point = dict(base)
                point[label] = value
                points.append((point, label))
        return points
    # lhs
    u = latin_hypercube(spec.samples, len(params), spec.seed)
    points = []
    for row in u:
        values = {}
        for j, (label, p) in enumerate(zip(labels, params)):
            if p.low is not None:
                values[label] = _round(p.low + row[j] * (p.high - p.low), p.integer)
            else:
                choices = listed[j]
                values[label] = choices[min(int(row[j] * len(choices)), len(choices) - 1)]
        points.append((values, None))
    return points
