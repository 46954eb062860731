"""The chat store survives a restart, and a server killed mid-answer leaves it consistent."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
from local_helpers import bearer, data_of, make_db, read_stream, token_for

from trellis_jupyter.local import serve_in_background


def test_store_file_survives_a_restart(tmp_path: Path) -> None:
    databases = {"items": make_db(tmp_path / "items.sqlite")}
    store = str(tmp_path / "chats.sqlite")
    with (
        serve_in_background(databases=databases, store=store) as first,
        httpx.Client(base_url=first.base_url) as http,
    ):
        api_key = first.api_key
        token = token_for(first, "keeper@example.com")
        events = read_stream(
            http,
            "POST",
            "/v1/chats",
            headers=bearer(token),
            body={"message": "SELECT name FROM items LIMIT 2"},
        )
        chat_id = data_of(events, "chat_metadata")[0]["id"]
        message_id = data_of(events, "message")[0]["id"]
        http.put(f"/v1/chats/{chat_id}", headers=bearer(token), json={"title": "Kept"})
        http.patch(
            f"/v1/chats/messages/{message_id}/feedback", headers=bearer(token), json={"feedback": "positive"}
        )
        before = http.get(f"/v1/chats/{chat_id}", headers=bearer(token)).json()
    with (
        serve_in_background(databases=databases, store=store) as second,
        httpx.Client(base_url=second.base_url) as http,
    ):
        # The same key and the same signing secret: a token from before the restart still works.
        assert second.api_key == api_key
        after = http.get(f"/v1/chats/{chat_id}", headers=bearer(token)).json()
        assert after == before
        assert after["title"] == "Kept"
        assistant = after["messages"][1]
        assert assistant["metadata"]["feedback"] == "positive"
        assert assistant["metadata"]["visualizations"] == data_of(events, "visualization")
        # The member is the same person after re-authenticating.
        fresh = token_for(second, "keeper@example.com")
        listed = http.get("/v1/chats", headers=bearer(fresh)).json()
        assert [c["id"] for c in listed["chats"]] == [chat_id]


def _start_cli(tmp_path: Path, store: str, database: str) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "trellis_jupyter.cli", "serve", "--port", "0", "--store", store,
        "--db", f"items={database}", "--pace", "0.2",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "running at" in first, first + (process.stderr.read() if process.stderr else "")
    return process, first.rsplit(" ", 1)[1].strip()


def test_server_killed_mid_answer_leaves_a_consistent_store(tmp_path: Path) -> None:
    database = make_db(tmp_path / "items.sqlite")
    store = str(tmp_path / "chats.sqlite")
    process, base_url = _start_cli(tmp_path, store, database)
    try:
        with httpx.Client(base_url=base_url, timeout=10) as http:
            # The key is read from the command's output, as a person would.
            api_key = next(
                line.split(":", 1)[1].strip()
                for line in iter(process.stdout.readline, "")  # type: ignore[union-attr]
                if line.strip().startswith("API key:")
            )
            auth = http.post(
                "/v1/authenticate", headers={"X-API-Key": api_key}, json={"email": "k@example.com"}
            )
            token = auth.json()["token"]
            done = read_stream(
                http, "POST", "/v1/chats", headers=bearer(token), body={"message": "SELECT 1 AS one"}
            )
            chat_id = data_of(done, "chat_metadata")[0]["id"]
            body = {"message": "SELECT 2 AS two", "chat_id": chat_id}
            with http.stream("POST", "/v1/chats", headers=bearer(token), json=body) as response:
                for line in response.iter_lines():
                    if line == "event: text_delta":
                        os.kill(process.pid, signal.SIGKILL)  # mid-answer, paced deltas still to come
                        break
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == -signal.SIGKILL

    with sqlite3.connect(store) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    with (
        serve_in_background(databases={"items": database}, store=store) as again,
        httpx.Client(base_url=again.base_url) as http,
    ):
        messages = http.get(f"/v1/chats/{chat_id}", headers=bearer(token)).json()["messages"]
        # The first turn whole, the killed turn's question kept, and no half of its answer.
        assert [(m["role"], m["content"]) for m in messages][:3] == [
            ("user", "SELECT 1 AS one"),
            ("assistant", data_of(done, "message")[0]["content"]),
            ("user", "SELECT 2 AS two"),
        ]
        assert len(messages) == 3
        # The conversation goes on after the crash.
        events = read_stream(
            http,
            "POST",
            "/v1/chats",
            headers=bearer(token),
            body={"message": "SELECT 3 AS x", "chat_id": chat_id},
        )
        assert json.dumps(data_of(events, "visualization")[0]["rows"]) == "[[3]]"
        assert len(http.get(f"/v1/chats/{chat_id}", headers=bearer(token)).json()["messages"]) == 5
