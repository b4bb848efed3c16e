"""Words for the explanation's sentences: money, display names, runs of quarters."""

from __future__ import annotations


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
