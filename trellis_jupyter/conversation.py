"""A conversation: one chat, started on first use and continued by every later question.

::

    conversation = client.conversation()
    answer = conversation.ask("How many orders did we get last month?")
    answer = conversation.ask("And by region?")          # same chat
    conversation.edit("How many orders did we get in May?")   # replaces the last question
    conversation.ask("How many rows are in targets?", files=[targets_df])   # uploads, then asks
    conversation.ask("Top customers", saved_query_id=q.id, parameters={"year": 2025})
    for question, answer in conversation.history(): ...

The chat id and the answers live in a :class:`ChatState`, which a sync :class:`Conversation` and an
:class:`AsyncConversation` can share (the magic and the widget of one kernel talk about one chat).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._wsproto import resolve_transport
from .answer import Answer
from .errors import ConfigurationError
from .stream import (
    AnswerStream,
    AsyncAnswerStream,
    AsyncEventSource,
    AsyncTurnStreams,
    EventSource,
    TurnStreams,
)
from .types import Chat, ChatMessage, ChatSummary, Question, Upload, chat_title

if TYPE_CHECKING:
    from .client import AsyncTrellis, Trellis
    from .websocket import AsyncChatSocket, ChatSocket

__all__ = ["AsyncConversation", "ChatState", "Conversation"]

NOTHING_TO_EDIT = "Nothing to edit yet: ask a question first."
NOTHING_TO_RATE = "No answer to rate yet: ask a question first."
NO_CHAT_FOR_UPLOADS = (
    "This server creates a chat only with its first question: ask one before uploading files."
)


@dataclass
class ChatState:
    """The current chat of a conversation: its id (``None`` until the first question) and answers."""

    chat_id: str | None = None
    answers: list[Answer] = field(default_factory=list)
    integration_id: str | None = None
    model: str | None = None

    def record(self, answer: Answer, replaces: str | None = None) -> None:
        """Add an answer the server accepted; an edit first drops the answers it replaces."""
        if replaces is not None:
            for index, earlier in enumerate(self.answers):
                if earlier.user_message_id == replaces:
                    # An edit changes the words, not the files: the local server sends the new
                    # question with the files of the one it replaces (Get Chat lists them there).
                    answer.uploads = answer.uploads or earlier.uploads
                    del self.answers[index:]
                    break
        if answer.chat_id is not None:
            self.chat_id = answer.chat_id
        self.answers.append(answer)

    def settle(self, answer: Answer) -> None:
        """At the end of a turn (or a failed start): keep the chat id the server gave."""
        if answer.chat_id is not None and self.chat_id is None:
            self.chat_id = answer.chat_id

    def last_user_message_id(self) -> str | None:
        for answer in reversed(self.answers):
            if answer.user_message_id is not None:
                return answer.user_message_id
        return None

    def last_message_id(self) -> str | None:
        for answer in reversed(self.answers):
            if answer.message_id is not None:
                return answer.message_id
        return None

    def reset(self) -> None:
        self.chat_id = None
        self.answers = []


def _pairs(chat: Chat) -> list[tuple[str, Answer]]:
    """A chat's messages as (question, answer) pairs; a question left unanswered gets an empty answer."""
    pairs: list[tuple[str, Answer]] = []
    question: ChatMessage | None = None

    def add(q: ChatMessage, reply: ChatMessage | None) -> None:
        if reply is not None:
            answer = Answer.from_message(reply.raw, question=q.content)
        else:
            answer = Answer(q.content)
            answer.mark_interrupted()
        answer.chat_id = chat.id or None
        answer.user_message_id = q.id or None
        answer.uploads = q.uploads  # metadata.uploads: the files the question was sent with
        pairs.append((q.content, answer))

    for message in chat.messages:
        if message.role == "user":
            if question is not None:
                add(question, None)
            question = message
        elif message.role == "assistant" and question is not None:
            add(question, message)
            question = None
    if question is not None:
        add(question, None)
    return pairs


class _Common:
    def __init__(
        self,
        chat_id: str | None,
        state: ChatState | None,
        integration_id: str | None,
        model: str | None,
        transport: str | None = None,
    ) -> None:
        self.transport = resolve_transport(transport)  # "sse" or "websocket"
        self._socket: Any = None  # the WebSocket, opened on the first question when transport="websocket"
        self.state = state if state is not None else ChatState()
        if chat_id is not None:
            self.state.chat_id = chat_id
        if integration_id is not None:
            self.state.integration_id = integration_id
        if model is not None:
            self.state.model = model

    @property
    def chat_id(self) -> str | None:
        return self.state.chat_id

    @property
    def answers(self) -> list[Answer]:
        return self.state.answers

    def _require_chat(self, message: str) -> str:
        if self.state.chat_id is None:
            raise ConfigurationError(message)
        return self.state.chat_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} chat_id={self.chat_id!r} answers={len(self.answers)}>"


