"""Sweep: lease prices against build capex — when does leasing beat building?

A grid of two multipliers: every lease offer's prices (all terms) and every site's facility and power
capex per MW. Both only re-price the model, so each worker builds it once and re-solves it in place for
every other point. Writes a heatmap (``heatmap.png``: objective and lease share over the grid), a line
plot per capex level (``lines.png``) and the table ``results.csv``.

    python scripts/sweep_lease_vs_build.py                    # 3 × 3 points, about 5 minutes on 2 cores
    python scripts/sweep_lease_vs_build.py --lease 0.6 0.8 1.0 1.2 1.4 --capex 0.8 1.0 1.2 1.4 --time-limit 120

With the defaults (60 s per point, gap 1e-2) on ``instances/meta.json`` the ``gap`` column says how far
each plan may be from optimal; read objective differences smaller than that as noise. Copy this file (and
``_common.py`` beside it) to sweep other knobs.
"""

from __future__ import annotations

from pathlib import Path

from _common import run_sweep, sweep_parser


def spec(instance: Path, lease: list[float], capex: list[float], time_limit: float, gap: float) -> dict:
    return {"name": "lease_vs_build", "instance": str(instance.resolve()), "design": "grid",
            "description": "Lease price multiplier against build capex multiplier.",
            "parameters": [{"name": "lease price ×", "knob": "lease_prices", "values": lease},
                           {"name": "build capex ×", "knob": "build_capex", "values": capex}],
            "solve": {"time_limit": time_limit, "gap": gap}}


def main() -> None:
    parser = sweep_parser("Sweep lease prices against build capex.", "sweep_lease_vs_build")
    parser.add_argument("--lease", type=float, nargs="+", default=[0.7, 1.0, 1.3], help="lease price multipliers")
    parser.add_argument("--capex", type=float, nargs="+", default=[0.8, 1.0, 1.25], help="build capex multipliers")
    args = parser.parse_args()
    sweep = spec(args.instance, args.lease, args.capex, args.time_limit, args.gap)
    run_sweep(sweep, args, ["lease price ×", "build capex ×", "status", "objective", "gap", "lease_share", "new_mw",
                            "mode", "seconds"])
    print(f"plots: {args.out / 'heatmap.png'}, {args.out / 'lines.png'}")


if __name__ == "__main__":
    main()
