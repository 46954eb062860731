"""The SSE response of a turn: each event written in one chunk as soon as it exists.

While the turn runs, a ``: keepalive`` comment goes out every ``keepalive_interval`` seconds of
silence. A client that disconnects interrupts the turn (uvicorn drops writes to a closed
connection silently, so the response watches ``http.disconnect`` itself).
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from trellis_jupyter.events import Event

from .context import ServerContext
from .turns import TurnSpec, run_turn
from .wire import sse_chunk

__all__ = ["EventStreamResponse"]

_KEEPALIVE = b": keepalive\n\n"


class EventStreamResponse(Response):
    """``text/event-stream`` of one turn."""

    media_type = "text/event-stream"

    def __init__(self, ctx: ServerContext, spec: TurnSpec) -> None:
        # Not Response.__init__: it would send a Content-Length of the (empty) body.
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        self.ctx = ctx
        self.spec = spec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._stream(receive, send)
        finally:
            self.ctx.release_chat(self.spec.chat_id)  # claimed by the route: the next turn may start

    async def _stream(self, receive: Receive, send: Send) -> None:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        left = False

        async def emit(event: Event) -> None:
            queue.put_nowait(sse_chunk(event))

        async def produce() -> None:
            try:
                await run_turn(self.ctx, self.spec, emit)
            finally:
                queue.put_nowait(None)

        async def watch_disconnect() -> None:
            nonlocal left
            while (await receive())["type"] != "http.disconnect":
                pass
            left = True
            turn.cancel()
            queue.put_nowait(None)

        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        turn = asyncio.create_task(produce())
        watcher = asyncio.create_task(watch_disconnect())
        interval = self.ctx.settings.keepalive_interval
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(queue.get(), timeout=interval)
                except asyncio.TimeoutError:
                    chunk = _KEEPALIVE
                if chunk is None or left:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            watcher.cancel()
            if not turn.done():
                turn.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await turn
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if not left:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
