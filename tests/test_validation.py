"""Every validation rule, one failing example each, checked by JSON path and a fragment of the rule text.

The instance below is small but touches every family (sites with expansion, purchases, existing fleet, a
lease offer, an existing contract, a rental, a two-scenario tree, policy dicts, provenance), so each test
breaks exactly one thing in an otherwise valid instance.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from procure.inputs.validation import InstanceError, Problem, instance_from_dict, json_path, load_instance

CATALOG: dict = {
    "description": "test catalog",
    "sources": [{"id": "sheet", "title": "Vendor data sheet"}],
    "accelerators": [
        {"id": "h100", "name": "H100 SXM", "vendor": "nvidia", "generation": "hopper",
         "first_quarter": "2024Q1", "throughput_h100e": {"training": 1.0, "inference": 1.0},
         "power_kw": 1.4, "price": {"initial_kusd": 30.0, "annual_decline": 0.1}, "lot_size": 8,
         "provenance": {"power_kw": {"source": "sheet"}}},
        {"id": "tpu", "name": "TPU", "vendor": "google", "generation": "v6",
         "first_quarter": "2025Q1", "throughput_h100e": {"inference": 1.2}, "power_kw": 1.0},
    ],
}


def make_instance() -> dict:
    """A valid instance over 2026Q1–2027Q4 (8 quarters) referencing ``catalog.json`` next to it."""
    return {
        "name": "mini",
        "description": "minimal valid instance",
        "catalogs": ["catalog.json"],
        "horizon": {"first_quarter": "2026Q1", "last_quarter": "2027Q4", "discount_rate": 0.08},
        "workloads": [{"id": "training"}, {"id": "inference"}],
        "scenarios": [
            {"id": "base", "probability": 0.6,
             "demand": {"training": {"base": 100.0, "growth": 0.5},
                        "inference": {"series": [50.0] * 8}}},
            {"id": "high", "probability": 0.4, "parent": "base", "branch_quarter": "2026Q3",
             "demand": {"training": {"series": {"2026Q3": 200.0, "2027Q1": 300.0}}}},
        ],
        "sites": [{"id": "dc1", "electricity_usd_per_mwh": 60.0, "power_online_mw": 2.0,
                   "expansion": {"block_mw": 1.0, "max_blocks": 4, "lead_quarters": 2,
                                 "capex_musd_per_mw": 10.0, "earliest_start": "2026Q1",
                                 "committed_starts": {"2026Q1": 1}}}],
        "purchases": [{"accelerator": "h100", "sites": ["dc1"]}],
        "existing_fleet": [{"site": "dc1", "accelerator": "h100", "units": 64, "installed": "2025Q1"}],
        "providers": [{"id": "cloud"}],
        "lease_offers": [{"id": "tpu-lease", "provider": "cloud", "accelerator": "tpu",
                          "first_start": "2026Q1", "last_start": "2027Q2",
                          "terms": [{"quarters": 4, "price_usd_per_unit_hour": 1.5},
                                    {"quarters": 8, "price_usd_per_unit_hour": 1.2}],
                          "max_units": 512, "lot_size": 8}],
        "existing_contracts": [{"id": "c1", "provider": "cloud", "accelerator": "h100", "start": "2025Q1",
                                "end": "2026Q4", "units": 32, "price_usd_per_unit_hour": 2.0}],
        "rentals": [{"id": "r1", "provider": "cloud", "accelerator": "h100", "price_usd_per_unit_hour": 3.0,
                     "available_units": 100}],
        "policy": {"capex_budget_musd_per_year": {"2026": 100.0, "2027": 100.0},
                   "max_vendor_share": {"nvidia": 0.9},
                   "max_provider_share": {"cloud": 0.5, "own": 1.0},
                   "shortfall_penalty_usd_per_h100e_quarter": {"training": 1e4, "inference": 2e4}},
        "sources": [{"id": "own-estimate", "title": "internal estimate"}],
        "provenance": {"sites[0].electricity_usd_per_mwh": {"source": "own-estimate", "estimate": True},
                       "rentals[0].price_usd_per_unit_hour": {"source": "sheet"}},
    }


def write(tmp_path: Path, instance: Any, catalog: Any = CATALOG, *, raw: str | None = None) -> Path:
    (tmp_path / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    path = tmp_path / "instance.json"
    path.write_text(raw if raw is not None else json.dumps(instance), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, instance: Any, catalog: Any = CATALOG) -> list[Problem]:
    with pytest.raises(InstanceError) as info:
        load_instance(write(tmp_path, instance, catalog))
    problems = info.value.problems
    assert problems, "InstanceError raised without problems"
    return problems


def assert_problem(problems: list[Problem], path: str, fragment: str) -> None:
    hits = [p for p in problems if p.path == path and fragment in p.rule]
    assert hits, f"no problem at {path!r} containing {fragment!r}; got:\n" + "\n".join(map(str, problems))


# ----------------------------------------------------------------------------- path-based edit helpers
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _keys(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _PART.findall(path)]


def _parent(doc: Any, path: str) -> tuple[Any, str | int]:
    keys = _keys(path)
    node = doc
    for key in keys[:-1]:
        node = node[key]
    return node, keys[-1]


def edited(*edits: tuple) -> dict:
    """The base instance with edits applied: ("set", path, value), ("del", path), ("append", path, value)."""
    doc = make_instance()
    for op, path, *value in edits:
        parent, key = _parent(doc, path)
        if op == "set":
            parent[key] = copy.deepcopy(value[0])
        elif op == "del":
            del parent[key]
        elif op == "append":
            parent[key].append(copy.deepcopy(value[0]))
        else:  # pragma: no cover - test-writing error
            raise ValueError(op)
    return doc


def catalog_with(*edits: tuple) -> dict:
    doc = copy.deepcopy(CATALOG)
    for op, path, *value in edits:
        parent, key = _parent(doc, path)
        if op == "set":
            parent[key] = copy.deepcopy(value[0])
        elif op == "append":
            parent[key].append(copy.deepcopy(value[0]))
        else:  # pragma: no cover
            raise ValueError(op)
    return doc


# ------------------------------------------------------------------------------------------ baseline
def test_base_instance_is_valid(tmp_path):
    loaded = load_instance(write(tmp_path, make_instance()))
    assert loaded.instance.name == "mini"
    assert set(loaded.accelerators) == {"h100", "tpu"}
    assert set(loaded.catalog_sources) == {"sheet"}
    assert loaded.path == tmp_path / "instance.json"


def test_instance_from_dict_resolves_catalogs_against_base_dir(tmp_path):
    write(tmp_path, make_instance())
    loaded = instance_from_dict(make_instance(), base_dir=tmp_path)
    assert "h100" in loaded.accelerators


def test_edge_values_are_valid(tmp_path):
    """Boundaries that must pass: lead time one less than the horizon, a probability sum off by rounding,
    a contract that overlaps the horizon by one quarter, a lease window of one quarter."""
    doc = edited(("set", "sites[0].expansion.lead_quarters", 7),
                 ("set", "scenarios[0].probability", 0.6 + 1e-9),
                 ("set", "existing_contracts[0].end", "2026Q1"),
                 ("set", "lease_offers[0].last_start", "2026Q1"),
                 ("set", "lease_offers[0].max_units", 8))
    load_instance(write(tmp_path, doc))


# ----------------------------------------------------------------------------------- rule examples
R = "unknown catalog accelerator id"
CASES = [
    # unknown catalog ids
    pytest.param([("set", "purchases[0].accelerator", "nope")], "purchases[0].accelerator", R, id="purchase-acc"),
    pytest.param([("set", "existing_fleet[0].accelerator", "nope")], "existing_fleet[0].accelerator", R,
                 id="fleet-acc"),
    pytest.param([("set", "lease_offers[0].accelerator", "nope")], "lease_offers[0].accelerator", R, id="lease-acc"),
    pytest.param([("set", "existing_contracts[0].accelerator", "nope")], "existing_contracts[0].accelerator", R,
                 id="contract-acc"),
    pytest.param([("set", "rentals[0].accelerator", "nope")], "rentals[0].accelerator", R, id="rental-acc"),
    # unknown provider / site / workload / scenario ids
    pytest.param([("set", "lease_offers[0].provider", "aws")], "lease_offers[0].provider", "unknown provider id",
                 id="lease-provider"),
    pytest.param([("set", "existing_contracts[0].provider", "aws")], "existing_contracts[0].provider",
                 "unknown provider id", id="contract-provider"),
    pytest.param([("set", "rentals[0].provider", "aws")], "rentals[0].provider", "unknown provider id",
                 id="rental-provider"),
    pytest.param([("set", "existing_fleet[0].site", "dc9")], "existing_fleet[0].site", "unknown site id",
                 id="fleet-site"),
    pytest.param([("set", "purchases[0].sites", ["dc1", "dc9"])], "purchases[0].sites[1]", "unknown site id",
                 id="purchase-site"),
    pytest.param([("set", "scenarios[1].demand.video", {"base": 1, "growth": 0})], "scenarios[1].demand.video",
                 "unknown workload id", id="demand-workload"),
    pytest.param([("set", "policy.shortfall_penalty_usd_per_h100e_quarter.video", 5.0)],
                 "policy.shortfall_penalty_usd_per_h100e_quarter.video", "unknown workload id", id="penalty-workload"),
    pytest.param([("set", "scenarios[1].parent", "nope")], "scenarios[1].parent", "unknown scenario id",
                 id="parent-scenario"),
    # quarters outside the horizon
    pytest.param([("set", "scenarios[1].branch_quarter", "2028Q1")], "scenarios[1].branch_quarter",
                 "quarter outside the horizon 2026Q1–2027Q4", id="branch-quarter"),
    pytest.param([("set", "sites[0].expansion.earliest_start", "2025Q4")], "sites[0].expansion.earliest_start",
                 "quarter outside the horizon", id="earliest-start"),
    pytest.param([("set", "sites[0].expansion.committed_starts", {"2028Q2": 1})],
                 "sites[0].expansion.committed_starts.2028Q2", "quarter outside the horizon", id="committed-start"),
    pytest.param([("set", "lease_offers[0].first_start", "2025Q4")], "lease_offers[0].first_start",
                 "quarter outside the horizon", id="lease-first-start"),
    pytest.param([("set", "lease_offers[0].last_start", "2028Q1")], "lease_offers[0].last_start",
                 "quarter outside the horizon", id="lease-last-start"),
    pytest.param([("set", "scenarios[1].demand.training.series", {"2026Q3": 1.0, "2029Q1": 2.0})],
                 "scenarios[1].demand.training.series.2029Q1", "quarter outside the horizon", id="series-key"),
    # scenario tree
    pytest.param([("set", "scenarios[0].probability", 0.5)], "scenarios", "probabilities must sum to 1",
                 id="probability-sum"),
    pytest.param([("set", "scenarios[0].parent", "high"), ("set", "scenarios[0].branch_quarter", "2026Q2")],
                 "scenarios", "exactly one root", id="no-root"),
    pytest.param([("set", "scenarios[1].parent", None), ("set", "scenarios[1].branch_quarter", None),
                  ("set", "scenarios[1].demand", make_instance()["scenarios"][0]["demand"])],
                 "scenarios", "exactly one root", id="two-roots"),
    pytest.param([("set", "scenarios[1].probability", 0.2),
                  ("append", "scenarios", {"id": "c", "probability": 0.1, "parent": "d", "branch_quarter": "2026Q3",
                                           "demand": {}}),
                  ("append", "scenarios", {"id": "d", "probability": 0.1, "parent": "c", "branch_quarter": "2026Q3",
                                           "demand": {}})],
                 "scenarios[2].parent", "the scenario tree has a cycle", id="cycle"),
    pytest.param([("set", "scenarios[1].parent", "high")], "scenarios[1].parent", "cannot be its own parent",
                 id="own-parent"),
    pytest.param([("set", "scenarios[1].probability", 0.2),
                  ("append", "scenarios", {"id": "higher", "probability": 0.2, "parent": "high",
                                           "branch_quarter": "2026Q2", "demand": {}})],
                 "scenarios[2].branch_quarter", "cannot branch before its parent", id="child-before-parent"),
    pytest.param([("set", "scenarios[0].demand.inference.series", [50.0] * 7)], "scenarios[0].demand.inference.series",
                 "one value per quarter (8)", id="series-length"),
    pytest.param([("del", "scenarios[0].demand.inference")], "scenarios[0].demand",
                 "root scenario needs demand for workload 'inference'", id="root-demand"),
    # sites
    pytest.param([("set", "sites[0].expansion.lead_quarters", 8)], "sites[0].expansion.lead_quarters",
                 "never come online inside the horizon (8 quarters)", id="lead-time"),
    pytest.param([("set", "sites[0].expansion.committed_starts", {"2026Q1": 3, "2026Q2": 2})],
                 "sites[0].expansion.committed_starts", "more committed blocks than max_blocks", id="committed-blocks"),
    # negative prices and other ranges (pydantic)
    pytest.param([("set", "rentals[0].price_usd_per_unit_hour", -1)], "rentals[0].price_usd_per_unit_hour",
                 "greater than or equal to 0", id="rental-price"),
    pytest.param([("set", "lease_offers[0].terms[1].price_usd_per_unit_hour", -1)],
                 "lease_offers[0].terms[1].price_usd_per_unit_hour", "greater than or equal to 0", id="term-price"),
    pytest.param([("set", "existing_contracts[0].price_usd_per_unit_hour", -0.5)],
                 "existing_contracts[0].price_usd_per_unit_hour", "greater than or equal to 0", id="contract-price"),
    pytest.param([("set", "sites[0].electricity_usd_per_mwh", -60)], "sites[0].electricity_usd_per_mwh",
                 "greater than or equal to 0", id="electricity-price"),
    pytest.param([("set", "scenarios[0].demand.inference.series", [50.0] * 7 + [-1.0])],
                 "scenarios[0].demand.inference.series[7]", "greater than or equal to 0", id="negative-demand"),
    pytest.param([("set", "scenarios[0].probability", 1.5)], "scenarios[0].probability", "less than or equal to 1",
                 id="probability-range"),
    pytest.param([("set", "sites[0].pue", 0.9)], "sites[0].pue", "greater than or equal to 1", id="pue-range"),
    # duplicate ids, each list
    pytest.param([("append", "workloads", {"id": "training"})], "workloads[2].id", "duplicate id",
                 id="dup-workload"),
    pytest.param([("set", "scenarios[1].probability", 0.2),
                  ("append", "scenarios", {**make_instance()["scenarios"][1], "probability": 0.2})],
                 "scenarios[2].id", "duplicate id", id="dup-scenario"),
    pytest.param([("append", "sites", {"id": "dc1", "electricity_usd_per_mwh": 1.0})], "sites[1].id", "duplicate id",
                 id="dup-site"),
    pytest.param([("append", "providers", {"id": "cloud"})], "providers[1].id", "duplicate id", id="dup-provider"),
    pytest.param([("append", "lease_offers", make_instance()["lease_offers"][0])], "lease_offers[1].id",
                 "duplicate id", id="dup-lease"),
    pytest.param([("append", "existing_contracts", make_instance()["existing_contracts"][0])],
                 "existing_contracts[1].id", "duplicate id", id="dup-contract"),
    pytest.param([("append", "rentals", make_instance()["rentals"][0])], "rentals[1].id", "duplicate id",
                 id="dup-rental"),
    pytest.param([("append", "sources", {"id": "own-estimate", "title": "again"})], "sources[1].id", "duplicate id",
                 id="dup-source"),
    pytest.param([("append", "purchases", {"accelerator": "h100"})], "purchases[1].accelerator", "duplicate id",
                 id="dup-purchase"),
    # provenance
    pytest.param([("set", "provenance", {"sites[3].pue": {"note": "typo"}})], "provenance.sites[3].pue",
                 "names no value of this instance", id="provenance-path-index"),
    pytest.param([("set", "provenance", {"sites[0].puee": {}})], "provenance.sites[0].puee",
                 "names no value of this instance", id="provenance-path-key"),
    pytest.param([("set", "provenance", {"sites[0].pue": {"source": "wiki"}})], "provenance.sites[0].pue.source",
                 "unknown source id", id="provenance-source"),
    # policy
    pytest.param([("set", "policy.max_vendor_share", {"amd": 0.5})], "policy.max_vendor_share.amd",
                 "no accelerator of this vendor is in the instance", id="vendor-share"),
    pytest.param([("set", "policy.max_provider_share", {"aws": 0.5})], "policy.max_provider_share.aws",
                 "unknown provider ('own' or a provider) id", id="provider-share"),
    pytest.param([("del", "policy.shortfall_penalty_usd_per_h100e_quarter.inference")],
                 "policy.shortfall_penalty_usd_per_h100e_quarter", "missing workload 'inference'",
                 id="penalty-missing-workload"),
    pytest.param([("set", "policy.shortfall_penalty_usd_per_h100e_quarter", -1.0)],
                 "policy.shortfall_penalty_usd_per_h100e_quarter", "must be ≥ 0", id="penalty-negative"),
    pytest.param([("set", "policy.capex_budget_musd_per_year", {"2026": 1.0, "2030": 5.0})],
                 "policy.capex_budget_musd_per_year.2030", "not a calendar year of the horizon", id="budget-year"),
    pytest.param([("set", "policy.capex_budget_musd_per_year", -5.0)], "policy.capex_budget_musd_per_year",
                 "must be ≥ 0", id="budget-negative"),
    # providers and leases
    pytest.param([("append", "providers", {"id": "own"})], "providers[1].id", "'own' is reserved", id="own-reserved"),
    pytest.param([("set", "lease_offers[0].take_or_pay", False)], "lease_offers[0].terms",
                 "pay-per-use offer (take_or_pay false) needs one price", id="pay-per-use-prices"),
    pytest.param([("set", "lease_offers[0].terms[1].quarters", 4)], "lease_offers[0].terms",
                 "two terms have the same length", id="same-term-length"),
    pytest.param([("set", "lease_offers[0].min_units", 600)], "lease_offers[0]", "min_units exceeds max_units",
                 id="min-above-max"),
    pytest.param([("set", "lease_offers[0].max_units", 4)], "lease_offers[0].max_units", "below one lot (8 units)",
                 id="max-below-lot"),
    pytest.param([("set", "lease_offers[0].last_start", "2026Q1"), ("set", "lease_offers[0].first_start", "2026Q2")],
                 "lease_offers[0].last_start", "start window is empty", id="empty-start-window"),
    pytest.param([("set", "lease_offers[0].terms", [])], "lease_offers[0].terms", "at least 1 item",
                 id="no-terms"),
    pytest.param([("set", "existing_contracts[0].end", "2024Q4")], "existing_contracts[0].end",
                 "contract ends before it starts", id="contract-ends-before-start"),
    pytest.param([("set", "existing_contracts[0].start", "2024Q1"), ("set", "existing_contracts[0].end", "2025Q4")],
                 "existing_contracts[0]", "contract does not overlap the horizon", id="contract-before-horizon"),
    pytest.param([("set", "existing_contracts[0].start", "2028Q1"), ("set", "existing_contracts[0].end", "2029Q4")],
                 "existing_contracts[0]", "contract does not overlap the horizon", id="contract-after-horizon"),
    # purchases and fleet
    pytest.param([("append", "purchases", {"accelerator": "tpu"})], "purchases[1].accelerator",
                 "no purchase price in the catalog", id="purchase-without-price"),
    pytest.param([("set", "purchases[0].first_quarter", "2027Q1"), ("set", "purchases[0].last_quarter", "2026Q1")],
                 "purchases[0].last_quarter", "purchase window is empty", id="purchase-window"),
    pytest.param([("set", "sites", []), ("set", "existing_fleet", []), ("del", "purchases[0].sites"),
                  ("set", "provenance", {})],
                 "sites", "purchases need at least one site", id="purchase-without-site"),
    pytest.param([("set", "existing_fleet[0].installed", "2028Q1")], "existing_fleet[0].installed",
                 "installed after the horizon ends", id="fleet-after-horizon"),
    # eligibility
    pytest.param([("append", "workloads", {"id": "video"}),
                  ("set", "scenarios[0].demand.video", {"base": 5.0, "growth": 0.0}),
                  ("set", "policy.shortfall_penalty_usd_per_h100e_quarter.video", 1.0)],
                 "workloads[2]", "no accelerator in the instance can serve this workload", id="unservable-workload"),
    # shape: typos, forms, required keys, quarters
    pytest.param([("set", "sites[0].pue_ratio", 1.2)], "sites[0].pue_ratio", "Extra inputs are not permitted",
                 id="typo-nested"),
    pytest.param([("set", "horizn", {"first_quarter": "2026Q1"})], "horizn", "Extra inputs are not permitted",
                 id="typo-top"),
    pytest.param([("set", "policy.max_vendor_shares", {})], "policy.max_vendor_shares",
                 "Extra inputs are not permitted", id="typo-policy"),
    pytest.param([("set", "scenarios[0].demand.training.series", [1.0] * 8)], "scenarios[0].demand.training",
                 "give either 'series', or 'growth'", id="demand-both"),
    pytest.param([("set", "scenarios[0].demand.training", {})], "scenarios[0].demand.training",
                 "give 'series', or 'growth'", id="demand-neither"),
    pytest.param([("del", "scenarios[0].demand.training.growth")], "scenarios[0].demand.training",
                 "'base' needs 'growth'", id="base-without-growth"),
    pytest.param([("del", "scenarios[1].branch_quarter")], "scenarios[1]",
                 "'parent' and 'branch_quarter' go together", id="parent-without-branch"),
    pytest.param([("del", "policy")], "policy", "Field required", id="missing-policy"),
    pytest.param([("del", "rentals[0].available_units")], "rentals[0].available_units", "Field required",
                 id="missing-nested"),
    pytest.param([("set", "horizon.first_quarter", "2026Q5")], "horizon.first_quarter", "should match pattern",
                 id="bad-quarter"),
    pytest.param([("set", "sites[0].expansion.committed_starts", {"2026-Q1": 1})],
                 "sites[0].expansion.committed_starts.2026-Q1", "should match pattern", id="bad-quarter-key"),
    pytest.param([("set", "horizon.last_quarter", "2025Q4")], "horizon.last_quarter",
                 "must not precede horizon.first_quarter", id="horizon-reversed"),
    pytest.param([("set", "name", "has space")], "name", "should match pattern", id="bad-identifier"),
    pytest.param([("set", "workloads", [])], "workloads", "at least 1 item", id="no-workloads"),
    pytest.param([("set", "sites[0].expansion.max_blocks", "four")], "sites[0].expansion.max_blocks",
                 "valid integer", id="wrong-type"),
    pytest.param([("set", "rentals[0].available_units", "lots")], "rentals[0].available_units",
                 "valid number", id="wrong-type-union"),
]


@pytest.mark.parametrize(("edits", "path", "fragment"), CASES)
def test_rule(tmp_path, edits, path, fragment):
    assert_problem(problems_of(tmp_path, edited(*edits)), path, fragment)


# ----------------------------------------------------------------------------------------- catalogs
CATALOG_CASES = [
    pytest.param([("append", "accelerators", {**CATALOG["accelerators"][1]})], "catalog.json:accelerators[2].id",
                 "duplicate", id="dup-accelerator"),
    pytest.param([("append", "sources", {"id": "sheet", "title": "again"})], "catalog.json:sources[1].id",
                 "duplicate id", id="dup-source"),
    pytest.param([("set", "accelerators[1].last_quarter", "2024Q4")], "catalog.json:accelerators[1].last_quarter",
                 "must not precede first_quarter", id="last-before-first"),
    pytest.param([("set", "accelerators[1].throughput_h100e", {"inference": 0.0})],
                 "catalog.json:accelerators[1].throughput_h100e", "needs a positive throughput", id="no-throughput"),
    pytest.param([("set", "accelerators[0].provenance", {"power": {"source": "sheet"}})],
                 "catalog.json:accelerators[0].provenance.power", "names no field of an accelerator",
                 id="provenance-field"),
    pytest.param([("set", "accelerators[0].provenance", {"power_kw": {"source": "blog"}})],
                 "catalog.json:accelerators[0].provenance.power_kw.source", "unknown source id",
                 id="provenance-source"),
]


@pytest.mark.parametrize(("edits", "path", "fragment"), CATALOG_CASES)
def test_catalog_rule(tmp_path, edits, path, fragment):
    assert_problem(problems_of(tmp_path, make_instance(), catalog_with(*edits)), path, fragment)


def test_catalog_missing(tmp_path):
    doc = edited(("set", "catalogs", ["catalog.json", "nowhere.json"]))
    assert_problem(problems_of(tmp_path, doc), "catalogs[1] (nowhere.json)", "cannot read file")


def test_catalog_not_json(tmp_path):
    path = write(tmp_path, make_instance())
    (tmp_path / "catalog.json").write_text("{accelerators: []", encoding="utf-8")
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert_problem(info.value.problems, "catalogs[0] (catalog.json)", "not valid JSON")


def test_catalog_not_an_object(tmp_path):
    problems = problems_of(tmp_path, make_instance(), catalog=[])
    assert any(p.path.startswith("catalog.json") and "must be a JSON object" in p.rule for p in problems), problems


def test_catalog_bad_entry_is_reported_under_the_catalog(tmp_path):
    """A schema error in a catalog entry names the catalog and the entry's field (exact form tested below)."""
    problems = problems_of(tmp_path, make_instance(), catalog_with(("set", "accelerators[0].power_kw", -1)))
    hits = [p for p in problems if p.path.startswith("catalog.json:") and
            p.path.endswith("accelerators[0].power_kw") and "greater than or equal to 0" in p.rule]
    assert hits, problems


