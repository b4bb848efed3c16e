"""Seeded generator of procurement instances whose size grows along five independent dimensions.

``generate(spec)`` returns an instance as a plain dict (the JSON an instance file would hold). Its catalog
path is relative to this directory (:data:`BASE_DIR`), so validate it with
``procure.inputs.validation.instance_from_dict(raw, base_dir=BASE_DIR)`` — or call :func:`load`.

The dimensions of a :class:`BenchSpec`:

* ``quarters``: horizon length from 2026Q1 (8 = through 2027Q4, 28 = through 2032Q4);
* ``sites``: campuses; the first holds the existing fleet, about two in three can add power blocks;
* ``accelerators``: purchasable accelerators from the repository catalog (at most the catalog's priced
  entries whose sales window meets the horizon; the first ones are the current generations);
* ``offers``: lease offers (1-4 terms each) spread over providers; TPUs are lease-only;
* ``scenarios``: leaves of a scenario tree; each new leaf branches from an earlier one at a later quarter.

Everything else (prices, power, demand, caps) is drawn from ``numpy.random.default_rng(seed)`` in a fixed
order, so one spec always gives the same instance. Demand scales with the number of sites (about 150k
H100e per site in 2026Q1), so per-site balance stays similar as instances grow. Numbers are synthetic:
plausible magnitudes, not sourced figures.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from procure.inputs.quarters import quarter_name, quarter_ordinal
from procure.inputs.validation import LoadedInstance, instance_from_dict

BASE_DIR = Path(__file__).resolve().parent
REPO = BASE_DIR.parent
CATALOG_PATH = REPO / "models" / "accelerators.json"
CATALOG_REF = "../models/accelerators.json"   # relative to BASE_DIR
INSTANCES_DIR = REPO / "instances"

FIRST_QUARTER = "2026Q1"
WORKLOADS = ("training", "inference")
H100E_PER_SITE = 150_000.0
PROVIDER_NAMES = ("coreweave", "nebius", "oracle", "google", "lambda", "crusoe", "together", "azure",
                  "fluidstack", "vultr")
# purchase preference: current generations first, so small specs look like today's choices
PURCHASE_ORDER = ("Rubin", "MI450", "GB300", "RubinUltra", "Feynman", "MI500", "B200", "MI355X", "H200", "H100")
LEASE_TERMS = (4, 8, 12, 20)


@dataclass(frozen=True)
class BenchSpec:
    """One named benchmark size. Every field but ``name``, ``seed`` and ``description`` is a dimension."""

    name: str
    quarters: int = 8
    sites: int = 2
    accelerators: int = 3
    offers: int = 2
    scenarios: int = 2
    seed: int = 0
    description: str = ""

    def with_(self, **changes) -> "BenchSpec":
        """A copy with some dimensions changed (named after them, for scaling series)."""
        name = changes.pop("name", None) or "-".join(
            [self.name] + [f"{k}{v}" for k, v in sorted(changes.items())])
        return replace(self, name=name, **changes)

    def dimensions(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k not in ("name", "seed", "description")}


SPECS: dict[str, BenchSpec] = {
    spec.name: spec for spec in (
        BenchSpec("xs", quarters=8, sites=2, accelerators=3, offers=2, scenarios=2,
                  description="two years, two sites, a two-leaf tree"),
        BenchSpec("s", quarters=12, sites=3, accelerators=4, offers=3, scenarios=3,
                  description="three years, three sites, three leaves"),
        BenchSpec("m", quarters=20, sites=4, accelerators=6, offers=6, scenarios=4,
                  description="five years, four sites, four leaves"),
        BenchSpec("l", quarters=28, sites=6, accelerators=8, offers=8, scenarios=6,
                  description="the meta.json horizon (2026-2032) with six sites and six leaves"),
        BenchSpec("xl", quarters=28, sites=10, accelerators=10, offers=12, scenarios=10,
                  description="2026-2032, ten sites, every priced accelerator, ten leaves"),
    )
}
SIZES = tuple(SPECS)

SHIPPED: dict[str, Path] = {name: INSTANCES_DIR / f"{name}.json" for name in ("tiny", "small", "meta")}
"""The instances shipped in ``instances/``, benchmarked as they are."""


def catalog() -> dict[str, dict]:
    with open(CATALOG_PATH, encoding="utf-8") as handle:
        return {a["id"]: a for a in json.load(handle)["accelerators"]}


def _r(x: float, digits: int = 2) -> float:
    return float(round(float(x), digits))


def _scenario_tree(rng: np.random.Generator, n: int, T: int) -> list[tuple[str, str | None, int]]:
    """(id, parent, branch quarter index) per leaf; branch quarters never precede the parent's."""
    tree: list[tuple[str, str | None, int]] = [("s0", None, 0)]
    lo, hi = min(2, T - 1), max(min(2, T - 1), T - 2)
    for k in range(1, n):
        parent_id, _, parent_branch = tree[int(rng.integers(0, len(tree)))]
        branch = int(rng.integers(max(lo, parent_branch), hi + 1))
        tree.append((f"s{k}", parent_id, max(branch, parent_branch, 1)))
    return tree


