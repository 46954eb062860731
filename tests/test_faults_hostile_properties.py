"""Property tests (hypothesis) against the real local server over loopback: whatever a client sends,
no 500 and no dropped socket.

- request bodies (any JSON, nested or not, lone surrogates included, or raw bytes) on every route
  that reads one: a 2xx, or a 4xx with the documented body ``{"detail": ..., "code": ...}``; a turn
  that starts never ends with ``INTERNAL``;
- query strings and path ids: the same;
- headers (``Authorization``, ``X-API-Key``, ``Content-Type``): the same;
- WebSocket frames (any text, any action with any fields): the socket answers and stays open (a
  ``ping`` after each frame gets its ``pong``).

Examples are bounded so that the module stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from local_helpers import bearer, make_db, token_for
from websockets.sync.client import ClientConnection, connect

from trellis_jupyter.local import serve_in_background

pytestmark = pytest.mark.timeout(300)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

# Any code point, lone surrogates included (json.dumps writes them as \ud800 escapes).
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None), max_size=30)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "message",
    "content",
    "chat_id",
    "title",
    "model",
    "integration_id",
    "email",
    "chat_ids",
    "feedback",
]
BODIES = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5),
    JSON,
    st.integers(0, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.binary(max_size=40),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    db = make_db(tmp_path_factory.mktemp("props") / "items.sqlite")
    # Limits off: the properties are about odd input, not about being throttled.
    srv = serve_in_background(
        {"items": db},
        auth_failure_limits=(),
        create_chat_limits=((100_000, 60.0),),
        token_send_limits=(),
        ws_send_limits=(),
    )
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def token(server: Any) -> str:
    return token_for(server)


def _check(response: httpx.Response) -> None:
    """No 500; an error has the documented body; a stream never ends with INTERNAL."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"detail", "code"}, body
        assert isinstance(body["detail"], str)
        assert body["detail"]
    elif response.headers.get("content-type", "").startswith("text/event-stream"):
        assert '"code":"INTERNAL"' not in response.text, response.text


def _raw(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str) and body.startswith("["):
        return body.encode()
    return json.dumps(body).encode()


@SETTINGS
@given(
    route=st.sampled_from(
        [
            ("POST", "/v1/chats"),
            ("POST", "/v1/chats/create"),
            ("DELETE", "/v1/chats"),
            ("PUT", "/v1/chats/{chat}"),
            ("PATCH", "/v1/chats/{chat}/messages/{message}"),
            ("PATCH", "/v1/chats/messages/{message}/feedback"),
            ("POST", "/v1/authenticate"),
        ]
    ),
    body=BODIES,
)
def test_any_request_body_gets_a_2xx_or_a_documented_4xx(
    server: Any, http: httpx.Client, token: str, route: tuple[str, str], body: Any
) -> None:
    method, path = route
    path = path.format(chat="chat_000000000000000000000000", message="msg_000000000000000000000000")
    headers = {**bearer(token), "X-API-Key": server.api_key, "Content-Type": "application/json"}
    _check(http.request(method, server.base_url + path, headers=headers, content=_raw(body)))


@SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(["page", "page_size", "token", "x"]), ANY_TEXT | st.integers().map(str)
    ),
    chat_id=ANY_TEXT,
)
def test_any_query_string_or_id_gets_a_2xx_or_a_documented_4xx(
    server: Any, http: httpx.Client, token: str, params: dict[str, str], chat_id: str
) -> None:
    safe = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in params.items()}
    _check(http.get(f"{server.base_url}/v1/chats", headers=bearer(token), params=safe))
    cid = quote(chat_id.encode("utf-8", "surrogatepass"), safe="")
    _check(http.get(f"{server.base_url}/v1/chats/{cid}", headers=bearer(token)))


# Header values as a client can send them: latin-1, no leading or trailing blanks (h11 refuses those).
LATIN1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60).map(
    lambda t: t.strip(" \t")
)


@SETTINGS
@given(
    authorization=st.one_of(
        LATIN1,
        LATIN1.map(lambda t: "Bearer " + t),
        st.lists(LATIN1, min_size=3, max_size=3).map(lambda p: "Bearer " + ".".join(p)),
    ),
    api_key=LATIN1,
    content_type=LATIN1,
)
def test_any_header_gets_a_2xx_or_a_documented_4xx(
    server: Any, http: httpx.Client, authorization: str, api_key: str, content_type: str
) -> None:
    headers = {
        "Authorization": authorization.strip(" \t").encode("latin-1"),
        "Content-Type": content_type.encode("latin-1"),
    }
    _check(http.get(f"{server.base_url}/v1/models", headers=headers))  # type: ignore[arg-type]
    _check(
        http.post(
            f"{server.base_url}/v1/authenticate",
            headers={"X-API-Key": api_key.encode("latin-1")},  # type: ignore[arg-type]
            json={"email": "a@b.io"},
        )
    )


ACTIONS = st.sampled_from(
    ["send_message", "edit_message", "delete_message", "interrupt", "ping", "bogus", None]
)
FRAMES = st.one_of(
    st.builds(
        lambda action, fields: json.dumps({**({"action": action} if action else {}), **fields}),
        ACTIONS,
        st.dictionaries(
            st.sampled_from(["message", "content", "chat_id", "message_id", "model", "title"]),
            JSON,
            max_size=4,
        ),
    ),
    JSON.map(json.dumps),
    ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")),
)


@pytest.fixture(scope="module")
def socket(server: Any, token: str) -> Iterator[ClientConnection]:
    url = server.base_url.replace("http://", "ws://") + "/v1/chats/ws"
    with connect(url, additional_headers=bearer(token), open_timeout=10, close_timeout=2) as ws:
        assert json.loads(ws.recv(timeout=10))["event"] == "authenticated"
        yield ws


@SETTINGS
@given(frame=FRAMES)
def test_any_frame_gets_an_answer_and_the_socket_stays_open(socket: ClientConnection, frame: str) -> None:
    socket.send(frame)
    socket.send(json.dumps({"action": "ping"}))
    while True:  # whatever the frame started (a turn, an error), the ping's pong comes
        event = json.loads(socket.recv(timeout=30))
        assert not (event["event"] == "error" and event["data"].get("code") == "INTERNAL"), event
        if event["event"] == "pong":
            return


def test_the_store_is_untouched_by_garbage(
    server: Any, http: httpx.Client, token: str, tmp_path: Path
) -> None:
    """After all of the above, the server still answers a plain question."""
    response = http.post(
        f"{server.base_url}/v1/chats", headers=bearer(token), json={"message": "SELECT count(*) FROM items"}
    )
    assert response.status_code == 200
    assert "event: message" in response.text
