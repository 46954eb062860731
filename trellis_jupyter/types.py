"""Typed results of the REST calls, and the :class:`Question` a send takes: frozen dataclasses.

No I/O happens here. Each type has ``from_data(mapping)``, tolerant as the events are (section 0 of
the API notes): a missing field reads as ``None`` (or an empty list), a field of an older API
generation is read too (a saved query's ``query`` for ``prompt``), and the whole payload is kept in
``raw``, so anything the server adds stays reachable (``chat.raw["organization_id"]``). ``raw`` and
presigned URLs are left out of reprs: a presigned URL is a credential for one file.

The chat results (:class:`Chat`, :class:`ChatSummary`, :class:`ChatPage`, :class:`ChatMessage`)
were plain dicts before; item access (``chat["id"]``, ``page["chats"]``) still reads their ``raw``
payload, so code written for the dicts keeps working. New code reads the attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Chat",
    "ChatMessage",
    "ChatPage",
    "ChatSummary",
    "Question",
    "SavedQuery",
    "Upload",
]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return int(value)
    except (OverflowError, ValueError):  # inf, nan
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSON list (anything else in it is skipped)."""
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        return ()
    return tuple(str(item) for item in value if item is not None)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file attached to a chat (``POST /v1/chats/uploads``, ``GET /v1/chats/{id}/uploads``).

    ``message_id`` stays ``None`` until a question links the upload (``upload_ids``).
    """

    id: str
    filename: str
    mime_type: str | None = None
    file_size: int | None = None
    upload_type: str | None = None
    created_at: str | None = None
    message_id: str | None = None
    chat_id: str | None = None
    presigned_url: str | None = field(default=None, repr=False)
    storage_path: str | None = field(default=None, repr=False)  # Get Chat's: the server's own key
    tables: tuple[str, ...] = ()  # the local server: the tables a CSV or XLSX upload became
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], chat_id: str | None = None) -> Upload:
        """One upload object; ``chat_id`` is the enclosing response's when the object has none."""
        return cls(
            id=str(data.get("id", "")),
            filename=str(data.get("filename", "")),
            mime_type=_str(data.get("mime_type")),
            file_size=_int(data.get("file_size")),
            upload_type=_str(data.get("upload_type")),
            created_at=_str(data.get("created_at")),
            message_id=_str(data.get("message_id")),
            chat_id=_str(data.get("chat_id", chat_id)),
            presigned_url=_str(data.get("presigned_url")),
            storage_path=_str(data.get("storage_path")),
            tables=_strings(data.get("tables")),
            raw=dict(data),
        )

    @classmethod
    def list_from_data(cls, body: Any) -> list[Upload]:
        """The ``uploads`` of an upload or list-uploads response (a bare list is read too)."""
        if isinstance(body, Mapping):
            chat_id = _str(body.get("chat_id"))
            return [cls.from_data(item, chat_id) for item in _items(body.get("uploads"))]
        return [cls.from_data(item) for item in _items(body)]


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """A saved query (``/v1/queries``): a prompt, optional SQL with ``{{name}}`` placeholders.

    ``parameters`` are the placeholder names the server extracted from ``sql``. An older
    generation's ``query`` (the natural-language text) reads as ``prompt``.
    """

    id: str
    title: str
    prompt: str
    sql: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    created_at: str | None = None
    updated_at: str | None = None
    organization_id: str | None = None
    last_updated_by: str | None = None  # member id of the last editor (the creator at first)
    last_updated_by_name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SavedQuery:
        prompt = data.get("prompt", data.get("query"))
        return cls(
            id=str(data.get("id", "")),
            title=str(data.get("title", "")),
            prompt="" if prompt is None else str(prompt),
            sql=_str(data.get("sql")),
            description=_str(data.get("description")),
            keywords=_strings(data.get("keywords")),
            parameters=_strings(data.get("parameters")),
            created_at=_str(data.get("created_at")),
            updated_at=_str(data.get("updated_at")),
            organization_id=_str(data.get("organization_id")),
            last_updated_by=_str(data.get("last_updated_by")),
            last_updated_by_name=_str(data.get("last_updated_by_name")),
            raw=dict(data),
        )

    @classmethod
    def list_from_data(cls, body: Any) -> list[SavedQuery]:
        """The ``queries`` of ``GET /v1/queries`` (a bare list is read too)."""
        items = body.get("queries") if isinstance(body, Mapping) else body
        return [cls.from_data(item) for item in _items(items)]


