"""``client.queries``: saved queries (a prompt, optionally SQL with ``{{name}}`` placeholders).

::

    q = client.queries.create(title="Top customers", prompt="Top {{limit}} customers in {{year}}",
                              sql="SELECT ... WHERE strftime('%Y', ordered_at) = {{year}} LIMIT {{limit}}")
    q.parameters                          # ('year', 'limit'), extracted by the server
    with client.chats.stream("Top customers", saved_query_id=q.id,
                             parameters={"year": 2025, "limit": 10}) as stream: ...

The server binds each value as a SQL parameter (never pasted into the SQL text); a missing value
is a 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._error_text import CallContext
from .errors import ConfigurationError
from .types import SavedQuery

if TYPE_CHECKING:
    from .client import AsyncTrellis, Trellis

__all__ = ["AsyncQueries", "Queries"]

_UNSET: Any = object()


def _id(value: str) -> str:
    return quote(str(value), safe="")


def _fields(
    title: Any, prompt: Any, sql: Any, description: Any, keywords: Any, *, creating: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in (("title", title), ("prompt", prompt), ("sql", sql), ("description", description)):
        if value is _UNSET:
            continue
        if creating and value is None and name in ("sql", "description"):
            continue
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"'{name}' must be a string.")
        if name in ("title", "prompt") and not (value or "").strip():
            raise ConfigurationError(f"A saved query needs a non-empty '{name}'.")
        body[name] = value
    if keywords is not _UNSET and not (creating and keywords is None):
        if isinstance(keywords, str) or not isinstance(keywords, Sequence):
            raise ConfigurationError("'keywords' must be a list of strings.")
        body["keywords"] = [str(k) for k in keywords]
    if not creating and not body:
        raise ConfigurationError("Nothing to update: give title, prompt, sql, description or keywords.")
    return body


def _queries(body: Any) -> list[SavedQuery]:
    return SavedQuery.list_from_data(body)


def _one(body: Any) -> SavedQuery:
    return SavedQuery.from_data(body if isinstance(body, dict) else {})


class Queries:
    """``client.queries`` of :class:`~trellis_jupyter.Trellis`."""

    def __init__(self, client: Trellis) -> None:
        self._http = client._http

    def list(self) -> list[SavedQuery]:
        """Every saved query of the organization."""
        return _queries(self._http.request("GET", "/v1/queries"))

    def get(self, query_id: str) -> SavedQuery:
        return _one(
            self._http.request("GET", f"/v1/queries/{_id(query_id)}", context=CallContext(query_id=query_id))
        )

    def create(
        self,
        *,
        title: str,
        prompt: str,
        sql: str | None = None,
        description: str | None = None,
        keywords: Sequence[str] | None = None,
    ) -> SavedQuery:
        """Save a query; ``sql`` may hold ``{{name}}`` placeholders (listed in ``parameters``)."""
        body = _fields(title, prompt, sql, description, keywords, creating=True)
        return _one(self._http.request("POST", "/v1/queries", json=body, idempotent=False))

    def update(
        self,
        query_id: str,
        *,
        title: str = _UNSET,
        prompt: str = _UNSET,
        sql: str | None = _UNSET,
        description: str | None = _UNSET,
        keywords: Sequence[str] = _UNSET,
    ) -> SavedQuery:
        """Change the fields given (``keywords=[]`` clears them); returns the whole updated query."""
        body = _fields(title, prompt, sql, description, keywords, creating=False)
        return _one(
            self._http.request(
                "PATCH", f"/v1/queries/{_id(query_id)}", json=body, context=CallContext(query_id=query_id)
            )
        )

    def delete(self, query_id: str) -> None:
        self._http.request("DELETE", f"/v1/queries/{_id(query_id)}", context=CallContext(query_id=query_id))


class AsyncQueries:
    """``client.queries`` of :class:`~trellis_jupyter.AsyncTrellis`."""

    def __init__(self, client: AsyncTrellis) -> None:
        self._http = client._http

    async def list(self) -> list[SavedQuery]:
        return _queries(await self._http.request("GET", "/v1/queries"))

    async def get(self, query_id: str) -> SavedQuery:
        return _one(
            await self._http.request(
                "GET", f"/v1/queries/{_id(query_id)}", context=CallContext(query_id=query_id)
            )
        )

    async def create(
        self,
        *,
        title: str,
        prompt: str,
        sql: str | None = None,
        description: str | None = None,
        keywords: Sequence[str] | None = None,
    ) -> SavedQuery:
        body = _fields(title, prompt, sql, description, keywords, creating=True)
        return _one(await self._http.request("POST", "/v1/queries", json=body, idempotent=False))

    async def update(
        self,
        query_id: str,
        *,
        title: str = _UNSET,
        prompt: str = _UNSET,
        sql: str | None = _UNSET,
        description: str | None = _UNSET,
        keywords: Sequence[str] = _UNSET,
    ) -> SavedQuery:
        body = _fields(title, prompt, sql, description, keywords, creating=False)
        return _one(
            await self._http.request(
                "PATCH", f"/v1/queries/{_id(query_id)}", json=body, context=CallContext(query_id=query_id)
            )
        )

    async def delete(self, query_id: str) -> None:
        await self._http.request(
            "DELETE", f"/v1/queries/{_id(query_id)}", context=CallContext(query_id=query_id)
        )
