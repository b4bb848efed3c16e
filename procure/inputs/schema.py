"""The data contract: pydantic models of an instance and of the hardware catalogs it references.

Every field carries its unit in its description. Units used throughout:

* compute: H100-equivalents (H100e) per workload — one H100 SXM's sustained throughput on that workload;
* power: MW at the meter (PUE included) for sites, kW of IT load per accelerator unit;
* money: $M for totals and budgets, k$ per accelerator unit, $ per unit-hour for leases and rentals;
* time: calendar quarters written ``YYYYQn``.

Shape checks (types, ranges, required keys) live here; checks that need the whole instance (references
between objects, quarters inside the horizon, probabilities) live in :mod:`procure.inputs.validation`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from procure.inputs.quarters import QUARTER_PATTERN

Quarter = Annotated[str, Field(pattern=QUARTER_PATTERN, description="Calendar quarter, e.g. 2027Q3.")]
Identifier = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
          description="Identifier: letters, digits, '_', '-', '.'."),
]
LARGEST = 10**12
"""Largest magnitude of any number in an instance or catalog (and, checked in :mod:`procure.inputs.validation`, of
the model coefficients made of them: a block's capex, a lot's price, a demand after growth). No real figure
in these units comes near it (meta.json estimates Meta's 2026 fleet at ~2.4e6 H100e and budgets ~1e5 $M of
capex a year). Far above it the solver goes wrong without a word: HiGHS reads |x| ≥ 1e20 as infinite
(small.json with a price_scale of 1e300 "solved" to 494.1 $M, below its real optimum of 1,359.5), and
beside a coefficient of 1e16 every other cost is rounding error."""

NonNegative = Annotated[float, Field(ge=0, le=LARGEST)]
Count = Annotated[int, Field(ge=0, le=LARGEST)]
Bounded = Annotated[float, Field(le=LARGEST)]  # a sign rule of its own lives in procure.inputs.validation
Fraction = Annotated[float, Field(ge=0, le=1)]

Steps = NonNegative | dict[Quarter, NonNegative]
"""A quantity over time: a constant, or a step function ``{quarter: value}`` whose value holds from its
quarter until the next key (zero before the first key)."""


class Strict(BaseModel):
    """Base for every schema model: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class Source(Strict):
    id: Identifier = Field(description="Short key cited by provenance entries.")
    title: str = Field(description="Publication or page title and publisher.")
    url: str | None = Field(default=None, description="Where the figure can be read.")
    date: str | None = Field(default=None, description="Publication date, free text (e.g. 2026-04).")


class Provenance(Strict):
    source: Identifier | None = Field(default=None, description="Id of an entry in `sources`.")
    estimate: bool = Field(default=False, description="True when the value is an estimate, not a found figure.")
    note: str = Field(default="", description="How the value was found or derived.")


# --------------------------------------------------------------------------------------------- catalog
class PricePath(Strict):
    """Purchase price per unit over time: ``initial_kusd`` at the accelerator's first quarter, falling by
    ``annual_decline`` per year (compounded per quarter), unless ``by_quarter`` gives explicit steps."""

    initial_kusd: NonNegative = Field(description="k$ per unit in the first purchasable quarter.")
    annual_decline: float = Field(default=0.0, ge=0, lt=1, description="Fractional price decline per year.")
    by_quarter: dict[Quarter, NonNegative] | None = Field(
        default=None, description="Explicit k$ per unit, step function by quarter; overrides the decline.")


