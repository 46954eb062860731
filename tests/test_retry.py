"""Rate limits that wait instead of failing, against the real local server with its hosted limits on.

A refusal (429 + Retry-After, or a WebSocket's RATE_LIMIT before anything else) means the server did
nothing, so creates, sends and edits wait and go again, each answered and stored once; a wait past
``max_retry_wait`` raises with the wait in its sentence; Ctrl-C, a cancelled task or ``close()``
end a wait at once. Waits here are the server's own (1 s windows), so each case takes seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from client_helpers import close_client, consume, make_client, maybe
from local_helpers import make_db

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import RateLimitError
from trellis_jupyter.events import Processing
from trellis_jupyter.local import LocalServer, serve_in_background

pytestmark = pytest.mark.anyio

QUESTION = "SELECT 1 AS one"  # SQL passthrough: a quick, certain answer


@pytest.fixture(scope="module")
def items_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_db(tmp_path_factory.mktemp("retry") / "items.sqlite")


@pytest.fixture
def limited(items_db: str) -> Iterator[LocalServer]:
    """The hosted limits, narrowed to one chat created and one message sent per token a second."""
    with serve_in_background(
        databases={"items": items_db},
        hosted_limits=True,
        create_chat_limits=((1, 1.0),),
        token_send_limits=((1, 1.0),),
        ws_send_limits=((1, 1.0),),
    ) as server:
        yield server


def _waits(events: list[Any]) -> list[str]:
    return [e.status for e in events if isinstance(e, Processing) and e.status.startswith("Rate limited")]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_refused_creates_sends_and_edits_wait_then_are_answered_once(
    kind: str, limited: LocalServer
) -> None:
    client: Any = make_client(kind, limited)
    try:
        first = await maybe(client.chats.create(title="first"))
        second = await maybe(client.chats.create(title="second"))  # refused (1 a second): waits, then made
        assert first["id"] != second["id"]

        # A new chat's question: the create is refused, then the send; the stream says so and waits.
        events, answer = await consume(client.chats.stream(QUESTION))
        assert answer.complete
        assert answer.text
        waits = _waits(events)
        assert waits, [type(e).__name__ for e in events]
        assert all(w.startswith("Rate limited; retrying in ") and w.endswith(" s") for w in waits)
        chat_id = answer.chat_id

        # A follow-up right away: its send is refused, waits, goes again.
        events, follow_up = await consume(client.chats.stream(QUESTION, chat_id=chat_id))
        assert follow_up.complete
        assert _waits(events)

        # An edit right away: refused, waits, goes again; it replaces the follow-up.
        events, edited = await consume(
            client.chats.edit(chat_id, follow_up.user_message_id, "SELECT 2 AS two")
        )
        assert edited.complete
        assert _waits(events)

        chats = await maybe(client.chats.list())
        assert chats["total"] == 3  # never made twice
        messages = (await maybe(client.chats.get(chat_id)))["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
        assert [m["content"] for m in messages if m["role"] == "user"] == [QUESTION, "SELECT 2 AS two"]
    finally:
        await close_client(client)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_refused_websocket_send_waits_and_goes_again(kind: str, limited: LocalServer) -> None:
    client: Any = make_client(kind, limited)
    conversation = client.conversation(transport="websocket")
    try:
        for _ in range(2):  # the second send comes within the socket's second: refused, then resent
            events, answer = await consume(conversation.stream(QUESTION))
            assert answer.complete
        assert _waits(events)
        messages = (await maybe(client.chats.get(conversation.chat_id)))["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"] * 2
        assert (await maybe(client.chats.list()))["total"] == 1
    finally:
        await maybe(conversation.aclose() if kind == "async" else conversation.close())
        await close_client(client)


@pytest.fixture
def slow_to_create(items_db: str) -> Iterator[LocalServer]:
    """One chat a minute per token: the second create is told to wait about a minute."""
    with serve_in_background(
        databases={"items": items_db}, hosted_limits=True, create_chat_limits=((1, 60.0),)
    ) as server:
        yield server


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_wait_past_max_retry_wait_raises_with_the_wait(
    kind: str, slow_to_create: LocalServer
) -> None:
    client: Any = make_client(kind, slow_to_create, max_retry_wait=2)
    try:
        await maybe(client.chats.create())
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            await maybe(client.chats.create())
        assert time.monotonic() - started < 30  # raised, not slept through
        error = caught.value
        assert error.retry_after is not None
        assert 50 < error.retry_after <= 60
        assert str(error) == (
            f"Rate limited: wait {round(error.retry_after + 0.49)} s and ask again "
            "(more than max_retry_wait, 2 s)."
        )
        # The same through a question's stream: the refusal ends it, with the wait in its sentence.
        with pytest.raises(RateLimitError, match=r"^Rate limited: wait \d+ s and ask again"):
            await consume(client.chats.stream(QUESTION))

        client.max_retry_wait = 0  # waiting off: the server's sentence as it is
        with pytest.raises(RateLimitError) as caught:
            await maybe(client.chats.create())
        assert str(caught.value).endswith(" s and ask again.")
        assert (await maybe(client.chats.list()))["total"] == 1
    finally:
        await close_client(client)


def test_ctrl_c_ends_a_wait_at_once(slow_to_create: LocalServer) -> None:
    """Ctrl-C (SIGINT in the main thread) during a minute's wait: KeyboardInterrupt, not a minute."""
    with Trellis(
        base_url=slow_to_create.base_url,
        api_key=slow_to_create.api_key,
        email=slow_to_create.email,
        max_retry_wait=120,
    ) as client:
        client.chats.create()
        for call in (client.chats.create, lambda: list(client.chats.stream(QUESTION))):
            timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
            started = time.monotonic()
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                call()
            timer.join()
            assert time.monotonic() - started < 30
        assert client.chats.list()["total"] == 1


