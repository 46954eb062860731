"""The WebSocket endpoint with the plain ``websockets`` client: auth, caps, actions, limits."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from local_helpers import SteeredPlanner, bearer, make_db, token_for, wait_until
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from trellis_jupyter.events import parse_event
from trellis_jupyter.local import LocalServer, serve_in_background
from trellis_jupyter.websocket import direct_connect

Event = tuple[str, dict[str, Any]]
ERROR_FIELDS = {"error", "code", "retryable", "debug_id", "error_type"}


@pytest.fixture(scope="module")
def planner() -> SteeredPlanner:
    return SteeredPlanner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, planner: SteeredPlanner) -> Iterator[LocalServer]:
    folder = tmp_path_factory.mktemp("ws")
    with serve_in_background(
        databases={"items": make_db(folder / "items.sqlite")},
        planner=planner,
        heartbeat_interval=0.05,
        ws_auth_timeout=1.5,  # frames sent right after connecting must beat it on a loaded CI machine
        hosted_limits=True,  # the connection cap of 3; sends are limited by the tests that need it
        ws_send_limits=[(1000, 60.0)],
        token_send_limits=[(1000, 60.0)],
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def _open_gate(planner: SteeredPlanner) -> Iterator[None]:
    planner.gate.set()
    yield
    planner.gate.set()


def ws_url(server: LocalServer, query: str = "") -> str:
    return server.base_url.replace("http://", "ws://") + "/v1/chats/ws" + query


def open_socket(server: LocalServer, token: str | None = None, query: str = "") -> ClientConnection:
    headers = bearer(token) if token else None
    socket: ClientConnection = connect(
        ws_url(server, query),
        additional_headers=headers,
        open_timeout=5,
        close_timeout=2,
        **direct_connect(connect),  # legacy=True where websockets has it (17.1+)
    )
    return socket


def recv(ws: ClientConnection, timeout: float = 10) -> Event:
    frame = json.loads(ws.recv(timeout=timeout))
    assert set(frame) == {"event", "data"}
    parse_event(frame["event"], frame["data"])  # every frame reads with the shared parser
    return frame["event"], frame["data"]


def send(ws: ClientConnection, **frame: Any) -> None:
    ws.send(json.dumps(frame))


def turn(ws: ClientConnection) -> list[Event]:
    """Events until the turn's ``message`` or ``error`` (heartbeats included)."""
    events = []
    while True:
        events.append(recv(ws))
        if events[-1][0] in ("message", "error"):
            return events


def close_code(ws: ClientConnection) -> int | None:
    """The close code the server sent, once the frames before it are read."""
    try:
        while True:
            ws.recv(timeout=5)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


@pytest.fixture
def token(server: LocalServer) -> str:
    return token_for(server)


@pytest.fixture
def ws(server: LocalServer, token: str) -> Iterator[ClientConnection]:
    with open_socket(server, token) as socket:
        assert recv(socket) == ("authenticated", {"status": "ok"})
        yield socket


# --- authentication and caps ------------------------------------------------------------------


def test_header_auth_then_several_turns_on_one_socket(ws: ClientConnection) -> None:
    send(ws, action="send_message", message="SELECT 1 AS one")
    first = turn(ws)
    assert first[0][0] == "chat_metadata"
    assert [e for e, _ in first][-1] == "message"
    assert "visualization" in [e for e, _ in first]
    chat_id = first[0][1]["id"]
    send(ws, action="send_message", message="SELECT 2 AS two", chat_id=chat_id)
    second = turn(ws)
    assert second[0][1]["id"] == chat_id
    deltas = "".join(d["content"] for e, d in second if e == "text_delta")
    assert deltas == second[-1][1]["content"]


def test_first_frame_authentication(server: LocalServer, token: str) -> None:
    with open_socket(server) as socket:
        send(socket, action="authenticate", token=token)
        assert recv(socket) == ("authenticated", {"status": "ok"})
        send(socket, action="ping")
        assert recv(socket) == ("pong", {})


@pytest.mark.parametrize("kind", ["garbage", "expired"])
def test_bad_token_gets_unauthorized_then_4001(server: LocalServer, kind: str) -> None:
    bad = "garbage" if kind == "garbage" else server.mint_token(expires_in=-5)
    with open_socket(server, bad) as socket:
        name, data = recv(socket)
        assert (name, data["code"]) == ("error", "UNAUTHORIZED")
        assert set(data) >= ERROR_FIELDS
        assert close_code(socket) == 4001
    with open_socket(server) as socket:
        send(socket, action="authenticate", token=bad)
        assert recv(socket)[1]["code"] == "UNAUTHORIZED"
        assert close_code(socket) == 4001


def test_actions_before_authentication_are_refused(server: LocalServer) -> None:
    with open_socket(server) as socket:
        send(socket, action="send_message", message="hi")
        assert recv(socket)[1]["code"] == "UNAUTHORIZED"
        assert close_code(socket) == 4001


