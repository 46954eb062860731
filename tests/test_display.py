"""The live display of a streaming answer: coalescing, status, tables and charts, text mode, Ctrl-C."""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.displaypub import DisplayPublisher
from IPython.core.formatters import DisplayFormatter
from magic_helpers import LONG_TEXT, RecordingPublisher, ScriptedPlanner

from trellis_jupyter.answer import Answer
from trellis_jupyter.client import Trellis
from trellis_jupyter.display import (
    AnswerInterrupted,
    LiveAnswer,
    is_rich,
    show_stream,
    status_label,
    table_text,
)
from trellis_jupyter.errors import AnswerError
from trellis_jupyter.events import (
    Chart,
    ChatMetadata,
    Event,
    Message,
    Processing,
    Table,
    TextDelta,
    Visualization,
)

VEGALITE = "application/vnd.vegalite.v5+json"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fake_shell() -> Any:
    return types.SimpleNamespace(display_pub=RecordingPublisher(), display_formatter=DisplayFormatter())


def feed_all(live: LiveAnswer, answer: Answer, events: list[Event], clock: Clock | None = None) -> None:
    for event in events:
        answer.feed(event)
        live.feed(event, answer)
        if clock is not None:
            clock.now += 0.01


def big_table() -> Table:
    rows: list[list[Any]] = [[i, f"name {i}"] for i in range(50)]
    return Table(
        id="t000000001", headers=["id", "name"], rows=rows, title="People", sql="SELECT id, name FROM people",
        row_count=2000, truncated=True,
    )  # fmt: skip


def bar_chart() -> Chart:
    values = [{"label": "East", "value": 3}, {"label": "West", "value": 5}]
    return Chart(
        id="c000000001", chart_type="bar", values=values, title="By region", x_axis_label="Region",
        y_axis_label="Count",
    )  # fmt: skip


def text_updates(publisher: RecordingPublisher, display_id: str) -> list[dict[str, Any]]:
    return [c for c in publisher.calls if c["update"] and c["transient"].get("display_id") == display_id]


def test_status_labels() -> None:
    assert status_label(None) == "Asking Trellis"
    assert status_label("thinking") == "Thinking"
    assert status_label("reading the schema") == "reading the schema"  # unknown statuses as they are


def test_rich_only_when_the_publisher_can_show_more_than_text() -> None:
    assert not is_rich(types.SimpleNamespace(display_pub=DisplayPublisher()))
    assert is_rich(fake_shell())


def test_deltas_are_coalesced_into_few_updates_and_a_final_one() -> None:
    shell, clock = fake_shell(), Clock()
    live = LiveAnswer(shell, interval=0.08, clock=clock, rich=True)
    answer = Answer("q")
    live.start()
    words = [f"w{i} " for i in range(100)]
    events: list[Event] = [ChatMetadata("chat_1", "msg_u"), *(TextDelta(w) for w in words)]
    feed_all(live, answer, events, clock)
    final_text = "".join(words).strip()
    answer.feed(Message(final_text, "msg_a"))
    live.finish(answer)

    first = shell.display_pub.calls[0]
    display_id = first["transient"]["display_id"]
    assert first["update"] is False
    assert "Asking Trellis" in first["data"]["text/plain"]
    updates = text_updates(shell.display_pub, display_id)
    # 100 deltas over one simulated second at one update per 0.08 s: about 13 updates, not 100.
    assert 5 <= len(updates) <= 20
    assert updates[-1]["data"]["text/markdown"] == final_text
    assert updates[-1]["metadata"]["trellis"] == {
        "chat_id": "chat_1",
        "user_message_id": "msg_u",
        "message_id": "msg_a",
    }
    # Every streaming update shows a prefix of the text (nothing dropped, nothing reordered).
    for update in updates[:-1]:
        shown = update["data"]["text/plain"].removesuffix(" ▌")
        assert final_text.startswith(shown.strip())
    assert live.updates == len(updates)