class Accelerator(Strict):
    id: Identifier = Field(description="Catalog key referenced by instances.")
    name: str = Field(description="Marketing name.")
    vendor: Identifier = Field(description="Chip vendor (nvidia, amd, google); vendor-share limits use it.")
    generation: str = Field(description="Architecture generation (hopper, blackwell, rubin, ...).")
    first_quarter: Quarter = Field(description="First quarter it can be bought or leased.")
    last_quarter: Quarter | None = Field(default=None, description="Last quarter it can be bought; none = open.")
    throughput_h100e: dict[Identifier, NonNegative] = Field(
        description="H100e per unit for each workload it can serve; a workload absent here is ineligible.")
    max_workload_share: dict[Identifier, Fraction] = Field(
        default_factory=dict,
        description="Largest fraction of this accelerator's units that may serve a workload (e.g. a capped "
                    "training share); absent = no cap.")
    power_kw: NonNegative = Field(description="IT power per unit in kW, including its share of host and network.")
    price: PricePath | None = Field(default=None, description="Purchase price path; none = not for sale.")
    lifetime_quarters: int = Field(default=22, ge=1, le=80, description="Useful life in quarters.")
    lot_size: int = Field(default=1, ge=1, le=LARGEST, description="Units per purchase lot (a rack or cluster).")
    supply_cap_units: Steps | None = Field(
        default=None, description="Most units the vendor can ship per quarter; none = no cap.")
    provenance: dict[str, Provenance] = Field(
        default_factory=dict, description="Provenance per field name of this entry.")


class Catalog(Strict):
    """A file under ``models/``: reusable accelerator specs with their sources."""

    description: str = Field(default="", description="What this catalog holds.")
    sources: list[Source] = Field(default_factory=list, description="Publications cited by provenance entries.")
    accelerators: list[Accelerator] = Field(default_factory=list, description="Accelerator specs.")


# -------------------------------------------------------------------------------------------- instance
class Horizon(Strict):
    first_quarter: Quarter = Field(default="2026Q1", description="First planned quarter.")
    last_quarter: Quarter = Field(default="2032Q4", description="Last planned quarter (inclusive).")
    discount_rate: float = Field(default=0.08, ge=0, lt=1, description="Annual discount rate (fraction).")


class Workload(Strict):
    id: Identifier = Field(description="Workload key, e.g. training or inference.")
    description: str = Field(default="", description="What this workload is.")


GrowthRate = Annotated[float, Field(gt=-1, le=LARGEST)]


class DemandSpec(Strict):
    """Demand of one workload in H100e (capacity needed on average during each quarter), in one of three forms:

    * ``series``: explicit values;
    * ``base`` with ``growth``: ``base`` in the horizon's first quarter, then each quarter ``t`` the previous
      quarter's value times ``(1 + growth_t) ** (1/4)`` (a constant rate gives ``base * (1 + growth) ** (t/4)``);
    * ``growth`` alone, in a child scenario only: the branch continues from its parent's demand in the quarter
      before ``branch_quarter``, growing the same way.

    ``growth`` is an annual rate, or ``{quarter: rate}`` steps in force from each quarter on (0 before the
    first key), for growth that slows down."""

    series: list[NonNegative] | dict[Quarter, NonNegative] | None = Field(
        default=None, description="H100e per quarter: a list covering the horizon, or {quarter: H100e} steps.")
    base: NonNegative | None = Field(default=None, description="H100e in the first quarter of the horizon.")
    growth: GrowthRate | dict[Quarter, GrowthRate] | None = Field(
        default=None, description="Annual growth rate (1.0 = doubling yearly), or {quarter: rate} steps.")

    @model_validator(mode="after")
    def _one_form(self) -> "DemandSpec":
        if self.series is not None and (self.base is not None or self.growth is not None):
            raise ValueError("give either 'series', or 'growth' (with 'base', or alone in a child scenario "
                             "to continue from its parent), not both")
        if self.series is None and self.growth is None:
            raise ValueError("'base' needs 'growth' (use 0 for flat demand)" if self.base is not None
                             else "give 'series', or 'growth' (with 'base', or alone in a child scenario)")
        return self

    @property
    def continues_parent(self) -> bool:
        """Growth alone: the demand continues from the parent scenario's."""
        return self.series is None and self.base is None


class Scenario(Strict):
    """A leaf of the scenario tree. A scenario equals its parent before ``branch_quarter``: same decisions
    (non-anticipativity) and the parent's demand; from that quarter on it has its own demand."""

    id: Identifier
    probability: Fraction = Field(description="Unconditional probability of this leaf; all sum to 1.")
    parent: Identifier | None = Field(default=None, description="Scenario it branches from; none = root.")
    branch_quarter: Quarter | None = Field(default=None, description="First quarter that differs from the parent.")
    demand: dict[Identifier, DemandSpec] = Field(
        description="Demand per workload id; a child scenario inherits workloads it omits from its parent.")
    description: str = Field(default="", description="The story behind this scenario.")

    @model_validator(mode="after")
    def _parent_and_branch(self) -> "Scenario":
        if (self.parent is None) != (self.branch_quarter is None):
            raise ValueError("'parent' and 'branch_quarter' go together: give both or neither")
        return self