def generate(spec: BenchSpec) -> dict:
    """The instance dict for ``spec`` (deterministic in ``spec``)."""
    if min(spec.quarters, spec.sites, spec.accelerators, spec.scenarios) < 1 or spec.offers < 0:
        raise ValueError(f"every dimension must be ≥ 1 (offers ≥ 0): {spec}")
    if spec.quarters < 4:
        raise ValueError("quarters must be ≥ 4 (a block needs time to come online)")
    rng = np.random.default_rng(spec.seed)
    cat = catalog()
    T = spec.quarters
    first = quarter_ordinal(FIRST_QUARTER)
    last = first + T - 1
    q = quarter_name

    def window_meets_horizon(a: dict) -> bool:
        return (quarter_ordinal(a["first_quarter"]) <= last
                and (a.get("last_quarter") is None or quarter_ordinal(a["last_quarter"]) >= first))

    buyable = [a for a in PURCHASE_ORDER if a in cat and cat[a].get("price") and window_meets_horizon(cat[a])]
    buyable += sorted(a for a in cat if a not in buyable and cat[a].get("price") and window_meets_horizon(cat[a]))
    chosen = buyable[:spec.accelerators]
    leasable = sorted(a for a in cat if window_meets_horizon(cat[a]) and quarter_ordinal(cat[a]["first_quarter"]) <= last)

    demand0 = H100E_PER_SITE * spec.sites
    train_share = 0.35

    # ---- scenarios: continuous demand, each child re-grows from its parent's value at the branch quarter
    tree = _scenario_tree(rng, spec.scenarios, T)
    weights = rng.uniform(0.5, 1.5, size=len(tree))
    probs = [_r(w / weights.sum(), 4) for w in weights]
    probs[0] = _r(1.0 - sum(probs[1:]), 4)
    growth: dict[str, dict[str, float]] = {}
    base: dict[str, dict[str, float]] = {}
    scenarios = []
    for k, (sid, parent, branch) in enumerate(tree):
        if parent is None:
            growth[sid] = {"training": _r(rng.uniform(0.3, 0.5)), "inference": _r(rng.uniform(0.4, 0.7))}
            base[sid] = {"training": _r(demand0 * train_share, 0), "inference": _r(demand0 * (1 - train_share), 0)}
        else:
            factor = rng.uniform(0.5, 1.5)
            growth[sid] = {w: _r(max(0.02, g * factor), 3) for w, g in growth[parent].items()}
            # parent's value at the branch quarter, re-based so the child starts from it
            base[sid] = {w: _r(base[parent][w] * (1 + growth[parent][w]) ** (branch / 4)
                               / (1 + growth[sid][w]) ** (branch / 4), 0) for w in WORKLOADS}
        entry = {"id": sid, "probability": probs[k],
                 "demand": {w: {"base": base[sid][w], "growth": growth[sid][w]} for w in WORKLOADS}}
        if parent is not None:
            entry.update(parent=parent, branch_quarter=q(first + branch))
        scenarios.append(entry)

    # ---- sites: site 0 is the existing campus with the fleet; others ramp or start green
    # covers most of the first quarter; two vendors, so a vendor-share cap below 1 can be met from the start
    fleet_units = {"H100": 0.4 * demand0, "B200": 0.18 * demand0, "MI355X": 0.06 * demand0}
    fleet_mw = sum(u * cat[a]["power_kw"] for a, u in fleet_units.items()) / 1000.0
    sites = []
    max_lead = max(1, min(10, T // 2))
    for k in range(spec.sites):
        pue = _r(rng.uniform(1.08, 1.2))
        site = {"id": f"site{k}", "pue": pue, "electricity_usd_per_mwh": _r(rng.uniform(50, 95), 1),
                "fixed_opex_musd_per_mw_year": 0.3}
        if k == 0:
            site["power_online_mw"] = _r(fleet_mw * pue * 1.25, 0)
        elif rng.uniform() < 0.5:
            start = int(rng.integers(0, max(1, T // 2)))
            mw = _r(rng.uniform(100, 600), 0)
            site["power_online_mw"] = {q(first + start): mw, q(first + min(T - 1, start + 4)): _r(mw * 2, 0)}
        if k > 0 and (k % 4 != 1 or spec.sites == 2):
            block = float(rng.choice([100.0, 150.0, 250.0]))
            site["expansion"] = {"block_mw": block, "max_blocks": int(rng.integers(4, 11)),
                                 "lead_quarters": int(rng.integers(2, max_lead + 1)),
                                 "capex_musd_per_mw": _r(rng.uniform(10, 20), 1),
                                 "earliest_start": FIRST_QUARTER}
        elif k > 0 and "power_online_mw" not in site:
            site["power_online_mw"] = _r(rng.uniform(100, 400), 0)
        sites.append(site)
    site_ids = [s["id"] for s in sites]

    # ---- purchases
    purchases = []
    for a in chosen:
        p = {"accelerator": a}
        if rng.uniform() < 0.4:
            # a cap that doubles yearly from the first quarter on sale, sized to the demand then
            thr = cat[a]["throughput_h100e"]["inference"]
            on_sale = max(first, quarter_ordinal(cat[a]["first_quarter"]))
            years_in = (on_sale - first) / 4
            cap = demand0 * (1 + growth["s0"]["inference"]) ** years_in * rng.uniform(0.08, 0.2) / thr
            lot = cat[a].get("lot_size", 1)
            p["supply_cap_units"] = {q(on_sale + 4 * k): float(max(lot, round(cap * 2 ** k, -2)))
                                     for k in range(3) if on_sale + 4 * k <= last}
        if spec.sites > 2 and rng.uniform() < 0.3:
            hosts = sorted(rng.choice(spec.sites, size=max(1, spec.sites // 2), replace=False).tolist())
            p["sites"] = [site_ids[h] for h in hosts]
        purchases.append(p)
    existing_fleet = [
        {"site": "site0", "accelerator": "H100", "units": _r(fleet_units["H100"], 0), "installed": "2024Q2"},
        {"site": "site0", "accelerator": "B200", "units": _r(fleet_units["B200"], 0), "installed": "2025Q2"},
        {"site": "site0", "accelerator": "MI355X", "units": _r(fleet_units["MI355X"], 0), "installed": "2025Q4"},
    ]

    # ---- providers, offers, contracts, rentals
    n_providers = max(1, min(len(PROVIDER_NAMES), math.ceil(spec.offers / 2)))
    providers = [{"id": PROVIDER_NAMES[k],
                  "capacity_units": {FIRST_QUARTER: _r(demand0 * rng.uniform(0.02, 0.06), -2),
                                     q(first + min(T - 1, 4)): _r(demand0 * rng.uniform(0.05, 0.12), -2)}}
                 for k in range(n_providers)]
    offers = []
    for k in range(spec.offers):
        provider = providers[k % n_providers]["id"]
        a = leasable[int(rng.integers(0, len(leasable)))]
        lo = max(first, quarter_ordinal(cat[a]["first_quarter"]))
        start = int(rng.integers(lo, last + 1))
        end = int(rng.integers(start, last + 1))
        n_terms = int(rng.integers(1, len(LEASE_TERMS) + 1))
        terms = sorted(rng.choice(LEASE_TERMS, size=n_terms, replace=False).tolist())
        hourly = 1.5 + cat[a]["throughput_h100e"]["inference"] * rng.uniform(0.4, 0.6)
        take_or_pay = bool(rng.uniform() < 0.85)
        prices = [_r(hourly * (1 - 0.03 * (L / 4 - 1)) if take_or_pay else hourly) for L in terms]
        lot = int(rng.choice([256, 576, 1152, 2304]))
        max_units = float(max(lot, round(demand0 * rng.uniform(0.02, 0.08) / cat[a]["throughput_h100e"]["inference"]
                                         / lot) * lot))
        offer = {"id": f"offer{k}", "provider": provider, "accelerator": a,
                 "first_start": q(start), "last_start": q(end),
                 "terms": [{"quarters": int(L), "price_usd_per_unit_hour": p} for L, p in zip(terms, prices)],
                 "min_units": float(2 * lot) if rng.uniform() < 0.25 and max_units >= 4 * lot else 0.0,
                 "max_units": max_units, "lot_size": lot, "take_or_pay": take_or_pay}
        offers.append(offer)
    contracts = []
    if providers:
        units = _r(min(providers[0]["capacity_units"][FIRST_QUARTER], demand0 * 0.02), -2)
        contracts.append({"id": "contract0", "provider": providers[0]["id"], "accelerator": "GB300",
                          "start": "2025Q4", "end": q(first + min(T - 1, 12)), "units": units,
                          "price_usd_per_unit_hour": 5.0})
    rentals = []
    for k in range(1 + spec.offers // 4):
        provider = providers[k % n_providers]["id"]
        a = leasable[int(rng.integers(0, len(leasable)))]
        rentals.append({"id": f"rental{k}", "provider": provider, "accelerator": a,
                        "price_usd_per_unit_hour": _r((1.5 + cat[a]["throughput_h100e"]["inference"] * 0.5)
                                                           * rng.uniform(1.4, 2.0)),
                        "available_units": {q(max(first, quarter_ordinal(cat[a]["first_quarter"]))):
                                            _r(demand0 * rng.uniform(0.01, 0.03), -2)}})

    # ---- policy
    vendors = {cat[a]["vendor"] for a in
               chosen + [*fleet_units, "GB300"] + [o["accelerator"] for o in offers] + [r["accelerator"] for r in rentals]}
    mean_growth = float(np.mean([g for gs in growth.values() for g in gs.values()]))
    # about 10 k$ of capex (accelerators + power) per H100e of new demand, with some slack
    budget0 = 0.01 * demand0 * mean_growth * rng.uniform(1.0, 1.6)
    years = sorted({int(q(first + t)[:4]) for t in range(T)})
    policy = {
        "capex_budget_musd_per_year": {str(y): _r(budget0 * (1 + mean_growth) ** (y - years[0]), -1)
                                       for y in years},
        "max_vendor_share": {"nvidia": 0.85, **({"amd": 0.4} if "amd" in vendors else {})},
        "max_provider_share": {providers[0]["id"]: 0.3} if providers else {},
        "min_owned_share": 0.3,
        "shortfall_penalty_usd_per_h100e_quarter": 40000.0,
    }

    dims = ", ".join(f"{k}={v}" for k, v in spec.dimensions().items())
    return {
        "name": f"bench-{spec.name}",
        "description": f"Synthetic benchmark instance ({dims}, seed={spec.seed}); {spec.description or 'generated'}. "
                       "Made by benchmarks/generator.py; numbers are plausible, not sourced.",
        "catalogs": [CATALOG_REF],
        "horizon": {"first_quarter": FIRST_QUARTER, "last_quarter": q(last), "discount_rate": 0.08},
        "workloads": [{"id": w} for w in WORKLOADS],
        "scenarios": scenarios,
        "sites": sites,
        "purchases": purchases,
        "existing_fleet": existing_fleet,
        "providers": providers,
        "lease_offers": offers,
        "existing_contracts": contracts,
        "rentals": rentals,
        "policy": policy,
    }


def load(spec: BenchSpec) -> LoadedInstance:
    """Generate and validate (raises :class:`procure.inputs.validation.InstanceError` if invalid)."""
    return instance_from_dict(generate(spec), base_dir=BASE_DIR)


def load_named(name: str) -> LoadedInstance:
    """A registry size (xs ... xl) or a shipped instance (tiny, small, meta)."""
    if name in SPECS:
        return load(SPECS[name])
    if name in SHIPPED:
        from procure.inputs.validation import load_instance

        return load_instance(SHIPPED[name])
    raise KeyError(f"unknown benchmark instance {name!r}; known: {', '.join([*SPECS, *SHIPPED])}")


def spec_from_name(name: str) -> BenchSpec | None:
    return SPECS.get(name)


def sizes_table(names: tuple[str, ...] = SIZES + tuple(SHIPPED)) -> str:
    """Markdown table of each instance's dimensions and model size (builds every model; no solve)."""
    from procure.inputs.data import build_data
    from procure.model import build_model
    from procure.outputs.tables import model_size

    lines = ["| instance | quarters | sites | accelerators | offers | scenarios | tree nodes | variables | integers "
             "| constraints |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        loaded = load_named(name)
        inst = loaded.instance
        data = build_data(loaded)
        size = model_size(build_model(data))
        lines.append(f"| {name} | {data.T} | {len(inst.sites)} | {len(inst.purchases)} | {len(inst.lease_offers)} "
                     f"| {len(inst.scenarios)} | {len(data.NODES)} | {size['variables']:,} | {size['integers']:,} "
                     f"| {size['constraints']:,} |")
    return "\n".join(lines)


def instance_json(spec: BenchSpec, directory: Path) -> str:
    """``spec``'s instance as the text of a file to sit in ``directory``: its catalog path is made relative
    to that directory, so ``procure solve`` (or a sweep) can run the file where it is written."""
    raw = generate(spec)
    raw["catalogs"] = [os.path.relpath(CATALOG_PATH, directory.resolve())]
    return json.dumps(raw, indent=2) + "\n"


def write_instances(names: list[str], directory: Path) -> list[Path]:
    """Write each registry size in ``names`` to ``<directory>/<name>.json`` (atomically). A file of that name
    holding anything else is left alone: :class:`FileExistsError` names it before anything is written."""
    from procure.outputs.files import atomic_write_text

    texts = {directory / f"{name}.json": instance_json(SPECS[name], directory) for name in names}
    clashes = [path for path, text in texts.items() if path.exists() and path.read_text() != text]
    if clashes:
        raise FileExistsError(f"{', '.join(map(str, clashes))} already exist(s) with other content; "
                              "remove them or write elsewhere")
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in texts.items():
        atomic_write_text(path, text)
    return list(texts)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m benchmarks.generator",
                                description="Print the benchmark instances' size table, or write them as files.")
    p.add_argument("--instances", help=f"comma-separated (default: all of {', '.join([*SIZES, *SHIPPED])}; "
                                       "with --write, all of the generated sizes)")
    p.add_argument("--write", type=Path, metavar="DIR",
                   help="write each generated size to DIR/<name>.json instead of printing the table")
    a = p.parse_args(argv)
    known = [*SIZES, *SHIPPED] if a.write is None else list(SIZES)
    names = known if a.instances is None else [n.strip() for n in a.instances.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        shipped = [n for n in unknown if n in SHIPPED]
        why = (f"{', '.join(shipped)} already ship(s) as files in instances/; " if shipped else "")
        print(f"error: {why}give instances from: {', '.join(known)} (got {a.instances!r})", file=sys.stderr)
        return 2
    if a.write is None:
        print(sizes_table(tuple(names)))
        return 0
    try:
        for path in write_instances(names, a.write):
            print(path)
    except OSError as exc:  # FileExistsError too: a file in the way
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
