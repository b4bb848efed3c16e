"""Why the plan looks the way it does: marginal costs, binding limits, break-even prices, and the value of
planning for uncertainty.

Everything here starts from a solved model (``procure.solve(..., keep_model=True)``) and leaves it as it
found it (values, bounds, fixings, domains and active rows are restored). "Lumpy decisions" are the
components in :data:`DECISIONS` (blocks started, lots bought, lease lots signed, signed flags); fixing them
fixes the plan whatever the formulation declares integer (the decisions or running totals of them).

* **Marginal cost of compute** — the dual of ``meet_demand[w, n]`` in the LP obtained by fixing every
  lumpy decision at its optimal value and relaxing every integer domain. The objective weighs node ``n = (r, t)`` by ``p_n · δ_t``, so the raw dual is the change of
  the *expected discounted* objective ($M) per extra H100e of demand at that node. We report it divided by
  ``p_n · δ_t`` and in $: **undiscounted $ per H100e-quarter in that quarter, given the scenario reaches
  the node** (an extra H100e is then served by the cheapest continuous option left: a rental, an idle
  owned unit, a lease unit, or the shortfall penalty).
* **Binding limits** — rows of the families power, supply, budget, provider capacity, vendor/provider/owned
  share and max_blocks with a non-zero shadow price, grouped per site, accelerator, provider, vendor or
  year and ranked by the value of relaxing the limit by 1 % (shares: by one percentage point). Values are
  in expected discounted $M. They come from a second LP in which power blocks and lease lots stay fixed
  but purchases become continuous: with every purchase fixed, "one more MW" could not be filled and the
  dual would be split arbitrarily between the power row and the fleet row; with purchases free it is the
  saving from one more MW *filled with the best accelerator, net of its price*. Rows whose variables are
  all fixed there (provider capacity, max_blocks) have no informative dual; for them the value of one more
  unit is estimated from the reduced costs of the integer columns the row blocks: ``max_j (−rc_j / a_j)``.
  The LP value function is convex, so that local rate is an *upper* estimate of what a whole lot saves.
* **Break-even prices** — for purchasable accelerators, power blocks, lease offers and rentals that the plan
  does not use (or uses only at a bound: every lot at its supply cap, every block, a lease lot at its
  maximum, a rental at its cap wherever used), a bisection over the mutable ``price_scale[key]`` with MIP
  re-solves in one :class:`~procure.solving.solve.HighsSession`, warm-started from the optimal plan — re-optimising
  everything (``full``) or, on slow instances, holding the other options' lumpy decisions (``restricted``).
  The result is a bracket ``[low, high]`` of price multipliers: an unused option enters at ``low`` × today's
  price and not at ``high``; a bound option leaves at ``high`` and not at ``low``.
* **Value of the stochastic solution (VSS)** and **expected value of perfect information (EVPI)** when
  there are at least two scenarios: the expected-value problem (one path with probability-weighted demand)
  is solved, its first-stage decisions (nodes every scenario shares) are fixed in the stochastic model and
  the rest re-optimised (EEV); ``VSS = EEV − RP``. Each scenario is solved alone (wait-and-see) and
  ``EVPI = RP − Σ_s p_s z_s``. ``RP`` is the stochastic optimum.

Extra solves honour a time budget; a search that runs out of it reports what it has (a wider bracket, a
bound) and says so.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Iterable

import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

from procure.inputs.data import ModelData
from procure.model import build_model
from procure.model.units import QUANTITY_SCALE, natural
from procure.solving.solve import (HighsSession, SolveOptions, SolveResult, capped_threads, fit_highs_threads, highs_solver,
                           highs_thread_count, solve_model)

TOL = 1e-9
DUAL_TOL = 1e-9          # $M per unit: below this a shadow price counts as zero
INTEGER_ROW_FAMILIES = ("budget", "supply", "max_blocks", "provider_capacity", "lease_min", "lease_max")
LIMIT_FAMILIES = ("power", "supply", "budget", "provider_capacity", "vendor_share", "provider_share",
                  "owned_share", "max_blocks")
OPTION_KINDS = ("buy", "block", "lease", "rental")
DECISIONS = ("build", "buy", "commit", "signed")   # the lumpy decisions, per node (increments, not running totals)
LIMITS_FREE = ("buy", "lots_to_date")              # purchases move continuously in the LP that prices the limits


# ----------------------------------------------------------------------------------------------- plumbing
class Clock:
    """A time budget shared by a sequence of solves."""

    def __init__(self, seconds: float | None):
        self.start = time.perf_counter()
        self.seconds = seconds

    @property
    def left(self) -> float:
        if self.seconds is None:
            return math.inf
        return self.seconds - (time.perf_counter() - self.start)

    def limit(self, cap: float | None = None, floor: float = 2.0) -> float | None:
        """Time limit for the next solve: what is left (at least ``floor``), at most ``cap``."""
        left = self.left
        if math.isinf(left):
            return cap
        left = max(left, floor)
        return left if cap is None else min(cap, left)

    @property
    def expired(self) -> bool:
        return self.left <= 0


def integer_vars(m: pyo.ConcreteModel) -> list:
    return [v for v in m.component_data_objects(pyo.Var, descend_into=True) if v.is_integer() or v.is_binary()]


def decision_vars(m: pyo.ConcreteModel, components: Iterable[str] = DECISIONS) -> list:
    """The variables of the decision components (blocks started, lots bought, lease lots, signed flags).

    Fixing these fixes the plan whatever the formulation carries as integer (the decisions themselves or
    running totals defined from them by equality rows)."""
    out = []
    for name in components:
        comp = getattr(m, name, None)
        if comp is not None:
            out.extend(comp.values())
    return out


def node_of_index(v) -> tuple[str, int] | None:
    """The node ``(r, t)`` a decision variable is indexed by (its last two index entries)."""
    index = v.index()
    if isinstance(index, tuple) and len(index) >= 2 and isinstance(index[-1], int):
        return index[-2], index[-1]
    return None


@contextmanager
def preserved(m: pyo.ConcreteModel):
    """Restore every variable's value, bounds, fixed flag and domain, every row's active flag and the active
    objective after the block, whatever it did to the model."""
    variables = list(m.component_data_objects(pyo.Var, descend_into=True))
    saved = [(v, v.value, v.fixed, v.domain, v.lower, v.upper) for v in variables]
    rows = [(c, c.active) for c in m.component_data_objects(pyo.Constraint, descend_into=True)]
    objectives = [(o, o.active) for o in m.component_data_objects(pyo.Objective, descend_into=True)]
    try:
        yield m
    finally:
        for o, active in objectives:
            o.activate() if active else o.deactivate()
        for c, active in rows:
            if c.active != active:
                c.activate() if active else c.deactivate()
        for v, value, fixed, domain, lower, upper in saved:
            if v.domain is not domain:
                v.domain = domain
            if v.lower is not lower:
                v.setlb(lower)
            if v.upper is not upper:
                v.setub(upper)
            v.set_value(value, skip_validation=True)
            if fixed and not v.fixed:
                v.fix()
            elif not fixed and v.fixed:
                v.unfix()


def fix_integers(variables: Iterable, relax: bool = False) -> None:
    """Fix integer variables at their current (rounded) values; ``relax`` turns their domain continuous."""
    for v in variables:
        value = round(v.value) if v.value is not None else 0
        if relax:
            v.domain = pyo.Reals
        v.fix(value)


def musd(value: float) -> str:
    """Money in words-friendly units from $M."""
    a = abs(value)
    sign = "-" if value < 0 else ""
    if a >= 1000:
        return f"{sign}${a / 1000:,.2f} B"
    if a >= 1:
        return f"{sign}${a:,.1f} M"
    if a >= 1e-3:
        return f"{sign}${a * 1000:,.1f} k"
    return f"{sign}${a * 1e6:,.2f}"


def short_name(names: dict | None, key: str) -> str:
    name = (names or {}).get(key) or key
    return name if len(name) <= 24 else key


def quarters_text(quarters: list[str], all_quarters: tuple[str, ...]) -> str:
    """``['2027Q1','2027Q2','2027Q3','2029Q1']`` -> ``'2027Q1–2027Q3, 2029Q1'``."""
    pos = sorted({all_quarters.index(q) for q in quarters})
    runs, start = [], None
    for k, p in enumerate(pos):
        if start is None:
            start = p
        if k == len(pos) - 1 or pos[k + 1] != p + 1:
            runs.append(all_quarters[start] if start == p else f"{all_quarters[start]}–{all_quarters[p]}")
            start = None
    return ", ".join(runs)


def node_scenarios(d: ModelData, node: tuple[str, int]) -> tuple[str, ...]:
    return d.leaf_scenarios(node)


# ----------------------------------------------------------------------------------------- the fixed LP
@dataclasses.dataclass
class FixedLP:
    objective: float | None
    duals: dict          # ConstraintData -> dual ($M per unit of the row's right-hand side)
    reduced_costs: Any   # ComponentMap VarData -> reduced cost ($M per unit of the variable)
    price_coefs: dict    # id(VarData) -> d(objective coefficient)/d(price_scale of its option)
    seconds: float
    termination: str


def constant_rows(m: pyo.ConcreteModel, free: tuple[str, ...] = ()) -> list:
    """Rows of the lumpy families (budget, supply, max_blocks, provider capacity, lease min/max) whose
    variables are all decisions or integers outside the ``free`` components — constant once the decisions
    are fixed (running totals are then determined by their defining rows)."""
    def pinned(v) -> bool:
        name = v.parent_component().local_name
        return name not in free and (name in DECISIONS or v.is_integer() or v.is_binary())

    rows = []
    for family in INTEGER_ROW_FAMILIES:
        comp = getattr(m, family, None)
        if comp is None:
            continue
        for c in comp.values():
            if c.active and all(pinned(v) for v in identify_variables(c.body)):
                rows.append(c)
    return rows


def option_keys(m: pyo.ConcreteModel) -> list[str]:
    return [k for k in m.PRICE_KEYS if k.split(":", 1)[0] in OPTION_KINDS]


def solve_fixed_lp(m: pyo.ConcreteModel, time_limit: float | None = None, threads: int | None = None,
                   free: tuple[str, ...] = ()) -> FixedLP:
    """Fix every lumpy decision (:data:`DECISIONS`) at its value, make every integer continuous — except
    the components named in ``free``, which stay free to move — drop the rows made constant, solve the LP,
    read duals and reduced costs (and, for break-even estimates, how each column's cost moves with its
    option's price scale). The model is restored afterwards."""
    import numpy as np

    with preserved(m):
        constant = constant_rows(m, free)
        for v in integer_vars(m):  # running totals (and free decisions) become continuous
            v.domain = pyo.UnitInterval if v.is_binary() else pyo.NonNegativeReals
        fix_integers([v for v in decision_vars(m) if v.parent_component().local_name not in free], relax=True)
        for c in constant:
            c.deactivate()
        from pyomo.contrib.solver.solvers.highs import Highs

        highs_solver()  # raises SolverUnavailable when highspy is missing
        threads = highs_thread_count(capped_threads(threads))  # stated: HiGHS's own default counts the hardware
        fit_highs_threads(threads)
        solver = Highs(treat_fixed_vars_as_params=False)
        start = time.perf_counter()
        results = solver.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                               time_limit=time_limit, threads=threads)
        seconds = time.perf_counter() - start
        term = results.termination_condition.name
        try:
            duals = results.solution_loader.get_duals()
            reduced = results.solution_loader.get_reduced_costs()
        except Exception:  # no dual solution (time limit, numerical trouble)
            return FixedLP(None, {}, pyo.ComponentMap(), {}, seconds, term)
        # every option column's cost is linear in exactly one option's price scale: one finite difference
        # with all option scales moved together gives each column's price coefficient
        h = solver._solver_model
        keys = option_keys(m)
        old = {k: pyo.value(m.price_scale[k]) for k in keys}
        base = np.array(h.getLp().col_cost_)
        try:
            for k in keys:
                m.price_scale[k] = old[k] + 1.0
            solver.update_parameters()
            up = np.array(h.getLp().col_cost_)
        finally:
            for k in keys:
                m.price_scale[k] = old[k]
        diff = up - base
        price_coefs = {vid: float(diff[j]) for vid, j in solver._pyomo_var_to_solver_var_map.items()
                       if abs(diff[j]) > 0}
        return FixedLP(results.incumbent_objective, duals, reduced, price_coefs, seconds, term)


