"""Fixing a solved model's lumpy decisions, and restoring the model afterwards.

"Lumpy decisions" are the components in :data:`DECISIONS` (blocks started, lots bought, lease lots signed,
signed flags); fixing them fixes the plan whatever the formulation declares integer (the decisions
themselves or running totals defined from them by equality rows). Every analysis that re-solves a plan
works inside :func:`preserved`, so the model is left as it was found.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable

import pyomo.environ as pyo

DECISIONS = ("build", "buy", "commit", "signed")   # the lumpy decisions, per node (increments, not running totals)


def integer_vars(m: pyo.ConcreteModel) -> list:
    return [v for v in m.component_data_objects(pyo.Var, descend_into=True) if v.is_integer() or v.is_binary()]


def decision_vars(m: pyo.ConcreteModel, components: Iterable[str] = DECISIONS) -> list:
    """The variables of the decision components (blocks started, lots bought, lease lots, signed flags).

    Fixing these fixes the plan whatever the formulation carries as integer (the decisions or running
    totals defined from them by equality rows)."""
    out = []
    for name in components:
        comp = getattr(m, name, None)
        if comp is not None:
            out.extend(comp.values())
    return out


def node_of_index(v) -> tuple[str, int] | None:
    """The node ``(r, t)`` a decision variable is indexed by (its last two index entries)."""
    index = v.index()
    if isinstance(index, tuple) and len(index) >= 2 and isinstance(index[-1], int):
        return index[-2], index[-1]
    return None


@contextmanager
def preserved(m: pyo.ConcreteModel):
    """Restore every variable's value, bounds, fixed flag and domain, every row's active flag and the active
    objective after the block, whatever it did to the model."""
    variables = list(m.component_data_objects(pyo.Var, descend_into=True))
    saved = [(v, v.value, v.fixed, v.domain, v.lower, v.upper) for v in variables]
    rows = [(c, c.active) for c in m.component_data_objects(pyo.Constraint, descend_into=True)]
    objectives = [(o, o.active) for o in m.component_data_objects(pyo.Objective, descend_into=True)]
    try:
        yield m
    finally:
        for o, active in objectives:
            o.activate() if active else o.deactivate()
        for c, active in rows:
            if c.active != active:
                c.activate() if active else c.deactivate()
        for v, value, fixed, domain, lower, upper in saved:
            if v.domain is not domain:
                v.domain = domain
            if v.lower is not lower:
                v.setlb(lower)
            if v.upper is not upper:
                v.setub(upper)
            v.set_value(value, skip_validation=True)
            if fixed and not v.fixed:
                v.fix()
            elif not fixed and v.fixed:
                v.unfix()


def fix_integers(variables: Iterable, relax: bool = False) -> None:
    """Fix integer variables at their current (rounded) values; ``relax`` turns their domain continuous."""
    for v in variables:
        value = round(v.value) if v.value is not None else 0
        if relax:
            v.domain = pyo.Reals
        v.fix(value)