def test_processing_statuses_show_at_once() -> None:
    shell, clock = fake_shell(), Clock()
    live = LiveAnswer(shell, interval=10.0, clock=clock, rich=True)
    answer = Answer("q")
    live.start()
    feed_all(live, answer, [Processing("thinking"), Processing("analyzing")])
    shown = [c["data"]["text/plain"] for c in shell.display_pub.calls if c["update"]]
    assert shown == ["Thinking…", "Analyzing…"]


def test_tables_and_charts_get_their_own_outputs() -> None:
    shell = fake_shell()
    live = LiveAnswer(shell, rows=3, rich=True)
    answer = Answer("q")
    live.start()
    feed_all(live, answer, [ChatMetadata("chat_1"), Visualization(big_table()), Visualization(bar_chart())])
    live.finish(answer)  # a chart's bundle is made in a worker: the end of the answer waits for it
    new_outputs = [c for c in shell.display_pub.calls if not c["update"]][1:]
    assert len(new_outputs) == 2
    table, chart = new_outputs
    plain = table["data"]["text/plain"]
    assert "(3 of 2,000 rows)" in plain
    assert "SELECT id, name FROM people" in plain
    assert "name 2" in plain
    assert "name 3" not in plain
    if "text/html" in table["data"]:
        assert "2000" in table["data"]["text/html"].replace(",", "")
    assert table["metadata"]["trellis"]["chat_id"] == "chat_1"
    assert VEGALITE in chart["data"]
    assert "image/svg+xml" in chart["data"]  # a static image for saved notebooks


def test_text_keeps_streaming_while_a_chart_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from trellis_jupyter import charts

    release = threading.Event()
    real = charts.chart_mimebundle

    def slow_bundle(chart: Any, **kwargs: Any) -> dict[str, Any]:
        assert release.wait(30)
        return real(chart, **kwargs)

    monkeypatch.setattr(charts, "chart_mimebundle", slow_bundle)
    shell, clock = fake_shell(), Clock()
    live = LiveAnswer(shell, interval=0.0, clock=clock, rich=True)
    answer = Answer("q")
    live.start()
    feed_all(live, answer, [Visualization(bar_chart()), TextDelta("East led "), TextDelta("with 762.")])
    texts = [c["data"]["text/plain"] for c in shell.display_pub.calls if c["update"]]
    assert texts[-1] == "East led with 762. ▌"  # shown while the chart is still being made
    assert not any(VEGALITE in c["data"] for c in shell.display_pub.calls)
    release.set()
    answer.feed(Message("East led with 762.", "m"))
    live.finish(answer)
    charts_shown = [c for c in shell.display_pub.calls if VEGALITE in c["data"]]
    assert len(charts_shown) == 1


def test_charts_of_an_interrupted_answer_do_not_hold_up_the_next_answer() -> None:
    """The kernel has one chart worker: charts an interrupted answer will never show were left
    queued on it, and the next answer's charts waited behind them."""
    import threading

    from trellis_jupyter import display

    busy, release = threading.Event(), threading.Event()

    def occupy() -> None:
        busy.set()
        assert release.wait(60)

    blocker = display._executor().submit(occupy)
    try:
        assert busy.wait(60)
        live = LiveAnswer(fake_shell(), rich=True)
        answer = Answer("q")
        live.start()
        feed_all(live, answer, [Visualization(bar_chart()), Visualization(bar_chart())])
        queued = [future for future, _ in live._pending]
        assert len(queued) == 2
        answer.mark_interrupted()
        live.finish(answer, note="interrupted")
        assert all(future.cancelled() for future in queued)
    finally:
        release.set()
    blocker.result(60)
    # The worker is free for the next answer at once: its chart is drawn and shown.
    shell = fake_shell()
    nxt = LiveAnswer(shell, rich=True)
    nxt_answer = Answer("q2")
    nxt.start()
    feed_all(nxt, nxt_answer, [Visualization(bar_chart())])
    nxt.finish(nxt_answer)
    assert [VEGALITE in c["data"] for c in shell.display_pub.calls].count(True) == 1


