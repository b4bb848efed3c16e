"""Python API: ``procure.solve(path_or_instance, **options)`` returns the plan as DataFrames."""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from procure.inputs.data import ModelData, build_data
from procure.solving.elastic import solve_elastic
from procure.solving.interrupt import ctrl_c_stops_solves
from procure.model import build_model
from procure.model.risk import risk_measures
from procure.outputs.files import has_tables, write_directory
from procure.outputs.decisions import decisions_table
from procure.outputs.tables import (capacity_table, costs_table, expected_costs, expected_shortfall, model_size,
                                    plan_table, slack_report)
from procure.solving.defaults import DEFAULT_GAP, DEFAULT_TIME_LIMIT, time_limit_or_none
from procure.solving.solve import SolveOptions, SolveResult, solve_model
from procure.solving.staged import STRATEGIES, Stage, can_stage, solve_staged, staged_applies
from procure.inputs.validation import LoadedInstance, instance_from_dict, load_instance


@dataclass(frozen=True)
class Plan:
    """What a solve produced. Tables are empty when no plan was found."""

    summary: dict
    capacity: pd.DataFrame
    plan: pd.DataFrame
    costs: pd.DataFrame
    data: ModelData
    model: Any = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.summary["status"]

    @property
    def decisions(self) -> pd.DataFrame:
        """The decisions to take now: the root node's commitments (:func:`procure.outputs.decisions.decisions_table`)."""
        return decisions_table(self.plan, self.data.SCENARIOS[0], self.data.QUARTERS[0])

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"capacity": self.capacity, "plan": self.plan, "costs": self.costs, "decisions": self.decisions}

    def write(self, out_dir: str | Path, extra=None, force: bool = False) -> Path:
        """Write the outputs into ``out_dir`` over an earlier solve's; ``force`` also writes beside files
        of someone else's there (leaving them alone). :func:`procure.outputs.files.write_directory`."""
        tables = self.tables if has_tables(self.summary) else {}
        return write_directory(Path(out_dir), self.summary, tables, extra=extra, force=force)


def load(source: str | Path | dict | LoadedInstance, base_dir: str | Path = ".") -> LoadedInstance:
    """An instance file (str or Path), an instance dict, or an already loaded instance, validated.

    A dict's relative catalog paths are resolved against ``base_dir`` (a file's, against its folder)."""
    if isinstance(source, LoadedInstance):
        return source
    if isinstance(source, dict):
        return instance_from_dict(source, base_dir=base_dir)
    return load_instance(source)


def check_options(time_limit: float | None, gap: float, threads: int | None) -> float | None:
    """Raise ``ValueError`` for a negative or NaN ``time_limit`` or ``gap`` or a ``threads`` below 1; returns
    the time limit with 0 read as "no limit" (``None``), as on the command line."""
    if time_limit is not None and not (isinstance(time_limit, numbers.Real) and time_limit >= 0):
        raise ValueError(f"time_limit must be ≥ 0 seconds, 0 or None for no limit (got {time_limit!r})")
    if not (isinstance(gap, numbers.Real) and gap >= 0):
        raise ValueError(f"gap must be a relative gap ≥ 0 (got {gap!r})")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, numbers.Integral)
                                or threads < 1):
        raise ValueError(f"threads must be a whole number ≥ 1, or None for HiGHS's default (got {threads!r})")
    return time_limit_or_none(time_limit)


