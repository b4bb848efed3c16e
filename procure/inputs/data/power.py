"""Sites and power blocks: what ``model/power.py`` builds on (and ``model/costs.py`` prices)."""

from __future__ import annotations

from procure.inputs.data.horizon import Horizon
from procure.inputs.data.model_data import freeze
from procure.inputs.schema import Instance


def power_data(inst: Instance, horizon: Horizon) -> dict[str, object]:
    """Fields of every site: ``SITES``, ``pue``, ``electricity_musd_per_mwh`` ($M/MWh),
    ``fixed_opex_musd_per_mw_quarter`` ($M per MW-quarter), ``power_online_mw`` (site, quarter) -> MW online before any new block (the schema's field).
    Fields of the ``EXPANDABLE`` sites: ``block_mw`` (MW), ``max_blocks``, ``lead_quarters`` (quarters from start to
    power), ``block_capex_musd`` ($M a block), ``block_start_quarters`` (model quarters a block may start),
    ``committed_blocks`` (site, quarter) -> blocks started already, ``block_residual_fraction`` (site, start
    quarter) -> share of a block's capex still worth something at the horizon's end.

    Read by ``model/power.py`` (blocks and MW online), ``model/fleet.py`` (``pue``) and ``model/costs.py``."""
    T = horizon.T
    expanding = [s for s in inst.sites if s.expansion is not None]
    block_start_quarters, committed, block_residual = {}, {}, {}
    for s in expanding:
        exp = s.expansion
        earliest = max(horizon.index(exp.earliest_start), 0) if exp.earliest_start else 0
        # a start whose power would arrive after the horizon buys nothing inside it
        block_start_quarters[s.id] = tuple(t for t in range(earliest, T) if t + exp.lead_quarters <= T - 1)
        for q, blocks in exp.committed_starts.items():
            committed[s.id, horizon.index(q)] = blocks
        for t in range(T):
            used = max(T - (t + exp.lead_quarters), 0)  # quarters online inside the horizon
            block_residual[s.id, t] = max(0.0, 1.0 - used / s.facility_life_quarters)
    return dict(
        SITES=tuple(s.id for s in inst.sites), pue=freeze({s.id: s.pue for s in inst.sites}),
        electricity_musd_per_mwh=freeze({s.id: s.electricity_usd_per_mwh / 1e6 for s in inst.sites}),
        fixed_opex_musd_per_mw_quarter=freeze({s.id: s.fixed_opex_musd_per_mw_year / 4 for s in inst.sites}),
        power_online_mw=freeze({(s.id, t): horizon.step_at(s.power_online_mw, t) for s in inst.sites for t in range(T)}),
        EXPANDABLE=tuple(s.id for s in expanding),
        block_mw=freeze({s.id: s.expansion.block_mw for s in expanding}),
        max_blocks=freeze({s.id: s.expansion.max_blocks for s in expanding}),
        lead_quarters=freeze({s.id: s.expansion.lead_quarters for s in expanding}),
        block_capex_musd=freeze({s.id: s.expansion.block_mw * s.expansion.capex_musd_per_mw for s in expanding}),
        block_start_quarters=freeze(block_start_quarters), committed_blocks=freeze(committed),
        block_residual_fraction=freeze(block_residual),
    )
