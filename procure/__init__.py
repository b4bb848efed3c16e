"""procure: optimisation engine for long-term AI compute procurement (build, buy, lease, rent)."""

from procure.api import Plan, solve
from procure.sweeps.run import sweep
from procure.inputs.validation import InstanceError, load_instance

__version__ = "0.1.0"
__all__ = ["Plan", "solve", "sweep", "load_instance", "InstanceError", "write_outputs", "redraw_report"]
_REPORT = ("write_outputs", "redraw_report")  # the report pipeline draws with matplotlib: imported when asked for


def __getattr__(name: str):
    if name in _REPORT:
        from procure.report import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'procure' has no attribute {name!r}")
