"""The saved-query routes under ``/v1/queries``: list, get, create, update (PATCH), delete.

Saved queries belong to the organization; ``parameters`` is read-only, extracted from the
``{{name}}`` placeholders of ``sql`` whenever it changes (see :mod:`.savedsql`).
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .context import Principal, ServerContext
from .savedsql import PlaceholderError, bind_sql, parameters_of
from .store import utc_now
from .wire import ApiError

__all__ = ["create_query", "delete_query", "get_query", "list_queries", "update_query"]

_TEXT_FIELDS = ("title", "prompt", "sql", "description")
MAX_TEXT = 100_000


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def _principal(request: Request) -> Principal:
    return _ctx(request).principal_from_header(request.headers.get("authorization"))


async def _body(request: Request) -> dict[str, Any]:
    from .app import _body as read_body  # the one JSON reader, with the server's body cap (413)

    return await read_body(request)


def _apply(query: dict[str, Any], body: dict[str, Any]) -> None:
    """Set the fields ``body`` gives on ``query``, checking each; ``parameters`` follow ``sql``."""
    for name in _TEXT_FIELDS:
        if name not in body:
            continue
        value = body[name]
        if value is None and name in ("sql", "description"):
            query[name] = None
            continue
        if not isinstance(value, str):
            raise ApiError(400, f"'{name}' must be a string.", "INVALID_REQUEST")
        if name in ("title", "prompt") and not value.strip():
            raise ApiError(400, f"'{name}' must not be empty.", "INVALID_REQUEST")
        if len(value) > MAX_TEXT:
            raise ApiError(400, f"'{name}' is longer than {MAX_TEXT:,} characters.", "INVALID_REQUEST")
        query[name] = value
    if "keywords" in body:
        keywords = body["keywords"]
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise ApiError(400, "'keywords' must be a list of strings.", "INVALID_REQUEST")
        query["keywords"] = keywords
    sql = query.get("sql")
    if sql is not None:
        try:
            bind_sql(sql)
        except PlaceholderError as exc:
            raise ApiError(400, str(exc), "INVALID_REQUEST") from None
    query["parameters"] = parameters_of(sql)


def _own(ctx: ServerContext, principal: Principal, query_id: str) -> dict[str, Any]:
    query = ctx.store.saved_query(principal.organization_id, query_id)
    if query is None:
        raise ApiError(
            404, "Saved query not found: list the valid ids with GET /v1/queries.", "QUERY_NOT_FOUND"
        )
    return query


async def list_queries(request: Request) -> Response:
    principal = _principal(request)
    return JSONResponse({"queries": _ctx(request).store.saved_queries(principal.organization_id)})


async def get_query(request: Request) -> Response:
    principal = _principal(request)
    return JSONResponse(_own(_ctx(request), principal, request.path_params["query_id"]))


async def create_query(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    body = await _body(request)
    for name in ("title", "prompt"):
        if not isinstance(body.get(name), str):
            raise ApiError(400, f"A saved query needs a '{name}' string.", "INVALID_REQUEST")
    now = utc_now()
    query: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "organization_id": principal.organization_id,
        "title": "",
        "description": None,
        "prompt": "",
        "sql": None,
        "keywords": [],
        "parameters": [],
        "last_updated_by": principal.member_id,
        "created_at": now,
        "updated_at": now,
    }
    _apply(query, body)
    ctx.store.put_saved_query(query)
    return JSONResponse(query, status_code=201)


async def update_query(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    query = _own(ctx, principal, request.path_params["query_id"])
    _apply(query, await _body(request))
    query["last_updated_by"] = principal.member_id
    query["updated_at"] = utc_now()
    ctx.store.put_saved_query(query)
    return JSONResponse(query)


async def delete_query(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    if not ctx.store.delete_saved_query(principal.organization_id, request.path_params["query_id"]):
        raise ApiError(
            404, "Saved query not found: list the valid ids with GET /v1/queries.", "QUERY_NOT_FOUND"
        )
    return JSONResponse({"message": "Query deleted successfully"})
