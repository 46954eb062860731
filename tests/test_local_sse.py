"""Turns over SSE: event order and framing, keepalive, disconnects, failures, read-only SQL."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from local_helpers import (
    SteeredPlanner,
    bearer,
    data_of,
    file_digest,
    make_db,
    names,
    read_stream,
    token_for,
    wait_until,
)

from trellis_jupyter.events import parse_event
from trellis_jupyter.local import LocalServer, serve_in_background

RUNAWAY = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
ERROR_FIELDS = {"error", "code", "retryable", "debug_id", "error_type"}


@pytest.fixture(scope="module")
def planner() -> SteeredPlanner:
    return SteeredPlanner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, planner: SteeredPlanner) -> Iterator[LocalServer]:
    folder = tmp_path_factory.mktemp("sse")
    with serve_in_background(
        databases={"items": make_db(folder / "items.sqlite")},
        planner=planner,
        keepalive_interval=0.05,
        query_timeout=0.5,
        row_cap=10,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield http


@pytest.fixture
def auth(server: LocalServer) -> dict[str, str]:
    return bearer(token_for(server))


@pytest.fixture(autouse=True)
def _open_gate(planner: SteeredPlanner) -> Iterator[None]:
    planner.gate.set()
    planner.text = None
    yield
    planner.gate.set()


def _ask(
    client: httpx.Client, auth: dict[str, str], message: str, **fields: Any
) -> list[tuple[str, dict[str, Any]]]:
    return read_stream(client, "POST", "/v1/chats", headers=auth, body={"message": message, **fields})


def test_turn_events_come_in_documented_order(client: httpx.Client, auth: dict[str, str]) -> None:
    events = _ask(client, auth, "SELECT name, qty FROM items ORDER BY id LIMIT 4")
    order = names(events)
    assert order[0] == "chat_metadata"
    assert order[-1] == "message"
    assert [d["status"] for d in data_of(events, "processing")][:3] == ["starting", "thinking", "analyzing"]
    assert order.index("visualization") < order.index("text_delta")
    deltas = "".join(d["content"] for d in data_of(events, "text_delta"))
    assert len(data_of(events, "text_delta")) > 1
    assert deltas == data_of(events, "message")[0]["content"]
    table = data_of(events, "visualization")[0]
    assert table["type"] == "table"
    assert table["headers"] == ["name", "qty"]
    assert len(table["id"]) == 10
    assert table["id"].isalnum()
    for name, data in events:  # every event reads with the shared parser
        parse_event(name, data)


def test_each_event_is_written_in_one_chunk(server: LocalServer, auth: dict[str, str]) -> None:
    body = {"message": "SELECT name FROM items ORDER BY id LIMIT 2"}
    with (
        httpx.Client(base_url=server.base_url) as http,
        http.stream("POST", "/v1/chats", headers=auth, json=body) as r,
    ):
        chunks = [chunk.decode() for chunk in r.iter_raw()]
    assert chunks
    for chunk in chunks:
        # A read may hold several events, but never a part of one.
        assert chunk.endswith("\n\n"), chunk
        for block in chunk.split("\n\n")[:-1]:
            lines = block.split("\n")
            if lines[0].startswith(":"):
                continue
            assert lines[0].startswith("event: ")
            assert lines[1].startswith("data: ")
            json.loads(lines[1][6:])


def test_row_cap_marks_the_table_truncated(client: httpx.Client, auth: dict[str, str]) -> None:
    table = data_of(_ask(client, auth, "SELECT id FROM items"), "visualization")[0]
    assert (len(table["rows"]), table["row_count"], table["truncated"]) == (10, 50, True)
    assert table["sql"] == "SELECT id FROM items"


def test_keepalive_comments_flow_while_the_planner_works(
    server: LocalServer, planner: SteeredPlanner, auth: dict[str, str]
) -> None:
    planner.gate.clear()
    seen: list[str] = []
    with (
        httpx.Client(base_url=server.base_url) as http,
        http.stream("POST", "/v1/chats", headers=auth, json={"message": "SELECT 1 AS one"}) as response,
    ):
        for line in response.iter_lines():
            seen.append(line)
            if line == ": keepalive":
                planner.gate.set()
    assert ": keepalive" in seen
    assert "event: message" in seen


def test_client_disconnect_interrupts_and_saves_no_answer(
    server: LocalServer, planner: SteeredPlanner, client: httpx.Client, auth: dict[str, str]
) -> None:
    planner.gate.clear()
    calls = planner.calls
    with (
        httpx.Client(base_url=server.base_url) as http,
        http.stream("POST", "/v1/chats", headers=auth, json={"message": "SELECT 1 AS one"}) as response,
    ):
        lines = response.iter_lines()
        first = next(lines)
        chat_line = next(lines)
        # Leave only once the planner is at work, so the disconnect lands mid-answer (leaving
        # earlier may cancel the turn before the planner is ever called).
        wait_until(lambda: planner.calls == calls + 1, what="the planner to start")
    assert first == "event: chat_metadata"
    chat_id = json.loads(chat_line[6:])["id"]
    # The planner is still held, so only a cancelled turn can end.
    wait_until(lambda: server.active_turns == 0, what="the abandoned turn to be cancelled")
    planner.gate.set()
    messages = client.get(f"/v1/chats/{chat_id}", headers=auth).json()["messages"]
    assert [m["role"] for m in messages] == ["user"]
    # The chat goes on: the next turn is answered and saved.
    _ask(client, auth, "SELECT 2 AS two", chat_id=chat_id)
    assert [m["role"] for m in client.get(f"/v1/chats/{chat_id}", headers=auth).json()["messages"]] == [
        "user",
        "user",
        "assistant",
    ]


def test_a_server_failure_says_its_debug_id_once(
    server: LocalServer, planner: SteeredPlanner, client: httpx.Client, auth: dict[str, str]
) -> None:
    """Found by use: a planner error read "The local server failed to answer (debug id X); ask
    again or rephrase the question; ask again in a moment (debug id X)." in the widget."""
    from trellis_jupyter.client import Trellis
    from trellis_jupyter.errors import AnswerError

    planner.fail = LookupError("no foreign-key path joins titanic to penguins")
    try:
        events = _ask(client, auth, "SELECT 1 AS one")
        error = data_of(events, "error")[0]
        assert (error["code"], error["retryable"]) == ("INTERNAL", True)
        assert error["error"] == f"The local server failed to answer (debug id {error['debug_id']})."
        assert "titanic" not in json.dumps(events)  # the cause stays in the server's log
        with (
            Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as trellis,
            pytest.raises(AnswerError) as caught,
        ):
            trellis.conversation().ask("SELECT 1 AS one")
        message = str(caught.value)
        assert message.count("debug id") == 1, message
        assert message.startswith("Trellis could not answer: The local server failed to answer (debug id ")
        assert message.endswith("; ask again in a moment.")
    finally:
        planner.fail = None


