"""Penalised slack for rows that may have to give when an instance is infeasible."""

from __future__ import annotations

import pyomo.environ as pyo

ELASTIC_PENALTY_MUSD = 1e5
"""Objective weight per unit of violation: far above any real cost, so slack is used only when needed."""


def slack(m: pyo.ConcreteModel, family: str, index: list) -> dict:
    """A non-negative slack per row of ``family`` when the model is elastic, else zeros."""
    if not m.domains.elastic or not index:
        return {k: 0 for k in index}
    var = pyo.Var(index, within=pyo.NonNegativeReals)
    m.add_component(f"{family}_slack", var)
    if not hasattr(m, "SLACKS"):
        m.SLACKS = []
    m.SLACKS.append(family)
    return var


def constant_row(m: pyo.ConcreteModel, family: str, index: tuple, satisfied: bool):
    """A row with no variables left: skip it, recording it when it is violated.

    Violated constant rows make the model infeasible before any solve; ``m.domains.violated`` lets the
    caller go straight to the elastic re-solve, where the row has a slack and is no longer constant.
    """
    if not satisfied:
        m.domains.violated.append((family, index))
    return pyo.Constraint.Skip
