"""Power pipeline: integer blocks started per site, online after the lead time."""

from __future__ import annotations

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.running import add_running_total, total_at


def add_power_pipeline(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Blocks started and power online.

    Integer variables ``blocks_to_date[i, n] ∈ ℤ≥0`` (see :mod:`procure.model.running`): blocks started at
    site ``i`` up to node ``n``; the blocks started at ``n`` are ``build[i, n] ≥ 0`` (only in quarters
    ``earliest_start ≤ t ≤ T−1−lead_quarters_i``), linked by rows ``blocks_to_date_def[i, n]``::

        blocks_to_date[i, n] = blocks_to_date[i, parent(n)] + build[i, n]      (build = 0 outside the window)

    so every ``build`` is integral too. Branching on the running total rather than on each quarter's
    increment is what lets the solver settle *how many* blocks before *when*. Every ``blocks_to_date[i, n]``
    has the upper bound ``max(max_blocks_i − Σ_t committed_{i,t}, 0)``, and rows ``max_blocks[i, s]`` per
    site and leaf scenario ``s`` (its last node) state the same limit as a row, so that the explanation can
    name it as a binding limit (a bound has no row of its own)::

        blocks_to_date[i, node(s, T−1)] ≤ max_blocks_i − Σ_t committed_{i,t}

    Expression ``total_power_mw[i, n]`` (MW at the meter)::

        total_power_mw[i, n] = power_online_mw_{i,t} + block_mw_i · (blocks_to_date[i, h(n, t − lead_quarters_i)] + Σ_{τ ≤ t − lead_quarters_i} committed_{i,τ})
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
        mw = d.power_online_mw[i, t]
        if i not in d.lead_quarters or t < d.lead_quarters[i]:
            return mw
        arrived = t - d.lead_quarters[i]
        committed = sum(d.committed_blocks.get((i, tau), 0) for tau in range(arrived + 1))
        started = blocks_to_date(i, d.history((r, t))[arrived]) if i in starts else 0
        return mw + d.block_mw[i] * (started + committed)

    m.total_power_mw = pyo.Expression(d.SITES, m.NODES, rule=online)


def add_block_groups(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Blocks online per block size, summed over sites.

    Sites whose blocks have the same size ``g`` (MW) form a group ``I_g``. Columns
    ``group_blocks_online[g, n] ≥ 0`` (continuous as built), rows ``group_blocks_online_def[g, n]``::

        group_blocks_online[g, n] = Σ_{i ∈ I_g, t − lead_quarters_i ≥ first_i} blocks_to_date[i, h(n, t − lead_quarters_i)]

    the blocks started (beyond the committed ones) that are online at ``n``. One column per distinct sum:
    a node whose sum is the same running totals as an earlier node's (a quarter where no site's total
    arrives, or before the scenarios part) has no column of its own.

    Built by default (``build_model(..., block_groups=False)`` leaves them out): a sum of integer totals is
    integral, so these columns are implied integers, continuous, and change no optimum (they do move
    HiGHS's search path: the staged meta.json plan at gap 2e-3 went 150,682.31 → 150,684.82 $M with them
    alone). They state the relaxation that makes them integer and the running totals continuous, the bound
    stage of :mod:`procure.solving.staged` (``python -m benchmarks.relaxations meta --keep groups``): how many blocks
    of each size are online at each node stays whole, and the LP may share them between sites. On meta.json
    that relaxation keeps nearly all of the blocks' integrality gap and closes far sooner than the blocks
    themselves (benchmarks/README.md).
    """
    starts = {i: d.block_start_quarters[i] for i in d.EXPANDABLE if d.block_start_quarters[i]}
    sizes = sorted({d.block_mw[i] for i in starts})
    rows, seen = {}, set()
    for g in sizes:
        for n in d.NODES:
            totals = []
            for i in starts:
                arrived = n[1] - d.lead_quarters[i]
                if d.block_mw[i] == g and arrived >= starts[i][0]:
                    totals.append(total_at(m.blocks_to_date, d, i, (starts[i][0], starts[i][-1]),
                                           d.history(n)[arrived]))
            key = (g, frozenset(id(v) for v in totals))
            if totals and key not in seen:
                seen.add(key)
                rows[g, *n] = totals
    m.group_blocks_online = pyo.Var(list(rows), within=pyo.NonNegativeReals)
    m.group_blocks_online_def = pyo.Constraint(
        list(rows), rule=lambda _, g, r, t: m.group_blocks_online[g, r, t] == sum(rows[g, r, t]))
