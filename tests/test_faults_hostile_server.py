"""Hostile input against the real local server over loopback (issue #16's attacks, one test each).

Each test reproduces an attack that once broke the server and checks what SECURITY.md promises:
a 4xx with the documented error body (``{"detail": <one sentence>, "code": <CODE>}``), or an
``error`` event / frame that says what to do; memory bounded by the caps (peak RSS of a server in
its own process, read from /proc); nothing stored twice; sockets kept open on bad frames.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile_helpers import address, json_frame, peak_rss_mb, read_until_closed, server_process
from local_helpers import SteeredPlanner, bearer, make_db, read_stream, token_for
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from trellis_jupyter.local import serve_in_background
from trellis_jupyter.local.sqlrun import QueryRunner
from trellis_jupyter.websocket import direct_connect

pytestmark = pytest.mark.timeout(120)

MB = 1024 * 1024


def _error(response: httpx.Response, status: int, code: str) -> str:
    """The documented error body; returns its sentence."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "code"}, body
    assert body["code"] == code
    assert body["detail"].endswith("."), body["detail"]
    return str(body["detail"])


def _ws(base_url: str, token: str) -> ClientConnection:
    ws: ClientConnection = connect(
        base_url.replace("http://", "ws://") + "/v1/chats/ws",
        additional_headers=bearer(token),
        open_timeout=10,
        close_timeout=2,
        max_size=None,
        **direct_connect(connect),  # legacy=True where websockets has it (17.1+)
    )
    assert json_frame(ws)["event"] == "authenticated"
    return ws


def _stays_open(ws: ClientConnection) -> None:
    ws.send(json.dumps({"action": "ping"}))
    assert json_frame(ws)["event"] == "pong"


def _turn(ws: ClientConnection) -> list[dict[str, Any]]:
    frames = []
    while True:
        frames.append(json_frame(ws, 30))
        if frames[-1]["event"] in ("message", "error"):
            return frames


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def token(local_server: Any) -> str:
    return token_for(local_server)


# --- 1. the question's length: capped before planning ------------------------------------------


def test_a_question_over_4000_characters_is_refused_before_planning(
    local_server: Any, http: httpx.Client, token: str
) -> None:
    """Attack: a 15 KB question kept a planner thread busy for seconds (quadratic planning)."""
    url = f"{local_server.base_url}/v1/chats"
    before = http.get(url, headers=bearer(token)).json()["total"]
    sentence = _error(
        http.post(url, headers=bearer(token), json={"message": "how many orders " * 1000}),
        400,
        "INVALID_REQUEST",
    )
    assert "16,000 characters long; the limit is 4,000" in sentence
    assert http.get(url, headers=bearer(token)).json()["total"] == before  # no chat, nothing planned
    # At the cap it is a question like any other.
    question = ("how many customers are there " * 200)[:4000]
    events = read_stream(http, "POST", url, headers=bearer(token), body={"message": question})
    assert events[-1][0] in ("message", "error")
    # Over the WebSocket: an error frame, and the socket stays open.
    with _ws(local_server.base_url, token) as ws:
        ws.send(json.dumps({"action": "send_message", "message": "x" * 4001}))
        frame = json_frame(ws)
        assert frame["event"] == "error"
        assert frame["data"]["code"] == "INVALID_REQUEST"
        _stays_open(ws)


def test_an_abandoned_turn_stops_its_query(tmp_path: Path) -> None:
    """Attack: a turn kept running (its query too) after its client had gone."""
    started = threading.Event()

    class LongQuery:
        def answer(self, question: str, **kwargs: Any) -> Any:
            started.set()
            # A query that would run for minutes: stopped by the turn's cancel flag.
            kwargs["run_query"](
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
            )

    db = make_db(tmp_path / "items.sqlite")
    server = serve_in_background({"items": db}, planner=LongQuery(), query_timeout=120)
    try:
        token = token_for(server)
        with (
            httpx.Client(timeout=30) as client,
            client.stream(
                "POST", f"{server.base_url}/v1/chats", headers=bearer(token), json={"message": "long one"}
            ) as response,
        ):
            assert response.status_code == 200
            assert started.wait(10)
        # The client has gone: the turn ends and its worker thread is freed.
        deadline = time.monotonic() + 10
        while server.active_turns and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.active_turns == 0
        cpu = time.process_time()
        time.sleep(1.0)
        assert time.process_time() - cpu < 0.5, "the abandoned query is still using the CPU"
    finally:
        server.stop()


