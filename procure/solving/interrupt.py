"""Ctrl-C during a solve: stop the solver at its next check and keep its best plan.

Pyomo runs HiGHS with ``Highs.run()``, which returns to Python only when the solve ends or a callback
asks it to stop; Python's own Ctrl-C handler runs at the next callback HiGHS makes and raises
``KeyboardInterrupt`` there, through HiGHS's C++ code, and the solve's work is lost. Inside
:func:`ctrl_c_stops_solves` Ctrl-C only records the request; :mod:`procure.solving.solve` hands HiGHS interrupt
callbacks that see it and stop the solve at HiGHS's next check, and the caller decides what to do with the
plan found so far. Further presses inside the block change nothing; outside it Ctrl-C raises
``KeyboardInterrupt`` as usual.

Only the main thread of a process whose Ctrl-C raises ``KeyboardInterrupt`` (Python's default) takes part:
a sweep's worker processes ignore Ctrl-C and leave it to the parent, which stops them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
from typing import Iterator


@dataclasses.dataclass
class Interrupt:
    """Whether Ctrl-C was pressed inside the current :func:`ctrl_c_stops_solves` block."""

    requested: bool = False


_active: Interrupt | None = None


@contextlib.contextmanager
def ctrl_c_stops_solves(raise_at_exit: bool = False) -> Iterator[Interrupt]:
    """Within: Ctrl-C sets ``requested`` (and stops the running HiGHS solve) instead of raising.

    Nested blocks share the outermost block's :class:`Interrupt`. ``raise_at_exit``: when this is the
    outermost block and Ctrl-C was pressed, raise ``KeyboardInterrupt`` on leaving it — for callers that
    have no use for an interrupted result but should not wait for the time limit either.
    """
    global _active
    if threading.current_thread() is not threading.main_thread():
        yield Interrupt()  # signals reach the main thread only
        return
    if _active is not None:
        yield _active
        return
    state = Interrupt()
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield state  # Ctrl-C is someone else's here (ignored by a sweep worker, or handled by the host)
        return

    def press(signum, frame):
        # Every press only records the request: this handler runs inside HiGHS's callback, and an exception
        # raised there would unwind through HiGHS's C++ code.
        state.requested = True

    signal.signal(signal.SIGINT, press)
    _active = state
    try:
        yield state
    finally:
        _active = None
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if raise_at_exit and state.requested:
        raise KeyboardInterrupt
