"""``events.decode_json``: msgspec's speed, ``json.loads``' answers, on every odd input."""

from __future__ import annotations

import json

import pytest

from trellis_jupyter.events import TextDelta, Visualization, decode_json, parse_event

ODD = [
    '{"content": "plain"}',
    '  {"a": [1, 2.5, true, null, "x"]}  ',  # whitespace around
    '{"big": 123456789012345678901234567890, "neg": -98765432109876543210}',  # past 64 bits, exact
    '{"n": NaN, "i": Infinity, "m": -Infinity}',  # json.loads reads these; msgspec refuses
    '{"pair": "\\ud83d\\ude00", "lone": "\\ud800"}',  # an escaped surrogate pair, and a lone one
    '{"dup": 1, "dup": 2}',
    '{"e": 1e400, "tiny": 5e-324}',
    '"just a string"',
    "[]",
    '{"unicode": "日本語 - ünïcödé"}',
]


@pytest.mark.parametrize("text", ODD)
def test_decodes_as_json_loads_does(text: str) -> None:
    ours, theirs = decode_json(text), json.loads(text)
    assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)
    assert json.dumps(decode_json(text.encode())) == json.dumps(theirs)  # bytes too


@pytest.mark.parametrize("text", ['{"a": ', "{'a': 1}", '{"a": 1} trailing', "", "[" * 100_000])
def test_bad_json_raises_what_json_loads_raises(text: str) -> None:
    with pytest.raises((ValueError, RecursionError)) as ours:
        decode_json(text)
    with pytest.raises((ValueError, RecursionError)) as theirs:
        json.loads(text)
    assert type(ours.value) is type(theirs.value)


def test_events_read_through_it() -> None:
    assert parse_event("text_delta", '{"content": "hi"}') == TextDelta("hi")
    rows = [[i, 10**30 + i, "x"] for i in range(3)]
    event = parse_event(
        "visualization",
        json.dumps({"id": "tbl0000001", "type": "table", "headers": ["a", "b", "c"], "rows": rows}),
    )
    assert isinstance(event, Visualization)
    assert event.payload.rows[2][1] == 10**30 + 2  # type: ignore[union-attr]


def test_a_large_text_decodes_with_the_collector_paused_and_then_restored() -> None:
    # JSON cannot hold a reference cycle, so the collector is paused while a large text decodes
    # (its passes over 10^5 fresh row lists found nothing): it must be on again afterwards, stay
    # off when the caller had turned it off, and come back on after a decoding error.
    import gc

    big = json.dumps({"rows": [[i, f"r{i}", None] for i in range(20_000)]})
    seen: list[bool] = []

    def during(phase: str, info: dict[str, int]) -> None:
        seen.append(True)

    assert gc.isenabled()
    gc.callbacks.append(during)
    try:
        gc.collect()
        seen.clear()
        decoded = decode_json(big)
        collections = len(seen)
        assert collections == 0  # unpaused, its 20,000 row lists would trigger ~28 passes
        assert decoded["rows"][19_999] == [19_999, "r19999", None]
        assert gc.isenabled()
        with pytest.raises(json.JSONDecodeError):
            decode_json(big[:-1])
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0
        gc.disable()
        try:
            assert len(decode_json(big)["rows"]) == 20_000
            assert not gc.isenabled()
        finally:
            gc.enable()
        # Objects the program froze itself stay frozen. The count is not compared for equality:
        # a frozen object that another thread frees meanwhile leaves the permanent generation
        # (CI saw 8 fewer). Unfreezing would drop it to 0; freezing the decoded rows would raise
        # it by 20,000 or more.
        gc.freeze()
        try:
            frozen = gc.get_freeze_count()
            assert frozen > 0
            decode_json(big)
            assert 0 < gc.get_freeze_count() <= frozen
        finally:
            gc.unfreeze()
    finally:
        gc.callbacks.remove(during)
