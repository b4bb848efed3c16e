"""The procurement MILP: ``build_model(data)`` is a flat list of ``add_<family>`` calls.

Every family's docstring states the math it builds. Notation: ``n = (r, t)`` is a scenario-tree node
(quarter ``t``), ``h(n, τ)`` its ancestor at quarter ``τ ≤ t``; ``p_n`` its probability, ``δ_t`` the
discount factor. Decisions are indexed by nodes, so non-anticipativity holds by construction (see
:mod:`procure.inputs.data`).
"""

from __future__ import annotations

from types import SimpleNamespace

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.costs import add_costs, add_objective
from procure.model.fleet import add_delivery, add_fleet, add_idle_at_end, add_power_capacity, add_supply
from procure.model.leases import add_lease_signing_max, add_leases, add_provider_capacity
from procure.model.policy import add_budget, add_owned_share, add_provider_share, add_vendor_share
from procure.model.parameters import add_parameters
from procure.model.power import add_block_groups, add_power_pipeline
from procure.model.risk import add_risk
from procure.model.serving import add_serving

__all__ = ["build_model", "ELASTIC_FAMILIES"]

ELASTIC_FAMILIES = ("budget", "provider_capacity", "vendor_share", "provider_share", "owned_share")


def build_model(data: ModelData, elastic: bool = False, relax_integers: bool = False,
                block_groups: bool = True) -> pyo.ConcreteModel:
    """Build the extensive-form MILP.

    ``elastic`` adds a penalised slack to every row of :data:`ELASTIC_FAMILIES` (used to explain an
    infeasible instance); ``relax_integers`` builds the LP relaxation; ``block_groups`` adds the columns of
    :func:`~procure.model.power.add_block_groups` (implied integers whose relaxation gives the staged solve its
    bound; ``False`` leaves them out, e.g. to measure what they change).
    """
    m = pyo.ConcreteModel(name=data.name)
    m.domains = SimpleNamespace(  # plain attribute: global sets cannot be model components
        elastic=elastic,
        violated=[],
        integer=pyo.NonNegativeReals if relax_integers else pyo.NonNegativeIntegers,
        binary=pyo.UnitInterval if relax_integers else pyo.Binary)
    m.NODES = pyo.Set(initialize=data.NODES, dimen=2, ordered=True)
    m.WORKLOADS = pyo.Set(initialize=data.WORKLOADS, ordered=True)

    add_parameters(m, data)
    add_power_pipeline(m, data)
    if block_groups:
        add_block_groups(m, data)
    add_fleet(m, data)
    add_delivery(m, data)
    add_idle_at_end(m, data)
    add_supply(m, data)
    add_power_capacity(m, data)
    add_leases(m, data)
    add_lease_signing_max(m, data)
    add_provider_capacity(m, data)
    add_serving(m, data)
    add_costs(m, data)
    add_budget(m, data)
    add_vendor_share(m, data)
    add_provider_share(m, data)
    add_owned_share(m, data)
    add_risk(m, data)
    add_objective(m, data)
    return m
