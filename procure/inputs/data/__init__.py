"""Schema -> frozen model data: sorted index tuples and dict parameters in model units.

This is the only place that interprets the schema. Quarters become integers ``0..T-1``; money becomes $M;
the scenario tree becomes *nodes*. A node ``(r, t)`` stands for every scenario that shares its history up to
quarter ``t``; ``r`` is the representative scenario (the one nearest the root whose own branch has happened
by ``t``). Every decision and every state at quarter ``t`` of scenario ``s`` lives on node ``node_of[s, t]``,
which is how non-anticipativity is built in: scenarios that share history share the variable itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from procure.inputs.quarters import HOURS_PER_QUARTER, quarter_name, quarter_ordinal, quarter_year
from procure.inputs.schema import Accelerator, DemandSpec, Instance, PricePath, Scenario, Steps
from procure.inputs.validation import LoadedInstance

Node = tuple[str, int]

OWN = "own"


@dataclass(frozen=True)
class Source:
    """Something that supplies accelerator-units each quarter and is allocated to workloads."""

    id: str          # "own:H100", "lease:cw-rubin", "contract:cw-1", "rental:aws-h100"
    kind: str        # own | lease | contract | rental
    item: str        # accelerator id (own), offer / contract / rental id otherwise
    accelerator: str
    provider: str    # "own" for owned fleet


@dataclass(frozen=True)
class ModelData:
    name: str
    QUARTERS: tuple[str, ...]
    WORKLOADS: tuple[str, ...]
    SCENARIOS: tuple[str, ...]
    probability: Mapping[str, float]
    NODES: tuple[Node, ...]
    node_of: Mapping[tuple[str, int], Node]
    node_probability: Mapping[Node, float]
    parent_node: Mapping[Node, Node | None]
    histories: Mapping[Node, tuple[Node, ...]]  # path from quarter 0 to the node; built once, read often
    discount: tuple[float, ...]              # factor for costs in quarter t
    discount_end: float                      # factor at the end of the horizon (residual values)
    year_of: tuple[int, ...]
    demand: Mapping[tuple[str, Node], float]  # (workload, node) -> H100e

    SITES: tuple[str, ...]
    pue: Mapping[str, float]
    electricity_musd_per_mwh: Mapping[str, float]
    fixed_opex_musd_per_mw_quarter: Mapping[str, float]
    existing_mw: Mapping[tuple[str, int], float]
    EXPANDABLE: tuple[str, ...]
    block_mw: Mapping[str, float]
    max_blocks: Mapping[str, int]
    lead: Mapping[str, int]
    block_capex_musd: Mapping[str, float]
    block_start_quarters: Mapping[str, tuple[int, ...]]
    committed_blocks: Mapping[tuple[str, int], int]
    block_residual_fraction: Mapping[tuple[str, int], float]

    ACCELERATORS: tuple[str, ...]            # every accelerator any source uses
    vendor: Mapping[str, str]
    generation: Mapping[str, str]
    throughput: Mapping[tuple[str, str], float]   # (accelerator, workload) -> H100e per unit; eligible only
    share_cap: Mapping[tuple[str, str], float]    # (accelerator, workload) -> max fraction, where < 1
    power_kw: Mapping[str, float]
    lifetime: Mapping[str, int]

    BUYABLE: tuple[str, ...]
    BUY: tuple[tuple[str, str, int], ...]        # (accelerator, site, quarter) purchasable
    buy_lot: Mapping[str, int]
    price_musd_per_unit: Mapping[tuple[str, int], float]
    supply_cap: Mapping[tuple[str, int], float]  # only where capped
    buy_residual_fraction: Mapping[tuple[str, int], float]
    existing_units: Mapping[tuple[str, str, int], float]  # (accelerator, site, t) installed before horizon
    FLEET: tuple[tuple[str, str], ...]           # (accelerator, site) pairs that can hold units

    OFFERS: tuple[str, ...]
    COMMIT: tuple[tuple[str, int, int], ...]     # (offer, start quarter, term quarters)
    offer_provider: Mapping[str, str]
    offer_accelerator: Mapping[str, str]
    offer_lot: Mapping[str, int]
    offer_min_units: Mapping[str, float]
    offer_max_units: Mapping[str, float]
    take_or_pay: Mapping[str, bool]
    lease_musd_per_unit_quarter: Mapping[tuple[str, int], float]  # (offer, term)

    CONTRACTS: tuple[str, ...]
    contract_provider: Mapping[str, str]
    contract_units: Mapping[tuple[str, int], float]
    contract_musd_per_unit_quarter: Mapping[str, float]
    contract_take_or_pay: Mapping[str, bool]

    RENTALS: tuple[str, ...]
    rental_cap: Mapping[tuple[str, int], float]
    rental_musd_per_unit_quarter: Mapping[str, float]

    PROVIDERS: tuple[str, ...]
    provider_cap: Mapping[tuple[str, int], float]  # only where capped

    SOURCES: tuple[Source, ...]

    capex_budget_musd: Mapping[int, float]     # year -> $M, only budgeted years
    max_vendor_share: Mapping[str, float]
    max_provider_share: Mapping[str, float]
    min_owned_share: float
    shortfall_musd_per_h100e_quarter: Mapping[str, float]

    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def T(self) -> int:
        return len(self.QUARTERS)

    def history(self, node: Node) -> tuple[Node, ...]:
        """Nodes on the path from quarter 0 to ``node`` (inclusive), indexed by quarter."""
        return self.histories[node]

    def leaf_scenarios(self, node: Node) -> tuple[str, ...]:
        return tuple(s for s in self.SCENARIOS if self.node_of[s, node[1]] == node)


def _freeze(mapping: dict) -> Mapping:
    return MappingProxyType(dict(sorted(mapping.items())))


def step_value(steps: Steps | None, ordinal: int, default: float = 0.0) -> float:
    """Value of a Steps field at an absolute quarter ordinal (``None`` -> ``default``)."""
    if steps is None:
        return default
    if isinstance(steps, (int, float)):
        return float(steps)
    value = 0.0
    for quarter, v in sorted(steps.items(), key=lambda kv: quarter_ordinal(kv[0])):
        if quarter_ordinal(quarter) <= ordinal:
            value = float(v)
    return value


def price_kusd(path: PricePath, first_quarter: str, ordinal: int) -> float:
    if path.by_quarter:
        keys = sorted(path.by_quarter, key=quarter_ordinal)
        value = path.by_quarter[keys[0]]
        for q in keys:
            if quarter_ordinal(q) <= ordinal:
                value = path.by_quarter[q]
        return float(value)
    years = (ordinal - quarter_ordinal(first_quarter)) / 4.0
    return path.initial_kusd * (1.0 - path.annual_decline) ** max(years, 0.0)


def _demand_series(spec: DemandSpec, first: int, T: int) -> list[float]:
    if spec.series is not None:
        if isinstance(spec.series, list):
            return [float(v) for v in spec.series]
        return [step_value(spec.series, first + t) for t in range(T)]
    return [spec.base * (1.0 + spec.growth) ** (t / 4.0) for t in range(T)]


def _scenario_tree(scenarios: list[Scenario], first: int, T: int):
    by_id = {s.id: s for s in scenarios}
    branch = {s.id: (quarter_ordinal(s.branch_quarter) - first if s.branch_quarter else 0) for s in scenarios}

    def node(s: str, t: int) -> Node:
        while by_id[s].parent is not None and t < branch[s]:
            s = by_id[s].parent
        return (s, t)

    ids = tuple(s.id for s in scenarios)
    node_of = {(s, t): node(s, t) for s in ids for t in range(T)}
    nodes = tuple(sorted(set(node_of.values()), key=lambda n: (n[1], ids.index(n[0]))))
    node_probability = {n: 0.0 for n in nodes}
    for (s, t), n in node_of.items():
        node_probability[n] += by_id[s].probability
    parent_node = {n: (node_of[n[0], n[1] - 1] if n[1] > 0 else None) for n in nodes}
    return ids, node_of, nodes, node_probability, parent_node


def _scenario_demand(scenarios: list[Scenario], workloads: tuple[str, ...], first: int, T: int):
    """Demand per scenario; a child inherits its parent's demand before its branch quarter and for any
    workload it does not specify."""
    by_id = {s.id: s for s in scenarios}
    cache: dict[str, dict[str, list[float]]] = {}

    def series(sid: str) -> dict[str, list[float]]:
        if sid in cache:
            return cache[sid]
        s = by_id[sid]
        own = {w: _demand_series(spec, first, T) for w, spec in s.demand.items() if w in workloads}
        if s.parent is not None:
            inherited = series(s.parent)
            branch = quarter_ordinal(s.branch_quarter) - first
            own = {w: [inherited[w][t] if t < branch or w not in own else own[w][t] for t in range(T)]
                   for w in workloads}
        cache[sid] = own
        return own

    return {s.id: series(s.id) for s in scenarios}


def build_data(loaded: LoadedInstance) -> ModelData:
    """Turn a checked instance into model data."""
    inst: Instance = loaded.instance
    catalog = loaded.accelerators
    first = quarter_ordinal(inst.horizon.first_quarter)
    last = quarter_ordinal(inst.horizon.last_quarter)
    T = last - first + 1
    quarters = tuple(quarter_name(first + t) for t in range(T))
    workloads = tuple(w.id for w in inst.workloads)
    rate = inst.horizon.discount_rate
    discount = tuple((1.0 + rate) ** (-t / 4.0) for t in range(T))

    ids, node_of, nodes, node_probability, parent_node = _scenario_tree(inst.scenarios, first, T)
    scenario_demand = _scenario_demand(inst.scenarios, workloads, first, T)
    demand = {(w, n): scenario_demand[n[0]][w][n[1]] for n in nodes for w in workloads}

    # ---- sites and power
    sites = tuple(s.id for s in inst.sites)
    existing_mw = {(s.id, t): step_value(s.power_online_mw, first + t) for s in inst.sites for t in range(T)}
    expandable = tuple(s.id for s in inst.sites if s.expansion is not None)
    block_start_quarters, committed, block_residual = {}, {}, {}
    for s in inst.sites:
        exp = s.expansion
        if exp is None:
            continue
        earliest = max(quarter_ordinal(exp.earliest_start) - first, 0) if exp.earliest_start else 0
        # a start whose power would arrive after the horizon buys nothing inside it
        block_start_quarters[s.id] = tuple(t for t in range(earliest, T) if t + exp.lead_quarters <= T - 1)
        for q, blocks in exp.committed_starts.items():
            committed[s.id, quarter_ordinal(q) - first] = blocks
        for t in range(T):
            online = t + exp.lead_quarters
            used = max(T - online, 0)
            block_residual[s.id, t] = max(0.0, 1.0 - used / s.facility_life_quarters)

    # ---- accelerators used by any source
    used = ({p.accelerator for p in inst.purchases} | {f.accelerator for f in inst.existing_fleet}
            | {o.accelerator for o in inst.lease_offers} | {c.accelerator for c in inst.existing_contracts}
            | {r.accelerator for r in inst.rentals})
    accels = tuple(sorted(used))
    acc: dict[str, Accelerator] = {a: catalog[a] for a in accels}
    throughput = {(a, w): acc[a].throughput_h100e[w] for a in accels for w in workloads
                  if acc[a].throughput_h100e.get(w, 0) > 0}
    share_cap = {(a, w): acc[a].max_workload_share[w] for (a, w) in throughput
                 if acc[a].max_workload_share.get(w, 1.0) < 1.0}

    # ---- purchases
    site_index = {s: k for k, s in enumerate(sites)}
    buy, price, supply, buy_residual, buy_lot = [], {}, {}, {}, {}
    for p in inst.purchases:
        a = acc[p.accelerator]
        if a.price is None:
            continue
        lo = max(quarter_ordinal(p.first_quarter or a.first_quarter) - first, 0)
        last_q = p.last_quarter or a.last_quarter
        hi = min(quarter_ordinal(last_q) - first, T - 1) if last_q else T - 1
        buy_lot[a.id] = a.lot_size
        hosts = sorted(p.sites or sites, key=site_index.__getitem__)
        for t in range(lo, hi + 1):
            price[a.id, t] = price_kusd(a.price, a.first_quarter, first + t) * p.price_scale / 1000.0
            cap_steps = p.supply_cap_units if p.supply_cap_units is not None else a.supply_cap_units
            if cap_steps is not None:
                supply[a.id, t] = step_value(cap_steps, first + t)
            buy_residual[a.id, t] = max(0.0, 1.0 - (T - t) / a.lifetime_quarters)
            buy.extend((a.id, s, t) for s in hosts)
    buyable = tuple(sorted(buy_lot))

    existing_units: dict[tuple[str, str, int], float] = {}
    for f in inst.existing_fleet:
        start = quarter_ordinal(f.installed) - first
        for t in range(max(start, 0), min(start + acc[f.accelerator].lifetime_quarters, T)):
            key = (f.accelerator, f.site, t)
            existing_units[key] = existing_units.get(key, 0.0) + f.units
    fleet = tuple(sorted({(a, s) for a, s, _ in buy} | {(a, s) for a, s, _ in existing_units},
                         key=lambda p: (p[0], site_index[p[1]])))

    # ---- leases, contracts, rentals, providers
    to_musd_quarter = HOURS_PER_QUARTER / 1e6
    commits, lease_price = [], {}
    for o in inst.lease_offers:
        lo = quarter_ordinal(o.first_start) - first
        hi = quarter_ordinal(o.last_start) - first
        for term in o.terms:
            lease_price[o.id, term.quarters] = term.price_usd_per_unit_hour * to_musd_quarter
            commits.extend((o.id, t, term.quarters) for t in range(max(lo, 0), min(hi, T - 1) + 1))
    contract_units = {}
    for c in inst.existing_contracts:
        for t in range(T):
            if quarter_ordinal(c.start) <= first + t <= quarter_ordinal(c.end):
                contract_units[c.id, t] = c.units
    rental_cap = {(r.id, t): step_value(r.available_units, first + t) for r in inst.rentals for t in range(T)}
    provider_cap = {(p.id, t): step_value(p.capacity_units, first + t)
                    for p in inst.providers if p.capacity_units is not None for t in range(T)}

    sources = [Source(f"own:{a}", "own", a, a, OWN) for a in accels if any(f[0] == a for f in fleet)]
    sources += [Source(f"lease:{o.id}", "lease", o.id, o.accelerator, o.provider) for o in inst.lease_offers]
    sources += [Source(f"contract:{c.id}", "contract", c.id, c.accelerator, c.provider)
                for c in inst.existing_contracts]
    sources += [Source(f"rental:{r.id}", "rental", r.id, r.accelerator, r.provider) for r in inst.rentals]

    # ---- policy
    policy = inst.policy
    years = sorted({quarter_year(q) for q in quarters})
    budget = policy.capex_budget_musd_per_year
    if budget is None:
        capex_budget = {}
    elif isinstance(budget, dict):
        capex_budget = {int(y): float(v) for y, v in budget.items()}
    else:
        capex_budget = {y: float(budget) for y in years}
    penalty = policy.shortfall_penalty_usd_per_h100e_quarter
    shortfall_cost = {w: (penalty[w] if isinstance(penalty, dict) else penalty) / 1e6 for w in workloads}

    return ModelData(
        name=inst.name, QUARTERS=quarters, WORKLOADS=workloads, SCENARIOS=ids,
        probability=_freeze({s.id: s.probability for s in inst.scenarios}),
        NODES=nodes, node_of=_freeze(node_of), node_probability=_freeze(node_probability),
        parent_node=_freeze(parent_node),
        histories=_freeze({n: tuple(node_of[n[0], tau] for tau in range(n[1] + 1)) for n in nodes}),
        discount=discount, discount_end=(1.0 + rate) ** (-T / 4.0),
        year_of=tuple(quarter_year(q) for q in quarters), demand=_freeze(demand),
        SITES=sites, pue=_freeze({s.id: s.pue for s in inst.sites}),
        electricity_musd_per_mwh=_freeze({s.id: s.electricity_usd_per_mwh / 1e6 for s in inst.sites}),
        fixed_opex_musd_per_mw_quarter=_freeze({s.id: s.fixed_opex_musd_per_mw_year / 4 for s in inst.sites}),
        existing_mw=_freeze(existing_mw), EXPANDABLE=expandable,
        block_mw=_freeze({s.id: s.expansion.block_mw for s in inst.sites if s.expansion}),
        max_blocks=_freeze({s.id: s.expansion.max_blocks for s in inst.sites if s.expansion}),
        lead=_freeze({s.id: s.expansion.lead_quarters for s in inst.sites if s.expansion}),
        block_capex_musd=_freeze({s.id: s.expansion.block_mw * s.expansion.capex_musd_per_mw
                                  for s in inst.sites if s.expansion}),
        block_start_quarters=_freeze(block_start_quarters), committed_blocks=_freeze(committed),
        block_residual_fraction=_freeze(block_residual),
        ACCELERATORS=accels, vendor=_freeze({a: acc[a].vendor for a in accels}),
        generation=_freeze({a: acc[a].generation for a in accels}),
        throughput=_freeze(throughput), share_cap=_freeze(share_cap),
        power_kw=_freeze({a: acc[a].power_kw for a in accels}),
        lifetime=_freeze({a: acc[a].lifetime_quarters for a in accels}),
        BUYABLE=buyable, BUY=tuple(buy), buy_lot=_freeze(buy_lot), price_musd_per_unit=_freeze(price),
        supply_cap=_freeze(supply), buy_residual_fraction=_freeze(buy_residual),
        existing_units=_freeze(existing_units), FLEET=fleet,
        OFFERS=tuple(o.id for o in inst.lease_offers), COMMIT=tuple(commits),
        offer_provider=_freeze({o.id: o.provider for o in inst.lease_offers}),
        offer_accelerator=_freeze({o.id: o.accelerator for o in inst.lease_offers}),
        offer_lot=_freeze({o.id: o.lot_size for o in inst.lease_offers}),
        offer_min_units=_freeze({o.id: o.min_units for o in inst.lease_offers}),
        offer_max_units=_freeze({o.id: o.max_units for o in inst.lease_offers}),
        take_or_pay=_freeze({o.id: o.take_or_pay for o in inst.lease_offers}),
        lease_musd_per_unit_quarter=_freeze(lease_price),
        CONTRACTS=tuple(c.id for c in inst.existing_contracts), contract_units=_freeze(contract_units),
        contract_provider=_freeze({c.id: c.provider for c in inst.existing_contracts}),
        contract_musd_per_unit_quarter=_freeze({c.id: c.price_usd_per_unit_hour * to_musd_quarter
                                                for c in inst.existing_contracts}),
        contract_take_or_pay=_freeze({c.id: c.take_or_pay for c in inst.existing_contracts}),
        RENTALS=tuple(r.id for r in inst.rentals), rental_cap=_freeze(rental_cap),
        rental_musd_per_unit_quarter=_freeze({r.id: r.price_usd_per_unit_hour * to_musd_quarter
                                              for r in inst.rentals}),
        PROVIDERS=tuple(p.id for p in inst.providers), provider_cap=_freeze(provider_cap),
        SOURCES=tuple(sources), capex_budget_musd=_freeze(capex_budget),
        max_vendor_share=_freeze(dict(policy.max_vendor_share)),
        max_provider_share=_freeze(dict(policy.max_provider_share)),
        min_owned_share=policy.min_owned_share,
        shortfall_musd_per_h100e_quarter=_freeze(shortfall_cost),
        meta=MappingProxyType({"first_ordinal": first, "discount_rate": rate}),
    )
