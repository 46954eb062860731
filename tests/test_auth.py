"""Tokens: API key -> JWT, renewal before expiry and once on a 401, tokens given directly, no leaks."""

from __future__ import annotations

import base64
import json
import logging
import pickle
from typing import Any

import pytest
from client_helpers import close_client, make_client, maybe, protocol_fields

from trellis_jupyter.auth import REFRESH_MARGIN, Secret, TokenManager, jwt_expiry
from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import AuthenticationError, TrellisError


def fake_jwt(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.signature"


# --- units ------------------------------------------------------------------------------------------


def test_secret_never_shows_itself() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}" + repr([secret])
    assert secret.get_secret_value() == "hunter2"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_jwt_expiry_reads_exp_without_verifying() -> None:
    assert jwt_expiry(fake_jwt({"sub": "m", "exp": 1_900_000_000})) == 1_900_000_000
    assert jwt_expiry(fake_jwt({"sub": "m"})) is None
    assert jwt_expiry("not-a-jwt") is None
    assert jwt_expiry("a.%%%.c") is None


def test_renews_five_minutes_before_expiry() -> None:
    now = [1000.0]
    manager = TokenManager(api_key=Secret("k"), email="a@b.c", clock=lambda: now[0])
    fetched: list[int] = []

    def fetch() -> dict[str, Any]:
        fetched.append(1)
        return {"token": fake_jwt({"exp": now[0] + 21600, "n": len(fetched)})}

    first = manager.token(fetch)
    assert manager.token(fetch) == first
    assert len(fetched) == 1
    now[0] += 21600 - REFRESH_MARGIN - 1  # just before the margin: still the same token
    assert manager.token(fetch) == first
    now[0] += 2  # inside the margin: renewed ahead of expiry
    assert manager.token(fetch) != first
    assert len(fetched) == 2


def test_expires_at_from_the_response_wins() -> None:
    manager = TokenManager(api_key=Secret("k"), email="a@b.c", clock=lambda: 0.0)
    manager.accept({"token": fake_jwt({"exp": 99999}), "expires_at": "1970-01-01T01:00:00+00:00"})
    assert manager.expires_at == 3600


def test_an_expired_direct_token_without_a_key_fails_before_sending() -> None:
    manager = TokenManager(token=Secret(fake_jwt({"exp": 10})), clock=lambda: 20.0)
    with pytest.raises(AuthenticationError, match="The Trellis token has expired: set a fresh TRELLIS_TOKEN"):
        manager.token(lambda: pytest.fail("no key: nothing to fetch"))


def test_invalidate_drops_only_the_token_that_failed() -> None:
    manager = TokenManager(api_key=Secret("k"), email="a@b.c", token=Secret("old"))
    assert manager.invalidate("other")
    assert manager.token(lambda: {"token": "unused"}) == "old"
    assert manager.invalidate("old")
    assert manager.token(lambda: {"token": "new"}) == "new"
    assert not TokenManager(token=Secret("t")).invalidate("t")  # no key: cannot renew


# --- end to end, over loopback ---------------------------------------------------------------------


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
async def test_api_key_and_email_get_a_token(local_server: Any, kind: str) -> None:
    client = make_client(kind, local_server)
    assert protocol_fields(await maybe(client.integrations())) == local_server.integrations
    assert client._tokens.expires_at is not None
    await close_client(client)


@pytest.mark.anyio
async def test_a_token_given_directly(local_server: Any, kind: str) -> None:
    token = local_server.mint_token()
    cls = Trellis if kind == "sync" else AsyncTrellis
    client = cls(base_url=local_server.base_url, token=token)
    assert protocol_fields(await maybe(client.integrations())) == local_server.integrations
    assert client._tokens.expires_at == jwt_expiry(token)
    await close_client(client)


@pytest.mark.anyio
async def test_an_expired_token_is_renewed_with_the_key(local_server: Any, kind: str) -> None:
    expired = local_server.mint_token(expires_in=-60)
    client = make_client(kind, local_server, token=expired)
    # renewed before sending
    assert protocol_fields(await maybe(client.integrations())) == local_server.integrations
    await close_client(client)


@pytest.mark.anyio
async def test_a_rejected_token_is_renewed_once_then_the_send_goes_through(
    local_server: Any, kind: str
) -> None:
    # A token the server refuses (not expired by its exp): the 401 comes before any stream, so the
    # send is not a replay; the client renews the token and sends once more.
    forged = fake_jwt({"sub": "x", "exp": 4_000_000_000})
    client = make_client(kind, local_server, token=forged)
    stream = client.chats.stream("How many orders are there?")
    if kind == "sync":
        with stream as s:
            answer = s.get_final_answer()
    else:
        async with stream as s:
            answer = await s.get_final_answer()
    assert answer.complete
    assert client._tokens.secrets[-1] != forged
    await close_client(client)


@pytest.mark.anyio
async def test_a_wrong_api_key_is_one_sentence(local_server: Any, kind: str) -> None:
    client = make_client(kind, local_server, api_key="wrong-key-123")
    with pytest.raises(AuthenticationError) as caught:
        await maybe(client.models())
    assert str(caught.value) == (
        "Trellis rejected the API key (401): check TRELLIS_API_KEY and TRELLIS_EMAIL and try again."
    )
    assert "wrong-key-123" not in repr(caught.value) + str(caught.value.detail)
    await close_client(client)


@pytest.mark.anyio
async def test_a_rejected_token_without_a_key(local_server: Any, kind: str) -> None:
    cls = Trellis if kind == "sync" else AsyncTrellis
    client = cls(base_url=local_server.base_url, token=fake_jwt({"exp": 4_000_000_000}))
    with pytest.raises(AuthenticationError, match=r"Trellis rejected the token \(401\)"):
        await maybe(client.models())
    await close_client(client)


@pytest.mark.anyio
async def test_no_secret_in_any_log_record_or_error(
    local_server: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    client = make_client(kind, local_server)
    conversation = client.conversation()
    texts: list[str] = []
    await maybe(conversation.ask("How many orders are there?"))
    await maybe(conversation.feedback("positive"))
    for bad in (lambda: client.chats.get("chat_missing"), lambda: conversation.ask("   ")):
        try:
            await maybe(bad())
        except TrellisError as exc:
            texts += [str(exc), repr(exc), repr(exc.detail)]
    token = client._tokens.secrets[-1]
    texts += [repr(client), repr(conversation), repr(client._tokens), caplog.text]
    texts += [str(record.args) for record in caplog.records]
    assert any("trellis_jupyter" in r.name for r in caplog.records)  # we did log the session
    for secret in (local_server.api_key, token):
        assert secret
        assert not any(secret in text for text in texts)
    await close_client(client)
