"""The stream of one answer: a context manager that sends on entry and yields typed events.

::

    with client.chats.stream("How many orders last month?") as stream:
        for text in stream.text_stream:
            print(text, end="")
        answer = stream.get_final_answer()

:class:`AnswerStream` and :class:`AsyncAnswerStream` know nothing of HTTP: they take an *opener*,
a function that sends the request and returns an event source (anything with ``__next__`` and
``close()``, or ``__anext__`` and ``aclose()``). The SSE transport passes one that returns
:class:`~trellis_jupyter._sse.SSEEvents`; the WebSocket transport can pass its own.

What happens at the end:

- the final ``message``: the answer is complete; ``get_final_answer()`` returns it;
- an ``error`` event: iteration yields the :class:`~trellis_jupyter.events.ErrorEvent`, then
  ``get_final_answer()`` raises :class:`~trellis_jupyter.errors.AnswerError` carrying the answer;
- the connection drops, or the stream ends with neither: :class:`ConnectionLostError`, carrying
  the partial answer (chat id included);
- ``close()`` / ``aclose()`` (a Stop button, leaving the ``with`` block early, Ctrl-C): the HTTP
  stream ends at once and the answer is marked interrupted.

Rate limited: when the server refuses the request (429, or 503 with ``Retry-After``; it did not
act), the stream yields a :class:`~trellis_jupyter.events.Processing` event whose status reads
"Rate limited; retrying in 12 s", waits, and sends again, within ``max_retry_wait`` seconds in
all; so the magic's status line and the widget show the wait with no code of their own. Ctrl-C,
a cancelled task or ``close()`` ends the wait at once. Past the budget the refusal is raised.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Protocol

from ._error_text import answer_failed
from ._retry import DEFAULT_MAX_RETRY_WAIT, RetryBudget, waiting_status
from ._sse import lost_connection
from .answer import Answer
from .errors import AnswerError, ConnectionLostError, MalformedEventError, TransportError, TrellisError
from .events import ErrorEvent, Event, Message, Processing, TextDelta
from .types import Question

__all__ = [
    "AnswerStream",
    "AsyncAnswerStream",
    "AsyncEventSource",
    "AsyncOpener",
    "AsyncTurnStreams",
    "EventSource",
    "Opener",
    "TurnStreams",
    "answer_error",
]


class EventSource(Protocol):
    """What a sync transport gives :class:`AnswerStream`: typed events, and a way to stop them."""

    def __next__(self) -> Event: ...

    def close(self) -> None: ...


class AsyncEventSource(Protocol):
    """What an async transport gives :class:`AsyncAnswerStream`."""

    async def __anext__(self) -> Event: ...

    async def aclose(self) -> None: ...


Opener = Callable[[Answer], EventSource]
AsyncOpener = Callable[[Answer], Awaitable[AsyncEventSource]]
Hook = Callable[[Answer], None]


class TurnStreams(Protocol):
    """Something that streams a turn: ``client.chats`` (SSE) and a WebSocket (``ChatSocket``).

    ``send_opener`` / ``edit_opener`` give the opener of a question or an edit (the arguments are
    checked at once; nothing is sent until the opener is called), so a caller can compose it with
    work of its own and wrap it in an :class:`AnswerStream`, as both transports' ``stream`` and
    ``edit`` do.
    """

    def send_opener(self, question: Question) -> Opener: ...

    def edit_opener(
        self,
        chat_id: str,
        message_id: str,
        content: str,
        integration_id: str | None = None,
        model: str | None = None,
    ) -> Opener: ...


class AsyncTurnStreams(Protocol):
    """The async twin of :class:`TurnStreams`: ``AsyncTrellis.chats`` and an ``AsyncChatSocket``."""

    def send_opener(self, question: Question) -> AsyncOpener: ...

    def edit_opener(
        self,
        chat_id: str,
        message_id: str,
        content: str,
        integration_id: str | None = None,
        model: str | None = None,
    ) -> AsyncOpener: ...


def answer_error(answer: Answer) -> AnswerError:
    """The error for an answer that ended with the server's ``error`` event."""
    error = answer.error
    assert error is not None
    return AnswerError(
        answer_failed(error),
        detail=error.error,
        code=error.code,
        debug_id=error.debug_id,
        answer=answer,
        retryable=error.retryable,
        retry_after=error.retry_after,
        error_type=error.error_type,
    )


