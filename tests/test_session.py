"""The kernel session: lazy clients, settings, connecting, the shared chat state, the local server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from traitlets import TraitError

from trellis_jupyter.errors import ConfigurationError, ConnectError, NotFoundError
from trellis_jupyter.session import MagicSettings, Session, _resolve, get_session, reset_session


@pytest.fixture
def session() -> Iterator[Session]:
    session = Session()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def env(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in local_server.env.items():
        monkeypatch.setenv(name, value)
    return local_server


def test_get_session_is_the_kernels_one_and_reset_replaces_it() -> None:
    first = get_session()
    assert get_session() is first
    second = reset_session()
    assert second is not first
    assert get_session() is second


def test_a_session_needs_no_credentials_until_used(session: Session) -> None:
    assert session.chat_id is None
    assert session.state.answers == []  # the shared state exists before any client
    with pytest.raises(ConfigurationError, match="Not connected: run %trellis connect --local"):
        session.client  # noqa: B018


def test_settings_are_validated() -> None:
    settings = MagicSettings()
    with pytest.raises(TraitError, match="display_rows must be 0 or more"):
        settings.display_rows = -1
    with pytest.raises(TraitError, match="coalesce_interval must be 0 or more seconds"):
        settings.coalesce_interval = -0.5
    with pytest.raises(TraitError):
        settings.transport = "carrier pigeon"
    assert settings.coalesce_interval == 0.08  # the default: updates every 80 ms


def test_transport_default_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MagicSettings().transport == "sse"
    monkeypatch.setenv("TRELLIS_TRANSPORT", "websocket")
    assert MagicSettings().transport == "websocket"
    monkeypatch.setenv("TRELLIS_TRANSPORT", "nonsense")
    assert MagicSettings().transport == "sse"


def test_offline_charts_setting_drives_the_altair_renderer(session: Session) -> None:
    from trellis_jupyter import charts

    session.settings.offline_charts = False
    assert not charts.offline_charts_enabled()
    session.settings.offline_charts = True
    assert charts.offline_charts_enabled()


def test_integrations_resolve_by_id_or_name() -> None:
    items = [
        {"id": "i-1", "display_name": "Sales DB"},
        {"id": "i-2", "display_name": "Twin"},
        {"id": "i-3", "display_name": "twin"},
    ]
    assert _resolve("i-1", items) == "i-1"
    assert _resolve("sales db", items) == "i-1"  # names ignore case
    with pytest.raises(ConfigurationError, match="Several integrations are named 'TWIN': pass its id"):
        _resolve("TWIN", items)
    with pytest.raises(ConfigurationError, match="run %trellis integrations"):
        _resolve("nowhere", items)


def test_connect_checks_the_server_before_replacing_anything(session: Session, env: Any) -> None:
    session.connect(integration="demo")
    client = session.client
    assert session.integration_id() == env.integration_id
    with pytest.raises(ConnectError):
        session.connect("http://127.0.0.1:9")
    assert session.client is client  # the failed connect changed nothing
    assert session.base_url == env.base_url


def test_the_chat_state_object_is_shared_for_the_sessions_life(session: Session, env: Any) -> None:
    state = session.state
    answer = session.conversation.ask("How many orders are there?")
    assert state.chat_id == answer.chat_id
    assert state.answers == [answer]
    chat_id = answer.chat_id
    assert chat_id is not None

    session.new_chat()
    assert session.state is state
    assert state.chat_id is None

    answers = session.use_chat(chat_id)
    assert session.state is state
    assert state.chat_id == chat_id
    assert [a.text for a in answers] == [answer.text]
    assert answers[0].tables[0].sql == answer.tables[0].sql  # rebuilt from the server's history

    with pytest.raises(NotFoundError):
        session.use_chat("chat_missing")
    assert state.chat_id == chat_id  # an unknown chat leaves the current one alone

    session.forget_chat("chat_other")
    assert state.chat_id == chat_id
    session.forget_chat(chat_id)
    assert state.chat_id is None

    session.connect()
    assert session.state is state


def test_async_client_is_shared_and_renewed_on_connect(session: Session, env: Any) -> None:
    first = session.async_client()
    assert session.async_client() is first
    session.connect()
    assert session.async_client() is not first


def test_connect_local_starts_and_close_stops_the_server(session: Session) -> None:
    session.settings.local_store = ":memory:"
    server = session.connect_local()
    assert session.local_server is server
    assert session.integration_id() == server.integration_id
    assert session.conversation.ask("How many orders are there?").complete
    assert server.api_key not in repr(session)
    assert server.api_key not in repr(session.client)

    session.close()
    assert session.local_server is None
    with pytest.raises(httpx.TransportError):
        httpx.get(server.base_url + "/v1/models", timeout=2)


def test_connecting_elsewhere_stops_the_local_server(session: Session, env: Any) -> None:
    session.settings.local_store = ":memory:"
    first = session.connect_local()
    second = session.connect_local()  # a second local server replaces the first
    with pytest.raises(httpx.TransportError):
        httpx.get(first.base_url + "/v1/models", timeout=2)
    session.connect()  # the environment's server (conftest's local_server)
    assert session.local_server is None
    assert session.integration_id() == env.integration_id
    with pytest.raises(httpx.TransportError):
        httpx.get(second.base_url + "/v1/models", timeout=2)


def test_connect_local_refuses_a_missing_database(session: Session, tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"No SQLite file at .*: give --db the path"):
        session.connect_local(str(tmp_path / "nope.sqlite"))
    assert session.local_server is None


def test_connect_local_refuses_a_file_that_is_not_sqlite(session: Session, tmp_path: Any) -> None:
    # Seen: `%trellis connect --local --db notes.txt` connected, then every question failed.
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(ConfigurationError, match=r"The file for 'notes' is not a SQLite database: .*notes"):
        session.connect_local(str(notes))
    assert session.local_server is None
    empty = tmp_path / "empty.sqlite"
    empty.touch()  # an empty file is a new, empty database to SQLite: served
    assert session.connect_local(str(empty)).base_url.startswith("http://127.0.0.1:")
