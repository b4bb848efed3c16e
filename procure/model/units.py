"""The scale of the model's quantity columns.

``powered`` and ``alloc`` (accelerator units) and ``shortfall`` (H100e) are columns in **thousands**: every
row and cost takes them times :data:`QUANTITY_SCALE`, so rows, right-hand sides, duals and costs stay in
natural units (units, H100e, MW, $M) and only these columns are scaled.

Why: in natural units these columns reach 1e7 (meta.json's demand rows have right-hand sides up to 7e7
H100e), and HiGHS's cut separators found no cut at the root of meta.json's staged first stage. In
thousands they find about two dozen, which raise that root bound by 5–7 $M over three random seeds, and the
staged 60 s bound by 7–14 $M (``benchmarks/README.md``). HiGHS's guide asks for values of order unity.
"""

from __future__ import annotations

import pyomo.environ as pyo

QUANTITY_SCALE = 1000.0
"""Natural units (accelerator units or H100e) per unit of a ``powered``, ``alloc`` or ``shortfall`` column."""


SOLVER_NOISE = 1e-7
"""HiGHS's primal feasibility tolerance: a column may sit this far from its bound of 0."""


def natural(var) -> float:
    """A quantity column's value in natural units: 0 when it has none or lies within :data:`SOLVER_NOISE` of
    0. Why: scaled by 1,000, that noise would read as 1e-4 units or H100e and cross the 1e-6 thresholds
    that decide whether a rental is used or a quarter is short (no plan buys 1e-4 of a unit)."""
    value = pyo.value(var, exception=False)
    if value is None or abs(value) <= SOLVER_NOISE:
        return 0.0
    return QUANTITY_SCALE * float(value)
