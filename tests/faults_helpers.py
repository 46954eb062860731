"""The fault scenarios every surface (client, magic, widget) is run through, and a planner for them.

A :class:`Scenario` installs its rules on a :class:`~faults.FaultProxy`, and says what a person must
get: the error class and its sentence (or a whole answer), whether a partial answer is kept, and
whether the server stored the question (``stored``: 1, or 0 when the fault kept it from the server).
Each surface's test then checks the same four promises: the sentence, the partial answer and chat id
kept, the next question working, and no question stored twice (GET /v1/chats/{id} on the server).
"""

from __future__ import annotations

import copy
import email.utils
import functools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from faults import Cut, EndBefore, FaultProxy, Inject, Reply, Stall, WSClose, WSDrop, sse

from trellis_jupyter.errors import (
    AnswerError,
    AuthenticationError,
    ConflictError,
    ConnectionLostError,
    MalformedEventError,
    RateLimitError,
    ServerError,
    TrellisError,
)
from trellis_jupyter.events import Table
from trellis_jupyter.local.planner_protocol import DatabaseInfo, PastTurn, PlannedAnswer, RunQuery

LONG_WORDS = 40
SEND = r"/v1/chats"
BIG_ROWS = 140_000  # ~10 MB of JSON in one visualization event


def long_text() -> str:
    return " ".join(f"word{i}" for i in range(LONG_WORDS)) + "."


class FaultPlanner:
    """Every question gets a 40-word answer (many text deltas) and a small real-SQL table."""

    def answer(
        self, question: str, *, database: DatabaseInfo, history: Sequence[PastTurn], run_query: RunQuery
    ) -> PlannedAnswer:
        result = run_query("SELECT region, COUNT(*) AS n FROM customers GROUP BY region ORDER BY region")
        table = Table(id="", headers=result.headers, rows=result.rows, title="By region", sql=result.sql)
        return PlannedAnswer(text=long_text(), visualizations=[table])


def start_server(**settings: Any) -> Any:
    """The real local server with :class:`FaultPlanner`; chat creation unthrottled (tests create many)."""
    from trellis_jupyter.local import serve_in_background

    options: dict[str, Any] = {"store": ":memory:", "pace": 0.0, "planner": FaultPlanner()}
    options.update(settings)
    options.setdefault("create_chat_limits", ((10_000, 60.0),))
    return serve_in_background(**options)


@functools.lru_cache(maxsize=1)
def big_table_event() -> bytes:
    rows = [[i, f"row {i} " + "x" * 60] for i in range(BIG_ROWS)]
    payload = {"id": "bigtable01", "type": "table", "title": "Big", "headers": ["id", "text"], "rows": rows}
    data = sse("visualization", payload)
    assert len(data) > 10_000_000
    return data


def error_payload(code: str, **extra: Any) -> dict[str, Any]:
    return {
        "error": f"Scripted failure {code}.",
        "code": code,
        "retryable": code in ("RATE_LIMIT", "QUERY_TIMEOUT", "INTERNAL", "TURN_IN_PROGRESS"),
        "debug_id": "dbg_fault01",
        "error_type": "scripted",
        **extra,
    }


# Codes of section 0.6 that can end a turn as an ``error`` event, with the advice a person must get.
ERROR_CODES: dict[str, str] = {
    "UNAUTHORIZED": r"check TRELLIS_API_KEY",
    "RATE_LIMIT": r"Rate limited: wait 12 s",
    "MISSING_CHAT_ID": r"Trellis could not answer: Scripted failure MISSING_CHAT_ID",
    "CHAT_NOT_FOUND": r"start a new chat",
    "MESSAGE_NOT_FOUND": r"reload the chat's history",
    "INTEGRATION_NOT_FOUND": r"client.integrations\(\)",
    "INVALID_REQUEST": r"Trellis could not answer: Scripted failure INVALID_REQUEST",
    "UNANSWERABLE": r"rephras",
    "QUERY_FAILED": r"rephras",
    "QUERY_TIMEOUT": r"narrower",
    "TURN_IN_PROGRESS": r"wait for the current answer",
    "INTERNAL": r"ask again in a moment \(debug id dbg_fault01\)",
    "SOMETHING_NEW": r"Trellis could not answer: Scripted failure SOMETHING_NEW",
}


