"""An SSE response as typed events.

httpx-sse's decoders do the line and field decoding (CRLF, CR and LF endings, multi-line
``data:``, comments), fed here so that no line or event grows past :data:`MAX_EVENT_BYTES` (the
WebSocket frame limit): a larger one ends the stream with
:class:`~trellis_jupyter.errors.EventTooLargeError`, the partial answer kept, before it can take
the kernel's memory. This module turns each decoded event into a typed event with
:func:`~trellis_jupyter.events.parse_event`. The iterators are classes rather than generators so
that a malformed event raises :class:`~trellis_jupyter.errors.MalformedEventError` (naming the
event and its position) without ending the stream: iterate again to go on with the next event.

``close()`` may be called from any thread while another reads: it stops the reader at once (the
socket is shut down under it) instead of closing a generator that is running.

``heartbeat`` events and keepalive comments are skipped; unknown events pass through as
:class:`~trellis_jupyter.events.UnknownEvent`. A connection failure mid-stream raises
:class:`~trellis_jupyter.errors.ConnectionLostError` (the stream layer adds the partial answer).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from httpx_sse import ServerSentEvent
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from ._error_text import LOST, SILENT
from ._wsproto import MAX_FRAME_BYTES
from .errors import ConnectionLostError, EventTooLargeError, MalformedEventError
from .events import Event, TextDelta, parse_event
from .events import decode_json as _decode
from .scrub import scrub_event

__all__ = ["MAX_EVENT_BYTES", "AsyncSSEEvents", "SSEEvents", "lost_connection", "to_event"]

#: Largest SSE line or event read (in characters): the same limit as one WebSocket frame.
MAX_EVENT_BYTES = MAX_FRAME_BYTES


def to_event(name: str, data: str) -> Event:
    """One decoded SSE event as a typed event: ``parse_event`` with a fast path for text deltas."""
    try:
        obj = _decode(data)
    except Exception:  # bad JSON, NaN, too deep...: the slow path names the problem (or parses it)
        return parse_event(name, data)
    if name == "text_delta" and type(obj) is dict:
        content = obj.get("content")
        if type(content) is str:
            return TextDelta(content)
    return parse_event(name, obj)


def lost_connection(exc: BaseException | None = None) -> ConnectionLostError:
    """The error for a stream cut before its end (``exc`` says how, when known)."""
    if isinstance(exc, httpx.TimeoutException):
        return ConnectionLostError(SILENT)
    return ConnectionLostError(LOST)


def too_large(limit: int) -> EventTooLargeError:
    return EventTooLargeError(
        f"The server sent an event larger than the client's {limit / 1024 / 1024:g} MB limit, so the stream "
        "was stopped; the partial answer and chat id are kept. Ask for less data."
    )


class _Decoder:
    """SSE lines to events, refusing any line or event longer than ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lines = SSELineDecoder()
        self._events = SSEDecoder()
        self._ready: deque[ServerSentEvent] = deque()
        self._partial = 0  # characters of the line not finished yet
        self._event = 0  # characters of the event being read

    def feed(self, text: str) -> None:
        lines = self._lines.decode(text)
        if lines:
            self._partial = sum(len(b) for b in self._lines.buffer)
        else:
            self._partial += len(text)
        self._take(lines)

    def end(self) -> None:
        self._take(self._lines.flush())

    def _take(self, lines: list[str]) -> None:
        for line in lines:
            self._event = 0 if not line else self._event + len(line) + 1
            if self._event > self.limit:
                raise too_large(self.limit)
            sse = self._events.decode(line)
            if sse is not None:
                self._ready.append(sse)
        if self._partial + self._event > self.limit:
            raise too_large(self.limit)

    def next(self) -> ServerSentEvent | None:
        return self._ready.popleft() if self._ready else None


def _socket(response: httpx.Response) -> socket.socket | None:
    stream: Any = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    return sock if isinstance(sock, socket.socket) else None


def _shut(response: httpx.Response) -> None:
    """Shut the response's socket down, so that a read blocked in another thread returns now."""
    sock = _socket(response)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _typed(name: str, data: str, position: int, secrets: tuple[str, ...]) -> Event | None:
    if name == "heartbeat" or (not data and name == "message"):
        return None  # keepalives, and blocks with only id:/retry: fields (not dispatched by the spec)
    try:
        event = to_event(name, data)
    except MalformedEventError as exc:
        raise exc.at(position, None) from None
    return scrub_event(event, secrets) if name == "error" else event


