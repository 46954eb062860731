"""Trellis and AsyncTrellis: every endpoint against the local server, errors and retries."""

from __future__ import annotations

import email.utils
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from client_helpers import close_client, collect, consume, make_client, maybe, protocol_fields, sse

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from trellis_jupyter.events import ChatMetadata, Message, Processing, TextDelta, Visualization
from trellis_jupyter.stream import AnswerStream, AsyncAnswerStream
from trellis_jupyter.types import Question

# --- end to end: every endpoint, both clients ----------------------------------------------------


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, local_server: Any) -> AsyncIterator[Trellis | AsyncTrellis]:
    c = make_client(request.param, local_server)
    yield c
    await close_client(c)


pytestmark = pytest.mark.anyio


async def test_models_and_integrations(client: Any, local_server: Any) -> None:
    models = await maybe(client.models())
    assert models["default"] in [m["model_id"] for m in models["models"]]
    integrations = await maybe(client.integrations())
    assert protocol_fields(integrations) == local_server.integrations
    assert integrations[0]["example_questions"], "the demo database suggests questions"


async def test_create_get_rename_list_delete(client: Any, local_server: Any) -> None:
    chat = await maybe(client.chats.create(title="Orders review", integration_id=local_server.integration_id))
    assert chat["id"].startswith("chat_")
    assert chat["title"] == "Orders review"
    got = await maybe(client.chats.get(chat["id"]))
    assert got["id"] == chat["id"]
    assert got["messages"] == []
    renamed = await maybe(client.chats.rename(chat["id"], "Orders, renamed"))
    assert renamed["title"] == "Orders, renamed"
    page = await maybe(client.chats.list())
    assert chat["id"] in [c["id"] for c in page["chats"]]
    assert page["page"] == 1
    assert chat["id"] in [c["id"] for c in await collect(client.chats.iter_all())]
    await maybe(client.chats.delete(chat["id"]))
    with pytest.raises(NotFoundError) as caught:
        await maybe(client.chats.get(chat["id"]))
    assert (
        str(caught.value) == f"Chat {chat['id']} was not found: it may have been deleted; start a new chat."
    )
    assert caught.value.status_code == 404
    assert caught.value.code == "CHAT_NOT_FOUND"


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_iter_all_follows_pages(kind: str) -> None:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(page_size=3) as server:
        client = make_client(kind, server)
        await _pages_and_bulk_delete(client)
        await close_client(client)


async def _pages_and_bulk_delete(client: Any) -> None:
    made = [(await maybe(client.chats.create(title=f"page test {i}")))["id"] for i in range(7)]
    all_ids = [c["id"] for c in await collect(client.chats.iter_all())]
    assert set(made) <= set(all_ids)
    assert len(all_ids) == len(set(all_ids))
    first = await maybe(client.chats.list(page=1))
    assert first["has_more"]
    assert len(first["chats"]) == first["page_size"]
    assert await maybe(client.chats.delete_many(made[:2])) is None
    with pytest.raises(NotFoundError) as caught:
        await maybe(client.chats.delete_many([*made[2:], "chat_does_not_exist"]))
    assert str(caught.value) == (
        "Chat chat_does_not_exist was not found (the others were deleted): "
        "they may have been deleted already."
    )
    left = {c["id"] for c in await collect(client.chats.iter_all())}
    assert not left & set(made)  # the others were deleted
    assert await maybe(client.chats.delete_many([])) is None


async def test_every_delete_returns_none(client: Any) -> None:
    """One rule for the whole API: a delete returns None, and raises when there was nothing to delete."""
    answer = (await consume(client.chats.stream("SELECT 1 AS one")))[1]
    chat_id = answer.chat_id
    assert await maybe(client.chats.delete_message(chat_id, answer.user_message_id)) is None
    assert await maybe(client.chats.delete(chat_id)) is None
    with pytest.raises(NotFoundError):
        await maybe(client.chats.delete(chat_id))
    conversation = client.conversation()
    await maybe(conversation.ask("SELECT 2 AS two"))
    assert await maybe(conversation.delete()) is None
    assert await maybe(client.chats.delete_many([])) is None


