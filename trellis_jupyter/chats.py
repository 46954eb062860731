"""``client.chats``: chats, their messages and streamed answers, for both clients.

A stream without ``chat_id`` starts a new chat: ``POST /v1/chats/create`` first, or, when the
server does not know that path (404/405, older API generations), the implicit flow where the send
itself creates the chat (remembered per client, so the probe happens once). :meth:`Chats.start`
is that step on its own, for other transports (the WebSocket starts its chats with it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._error_text import CallContext, chats_not_found
from ._sse import AsyncSSEEvents, SSEEvents
from .answer import Answer
from .errors import APIError, ConfigurationError, NotFoundError
from .stream import AnswerStream, AsyncAnswerStream, AsyncOpener, Hook, Opener
from .types import Chat, ChatPage, ChatSummary, Question, Upload, chat_title
from .uploads import turn_extras, upload_parts

if TYPE_CHECKING:
    from .client import AsyncTrellis, Trellis

__all__ = ["AsyncChats", "Chats"]

FEEDBACK = ("positive", "negative")


def _id(value: str) -> str:
    return quote(str(value), safe="")


def _object(body: Any) -> dict[str, Any]:
    """A JSON object body as a dict (anything else reads as an empty one, as events tolerate)."""
    return dict(body) if isinstance(body, dict) else {}


def _send_body(
    message: str,
    chat_id: str | None,
    integration_id: str | None,
    model: str | None,
    title: str | None,
    extras: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    if not isinstance(message, str) or not message.strip():
        raise ConfigurationError("The question is empty: type a question to ask.")
    body: dict[str, Any] = {"message": message}
    for key, value in (
        ("chat_id", chat_id),
        ("integration_id", integration_id),
        ("model", model),
        ("title", title),
    ):
        if value is not None:
            body[key] = value
    body.update(extras or {})
    return body


Uploads = list[Upload]  # an alias: ``list`` is a method name in the classes below


def _uploads(body: Any, chat_id: str | None) -> Uploads:
    uploads = Upload.list_from_data(body)
    # An answer without its chat id still names the chat asked about.
    return [u if u.chat_id else dataclasses.replace(u, chat_id=chat_id) for u in uploads]


def _edit_body(content: str, integration_id: str | None, model: str | None) -> dict[str, Any]:
    if not isinstance(content, str) or not content.strip():
        raise ConfigurationError("The edited question is empty: give the new text of the question.")
    body: dict[str, Any] = {"content": content}
    if integration_id is not None:
        body["integration_id"] = integration_id
    if model is not None:
        body["model"] = model
    return body


def _feedback_body(feedback: str, note: str | None) -> dict[str, Any]:
    if feedback not in FEEDBACK:
        raise ConfigurationError(f"Feedback must be 'positive' or 'negative', not {feedback!r}.")
    body: dict[str, Any] = {"feedback": feedback}
    if note is not None:
        body["note"] = note
    return body


def _check_bulk(body: Any) -> None:
    """A bulk delete's answer: the chats not found raise, once the others are deleted."""
    missing = body.get("not_found") if isinstance(body, dict) else None
    if missing:
        raise NotFoundError(chats_not_found([str(i) for i in missing]), code="CHAT_NOT_FOUND", detail=body)


def _create_missing(exc: APIError) -> bool:
    """True when ``POST /v1/chats/create`` does not exist here (an older API: use the implicit flow)."""
    if exc.status_code == 405:
        return True
    return exc.status_code == 404 and exc.code not in ("INTEGRATION_NOT_FOUND", "CHAT_NOT_FOUND")


