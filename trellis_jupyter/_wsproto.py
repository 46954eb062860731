"""The WebSocket chat protocol without I/O: frames out, frames in, and what a close code means.

Both socket twins in :mod:`trellis_jupyter.websocket` (sync and asyncio) share this module, so the
rules live in one place:

* :func:`action` writes a client frame, :func:`decode_frame` reads a server frame into a typed event.
* :class:`Router` decides, for every incoming event, whether it belongs to the running turn (and
  ends it) or is socket bookkeeping: ``heartbeat``, ``pong``, ``deleted``, ``authenticated``, the
  ``NO_ACTIVE_TURN`` answer to an interrupt that came too late, an error with no turn running.
  The protocol has no request ids; one turn at a time per socket is what makes routing by order safe.
* :func:`closed_error` and :func:`handshake_error` turn close codes and refused upgrades into the
  error family, with one sentence that says what to do (worded in ``_error_text``, with the rest).
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ._error_text import closed_error, handshake_error
from ._retry import DEFAULT_MAX_RETRY_WAIT
from .errors import (
    AnswerError,
    ConfigurationError,
    MalformedEventError,
    NotFoundError,
    TransportError,
    TrellisError,
)
from .events import (
    Authenticated,
    Deleted,
    ErrorEvent,
    Event,
    Heartbeat,
    Interrupted,
    Message,
    Pong,
    TextDelta,
    decode_json,
    event_name,
    parse_event,
)
from .scrub import scrub_event, url_secrets
from .types import Question
from .uploads import turn_extras

if TYPE_CHECKING:
    from .answer import Answer

    Hook = Callable[[Answer], None]

__all__ = [
    "MAX_FRAME_BYTES",
    "Router",
    "SocketState",
    "action",
    "closed_error",
    "decode_frame",
    "handshake_error",
    "resolve_transport",
    "ws_url",
]

logger = logging.getLogger("trellis_jupyter.websocket")

#: Largest frame accepted: a table of a few hundred thousand cells fits with room to spare.
MAX_FRAME_BYTES = 64 * 1024 * 1024


def ws_url(base_url: str, *, heartbeat: bool = False) -> str:
    """``http(s)://host[/prefix]`` -> ``ws(s)://host[/prefix]/v1/chats/ws`` (never with a token)."""
    parts = urlsplit(base_url.rstrip("/"))
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((scheme, parts.netloc, path + "/chats/ws", "heartbeat=1" if heartbeat else "", ""))


TRANSPORTS = ("sse", "websocket")


def resolve_transport(transport: str | None = None) -> str:
    """``"sse"`` or ``"websocket"``: the argument, else ``TRELLIS_TRANSPORT``, else ``"sse"``."""
    value = (transport or os.environ.get("TRELLIS_TRANSPORT", "") or "sse").strip().lower()
    value = {"ws": "websocket", "websockets": "websocket", "http": "sse"}.get(value, value)
    if value not in TRANSPORTS:
        raise ConfigurationError(
            f"Unknown transport {value!r}: use 'sse' or 'websocket' (transport= or TRELLIS_TRANSPORT)."
        )
    return value


def action(name: str, **fields: Any) -> str:
    """One client frame: ``{"action": name, ...}``, leaving out fields that are ``None``."""
    frame: dict[str, Any] = {"action": name}
    frame.update((k, v) for k, v in fields.items() if v is not None)
    return json.dumps(frame)


def decode_frame(raw: str | bytes) -> Event:
    """One server frame ``{"event": name, "data": {...}}`` as a typed event."""
    try:
        frame = decode_json(raw)
    except ValueError as exc:
        raise MalformedEventError("frame", f"it is not valid JSON ({exc})") from None
    except RecursionError:
        raise MalformedEventError("frame", "it is nested too deeply") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("event"), str):
        raise MalformedEventError("frame", "it is not an object with an 'event' name")
    name, data = frame["event"], frame.get("data")
    if name == "text_delta" and type(data) is dict and type(data.get("content")) is str:
        return TextDelta(data["content"])  # the hot path: most frames of a turn are text deltas
    return parse_event(name, data)


