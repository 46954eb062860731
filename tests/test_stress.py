"""The local server under stress, and killed mid-answer (slow: run in CI's slow step).

Promises:

- 100 concurrent conversations over SSE, plus WebSocket connections up to the per-token cap for
  several tokens, all within a time bound: every answer completes whole, a socket beyond the cap is
  refused (4429), and the store holds exactly the messages sent, no more, no fewer;
- the server killed with SIGKILL in the middle of answers, then restarted on the same store:
  every earlier chat and message is intact, an interrupted turn left its question and no half
  answer, the store passes SQLite's integrity and foreign-key checks, and new questions work.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faults_helpers import long_text, start_server, user_questions

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import ConflictError

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CONVERSATIONS = 100
TOKENS = 4
CAP = 3  # sockets per token (the documented default)
QUESTIONS = 2  # per conversation and per socket
BOUND = 150.0  # seconds for the whole load


def _store_counts(path: str) -> tuple[int, int, int]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        chats = db.execute("SELECT COUNT(*) FROM chats").fetchone()[0]
        users = db.execute("SELECT COUNT(*) FROM messages WHERE role = 'user'").fetchone()[0]
        assistants = db.execute("SELECT COUNT(*) FROM messages WHERE role = 'assistant'").fetchone()[0]
        return chats, users, assistants
    finally:
        db.close()


def _check_store(path: str) -> None:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = db.execute(
            "SELECT COUNT(*) FROM messages m LEFT JOIN chats c ON c.id = m.chat_id WHERE c.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
    finally:
        db.close()


@pytest.fixture
def loaded_server(tmp_path: Path) -> Iterator[Any]:
    srv = start_server(
        store=str(tmp_path / "stress.sqlite"),
        pace=0.002,
        create_chat_limits=((10_000, 60.0),),
        ws_connection_cap=CAP,
    )
    try:
        yield srv
    finally:
        srv.stop()


async def _sse_conversation(client: AsyncTrellis, n: int) -> list[Any]:
    conversation = client.conversation()
    return [await conversation.ask(f"long answer please [sse {n} q{q}]") for q in range(QUESTIONS)]


async def _ws_token(server: Any, t: int) -> tuple[list[Any], bool]:
    """CAP sockets on one token, each asking QUESTIONS in its own chat; a socket beyond the cap is refused."""
    async with AsyncTrellis(
        base_url=server.base_url, token=server.mint_token(), email=server.email
    ) as client:
        sockets = [await client.websocket() for _ in range(CAP)]
        refused = False
        try:
            try:
                extra = await client.websocket()
                await extra.aclose()
            except ConflictError:
                refused = True

            async def one(s: int) -> list[Any]:
                chat_id = (await client.chats.create())["id"]
                return [
                    await sockets[s].ask(f"long answer please [ws {t}.{s} q{q}]", chat_id=chat_id)
                    for q in range(QUESTIONS)
                ]

            results = await asyncio.gather(*(one(s) for s in range(CAP)))
        finally:
            for socket in sockets:
                await socket.aclose()
    return [a for answers in results for a in answers], refused


@pytest.mark.anyio
async def test_100_conversations_and_capped_sockets_complete_and_store_exactly(loaded_server: Any) -> None:
    """100 SSE conversations + CAP sockets x several tokens at once: all complete, store exact."""
    server = loaded_server
    async with AsyncTrellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as client:
        sse = asyncio.gather(*(_sse_conversation(client, n) for n in range(CONVERSATIONS)))
        ws = asyncio.gather(*(_ws_token(server, t) for t in range(TOKENS)))
        sse_answers, ws_results = await asyncio.wait_for(asyncio.gather(sse, ws), BOUND)
    answers = [a for conversation in sse_answers for a in conversation]
    answers += [a for result, _ in ws_results for a in result]
    assert all(refused for _, refused in ws_results), "a socket beyond the per-token cap was accepted"
    expected = CONVERSATIONS * QUESTIONS + TOKENS * CAP * QUESTIONS
    assert len(answers) == expected
    assert all(a.complete and a.text == long_text() and len(a.tables) == 1 for a in answers)
    assert len({a.message_id for a in answers}) == expected  # every answer its own stored message
    chats, users, assistants = _store_counts(server.store_path)
    assert (chats, users, assistants) == (CONVERSATIONS + TOKENS * CAP, expected, expected)
    # Each SSE conversation's chat holds its own questions, in order, once each.
    with Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as sync:
        for n, conversation in enumerate(sse_answers[:10]):
            chat = sync.chats.get(conversation[0].chat_id)
            assert user_questions(chat) == [f"long answer please [sse {n} q{q}]" for q in range(QUESTIONS)]
            assert [m["role"] for m in chat["messages"]] == ["user", "assistant"] * QUESTIONS
    _check_store(server.store_path)


SERVE = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from faults_helpers import start_server
server = start_server(store=sys.argv[1], pace=float(sys.argv[2]))
print(json.dumps({"base_url": server.base_url, "api_key": server.api_key, "email": server.email}), flush=True)
time.sleep(300)
"""


