"""Lease commitments (take-or-pay or pay-per-use), existing contracts and provider capacity."""

from __future__ import annotations

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.elastic import constant_row, slack
from procure.model.running import add_running_total, last_quarters, lots_within, quarter_windows


def add_leases(m: pyo.ConcreteModel, d: ModelData) -> None:
    """New lease commitments.

    Integer variables ``lease_lots_to_date[o, L, n] ∈ ℤ≥0``: lots of offer ``o`` signed for term ``L`` at
    starts up to node ``n``; ``commit[o, k, L, n] ∈ [0, ⌊max_units_o / lot_o⌋]`` is the lots signed to start
    at quarter ``k`` (the node ``n`` of quarter ``k``), linked by rows ``lease_lots_to_date_def``::

        lease_lots_to_date[o, L, n] = lease_lots_to_date[o, L, parent(n)] + commit[o, t, L, n]   (0 outside the window)

    Where an offer has a minimum above one lot, a binary ``signed[o, k, L, n]`` makes each signing
    semi-continuous (rows ``lease_min`` and ``lease_max``)::

        min_units_o · signed ≤ lot_o · commit ≤ max_units_o · signed

    Expression ``leased_units[o, n]``: units of ``o`` under contract at node ``n`` (the sum telescopes)::

        leased_units[o, n] = lot_o · Σ_L Σ_{k ≤ t < k+L} commit[o, k, L, h(n, k)]
                           = lot_o · Σ_L (lease_lots_to_date[o, L, n] − lease_lots_to_date[o, L, h(n, t − L)])
    """
    index = [(o, k, L, n) for (o, k, L) in d.COMMIT for n in d.NODES if n[1] == k]
    m.commit = pyo.Var(index, within=pyo.NonNegativeReals,
                       bounds=lambda _, o, k, L, r, t: (0, lots_within(d.offer_max_units[o], d.offer_lot[o])))
    semi = [key for key in index if d.offer_min_units[key[0]] > d.offer_lot[key[0]]]
    m.signed = pyo.Var(semi, within=m.domains.binary)
    m.lease_min = pyo.Constraint(semi, rule=lambda _, o, k, L, r, t:
                                 d.offer_lot[o] * m.commit[o, k, L, r, t] >= d.offer_min_units[o] * m.signed[o, k, L, r, t])
    m.lease_max = pyo.Constraint(semi, rule=lambda _, o, k, L, r, t:
                                 d.offer_lot[o] * m.commit[o, k, L, r, t] <= d.offer_max_units[o] * m.signed[o, k, L, r, t])

    windows = quarter_windows(((o, L), k) for o, k, L in d.COMMIT)
    lease_lots_to_date = add_running_total(
        m, d, "lease_lots_to_date", windows,
        increment=lambda g, n: m.commit[g[0], n[1], g[1], *n] if (g[0], n[1], g[1], *n) in m.commit else 0)

    def leased(o: str, n: tuple):
        active = []
        for oo, L in sorted(windows):
            if oo != o or windows[o, L][0] > n[1]:
                continue
            active.append(last_quarters(lease_lots_to_date, d, (o, L), n, L))
        return d.offer_lot[o] * sum(active) if active else None

    expr = {(o, n): e for o in d.OFFERS for n in d.NODES if (e := leased(o, n)) is not None}
    m.LEASED = pyo.Set(initialize=sorted(expr, key=lambda k: (d.OFFERS.index(k[0]), k[1][1], k[1][0])),
                       dimen=3, ordered=True)
    m.leased_units = pyo.Expression(m.LEASED, rule=lambda _, o, r, t: expr[o, (r, t)])


def add_lease_signing_max(m: pyo.ConcreteModel, d: ModelData) -> None:
    """An offer's ``max_units`` bounds one signing whatever its terms. Rows ``lease_signing_max[o, k, n]``
    for each start ``k`` (node ``n`` of quarter ``k``) of an offer with two or more terms::

        lot_o · Σ_L commit[o, k, L, n] ≤ lot_o · ⌊max_units_o / lot_o⌋

    Each ``commit`` is bounded by the same maximum on its own (:func:`add_leases`); without this row a
    start could take the maximum once per term (meta.json's 2031Q4 signed two terms of one offer at once).
    """
    terms = {}
    for o, k, L, r, t in m.commit.index_set():
        terms.setdefault((o, r, t), []).append(m.commit[o, k, L, r, t])
    rows = [key for key, commits in terms.items() if len(commits) > 1]
    m.lease_signing_max = pyo.Constraint(rows, rule=lambda _, o, r, t: (
        d.offer_lot[o] * sum(terms[o, r, t]) <= d.offer_lot[o] * lots_within(d.offer_max_units[o], d.offer_lot[o])))


def add_provider_capacity(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Provider capacity. Rows ``provider_capacity[p, n]`` where provider ``p`` is capped::

        Σ_{o of p} leased_units[o, n] + Σ_{c of p} contract_units_{c,t} ≤ cap_{p,t} (+ slack when elastic)

    On-demand rentals have their own availability caps and do not count here. A row of existing contracts
    alone (no lease of ``p`` can run at ``n``) has no variable: it is not built but checked at build time,
    and a violated one is recorded in ``m.domains.violated`` (the instance is infeasible before any solve).
    """
    rows, lhs = [], {}
    for p in d.PROVIDERS:
        for n in d.NODES:
            if (p, n[1]) not in d.provider_cap:
                continue
            terms = [m.leased_units[o, n] for o in d.OFFERS if d.offer_provider[o] == p and (o, *n) in m.LEASED]
            fixed = sum(d.contract_units.get((c, n[1]), 0.0) for c in d.CONTRACTS if d.contract_provider[c] == p)
            if terms or fixed:
                rows.append((p, n))
                lhs[p, n] = (sum(terms), fixed)
    give = slack(m, "provider_capacity", rows)

    def rule(_, p, r, t):
        leased, fixed = lhs[p, (r, t)]
        body = leased + fixed - give[p, (r, t)]
        if isinstance(body, (int, float)):  # existing contracts alone: a constant row
            return constant_row(m, "provider_capacity", (p, r, t), body <= d.provider_cap[p, t] + 1e-9)
        return body <= d.provider_cap[p, t]

    m.provider_capacity = pyo.Constraint(rows, rule=rule)