class Router:
    """Sorts incoming events into the running turn and the socket's own bookkeeping.

    ``start_turn()`` is called as a ``send_message`` / ``edit_message`` frame goes out;
    :meth:`route` returns the event when it belongs to that turn (and closes the turn on
    ``message``, ``error`` or ``interrupted``), else records it and returns ``None``.
    """

    def __init__(self) -> None:
        self.turn_open = False
        self.pending_interrupts = 0
        self.pings = 0  # pings sent: the server answers them in order, so pong n answers ping n
        self.pongs = 0
        self.heartbeats = 0
        self.deleted: deque[str] = deque()
        self.idle_errors: deque[ErrorEvent] = deque()

    def start_turn(self) -> None:
        self.turn_open = True

    def interrupt_sent(self) -> None:
        self.pending_interrupts += 1

    def ping_sent(self) -> int:
        """Count a ping going out; its pong has come once ``pongs`` reaches the number returned."""
        self.pings += 1
        return self.pings

    def route(self, event: Event) -> Event | None:
        if type(event) is TextDelta and self.turn_open:
            return event  # the hot path
        if isinstance(event, Heartbeat):
            self.heartbeats += 1
            return None
        if isinstance(event, Pong):
            self.pongs += 1
            return None
        if isinstance(event, Authenticated):
            return None
        if isinstance(event, Deleted):
            self.deleted.append(event.message_id)
            return None
        if isinstance(event, Interrupted):
            self.pending_interrupts = max(0, self.pending_interrupts - 1)
            return self._end(event)
        if isinstance(event, ErrorEvent):
            if event.code == "NO_ACTIVE_TURN" and self.pending_interrupts:
                # Our interrupt crossed the turn's end on the wire: nothing was stopped, nothing failed.
                self.pending_interrupts -= 1
                return None
            if self.turn_open:
                return self._end(event)
            self.idle_errors.append(event)
            return None
        if isinstance(event, Message):
            return self._end(event)
        if self.turn_open:
            return event
        logger.debug("dropped a %s event that came with no turn running", event_name(event))
        return None

    def _end(self, event: Event) -> Event | None:
        if not self.turn_open:
            logger.debug("dropped a %s event that came with no turn running", event_name(event))
            return None
        self.turn_open = False
        return event


def error_from_event(event: ErrorEvent) -> TrellisError:
    """The error for an ``error`` frame that came with no turn running (a delete, a ping)."""
    text = event.error or "The server reported an error."
    kwargs: dict[str, Any] = {"code": event.code, "debug_id": event.debug_id}
    if event.code in ("CHAT_NOT_FOUND", "MESSAGE_NOT_FOUND"):
        return NotFoundError(f"{text} Check the chat and message ids.", **kwargs)
    return AnswerError(text, retryable=event.retryable, retry_after=event.retry_after, **kwargs)