class Chats:
    """``client.chats``: chats, their messages, and streamed answers (sync)."""

    def __init__(self, client: Trellis) -> None:
        self._client = client
        self._http = client._http
        self._implicit_chats = False  # set once the server showed it has no create endpoint

    def create(self, title: str | None = None, integration_id: str | None = None) -> Chat:
        """Create an empty chat (``POST /v1/chats/create``); returns it, ``id`` included."""
        return self._create(title, integration_id, wait_out=True)

    def _create(self, title: str | None, integration_id: str | None, *, wait_out: bool) -> Chat:
        integration_id = integration_id or self._client.settings.integration_id
        body = {k: v for k, v in (("title", title), ("integration_id", integration_id)) if v is not None}
        context = CallContext(integration_id=integration_id)
        return Chat.from_data(
            _object(
                self._http.request(
                    "POST",
                    "/v1/chats/create",
                    json=body,
                    idempotent=False,
                    context=context,
                    wait_out=wait_out,
                )
            )
        )

    def list(self, page: int = 1) -> ChatPage:
        """One page of chats, newest first (``.chats``, ``.total``, ``.page``, ``.has_more``)."""
        return ChatPage.from_data(self._http.request("GET", "/v1/chats", params={"page": page}), page)

    def iter_all(self) -> Iterator[ChatSummary]:
        """Every chat, page after page."""
        page = 1
        while True:
            body = self.list(page)
            yield from body.chats
            if not body.has_more or not body.chats:
                return
            page += 1

    def get(self, chat_id: str) -> Chat:
        """A chat with its messages, oldest first."""
        return Chat.from_data(
            _object(
                self._http.request("GET", f"/v1/chats/{_id(chat_id)}", context=CallContext(chat_id=chat_id))
            )
        )

    def rename(self, chat_id: str, title: str) -> ChatSummary:
        return ChatSummary.from_data(
            _object(
                self._http.request(
                    "PUT",
                    f"/v1/chats/{_id(chat_id)}",
                    json={"title": title},
                    context=CallContext(chat_id=chat_id),
                )
            )
        )

    def delete(self, chat_id: str) -> None:
        """Delete a chat and all its messages (irreversible); an unknown chat raises NotFoundError."""
        self._http.request("DELETE", f"/v1/chats/{_id(chat_id)}", context=CallContext(chat_id=chat_id))

    def delete_many(self, chat_ids: Sequence[str]) -> None:
        """Delete several chats; when some were not found, the others are deleted and
        :class:`~trellis_jupyter.errors.NotFoundError` names the missing ones."""
        ids = [str(i) for i in chat_ids]
        if ids:
            _check_bulk(self._http.request("DELETE", "/v1/chats", json={"chat_ids": ids}))

    def delete_message(self, chat_id: str, message_id: str) -> None:
        """Delete a message and every later message of its chat (irreversible)."""
        self._http.request(
            "DELETE",
            f"/v1/chats/{_id(chat_id)}/messages/{_id(message_id)}",
            context=CallContext(chat_id=chat_id, message_id=message_id),
        )

    def feedback(self, message_id: str, feedback: str, note: str | None = None) -> dict[str, Any]:
        """Thumbs up (``"positive"``) or down (``"negative"``) on an answer, with an optional note."""
        body = _feedback_body(feedback, note)
        return dict(
            self._http.request(
                "PATCH",
                f"/v1/chats/messages/{_id(message_id)}/feedback",
                json=body,
                context=CallContext(message_id=message_id),
            )
            or {}
        )

    def upload(self, chat_id: str, files: Any) -> Uploads:
        """Upload files to a chat (see :mod:`trellis_jupyter.uploads` for what a file may be)."""
        parts = upload_parts(files)
        body = self._http.request(
            "POST",
            "/v1/chats/uploads",
            files=[("files", part) for part in parts],
            data={"chat_id": chat_id},
            idempotent=False,
            context=CallContext(chat_id=chat_id),
        )
        return _uploads(body, chat_id)

    def uploads(self, chat_id: str) -> Uploads:
        """The chat's uploads, oldest first."""
        body = self._http.request(
            "GET", f"/v1/chats/{_id(chat_id)}/uploads", context=CallContext(chat_id=chat_id)
        )
        return _uploads(body, chat_id)

    def delete_upload(self, upload_id: str) -> None:
        """Delete an upload (irreversible); a table it became is gone from the chat too."""
        self._http.request(
            "DELETE", f"/v1/chats/uploads/{_id(upload_id)}", context=CallContext(upload_id=upload_id)
        )

    def start(
        self, title: str | None = None, integration_id: str | None = None, *, wait: bool = True
    ) -> str | None:
        """Start a chat for a first question: its id, or ``None`` when the send itself must create it.

        ``None`` comes from servers without ``POST /v1/chats/create`` (an older API generation): there
        a question sent without ``chat_id`` creates the chat. The probe happens once per client.
        ``wait=False`` raises a refusal (429) at once: an answer stream waits it out itself, showing
        that it waits.
        """
        if self._implicit_chats:
            return None
        try:
            return str(self._create(title, integration_id, wait_out=wait)["id"])
        except APIError as exc:
            if not _create_missing(exc):
                raise
            self._implicit_chats = True
            return None

    def send_opener(self, question: Question) -> Opener:
        """The opener of a question (checked now, sent when the opener is called)."""
        s, q = self._client.settings, question
        message, chat_id, title = q.message, q.chat_id, q.title
        integration_id, model = q.integration_id or s.integration_id, q.model or s.model
        extras = turn_extras(q.upload_ids, q.saved_query_id, q.parameters)
        _send_body(message, chat_id, integration_id, model, title)  # fail early, before any request

        def opener(answer: Answer) -> SSEEvents:
            cid = chat_id or answer.chat_id  # a chat created by an earlier, refused, try is reused
            if cid is None:
                cid = self.start(title or chat_title(message), integration_id, wait=False)
                answer.chat_id = cid
            body = _send_body(message, cid, integration_id, model, title if cid is None else None, extras)
            context = CallContext(chat_id=cid, integration_id=integration_id)
            response = self._http.open_stream("POST", "/v1/chats", json=body, context=context)
            return SSEEvents(response, secrets=self._http.secrets())

        return opener

    def edit_opener(
        self,
        chat_id: str,
        message_id: str,
        content: str,
        integration_id: str | None = None,
        model: str | None = None,
    ) -> Opener:
        """The opener of an edit (checked now, sent when the opener is called)."""
        s = self._client.settings
        body = _edit_body(content, integration_id or s.integration_id, model or s.model)
        path = f"/v1/chats/{_id(chat_id)}/messages/{_id(message_id)}"

        def opener(answer: Answer) -> SSEEvents:
            answer.chat_id = chat_id
            context = CallContext(chat_id=chat_id, message_id=message_id)
            response = self._http.open_stream("PATCH", path, json=body, context=context)
            return SSEEvents(response, secrets=self._http.secrets())

        return opener

    def stream(
        self,
        message: str,
        chat_id: str | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        title: str | None = None,
        *,
        upload_ids: Sequence[str] | None = None,
        saved_query_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        on_open: Hook | None = None,
        on_end: Hook | None = None,
    ) -> AnswerStream:
        """Ask ``message`` (in ``chat_id``, or a new chat); use as ``with ... as stream:``.

        ``upload_ids`` attach this chat's uploads to the question; ``saved_query_id`` runs that
        saved query (its SQL, with ``parameters`` for its ``{{name}}`` placeholders) instead of
        asking the model, ``message`` being only the text shown in the chat.
        """
        question = Question(
            message, chat_id, integration_id, model, title, upload_ids, saved_query_id, parameters
        )
        opener = self.send_opener(question)
        return AnswerStream(
            opener,
            question=message,
            on_open=on_open,
            on_end=on_end,
            max_retry_wait=self._client.settings.max_retry_wait,
        )

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
    ) -> AnswerStream:
        """Replace a user message and stream the new answer; later messages are deleted first."""
        opener = self.edit_opener(chat_id, message_id, content, integration_id, model)
        return AnswerStream(
            opener,
            question=content,
            on_open=on_open,
            on_end=on_end,
            max_retry_wait=self._client.settings.max_retry_wait,
        )


