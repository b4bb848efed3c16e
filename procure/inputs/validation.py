"""Load an instance file with its catalogs and check it whole.

Every problem is reported with the JSON path of the offending value, the rule it breaks and the value,
so a user can fix all of them in one pass. :func:`load_instance` raises :class:`InstanceError` carrying
the full list; nothing here prints or exits.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from procure.inputs.quarters import HOURS_PER_QUARTER, quarter_ordinal, quarter_range, quarter_year
from procure.inputs.reading import ReadError, parse_json, read_text, resolve_catalog
from procure.inputs.schema import LARGEST, Accelerator, Catalog, Instance, Source

PROBABILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Problem:
    path: str
    rule: str
    value: Any = None

    def __str__(self) -> str:
        shown = _short(self.value)
        return f"{self.path}: {self.rule}" + (f" (got {shown})" if shown is not None else "")


class InstanceError(Exception):
    """Raised with every problem found; ``str()`` lists them one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedInstance:
    """An instance with the catalog entries it can reference, resolved."""

    instance: Instance
    accelerators: dict[str, Accelerator]
    catalog_sources: dict[str, Source]
    path: Path | None = None


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def json_path(loc: tuple[Any, ...], prefix: str = "", data: Any = None, missing: bool = False) -> str:
    """``('sites', 2, 'pue')`` -> ``sites[2].pue``.

    pydantic inserts the name of the tried union member into ``loc`` (``float``, ``dict[str,float]``);
    such parts are not JSON keys. With the input ``data`` at hand, a part is kept only when it names a
    key or index that exists in the input (or is the last part of a missing-key error).
    """
    path = prefix
    node = data
    for k, part in enumerate(loc):
        last = k == len(loc) - 1
        if isinstance(part, int) and (data is None or isinstance(node, list)):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            continue
        if data is not None:
            if isinstance(node, dict) and str(part) in node:
                node = node[str(part)]
            elif not (last and missing):
                continue  # a union tag, not a key of the input
        separator = "." if path and not path.endswith(":") else ""
        path += f"{separator}{part}"
    return path or "(root)"


def _pydantic_problems(error: ValidationError, data: Any, prefix: str = "") -> list[Problem]:
    merged: dict[str, Problem] = {}
    for item in error.errors():
        missing = item["type"] == "missing"
        path = json_path(item["loc"], prefix, data=data, missing=missing)
        rule = item["msg"].removeprefix("Value error, ")
        value = None if missing else item.get("input")
        if path in merged:  # a union reports once per member: keep one line per path
            if rule not in merged[path].rule:
                merged[path] = Problem(path, f"{merged[path].rule}; or {rule}", merged[path].value)
        else:
            merged[path] = Problem(path, rule, value)
    return list(merged.values())


def _read_json(path: Path, label: str, prefix: str = "") -> tuple[Any, list[Problem]]:
    """Parse the file at ``path`` (:mod:`procure.inputs.reading`: regular files within the size cap); a
    file that cannot be read is a problem at ``label``, a repeated key one at its path after ``prefix``."""
    try:
        raw, repeated = parse_json(read_text(path))
    except ReadError as exc:
        return None, [Problem(label, str(exc))]
    return raw, [Problem(f"{prefix}{where}.{key}" if where else f"{prefix}{key}",
                         "duplicate key (JSON would keep the last silently)") for where, key in repeated]


def load_instance(path: str | Path) -> LoadedInstance:
    """Read, parse and check an instance file and the catalogs it names."""
    path = Path(path)
    raw, problems = _read_json(path, str(path))
    if problems:
        raise InstanceError(problems)
    return instance_from_dict(raw, base_dir=path.parent, path=path)


