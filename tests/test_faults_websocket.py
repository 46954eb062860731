"""Faults on one WebSocket (``client.websocket()``), via the fault proxy to the real local server.

Promises: a connection dropped mid-answer (1006) raises ConnectionLostError with the partial answer,
and the next question on the same socket object reconnects by itself without resending anything;
a close 4001 at connect makes the client drop the refused token, so the next connect authenticates
again and works (the WebSocket's "401 once then success"); a close 4429 after the server's
``WS_CONNECTION_CAP`` frame raises ConflictError saying what to do, and the next connect works.
"""

from __future__ import annotations

from typing import Any

import pytest
from faults import FaultProxy, WSClose, WSDrop
from faults_helpers import (  # noqa: F401 - shared fixtures
    BY_ID,
    check_server,
    error_payload,
    long_text,
    start_server,
)

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import AuthenticationError, ConflictError, ConnectionLostError

WS = r"/v1/chats/ws"
AUTH = r"/v1/authenticate"


def _client(server: Any, proxy: FaultProxy) -> Trellis:
    return Trellis(base_url=proxy.base_url, api_key=server.api_key, email=server.email)


def test_1006_mid_answer_then_the_same_socket_reconnects(
    server: Any, proxy: FaultProxy, upstream: Trellis
) -> None:
    """1006 mid-answer: partial answer in the error; next ask() reconnects; nothing resent."""
    with _client(server, proxy) as client:
        chat_id = client.chats.create()["id"]
        proxy.add("WS", WS, WSDrop(b'"text_delta"', nth=4))
        with client.websocket() as socket:
            with pytest.raises(ConnectionLostError, match=r"lost during an answer \(1006\)") as info:
                socket.ask("long answer please [ws1006 1]", chat_id=chat_id)
            partial = info.value.answer
            assert partial is not None
            assert partial.chat_id == chat_id
            assert partial.interrupted
            assert partial.text
            assert long_text().startswith(partial.text.rstrip())
            assert socket.closed
            answer = socket.ask("long answer please [ws1006 2]", chat_id=chat_id)
            assert answer.complete
            assert answer.text == long_text()
        assert proxy.count("WS", WS) == 2  # one reconnect
    check_server(
        upstream, chat_id, "long answer please [ws1006 1]", "long answer please [ws1006 2]", BY_ID["ws-1006"]
    )


def test_4001_at_connect_renews_the_token(server: Any, proxy: FaultProxy) -> None:
    """4001 on the first frame: AuthenticationError; the refused token is dropped; reconnect authenticates."""
    with _client(server, proxy) as client:
        client.models()  # a token in hand
        assert proxy.count("POST", AUTH) == 1
        proxy.add("WS", WS, WSClose(4001, client_marker=b'"ping"', reason="token revoked"))
        with pytest.raises(AuthenticationError, match=r"token is invalid or expired \(4001\)"):
            client.websocket()
        with client.websocket() as socket:
            answer = socket.ask("long answer please [ws4001]", chat_id=client.chats.create()["id"])
            assert answer.complete
        assert proxy.count("POST", AUTH) == 2  # the second connect used a fresh token


def test_4429_with_the_cap_frame(server: Any, proxy: FaultProxy) -> None:
    """4429 after a WS_CONNECTION_CAP frame: ConflictError says to close a socket; the next connect works."""
    cap = WSClose(4429, client_marker=b'"ping"', error=error_payload("WS_CONNECTION_CAP"), reason="cap")
    with _client(server, proxy) as client:
        proxy.add("WS", WS, cap)
        with pytest.raises(ConflictError, match=r"Close another socket") as info:
            client.websocket()
        assert info.value.code == "WS_CONNECTION_CAP"
        with client.websocket() as socket:
            socket.ping()


@pytest.mark.anyio
async def test_async_1006_then_reconnect(server: Any, proxy: FaultProxy, upstream: Trellis) -> None:
    """The async socket: 1006 mid-answer keeps the partial answer; the next question reconnects."""
    async with AsyncTrellis(base_url=proxy.base_url, api_key=server.api_key, email=server.email) as client:
        chat_id = (await client.chats.create())["id"]
        proxy.add("WS", WS, WSDrop(b'"text_delta"', nth=4))
        async with client.websocket() as socket:
            with pytest.raises(ConnectionLostError) as info:
                await socket.ask("long answer please [aws1006 1]", chat_id=chat_id)
            assert info.value.answer is not None
            assert info.value.answer.text
            answer = await socket.ask("long answer please [aws1006 2]", chat_id=chat_id)
            assert answer.complete
    check_server(
        upstream,
        chat_id,
        "long answer please [aws1006 1]",
        "long answer please [aws1006 2]",
        BY_ID["ws-1006"],
    )


@pytest.mark.anyio
async def test_async_4001_at_connect_renews_the_token(server: Any, proxy: FaultProxy) -> None:
    """The async socket: 4001 at connect drops the token; the next connect authenticates again."""
    async with AsyncTrellis(base_url=proxy.base_url, api_key=server.api_key, email=server.email) as client:
        await client.models()
        proxy.add("WS", WS, WSClose(4001, client_marker=b'"ping"'))
        with pytest.raises(AuthenticationError):
            await client.websocket()
        socket = await client.websocket()
        try:
            await socket.ping()
        finally:
            await socket.aclose()
        assert proxy.count("POST", AUTH) == 2
