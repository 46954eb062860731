"""uvicorn's h11 protocol with a header timeout: a connection that never finishes a request head
(silent after connecting, or sending its headers a byte at a time) is closed.

uvicorn closes a connection idle *between* requests (``timeout_keep_alive``) but waits forever
for the first request, and for a request head that trickles in; each such connection holds a
socket and a buffer. The request head's size is bounded by h11 (``h11_max_incomplete_event_size``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["guarded_protocol"]


class _GuardedH11(H11Protocol):
    header_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        """Arm the timer while a request head is awaited or partly read; disarm once it is whole."""
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if waiting and self._head_timer is None and self.timeout_keep_alive_task is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)
        elif not waiting:
            self._stop_watching()

    def _stop_watching(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(header_timeout: float) -> type[asyncio.Protocol]:
    """The h11 protocol class closing connections whose request head takes over ``header_timeout`` s."""
    return type("GuardedH11", (_GuardedH11,), {"header_timeout": header_timeout})
