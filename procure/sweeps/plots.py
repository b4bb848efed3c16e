"""Plots of a sweep's results table (matplotlib, Agg backend): tornado, heatmap, lines, scatter.

Each function takes the table :func:`procure.sweeps.run.read_results` returns and writes one PNG.
Points without a plan are drawn as gaps or red crosses, never as zeros. A MIP stopped at a gap is shown
with its bound, so a reader sees how much of a difference could be solver slack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

OK = ("optimal", "feasible")
METRIC_LABELS = {"objective": "objective ($M, expected discounted)", "lease_share": "lease share of served H100e"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _numeric(series: pd.Series) -> pd.Series | None:
    values = pd.to_numeric(series, errors="coerce")
    return values if values.notna().all() else None


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    return str(value)


def _subtitle(plan) -> str:
    solve = plan.spec.solve
    limit = f", {solve.time_limit:g} s limit" if solve.time_limit else ""
    return f"{plan.loaded.instance.name} · gap {solve.gap:g}{limit} per point"


def _metrics(table: pd.DataFrame) -> list[str]:
    return [m for m in ("objective", "lease_share") if m in table and table[m].notna().any()]


def tornado(table: pd.DataFrame, labels: Sequence[str], path: Path, title: str = "", subtitle: str = "",
            gap: float | None = None) -> Path:
    """One-at-a-time sweep: per parameter, how far its lowest and highest values move each metric from
    the base point (objective and lease share), sorted by swing. A bar whose plan stopped short of the
    ``gap`` asked for says the gap it reached: a swing smaller than that may be solver slack."""
    plt = _pyplot()
    metrics = _metrics(table) or ["objective"]
    base = table[table["varied"] == "base"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.5 * len(metrics), 0.6 * len(labels) + 2.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        base_ok = base[base["status"].isin(OK)]
        if base_ok.empty:
            ax.text(0.5, 0.5, "the base point has no plan", ha="center", transform=ax.transAxes)
            continue
        b = float(base_ok[metric].iloc[0])
        bars = []
        for label in labels:
            rows = table[table["varied"] == label]
            ok = rows[rows["status"].isin(OK)]
            failed = rows[~rows["status"].isin(OK)]
            if ok.empty:
                bars.append((label, None, None, 0.0, len(failed)))
                continue
            with_base = pd.concat([ok, base_ok]) if label in base_ok and pd.notna(base_ok[label].iloc[0]) else ok
            if _numeric(with_base[label]) is not None:
                ok = with_base  # the base's own value counts: values [5, 20], base 20 → 20 is the highest
            values = _numeric(ok[label])
            order = values.sort_values().index if values is not None else ok.index
            low, high = ok.loc[order[0]], ok.loc[order[-1]]
            swing = max(abs(float(low[metric]) - b), abs(float(high[metric]) - b))
            bars.append((label, low, high, swing, len(failed)))
        bars.sort(key=lambda x: x[3])
        widest = max((bar[3] for bar in bars), default=0.0) or max(abs(b) * 0.05, 1e-6)
        for y, (label, low, high, _, failed) in enumerate(bars):
            if low is not None:
                # the lowest value's bar above the line, the highest's below, so they never hide each other
                pair = ((low, "#4c72b0", 0.17), (high, "#dd8452", -0.17))
                for row, colour, offset in pair if low.name != high.name else pair[:1]:
                    delta = float(row[metric]) - b
                    ax.barh(y + offset, delta, left=b, color=colour, height=0.32)
                    side = 1 if delta >= 0 else -1
                    text = _fmt(row[label])
                    if gap is not None and pd.notna(row.get("gap")) and row["gap"] > gap * 1.0001:
                        text += f" (gap {row['gap']:.1%})"
                    ax.annotate(text, (b + delta, y + offset), xytext=(3 * side, 0),
                                textcoords="offset points", va="center", ha="left" if side > 0 else "right",
                                fontsize=7)
            if failed:
                ax.annotate(f"{failed} failed", (b, y), xytext=(0, 12), textcoords="offset points", ha="center",
                            color="red", fontsize=7)
        ax.axvline(b, color="black", lw=1)
        ax.set_xlim(b - 1.35 * widest, b + 1.35 * widest)
        ax.set_ylim(-0.6, len(bars) - 0.4)
        ax.set_yticks(range(len(bars)), [bar[0] for bar in bars], fontsize=8)
        ax.set_xlabel(METRIC_LABELS.get(metric, metric))
        from matplotlib.ticker import MaxNLocator, StrMethodFormatter

        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(_percent() if metric == "lease_share" else StrMethodFormatter("{x:,.0f}")
                                     if abs(b) >= 1e4 else StrMethodFormatter("{x:g}"))
        ax.set_title(f"{metric}: base " + (f"{b:.1%}" if metric == "lease_share" else _fmt(b)), fontsize=10)
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(color="#4c72b0", label="lowest value"), Patch(color="#dd8452", label="highest value")],
               loc="upper right", fontsize=8)
    fig.suptitle(f"{title}\n{subtitle}" if subtitle else title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def heatmap(table: pd.DataFrame, x: str, y: str, path: Path, title: str = "", subtitle: str = "",
            gap: float | None = None, names: dict | None = None) -> Path:
    """Two-parameter grid: objective and lease share over ``x`` × ``y``; cells without a plan are crossed,
    cells whose plan stopped short of the ``gap`` asked for show the gap they reached."""
    plt = _pyplot()
    metrics = _metrics(table) or ["objective"]
    xs = list(dict.fromkeys(table[x]))
    ys = list(dict.fromkeys(table[y]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        grid = np.full((len(ys), len(xs)), np.nan)
        short = np.full((len(ys), len(xs)), np.nan)
        for _, row in table.iterrows():
            if row["status"] in OK and pd.notna(row[metric]):
                grid[ys.index(row[y]), xs.index(row[x])] = float(row[metric])
                if gap is not None and pd.notna(row.get("gap")) and row["gap"] > gap * 1.0001:
                    short[ys.index(row[y]), xs.index(row[x])] = float(row["gap"])
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        bar = fig.colorbar(image, ax=ax, label=METRIC_LABELS.get(metric, metric))
        if metric == "lease_share":
            bar.formatter = _percent()
            bar.update_ticks()
        finite = grid[np.isfinite(grid)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0
        for i in range(len(ys)):
            for j in range(len(xs)):
                if np.isfinite(grid[i, j]):
                    text = _fmt(grid[i, j]) if metric != "lease_share" else f"{grid[i, j]:.1%}"
                    if np.isfinite(short[i, j]):
                        text += f"\n(gap {short[i, j]:.1%})"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7,
                            color="white" if grid[i, j] < middle else "black")
                else:
                    ax.text(j, i, "×", ha="center", va="center", color="red", fontsize=12)
        ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs], fontsize=8)
        ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys], fontsize=8)
        ax.set_xlabel((names or {}).get(x, x))
        ax.set_ylabel((names or {}).get(y, y))
        ax.set_title(metric, fontsize=10)
    fig.suptitle(f"{title}\n{subtitle}" if subtitle else title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def lines(table: pd.DataFrame, x: str, path: Path, title: str = "", subtitle: str = "",
          group: str | None = None, names: dict | None = None) -> Path:
    """One-parameter sweep: objective (with its bound: the optimum lies in the band) and lease share
    against ``x``; ``group`` draws one line per value of a second parameter."""
    plt = _pyplot()
    metrics = _metrics(table) or ["objective"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4.0), squeeze=False)
    numeric = _numeric(table[x]) is not None
    positions = {v: k for k, v in enumerate(dict.fromkeys(table[x]))}
    groups = [(None, table)] if group is None else list(table.groupby(group, sort=False))
    for ax, metric in zip(axes[0], metrics):
        for key, rows in groups:
            xv = pd.to_numeric(rows[x]) if numeric else rows[x].map(positions)
            ok = rows["status"].isin(OK)
            order = np.argsort(xv[ok].to_numpy(), kind="stable")
            xs = xv[ok].to_numpy()[order]
            ys = rows.loc[ok, metric].to_numpy(dtype=float)[order]
            line, = ax.plot(xs, ys, marker="o", label=None if key is None else f"{group} = {_fmt(key)}")
            if metric == "objective" and "bound" in rows:
                bound = rows.loc[ok, "bound"].to_numpy(dtype=float)[order]
                if np.any(np.abs(ys - bound) > 1e-9 * np.maximum(1, np.abs(ys))):
                    ax.fill_between(xs, bound, ys, color=line.get_color(), alpha=0.2, lw=0,
                                    label="bound … plan (gap)" if key is None else None)
            if (~ok).any():
                ax.scatter(xv[~ok], np.full((~ok).sum(), np.nanmin(ys) if len(ys) else 0.0), marker="x",
                           color="red", zorder=5, label="no plan" if key is None else None)
        if not numeric:
            ax.set_xticks(list(positions.values()), [_fmt(v) for v in positions], fontsize=8)
        ax.set_xlabel((names or {}).get(x, x))
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        if metric == "lease_share":
            ax.yaxis.set_major_formatter(_percent())
        elif np.nanmax(np.abs(table[metric].to_numpy(dtype=float)), initial=0.0) >= 1e4:
            from matplotlib.ticker import StrMethodFormatter

            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(f"{title}\n{subtitle}" if subtitle else title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def scatter(table: pd.DataFrame, labels: Sequence[str], path: Path, title: str = "", subtitle: str = "",
            names: dict | None = None) -> Path:
    """Sampled sweeps: the objective against each parameter, coloured by lease share."""
    plt = _pyplot()
    ok = table[table["status"].isin(OK)]
    fig, axes = plt.subplots(1, len(labels), figsize=(4.2 * len(labels), 3.8), squeeze=False)
    colour = ok["lease_share"] if "lease_share" in ok else None
    for ax, label in zip(axes[0], labels):
        values = _numeric(ok[label])
        xs = values if values is not None else ok[label].astype(str)
        points = ax.scatter(xs, ok["objective"], c=colour, cmap="viridis", s=18)
        ax.set_xlabel((names or {}).get(label, label))
        ax.set_ylabel(METRIC_LABELS["objective"])
        ax.grid(alpha=0.3)
    if colour is not None and len(ok):
        fig.colorbar(points, ax=axes[0].tolist(), label=METRIC_LABELS["lease_share"])
    fig.suptitle(f"{title}\n{subtitle}" if subtitle else title, fontsize=11)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


def axis_names(plan) -> dict[str, str]:
    """Axis titles that say how a parameter's values act on the instance: ``add`` values are amounts added
    (a lead time +2, not a lead time of 2), ``scale`` values are factors."""
    how = {"add": " (added to the instance's value)", "scale": " (× the instance's value)"}
    return {label: label + how.get(p.effective_mode, "") for label, p in zip(plan.labels, plan.spec.parameters)}


def plot_sweep(table: pd.DataFrame, plan, out_dir: str | Path) -> list[Path]:
    """The plot that fits the sweep's design, written into ``out_dir``."""
    out_dir = Path(out_dir)
    labels = list(plan.labels)
    design = plan.spec.design
    title, subtitle = f"sweep '{plan.name}'", _subtitle(plan)
    names = axis_names(plan)
    if design == "one_at_a_time":
        return [tornado(table, labels, out_dir / "tornado.png", title, subtitle, gap=plan.spec.solve.gap)]
    varying = [label for label in labels if table[label].nunique(dropna=False) > 1]
    if design in ("grid", "zip") and len(varying) == 1:
        return [lines(table, varying[0], out_dir / "lines.png", title, subtitle, names=names)]
    if design == "grid" and len(varying) == 2:
        x, y = varying
        return [heatmap(table, x, y, out_dir / "heatmap.png", title, subtitle, gap=plan.spec.solve.gap,
                        names=names),
                lines(table, x, out_dir / "lines.png", title, subtitle, group=y, names=names)]
    return [scatter(table, varying or labels, out_dir / "scatter.png", title, subtitle, names=names)]