def test_close_from_another_thread_ends_a_wait(slow_to_create: LocalServer) -> None:
    with make_client("sync", slow_to_create, max_retry_wait=120) as client:
        assert isinstance(client, Trellis)
        client.chats.create()
        stream = client.chats.stream(QUESTION)
        with stream:
            event = next(stream)
            assert isinstance(event, Processing)
            assert event.status.startswith("Rate limited; retrying in ")
            assert stream.answer.status == event.status
            threading.Timer(0.3, stream.close).start()
            started = time.monotonic()
            assert list(stream) == []
            assert time.monotonic() - started < 30
        assert stream.answer.interrupted


async def test_a_cancelled_task_ends_a_wait(slow_to_create: LocalServer) -> None:
    async with AsyncTrellis(
        base_url=slow_to_create.base_url,
        api_key=slow_to_create.api_key,
        email=slow_to_create.email,
        max_retry_wait=120,
    ) as client:
        await client.chats.create()
        seen: list[str] = []

        async def ask() -> None:
            async with client.chats.stream(QUESTION) as stream:
                async for event in stream:
                    if isinstance(event, Processing):
                        seen.append(event.status)

        task = asyncio.ensure_future(ask())
        deadline = time.monotonic() + 60
        while not seen:
            assert time.monotonic() < deadline, "the stream never said it waits"
            assert not task.done(), task
            await asyncio.sleep(0.05)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 30
        assert seen[0].startswith("Rate limited; retrying in ")
        assert (await client.chats.list())["total"] == 1


def test_max_retry_wait_is_checked() -> None:
    from trellis_jupyter.errors import ConfigurationError

    for bad in (-1, float("nan"), "soon"):
        with pytest.raises(ConfigurationError, match="max_retry_wait must be a number of seconds"):
            Trellis(base_url="http://127.0.0.1:9", token="t", max_retry_wait=bad)  # type: ignore[arg-type]


def test_the_environment_sets_max_retry_wait(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRELLIS_MAX_RETRY_WAIT", "7.5")
    assert Trellis(base_url="http://127.0.0.1:9", token="t").max_retry_wait == 7.5
    assert Trellis(base_url="http://127.0.0.1:9", token="t", max_retry_wait=0).max_retry_wait == 0


async def test_the_widget_shows_the_wait_and_stop_ends_it(limited: LocalServer, items_db: str) -> None:
    """The widget's status says "Rate limited; retrying in 1 s" while a refused create waits; Stop
    during a minute's wait ends the turn at once, the chat's question not sent."""
    from trellis_jupyter.widget import ChatWidget

    async with make_client("async", limited) as client:
        await client.chats.create()  # the token's one chat this second: the widget's create waits
        widget = ChatWidget(client=client)
        statuses: list[str] = []
        widget.observe(lambda change: statuses.append(change["new"]), "status")
        answer = await widget.ask(QUESTION)
        assert answer.complete
        assert any(s.startswith("Rate limited; retrying in ") for s in statuses), statuses
        assert (await client.chats.list())["total"] == 2

    with serve_in_background(
        databases={"items": items_db}, hosted_limits=True, create_chat_limits=((1, 60.0),)
    ) as slow:
        async with make_client("async", slow) as client:
            await client.chats.create()
            widget = ChatWidget(client=client)
            future = widget.ask(QUESTION)
            deadline = time.monotonic() + 60
            while not widget.status.startswith("Rate limited"):
                assert time.monotonic() < deadline, f"the widget never said it waits: {widget.status!r}"
                assert not future.done(), future
                await asyncio.sleep(0.02)
            started = time.monotonic()
            widget.stop()
            stopped = await future
            assert time.monotonic() - started < 30
            assert stopped.interrupted
            assert widget.transcript[-1]["status"] == "interrupted"
            assert (await client.chats.list())["total"] == 1
