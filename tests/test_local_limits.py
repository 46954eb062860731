"""The local server is for one person: no rate limits by default, the hosted ones on request.

``trellis-jupyter serve`` as a person starts it (a subprocess, default settings, its output read for
the key) answers 30 conversations at once; ``--hosted-limits`` / ``hosted_limits=True`` switch on
the hosted service's limits, each of which a test goes past.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from local_helpers import make_db

from trellis_jupyter.cli import build_parser
from trellis_jupyter.client import Trellis
from trellis_jupyter.errors import ConflictError, RateLimitError
from trellis_jupyter.local import serve_in_background
from trellis_jupyter.local.settings import HOSTED_LIMITS, make_settings

THREADS = 30


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    """``trellis-jupyter serve`` with its default settings (a free port, a store of its own)."""
    command = [
        sys.executable, "-m", "trellis_jupyter.cli", "serve", "--port", "0",
        "--store", str(tmp_path / "chats.sqlite"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        lines: dict[str, str] = {}
        for line in iter(process.stdout.readline, ""):
            if "running at" in line:
                lines["base_url"] = line.rsplit(" ", 1)[1].strip()
            elif ":" in line and line.startswith("  ") and not line.startswith("    "):
                key, _, value = line.strip().partition(":")
                lines[key] = value.strip()
            if line.startswith("Press Ctrl-C"):
                break
        assert "base_url" in lines, process.stderr.read() if process.stderr else ""
        yield lines
    finally:
        process.terminate()
        process.wait(15)


def test_thirty_conversations_at_once_are_all_answered(served: dict[str, str]) -> None:
    """30 threads x 2 questions on one token's server, default settings: every one answered, and
    the store holds exactly 30 chats of 4 messages."""
    assert served["Limits"].startswith("none")
    options: dict[str, Any] = {
        "base_url": served["base_url"],
        "api_key": served["API key"],
        "email": served["Email"],
    }
    failures: list[BaseException] = []
    chats: list[str] = []
    lock = threading.Lock()

    def converse(n: int) -> None:
        try:
            with Trellis(**options, max_retry_wait=0) as client:  # a refusal would fail, not wait
                conversation = client.conversation()
                first = conversation.ask("how many orders were placed")
                second = conversation.ask("now by region")
                assert first.complete
                assert second.complete
                assert first.chat_id == second.chat_id
                with lock:
                    chats.append(str(first.chat_id))
        except BaseException as exc:  # reported below, with the thread's number
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=converse, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    assert not failures, failures[:3]
    assert len(set(chats)) == THREADS
    with Trellis(**options) as client:
        listed = list(client.chats.iter_all())
        assert len(listed) == THREADS
        for chat in listed:
            messages = client.chats.get(chat["id"] if isinstance(chat, dict) else chat.id)["messages"]
            assert [m["role"] for m in messages] == ["user", "assistant"] * 2


def test_no_limit_by_default_and_the_hosted_ones_on_request(tmp_path: Path) -> None:
    database = {"items": make_db(tmp_path / "items.sqlite")}
    defaults = make_settings()
    assert not defaults.hosted_limits
    assert defaults.create_chat_limits == defaults.token_send_limits == defaults.ws_send_limits == ()
    assert defaults.ws_connection_cap == defaults.open_chat_cap == 0
    hosted = make_settings(hosted_limits=True, open_chat_cap=7)
    assert hosted.create_chat_limits == HOSTED_LIMITS["create_chat_limits"] == ((20, 60.0),)
    assert hosted.token_send_limits == ((30, 60.0),)
    assert hosted.ws_connection_cap == 3
    assert hosted.open_chat_cap == 7  # a limit set by name wins

    with (
        serve_in_background(databases=database) as mine,
        Trellis(base_url=mine.base_url, api_key=mine.api_key, email=mine.email, max_retry_wait=0) as c,
    ):
        ids = {c.chats.create()["id"] for _ in range(25)}  # past the hosted 20 a minute
        assert len(ids) == 25
        sockets = [c.websocket() for _ in range(4)]  # past the hosted 3 sockets a token
        for socket in sockets:
            socket.close()

    with (
        serve_in_background(databases=database, hosted_limits=True) as limited,
        Trellis(
            base_url=limited.base_url, api_key=limited.api_key, email=limited.email, max_retry_wait=0
        ) as c,
    ):
        for _ in range(20):
            c.chats.create()
        with pytest.raises(RateLimitError, match=r"^Rate limited: wait \d+ s and ask again\.$"):
            c.chats.create()
        sockets = [c.websocket() for _ in range(3)]
        with pytest.raises(ConflictError, match=r"too many open connections for this token \(4429\)"):
            c.websocket()
        for socket in sockets:
            socket.close()


def test_serve_help_lists_every_option_and_limit() -> None:
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr,index]
    text = serve.format_help()
    options = [a.option_strings[0] for a in serve._actions if a.option_strings and a.dest != "help"]
    assert "--hosted-limits" in options
    assert "--verbose" in options
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for option in options:
        assert option in text
        assert f"`{option}" in readme, f"the README does not list serve {option}"
    for limit in ("20 chats created a minute", "30 messages", "3 open sockets", "4429", "500 open chats"):
        assert limit in " ".join(text.split()), limit
        assert limit in " ".join(readme.split()), limit