def test_an_abandoned_turn_stops_planning(tmp_path: Path) -> None:
    """Attack: 8 abandoned 15 KB questions kept planning (pure Python, no query to interrupt) and
    delayed another member's question to 30 s. The planner thread is stopped when its client goes."""
    progress = {"steps": 0, "stopped": False}
    started = threading.Event()

    class Spinning:
        def answer(self, question: str, **kwargs: Any) -> Any:
            started.set()
            try:
                while True:  # planning that never ends by itself
                    progress["steps"] += 1
            except BaseException:
                progress["stopped"] = True
                raise

    server = serve_in_background({"items": make_db(tmp_path / "i.sqlite")}, planner=Spinning())
    try:
        token = token_for(server)
        with (
            httpx.Client(timeout=30) as client,
            client.stream(
                "POST", f"{server.base_url}/v1/chats", headers=bearer(token), json={"message": "spin"}
            ) as response,
        ):
            assert response.status_code == 200
            assert started.wait(10)
        deadline = time.monotonic() + 10
        while not progress["stopped"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert progress["stopped"], "the abandoned planner is still running"
        steps = progress["steps"]
        time.sleep(0.5)
        assert progress["steps"] == steps
        assert server.active_turns == 0
        # The planner threads still work: a planner that answers is reached through the same pool.
        assert httpx.get(f"{server.base_url}/v1/models", headers=bearer(token)).status_code == 200
    finally:
        server.stop()


def test_stopping_planner_calls_never_breaks_the_thread_pool() -> None:
    """Stops aimed at calls that are starting, running or ending: each call ends (result or
    PlanningAbandoned) and the pool's threads keep serving."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    from trellis_jupyter.local.cancel import PlanningAbandoned, StoppableCall

    with ThreadPoolExecutor(2) as pool:
        for _ in range(300):
            call = StoppableCall(lambda: sum(range(random.randint(0, 20_000))))
            future = pool.submit(call.run)
            time.sleep(random.random() * 0.002)
            call.stop()
            try:
                future.result(10)
            except PlanningAbandoned:
                pass
        assert [pool.submit(lambda: 7).result(10) for _ in range(4)] == [7] * 4
        assert all(t.is_alive() for t in pool._threads)


# --- 2. sizes: bodies, titles, frames, query results; memory bounded -------------------------


@pytest.mark.slow
def test_huge_bodies_and_results_keep_the_server_memory_bounded(tmp_path: Path) -> None:
    """Attack: a 50 MB message (2.2 GB RSS) and printf('%.*c', 1e8, 'x') (867 MB, store +402 MB)."""
    db = make_db(tmp_path / "items.sqlite", rows=50)
    store = tmp_path / "chats.sqlite"
    with server_process(databases={"items": db}, store=str(store)) as info, httpx.Client(timeout=60) as http:
        url = info["base_url"] + "/v1/chats"
        token = token_for(_Srv(info))
        headers = bearer(token)
        # Warm up: one real turn, then take the baseline.
        read_stream(http, "POST", url, headers=headers, body={"message": "SELECT * FROM items"})
        baseline = peak_rss_mb(info["pid"])

        big = json.dumps({"message": "x" * (50 * MB)}).encode()
        sentence = _error(
            http.post(url, headers={**headers, "Content-Type": "application/json"}, content=big),
            413,
            "PAYLOAD_TOO_LARGE",
        )
        assert "1,000,000-byte limit" in sentence

        def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
            for i in range(0, len(big), MB):
                yield big[i : i + MB]

        _error(http.post(url, headers=headers, content=chunks()), 413, "PAYLOAD_TOO_LARGE")

        # One value past SQLite's length limit: refused; huge cells: cut, the table truncated.
        events = read_stream(
            http,
            "POST",
            url,
            headers=headers,
            body={"message": "SELECT replace(zeroblob(100000000), x'00', 'x') AS v FROM items LIMIT 1"},
        )
        assert events[-1][0] == "error"
        assert events[-1][1]["code"] == "QUERY_TOO_LARGE"
        events = read_stream(
            http,
            "POST",
            url,
            headers=headers,
            body={"message": "SELECT printf('%.*c', 900000, 'x') AS v FROM items"},
        )
        assert events[-1][0] == "message"
        table = next(d for n, d in events if n == "visualization")
        assert table["truncated"] is True
        assert table["row_count"] == 50
        assert all(len(row[0]) <= 10_000 for row in table["rows"])
        assert len(json.dumps(table)) < 3 * MB
        events = read_stream(
            http,
            "POST",
            url,
            headers=headers,
            body={"message": "SELECT printf('%.*c', 100000000, 'x') FROM items"},
        )
        assert events[-1][0] in ("message", "error")
        assert sum(len(json.dumps(d)) for _, d in events) < 5 * MB

        growth = peak_rss_mb(info["pid"]) - baseline
        assert growth < 150, f"the server's peak memory grew by {growth:.0f} MB"
    assert store.stat().st_size < 20 * MB


class _Srv:
    """Just enough of a LocalServer for local_helpers.token_for."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.base_url, self.api_key, self.email = info["base_url"], info["api_key"], info["email"]


def test_what_one_answer_stores_is_capped(tmp_path: Path) -> None:
    """A planner answering with many big tables: the answer keeps what fits in max_turn_bytes."""
    from trellis_jupyter.events import Table
    from trellis_jupyter.local.planner_protocol import PlannedAnswer

    class Hoarder:
        def answer(self, question: str, **kwargs: Any) -> Any:
            rows: list[list[Any]] = [[i, "x" * 1000] for i in range(1500)]  # about 1.5 MB each
            tables = [Table(id="", headers=["i", "x"], rows=rows, title=f"T{n}") for n in range(6)]
            return PlannedAnswer(text="Here: " + "w " * 3_000_000, visualizations=list(tables))

    server = serve_in_background({"items": make_db(tmp_path / "i.sqlite")}, planner=Hoarder())
    try:
        token = token_for(server)
        with httpx.Client(timeout=60) as http:
            url = f"{server.base_url}/v1/chats"
            events = read_stream(http, "POST", url, headers=bearer(token), body={"message": "everything"})
            assert events[-1][0] == "message"
            sent = sum(len(json.dumps(d)) for _, d in events)
            assert sent < 6 * MB
            assert "left out" in events[-1][1]["content"]
            chat_id = next(d["id"] for n, d in events if n == "chat_metadata")
            stored = http.get(f"{url}/{chat_id}", headers=bearer(token)).json()["messages"][-1]
            assert len(json.dumps(stored)) < 6 * MB
            assert 1 <= len(stored["metadata"]["visualizations"]) < 6
    finally:
        server.stop()


def test_titles_over_the_cap_are_refused(local_server: Any, http: httpx.Client, token: str) -> None:
    """Attack: a 5 MB chat title accepted on rename."""
    base = local_server.base_url
    _error(
        http.post(f"{base}/v1/chats/create", headers=bearer(token), json={"title": "t" * 201}),
        400,
        "INVALID_REQUEST",
    )
    chat = http.post(f"{base}/v1/chats/create", headers=bearer(token), json={"title": "ok"}).json()
    url = f"{base}/v1/chats/{chat['id']}"
    assert "limit is 200" in _error(
        http.put(url, headers=bearer(token), json={"title": "t" * 300}), 400, "INVALID_REQUEST"
    )
    _error(http.put(url, headers=bearer(token), json={"title": "t" * (5 * MB)}), 413, "PAYLOAD_TOO_LARGE")
    _error(
        http.post(f"{base}/v1/chats", headers=bearer(token), json={"message": "hi", "title": "t" * 201}),
        400,
        "INVALID_REQUEST",
    )
    assert http.get(url, headers=bearer(token)).json()["title"] == "ok"


def test_a_websocket_frame_over_the_cap_closes_with_1009(local_server: Any, token: str) -> None:
    with _ws(local_server.base_url, token) as ws:
        ws.send(json.dumps({"action": "ping", "pad": "x" * (2 * MB)}))
        with pytest.raises(ConnectionClosed) as closed:
            json_frame(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


# --- 3. SQL functions: an allowlist -------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT fts3_tokenizer('simple')",
        "SELECT fts3_tokenizer('simple', x'0000000000000000')",
        "SELECT load_extension('/tmp/x')",
        "SELECT fts5(NULL)",
        "SELECT unknown_function(1)",
    ],
)
def test_functions_outside_the_allowlist_are_refused(tmp_path: Path, sql: str) -> None:
    """Attack: fts3_tokenizer('simple') returned a native pointer; its write form was accepted."""
    from trellis_jupyter.local.planner_protocol import QueryError

    runner = QueryRunner(make_db(tmp_path / "items.sqlite"))
    with pytest.raises(QueryError, match=r"refused|no such function") as refused:
        runner.run(sql)
    assert refused.value.code == "QUERY_FAILED"
    # Reading functions still work.
    result = runner.run("SELECT upper(name), length(name), round(avg(qty), 2), date('now') FROM items")
    assert result.rows