def _spawn(store: Path, pace: float) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    tests = str(Path(__file__).parent)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(store), str(pace), tests],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the server listens (or the process died)
    assert line, "the server process did not start"
    return process, json.loads(line)


def _ask_until_killed(
    info: dict[str, Any], question: str, chat_id: str, started: threading.Event, out: list[Any]
) -> None:
    with Trellis(**info) as client:
        try:
            with client.chats.stream(question, chat_id=chat_id) as stream:
                for _event in stream:
                    if stream.answer.text:
                        started.set()
        except Exception as exc:  # the kill cuts the stream: that is the point
            out.append(exc)
        finally:
            started.set()


def test_sigkill_mid_answer_then_restart_keeps_every_chat(tmp_path: Path) -> None:
    """SIGKILL during three answers: earlier chats intact, cut turns keep only their question, store sound."""
    store = tmp_path / "killed.sqlite"
    process, info = _spawn(store, pace=0.05)  # 40 words at 50 ms: each answer takes ~2 s
    try:
        with Trellis(**info) as client:
            before: dict[str, list[tuple[str, str]]] = {}
            for n in range(4):
                conversation = client.conversation()
                for q in range(2 if n == 0 else 1):
                    conversation.ask(f"long answer please [before {n} q{q}]")
                assert conversation.chat_id is not None
                chat = client.chats.get(conversation.chat_id)
                before[conversation.chat_id] = [(m["id"], m["content"]) for m in chat["messages"]]
            cut_chats = [client.chats.create()["id"] for _ in range(3)]
        starts = [threading.Event() for _ in cut_chats]
        errors: list[Any] = []
        threads = [
            threading.Thread(
                target=_ask_until_killed,
                args=(info, f"long answer please [cut {i}]", chat_id, starts[i], errors),
                daemon=True,
            )
            for i, chat_id in enumerate(cut_chats)
        ]
        for thread in threads:
            thread.start()
        assert all(event.wait(30) for event in starts), "the answers did not start"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    for thread in threads:
        thread.join(10)
    assert len(errors) == len(cut_chats)  # every answer was cut by the kill

    _check_store(str(store))
    process, info = _spawn(store, pace=0.0)  # same store, same key (kept in the store)
    try:
        with Trellis(**info) as client:
            for chat_id, messages in before.items():
                chat = client.chats.get(chat_id)
                assert [(m["id"], m["content"]) for m in chat["messages"]] == messages
            for i, chat_id in enumerate(cut_chats):
                chat = client.chats.get(chat_id)
                roles = [m["role"] for m in chat["messages"]]
                assert user_questions(chat) == [f"long answer please [cut {i}]"]
                assert roles == ["user"], roles  # no half answer was saved
            again = client.conversation(chat_id=cut_chats[0]).ask("long answer please [after restart]")
            assert again.complete
            assert again.text == long_text()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    _check_store(str(store))
