"""The LP of a solved plan with its lumpy decisions fixed: duals, reduced costs and price coefficients.

Fixing every lumpy decision (:data:`~procure.solving.fixing.DECISIONS`) at its optimal value and relaxing
every integer domain leaves an LP whose duals price the plan at the margin: the dual of a row is the change
of the expected discounted objective ($M) per unit of its right-hand side, the reduced cost of a column the
change per unit of the column. Rows made constant by the fixing (every variable pinned) are dropped: their
duals would say nothing. Each option column's cost is linear in its option's ``price_scale``; its
coefficient there (:attr:`FixedLP.price_coefs`) turns a reduced cost into a break-even multiplier.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

from procure.solving.fixing import DECISIONS, decision_vars, fix_integers, integer_vars, preserved
from procure.solving.solve import capped_threads, fit_highs_threads, highs_solver, highs_thread_count

COEFFICIENT_TOL = 1e-9   # a column coefficient (a row's, or a price coefficient) at most this counts as zero
INTEGER_ROW_FAMILIES = ("budget", "supply", "max_blocks", "provider_capacity", "lease_min", "lease_max")
OPTION_KINDS = ("buy", "block", "lease", "rental")   # the priced options (``price_scale`` keys "kind:item")


@dataclasses.dataclass
class FixedLP:
    """What the fixed LP says; without a dual solution (time limit, numerical trouble) the maps are empty."""

    objective: float | None
    duals: dict          # ConstraintData -> dual ($M per unit of the row's right-hand side)
    reduced_costs: Any   # ComponentMap VarData -> reduced cost ($M per unit of the variable)
    price_coefs: dict    # id(VarData) -> d(objective coefficient)/d(price_scale of its option)
    seconds: float
    termination: str


def constant_rows(m: pyo.ConcreteModel, free: tuple[str, ...] = ()) -> list:
    """Rows of the lumpy families (budget, supply, max_blocks, provider capacity, lease min/max) whose
    variables are all decisions or integers outside the ``free`` components — constant once the decisions
    are fixed (running totals are then determined by their defining rows)."""
    def pinned(v) -> bool:
        name = v.parent_component().local_name
        return name not in free and (name in DECISIONS or v.is_integer() or v.is_binary())

    rows = []
    for family in INTEGER_ROW_FAMILIES:
        comp = getattr(m, family, None)
        if comp is None:
            continue
        for c in comp.values():
            if c.active and all(pinned(v) for v in identify_variables(c.body)):
                rows.append(c)
    return rows


def option_keys(m: pyo.ConcreteModel) -> list[str]:
    return [k for k in m.PRICE_KEYS if k.split(":", 1)[0] in OPTION_KINDS]


def solve_fixed_lp(m: pyo.ConcreteModel, time_limit: float | None = None, threads: int | None = None,
                   free: tuple[str, ...] = ()) -> FixedLP:
    """Fix every lumpy decision (:data:`DECISIONS`) at its value, make every integer continuous — except
    the components named in ``free``, which stay free to move — drop the rows made constant, solve the LP,
    read duals and reduced costs (and, for break-even estimates, how each column's cost moves with its
    option's price scale). The model is restored afterwards."""
    import numpy as np

    with preserved(m):
        constant = constant_rows(m, free)
        for v in integer_vars(m):  # running totals (and free decisions) become continuous
            v.domain = pyo.UnitInterval if v.is_binary() else pyo.NonNegativeReals
        fix_integers([v for v in decision_vars(m) if v.parent_component().local_name not in free], relax=True)
        for c in constant:
            c.deactivate()
        from pyomo.contrib.solver.solvers.highs import Highs

        highs_solver()  # raises SolverUnavailable when highspy is missing
        threads = highs_thread_count(capped_threads(threads))  # stated: HiGHS's own default counts the hardware
        fit_highs_threads(threads)
        solver = Highs(treat_fixed_vars_as_params=False)
        start = time.perf_counter()
        results = solver.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                               time_limit=time_limit, threads=threads)
        seconds = time.perf_counter() - start
        term = results.termination_condition.name
        try:
            duals = results.solution_loader.get_duals()
            reduced = results.solution_loader.get_reduced_costs()
        except Exception:  # no dual solution (time limit, numerical trouble)
            return FixedLP(None, {}, pyo.ComponentMap(), {}, seconds, term)
        # every option column's cost is linear in exactly one option's price scale: one finite difference
        # with all option scales moved together gives each column's price coefficient
        h = solver._solver_model
        keys = option_keys(m)
        old = {k: pyo.value(m.price_scale[k]) for k in keys}
        base = np.array(h.getLp().col_cost_)
        try:
            for k in keys:
                m.price_scale[k] = old[k] + 1.0
            solver.update_parameters()
            up = np.array(h.getLp().col_cost_)
        finally:
            for k in keys:
                m.price_scale[k] = old[k]
        diff = up - base
        price_coefs = {vid: float(diff[j]) for vid, j in solver._pyomo_var_to_solver_var_map.items()
                       if abs(diff[j]) > 0}
        return FixedLP(results.incumbent_objective, duals, reduced, price_coefs, seconds, term)
