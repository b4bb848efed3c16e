"""Staged MILP solve: prove a bound on a small relaxation, settle the power blocks, then the lots.

Why: the model's integrality gap has two parts of the same size — the timing of power blocks (few, costly
decisions) and the rounding of purchase lots to whole racks (thousands of cheap ones). Branch-and-bound on
both at once finds poor incumbents (HiGHS's own heuristics spend the first minute on sub-MIPs) and proves
little. Nearly all of the blocks' part is carried by how many blocks of each size are online at each node,
summed over sites (the columns of :func:`procure.model.power.add_block_groups`): whole sums, with the
sites free to share them, prove on meta.json the bound that whole blocks per site prove, in a third of the
time. Taking the parts one at a time:

1. **bound** — the block sums integer; blocks, lots and leases continuous; HiGHS's sub-MIP heuristics
   off (:data:`BOUND_STAGE_OPTIONS`). A relaxation of the full model: its proven bound is a valid lower
   bound of the full model, and it is the bound the result reports. (A model built without the sums
   keeps the blocks integer here instead.)
2. **blocks** — the sums held at stage 1's values, blocks and leases integer, lots continuous: which
   sites get the blocks, and the leases that go with them (on meta.json 5 s). Where the held sums admit no
   whole blocks per site (HiGHS proves it infeasible), the same search runs with them free (``blocks (sums
   free)``). A stage 2 stopped before its first plan leaves stage 1's plan to be rounded.
3. **lots** — blocks and leases held at stage 2's values (through their bounds). First the lot totals
   are rounded (up above each of a few fractional thresholds in turn, the ceiling first; never below the
   parent's, trimmed to the supply caps and the capex budget) and, with every integer held, an LP completes
   each rounding; the cheapest plan is kept. Then HiGHS searches the lots between the floor and ceiling of
   stage 2's values, started from that plan: with the leases held too, a tenth of the integers, where it
   finds plans within 1e-4 of the bound in seconds (with the leases free, it found none in a minute).
   Both are restrictions of the full model: what they find is a feasible plan of it.
4. **full** — nothing held, started from stage 3's plan; it improves the plan and the bound while time
   remains. Skipped when stage 3's plan is already within the gap of stage 1's bound.

Stages 1 and 2 aim at a tenth of the requested gap and the lots search at half of it
(:data:`STAGE_GAP_FRACTION`), so that together they can meet it. The lots search and the full stage also
stop as soon as they hold a plan that meets the requested gap against stage 1's bound (HiGHS's
``objective_target``, :func:`target_objective`): searching on for a cheaper plan cannot change the
answer's status, only its time.

The result reports the best plan found and the best bound of stages 1 and 4; the status is ``optimal``
only when that gap is within the requested tolerance. Stages 1–3 each get a share of the time limit
(:data:`STAGE_SHARE`) and, when a stage finishes early, the next one inherits what it left; the full
stage runs on what remains when that is at least :data:`FULL_MIN_SHARE` of the limit, or
:data:`FULL_STAGE1_MULTIPLE` times what stage 1 took when stage 1 finished early (always when there is
no plan yet). The one exception to the limit is the rounded plan's LP, which runs even when the limit is
used up (:data:`COMPLETION_MIN_SECONDS`). Without a time limit every stage runs to its gap, and the
whole is deterministic.

Ctrl-C in stage 1 or 2 rounds the plan at hand (blocks and leases to the nearest whole,
:func:`round_leases`; the lots as in stage 3) and completes it by the LP; no search follows. A stage 1
that leaves stage 2 less than :data:`MIN_STAGE_SECONDS` is rounded the same way, and the lots search then
runs on those blocks if its own share allows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time

from collections import defaultdict

import pyomo.environ as pyo

from procure.inputs.data import ModelData
from procure.model.running import lots_within
from procure.solving.interrupt import ctrl_c_stops_solves
from procure.solving.solve import SUB_MIP_HEURISTICS, HighsSession, SolveOptions, SolveResult, relative_gap

STRATEGIES = ("auto", "direct", "staged")
# Shares of the time limit. Stage 1's bound is the one that counts (the full stage hardly moves HiGHS's
# bound in a minute on meta.json), so it gets most (meta.json: 31–41 s of a 60 s limit to close it; the
# blocks 5–6 s, the rounding 1 s, the lots search 8 s to a plan within 1e-4); the full stage gets what the
# others leave, and only when that is at least FULL_MIN_SHARE: HiGHS's root work is not interruptible, and
# a full stage started with a few seconds left was measured running 8 s over them.
STAGE_SHARE = {"bound": 0.7, "blocks": 0.1, "lots": 0.2}
FULL_MIN_SHARE = 0.2
FULL_STAGE1_MULTIPLE = 3.0  # ... or this many times stage 1's seconds, when stage 1 finished early
# Parts of the requested gap that the stages aim at (the full stage aims at the whole), so that together
# they can meet it. The bound stage's bound is the one reported and every later plan is built on its
# sums, so its gap must leave room for rounding the lots (meta.json: 4–13 $M, 3–9e-5 of the objective).
STAGE_GAP_FRACTION = {"bound": 0.1, "blocks": 0.1, "blocks (sums free)": 0.1, "lots": 0.5}
# Integer families of the lease decisions: continuous in the bound stage, held in the lots search.
LEASE_FAMILIES = ("lease_lots_to_date", "signed")
# HiGHS's sub-MIP heuristics, off in the bound stage: on meta.json they took 25 of its 57 s at the root,
# and its tree search finds the plans that close it without them (closed in 29–38 s without).
BOUND_STAGE_OPTIONS = {heuristic: False for heuristic in SUB_MIP_HEURISTICS}
MIN_STAGE_SECONDS = 1.0  # a search stage (blocks, lots, full) starts only with this much of the limit left
MIN_INTEGERS = 100    # below this many integer columns the direct solve is already fast (xs: 63)
# The rounded plan's LP (0.1–0.2 s on meta.json) gets at least this many seconds even when the stages before
# used up the limit: turning their plan into a full one is worth a moment past the limit, where
# skipping it would return no plan at all (measured on meta.json at a 5–8 s limit before this floor).
COMPLETION_MIN_SECONDS = 5.0
# Where stage 3 rounds a lot total up (:func:`round_lots`): above each of these fractional parts in turn,
# the cheapest completed plan kept. The ceiling alone is always feasible where stage 2 was (not always
# where stage 1 was: its blocks are rounded to the nearest, maybe down), but buys up
# to a lot more everywhere; the best threshold differs by instance (meta.json, stage 1 at 42 s: 150,714.9
# $M at 0, 150,697.2 at 0.2, 150,682.3 at 0.4, 150,746.9 at 0.5; best at 0.1 on small, 0.2 on m and l, 0.3
# on xl), and each try is one LP with every integer held (0.1–0.2 s on meta.json).
ROUNDING_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4)
FLOOR_THRESHOLD = 0.999  # round_lots rounds up past the threshold: every total down, but a whole one stays
"""The rounding tried when none of :data:`ROUNDING_THRESHOLDS` gives a plan (every total down): buying less
is what keeps a rounded plan within the power it has at delivery (procure.model.fleet.add_delivery), the
budget and the supply caps. On meta.json at a 10 s limit with stage 1 given it all, the ceiling's LP was
infeasible and no plan was returned before it."""


def can_stage(model: pyo.ConcreteModel) -> bool:
    """There is something to stage: the model has integer power blocks and integer purchase lots (an
    instance without expansions or purchases, or an LP relaxation, has not)."""
    blocks, lots = getattr(model, "blocks_to_date", None), getattr(model, "lots_to_date", None)
    if blocks is None or lots is None or len(blocks) == 0 or len(lots) == 0:
        return False
    return next(iter(lots.values())).is_integer()


def staged_applies(model: pyo.ConcreteModel) -> bool:
    """Worth staging (the ``auto`` choice): :func:`can_stage`, and the model is large enough to matter."""
    if not can_stage(model):
        return False
    integers = sum(1 for v in model.component_data_objects(pyo.Var) if v.is_integer() or v.is_binary())
    return integers >= MIN_INTEGERS


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    status: str
    objective: float | None
    bound: float | None
    seconds: float
    start_accepted: bool | None = None  # HiGHS took the stage's start vector (None: none offered)
    termination: str = ""  # the solver's reason to stop, e.g. "objectiveLimit" when the target was met


def solve_staged(model: pyo.ConcreteModel, d: ModelData, options: SolveOptions = SolveOptions(),
                 session: HighsSession | None = None, start: dict[int, float] | list[float] | None = None
                 ) -> tuple[SolveResult, list[Stage]]:
    """Solve ``model`` in place in stages (see the module docstring); returns the combined result
    and one :class:`Stage` per stage run. Variable values hold the best plan found. ``start`` (a plan of
    the full model, e.g. a neighbouring sweep point's) is offered to stage 1, which it is feasible for.

    The stages change variable domains and bounds and push exactly those to HiGHS, solving without
    Pyomo's scan of the whole model before each solve (:meth:`HighsSession.manual_updates`).

    Ctrl-C (:mod:`procure.solving.interrupt`) stops the running stage; the plan of stage 1 or 2 is still rounded and
    completed (a fraction of a second), no later search runs, and the result has ``interrupted`` set."""
    started = time.perf_counter()
    with ctrl_c_stops_solves() as interrupt:
        session = session or HighsSession(model)
        with session.manual_updates():
            result, stages = _solve_stages(model, d, options, session, start, started, interrupt)
    if interrupt.requested:
        result = dataclasses.replace(result, interrupted=True, termination="staged: interrupted")
    return result, stages


def _solve_stages(model, d, options, session, start, started, interrupt):
    lots = list(model.lots_to_date.values())
    blocks = [v for v in model.blocks_to_date.values() if not v.fixed]
    leases = [v for name in LEASE_FAMILIES for v in getattr(model, name, {}).values()
              if (v.is_integer() or v.is_binary()) and not v.fixed]
    # what the bound stage keeps whole: the blocks online per block size, or without those columns (a model
    # built with block_groups=False) the blocks themselves
    groups = list(getattr(model, "group_blocks_online", {}).values()) or blocks
    push = session.solver.update_variables
    stages: list[Stage] = []

    def stage_time_limit(share: float | None) -> float | None:
        if options.time_limit is None:
            return None
        left = max(options.time_limit - (time.perf_counter() - started), 0.0)
        return left if share is None else min(left, options.time_limit * share + _unused(stages, options))

    def run(name: str, share: float | None, start=None, target: float | None = None,
            extra: dict | None = None) -> SolveResult:
        gap = options.gap * STAGE_GAP_FRACTION.get(name, 1.0)
        solver_options = {**(extra or {}), **options.solver_options}
        if target is not None:
            solver_options["objective_target"] = target
        result = session.solve(dataclasses.replace(options, time_limit=stage_time_limit(share), gap=gap,
                                                   solver_options=solver_options), start=start)
        stages.append(Stage(name, result.status, result.objective, result.bound, result.seconds,
                            None if start is None else session.start_accepted, result.termination))
        return result

    relaxed = lots + leases + ([] if groups is blocks else blocks)
    with relaxed_domains(relaxed, push), with_domains(groups, lambda v: pyo.NonNegativeIntegers, push):
        first = run("bound", STAGE_SHARE["bound"], start=start, extra=BOUND_STAGE_OPTIONS)
    if first.status == "infeasible":  # a relaxation: the full model is infeasible too
        return dataclasses.replace(first, seconds=time.perf_counter() - started), stages

    settled = first  # the stage whose values the lots are rounded from
    # at least a second, as for the lots search below; with less, the rounding rounds the blocks too
    if first.has_solution and not interrupt.requested and _worth_a_stage(stage_time_limit(STAGE_SHARE["blocks"])):
        with relaxed_domains(lots, push):
            with _pinned(groups, lambda v: round(v.value or 0.0), push):
                blocks_stage = run("blocks", STAGE_SHARE["blocks"])
            if (blocks_stage.status == "infeasible" and not interrupt.requested
                    and _worth_a_stage(stage_time_limit(STAGE_SHARE["blocks"]))):
                # the bound stage's sums admit no whole blocks per site (a maximum, a lead): search unheld
                blocks_stage = run("blocks (sums free)", STAGE_SHARE["blocks"])
        if blocks_stage.has_solution:  # else (stopped before a plan) the model still holds stage 1's
            settled = blocks_stage

    target = target_objective(first.bound, options.gap)
    plan = None
    if settled.has_solution:
        fractional = {id(v): v.value or 0.0 for v in lots}
        plan = _round_and_complete(model, d, session, options, stage_time_limit, stages, push, interrupt)
        # then let HiGHS search between the floor and ceiling of the settled lots, from the rounded plan,
        # with the blocks and leases held: a tenth of the integers, a search that finds plans
        if not interrupt.requested and _worth_a_stage(stage_time_limit(STAGE_SHARE["lots"])):
            with _pinned(blocks + leases, lambda v: round(v.value), push), _bounded(lots, fractional, push):
                second = run("lots", STAGE_SHARE["lots"], start=plan[0] if plan else None, target=target)
            if second.has_solution and (plan is None or second.objective < plan[1]):
                plan = _values(model), second.objective

    skip = None
    if interrupt.requested:
        if plan is None:  # the plan of stage 1 or 2 is of a relaxation, not a plan of the model
            bound = first.bound if first.bound is not None and math.isfinite(first.bound) else None
            return SolveResult("no_solution", "staged: interrupted", None, bound, None,
                               time.perf_counter() - started, "highs", True), stages
        skip = "staged: interrupted"
    elif plan is not None and _within(plan[1], first.bound, options.gap):
        skip = "staged: gap met before the full stage"
    elif plan is not None and options.time_limit is not None and not _time_for_full_stage(stage_time_limit(None), first,
                                                                                       options.time_limit):
        skip = "staged: maxTimeLimit (no time for the full stage)"
    if skip:
        return _combine(model, options, started, first, None, plan, skip), stages
    final = run("full", None, start=plan[0] if plan else None, target=target)
    return _combine(model, options, started, first, final, plan), stages


def _round_and_complete(model, d, session, options, stage_time_limit, stages, push, interrupt):
    """Stage 3, cheap: round the settled lot totals (:func:`round_lots`; any other integer to its nearest
    whole, leases by :func:`round_leases`: only a stage 2 that did not run or found no plan leaves them
    fractional) at each of
    :data:`ROUNDING_THRESHOLDS`, hold every integer at its value and solve what is left, an LP; keep the
    cheapest plan. The first rounding (the ceiling) gets at least :data:`COMPLETION_MIN_SECONDS`; the
    others run only while the lots stage's time lasts and Ctrl-C has not been pressed; when none gave a
    plan, the floor (:data:`FLOOR_THRESHOLD`) gets :data:`COMPLETION_MIN_SECONDS` too. Returns (values,
    objective) or None; the model holds the plan returned (else the settled values)."""
    settled_values = _values(model)
    integers = [v for v in model.component_data_objects(pyo.Var)
                if (v.is_integer() or v.is_binary()) and not v.fixed]
    lot_ids = {id(v) for v in model.lots_to_date.values()}
    results, best, best_values = [], None, None
    for threshold in (*ROUNDING_THRESHOLDS, FLOOR_THRESHOLD):
        time_limit = stage_time_limit(STAGE_SHARE["lots"])
        if threshold == FLOOR_THRESHOLD:
            if best is not None:
                break
            time_limit = None if time_limit is None else max(time_limit, COMPLETION_MIN_SECONDS)  # the last chance
        elif not results and time_limit is not None:
            time_limit = max(time_limit, COMPLETION_MIN_SECONDS)
        elif results and (interrupt.requested or not _worth_a_stage(time_limit)):
            continue  # on to the floor, should nothing so far have given a plan
        _restore(model, settled_values)
        # the blocks and leases first, and in place: the lots are trimmed to the power the rounded blocks
        # bring (a block rounded down takes power the lots were bought for) and to the budget they leave
        rounded = round_leases(model, d)
        for v in integers:
            if id(v) not in lot_ids:
                v.set_value(rounded.get(id(v), round(v.value or 0.0)), skip_validation=True)
        _set_increments(model, d)
        rounded = {**rounded, **round_lots(model, d, threshold)}
        with _pinned(integers, lambda v: rounded.get(id(v), round(v.value or 0.0)), push):
            result = session.solve(dataclasses.replace(options, time_limit=time_limit), stoppable=False)
        results.append(result)
        if result.has_solution and (best is None or result.objective < best.objective - 1e-9):
            best, best_values = result, _values(model)
    _restore(model, best_values or settled_values)
    chosen = best or results[0]
    stages.append(Stage("lots (rounded)", chosen.status, chosen.objective, chosen.bound,
                        sum(r.seconds for r in results), termination=chosen.termination))
    return (best_values, best.objective) if best else None


def round_lots(model: pyo.ConcreteModel, d: ModelData, threshold: float = 0.0) -> dict[int, int]:
    """Integer lot totals near the current (fractional) ones: each total rounded up when its fractional
    part exceeds ``threshold`` (0: the ceiling) and down otherwise, never below its parent's; where that
    would buy more than a supply cap allows, one lot less at the sites rounded up most; then trimmed to
    the power at delivery (:func:`_trim_to_power`) and the capex budget (:func:`_trim_to_budget`). Returns
    ``id(var)`` → value."""
    lots = model.lots_to_date
    rounded: dict[tuple, int] = {}
    by_node = defaultdict(list)
    for key in lots:
        by_node[key[0], (key[2], key[3])].append(key)
    for (a, n), keys in sorted(by_node.items(), key=lambda item: (item[0][1][1], item[0])):  # parents first
        before = {k: _parent_total(d, rounded, k) for k in keys}
        for k in keys:
            rounded[k] = max(math.ceil((lots[k].value or 0.0) - threshold - 1e-6), before[k])
        cap = d.supply_cap.get((a, n[1]))
        if cap is None:
            continue
        lot = d.buy_lot[a]
        while lot * sum(rounded[k] - before[k] for k in keys) > cap + 1e-6:
            movable = [k for k in keys if rounded[k] > before[k]]
            if not movable:
                break
            k = max(movable, key=lambda k: rounded[k] - (lots[k].value or 0.0))
            rounded[k] -= 1
    _trim_to_power(model, d, rounded)
    _trim_to_budget(model, d, rounded)
    return {id(lots[k]): v for k, v in rounded.items()}


def round_leases(model: pyo.ConcreteModel, d: ModelData) -> dict[int, int]:
    """Whole lease totals near the current ones, every signing within its offer's minimum: each total to
    its nearest whole (monotone along the tree, as rounding is, and no signing above its offer's maximum:
    a signing's relaxed lots are at most that maximum, a whole number, so their rounded difference is
    too); a signing of an offer with a minimum above one lot (``signed``) that comes to fewer lots than
    that minimum is dropped (at its node and every later node of its subtree, so no other signing
    moves), and ``signed`` is 1 exactly where lots are signed. Only a plan stopped before the blocks
    stage has fractional leases; whole ones are returned as they are. Returns ``id(var)`` → value."""
    totals = getattr(model, "lease_lots_to_date", None)
    if totals is None or len(totals) == 0:
        return {}
    rounded = {k: round(v.value or 0.0) for k, v in totals.items()}
    _trim_to_signing_max(model, d, rounded)
    _trim_to_provider_capacity(model, d, rounded)
    signed = getattr(model, "signed", {})
    held = {}
    for (o, k, L, r, t) in signed:
        lots = rounded[o, L, r, t] - _parent_total(d, rounded, (o, L, r, t))
        if 0 < lots * d.offer_lot[o] < d.offer_min_units[o] - 1e-9:
            for later in _subtree(d, rounded, (o, L, r, t)):
                rounded[later] -= lots
            lots = 0
        held[id(signed[o, k, L, r, t])] = 1 if lots > 0 else 0
    return {**{id(totals[k]): v for k, v in rounded.items()}, **held}


def _trim_to_signing_max(model: pyo.ConcreteModel, d: ModelData, rounded: dict[tuple, int]) -> None:
    """Each term's rounded signing is within the offer's maximum, but their sum at one start may not be
    (``lease_signing_max`` rows: three terms at 0.7, 0.7, 0.6 lots of a 2-lot maximum round to 3); drop one
    lot (at its node and every later node of its subtree) of the term rounded up most until it holds."""
    if not hasattr(model, "lease_signing_max"):
        return
    totals = model.lease_lots_to_date
    fractional = {k: totals[k].value or 0.0 for k in rounded}
    for o, r, t in model.lease_signing_max:
        keys = [k for k in rounded if k[0] == o and (k[2], k[3]) == (r, t)]
        most = lots_within(d.offer_max_units[o], d.offer_lot[o])
        while (sum(rounded[k] - _parent_total(d, rounded, k) for k in keys) > most
               and _drop_one_lot(d, rounded, keys, fractional)):
            pass


def _trim_to_provider_capacity(model: pyo.ConcreteModel, d: ModelData, rounded: dict[tuple, int]) -> None:
    """Rounding lease totals to their nearest whole can put a capped provider over its cap
    (``provider_capacity`` rows: Σ_{o of p} leased_units[o, n] + contracts ≤ cap_{p,t}); where it does, drop
    one lot of a signing running at ``n`` (at its node and every later node of its subtree, so no other
    signing moves) at a time, the one rounded up most first. Without it every rounding of meta.json's
    bound-stage plan at a 6–10 s limit was infeasible: its relaxed leases filled Oracle's 50,000 units and
    the rounding came to 50,688."""
    capped = getattr(model, "provider_capacity", None)
    if capped is None or len(capped) == 0:
        return
    totals = model.lease_lots_to_date
    fractional = {k: totals[k].value or 0.0 for k in rounded}

    def push():
        for k, v in rounded.items():
            totals[k].set_value(v, skip_validation=True)

    def leased(p: str, n: tuple) -> float:
        units = sum(pyo.value(model.leased_units[o, n]) for o in d.OFFERS
                    if d.offer_provider[o] == p and (o, *n) in model.LEASED)
        return units + sum(d.contract_units.get((c, n[1]), 0.0) for c in d.CONTRACTS if d.contract_provider[c] == p)

    push()
    for p, r, t in sorted(capped, key=lambda key: (key[2], key[1], key[0])):
        n, history = (r, t), d.history((r, t))
        running = [k for k in rounded if d.offer_provider[k[0]] == p and k[3] <= t < k[3] + k[1]
                   and history[k[3]] == (k[2], k[3])]
        while leased(p, n) > d.provider_cap[p, t] + 1e-6 and _drop_one_lot(d, rounded, running, fractional):
            push()


def _trim_to_budget(model: pyo.ConcreteModel, d: ModelData, rounded: dict[tuple, int]) -> None:
    """Rounding up buys more than the LP did; where that breaks an annual capex budget, drop one lot (at
    its node and every later node of its subtree, so no other year's spending moves) at a time, the lots
    rounded up most first."""
    budget = getattr(model, "budget", None)
    if budget is None or len(budget) == 0:
        return
    lots = model.lots_to_date

    def push():  # the rounded totals and their increments into the model, to evaluate budget rows
        for k, v in rounded.items():
            lots[k].set_value(v, skip_validation=True)
        for key, var in model.buy.items():
            var.set_value(rounded[key] - _parent_total(d, rounded, key), skip_validation=True)

    fractional = {k: lots[k].value or 0.0 for k in rounded}
    push()
    for (s, y), row in budget.items():
        nodes = [d.node_of[s, t] for t in range(d.T) if d.year_of[t] == y]
        candidates = [k for k in rounded if (k[2], k[3]) in nodes]
        while pyo.value(row.body) > pyo.value(row.upper) + 1e-6 and _drop_one_lot(d, rounded, candidates, fractional):
            push()


def _trim_to_power(model: pyo.ConcreteModel, d: ModelData, rounded: dict[tuple, int]) -> None:
    """A unit is powered in its delivery quarter (``delivery`` rows), so the units a site takes at a node
    must fit in its MW online there, older units switched off if need be::

        Σ_a lot_a · buy[a, i, n] · kW_a · PUE_i / 1000 ≤ total_power_mw[i, n]     (blocks as they stand)

    Where rounding up breaks that, drop one lot (at its node and every later node of its subtree, so no
    other node's deliveries move) at a time, the lots rounded up most first. Without it every ceiling-like
    rounding of meta.json's bound-stage plan was infeasible."""
    if not hasattr(model, "delivery") or not hasattr(model, "total_power_mw"):
        return
    lots = model.lots_to_date
    fractional = {k: lots[k].value or 0.0 for k in rounded}
    by_site_node = defaultdict(list)
    for k in rounded:
        by_site_node[k[1], (k[2], k[3])].append(k)
    for (i, n), keys in sorted(by_site_node.items(), key=lambda item: (item[0][1][1], item[0])):
        online = pyo.value(model.total_power_mw[i, n])

        def delivered_mw() -> float:
            return sum(d.unit_mw(k[0], i, d.buy_lot[k[0]] * (rounded[k] - _parent_total(d, rounded, k))) for k in keys)

        while delivered_mw() > online + 1e-6 and _drop_one_lot(d, rounded, keys, fractional):
            pass


def _set_increments(model: pyo.ConcreteModel, d: ModelData) -> None:
    """Set the blocks built (``build``) and the lease lots signed (``commit``) at each node to the
    differences of their running totals as they now stand, so that rows evaluated on the rounded totals
    (the capex budget: a block rounded up costs its build) see what the rounded plan spends."""
    # the group of each increment's running total: build[i, n] -> (i,), commit[o, k, L, n] -> (o, L)
    for increments, totals, group_of in (("build", "blocks_to_date", lambda key: key[:-2]),
                                         ("commit", "lease_lots_to_date", lambda key: (key[0], key[2]))):
        increment, total = getattr(model, increments, None), getattr(model, totals, None)
        if increment is None or total is None:
            continue
        for key, var in increment.items():
            group, (r, t) = group_of(key), key[-2:]
            parent = d.parent_node[r, t]
            before = total[(*group, *parent)].value if parent and (*group, *parent) in total else 0.0
            var.set_value((total[(*group, r, t)].value or 0.0) - (before or 0.0), skip_validation=True)


def _drop_one_lot(d: ModelData, rounded: dict[tuple, int], keys: list[tuple], fractional: dict[tuple, float]) -> bool:
    """Take one lot off the key of ``keys`` rounded up most (against ``fractional``) among those that add a
    lot at their node, at that node and every later node of its subtree, so that no other node's increment
    moves; False when no key adds one. The step every trim of the rounding repeats until its rows hold."""
    movable = [k for k in keys if rounded[k] - _parent_total(d, rounded, k) > 0]
    if not movable:
        return False
    k = max(movable, key=lambda k: rounded[k] - fractional[k])
    for later in _subtree(d, rounded, k):
        rounded[later] -= 1
    return True


def _parent_total(d: ModelData, rounded: dict[tuple, int], key: tuple) -> int:
    """The rounded running total of ``key``'s group (its first two indices) at the parent of ``key``'s node
    (its last two): 0 at the root or before the group's window opens."""
    a, i, r, t = key
    parent = d.parent_node[r, t]
    return rounded.get((a, i, *parent), 0) if parent else 0


def _subtree(d: ModelData, rounded: dict[tuple, int], key: tuple) -> list[tuple]:
    a, i, r, t = key
    return [k for k in rounded if k[0] == a and k[1] == i and k[3] >= t and d.history((k[2], k[3]))[t] == (r, t)]


def relaxed_domains(variables, push):
    """Make integer ``variables`` continuous (binaries ``[0, 1]``, others ``≥ 0``, their bounds kept) and
    push that to HiGHS with ``push``; put each one's domain back (and push it) on exit."""
    return with_domains(variables, lambda v: pyo.UnitInterval if v.is_binary() else pyo.NonNegativeReals, push)


@contextlib.contextmanager
def with_domains(variables, domain_of, push):
    """Give each of ``variables`` the domain ``domain_of(v)`` (bounds kept) and push that to HiGHS with
    ``push``; put each one's domain back (and push it) on exit."""
    variables = list(variables)
    saved = [(v, v.domain) for v in variables]
    try:
        for v, _ in saved:
            v.domain = domain_of(v)
        push(variables)
        yield
    finally:
        for v, domain in saved:
            v.domain = domain
        push(variables)


@contextlib.contextmanager
def _held_bounds(variables, bounds_of, push):
    """Set each variable's bounds to ``bounds_of(v, lb, ub)`` and push them to HiGHS with ``push``; put the
    old bounds back (and push them) on exit. Bounds, not ``fix()``: a bound change reaches HiGHS as it is,
    while fixing a variable makes Pyomo re-process every row it is in."""
    variables = list(variables)
    saved = [(v, v.lb, v.ub) for v in variables]
    try:
        for v, lb, ub in saved:
            low, high = bounds_of(v, lb, ub)
            v.setlb(low)
            v.setub(high)
        push(variables)
        yield
    finally:
        for v, lb, ub in saved:
            v.setlb(lb)
            v.setub(ub)
        push(variables)


def _pinned(variables, value_of, push):
    """Hold variables at ``value_of(v)`` (see :func:`_held_bounds`)."""
    def at(v, lb, ub):
        x = value_of(v)
        return x, x
    return _held_bounds(variables, at, push)


def _bounded(lots, fractional: dict[int, float], push):
    """Each lot total between the floor and ceiling of its settled (stage 2's) value, widened to its current value
    (the rounded plan, which the caps may have trimmed below the floor)."""
    def between(v, lb, ub):
        x, now = fractional[id(v)], round(v.value or 0.0)
        high = max(math.ceil(x - 1e-6), now)
        return max(min(math.floor(x + 1e-6), now), lb or 0), high if ub is None else min(high, ub)
    return _held_bounds(lots, between, push)


def _worth_a_stage(time_limit: float | None) -> bool:
    """No limit, or at least :data:`MIN_STAGE_SECONDS` of it: HiGHS's presolve and root do not stop at the
    time limit, so a search started with less overruns it."""
    return time_limit is None or time_limit >= MIN_STAGE_SECONDS


def _time_for_full_stage(left: float, first: SolveResult, time_limit: float) -> bool:
    """At least a second and :data:`FULL_MIN_SHARE` of the limit left, or, when stage 1 finished before its
    share ran out (an easy model), at least :data:`FULL_STAGE1_MULTIPLE` times what stage 1 took: the full
    model's root work, which a time limit does not interrupt, is of the order of stage 1's."""
    if not _worth_a_stage(left):
        return False
    finished_early = first.seconds < STAGE_SHARE["bound"] * time_limit * 0.9
    return left >= FULL_MIN_SHARE * time_limit or (finished_early and left >= FULL_STAGE1_MULTIPLE * first.seconds)


def target_objective(bound: float | None, gap: float) -> float | None:
    """The highest objective that meets ``gap`` against ``bound`` (:func:`procure.solving.solve.relative_gap`:
    ``(z − bound) / |z| ≤ gap``), a hair inside it so that rounding cannot put a plan HiGHS stopped at
    outside the gap; None without a finite bound. For a positive bound ``z ≤ bound / (1 − gap)``, for a
    negative one ``z ≤ bound / (1 + gap)``."""
    if bound is None or not math.isfinite(bound) or gap >= 1:
        return None
    target = bound / (1 - gap) if bound >= 0 else bound / (1 + gap)
    return target - 1e-9 * abs(target)


def _within(objective: float, bound: float | None, gap: float) -> bool:
    measured = relative_gap(objective, bound)
    return measured is not None and measured <= gap + 1e-12


def _combine(model: pyo.ConcreteModel, options: SolveOptions, started: float, first: SolveResult,
             final: SolveResult | None, plan: tuple[dict, float] | None, skipped: str = "") -> SolveResult:
    """Best plan of stages 3 and 4 (its values left in ``model``) against the best bound of stages 1 and 4."""
    if final is None:
        objective, termination = plan[1], skipped
        _restore(model, plan[0])
    elif final.has_solution and (plan is None or final.objective <= plan[1] + 1e-9):
        objective, termination = final.objective, f"staged: {final.termination}"
    elif plan is not None:  # the full stage did not keep the start: put the stage-3 plan back
        _restore(model, plan[0])
        objective, termination = plan[1], f"staged: {final.termination}"
    else:
        objective, termination = None, f"staged: {final.termination}"
    bounds = [b for b in (first.bound, final.bound if final else None) if b is not None and math.isfinite(b)]
    bound = max(bounds) if bounds else None
    if objective is not None and bound is not None:
        bound = min(bound, objective)
    gap = relative_gap(objective, bound)
    if objective is None:
        status = final.status
    else:
        status = "optimal" if gap is not None and gap <= options.gap + 1e-12 else "feasible"
    return SolveResult(status, termination, objective, bound, gap, time.perf_counter() - started, "highs")


def _unused(stages: list[Stage], options: SolveOptions) -> float:
    """Time earlier stages were granted but did not use (they finished early)."""
    granted = sum(options.time_limit * STAGE_SHARE.get(s.name, 0.0) for s in stages)
    return max(granted - sum(s.seconds for s in stages), 0.0)


def _values(model: pyo.ConcreteModel) -> dict[int, float]:
    return {id(v): v.value for v in model.component_data_objects(pyo.Var) if v.value is not None}


def _restore(model: pyo.ConcreteModel, values: dict[int, float]) -> None:
    for v in model.component_data_objects(pyo.Var):
        if id(v) in values:
            v.set_value(values[id(v)], skip_validation=True)
