"""Sliding-window rate limits, keyed by token id or socket.

A key is allowed an event when, for every ``(count, window)`` limit, fewer than ``count`` of its
earlier events fall within the last ``window`` seconds. A refused event is not recorded, and the
refusal says how long to wait.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

from .settings import Limit

__all__ = ["RateLimiter"]


class RateLimiter:
    """Per-key sliding windows; thread-safe."""

    def __init__(self, limits: tuple[Limit, ...], clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._longest = max((w for _, w in limits), default=0.0)
        self._clock = clock
        self._events: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> float | None:
        """Record an event for ``key``; ``None`` when allowed, else the seconds to wait."""
        return self._check(key, record=True)

    def blocked(self, key: Hashable) -> float | None:
        """The seconds ``key`` must wait before its next event, or ``None``; records nothing."""
        return self._check(key, record=False)

    def _check(self, key: Hashable, *, record: bool) -> float | None:
        if not self._limits:
            return None
        now = self._clock()
        with self._lock:
            if not record and key not in self._events:
                return None
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self._longest:
                events.popleft()
            wait = 0.0
            for count, window in self._limits:
                recent = [t for t in events if t > now - window]
                if count <= 0:
                    wait = max(wait, window)
                elif len(recent) >= count:
                    # The oldest event that must leave the window before one more fits.
                    wait = max(wait, recent[-count] + window - now)
            if wait > 0:
                return wait
            if record:
                events.append(now)
            elif not events:
                del self._events[key]
            return None

    def forget(self, key: Hashable) -> None:
        """Drop a key's history (a socket that closed)."""
        with self._lock:
            self._events.pop(key, None)
