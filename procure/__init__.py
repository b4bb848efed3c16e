"""procure: optimisation engine for long-term AI compute procurement (build, buy, lease, rent)."""

from procure.api import Plan, solve
from procure.sweep_run import sweep
from procure.validation import InstanceError, load_instance

__all__ = ["Plan", "solve", "sweep", "load_instance", "InstanceError"]
__version__ = "0.1.0"