def test_a_chart_drawn_after_the_final_message_carries_the_ids_it_arrived_with() -> None:
    """Whether the worker finished a chart before or after the answer's final message must not
    change the output (a replayed notebook is compared with the live one): a chart's metadata
    holds the ids its answer had when the chart arrived, like its table's."""
    import threading

    from trellis_jupyter import display

    busy, release = threading.Event(), threading.Event()

    def occupy() -> None:
        busy.set()
        assert release.wait(60)

    blocker = display._executor().submit(occupy)
    shell = fake_shell()
    try:
        assert busy.wait(60)
        live = LiveAnswer(shell, rich=True)
        answer = Answer("q")
        live.start()
        feed_all(live, answer, [ChatMetadata("chat_1", "msg_u"), Visualization(big_table())])
        feed_all(live, answer, [Visualization(bar_chart()), Message("Done.", "msg_a")])
    finally:
        release.set()
    blocker.result(60)
    live.finish(answer)
    tables = [c for c in shell.display_pub.calls if "<table" in str(c["data"].get("text/html", ""))]
    charts = [c for c in shell.display_pub.calls if VEGALITE in c["data"]]
    assert len(tables) == 1
    assert len(charts) == 1
    expected = {"chat_id": "chat_1", "user_message_id": "msg_u"}
    assert tables[0]["metadata"]["trellis"] == expected
    assert charts[0]["metadata"]["trellis"] == expected


def test_a_chart_under_a_table_of_the_same_title_does_not_repeat_it() -> None:
    shell = fake_shell()
    live = LiveAnswer(shell, rich=True)
    answer = Answer("q")
    live.start()
    table = Table(id="t", headers=["region", "orders"], rows=[["East", 762]], title="Orders by region")
    chart = Chart(
        id="c", chart_type="bar", values=[{"label": "East", "value": 762}], title="Orders by region"
    )
    feed_all(live, answer, [Visualization(table), Visualization(chart)])
    live.finish(answer)
    (shown,) = [c for c in shell.display_pub.calls if VEGALITE in c["data"]]
    assert "title" not in shown["data"][VEGALITE]
    assert chart.to_altair().to_dict()["title"] == "Orders by region"  # the chart object keeps it


def test_charts_follow_the_offline_charts_policy() -> None:
    from trellis_jupyter import charts

    shell = fake_shell()
    charts.disable_offline_charts()
    try:
        live = LiveAnswer(shell, rich=True)
        feed_all(live, Answer("q"), [Visualization(bar_chart())])
    finally:
        charts.enable_offline_charts()
    chart = shell.display_pub.calls[-1]["data"]
    assert VEGALITE not in chart  # Altair's own renderer, not the offline bundle
    assert chart


def test_quiet_shows_nothing() -> None:
    shell = fake_shell()
    live = LiveAnswer(shell, quiet=True, rich=True)
    answer = Answer("q")
    live.start()
    feed_all(live, answer, [Processing("thinking"), TextDelta("hi"), Visualization(big_table())])
    answer.feed(Message("hi", "m"))
    live.finish(answer)
    assert shell.display_pub.calls == []


def test_text_mode_streams_text_then_tables(capsys: pytest.CaptureFixture[str]) -> None:
    shell, clock = fake_shell(), Clock()
    live = LiveAnswer(shell, rows=2, interval=0.0, clock=clock, rich=False)
    answer = Answer("q")
    live.start()
    events: list[Event] = [Processing("thinking"), Visualization(big_table()), Visualization(bar_chart())]
    events += [TextDelta("Two "), TextDelta("words.")]
    feed_all(live, answer, events, clock)
    answer.feed(Message("Two words.", "m"))
    live.finish(answer)
    out = capsys.readouterr().out
    assert shell.display_pub.calls == []  # nothing through the display system in a terminal
    assert out.index("Thinking…") < out.index("Two words.") < out.index("(2 of 2,000 rows)")
    assert out.count("Two words.") == 1  # the final message does not repeat the streamed text
    assert "[bar chart: By region (2 points)] (bind it with --chart NAME)" in out


