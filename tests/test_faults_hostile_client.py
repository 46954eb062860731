"""Hostile servers against the real client over loopback (issue #16's client-side attacks).

A :class:`~hostile_helpers.RawServer` writes its answers byte by byte: a line that never ends, a
flood of events, errors echoing the client's secrets. Promises: the client's memory stays bounded
(one SSE line or event is capped like a WebSocket frame, and the stream ends with a clear error
keeping the partial answer); ``close()`` from another thread stops the stream at once; no secret
the client holds shows in any error attribute, repr or message, whole or in part; a URL's
``user:password@`` never shows.
"""

from __future__ import annotations

import asyncio
import base64
import json
import select
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hostile_helpers import RawServer, json_response, sse_head

from trellis_jupyter._sse import MAX_EVENT_BYTES
from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import ConnectError, EventTooLargeError, ServerError, TrellisError
from trellis_jupyter.events import TextDelta

pytestmark = pytest.mark.timeout(120)

MB = 1024 * 1024
CHAT = "chat_0123456789abcdef01234567"


def _jwt(secret_part: str = "S1gnatureOfTheTokenThatMustNeverLeak_0123456789") -> str:
    def enc(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return (
        f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc({'sub': 'm', 'exp': time.time() + 3600})}.{secret_part}"
    )


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _start_of_answer() -> bytes:
    return (
        sse_head()
        + _event("chat_metadata", {"id": CHAT, "user_message_id": "msg_1"})
        + _event("text_delta", {"content": "partial "})
        + _event("text_delta", {"content": "answer"})
    )


# --- 5. one SSE line / event is capped --------------------------------------------------------


