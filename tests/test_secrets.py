"""Secrets canary: a planted API key and tokens never reach a log, repr, error, widget state, output or file.

One whole session runs with every logger at DEBUG (ours, httpx, httpcore, websockets, uvicorn,
the local server's): the client over SSE and WebSocket, with an API key and with a token given
directly; failures (a wrong key that contains the canary, an expired token, a server that echoes
the token in its 401 detail); the magic (ask, status, history, chats); the widget; then the
notebook is saved with the outputs and widget state. The API key, every token the clients held
and their signatures (a token's last segment alone is enough to forge nothing, but still a leak)
must appear in none of: log records (messages, arguments, tracebacks), reprs, exception texts
and tracebacks, widget state, published outputs, printed text, the notebook file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from faults import FaultProxy, Reply
from faults_helpers import FaultPlanner
from magic_helpers import RecordingPublisher, extension_shell

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import TrellisError

CANARY = "tjcanary" + secrets.token_hex(6)
API_KEY = f"{CANARY}-key-{secrets.token_urlsafe(12)}"
LOGGERS = ["", "trellis_jupyter", "httpx", "httpcore", "websockets", "uvicorn", "uvicorn.error", "asyncio"]


class Capture(logging.Handler):
    """Every record, formatted with its traceback, plus its raw message and arguments."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))
        self.texts.append(repr(record.msg) + repr(record.args))


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    logging.getLogger().addHandler(handler)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def server(tmp_path: Path, capture: Capture) -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    srv = serve_in_background(store=str(tmp_path / "store.sqlite"), api_key=API_KEY, planner=FaultPlanner())
    for name in ("uvicorn", "uvicorn.error"):  # uvicorn set its own levels on start: back to DEBUG
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield srv
    finally:
        srv.stop()


def _error_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