class AsyncChats:
    """``client.chats`` of :class:`AsyncTrellis`."""

    def __init__(self, client: AsyncTrellis) -> None:
        self._client = client
        self._http = client._http
        self._implicit_chats = False

    async def create(self, title: str | None = None, integration_id: str | None = None) -> Chat:
        return await self._create(title, integration_id, wait_out=True)

    async def _create(self, title: str | None, integration_id: str | None, *, wait_out: bool) -> Chat:
        integration_id = integration_id or self._client.settings.integration_id
        body = {k: v for k, v in (("title", title), ("integration_id", integration_id)) if v is not None}
        return Chat.from_data(
            _object(
                await self._http.request(
                    "POST",
                    "/v1/chats/create",
                    json=body,
                    idempotent=False,
                    context=CallContext(integration_id=integration_id),
                    wait_out=wait_out,
                )
            )
        )

    async def list(self, page: int = 1) -> ChatPage:
        return ChatPage.from_data(await self._http.request("GET", "/v1/chats", params={"page": page}), page)

    async def iter_all(self) -> AsyncIterator[ChatSummary]:
        page = 1
        while True:
            body = await self.list(page)
            for chat in body.chats:
                yield chat
            if not body.has_more or not body.chats:
                return
            page += 1

    async def get(self, chat_id: str) -> Chat:
        return Chat.from_data(
            _object(
                await self._http.request(
                    "GET", f"/v1/chats/{_id(chat_id)}", context=CallContext(chat_id=chat_id)
                )
            )
        )

    async def rename(self, chat_id: str, title: str) -> ChatSummary:
        return ChatSummary.from_data(
            _object(
                await self._http.request(
                    "PUT",
                    f"/v1/chats/{_id(chat_id)}",
                    json={"title": title},
                    context=CallContext(chat_id=chat_id),
                )
            )
        )

    async def delete(self, chat_id: str) -> None:
        await self._http.request("DELETE", f"/v1/chats/{_id(chat_id)}", context=CallContext(chat_id=chat_id))

    async def delete_many(self, chat_ids: Sequence[str]) -> None:
        ids = [str(i) for i in chat_ids]
        if ids:
            _check_bulk(await self._http.request("DELETE", "/v1/chats", json={"chat_ids": ids}))

    async def delete_message(self, chat_id: str, message_id: str) -> None:
        await self._http.request(
            "DELETE",
            f"/v1/chats/{_id(chat_id)}/messages/{_id(message_id)}",
            context=CallContext(chat_id=chat_id, message_id=message_id),
        )

    async def feedback(self, message_id: str, feedback: str, note: str | None = None) -> dict[str, Any]:
        body = _feedback_body(feedback, note)
        return dict(
            await self._http.request(
                "PATCH",
                f"/v1/chats/messages/{_id(message_id)}/feedback",
                json=body,
                context=CallContext(message_id=message_id),
            )
            or {}
        )

    async def upload(self, chat_id: str, files: Any) -> Uploads:
        parts = upload_parts(files)
        body = await self._http.request(
            "POST",
            "/v1/chats/uploads",
            files=[("files", part) for part in parts],
            data={"chat_id": chat_id},
            idempotent=False,
            context=CallContext(chat_id=chat_id),
        )
        return _uploads(body, chat_id)

    async def uploads(self, chat_id: str) -> Uploads:
        body = await self._http.request(
            "GET", f"/v1/chats/{_id(chat_id)}/uploads", context=CallContext(chat_id=chat_id)
        )
        return _uploads(body, chat_id)

    async def delete_upload(self, upload_id: str) -> None:
        await self._http.request(
            "DELETE", f"/v1/chats/uploads/{_id(upload_id)}", context=CallContext(upload_id=upload_id)
        )

    async def start(
        self, title: str | None = None, integration_id: str | None = None, *, wait: bool = True
    ) -> str | None:
        """The async twin of :meth:`Chats.start`."""
        if self._implicit_chats:
            return None
        try:
            return str((await self._create(title, integration_id, wait_out=wait))["id"])
        except APIError as exc:
            if not _create_missing(exc):
                raise
            self._implicit_chats = True
            return None

    def send_opener(self, question: Question) -> AsyncOpener:
        s, q = self._client.settings, question
        message, chat_id, title = q.message, q.chat_id, q.title
        integration_id, model = q.integration_id or s.integration_id, q.model or s.model
        extras = turn_extras(q.upload_ids, q.saved_query_id, q.parameters)
        _send_body(message, chat_id, integration_id, model, title)

        async def opener(answer: Answer) -> AsyncSSEEvents:
            cid = chat_id or answer.chat_id  # a chat created by an earlier, refused, try is reused
            if cid is None:
                cid = await self.start(title or chat_title(message), integration_id, wait=False)
                answer.chat_id = cid
            body = _send_body(message, cid, integration_id, model, title if cid is None else None, extras)
            context = CallContext(chat_id=cid, integration_id=integration_id)
            response = await self._http.open_stream("POST", "/v1/chats", json=body, context=context)
            return AsyncSSEEvents(response, secrets=self._http.secrets())

        return opener

    def edit_opener(
        self,
        chat_id: str,
        message_id: str,
        content: str,
        integration_id: str | None = None,
        model: str | None = None,
    ) -> AsyncOpener:
        s = self._client.settings
        body = _edit_body(content, integration_id or s.integration_id, model or s.model)
        path = f"/v1/chats/{_id(chat_id)}/messages/{_id(message_id)}"

        async def opener(answer: Answer) -> AsyncSSEEvents:
            answer.chat_id = chat_id
            context = CallContext(chat_id=chat_id, message_id=message_id)
            response = await self._http.open_stream("PATCH", path, json=body, context=context)
            return AsyncSSEEvents(response, secrets=self._http.secrets())

        return opener

    def stream(
        self,
        message: str,
        chat_id: str | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        title: str | None = None,
        *,
        upload_ids: Sequence[str] | None = None,
        saved_query_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        on_open: Hook | None = None,
        on_end: Hook | None = None,
    ) -> AsyncAnswerStream:
        """Ask ``message``; use as ``async with ... as stream:``."""
        question = Question(
            message, chat_id, integration_id, model, title, upload_ids, saved_query_id, parameters
        )
        opener = self.send_opener(question)
        return AsyncAnswerStream(
            opener,
            question=message,
            on_open=on_open,
            on_end=on_end,
            max_retry_wait=self._client.settings.max_retry_wait,
        )

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
    ) -> AsyncAnswerStream:
        opener = self.edit_opener(chat_id, message_id, content, integration_id, model)
        return AsyncAnswerStream(
            opener,
            question=content,
            on_open=on_open,
            on_end=on_end,
            max_retry_wait=self._client.settings.max_retry_wait,
        )