class Expansion(Strict):
    """New power at a site, built in integer blocks."""

    block_mw: float = Field(gt=0, le=LARGEST, description="MW at the meter per block.")
    max_blocks: Count = Field(description="Most blocks that can ever be started at this site.")
    lead_quarters: Count = Field(description="Quarters from start to power-on (grid + construction).")
    capex_musd_per_mw: NonNegative = Field(description="Facility and power capex, $M per MW, paid at start.")
    earliest_start: Quarter | None = Field(default=None, description="First quarter a block can start.")
    committed_starts: dict[Quarter, Count] = Field(
        default_factory=dict, description="Blocks already started (fixed), by start quarter.")


class Site(Strict):
    id: Identifier = Field(description="Site key.")
    name: str = Field(default="", description="Display name.")
    location: str = Field(default="", description="Where it is (free text).")
    pue: float = Field(default=1.1, ge=1, le=3, description="Power usage effectiveness (meter / IT).")
    electricity_usd_per_mwh: NonNegative = Field(description="Electricity price, $ per MWh at the meter.")
    fixed_opex_musd_per_mw_year: NonNegative = Field(
        default=0.0, description="Fixed operating cost per MW online per year, $M.")
    power_online_mw: Steps = Field(default=0.0, description="Power online without new blocks, MW (steps).")
    expansion: Expansion | None = Field(default=None, description="How new power can be added; none = no.")
    facility_life_quarters: int = Field(
        default=80, ge=1, le=LARGEST, description="Depreciation life of new power blocks for residual value, quarters.")


class Purchase(Strict):
    """An accelerator from the catalogs that may be bought for own sites, with instance overrides."""

    accelerator: Identifier = Field(description="Catalog id.")
    first_quarter: Quarter | None = Field(default=None, description="Override of the catalog first quarter.")
    last_quarter: Quarter | None = Field(default=None, description="Override of the catalog last quarter.")
    supply_cap_units: Steps | None = Field(default=None, description="Override of the per-quarter supply cap.")
    price_scale: float = Field(default=1.0, gt=0, le=LARGEST, description="Multiplier on the catalog price path.")
    sites: list[Identifier] | None = Field(default=None, description="Sites that may host it; none = all.")


class ExistingFleet(Strict):
    site: Identifier
    accelerator: Identifier
    units: NonNegative = Field(description="Units installed.")
    installed: Quarter = Field(description="Quarter installed (may precede the horizon); retires after lifetime.")


class Provider(Strict):
    id: Identifier = Field(description="Provider key ('own' is reserved for the owned fleet).")
    name: str = Field(default="", description="Display name.")
    capacity_units: Steps | None = Field(
        default=None, description="Most units leased from this provider per quarter (existing + new); none = no cap.")


class LeaseTerm(Strict):
    quarters: int = Field(ge=1, le=LARGEST, description="Contract length in quarters.")
    price_usd_per_unit_hour: NonNegative = Field(description="$ per accelerator-hour for this term.")


class LeaseOffer(Strict):
    """A lease that can be signed: choose start quarter, term and volume in lots."""

    id: Identifier
    provider: Identifier
    accelerator: Identifier
    first_start: Quarter = Field(description="Earliest start quarter.")
    last_start: Quarter = Field(description="Latest start quarter.")
    terms: list[LeaseTerm] = Field(min_length=1, description="Term options with their prices.")
    min_units: NonNegative = Field(default=0.0, description="Smallest commitment if signed, units.")
    max_units: NonNegative = Field(description="Largest commitment per signing, units.")
    lot_size: int = Field(default=1, ge=1, le=LARGEST, description="Units per lot.")
    take_or_pay: bool = Field(default=True, description="Paid whether used (true) or only for units used.")

    @model_validator(mode="after")
    def _window(self) -> "LeaseOffer":
        if self.min_units > self.max_units:
            raise ValueError("min_units exceeds max_units")
        return self


