"""The WebSocket transport: many questions, one after another, on one authenticated connection.

:class:`ChatSocket` (sync, on ``websockets.sync``) and :class:`AsyncChatSocket` (on
``websockets.asyncio``) are twins::

    with client.websocket() as socket:
        with socket.stream("How many orders last month?", chat_id=chat) as s:
            for event in s: ...
        answer = socket.ask("And by region?", chat_id=chat)

The token goes in the ``Authorization`` header of the upgrade, never in the URL. One turn runs at a
time; ``interrupt()`` (from any thread or task) stops it, the stream then ends with the partial
answer marked interrupted and the socket stays usable. Heartbeats and pongs never reach an answer.
A dropped connection raises :class:`~trellis_jupyter.errors.ConnectionLostError` holding the partial
answer; the next question reconnects first. A question is never sent twice.

Only one caller at a time reads the socket; whoever waits for something (the turn's next event, a
pong, a ``deleted``) either reads the next frame itself or waits for the current reader to route it
(:class:`~trellis_jupyter._wsproto.Router`), so ``ping()`` works from another thread mid-answer.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Union

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from . import _wsproto as proto
from ._error_text import socket_open_failed
from .errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    RequestTimeoutError,
    TransportError,
    TrellisError,
)
from .events import Event
from .scrub import redact_url, scrub_error, url_secrets
from .stream import AnswerStream, AsyncAnswerStream, AsyncOpener, Hook, Opener
from .types import chat_title

if TYPE_CHECKING:
    from .answer import Answer
    from .client import AsyncTrellis, Trellis

__all__ = ["AsyncChatSocket", "ChatSocket", "async_client_socket", "client_socket"]

logger = logging.getLogger(__name__)

TokenSource = Union[str, Callable[[], str]]
AsyncTokenSource = Union[str, Callable[[], Awaitable[str]]]
BATCH = 255  # frames routed per turn of the reader role, when they are already waiting
DRAIN_TIMEOUT = 10.0  # how long close() waits for the server to confirm an interrupt


class _RedactAuthorization(logging.Filter):
    """websockets logs every upgrade header at DEBUG: mask the bearer token before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and str(args[0]).lower() == "authorization":
            record.args = (args[0], "Bearer **********")
        return True


_wire_logger = logging.getLogger("trellis_jupyter.websocket.wire")
_wire_logger.addFilter(_RedactAuthorization())


def _open_error(exc: BaseException, url: str) -> TrellisError:
    """The error for a connection that could not be opened (a ``user:password@`` never shown)."""
    return scrub_error(_open_error_of(exc, redact_url(url)), url_secrets(url))


def _open_error_of(exc: BaseException, url: str) -> TrellisError:
    if isinstance(exc, InvalidStatus):
        return proto.handshake_error(exc.response.status_code)
    if isinstance(exc, InvalidURI):
        return ConfigurationError(socket_open_failed("url", url))
    if isinstance(exc, (builtins.TimeoutError, asyncio.TimeoutError)):
        return RequestTimeoutError(socket_open_failed("timeout", url))
    if isinstance(exc, InvalidHandshake):
        return TransportError(socket_open_failed("upgrade", url, str(exc)))
    return ConnectError(socket_open_failed("connect", url, str(exc)))


def direct_connect(connect: Callable[..., Any]) -> dict[str, Any]:
    """``legacy=True`` where websockets knows it (17.1+): we manage the connection's lifetime
    ourselves, not in one ``with`` block, which it otherwise warns about; older versions (13 to
    17.0) connect directly without the flag, and refuse it."""
    import inspect

    return {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}


def _close_args(exc: ConnectionClosed) -> tuple[int | None, str]:
    return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd is not None else (None, "")


_OPEN_ERRORS = (OSError, InvalidHandshake, InvalidURI, builtins.TimeoutError, asyncio.TimeoutError)
_WAIT_TIMEOUT = "The server did not answer on the WebSocket in time; try again."