def test_fts3_tokenizer_through_the_server(local_server: Any, http: httpx.Client, token: str) -> None:
    events = read_stream(
        http,
        "POST",
        f"{local_server.base_url}/v1/chats",
        headers=bearer(token),
        body={"message": "SELECT fts3_tokenizer('simple') FROM customers LIMIT 1"},
    )
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "QUERY_FAILED"
    assert "fts3_tokenizer() is not among the reading functions" in events[-1][1]["error"]


# --- 7. odd inputs: a 4xx with the documented body, never a 500; sockets stay open ------------


def _jwt_with_claims(raw_claims: bytes) -> str:
    enc = base64.urlsafe_b64encode
    head = enc(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    return f"{head}.{raw_claims.decode('latin-1')}.c2ln"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/v1/chats", {"params": {"page": "9223372036854775807"}}, 400, "INVALID_REQUEST"),
        ("POST", "/v1/chats", {"content": "[" * 1000 + "]" * 1000}, 400, "INVALID_REQUEST"),
        (
            "POST",
            "/v1/chats",
            {"content": '{"message": ' + "[" * 5000 + "]" * 5000 + "}"},
            400,
            "INVALID_REQUEST",
        ),
        ("POST", "/v1/chats", {"content": '{"message": "hi \\ud800"}'}, 400, "INVALID_REQUEST"),
        ("POST", "/v1/chats/create", {"content": '{"title": "\\ud800"}'}, 400, "INVALID_REQUEST"),
        ("POST", "/v1/chats", {"content": b'{"message": "\xff\xfe"}'}, 400, "INVALID_REQUEST"),
    ],
)
def test_odd_requests_get_a_4xx(
    local_server: Any,
    http: httpx.Client,
    token: str,
    method: str,
    path: str,
    kwargs: Any,
    status: int,
    code: str,
) -> None:
    response = http.request(
        method,
        local_server.base_url + path,
        headers={**bearer(token), "Content-Type": "application/json"},
        **kwargs,
    )
    _error(response, status, code)