def test_catalog_bad_entry_exact_path(tmp_path):
    problems = problems_of(tmp_path, make_instance(), catalog_with(("set", "accelerators[0].power_kw", -1)))
    assert_problem(problems, "catalog.json:accelerators[0].power_kw", "greater than or equal to 0")


def test_catalog_extra_key_rejected(tmp_path):
    problems = problems_of(tmp_path, make_instance(), catalog_with(("set", "accelerators[1].power_watts", 700)))
    assert any(p.path.endswith("accelerators[1].power_watts") and "Extra inputs" in p.rule for p in problems), problems


def test_accelerators_from_two_catalogs_merge(tmp_path):
    write(tmp_path, None)
    second = {"accelerators": [{**CATALOG["accelerators"][1], "id": "mi300", "vendor": "amd"}]}
    (tmp_path / "second.json").write_text(json.dumps(second), encoding="utf-8")
    doc = edited(("set", "catalogs", ["catalog.json", "second.json"]))
    loaded = instance_from_dict(doc, base_dir=tmp_path)
    assert set(loaded.accelerators) == {"h100", "tpu", "mi300"}
    # the same catalog twice: every id is a duplicate across catalogs
    doc = edited(("set", "catalogs", ["catalog.json", "catalog.json"]))
    with pytest.raises(InstanceError) as info:
        instance_from_dict(doc, base_dir=tmp_path)
    assert_problem(info.value.problems, "catalog.json:accelerators[0].id", "duplicate accelerator id across catalogs")


