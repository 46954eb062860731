"""Helpers for the client tests: one scenario for both clients, SSE bytes, a connection-cutting proxy."""

from __future__ import annotations

import inspect
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx

from trellis_jupyter.answer import Answer
from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.events import Event


async def maybe(value: Any) -> Any:
    """Await ``value`` if it is awaitable: one test body drives the sync and the async client."""
    return await value if inspect.isawaitable(value) else value


async def collect(items: Iterable[Any] | AsyncIterator[Any]) -> list[Any]:
    if hasattr(items, "__aiter__"):
        return [item async for item in items]
    return list(items)


async def consume(stream: Any) -> tuple[list[Event], Answer]:
    """Enter a stream (sync or async), read every event, return them with the final answer."""
    if hasattr(stream, "__aenter__"):
        async with stream as s:
            events = [e async for e in s]
            return events, await s.get_final_answer()
    with stream as s:
        events = list(s)
        return events, s.get_final_answer()


def make_client(kind: str, server: Any, **kwargs: Any) -> Any:
    """A ``Trellis`` (``kind="sync"``) or an ``AsyncTrellis``; typed ``Any`` as the tests drive both alike."""
    options = {"base_url": server.base_url, "api_key": server.api_key, "email": server.email}
    options.update(kwargs)
    return Trellis(**options) if kind == "sync" else AsyncTrellis(**options)


async def close_client(client: Trellis | AsyncTrellis) -> None:
    if isinstance(client, AsyncTrellis):
        await client.aclose()
    else:
        client.close()


def sse(name: str, data: Any, *, crlf: bool = False) -> bytes:
    """One SSE event as bytes (data given as an object is JSON-encoded)."""
    text = data if isinstance(data, str) else json.dumps(data)
    lines = [f"event: {name}"] + [f"data: {line}" for line in text.split("\n")]
    end = "\r\n" if crlf else "\n"
    return (end.join(lines) + end + end).encode()


def sse_response(chunks: Iterable[bytes]) -> httpx.Response:
    """A streaming response whose body arrives in exactly these chunks (sync)."""
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(list(chunks)))


def async_sse_response(chunks: Iterable[bytes]) -> httpx.Response:
    items = list(chunks)

    async def body() -> AsyncIterator[bytes]:
        for chunk in items:
            yield chunk

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


def failing_body(chunks: list[bytes], exc: Exception) -> Iterator[bytes]:
    yield from chunks
    raise exc


class CuttingProxy:
    """A TCP proxy on loopback that cuts a connection once the server has sent ``marker``.

    The cut is real: both sockets are closed, so the client sees the stream end mid-answer.
    """

    def __init__(self, target: str, marker: bytes) -> None:
        host, port = target.removeprefix("http://").split(":")
        self._target = (host, int(port))
        self._marker = marker
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.cuts = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self._target)

        def forward_requests() -> None:
            try:
                while data := client.recv(65536):
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward_requests, daemon=True).start()
        seen = b""
        try:
            while data := upstream.recv(65536):
                seen = (seen + data)[-4096:]
                if self._marker in seen:
                    # Forward up to and including the marker's event line, then cut.
                    client.sendall(
                        data[: data.find(self._marker) + len(self._marker)] if self._marker in data else data
                    )
                    self.cuts += 1
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self._listener.close()


def protocol_fields(integrations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The listed integrations without the local server's ``example_questions`` extra (checked to
    be a list of questions), so a listing compares with ``LocalServer.integrations``."""
    out = []
    for item in integrations:
        examples = item.get("example_questions", [])
        assert isinstance(examples, list)
        assert all(isinstance(q, str) and q.strip() for q in examples)
        out.append({k: v for k, v in item.items() if k != "example_questions"})
    return out