# ------------------------------------------------------------------------------------- marginal costs
SHARE_FAMILIES = ("vendor_share", "provider_share", "owned_share")


def _share_rows_by_node(m: pyo.ConcreteModel) -> dict[tuple, list]:
    """The active policy-share rows (:mod:`procure.model.policy`) of each node."""
    by_node: dict[tuple, list] = {}
    for family in SHARE_FAMILIES:
        for index, row in getattr(m, family, {}).items():
            if row.active:
                node = tuple(index)[-2:]  # (r, t) closes every share row's index
                by_node.setdefault(node, []).append(row)
    return by_node


def _demand_slope(m: pyo.ConcreteModel, row, w: str, n: tuple) -> float:
    """∂(the row's bound)/∂D_{w,n} as the solver gets the row: the body's constant, which holds D (a share
    row caps or floors a share of Σ_w (D − K · shortfall)), moves to the bound. Read off the row, so it has the
    sign of however Pyomo wrote it (``a ≥ b`` becomes ``b − a ≤ 0``)."""
    from pyomo.repn import generate_standard_repn

    demand = m.demand_h100e[w, n]
    before = generate_standard_repn(row.body, compute_values=True).constant
    demand.value = pyo.value(demand) + 1.0
    try:
        after = generate_standard_repn(row.body, compute_values=True).constant
    finally:
        demand.value = pyo.value(demand) - 1.0
    return before - after  # the body's constant up by c: the bound down by c


