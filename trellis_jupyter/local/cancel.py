"""Stop a planner thread whose turn was abandoned, instead of letting it plan to the end.

A planner is plain Python running in a worker thread; its client may leave at any moment (a
closed connection, an interrupt). Dropping its result is not enough: the thread would go on using
the CPU (a 4,000-character question takes about a second to plan) while other members' questions
wait. :class:`StoppableCall` raises :class:`PlanningAbandoned` inside that thread, at its next
bytecode, with ``PyThreadState_SetAsyncExc``; a query it is running is interrupted by the query
runner's progress handler meanwhile.

The exception can only land while the call runs: the thread id is published and withdrawn under a
lock that :meth:`StoppableCall.stop` also holds, and any exception still pending when the call
ends is cleared, so it never reaches the thread pool's own loop.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["PlanningAbandoned", "StoppableCall"]

T = TypeVar("T")

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = [ctypes.c_ulong, ctypes.py_object]
_set_async_exc.restype = ctypes.c_int


class PlanningAbandoned(BaseException):
    """Raised inside a planner thread whose turn has ended (a BaseException: no ``except
    Exception`` in a planner can swallow it)."""


class StoppableCall(Generic[T]):
    """``fn()`` run by :meth:`run` in some thread, stoppable from another with :meth:`stop`."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._thread: int | None = None
        self._stopped = False

    def run(self) -> T:
        with self._lock:
            if self._stopped:
                raise PlanningAbandoned
            self._thread = threading.get_ident()
        try:
            return self._fn()
        finally:
            with self._lock:
                thread, self._thread = self._thread, None
            if thread is not None:
                # stop() can no longer aim at this thread: clear what it may have left pending.
                _set_async_exc(thread, ctypes.py_object())

    def stop(self) -> bool:
        """Stop the call: at once if it is running, before it starts otherwise; True if it ran."""
        with self._lock:
            self._stopped = True
            if self._thread is None:
                return False
            _set_async_exc(self._thread, PlanningAbandoned)
            return True