# --------------------------------------------------------------------------------------------- files
def test_missing_file(tmp_path):
    with pytest.raises(InstanceError) as info:
        load_instance(tmp_path / "absent.json")
    [problem] = info.value.problems
    assert problem.path == str(tmp_path / "absent.json")
    assert "cannot read file" in problem.rule


def test_directory_is_unreadable(tmp_path):
    with pytest.raises(InstanceError) as info:
        load_instance(tmp_path)
    [problem] = info.value.problems
    assert problem.path == str(tmp_path) and "not a regular file" in problem.rule


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"name": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert "not UTF-8" in info.value.problems[0].rule


def test_not_json(tmp_path):
    path = write(tmp_path, None, raw='{"name": "mini",\n  horizon: 1}')
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    [problem] = info.value.problems
    assert problem.path == str(path)
    assert "not valid JSON" in problem.rule and "line 2" in problem.rule


@pytest.mark.parametrize("raw", ["[]", "null", "3", '"instance"'])
def test_not_an_object(tmp_path, raw):
    with pytest.raises(InstanceError) as info:
        load_instance(write(tmp_path, None, raw=raw))
    assert_problem(info.value.problems, "(root)", "must be a JSON object")


def test_instance_from_dict_rejects_non_object():
    with pytest.raises(InstanceError) as info:
        instance_from_dict(["not", "a", "dict"])
    assert_problem(info.value.problems, "(root)", "must be a JSON object")


