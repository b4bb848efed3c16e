"""Budget, vendor, provider and owned shares, and the shortfall penalty: what ``model/policy.py`` builds on
(and ``model/costs.py`` prices)."""

from __future__ import annotations

from procure.inputs.data.horizon import Horizon
from procure.inputs.data.model_data import freeze
from procure.inputs.quarters import quarter_year
from procure.inputs.schema import Instance


def policy_data(inst: Instance, horizon: Horizon) -> dict[str, object]:
    """Fields ``capex_budget_musd`` (year -> $M, only budgeted years; one number budgets every year of the
    horizon), ``max_vendor_share`` and ``max_provider_share`` (fractions), ``min_owned_share`` (fraction),
    ``cvar_alpha`` and ``cvar_weight`` (``policy.risk``), ``shortfall_musd_per_h100e_quarter`` (workload -> $M per H100e-quarter unserved).

    Read by ``model/policy.py``; the shortfall penalty by ``model/costs.py``."""
    policy = inst.policy
    budget = policy.capex_budget_musd_per_year
    if budget is None:
        capex_budget = {}
    elif isinstance(budget, dict):
        capex_budget = {int(y): float(v) for y, v in budget.items()}
    else:
        capex_budget = {y: float(budget) for y in sorted({quarter_year(q) for q in horizon.quarters})}
    penalty = policy.shortfall_penalty_usd_per_h100e_quarter
    return dict(
        capex_budget_musd=freeze(capex_budget),
        max_vendor_share=freeze(dict(policy.max_vendor_share)),
        max_provider_share=freeze(dict(policy.max_provider_share)),
        min_owned_share=policy.min_owned_share,
        cvar_alpha=policy.risk.cvar_alpha,
        cvar_weight=policy.risk.weight,
        shortfall_musd_per_h100e_quarter=freeze({w: (penalty[w] if isinstance(penalty, dict) else penalty) / 1e6
                                                 for w in horizon.workloads}),
    )
