"""Running totals of integer decisions over the scenario tree.

Blocks, purchase lots and lease lots are integral through their running totals: the increments are
continuous and ``total[g, n] = total[g, parent(n)] + increment[g, n]``. Branching on a running total
("at most k blocks by 2028Q2") splits the search far better than branching on one quarter's increment, and
quantities over a window of quarters (units still alive, leases still running) become a difference of two
totals instead of a long sum.
"""

from __future__ import annotations

import math
from typing import Callable, Hashable

import pyomo.environ as pyo

from procure.inputs.data import ModelData, Node


def add_running_total(m: pyo.ConcreteModel, d: ModelData, name: str, windows: dict[Hashable, tuple[int, int]],
                      increment: Callable[[Hashable, Node], object], upper: Callable[[Hashable], float] | None = None
                      ) -> Callable[[Hashable, Node], object]:
    """Create integer ``name[g, n]`` for every group ``g`` over the nodes of quarters ``windows[g]`` (first,
    last) and rows ``name_def`` linking it to ``increment(g, n)`` (0 where there is none).

    Returns ``at(g, n)``: the running total at node ``n`` — the variable of ``h(n, min(t, last))``, or 0
    before the window opens (the total is constant outside the window, so no variable is needed there).
    """
    keys = [(*_flat(g), *n) for g, (first, last) in windows.items() for n in d.NODES if first <= n[1] <= last]
    group_of = {(*_flat(g), *n): (g, n) for g, (first, last) in windows.items() for n in d.NODES
                if first <= n[1] <= last}
    bounds = (lambda _, *k: (0, upper(group_of[k][0]))) if upper else None
    var = pyo.Var(keys, within=m.domains.integer, bounds=bounds)
    m.add_component(name, var)

    def at(g: Hashable, n: Node):
        return total_at(var, d, g, windows[g], n)

    def define(_, *key):
        g, n = group_of[key]
        parent = d.parent_node[n]
        before = at(g, parent) if parent is not None else 0
        return var[key] == before + increment(g, n)

    m.add_component(f"{name}_def", pyo.Constraint(keys, rule=define))
    return at


def total_at(var: pyo.Var, d: ModelData, g: Hashable, window: tuple[int, int], n: Node):
    """Running total ``var`` of group ``g`` (quarters ``window`` = (first, last)) at node ``n``: the variable
    of ``h(n, min(t, last))``, or 0 before the window opens."""
    first, last = window
    if n[1] < first:
        return 0
    return var[(*_flat(g), *d.history(n)[min(n[1], last)])]


def quarter_windows(pairs) -> dict[Hashable, tuple[int, int]]:
    """``{group: (first, last)}`` quarter of an iterable of ``(group, quarter)``."""
    windows: dict[Hashable, tuple[int, int]] = {}
    for g, t in pairs:
        first, last = windows.get(g, (t, t))
        windows[g] = (min(first, t), max(last, t))
    return windows


def last_quarters(at: Callable[[Hashable, Node], object], d: ModelData, g: Hashable, n: Node, length: int):
    """What was added to ``g``'s running total in the ``length`` quarters up to node ``n`` (inclusive)."""
    start = n[1] - length
    return at(g, n) - (at(g, d.history(n)[start]) if start >= 0 else 0)


def lots_within(units: float, lot: float) -> int:
    """Whole lots of ``lot`` within ``units`` (a hair of float error forgiven: 0.3 holds 3 lots of 0.1)."""
    return math.floor(units / lot + 1e-9)


def _flat(g: Hashable) -> tuple:
    return g if isinstance(g, tuple) else (g,)