def test_failed_query_ends_with_a_full_error_event_and_keeps_the_question(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    events = _ask(client, auth, "SELECT * FROM nowhere")
    assert names(events)[-1] == "error"
    error = data_of(events, "error")[0]
    assert set(error) >= ERROR_FIELDS
    assert error["code"] == "QUERY_FAILED"
    assert error["retryable"] is False
    assert "no such table: nowhere" in error["error"]
    chat_id = data_of(events, "chat_metadata")[0]["id"]
    messages = client.get(f"/v1/chats/{chat_id}", headers=auth).json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("user", "SELECT * FROM nowhere")]


def test_runaway_query_through_a_chat_is_stopped_with_query_timeout(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    events = _ask(client, auth, RUNAWAY)
    error = data_of(events, "error")[0]
    assert error["code"] == "QUERY_TIMEOUT"
    assert set(error) >= ERROR_FIELDS


@pytest.mark.parametrize(
    "message",
    [
        "WITH doomed AS (SELECT 1) DELETE FROM items",
        "WITH t AS (SELECT 1) UPDATE items SET qty = 0",
        "DROP TABLE items",
        "UPDATE items SET qty = 0",
        "ATTACH DATABASE 'other.sqlite' AS other",
        "PRAGMA user_version = 9",
    ],
)
def test_passthrough_writes_are_refused_and_the_file_is_unchanged(
    server: LocalServer, client: httpx.Client, auth: dict[str, str], message: str
) -> None:
    path = server.databases["items"]
    before = file_digest(path)
    events = _ask(client, auth, message)
    assert names(events)[-1] in ("message", "error")
    if names(events)[-1] == "error":
        assert data_of(events, "error")[0]["code"] == "QUERY_FAILED"
    assert file_digest(path) == before
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*), sum(qty) FROM items").fetchone() == (
            50,
            sum(i * 3 % 17 for i in range(50)),
        )
    db.close()


def test_planner_gets_earlier_turns_with_their_plans(
    planner: SteeredPlanner, client: httpx.Client, auth: dict[str, str]
) -> None:
    chat_id = data_of(_ask(client, auth, "SELECT 1 AS one"), "chat_metadata")[0]["id"]
    _ask(client, auth, "SELECT 2 AS two", chat_id=chat_id)
    history = planner.histories[-1]
    assert [turn.question for turn in history] == ["SELECT 1 AS one"]
    assert history[0].state is not None
    assert history[0].state["sql"] == "SELECT 1 AS one"


def test_planner_crash_is_an_internal_error_with_a_logged_debug_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def answer(self, question: str, **kwargs: Any) -> Any:
            raise RuntimeError("planner bug")

    with (
        serve_in_background(databases={"items": make_db(tmp_path / "i.sqlite")}, planner=Broken()) as broken,
        httpx.Client(base_url=broken.base_url) as http,
    ):
        token = token_for(broken)
        with caplog.at_level(logging.ERROR, logger="trellis_jupyter.local"):
            events = read_stream(http, "POST", "/v1/chats", headers=bearer(token), body={"message": "hi"})
    error = data_of(events, "error")[0]
    assert error["code"] == "INTERNAL"
    assert set(error) >= ERROR_FIELDS
    assert error["debug_id"] in error["error"]
    assert error["debug_id"] in caplog.text
    assert "planner bug" in caplog.text  # the cause is logged for the operator...
    assert "planner bug" not in error["error"]  # ...not sent to the user
    assert token not in caplog.text