@dataclass(frozen=True)
class Scenario:
    id: str
    promise: str
    install: Callable[[FaultProxy], object]  # its result is ignored
    error: type[TrellisError] | None = None
    sentence: str | None = None  # regex on str(error)
    partial: bool = False  # text received before the fault is kept
    stored: int = 1  # times the faulty question is on the server afterwards
    chat_kept: bool = True  # the chat id is known after the fault
    transport: str = "sse"
    client: dict[str, Any] = field(default_factory=dict)
    recoverable: bool = False  # the error is reported, and the same answer still completes
    tables: int = 1  # tables in a completed answer


def _rule(method: str, path: str, fault: Any) -> Callable[[FaultProxy], None]:
    def install(proxy: FaultProxy) -> None:
        proxy.add(method, path, copy.deepcopy(fault))  # a fresh copy: faults count the events they saw

    return install


def _http_date(seconds: float) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


def scenarios() -> list[Scenario]:
    """Every fault of the issue, once (error events: one per code in :data:`ERROR_CODES`)."""
    out = [
        Scenario(
            "sse-cut-mid-event",
            "a stream cut in the middle of an event keeps the partial answer and chat id",
            _rule("POST", SEND, Cut(b"event: text_delta", nth=5)),
            ConnectionLostError,
            r"connection dropped before the answer was complete",
            partial=True,
        ),
        Scenario(
            "sse-stall",
            "a server silent past the read timeout gives a sentence, not a hang",
            _rule("POST", SEND, Stall(b"event: text_delta", nth=5, seconds=5.0)),
            ConnectionLostError,
            r"went silent before the answer was complete",
            partial=True,
            client={"timeout": 2.0},  # margin for a loaded CI machine
        ),
        Scenario(
            "sse-malformed-json",
            "a malformed event is reported and the rest of the answer still arrives",
            _rule(
                "POST",
                SEND,
                Inject(b"event: text_delta", nth=3, data=b'event: text_delta\ndata: {"content": \n\n'),
            ),
            MalformedEventError,
            r"malformed 'text_delta' event \(event \d+ of the stream\)",
            recoverable=True,
        ),
        Scenario(
            "sse-unknown-event",
            "an unknown event is kept for the caller and never fails the answer",
            _rule("POST", SEND, Inject(b"event: text_delta", nth=2, data=sse("tool_call", {"name": "sql"}))),
        ),
        Scenario(
            "sse-10mb-event",
            "a 10 MB event is read whole",
            lambda proxy: (
                proxy.add("POST", SEND, Inject(b"event: text_delta", nth=1, data=big_table_event())) and None
            ),
            tables=2,
        ),
        Scenario(
            "sse-no-message",
            "an answer that ends without its message is reported as cut, partial answer kept",
            _rule("POST", SEND, EndBefore(b"event: message")),
            ConnectionLostError,
            r"connection dropped before the answer was complete",
            partial=True,
        ),
        Scenario(
            "rest-429-seconds",
            "429 on a send, waiting off (max_retry_wait=0): the wait from Retry-After, not replayed",
            _rule(
                "POST",
                SEND,
                Reply(429, {"detail": "Too many requests", "code": "RATE_LIMIT"}, {"Retry-After": "7"}),
            ),
            RateLimitError,
            r"Rate limited: wait 7 s",
            stored=0,
            client={"max_retry_wait": 0},
        ),
        Scenario(
            "rest-429-date",
            "429 with Retry-After as an HTTP date gives the seconds left",
            lambda proxy: (
                proxy.add("POST", SEND, Reply(429, {"detail": "Slow down"}, {"Retry-After": _http_date(30)}))
                and None
            ),
            RateLimitError,
            r"Rate limited: wait (29|30|31) s and ask again \(more than max_retry_wait, 20 s\)",
            stored=0,
            client={"max_retry_wait": 20},
        ),
        Scenario(
            "rest-401-once",
            "a 401 on a send renews the token and sends once more, transparently",
            _rule("POST", SEND, Reply(401, {"detail": "Token expired", "code": "UNAUTHORIZED"})),
        ),
        Scenario(
            "rest-500-after-receipt",
            "a 500 after the server took the question is reported, and the send is not replayed",
            _rule("POST", SEND, Reply(500, {"detail": "Boom", "code": "INTERNAL"}, forward=True)),
            ServerError,
            r"server error \(500: Boom\); try again in a moment",
        ),
        Scenario(
            "rest-503-after-receipt",
            "a 503 after the server took the question is reported, and the send is not replayed",
            _rule("POST", SEND, Reply(503, {"detail": "Unavailable"}, forward=True)),
            ServerError,
            r"server error \(503: Unavailable\)",
        ),
        Scenario(
            "rest-503-retry-after",
            "a 503 with Retry-After refuses the send (nothing done): it goes again after the wait, once",
            _rule("POST", SEND, Reply(503, {"detail": "Busy"}, {"Retry-After": "1"})),
        ),
        Scenario(
            "ws-1006",
            "a WebSocket dropped mid-answer (1006) keeps the partial answer; the next question reconnects",
            _rule("WS", r"/v1/chats/ws", WSDrop(b'"text_delta"', nth=5)),
            ConnectionLostError,
            r"WebSocket connection was lost during an answer \(1006\)",
            partial=True,
            transport="websocket",
        ),
        Scenario(
            "ws-4001",
            "a WebSocket closed with 4001 says to authenticate again; nothing is replayed",
            _rule(
                "WS", r"/v1/chats/ws", WSClose(4001, client_marker=b'"send_message"', reason="token expired")
            ),
            AuthenticationError,
            r"token is invalid or expired \(4001\)",
            stored=0,
            transport="websocket",
        ),
        Scenario(
            "ws-4429",
            "a WebSocket refused with 4429 says to close another socket",
            _rule(
                "WS",
                r"/v1/chats/ws",
                WSClose(
                    4429,
                    client_marker=b'"ping"',
                    error=error_payload("WS_CONNECTION_CAP"),
                    reason="connection cap",
                ),
            ),
            ConflictError,
            r"too many open connections for this token \(4429\)",
            stored=0,
            chat_kept=False,
            transport="websocket",
        ),
    ]
    for code, sentence in ERROR_CODES.items():
        extra = {"retry_after_seconds": 12} if code == "RATE_LIMIT" else {}
        out.append(
            Scenario(
                f"sse-error-{code}",
                f"an error event {code} gives its sentence, partial answer and chat id kept",
                _rule(
                    "POST",
                    SEND,
                    EndBefore(b"event: message", data=sse("error", error_payload(code, **extra))),
                ),
                AnswerError,
                sentence,
                partial=True,
            )
        )
    return out