def test_catalog_name_with_nul_byte_is_a_problem(tmp_path):
    assert problems_of(tmp_path, edited(("set", "catalogs", ["cata\u0000log.json"])))


def test_deeply_nested_json_is_a_problem(tmp_path):
    with pytest.raises(InstanceError):
        load_instance(write(tmp_path, None, raw="[" * 100_000 + "]" * 100_000))


# ------------------------------------------------------------------------------- all problems at once
@pytest.mark.parametrize("edits, expected", [
    pytest.param([("set", "rentals[0].accelerator", "nope"),
                  ("set", "scenarios[0].probability", 0.5),
                  ("set", "sites[0].expansion.lead_quarters", 9)],
                 [("rentals[0].accelerator", "unknown catalog accelerator id"),
                  ("scenarios", "probabilities must sum to 1"),
                  ("sites[0].expansion.lead_quarters", "never come online")], id="semantic"),
    pytest.param([("set", "rentals[0].price_usd_per_unit_hour", -1),
                  ("set", "sites[0].pue_ratio", 1.2),
                  ("del", "existing_fleet[0].units")],
                 [("rentals[0].price_usd_per_unit_hour", "greater than or equal to 0"),
                  ("sites[0].pue_ratio", "Extra inputs are not permitted"),
                  ("existing_fleet[0].units", "Field required")], id="schema"),
])
def test_three_errors_are_all_reported(tmp_path, edits, expected):
    problems = problems_of(tmp_path, edited(*edits))
    assert len(problems) >= 3
    for path, fragment in expected:
        assert_problem(problems, path, fragment)


