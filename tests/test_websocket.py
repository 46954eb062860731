"""The WebSocket transport against the real local server over loopback (no mocks).

A scripted planner (plugged into the local server through its planner seam) gives answers with a
known text, table and chart, so SSE and WebSocket answers can be compared field by field, and long
paced answers for interrupts and heartbeats.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from trellis_jupyter import _wsproto as proto
from trellis_jupyter.answer import Answer
from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import (
    AnswerError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ConnectionLostError,
    NotFoundError,
)
from trellis_jupyter.events import (
    Chart,
    ErrorEvent,
    Heartbeat,
    Interrupted,
    Message,
    Pong,
    Table,
    TextDelta,
)
from trellis_jupyter.local import serve_in_background
from trellis_jupyter.local.planner_protocol import DatabaseInfo, PastTurn, PlannedAnswer, RunQuery
from trellis_jupyter.websocket import AsyncChatSocket, ChatSocket

pytestmark = pytest.mark.timeout(60)

UNLIMITED: dict[str, Any] = {"ws_send_limits": ((10_000, 60.0),), "token_send_limits": ((10_000, 60.0),)}
CHART = Chart(
    id="chart00001",
    chart_type="bar",
    values=[
        {"label": "North", "value": 412},
        {"label": "South", "value": 289},
        {"label": "East", "value": 531},
    ],
    title="Orders by region",
    x_axis_label="Region",
    y_axis_label="Orders",
)


class ScriptPlanner:
    """Answers by keyword: ``table`` (a real query), ``chart``, ``big`` (60k rows), ``long`` (80 words)."""

    def answer(
        self, question: str, *, database: DatabaseInfo, history: Sequence[PastTurn], run_query: RunQuery
    ) -> PlannedAnswer:
        q = question.lower()
        viz: list[Table | Chart] = []
        if "table" in q and "big" not in q:
            r = run_query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            viz.append(
                Table("table00001", r.headers, r.rows, title="Tables", sql=r.sql, row_count=r.row_count)
            )
        if "chart" in q:
            viz.append(CHART)
        if "big" in q:
            rows: list[list[Any]] = [[i, f"row {i}", i / 2, i % 2 == 0] for i in range(60_000)]
            viz.append(Table("bigtable01", ["n", "label", "half", "even"], rows))
        words = 80 if "long" in q else 5
        text = " ".join(f"w{i}" for i in range(words)) + f" (question {len(history) + 1})."
        return PlannedAnswer(text=text, visualizations=viz)


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    """A server with the scripted planner, no send limits, paced deltas and fast heartbeats."""
    with serve_in_background(
        store=":memory:", pace=0.01, planner=ScriptPlanner(), heartbeat_interval=0.05, **UNLIMITED
    ) as srv:
        yield srv


def _client(srv: Any, cls: type[Any] = Trellis) -> Any:
    return cls(base_url=srv.base_url, api_key=srv.api_key, email=srv.email, integration_id=srv.integration_id)


@pytest.fixture
def client(server: Any) -> Iterator[Trellis]:
    with _client(server) as c:
        yield c


@pytest.fixture
def socket(client: Trellis) -> Iterator[ChatSocket]:
    with client.websocket() as s:
        yield s


def _read_and_then(stream: Any, action: Any) -> None:
    """Read a stream, doing ``action`` once at its first text delta."""
    with stream:
        for event in stream:
            if isinstance(event, TextDelta) and action is not None:
                action()
                action = None


def _ask_many(socket: ChatSocket, count: int) -> None:
    for _ in range(count):
        socket.ask("How many orders are there?")


def _same(a: Answer, b: Answer) -> None:
    assert a.text == b.text
    assert a.complete
    assert b.complete
    assert [v.to_data() for v in a.visualizations] == [v.to_data() for v in b.visualizations]


# --- several questions, same answers as SSE ----------------------------------------------------------


def test_several_questions_on_one_socket(client: Trellis, socket: ChatSocket) -> None:
    first = socket.ask("a table please")
    chat_id = first.chat_id
    assert chat_id is not None
    assert first.tables[0].headers == ["name"]
    later = [socket.ask(f"question {i} with a chart", chat_id=chat_id) for i in range(4)]
    assert [a.chat_id for a in later] == [chat_id] * 4
    assert [a.text.endswith(f"(question {i + 2}).") for i, a in enumerate(later)] == [True] * 4
    assert all(a.charts[0].values == CHART.values for a in later)
    messages = client.chats.get(chat_id)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 5


def test_sse_and_websocket_give_the_same_answer(client: Trellis, socket: ChatSocket) -> None:
    for question in ("just text", "a table", "a chart", "a table and a chart, long"):
        with client.chats.stream(question) as sse:
            by_sse = sse.get_final_answer()
        with socket.stream(question) as ws:
            events = list(ws)
            by_ws = ws.get_final_answer()
        _same(by_sse, by_ws)
        assert isinstance(events[-1], Message)
        assert not any(isinstance(e, (Heartbeat, Pong)) for e in events)
        assert by_ws.chat_id != by_sse.chat_id  # each started its own chat, created over REST


def test_text_stream_and_big_table_beyond_the_default_frame_limit(socket: ChatSocket) -> None:
    with socket.stream("a big table, long") as s:
        text = "".join(s.text_stream)
    answer = s.get_final_answer()
    assert text == answer.text
    assert len(answer.tables[0].rows) == 60_000
    assert answer.tables[0].rows[59_999] == [59_999, "row 59999", 29_999.5, False]


def test_conversation_same_answers_either_transport(client: Trellis) -> None:
    answers = {}
    for transport in ("sse", "websocket"):
        conv = client.conversation(transport=transport)
        try:
            got = [conv.ask("a table"), conv.ask("a chart")]
            edited = conv.edit("a table and a chart")
        finally:
            conv.close()
        assert conv.transport == transport
        assert len(conv.answers) == 2
        assert [m["content"] for m in client.chats.get(conv.chat_id or "")["messages"]][-2:] == [
            "a table and a chart",
            edited.text,
        ]
        answers[transport] = [*got, edited]
    for by_sse, by_ws in zip(answers["sse"], answers["websocket"], strict=True):
        _same(by_sse, by_ws)


def test_transport_default_from_environment(client: Trellis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRELLIS_TRANSPORT", "websocket")
    conv = client.conversation()
    try:
        assert conv.transport == "websocket"
        assert conv.ask("text").complete
        assert conv._socket is not None
        assert not conv._socket.closed
    finally:
        conv.close()
    monkeypatch.setenv("TRELLIS_TRANSPORT", "carrier-pigeon")
    with pytest.raises(ConfigurationError, match="use 'sse' or 'websocket'"):
        client.conversation()


# --- interrupt, edit, delete, ping, heartbeat ---------------------------------------------------------


def test_interrupt_from_another_thread_then_ask_again(socket: ChatSocket) -> None:
    started = threading.Event()
    def stop() -> None:
        if started.wait(10):
            socket.interrupt()

    stopper = threading.Thread(target=stop)
    stopper.start()
    with socket.stream("long answer") as s:
        events = []
        for event in s:
            events.append(event)
            if isinstance(event, TextDelta):
                started.set()
    stopper.join()
    partial = s.answer
    assert isinstance(events[-1], Interrupted)
    assert partial.interrupted
    assert not partial.complete
    assert partial.chat_id is not None
    assert partial.text.startswith("w0")
    assert not any(isinstance(e, Message) for e in events)
    again = socket.ask("and now a chart", chat_id=partial.chat_id)
    assert again.complete
    assert again.chat_id == partial.chat_id
    assert again.charts


def test_leaving_the_stream_early_interrupts_and_keeps_the_socket(
    client: Trellis, socket: ChatSocket
) -> None:
    with socket.stream("long answer") as s:
        for event in s:
            if isinstance(event, TextDelta):
                break
    assert s.answer.interrupted
    assert s.answer.chat_id is not None
    after = socket.ask("text", chat_id=s.answer.chat_id)
    assert after.complete
    roles = [m["role"] for m in client.chats.get(after.chat_id or "")["messages"]]
    assert roles == ["user", "user", "assistant"]  # the interrupted answer was not kept


def test_a_new_question_stops_an_abandoned_one(socket: ChatSocket) -> None:
    abandoned = socket.stream("long answer")
    next(iter(abandoned))  # sent, then left running
    answer = socket.ask("text")
    assert answer.complete
    assert abandoned.answer.interrupted


def test_edit_and_delete_over_the_socket(client: Trellis, socket: ChatSocket) -> None:
    first = socket.ask("text one")
    chat_id = first.chat_id or ""
    second = socket.ask("text two", chat_id=chat_id)
    with socket.edit(chat_id, first.user_message_id or "", "a table instead") as s:
        edited = s.get_final_answer()
    assert edited.tables
    assert edited.user_message_id != first.user_message_id
    messages = client.chats.get(chat_id)["messages"]
    assert [m["content"] for m in messages] == ["a table instead", edited.text]
    assert second.message_id not in [m["id"] for m in messages]
    socket.delete_message(chat_id, edited.user_message_id or "")
    assert client.chats.get(chat_id)["messages"] == []
    with pytest.raises(NotFoundError):
        socket.delete_message(chat_id, "msg_nope")
    assert socket.ask("text", chat_id=chat_id).complete  # the error left the socket usable


def test_ping_from_another_thread_mid_answer(socket: ChatSocket) -> None:
    socket.ping()
    pinged: list[bool] = []

    def ping() -> None:
        socket.ping(timeout=10)
        pinged.append(True)

    # One pinger, started at the first delta: testing ``pinged`` instead started a second one
    # whenever another delta arrived before the first ping's pong (a loaded machine).
    pinger: threading.Thread | None = None
    with socket.stream("long answer") as s:
        for event in s:
            if isinstance(event, TextDelta) and pinger is None:
                pinger = threading.Thread(target=ping)
                pinger.start()
    assert pinger is not None, "the answer had no text delta"
    pinger.join(60)
    assert not pinger.is_alive(), "the ping from another thread never returned"
    assert pinged == [True]
    assert s.answer.complete
    assert not s.answer.unknown_events


def test_pings_from_many_threads_each_wait_for_their_own_pong(socket: ChatSocket) -> None:
    """Two pings at once took the same pong as their target: one returned before its round trip."""
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def ping() -> None:
        try:
            start.wait(30)
            socket.ping(timeout=60)
        except BaseException as exc:
            failures.append(exc)

    pingers = [threading.Thread(target=ping) for _ in range(8)]
    for pinger in pingers:
        pinger.start()
    for pinger in pingers:
        pinger.join(90)
    assert not any(p.is_alive() for p in pingers), "a ping never returned"
    assert failures == []
    # connect()'s ping and the eight: each returned only once its own pong had been read.
    assert socket._router.pongs == 9
    assert socket._router.pings == 9


def test_heartbeats_on_a_slow_answer_stay_out_of_the_answer(client: Trellis, server: Any) -> None:
    with client.websocket(heartbeat=True) as beating, client.websocket() as quiet:
        slow = beating.ask("long answer")
        plain = quiet.ask("long answer")
        assert beating.heartbeats > 0
        assert quiet.heartbeats == 0
    assert slow.text == plain.text
    assert slow.complete
    assert not slow.unknown_events


# --- faults -------------------------------------------------------------------------------------------


def test_fourth_connection_refused_with_4429() -> None:
    with serve_in_background(store=":memory:", hosted_limits=True) as hosted:  # a cap of 3 sockets
        token = hosted.mint_token()
        sockets = [ChatSocket(hosted.base_url, token).connect() for _ in range(3)]
        try:
            with pytest.raises(ConflictError, match="too many open connections") as caught:
                ChatSocket(hosted.base_url, token).connect()
            assert caught.value.code == "WS_CONNECTION_CAP"
            assert token not in str(caught.value)
            sockets.pop().close()
            sockets.append(ChatSocket(hosted.base_url, token).connect())  # a freed slot is usable
        finally:
            for s in sockets:
                s.close()


def test_expired_token_refused_with_4001(local_server: Any) -> None:
    token = local_server.mint_token(expires_in=-10)
    with pytest.raises(AuthenticationError, match="invalid or expired") as caught:
        ChatSocket(local_server.base_url, token).connect()
    assert token not in str(caught.value)
    assert token not in repr(caught.value)


def test_rate_limit_error_carries_retry_after() -> None:
    """Waiting off (max_retry_wait=0): a refused send ends its answer with the server's wait."""
    with (
        serve_in_background(store=":memory:", hosted_limits=True) as hosted,
        ChatSocket(
            hosted.base_url, hosted.mint_token(), integration_id=hosted.integration_id, max_retry_wait=0
        ) as s,
    ):
        with pytest.raises(AnswerError) as caught:  # the documented burst is 3 send_message per 10 s
            _ask_many(s, 5)
        assert caught.value.code == "RATE_LIMIT"
        assert caught.value.retry_after
        assert caught.value.retry_after > 0
        assert isinstance(caught.value.answer, Answer)
        assert isinstance(caught.value.answer.error, ErrorEvent)
        s.ping()  # still connected


