"""An SSE response as typed events.

httpx-sse does the line and field decoding (CRLF, CR and LF endings, multi-line ``data:``,
comments); this module turns each decoded event into a typed event with
:func:`~trellis_jupyter.events.parse_event`. The iterators are classes rather than generators so
that a malformed event raises :class:`~trellis_jupyter.errors.MalformedEventError` (naming the
event and its position) without ending the stream: iterate again to go on with the next event.

``heartbeat`` events and keepalive comments are skipped; unknown events pass through as
:class:`~trellis_jupyter.events.UnknownEvent`. A connection failure mid-stream raises
:class:`~trellis_jupyter.errors.ConnectionLostError` (the stream layer adds the partial answer).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from json.scanner import make_scanner
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent

from .errors import ConnectionLostError, MalformedEventError
from .events import Event, TextDelta, parse_event

__all__ = ["AsyncSSEEvents", "SSEEvents", "lost_connection", "to_event"]

LOST = (
    "The connection dropped before the answer was complete; the partial answer and chat id are kept. "
    "Ask again to continue."
)


# The C scanner behind json.loads, called directly: json.loads spends most of its time on a small
# event in two whitespace regex passes and wrapper calls. Anything the scanner does not take whole
# (leading or trailing whitespace, bad JSON) goes through parse_event's json.loads path, which
# decodes it the same way or raises the clear error.
_scan: Any = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed types it oddly


def to_event(name: str, data: str) -> Event:
    """One decoded SSE event as a typed event: ``parse_event`` with a fast path for text deltas."""
    try:
        obj, end = _scan(data, 0)
    except (StopIteration, ValueError, RecursionError):
        return parse_event(name, data)  # the slow path names the problem (or parses it after all)
    if end != len(data):
        return parse_event(name, data)
    if name == "text_delta" and type(obj) is dict:
        content = obj.get("content")
        if type(content) is str:
            return TextDelta(content)
    return parse_event(name, obj)


def lost_connection(exc: BaseException | None = None) -> ConnectionLostError:
    """The error for a stream cut before its end (``exc`` says how, when known)."""
    if isinstance(exc, httpx.TimeoutException):
        return ConnectionLostError(
            "Trellis went silent before the answer was complete; the partial answer and chat id are kept. "
            "Ask again to continue."
        )
    return ConnectionLostError(LOST)


class SSEEvents:
    """Typed events read from a streaming ``httpx.Response`` (sync).

    ``position`` counts the SSE events read so far (1-based: the event just returned or refused).
    """

    __slots__ = ("_closed", "_response", "_sse", "position")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._sse: Iterator[ServerSentEvent] = EventSource(response).iter_sse()
        self._closed = False
        self.position = 0

    def __iter__(self) -> SSEEvents:
        return self

    def __next__(self) -> Event:
        sse_iter = self._sse
        while True:
            try:
                sse = next(sse_iter)
            except httpx.RequestError as exc:
                if self._closed:
                    raise StopIteration from None
                raise lost_connection(exc) from exc
            except httpx.StreamClosed:
                raise StopIteration from None
            self.position += 1
            name = sse.event
            data = sse.data
            if name == "heartbeat" or (not data and name == "message"):
                continue  # keepalives, and blocks with only id:/retry: fields (not dispatched by the spec)
            try:
                return to_event(name, data)
            except MalformedEventError as exc:
                raise exc.at(self.position, None) from None

    def close(self) -> None:
        """End the HTTP stream now (the connection is closed, not drained)."""
        if self._closed:
            return
        self._closed = True
        close = getattr(self._sse, "close", None)
        if close is not None:
            try:
                close()
            except (RuntimeError, httpx.HTTPError):  # pragma: no cover - closing from elsewhere
                pass
        self._response.close()


class AsyncSSEEvents:
    """Typed events read from a streaming ``httpx.Response`` (async twin of :class:`SSEEvents`)."""

    __slots__ = ("_closed", "_response", "_sse", "position")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._sse: AsyncIterator[ServerSentEvent] = EventSource(response).aiter_sse()
        self._closed = False
        self.position = 0

    def __aiter__(self) -> AsyncSSEEvents:
        return self

    async def __anext__(self) -> Event:
        sse_iter = self._sse
        while True:
            try:
                sse = await sse_iter.__anext__()
            except httpx.RequestError as exc:
                if self._closed:
                    raise StopAsyncIteration from None
                raise lost_connection(exc) from exc
            except httpx.StreamClosed:
                raise StopAsyncIteration from None
            self.position += 1
            name = sse.event
            data = sse.data
            if name == "heartbeat" or (not data and name == "message"):
                continue
            try:
                return to_event(name, data)
            except MalformedEventError as exc:
                raise exc.at(self.position, None) from None

    async def aclose(self) -> None:
        """End the HTTP stream now."""
        if self._closed:
            return
        self._closed = True
        aclose: Any = getattr(self._sse, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except (RuntimeError, httpx.HTTPError):
                # "asynchronous generator is already running": closed from another task mid-read;
                # closing the response below still ends the stream.
                pass
        await self._response.aclose()