def test_instance_error_lists_every_problem(tmp_path):
    doc = edited(("set", "rentals[0].provider", "aws"), ("set", "lease_offers[0].provider", "gcp"))
    with pytest.raises(InstanceError) as info:
        load_instance(write(tmp_path, doc))
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems) >= 2
    assert "rentals[0].provider: unknown provider id (got 'aws')" in lines


def test_union_errors_are_merged_into_one_line_per_path(tmp_path):
    problems = problems_of(tmp_path, edited(("set", "rentals[0].available_units", "lots")))
    paths = [p.path for p in problems]
    assert paths.count("rentals[0].available_units") == 1


# ------------------------------------------------------------------------------------- small pieces
def test_problem_str_shows_and_shortens_the_value():
    assert str(Problem("a.b", "rule")) == "a.b: rule"
    assert str(Problem("a.b", "rule", "x")) == "a.b: rule (got 'x')"
    long = str(Problem("a", "r", list(range(100))))
    assert long.endswith("...)") and len(long) < 100


_DATA = {"sites": [{"pue": 1}, {}, {"pue": 1}], "rentals": [{"available_units": -1}],
         "scenarios": [{"demand": {"training": {"series": [1, 2, 3, -4]}}}]}


@pytest.mark.parametrize(("loc", "path"), [
    (("sites", 2, "pue"), "sites[2].pue"),
    ((), "(root)"),
    (("rentals", 0, "available_units", "float"), "rentals[0].available_units"),
    (("scenarios", 0, "demand", "training", "series", "list[constrained-float]", 3),
     "scenarios[0].demand.training.series[3]"),
])
def test_json_path(loc, path):
    # union-member tags pydantic adds to a location are dropped: they are not keys of the input
    assert json_path(loc, data=_DATA) == path


