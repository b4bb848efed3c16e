"""Each leaf scenario's discounted cost, and its CVaR (Rockafellar–Uryasev) for a risk-averse objective."""

from __future__ import annotations

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.costs import discounted_net_cost


def add_risk(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Expression ``scenario_cost[s]`` per leaf scenario ``s`` ($M, discounted, net of residual value)::

        scenario_cost[s] = Σ_t (δ_t · Σ_c cost[c, node(s, t)] − δ_T · residual[node(s, t)])

    so that the expected cost of :func:`procure.model.costs.add_objective` is ``Σ_s p_s · scenario_cost[s]``.
    With ``W = cvar_weight > 0``, the conditional value at risk at level ``α = cvar_alpha`` (Rockafellar and
    Uryasev: the mean of the worst ``1 − α`` of the probability), linear: a free ``value_at_risk`` (one, at
    the root, as every scenario shares it) and ``cvar_excess[s] ≥ 0`` with rows ``cvar_excess_def[s]``::

        cvar_excess[s] ≥ scenario_cost[s] − value_at_risk
        cvar = value_at_risk + 1 / (1 − α) · Σ_s p_s · cvar_excess[s]             (expression ``cvar``)

    At the optimum ``value_at_risk`` is the α-quantile of the scenario costs (any point of the flat
    stretch where it is not unique). With ``W = 0`` none of these columns or rows is built.
    """
    paths = {s: [d.node_of[s, t] for t in range(d.T)] for s in d.SCENARIOS}
    m.scenario_cost = pyo.Expression(list(d.SCENARIOS), rule=lambda _, s: sum(
        discounted_net_cost(m, n) for n in paths[s]))
    if d.cvar_weight <= 0:
        return
    m.value_at_risk = pyo.Var(within=pyo.Reals)
    m.cvar_excess = pyo.Var(list(d.SCENARIOS), within=pyo.NonNegativeReals)
    m.cvar_excess_def = pyo.Constraint(list(d.SCENARIOS), rule=lambda _, s: (
        m.cvar_excess[s] >= m.scenario_cost[s] - m.value_at_risk))
    m.cvar = pyo.Expression(expr=m.value_at_risk + sum(d.probability[s] * m.cvar_excess[s] for s in d.SCENARIOS)
                            / (1.0 - d.cvar_alpha))


def risk_measures(costs: dict[str, float], probability: dict[str, float], alpha: float) -> dict[str, float]:
    """Expected cost, value at risk (the smallest cost ``z`` with ``P(cost ≤ z) ≥ α``) and CVaR at ``α``
    (``VaR + E[(cost − VaR)+] / (1 − α)``) of a discrete distribution of scenario costs."""
    expected = sum(probability[s] * c for s, c in costs.items())
    mass, value_at_risk = 0.0, None
    for s, c in sorted(costs.items(), key=lambda item: item[1]):
        mass += probability[s]
        if mass >= alpha - 1e-12:
            value_at_risk = c
            break
    if value_at_risk is None:
        value_at_risk = max(costs.values())
    excess = sum(probability[s] * max(c - value_at_risk, 0.0) for s, c in costs.items())
    return {"expected_cost": expected, "var": value_at_risk, "cvar": value_at_risk + excess / (1.0 - alpha)}
