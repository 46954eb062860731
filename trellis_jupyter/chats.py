"""``client.chats``: chats, their messages and streamed answers, for both clients.

A stream without ``chat_id`` starts a new chat: ``POST /v1/chats/create`` first, or, when the
server does not know that path (404/405, older API generations), the implicit flow where the send
itself creates the chat (remembered per client, so the probe happens once).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .answer import Answer
from .errors import APIError, ConfigurationError
from .stream import AnswerStream, AsyncAnswerStream, Hook
from .streaming import AsyncSSEEvents, SSEEvents

if TYPE_CHECKING:
    from .client import AsyncTrellis, Trellis

__all__ = ["AsyncChats", "Chats"]

FEEDBACK = ("positive", "negative")


def _id(value: str) -> str:
    return quote(str(value), safe="")


def _chat_page(body: Any, page: int) -> dict[str, Any]:
    """A page of chats; the oldest unpaginated answer reads as one last page."""
    body = body if isinstance(body, dict) else {}
    chats = body.get("chats") or []
    return {
        **body,
        "chats": chats,
        "page": body.get("page", page),
        "total": body.get("total", len(chats)),
        "has_more": bool(body.get("has_more", False)),
    }


def _send_body(
    message: str, chat_id: str | None, integration_id: str | None, model: str | None, title: str | None
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
    return body


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

    def create(self, title: str | None = None, integration_id: str | None = None) -> dict[str, Any]:
        """Create an empty chat (``POST /v1/chats/create``); returns it, ``id`` included."""
        return self._create(title, integration_id, wait_out=True)

    def _create(self, title: str | None, integration_id: str | None, *, wait_out: bool) -> dict[str, Any]:
        integration_id = integration_id or self._client.settings.integration_id
        body = {k: v for k, v in (("title", title), ("integration_id", integration_id)) if v is not None}
        context = {"integration_id": integration_id}
        return dict(
            self._http.request(
                "POST", "/v1/chats/create", json=body, idempotent=False, context=context, wait_out=wait_out
            )
        )

    def list(self, page: int = 1) -> dict[str, Any]:
        """One page of chats, newest first: ``{"chats", "total", "page", "page_size", "has_more"}``."""
        return _chat_page(self._http.request("GET", "/v1/chats", params={"page": page}), page)

    def iter_all(self) -> Iterator[dict[str, Any]]:
        """Every chat, page after page."""
        page = 1
        while True:
            body = self.list(page)
            yield from body["chats"]
            if not body["has_more"] or not body["chats"]:
                return
            page += 1

    def get(self, chat_id: str) -> dict[str, Any]:
        """A chat with its messages, oldest first."""
        return dict(self._http.request("GET", f"/v1/chats/{_id(chat_id)}", context={"chat_id": chat_id}))

    def rename(self, chat_id: str, title: str) -> dict[str, Any]:
        return dict(
            self._http.request(
                "PUT", f"/v1/chats/{_id(chat_id)}", json={"title": title}, context={"chat_id": chat_id}
            )
        )

    def delete(self, chat_id: str) -> dict[str, Any]:
        """Delete a chat and all its messages (irreversible)."""
        body = self._http.request("DELETE", f"/v1/chats/{_id(chat_id)}", context={"chat_id": chat_id})
        return dict(body or {})

    def delete_many(self, chat_ids: Sequence[str]) -> dict[str, Any]:
        """Delete several chats: ``{"deleted", "not_found", "deleted_count"}``."""
        ids = [str(i) for i in chat_ids]
        if not ids:
            return {"deleted": [], "not_found": [], "deleted_count": 0}
        return dict(self._http.request("DELETE", "/v1/chats", json={"chat_ids": ids}))

    def delete_message(self, chat_id: str, message_id: str) -> None:
        """Delete a message and every later message of its chat (irreversible)."""
        self._http.request(
            "DELETE",
            f"/v1/chats/{_id(chat_id)}/messages/{_id(message_id)}",
            context={"chat_id": chat_id, "message_id": message_id},
        )

    def feedback(self, message_id: str, feedback: str, note: str | None = None) -> dict[str, Any]:
        """Thumbs up (``"positive"``) or down (``"negative"``) on an answer, with an optional note."""
        body = _feedback_body(feedback, note)
        return dict(
            self._http.request(
                "PATCH",
                f"/v1/chats/messages/{_id(message_id)}/feedback",
                json=body,
                context={"message_id": message_id},
            )
            or {}
        )

    def _start(self, title: str | None, integration_id: str | None) -> str | None:
        """A new chat's id, or ``None`` when the send itself must create it (implicit flow)."""
        if self._client._implicit_chats:
            return None
        try:
            # A refusal is raised, not slept through: the answer stream waits, showing that it waits.
            return str(self._create(title, integration_id, wait_out=False)["id"])
        except APIError as exc:
            if not _create_missing(exc):
                raise
            self._client._implicit_chats = True
            return None

    def stream(
        self,
        message: str,
        chat_id: str | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        title: str | None = None,
        *,
        on_open: Hook | None = None,
        on_end: Hook | None = None,
    ) -> AnswerStream:
        """Ask ``message`` (in ``chat_id``, or a new chat); use as ``with ... as stream:``."""
        s = self._client.settings
        integration_id, model = integration_id or s.integration_id, model or s.model
        _send_body(message, chat_id, integration_id, model, title)  # fail early, before any request

        def opener(answer: Answer) -> SSEEvents:
            cid = chat_id or answer.chat_id  # a chat created by an earlier, refused, try is reused
            if cid is None:
                cid = self._start(title, integration_id)
                answer.chat_id = cid
            body = _send_body(message, cid, integration_id, model, title if cid is None else None)
            context = {"chat_id": cid, "integration_id": integration_id}
            return SSEEvents(self._http.open_stream("POST", "/v1/chats", json=body, context=context))

        return AnswerStream(
            opener, question=message, on_open=on_open, on_end=on_end, max_retry_wait=s.max_retry_wait
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
        s = self._client.settings
        body = _edit_body(content, integration_id or s.integration_id, model or s.model)
        path = f"/v1/chats/{_id(chat_id)}/messages/{_id(message_id)}"

        def opener(answer: Answer) -> SSEEvents:
            answer.chat_id = chat_id
            context = {"chat_id": chat_id, "message_id": message_id}
            return SSEEvents(self._http.open_stream("PATCH", path, json=body, context=context))

        return AnswerStream(
            opener, question=content, on_open=on_open, on_end=on_end, max_retry_wait=s.max_retry_wait
        )


class AsyncChats:
    """``client.chats`` of :class:`AsyncTrellis`."""

    def __init__(self, client: AsyncTrellis) -> None:
        self._client = client
        self._http = client._http

    async def create(self, title: str | None = None, integration_id: str | None = None) -> dict[str, Any]:
        return await self._create(title, integration_id, wait_out=True)

    async def _create(
        self, title: str | None, integration_id: str | None, *, wait_out: bool
    ) -> dict[str, Any]:
        integration_id = integration_id or self._client.settings.integration_id
        body = {k: v for k, v in (("title", title), ("integration_id", integration_id)) if v is not None}
        return dict(
            await self._http.request(
                "POST",
                "/v1/chats/create",
                json=body,
                idempotent=False,
                context={"integration_id": integration_id},
                wait_out=wait_out,
            )
        )

    async def list(self, page: int = 1) -> dict[str, Any]:
        return _chat_page(await self._http.request("GET", "/v1/chats", params={"page": page}), page)

    async def iter_all(self) -> AsyncIterator[dict[str, Any]]:
        page = 1
        while True:
            body = await self.list(page)
            for chat in body["chats"]:
                yield chat
            if not body["has_more"] or not body["chats"]:
                return
            page += 1

    async def get(self, chat_id: str) -> dict[str, Any]:
        return dict(
            await self._http.request("GET", f"/v1/chats/{_id(chat_id)}", context={"chat_id": chat_id})
        )

    async def rename(self, chat_id: str, title: str) -> dict[str, Any]:
        return dict(
            await self._http.request(
                "PUT", f"/v1/chats/{_id(chat_id)}", json={"title": title}, context={"chat_id": chat_id}
            )
        )

    async def delete(self, chat_id: str) -> dict[str, Any]:
        body = await self._http.request("DELETE", f"/v1/chats/{_id(chat_id)}", context={"chat_id": chat_id})
        return dict(body or {})

    async def delete_many(self, chat_ids: Sequence[str]) -> dict[str, Any]:
        ids = [str(i) for i in chat_ids]
        if not ids:
            return {"deleted": [], "not_found": [], "deleted_count": 0}
        return dict(await self._http.request("DELETE", "/v1/chats", json={"chat_ids": ids}))

    async def delete_message(self, chat_id: str, message_id: str) -> None:
        await self._http.request(
            "DELETE",
            f"/v1/chats/{_id(chat_id)}/messages/{_id(message_id)}",
            context={"chat_id": chat_id, "message_id": message_id},
        )

    async def feedback(self, message_id: str, feedback: str, note: str | None = None) -> dict[str, Any]:
        body = _feedback_body(feedback, note)
        return dict(
            await self._http.request(
                "PATCH",
                f"/v1/chats/messages/{_id(message_id)}/feedback",
                json=body,
                context={"message_id": message_id},
            )
            or {}
        )

    async def _start(self, title: str | None, integration_id: str | None) -> str | None:
        if self._client._implicit_chats:
            return None
        try:
            return str((await self._create(title, integration_id, wait_out=False))["id"])
        except APIError as exc:
            if not _create_missing(exc):
                raise
            self._client._implicit_chats = True
            return None

    def stream(
        self,
        message: str,
        chat_id: str | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        title: str | None = None,
        *,
        on_open: Hook | None = None,
        on_end: Hook | None = None,
    ) -> AsyncAnswerStream:
        """Ask ``message``; use as ``async with ... as stream:``."""
        s = self._client.settings
        integration_id, model = integration_id or s.integration_id, model or s.model
        _send_body(message, chat_id, integration_id, model, title)

        async def opener(answer: Answer) -> AsyncSSEEvents:
            cid = chat_id or answer.chat_id  # a chat created by an earlier, refused, try is reused
            if cid is None:
                cid = await self._start(title, integration_id)
                answer.chat_id = cid
            body = _send_body(message, cid, integration_id, model, title if cid is None else None)
            context = {"chat_id": cid, "integration_id": integration_id}
            return AsyncSSEEvents(
                await self._http.open_stream("POST", "/v1/chats", json=body, context=context)
            )

        return AsyncAnswerStream(
            opener, question=message, on_open=on_open, on_end=on_end, max_retry_wait=s.max_retry_wait
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
        s = self._client.settings
        body = _edit_body(content, integration_id or s.integration_id, model or s.model)
        path = f"/v1/chats/{_id(chat_id)}/messages/{_id(message_id)}"

        async def opener(answer: Answer) -> AsyncSSEEvents:
            answer.chat_id = chat_id
            context = {"chat_id": chat_id, "message_id": message_id}
            return AsyncSSEEvents(await self._http.open_stream("PATCH", path, json=body, context=context))

        return AsyncAnswerStream(
            opener, question=content, on_open=on_open, on_end=on_end, max_retry_wait=s.max_retry_wait
        )
