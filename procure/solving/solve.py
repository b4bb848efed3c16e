"""The only module that talks to a solver.

HiGHS goes through Pyomo's ``pyomo.contrib.solver`` interface (``Highs``), whose options are passed per
solve and land on the HiGHS object directly (``time_limit``, ``mip_rel_gap``, ``threads``), so a time
limit really stops the solve. Any other solver name goes through ``pyomo.environ.SolverFactory`` with the
option names that solver understands.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyomo.environ as pyo
from pyomo.opt import SolverStatus
from pyomo.opt import TerminationCondition as LegacyTermination

from procure.solving.defaults import DEFAULT_GAP
from procure.solving.interrupt import Interrupt, ctrl_c_stops_solves

STATUSES = ("optimal", "feasible", "infeasible", "no_solution")

# legacy solver name -> (time limit, relative gap, threads) option names
_LEGACY_OPTIONS = {
    "cbc": ("seconds", "ratioGap", "threads"),
    "scip": ("limits/time", "limits/gap", "parallel/maxnthreads"),
    "scip_direct": ("limits/time", "limits/gap", None),
    "gurobi": ("TimeLimit", "MIPGap", "Threads"),
    "gurobi_direct": ("TimeLimit", "MIPGap", "Threads"),
    "gurobi_persistent": ("TimeLimit", "MIPGap", "Threads"),
    "cplex": ("timelimit", "mip_tolerances_mipgap", "threads"),
    "glpk": ("tmlim", "mipgap", None),
}


class SolverUnavailable(RuntimeError):
    """The named solver is not installed or not usable here."""


@dataclass(frozen=True)
class SolveOptions:
    solver: str = "highs"
    time_limit: float | None = None   # seconds one solve may take; None: no limit
    gap: float = DEFAULT_GAP          # relative MIP gap
    threads: int | None = None        # at most the CPUs this process may use (more are capped to them)
    tee: bool = False
    solver_options: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "threads", capped_threads(self.threads))


CGROUP_CPU_LIMITS = (
    (Path("/sys/fs/cgroup/cpu.max"), None),                      # cgroup v2: "<quota> <period>" or "max <period>"
    (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")),  # v1; -1: none
)
"""Where a container's CPU quota is read (:func:`cgroup_cpu_limit`)."""