def marginal_costs(m: pyo.ConcreteModel, d: ModelData, lp: FixedLP) -> pd.DataFrame:
    """One row per scenario, quarter and workload: ``marginal_usd_per_h100e_quarter`` (undiscounted $ per
    H100e-quarter given the scenario reaches the node, = dual / (p_n · δ_t) × 1e6) and ``node_dual_musd``
    (the raw derivative: expected discounted $M per H100e of demand at the node). Demand sits on the right
    of ``meet_demand[w, n]`` and, through Σ_w (D − K · shortfall), of the node's policy-share rows, so the
    derivative is dual(meet_demand) + Σ_rows ∂bound/∂D · dual(row)."""
    rows, shares = [], _share_rows_by_node(m)
    share_terms: dict[tuple, float] = {}  # (w, n): nodes before a branch are shared by scenarios, sum once
    for s in d.SCENARIOS:
        for t in range(d.T):
            n = d.node_of[s, t]
            weight = d.node_probability[n] * pyo.value(m.discount_factor[t])
            for w in d.WORKLOADS:
                dual = lp.duals.get(m.meet_demand[w, n]) if lp.duals else None
                if dual is None:
                    rows.append((s, d.QUARTERS[t], w, float("nan"), float("nan")))
                    continue
                if (w, n) not in share_terms:
                    share_terms[w, n] = sum(_demand_slope(m, row, w, n) * lp.duals[row] for row in shares.get(n, ())
                                            if lp.duals.get(row))
                dual += share_terms[w, n]
                rows.append((s, d.QUARTERS[t], w, round(dual / weight * 1e6, 4) + 0.0, round(dual, 9) + 0.0))
    return pd.DataFrame(rows, columns=["scenario", "quarter", "workload", "marginal_usd_per_h100e_quarter",
                                       "node_dual_musd"])


# ------------------------------------------------------------------------------------- binding limits
BINDING_COLUMNS = ["family", "entity", "label", "quarter", "scenarios", "shadow_musd", "step",
                   "shadow_usd_if_reached", "value_of_1pct_musd", "estimate", "sentence"]


def _row_meta(m, d: ModelData, family: str, index: tuple, names: dict | None) -> dict:
    """Entity, label, quarter, scenarios, step wording and the right-hand side for one row."""
    all_s = set(d.SCENARIOS)
    if family in ("budget",):
        s, y = index
        nodes = tuple(d.node_of[s, t] for t in range(d.T) if d.year_of[t] == y)
        scen = tuple(x for x in d.SCENARIOS
                     if tuple(d.node_of[x, t] for t in range(d.T) if d.year_of[t] == y) == nodes)
        return {"entity": "capex budget", "label": "The capex budget", "quarter": str(y), "node": None,
                "scenarios": scen if set(scen) != all_s else (), "step": "each extra $1 of capex budget",
                "step_unit": 1.0, "rhs": d.capex_budget_musd[y]}
    if family == "max_blocks":
        i, s = index
        mw = d.block_mw[i]
        return {"entity": i, "label": f"{short_name(names, i)} expansion limit ({d.max_blocks[i]} blocks)",
                "quarter": "", "node": None, "scenarios": (s,) if len(d.SCENARIOS) > 1 else (),
                "step": f"one more {mw:,.0f} MW block", "step_unit": 1.0,
                "rhs": d.max_blocks[i] - sum(b for (j, _), b in d.committed_blocks.items() if j == i)}
    *entity, r, t = index
    node = (r, t)
    scen = node_scenarios(d, node)
    meta = {"quarter": d.QUARTERS[t], "node": node, "scenarios": scen if set(scen) != all_s else ()}
    if family == "power":
        (i,) = entity
        meta.update(entity=i, label=f"{short_name(names, i)} power", step="one more MW", step_unit=1.0,
                    rhs=pyo.value(m.online_mw[i, r, t]), rhs_floor=d.block_mw.get(i, 1.0))
    elif family == "supply":
        (a,) = entity
        meta.update(entity=a, label=f"{a} supply", step=f"one more {a} unit", step_unit=1.0,
                    rhs=d.supply_cap[a, t], rhs_floor=d.buy_lot[a])
    elif family == "provider_capacity":
        (p,) = entity
        meta.update(entity=p, label=f"{short_name(names, p)} capacity",
                    step="one more leased unit (for a whole lease term)", step_unit=1.0, rhs=d.provider_cap[p, t])
    elif family in ("vendor_share", "provider_share"):
        (x,) = entity
        cap = d.max_vendor_share[x] if family == "vendor_share" else d.max_provider_share[x]
        who = x if family == "vendor_share" else short_name(names, x)
        served = sum(pyo.value(m.demand_h100e[w, r, t]) - natural(m.shortfall[w, r, t]) for w in d.WORKLOADS)
        meta.update(entity=x, label=f"The {who} share cap ({cap:.0%})", step="one more percentage point",
                    step_unit=0.01 * served, rhs=None)
    elif family == "owned_share":
        served = sum(pyo.value(m.demand_h100e[w, r, t]) - natural(m.shortfall[w, r, t]) for w in d.WORKLOADS)
        meta.update(entity="own", label=f"The minimum owned share ({d.min_owned_share:.0%})",
                    step="one percentage point less", step_unit=0.01 * served, rhs=None)
    return meta


