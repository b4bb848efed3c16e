"""Calendar quarters as strings (``2026Q1``) outside the model and integers inside it."""

from __future__ import annotations

import re

QUARTER_PATTERN = r"^[0-9]{4}Q[1-4]$"  # ASCII digits: \d would take "２０２６Q1"
_QUARTER_RE = re.compile(QUARTER_PATTERN)
HOURS_PER_QUARTER = 8760.0 / 4.0


def is_quarter(text: object) -> bool:
    return isinstance(text, str) and bool(_QUARTER_RE.match(text))


def quarter_ordinal(quarter: str) -> int:
    """Absolute quarter number: ``year * 4 + (q - 1)``; differences are quarters apart."""
    if not is_quarter(quarter):
        raise ValueError(f"not a quarter (YYYYQn): {quarter!r}")
    return int(quarter[:4]) * 4 + int(quarter[5]) - 1


def quarter_name(ordinal: int) -> str:
    return f"{ordinal // 4:04d}Q{ordinal % 4 + 1}"  # four digits, as QUARTER_PATTERN and quarter_year read


def quarter_range(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    return [quarter_name(k) for k in range(quarter_ordinal(first), quarter_ordinal(last) + 1)]


def quarter_year(quarter: str) -> int:
    return int(quarter[:4])
