"""Run a sweep: every point of a :class:`procure.sweeps.spec.SweepPlan` solved, one results row each.

How a point is solved (``run_point``, the same code on every worker):

1. the base instance (JSON) gets the point's values and is checked like a file (``instance_from_dict``);
   a point that fails the checks is a row with status ``error``;
2. :func:`procure.inputs.data.build_data` turns it into model data, which is compared with the data of the
   models this worker already holds. When the only differences are what the model keeps in mutable
   parameters — demand, the discount factors, and prices that move by one factor per ``price_scale`` key —
   the model is re-priced in place and re-solved by its :class:`procure.solving.solve.HighsSession` (mode
   ``persistent``), starting HiGHS from the previous point's plan. Anything else (lead times, windows,
   lot sizes, caps, the tree, a lease term re-priced alone) builds a new model (mode ``build``);
3. the row gets the status, objective, bound, gap, times and the plan metrics.

The comparison is on the model data, not on the paths the spec names, so a change is re-solved in place
only when a fresh build of the modified instance would give the same model.

Results go to ``DIR/results.csv`` as each point finishes (one line, flushed and fsync'ed), so an
interrupted sweep loses only the points in flight; ``resume`` reads it back and runs what is missing.
At the end the table is also written as ``results.parquet`` when pyarrow is installed.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from procure.outputs.ownership import Manifest, check_writable, digest, remove_own, write_manifest
from procure.sweeps.spec import METRIC_GROUPS, OUT_COLUMNS, Point, SweepPlan, load_spec
from procure.inputs.validation import InstanceError, Problem

TIMING_COLUMNS = ("seconds", "solve_seconds", "build_seconds", "mode", "strategy", "warm_start", "worker")
"""Columns that depend on the machine and on which worker ran which point: left out when comparing runs."""

RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
SWEEP_JSON = "sweep.json"
SPEC_JSON = "spec.json"  # the spec as run, its instance path absolute: `procure sweep DIR/spec.json` runs it again
PLOT_FILES = ("tornado.png", "heatmap.png", "lines.png", "scatter.png")
SESSIONS_PER_WORKER = 2

# model-data fields a re-solve in place can change, and the price_scale key of each price entry
_PRICE_FIELDS: dict[str, Callable[[Any], str]] = {
    "price_musd_per_unit": lambda k: f"buy:{k[0]}",
    "block_capex_musd": lambda k: f"block:{k}",
    "lease_musd_per_unit_quarter": lambda k: f"lease:{k[0]}",
    "contract_musd_per_unit_quarter": lambda k: f"contract:{k}",
    "rental_musd_per_unit_quarter": lambda k: f"rental:{k}",
    "electricity_musd_per_mwh": lambda k: f"electricity:{k}",
    "fixed_opex_musd_per_mw_quarter": lambda k: f"opex:{k}",
    "shortfall_musd_per_h100e_quarter": lambda k: "shortfall",
}
_MUTABLE_FIELDS = {"name", "demand", "discount", "discount_end", "meta", *_PRICE_FIELDS}


# ------------------------------------------------------------------------------------ in-place updates
@dataclass(frozen=True)
class Changes:
    """What turns a model built from one data set into the model of another, in mutable parameters."""

    demand: Any
    discount: tuple[float, ...]
    discount_end: float
    price_scale: dict[str, float]


def mutable_changes(built, new) -> Changes | None:
    """The parameter values that make a model built from ``built`` equal to one built from ``new``;
    ``None`` when a rebuild is needed (the structure differs, or a price key would need two factors)."""
    for f in dataclasses.fields(built):
        if f.name not in _MUTABLE_FIELDS and getattr(built, f.name) != getattr(new, f.name):
            return None
    meta_a = {k: v for k, v in built.meta.items() if k != "discount_rate"}
    meta_b = {k: v for k, v in new.meta.items() if k != "discount_rate"}
    if meta_a != meta_b or built.demand.keys() != new.demand.keys() or len(built.discount) != len(new.discount):
        return None
    scale: dict[str, float] = {}
    for name, key_of in _PRICE_FIELDS.items():
        old, now = getattr(built, name), getattr(new, name)
        if old.keys() != now.keys():
            return None
        for k, before in old.items():
            after = now[k]
            if before == 0.0:
                if after != 0.0:
                    return None  # a zero price may have dropped its term from the model
                continue
            key = key_of(k)
            ratio = after / before
            if key in scale and not math.isclose(scale[key], ratio, rel_tol=1e-12, abs_tol=0.0):
                return None
            scale[key] = ratio
    return Changes(new.demand, tuple(new.discount), new.discount_end, scale)


def apply_changes(model, changes: Changes) -> None:
    """Set the mutable parameters of ``model`` (see :mod:`procure.model.parameters`)."""
    for key in model.price_scale:
        model.price_scale[key] = changes.price_scale.get(key, 1.0)
    for (w, (r, t)), value in changes.demand.items():
        model.demand_h100e[w, r, t] = value
    for t, factor in enumerate(changes.discount):
        model.discount_factor[t] = factor
    model.discount_end = changes.discount_end


# ------------------------------------------------------------------------------------------- workers
@dataclass(frozen=True)
class WorkerContext:
    """Everything a worker needs, shipped once: the base instance and the catalogs' text."""

    token: str
    document: dict
    catalogs: dict[str, str]          # catalog name as written in the instance -> file text
    solve: dict                       # SolveSettings as a dict
    metrics: tuple[str, ...]
    years: tuple[int, ...]


