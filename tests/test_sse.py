"""SSE bytes -> typed events: every edge case of the decoding, sync and async."""

from __future__ import annotations

import json

import httpx
import pytest
from client_helpers import async_sse_response, failing_body, sse, sse_response

from trellis_jupyter._sse import AsyncSSEEvents, SSEEvents
from trellis_jupyter.errors import ConnectionLostError, MalformedEventError
from trellis_jupyter.events import (
    ChatMetadata,
    Message,
    Processing,
    Table,
    TextDelta,
    UnknownEvent,
    Visualization,
)

TURN = (
    sse("chat_metadata", {"id": "chat_1", "user_message_id": "msg_u"})
    + b": keepalive\n\n"
    + sse("processing", {"status": "thinking"})
    + sse(
        "visualization",
        {"id": "ab12xy3456", "type": "table", "headers": ["région", "n"], "rows": [["Nord", 1]]},
    )
    + sse("text_delta", {"content": "Voilà "})
    + sse("text_delta", {"content": "🎉 done"})
    + sse("message", {"content": "Voilà 🎉 done", "id": "msg_a"})
)


def events_of(chunks: list[bytes]) -> list[object]:
    return list(SSEEvents(sse_response(chunks)))


EXPECTED = events_of([TURN])


def test_a_whole_turn_decodes_to_typed_events() -> None:
    assert [type(e) for e in EXPECTED] == [
        ChatMetadata,
        Processing,
        Visualization,
        TextDelta,
        TextDelta,
        Message,
    ]
    viz = EXPECTED[2]
    assert isinstance(viz, Visualization)
    assert isinstance(viz.payload, Table)
    assert viz.payload.headers == ["région", "n"]
    assert EXPECTED[-1] == Message(content="Voilà 🎉 done", message_id="msg_a")


def test_split_at_every_byte_boundary_gives_the_same_events() -> None:
    # Multi-byte UTF-8 characters get split too: the decoder must keep the halves.
    for cut in range(1, len(TURN)):
        assert events_of([TURN[:cut], TURN[cut:]]) == EXPECTED, f"split at byte {cut}"


def test_one_byte_chunks_give_the_same_events() -> None:
    assert events_of([TURN[i : i + 1] for i in range(len(TURN))]) == EXPECTED


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
def test_crlf_and_cr_line_endings(ending: bytes) -> None:
    body = TURN.replace(b"\n", ending)
    assert events_of([body]) == EXPECTED
    # ... also when a CR+LF pair is split between two chunks.
    middle = body.index(b"\r", len(body) // 2) + 1
    assert events_of([body[:middle], body[middle:]]) == EXPECTED


def test_multi_line_data_is_joined_with_newlines() -> None:
    pretty = json.dumps({"content": "a\nb", "id": "m"}, indent=2)  # JSON spread over lines
    [event] = events_of([sse("message", pretty)])
    assert event == Message(content="a\nb", message_id="m")


def test_comments_heartbeats_and_id_only_blocks_are_skipped() -> None:
    body = (
        b": keepalive\n\n"
        + sse("heartbeat", {"timestamp": "2026-01-01T00:00:00Z"})
        + b"id: 7\nretry: 1000\n\n"
        + sse("text_delta", {"content": "x"})
    )
    assert events_of([body]) == [TextDelta("x")]


def test_a_10_mb_event_arrives_whole() -> None:
    content = "x" * (10 * 1024 * 1024)
    body = sse("text_delta", {"content": content}) + sse("message", {"content": "ok"})
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    events = events_of(chunks)
    assert isinstance(events[0], TextDelta)
    assert len(events[0].content) == len(content)
    assert events[1] == Message(content="ok")


def test_unknown_events_pass_through() -> None:
    body = (
        sse("tool_call", {"name": "sql", "args": {"q": 1}})
        + sse("tool_note", "not json")
        + sse("processing", {"status": "odd"})
    )
    assert events_of([body]) == [
        UnknownEvent(event="tool_call", data={"name": "sql", "args": {"q": 1}}),
        UnknownEvent(event="tool_note", data="not json"),
        Processing("odd"),
    ]


def test_malformed_json_names_the_event_and_the_stream_goes_on() -> None:
    body = (
        sse("text_delta", {"content": "a"})
        + b"event: text_delta\ndata: {not json\n\n"
        + sse("text_delta", {"content": "b"})
    )
    events = SSEEvents(sse_response([body]))
    assert next(events) == TextDelta("a")
    with pytest.raises(MalformedEventError) as caught:
        next(events)
    assert caught.value.event == "text_delta"
    assert caught.value.position == 2
    assert "malformed 'text_delta' event (event 2 of the stream)" in str(caught.value)
    assert next(events) == TextDelta("b")  # the position was kept: the next event is there
    assert list(events) == []


def test_a_connection_error_mid_stream_is_connection_lost() -> None:
    response = httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=failing_body([sse("text_delta", {"content": "a"})], httpx.ReadError("reset")),
    )
    events = SSEEvents(response)
    assert next(events) == TextDelta("a")
    with pytest.raises(ConnectionLostError, match="connection dropped before the answer was complete"):
        next(events)


def test_close_ends_the_stream() -> None:
    events = SSEEvents(sse_response([TURN]))
    next(events)
    events.close()
    assert list(events) == []


@pytest.mark.anyio
async def test_async_split_at_every_byte_boundary_and_malformed_event() -> None:
    for cut in range(1, len(TURN), 7):
        got = [e async for e in AsyncSSEEvents(async_sse_response([TURN[:cut], TURN[cut:]]))]
        assert got == EXPECTED, f"split at byte {cut}"
    body = b"event: message\ndata: [1, 2]\n\n" + sse("text_delta", {"content": "b"})
    events = AsyncSSEEvents(async_sse_response([body]))
    with pytest.raises(MalformedEventError) as caught:
        await events.__anext__()
    assert caught.value.position == 1
    assert "JSON list" in str(caught.value)
    assert await events.__anext__() == TextDelta("b")
    await events.aclose()
