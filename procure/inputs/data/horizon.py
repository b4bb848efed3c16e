"""What every family shares: the model's quarters and workloads, and a Steps field read at a quarter."""

from __future__ import annotations

from dataclasses import dataclass

from procure.inputs.quarters import quarter_name, quarter_ordinal
from procure.inputs.schema import Instance, Steps


def step_value(steps: Steps | None, ordinal: int, default: float = 0.0) -> float:
    """Value of a Steps field at an absolute quarter ordinal (``None`` -> ``default``)."""
    if steps is None:
        return default
    if isinstance(steps, (int, float)):
        return float(steps)
    value = 0.0
    for quarter, v in sorted(steps.items(), key=lambda kv: quarter_ordinal(kv[0])):
        if quarter_ordinal(quarter) <= ordinal:
            value = float(v)
    return value


@dataclass(frozen=True)
class Horizon:
    """Model quarters ``0..T-1`` (quarter ``t`` is absolute ordinal ``first + t``) and the workloads served."""

    first: int
    T: int
    quarters: tuple[str, ...]     # names of quarters 0..T-1
    workloads: tuple[str, ...]

    @classmethod
    def of(cls, inst: Instance) -> Horizon:
        first = quarter_ordinal(inst.horizon.first_quarter)
        T = quarter_ordinal(inst.horizon.last_quarter) - first + 1
        return cls(first=first, T=T, quarters=tuple(quarter_name(first + t) for t in range(T)),
                   workloads=tuple(w.id for w in inst.workloads))

    def index(self, quarter: str) -> int:
        """Model quarter of a schema quarter: negative before the horizon, ``T`` or more after it."""
        return quarter_ordinal(quarter) - self.first

    def step_at(self, steps: Steps | None, t: int) -> float:
        """Value of a Steps field at model quarter ``t`` (``None`` -> 0)."""
        return step_value(steps, self.first + t)