async def test_stream_a_new_chat_event_by_event(client: Any, local_server: Any) -> None:
    events, answer = await consume(
        client.chats.stream("How many orders are there?", integration_id=local_server.integration_id)
    )
    assert isinstance(events[0], ChatMetadata)
    assert isinstance(events[-1], Message)
    assert any(isinstance(e, Processing) for e in events)
    assert any(isinstance(e, TextDelta) for e in events)
    assert any(isinstance(e, Visualization) for e in events)
    assert answer.complete
    assert answer.chat_id == events[0].chat_id
    assert answer.text == events[-1].content
    assert answer.tables
    assert answer.tables[0].rows
    chat = await maybe(client.chats.get(answer.chat_id))
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant"]
    assert chat["messages"][1]["id"] == answer.message_id


async def test_continue_edit_feedback_and_delete_message(client: Any) -> None:
    _, first = await consume(client.chats.stream("How many customers are there?"))
    _, second = await consume(client.chats.stream("How many orders are there?", chat_id=first.chat_id))
    assert second.chat_id == first.chat_id
    _, edited = await consume(
        client.chats.edit(first.chat_id, second.user_message_id, "How many products are there?")
    )
    assert edited.complete
    assert edited.user_message_id != second.user_message_id
    messages = (await maybe(client.chats.get(first.chat_id)))["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == [
        "How many customers are there?", "How many products are there?"
    ]  # fmt: skip
    result = await maybe(client.chats.feedback(edited.message_id, "negative", note="wrong table"))
    assert result["id"] == edited.message_id
    assert result["metadata"]["feedback"] == "negative"
    with pytest.raises(ConfigurationError, match="Feedback must be 'positive' or 'negative'"):
        await maybe(client.chats.feedback(edited.message_id, "meh"))
    assert await maybe(client.chats.delete_message(first.chat_id, edited.user_message_id)) is None
    messages = (await maybe(client.chats.get(first.chat_id)))["messages"]
    assert [m["id"] for m in messages] == [first.user_message_id, first.message_id]
    with pytest.raises(NotFoundError, match="Message msg_nope was not found in chat"):
        await maybe(client.chats.delete_message(first.chat_id, "msg_nope"))