def binding_limits(m: pyo.ConcreteModel, d: ModelData, lp: FixedLP, names: dict | None = None,
                   coefficients: dict | None = None) -> pd.DataFrame:
    """Every binding row of :data:`LIMIT_FAMILIES` with its shadow price (see the module docstring).

    ``shadow_musd`` is the expected discounted $M saved, at most, by ``step`` (one MW, one unit, one block,
    one percentage point; the marginal rate times the step) — for the budget it is a ratio, $ saved per $ of
    budget; ``shadow_usd_if_reached`` divides a node's value by ``p_n · δ_t``
    (undiscounted $, given the scenario reaches the node); ``value_of_1pct_musd`` is the saving from
    relaxing the row by 1 % of its limit (shares: one percentage point; a limit at zero, such as a site
    with no power yet, counts as one power block or purchase lot, so it still ranks).
    """
    if not lp.duals:
        return pd.DataFrame(columns=BINDING_COLUMNS)
    coefficients = coefficients if coefficients is not None else row_coefficients(m, d, LIMITS_FREE)
    rows = []
    for family in LIMIT_FAMILIES:
        comp = getattr(m, family, None)
        if comp is None:
            continue
        for index, c in comp.items():
            index = index if isinstance(index, tuple) else (index,)
            if c in coefficients:          # constant row in this LP: estimate from reduced costs
                value = _integer_row_value(c, coefficients[c], lp)
                estimate = "upper estimate"
            else:
                dual = lp.duals.get(c)
                if dual is None:
                    continue
                value = abs(dual)
                estimate = "dual"
            if value is None or value <= DUAL_TOL:
                continue
            meta = _row_meta(m, d, family, index, names)
            per_step = value * meta["step_unit"]
            if family == "budget":
                per_step = value  # $M saved per $M of budget = $ per $
            one_pct = value * 0.01 * max(meta["rhs"], meta.get("rhs_floor", 1.0)) if meta.get("rhs") is not None \
                else per_step
            if_reached = float("nan")
            if meta["node"] is not None:
                r, t = meta["node"]
                if_reached = per_step / (d.node_probability[meta["node"]] * pyo.value(m.discount_factor[t])) * 1e6
            rows.append({"family": family, "entity": meta["entity"], "label": meta["label"],
                         "quarter": meta["quarter"], "scenarios": " ".join(meta["scenarios"]),
                         "shadow_musd": per_step, "step": meta["step"], "shadow_usd_if_reached": if_reached,
                         "value_of_1pct_musd": one_pct, "estimate": estimate,
                         "sentence": _row_sentence(family, meta, per_step, estimate)})
    frame = pd.DataFrame(rows, columns=BINDING_COLUMNS)
    for col in ("shadow_musd", "shadow_usd_if_reached", "value_of_1pct_musd"):
        frame[col] = frame[col].astype(float).round(9)
    return frame


def _where(meta: dict) -> str:
    where = meta["quarter"]
    if meta["scenarios"]:
        where = f"{where}, scenario{'s' if len(meta['scenarios']) > 1 else ''} {', '.join(meta['scenarios'])}"
    return where.strip(", ")


def _saving(family: str, per_step: float, estimate: str) -> str:
    # always "up to": a dual is the rate at the margin, and the LP value function is convex in a bound, so a
    # whole step (a MW, a unit) saves at most rate × step — often less, once the next-best use runs out
    up_to = "up to "
    if family == "budget":
        return f"would save {up_to}${per_step:,.2f}"
    return f"would save {up_to}{musd(per_step)}"


def _row_sentence(family: str, meta: dict, per_step: float, estimate: str) -> str:
    where = _where(meta)
    where = f" ({where})" if where else ""
    return f"{meta['label']}{where} binds: {meta['step']} {_saving(family, per_step, estimate)}"


def row_coefficients(m: pyo.ConcreteModel, d: ModelData, free: tuple[str, ...] = ()) -> dict:
    """``{row: [(decision var, coefficient), ...]}`` for the rows of :data:`LIMIT_FAMILIES` made constant by
    fixing the decisions outside ``free``: which decisions each row limits, and by how much per unit of
    the decision (so the estimate reads the same whatever the formulation carries as integer)."""
    out = {}
    for c in constant_rows(m, free):
        family = c.parent_component().local_name
        if family not in LIMIT_FAMILIES:
            continue
        index = c.index() if isinstance(c.index(), tuple) else (c.index(),)
        out[c] = _decisions_of_row(m, d, family, index)
    return out


def _decisions_of_row(m: pyo.ConcreteModel, d: ModelData, family: str, index: tuple) -> list:
    if family == "max_blocks":
        i, s = index
        return [(m.build[i, n], 1.0) for n in (d.node_of[s, t] for t in range(d.T)) if (i, *n) in m.build]
    if family == "provider_capacity":
        p, r, t = index
        history = d.history((r, t))
        return [(v, float(d.offer_lot[o])) for (o, k, L, rr, tt), v in m.commit.items()
                if d.offer_provider[o] == p and k <= t < k + L and history[k] == (rr, tt)]
    if family == "supply":
        a, r, t = index
        return [(v, float(d.buy_lot[a])) for (aa, i, rr, tt), v in m.buy.items() if (aa, rr, tt) == (a, r, t)]
    if family == "budget":
        s, y = index
        nodes = {d.node_of[s, t] for t in range(d.T) if d.year_of[t] == y}
        out = [(v, d.price_musd_per_unit[a, t] * d.buy_lot[a] * pyo.value(m.price_scale[f"buy:{a}"]))
               for (a, i, r, t), v in m.buy.items() if (r, t) in nodes]
        out += [(v, d.block_capex_musd[i] * pyo.value(m.price_scale[f"block:{i}"]))
                for (i, r, t), v in m.build.items() if (r, t) in nodes]
        return out
    return []


def _integer_row_value(c, coefs: list, lp: FixedLP) -> float | None:
    """Saving per unit of a constant ``≤`` row's limit: the best ``−rc_j / a_j`` over the decision columns
    it blocks (one more lot of ``j`` would not fit)."""
    if c.upper is None:
        return None
    slack = pyo.value(c.upper) - pyo.value(c.body)
    best = 0.0
    for v, a in coefs:
        if a <= TOL or slack >= a - 1e-6 * max(1.0, abs(a)):
            continue
        rc = lp.reduced_costs.get(v)
        if rc is not None and -rc / a > best:
            best = -rc / a
    return best


