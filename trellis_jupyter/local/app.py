"""The Starlette application: every REST route of the Trellis chat API, and the WebSocket.

Errors answer ``{"detail": "<one sentence>", "code": "<CODE>"}`` with the documented status.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from . import query_routes, upload_routes
from .context import DEFAULT_MODEL, MODELS, Principal, ServerContext
from .sse_response import EventStreamResponse
from .store import ChatRow
from .turns import check_title, create_chat, prepare_turn
from .wire import ApiError, new_debug_id, parse_json
from .ws_endpoint import websocket_endpoint

__all__ = ["build_app"]

logger = logging.getLogger("trellis_jupyter.local")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_PAGE = 1_000_000
_MAX_EMAIL = 320  # RFC 5321's longest address


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def _principal(request: Request) -> Principal:
    return _ctx(request).principal_from_header(request.headers.get("authorization"))


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"The request body is larger than the server's {limit:,}-byte limit: send less.",
        "PAYLOAD_TOO_LARGE",
    )


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object of a request, read up to ``max_body_bytes`` (413 beyond: never held whole)."""
    limit = _ctx(request).settings.max_body_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    body = parse_json(raw) if raw.strip() else None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", "INVALID_REQUEST")
    return body


def _chat_summary(chat: ChatRow) -> dict[str, Any]:
    return {
        "id": chat.id,
        "title": chat.title,
        "preview": chat.preview,
        "timestamp": chat.updated_at,
        "metadata": {"source_type": "database", "integration_id": chat.integration_id},
    }


def _own_chat(request: Request, principal: Principal) -> ChatRow:
    chat = _ctx(request).store.get_chat(principal.member_id, request.path_params["chat_id"])
    if chat is None:
        raise ApiError(404, "Chat not found: it does not exist or is not yours.", "CHAT_NOT_FOUND")
    return chat


# --- routes -----------------------------------------------------------------------------------


def _refuse_key(ctx: ServerContext, address: str, detail: str) -> ApiError:
    """A 401 for a wrong or missing key, counted against the address (429 once over the limit)."""
    wait = ctx.auth_failure_limiter.hit(address)
    if wait is not None:
        return _auth_limited(wait)
    return ApiError(401, detail, "UNAUTHORIZED")


def _auth_limited(wait: float) -> ApiError:
    return ApiError(
        429,
        f"Too many failed authentications from this address: wait {wait:.0f} s and check the API key.",
        "RATE_LIMIT",
        retry_after=wait,
    )


async def authenticate(request: Request) -> Response:
    ctx = _ctx(request)
    address = request.client.host if request.client else "unknown"
    # Guessing keys is slowed per address: once its failures reach the limit, every attempt from
    # it (a right key included) waits, so a guess cannot tell itself apart by the answer.
    wait = ctx.auth_failure_limiter.blocked(address)
    if wait is not None:
        raise _auth_limited(wait)
    key = request.headers.get("x-api-key")
    if not key:
        raise _refuse_key(ctx, address, "Missing X-API-Key header")
    if not key.isascii() or not hmac.compare_digest(key.encode("ascii"), ctx.api_key.encode("utf-8")):
        raise _refuse_key(ctx, address, "Invalid API key")
    body = await _body(request)
    email = body.get("email")
    if not isinstance(email, str) or len(email) > _MAX_EMAIL or not _EMAIL.match(email.strip()):
        raise ApiError(400, "Invalid email format", "INVALID_REQUEST")
    token, claims = ctx.mint_token(email)
    return JSONResponse(
        {
            "token": token,
            "member_id": claims["sub"],
            "organization_id": claims["org"],
            "expires_at": datetime.fromtimestamp(claims["exp"], timezone.utc).isoformat(),
        }
    )


async def models(request: Request) -> Response:
    _principal(request)
    return JSONResponse({"models": MODELS, "default": DEFAULT_MODEL})


async def integrations(request: Request) -> Response:
    _principal(request)
    ctx = _ctx(request)
    listed = [
        {**item, "example_questions": await _examples(db.path)}
        for item, db in zip(ctx.integrations, ctx.databases, strict=True)
    ]
    return JSONResponse({"integrations": listed})


async def _examples(path: str) -> list[str]:
    """A few questions this server answers on a database (an extra field: chat widgets show them
    before the first question; the same ones its polite declines list)."""
    from .planner.describe import example_questions
    from .planner.schema import load_schema

    try:
        return example_questions(await asyncio.to_thread(load_schema, path))
    except Exception:  # an unreadable database still lists; it says so when asked
        return []


