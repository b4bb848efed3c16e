"""Power pipeline: integer blocks started per site, online after the lead time."""

from __future__ import annotations

import pyomo.environ as pyo

from procure.data import ModelData


def add_power_pipeline(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Blocks started and power online.

    Variables ``build[i, n] ∈ ℤ≥0`` (blocks started at site ``i`` at node ``n``, only in quarters
    ``earliest_start ≤ t ≤ T-1-lead_i``). Rows ``max_blocks[i, s]`` for each site and leaf scenario ``s``::

        Σ_t build[i, node(s, t)] ≤ max_blocks_i − Σ_t committed_{i,t}

    Expression ``online_mw[i, n]`` (MW at the meter)::

        online_mw[i, n] = existing_mw_{i,t} + block_mw_i · Σ_{τ ≤ t − lead_i} (build[i, h(n, τ)] + committed_{i,τ})
    """
    index = [(i, n) for i in d.EXPANDABLE for n in d.NODES if n[1] in set(d.block_start_quarters[i])]
    m.build = pyo.Var(index, within=m.domains.integer,
                      bounds=lambda _, i, r, t: (0, d.max_blocks[i]))

    def started(i: str, scenario: str) -> list:
        return [m.build[i, d.node_of[scenario, t]] for t in d.block_start_quarters[i]]

    rows = [(i, s) for i in d.EXPANDABLE for s in d.SCENARIOS if d.block_start_quarters[i]]
    committed_total = {i: sum(b for (j, _), b in d.committed_blocks.items() if j == i) for i in d.EXPANDABLE}
    m.max_blocks = pyo.Constraint(
        rows, rule=lambda _, i, s: sum(started(i, s)) <= d.max_blocks[i] - committed_total[i])

    def online(_, i, r, t):
        mw = d.existing_mw[i, t]
        if i not in d.lead:
            return mw
        history = d.history((r, t))
        arrived = range(0, t - d.lead[i] + 1)
        blocks = sum(m.build[i, history[tau]] for tau in arrived if (i, *history[tau]) in m.build)
        blocks += sum(d.committed_blocks.get((i, tau), 0) for tau in arrived)
        return mw + d.block_mw[i] * blocks

    m.online_mw = pyo.Expression(d.SITES, m.NODES, rule=online)
