"""Helpers for the local server's tests: tiny databases, plain HTTP/SSE calls, steerable planners."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse

from trellis_jupyter.local.planner import Planner
from trellis_jupyter.local.planner_protocol import DatabaseInfo, PastTurn, PlannedAnswer, RunQuery

Event = tuple[str, dict[str, Any]]


def make_db(path: Path, rows: int = 50) -> str:
    """A small SQLite file with one ``items`` table of ``rows`` rows."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL)")
        db.executemany(
            "INSERT INTO items (name, qty) VALUES (?, ?)", [(f"item {i}", i * 3 % 17) for i in range(rows)]
        )
    db.close()
    return str(path)


def file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_HTTP: list[httpx.Client] = []


def _http() -> httpx.Client:
    # One plain client for helper calls: building an httpx client (its TLS context) costs ~0.1 s.
    if not _HTTP:
        _HTTP.append(httpx.Client(timeout=10))
    return _HTTP[0]


def token_for(server: Any, email: str | None = None) -> str:
    """A token from POST /v1/authenticate, as any client gets one."""
    response = _http().post(
        f"{server.base_url}/v1/authenticate",
        headers={"X-API-Key": server.api_key},
        json={"email": email or server.email},
    )
    response.raise_for_status()
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def read_stream(
    client: httpx.Client, method: str, url: str, *, headers: dict[str, str], body: dict[str, Any]
) -> list[Event]:
    """All events of one SSE response (status 200 checked), as (name, data) pairs."""
    with connect_sse(client, method, url, headers=headers, json=body) as source:
        assert source.response.status_code == 200, source.response.read()
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [(sse.event, json.loads(sse.data)) for sse in source.iter_sse()]


def names(events: Sequence[Event]) -> list[str]:
    return [name for name, _ in events]


def data_of(events: Sequence[Event], name: str) -> list[dict[str, Any]]:
    return [data for event, data in events if event == name]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll until ``predicate()`` holds; fail the test if it never does."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class SteeredPlanner:
    """The bundled planner, with a gate to hold an answer back and an optional long text.

    ``gate`` (cleared) blocks every answer until it is set; ``text`` replaces the answer's text;
    ``fail`` (an exception) is raised by every answer while it is set.
    ``calls`` counts answers started.
    """

    def __init__(self, text: str | None = None) -> None:
        self.inner = Planner()
        self.gate = threading.Event()
        self.gate.set()
        self.text = text
        self.fail: Exception | None = None  # raised by the next answers while set
        self.calls = 0
        self.histories: list[list[PastTurn]] = []

    def answer(
        self, question: str, *, database: DatabaseInfo, history: Sequence[PastTurn], run_query: RunQuery
    ) -> PlannedAnswer:
        self.calls += 1
        self.histories.append(list(history))
        self.gate.wait(30)
        if self.fail is not None:
            raise self.fail
        planned = self.inner.answer(question, database=database, history=history, run_query=run_query)
        if self.text is not None:
            planned.text = self.text
        return planned