def test_json_path_keeps_the_missing_key():
    assert json_path(("sites", 1, "pue"), data=_DATA, missing=True) == "sites[1].pue"


@pytest.mark.parametrize(("edits", "path"), [
    ([("set", "policy.max_vendor_share", {"int": 2})], "policy.max_vendor_share.int"),
    ([("set", "sites[0].none", 1)], "sites[0].none"),
    ([("set", "sites[0].expansion.committed_starts", {"q[1]": 1})], "sites[0].expansion.committed_starts.q[1]"),
])
def test_user_keys_that_look_like_type_tags_keep_their_path(tmp_path, edits, path):
    assert path in [p.path for p in problems_of(tmp_path, edited(*edits))]


@pytest.mark.parametrize("path", ["sites[0].power_online_mw", "rentals[0].available_units",
                                  "purchases[0].supply_cap_units", "providers[0].capacity_units"])
def test_negative_step_constant_is_rejected(tmp_path, path):
    problems = problems_of(tmp_path, edited(("set", path, -1)))
    assert path in [p.path for p in problems]


@pytest.mark.parametrize(("path", "token"), [
    ("policy.shortfall_penalty_usd_per_h100e_quarter", "NaN"),
    ("policy.capex_budget_musd_per_year", "NaN"),
    ("rentals[0].price_usd_per_unit_hour", "1e999"),
])
def test_non_finite_numbers_are_rejected(tmp_path, path, token):
    marker = "__NUMBER__"
    text = json.dumps(edited(("set", path, marker))).replace(f'"{marker}"', token)
    with pytest.raises(InstanceError) as info:
        load_instance(write(tmp_path, None, raw=text))
    assert path in [p.path for p in info.value.problems]


def test_documented_example_instance_is_valid(root):
    # the annotated example in docs/instance-format.md, comments stripped, must stay a valid instance
    page = (root / "docs" / "instance-format.md").read_text(encoding="utf-8")
    block = page.split("# Instance format", 1)[1].split("```jsonc\n", 1)[1].split("```", 1)[0]
    text = "\n".join(line.split("  //", 1)[0] for line in block.splitlines())
    loaded = instance_from_dict(json.loads(text), base_dir=root / "instances")
    assert loaded.instance.name == "example"


# ------------------------------------------------------------------------------------ magnitudes
# Every number is at most 1e12 (schema.LARGEST), and so is every model coefficient made of several.
# Before these rules, HiGHS read |x| ≥ 1e20 as infinite: a purchase price_scale of 1e300 made buying
# free (small.json "solved" to 494.1 $M against its 1,359.5), and base × (1 + growth)^years overflowed
# into a traceback.
@pytest.mark.parametrize("path", [
    "sites[0].electricity_usd_per_mwh", "sites[0].fixed_opex_musd_per_mw_year", "sites[0].power_online_mw",
    "sites[0].expansion.block_mw", "sites[0].expansion.max_blocks", "sites[0].expansion.committed_starts.2026Q1",
    "sites[0].facility_life_quarters", "purchases[0].price_scale", "rentals[0].price_usd_per_unit_hour",
    "lease_offers[0].lot_size", "lease_offers[0].terms[0].quarters", "existing_contracts[0].units",
    "scenarios[0].demand.training.base", "scenarios[0].demand.training.growth",
    "scenarios[0].demand.inference.series[0]", "policy.capex_budget_musd_per_year.2026",
])
def test_a_number_above_1e12_is_rejected(tmp_path, path):
    assert_problem(problems_of(tmp_path, edited(("set", path, 10**13))), path, "less than or equal to 1000000000000")


