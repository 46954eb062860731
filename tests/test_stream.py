"""AnswerStream / AsyncAnswerStream: how an answer ends (message, error, cut, close), unit and end to end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_helpers import (
    CuttingProxy,
    async_sse_response,
    failing_body,
    make_client,
    maybe,
    sse,
    sse_response,
)

from trellis_jupyter._sse import AsyncSSEEvents, SSEEvents
from trellis_jupyter.answer import Answer
from trellis_jupyter.errors import AnswerError, ConnectionLostError, MalformedEventError
from trellis_jupyter.events import ErrorEvent, Message, TextDelta
from trellis_jupyter.local.planner_protocol import PlannedAnswer, QueryError
from trellis_jupyter.stream import AnswerStream, AsyncAnswerStream

HEAD = sse("chat_metadata", {"id": "chat_9", "user_message_id": "msg_u"}) + sse(
    "processing", {"status": "thinking"}
)
DELTAS = sse("text_delta", {"content": "Hello "}) + sse("text_delta", {"content": "world"})
FINAL = sse("message", {"content": "Hello world.", "id": "msg_a"})


def stream_of(body: bytes | Iterator[bytes], **hooks: Any) -> AnswerStream:
    def opener(answer: Answer) -> SSEEvents:
        if isinstance(body, bytes):
            return SSEEvents(sse_response([body]))
        return SSEEvents(httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body))

    return AnswerStream(opener, question="q?", **hooks)


def test_a_complete_answer_and_its_hooks() -> None:
    seen: list[str] = []
    stream = stream_of(
        HEAD + DELTAS + FINAL, on_open=lambda a: seen.append("open"), on_end=lambda a: seen.append("end")
    )
    with stream as s:
        assert seen == ["open"]
        assert list(s.text_stream) == ["Hello ", "world"]
        answer = s.get_final_answer()
    assert seen == ["open", "end"]
    assert answer.text == "Hello world."
    assert answer.complete
    assert answer.chat_id == "chat_9"
    assert answer.message_id == "msg_a"
    assert answer.user_message_id == "msg_u"
    assert answer.question == "q?"


def test_text_stream_gives_the_message_when_the_server_sends_no_deltas() -> None:
    with stream_of(HEAD + FINAL) as s:
        assert list(s.text_stream) == ["Hello world."]


def test_eof_without_message_raises_connection_lost_with_the_partial_answer() -> None:
    with stream_of(HEAD + DELTAS) as s, pytest.raises(ConnectionLostError) as caught:
        for _ in s:
            pass
    err = caught.value
    assert err.answer is s.answer
    assert err.chat_id == "chat_9"
    assert err.answer.text == "Hello world"
    assert err.answer.interrupted
    assert str(err).startswith("The connection dropped before the answer was complete")


def test_a_connection_error_mid_answer_keeps_the_partial_answer() -> None:
    with stream_of(failing_body([HEAD, DELTAS], httpx.RemoteProtocolError("peer closed"))) as s:
        with pytest.raises(ConnectionLostError) as caught:
            s.get_final_answer()
        assert caught.value.answer is not None
        assert caught.value.answer.text == "Hello world"
        assert list(s) == []  # the stream is over, nothing raised twice


def test_an_error_event_is_yielded_then_get_final_answer_raises() -> None:
    data = {"error": "Too many requests.", "code": "RATE_LIMIT", "retryable": True}
    error = sse("error", {**data, "debug_id": "dbg_1", "error_type": "rate_limit", "retry_after_seconds": 12})
    with stream_of(HEAD + error) as s:
        events = list(s)
        assert isinstance(events[-1], ErrorEvent)
        assert events[-1].code == "RATE_LIMIT"
        with pytest.raises(AnswerError) as caught:
            s.get_final_answer()
    err = caught.value
    assert str(err) == "Rate limited: wait 12 s and ask again."
    assert err.retry_after == 12
    assert err.retryable
    assert err.code == "RATE_LIMIT"
    assert err.debug_id == "dbg_1"
    assert err.answer is s.answer
    assert err.chat_id == "chat_9"


def test_an_unanswerable_question_says_what_to_do() -> None:
    error = sse(
        "error", {"error": "I cannot turn that into a query.", "code": "UNANSWERABLE", "retryable": False}
    )
    with stream_of(HEAD + error) as s, pytest.raises(AnswerError) as caught:
        s.get_final_answer()
    assert (
        str(caught.value)
        == "Trellis could not answer: I cannot turn that into a query; try rephrasing the question."
    )


def test_a_malformed_event_carries_the_answer_and_the_stream_continues() -> None:
    bad = b"event: text_delta\ndata: {oops\n\n"
    with stream_of(HEAD + bad + DELTAS + FINAL) as s:
        with pytest.raises(MalformedEventError) as caught:
            list(s)
        assert caught.value.answer is s.answer
        assert caught.value.position == 3
        assert s.get_final_answer().text == "Hello world."


def test_close_ends_the_stream_and_marks_the_answer_interrupted() -> None:
    with stream_of(HEAD + DELTAS + FINAL) as s:
        for event in s:
            if isinstance(event, TextDelta):
                break
        s.close()
        assert list(s) == []
    assert s.answer.interrupted
    assert s.answer.text == "Hello "
    assert not s.answer.complete
    assert s.get_final_answer() is s.answer  # an interrupted answer is returned, not raised


def test_iterating_without_with_sends_on_first_use() -> None:
    stream = stream_of(HEAD + FINAL)
    assert isinstance(list(stream)[-1], Message)


@pytest.mark.anyio
async def test_async_stream_ends_the_same_ways() -> None:
    def make(body: bytes) -> AsyncAnswerStream:
        async def opener(answer: Answer) -> AsyncSSEEvents:
            return AsyncSSEEvents(async_sse_response([body]))

        return AsyncAnswerStream(opener, question="q?")

    async with make(HEAD + DELTAS + FINAL) as s:
        assert [t async for t in s.text_stream] == ["Hello ", "world"]
        assert (await s.get_final_answer()).text == "Hello world."
    async with make(HEAD + DELTAS) as s:
        with pytest.raises(ConnectionLostError) as caught:
            await s.get_final_answer()
        assert caught.value.chat_id == "chat_9"
    async with make(HEAD + DELTAS + FINAL) as s:
        await s.__anext__()
        await s.aclose()
        assert [e async for e in s] == []
    assert s.answer.interrupted


# --- end to end, over loopback ---------------------------------------------------------------------


class LongPlanner:
    """Answers every question with many words (so a stream can be stopped mid-answer)."""

    def answer(self, question: str, **_: Any) -> PlannedAnswer:
        if "unanswerable" in question:
            raise QueryError("I cannot answer that from this database.", "UNANSWERABLE")
        return PlannedAnswer(text=" ".join(f"word{i}" for i in range(200)))


@pytest.fixture(scope="module")
def paced_server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:", pace=0.002, planner=LongPlanner()) as server:
        yield server


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
async def test_e2e_close_mid_answer_then_ask_again(paced_server: Any, kind: str) -> None:
    client = make_client(kind, paced_server)
    conversation = client.conversation()
    stream = conversation.stream("tell me everything")
    if kind == "async":
        async with stream as s:
            async for event in s:
                if isinstance(event, TextDelta):
                    break
            await s.aclose()
    else:
        with stream as s:
            for event in s:
                if isinstance(event, TextDelta):
                    break
            s.close()
    answer = s.answer
    assert answer.interrupted
    assert answer.text.startswith("word0")
    assert not answer.complete
    assert conversation.chat_id is not None
    assert conversation.chat_id == answer.chat_id
    follow_up = await maybe(conversation.ask("and again"))  # the chat stays usable after a stop
    assert follow_up.complete
    assert follow_up.chat_id == conversation.chat_id
    assert conversation.answers == [answer, follow_up]
    await maybe(client.aclose() if kind == "async" else client.close())


@pytest.mark.anyio
async def test_e2e_error_event_raises_answer_error_with_the_chat(paced_server: Any, kind: str) -> None:
    client = make_client(kind, paced_server)
    conversation = client.conversation()
    with pytest.raises(AnswerError) as caught:
        await maybe(conversation.ask("an unanswerable question"))
    err = caught.value
    assert err.code == "UNANSWERABLE"
    assert err.chat_id is not None
    assert err.chat_id == conversation.chat_id
    assert "try rephrasing the question" in str(err)
    assert conversation.answers[-1].error is not None
    await maybe(client.aclose() if kind == "async" else client.close())


@pytest.mark.anyio
async def test_e2e_connection_cut_mid_answer(paced_server: Any, kind: str) -> None:
    proxy = CuttingProxy(paced_server.base_url, marker=b"event: text_delta")
    client = make_client(kind, paced_server, base_url=proxy.base_url, max_retries=0)
    conversation = client.conversation()
    try:
        with pytest.raises(ConnectionLostError) as caught:
            await maybe(conversation.ask("tell me everything"))
    finally:
        proxy.close()
    err = caught.value
    assert proxy.cuts >= 1
    assert err.answer is not None
    assert err.chat_id is not None
    assert err.chat_id == conversation.chat_id
    assert err.answer.interrupted
    assert not err.answer.complete
    assert conversation.answers == [err.answer]  # nothing lost: the partial answer is recorded
    assert "the partial answer and chat id are kept" in str(err)
    await maybe(client.aclose() if kind == "async" else client.close())