def test_a_non_ascii_jwt_and_a_surrogate_email_get_a_4xx(local_server: Any, http: httpx.Client) -> None:
    """Attack: a JWT whose claims segment is not ASCII; an email holding \\ud800 (both were 500s)."""
    bad = _jwt_with_claims("é".encode())
    headers = {"Authorization": f"Bearer {bad}".encode("latin-1")}
    _error(http.get(f"{local_server.base_url}/v1/models", headers=headers), 401, "UNAUTHORIZED")  # type: ignore[arg-type]
    _error(
        http.post(
            f"{local_server.base_url}/v1/authenticate",
            headers={"X-API-Key": local_server.api_key, "Content-Type": "application/json"},
            content=b'{"email": "a\\ud800@b.io"}',
        ),
        400,
        "INVALID_REQUEST",
    )


@pytest.mark.parametrize(
    "raw",
    [
        '{"action": "send_message", "message": "hi \\ud800"}',
        "[" * 1000 + "]" * 1000,
        '{"action": "ping", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"action": "send_message", "message": "' + "y" * 5000 + '"}',
    ],
)
def test_odd_frames_get_an_error_frame_and_the_socket_stays_open(
    local_server: Any, token: str, raw: str
) -> None:
    with _ws(local_server.base_url, token) as ws:
        ws.send(raw)
        frame = json_frame(ws)
        assert frame["event"] == "error", frame
        assert frame["data"]["code"] in ("INVALID_FRAME", "INVALID_REQUEST")
        _stays_open(ws)


