"""Every REST route of the local server, with its errors, over real HTTP on loopback."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from local_helpers import bearer, data_of, make_db, names, read_stream, token_for

from trellis_jupyter.local import LocalServer, serve_in_background


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    folder = tmp_path_factory.mktemp("rest")
    databases = {"items": make_db(folder / "items.sqlite"), "spare": make_db(folder / "spare.sqlite", rows=3)}
    # Chats are created freely here; the create limit has its own test and server.
    store = str(folder / "chats.sqlite")
    with serve_in_background(databases=databases, store=store, create_chat_limits=[(1000, 60.0)]) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield http


@pytest.fixture
def auth(server: LocalServer) -> dict[str, str]:
    """Headers of a fresh member (a new email per test keeps tests apart)."""
    return bearer(token_for(server, f"user-{uuid.uuid4().hex[:8]}@example.com"))


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return str(body["detail"])


def _ask(
    client: httpx.Client, auth: dict[str, str], message: str, **fields: Any
) -> list[tuple[str, dict[str, Any]]]:
    return read_stream(client, "POST", "/v1/chats", headers=auth, body={"message": message, **fields})


# --- authentication ---------------------------------------------------------------------------


def test_authenticate_returns_token_and_stable_member(server: LocalServer, client: httpx.Client) -> None:
    first = client.post(
        "/v1/authenticate", headers={"X-API-Key": server.api_key}, json={"email": "A@Example.com"}
    )
    second = client.post(
        "/v1/authenticate", headers={"X-API-Key": server.api_key}, json={"email": "a@example.com"}
    )
    assert first.status_code == second.status_code == 200
    body = first.json()
    assert set(body) == {"token", "member_id", "organization_id", "expires_at"}
    assert body["member_id"] == second.json()["member_id"]
    assert body["token"] != second.json()["token"]
    assert body["expires_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("headers", "body", "status", "detail"),
    [
        ({}, {"email": "a@example.com"}, 401, "Missing X-API-Key header"),
        ({"X-API-Key": "wrong"}, {"email": "a@example.com"}, 401, "Invalid API key"),
        (None, {"email": "not-an-email"}, 400, "Invalid email format"),
        (None, {}, 400, "Invalid email format"),
    ],
)
def test_authenticate_errors(
    server: LocalServer, client: httpx.Client, headers: Any, body: Any, status: int, detail: str
) -> None:
    response = client.post(
        "/v1/authenticate", headers={"X-API-Key": server.api_key} if headers is None else headers, json=body
    )
    assert response.status_code == status
    assert response.json()["detail"] == detail


def test_authenticate_with_a_body_that_is_not_json(server: LocalServer, client: httpx.Client) -> None:
    response = client.post("/v1/authenticate", headers={"X-API-Key": server.api_key}, content=b"{nope")
    _error(response, 400, "INVALID_REQUEST")


@pytest.mark.parametrize("path", ["/v1/models", "/v1/integrations", "/v1/chats"])
def test_routes_need_a_valid_token(server: LocalServer, client: httpx.Client, path: str) -> None:
    assert "Authorization" in _error(client.get(path), 401, "UNAUTHORIZED")
    _error(client.get(path, headers={"Authorization": "Basic abc"}), 401, "UNAUTHORIZED")
    _error(client.get(path, headers=bearer("garbage")), 401, "UNAUTHORIZED")
    expired = client.get(path, headers=bearer(server.mint_token(expires_in=-10)))
    assert "expired" in _error(expired, 401, "UNAUTHORIZED")


def test_errors_never_echo_the_token(server: LocalServer, client: httpx.Client) -> None:
    token = server.mint_token(expires_in=-10)
    response = client.get("/v1/chats", headers=bearer(token))
    assert token not in response.text
    assert server.api_key not in repr(server)


# --- models and integrations ------------------------------------------------------------------


def test_models_are_v3_objects_with_default(client: httpx.Client, auth: dict[str, str]) -> None:
    body = client.get("/v1/models", headers=auth).json()
    assert body["default"] == "claude-sonnet-4-6"
    assert len(body["models"]) == 7
    assert all(set(m) == {"model_id", "display_name", "description"} for m in body["models"])


def test_integrations_one_per_database_with_stable_ids(
    server: LocalServer, client: httpx.Client, auth: dict[str, str]
) -> None:
    body = client.get("/v1/integrations", headers=auth).json()
    assert [i["display_name"] for i in body["integrations"]] == ["items", "spare"]
    assert all(i["type"] == "database" and uuid.UUID(i["id"]) for i in body["integrations"])
    # Each with a few example questions built from its schema (what the chat widget offers first).
    examples = [i.pop("example_questions") for i in body["integrations"]]
    assert all(isinstance(e, list) and all(isinstance(q, str) and q for q in e) for e in examples)
    assert any(examples)
    assert body["integrations"] == server.integrations
    # The same name and file give the same id in another server.
    with serve_in_background(databases=server.databases) as other:
        assert other.integrations == server.integrations


# --- chats ------------------------------------------------------------------------------------


def test_create_chat_answers_201_with_documented_fields(
    server: LocalServer, client: httpx.Client, auth: dict[str, str]
) -> None:
    response = client.post(
        "/v1/chats/create", headers=auth, json={"title": "Q4", "integration_id": server.integration_id}
    )
    assert response.status_code == 201
    chat = response.json()
    assert {"id", "organization_id", "member_id", "title", "created_at"} <= set(chat)
    assert chat["id"].startswith("chat_")
    assert chat["title"] == "Q4"
    untitled = client.post("/v1/chats/create", headers=auth, json={}).json()
    assert untitled["title"].startswith("Chat ")


def test_create_chat_errors(client: httpx.Client, auth: dict[str, str]) -> None:
    _error(
        client.post("/v1/chats/create", headers=auth, json={"integration_id": str(uuid.uuid4())}),
        404,
        "INTEGRATION_NOT_FOUND",
    )
    _error(client.post("/v1/chats/create", headers=auth, json={"title": 5}), 400, "INVALID_REQUEST")
    _error(client.post("/v1/chats/create", headers=auth, json=[1, 2]), 400, "INVALID_REQUEST")


def test_list_chats_pages_of_twenty_newest_activity_first(client: httpx.Client, auth: dict[str, str]) -> None:
    ids = [
        client.post("/v1/chats/create", headers=auth, json={"title": f"c{i}"}).json()["id"] for i in range(23)
    ]
    first = client.get("/v1/chats", headers=auth).json()
    assert (first["total"], first["page"], first["page_size"], first["has_more"]) == (23, 1, 20, True)
    assert [c["id"] for c in first["chats"]] == ids[::-1][:20]
    second = client.get("/v1/chats", params={"page": 2}, headers=auth).json()
    assert [c["id"] for c in second["chats"]] == ids[::-1][20:]
    assert second["has_more"] is False
    assert client.get("/v1/chats", params={"page": 0}, headers=auth).json()["page"] == 1
    _error(client.get("/v1/chats", params={"page": "x"}, headers=auth), 400, "INVALID_REQUEST")
    # Activity moves a chat to the front.
    _ask(client, auth, "SELECT 1 AS one", chat_id=ids[0])
    top = client.get("/v1/chats", headers=auth).json()["chats"][0]
    assert (top["id"], top["preview"], top["metadata"]["source_type"]) == (
        ids[0],
        "SELECT 1 AS one",
        "database",
    )


def test_get_chat_has_messages_with_visualizations_and_plan(
    server: LocalServer, client: httpx.Client, auth: dict[str, str]
) -> None:
    events = _ask(
        client, auth, "SELECT name, qty FROM items ORDER BY id LIMIT 3", integration_id=server.integration_id
    )
    chat_id = data_of(events, "chat_metadata")[0]["id"]
    chat = client.get(f"/v1/chats/{chat_id}", headers=auth).json()
    user, assistant = chat["messages"]
    assert user["role"] == "user"
    assert user["id"] == data_of(events, "chat_metadata")[0]["user_message_id"]
    assert assistant["role"] == "assistant"
    assert assistant["id"] == data_of(events, "message")[0]["id"]
    assert assistant["content"] == data_of(events, "message")[0]["content"]
    assert assistant["metadata"]["visualizations"] == data_of(events, "visualization")
    assert assistant["metadata"]["plan"]["sql"].startswith("SELECT name, qty")
    assert all(m["id"].startswith("msg_") and m["timestamp"] for m in chat["messages"])


def test_another_members_chat_is_not_found(
    server: LocalServer, client: httpx.Client, auth: dict[str, str]
) -> None:
    chat_id = client.post("/v1/chats/create", headers=auth, json={}).json()["id"]
    stranger = bearer(token_for(server, "stranger@example.com"))
    _error(client.get(f"/v1/chats/{chat_id}", headers=stranger), 404, "CHAT_NOT_FOUND")
    _error(
        client.put(f"/v1/chats/{chat_id}", headers=stranger, json={"title": "mine"}), 404, "CHAT_NOT_FOUND"
    )
    _error(client.delete(f"/v1/chats/{chat_id}", headers=stranger), 404, "CHAT_NOT_FOUND")
    _error(
        client.post("/v1/chats", headers=stranger, json={"message": "hi", "chat_id": chat_id}),
        404,
        "CHAT_NOT_FOUND",
    )
    bulk = client.request("DELETE", "/v1/chats", headers=stranger, json={"chat_ids": [chat_id]}).json()
    assert bulk == {"deleted": [], "not_found": [chat_id], "deleted_count": 0}
    assert client.get(f"/v1/chats/{chat_id}", headers=auth).status_code == 200


def test_rename_chat(client: httpx.Client, auth: dict[str, str]) -> None:
    chat_id = client.post("/v1/chats/create", headers=auth, json={"title": "old"}).json()["id"]
    renamed = client.put(f"/v1/chats/{chat_id}", headers=auth, json={"title": "New title"})
    assert renamed.status_code == 200
    assert {"id", "title", "timestamp"} <= set(renamed.json())
    assert renamed.json()["title"] == "New title"
    assert client.get(f"/v1/chats/{chat_id}", headers=auth).json()["title"] == "New title"
    _error(client.put(f"/v1/chats/{chat_id}", headers=auth, json={"title": ""}), 400, "INVALID_REQUEST")
    _error(client.put(f"/v1/chats/{chat_id}", headers=auth, json={}), 400, "INVALID_REQUEST")
    _error(client.put("/v1/chats/chat_unknown", headers=auth, json={"title": "x"}), 404, "CHAT_NOT_FOUND")


def test_delete_chat_and_bulk_delete(client: httpx.Client, auth: dict[str, str]) -> None:
    one, two, three = (client.post("/v1/chats/create", headers=auth, json={}).json()["id"] for _ in range(3))
    response = client.delete(f"/v1/chats/{one}", headers=auth)
    assert (response.status_code, response.json()) == (200, {"message": "Chat deleted successfully"})
    _error(client.get(f"/v1/chats/{one}", headers=auth), 404, "CHAT_NOT_FOUND")
    _error(client.delete(f"/v1/chats/{one}", headers=auth), 404, "CHAT_NOT_FOUND")
    bulk = client.request(
        "DELETE", "/v1/chats", headers=auth, json={"chat_ids": [two, "chat_nope", three, one]}
    )
    assert bulk.status_code == 200
    assert bulk.json() == {"deleted": [two, three], "not_found": ["chat_nope", one], "deleted_count": 2}
    _error(client.request("DELETE", "/v1/chats", headers=auth, json={"chat_ids": []}), 400, "INVALID_REQUEST")
    _error(client.request("DELETE", "/v1/chats", headers=auth, json={"ids": [two]}), 400, "INVALID_REQUEST")


# --- send, messages, edit, feedback -----------------------------------------------------------


def test_send_creates_chat_implicitly_and_continues_it(client: httpx.Client, auth: dict[str, str]) -> None:
    first = _ask(client, auth, "SELECT count(*) AS n FROM items", title="Counting")
    assert names(first)[0] == "chat_metadata"
    assert names(first)[-1] == "message"
    chat_id = data_of(first, "chat_metadata")[0]["id"]
    second = _ask(client, auth, "SELECT 2 AS two", chat_id=chat_id)
    assert data_of(second, "chat_metadata")[0]["id"] == chat_id
    chat = client.get(f"/v1/chats/{chat_id}", headers=auth).json()
    assert chat["title"] == "Counting"
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant", "user", "assistant"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "INVALID_REQUEST"),
        ({"message": ""}, 400, "INVALID_REQUEST"),
        ({"message": 3}, 400, "INVALID_REQUEST"),
        ({"message": "hi", "model": "gpt-0"}, 400, "INVALID_REQUEST"),
        ({"message": "hi", "chat_id": "chat_nope"}, 404, "CHAT_NOT_FOUND"),
        (
            {"message": "hi", "integration_id": "00000000-0000-0000-0000-000000000000"},
            404,
            "INTEGRATION_NOT_FOUND",
        ),
    ],
)
def test_send_errors_are_http_errors_before_any_stream(
    client: httpx.Client, auth: dict[str, str], body: dict[str, Any], status: int, code: str
) -> None:
    _error(client.post("/v1/chats", headers=auth, json=body), status, code)


def test_send_accepts_every_listed_model(client: httpx.Client, auth: dict[str, str]) -> None:
    events = _ask(client, auth, "SELECT 1 AS one", model="gemini-3.0-flash")
    assert names(events)[-1] == "message"


def test_delete_message_removes_it_and_all_later(client: httpx.Client, auth: dict[str, str]) -> None:
    chat_id = data_of(_ask(client, auth, "SELECT 1 AS a"), "chat_metadata")[0]["id"]
    second = _ask(client, auth, "SELECT 2 AS b", chat_id=chat_id)
    _ask(client, auth, "SELECT 3 AS c", chat_id=chat_id)
    target = data_of(second, "chat_metadata")[0]["user_message_id"]
    response = client.delete(f"/v1/chats/{chat_id}/messages/{target}", headers=auth)
    assert response.status_code == 204
    assert response.content == b""
    left = client.get(f"/v1/chats/{chat_id}", headers=auth).json()["messages"]
    assert [m["content"] for m in left if m["role"] == "user"] == ["SELECT 1 AS a"]
    assert len(left) == 2
    _error(client.delete(f"/v1/chats/{chat_id}/messages/{target}", headers=auth), 404, "MESSAGE_NOT_FOUND")
    _error(client.delete(f"/v1/chats/chat_nope/messages/{target}", headers=auth), 404, "CHAT_NOT_FOUND")


def test_edit_user_message_gives_new_id_and_drops_later_messages(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    first = _ask(client, auth, "SELECT 1 AS a")
    chat_id = data_of(first, "chat_metadata")[0]["id"]
    _ask(client, auth, "SELECT 2 AS b", chat_id=chat_id)
    old_id = data_of(first, "chat_metadata")[0]["user_message_id"]
    edited = read_stream(
        client,
        "PATCH",
        f"/v1/chats/{chat_id}/messages/{old_id}",
        headers=auth,
        body={"content": "SELECT 10 AS ten"},
    )
    meta = data_of(edited, "chat_metadata")[0]
    assert meta["id"] == chat_id
    assert meta["user_message_id"] != old_id
    assert data_of(edited, "visualization")[0]["rows"] == [[10]]
    messages = client.get(f"/v1/chats/{chat_id}", headers=auth).json()["messages"]
    assert next((m["role"], m["content"]) for m in messages) == ("user", "SELECT 10 AS ten")
    assert len(messages) == 2
    assert messages[0]["id"] == meta["user_message_id"]


def test_edit_errors(client: httpx.Client, auth: dict[str, str]) -> None:
    events = _ask(client, auth, "SELECT 1 AS a")
    chat_id = data_of(events, "chat_metadata")[0]["id"]
    assistant_id = data_of(events, "message")[0]["id"]
    user_id = data_of(events, "chat_metadata")[0]["user_message_id"]
    url = f"/v1/chats/{chat_id}/messages/"
    _error(client.patch(url + assistant_id, headers=auth, json={"content": "x"}), 400, "INVALID_REQUEST")
    _error(client.patch(url + user_id, headers=auth, json={}), 400, "INVALID_REQUEST")
    _error(client.patch(url + "msg_nope", headers=auth, json={"content": "x"}), 404, "MESSAGE_NOT_FOUND")
    _error(
        client.patch(f"/v1/chats/chat_nope/messages/{user_id}", headers=auth, json={"content": "x"}),
        404,
        "CHAT_NOT_FOUND",
    )
    # Nothing was lost by the refused edits.
    assert len(client.get(f"/v1/chats/{chat_id}", headers=auth).json()["messages"]) == 2


def test_feedback_is_stored_with_its_note(client: httpx.Client, auth: dict[str, str]) -> None:
    events = _ask(client, auth, "SELECT 1 AS a")
    chat_id, message_id = data_of(events, "chat_metadata")[0]["id"], data_of(events, "message")[0]["id"]
    url = f"/v1/chats/messages/{message_id}/feedback"
    response = client.patch(url, headers=auth, json={"feedback": "negative", "note": "wrong column"})
    assert response.status_code == 200
    assert response.json()["id"] == message_id
    assert response.json()["metadata"]["feedback"] == "negative"
    assert response.json()["metadata"]["note"] == "wrong column"
    client.patch(url, headers=auth, json={"feedback": "positive"})
    stored = client.get(f"/v1/chats/{chat_id}", headers=auth).json()["messages"][1]["metadata"]
    assert stored["feedback"] == "positive"
    assert "note" not in stored
    assert stored["visualizations"]  # feedback keeps the rest of the metadata
    _error(client.patch(url, headers=auth, json={"feedback": "meh"}), 400, "INVALID_REQUEST")
    _error(client.patch(url, headers=auth, json={"feedback": "positive", "note": 1}), 400, "INVALID_REQUEST")
    _error(
        client.patch("/v1/chats/messages/msg_nope/feedback", headers=auth, json={"feedback": "positive"}),
        404,
        "MESSAGE_NOT_FOUND",
    )


def test_unknown_routes_and_methods_answer_json(client: httpx.Client, auth: dict[str, str]) -> None:
    _error(client.get("/v1/nothing", headers=auth), 404, "NOT_FOUND")
    _error(client.put("/v1/models", headers=auth), 405, "METHOD_NOT_ALLOWED")


# --- limits -----------------------------------------------------------------------------------


def test_create_chat_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    database = {"items": make_db(tmp_path / "items.sqlite")}
    with (
        serve_in_background(databases=database, create_chat_limits=[(2, 1.0)]) as limited,
        httpx.Client(base_url=limited.base_url) as client,
    ):
        auth = bearer(token_for(limited))
        assert [client.post("/v1/chats/create", headers=auth, json={}).status_code for _ in range(2)] == [
            201,
            201,
        ]
        refused = client.post("/v1/chats/create", headers=auth, json={})
        _error(refused, 429, "RATE_LIMIT")
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 2
        # Another token has its own budget; the same one recovers after the wait.
        assert client.post("/v1/chats/create", headers=bearer(token_for(limited)), json={}).status_code == 201
        time.sleep(wait)
        assert client.post("/v1/chats/create", headers=auth, json={}).status_code == 201


def test_open_chat_cap_answers_409(tmp_path: Path) -> None:
    database = {"items": make_db(tmp_path / "items.sqlite")}
    with (
        serve_in_background(databases=database, open_chat_cap=2) as capped,
        httpx.Client(base_url=capped.base_url) as client,
    ):
        auth = bearer(token_for(capped))
        first = client.post("/v1/chats/create", headers=auth, json={}).json()["id"]
        client.post("/v1/chats/create", headers=auth, json={})
        _error(client.post("/v1/chats/create", headers=auth, json={}), 409, "OPEN_CHAT_CAP")
        _error(client.post("/v1/chats", headers=auth, json={"message": "hi"}), 409, "OPEN_CHAT_CAP")
        client.delete(f"/v1/chats/{first}", headers=auth)
        assert client.post("/v1/chats/create", headers=auth, json={}).status_code == 201