async def test_sending_to_an_unknown_chat(client: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        await consume(client.chats.stream("hello?", chat_id="chat_unknown"))
    assert str(caught.value) == "Chat chat_unknown was not found: it may have been deleted; start a new chat."


async def test_an_unknown_integration(client: Any) -> None:
    with pytest.raises(
        NotFoundError, match=r"Integration nope was not found: pick an id from client\.integrations"
    ):
        await maybe(client.chats.create(integration_id="nope"))


async def test_an_empty_question_is_refused_before_sending(client: Any) -> None:
    with pytest.raises(ConfigurationError, match="The question is empty"):
        client.chats.stream("   ")


async def test_server_down_says_so() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # a port nobody listens on once closed
    for kind in ("sync", "async"):
        c: Any = (Trellis if kind == "sync" else AsyncTrellis)(
            base_url=f"http://127.0.0.1:{port}", token="t", max_retries=0
        )
        with pytest.raises(ConnectError) as caught:
            await maybe(c.models())
        assert (
            str(caught.value) == f"Could not reach Trellis at http://127.0.0.1:{port}: is the server running?"
        )
        await close_client(c)


async def test_rate_limited_create_reports_the_wait() -> None:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(create_chat_limits=((1, 60.0),)) as server:
        for kind in ("sync", "async"):
            # Each client gets its own token, so its own bucket; max_retry_wait=0: no waiting.
            c = make_client(kind, server, max_retries=0, max_retry_wait=0)
            await maybe(c.chats.create())
            with pytest.raises(RateLimitError) as caught:
                await maybe(c.chats.create())
            err = caught.value
            assert err.retry_after is not None
            assert 0 < err.retry_after <= 60
            assert str(err).startswith("Rate limited: wait ")
            assert str(err).endswith(" s and ask again.")
            await close_client(c)


async def test_repr_shows_no_secret(client: Any, local_server: Any) -> None:
    text = repr(client) + repr(client.settings) + str(client.settings)
    assert local_server.api_key not in text
    assert "base_url=" in text


# --- error mapping and retries (fake transport: one unit's edge cases) ------------------------------


def fake_client(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[Trellis, list[float]]:
    client = Trellis(
        base_url="http://trellis.test",
        token="tok",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        **kwargs,
    )
    waits: list[float] = []
    client._http.sleep = waits.append  # type: ignore[assignment]  # record the backoff, do not sleep
    return client, waits


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (400, {"detail": "title too long", "code": "INVALID_REQUEST"}, BadRequestError,
         "Trellis rejected the request (400: title too long); check the arguments and try again."),
        (400, {"detail": [{"loc": ["body", "title"], "msg": "field required", "type": "missing"}]}, BadRequestError,  # noqa: E501
         "Trellis rejected the request (400: title: field required); check the arguments and try again."),
        (403, {"detail": {"error": "admins only", "code": "FORBIDDEN", "debug_id": "d1"}}, PermissionDeniedError,  # noqa: E501
         "Trellis refused the request (403: admins only); ask an organization admin for access."),
        (404, {"detail": "Chat not found"}, NotFoundError,
         "Chat chat_x was not found: it may have been deleted; start a new chat."),
        (409, {"detail": "500 open chats", "code": "OPEN_CHAT_CAP"}, ConflictError,
         "Trellis refused because a limit was reached (409: 500 open chats); delete old chats and try again."),  # noqa: E501
        (500, {"detail": "boom", "debug_id": "dbg_9"}, ServerError,
         "Trellis failed with a server error (500: boom); try again in a moment, and quote debug id dbg_9 if it repeats."),  # noqa: E501
        (418, "I'm a teapot", APIError, "Trellis answered 418: I'm a teapot; check the request and try again."),  # noqa: E501
    ],
)  # fmt: skip
def test_error_bodies_of_every_shape(status: int, body: Any, cls: type[APIError], message: str) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    client, _ = fake_client(lambda r: httpx.Response(status, content=content), max_retries=0)
    with pytest.raises(cls) as caught:
        client.chats.get("chat_x")
    err = caught.value
    assert type(err) is cls
    assert str(err) == message
    assert err.status_code == status
    if isinstance(body, dict) and isinstance(body.get("detail"), dict):
        assert err.code == "FORBIDDEN"
        assert err.debug_id == "d1"


def test_idempotent_calls_retry_5xx_honouring_retry_after_seconds() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) < 3:
            return httpx.Response(503, headers={"Retry-After": "3"}, json={"detail": "busy"})
        return httpx.Response(
            200, json={"chats": [], "total": 0, "page": 1, "page_size": 20, "has_more": False}
        )

    client, waits = fake_client(handler)
    assert client.chats.list()["chats"] == []
    assert calls == ["GET"] * 3
    assert waits == [3.0, 3.0]


def test_retry_after_as_an_http_date() -> None:
    later = email.utils.formatdate(time.time() + 10, usegmt=True)
    responses = [
        httpx.Response(429, headers={"Retry-After": later}),
        httpx.Response(200, json={"models": [], "default": None}),
    ]
    client, waits = fake_client(lambda r: responses.pop(0))
    client.models()
    assert len(waits) == 1
    assert 8 <= waits[0] <= 10


def test_a_long_retry_after_is_reported_not_slept() -> None:
    client, waits = fake_client(
        lambda r: httpx.Response(429, headers={"Retry-After": "120"}, json={"detail": "slow down"})
    )
    with pytest.raises(RateLimitError) as caught:
        client.models()
    assert waits == []
    assert caught.value.retry_after == 120
    assert str(caught.value) == "Rate limited: wait 120 s and ask again (more than max_retry_wait, 60 s)."


