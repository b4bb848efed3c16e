"""Power pipeline: integer blocks started per site, online after the lead time."""

from __future__ import annotations

import pyomo.environ as pyo

from procure.data import ModelData
from procure.model.running import add_running_total


def add_power_pipeline(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Blocks started and power online.

    Integer variables ``blocks_to_date[i, n] ∈ ℤ≥0`` (see :mod:`procure.model.running`): blocks started at
    site ``i`` up to node ``n``; the blocks started at ``n`` are ``build[i, n] ≥ 0`` (only in quarters
    ``earliest_start ≤ t ≤ T−1−lead_i``), linked by rows ``blocks_to_date_def[i, n]``::

        blocks_to_date[i, n] = blocks_to_date[i, parent(n)] + build[i, n]      (build = 0 outside the window)

    so every ``build`` is integral too. Branching on the running total rather than on each quarter's
    increment is what lets the solver settle *how many* blocks before *when*. Every ``blocks_to_date[i, n]``
    has the upper bound ``max(max_blocks_i − Σ_t committed_{i,t}, 0)``, and rows ``max_blocks[i, s]`` per
    site and leaf scenario ``s`` (its last node) state the same limit as a row, so that the explanation can
    name it as a binding limit (a bound has no row of its own)::

        blocks_to_date[i, node(s, T−1)] ≤ max_blocks_i − Σ_t committed_{i,t}

    Expression ``online_mw[i, n]`` (MW at the meter)::

        online_mw[i, n] = existing_mw_{i,t} + block_mw_i · (blocks_to_date[i, h(n, t − lead_i)] + Σ_{τ ≤ t − lead_i} committed_{i,τ})
    """
    starts = {i: d.block_start_quarters[i] for i in d.EXPANDABLE if d.block_start_quarters[i]}
    committed_total = {i: sum(b for (j, _), b in d.committed_blocks.items() if j == i) for i in d.EXPANDABLE}
    index = [(i, n) for i in starts for n in d.NODES if n[1] in set(starts[i])]
    m.build = pyo.Var(index, within=pyo.NonNegativeReals)
    blocks_to_date = add_running_total(
        m, d, "blocks_to_date", {i: (q[0], q[-1]) for i, q in starts.items()},
        increment=lambda i, n: m.build[i, n] if (i, *n) in m.build else 0,
        upper=lambda i: max(d.max_blocks[i] - committed_total[i], 0))
    m.max_blocks = pyo.Constraint(
        [(i, s) for i in starts for s in d.SCENARIOS],
        rule=lambda _, i, s: blocks_to_date(i, d.node_of[s, d.T - 1]) <= d.max_blocks[i] - committed_total[i])

    def online(_, i, r, t):
        mw = d.existing_mw[i, t]
        if i not in d.lead or t < d.lead[i]:
            return mw
        arrived = t - d.lead[i]
        committed = sum(d.committed_blocks.get((i, tau), 0) for tau in range(arrived + 1))
        started = blocks_to_date(i, d.history((r, t))[arrived]) if i in starts else 0
        return mw + d.block_mw[i] * (started + committed)

    m.online_mw = pyo.Expression(d.SITES, m.NODES, rule=online)
