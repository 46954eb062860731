"""The WebSocket endpoint ``/v1/chats/ws``: many turns over one socket, one at a time.

A connection moves through three states: ``accepted`` (no token yet), ``authenticated`` (by the
``Authorization`` header on the upgrade, or by a first ``authenticate`` frame), and closed. The
receive loop stays free while a turn runs (the turn is a task), so ``interrupt`` and ``ping`` are
answered at once. Frames out are ``{"event": NAME, "data": {...}}``, one turn's events in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from datetime import datetime, timezone
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from trellis_jupyter.events import Authenticated, Deleted, Event, Heartbeat, Interrupted, Pong

from . import tokens
from .context import Principal, ServerContext
from .turns import TurnSpec, prepare_turn, run_turn
from .wire import ApiError, error_event, parse_json, ws_frame

__all__ = ["websocket_endpoint"]

logger = logging.getLogger("trellis_jupyter.local")

CLOSE_UNAUTHORIZED = 4001
CLOSE_CONNECTION_CAP = 4429


class _Closed(Exception):
    """The connection was closed by us; leave the receive loop."""


class Connection:
    """One accepted socket."""

    def __init__(self, ctx: ServerContext, ws: WebSocket, heartbeat: bool) -> None:
        self.ctx = ctx
        self.ws = ws
        self.heartbeat = heartbeat
        self.principal: Principal | None = None
        self.turn: asyncio.Task[None] | None = None
        self.turn_spec: TurnSpec | None = None
        self._send_lock = asyncio.Lock()
        self._expiry: asyncio.Task[None] | None = None
        self._expired = False

    # --- sending ---------------------------------------------------------------------------

    async def send(self, event: Event) -> None:
        async with self._send_lock:
            if self.ws.application_state != WebSocketState.CONNECTED:
                return
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.ws.send_text(ws_frame(event))

    async def fail(self, message: str, code: str, *, retry_after: float | None = None) -> None:
        await self.send(error_event(message, code, retry_after=retry_after))

    async def close(self, code: int) -> None:
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.ws.close(code=code)
        raise _Closed

    # --- authentication --------------------------------------------------------------------

    async def authenticate(self, token: str | None) -> None:
        """Accept a token or close the socket (4001 bad token, 4429 over the connection cap)."""
        try:
            if not token:
                raise tokens.TokenError('Authenticate first: send {"action": "authenticate", "token": ...}.')
            principal = self.ctx.principal(token)
        except tokens.TokenError as exc:
            await self.fail(str(exc), "UNAUTHORIZED")
            await self.close(CLOSE_UNAUTHORIZED)
            return
        if self.principal is not None and principal.member_id != self.principal.member_id:
            # A socket speaks for one member for its whole life: another member opens their own.
            await self.fail(
                "This socket is authenticated as another member: open a new WebSocket for this token.",
                "UNAUTHORIZED",
            )
            return
        if self.principal is None:
            if not self.ctx.open_socket(principal.jti):
                cap = self.ctx.settings.ws_connection_cap
                await self.fail(
                    f"This token already has {cap} open WebSockets: "
                    "close one, or authenticate again for a new token.",
                    "WS_CONNECTION_CAP",
                )
                await self.close(CLOSE_CONNECTION_CAP)
            self.principal = principal
        else:
            # The same member with a fresh token: the socket lives on until the new expiry.
            self.principal = dataclasses.replace(self.principal, expires_at=principal.expires_at)
        self._watch_expiry()
        await self.send(Authenticated())

    def _watch_expiry(self) -> None:
        """End the socket's authentication when its token expires: an error frame, then 4001."""
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = asyncio.create_task(self._expire())

    async def _expire(self) -> None:
        assert self.principal is not None
        assert self.principal.expires_at is not None
        await asyncio.sleep(max(0.0, self.principal.expires_at - time.time()))
        self._expired = True
        await self.stop_turn()
        await self.fail("Token expired: call POST /v1/authenticate again for a new one.", "UNAUTHORIZED")
        with contextlib.suppress(_Closed):
            await self.close(CLOSE_UNAUTHORIZED)

    # --- the receive loop ------------------------------------------------------------------

    async def run(self) -> None:
        authorization = self.ws.headers.get("authorization")
        try:
            if authorization:
                scheme, _, token = authorization.partition(" ")
                await self.authenticate(token.strip() if scheme.lower() == "bearer" else None)
            while True:
                timeout = None if self.principal else self.ctx.settings.ws_auth_timeout
                try:
                    message = await asyncio.wait_for(self.ws.receive(), timeout)
                except asyncio.TimeoutError:
                    await self.fail(
                        "No authenticate frame arrived in time; reconnect and authenticate first.",
                        "UNAUTHORIZED",
                    )
                    await self.close(CLOSE_UNAUTHORIZED)
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode("utf-8", errors="replace")
                if self._expired:
                    break  # the expiry task has closed the socket; nothing more is read
                await self.handle(text or "")
        except (_Closed, WebSocketDisconnect):
            pass
        finally:
            if self._expiry is not None:
                self._expiry.cancel()
            await self.stop_turn()
            if self.principal is not None:
                self.ctx.close_socket(self.principal.jti)
            self.ctx.socket_send_limiter.forget(id(self))

    async def handle(self, text: str) -> None:
        try:
            frame = parse_json(text)
        except ApiError as exc:
            if exc.detail.startswith("The request body is not valid JSON"):
                frame = None
            else:
                await self.fail(exc.detail, "INVALID_FRAME")  # too deep, or not valid Unicode
                return
        if not isinstance(frame, dict):
            await self.fail("Each frame must be a JSON object with an 'action'.", "INVALID_FRAME")
            return
        action = frame.get("action")
        if not isinstance(action, str):
            await self.fail("The frame has no 'action' string.", "INVALID_FRAME")
            return
        if action == "authenticate":
            token = frame.get("token")
            await self.authenticate(token if isinstance(token, str) else None)
            return
        if self.principal is None:
            await self.fail(
                'Authenticate first: send {"action": "authenticate", "token": ...}.', "UNAUTHORIZED"
            )
            await self.close(CLOSE_UNAUTHORIZED)
            return
        handler = _ACTIONS.get(action)
        if handler is None:
            await self.fail(
                f"Unknown action '{action[:40]}': use send_message, edit_message, "
                "delete_message, interrupt or ping.",
                "UNKNOWN_ACTION",
            )
            return
        try:
            await handler(self, frame)
        except ApiError as exc:
            await self.fail(exc.detail, exc.code, retry_after=exc.retry_after)

    # --- actions ---------------------------------------------------------------------------

    def _busy(self) -> bool:
        return self.turn is not None and not self.turn.done()

    async def _refuse_if_busy(self) -> bool:
        """One turn at a time per socket: a send or edit during a turn gets TURN_IN_PROGRESS."""
        if not self._busy():
            return False
        await self.fail(
            "A turn is already running on this socket: wait for its message, or interrupt it.",
            "TURN_IN_PROGRESS",
        )
        return True

    async def _refuse_if_too_fast(self) -> bool:
        """Sends and edits over the socket's or the token's limits get RATE_LIMIT, nothing done."""
        assert self.principal is not None
        wait = self.ctx.socket_send_limiter.hit(id(self))
        if wait is None:
            wait = self.ctx.token_send_limiter.hit(self.principal.jti)
        if wait is None:
            return False
        await self.fail(
            f"Too many messages: wait {wait:.1f} s before sending again.", "RATE_LIMIT", retry_after=wait
        )
        return True

    async def send_message(self, frame: dict[str, Any]) -> None:
        assert self.principal is not None
        if await self._refuse_if_busy() or await self._refuse_if_too_fast():
            return
        await self.start_turn(prepare_turn(self.ctx, self.principal, frame))

    async def edit_message(self, frame: dict[str, Any]) -> None:
        assert self.principal is not None
        if await self._refuse_if_busy() or await self._refuse_if_too_fast():
            return
        chat_id, message_id = _ids(frame)
        await self.start_turn(prepare_turn(self.ctx, self.principal, frame, edit=(chat_id, message_id)))

    async def delete_message(self, frame: dict[str, Any]) -> None:
        assert self.principal is not None
        chat_id, message_id = _ids(frame)
        if self.ctx.store.get_chat(self.principal.member_id, chat_id) is None:
            raise ApiError(404, "Chat not found: it does not exist or is not yours.", "CHAT_NOT_FOUND")
        if not self.ctx.store.delete_messages_from(chat_id, message_id):
            raise ApiError(404, "Message not found in this chat.", "MESSAGE_NOT_FOUND")
        await self.send(Deleted(message_id=message_id))

    async def interrupt(self, frame: dict[str, Any]) -> None:
        if not self._busy() or self.turn_spec is None:
            await self.fail(
                "No answer is running on this socket, so there is nothing to interrupt.", "NO_ACTIVE_TURN"
            )
            return
        chat_id = self.turn_spec.chat_id
        await self.stop_turn()
        await self.send(Interrupted(status="interrupted", chat_id=chat_id))

    async def ping(self, frame: dict[str, Any]) -> None:
        await self.send(Pong())

    # --- turns -----------------------------------------------------------------------------

    async def start_turn(self, spec: TurnSpec) -> None:
        await self.ctx.claim_chat_soon(spec.chat_id)  # TURN_IN_PROGRESS while a turn runs in it elsewhere
        self.turn_spec = spec
        self.turn = asyncio.create_task(self._turn(spec))

    async def _turn(self, spec: TurnSpec) -> None:
        beat = asyncio.create_task(self._heartbeat()) if self.heartbeat else None
        try:
            await run_turn(self.ctx, spec, self.send)
        finally:
            self.ctx.release_chat(spec.chat_id)
            if beat is not None:
                beat.cancel()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.ctx.settings.heartbeat_interval)
            await self.send(Heartbeat(timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds")))

    async def stop_turn(self) -> None:
        """Cancel the running turn (nothing is saved for its answer) and wait until it stopped."""
        turn = self.turn
        if turn is None or turn.done():
            return
        turn.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await turn


def _ids(frame: dict[str, Any]) -> tuple[str, str]:
    chat_id, message_id = frame.get("chat_id"), frame.get("message_id")
    if not isinstance(chat_id, str) or not chat_id:
        raise ApiError(400, "The frame needs a 'chat_id' string.", "MISSING_CHAT_ID")
    if not isinstance(message_id, str) or not message_id:
        raise ApiError(400, "The frame needs a 'message_id' string.", "INVALID_REQUEST")
    return chat_id, message_id


_ACTIONS = {
    "send_message": Connection.send_message,
    "edit_message": Connection.edit_message,
    "delete_message": Connection.delete_message,
    "interrupt": Connection.interrupt,
    "ping": Connection.ping,
}


async def websocket_endpoint(ws: WebSocket) -> None:
    """``/v1/chats/ws``; a token in the query string is refused with HTTP 403 (it would leak)."""
    if "token" in ws.query_params:
        await ws.close(code=1008)  # before accept: uvicorn answers the upgrade with HTTP 403
        return
    await ws.accept()
    heartbeat = ws.query_params.get("heartbeat", "").lower() in ("1", "true", "yes")
    await Connection(ws.app.state.ctx, ws, heartbeat).run()