def test_silent_unauthenticated_socket_is_closed(server: LocalServer) -> None:
    with open_socket(server) as socket:
        assert recv(socket)[1]["code"] == "UNAUTHORIZED"
        assert close_code(socket) == 4001


def test_token_in_query_string_is_refused_with_403(server: LocalServer, token: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        open_socket(server, query=f"?token={token}")
    assert info.value.response.status_code == 403


def test_fourth_socket_of_a_token_gets_connection_cap_then_4429(server: LocalServer, token: str) -> None:
    sockets = [open_socket(server, token) for _ in range(3)]
    try:
        for socket in sockets:
            assert recv(socket)[0] == "authenticated"
        with open_socket(server, token) as fourth:
            name, data = recv(fourth)
            assert (name, data["code"]) == ("error", "WS_CONNECTION_CAP")
            assert close_code(fourth) == 4429
        # Another token has its own slots.
        with open_socket(server, token_for(server)) as other:
            assert recv(other)[0] == "authenticated"
        sockets.pop().close()

        def slot_freed() -> bool:
            with open_socket(server, token) as again:
                return recv(again)[0] == "authenticated"

        wait_until(slot_freed, what="the closed socket's slot to be released")
    finally:
        for socket in sockets:
            socket.close()


# --- frames and actions -----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"', '{"no": "action"}', '{"action": 3}'])
def test_invalid_frames_get_invalid_frame_and_the_socket_stays_open(ws: ClientConnection, raw: str) -> None:
    ws.send(raw)
    name, data = recv(ws)
    assert (name, data["code"]) == ("error", "INVALID_FRAME")
    send(ws, action="ping")
    assert recv(ws) == ("pong", {})


def test_unknown_action(ws: ClientConnection) -> None:
    send(ws, action="dance")
    name, data = recv(ws)
    assert (name, data["code"]) == ("error", "UNKNOWN_ACTION")
    assert set(data) >= ERROR_FIELDS
    send(ws, action="ping")
    assert recv(ws)[0] == "pong"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"message": "hi", "chat_id": "chat_nope"}, "CHAT_NOT_FOUND"),
        ({"message": ""}, "INVALID_REQUEST"),
        ({"message": "hi", "model": "nope"}, "INVALID_REQUEST"),
        ({"message": "hi", "integration_id": "nope"}, "INTEGRATION_NOT_FOUND"),
    ],
)
def test_send_message_errors_keep_the_socket(ws: ClientConnection, frame: dict[str, Any], code: str) -> None:
    send(ws, action="send_message", **frame)
    assert recv(ws)[1]["code"] == code
    send(ws, action="send_message", message="SELECT 1 AS one")
    assert turn(ws)[-1][0] == "message"


def test_second_send_while_a_turn_runs_then_interrupt(
    server: LocalServer, planner: SteeredPlanner, ws: ClientConnection, token: str
) -> None:
    planner.gate.clear()
    calls = planner.calls
    send(ws, action="send_message", message="SELECT 1 AS one")
    chat_id = recv(ws)[1]["id"]
    send(ws, action="send_message", message="SELECT 2 AS two", chat_id=chat_id)
    events = [recv(ws) for _ in range(3)]  # starting, thinking, then the refusal
    refusal = [d for e, d in events if e == "error"]
    assert refusal[0]["code"] == "TURN_IN_PROGRESS"
    assert refusal[0]["retryable"] is True
    send(ws, action="edit_message", chat_id=chat_id, message_id="msg_x", content="x")
    assert recv(ws)[1]["code"] == "TURN_IN_PROGRESS"
    # Interrupt only once the planner is at work (earlier, the turn may end before it is called).
    wait_until(lambda: planner.calls == calls + 1, what="the planner to have started")
    send(ws, action="interrupt", chat_id=chat_id)
    assert recv(ws) == ("interrupted", {"status": "interrupted", "chat_id": chat_id})
    send(ws, action="interrupt")
    assert recv(ws)[1]["code"] == "NO_ACTIVE_TURN"
    planner.gate.set()
    with httpx.Client(base_url=server.base_url) as http:
        messages = http.get(f"/v1/chats/{chat_id}", headers=bearer(token)).json()["messages"]
    assert [m["role"] for m in messages] == ["user"]
    send(ws, action="send_message", message="SELECT 3 AS three", chat_id=chat_id)
    assert turn(ws)[-1][0] == "message"


def test_interrupt_with_nothing_running(ws: ClientConnection) -> None:
    send(ws, action="interrupt")
    name, data = recv(ws)
    assert (name, data["code"]) == ("error", "NO_ACTIVE_TURN")


