"""The sources that serve the workloads: what ``model/serving.py`` allocates (and ``model/policy.py`` shares)."""

from __future__ import annotations

from procure.inputs.data.model_data import OWN, Source
from procure.inputs.schema import Instance


def source_data(inst: Instance, fleet: tuple[tuple[str, str], ...]) -> dict[str, object]:
    """Field ``SOURCES``: one owned source per accelerator that has a ``FLEET`` pair (sorted), then every lease
    offer, existing contract and rental, in the instance's order."""
    owned = sorted({a for a, _ in fleet})
    sources = [Source(f"own:{a}", "own", a, a, OWN) for a in owned]
    sources += [Source(f"lease:{o.id}", "lease", o.id, o.accelerator, o.provider) for o in inst.lease_offers]
    sources += [Source(f"contract:{c.id}", "contract", c.id, c.accelerator, c.provider)
                for c in inst.existing_contracts]
    sources += [Source(f"rental:{r.id}", "rental", r.id, r.accelerator, r.provider) for r in inst.rentals]
    return dict(SOURCES=tuple(sources))