def machine_threads() -> int:
    """CPUs this process may use: those it is allowed to run on (its affinity; ``os.cpu_count()`` where
    that is unknown), at most its container's CPU quota rounded up, and at least 1. A container limited
    to 2 CPUs on a 64-core host sees 64 in ``os.cpu_count()``; a sweep starting 64 workers there, or
    HiGHS starting 64 threads, would only queue for the 2."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_cpu_limit()
    return max(1, min(allowed, math.ceil(quota)) if quota is not None else allowed)


def cgroup_cpu_limit() -> float | None:
    """CPUs' worth of time per second the cgroup quota grants (e.g. 1.5), or None: no quota, or none
    readable (not Linux, no cgroup file system mounted, a file in a form not recognised)."""
    for quota_file, period_file in CGROUP_CPU_LIMITS:
        try:
            fields = quota_file.read_text().split()
            if period_file is not None:
                fields.append(period_file.read_text().strip())
        except (OSError, UnicodeDecodeError):
            continue
        if len(fields) != 2 or fields[0] == "max":
            return None
        try:
            quota, period = float(fields[0]), float(fields[1])
        except ValueError:
            return None
        return quota / period if quota > 0 and period > 0 else None
    return None


def capped_threads(threads: int | None) -> int | None:
    """``threads``, at most :func:`machine_threads`. More cannot help, and HiGHS aborts the whole process
    (SIGABRT, no plan, no message) when it cannot start them: ``--threads 100000`` did on a 2-core machine."""
    return None if threads is None else min(threads, machine_threads())


@dataclass(frozen=True)
class SolveResult:
    status: str                 # one of STATUSES
    termination: str            # the solver's own word for why it stopped
    objective: float | None     # $M
    bound: float | None         # $M, best proven lower bound
    gap: float | None           # relative
    seconds: float              # wall-clock seconds inside the solver call
    solver: str
    interrupted: bool = False   # stopped by Ctrl-C (see procure.solving.interrupt): the plan is the best found so far

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def solve_model(model: pyo.ConcreteModel, options: SolveOptions = SolveOptions()) -> SolveResult:
    """Solve ``model`` in place; variable values are loaded when a solution exists."""
    violated = getattr(getattr(model, "domains", None), "violated", None)
    if violated:  # a row without variables is already broken: no solver can help
        return SolveResult("infeasible", f"constant rows violated: {violated}", None, None, None, 0.0,
                           options.solver)
    if options.solver.lower() in ("highs", "appsi_highs"):
        return _solve_highs(model, options)
    return _solve_legacy(model, options)


def highs_solver():
    from pyomo.contrib.solver.solvers.highs import Highs

    solver = Highs()
    if not solver.available():
        raise SolverUnavailable("HiGHS (highspy) is not installed")
    return solver


# Pyomo's checks of the model before each persistent solve (each one pushes what changed to HiGHS)
AUTO_UPDATES = ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                 "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                 "update_vars", "update_parameters", "update_named_expressions", "update_objective")


class HighsSession:
    """A model loaded into HiGHS once and re-solved in place.

    After changing mutable parameters (``demand_h100e``, ``price_scale``, ``discount_factor``) call
    :meth:`solve` again: Pyomo's persistent interface pushes only the changed coefficients to HiGHS.
    ``load_seconds`` is the time taken to hand the model to HiGHS.
    """

    def __init__(self, model: pyo.ConcreteModel):
        self.model = model
        self.solver = highs_solver()
        start = time.perf_counter()
        self.solver.set_instance(model)
        self.load_seconds = time.perf_counter() - start
        # did HiGHS take the last solve's ``start`` vector (it checks it during the solve and may drop it)
        self.start_accepted: bool | None = None

    def solve(self, options: SolveOptions = SolveOptions(),
              start: dict[int, float] | list[float] | None = None, stoppable: bool = True) -> SolveResult:
        """Solve (again). ``start`` (``id(var)`` → value, missing variables 0; or one value per HiGHS column)
        is offered to HiGHS as its first incumbent; HiGHS checks it and ignores it if it is infeasible.
        ``stoppable=False``: run to the end even after a Ctrl-C (for a short solve that completes a plan)."""
        self.start_accepted = None
        violated = getattr(getattr(self.model, "domains", None), "violated", None)
        if violated:
            return solve_model(self.model, options)
        if start is None:
            return _solve_highs(self.model, options, self.solver, stoppable)
        # Any change pushed to HiGHS discards a solution set before it, and Pyomo pushes the model's changes
        # at the start of every solve: push them now, set the start, and solve without a second push.
        with self.manual_updates():
            self.start_accepted = (self.set_start(start) if isinstance(start, dict)
                                   else self.set_start_columns(list(start)))
            return _solve_highs(self.model, options, self.solver, stoppable)

    @contextlib.contextmanager
    def manual_updates(self):
        """Push what changed in the model now, then solve without Pyomo's scan of the model before each
        solve: inside, changes reach HiGHS only when pushed (``solver.update_variables([...])``,
        ``solver.update_parameters()``). A no-op push when the session is already manual (sweeps)."""
        self.solver.update()
        saved = self.stop_auto_updates()
        try:
            yield self
        finally:
            for name, value in saved.items():
                setattr(self.solver.config.auto_updates, name, value)

    def stop_auto_updates(self) -> dict[str, bool]:
        """Turn off Pyomo's scan of the model before each solve; returns the flags as they were."""
        return _stop_auto_updates(self.solver)

    def columns(self, values: dict[int, float]) -> list[float]:
        """``id(var)`` → value as one value per HiGHS column (variables not given: 0)."""
        out = [0.0] * self.highs.getNumCol()
        for var_id, column in self.solver._pyomo_var_to_solver_var_map.items():
            out[column] = values.get(var_id, 0.0)
        return out

    def set_start(self, start: dict[int, float]) -> bool:
        """Hand HiGHS a solution (``id(var)`` → value); True when HiGHS accepted the vector."""
        return self.set_start_columns(self.columns(start))

    def model_columns(self) -> list[float]:
        """The model's variable values, one per HiGHS column (unset 0): a start for :meth:`set_start_columns`."""
        return self.columns({id(v): v.value for v in self.model.component_data_objects(pyo.Var)
                             if v.value is not None})

    def set_start_columns(self, values: list[float]) -> bool:
        """Hand HiGHS a solution as one value per HiGHS column (e.g. an earlier ``getSolution().col_value``)."""
        import highspy

        solution = highspy.HighsSolution()
        solution.col_value = values
        solution.value_valid = True
        return self.highs.setSolution(solution) == highspy.HighsStatus.kOk

    @property
    def highs(self):
        """The underlying ``highspy.Highs`` object (for warm starts, MPS export, raw options)."""
        return self.solver._solver_model