async def create(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    body = await _body(request)
    title, integration_id = body.get("title"), body.get("integration_id")
    if title is not None and not isinstance(title, str):
        raise ApiError(400, "'title' must be a string.", "INVALID_REQUEST")
    if integration_id is not None and not isinstance(integration_id, str):
        raise ApiError(400, "'integration_id' must be a string.", "INVALID_REQUEST")
    chat = create_chat(ctx, principal, title, integration_id)
    return JSONResponse(
        {
            "id": chat.id,
            "organization_id": chat.organization_id,
            "member_id": chat.member_id,
            "title": chat.title,
            "created_at": chat.created_at,
            "integration_id": chat.integration_id,
        },
        status_code=201,
    )


async def list_chats(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        raise ApiError(400, "'page' must be a whole number.", "INVALID_REQUEST") from None
    if page > _MAX_PAGE:
        # SQLite's OFFSET is a 64-bit integer: a larger page would overflow it.
        raise ApiError(400, f"'page' must be between 1 and {_MAX_PAGE:,}.", "INVALID_REQUEST")
    size = ctx.settings.page_size
    chats, total = ctx.store.list_chats(principal.member_id, page, size)
    return JSONResponse(
        {
            "chats": [_chat_summary(c) for c in chats],
            "total": total,
            "page": page,
            "page_size": size,
            "has_more": page * size < total,
        }
    )


def _check_send_rate(ctx: ServerContext, principal: Principal) -> None:
    """A send or an edit over the token's send limits: 429 with Retry-After, nothing done."""
    wait = ctx.token_send_limiter.hit(principal.jti)
    if wait is not None:
        raise ApiError(
            429, f"Too many messages: wait {wait:.0f} s and try again.", "RATE_LIMIT", retry_after=wait
        )


async def send(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    body = await _body(request)
    _check_send_rate(ctx, principal)
    spec = prepare_turn(ctx, principal, body)
    await ctx.claim_chat_soon(spec.chat_id)  # 409 TURN_IN_PROGRESS while another turn runs in it
    return EventStreamResponse(ctx, spec)


async def delete_many(request: Request) -> Response:
    principal = _principal(request)
    body = await _body(request)
    ids = body.get("chat_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "'chat_ids' must be a non-empty list of chat id strings.", "INVALID_REQUEST")
    deleted, not_found = _ctx(request).delete_chats(principal.member_id, list(dict.fromkeys(ids)))
    return JSONResponse({"deleted": deleted, "not_found": not_found, "deleted_count": len(deleted)})


async def get_chat(request: Request) -> Response:
    chat = _own_chat(request, _principal(request))
    store = _ctx(request).store
    messages = store.messages(chat.id)
    uploads = {row.id: row for row in store.uploads(chat.id)}
    return JSONResponse(
        {
            "id": chat.id,
            "title": chat.title,
            "preview": chat.preview,
            "created_at": chat.created_at,
            "timestamp": chat.updated_at,
            "metadata": {"source_type": "database", "integration_id": chat.integration_id},
            "messages": [upload_routes.history_message(m, uploads) for m in messages],
        }
    )


async def rename(request: Request) -> Response:
    principal = _principal(request)
    _own_chat(request, principal)
    body = await _body(request)
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ApiError(400, "The request body needs a non-empty 'title' string.", "INVALID_REQUEST")
    check_title(_ctx(request), title.strip())
    chat = _ctx(request).store.rename_chat(principal.member_id, request.path_params["chat_id"], title.strip())
    if chat is None:
        raise ApiError(404, "Chat not found: it does not exist or is not yours.", "CHAT_NOT_FOUND")
    return JSONResponse(
        {"id": chat.id, "title": chat.title, "preview": chat.preview, "timestamp": chat.updated_at}
    )


async def delete_chat(request: Request) -> Response:
    principal = _principal(request)
    deleted, _ = _ctx(request).delete_chats(principal.member_id, [request.path_params["chat_id"]])
    if not deleted:
        raise ApiError(404, "Chat not found: it does not exist or is not yours.", "CHAT_NOT_FOUND")
    return JSONResponse({"message": "Chat deleted successfully"})


async def delete_message(request: Request) -> Response:
    chat = _own_chat(request, _principal(request))
    if not _ctx(request).store.delete_messages_from(chat.id, request.path_params["message_id"]):
        raise ApiError(404, "Message not found in this chat.", "MESSAGE_NOT_FOUND")
    return Response(status_code=204)


async def edit_message(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    body = await _body(request)
    edit = (request.path_params["chat_id"], request.path_params["message_id"])
    _check_send_rate(ctx, principal)
    spec = prepare_turn(ctx, principal, body, edit=edit)
    await ctx.claim_chat_soon(spec.chat_id)
    return EventStreamResponse(ctx, spec)


async def feedback(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    body = await _body(request)
    value, note = body.get("feedback"), body.get("note")
    if value not in ("positive", "negative"):
        raise ApiError(400, '\'feedback\' must be "positive" or "negative".', "INVALID_REQUEST")
    if note is not None and not isinstance(note, str):
        raise ApiError(400, "'note' must be a string.", "INVALID_REQUEST")
    message = ctx.store.find_message(principal.member_id, request.path_params["message_id"])
    if message is None:
        raise ApiError(404, "Message not found: it does not exist or is not yours.", "MESSAGE_NOT_FOUND")
    metadata = ctx.store.set_feedback(message.id, value, note)
    return JSONResponse({"id": message.id, "metadata": metadata})


# --- errors -----------------------------------------------------------------------------------


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return JSONResponse(
            {"detail": f"No such endpoint: {request.url.path}.", "code": "NOT_FOUND"}, status_code=404
        )
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
        return JSONResponse(
            {"detail": detail, "code": "METHOD_NOT_ALLOWED"}, status_code=405, headers=exc.headers
        )
    return JSONResponse({"detail": str(exc.detail), "code": "INVALID_REQUEST"}, status_code=exc.status_code)


async def _internal_error(request: Request, exc: Exception) -> Response:
    debug_id = new_debug_id()
    logger.error("%s %s failed (debug id %s)", request.method, request.url.path, debug_id, exc_info=exc)
    detail = f"The local server failed (debug id {debug_id}); try again, and report it if it repeats."
    return JSONResponse({"detail": detail, "code": "INTERNAL"}, status_code=500)


def build_app(ctx: ServerContext) -> Any:
    """The ASGI app serving ``ctx``."""
    routes = [
        Route("/v1/authenticate", authenticate, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/integrations", integrations, methods=["GET"]),
        Route("/v1/chats/create", create, methods=["POST"]),
        Route("/v1/chats/uploads", upload_routes.upload, methods=["POST"]),
        Route("/v1/chats/uploads/{upload_id}", upload_routes.delete_upload, methods=["DELETE"]),
        Route("/v1/chats/{chat_id}/uploads", upload_routes.list_uploads, methods=["GET"]),
        Route("/v1/queries", query_routes.list_queries, methods=["GET"]),
        Route("/v1/queries", query_routes.create_query, methods=["POST"]),
        Route("/v1/queries/{query_id}", query_routes.get_query, methods=["GET"]),
        Route("/v1/queries/{query_id}", query_routes.update_query, methods=["PATCH"]),
        Route("/v1/queries/{query_id}", query_routes.delete_query, methods=["DELETE"]),
        WebSocketRoute("/v1/chats/ws", websocket_endpoint),
        Route("/v1/chats", list_chats, methods=["GET"]),
        Route("/v1/chats", send, methods=["POST"]),
        Route("/v1/chats", delete_many, methods=["DELETE"]),
        Route("/v1/chats/messages/{message_id}/feedback", feedback, methods=["PATCH"]),
        Route("/v1/chats/{chat_id}", get_chat, methods=["GET"]),
        Route("/v1/chats/{chat_id}", rename, methods=["PUT"]),
        Route("/v1/chats/{chat_id}", delete_chat, methods=["DELETE"]),
        Route("/v1/chats/{chat_id}/messages/{message_id}", delete_message, methods=["DELETE"]),
        Route("/v1/chats/{chat_id}/messages/{message_id}", edit_message, methods=["PATCH"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _internal_error},
    )
    app.state.ctx = ctx
    return _Counted(app, ctx)


class _Counted:
    """Counts every HTTP request and WebSocket the server receives (``ctx.requests``; tests read it)."""

    def __init__(self, app: Starlette, ctx: ServerContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            self.ctx.requests += 1
        await self.app(scope, receive, send)
