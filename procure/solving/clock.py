"""A time budget shared by a group of solves (the report's extra solves: explanations and baselines).

The glossary: ``time_limit`` is the seconds ONE solve may take, ``time_budget`` the seconds a group of solves
shares, and :attr:`Clock.left` what is left of it. ``None`` means no limit; this module is the one place that
reads it as ``math.inf``.
"""

from __future__ import annotations

import math
import time


class Clock:
    """The seconds a group of solves shares, counted from the clock's creation."""

    def __init__(self, time_budget: float | None):
        self.start = time.perf_counter()
        self.time_budget = time_budget

    @property
    def left(self) -> float:
        """Seconds left of the budget (negative once it is overrun; ``math.inf`` without a budget)."""
        if self.time_budget is None:
            return math.inf
        return self.time_budget - (time.perf_counter() - self.start)

    @property
    def expired(self) -> bool:
        return self.left <= 0

    def time_limit(self, time_limit: float | None = None, share: float = 1.0, floor: float = 2.0) -> float | None:
        """Seconds the next solve may take: ``share`` of what is left (at least ``floor``, so a late solve
        still gets a chance), at most ``time_limit``; ``None`` when neither the budget nor ``time_limit``
        bounds it."""
        left = self.left
        if math.isinf(left):
            return time_limit
        allowed = max(left * share, floor)
        return allowed if time_limit is None else min(time_limit, allowed)

    def part(self, share: float, floor: float = 2.0) -> Clock:
        """A clock starting now with ``share`` of what is left (at least ``floor``): a sub-group's budget."""
        return Clock(self.time_limit(share=share, floor=floor))