@dataclass(frozen=True)
class PointTask:
    point: int
    assignments: tuple[tuple[str, Any], ...]


class _Session:
    def __init__(self, data, build_seconds: float):
        from procure.model import build_model
        from procure.solving.solve import HighsSession
        from procure.solving.staged import can_stage, staged_applies

        start = time.perf_counter()
        self.data = data
        self.model = build_model(data)
        self.session = HighsSession(self.model)
        self.can_stage, self.stage_by_default = can_stage(self.model), staged_applies(self.model)
        # the structure never changes inside a session: skip Pyomo's scan of the model before each solve
        # and push the parameters ourselves, so a warm start set after the push is not invalidated
        self.session.stop_auto_updates()
        self.build_seconds = build_seconds + time.perf_counter() - start
        self.last_solution = None
        self.solves = 0


class _WorkerState:
    def __init__(self, context: WorkerContext):
        self.context = context
        self.sessions: OrderedDict[int, _Session] = OrderedDict()
        self.directory = Path(tempfile.mkdtemp(prefix="procure-sweep-"))
        self.catalog_names = []
        for k, (name, text) in enumerate(sorted(context.catalogs.items())):
            local = self.directory / f"catalog{k}.json"
            local.write_text(text, encoding="utf-8")
            self.catalog_names.append((name, local.name))
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        weakref.finalize(self, shutil.rmtree, str(self.directory), True)


_states: dict[tuple[int, str], _WorkerState] = {}
_states_lock = threading.Lock()


def _state(context: WorkerContext) -> _WorkerState:
    key = (threading.get_ident(), context.token)
    with _states_lock:
        state = _states.get(key)
        if state is None:
            for old in [k for k in _states if k[0] == key[0]]:  # one sweep at a time per thread
                del _states[old]
            state = _states[key] = _WorkerState(context)
        return state


def _release(context: WorkerContext) -> None:
    """Drop this thread's models of a finished sweep (they can take hundreds of MB)."""
    with _states_lock:
        _states.pop((threading.get_ident(), context.token), None)