def _stop_auto_updates(solver) -> dict[str, bool]:
    auto = solver.config.auto_updates
    saved = {name: getattr(auto, name) for name in AUTO_UPDATES if name in auto}
    for name in saved:
        setattr(auto, name, False)
    return saved


def _solve_highs(model: pyo.ConcreteModel, options: SolveOptions, solver=None, stoppable: bool = True
                 ) -> SolveResult:
    """One HiGHS solve. Ctrl-C stops it at HiGHS's next check (:mod:`procure.solving.interrupt`): inside a caller's
    :func:`~procure.solving.interrupt.ctrl_c_stops_solves` block the result comes back with ``interrupted`` set;
    otherwise ``KeyboardInterrupt`` is raised once HiGHS has stopped. ``stoppable=False``: Ctrl-C does not
    stop this solve, which runs to its end and is not marked interrupted (the block still records it)."""
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    start = time.perf_counter()
    if solver is None:  # load first, so that the interrupt callback has a HiGHS object to sit on
        solver = highs_solver()
        solver.set_instance(model)
        _stop_auto_updates(solver)  # nothing changed since the load: skip Pyomo's scan of the model
    fit_highs_threads(options.threads)
    with ctrl_c_stops_solves(raise_at_exit=True) as interrupt, _stopped_by(solver._solver_model, interrupt,
                                                                           stoppable):
        results = solver.solve(
            model, tee=options.tee, load_solutions=False, raise_exception_on_nonoptimal_result=False,
            time_limit=options.time_limit, rel_gap=options.gap, threads=options.threads,
            solver_options=highs_options(options))
        interrupted = stoppable and interrupt.requested
    seconds = time.perf_counter() - start
    term = results.termination_condition
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if has_solution:
        results.solution_loader.load_vars()
    status = _status(term == TerminationCondition.convergenceCriteriaSatisfied, has_solution,
                     term in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded))
    objective = results.incumbent_objective if has_solution else None
    stopped_early = interrupted and status not in ("optimal", "infeasible")  # else it finished first
    return _result(status, "interrupted" if stopped_early else term.name, objective, results.objective_bound,
                   seconds, "highs", interrupted)


SUB_MIP_HEURISTICS = ("mip_heuristic_run_rins", "mip_heuristic_run_rens", "mip_heuristic_run_root_reduced_cost")
"""HiGHS's heuristics that solve sub-MIPs, on by default (:mod:`procure.solving.staged` turns them off for one stage)."""