class SocketTurn:
    """One turn on a socket: what its answer stream reads, until a final event or a stop."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.running = True

    def _take(self, event: Event) -> Event:
        if isinstance(event, (Message, ErrorEvent, Interrupted)):
            self.running = False
        return event

    def feed_rest(self, backlog: deque[Event]) -> None:
        """Take in what arrived after a stop; a final message that beat the interrupt still counts."""
        while backlog:
            event = backlog.popleft()
            self.answer.feed(event)
            if isinstance(event, Message):
                self.answer.interrupted = False  # the server finished first: the answer is whole


S = TypeVar("S")  # the stream type of a twin (AnswerStream, AsyncAnswerStream)
P = TypeVar("P")  # and its opener type (Opener, AsyncOpener)


class SocketState(Generic[S, P]):
    """What the socket twins share, with no I/O: settings, the router, the turn backlog, the loss record."""

    def __init__(
        self,
        base_url: str,
        *,
        heartbeat: bool = False,
        integration_id: str | None = None,
        model: str | None = None,
        open_timeout: float = 10.0,
        max_size: int = MAX_FRAME_BYTES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
    ) -> None:
        self.url = ws_url(base_url, heartbeat=heartbeat)
        self.max_retry_wait = max_retry_wait  # a refused question waits and goes again within it
        self.heartbeat = heartbeat
        self.integration_id = integration_id
        self.model = model
        self.open_timeout = open_timeout
        self.max_size = max_size
        self._router = Router()
        self._backlog: deque[Event] = deque()
        self._lost: tuple[int | None, str] | None = None  # (close code, reason) once the server closed
        self._closed = False  # closed by us
        self._conn: Any = None
        self._current: Any = None  # the SocketTurn of the last turn sent (running while .running)
        self._secrets: tuple[str, ...] = url_secrets(base_url)  # + the token, once connected

    def __repr__(self) -> str:
        state = (
            "closed" if self._closed else "lost" if self._lost else "open" if self._conn else "not connected"
        )
        return f"<{type(self).__name__} {self.url} {state}>"

    @property
    def closed(self) -> bool:
        """True once closed by us or by the server (a closed socket reconnects for the next question)."""
        return self._closed or self._lost is not None or self._conn is None

    @property
    def heartbeats(self) -> int:
        """How many ``heartbeat`` events arrived (they are kept out of every answer)."""
        return self._router.heartbeats

    def _reset(self) -> None:
        self._router = Router()
        self._backlog.clear()
        self._lost = None
        self._current = None

    def _on_closed(self, code: int | None, reason: str) -> None:
        """The server closed the socket (``code`` None: no close frame, i.e. 1006)."""
        self._lost = (code, reason)
        self._router.turn_open = False

    def _lost_error(self) -> TrellisError:
        code, reason = self._lost or (None, "")
        during = "during an answer" if self._turn_running() else ""
        return closed_error(code, reason, during=during)

    def _route(self, raw: str | bytes) -> None:
        # An error frame echoing the token (or the URL's password) is masked before anyone sees it.
        routed = self._router.route(scrub_event(decode_frame(raw), self._secrets))
        if routed is not None:
            self._backlog.append(routed)

    # -- turns -------------------------------------------------------------------------------------

    def send_opener(self, question: Question) -> P:
        """The opener of a question: calling it sends the frame (a chat is started first if needed)."""
        q = question
        fields = {"message": q.message, "chat_id": q.chat_id, "title": q.title}
        fields.update(turn_extras(q.upload_ids, q.saved_query_id, q.parameters))
        return self._opener("send_message", self._defaults(fields, q.integration_id, q.model))

    def edit_opener(
        self,
        chat_id: str,
        message_id: str,
        content: str,
        integration_id: str | None = None,
        model: str | None = None,
    ) -> P:
        """The opener of an edit: calling it sends the ``edit_message`` frame."""
        fields = {"chat_id": chat_id, "message_id": message_id, "content": content}
        return self._opener("edit_message", self._defaults(fields, integration_id, model))

    def stream(
        self,
        message: str,
        chat_id: str | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        *,
        title: str | None = None,
        upload_ids: Sequence[str] | None = None,
        saved_query_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        on_open: Hook | None = None,
        on_end: Hook | None = None,
    ) -> S:
        """Ask a question; the frame goes out when the stream is entered or first iterated.

        Returns the same stream object as the SSE transport (``AnswerStream`` / ``AsyncAnswerStream``).
        ``upload_ids``, ``saved_query_id`` and ``parameters`` as in ``client.chats.stream``.
        """
        question = Question(
            message, chat_id, integration_id, model, title, upload_ids, saved_query_id, parameters
        )
        opener = self.send_opener(question)
        return self._new_stream(opener, message, on_open, on_end)

    def edit(
        self,
        chat_id: str,
        message_id: str,
        content: str,
        integration_id: str | None = None,
        model: str | None = None,
        *,
        on_open: Hook | None = None,
        on_end: Hook | None = None,
    ) -> S:
        """Edit a user message and stream the new answer (later messages are deleted first)."""
        opener = self.edit_opener(chat_id, message_id, content, integration_id, model)
        return self._new_stream(opener, content, on_open, on_end)

    def _opener(self, name: str, fields: dict[str, Any]) -> P:
        raise NotImplementedError

    def _new_stream(self, opener: P, question: str, on_open: Hook | None, on_end: Hook | None) -> S:
        raise NotImplementedError

    def _defaults(
        self, fields: dict[str, Any], integration_id: str | None, model: str | None
    ) -> dict[str, Any]:
        fields.update(integration_id=integration_id or self.integration_id, model=model or self.model)
        return fields

    @staticmethod
    def _turn_frame(name: str, fields: dict[str, Any], answer: Answer) -> str:
        """The frame of a turn, once its chat id is known (the answer keeps it even if the turn fails)."""
        if fields.get("chat_id") is not None:
            answer.chat_id = fields["chat_id"]
        return action(name, **fields)

    def _check_usable(self) -> None:
        if self._closed:
            raise TransportError("This WebSocket was closed: open a new one with client.websocket().")

    def _turn_running(self) -> bool:
        return self._current is not None and self._current.running

    def _check_idle(self, what: str) -> None:
        if self._turn_running():
            raise TransportError(
                f"An answer is still streaming on this WebSocket: finish or close its stream before {what}."
            )
