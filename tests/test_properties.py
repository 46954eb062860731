"""Property-based tests (hypothesis) for SSE framing, event parsing and the answer accumulator.

Promises checked:

- framing: any byte split of an SSE body, with LF, CRLF or CR line endings, comments and ``id:``
  fields, gives the same events (and the same answer) as the unsplit body;
- parsing: any event name with any data, any WebSocket frame, any byte soup as a stream, gives
  typed events or raises only the documented error family (:class:`TrellisError`);
- accumulating: any sequence of known and unknown events feeds an :class:`Answer` without raising,
  and its text is the deltas joined, or the last ``message`` once one came.

Each stream is parsed through the real ``SSEEvents`` over an ``httpx.Response`` whose body arrives
in the generated chunks (a unit's edge cases: no network needed to split bytes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from trellis_jupyter._sse import SSEEvents, to_event
from trellis_jupyter._wsproto import decode_frame
from trellis_jupyter.answer import Answer
from trellis_jupyter.errors import MalformedEventError, TrellisError
from trellis_jupyter.events import (
    KNOWN_EVENTS,
    ChatMetadata,
    ErrorEvent,
    Event,
    Message,
    Processing,
    Table,
    TextDelta,
    UnknownEvent,
    Visualization,
    event_name,
    parse_event,
)
from trellis_jupyter.stream import AnswerStream, answer_error

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KNOWN = sorted(KNOWN_EVENTS)

# Text that stresses framing: line separators other than \n, multi-byte UTF-8, JSON escapes.
tricky_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(
            ["\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "é", "😀", ":", " "]
        ),
    ),
    max_size=40,
)
ident = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    tricky_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(tricky_text, inner, max_size=4)),
    max_leaves=20,
)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    headers = draw(st.lists(tricky_text, min_size=1, max_size=3))
    rows = draw(st.lists(st.lists(scalars, min_size=len(headers), max_size=len(headers)), max_size=4))
    return Table(id=draw(st.from_regex(r"[a-z0-9]{10}", fullmatch=True)), headers=headers, rows=rows)


events = st.one_of(
    st.builds(TextDelta, tricky_text),
    st.builds(Processing, tricky_text),
    st.builds(ChatMetadata, st.from_regex(r"chat_[a-f0-9]{6}", fullmatch=True), st.none() | ident),
    st.builds(Message, tricky_text, st.none() | ident),
    st.builds(Visualization, tables()),
    st.builds(
        UnknownEvent,
        ident.filter(lambda n: n not in KNOWN),
        st.dictionaries(tricky_text, json_values, max_size=3),
    ),
)


def encode(stream: list[Event], newline: str, noise: list[bool]) -> bytes:
    """The events as an SSE body: ``newline`` endings; a comment and an ``id:`` line where ``noise``."""
    out = []
    for index, event in enumerate(stream):
        if noise[index % len(noise)]:
            out.append(f": keepalive{newline}id: {index}{newline}")
        data = json.dumps(event.to_data(), ensure_ascii=False)
        out.append(f"event: {event_name(event)}{newline}data: {data}{newline}{newline}")
    return "".join(out).encode("utf-8")


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(body[start:point])
        start = point
    pieces.append(body[start:])
    return [p for p in pieces if p]


def response(chunks: list[bytes]) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=iter(chunks),
        request=httpx.Request("POST", "http://127.0.0.1/v1/chats"),
    )


def read(chunks: list[bytes]) -> list[Event]:
    return list(SSEEvents(response(chunks)))


def fed(stream: list[Event]) -> Answer:
    answer = Answer()
    for event in stream:
        answer.feed(event)
    return answer


def summary(answer: Answer) -> tuple[Any, ...]:
    return (
        answer.text,
        answer.chat_id,
        answer.user_message_id,
        answer.message_id,
        answer.status,
        answer.complete,
        [t.to_data() for t in answer.tables],
        [(e.event, e.data) for e in answer.unknown_events],
    )


@settings(SETTINGS, max_examples=120)
@given(
    stream=st.lists(events, max_size=12),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    noise=st.lists(st.booleans(), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0), max_size=30),
)
def test_any_byte_split_gives_the_same_events_and_answer(
    stream: list[Event], newline: str, noise: list[bool], cuts: list[int]
) -> None:
    """SSE framing: a split body (even inside a UTF-8 character or a CRLF) reads as the whole body."""
    body = encode(stream, newline, noise)
    whole = read([body] if body else [])
    assert whole == stream  # the encoding round-trips: nothing lost, nothing invented
    pieces = read(split(body, cuts))
    assert pieces == whole
    assert summary(fed(pieces)) == summary(fed(whole))


@SETTINGS
@given(stream=st.lists(events, max_size=12))
def test_answer_text_is_the_deltas_then_the_last_message(stream: list[Event]) -> None:
    """The accumulator: deltas append until a message; a message is authoritative."""
    answer = fed(stream)
    messages = [e for e in stream if isinstance(e, Message)]
    if messages:
        assert answer.text == messages[-1].content
        assert answer.complete
    else:
        assert answer.text == "".join(e.content for e in stream if isinstance(e, TextDelta))
        assert not answer.complete
    unknown = [e for e in stream if isinstance(e, UnknownEvent)]
    assert answer.unknown_events == unknown
    ids = [v.payload.id for v in stream if isinstance(v, Visualization)]
    assert [t.id for t in answer.tables] == list(dict.fromkeys(ids))  # de-duplicated by id, in order


@SETTINGS
@given(name=st.one_of(st.sampled_from(KNOWN), ident, st.just("")), data=json_values)
def test_any_event_data_parses_or_raises_the_family(name: str, data: Any) -> None:
    """Parsing: every (name, data) gives an event or a MalformedEventError naming the event."""
    for raw in (json.dumps(data), data if isinstance(data, dict) else None):
        try:
            event = parse_event(name, raw)
        except MalformedEventError as exc:
            named = exc.event
            assert named == (name or "message")
            continue
        answer = Answer()
        answer.feed(event)  # whatever parsed can be accumulated
        assert isinstance(answer.text, str)
        repr(answer)


@SETTINGS
@given(
    kind=st.sampled_from(["table", "chart", None, "other"]),
    fields=st.dictionaries(
        st.sampled_from(["headers", "columns", "rows", "data", "title", "row_count", "chart_type", "id"]),
        json_values,
        max_size=5,
    ),
)
def test_any_visualization_payload_parses_or_raises_the_family(
    kind: str | None, fields: dict[str, Any]
) -> None:
    """Visualization payloads of any shape: a payload, or MalformedEventError ('visualization')."""
    payload = {**fields, **({"type": kind} if kind else {})}
    try:
        event = parse_event("visualization", json.dumps(payload))
    except MalformedEventError as exc:
        named = exc.event
        assert named == "visualization"
        return
    fed([event])


@SETTINGS
@given(name=st.one_of(st.sampled_from(KNOWN), ident), data=st.text(max_size=60))
def test_fast_path_agrees_with_parse_event(name: str, data: str) -> None:
    """_sse.to_event (the C-scanner fast path) reads exactly what parse_event reads."""
    try:
        expected: Any = parse_event(name, data)
    except MalformedEventError as exc:
        expected = ("malformed", exc.event)
    try:
        got: Any = to_event(name, data)
    except MalformedEventError as exc:
        got = ("malformed", exc.event)
    assert got == expected


@SETTINGS
@given(raw=st.one_of(st.text(max_size=80), st.binary(max_size=80), json_values.map(json.dumps)))
def test_any_websocket_frame_decodes_or_raises_the_family(raw: str | bytes) -> None:
    """A WebSocket frame of any content: an event or MalformedEventError."""
    try:
        decode_frame(raw)
    except MalformedEventError:
        pass


def _opener(chunks: list[bytes]) -> Any:
    return lambda answer: SSEEvents(response(chunks))


@SETTINGS
@given(body=st.binary(max_size=300), cuts=st.lists(st.integers(min_value=0), max_size=10))
def test_byte_soup_stream_ends_inside_the_family(body: bytes, cuts: list[int]) -> None:
    """Any bytes as an answer stream: events, then an end or an error of the family; never another."""
    stream = AnswerStream(_opener(split(body, cuts)))
    with stream:
        for _ in range(1000):  # bounded: 300 bytes make fewer events than this
            try:
                next(stream)
            except StopIteration:
                break
            except MalformedEventError:
                continue
            except TrellisError:
                break
    assert isinstance(stream.answer.text, str)
    assert stream.answer.done


error_payloads = st.fixed_dictionaries(
    {"error": tricky_text, "code": st.none() | st.sampled_from(["RATE_LIMIT", "INTERNAL", "X"])},
    optional={
        "retryable": json_values,
        "debug_id": json_values,
        "retry_after_seconds": st.one_of(st.floats(), st.integers(), tricky_text, st.none()),
    },
)


@SETTINGS
@given(data=error_payloads)
@example(data={"error": "slow down", "code": "RATE_LIMIT", "retry_after_seconds": float("inf")})
def test_any_error_event_gives_one_sentence(data: dict[str, Any]) -> None:
    """An error event of any content gives an AnswerError with a one-line message."""
    answer = Answer()
    answer.feed(parse_event("error", json.dumps(data)))
    error = answer_error(answer)
    assert str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize("value", ["1e400", "-1e400", "NaN"])
def test_error_event_with_a_wild_retry_after(value: str) -> None:
    """The cases hypothesis finds for the property above, kept readable: still one sentence."""
    answer = Answer()
    data = f'{{"error": "slow down", "code": "RATE_LIMIT", "retry_after_seconds": {value}}}'
    answer.feed(parse_event("error", data))
    assert "Rate limited" in str(answer_error(answer))


@SETTINGS
@given(
    value=st.one_of(
        st.text(max_size=30), st.sampled_from(["1e400", "nan", "-3", "Wed, 21 Oct 2099 07:28:00 GMT"])
    )
)
@example(value="inf")
def test_429_with_any_retry_after(value: str) -> None:
    """Any Retry-After header on a 429 gives a RateLimitError sentence (never another exception)."""
    from trellis_jupyter._http import error_from_response
    from trellis_jupyter.errors import RateLimitError

    try:
        headers = httpx.Headers({"retry-after": value})
    except (UnicodeEncodeError, ValueError):
        return
    res = httpx.Response(429, headers=headers, request=httpx.Request("POST", "http://127.0.0.1/v1/chats"))
    error = error_from_response(res)
    assert isinstance(error, RateLimitError)
    assert "Rate limited" in str(error)


@pytest.mark.parametrize("where", ["parse_event", "to_event", "decode_frame"])
def test_deeply_nested_json_is_a_malformed_event(where: str) -> None:
    """A hostile server's 100,000-deep JSON array is a malformed event, not a RecursionError."""
    deep = "[" * 100_000 + "]" * 100_000
    calls = {
        "parse_event": lambda: parse_event("message", deep),
        "to_event": lambda: to_event("message", deep),
        "decode_frame": lambda: decode_frame(f'{{"event": "message", "data": {deep}}}'),
    }
    with pytest.raises(MalformedEventError):
        calls[where]()


def test_error_event_fields_are_kept() -> None:
    """Sanity for the generators above: an error event's fields survive parsing."""
    event = parse_event("error", json.dumps({"error": "x", "code": "RATE_LIMIT", "retry_after_seconds": 3}))
    assert isinstance(event, ErrorEvent)
    assert (event.code, event.retry_after) == ("RATE_LIMIT", 3.0)


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