def instance_from_dict(raw: Any, base_dir: Path | str = ".", path: Path | None = None) -> LoadedInstance:
    """Check an instance given as parsed JSON; catalog paths are resolved against ``base_dir``."""
    if not isinstance(raw, dict):
        raise InstanceError([Problem("(root)", "an instance must be a JSON object", type(raw).__name__)])
    try:
        instance = Instance.model_validate(raw)
    except ValidationError as exc:
        raise InstanceError(_pydantic_problems(exc, raw)) from None
    except RecursionError:
        raise InstanceError([Problem("(root)", "JSON nested too deeply")]) from None
    accelerators, catalog_sources, problems = _load_catalogs(instance, Path(base_dir))
    problems += check_instance(instance, accelerators, catalog_sources)
    if problems:
        raise InstanceError(problems)
    return LoadedInstance(instance, accelerators, catalog_sources, path)


def _load_catalogs(instance: Instance, base_dir: Path) -> tuple[dict[str, Accelerator], dict[str, Source],
                                                                list[Problem]]:
    accelerators: dict[str, Accelerator] = {}
    sources: dict[str, Source] = {}
    problems: list[Problem] = []
    for k, name in enumerate(instance.catalogs):
        label = f"catalogs[{k}]"
        try:
            path = resolve_catalog(name, base_dir)
        except ReadError as exc:
            problems.append(Problem(label, str(exc), name))
            continue
        raw, read_problems = _read_json(path, f"{label} ({name})", prefix=f"{name}:")
        problems += read_problems
        if raw is None and read_problems:  # unreadable (a JSON null is read, and refused as a catalog)
            continue
        catalog, catalog_problems = _parse_catalog(raw, name)
        problems += catalog_problems
        problems += _check_catalog(catalog, name)
        local = set()
        for j, acc in enumerate(catalog.accelerators):
            if acc.id in accelerators and acc.id not in local:
                problems.append(Problem(f"{name}:accelerators[{j}].id", "duplicate accelerator id across catalogs",
                                        acc.id))
            local.add(acc.id)
            accelerators[acc.id] = acc
        sources.update({s.id: s for s in catalog.sources})
    return accelerators, sources, problems


def _parse_catalog(raw: Any, name: str) -> tuple[Catalog, list[Problem]]:
    """Validate a catalog entry by entry, so one bad accelerator does not hide the good ones."""
    if not isinstance(raw, dict):
        return Catalog(), [Problem(name, "a catalog must be a JSON object", type(raw).__name__)]
    problems: list[Problem] = []
    entries = raw.get("accelerators", [])
    good = []
    if isinstance(entries, list):
        for j, entry in enumerate(entries):
            try:
                good.append(Accelerator.model_validate(entry))
            except ValidationError as exc:
                problems += _pydantic_problems(exc, entry, prefix=f"{name}:accelerators[{j}]")
    try:
        catalog = Catalog.model_validate({**raw, "accelerators": []} if isinstance(entries, list) else raw)
    except ValidationError as exc:
        return Catalog(accelerators=good), problems + _pydantic_problems(exc, raw, prefix=f"{name}:")
    return catalog.model_copy(update={"accelerators": good}), problems


def _check_catalog(catalog: Catalog, name: str) -> list[Problem]:
    problems = _duplicates(catalog.accelerators, f"{name}:accelerators")
    problems += _duplicates(catalog.sources, f"{name}:sources")
    source_ids = {s.id for s in catalog.sources}
    for j, acc in enumerate(catalog.accelerators):
        where = f"{name}:accelerators[{j}]"
        if acc.last_quarter and quarter_ordinal(acc.last_quarter) < quarter_ordinal(acc.first_quarter):
            problems.append(Problem(f"{where}.last_quarter", "must not precede first_quarter", acc.last_quarter))
        if not any(v > 0 for v in acc.throughput_h100e.values()):
            problems.append(Problem(f"{where}.throughput_h100e", "needs a positive throughput for some workload",
                                    acc.throughput_h100e))
        for field, prov in acc.provenance.items():
            if field not in Accelerator.model_fields:
                problems.append(Problem(f"{where}.provenance.{field}", "names no field of an accelerator", field))
            if prov.source is not None and prov.source not in source_ids:
                problems.append(Problem(f"{where}.provenance.{field}.source", "unknown source id", prov.source))
    return problems


