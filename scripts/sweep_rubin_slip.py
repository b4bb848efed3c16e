"""Sweep: what if Rubin or Rubin Ultra ships late?

One parameter per generation, moved one at a time from the base plan: the first quarter it can be
bought, its supply-cap schedule, the first start of the lease offers for it, the on-demand rental
schedule and (for Rubin) the start of the signed CoreWeave contract all slip by the same number of
quarters. Writes a tornado chart (``tornado.png``: objective and lease share, lowest and highest slip)
and the table ``results.csv``.

    python scripts/sweep_rubin_slip.py                        # slips of 2 and 4 quarters, about 3 minutes on 2 cores
    python scripts/sweep_rubin_slip.py --slips 1 2 3 4 6 --time-limit 300 --gap 1e-3

Every slip changes purchase and lease windows, so each point is a fresh build. With the defaults (60 s
per point, gap 1e-2) on ``instances/meta.json`` the ``gap`` column says how far each plan may be from
optimal; read differences smaller than that as noise. Copy this file (and ``_common.py`` beside it) and change
``RUBIN``/``RUBIN_ULTRA`` for other generations.
"""

from __future__ import annotations

from pathlib import Path

from _common import run_sweep, sweep_parser

RUBIN = ["purchases[Rubin].first_quarter", "purchases[Rubin].supply_cap_units",
         "lease_offers[cw_rubin].first_start", "lease_offers[nebius_rubin].first_start",
         "lease_offers[oracle_rubin].first_start", "rentals[oracle_rubin_od].available_units",
         "existing_contracts[cw_contract_2].start"]
RUBIN_ULTRA = ["purchases[RubinUltra].first_quarter", "purchases[RubinUltra].supply_cap_units",
               "lease_offers[cw_rubinultra].first_start", "rentals[coreweave_rubinultra_od].available_units"]


def spec(instance: Path, slips: list[int], time_limit: float, gap: float) -> dict:
    return {"name": "rubin_slip", "instance": str(instance.resolve()), "design": "one_at_a_time",
            "description": "Rubin and Rubin Ultra availability slips, one generation at a time.",
            "parameters": [{"name": "Rubin slip (quarters)", "path": RUBIN, "mode": "add", "values": slips},
                           {"name": "Rubin Ultra slip (quarters)", "path": RUBIN_ULTRA, "mode": "add",
                            "values": slips}],
            "solve": {"time_limit": time_limit, "gap": gap}}


def main() -> None:
    parser = sweep_parser("Sweep Rubin / Rubin Ultra availability slips.", "sweep_rubin_slip")
    parser.add_argument("--slips", type=int, nargs="+", default=[2, 4], help="quarters late")
    args = parser.parse_args()
    sweep = spec(args.instance, args.slips, args.time_limit, args.gap)
    run_sweep(sweep, args, ["varied", "Rubin slip (quarters)", "Rubin Ultra slip (quarters)", "status", "objective",
                            "gap", "lease_share", "seconds"])
    print(f"plot: {args.out / 'tornado.png'}")


if __name__ == "__main__":
    main()