class _StreamState:
    """What both streams share: the answer, the end-of-turn rules and the hooks."""

    def __init__(
        self, question: str | None, on_open: Hook | None, on_end: Hook | None, max_retry_wait: float
    ) -> None:
        self.answer = Answer(question)
        self._on_open = on_open
        self._on_end = on_end
        self._opened = False
        self._finished = False
        self._closing = False  # close() was called (maybe from another thread): never reopen
        self._budget = RetryBudget(max_retry_wait)
        self._pending: float | None = None  # a refused request's wait, still to be shown or slept
        self._announced = False
        self._turn_events = 0  # events of the current try: a refusal comes first, alone

    def _refused_turn(self, event: Event) -> bool:
        """True for a turn the server refused before acting (a WebSocket's first event ``RATE_LIMIT``):
        it is sent again after the wait, within the budget."""
        self._turn_events += 1
        if self._turn_events > 1 or not isinstance(event, ErrorEvent) or event.code != "RATE_LIMIT":
            return False
        wait = self._budget.take(-1.0 if event.retry_after is None else event.retry_after)
        if wait is None:
            return False
        self._pending, self._announced, self._turn_events = wait, False, 0
        return True

    def _refused(self, exc: TrellisError) -> bool:
        """True when the server refused to open and the request may go again after a wait."""
        wait = self._budget.grant(exc)
        if wait is None:
            self._budget.exhausted(exc)
            return False
        self._pending, self._announced = wait, False
        return True

    def _waiting(self) -> Processing:
        """The status event that tells the surfaces a refused request waits to go again."""
        assert self._pending is not None
        self._announced = True
        event = Processing(waiting_status(self._pending))
        self.answer.feed(event)
        return event

    def _stop_waiting(self) -> None:
        if self._pending is not None and not self._opened:
            self.answer.mark_interrupted()
        self._pending = None

    def _opening_failed(self, exc: TrellisError) -> None:
        # The chat may exist already (created before the send failed): keep it with the error.
        if exc.answer is None and self.answer.chat_id is not None:
            exc.answer = self.answer
        self._finish()

    def _did_open(self) -> None:
        self._turn_events = 0
        if self._opened:
            return  # sent again after a refusal: the same answer, opened once
        self._opened = True
        if self._on_open is not None:
            self._on_open(self.answer)

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._on_end is not None:
            self._on_end(self.answer)

    def _lost(self, exc: TransportError | None) -> ConnectionLostError:
        """The answer was cut: mark it, and hand it over inside the error."""
        error = exc if isinstance(exc, ConnectionLostError) else lost_connection()
        error.answer = self.answer
        self.answer.mark_interrupted()
        return error

    def _ended(self, exc: TrellisError) -> TrellisError:
        """The transport refused to go on: mark the answer, and hand it over inside the error."""
        exc.answer = self.answer
        self.answer.mark_interrupted()
        return exc

    def _malformed(self, exc: MalformedEventError) -> MalformedEventError:
        return MalformedEventError(exc.event, exc.reason, position=exc.position, answer=self.answer)

    def _final(self) -> Answer:
        if self.answer.error is not None:
            raise answer_error(self.answer)
        return self.answer

    def __repr__(self) -> str:
        state = "finished" if self._finished else "open" if self._opened else "not sent"
        return f"<{type(self).__name__} {state} {self.answer!r}>"


class AnswerStream(_StreamState):
    """One answer as it streams (sync). Sends on ``with`` entry (or on first iteration)."""

    def __init__(
        self,
        opener: Opener,
        *,
        question: str | None = None,
        on_open: Hook | None = None,
        on_end: Hook | None = None,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
    ) -> None:
        super().__init__(question, on_open, on_end, max_retry_wait)
        self._opener = opener
        self._events: EventSource | None = None
        self._wake = threading.Event()  # set by close(): a wait ends at once

    def __enter__(self) -> AnswerStream:
        self._open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _open(self) -> EventSource | None:
        """Send the request; ``None`` while a refusal waits to be shown or slept."""
        if self._events is None and not self._finished and self._pending is None:
            try:
                self._events = self._opener(self.answer)
            except TrellisError as exc:
                if self._refused(exc):
                    return None
                self._opening_failed(exc)
                raise
            self._did_open()
        return self._events

    def __iter__(self) -> AnswerStream:
        return self

    def __next__(self) -> Event:
        while (events := self._events) is None:
            if self._finished or self._closing:
                raise StopIteration
            if self._pending is not None:
                if not self._announced:
                    return self._waiting()
                self._wake.wait(self._pending)  # Ctrl-C interrupts it; close() from any thread ends it
                self._pending = None
                continue
            self._open()
        try:
            event = next(events)
        except StopIteration:
            self._close_events()
            if not self.answer.done:
                raise self._lost(None) from None
            raise
        except MalformedEventError as exc:
            raise self._malformed(exc) from None  # the stream stays usable: iterate again
        except TransportError as exc:
            self._close_events()
            raise self._lost(exc) from exc
        except TrellisError as exc:
            # A refusal mid-turn (WebSocket close 4001, 4429): the turn is over, its answer kept.
            self._close_events()
            raise self._ended(exc) from None
        if self._refused_turn(event):
            self._events = None  # that turn is over: the question goes again after the wait
            return next(self)
        self.answer.feed(event)
        return event

    @property
    def text_stream(self) -> Iterator[str]:
        """The answer's text as it arrives (the final ``message`` when the server sent no deltas)."""
        seen_delta = False
        for event in self:
            if isinstance(event, TextDelta):
                seen_delta = True
                yield event.content
            elif isinstance(event, Message) and not seen_delta and event.content:
                yield event.content

    def until_done(self) -> Answer:
        """Consume the rest of the stream and return the answer, whatever it ended with."""
        for _ in self:
            pass
        return self.answer

    def get_final_answer(self) -> Answer:
        """Consume the rest; the answer, or :class:`AnswerError` when the server sent ``error``."""
        self.until_done()
        return self._final()

    def close(self) -> None:
        """End the HTTP stream (or a wait) at once; an unfinished answer is marked interrupted.

        Safe from any thread, also while another thread iterates: that iteration stops at once.
        """
        self._closing = True
        if not self.answer.done and self._opened:
            self.answer.mark_interrupted()
        self._stop_waiting()
        self._wake.set()
        self._close_events()

    def _close_events(self) -> None:
        events, self._events = self._events, None
        if events is not None:
            events.close()
        self._finish()