def highs_options(options: SolveOptions) -> dict:
    """HiGHS options beyond the limit, gap and threads: the caller's ``solver_options``, plus
    ``parallel="on"`` whenever HiGHS will run on more than one thread, else its default ``"choose"``, and
    ``objective_target``, ``objective_bound`` and :data:`SUB_MIP_HEURISTICS` at HiGHS's defaults (no target,
    no cutoff, heuristics on), and with no time
    limit or thread count given, no limit and :func:`default_threads` — options stay set on a
    HiGHS object between solves, so each solve states them unless the caller set them (:mod:`procure.solving.staged`
    sets a target, ``benchmarks.relaxations --cutoff`` a cutoff).

    HiGHS 1.15 searches the branch-and-bound tree on several threads only with ``parallel="on"``; without it
    the tree search runs on one thread whatever ``threads`` says. Measured on this project's instances (60 s,
    2 threads against 1, single runs; benchmarks/README.md): the same objectives where a solve finishes
    (small.json's proven optimum is tested both ways), the staged solve's then stage 1 (blocks integer, lots
    continuous) 15–25 % faster on the l and xl sizes, meta.json's stage-1 bound 5 $M higher. LPs take the
    same time with it on or off (meta.json's LP relaxation, 2.9 s both ways)."""
    extra = dict(options.solver_options)
    extra.setdefault("parallel", "on" if highs_thread_count(options.threads) > 1 else "choose")
    extra.setdefault("objective_target", -math.inf)  # HiGHS's defaults: a staged stage's target must not stay,
    extra.setdefault("objective_bound", math.inf)    # nor a relaxation's cutoff,
    for heuristic in SUB_MIP_HEURISTICS:             # nor the staged bound stage's heuristics switched off
        extra.setdefault(heuristic, True)
    # Pyomo hands HiGHS a time limit and a thread count only when they are given: without these, a solve
    # with none would inherit an earlier solve's on the same HiGHS object (a sweep's, a stage's)
    if options.time_limit is None:
        extra.setdefault("time_limit", math.inf)
    if options.threads is None:
        extra.setdefault("threads", default_threads())  # what fit_highs_threads sized the scheduler for
    return extra


def default_threads() -> int:
    """The threads a HiGHS run gets when none are asked for: half the CPUs this process may use, rounded
    up. That is HiGHS's own rule (half the hardware threads, rounded up), applied to what this process may
    use: HiGHS counts hardware threads, a container's CPU quota or not."""
    return (machine_threads() + 1) // 2


def highs_thread_count(threads: int | None) -> int:
    """The threads a HiGHS run will use: ``threads``, or :func:`default_threads`."""
    return threads if threads else default_threads()


_scheduler = threading.local()  # the ``threads`` this thread's HiGHS task scheduler was started with


def fit_highs_threads(threads: int | None) -> None:
    """Call before every HiGHS run: restart this thread's HiGHS task scheduler unless procure started it
    with the same ``threads``.

    HiGHS starts one scheduler per calling thread at its first run, sized by that run's ``threads``; a later
    run asking for another count fails at once ("global scheduler has already been initialized"), which
    would read as "no plan". A thread procure has not seen may have run HiGHS itself (a raw ``highspy``
    model, another library): restart it then too. One thread never runs two HiGHS solves at once."""
    wanted = highs_thread_count(threads)
    if getattr(_scheduler, "threads", None) != wanted:
        import highspy

        reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
        if reset is not None:
            reset(True)  # blocking: wait for the old workers to stop
    _scheduler.threads = wanted


INTERRUPT_CALLBACKS = ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt")
"""highspy's callbacks at which HiGHS asks whether to stop (:func:`_stopped_by` answers them)."""