def test_table_text_shows_all_rows_when_few() -> None:
    table = Table(id="x", headers=["a"], rows=[[1], [2]], sql=None)
    text = table_text(table, 10)
    assert text.endswith("(2 rows)")
    assert "SQL" not in text


# --- show_stream against the real local server --------------------------------------------------


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:", pace=0.0, planner=ScriptedPlanner()) as server:
        yield server


@pytest.fixture
def client(scripted_server: Any) -> Iterator[Trellis]:
    with Trellis(
        base_url=scripted_server.base_url, api_key=scripted_server.api_key, email=scripted_server.email,
        integration_id=scripted_server.integration_id,
    ) as client:  # fmt: skip
        yield client


def test_show_stream_shows_a_whole_answer(client: Trellis) -> None:
    shell = fake_shell()
    live = LiveAnswer(shell, interval=0.0, rich=True)
    answer = show_stream(client.chats.stream("customers by region"), live)
    assert answer.complete
    assert len(answer.tables) == 1
    assert len(answer.charts) == 1
    # The chart (made in a worker) is shown once, whenever it is ready.
    assert [VEGALITE in c["data"] for c in shell.display_pub.calls].count(True) == 1
    final = [c for c in shell.display_pub.calls if c["update"]][-1]
    assert final["data"]["text/markdown"] == answer.text
    assert final["metadata"]["trellis"]["message_id"] == answer.message_id


def test_ctrl_c_closes_the_stream_and_keeps_the_partial_answer(client: Trellis) -> None:
    shell = fake_shell()

    def interrupt_on_text(call: dict[str, Any]) -> None:
        # Ctrl-C lands while the display shows the fourth word (once: the handler publishes too).
        if call["update"] and "word3" in call["data"].get("text/plain", ""):
            shell.display_pub.on_publish = None
            raise KeyboardInterrupt

    shell.display_pub.on_publish = interrupt_on_text
    live = LiveAnswer(shell, interval=0.0, rich=True)
    stream = client.chats.stream("a long answer please")
    with pytest.raises(AnswerInterrupted) as caught:
        show_stream(stream, live)
    answer = caught.value.answer
    assert answer is not None
    assert answer.interrupted
    assert not answer.complete
    assert answer.chat_id is not None
    assert answer.text
    assert LONG_TEXT.startswith(answer.text)
    assert answer.text != LONG_TEXT
    kept = f"the partial answer is kept in _trellis (chat {answer.chat_id} continues)."
    assert caught.value._render_traceback_() == [f"KeyboardInterrupt: Interrupted: {kept}"]
    final = shell.display_pub.calls[-1]
    assert final["data"]["text/plain"].endswith("Stopped: the answer above is partial.")
    assert final["metadata"]["trellis"]["interrupted"] is True
    # The chat is usable at once: the next question in it is answered.
    follow_up = client.chats.stream("customers by region", chat_id=answer.chat_id)
    assert show_stream(follow_up, LiveAnswer(fake_shell(), rich=True)).complete


def test_server_error_event_raises_one_sentence_and_shows_the_partial(client: Trellis) -> None:
    shell = fake_shell()
    with pytest.raises(AnswerError) as caught:
        show_stream(client.chats.stream("this will fail"), LiveAnswer(shell, rich=True))
    error = caught.value
    assert error.code == "QUERY_FAILED"
    assert error.answer is not None
    assert error.answer.chat_id
    assert "\n" not in str(error)
    # Shown once: the raised error is the sentence; the output keeps the partial text, no status line.
    final = [c for c in shell.display_pub.calls if c["update"]][-1]["data"]
    assert "QUERY_FAILED" not in final["text/plain"]
    assert 'class="trellis-status trellis-error"' not in final["text/html"]
