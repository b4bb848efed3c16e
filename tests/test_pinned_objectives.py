"""Pinned objective values of the shipped instances ($M, expected discounted, net of residual value).

A change that moves one of these must say why in its commit. HiGHS is deterministic for a given version
and options, so the values repeat exactly; the tolerances are the solve's own relative gap.
"""

from __future__ import annotations

import pytest

import procure

TINY = 26.24704      # by hand, see instances/tiny.json's description and the arithmetic below
SMALL = 1359.619775  # HiGHS 1.15, gap 1e-4, direct solve (bound 1359.4839); the staged default lands within the gap
SMALL_OPTIMUM = 1359.511928  # proven (gap 0 at a requested 1e-9) by HiGHS 1.15 direct and staged
# small.json's pins moved when a unit idle at the horizon end stopped earning its book value
# (procure.model.fleet.add_idle_at_end): the optimum had kept one switched off for its residual credit.
# Before: SMALL 1359.623012, SMALL_OPTIMUM 1359.507751 (also proven by CBC); +0.004177 $M.
META_GAP = 2e-3      # pinned at the 0.2 % gap meta.json reaches in seconds; at 1e-4 see META_PROVEN
# The two meta pins below moved when powered/alloc/shortfall became columns in thousands
# (procure.model.units): the same model, but HiGHS now finds cuts at the root and takes another path to the
# gap. Before: staged 150723.341568, direct 150877.540385 (bound 150626.71).
# The staged pin moved again when stage 1 came to aim at a tenth of the gap instead of half
# (procure.solving.staged.STAGE_GAP_FRACTION): its bound 150626.26 → 150632.37, its plan's rounded lots are
# within the gap at once (before: 150721.688985).
# And again when the rounded plan became the cheapest of the rounding thresholds
# (procure.solving.staged.ROUNDING_THRESHOLDS) instead of the ceiling alone: 150714.888672 → 150682.307696, up at
# fractional parts above 0.4; stage 1 and its bound are unchanged.
# And again when the staged solve came to prove its bound on the block sums (procure.solving.staged's bound stage)
# and to search the lots with the leases held: at 2e-3 the bound stage's first plan is within a tenth of
# the gap, and its blocks (150682.307696 before, bound 150632.37) round to a dearer plan within the gap.
# And again when bought units came to be powered in their delivery quarter (procure.model.fleet.add_delivery:
# no warehousing): the plan had held units unpowered until power came. Before: staged 150721.650070 (bound
# 150656.18), direct 150779.998254 (bound 150632.62), proven 150669.922187 (bound 150655.252521), LP
# 150626.256863; the LP bound rises by 23.3 $M, the proven optimum by 20.9 $M (0.014 %).
# Then the rounding came to trim the lots a site takes at a node to its MW online (staged._trim_to_power):
# with the delivery rows every ceiling-like rounding was infeasible; at 2e-3 the rounded plan, 150733.83,
# is within the gap at once (before: 150717.468330 from the lots search, with no rounded plan).
# Then meta.json's demand was calibrated to Meta's capex guidance (issue 23: growth in {quarter: rate} steps,
# x2.6-3.0 in 2026 slowing to x1.1-1.2 by 2030; children continue from their parent): the plan buys, builds
# and leases far more, and the objective rose from 150733.83 (staged), 150835.60 (direct at 2e-3), 150690.79
# (proven to 1e-4, bound 150677.17) and LP 150649.60. The calibrated model is harder: the direct solve does not
# reach 2e-3 in 120 s (2.8e-3), and 600 s on two threads do not prove 1e-4 (1.7e-4), so the direct pin is at
# 5e-3 and the proof at 5e-4, both without a time limit (deterministic).
# Then units idle at the horizon end stopped earning their book value (procure.model.fleet.add_idle_at_end)
# and one lease start came to hold max_units across its terms (procure.model.leases.add_lease_signing_max):
# the LP rises 267025.35 → 267375.69 (+350.3 $M: +273.0 from the idle rule, the rest from the signing
# maximum, measured with each left out), staged 267253.82 → 267600.71, direct 268296.45 → 267927.11,
# proven 267246.68 (bound 267128.05) → 267547.22 (bound 267426.09); the proof no longer needs the full stage.
# Then the base scenario's 2027 growth step rose (training x2.3 -> x2.4, inference x2.6 -> x2.7 a year), to
# bring the plan's 2026 capex back into the band derived from Meta's guidance ($61.0B, 2.4 % under its
# floor after the idle rule; now $64.4B, docs/meta-plan.md): staged 267600.71 -> 274014.23, direct
# 267927.11 -> 274666.82, proven 267547.22 (bound 267426.09) -> 273977.87 (bound 273851.51), LP
# 267375.69 -> 273770.33.
META = 274014.230123  # HiGHS 1.15, gap 2e-3, staged strategy (reaches 8.0e-4; ~30 s on one thread)
META_DIRECT_GAP = 5e-3
META_DIRECT = 274666.824364  # HiGHS 1.15, gap 5e-3, one direct MILP solve (bound 273854.98; ~30 s)
# meta.json proven to 5e-4 (staged default, 2 threads; ~155 s on 2 cores, 133 s of it the bound stage).
META_PROVEN_GAP = 5e-4
META_PROVEN = 273977.869539
META_PROVEN_BOUND = 273851.509909
META_LP = 273770.326702
PINNED_WITH_HIGHS = "1.15."