class _TurnEvents(proto.SocketTurn):
    def __init__(self, socket: ChatSocket, answer: Answer) -> None:
        super().__init__(answer)
        self._socket = socket

    def __next__(self) -> Event:
        if not self.running:
            raise StopIteration
        try:
            return self._take(self._socket._next_turn_event())
        except TransportError:
            self.running = False
            raise

    def close(self) -> None:
        if self.running:
            self._socket._stop_turn(self)


class _AsyncTurnEvents(proto.SocketTurn):
    def __init__(self, socket: AsyncChatSocket, answer: Answer) -> None:
        super().__init__(answer)
        self._socket = socket

    async def __anext__(self) -> Event:
        if not self.running:
            raise StopAsyncIteration
        try:
            return self._take(await self._socket._next_turn_event())
        except TransportError:
            self.running = False
            raise

    async def aclose(self) -> None:
        if self.running:
            await self._socket._stop_turn(self)


class ChatSocket(proto.SocketState[AnswerStream, Opener]):
    """A sync WebSocket to ``/v1/chats/ws``; ``interrupt()`` and ``ping()`` are safe from any thread."""

    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        *,
        start_chat: Callable[[str | None, str | None], str | None] | None = None,
        on_rejected: Callable[[str], object] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, **options)
        self._token = token
        self._start_chat = start_chat  # creates a chat (REST) for a question asked without chat_id
        self._on_rejected = on_rejected  # told which token the server refused (4001), to renew it
        self._cond = threading.Condition()
        self._reading = False
        self._ping_lock = threading.Lock()

    # -- connection ------------------------------------------------------------------------------

    def connect(self) -> ChatSocket:
        """Open the connection and check it with a ping (a refused token fails here, as 4001)."""
        from websockets.sync.client import connect

        self._check_usable()
        token = self._token() if callable(self._token) else self._token
        self._secrets = (token, *url_secrets(self.url))
        try:
            conn = connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {token}"},
                max_size=self.max_size,
                open_timeout=self.open_timeout,
                logger=_wire_logger,
                **direct_connect(connect),
            )
        except _OPEN_ERRORS as exc:
            raise _open_error(exc, self.url) from None
        self._reset()
        self._conn = conn
        try:
            self.ping(timeout=self.open_timeout)
        except TrellisError as exc:
            conn.close()
            if isinstance(exc, AuthenticationError) and self._on_rejected is not None:
                self._on_rejected(token)
            raise
        return self

    def reconnect(self) -> ChatSocket:
        """Drop the current connection (if any) and open a new one; nothing is resent."""
        self._drop()
        self._closed = False
        return self.connect()

    def close(self) -> None:
        """Stop a running answer (marked interrupted) and close the connection."""
        if self._turn_running():
            self._stop_turn(self._current)
        self._closed = True
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> ChatSocket:
        if self._conn is None:
            self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- actions ---------------------------------------------------------------------------------

    def _opener(self, name: str, fields: dict[str, Any]) -> Opener:
        return lambda answer: self._open_turn(name, fields, answer)

    def _new_stream(
        self, opener: Opener, question: str, on_open: Hook | None, on_end: Hook | None
    ) -> AnswerStream:
        return AnswerStream(
            opener,
            question=question,
            on_open=on_open,
            on_end=on_end,
            max_retry_wait=self.max_retry_wait,
        )

    def ask(self, message: str, chat_id: str | None = None, **options: Any) -> Answer:
        """Ask and wait for the whole answer (raises :class:`~trellis_jupyter.errors.AnswerError`)."""
        with self.stream(message, chat_id, **options) as s:
            return s.get_final_answer()

    def delete_message(self, chat_id: str, message_id: str, *, timeout: float | None = 30.0) -> None:
        """Delete a message and every later one in the chat (waits for the server's ``deleted``)."""
        self._check_idle("deleting a message")
        self._ensure_open()
        router = self._router
        router.idle_errors.clear()
        self._send(proto.action("delete_message", chat_id=chat_id, message_id=message_id))
        self._pump(lambda: bool(router.deleted or router.idle_errors), timeout)
        if router.idle_errors:
            raise proto.error_from_event(router.idle_errors.popleft())
        router.deleted.popleft()

    def interrupt(self) -> None:
        """Stop the running answer (safe from any thread); its stream ends marked interrupted."""
        current = self._current
        if current is None or not current.running or self._conn is None or self._lost is not None:
            return
        with self._cond:  # the reading thread updates the router under the same lock
            self._router.interrupt_sent()
        self._send(proto.action("interrupt", chat_id=current.answer.chat_id))

    def ping(self, *, timeout: float | None = 10.0) -> None:
        """Round trip to the server (``ping`` -> ``pong``); raises if the socket is lost."""
        self._ensure_open()
        router = self._router
        # Numbered and sent in one step: two threads pinging at once (or a ping after one that
        # timed out) each wait for their own pong, not for the first one to come back.
        with self._ping_lock:
            target = router.ping_sent()
            self._send(proto.action("ping"))
        self._pump(lambda: router.pongs >= target, timeout)

    # -- plumbing (used by SocketStream) ---------------------------------------------------------

    def _ensure_open(self) -> None:
        self._check_usable()
        if self._conn is None or self._lost is not None:
            if self._turn_running():
                raise self._lost_error()
            logger.debug("reconnecting the WebSocket before the next action")
            self.reconnect()

    def _send(self, frame: str) -> None:
        try:
            self._conn.send(frame)
        except ConnectionClosed as exc:
            self._on_closed(*_close_args(exc))
            raise self._lost_error() from None

    def _open_turn(self, name: str, fields: dict[str, Any], answer: Answer) -> _TurnEvents:
        """Send a turn's frame (the opener of its :class:`AnswerStream`)."""
        if self._turn_running():
            # One turn per socket: an abandoned answer is stopped, not left running.
            self._stop_turn(self._current)
        self._ensure_open()
        if name == "send_message" and fields["chat_id"] is None:
            chat_id = answer.chat_id  # created by an earlier try of this question, which was refused
            if chat_id is None and self._start_chat is not None:
                chat_id = self._start_chat(
                    fields["title"] or chat_title(fields["message"]), fields["integration_id"]
                )
            if chat_id is not None:
                fields = {**fields, "chat_id": chat_id, "title": None}
        frame = self._turn_frame(name, fields, answer)
        self._backlog.clear()
        turn = self._current = _TurnEvents(self, answer)
        self._router.start_turn()
        try:
            self._send(frame)
        except TrellisError:
            turn.running = False
            raise
        return turn

    def _stop_turn(self, turn: _TurnEvents) -> None:
        """Interrupt the running turn and read on to its end, so the socket is ready for the next one."""
        try:
            self.interrupt()
            self._pump(lambda: not self._router.turn_open, DRAIN_TIMEOUT)
        except RequestTimeoutError:
            self._drop()  # the server did not confirm: the next question starts on a fresh connection
        except TrellisError:
            pass  # connection lost meanwhile: the next question reconnects
        finally:
            turn.running = False
            turn.feed_rest(self._backlog)

    def _next_turn_event(self) -> Event:
        self._pump(lambda: bool(self._backlog), None)
        return self._backlog.popleft()

    def _pump(self, done: Callable[[], bool], timeout: float | None) -> None:
        """Read frames (or wait for the reading thread to route them) until ``done()``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                while True:
                    if done():
                        return
                    if self._lost is not None:
                        raise self._lost_error()
                    if self._conn is None:
                        raise TransportError("This WebSocket is not connected: reconnect and try again.")
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise RequestTimeoutError(_WAIT_TIMEOUT)
                    if not self._reading:
                        self._reading = True
                        conn = self._conn
                        break
                    self._cond.wait(remaining)
            try:
                raw = conn.recv(remaining)
                with self._cond:
                    self._route(raw)
                    for _ in range(BATCH):  # frames already received: route them without more lock rounds
                        self._route(conn.recv(0))
            except ConnectionClosed as exc:
                self._on_closed(*_close_args(exc))
            except builtins.TimeoutError:
                pass  # the deadline check above raises
            finally:
                with self._cond:
                    self._reading = False
                    self._cond.notify_all()


class AsyncChatSocket(proto.SocketState[AsyncAnswerStream, AsyncOpener]):
    """An asyncio WebSocket to ``/v1/chats/ws``; ``await interrupt()`` works from any task."""

    def __init__(
        self,
        base_url: str,
        token: AsyncTokenSource,
        *,
        start_chat: Callable[[str | None, str | None], Awaitable[str | None]] | None = None,
        on_rejected: Callable[[str], object] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, **options)
        self._token = token
        self._start_chat = start_chat
        self._on_rejected = on_rejected
        self._reading = False
        self._tick = asyncio.Event()  # set (and replaced) after every frame read

    async def connect(self) -> AsyncChatSocket:
        """Open the connection and check it with a ping (a refused token fails here, as 4001)."""
        from websockets.asyncio.client import connect

        self._check_usable()
        token = (await self._token()) if callable(self._token) else self._token
        self._secrets = (token, *url_secrets(self.url))
        try:
            conn = await connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {token}"},
                max_size=self.max_size,
                open_timeout=self.open_timeout,
                logger=_wire_logger,
            )
        except _OPEN_ERRORS as exc:
            raise _open_error(exc, self.url) from None
        self._reset()
        self._conn = conn
        try:
            await self.ping(timeout=self.open_timeout)
        except TrellisError as exc:
            await conn.close()
            if isinstance(exc, AuthenticationError) and self._on_rejected is not None:
                self._on_rejected(token)
            raise
        return self

    async def reconnect(self) -> AsyncChatSocket:
        """Drop the current connection (if any) and open a new one; nothing is resent."""
        await self._drop()
        self._closed = False
        return await self.connect()

    async def aclose(self) -> None:
        """Stop a running answer (marked interrupted) and close the connection."""
        if self._turn_running():
            await self._stop_turn(self._current)
        self._closed = True
        await self._drop()

    close = aclose

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def __aenter__(self) -> AsyncChatSocket:
        if self._conn is None:
            await self.connect()
        return self

    def __await__(self) -> Generator[Any, None, AsyncChatSocket]:
        """``socket = await client.websocket()`` connects (``async with`` does too)."""
        return self.connect().__await__()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _opener(self, name: str, fields: dict[str, Any]) -> AsyncOpener:
        return lambda answer: self._open_turn(name, fields, answer)

    def _new_stream(
        self, opener: AsyncOpener, question: str, on_open: Hook | None, on_end: Hook | None
    ) -> AsyncAnswerStream:
        return AsyncAnswerStream(
            opener,
            question=question,
            on_open=on_open,
            on_end=on_end,
            max_retry_wait=self.max_retry_wait,
        )

    async def ask(self, message: str, chat_id: str | None = None, **options: Any) -> Answer:
        """Ask and wait for the whole answer (raises :class:`~trellis_jupyter.errors.AnswerError`)."""
        async with self.stream(message, chat_id, **options) as s:
            return await s.get_final_answer()

    async def delete_message(self, chat_id: str, message_id: str, *, timeout: float | None = 30.0) -> None:
        """Delete a message and every later one in the chat (waits for the server's ``deleted``)."""
        self._check_idle("deleting a message")
        await self._ensure_open()
        router = self._router
        router.idle_errors.clear()
        await self._send(proto.action("delete_message", chat_id=chat_id, message_id=message_id))
        await self._pump(lambda: bool(router.deleted or router.idle_errors), timeout)
        if router.idle_errors:
            raise proto.error_from_event(router.idle_errors.popleft())
        router.deleted.popleft()

    async def interrupt(self) -> None:
        """Stop the running answer (from any task); its stream ends marked interrupted."""
        current = self._current
        if current is None or not current.running or self._conn is None or self._lost is not None:
            return
        self._router.interrupt_sent()
        await self._send(proto.action("interrupt", chat_id=current.answer.chat_id))

    async def ping(self, *, timeout: float | None = 10.0) -> None:
        """Round trip to the server (``ping`` -> ``pong``); raises if the socket is lost."""
        await self._ensure_open()
        router = self._router
        target = router.ping_sent()  # before the await: a concurrent ping gets the next number
        await self._send(proto.action("ping"))
        await self._pump(lambda: router.pongs >= target, timeout)

    async def _ensure_open(self) -> None:
        self._check_usable()
        if self._conn is None or self._lost is not None:
            if self._turn_running():
                raise self._lost_error()
            logger.debug("reconnecting the WebSocket before the next action")
            await self.reconnect()

    async def _send(self, frame: str) -> None:
        try:
            await self._conn.send(frame)
        except ConnectionClosed as exc:
            self._on_closed(*_close_args(exc))
            raise self._lost_error() from None

    async def _open_turn(self, name: str, fields: dict[str, Any], answer: Answer) -> _AsyncTurnEvents:
        if self._turn_running():
            await self._stop_turn(self._current)
        await self._ensure_open()
        if name == "send_message" and fields["chat_id"] is None:
            chat_id = answer.chat_id  # created by an earlier try of this question, which was refused
            if chat_id is None and self._start_chat is not None:
                chat_id = await self._start_chat(
                    fields["title"] or chat_title(fields["message"]), fields["integration_id"]
                )
            if chat_id is not None:
                fields = {**fields, "chat_id": chat_id, "title": None}
        frame = self._turn_frame(name, fields, answer)
        self._backlog.clear()
        turn = self._current = _AsyncTurnEvents(self, answer)
        self._router.start_turn()
        try:
            await self._send(frame)
        except TrellisError:
            turn.running = False
            raise
        return turn

    async def _stop_turn(self, turn: _AsyncTurnEvents) -> None:
        try:
            await self.interrupt()
            await self._pump(lambda: not self._router.turn_open, DRAIN_TIMEOUT)
        except RequestTimeoutError:
            await self._drop()
        except TrellisError:
            pass
        finally:
            turn.running = False
            turn.feed_rest(self._backlog)

    async def _next_turn_event(self) -> Event:
        await self._pump(lambda: bool(self._backlog), None)
        return self._backlog.popleft()

    async def _pump(self, done: Callable[[], bool], timeout: float | None) -> None:
        if timeout is None:
            return await self._pump_until(done)
        try:
            await asyncio.wait_for(self._pump_until(done), timeout)
        except asyncio.TimeoutError:
            raise RequestTimeoutError(_WAIT_TIMEOUT) from None

    async def _pump_until(self, done: Callable[[], bool]) -> None:
        while not done():
            if self._lost is not None:
                raise self._lost_error()
            if self._conn is None:
                raise TransportError("This WebSocket is not connected: reconnect and try again.")
            if self._reading:
                await self._tick.wait()
                continue
            self._reading = True
            try:
                self._route(await self._conn.recv())
            except ConnectionClosed as exc:
                self._on_closed(*_close_args(exc))
            finally:
                self._reading = False
                tick, self._tick = self._tick, asyncio.Event()
                tick.set()


# --- what the clients hand out ---------------------------------------------------------------------


def client_socket(client: Trellis, *, heartbeat: bool = False) -> ChatSocket:
    """A socket with ``client``'s URL, token (renewed as needed) and defaults; not connected yet.

    A question asked without ``chat_id`` creates its chat first, as the SSE transport does.
    """
    s = client.settings
    return ChatSocket(
        s.base_url,
        client.auth.token,
        start_chat=lambda title, integration: client.chats.start(title, integration, wait=False),
        on_rejected=client.auth.invalidate,
        heartbeat=heartbeat,
        integration_id=s.integration_id,
        model=s.model,
        open_timeout=min(s.timeout, 30.0),
        max_retry_wait=s.max_retry_wait,
    )


def async_client_socket(client: AsyncTrellis, *, heartbeat: bool = False) -> AsyncChatSocket:
    """The async twin of :func:`client_socket` (``await`` it, or ``async with`` it, to connect)."""
    s = client.settings
    return AsyncChatSocket(
        s.base_url,
        client.auth.token,
        start_chat=lambda title, integration: client.chats.start(title, integration, wait=False),
        on_rejected=client.auth.invalidate,
        heartbeat=heartbeat,
        integration_id=s.integration_id,
        model=s.model,
        open_timeout=min(s.timeout, 30.0),
        max_retry_wait=s.max_retry_wait,
    )