@pytest.mark.parametrize("path", ["policy.capex_budget_musd_per_year",
                                  "policy.shortfall_penalty_usd_per_h100e_quarter"])
def test_a_policy_number_above_1e12_is_rejected(tmp_path, path):
    assert_problem(problems_of(tmp_path, edited(("set", path, 1e300))), path, "less than or equal to 1000000000000")


def test_a_catalog_number_above_1e12_is_rejected(tmp_path):
    problems = problems_of(tmp_path, make_instance(), catalog_with(("set", "accelerators[0].lot_size", 10**13)))
    assert_problem(problems, "catalog.json:accelerators[0].lot_size", "less than or equal to 1000000000000")


def test_1e12_itself_is_accepted(tmp_path):
    load_instance(write(tmp_path, edited(("set", "rentals[0].price_usd_per_unit_hour", 1e12),
                                         ("set", "sites[0].expansion.max_blocks", 10**12))))


DERIVED = "the model takes at most 1e12"
MAGNITUDE_CASES = [
    # 100 H100e × (1 + 1e6)^(7 quarters / 4 = 1.75 years) = 100 × 1e10.5 ≈ 3.16e12 > 1e12; growth 1e5: 5.6e10, fine
    pytest.param([("set", "scenarios[0].demand.training.growth", 1e6)], "scenarios[0].demand.training.growth",
                 "demand in 2027Q4 would be 3.16e+12 H100e", id="demand-growth"),
    # 1e9 MW × 1e4 $M/MW = 1e13 $M a block
    pytest.param([("set", "sites[0].expansion.block_mw", 1e9), ("set", "sites[0].expansion.capex_musd_per_mw", 1e4)],
                 "sites[0].expansion", "a block's capex would be 1e+13 $M", id="block-capex"),
    # 30 k$ × 1e12 (price_scale) × 8 units a lot / 1000 = 2.4e11 $M: fine (too much: next test)
    pytest.param([("set", "purchases[0].price_scale", 1e12)], None, None, id="lot-price-within"),
    # 1e12 $/MWh × 1.4 kW × PUE 1.1 × 2,190 h / 1e9 = 3.37e6 $M: fine (the largest kW here is 1.4)
    pytest.param([("set", "sites[0].electricity_usd_per_mwh", 1e12)], None, None, id="electricity-within"),
    # 1e9 $/h × 8 units × 2,190 h / 1e6 = 1.75e7 $M a lot-quarter: fine; a lot of 1e12 units: 2.19e18 $M
    pytest.param([("set", "lease_offers[0].terms[0].price_usd_per_unit_hour", 1e9),
                  ("set", "lease_offers[0].lot_size", 10**12), ("set", "lease_offers[0].max_units", 1e12)],
                 "lease_offers[0]", "a lot's lease per quarter would be 2.19e+18 $M", id="lease-lot"),
    # 1e9 $/h × 1e12 units × 2,190 h / 1e6 = 2.19e18 $M a quarter
    pytest.param([("set", "existing_contracts[0].price_usd_per_unit_hour", 1e9),
                  ("set", "existing_contracts[0].units", 1e12)],
                 "existing_contracts[0]", "the contract's payment per quarter would be 2.19e+18 $M", id="contract"),
]


@pytest.mark.parametrize(("edits", "path", "fragment"), MAGNITUDE_CASES)
def test_model_coefficients_above_1e12_are_rejected(tmp_path, edits, path, fragment):
    if path is None:
        load_instance(write(tmp_path, edited(*edits)))
    else:
        assert_problem(problems_of(tmp_path, edited(*edits)), path, fragment)
        assert_problem(problems_of(tmp_path, edited(*edits)), path, DERIVED)


def test_a_lot_price_above_1e12_names_the_purchase(tmp_path):
    # 30 k$ × 1e12 (price_scale) × 1e6 units a lot / 1000 = 3e16 $M
    problems = problems_of(tmp_path, edited(("set", "purchases[0].price_scale", 1e12)),
                           catalog_with(("set", "accelerators[0].lot_size", 10**6)))
    assert_problem(problems, "purchases[0]", "a lot's price would be 3e+16 $M")


def test_growth_that_would_overflow_is_reported_not_raised(tmp_path):
    # 100 × (1 + 1e12)^((200 − 1) quarters / 4 = 49.75 years) = 1e599: a float overflow when the data is built
    problems = problems_of(tmp_path, edited(("set", "horizon.last_quarter", "2075Q4"),
                                            ("set", "scenarios[0].demand.training.growth", 1e12),
                                            ("set", "scenarios[0].demand.inference", {"base": 50.0, "growth": 0.0})))
    assert_problem(problems, "scenarios[0].demand.training.growth", "would be 1e599 H100e")


def test_fixed_opex_on_a_large_power_step_is_rejected(tmp_path):
    # 1e12 $M/MW-year / 4 × 1e12 MW online = 2.5e23 $M a quarter. Found by the solve fuzz test: tiny.json
    # with its fixed opex ($M/MW-year) and power online (MW) at 1e9 and 1e12 "solved" to 1e21 $M
    # (1e9 × 1e12 / 4 × 4 quarters), beyond HiGHS's infinity of 1e20, every other cost (26 $M in all) below its gap
    problems = problems_of(tmp_path, edited(("set", "sites[0].fixed_opex_musd_per_mw_year", 1e12),
                                            ("set", "sites[0].power_online_mw", 1e12)))
    assert_problem(problems, "sites[0].fixed_opex_musd_per_mw_year",
                   "the fixed opex per quarter of the power online would be 2.5e+23 $M")
    # per block: 1e8 / 4 × 1e9 MW a block = 2.5e16 $M
    problems = problems_of(tmp_path, edited(("set", "sites[0].fixed_opex_musd_per_mw_year", 1e8),
                                            ("set", "sites[0].expansion.block_mw", 1e9),
                                            ("set", "sites[0].expansion.capex_musd_per_mw", 0.0)))
    assert_problem(problems, "sites[0].fixed_opex_musd_per_mw_year", "would be 2.5e+16 $M")