@pytest.mark.parametrize(
    "question",
    ["orders in the last 999999999999 days", "orders between 0001-01-01 and 9999-12-31"],
)
def test_dates_out_of_range_are_a_clear_answer(
    local_server: Any, http: httpx.Client, token: str, question: str
) -> None:
    """Attack: OverflowError / date out of range inside the planner ended as INTERNAL failures."""
    events = read_stream(
        http, "POST", f"{local_server.base_url}/v1/chats", headers=bearer(token), body={"message": question}
    )
    name, data = events[-1]
    if name == "error":
        assert data["code"] != "INTERNAL", data
    else:
        assert name == "message"


# --- 8. limits: authentication per address, connection timeouts, creation ------------------


def test_wrong_api_keys_are_rate_limited_per_address(tmp_path: Path) -> None:
    """Attack: 3,000 wrong API keys at 944/s, never a 429."""
    server = serve_in_background({"items": make_db(tmp_path / "i.sqlite")}, auth_failure_limits=((5, 60.0),))
    try:
        url = f"{server.base_url}/v1/authenticate"
        body = {"email": "a@b.io"}
        with httpx.Client(timeout=10) as http:
            codes = [
                http.post(url, headers={"X-API-Key": f"guess-{i}"}, json=body).status_code for i in range(8)
            ]
            assert codes[:5] == [401] * 5
            assert codes[5:] == [429] * 3
            limited = http.post(url, headers={"X-API-Key": server.api_key}, json=body)
            assert "Too many failed authentications" in _error(limited, 429, "RATE_LIMIT")
            assert int(limited.headers["retry-after"]) >= 1
    finally:
        server.stop()


def test_silent_and_slow_connections_are_closed(tmp_path: Path) -> None:
    """Attack: half-open connections (silent, or headers a byte at a time) were never closed."""
    server = serve_in_background({"items": make_db(tmp_path / "i.sqlite")}, header_timeout=1.0)
    try:
        silent = socket.create_connection(address(server.base_url))
        slow = socket.create_connection(address(server.base_url))
        slow.sendall(b"GET /v1/models HTTP/1.1\r\n")

        def trickle() -> None:
            for _ in range(30):
                try:
                    slow.sendall(b"X")
                except OSError:
                    return
                time.sleep(0.2)

        threading.Thread(target=trickle, daemon=True).start()
        # Without the header timeout both stay open: read_until_closed fails after 10 s of silence
        # (the trickle itself keeps the slow one busy for 6 s, then stops).
        assert read_until_closed(silent, timeout=10) == b""
        read_until_closed(slow, timeout=10)
        silent.close()
        slow.close()
        # A normal request on a new connection still works.
        assert httpx.get(f"{server.base_url}/v1/models").status_code == 401
    finally:
        server.stop()


def test_sends_without_a_chat_id_count_against_chat_creation(tmp_path: Path) -> None:
    """Attack: while creation was limited, a send without chat id still created chats."""
    server = serve_in_background({"items": make_db(tmp_path / "i.sqlite")}, create_chat_limits=((2, 60.0),))
    try:
        token = token_for(server)
        url = f"{server.base_url}/v1/chats"
        with httpx.Client(timeout=30) as http:
            for _ in range(2):
                read_stream(http, "POST", url, headers=bearer(token), body={"message": "SELECT 1 FROM items"})
            _error(
                http.post(url, headers=bearer(token), json={"message": "SELECT 1 FROM items"}),
                429,
                "RATE_LIMIT",
            )
            _error(http.post(url + "/create", headers=bearer(token), json={}), 429, "RATE_LIMIT")
            assert http.get(url, headers=bearer(token)).json()["total"] == 2
    finally:
        server.stop()


# --- 6. WebSocket authentication expires with its token; one member per socket --------------


def test_a_socket_authentication_expires_with_its_token(tmp_path: Path) -> None:
    """Attack: a socket kept working after its token expired (REST said 401 for the same token)."""
    server = serve_in_background({"items": make_db(tmp_path / "i.sqlite")})
    try:
        # 4 s: the connect and the first ping must beat the expiry on a loaded 2-core CI machine.
        short = server.mint_token(expires_in=4)
        with _ws(server.base_url, short) as ws:
            _stays_open(ws)
            time.sleep(4.5)
            frame = json_frame(ws)
            assert frame["event"] == "error"
            assert frame["data"]["code"] == "UNAUTHORIZED"
            assert "expired" in frame["data"]["error"]
            with pytest.raises(ConnectionClosed) as closed:
                json_frame(ws)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4001
        # Re-authenticating with a fresh token of the same member keeps the socket alive.
        with _ws(server.base_url, server.mint_token(expires_in=4)) as ws:
            ws.send(json.dumps({"action": "authenticate", "token": server.mint_token()}))
            assert json_frame(ws)["event"] == "authenticated"
            time.sleep(4.5)
            _stays_open(ws)
    finally:
        server.stop()