class Conversation(_Common):
    """A chat you talk to with :meth:`ask` (blocking client)."""

    def __init__(
        self,
        client: Trellis,
        chat_id: str | None = None,
        *,
        state: ChatState | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        transport: str | None = None,
    ) -> None:
        super().__init__(chat_id, state, integration_id, model, transport)
        self.client = client

    @property
    def _streams(self) -> TurnStreams:
        """What ``stream`` and ``edit`` go through: ``client.chats`` (SSE), or this conversation's socket."""
        if self.transport == "sse":
            return self.client.chats
        if self._socket is None:
            from .websocket import client_socket

            self._socket = client_socket(self.client)  # connects on the first question
        socket: ChatSocket = self._socket  # typed, so mypy checks it is a TurnStreams
        return socket

    def close(self) -> None:
        """Close this conversation's WebSocket, if it opened one (the chat itself is kept)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def stream(
        self,
        question: str,
        *,
        integration_id: str | None = None,
        model: str | None = None,
        files: Any = None,
        upload_ids: Sequence[str] | None = None,
        saved_query_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> AnswerStream:
        """Ask, streaming: ``with conversation.stream(q) as s: for text in s.text_stream: ...``.

        ``files`` are uploaded to this chat first (see :meth:`upload`) and attached to the question.
        """
        state = self.state
        uploaded = self.upload(files, title=chat_title(question)) if files is not None else []
        ids = [*(upload_ids or []), *(u.id for u in uploaded)]
        opener = self._streams.send_opener(
            Question(
                question,
                chat_id=state.chat_id,
                integration_id=integration_id or state.integration_id,
                model=model or state.model,
                upload_ids=ids or None,
                saved_query_id=saved_query_id,
                parameters=parameters,
            )
        )
        stream = AnswerStream(
            opener,
            question=question,
            on_open=state.record,
            on_end=state.settle,
            max_retry_wait=self.client.settings.max_retry_wait,
        )
        stream.answer.uploads = uploaded
        return stream

    def upload(self, files: Any, *, title: str | None = None) -> list[Upload]:
        """Upload files to this chat (starting it now, titled ``title``, if it has not started)."""
        state = self.state
        if state.chat_id is None:
            state.chat_id = self.client.chats.start(title, state.integration_id)
            if state.chat_id is None:
                raise ConfigurationError(NO_CHAT_FOR_UPLOADS)
        return self.client.chats.upload(state.chat_id, files)

    def uploads(self) -> list[Upload]:
        """This chat's uploads (none before the chat started)."""
        if self.state.chat_id is None:
            return []
        return self.client.chats.uploads(self.state.chat_id)

    def ask(self, question: str, **options: Any) -> Answer:
        """Ask and wait for the whole answer (raises :class:`AnswerError` on a server error event)."""
        with self.stream(question, **options) as stream:
            return stream.get_final_answer()

    def stream_edit(self, content: str, message_id: str | None = None, **options: Any) -> AnswerStream:
        """Edit a question (the last one by default) and stream the new answer."""
        chat_id = self._require_chat(NOTHING_TO_EDIT)
        state = self.state
        target = [message_id or state.last_user_message_id()]

        def opener(answer: Answer) -> EventSource:
            if target[0] is None:  # a resumed chat: its last question is on the server
                target[0] = self._last_user_message_on_server()
            assert target[0] is not None
            open_edit = self._streams.edit_opener(
                chat_id,
                target[0],
                content,
                integration_id=options.get("integration_id") or state.integration_id,
                model=options.get("model") or state.model,
            )
            return open_edit(answer)

        return AnswerStream(
            opener,
            question=content,
            on_open=lambda a: state.record(a, replaces=target[0]),
            on_end=state.settle,
            max_retry_wait=self.client.settings.max_retry_wait,
        )

    def edit(self, content: str, message_id: str | None = None, **options: Any) -> Answer:
        """Replace a question (the last one by default) and wait for the new answer.

        Later answers are dropped here as the server drops them.
        """
        with self.stream_edit(content, message_id, **options) as stream:
            return stream.get_final_answer()

    def _last_user_message_on_server(self) -> str:
        for _question, answer in reversed(self.history()):
            if answer.user_message_id is not None:
                return answer.user_message_id
        raise ConfigurationError(NOTHING_TO_EDIT)

    def history(self) -> list[tuple[str, Answer]]:
        """The chat's messages from the server as (question, answer) pairs, tables and charts included."""
        if self.state.chat_id is None:
            return []
        return _pairs(self.client.chats.get(self.state.chat_id))

    def feedback(
        self, feedback: str, message_id: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """Thumbs up or down (``"positive"`` / ``"negative"``), on the last answer by default."""
        target = message_id or self.state.last_message_id()
        if target is None:
            raise ConfigurationError(NOTHING_TO_RATE)
        return self.client.chats.feedback(target, feedback, note=note)

    def rename(self, title: str) -> ChatSummary:
        return self.client.chats.rename(
            self._require_chat("No chat to rename yet: ask a question first."), title
        )

    def delete(self) -> None:
        """Delete the chat on the server; the next question starts a new one."""
        if self.state.chat_id is not None:
            self.client.chats.delete(self.state.chat_id)
        self.state.reset()

    def new(self) -> Conversation:
        """Forget the current chat (kept on the server): the next question starts a new one."""
        self.state.reset()
        return self


class AsyncConversation(_Common):
    """The async twin of :class:`Conversation`; may share its :class:`ChatState`."""

    def __init__(
        self,
        client: AsyncTrellis,
        chat_id: str | None = None,
        *,
        state: ChatState | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        transport: str | None = None,
    ) -> None:
        super().__init__(chat_id, state, integration_id, model, transport)
        self.client = client

    @property
    def _streams(self) -> AsyncTurnStreams:
        if self.transport == "sse":
            return self.client.chats
        if self._socket is None:
            from .websocket import async_client_socket

            self._socket = async_client_socket(self.client)
        socket: AsyncChatSocket = self._socket
        return socket

    async def aclose(self) -> None:
        """Close this conversation's WebSocket, if it opened one (the chat itself is kept)."""
        if self._socket is not None:
            await self._socket.aclose()
            self._socket = None

    def stream(
        self,
        question: str,
        *,
        integration_id: str | None = None,
        model: str | None = None,
        upload_ids: Sequence[str] | None = None,
        saved_query_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> AsyncAnswerStream:
        """Ask, streaming (to attach new files, ``await upload(files)`` first, or use :meth:`ask`)."""
        state = self.state
        opener = self._streams.send_opener(
            Question(
                question,
                chat_id=state.chat_id,
                integration_id=integration_id or state.integration_id,
                model=model or state.model,
                upload_ids=upload_ids,
                saved_query_id=saved_query_id,
                parameters=parameters,
            )
        )
        return AsyncAnswerStream(
            opener,
            question=question,
            on_open=state.record,
            on_end=state.settle,
            max_retry_wait=self.client.settings.max_retry_wait,
        )

    async def ask(self, question: str, *, files: Any = None, **options: Any) -> Answer:
        """Ask and wait for the whole answer; ``files`` are uploaded to this chat and attached first."""
        uploaded = await self.upload(files, title=chat_title(question)) if files is not None else []
        if uploaded:
            options["upload_ids"] = [*(options.get("upload_ids") or []), *(u.id for u in uploaded)]
        stream = self.stream(question, **options)
        stream.answer.uploads = uploaded
        async with stream:
            return await stream.get_final_answer()

    async def upload(self, files: Any, *, title: str | None = None) -> list[Upload]:
        """Upload files to this chat (starting it now, titled ``title``, if it has not started)."""
        state = self.state
        if state.chat_id is None:
            state.chat_id = await self.client.chats.start(title, state.integration_id)
            if state.chat_id is None:
                raise ConfigurationError(NO_CHAT_FOR_UPLOADS)
        return await self.client.chats.upload(state.chat_id, files)

    async def uploads(self) -> list[Upload]:
        if self.state.chat_id is None:
            return []
        return await self.client.chats.uploads(self.state.chat_id)

    def stream_edit(self, content: str, message_id: str | None = None, **options: Any) -> AsyncAnswerStream:
        chat_id = self._require_chat(NOTHING_TO_EDIT)
        state = self.state
        target = [message_id or state.last_user_message_id()]

        async def opener(answer: Answer) -> AsyncEventSource:
            if target[0] is None:
                target[0] = await self._last_user_message_on_server()
            assert target[0] is not None
            open_edit = self._streams.edit_opener(
                chat_id,
                target[0],
                content,
                integration_id=options.get("integration_id") or state.integration_id,
                model=options.get("model") or state.model,
            )
            return await open_edit(answer)

        return AsyncAnswerStream(
            opener,
            question=content,
            on_open=lambda a: state.record(a, replaces=target[0]),
            on_end=state.settle,
            max_retry_wait=self.client.settings.max_retry_wait,
        )

    async def edit(self, content: str, message_id: str | None = None, **options: Any) -> Answer:
        async with self.stream_edit(content, message_id, **options) as stream:
            return await stream.get_final_answer()

    async def _last_user_message_on_server(self) -> str:
        for _question, answer in reversed(await self.history()):
            if answer.user_message_id is not None:
                return answer.user_message_id
        raise ConfigurationError(NOTHING_TO_EDIT)

    async def history(self) -> list[tuple[str, Answer]]:
        if self.state.chat_id is None:
            return []
        return _pairs(await self.client.chats.get(self.state.chat_id))

    async def feedback(
        self, feedback: str, message_id: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        target = message_id or self.state.last_message_id()
        if target is None:
            raise ConfigurationError(NOTHING_TO_RATE)
        return await self.client.chats.feedback(target, feedback, note=note)

    async def rename(self, title: str) -> ChatSummary:
        return await self.client.chats.rename(
            self._require_chat("No chat to rename yet: ask a question first."), title
        )

    async def delete(self) -> None:
        if self.state.chat_id is not None:
            await self.client.chats.delete(self.state.chat_id)
        self.state.reset()

    def new(self) -> AsyncConversation:
        self.state.reset()
        return self