def test_connection_failures_retry_with_backoff_for_idempotent_calls() -> None:
    attempts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) < 3:
            raise httpx.ReadError("reset by peer")
        return httpx.Response(200, json={"integrations": []})

    client, waits = fake_client(handler)
    assert client.integrations() == []
    assert len(waits) == 2
    assert 0.3 <= waits[0] <= 0.7
    assert 0.7 <= waits[1] <= 1.3


def test_a_send_is_never_replayed_once_the_server_may_have_seen_it() -> None:
    sends: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sends.append(request.url.path)
        if request.url.path == "/v1/chats":
            return httpx.Response(503, json={"detail": "overloaded"})
        raise AssertionError(request.url.path)

    client, waits = fake_client(handler)
    with pytest.raises(ServerError), client.chats.stream("q", chat_id="chat_1"):
        pass
    assert sends == ["/v1/chats"]
    assert waits == []

    sends.clear()
    client2, _ = fake_client(
        lambda r: (sends.append(r.url.path), (_ for _ in ()).throw(httpx.ReadTimeout("slow")))[1]  # type: ignore[func-returns-value]
    )
    with pytest.raises(Exception, match="did not answer within"), client2.chats.stream("q", chat_id="chat_1"):
        pass
    assert sends == ["/v1/chats"]  # a read timeout: the server may have the question, so no replay


def test_a_send_that_never_connected_is_sent_again() -> None:
    attempts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) == 1:
            raise httpx.ConnectError("refused")
        body = sse("chat_metadata", {"id": "chat_1"}) + sse("message", {"content": "ok", "id": "m"})
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client, waits = fake_client(handler)
    with client.chats.stream("q", chat_id="chat_1") as s:
        assert s.get_final_answer().text == "ok"
    assert len(attempts) == 2
    assert len(waits) == 1