class ExistingContract(Strict):
    id: Identifier
    provider: Identifier
    accelerator: Identifier
    start: Quarter = Field(description="First quarter of service (may precede the horizon).")
    end: Quarter = Field(description="Last quarter of service (inclusive; may pass the horizon).")
    units: NonNegative = Field(description="Units committed.")
    price_usd_per_unit_hour: NonNegative = Field(description="$ per accelerator-hour.")
    take_or_pay: bool = Field(default=True, description="Paid whether used.")


class Rental(Strict):
    """On-demand capacity: no commitment, paid per unit-hour used, under an availability cap."""

    id: Identifier = Field(description="Rental key.")
    provider: Identifier = Field(description="Id of an entry in `providers`.")
    accelerator: Identifier = Field(description="Catalog accelerator id.")
    price_usd_per_unit_hour: NonNegative = Field(description="On-demand $ per accelerator-hour.")
    available_units: Steps = Field(description="Most units rentable per quarter (steps).")


class Risk(Strict):
    cvar_alpha: float = Field(default=0.9, ge=0, lt=1, description="CVaR level: the worst 1 − alpha of the "
                                                                  "scenarios' probability is averaged.")
    weight: Fraction = Field(default=0.0, description="Weight of CVaR in the objective; 0 = expected cost "
                                                      "alone, 1 = CVaR alone.")


class Policy(Strict):
    capex_budget_musd_per_year: Bounded | dict[str, NonNegative] | None = Field(
        default=None, description="Most capex (power blocks + purchases) per calendar year, $M; a number or "
                                  "{year: $M}; none = no budget.")
    max_vendor_share: dict[Identifier, Fraction] = Field(
        default_factory=dict, description="Largest share of served compute per chip vendor, each quarter.")
    max_provider_share: dict[Identifier, Fraction] = Field(
        default_factory=dict, description="Largest share of served compute per cloud provider, each quarter.")
    min_owned_share: Fraction = Field(default=0.0, description="Smallest share of served compute from own sites.")
    shortfall_penalty_usd_per_h100e_quarter: Bounded | dict[Identifier, NonNegative] = Field(
        description="Cost of one H100e of unmet demand for one quarter, $; a number or {workload: $}.")
    risk: Risk = Field(default_factory=Risk, description="Risk aversion: minimise (1 − weight) · E[cost] + "
                                                         "weight · CVaR_alpha[cost] over the leaf scenarios.")


class Instance(Strict):
    name: Identifier = Field(description="Instance name (used in output file names).")
    description: str = Field(default="", description="What this instance represents.")
    catalogs: list[str] = Field(
        default_factory=lambda: ["../models/accelerators.json"],
        description="Catalog files, relative to the instance file.")
    horizon: Horizon = Field(default_factory=Horizon, description="Planning quarters and discount rate.")
    workloads: list[Workload] = Field(min_length=1, description="Workloads with their own demand.")
    scenarios: list[Scenario] = Field(min_length=1, description="Leaves of the demand scenario tree.")
    sites: list[Site] = Field(default_factory=list, description="Own data-center sites.")
    purchases: list[Purchase] = Field(default_factory=list, description="Accelerators that may be bought.")
    existing_fleet: list[ExistingFleet] = Field(default_factory=list, description="Units already installed.")
    providers: list[Provider] = Field(default_factory=list, description="Cloud providers of leases and rentals.")
    lease_offers: list[LeaseOffer] = Field(default_factory=list, description="Leases that can be signed.")
    existing_contracts: list[ExistingContract] = Field(
        default_factory=list, description="Leases already signed (fixed commitments).")
    rentals: list[Rental] = Field(default_factory=list, description="On-demand capacity.")
    policy: Policy = Field(description="Budgets, concentration limits and the shortfall penalty.")
    sources: list[Source] = Field(default_factory=list, description="Publications cited by provenance entries.")
    provenance: dict[str, Provenance] = Field(
        default_factory=dict, description="Provenance per JSON path of a value, e.g. 'sites[0].pue'.")


def instance_json_schema() -> dict:
    """JSON Schema of an instance file, for editors and other tools."""
    schema = Instance.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "procure instance"
    return schema


def catalog_json_schema() -> dict:
    schema = Catalog.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "procure catalog"
    return schema