class _ReadsAsDict(Mapping[str, Any]):
    """Item access on the payload as the server sent it: ``chat["id"]``, as when results were dicts."""

    __slots__ = ()
    raw: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


@dataclass(frozen=True, slots=True)
class ChatSummary(_ReadsAsDict):
    """One chat of ``GET /v1/chats``: ``timestamp`` is its latest activity (ISO 8601)."""

    id: str
    title: str | None = None
    preview: str | None = None
    timestamp: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ChatSummary:
        return cls(
            id=str(data.get("id", "")),
            title=_str(data.get("title")),
            preview=_str(data.get("preview")),
            timestamp=_str(data.get("timestamp", data.get("created_at"))),
            metadata=dict(_mapping(data.get("metadata"))),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class ChatPage(_ReadsAsDict):
    """A page of ``GET /v1/chats``, newest first; an older unpaginated answer reads as one last page."""

    chats: list[ChatSummary]
    total: int
    page: int
    has_more: bool
    page_size: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_data(cls, body: Any, page: int = 1) -> ChatPage:
        data = _mapping(body)
        chats = [ChatSummary.from_data(item) for item in _items(data.get("chats"))]
        total = _int(data.get("total"))
        number = _int(data.get("page"))
        total = total if total is not None else len(chats)
        number = number if number is not None else page
        has_more = bool(data.get("has_more", False))
        # raw keeps every key the dict of older versions had, an unpaginated answer included.
        raw = {**data, "chats": [c.raw for c in chats], "total": total, "page": number, "has_more": has_more}
        return cls(
            chats=chats,
            total=total,
            page=number,
            has_more=has_more,
            page_size=_int(data.get("page_size")),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class ChatMessage(_ReadsAsDict):
    """One message of a chat's history: ``role`` is ``"user"`` or ``"assistant"``.

    ``metadata`` holds what the server keeps with it: ``feedback``, ``uploads``, and on the local
    server the answer's ``visualizations``.
    """

    id: str
    role: str
    content: str
    timestamp: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict, repr=False)  # uploads' presigned URLs
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def feedback(self) -> str | None:
        return _str(self.metadata.get("feedback"))

    @property
    def uploads(self) -> list[Upload]:
        return [Upload.from_data(item) for item in _items(self.metadata.get("uploads"))]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ChatMessage:
        content = data.get("content")
        return cls(
            id=str(data.get("id", "")),
            role=str(data.get("role", "")),
            content="" if content is None else str(content),
            timestamp=_str(data.get("timestamp", data.get("created_at"))),
            metadata=dict(_mapping(data.get("metadata"))),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Chat(_ReadsAsDict):
    """A chat: from ``POST /v1/chats/create`` (no messages yet), or ``GET /v1/chats/{id}`` with them."""

    id: str
    title: str | None = None
    preview: str | None = None
    created_at: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Chat:
        return cls(
            id=str(data.get("id", "")),
            title=_str(data.get("title")),
            preview=_str(data.get("preview")),
            created_at=_str(data.get("created_at", data.get("timestamp"))),
            messages=[ChatMessage.from_data(item) for item in _items(data.get("messages"))],
            raw=dict(data),
        )


@dataclass(frozen=True)
class Question:
    """A question to send and what goes with it: the arguments of ``stream()``, in one value."""

    message: str
    chat_id: str | None = None  # None: a new chat
    integration_id: str | None = None  # None: the client's default
    model: str | None = None  # None: the client's default
    title: str | None = None  # a new chat's title
    upload_ids: Sequence[str] | None = None  # this chat's uploads to attach
    saved_query_id: str | None = None  # run this saved query instead of asking the model
    parameters: Mapping[str, Any] | None = None  # the saved query's {{name}} values


def chat_title(question: str) -> str | None:
    """The title a chat started for ``question`` gets: its first line, at most 60 characters.

    Create Chat would otherwise title it with a timestamp, and a list of chats named by the
    minute they started cannot be told apart. ``None`` for a question with no words.
    """
    line = next((ln.strip() for ln in question.splitlines() if ln.strip()), "")
    if len(line) <= 60:
        return line or None
    cut = line[:59]
    return (cut.rsplit(" ", 1)[0] if " " in cut[20:] else cut).rstrip(" ,.;:-") + "…"