def test_reauthenticating_as_another_member_is_refused(
    local_server: Any, token: str, http: httpx.Client
) -> None:
    """Attack: a re-authenticate frame with another member's token was acknowledged, then ignored."""
    other = token_for(local_server, "mallory@example.com")
    with _ws(local_server.base_url, token) as ws:
        ws.send(json.dumps({"action": "authenticate", "token": other}))
        frame = json_frame(ws)
        assert frame["event"] == "error"
        assert frame["data"]["code"] == "UNAUTHORIZED"
        assert "another member" in frame["data"]["error"]
        _stays_open(ws)
        # The socket still speaks for its first member: a chat it creates is theirs.
        ws.send(json.dumps({"action": "send_message", "message": "how many customers are there"}))
        chat_id = next(f["data"]["id"] for f in _turn_frames(ws) if f["event"] == "chat_metadata")
    mine = http.get(f"{local_server.base_url}/v1/chats/{chat_id}", headers=bearer(token))
    assert mine.status_code == 200
    assert http.get(f"{local_server.base_url}/v1/chats/{chat_id}", headers=bearer(other)).status_code == 404


def _turn_frames(ws: ClientConnection) -> list[dict[str, Any]]:
    return _turn(ws)


# --- 9. one turn at a time per chat, on every transport ---------------------------------------


def test_a_second_send_into_a_running_chat_gets_409_over_sse(tmp_path: Path) -> None:
    """Attack: two sends at once into one chat over SSE were stored user, user, assistant, assistant."""
    planner = SteeredPlanner()
    server = serve_in_background({"items": make_db(tmp_path / "i.sqlite")}, planner=planner)
    try:
        token = token_for(server)
        url = f"{server.base_url}/v1/chats"
        with httpx.Client(timeout=30) as http:
            chat_id = http.post(url + "/create", headers=bearer(token), json={}).json()["id"]
            planner.gate.clear()
            out: list[Any] = []
            body = {"message": "SELECT count(*) FROM items", "chat_id": chat_id}
            first = threading.Thread(
                target=lambda: out.append(
                    read_stream(httpx.Client(timeout=30), "POST", url, headers=bearer(token), body=body)
                )
            )
            first.start()
            deadline = time.monotonic() + 10
            while planner.calls == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            second = http.post(url, headers=bearer(token), json=body)
            assert "already being written" in _error(second, 409, "TURN_IN_PROGRESS")
            with _ws(server.base_url, token) as ws:  # and over a socket too
                ws.send(json.dumps({"action": "send_message", **body}))
                frame = json_frame(ws, 15)
                assert frame["data"]["code"] == "TURN_IN_PROGRESS"
            planner.gate.set()
            first.join(30)
            assert out[0][-1][0] == "message"
            roles = [
                m["role"] for m in http.get(f"{url}/{chat_id}", headers=bearer(token)).json()["messages"]
            ]
            assert roles == ["user", "assistant"]
            read_stream(http, "POST", url, headers=bearer(token), body=body)  # free again
    finally:
        planner.gate.set()
        server.stop()


# --- 10. the store folder is 0700 in every order of first use ---------------------------------


@pytest.mark.parametrize("order", ["demo first", "store first", "old 0755 folder"])
def test_the_store_folder_is_private_in_every_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    """Attack: the folder was 0755 when the demo database had been built before the store."""
    from trellis_jupyter.local import demo
    from trellis_jupyter.local.store import Store, default_store_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "trellis-jupyter"
    monkeypatch.setattr(demo, "DEMO_ORDERS", 50)
    if order == "old 0755 folder":
        folder.mkdir(mode=0o755)
        os.chmod(folder, 0o755)
    steps = [lambda: demo.ensure_demo_database(orders=50), lambda: Store(default_store_path()).close()]
    for step in steps if order != "store first" else steps[::-1]:
        step()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, order
    assert stat.S_IMODE((folder / "chats.sqlite").stat().st_mode) == 0o600