def test_token_stays_out_of_url_logs_and_reprs(server: Any, caplog: pytest.LogCaptureFixture) -> None:
    token = server.mint_token()
    with caplog.at_level(logging.DEBUG), ChatSocket(server.base_url, token) as s:
        s.ask("text")
        assert "token" not in s.url
        assert token not in repr(s)
    assert any("Authorization" in r.getMessage() for r in caplog.records)  # the header was logged...
    assert not any(token in r.getMessage() for r in caplog.records)  # ...masked


def test_dropped_connection_keeps_partial_answer_and_reconnects_for_the_next_question(
    socket: ChatSocket,
) -> None:
    s = socket.stream("long answer")
    cut = lambda: socket._conn.socket.shutdown(2)  # noqa: E731 - the network goes away under the socket
    with pytest.raises(ConnectionLostError, match="lost") as caught:
        _read_and_then(s, cut)
    partial = caught.value.answer
    assert partial is s.answer
    assert partial.chat_id is not None
    assert partial.text.startswith("w0")
    again = socket.ask("text", chat_id=partial.chat_id)  # reconnects first; nothing was resent
    assert again.complete
    assert again.chat_id == partial.chat_id


SERVER_SCRIPT = """
import sys, time
from trellis_jupyter.local import serve_in_background
server = serve_in_background(store=":memory:", pace=0.05)
print(server.base_url, server.mint_token(), server.integration_id, flush=True)
time.sleep(120)
"""