def _duplicates(items: list[Any], path: str, key: str = "id") -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for k, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            problems.append(Problem(f"{path}[{k}].{key}", "duplicate id", value))
        seen.add(value)
    return problems


def check_instance(inst: Instance, accelerators: dict[str, Accelerator],
                   catalog_sources: dict[str, Source] | None = None) -> list[Problem]:
    """Checks that need the whole instance: references, horizon, scenario tree, provenance."""
    checker = _Checker(inst, accelerators, catalog_sources or {})
    checker.run()
    return checker.problems


class _Checker:
    def __init__(self, inst: Instance, accelerators: dict[str, Accelerator], catalog_sources: dict[str, Source]):
        self.inst = inst
        self.accelerators = accelerators
        self.catalog_sources = catalog_sources
        self.problems: list[Problem] = []
        self.first = quarter_ordinal(inst.horizon.first_quarter)
        self.last = quarter_ordinal(inst.horizon.last_quarter)

    def add(self, path: str, rule: str, value: Any = None) -> None:
        self.problems.append(Problem(path, rule, value))

    def run(self) -> None:
        if self.last < self.first:
            self.add("horizon.last_quarter", "must not precede horizon.first_quarter", self.inst.horizon.last_quarter)
            return  # every later quarter check would be noise
        for field in ("workloads", "scenarios", "sites", "providers", "lease_offers", "existing_contracts",
                      "rentals", "sources"):
            self.problems += _duplicates(getattr(self.inst, field), field)
        self.problems += _duplicates(self.inst.purchases, "purchases", key="accelerator")
        self.check_scenarios()
        self.check_sites()
        self.check_purchases()
        self.check_fleet()
        self.check_leases()
        self.check_policy()
        self.check_eligibility()
        self.check_magnitudes()
        self.check_provenance()

    # ---- helpers
    @property
    def n_quarters(self) -> int:
        return self.last - self.first + 1

    def in_horizon(self, quarter: str | None, path: str) -> None:
        if quarter is not None and not self.first <= quarter_ordinal(quarter) <= self.last:
            self.add(path, f"quarter outside the horizon {self.inst.horizon.first_quarter}–"
                           f"{self.inst.horizon.last_quarter}", quarter)

    def known(self, value: str, ids: set[str] | dict, path: str, what: str) -> bool:
        if value not in ids:
            self.add(path, f"unknown {what} id", value)
            return False
        return True

    def _ids(self, field: str) -> set[str]:
        return {item.id for item in getattr(self.inst, field)}

    def not_before_launch(self, accelerator: str, quarter: str | None, path: str, what: str) -> None:
        """``quarter`` (a purchase window's or lease start window's first quarter) must not precede the
        accelerator's first quarter in the catalog: nothing is delivered before its launch."""
        acc = self.accelerators.get(accelerator)
        if acc is None or quarter is None or quarter_ordinal(quarter) >= quarter_ordinal(acc.first_quarter):
            return
        self.add(path, f"{what} before {accelerator}'s first quarter in the catalog ({acc.first_quarter})", quarter)

    # ---- families
    def check_scenarios(self) -> None:
        scenarios = self.inst.scenarios
        by_id = {s.id: s for s in scenarios}
        workloads = self._ids("workloads")
        total = math.fsum(s.probability for s in scenarios)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            self.add("scenarios", "probabilities must sum to 1", round(total, 9))
        roots = [k for k, s in enumerate(scenarios) if s.parent is None]
        if len(roots) != 1:
            self.add("scenarios", "the tree needs exactly one root (a scenario without parent)",
                     [scenarios[k].id for k in roots])
        for k, s in enumerate(scenarios):
            where = f"scenarios[{k}]"
            for w, spec in s.demand.items():
                self.known(w, workloads, f"{where}.demand.{w}", "workload")
                if isinstance(spec.series, list) and len(spec.series) != self.n_quarters:
                    self.add(f"{where}.demand.{w}.series",
                             f"a list series needs one value per quarter ({self.n_quarters})", len(spec.series))
                if isinstance(spec.series, dict):
                    for q in spec.series:
                        self.in_horizon(q, f"{where}.demand.{w}.series.{q}")
                if isinstance(spec.growth, dict):
                    for q in spec.growth:
                        self.in_horizon(q, f"{where}.demand.{w}.growth.{q}")
                if spec.continues_parent and s.parent is None:
                    self.add(f"{where}.demand.{w}", "the root scenario has no parent to continue from: give "
                             "'base' with 'growth', or 'series'")
                elif spec.continues_parent and s.branch_quarter == self.inst.horizon.first_quarter:
                    self.add(f"{where}.demand.{w}", "a branch in the horizon's first quarter has no parent demand "
                             "to continue from: give 'base' with 'growth', or 'series'")
            if s.parent is None:
                for w in sorted(workloads - set(s.demand)):
                    self.add(f"{where}.demand", f"the root scenario needs demand for workload '{w}'")
                continue
            if not self.known(s.parent, by_id, f"{where}.parent", "scenario"):
                continue
            if s.parent == s.id:
                self.add(f"{where}.parent", "a scenario cannot be its own parent", s.parent)
                continue
            self.in_horizon(s.branch_quarter, f"{where}.branch_quarter")
            parent = by_id[s.parent]
            if parent.branch_quarter and s.branch_quarter and \
                    quarter_ordinal(s.branch_quarter) < quarter_ordinal(parent.branch_quarter):
                self.add(f"{where}.branch_quarter", "a child cannot branch before its parent branched",
                         s.branch_quarter)
            # cycles: walk up, at most len(scenarios) steps
            seen, node = {s.id}, parent
            while node.parent is not None and node.parent in by_id:
                if node.parent in seen:
                    self.add(f"{where}.parent", "the scenario tree has a cycle", s.parent)
                    break
                seen.add(node.parent)
                node = by_id[node.parent]

    @staticmethod
    def _largest_growth(spec) -> float:
        if isinstance(spec.growth, dict):
            return max(spec.growth.values(), default=0.0)
        return spec.growth or 0.0  # None with a series

    def check_sites(self) -> None:
        for k, site in enumerate(self.inst.sites):
            exp = site.expansion
            if exp is None:
                continue
            where = f"sites[{k}].expansion"
            if exp.lead_quarters >= self.n_quarters:
                self.add(f"{where}.lead_quarters",
                         f"power would never come online inside the horizon ({self.n_quarters} quarters)",
                         exp.lead_quarters)
            self.in_horizon(exp.earliest_start, f"{where}.earliest_start")
            for q, blocks in exp.committed_starts.items():
                self.in_horizon(q, f"{where}.committed_starts.{q}")
            if sum(exp.committed_starts.values()) > exp.max_blocks:
                self.add(f"{where}.committed_starts", "more committed blocks than max_blocks",
                         sum(exp.committed_starts.values()))

    def check_purchases(self) -> None:
        sites = self._ids("sites")
        for k, p in enumerate(self.inst.purchases):
            where = f"purchases[{k}]"
            if not self.known(p.accelerator, self.accelerators, f"{where}.accelerator", "catalog accelerator"):
                continue
            acc = self.accelerators[p.accelerator]
            if acc.price is None:
                self.add(f"{where}.accelerator", "this accelerator has no purchase price in the catalog "
                                                 "(rent or lease it instead)", p.accelerator)
            self.not_before_launch(p.accelerator, p.first_quarter, f"{where}.first_quarter", "bought")
            first = p.first_quarter or acc.first_quarter
            last = p.last_quarter or acc.last_quarter
            if last is not None and quarter_ordinal(last) < quarter_ordinal(first):
                self.add(f"{where}.last_quarter", "purchase window is empty (last before first)", last)
            for j, site in enumerate(p.sites or []):
                self.known(site, sites, f"{where}.sites[{j}]", "site")
        if self.inst.purchases and not self.inst.sites:
            self.add("sites", "purchases need at least one site to install them")

    def check_fleet(self) -> None:
        sites = self._ids("sites")
        for k, f in enumerate(self.inst.existing_fleet):
            where = f"existing_fleet[{k}]"
            self.known(f.site, sites, f"{where}.site", "site")
            self.known(f.accelerator, self.accelerators, f"{where}.accelerator", "catalog accelerator")
            if quarter_ordinal(f.installed) > self.last:
                self.add(f"{where}.installed", "installed after the horizon ends", f.installed)

    def check_leases(self) -> None:
        providers = self._ids("providers")
        for k, p in enumerate(self.inst.providers):
            if p.id == "own":
                self.add(f"providers[{k}].id", "'own' is reserved for the owned fleet", p.id)
        for k, o in enumerate(self.inst.lease_offers):
            where = f"lease_offers[{k}]"
            self.known(o.provider, providers, f"{where}.provider", "provider")
            self.known(o.accelerator, self.accelerators, f"{where}.accelerator", "catalog accelerator")
            self.in_horizon(o.first_start, f"{where}.first_start")
            self.in_horizon(o.last_start, f"{where}.last_start")
            self.not_before_launch(o.accelerator, o.first_start, f"{where}.first_start", "a lease starting")
            if quarter_ordinal(o.last_start) < quarter_ordinal(o.first_start):
                self.add(f"{where}.last_start", "start window is empty (last_start before first_start)", o.last_start)
            if not o.take_or_pay and len({t.price_usd_per_unit_hour for t in o.terms}) > 1:
                self.add(f"{where}.terms", "a pay-per-use offer (take_or_pay false) needs one price for all terms",
                         [t.price_usd_per_unit_hour for t in o.terms])
            if len({t.quarters for t in o.terms}) < len(o.terms):
                self.add(f"{where}.terms", "two terms have the same length", [t.quarters for t in o.terms])
            if o.max_units < o.lot_size:
                self.add(f"{where}.max_units", f"below one lot ({o.lot_size} units): the offer can never be signed",
                         o.max_units)
        for k, c in enumerate(self.inst.existing_contracts):
            where = f"existing_contracts[{k}]"
            self.known(c.provider, providers, f"{where}.provider", "provider")
            self.known(c.accelerator, self.accelerators, f"{where}.accelerator", "catalog accelerator")
            if quarter_ordinal(c.end) < quarter_ordinal(c.start):
                self.add(f"{where}.end", "contract ends before it starts", c.end)
            elif quarter_ordinal(c.end) < self.first or quarter_ordinal(c.start) > self.last:
                self.add(f"{where}", "contract does not overlap the horizon", f"{c.start}–{c.end}")
        for k, r in enumerate(self.inst.rentals):
            where = f"rentals[{k}]"
            self.known(r.provider, providers, f"{where}.provider", "provider")
            self.known(r.accelerator, self.accelerators, f"{where}.accelerator", "catalog accelerator")
            if isinstance(r.available_units, dict):  # a schedule that rents units before the launch is an error;
                for quarter, units in r.available_units.items():  # a single number means from the launch on
                    if units > 0:
                        self.not_before_launch(r.accelerator, quarter, f"{where}.available_units.{quarter}",
                                               "units rentable")

    def check_policy(self) -> None:
        policy = self.inst.policy
        budget = policy.capex_budget_musd_per_year
        if isinstance(budget, (int, float)) and budget < 0:
            self.add("policy.capex_budget_musd_per_year", "must be ≥ 0", budget)
        if isinstance(budget, dict):
            years = {str(quarter_year(q)) for q in quarter_range(self.inst.horizon.first_quarter,
                                                                 self.inst.horizon.last_quarter)}
            for year in budget:
                if year not in years:
                    self.add(f"policy.capex_budget_musd_per_year.{year}", "not a calendar year of the horizon", year)
        used = self._used_accelerators()
        vendors = {self.accelerators[a].vendor for a in used if a in self.accelerators}
        for vendor in policy.max_vendor_share:
            if vendor not in vendors:
                self.add(f"policy.max_vendor_share.{vendor}", "no accelerator of this vendor is in the instance",
                         vendor)
        providers = self._ids("providers") | {"own"}
        for provider in policy.max_provider_share:
            self.known(provider, providers, f"policy.max_provider_share.{provider}", "provider ('own' or a provider)")
        penalty = policy.shortfall_penalty_usd_per_h100e_quarter
        if isinstance(penalty, (int, float)) and penalty < 0:
            self.add("policy.shortfall_penalty_usd_per_h100e_quarter", "must be ≥ 0", penalty)
        if isinstance(penalty, dict):
            workloads = self._ids("workloads")
            for w in penalty:
                self.known(w, workloads, f"policy.shortfall_penalty_usd_per_h100e_quarter.{w}", "workload")
            for w in sorted(workloads - set(penalty)):
                self.add("policy.shortfall_penalty_usd_per_h100e_quarter", f"missing workload '{w}'")

    def _used_accelerators(self) -> set[str]:
        inst = self.inst
        return ({p.accelerator for p in inst.purchases} | {f.accelerator for f in inst.existing_fleet}
                | {o.accelerator for o in inst.lease_offers} | {c.accelerator for c in inst.existing_contracts}
                | {r.accelerator for r in inst.rentals})

    def check_eligibility(self) -> None:
        served: set[str] = set()
        for a in self._used_accelerators():
            if a in self.accelerators:
                served |= {w for w, v in self.accelerators[a].throughput_h100e.items() if v > 0}
        for k, w in enumerate(self.inst.workloads):
            if w.id not in served:
                self.add(f"workloads[{k}]", "no accelerator in the instance can serve this workload "
                                            "(all its demand would be shortfall)", w.id)

    def check_magnitudes(self) -> None:
        """The model's coefficients and constants are products of inputs; each must stay within
        :data:`LARGEST` in its unit, as every input does (see there why). Only the products that can pass it
        are checked: the others multiply a number by at most ~1e4 (hours, PUE) or divide it. Where a product
        depends on the quarter, its largest value is taken (the highest step of a price path, the most power
        of any accelerator in the instance), so a check can only err on the strict side."""
        def over(path: str, what: str, log10_value: float, unit: str, formula: str) -> None:
            if log10_value <= math.log10(LARGEST) + 1e-12:  # (a sum of logs is off by ~1e-15: 1e6 × 1e6 passes)
                return
            shown = f"1e{log10_value:.0f}"
            for digits in range(3, 16):  # enough digits to show it above 1e12 (1.0000038e+12, not 1e+12)
                if log10_value >= 300 or float(shown := f"{10 ** log10_value:.{digits}g}") > LARGEST:
                    break
            self.add(path, f"{what} would be {shown} {unit} ({formula}); the model takes at most 1e12")

        def log10(*factors: float) -> float:  # of a product, without overflow; -inf when a factor is 0
            return math.fsum(math.log10(f) if f > 0 else -math.inf for f in factors)

        years = (self.n_quarters - 1) / 4.0
        for k, s in enumerate(self.inst.scenarios):
            for w, spec in s.demand.items():
                largest = self._largest_growth(spec)
                if spec.base is not None and largest > 0:
                    where = f"scenarios[{k}].demand.{w}.growth"
                    # log10 of (1 + growth)^years, with the largest rate where the rate steps
                    factor = years * math.log10(1.0 + largest)
                    # the factor alone too: it is computed before base multiplies it (base may be 0)
                    over(where, "the growth factor over the horizon", factor, "×", f"(1 + growth)^{years:g} years")
                    over(where, f"demand in {self.inst.horizon.last_quarter}", log10(spec.base) + factor, "H100e",
                         f"base × (1 + growth)^{years:g} years")
        kw = max((self.accelerators[a].power_kw for a in self._used_accelerators() if a in self.accelerators),
                 default=0.0)
        for k, site in enumerate(self.inst.sites):
            exp = site.expansion
            committed = sum(exp.committed_starts.values()) if exp else 0
            if exp is not None:
                over(f"sites[{k}].expansion", "a block's capex", log10(exp.block_mw, exp.capex_musd_per_mw), "$M",
                     "block_mw × capex_musd_per_mw")
                over(f"sites[{k}].expansion.committed_starts", "the committed blocks' power",
                     log10(exp.block_mw, committed), "MW", "block_mw × committed blocks")
                over(f"sites[{k}].expansion.committed_starts", "the committed blocks' capex",
                     log10(exp.block_mw, exp.capex_musd_per_mw, committed), "$M",
                     "block_mw × capex_musd_per_mw × committed blocks")
            steps = site.power_online_mw.values() if isinstance(site.power_online_mw, dict) else [site.power_online_mw]
            mw = max([*steps, 0.0]) + (exp.block_mw * committed if exp else 0.0)  # MW online without new blocks
            over(f"sites[{k}].fixed_opex_musd_per_mw_year", "the fixed opex per quarter of the power online",
                 log10(site.fixed_opex_musd_per_mw_year / 4, max(mw, exp.block_mw if exp else 0.0)), "$M",
                 "fixed_opex_musd_per_mw_year / 4 × the most MW online without new blocks, or one block's")
            over(f"sites[{k}].electricity_usd_per_mwh", "a unit's electricity per quarter",
                 log10(site.electricity_usd_per_mwh, kw, site.pue, HOURS_PER_QUARTER, 1e-9), "$M",
                 "$/MWh × kW × PUE × 2,190 h")
        for k, p in enumerate(self.inst.purchases):
            acc = self.accelerators.get(p.accelerator)
            if acc is not None and acc.price is not None:
                kusd = max(acc.price.by_quarter.values()) if acc.price.by_quarter else acc.price.initial_kusd
                over(f"purchases[{k}]", "a lot's price", log10(kusd, p.price_scale, acc.lot_size, 1e-3), "$M",
                     "catalog k$ per unit × price_scale × lot_size")
        for k, o in enumerate(self.inst.lease_offers):  # pay-per-use pays units used: price × 2,190 h at most
            if o.take_or_pay:
                price = max(t.price_usd_per_unit_hour for t in o.terms)
                over(f"lease_offers[{k}]", "a lot's lease per quarter",
                     log10(price, o.lot_size, HOURS_PER_QUARTER, 1e-6), "$M", "$/unit-hour × lot_size × 2,190 h")
        for k, c in enumerate(self.inst.existing_contracts):
            if c.take_or_pay:
                over(f"existing_contracts[{k}]", "the contract's payment per quarter",
                     log10(c.price_usd_per_unit_hour, c.units, HOURS_PER_QUARTER, 1e-6), "$M",
                     "$/unit-hour × units × 2,190 h")

    def check_provenance(self) -> None:
        raw = self.inst.model_dump(mode="json")
        sources = self._ids("sources") | set(self.catalog_sources)
        for path, prov in self.inst.provenance.items():
            if not _path_exists(raw, path):
                self.add(f"provenance.{path}", "names no value of this instance", path)
            if prov.source is not None and prov.source not in sources:
                self.add(f"provenance.{path}.source", "unknown source id", prov.source)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _path_exists(data: Any, path: str) -> bool:
    """True when ``a.b[2].c`` names a value inside ``data``."""
    node = data
    for match in _PATH_PART.finditer(path):
        key, index = match.groups()
        if index is not None:
            if not isinstance(node, list) or int(index) >= len(node):
                return False
            node = node[int(index)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return False
    return True
