"""The frozen model data: sorted index tuples (UPPER_CASE) and read-only dict parameters in model units."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

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
    """Everything the model reads; each block of fields is filled by the module of ``procure.inputs.data`` named
    in its comment."""

    name: str                                # the instance's (build_data)

    # tree.py
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

    # power.py
    SITES: tuple[str, ...]
    pue: Mapping[str, float]
    electricity_musd_per_mwh: Mapping[str, float]
    fixed_opex_musd_per_mw_quarter: Mapping[str, float]
    power_online_mw: Mapping[tuple[str, int], float]
    EXPANDABLE: tuple[str, ...]
    block_mw: Mapping[str, float]
    max_blocks: Mapping[str, int]
    lead_quarters: Mapping[str, int]
    block_capex_musd: Mapping[str, float]
    block_start_quarters: Mapping[str, tuple[int, ...]]
    committed_blocks: Mapping[tuple[str, int], int]
    block_residual_fraction: Mapping[tuple[str, int], float]

    # fleet.py
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

    # leases.py
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

    # sources.py
    SOURCES: tuple[Source, ...]

    # policy.py
    capex_budget_musd: Mapping[int, float]     # year -> $M, only budgeted years
    max_vendor_share: Mapping[str, float]
    max_provider_share: Mapping[str, float]
    min_owned_share: float
    cvar_alpha: float
    cvar_weight: float
    shortfall_musd_per_h100e_quarter: Mapping[str, float]

    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def T(self) -> int:
        return len(self.QUARTERS)

    def history(self, node: Node) -> tuple[Node, ...]:
        """Nodes on the path from quarter 0 to ``node`` (inclusive), indexed by quarter."""
        return self.histories[node]

    def unit_mw(self, accelerator: str, site: str, units: float = 1.0) -> float:
        """MW at the meter that ``units`` powered units of ``accelerator`` draw at ``site``: units × kW × PUE
        / 1000 (in that order: the model's coefficients are exactly the products they always were)."""
        return units * self.power_kw[accelerator] * self.pue[site] / 1000.0

    def leaf_scenarios(self, node: Node) -> tuple[str, ...]:
        return tuple(s for s in self.SCENARIOS if self.node_of[s, node[1]] == node)


def freeze(mapping: dict) -> Mapping:
    """A read-only copy with the keys sorted, so that equal data gives equal (and equally ordered) mappings."""
    return MappingProxyType(dict(sorted(mapping.items())))