def test_closing_the_socket_mid_turn_saves_no_answer(
    server: LocalServer, planner: SteeredPlanner, token: str
) -> None:
    planner.gate.clear()
    with open_socket(server, token) as socket:
        recv(socket)
        send(socket, action="send_message", message="SELECT 1 AS one")
        chat_id = recv(socket)[1]["id"]
    wait_until(lambda: server.active_turns == 0, what="the turn of the closed socket to be cancelled")
    planner.gate.set()
    with httpx.Client(base_url=server.base_url) as http:
        messages = http.get(f"/v1/chats/{chat_id}", headers=bearer(token)).json()["messages"]
    assert [m["role"] for m in messages] == ["user"]


def test_edit_and_delete_message(ws: ClientConnection) -> None:
    send(ws, action="send_message", message="SELECT 1 AS one")
    first = turn(ws)
    chat_id, user_id = first[0][1]["id"], first[0][1]["user_message_id"]
    assistant_id = first[-1][1]["id"]
    send(ws, action="edit_message", chat_id=chat_id, message_id=assistant_id, content="x")
    assert recv(ws)[1]["code"] == "INVALID_REQUEST"
    send(ws, action="edit_message", chat_id=chat_id, message_id=user_id, content="SELECT 5 AS five")
    edited = turn(ws)
    assert edited[0][1]["id"] == chat_id
    new_user_id = edited[0][1]["user_message_id"]
    assert new_user_id != user_id
    assert next(d for e, d in edited if e == "visualization")["rows"] == [[5]]
    send(ws, action="delete_message", chat_id=chat_id, message_id=user_id)
    assert recv(ws)[1]["code"] == "MESSAGE_NOT_FOUND"
    send(ws, action="delete_message", chat_id="chat_nope", message_id=new_user_id)
    assert recv(ws)[1]["code"] == "CHAT_NOT_FOUND"
    send(ws, action="delete_message", message_id=new_user_id)
    assert recv(ws)[1]["code"] == "MISSING_CHAT_ID"
    send(ws, action="delete_message", chat_id=chat_id, message_id=new_user_id)
    assert recv(ws) == ("deleted", {"message_id": new_user_id})


def test_heartbeats_only_when_asked_and_only_while_a_turn_runs(
    server: LocalServer, planner: SteeredPlanner, token: str
) -> None:
    planner.gate.clear()
    with open_socket(server, token, "?heartbeat=1") as beating, open_socket(server, token) as quiet:
        assert recv(beating)[0] == recv(quiet)[0] == "authenticated"
        send(quiet, action="send_message", message="SELECT 1 AS one")
        recv(quiet)  # chat_metadata: the quiet turn is running
        send(beating, action="send_message", message="SELECT 1 AS one")
        beats: list[dict[str, Any]] = []
        while len(beats) < 2:
            name, data = recv(beating)
            if name == "heartbeat":
                beats.append(data)
        assert all(b["timestamp"].endswith("+00:00") for b in beats)
        planner.gate.set()
        assert "heartbeat" not in [e for e, _ in turn(quiet)]
        turn(beating)
        # Idle again: a ping is answered by a pong, with no heartbeat before it.
        time.sleep(0.15)  # three heartbeat intervals of idleness
        send(beating, action="ping")
        assert recv(beating) == ("pong", {})


# --- rate limits ------------------------------------------------------------------------------


def test_send_message_rate_limits_per_socket_and_per_token(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("ws-limits")
    with serve_in_background(
        databases={"items": make_db(folder / "items.sqlite")},
        ws_send_limits=[(10, 60.0), (2, 1.0)],
        token_send_limits=[(3, 60.0)],
    ) as limited:
        token = token_for(limited)
        with open_socket(limited, token) as first, open_socket(limited, token) as second:
            recv(first)
            recv(second)
            for _ in range(2):
                send(first, action="send_message", message="SELECT 1 AS one")
                assert turn(first)[-1][0] == "message"
            send(first, action="send_message", message="SELECT 1 AS one")
            name, data = recv(first)
            assert (name, data["code"]) == ("error", "RATE_LIMIT")
            assert 0 < data["retry_after_seconds"] <= 1
            assert set(data) >= ERROR_FIELDS
            send(first, action="ping")  # other actions are not throttled
            assert recv(first)[0] == "pong"
            time.sleep(data["retry_after_seconds"])
            send(first, action="send_message", message="SELECT 1 AS one")
            assert turn(first)[-1][0] == "message"
            # Three sends used the token's minute: its other socket must wait too.
            send(second, action="send_message", message="SELECT 1 AS one")
            refused = recv(second)[1]
            assert refused["code"] == "RATE_LIMIT"
            assert refused["retry_after_seconds"] > 50
        # A new token (a new jti) has a fresh budget.
        with open_socket(limited, token_for(limited)) as fresh:
            recv(fresh)
            send(fresh, action="send_message", message="SELECT 1 AS one")
            assert turn(fresh)[-1][0] == "message"