def _endless_line(method: str, path: str, body: bytes, conn: socket.socket) -> None:
    conn.sendall(_start_of_answer() + b"event: text_delta\ndata: ")
    block = b"x" * MB
    for _ in range(MAX_EVENT_BYTES // MB + 40):  # well past the cap, never a newline
        conn.sendall(block)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_endless_sse_line_ends_the_stream_with_the_partial_answer(mode: str) -> None:
    """Attack: a 1,000 MB line without newline took the client to 3.6 GB."""
    with RawServer(_endless_line) as server:
        tracemalloc.start()
        try:
            if mode == "sync":
                with (
                    Trellis(base_url=server.base_url, token=_jwt()) as client,
                    pytest.raises(EventTooLargeError) as caught,
                    client.chats.stream("q", chat_id=CHAT) as stream,
                ):
                    stream.until_done()
            else:

                async def run() -> None:
                    async with (
                        AsyncTrellis(base_url=server.base_url, token=_jwt()) as client,
                        client.chats.stream("q", chat_id=CHAT) as stream,
                    ):
                        await stream.until_done()

                with pytest.raises(EventTooLargeError) as caught:
                    asyncio.run(run())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    error = caught.value
    assert "larger than the client's 64 MB limit" in str(error)
    assert error.answer is not None
    assert error.answer.chat_id == CHAT
    assert error.answer.text == "partial answer"
    assert error.answer.interrupted
    assert peak < 3 * MAX_EVENT_BYTES, f"the client held {peak / MB:.0f} MB"


# --- 6. close() from another thread: safe and immediate -----------------------------------------


def _flood(method: str, path: str, body: bytes, conn: socket.socket) -> None:
    conn.sendall(_start_of_answer())
    conn.settimeout(0.2)
    delta = _event("text_delta", {"content": "flood "}) * 200
    pending = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # The client's FIN (it closed the connection) ends the flood; a full window only pauses it.
        if select.select([conn], [], [], 0)[0] and not conn.recv(65536):
            raise ConnectionResetError("the client closed the connection")
        pending = pending or delta
        try:
            pending = pending[conn.send(pending) :]
        except TimeoutError:
            pass


def _reading(
    stream: Iterable[Any], at_least: int, counted: Callable[[Any], bool]
) -> tuple[threading.Thread, dict[str, int], list[BaseException]]:
    """A thread reading ``stream`` (counting the events ``counted`` picks), once it has read
    ``at_least``: what a close() from the test's own thread then interrupts."""
    counts = {"read": 0}
    failures: list[BaseException] = []

    def read() -> None:
        try:
            for event in stream:
                if counted(event):
                    counts["read"] += 1
        except BaseException as exc:
            failures.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    # Bounded: a reader that failed early fails here with its error, not at the test timeout.
    deadline = time.monotonic() + 60
    while counts["read"] < at_least and reader.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert counts["read"] >= at_least, f"the reader stopped at {counts['read']} events: {failures}"
    return reader, counts, failures


def test_close_from_another_thread_stops_the_flood_at_once() -> None:
    """Attack: close() from another thread raised 'generator already executing'; the flood went on."""
    with RawServer(_flood) as server, Trellis(base_url=server.base_url, token=_jwt()) as client:
        stream = client.chats.stream("q", chat_id=CHAT).__enter__()
        reader, counts, failures = _reading(stream, 1000, lambda event: isinstance(event, TextDelta))
        stream.close()
        at_close = counts["read"]
        reader.join(5)
        assert not reader.is_alive(), "the reader kept reading after close()"
        assert failures == []
        assert counts["read"] - at_close <= 1
        assert stream.answer.interrupted
        assert stream.answer.chat_id == CHAT
        assert server.closed.wait(5), "the server kept sending: the connection was not closed"
        stream.close()  # twice is fine


# --- 4. secrets scrubbed from every error attribute, whatever field echoes them -------------------


API_KEY = "tj-key-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def _leaks(error: TrellisError, secrets: list[str]) -> list[str]:
    shown = [str(error), repr(error), json.dumps(vars(error), default=repr), repr(error.args)]
    found = []
    for secret in secrets:
        pieces = [secret] + [secret[i : i + 16] for i in range(0, len(secret) - 15, 4)]
        found += [p for p in pieces for text in shown if p in text]
    return found


def test_secrets_echoed_in_any_error_field_are_scrubbed() -> None:
    """Attack: a token or key echoed in detail or debug_id stayed in exc.detail and repr(exc);
    a signature-only echo stayed in str(exc)."""
    token = _jwt()
    signature = token.rsplit(".", 1)[1]

    def echo(method: str, path: str, body: bytes, conn: socket.socket) -> None:
        if path == "/v1/authenticate":
            conn.sendall(json_response(200, {"token": token, "member_id": "m", "expires_at": None}))
            return
        conn.sendall(
            json_response(
                500,
                {
                    "detail": f"bad token {token} (sig {signature}, key tail {API_KEY[-20:]})",
                    "code": f"E_{signature}",
                    "debug_id": f"dbg-{API_KEY}",
                    "extra": {"nested": [token, {"k": signature[5:30]}]},
                },
            )
        )

    with (
        RawServer(echo) as server,
        Trellis(base_url=server.base_url, api_key=API_KEY, email="a@b.io", max_retries=0) as client,
        pytest.raises(ServerError) as caught,
    ):
        client.models()
    assert _leaks(caught.value, [token, API_KEY, signature]) == []
    assert "***" in str(caught.value.detail)


def test_a_password_in_the_base_url_never_shows() -> None:
    """Attack: a user:pass@ base URL showed the password in repr(client) and in ConnectError."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"http://analyst:hunter2-Very-Secret@127.0.0.1:{port}"
    with Trellis(base_url=url, token=_jwt(), max_retries=0) as client:
        for shown in (repr(client), repr(client.settings)):
            assert "hunter2" not in shown
            assert "***@127.0.0.1" in shown
        with pytest.raises(ConnectError) as caught:
            client.models()
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value)
    assert "***@127.0.0.1" in str(caught.value)


# --- 7. markdown: bounded in depth and time ----------------------------------------------------


@pytest.mark.timeout(60)  # a hang guard: each text below takes minutes to render if quadratic
@pytest.mark.parametrize(
    "text",
    [
        "> " * 1000 + "x",
        ">" * 100_000,
        "**a " * 80_000,
        "__a " * 80_000,
        "*a " * 80_000,
        "_a " * 80_000,
        "~~a " * 80_000,
        "`a " * 80_000,
        "[a" * 80_000,
        "# " + " " * 80_000 + "x",
        "- a\n" + "  more\n" * 40_000,
    ],
    ids=[
        "quotes",
        "gt",
        "bold",
        "under-bold",
        "italic",
        "under",
        "strike",
        "code",
        "links",
        "heading",
        "list",
    ],
)
def test_hostile_markdown_renders_bounded(text: str) -> None:
    """Attack: "> " * 1000 raised RecursionError from Answer._repr_mimebundle_; "**a " * 20000
    took 18 s to render."""
    from trellis_jupyter.answer import Answer
    from trellis_jupyter.events import Message
    from trellis_jupyter.sanitize import MAX_QUOTE_DEPTH

    answer = Answer("q")
    answer.feed(Message(content=text, message_id="msg_1"))
    bundle = answer._repr_mimebundle_()
    html = bundle["text/html"]
    assert html.count("<blockquote>") <= MAX_QUOTE_DEPTH
    assert "<script" not in html
    assert len(html) < 20 * len(text) + 10_000  # the output grows with the text, no more


def test_secrets_echoed_in_a_stream_error_event_are_scrubbed() -> None:
    """The same echo in an SSE ``error`` event: the answer's error and the raised error are clean."""
    token = _jwt()
    signature = token.rsplit(".", 1)[1]

    def echo(method: str, path: str, body: bytes, conn: socket.socket) -> None:
        error = {
            "error": f"token {token} refused (signature {signature[3:40]})",
            "code": "INTERNAL",
            "debug_id": f"dbg-{signature}",
            "retryable": True,
            "note": token,
        }
        conn.sendall(_start_of_answer() + _event("error", error))

    with RawServer(echo) as server, Trellis(base_url=server.base_url, token=token) as client:
        with client.chats.stream("q", chat_id=CHAT) as stream:
            answer = stream.until_done()
        assert answer.error is not None
        shown = repr(answer.error) + str(answer.error.extra)
        assert signature[5:25] not in shown
        with pytest.raises(TrellisError) as caught, client.chats.stream("q", chat_id=CHAT) as stream:
            stream.get_final_answer()
    assert _leaks(caught.value, [token, signature]) == []
    assert "***" in str(caught.value)


def test_secrets_echoed_in_a_websocket_error_frame_are_scrubbed(server: Any, proxy: Any) -> None:
    """An ``error`` frame echoing the socket's token (through the fault proxy to the real server)."""
    from faults import WSClose
    from faults_helpers import error_payload

    with Trellis(base_url=proxy.base_url, api_key=server.api_key, email=server.email) as client:
        token = client.auth.token()
        signature = token.rsplit(".", 1)[1]
        echo = error_payload("QUERY_FAILED", error=f"slow down {token}", debug_id=f"dbg {signature}")
        proxy.add("WS", r"/v1/chats/ws", WSClose(1011, client_marker=b'"send_message"', error=echo))
        with client.websocket() as socket_, pytest.raises(TrellisError) as caught:
            socket_.ask("echo my token", chat_id=client.chats.create()["id"])
    error = caught.value
    assert "slow down ***" in repr(vars(error)) + str(error), repr(error)
    assert _leaks(error, [token, signature]) == []
    if error.answer is not None and error.answer.error is not None:
        assert signature not in repr(error.answer.error)


def test_aclose_from_another_task_stops_the_flood_at_once() -> None:
    """The async twin: ``aclose()`` from another task while one reads."""

    async def scenario(server: RawServer) -> tuple[int, int, list[BaseException], Any]:
        async with AsyncTrellis(base_url=server.base_url, token=_jwt()) as client:
            stream = await client.chats.stream("q", chat_id=CHAT).__aenter__()
            counts = {"read": 0}
            failures: list[BaseException] = []

            async def read() -> None:
                try:
                    async for event in stream:
                        if isinstance(event, TextDelta):
                            counts["read"] += 1
                except BaseException as exc:
                    failures.append(exc)

            reader = asyncio.create_task(read())
            deadline = time.monotonic() + 60
            while counts["read"] < 1000 and not reader.done() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert counts["read"] >= 1000, f"the reader stopped at {counts['read']} deltas: {failures}"
            await stream.aclose()
            at_close = counts["read"]
            await asyncio.wait_for(reader, 5)
            return at_close, counts["read"], failures, stream.answer

    with RawServer(_flood) as server:
        at_close, final, failures, answer = asyncio.run(scenario(server))
        assert failures == []
        assert final - at_close <= 1
        assert answer.interrupted
        assert answer.chat_id == CHAT
        assert server.closed.wait(5), "the server kept sending: the connection was not closed"


def test_close_from_another_thread_on_a_websocket_stream() -> None:
    """The same over ``client.websocket()``, against the real server: the reader stops, the answer
    is kept as interrupted, and the socket answers the next question."""
    from faults_helpers import start_server

    server = start_server(pace=0.05)
    try:
        with (
            Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as client,
            client.websocket() as ws,
        ):
            chat_id = client.chats.create()["id"]
            stream = ws.stream("a long answer", chat_id=chat_id).__enter__()
            reader, _counts, failures = _reading(stream, 5, lambda event: True)
            stream.close()
            reader.join(5)
            assert not reader.is_alive()
            assert failures == []
            assert stream.answer.interrupted
            assert ws.ask("and again", chat_id=chat_id).complete
    finally:
        server.stop()