def test_server_killed_mid_answer_gives_connection_lost_with_partial_answer() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base_url, token, integration_id = proc.stdout.readline().split()
        socket = ChatSocket(base_url, token, integration_id=integration_id).connect()
        s = socket.stream("list the tables")
        with pytest.raises(ConnectionLostError) as caught:
            _read_and_then(s, proc.kill)
        error = caught.value
        assert error.answer is s.answer
        assert error.chat_id is not None
        assert s.answer.text
        assert "reconnect" in str(error)
        assert token not in str(error)
    finally:
        proc.kill()
        proc.wait()


# --- async --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_socket_questions_interrupt_and_edit(server: Any) -> None:
    async with _client(server, AsyncTrellis) as client, client.websocket() as socket:
        assert isinstance(socket, AsyncChatSocket)
        first = await socket.ask("a table")
        chat_id = first.chat_id or ""

        stopper: list[asyncio.Task[None]] = []
        async with socket.stream("long answer", chat_id=chat_id) as s:
            async for event in s:
                if isinstance(event, TextDelta) and not stopper:
                    stopper.append(asyncio.create_task(socket.interrupt()))  # another task stops it
        await stopper[0]
        assert s.answer.interrupted
        assert s.answer.chat_id == chat_id
        async with socket.edit(chat_id, first.user_message_id or "", "a chart") as e:
            edited = await e.get_final_answer()
        assert edited.charts
        assert edited.complete
        messages = (await client.chats.get(chat_id))["messages"]
        assert [m["content"] for m in messages] == ["a chart", edited.text]