@pytest.mark.parametrize("status", [404, 405])
def test_create_falls_back_to_the_implicit_flow(status: int) -> None:
    paths: list[tuple[str, dict[str, Any]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append((request.url.path, json.loads(request.content or b"{}")))
        if request.url.path == "/v1/chats/create":
            return httpx.Response(status, json={"detail": "Not Found"})
        body = sse("chat_metadata", {"id": "chat_new"}) + sse("message", {"content": "hi", "id": "m"})
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client, _ = fake_client(handler)
    conversation = client.conversation()
    assert conversation.ask("first").chat_id == "chat_new"
    assert conversation.chat_id == "chat_new"
    with client.chats.stream("another new chat") as s:
        s.get_final_answer()
    assert [p for p, _ in paths] == ["/v1/chats/create", "/v1/chats", "/v1/chats"]  # probed once
    assert "chat_id" not in paths[1][1]
    assert paths[1][1]["message"] == "first"


def test_a_server_that_is_not_trellis() -> None:
    client, _ = fake_client(
        lambda r: httpx.Response(200, headers={"content-type": "text/html"}, content=b"<html>")
    )
    stream = client.chats.stream("q", chat_id="c")
    with pytest.raises(APIError, match="instead of an event stream: check TRELLIS_BASE_URL"), stream:
        pass
    with pytest.raises(APIError, match="not JSON: check TRELLIS_BASE_URL"):
        client.models()


def test_a_bad_token_without_a_key_is_one_clear_sentence() -> None:
    client, _ = fake_client(lambda r: httpx.Response(401, json={"detail": "Invalid token"}))
    with pytest.raises(AuthenticationError) as caught:
        client.models()
    assert str(caught.value) == (
        "Trellis rejected the token (401): it is invalid or expired; check TRELLIS_API_KEY / TRELLIS_TOKEN and try again."  # noqa: E501
    )


def test_timeout_error_is_renamed_and_the_old_name_warns() -> None:
    import builtins

    import trellis_jupyter
    from trellis_jupyter import errors

    assert issubclass(errors.RequestTimeoutError, builtins.TimeoutError)
    with pytest.warns(DeprecationWarning, match="RequestTimeoutError"):
        assert trellis_jupyter.TimeoutError is errors.RequestTimeoutError
    with pytest.warns(DeprecationWarning, match="next release"):
        assert errors.TimeoutError is errors.RequestTimeoutError
    # A star import no longer shadows the builtin.
    namespace: dict[str, object] = {}
    exec("from trellis_jupyter import *", namespace)
    assert "TimeoutError" not in namespace
    assert namespace["RequestTimeoutError"] is errors.RequestTimeoutError


async def test_the_public_seams_auth_start_and_openers(client: Any, local_server: Any) -> None:
    """What the transports use instead of the client's insides: auth, chats.start, the openers."""
    token = await maybe(client.auth.token())
    assert token == await maybe(client.auth.token())  # kept while valid
    assert "ey" not in repr(client.auth)  # no token in the repr
    assert client.auth.invalidate(token) is True  # an API key is there to fetch a new one
    renewed = await maybe(client.auth.token())
    assert renewed != token
    chat_id = await maybe(client.chats.start(title="Seams"))
    assert chat_id.startswith("chat_")
    # An opener sends nothing until called; a stream built on it answers in that chat.
    opener = client.chats.send_opener(Question("How many orders are there?", chat_id=chat_id))
    assert (await maybe(client.chats.get(chat_id)))["messages"] == []
    stream_type = AsyncAnswerStream if isinstance(client, AsyncTrellis) else AnswerStream
    _, answer = await consume(stream_type(opener, question="How many orders are there?"))
    assert answer.chat_id == chat_id
    assert answer.text
    with pytest.raises(ConfigurationError, match="The question is empty"):
        client.chats.send_opener(Question("  ", chat_id=chat_id))  # checked at once, nothing sent
    assert len((await maybe(client.chats.get(chat_id)))["messages"]) == 2
    await maybe(client.chats.delete(chat_id))


def test_an_api_error_keeps_the_status_and_the_body_with_secrets_masked() -> None:
    key = "sk-live-0123456789abcdefghij"
    body = {"detail": "bad request", "code": "INVALID_REQUEST", "echo": {"headers": [f"X-API-Key: {key}"]}}
    client = Trellis(
        base_url="http://trellis.test",
        api_key=key,
        email="me@example.com",
        token="tok",
        http_client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(400, json=body))),
    )
    with pytest.raises(BadRequestError) as caught:
        client.chats.get("chat_1")
    error = caught.value
    assert error.status_code == 400
    assert error.body["code"] == "INVALID_REQUEST"
    assert error.body["echo"]["headers"][0].startswith("X-API-Key: ")
    assert key not in repr(error.body)
    assert key[:12] not in repr(error.body)  # not even a piece of it


async def test_a_not_found_error_keeps_the_servers_body(client: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        await maybe(client.chats.get("chat_nope"))
    assert caught.value.status_code == 404
    assert caught.value.body["code"] == "CHAT_NOT_FOUND"
    assert str(caught.value) == "Chat chat_nope was not found: it may have been deleted; start a new chat."


async def test_a_client_from_another_clients_settings(local_server: Any) -> None:
    """One constructor for both twins; from_settings copies every setting (max_retry_wait included)."""
    import inspect

    assert inspect.signature(Trellis) == inspect.signature(AsyncTrellis)
    assert "max_retry_wait" in inspect.signature(Trellis).parameters
    sync = Trellis(
        base_url=local_server.base_url,
        api_key=local_server.api_key,
        email=local_server.email,
        max_retry_wait=7,
        timeout=33,
    )
    twin = AsyncTrellis.from_settings(sync.settings)
    assert twin.settings == sync.settings
    assert twin.max_retry_wait == 7
    assert (await twin.models())["default"] == sync.models()["default"]
    await twin.aclose()
    sync.close()