def _when(g: pd.DataFrame, d: ModelData, family: str) -> str:
    """Where a group of rows binds: quarter runs (years for the budget), each with the scenarios it is
    limited to when that is not every scenario — "2026Q1–2026Q2, 2031Q4 in fast"."""
    by_scen: dict[str, list[str]] = {}
    for q, sc in zip(g["quarter"], g["scenarios"]):
        key = "" if sc != sc or not sc else str(sc)
        if q:
            by_scen.setdefault(key, []).append(str(q))
    def runs(quarters: list[str]) -> str:
        quarters = list(dict.fromkeys(quarters))
        return ", ".join(sorted(quarters)) if family == "budget" else quarters_text(quarters, d.QUARTERS)

    parts = [runs(quarters) + (f" in {', '.join(key.split())}" if key else "") for key, quarters in by_scen.items()]
    detailed = "; ".join(parts)
    if len(parts) <= 3 and len(detailed) <= 90:
        return detailed
    everywhere = runs([q for quarters in by_scen.values() for q in quarters])
    return everywhere + (" (in some scenarios only for part of it)" if set(by_scen) - {""} else "")


def limit_groups(binding: pd.DataFrame, d: ModelData) -> list[dict]:
    """Binding rows grouped per limit (family and entity), ranked by the value of relaxing it by 1 %."""
    if binding.empty:
        return []
    groups = []
    for (family, entity), g in binding.groupby(["family", "entity"], sort=False):
        first = g.iloc[0]
        additive = family in ("power", "vendor_share", "provider_share", "owned_share", "supply", "budget")
        value = g["shadow_musd"].sum() if additive else g["shadow_musd"].max()
        one_pct = g["value_of_1pct_musd"].sum() if additive else g["value_of_1pct_musd"].max()
        estimate = "dual" if (g["estimate"] == "dual").all() else "upper estimate"
        quarters = [q for q in g["quarter"] if q]
        scenarios = sorted({s for x in g["scenarios"] for s in str(x).split() if s and x == x},
                           key=d.SCENARIOS.index)
        if len(g) == 1:
            sentence = first["sentence"]
        elif family == "max_blocks":
            in_s = f" (in {', '.join(scenarios)})" if scenarios and len(scenarios) < len(d.SCENARIOS) else ""
            sentence = f"{first['label']} binds{in_s}: {first['step']} {_saving(family, value, estimate)}"
        else:
            each = " in each of those years" if family == "budget" else (" in each of those quarters" if additive
                                                                         else "")
            when = _when(g, d, family)
            span = f" in {when}" if when else ""
            sentence = f"{first['label']} binds{span}: {first['step']}{each} {_saving(family, value, estimate)}"
        relax = "one point more" if family in ("vendor_share", "provider_share") else (
            "one point less" if family == "owned_share" else "1 % more")
        groups.append({"family": family, "entity": entity, "label": first["label"], "rows": int(len(g)),
                       "quarters": list(dict.fromkeys(quarters)), "value_musd": float(value),
                       "value_of_1pct_musd": float(one_pct), "relax": relax, "estimate": estimate,
                       "sentence": sentence})
    groups.sort(key=lambda x: -x["value_of_1pct_musd"])
    return groups


# ------------------------------------------------------------------------------------- break-even prices
@dataclasses.dataclass
class Option:
    key: str            # price_scale key, e.g. "lease:cw_rubin"
    kind: str           # buy | block | lease | rental
    item: str
    usage: str          # unused | at_bound | used
    volume: float       # expected volume in its unit
    unit: str
    price_text: str     # today's price in words
    price_at: Any = None  # scale -> the price in words at that multiple of today's


def _option_volumes(m: pyo.ConcreteModel, d: ModelData) -> dict[str, float]:
    """Expected volume per option key: units bought, blocks started, unit-quarters leased or rented."""
    vol: dict[str, float] = defaultdict(float)
    for a, i, r, t in m.buy.index_set():
        vol[f"buy:{a}"] += d.node_probability[r, t] * d.buy_lot[a] * (pyo.value(m.buy[a, i, r, t]) or 0.0)
    for i, r, t in m.build.index_set():
        vol[f"block:{i}"] += d.node_probability[r, t] * (pyo.value(m.build[i, r, t]) or 0.0)
    for o, k, L, r, t in m.commit.index_set():
        vol[f"lease:{o}"] += d.node_probability[r, t] * d.offer_lot[o] * L * (pyo.value(m.commit[o, k, L, r, t]) or 0.0)
    for rental in d.RENTALS:
        for n in d.NODES:
            if (f"rental:{rental}", n) in m.used_units:
                vol[f"rental:{rental}"] += d.node_probability[n] * (pyo.value(m.used_units[f"rental:{rental}", n]) or 0.0)
    return vol


def _at_bound(m: pyo.ConcreteModel, d: ModelData, key: str) -> bool:
    kind, item = key.split(":", 1)
    if kind == "buy":
        nodes = {(r, t) for a, i, r, t in m.buy.index_set() if a == item and (pyo.value(m.buy[a, i, r, t]) or 0) > 0.5}
        if not nodes:
            return False
        for n in nodes:
            if (item, *n) not in m.supply:
                return False
            c = m.supply[item, *n]
            if pyo.value(c.upper) - pyo.value(c.body) >= d.buy_lot[item] - 1e-6:
                return False
        return True
    if kind == "block":
        rows = [c for (i, s), c in m.max_blocks.items() if i == item]
        return bool(rows) and all(pyo.value(c.upper) - pyo.value(c.body) < 1 - 1e-6 for c in rows)
    if kind == "lease":
        return any(round(pyo.value(v) or 0) >= v.ub - 1e-9 and v.ub > 0
                   for (o, *_), v in m.commit.items() if o == item)
    if kind == "rental":
        used = [(n, pyo.value(m.used_units[f"rental:{item}", n])) for n in d.NODES
                if (f"rental:{item}", n) in m.used_units]
        used = [(n, u) for n, u in used if u > 1e-6]
        return bool(used) and all(u >= d.rental_cap[item, n[1]] - 1e-6 for n, u in used)
    return False


def options(m: pyo.ConcreteModel, d: ModelData) -> list[Option]:
    """The priced options a break-even search may move, with how the plan uses them."""
    vol = _option_volumes(m, d)
    out = []
    for key in m.PRICE_KEYS:
        kind, item = key.split(":", 1) if ":" in key else (key, "")
        if kind not in OPTION_KINDS:
            continue
        v = vol.get(key, 0.0)
        usage = "unused" if v <= 1e-6 else ("at_bound" if _at_bound(m, d, key) else "used")
        unit = {"buy": "units", "block": "blocks", "lease": "unit-quarters", "rental": "unit-quarters"}[kind]
        out.append(Option(key, kind, item, usage, round(v, 6), unit, _price_text(d, kind, item),
                          lambda scale, kind=kind, item=item: _price_text(d, kind, item, scale)))
    return out


