"""Schema -> frozen model data: sorted index tuples and dict parameters in model units.

This is the only place that interprets the schema. Quarters become integers ``0..T-1``; money becomes $M;
the scenario tree becomes *nodes*. A node ``(r, t)`` stands for every scenario that shares its history up to
quarter ``t``; ``r`` is the representative scenario (the one nearest the root whose own branch has happened
by ``t``). Every decision and every state at quarter ``t`` of scenario ``s`` lives on node ``node_of[s, t]``,
which is how non-anticipativity is built in: scenarios that share history share the variable itself.

One module per family, mirroring ``procure/model/``: :mod:`.tree` (quarters, discounting, the tree, demand),
:mod:`.power`, :mod:`.fleet`, :mod:`.leases`, :mod:`.sources` (what ``model/serving.py`` allocates) and
:mod:`.policy`; each returns the :class:`ModelData` fields it owns, and :func:`build_data` puts them together.
"""

from __future__ import annotations

from types import MappingProxyType

from procure.inputs.data.fleet import fleet_data, price_kusd
from procure.inputs.data.horizon import Horizon, step_value
from procure.inputs.data.leases import lease_data
from procure.inputs.data.model_data import OWN, ModelData, Node, Source
from procure.inputs.data.policy import policy_data
from procure.inputs.data.power import power_data
from procure.inputs.data.sources import source_data
from procure.inputs.data.tree import tree_data
from procure.inputs.validation import LoadedInstance

__all__ = ["ModelData", "Node", "OWN", "Source", "Horizon", "build_data", "step_value", "price_kusd"]


def build_data(loaded: LoadedInstance) -> ModelData:
    """Turn a checked instance into model data (a field given twice is a TypeError, one missing too)."""
    inst = loaded.instance
    horizon = Horizon.of(inst)
    fleet = fleet_data(inst, loaded.accelerators, horizon)
    return ModelData(
        name=inst.name,
        **tree_data(inst, horizon),
        **power_data(inst, horizon),
        **fleet,
        **lease_data(inst, loaded.accelerators, horizon),
        **source_data(inst, fleet["FLEET"]),
        **policy_data(inst, horizon),
        meta=MappingProxyType({"first_ordinal": horizon.first, "discount_rate": inst.horizon.discount_rate}),
    )