class Evidence:
    """Everything a secret could leak into, gathered as text."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.secrets: list[str] = [API_KEY, CANARY]

    def add(self, *items: Any) -> None:
        for item in items:
            self.texts.append(item if isinstance(item, str) else repr(item))

    def secret(self, value: str | None) -> None:
        if value:
            self.secrets.append(value)
            if value.count(".") == 2:
                self.secrets.append(value.rsplit(".", 1)[1])  # the JWT signature alone

    def fail(self, call: Any) -> TrellisError:
        try:
            call()
        except TrellisError as exc:
            self.texts += _error_texts(exc)
            return exc
        raise AssertionError("expected a TrellisError")

    def leaks(self, extra: list[str]) -> list[tuple[str, str]]:
        found = []
        for text in self.texts + extra:
            for secret in self.secrets:
                if secret and secret in text:
                    at = text.index(secret)
                    found.append((secret[:12] + "...", text[max(0, at - 80) : at + 20]))
        return found


def _client_session(server: Any, ev: Evidence, tmp_path: Path) -> None:
    options = {"base_url": server.base_url, "email": server.email}
    with Trellis(api_key=API_KEY, **options) as client:
        conversation = client.conversation()
        answer = conversation.ask("long answer please (sse)")
        ev.add(client, client.settings, client._tokens, conversation, answer, conversation.history())
        with client.chats.stream("long answer please (stopped)", chat_id=conversation.chat_id) as stream:
            next(iter(stream))
            ev.add(stream)
        with client.websocket() as socket:
            ev.add(socket, socket.ask("long answer please (ws)", chat_id=conversation.chat_id))
        token = client._tokens._token
        ev.secret(token.get_secret_value() if token is not None else None)
        ev.add(client.chats.list())

    planted = server.mint_token()
    ev.secret(planted)
    with Trellis(token=planted, **options) as client:
        ev.add(client, client.settings, client.conversation().ask("long answer please (planted token)"))
        with client.websocket() as socket:
            ev.add(socket.ask("long answer please (ws, planted)"))

    # Failures: a wrong key carrying the canary, an expired token, a token echoed back by a server.
    with Trellis(api_key=API_KEY + "-wrong", **options) as client:
        ev.secrets.append(API_KEY + "-wrong")
        ev.fail(lambda: client.models())
        ev.fail(lambda: client.websocket())
    expired = server.mint_token(expires_in=-60)
    ev.secret(expired)
    with Trellis(token=expired, **options) as client:
        ev.fail(lambda: client.models())
    with FaultProxy(server.base_url) as proxy:
        echoed = server.mint_token()
        ev.secret(echoed)
        proxy.add("GET", "/v1/models", Reply(401, {"detail": f"Bearer {echoed} was refused"}), times=5)
        proxy.add("POST", "/v1/chats", Reply(500, {"detail": f"key {API_KEY} and token {echoed} broke"}))
        # The client holds both (a token and the key to renew it), so it can scrub both.
        with Trellis(token=echoed, api_key=API_KEY, base_url=proxy.base_url, email=server.email) as client:
            ev.fail(lambda: client.models())
            renewed = client._tokens._token
            ev.secret(renewed.get_secret_value() if renewed is not None else None)
            ev.fail(lambda: client.conversation(chat_id="chat_x").ask("long answer please"))


def _widget_session(server: Any, ev: Evidence) -> dict[str, Any]:
    from trellis_jupyter.widget import ChatWidget

    async def run() -> dict[str, Any]:
        async with AsyncTrellis(base_url=server.base_url, api_key=API_KEY, email=server.email) as client:
            widget = ChatWidget(client=client)
            answer = await widget.ask("long answer please (widget)")
            ev.add(widget, answer, widget._repr_mimebundle_())
            token = client._tokens._token
            ev.secret(token.get_secret_value() if token is not None else None)
            state: dict[str, Any] = widget.get_state()
            ev.add(json.dumps(state, default=str))
            return state

    return asyncio.run(run())


def _magic_session(
    server: Any, ev: Evidence, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, Any]]:
    from trellis_jupyter.session import get_session

    with extension_shell(monkeypatch, server.env, names=("kept",)) as shell:
        publisher = shell.display_pub
        assert isinstance(publisher, RecordingPublisher)
        for cell in (
            "%%trellis -o kept\nlong answer please (magic)",
            "%trellis status",
            "%trellis history",
            "%trellis chats",
            "%trellis models",
            "%trellis use chat_does_not_exist",
        ):
            result = shell.run_cell(cell)
            if result.error_in_exec is not None:
                ev.texts += _error_texts(result.error_in_exec)
        session = get_session()
        ev.add(session, session.client, session.conversation, shell.user_ns.get("kept"))
        client = session._client
        token = client._tokens._token if client is not None else None
        ev.secret(token.get_secret_value() if token is not None else None)
        printed = capsys.readouterr()
        ev.add(printed.out, printed.err)
    return publisher.calls


def _notebook(calls: list[dict[str, Any]], state: dict[str, Any], path: Path) -> str:
    nb = nbformat.v4.new_notebook()
    outputs = [
        nbformat.v4.new_output("display_data", data=c["data"], metadata=c["metadata"])
        for c in calls
        if c["data"]
    ]
    cell = nbformat.v4.new_code_cell("%%trellis\nlong answer please (magic)", outputs=outputs)
    nb.cells.append(cell)
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {"w1": {"state": json.loads(json.dumps(state, default=str))}},
            "version_major": 2,
            "version_minor": 0,
        }
    }
    nbformat.write(nb, str(path))
    return path.read_text()


def test_canary_appears_nowhere(
    server: Any,
    capture: Capture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A whole DEBUG session: the key, the tokens and their signatures leak into nothing we can see."""
    ev = Evidence()
    _client_session(server, ev, tmp_path)
    state = _widget_session(server, ev)
    calls = _magic_session(server, ev, monkeypatch, capsys)
    ev.add(json.dumps(calls, default=str))
    ev.add(server)
    notebook = _notebook(calls, state, tmp_path / "session.ipynb")
    assert len(capture.texts) > 20, "DEBUG logging did not capture the session"
    assert len(ev.secrets) >= 6
    leaks = ev.leaks([*capture.texts, notebook])
    assert leaks == [], f"secrets leaked: {leaks[:5]}"


def test_canary_check_finds_a_planted_leak() -> None:
    """The check itself: a secret in a log-like text is found (so the test above can fail)."""
    ev = Evidence()
    ev.secret("aaa.bbb.ccc")
    ev.add(f"DEBUG sent Authorization: Bearer x.y.ccc and {CANARY}")
    assert len(ev.leaks([])) == 2


def test_store_file_keeping_the_key_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chat store keeps the API key and the JWT signing secret: only its owner may read it."""
    import os
    import stat

    from trellis_jupyter.local import serve_in_background
    from trellis_jupyter.local.store import default_store_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = Path(default_store_path()).parent
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, oct(folder.stat().st_mode)
    store = tmp_path / "store.sqlite"
    srv = serve_in_background(store=str(store))
    try:
        Trellis(base_url=srv.base_url, api_key=srv.api_key, email=srv.email).models()
        files = [p for p in tmp_path.iterdir() if p.name.startswith("store.sqlite")]
        assert len(files) >= 2  # the database and its WAL
        for path in files:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert mode & 0o077 == 0, f"{path.name} {oct(mode)}"
    finally:
        srv.stop()
