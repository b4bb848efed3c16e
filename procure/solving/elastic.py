"""Why an instance is infeasible: the least violation first, proven exactly, then the cheapest plan with it.

An elastic model (``build_model(data, elastic=True)``) has a non-negative slack on every row that may have
to give (:data:`procure.model.ELASTIC_FAMILIES`). Solving it once with the slacks priced at
``ELASTIC_PENALTY_MUSD`` in the cost objective at the user's relative gap lets slack through: the penalties
inflate the objective, and a gap of 1e-4 on an objective of 1e9 $M is 1e5 $M — a spurious "budget 2028 by
$1.02M" that vanishes at gap 1e-9. So the solve is lexicographic:

1. minimise the total violation ``V = Σ slack`` alone (in each row's unit, as the penalty weighs them) at
   gap 0: ``V*`` is proven, so every slack named is needed;
2. hold ``V ≤ V* + 1e-9`` (room relative to ``V*`` would be taken by the cost and named as a cause) and minimise the expected cost without the penalty, at the user's gap:
   the plan and the split of the violation among rows are the cheapest ones with no more violation.
"""

from __future__ import annotations

import dataclasses

import pyomo.environ as pyo

from procure.model.elastic import ELASTIC_PENALTY_MUSD
from procure.solving.solve import SolveOptions, SolveResult, solve_model

VIOLATION_TOLERANCE = 1e-9  # absolute, on V*: any room more is taken by the cost and shows as a cause


def total_violation(model: pyo.ConcreteModel):
    """``Σ slack`` over every elastic family of ``model`` (a Pyomo expression; 0 without slacks)."""
    return sum(sum(getattr(model, f"{family}_slack").values()) for family in getattr(model, "SLACKS", []))


def solve_elastic(model: pyo.ConcreteModel, options: SolveOptions) -> SolveResult:
    """Solve an elastic model lexicographically (module docstring); the model holds the plan returned.

    Returns the second stage's result (objective: expected discounted cost, without the penalty), or the
    first stage's (objective: ``V*``) when the second finds no plan or the first finds none itself."""
    violation = total_violation(model)
    cost = model.objective.expr - ELASTIC_PENALTY_MUSD * violation
    model.objective.deactivate()
    model.least_violation = pyo.Objective(expr=violation, sense=pyo.minimize)
    first = solve_model(model, dataclasses.replace(options, gap=0.0))
    model.del_component("least_violation")
    if not first.has_solution:
        model.objective.activate()
        return first
    least = max(first.objective, 0.0)
    model.violation_cap = pyo.Constraint(expr=violation <= least + VIOLATION_TOLERANCE)
    model.cheapest = pyo.Objective(expr=cost, sense=pyo.minimize)
    second = solve_model(model, options)
    if second.has_solution:
        return second
    # no plan in the time left: the first stage's (its values are still loaded; its objective is V*)
    model.cheapest.deactivate()
    return first