def _one_line(text: str, limit: int = 2000) -> str:
    text = " | ".join(line.strip() for line in str(text).splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_point(context: WorkerContext, task: PointTask) -> dict:
    """Solve one point; never raises for a bad point (the row says what went wrong)."""
    started = time.perf_counter()
    row: dict[str, Any] = {"point": task.point, "status": "error", "error": "", "objective": None,
                           "bound": None, "gap": None, "seconds": None, "solve_seconds": None,
                           "build_seconds": None, "mode": None, "strategy": None, "warm_start": False,
                           "worker": None}
    try:
        state = _state(context)
        row["worker"] = state.worker
        _solve_point(state, task, row)
    except KeyboardInterrupt:
        raise
    except InstanceError as exc:
        row["status"], row["error"] = "error", _one_line("invalid instance: " + "; ".join(map(str, exc.problems)))
    except Exception as exc:  # a bug or a solver failure must not end the sweep
        row["status"], row["error"] = "error", _one_line(f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - started, 3)
    return row


def _solve_point(state: _WorkerState, task: PointTask, row: dict) -> None:
    import copy

    from procure.inputs.data import build_data
    from procure.solving.solve import SolveOptions
    from procure.solving.staged import solve_staged
    from procure.sweeps.spec import set_value
    from procure.inputs.validation import instance_from_dict

    context = state.context
    settings = context.solve
    document = copy.deepcopy(context.document)
    for path, value in task.assignments:
        set_value(document, path, value)
    names = dict(state.catalog_names)
    document["catalogs"] = [names[name] for name in document["catalogs"]]
    t0 = time.perf_counter()
    loaded = instance_from_dict(document, base_dir=state.directory)
    data = build_data(loaded)
    prepare = time.perf_counter() - t0

    session, changes = None, None
    if settings.get("reuse", True):
        for key, candidate in list(state.sessions.items()):
            changes = mutable_changes(candidate.data, data)
            if changes is not None:
                session = candidate
                state.sessions.move_to_end(key)
                break
    if session is None:
        session = _Session(data, prepare)
        if settings.get("reuse", True):
            state.sessions[id(session)] = session
            while len(state.sessions) > SESSIONS_PER_WORKER:
                state.sessions.popitem(last=False)
        changes = mutable_changes(data, data)
        row["mode"] = "build" if settings.get("reuse", True) else "fresh"
        row["build_seconds"] = round(session.build_seconds, 3)
    else:
        row["mode"] = "persistent"
        row["build_seconds"] = round(prepare, 3)
    apply_changes(session.model, changes)

    options = SolveOptions(time_limit=settings["time_limit"], gap=settings["gap"], threads=settings.get("threads"))
    solver = session.session.solver
    solver.update_parameters()
    start = session.last_solution if settings.get("warm_start", True) else None
    strategy = settings.get("strategy", "auto")
    # a neighbour's plan is usually within the gap already, so auto stages only the points that start cold
    # (meta.json at gap 1e-2, seconds per point: warm direct 1.7, cold staged 5.7, cold direct 16.5)
    staged = ((strategy == "staged" and session.can_stage)
              or (strategy == "auto" and start is None and session.stage_by_default))
    row["strategy"] = "staged" if staged else "direct"
    if staged:
        result, stages = solve_staged(session.model, session.data, options, session=session.session, start=start)
        row["warm_start"] = bool(stages and stages[0].start_accepted)  # the neighbour's plan went to stage 1
    else:
        if start is not None:
            row["warm_start"] = session.session.set_start_columns(start)
        result = session.session.solve(options)
    session.solves += 1
    if result.interrupted:  # Ctrl-C stopped the solve: the point is not done, resume will run it
        raise KeyboardInterrupt
    row["solve_seconds"] = round(result.seconds, 3)
    row["status"] = result.status
    row["objective"] = result.objective
    row["bound"] = result.bound
    row["gap"] = result.gap
    if result.has_solution:
        # staged: HiGHS holds its last stage's solution, the model the best plan of all stages
        session.last_solution = (session.session.model_columns() if staged
                                 else list(session.session.highs.getSolution().col_value))
        row.update(plan_metrics(session.model, session.data, context.metrics, context.years))
    elif result.status == "infeasible":
        row["error"] = f"no feasible plan ({result.termination})"
    else:
        row["error"] = f"no plan found ({result.termination})"


# -------------------------------------------------------------------------------------------- metrics
def plan_metrics(model, data, groups: Iterable[str], years: Iterable[int]) -> dict[str, float]:
    """Expected (probability-weighted) plan metrics of a solved model; see ``METRIC_GROUPS``."""
    from procure.outputs.tables import capacity_table, costs_table, expected_costs, plan_table

    groups = set(groups)
    years = list(years)
    out: dict[str, float] = {}
    prob = data.probability
    year_of = dict(zip(data.QUARTERS, data.year_of))
    quarters_in = {y: sum(1 for q in data.QUARTERS if year_of[q] == y) for y in years}

    need_capacity = groups & {"owned_h100e", "leased_h100e", "rented_h100e", "lease_share", "shortfall"}
    if need_capacity:
        cap = capacity_table(model, data)
        cap = cap.assign(weight=cap["scenario"].map(prob), year=cap["quarter"].map(year_of))
        rows = cap[cap["source"] != "total"]
        kind = rows["source"].str.split(":").str[0].map(
            {"own": "owned", "lease": "leased", "contract": "leased", "rental": "rented"})
        served = (rows["served_h100e"] * rows["weight"]).groupby([kind, rows["year"]]).sum()
        for group in ("owned", "leased", "rented"):
            if f"{group}_h100e" in groups:
                for y in years:
                    out[f"{group}_h100e_{y}"] = _r(served.get((group, y), 0.0) / max(quarters_in[y], 1))
        if "lease_share" in groups:
            total = float(served.sum())
            leased = float(served.xs("leased", level=0).sum()) if "leased" in served.index.get_level_values(0) else 0.0
            out["lease_share"] = _r(leased / total) if total > 0 else 0.0
        if "shortfall" in groups:
            totals = cap[cap["source"] == "total"]
            out["shortfall_h100e_quarters"] = _r((totals["shortfall_h100e"] * totals["weight"]).sum())
    if groups & {"owned_mw", "new_mw"}:
        plan = plan_table(model, data)
        plan = plan.assign(weight=plan["scenario"].map(prob))
        if "owned_mw" in groups:
            power = plan[plan["decision"] == "total_power_mw"]
            for y in years:
                last = max(q for q in data.QUARTERS if year_of[q] == y)
                at = power[power["quarter"] == last]
                out[f"owned_mw_{y}"] = _r((at["quantity"] * at["weight"]).sum())
        if "new_mw" in groups:
            blocks = plan[plan["decision"] == "build_blocks"]
            # a node's decision is repeated on every scenario through it: weight by the scenario alone
            out["new_mw"] = _r(sum(float(q) * data.block_mw.get(site, 0.0) * float(w) for site, q, w
                                   in zip(blocks["site"], blocks["quantity"], blocks["weight"])))
    if "spend" in groups:
        for category, value in expected_costs(costs_table(model, data), data).items():
            out[f"spend_{category}"] = _r(value)
    return out


def _r(x: float) -> float:
    return round(float(x), 6) + 0.0


def metric_columns(groups: Iterable[str], years: Iterable[int]) -> list[str]:
    from procure.model.costs import COST_CATEGORIES

    groups = set(groups)
    columns: list[str] = []
    for group in METRIC_GROUPS:
        if group not in groups or group == "objective":
            continue
        if group in ("owned_mw", "owned_h100e", "leased_h100e", "rented_h100e"):
            columns += [f"{group}_{y}" for y in years]
        elif group == "shortfall":
            columns.append("shortfall_h100e_quarters")
        elif group == "spend":
            columns += [f"spend_{c}" for c in (*COST_CATEGORIES, "residual_value")]
        else:
            columns.append(group)
    return columns


# ------------------------------------------------------------------------------------------ the journal
class Journal:
    """``results.csv`` written one row at a time: each row is one line, flushed and fsync'ed, so a crash
    leaves at most a torn last line, which :meth:`open` cuts off."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = path
        self.columns = columns
        self.handle = None
        self.writer = None

    def read(self) -> list[dict]:
        """Rows already written (after cutting a torn last line)."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            data = data[: data.rfind(b"\n") + 1]
            with open(self.path, "r+b") as handle:
                handle.truncate(len(data))
        lines = data.decode("utf-8").splitlines()
        if not lines:
            return []
        reader = csv.reader(lines)
        header = next(reader)
        if header != self.columns:
            raise InstanceError([Problem(str(self.path), "was written by a sweep with other columns (metrics, "
                                                         "parameters or the procure version changed); start "
                                                         "over without --resume")])
        rows = []
        for number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise InstanceError([Problem(f"{self.path} line {number}", f"has {len(row)} fields where the header "
                                             f"has {len(header)}: the file is not one sweep's journal; start over "
                                             "without --resume or use another --out")])
            rows.append(dict(zip(header, row)))
        return rows

    def open(self, fresh: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = fresh or not self.path.exists() or self.path.stat().st_size == 0
        self.handle = open(self.path, "w" if new else "a", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        if new:
            self.writer.writerow(self.columns)
            self._sync()

    def append(self, row: dict) -> None:
        self.writer.writerow([_cell(row.get(c)) for c in self.columns])
        self._sync()

    def _sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return _one_line(str(value))


# ------------------------------------------------------------------------------------------- executors
def _structure_order(plan: SweepPlan) -> list[Point]:
    """Points ordered so that those sharing a model structure run one after another (a heuristic for
    scheduling only; whether a point re-solves in place is decided on the model data)."""
    structural = [k for k, p in enumerate(plan.spec.parameters) if not all(_likely_mutable(x) for x in p.paths)]

    def key(point: Point):
        return tuple(json.dumps(point.values[plan.labels[k]], sort_keys=True) for k in structural), point.id

    return sorted(plan.points, key=key)


def _likely_mutable(path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1]
    return (leaf in ("price_usd_per_unit_hour", "price_scale", "capex_musd_per_mw", "electricity_usd_per_mwh",
                     "fixed_opex_musd_per_mw_year", "shortfall_penalty_usd_per_h100e_quarter", "discount_rate",
                     "base", "growth") or ".demand." in path and leaf == "series")


WORKER_READY_TIMEOUT = 120.0
"""Seconds a started worker waits for the others before it takes points anyway."""


PARENT_POLL_SECONDS = 1.0
"""How often a worker checks that the sweep that started it is alive, where the kernel does not tell it."""


def _die_with_parent(parent: int) -> None:
    """End this worker when the sweep process ``parent`` dies, even by kill -9 (which runs no clean-up of
    the parent's): on Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``); elsewhere, and as a second
    line, a daemon thread polls the parent's pid. Without it, workers of a killed sweep solved on for a
    minute and more."""
    import ctypes
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        try:
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="procure-parent-watch", daemon=True).start()


def _worker_init(ready=None, parent: int | None = None) -> None:
    import signal
    from threading import BrokenBarrierError

    if parent is not None:
        _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    if ready is not None:
        # Every worker takes its first point only once all have started: otherwise the first process up
        # can drain a short sweep before the others have finished importing, and they never get work.
        try:
            ready.wait(WORKER_READY_TIMEOUT)
        except BrokenBarrierError:
            pass


def _run_local(context, tasks, workers, on_row):
    if workers <= 1:
        try:
            for task in tasks:
                on_row(run_point(context, task))
        finally:
            _release(context)
        return
    remaining = list(tasks)
    while remaining:
        incomplete = _run_pool(context, remaining, workers, on_row)
        # A worker died (out of memory, killed). The pool hands out tasks in order, so the one that killed it
        # is among the first incomplete ones: re-run those alone, record the culprit, and go on.
        suspects, remaining = incomplete[: workers + 1], incomplete[workers + 1:]
        for task in suspects:
            if _run_pool(context, [task], 1, on_row):
                on_row(_lost_row(task.point, "a worker process died while solving this point"))


def _run_pool(context, tasks, workers, on_row) -> list:
    """Run ``tasks`` on a pool of ``workers`` processes; the tasks left undone if the pool broke."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    spawn = multiprocessing.get_context("spawn")
    # the pool starts one process per submitted task until it has `workers`: that many meet at the barrier
    ready = spawn.Barrier(min(workers, len(tasks))) if tasks else None
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=spawn, initializer=_worker_init,
                                   initargs=(ready, os.getpid()))
    futures = {executor.submit(run_point, context, task): task for task in tasks}
    broken: set[int] = set()
    try:
        waiting = set(futures)
        while waiting:
            finished, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    on_row(future.result())
                except BrokenProcessPool:
                    broken.add(futures[future].point)
    except BaseException:
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return [task for task in tasks if task.point in broken]


def _lost_row(point: int, message: str) -> dict:
    return {"point": point, "status": "error", "error": message, "warm_start": False}


def _run_dask(context, tasks, client, on_row):
    """Run ``tasks`` on the Dask ``client`` (connected by :func:`sweep`, which closes it)."""
    from distributed import as_completed

    futures = {}
    try:
        shipped = client.scatter(context, broadcast=True)
        for k, task in enumerate(tasks):
            future = client.submit(run_point, shipped, task, key=f"procure-{context.token[:12]}-{task.point}",
                                   pure=False, priority=-k)
            futures[future] = task
        for future in as_completed(list(futures)):
            try:
                on_row(future.result())
            except Exception as exc:  # the worker was lost, not the point: record it and go on
                on_row(_lost_row(futures[future].point, _one_line(f"dask: {type(exc).__name__}: {exc}")))
    except BaseException:
        client.cancel(list(futures))
        raise


# ------------------------------------------------------------------------------------------- the sweep
def context_for(plan: SweepPlan) -> WorkerContext:
    base = plan.instance_path.parent
    catalogs = {name: (base / name).read_text(encoding="utf-8") for name in plan.loaded.instance.catalogs}
    payload = json.dumps([plan.document, catalogs, plan.spec.solve.model_dump(), plan.spec.metrics],
                         sort_keys=True, default=str)
    token = hashlib.sha256(payload.encode()).hexdigest()
    return WorkerContext(token, plan.document, catalogs, plan.spec.solve.model_dump(), tuple(plan.spec.metrics),
                         plan.years)


def columns_for(plan: SweepPlan) -> list[str]:
    head = ["point"] + (["varied"] if plan.spec.design == "one_at_a_time" else [])
    return head + list(plan.labels) + list(OUT_COLUMNS) + metric_columns(plan.spec.metrics, plan.years)


def _safe_stem(name: str) -> str:
    """A spec's free-text ``name`` as one directory name that stays inside ``out/``: path separators and
    leading dots go ("../x" → "x"); spaces and accents stay."""
    stem = re.sub(r"[/\\\x00]+", "_", name).lstrip("._ ")
    return stem or "sweep"


def sweep(spec: str | Path | dict | SweepPlan, out: str | Path | None = None, *, workers: int | None = None,
          dask: Any = None, resume: bool = False, progress: bool | None = None, time_limit: float | None = None,
          gap: float | None = None, plot: bool = True, base_dir: str | Path | None = None,
          force: bool = False) -> pd.DataFrame:
    """Run a sweep and return its table (one row per point, ordered by point).

    ``spec``: a spec file, a dict (its ``instance`` relative to ``base_dir``) or a loaded plan.
    ``out``: output directory (default ``out/<sweep name>``). ``workers``: local processes (default: one per
    CPU this process may use, :func:`procure.solving.solve.machine_threads`); ``dask``: a scheduler address or a
    ``distributed.Client`` to run on instead. ``resume``: keep the rows already in ``out`` and run only the
    missing points. ``time_limit`` and ``gap`` override the
    spec's ``solve`` settings. ``out`` must be new, empty or an earlier sweep's directory as procure wrote it;
    ``force`` also runs beside files of someone else's there, leaving them alone (:mod:`procure.outputs.ownership`).
    Raises :class:`procure.inputs.validation.InstanceError` for a bad spec and
    :class:`procure.outputs.ownership.OutputDirError` for an ``out`` that holds files procure did not write.
    """
    overrides = {"time_limit": time_limit, "gap": gap}
    if isinstance(spec, SweepPlan):
        if time_limit is not None or gap is not None:
            raise ValueError("with a loaded plan, give time_limit and gap in its spec")
        plan = spec
    else:
        plan = load_spec(spec, base_dir=base_dir, overrides=overrides)
    out_dir = Path(out) if out is not None else Path("out") / _safe_stem(plan.name)
    check_writable(out_dir, KIND, force, writes=SWEEP_FILES, tolerate=[LOCK_FILE])  # before anything is written
    client = _connect(dask) if isinstance(dask, str) else dask  # a scheduler that does not answer: nothing written
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with _exclusive(out_dir):  # two sweeps appending to one results.csv would interleave their rows
            found = check_writable(out_dir, KIND, force, writes=SWEEP_FILES, tolerate=[LOCK_FILE])  # as it is now
            return _sweep_into(out_dir, plan, workers, client, resume, progress, plot,
                               found.manifest if found is not None else None)
    finally:
        if client is not dask:
            client.close()


DASK_CONNECT_SECONDS = 10.0
"""How long a sweep waits for the Dask scheduler given by address (distributed's own default is 30 s)."""


def _connect(address: str):
    """A client of the scheduler at ``address``, or :class:`InstanceError` naming ``--dask`` when none answers
    within :data:`DASK_CONNECT_SECONDS` (before the sweep writes anything)."""
    try:
        from distributed import Client
    except ImportError:
        raise InstanceError([Problem("--dask", "needs dask.distributed: pip install 'procure[sweep]'")]) from None
    try:
        return Client(address, timeout=DASK_CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InstanceError([Problem("--dask", f"no Dask scheduler answered at {address!r}: {_one_line(str(exc))}")]) from None


LOCK_FILE = ".sweep.lock"
KIND = "sweep"
SWEEP_FILES = (RESULTS_CSV, RESULTS_PARQUET, SWEEP_JSON, SPEC_JSON, LOCK_FILE, *PLOT_FILES)
"""Every file a sweep writes into its directory (besides the manifest, :mod:`procure.outputs.ownership`)."""
GROWING_FILES = (RESULTS_CSV, LOCK_FILE)  # appended to (or locked) while the sweep runs: in the manifest unpinned


def _record(out_dir: Path, names, pinned: bool) -> None:
    """Write the sweep's manifest naming ``names``: unpinned (before they are written), or, with ``pinned``,
    those present with their digests."""
    files = ({rel: None if rel in GROWING_FILES else digest(out_dir / rel) for rel in names if (out_dir / rel).exists()}
             if pinned else dict.fromkeys(names))
    write_manifest(out_dir, Manifest(KIND, files))


@contextlib.contextmanager
def _exclusive(out_dir: Path):
    """Hold an exclusive lock on ``out_dir`` for one sweep (an ``OSError`` naming it when another holds it).
    The lock is the kernel's (``flock``): it goes with the process, so a killed sweep leaves none behind."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    with open(out_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = True
        except BlockingIOError:
            raise OSError(f"{out_dir} is in use by another sweep: wait for it to finish or use another --out") from None
        except OSError:  # a file system without locks (NFS without lockd, some FUSE mounts): run unlocked
            locked = False
        try:
            yield
        finally:
            if locked:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _sweep_into(out_dir: Path, plan: SweepPlan, workers, dask, resume: bool, progress, plot: bool,
                manifest: Manifest | None) -> pd.DataFrame:
    columns = columns_for(plan)
    own = manifest.files if manifest is not None else {}
    _record(out_dir, {*own, RESULTS_CSV, SWEEP_JSON, SPEC_JSON, LOCK_FILE}, pinned=False)
    journal = Journal(out_dir / RESULTS_CSV, columns)
    description = plan.describe()

    done: set[int] = set()
    failures = 0
    if resume:
        previous = _read_description(out_dir / SWEEP_JSON)
        if previous is not None and _identity(previous) != _identity(description):
            raise InstanceError([Problem(str(out_dir / SWEEP_JSON), "the spec's points differ from those of the "
                                         "sweep in this directory; start over without --resume or use another --out")])
        previous_rows = journal.read()
        done = {int(r["point"]) for r in previous_rows}
        failures = sum(r["status"] not in ("optimal", "feasible") for r in previous_rows)
    _write_json(out_dir / SWEEP_JSON, description)
    _write_json(out_dir / SPEC_JSON, rerunnable_spec(plan))
    stale = [RESULTS_PARQUET] + ([] if resume else list(PLOT_FILES))
    # written again at the end; a fresh sweep must not show an older sweep's plots (only procure's own go)
    remove_own(out_dir, Manifest(KIND, {k: v for k, v in own.items() if k in stale}))

    by_id = {p.id: p for p in plan.points}
    tasks = [PointTask(p.id, p.assignments) for p in _structure_order(plan) if p.id not in done]
    context = context_for(plan)
    from procure.solving.solve import machine_threads  # (imports Pyomo: not at the top)

    n_workers = max(1, min(workers or machine_threads(), max(len(tasks), 1)))

    journal.open(fresh=not resume)
    bar = _Progress(len(plan.points), len(done), plan.name, progress, failures)
    try:
        def on_row(row: dict) -> None:
            nonlocal failures
            point = by_id[row["point"]]
            full = {"point": point.id, **({"varied": point.varied} if plan.spec.design == "one_at_a_time" else {}),
                    **point.values, **row}
            journal.append(full)
            failures += full.get("status") not in ("optimal", "feasible")
            bar.advance(failures)

        with bar:
            if tasks:
                if dask is not None:
                    _run_dask(context, tasks, dask, on_row)
                else:
                    _run_local(context, tasks, n_workers, on_row)
    finally:
        journal.close()
    table = read_results(out_dir)
    _record(out_dir, SWEEP_FILES, pinned=False)  # a run killed while these are written leaves them known
    _write_parquet(table, out_dir / RESULTS_PARQUET)
    if plot and len(table):
        from procure.sweeps.plots import plot_sweep

        plot_sweep(table, plan, out_dir)
    _record(out_dir, SWEEP_FILES, pinned=True)
    return table


def rerunnable_spec(plan: SweepPlan) -> dict:
    """The plan's spec as JSON with its instance path made absolute, so that the copy in a sweep's directory
    runs again from anywhere (``procure sweep DIR/spec.json``)."""
    spec = plan.spec.model_dump(mode="json", exclude_unset=True)
    spec["instance"] = str(plan.instance_path.resolve())
    return spec


def read_results(out_dir: str | Path) -> pd.DataFrame:
    """The results table of a sweep directory, ordered by point (reads ``results.csv``)."""
    path = Path(out_dir) / RESULTS_CSV
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame()
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    if "error" in table:
        table["error"] = table["error"].astype(object).where(table["error"].notna(), "").astype(str)
    if "warm_start" in table:
        table["warm_start"] = table["warm_start"].astype(str).str.lower().eq("true")
    return table.drop_duplicates("point", keep="last").sort_values("point").reset_index(drop=True)


def _write_parquet(table: pd.DataFrame, path: Path) -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return True


def _identity(description: dict) -> Any:
    return [description.get("design"), description.get("parameters"), description.get("points")]


def _read_description(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _write_json(path: Path, data: dict) -> None:
    from procure.outputs.files import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


class _Progress:
    """A rich progress bar on stderr: points done, failures, elapsed time and ETA."""

    def __init__(self, total: int, done: int, name: str, enabled: bool | None, failures: int = 0):
        import sys

        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.total, self.done, self.name, self.failures = total, done, name, failures
        self.progress = None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("points, [red]{task.fields[failures]}[/] failed"),
                                     TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                     console=Console(stderr=True), transient=False)
            self.progress.start()
            self.task = self.progress.add_task(self.name, total=self.total, completed=self.done,
                                              failures=self.failures)
        return self

    def advance(self, failures: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, failures=failures)

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()