@pytest.mark.anyio
async def test_async_conversation_over_websocket(server: Any) -> None:
    async with _client(server, AsyncTrellis) as client:
        conv = client.conversation(transport="websocket")
        try:
            a = await conv.ask("a table")
            b = await conv.ask("a chart")
        finally:
            await conv.aclose()
        assert a.chat_id == b.chat_id == conv.chat_id
        assert a.tables
        assert b.charts


# --- the sans-I/O rules -----------------------------------------------------------------------------


def test_router_swallows_the_late_answer_to_an_interrupt() -> None:
    router = proto.Router()
    router.start_turn()
    router.interrupt_sent()
    assert router.route(Message(content="done", message_id="m1")) is not None  # the turn won the race
    assert router.route(ErrorEvent(error="nothing to interrupt", code="NO_ACTIVE_TURN")) is None
    assert not router.idle_errors
    assert not router.turn_open
    assert router.route(Heartbeat()) is None
    assert router.route(Pong()) is None
    assert router.pongs == 1


def test_close_codes_map_to_clear_errors() -> None:
    assert isinstance(proto.closed_error(4001), AuthenticationError)
    assert isinstance(proto.closed_error(4429), ConflictError)
    for code in (None, 1006, 1011, 1012):
        error = proto.closed_error(code)
        assert isinstance(error, ConnectionLostError)
        assert "partial answer" in str(error)
    assert (
        proto.ws_url("https://api.trellis.sh", heartbeat=True)
        == "wss://api.trellis.sh/v1/chats/ws?heartbeat=1"
    )