def test_committed_blocks_are_checked_as_a_whole(tmp_path):
    # one block is 1 MW × 1e6 $M/MW = 1e6 $M (fine), but 1e9 committed blocks are 1e15 $M of capex paid at
    # the start (a constant of the objective and of the budget row) and 1e9 MW online: a wrong "optimal"
    # plan before this rule (a budget row read as infinite: 4 demand rows and the budget violated)
    problems = problems_of(tmp_path, edited(("set", "sites[0].expansion.capex_musd_per_mw", 1e6),
                                            ("set", "sites[0].expansion.max_blocks", 10**12),
                                            ("set", "sites[0].expansion.committed_starts", {"2026Q1": 10**9})))
    assert_problem(problems, "sites[0].expansion.committed_starts", "the committed blocks' capex would be 1e+15 $M")
    # 1e7 MW a block × 1e6 committed = 1e13 MW online
    problems = problems_of(tmp_path, edited(("set", "sites[0].expansion.block_mw", 1e7),
                                            ("set", "sites[0].expansion.capex_musd_per_mw", 0.0),
                                            ("set", "sites[0].expansion.max_blocks", 10**6),
                                            ("set", "sites[0].expansion.committed_starts", {"2026Q1": 10**6})))
    assert_problem(problems, "sites[0].expansion.committed_starts", "the committed blocks' power would be 1e+13 MW")


def test_a_growth_factor_above_1e12_is_rejected_even_on_a_zero_base(tmp_path):
    # base 0 makes the demand 0, but the factor (1 + 1e12)^(103 / 4 = 25.75 years) = 1e309 overflowed first
    problems = problems_of(tmp_path, edited(("set", "horizon.last_quarter", "2051Q4"),
                                            ("set", "scenarios[0].demand.training", {"base": 0.0, "growth": 1e12}),
                                            ("set", "scenarios[0].demand.inference", {"base": 50.0, "growth": 0.0})))
    assert_problem(problems, "scenarios[0].demand.training.growth",
                   "the growth factor over the horizon would be 1e309 ×")


def test_electricity_of_a_power_hungry_unit_is_rejected(tmp_path):
    # 1e12 $/MWh × 1e6 kW (the catalog's h100, edited) × PUE 1.1 × 2,190 h / 1e9 = 2.41e12 $M a unit-quarter
    problems = problems_of(tmp_path, edited(("set", "sites[0].electricity_usd_per_mwh", 1e12)),
                           catalog_with(("set", "accelerators[0].power_kw", 1e6)))
    assert_problem(problems, "sites[0].electricity_usd_per_mwh",
                   "a unit's electricity per quarter would be 2.41e+12 $M")


def test_a_lot_price_from_a_price_path_step_is_checked(tmp_path):
    # the highest step, 1e12 k$ × price_scale 1 × 8 units a lot / 1000 = 8e9 $M: fine; × price_scale 1000: 8e12
    catalog = catalog_with(("set", "accelerators[0].price", {"initial_kusd": 30.0,
                                                             "by_quarter": {"2026Q1": 30.0, "2027Q1": 1e12}}))
    load_instance(write(tmp_path, make_instance(), catalog))
    problems = problems_of(tmp_path, edited(("set", "purchases[0].price_scale", 1000)), catalog)
    assert_problem(problems, "purchases[0]", "a lot's price would be 8e+12 $M")


def test_pay_per_use_leases_and_contracts_are_not_priced_by_the_lot(tmp_path):
    # a pay-per-use lease pays the units it uses (a coefficient of 1e9 $/h × 2,190 h / 1e6 = 2.19e6 $M per
    # unit), not whole lots; a pay-per-use contract has no constant payment
    load_instance(write(tmp_path, edited(
        ("set", "lease_offers[0].take_or_pay", False), ("set", "lease_offers[0].terms", [
            {"quarters": 4, "price_usd_per_unit_hour": 1e9}]),
        ("set", "lease_offers[0].lot_size", 10**12), ("set", "lease_offers[0].max_units", 1e12),
        ("set", "existing_contracts[0].take_or_pay", False),
        ("set", "existing_contracts[0].price_usd_per_unit_hour", 1e9),
        ("set", "existing_contracts[0].units", 1e12))))


def test_quarter_names_have_four_digit_years():
    from procure.inputs.quarters import quarter_name, quarter_ordinal, quarter_year

    # "999Q4" (no padding) broke quarter_year, which reads four characters, under a dict budget
    assert quarter_name(quarter_ordinal("0999Q4")) == "0999Q4" and quarter_year("0999Q4") == 999


def test_a_product_just_above_1e12_shows_enough_digits_and_one_at_1e12_passes(tmp_path):
    # 4e6 $M/MW-year / 4 × (3.84 MW + one committed block of 1e6 MW) = 1.00000384e12 $M
    edits = [("set", "sites[0].power_online_mw", 3.84), ("set", "sites[0].expansion.block_mw", 1e6),
             ("set", "sites[0].expansion.capex_musd_per_mw", 0.0),
             ("set", "sites[0].expansion.committed_starts", {"2026Q1": 1})]
    problems = problems_of(tmp_path, edited(*edits, ("set", "sites[0].fixed_opex_musd_per_mw_year", 4e6)))
    assert_problem(problems, "sites[0].fixed_opex_musd_per_mw_year", "would be 1.000004e+12 $M")
    # 1e6 MW a block × 1e6 $M/MW = 1e12 $M exactly: accepted
    load_instance(write(tmp_path, edited(("set", "sites[0].expansion.block_mw", 1e6),
                                         ("set", "sites[0].expansion.capex_musd_per_mw", 1e6),
                                         ("set", "sites[0].expansion.committed_starts", {}))))