class SSEEvents:
    """Typed events read from a streaming ``httpx.Response`` (sync).

    ``position`` counts the SSE events read so far (1-based: the event just returned or refused).
    ``close()`` is safe from any thread, also while another thread is reading.
    """

    __slots__ = ("_closed", "_decoder", "_lock", "_reading", "_response", "_secrets", "_text", "position")

    def __init__(
        self,
        response: httpx.Response,
        max_event_bytes: int = MAX_EVENT_BYTES,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._response = response
        self._secrets = secrets  # masked in error events (a server echoing the token)
        self._text: Iterator[str] = response.iter_text()
        self._decoder = _Decoder(max_event_bytes)
        self._closed = False
        self._reading = False
        self._lock = threading.Lock()
        self.position = 0

    def __iter__(self) -> SSEEvents:
        return self

    def __next__(self) -> Event:
        with self._lock:
            if self._closed:
                raise StopIteration
            self._reading = True
        try:
            while True:
                sse = self._next_sse()
                if sse is None:
                    raise StopIteration
                self.position += 1
                event = _typed(sse.event, sse.data, self.position, self._secrets)
                if event is not None:
                    return event
        except EventTooLargeError:
            with self._lock:
                self._closed = True  # released just below: nothing more is read
            raise
        finally:
            self._stop_reading()

    def _stop_reading(self) -> None:
        with self._lock:
            self._reading = False
            closed = self._closed
        if closed:
            self._release()  # closed from another thread while we read: we close what it could not

    def _next_sse(self) -> ServerSentEvent | None:
        while True:
            sse = self._decoder.next()
            if sse is not None or self._closed:
                return sse
            try:
                text = next(self._text)
            except StopIteration:
                self._decoder.end()
                return self._decoder.next()
            except httpx.RequestError as exc:
                if self._closed:
                    return None
                raise lost_connection(exc) from exc
            except httpx.StreamClosed:
                return None
            self._decoder.feed(text)

    def close(self) -> None:
        """End the HTTP stream now (the connection is closed, not drained); safe from any thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            reading = self._reading
        if reading:
            _shut(self._response)  # the reading thread wakes up, sees the flag and releases
        else:
            self._release()

    def _release(self) -> None:
        # Only one thread gets here, and none is reading: the connection is never reused, so its
        # socket is shut and closed outright (the server sees the stream end at once).
        sock = _socket(self._response)
        _shut(self._response)
        with contextlib.suppress(RuntimeError, ValueError, httpx.HTTPError):
            close = getattr(self._text, "close", None)
            if close is not None:
                close()
        with contextlib.suppress(RuntimeError, ValueError, httpx.HTTPError, OSError):
            self._response.close()
        if sock is not None:
            sock.close()


class AsyncSSEEvents:
    """Typed events read from a streaming ``httpx.Response`` (async twin of :class:`SSEEvents`)."""

    __slots__ = ("_closed", "_decoder", "_response", "_secrets", "_text", "position")

    def __init__(
        self,
        response: httpx.Response,
        max_event_bytes: int = MAX_EVENT_BYTES,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._response = response
        self._secrets = secrets
        self._text: AsyncIterator[str] = response.aiter_text()
        self._decoder = _Decoder(max_event_bytes)
        self._closed = False
        self.position = 0

    def __aiter__(self) -> AsyncSSEEvents:
        return self

    async def __anext__(self) -> Event:
        while True:
            try:
                sse = await self._next_sse()
            except EventTooLargeError:
                await self.aclose()
                raise
            if sse is None:
                raise StopAsyncIteration
            self.position += 1
            event = _typed(sse.event, sse.data, self.position, self._secrets)
            if event is not None:
                return event

    async def _next_sse(self) -> ServerSentEvent | None:
        while True:
            sse = self._decoder.next()
            if sse is not None or self._closed:
                return sse
            try:
                text = await self._text.__anext__()
            except StopAsyncIteration:
                self._decoder.end()
                return self._decoder.next()
            except httpx.RequestError as exc:
                if self._closed:
                    return None
                raise lost_connection(exc) from exc
            except httpx.StreamClosed:
                return None
            self._decoder.feed(text)

    async def aclose(self) -> None:
        """End the HTTP stream now (also from another task while this one reads)."""
        if self._closed:
            return
        self._closed = True
        aclose: Any = getattr(self._text, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except (RuntimeError, httpx.HTTPError):
                # "asynchronous generator is already running": closed from another task mid-read;
                # closing the response below still ends the stream.
                pass
        await self._response.aclose()