def with_risk(loaded: LoadedInstance, cvar_alpha: float | None, cvar_weight: float | None) -> LoadedInstance:
    """``loaded`` with ``policy.risk`` overridden where given, checked by the schema's rules (ValueError)."""
    if cvar_alpha is None and cvar_weight is None:
        return loaded
    from pydantic import ValidationError

    from procure.inputs.schema import Risk

    risk = loaded.instance.policy.risk.model_dump()
    risk.update({k: v for k, v in (("cvar_alpha", cvar_alpha), ("weight", cvar_weight)) if v is not None})
    try:
        risk = Risk.model_validate({k: float(v) for k, v in risk.items()})
    except ValidationError as exc:
        raise ValueError("; ".join(f"cvar_{'weight' if e['loc'][0] == 'weight' else 'alpha'}: {e['msg']}"
                                   for e in exc.errors())) from None
    policy = loaded.instance.policy.model_copy(update={"risk": risk})
    return dataclasses.replace(loaded, instance=loaded.instance.model_copy(update={"policy": policy}))


def solve(source: str | Path | dict | LoadedInstance, *, solver: str = "highs",
          time_limit: float | None = DEFAULT_TIME_LIMIT, gap: float = DEFAULT_GAP, threads: int | None = None,
          tee: bool = False,
          lp_relaxation: bool = False, keep_model: bool = False, strategy: str = "auto",
          base_dir: str | Path = ".", cvar_alpha: float | None = None, cvar_weight: float | None = None) -> Plan:
    """Build and solve the instance; on infeasibility, re-solve elastically and name what had to give.

    ``strategy``: ``direct`` (one MILP solve), ``staged`` (a bound on the block sums, then blocks, lots,
    everything; see :mod:`procure.solving.staged`; HiGHS only) or ``auto`` (staged where
    :func:`procure.solving.staged.staged_applies`).

    Ctrl-C during the solves (in the main thread) does not raise ``KeyboardInterrupt``: it stops the running
    solve, starts no other (but the short LP that completes a staged solve's rounded plan), and returns the
    best plan found so far with ``summary["interrupted"]`` true (:mod:`procure.solving.interrupt`); a script solving
    several instances should check it.

    ``cvar_alpha`` and ``cvar_weight`` override the instance's ``policy.risk`` (the objective is
    ``(1 − weight) · E[cost] + weight · CVaR_alpha[cost]``, :func:`procure.model.risk.add_risk`).

    ``time_limit`` is in seconds (default :data:`procure.solving.solve.DEFAULT_TIME_LIMIT`), 0 or None for
    none; ``gap`` defaults to :data:`procure.solving.solve.DEFAULT_GAP`, as on the command line. A dict instance's relative catalog paths are resolved
    against ``base_dir`` (default: the current directory).

    Raises :class:`procure.inputs.validation.InstanceError` for a bad instance, ``ValueError`` for a bad option
    (before anything is built) and :class:`procure.solving.solve.SolverUnavailable` for a missing solver.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)} (got {strategy!r})")
    time_limit = check_options(time_limit, gap, threads)
    threads = None if threads is None else int(threads)  # numpy integers too
    started = time.perf_counter()
    loaded = with_risk(load(source, base_dir), cvar_alpha, cvar_weight)
    data = build_data(loaded)
    options = SolveOptions(solver=solver, time_limit=time_limit, gap=gap, threads=threads, tee=tee)

    t0 = time.perf_counter()
    model = build_model(data)
    build_seconds = time.perf_counter() - t0
    stages: list[Stage] = []
    # "staged" on a model with nothing to stage (no blocks or no purchases) is a direct solve
    staged = options.solver.lower() in ("highs", "appsi_highs") and (
        (strategy == "staged" and can_stage(model)) or (strategy == "auto" and staged_applies(model)))
    relaxed: list[dict] | None = None
    lp_summary: dict | None = None
    # Ctrl-C: keep the best plan so far and say so; no further solve starts (a solver running in its own
    # process, CBC, sees a terminal's Ctrl-C too and stops by itself)
    with ctrl_c_stops_solves() as interrupt:
        if staged:
            result, stages = solve_staged(model, data, options)
        else:
            result = solve_model(model, options)
        solved_model, solved_result = model, result
        if result.status == "infeasible" and not interrupt.requested:
            elastic = build_model(data, elastic=True)
            elastic_result = solve_elastic(elastic, options)
            # an interrupted elastic solve may not have found the least that has to give: do not name it
            if elastic_result.has_solution and not interrupt.requested:
                relaxed = slack_report(elastic, data)
                solved_model, solved_result = elastic, elastic_result
        if lp_relaxation and not interrupt.requested:
            lp_summary = _lp_relaxation(data, options, result)
            if interrupt.requested:  # stopped before its optimum: no bound to report
                lp_summary = None
    interrupted = interrupt.requested

    summary: dict[str, Any] = {
        "instance": data.name,
        "status": result.status,
        "termination": result.termination,
        "solver": result.solver,
        # a plan of the instance, as the exit code says (0); an infeasible instance's tables hold the
        # relaxed plan that shows what had to give (has_relaxed_plan), and the exit code is 1
        "has_plan": solved_result.has_solution and relaxed is None,
        "has_relaxed_plan": relaxed is not None,
        "objective": _round(result.objective if result.has_solution else None),
        "bound": _round(result.bound),
        "gap": result.gap,
        "units": {"objective": "$M, expected discounted (net of residual value)",
                  "costs": "$M, expected discounted", "shortfall_h100e_quarters": "H100e-quarters, expected"},
        "seconds": {},
        "size": model_size(model),
        "scenarios": {s: data.probability[s] for s in data.SCENARIOS},
        "quarters": [data.QUARTERS[0], data.QUARTERS[-1]],
        "options": {"time_limit": time_limit, "gap": gap, "threads": options.threads, "strategy": strategy},
        "strategy": "staged" if staged else "direct",
        "interrupted": interrupted,
    }
    if stages:
        summary["stages"] = [{"stage": st.name, "status": st.status, "objective": _round(st.objective),
                              "bound": _round(st.bound if st.bound is not None and math.isfinite(st.bound)
                                              else None),
                              "seconds": round(st.seconds, 3), "termination": st.termination} for st in stages]
    tables = {"capacity": pd.DataFrame(), "plan": pd.DataFrame(), "costs": pd.DataFrame()}
    if solved_result.has_solution:
        tables = {"capacity": capacity_table(solved_model, data), "plan": plan_table(solved_model, data),
                  "costs": costs_table(solved_model, data)}
        summary["costs"] = expected_costs(tables["costs"], data)
        summary["shortfall_h100e_quarters"] = expected_shortfall(tables["capacity"], data)
        if relaxed is None:  # (the elastic model's costs carry its penalties)
            costs = {s: float(pyo.value(solved_model.scenario_cost[s])) for s in data.SCENARIOS}
            summary.update({k: _round(v) for k, v in risk_measures(costs, dict(data.probability),
                                                                     data.cvar_alpha).items()})
    else:
        summary["costs"] = {}
        summary["shortfall_h100e_quarters"] = None
    summary["cvar_alpha"], summary["cvar_weight"] = data.cvar_alpha, data.cvar_weight
    if relaxed is not None:
        summary["relaxed"] = relaxed
        summary["elastic_objective"] = _round(solved_result.objective)
    if lp_summary is not None:
        summary["lp_relaxation"] = lp_summary
    summary["seconds"] = {"build": round(build_seconds, 3), "solve": round(result.seconds, 3),
                          "total": round(time.perf_counter() - started, 3)}
    return Plan(summary, tables["capacity"], tables["plan"], tables["costs"], data,
                solved_model if keep_model else None)


def _lp_relaxation(data: ModelData, options: SolveOptions, mip: SolveResult) -> dict:
    relaxed = build_model(data, relax_integers=True)
    lp = solve_model(relaxed, options)
    bound = lp.objective if lp.status == "optimal" else None
    gap = None
    if bound is not None and mip.objective is not None:
        gap = (mip.objective - bound) / max(abs(mip.objective), 1e-9)
    return {"objective": _round(bound), "gap_to_mip": gap, "seconds": round(lp.seconds, 3)}


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)