def _price_text(d: ModelData, kind: str, item: str, scale: float = 1.0) -> str:
    """An option's price in words, at ``scale`` × today's."""
    per_hour = 1e6 / 2190.0
    if kind == "buy":
        ts = sorted(t for (a, t) in d.price_musd_per_unit if a == item)
        return (f"${d.price_musd_per_unit[item, ts[0]] * scale * 1e3:,.1f}k per unit in {d.QUARTERS[ts[0]]}"
                if ts else "")
    if kind == "block":
        return f"${d.block_capex_musd[item] / d.block_mw[item] * scale:,.2f}M per MW"
    if kind == "lease":  # the longest term; every term's price moves with the same multiplier
        terms = sorted((L, p) for (o, L), p in d.lease_musd_per_unit_quarter.items() if o == item)
        L, p = terms[-1]
        return f"${p * per_hour * scale:,.2f}/h for {L} q" + (" (other terms alike)" if len(terms) > 1 and scale != 1
                                                               else "")
    if kind == "rental":
        return f"${d.rental_musd_per_unit_quarter[item] * per_hour * scale:,.2f}/h"
    return ""


def _option_columns(m: pyo.ConcreteModel) -> dict[str, set]:
    """Integer columns that belong to each option key (ids)."""
    cols: dict[str, set] = defaultdict(set)
    for (a, *_), v in m.buy.items():
        cols[f"buy:{a}"].add(id(v))
    for (i, *_), v in m.build.items():
        cols[f"block:{i}"].add(id(v))
    for (o, *_), v in m.commit.items():
        cols[f"lease:{o}"].add(id(v))
    for (o, *_), v in m.signed.items():
        cols[f"lease:{o}"].add(id(v))
    return cols


def break_even(m: pyo.ConcreteModel, d: ModelData, opts: SolveOptions, clock: Clock,
               lp: FixedLP | None = None, steps: int = 5, low: float = 0.1, high: float = 4.0,
               per_solve: float | None = None, mode: str = "full") -> pd.DataFrame:
    """Bisection over ``price_scale[key]`` for every unused or bound option (see the module docstring).

    Each probe is a MIP re-solve in a persistent session (load once, change the parameter, re-solve),
    warm-started from the optimal plan. ``mode="full"`` re-optimises every decision; ``mode="restricted"``
    holds every other lumpy decision (blocks, lots, lease lots) at its optimal value (through its bounds, so
    the session is loaded once) and lets only the option's own decisions and the continuous ones move —
    much cheaper on large instances, and the answer to "at what price would this option displace part of
    the plan as it stands". Options are searched in
    order of their local (reduced-cost) estimate, nearest to today's price first, while the clock allows.
    """
    candidates = [o for o in options(m, d) if o.usage in ("unused", "at_bound")]
    columns = ["option", "kind", "item", "usage", "volume", "unit", "price_today", "direction", "low_scale",
               "high_scale", "break_even_scale", "local_estimate", "probes", "mode", "status", "sentence"]
    if not candidates:
        return pd.DataFrame(columns=columns)
    local = _local_estimates(m, d, lp, [o.key for o in candidates]) if lp is not None else {}
    candidates.sort(key=lambda o: (abs(math.log(min(max(local.get(o.key, 0.5), 1e-3), 1e3))), o.key))
    rows = []
    with preserved(m):
        start_values = {id(v): (v.value or 0.0) for v in m.component_data_objects(pyo.Var, descend_into=True)}
        decisions = decision_vars(m)
        bounds = {id(v): (v.lower, v.upper) for v in decisions}
        own = _option_columns(m)
        session = None
        for o in candidates:
            enter = o.usage == "unused"
            lo, hi = (low, 1.0) if enter else (1.0, high)
            # reduced costs of a degenerate LP can point the wrong way: an unused option can only enter below
            # today's price, a used one only leave above it; any other estimate is dropped, not shown or probed
            estimate = local.get(o.key)
            if estimate is not None and not (0 < estimate < 1 if enter else estimate > 1):
                estimate = None
            probes, status = 0, "searched"
            if clock.expired:
                rows.append(_be_row(o, enter, lo, hi, probes, "not searched (time budget)", estimate, mode))
                continue
            if mode == "restricted":  # pin the other options' decisions by their bounds (cheap to change)
                mine = own.get(o.key, set())
                for v in decisions:
                    lower, upper = bounds[id(v)] if id(v) in mine else (round(start_values[id(v)]),) * 2
                    v.setlb(lower)
                    v.setub(upper)
            if session is None:
                session = HighsSession(m)
            old = pyo.value(m.price_scale[o.key])

            def used_at(scale: float) -> bool | None:
                nonlocal probes
                if clock.expired:
                    return None
                m.price_scale[o.key] = old * scale
                try:
                    result = session.solve(dataclasses.replace(opts, time_limit=clock.limit(per_solve)),
                                           start=start_values)
                finally:
                    m.price_scale[o.key] = old
                probes += 1
                if not result.has_solution:
                    return None
                return _option_volumes(m, d).get(o.key, 0.0) > 1e-6

            # the far end of the bracket first: does the option move at all inside the range?
            far = used_at(lo if enter else hi)
            if far is None:
                rows.append(_be_row(o, enter, lo, hi, probes, "not searched (time budget)", estimate, mode))
                continue
            if enter and not far:
                rows.append(_be_row(o, enter, None, lo, probes, f"does not enter at {lo:g}×", estimate, mode))
                continue
            if not enter and far:
                rows.append(_be_row(o, enter, hi, None, probes, f"still used at {hi:g}×", estimate, mode))
                continue
            guess = estimate
            # the local estimate is usually right: probe just either side of it first (at the estimate itself
            # both answers are optimal, and the warm-started solver keeps the current plan)
            near = []
            if guess is not None and lo < guess < hi:
                guess = min(max(guess, lo + 0.05 * (hi - lo)), hi - 0.05 * (hi - lo))
                near = [guess + 0.005 * (hi - lo), guess - 0.005 * (hi - lo)]
            for k in range(steps):
                mid = (lo + hi) / 2
                while near and not lo < near[0] < hi:
                    near.pop(0)
                if near:
                    mid = near.pop(0)
                used = used_at(mid)
                if used is None:
                    status = "partial (time budget)"
                    break
                if used:
                    lo = mid
                else:
                    hi = mid
            rows.append(_be_row(o, enter, lo, hi, probes, status, estimate, mode))
    return pd.DataFrame(rows, columns=columns)