class AsyncAnswerStream(_StreamState):
    """One answer as it streams (async). Sends on ``async with`` entry (or on first iteration)."""

    def __init__(
        self,
        opener: AsyncOpener,
        *,
        question: str | None = None,
        on_open: Hook | None = None,
        on_end: Hook | None = None,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
    ) -> None:
        super().__init__(question, on_open, on_end, max_retry_wait)
        self._opener = opener
        self._events: AsyncEventSource | None = None
        self._wake: Any = None  # an anyio.Event while a wait runs; aclose() sets it

    async def __aenter__(self) -> AsyncAnswerStream:
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _open(self) -> AsyncEventSource | None:
        """Send the request; ``None`` while a refusal waits to be shown or slept."""
        if self._events is None and not self._finished and self._pending is None:
            try:
                self._events = await self._opener(self.answer)
            except TrellisError as exc:
                if self._refused(exc):
                    return None
                self._opening_failed(exc)
                raise
            self._did_open()
        return self._events

    def __aiter__(self) -> AsyncAnswerStream:
        return self

    async def _sleep(self, seconds: float) -> None:
        import anyio

        self._wake = anyio.Event()
        with anyio.move_on_after(seconds):  # a cancelled task ends the wait at once
            await self._wake.wait()
        self._wake = None

    async def __anext__(self) -> Event:
        while (events := self._events) is None:
            if self._finished or self._closing:
                raise StopAsyncIteration
            if self._pending is not None:
                if not self._announced:
                    return self._waiting()
                await self._sleep(self._pending)  # a cancelled task or aclose() ends it
                self._pending = None
                continue
            await self._open()
        try:
            event = await events.__anext__()
        except StopAsyncIteration:
            await self._close_events()
            if not self.answer.done:
                raise self._lost(None) from None
            raise
        except MalformedEventError as exc:
            raise self._malformed(exc) from None
        except TransportError as exc:
            await self._close_events()
            raise self._lost(exc) from exc
        except TrellisError as exc:
            await self._close_events()
            raise self._ended(exc) from None
        if self._refused_turn(event):
            self._events = None
            return await self.__anext__()
        self.answer.feed(event)
        return event

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The answer's text as it arrives (async iterator)."""
        return self._text_stream()

    async def _text_stream(self) -> AsyncIterator[str]:
        seen_delta = False
        async for event in self:
            if isinstance(event, TextDelta):
                seen_delta = True
                yield event.content
            elif isinstance(event, Message) and not seen_delta and event.content:
                yield event.content

    async def until_done(self) -> Answer:
        """Consume the rest of the stream and return the answer, whatever it ended with."""
        async for _ in self:
            pass
        return self.answer

    async def get_final_answer(self) -> Answer:
        """Consume the rest; the answer, or :class:`AnswerError` when the server sent ``error``."""
        await self.until_done()
        return self._final()

    async def aclose(self) -> None:
        """End the HTTP stream (or a wait) at once; an unfinished answer is marked interrupted."""
        self._closing = True
        if not self.answer.done and self._opened:
            self.answer.mark_interrupted()
        self._stop_waiting()
        if self._wake is not None:
            self._wake.set()
        await self._close_events()

    async def _close_events(self) -> None:
        events, self._events = self._events, None
        if events is not None:
            await events.aclose()
        self._finish()
