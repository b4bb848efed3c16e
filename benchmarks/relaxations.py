"""Where an instance's integrality gap sits: solve relaxations that keep chosen integer groups.

    python -m benchmarks.relaxations meta                                  # the default decomposition
    python -m benchmarks.relaxations meta --keep blocks:elpaso+blocks:greenfield_gas --keep lots

Each relaxation keeps the integrality of the groups it names and makes every other integer column
continuous; ``none`` is the LP relaxation, ``all`` the MILP itself. Groups: ``blocks`` (power blocks,
``blocks_to_date``), ``lots`` (purchase lots, ``lots_to_date``), ``leases`` (lease lots and signing
binaries), each optionally narrowed by its first index: ``blocks:<site>``, ``lots:<accelerator>``,
``leases:<offer>``; and ``groups`` (``group_blocks_online``, blocks online per block size summed over
sites, ``groups:<MW>``), sums of block totals that are continuous as built and integer only where kept:
``--keep groups+blocks:greenfield_gas`` lets sites of one block size share their blocks fractionally.
Join groups with ``+``. ``--highs KEY=VALUE`` passes a HiGHS option to every relaxation (repeatable).

Every relaxation's proven bound is a lower bound on the MILP's optimum too, so the table ends with the
best of them: on an instance where branch-and-bound on the whole MILP stalls, a relaxation that keeps only
the integrality that matters can close, and prove more. ``bound − LP`` is what the kept integrality is
worth; comparing a group alone with groups together shows whether their parts add up (on meta.json
they do not: see benchmarks/README.md).

The relaxations share one HiGHS session (the model is loaded once); each gets the time limit.

``--cutoff V`` tells HiGHS that a plan costing ``V`` exists (its ``objective_bound``; every relaxation with
integer columns gets it): branch-and-bound then prunes as it would holding that plan from the start, so the
time to close measures proving alone, without the search for plans. A cutoff below a relaxation's optimum
prunes that optimum away and voids the row (HiGHS 1.15 then reports whatever plan it kept as optimal).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

import pyomo.environ as pyo  # noqa: E402

from benchmarks.generator import SHIPPED, SPECS, load_named  # noqa: E402
from benchmarks.run import option_problems  # noqa: E402
from benchmarks.tables import gap_cell, markdown_head, number_cell  # noqa: E402
from procure.solving.staged import LEASE_FAMILIES  # noqa: E402

FAMILIES = {"blocks": ("blocks_to_date",), "lots": ("lots_to_date",), "leases": LEASE_FAMILIES,
            "groups": ("group_blocks_online",)}
# Columns that are sums of integer columns, continuous as built (procure.model.power.add_block_groups): a
# relaxation that keeps them makes them integer; ``all`` (the MILP as built) leaves them as they are.
IMPLIED_FAMILIES = ("groups",)


def integer_groups(model) -> dict[str, list]:
    """Every integer group of ``model``: ``family`` and ``family:<first index>`` → its variables."""
    groups: dict[str, list] = {}
    for family, components in FAMILIES.items():
        for name in components:
            var = getattr(model, name, None)
            if var is None:
                continue
            for key, v in var.items():
                if not (v.is_integer() or v.is_binary() or family in IMPLIED_FAMILIES):
                    continue
                groups.setdefault(family, []).append(v)
                groups.setdefault(f"{family}:{key[0]}", []).append(v)
    return groups


def parse_relaxation(text: str, groups: dict[str, list]) -> tuple[str, ...]:
    """``"blocks:elpaso+lots"`` → its group names; ``none`` → (); ``all`` → every family. Raises
    ``ValueError`` naming an unknown group and the groups there are."""
    names = tuple(part.strip() for part in text.split("+") if part.strip())
    if names in ((), ("none",)):
        return ()
    if names == ("all",):
        return tuple(f for f in FAMILIES if f in groups and f not in IMPLIED_FAMILIES)
    unknown = [n for n in names if n not in groups]
    if unknown:
        raise ValueError(f"unknown group(s) in {text!r}: {', '.join(unknown)} (this instance has: "
                         f"none, all, {', '.join(sorted(groups))})")
    return names


def default_relaxations(groups: dict[str, list]) -> list[str]:
    """The LP, each family alone, blocks per site, and the MILP."""
    families = [f for f in FAMILIES if f in groups]
    sites = sorted(g for g in groups if g.startswith("blocks:"))
    return ["none", *families, *(sites if len(sites) > 1 else []), "all"]


def solve_relaxations(model, relaxations: list[str], time_limit: float | None, gap: float,
                      threads: int | None, cutoff: float | None = None, highs: dict | None = None) -> list[dict]:
    """Solve ``model`` once per relaxation (integer groups kept, every other integer column continuous),
    in one HiGHS session; the model's domains are put back afterwards. One row per relaxation. ``cutoff``:
    HiGHS's ``objective_bound`` for every relaxation with integer columns (every other solve states HiGHS's
    default, no bound: :func:`procure.solving.solve.highs_options`). ``highs``: HiGHS options for every relaxation."""
    from procure.solving.solve import HighsSession, SolveOptions
    from procure.solving.staged import relaxed_domains, with_domains

    groups = integer_groups(model)
    kept_per_relaxation = [parse_relaxation(r, groups) for r in relaxations]  # all checked before solving
    integers = [v for v in {id(v): v for vs in groups.values() for v in vs}.values() if v.is_integer() or v.is_binary()]
    implied = [v for f in IMPLIED_FAMILIES for v in groups.get(f, [])]
    session = HighsSession(model)
    push = session.solver.update_variables
    rows = []
    with session.manual_updates():
        for text, kept in zip(relaxations, kept_per_relaxation):
            keep = {id(v) for g in kept for v in groups[g]}
            with (relaxed_domains([v for v in integers if id(v) not in keep], push),
                  with_domains([v for v in implied if id(v) in keep], lambda v: pyo.NonNegativeIntegers, push)):
                # HiGHS keeps the last run's solution through a change of integrality and, finding it
                # fractional, first runs a sub-MIP to complete it with the whole time limit of its own:
                # measured on meta.json, a 5 s relaxation after another took 10.1 s. Start afresh.
                session.highs.clearSolver()
                given = {**(highs or {}), **({"objective_bound": cutoff} if cutoff is not None and keep else {})}
                result = session.solve(SolveOptions(time_limit=time_limit, gap=gap, threads=threads,
                                                    solver_options=given))
            rows.append({"relaxation": text, "integers": len(keep), "status": result.status,
                         "objective": result.objective, "bound": _proven(result), "gap": result.gap,
                         "seconds": result.seconds})
    return rows


def _proven(result) -> float | None:
    """A relaxation's proven lower bound: HiGHS's bound, or the optimum of one solved without integers."""
    if result.bound is not None and math.isfinite(result.bound):
        return result.bound
    return result.objective if result.status == "optimal" else None


def _musd(value: float | None) -> str:
    """$M with two decimals: the differences that matter here are a few $M on ~150,000 $M."""
    return "–" if value is None else f"{value:,.2f}"


def markdown(rows: list[dict]) -> str:
    lp = next((r["bound"] for r in rows if r["relaxation"] == "none"), None)
    head = "| relaxation (integer groups kept) | integers | status | plan $M | bound $M | bound − LP $M | gap | solve s |"
    lines = markdown_head(head)
    for r in rows:
        gain = r["bound"] - lp if lp is not None and r["bound"] is not None else None
        gain = 0.0 if gain is not None and abs(gain) < 5e-3 else gain  # not "-0.00" for a solver's last digits
        lines.append(f"| {r['relaxation']} | {r['integers']:,} | {r['status']} | {_musd(r['objective'])} "
                     f"| {_musd(r['bound'])} | {_musd(gain)} | {gap_cell(r['gap'])} "
                     f"| {number_cell(r['seconds'], 1)} |")
    best = max((r for r in rows if r["bound"] is not None), key=lambda r: r["bound"], default=None)
    if best is not None:
        lines += ["", f"Best proven lower bound on the MILP: {best['bound']:,.2f} $M (relaxation {best['relaxation']})."]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.relaxations", description=__doc__.split("\n\n")[0])
    p.add_argument("instance", help="benchmark or shipped instance: " + ", ".join([*SPECS, *SHIPPED]))
    p.add_argument("--keep", action="append", metavar="GROUPS",
                   help="one relaxation: integer groups kept, joined by + (repeat for more; default: the LP, "
                        "each family, blocks per site, the MILP)")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per relaxation (default 60)")
    p.add_argument("--gap", type=float, default=1e-6, help="relative MIP gap (default 1e-6: close them)")
    p.add_argument("--threads", type=int, default=2, help="HiGHS threads (default 2)")
    p.add_argument("--cutoff", type=float, metavar="V",
                   help="$M: a plan this cheap is known (HiGHS objective_bound), so the time measures proving")
    p.add_argument("--highs", action="append", default=[], metavar="KEY=VALUE",
                   help="a HiGHS option for every relaxation, e.g. mip_heuristic_run_rins=false (repeatable)")
    return p


def highs_option(text: str) -> tuple[str, object]:
    """``"key=value"`` → (key, value) with value a bool, int or float where it reads as one. Raises
    ``ValueError`` without an ``=``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--highs {text!r}: expected KEY=VALUE")
    value = value.strip()
    if value.lower() in ("true", "false"):
        return key.strip(), value.lower() == "true"
    for kind in (int, float):
        try:
            return key.strip(), kind(value)
        except ValueError:
            pass
    return key.strip(), value


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    problems = option_problems(a.time_limit, a.gap, a.threads)
    if a.instance not in SPECS and a.instance not in SHIPPED:
        problems.insert(0, f"unknown instance: {a.instance} (known: {', '.join([*SPECS, *SHIPPED])})")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    from procure.inputs.data import build_data
    from procure.model import build_model

    model = build_model(build_data(load_named(a.instance)))
    groups = integer_groups(model)
    relaxations = a.keep or default_relaxations(groups)
    if "none" not in relaxations:  # the LP is the yardstick of the bound − LP column (a second or so)
        relaxations = ["none", *relaxations]
    try:
        for r in relaxations:
            parse_relaxation(r, groups)
        highs = dict(highs_option(o) for o in a.highs)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows = solve_relaxations(model, relaxations, a.time_limit, a.gap, a.threads, a.cutoff, highs)
    cutoff = f", cutoff {a.cutoff:,.2f} $M" if a.cutoff is not None else ""
    cutoff += "".join(f", {k}={v}" for k, v in highs.items())
    print(f"{a.instance}: relaxations at time limit {a.time_limit:g} s each, gap {a.gap:g}, {a.threads} "
          f"thread(s){cutoff}; {time.perf_counter() - started:.0f} s in all.\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