def _be_row(o: Option, enter: bool, lo: float | None, hi: float | None, probes: int, status: str,
            local: float | None, mode: str) -> dict:
    direction = "enters below" if enter else "leaves above"
    if lo is not None and hi is not None:
        scale = (lo + hi) / 2
        bracket = f"{lo:.2f}–{hi:.2f}×"
    else:
        scale = float("nan")
        bracket = ""
    name = f"{o.kind} {o.item}"

    def price(x: float) -> str:
        return o.price_at(x) if o.price_at is not None else f"{x:.2f}× today's price"
    if status.startswith("not searched"):
        sentence = f"{name}: not searched in the time budget"
        if local is not None and math.isfinite(local):
            sentence += f" (local estimate {local:.2f}× today's price)"
    elif status.startswith("does not enter"):
        sentence = f"{name} does not enter the plan even at {price(hi)} — {hi:.2f}× today's {o.price_text}"
    elif status.startswith("still used"):
        sentence = f"{name} stays in the plan even at {price(lo)} — {lo:.2f}× today's {o.price_text}"
    elif enter:
        sentence = f"{name} would enter the plan at about {price(scale)} — {bracket} today's {o.price_text}"
    else:
        sentence = (f"{name} (used at its limit) would leave the plan at about {price(scale)} — {bracket} today's "
                    f"{o.price_text}")
    if status.startswith("partial"):
        sentence += " — search stopped by the time budget"
    return {"option": o.key, "kind": o.kind, "item": o.item, "usage": o.usage, "volume": o.volume, "unit": o.unit,
            "price_today": o.price_text, "direction": direction, "low_scale": lo, "high_scale": hi,
            "break_even_scale": scale, "local_estimate": local, "probes": probes, "mode": mode, "status": status,
            "sentence": sentence}


def _local_estimates(m: pyo.ConcreteModel, d: ModelData, lp: FixedLP, keys: list[str]) -> dict[str, float]:
    """Local break-even multiplier per option from the LP with integers fixed (others held where they are).

    A column ``j`` with price coefficient ``c_j`` and reduced cost ``rc_j`` breaks even at the multiplier
    ``1 − rc_j / c_j``; a rental at its cap (its ``source_limit`` row binds with dual ``y ≤ 0``, per unit)
    stays worth its price up to ``1 − K · y / c``: an ``alloc`` column counts ``K`` = QUANTITY_SCALE units
    (:mod:`procure.model.units`), so its ``c`` is per thousand units. The option's estimate is the best over
    its columns.
    """
    out: dict[str, float] = {}
    if not lp.reduced_costs:
        return out
    columns = defaultdict(list)
    for a, i, r, t in m.buy.index_set():
        columns[f"buy:{a}"].append(m.buy[a, i, r, t])
    for i, r, t in m.build.index_set():
        columns[f"block:{i}"].append(m.build[i, r, t])
    for o, k, L, r, t in m.commit.index_set():
        columns[f"lease:{o}"].append(m.commit[o, k, L, r, t])
    for u, w, r, t in m.ALLOC:
        if u.startswith("rental:") or u.startswith("lease:"):
            columns[u].append(m.alloc[u, w, r, t])
    for key in keys:
        best = None
        for v in columns.get(key, []):
            c = lp.price_coefs.get(id(v), 0.0)
            rc = lp.reduced_costs.get(v)
            if c <= TOL or rc is None:
                continue
            s = 1.0 - rc / c
            if key.startswith("rental:"):
                u, w, r, t = v.index()
                row = m.source_limit[u, r, t] if (u, r, t) in m.source_limit else None
                y = lp.duals.get(row) if row is not None else None
                if y is not None and y < 0:
                    s = max(s, 1.0 - QUANTITY_SCALE * y / c)
            best = s if best is None else max(best, s)
        if best is not None:
            out[key] = best
    return out


# ---------------------------------------------------------------------------- value of the stochastic solution
def single_path_data(d: ModelData, scenario_id: str, demand: dict) -> ModelData:
    """A one-scenario copy of ``d`` with the given demand ``{(workload, t): H100e}``."""
    nodes = tuple((scenario_id, t) for t in range(d.T))
    return dataclasses.replace(
        d, SCENARIOS=(scenario_id,), probability=MappingProxyType({scenario_id: 1.0}), NODES=nodes,
        node_of=MappingProxyType({(scenario_id, t): (scenario_id, t) for t in range(d.T)}),
        node_probability=MappingProxyType({n: 1.0 for n in nodes}),
        parent_node=MappingProxyType({(scenario_id, t): ((scenario_id, t - 1) if t else None) for t in range(d.T)}),
        histories=MappingProxyType({(scenario_id, t): nodes[:t + 1] for t in range(d.T)}),
        demand=MappingProxyType({(w, (scenario_id, t)): float(demand[w, t]) for w in d.WORKLOADS for t in range(d.T)}))


def expected_demand(d: ModelData) -> dict:
    return {(w, t): sum(d.probability[s] * d.demand[w, d.node_of[s, t]] for s in d.SCENARIOS)
            for w in d.WORKLOADS for t in range(d.T)}


def first_stage_nodes(d: ModelData) -> set:
    return {n for n in d.NODES if d.node_probability[n] >= 1 - 1e-9}