def same_plan_tolerance() -> float:
    """meta.json's pins are exact (rel 1e-6: a solve without a time limit is deterministic) on the HiGHS
    they were taken with. Another HiGHS release may find another plan within the gap: accept any such plan
    rather than turn CI red on a solver upgrade (highspy 1.8.0 lands 1.0e-4 above the staged pin)."""
    from importlib.metadata import version

    return 1e-6 if version("highspy").startswith(PINNED_WITH_HIGHS) else META_GAP


def test_tiny_matches_the_hand_computed_optimum(root):
    # capex 2,560 H100 × $5,500 = 14.08, residual 14.08 × 18/22 = 11.52, electricity 3.84 MW × 2,190 h × 4 ×
    # $100/MWh = 3.36384, lease 1,000 × $1.60 × 8,760 h = 14.016, rentals 960 unit-quarters × $6,570 = 6.3072.
    plan = procure.solve(root / "instances" / "tiny.json")
    assert plan.status == "optimal"
    assert plan.summary["objective"] == pytest.approx(14.08 - 11.52 + 3.36384 + 14.016 + 6.3072, abs=1e-6)
    assert plan.summary["objective"] == pytest.approx(TINY, abs=1e-6)


def test_small_pinned(root):
    plan = procure.solve(root / "instances" / "small.json", gap=1e-4)
    assert plan.status == "optimal"
    assert plan.summary["objective"] == pytest.approx(SMALL, rel=1e-4)
    assert plan.summary["bound"] <= SMALL * (1 + 1e-9)


@pytest.mark.parametrize("threads", [None, 2])
def test_small_proven_optimum(root, threads):
    # Solved to a 1e-9 gap the optimum is solver-independent: it pins the model, not HiGHS's search path.
    # SMALL, the 1e-4 pin, lies within 1e-4 above it: (1359.623012 − 1359.507751) / 1359.623012 = 8.5e-5.
    # With 2 threads HiGHS searches the tree in parallel (procure.solving.solve.highs_options): same optimum.
    plan = procure.solve(root / "instances" / "small.json", gap=1e-9, threads=threads)
    assert plan.status == "optimal"
    assert plan.summary["objective"] == pytest.approx(SMALL_OPTIMUM, rel=1e-7)
    assert plan.summary["bound"] == pytest.approx(SMALL_OPTIMUM, rel=1e-7)


def test_meta_pinned(root):
    plan = procure.solve(root / "instances" / "meta.json", gap=META_GAP, lp_relaxation=True)
    assert plan.status == "optimal"  # optimal within the requested gap
    assert plan.summary["strategy"] == "staged"  # auto picks it for meta's 3,279 integers
    assert plan.summary["objective"] == pytest.approx(META, rel=same_plan_tolerance())
    assert plan.summary["lp_relaxation"]["objective"] == pytest.approx(META_LP, rel=1e-7)
    assert plan.summary["bound"] >= META_LP - 1e-6
    assert plan.summary["shortfall_h100e_quarters"] == pytest.approx(0.0, abs=1.0)
    # the calibration (docs/meta-plan.md): capex the model decides, undiscounted $M, inside the band derived
    # from Meta's guidance; 2026 is common to every scenario, 2027 taken in expectation
    costs = plan.costs[plan.costs["category"].isin(["capex_power", "capex_accelerators"])]
    by_year = costs.groupby(["scenario", "year"])["undiscounted_musd"].sum()
    probability = {s.id: s.probability for s in procure.load_instance(root / "instances" / "meta.json")
                   .instance.scenarios if s.id in set(costs["scenario"])}
    expected = {y: sum(p * by_year[s, y] for s, p in probability.items()) for y in (2026, 2027)}
    assert 62_500 <= expected[2026] <= 101_500  # $64.4B
    assert 72_000 <= expected[2027] <= 123_000  # $73.5B


def test_meta_direct_pinned(root):
    plan = procure.solve(root / "instances" / "meta.json", gap=META_DIRECT_GAP, strategy="direct", time_limit=0)
    assert plan.status == "optimal"
    assert plan.summary["strategy"] == "direct"
    assert plan.summary["objective"] == pytest.approx(META_DIRECT, rel=same_plan_tolerance())


def test_meta_proven(root):
    # The staged default proves meta.json to 5e-4 with two threads and no time limit: the bound is the bound
    # stage's (block sums whole), the plan the last stage's: (273977.869539 − 273851.509909) / 273977.869539
    # = 4.61e-4. A solve without a time limit is deterministic, with parallel tree search too; the threads are
    # capped to the machine's. The 900 s limit is never reached here (~155 s): it only keeps a regression from
    # running on without end.
    from procure.solving.solve import machine_threads

    if machine_threads() < 2:
        pytest.skip("threads are capped to the machine's: one thread takes another search path")
    plan = procure.solve(root / "instances" / "meta.json", threads=2, time_limit=900, gap=META_PROVEN_GAP)
    assert plan.summary["strategy"] == "staged"
    assert plan.status == "optimal" and plan.summary["gap"] <= META_PROVEN_GAP
    assert plan.summary["objective"] == pytest.approx(META_PROVEN, rel=same_plan_tolerance())
    assert plan.summary["bound"] == pytest.approx(META_PROVEN_BOUND, rel=same_plan_tolerance())
    assert [s["stage"] for s in plan.summary["stages"]] == ["bound", "blocks", "lots (rounded)", "lots", "full"]