ALL = scenarios()
BY_ID = {s.id: s for s in ALL}

# Known bugs, each a strict xfail that flips to a pass once fixed (none open now).
KNOWN_BUGS: dict[str, str] = {}


def params(items: Sequence[Scenario], bugs: dict[str, str] | None = None) -> list[Any]:
    """``pytest.param`` per scenario, id = scenario id, known bugs as strict xfails."""

    bugs = KNOWN_BUGS if bugs is None else bugs
    return [
        pytest.param(
            s, id=s.id, marks=[pytest.mark.xfail(strict=True, reason=bugs[s.id])] if s.id in bugs else []
        )
        for s in items
    ]


# The async client, the magic and the widget run every fault but only a few of the error codes
# (the sentence per code is the shared answer_error, checked for every code on the sync client).
SOME = [
    s
    for s in ALL
    if not s.id.startswith("sse-error-") or s.id in ("sse-error-RATE_LIMIT", "sse-error-INTERNAL")
]


def user_questions(chat: Mapping[str, Any]) -> list[str]:
    return [m["content"] for m in chat.get("messages", []) if m.get("role") == "user"]


def check_server(upstream: Any, chat_id: str | None, first: str, second: str, scenario: Scenario) -> None:
    """The chat on the server holds the faulty question ``stored`` times and the next one once."""
    assert chat_id is not None
    chat = upstream.chats.get(chat_id)
    questions = user_questions(chat)
    assert questions.count(first) == (scenario.stored if scenario.chat_kept else 0), questions
    assert questions.count(second) == 1, questions
    roles = [m["role"] for m in chat["messages"]]
    assert roles[-2:] == ["user", "assistant"], roles  # the next question got its answer stored


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