def stochastic_value(m: pyo.ConcreteModel, d: ModelData, rp: dict, opts: SolveOptions, clock: Clock,
                     per_solve: float | None = None) -> dict:
    """VSS and EVPI (see the module docstring); ``rp`` is ``{"objective", "bound"}`` of the stochastic
    solve. Each extra solve is time-limited; values computed from a time-limited solve say so."""
    out: dict[str, Any] = {"applicable": len(d.SCENARIOS) >= 2}
    if not out["applicable"]:
        out["note"] = "one scenario: nothing to be uncertain about"
        return out
    root = d.node_of[d.SCENARIOS[0], 0][0]
    first = first_stage_nodes(d)
    out["first_stage_quarters"] = [d.QUARTERS[t] for _, t in sorted(first, key=lambda n: n[1])]
    started = time.perf_counter()
    shares = {"left": 1 + 2 + len(d.SCENARIOS)}  # EV 1, EEV 2 (the whole tree), each scenario alone 1

    def limited(o: SolveOptions, share: int = 1) -> SolveOptions:
        left = clock.left
        limit = per_solve if math.isinf(left) else max(left * share / shares["left"], 1.0)
        if per_solve is not None and limit is not None:
            limit = min(limit, per_solve)
        shares["left"] = max(shares["left"] - share, 1)
        return dataclasses.replace(o, time_limit=limit)

    # expected-value problem
    ev_model = build_model(single_path_data(d, root, expected_demand(d)))
    ev = solve_model(ev_model, limited(opts))
    out["ev"] = _result_dict(ev)
    if ev.has_solution:
        with preserved(m):
            by_name = {}
            for v in decision_vars(ev_model) + integer_vars(ev_model):
                n = node_of_index(v)
                if n in first:
                    by_name[v.name] = round(v.value or 0)
            for v in decision_vars(m) + integer_vars(m):
                if v.name in by_name and not v.fixed:
                    v.fix(by_name[v.name])
            eev = solve_model(m, limited(opts, share=2))
        out["eev"] = _result_dict(eev)
        if eev.has_solution and rp.get("objective") is not None:
            out["vss_musd"] = eev.objective - rp["objective"]
            out["vss_range_musd"] = [(eev.bound if eev.bound is not None else eev.objective) - rp["objective"],
                                     eev.objective - (rp.get("bound") or rp["objective"])]
    # wait-and-see: each scenario alone
    ws, ws_bound, exact = 0.0, 0.0, True
    per_scenario = {}
    for s in d.SCENARIOS:
        demand = {(w, t): d.demand[w, d.node_of[s, t]] for w in d.WORKLOADS for t in range(d.T)}
        res = solve_model(build_model(single_path_data(d, s, demand)), limited(opts))
        per_scenario[s] = _result_dict(res)
        if not res.has_solution:
            ws = None
            break
        ws += d.probability[s] * res.objective
        ws_bound += d.probability[s] * (res.bound if res.bound is not None else res.objective)
        exact = exact and res.status == "optimal"
    out["wait_and_see"] = per_scenario
    if ws is not None and rp.get("objective") is not None:
        out["ws_musd"] = ws
        out["evpi_musd"] = rp["objective"] - ws
        out["evpi_range_musd"] = [(rp.get("bound") or rp["objective"]) - ws, rp["objective"] - ws_bound]
    out["exact"] = exact and out.get("eev", {}).get("status") == "optimal" and ev.status == "optimal"
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


def _result_dict(r: SolveResult) -> dict:
    return {"status": r.status, "objective": r.objective, "bound": r.bound, "gap": r.gap,
            "seconds": round(r.seconds, 3)}


# ----------------------------------------------------------------------------------------------- orchestration
@dataclasses.dataclass
class Explanation:
    marginal_costs: pd.DataFrame
    binding: pd.DataFrame
    limits: list[dict]
    break_even: pd.DataFrame
    stochastic: dict
    notes: list[str]
    seconds: dict

    def to_json(self) -> dict:
        return {"limits": self.limits, "stochastic": self.stochastic, "notes": self.notes, "seconds": self.seconds,
                "units": {"marginal_usd_per_h100e_quarter": "undiscounted $ per H100e-quarter, given the scenario "
                                                            "reaches the node",
                          "value_musd": "$M, expected discounted: at most what one more step saves, the marginal "
                                        "rate times the step (budget: $ saved per $ of budget)",
                          "value_of_1pct_musd": "$M, expected discounted, for relaxing the limit by 1 % "
                                                "(shares: one percentage point)",
                          "vss_musd": "$M, expected discounted", "evpi_musd": "$M, expected discounted"}}


def explain(plan, names: dict | None = None, time_budget: float | None = None,
            per_solve: float | None = None, break_even_steps: int = 5, break_even_mode: str | None = None) -> Explanation:
    """Explain a solved plan (needs ``plan.model``: solve with ``keep_model=True``).

    ``time_budget`` (seconds) bounds the extra solves (break-even probes, VSS/EVPI); ``per_solve`` caps one
    MIP re-solve. ``names`` maps site/provider ids to display names. ``break_even_mode`` is ``"full"`` or
    ``"restricted"`` (see :func:`break_even`); by default full when the plan's solve took at most 10 s.
    """
    m, d = plan.model, plan.data
    if m is None:
        raise ValueError("explain() needs the solved model: call procure.solve(..., keep_model=True)")
    if getattr(m, "SLACKS", None):
        raise ValueError("the plan comes from the elastic re-solve of an infeasible instance: nothing to explain")
    summary = plan.summary
    opts = SolveOptions(gap=summary.get("options", {}).get("gap", 1e-4) or 1e-4,
                        threads=summary.get("options", {}).get("threads"))
    clock = Clock(time_budget)
    seconds: dict[str, float] = {}
    notes = []
    t0 = time.perf_counter()
    lp = solve_fixed_lp(m, time_limit=clock.limit(per_solve), threads=opts.threads)
    seconds["fixed_lp"] = round(time.perf_counter() - t0, 3)
    if not lp.duals:
        notes.append(f"the LP with integers fixed gave no duals ({lp.termination}); marginal costs are missing")
    mc = marginal_costs(m, d, lp)
    t0 = time.perf_counter()
    coefficients = row_coefficients(m, d, free=LIMITS_FREE)
    limits_lp = solve_fixed_lp(m, time_limit=clock.limit(per_solve), threads=opts.threads, free=LIMITS_FREE)
    seconds["limits_lp"] = round(time.perf_counter() - t0, 3)
    binding = binding_limits(m, d, limits_lp, names, coefficients)
    limits = limit_groups(binding, d)
    if summary.get("status") != "optimal":
        notes.append("the plan is not proven optimal (time limit): duals and comparisons refer to the incumbent")

    # share the rest of the budget: VSS/EVPI first (a fixed number of solves), then break-even probes
    t0 = time.perf_counter()
    rp = {"objective": summary.get("objective"), "bound": summary.get("bound")}
    vss_clock = Clock(None if time_budget is None else max(clock.left * 0.7, 1.0))
    stochastic = stochastic_value(m, d, rp, opts, vss_clock, per_solve)
    seconds["stochastic"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    if break_even_mode is None:  # full re-solves when the MIP is quick, else hold the other lumpy decisions
        break_even_mode = "full" if (summary.get("seconds", {}).get("solve") or 0) <= 10 else "restricted"
    be = break_even(m, d, opts, clock, lp, steps=break_even_steps, per_solve=per_solve, mode=break_even_mode)
    seconds["break_even"] = round(time.perf_counter() - t0, 3)
    return Explanation(mc, binding, limits, be, stochastic, notes, seconds)