class _HidesInterruptWarning(logging.Filter):
    """Pyomo does not map HiGHS's ``kInterrupt`` status and warns about it; procure reports it itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "kInterrupt" not in record.getMessage()


@contextlib.contextmanager
def _stopped_by(highs, interrupt: Interrupt, stoppable: bool = True):
    """Register HiGHS interrupt callbacks that stop the solve once ``interrupt.requested`` (removed on exit).
    They answer every check, "go on" included: HiGHS keeps the last answer between solves, so a solve
    after an interrupted one would stop at its first check otherwise."""
    def check(event):
        if event.data_in is not None:  # (highspy 1.8 has no event.interrupt())
            event.data_in.user_interrupt = stoppable and interrupt.requested

    pyomo_log = logging.getLogger("pyomo.contrib.solver.solvers.highs")
    hide = _HidesInterruptWarning()
    for name in INTERRUPT_CALLBACKS:
        getattr(highs, name).subscribe(check)
    pyomo_log.addFilter(hide)
    try:
        yield
    finally:
        pyomo_log.removeFilter(hide)
        for name in INTERRUPT_CALLBACKS:
            getattr(highs, name).unsubscribe(check)
        # Pyomo subscribes highspy's own Ctrl-C handler again before every run (HandleKeyboardInterrupt =
        # True), one more per solve of a session; unsubscribe this solve's, or a sweep's session calls
        # hundreds of them at every simplex check (meta.json's LP relaxation makes about 9,000 checks).
        # procure owns this flag on its HiGHS objects: Ctrl-C is handled here, not by highspy.
        if highs.HandleKeyboardInterrupt:
            highs.HandleKeyboardInterrupt = False


def _status(optimal: bool, has_solution: bool, infeasible: bool) -> str:
    if has_solution:
        return "optimal" if optimal else "feasible"
    return "infeasible" if infeasible else "no_solution"


def _result(status: str, termination: str, objective, bound, seconds: float, solver: str,
            interrupted: bool = False) -> SolveResult:
    if status == "optimal" and bound is None:
        bound = objective
    return SolveResult(status, termination, objective, bound, relative_gap(objective, bound), seconds, solver,
                       interrupted)


def _legacy_solver(name: str):
    from pyomo.common.log import LoggingIntercept

    try:
        # an unknown name makes Pyomo log a warning with a traceback on stdout; the caller says it better
        with LoggingIntercept(level=logging.ERROR, module="pyomo.opt"):
            solver = pyo.SolverFactory(name)
        return solver if solver is not None and solver.available(exception_flag=False) else None
    except Exception:  # pyomo raises a variety of errors for unknown or broken plugins
        return None


def _solve_legacy(model: pyo.ConcreteModel, options: SolveOptions) -> SolveResult:
    name = options.solver
    solver = _legacy_solver(name)
    if solver is None and name == "scip":  # no scip executable: the PySCIPOpt library does the same job
        name, solver = "scip_direct", _legacy_solver("scip_direct")
    if solver is None:
        raise SolverUnavailable(f"solver '{options.solver}' is not available (is it installed and on PATH?)")
    limit_key, gap_key, threads_key = _LEGACY_OPTIONS.get(name, (None, None, None))
    opts = dict(options.solver_options)
    if options.time_limit is not None and limit_key:
        opts[limit_key] = options.time_limit
        if name == "cbc":
            opts.setdefault("timeMode", "elapsed")  # CBC counts CPU seconds otherwise
    if gap_key:
        opts[gap_key] = options.gap
    if options.threads and threads_key:
        opts[threads_key] = options.threads
    start = time.perf_counter()
    results = solver.solve(model, options=opts, tee=options.tee, load_solutions=False)
    seconds = time.perf_counter() - start
    term = results.solver.termination_condition
    has_solution = len(results.solution) > 0 and results.solver.status in (SolverStatus.ok, SolverStatus.warning,
                                                                           SolverStatus.aborted)
    if term == LegacyTermination.intermediateNonInteger:  # CBC at its limit returns its LP point: no plan
        has_solution = False
    if has_solution:
        model.solutions.load_from(results)
    status = _status(term == LegacyTermination.optimal, has_solution,
                     term in (LegacyTermination.infeasible, LegacyTermination.infeasibleOrUnbounded))
    objective = pyo.value(next(model.component_data_objects(pyo.Objective, active=True))) if has_solution else None
    bound = results.problem.lower_bound
    bound = float(bound) if bound is not None and math.isfinite(float(bound)) else None
    return _result(status, str(term), objective, bound, seconds, name)
