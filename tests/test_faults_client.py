"""Faults through the client (sync and async, SSE and WebSocket), on loopback via the fault proxy.

Each case is one row of ``faults_helpers.ALL`` (its id names the promise it checks). For every
fault: the error is the documented one with its sentence, the partial answer and chat id are kept,
the next question in the same conversation works, and the server holds each question exactly as
often as it received it (never twice: nothing non-idempotent is replayed).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from faults import FaultProxy, Reply
from faults_helpers import (  # noqa: F401 - shared fixtures
    ALL,
    LONG_WORDS,
    SOME,
    Scenario,
    check_server,
    long_text,
    params,
    start_server,
)

from trellis_jupyter.answer import Answer
from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import MalformedEventError, ServerError, TrellisError
from trellis_jupyter.events import Processing, TextDelta, UnknownEvent


def _options(server: Any, proxy: FaultProxy, scenario: Scenario) -> dict[str, Any]:
    return {
        "base_url": proxy.base_url,
        "api_key": server.api_key,
        "email": server.email,
        **scenario.client,
    }


def _check_fault(
    scenario: Scenario, answer: Answer, error: TrellisError | None, malformed: list[Any]
) -> None:
    if scenario.recoverable:
        assert malformed, "the malformed event was not reported"
        assert re.search(scenario.sentence or "", str(malformed[0])), str(malformed[0])
        assert malformed[0].answer is answer  # the partial answer travels with the error
        assert error is None
        assert answer.complete
        assert answer.text == long_text()
        return
    if scenario.error is None:
        assert error is None, f"unexpected {error!r}"
        assert answer.complete
        assert answer.text == long_text()
        assert len(answer.tables) == scenario.tables
        return
    assert isinstance(error, scenario.error), f"expected {scenario.error.__name__}, got {error!r}"
    assert re.search(scenario.sentence or "", str(error)), str(error)
    assert "Traceback" not in str(error)
    assert "\n" not in str(error)
    if scenario.chat_kept:
        assert error.chat_id is not None
        assert error.answer is not None
        assert error.answer is answer
    if scenario.partial:
        assert answer.text
        assert long_text().startswith(answer.text.rstrip())
        assert not answer.complete
        assert answer.done


def _sync_turn(conversation: Any, question: str) -> tuple[Answer, TrellisError | None, list[Any]]:
    malformed: list[MalformedEventError] = []
    stream = conversation.stream(question)
    try:
        with stream as s:
            for _ in range(10_000):  # bounded: an answer here is < 100 events
                try:
                    next(s)
                except StopIteration:
                    break
                except MalformedEventError as exc:
                    malformed.append(exc)
            s.get_final_answer()
    except TrellisError as exc:
        return stream.answer, exc, malformed
    return stream.answer, None, malformed


async def _async_turn(conversation: Any, question: str) -> tuple[Answer, TrellisError | None, list[Any]]:
    malformed: list[MalformedEventError] = []
    stream = conversation.stream(question)
    try:
        async with stream as s:
            for _ in range(10_000):
                try:
                    await s.__anext__()
                except StopAsyncIteration:
                    break
                except MalformedEventError as exc:
                    malformed.append(exc)
            await s.get_final_answer()
    except TrellisError as exc:
        return stream.answer, exc, malformed
    return stream.answer, None, malformed


@pytest.mark.parametrize("scenario", params(ALL))
def test_sync_client_survives(scenario: Scenario, server: Any, proxy: FaultProxy, upstream: Trellis) -> None:
    """Sync client: sentence, partial answer + chat id kept, next question works, nothing stored twice."""
    first, second = (f"long answer please [{scenario.id} sync {n}]" for n in (1, 2))
    with Trellis(**_options(server, proxy, scenario)) as client:
        conversation = client.conversation(transport=scenario.transport)
        try:
            scenario.install(proxy)
            answer, error, malformed = _sync_turn(conversation, first)
            _check_fault(scenario, answer, error, malformed)
            if scenario.chat_kept:
                assert conversation.chat_id is not None
                assert conversation.chat_id == answer.chat_id
            kept = conversation.chat_id
            after = conversation.ask(second)
            assert after.complete
            assert after.text == long_text()
            if kept is not None:
                assert after.chat_id == kept  # the same conversation goes on
            check_server(upstream, after.chat_id, first, second, scenario)
        finally:
            conversation.close()


@pytest.mark.slow  # the async twin of the matrix above; the widget covers the async path in the fast run
@pytest.mark.anyio
@pytest.mark.parametrize("scenario", params(SOME))
async def test_async_client_survives(
    scenario: Scenario, server: Any, proxy: FaultProxy, upstream: Trellis
) -> None:
    """Async client: the same four promises as the sync client."""
    first, second = (
        f"long answer please [{scenario.id} async 1]",
        f"long answer please [{scenario.id} async 2]",
    )
    async with AsyncTrellis(**_options(server, proxy, scenario)) as client:
        conversation = client.conversation(transport=scenario.transport)
        try:
            scenario.install(proxy)
            answer, error, malformed = await _async_turn(conversation, first)
            _check_fault(scenario, answer, error, malformed)
            kept = conversation.chat_id
            after = await conversation.ask(second)
            assert after.complete
            assert after.text == long_text()
            if kept is not None:
                assert after.chat_id == kept
            check_server(upstream, after.chat_id, first, second, scenario)
        finally:
            await conversation.aclose()


def test_unknown_event_reaches_the_caller(server: Any, proxy: FaultProxy) -> None:
    """Unknown events are yielded (and kept on the answer) between the known ones."""
    from faults import Inject, sse

    proxy.add(
        "POST", "/v1/chats", Inject(b"event: text_delta", nth=2, data=sse("tool_call", {"name": "sql"}))
    )
    with Trellis(base_url=proxy.base_url, api_key=server.api_key, email=server.email) as client:
        with client.chats.stream("long answer please [unknown]") as s:
            events = list(s)
        unknown = [e for e in events if isinstance(e, UnknownEvent)]
        assert [(e.event, e.data) for e in unknown] == [("tool_call", {"name": "sql"})]
        assert s.answer.unknown_events == unknown
        assert sum(isinstance(e, TextDelta) for e in events) >= LONG_WORDS


def test_rate_limited_reads_wait_as_told(server: Any, proxy: FaultProxy) -> None:
    """Idempotent reads are retried after Retry-After (seconds, then an HTTP date); a send is not."""
    import email.utils
    import time

    date = email.utils.formatdate(time.time() + 3, usegmt=True)
    proxy.add("GET", r"/v1/chats", Reply(429, {"detail": "Slow"}, {"Retry-After": "2"}))
    proxy.add("GET", r"/v1/chats", Reply(429, {"detail": "Slow"}, {"Retry-After": date}))
    with Trellis(base_url=proxy.base_url, api_key=server.api_key, email=server.email) as client:
        waits: list[float] = []
        client._http.sleep = waits.append  # type: ignore[assignment]  # record the waits, do not sleep
        page = client.chats.list()
        assert "chats" in page
        assert waits[0] == 2.0, waits
        assert 1.0 <= waits[1] <= 4.0, waits
        assert proxy.count("GET", r"/v1/chats") == 3


def test_server_errors_on_reads_are_retried_then_reported(server: Any, proxy: FaultProxy) -> None:
    """500/503 on an idempotent read: retried max_retries times, then one ServerError sentence."""
    proxy.add("GET", r"/v1/models", Reply(503, {"detail": "Unavailable"}), times=1)
    proxy.add("GET", r"/v1/models", Reply(500, {"detail": "Boom"}), times=1)
    with Trellis(
        base_url=proxy.base_url, api_key=server.api_key, email=server.email, max_retries=2
    ) as client:
        client._http.sleep = lambda seconds: None
        assert client.models()["default"]  # third try succeeds
        proxy.add("GET", r"/v1/models", Reply(500, {"detail": "Boom"}), times=3)
        with pytest.raises(ServerError, match=r"server error \(500: Boom\); try again in a moment"):
            client.models()
        assert proxy.count("GET", r"/v1/models") == 6


def test_a_refused_send_waits_and_goes_again_once(server: Any, proxy: FaultProxy) -> None:
    """A 429 on a send (Retry-After: 1): the server did nothing, so the question goes again after the
    wait, shown as a status; it is answered once."""
    proxy.add("POST", "/v1/chats", Reply(429, {"detail": "Slow"}, {"Retry-After": "1"}))
    with Trellis(base_url=proxy.base_url, api_key=server.api_key, email=server.email) as client:
        with client.chats.stream("long answer please [429 short]") as stream:
            first = next(stream)
            assert first == Processing("Rate limited; retrying in 1 s")
            answer = stream.get_final_answer()
        assert answer.complete
        assert proxy.count("POST", "/v1/chats") == 2
        assert answer.chat_id is not None
        assert [m.role for m in client.chats.get(answer.chat_id).messages] == ["user", "assistant"]
