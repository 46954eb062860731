"""ChatWidget against the real local server (scripted planner): transcript, streaming, Stop,
feedback, edit, coalescing budget, shared state, secrets, static HTML.

No browser here: the widget's comm has no front end, and what it would send is recorded by
wrapping ``widget.send``. The browser side is tests/test_widget_browser.py and js/test.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
from widget_helpers import EVIL_IMG, EVIL_SCRIPT, LONG_WORDS, long_text, start_server

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.conversation import AsyncConversation, Conversation
from trellis_jupyter.widget import ChatWidget
from trellis_jupyter.widget_html import transcript_html
from trellis_jupyter.widget_wire import utf16_len

if TYPE_CHECKING:
    import pandas as pd

pytestmark = pytest.mark.anyio

LONG = "A long answer please"


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    # Paced, so a long answer takes long enough to observe it streaming and to stop it.
    srv = start_server(pace=0.002)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
async def client(server: Any) -> AsyncIterator[AsyncTrellis]:
    c = AsyncTrellis(base_url=server.base_url, api_key=server.api_key, email=server.email)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
def sync_client(server: Any) -> Iterator[Trellis]:
    c = Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email)
    try:
        yield c
    finally:
        c.close()


def recording(widget: ChatWidget) -> list[dict[str, Any]]:
    """Record the custom messages the widget sends to its front end."""
    sent: list[dict[str, Any]] = []
    widget.send = lambda content, buffers=None: sent.append(content)
    return sent


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


async def until_streaming(widget: ChatWidget, chars: int) -> None:
    """Wait until the long answer being asked has more than ``chars`` characters."""

    def streaming() -> bool:
        answers = widget.answers
        return bool(answers) and answers[-1].question == LONG and len(answers[-1].text) > chars

    await until(streaming)


def browser(widget: ChatWidget, **command: Any) -> None:
    """A command as the front end sends it."""
    widget._on_command(widget, command, [])


async def test_question_fills_transcript_and_answers(client: AsyncTrellis, sync_client: Trellis) -> None:
    seen: list[Any] = []
    w = ChatWidget(client=client, on_answer=seen.append)
    answer = await w.ask("Orders by region?")
    assert answer.complete
    assert answer.error is None
    assert [e["role"] for e in w.transcript] == ["user", "assistant"]
    user, reply = w.transcript
    assert user["text"] == "Orders by region?"
    assert user["status"] == "sent"
    assert user["message_id"] == answer.user_message_id is not None
    assert reply["status"] == "done"
    assert reply["text"] == answer.text
    assert "leads with" in reply["text"]
    assert reply["message_id"] == answer.message_id is not None
    table, chart = reply["visualizations"]
    assert table["type"] == "table"
    assert table["headers"] == ["region", "orders"]
    assert table["sql"]
    assert chart["type"] == "chart"
    assert chart["spec"]["mark"]["type"] == "bar"
    assert w.chat_id == answer.chat_id == w.conversation.chat_id
    assert w.answers == [answer]
    assert seen == [answer]
    assert list(cast("pd.DataFrame", answer.df).columns) == ["region", "orders"]
    assert answer.chart is not None
    assert w.busy is False
    assert w.status == ""
    # The server has the turn.
    messages = sync_client.chats.get(cast(str, w.chat_id))["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["content"] == answer.text
    # A follow-up continues the chat.
    second = await w.ask("And a long answer, please")
    assert second.chat_id == answer.chat_id
    assert len(w.transcript) == 4
    assert len(w.answers) == 2


async def test_kernel_loop_stays_free_while_an_answer_streams(client: AsyncTrellis) -> None:
    w = ChatWidget(client=client)
    future = w.ask(LONG)
    assert not future.done()  # ask() returned at once: the answer streams in a task
    observed: list[int] = []
    while not future.done():  # this coroutine keeps running on the same loop meanwhile
        if w.busy and w.answers:
            observed.append(len(w.answers[-1].text))
        await asyncio.sleep(0.005)
    answer = await future
    growing = sorted({n for n in observed if 0 < n < len(answer.text)})
    assert len(growing) >= 3, f"saw the answer at only {growing} characters while it streamed"


async def test_stop_keeps_the_partial_answer(client: AsyncTrellis, sync_client: Trellis) -> None:
    w = ChatWidget(client=client)
    sent = recording(w)
    future = w.ask(LONG)
    await until_streaming(w, 40)
    browser(w, type="stop")
    answer = await future
    full = long_text()
    assert answer.interrupted
    assert not answer.complete
    assert 40 < len(answer.text) < len(full)
    assert full.startswith(answer.text)
    reply = w.transcript[-1]
    assert reply["status"] == "interrupted"
    assert reply["text"] == answer.text
    assert w.busy is False
    # What reached the browser before Stop is a prefix of the kept text.
    streamed = "".join(m["text"] for m in sent if m["type"] == "delta")
    assert answer.text.startswith(streamed)
    # The conversation stays usable: same chat, next question answered.
    chat_id = w.chat_id
    after = await w.ask("Orders by region?")
    assert after.complete
    assert after.chat_id == chat_id
    roles = [m["role"] for m in sync_client.chats.get(cast(str, chat_id))["messages"]]
    assert roles[-2:] == ["user", "assistant"]


async def test_questions_asked_while_streaming_are_queued(client: AsyncTrellis) -> None:
    w = ChatWidget(client=client)
    first = w.ask(LONG)
    browser(w, type="send", text="Orders by region?")
    assert [e["status"] for e in w.transcript if e["role"] == "user"][-1] == "queued"
    await first
    await until(lambda: not w.busy)
    assert [e["role"] for e in w.transcript] == ["user", "assistant", "user", "assistant"]
    assert w.transcript[2]["text"] == "Orders by region?"
    assert w.transcript[2]["status"] == "sent"
    assert w.transcript[3]["status"] == "done"
    assert w.transcript[3]["visualizations"]


async def test_feedback_and_edit_reach_the_server(client: AsyncTrellis, sync_client: Trellis) -> None:
    w = ChatWidget(client=client)
    await w.ask("Orders by region?")
    await w.ask("Say hello")
    first_reply = w.transcript[1]
    browser(w, type="feedback", id=first_reply["id"], value="negative", note="wrong region names")
    await until(lambda: w.transcript[1].get("feedback") == "negative")
    messages = {m["id"]: m for m in sync_client.chats.get(cast(str, w.chat_id))["messages"]}
    assert messages[first_reply["message_id"]]["metadata"]["feedback"] == "negative"
    assert w.error == ""

    # Edit the last question: its answer is streamed again, the old one is gone.
    last_user = w.transcript[2]
    assert last_user["text"] == "Say hello"
    browser(w, type="edit", text="Say goodbye")
    await until(lambda: not w.busy and w.transcript[-1].get("status") == "done")
    assert [e["text"] for e in w.transcript if e["role"] == "user"] == ["Orders by region?", "Say goodbye"]
    assert w.transcript[-1]["text"] == "You asked: Say goodbye"
    chat = sync_client.chats.get(cast(str, w.chat_id))["messages"]
    assert [m["content"] for m in chat if m["role"] == "user"] == ["Orders by region?", "Say goodbye"]
    assert chat[-1]["content"] == "You asked: Say goodbye"
    assert [a.text for a in w.answers][-1] == "You asked: Say goodbye"
    assert len(w.answers) == 2
    assert len(w.conversation.answers) == 2


async def test_a_thumb_then_its_note_shows_the_note_and_a_second_click_changes_it(
    client: AsyncTrellis, sync_client: Trellis
) -> None:
    w = ChatWidget(client=client)
    await w.ask("Orders by region?")
    reply = w.transcript[1]
    # The thumb and its note leave at once, as the browser sends them: the note must win.
    browser(w, type="feedback", id=reply["id"], value="positive")
    browser(w, type="feedback", id=reply["id"], value="positive", note="clear")
    await until(lambda: w.transcript[1].get("feedback_note") == "clear")
    await until(lambda: not w._tasks)
    assert w.transcript[1]["feedback"] == "positive"
    assert w.transcript[1]["feedback_note"] == "clear"
    browser(w, type="feedback", id=reply["id"], value="negative")
    await until(lambda: w.transcript[1].get("feedback") == "negative")
    assert w.transcript[1]["feedback_note"] is None
    messages = {m["id"]: m for m in sync_client.chats.get(cast(str, w.chat_id))["messages"]}
    assert messages[reply["message_id"]]["metadata"]["feedback"] == "negative"


async def test_a_sync_client_works_end_to_end(server: Any, sync_client: Trellis) -> None:
    w = ChatWidget(client=sync_client)
    answer = await w.ask("Orders by region?")
    assert answer.complete
    assert "leads with" in answer.text
    assert w.transcript[1]["status"] == "done"
    # The chat is on the server the sync client talks to, with the same credentials.
    messages = sync_client.chats.get(cast(str, w.chat_id))["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["Orders by region?"]
    twin = w._owned_client
    assert twin is not None
    assert twin.settings == sync_client.settings
    w.close()
    await until(lambda: not w._tasks)


def test_a_client_that_is_not_one_is_refused_at_construction() -> None:
    with pytest.raises(TypeError, match="takes a Trellis or AsyncTrellis client, not str"):
        ChatWidget(client="http://localhost:8000")  # type: ignore[arg-type]


async def test_a_server_option_is_refused_instead_of_asking_the_kernels_connection(
    client: AsyncTrellis, server: Any
) -> None:
    """Seen in JupyterLab: ChatWidget(base_url=<a wrong URL>) was accepted (traitlets only warned,
    unseen), and its questions went to the kernel's connection instead."""
    with pytest.raises(TypeError, match=r"has no base_url option: .*client=Trellis\(base_url=\.\.\.\)"):
        ChatWidget(base_url="http://127.0.0.1:9")
    with pytest.raises(TypeError, match=r"api_key, base_url option: .*Trellis\(api_key=\.\.\., base_url"):
        ChatWidget(base_url=server.base_url, api_key="k")
    with pytest.raises(TypeError, match="unexpected keyword arguments: colour"):
        ChatWidget(client=client, colour="red")
    # The widget's own traits (and ipywidgets' layout) are still options.
    w = ChatWidget(client=client, page_size=5, layout={"width": "300px"})
    assert w.page_size == 5
    w.close()


async def test_picker_lists_resumes_and_renames_chats(client: AsyncTrellis, sync_client: Trellis) -> None:
    w = ChatWidget(client=client)
    await w.ask("Orders by region?")
    await until(lambda: w.chat_title is not None)  # the title comes with the picker's list
    first, first_title = w.chat_id, w.chat_title
    assert first_title
    assert any(c["id"] == first for c in w.chats)
    w.new_chat()
    assert w.chat_title is None
    await w.ask("Say hello")
    await until(lambda: w.chat_title is not None and w.chat_id != first)
    second = w.chat_id
    await until(lambda: {first, second} <= {c["id"] for c in w.chats})  # New chat kept the first
    browser(w, type="use_chat", chat_id=first)
    await until(lambda: w.chat_id == first and len(w.transcript) == 2)
    assert w.chat_title == first_title
    reply = w.transcript[1]
    assert reply["status"] == "done"
    assert [v["type"] for v in reply["visualizations"]] == ["table", "chart"]  # rebuilt from metadata
    assert reply["visualizations"][1]["spec"]
    # The next question continues that chat (and the kernel-wide state follows).
    await w.ask("Orders by region again?")
    assert w.chat_id == first
    assert w.conversation.state.chat_id == first
    messages = sync_client.chats.get(first)["messages"]
    asked = [m["content"] for m in messages if m["role"] == "user"]
    assert asked == ["Orders by region?", "Orders by region again?"]
    browser(w, type="rename", title="  Regions, the sequel ")
    await until(lambda: w.chat_title == "Regions, the sequel")
    assert sync_client.chats.get(first)["title"] == "Regions, the sequel"
    assert next(c for c in w.chats if c["id"] == first)["title"] == "Regions, the sequel"
    # Bad requests say what to do and change nothing.
    browser(w, type="rename", title="  ")
    await until(lambda: "cannot be empty" in w.error)
    browser(w, type="use_chat", chat_id="chat_does_not_exist")
    await until(lambda: w.error != "" and "empty" not in w.error)
    assert w.chat_id == first
    assert len(w.transcript) == 4


async def test_picker_pages_through_many_chats() -> None:
    srv = start_server(page_size=2)  # a small page: more chats than one page with few questions
    try:
        with Trellis(base_url=srv.base_url, api_key=srv.api_key, email=srv.email) as sync:
            for i in range(5):
                sync.conversation().ask(f"Say hello {i}", integration_id=srv.integration_id)
        async with AsyncTrellis(base_url=srv.base_url, api_key=srv.api_key, email=srv.email) as client:
            w = ChatWidget(client=client)
            browser(w, type="list_chats", page=1)
            await until(lambda: len(w.chats) == 2)
            assert w.chats_more
            for page in (2, 3):
                browser(w, type="list_chats", page=page)
                await until(lambda page=page: len(w.chats) == min(5, 2 * page))  # type: ignore[misc]
            assert not w.chats_more
            assert len({c["id"] for c in w.chats}) == 5
    finally:
        srv.stop()


async def test_the_empty_chat_offers_the_integration_and_its_example_questions(
    server: Any, client: AsyncTrellis
) -> None:
    w = ChatWidget(client=client)
    browser(w, type="intro")
    await until(lambda: bool(w.intro))
    name = server.integrations[0]["display_name"]
    assert w.intro["name"] == name
    # The local server's examples come from the schema: the demo shop's tables show in them.
    assert 2 <= len(w.intro["examples"]) <= 4
    assert any("order" in q.lower() for q in w.intro["examples"])


async def test_the_empty_chat_falls_back_to_general_examples() -> None:
    from trellis_jupyter.widget import GENERAL_EXAMPLES

    async with AsyncTrellis(base_url="http://127.0.0.1:9", api_key="k", email="e@x", max_retries=0) as client:
        w = ChatWidget(client=client)
        await w.load_intro()  # nobody listens there: no name, the general examples
    assert w.intro == {"name": "", "examples": GENERAL_EXAMPLES}
    assert w.error == ""


async def test_table_rows_are_sent_whole_for_a_table_cut_for_the_browser(client: AsyncTrellis) -> None:
    from trellis_jupyter import widget_wire
    from trellis_jupyter.events import Cell, Table

    w = ChatWidget(client=client)
    sent = recording(w)
    await w.ask("Orders by region?")
    reply = w.transcript[1]
    browser(w, type="table_rows", entry=reply["id"], index=0, request=7)
    table = w.answers[0].visualizations[0]
    assert isinstance(table, Table)
    assert sent[-1] == {"type": "table_rows", "request": 7, "rows": table.rows}
    # A chart, an unknown entry, a bad index: no rows, and the request still gets its answer.
    for entry, index in ((reply["id"], 1), ("nope", 0), (reply["id"], "x"), (reply["id"], -1)):
        browser(w, type="table_rows", entry=entry, index=index, request=8)
        assert sent[-1] == {"type": "table_rows", "request": 8, "rows": None}
    # Past the browser's cap: the payload says how many rows the kernel holds.
    rows: list[list[Cell]] = [[i, f"r{i}"] for i in range(widget_wire.MAX_TABLE_ROWS + 5)]
    data = widget_wire.browser_payload(Table(id="t", headers=["n", "s"], rows=rows))
    assert len(data["rows"]) == widget_wire.MAX_TABLE_ROWS
    assert data["kernel_rows"] == len(rows)
    assert data["truncated"] is True


async def test_unsaved_answers_cannot_be_rated_and_bad_commands_say_why(client: AsyncTrellis) -> None:
    w = ChatWidget(client=client)
    browser(w, type="edit", text="x")
    assert w.error == "Nothing to edit yet: ask a question first."
    browser(w, type="send", text="   ")
    assert w.error.startswith("Nothing to ask")
    future = w.ask(LONG)
    await until_streaming(w, 10)
    w.stop()
    await future
    await w.feedback(w.transcript[-1]["id"], "positive")
    assert "cannot be rated" in w.error
    await w.feedback(w.transcript[-1]["id"], "meh")
    assert "positive" in w.error


async def test_text_deltas_stay_within_the_coalescing_budget(client: AsyncTrellis) -> None:
    w = ChatWidget(client=client)
    sent = recording(w)
    started = time.monotonic()
    answer = await w.ask(LONG)
    elapsed = time.monotonic() - started
    deltas = [m for m in sent if m["type"] == "delta"]
    # Budget: the first delta of a batch waits delta_interval, so at most one message per interval
    # (+1 for the batch flushed at the end), and far fewer than the server's word-sized deltas.
    assert 1 <= len(deltas) <= elapsed / w.delta_interval + 1
    assert len(deltas) < LONG_WORDS / 4
    # Each message carries only the new text, at the position the browser needs.
    position = 0
    for message in deltas:
        assert message["start"] == position
        assert message["index"] == 1
        assert message["id"] == w.transcript[1]["id"]
        position += utf16_len(message["text"])
    streamed = "".join(m["text"] for m in deltas)
    assert answer.text.startswith(streamed)
    assert len(streamed) > len(answer.text) / 2
    assert sum(len(json.dumps(m)) for m in deltas) < 2 * len(json.dumps(answer.text)) + 100 * len(deltas)
    assert w.transcript[1]["text"] == answer.text == long_text()  # the final text is in the state


async def test_new_chat_clears_and_starts_another_chat(client: AsyncTrellis) -> None:
    w = ChatWidget(client=client)
    first = await w.ask("Say one")
    browser(w, type="new_chat")
    assert w.transcript == []
    assert w.chat_id is None
    assert w.answers == []
    second = await w.ask("Say two")
    assert second.chat_id is not None
    assert second.chat_id != first.chat_id
    # New chat while an answer streams: it stops, and the next question still gets a new chat.
    future = w.ask(LONG)
    await until_streaming(w, 10)
    w.new_chat()
    stopped = await future
    assert stopped.interrupted
    await until(lambda: w.conversation.chat_id is None)
    third = await w.ask("Say three")
    assert third.chat_id not in (first.chat_id, second.chat_id)
    assert [e["text"] for e in w.transcript] == ["Say three", "You asked: Say three"]


async def test_shares_the_chat_with_a_sync_conversation(server: Any, client: AsyncTrellis) -> None:
    sync = Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email)
    try:
        conversation = Conversation(sync)
        first = await asyncio.to_thread(conversation.ask, "Say from the magic")
        w = ChatWidget(AsyncConversation(client, state=conversation.state))
        # The widget shows what the chat already has, and continues it.
        assert [e["text"] for e in w.transcript] == ["Say from the magic", "You asked: Say from the magic"]
        assert w.chat_id == first.chat_id
        answer = await w.ask("Say from the widget")
        assert answer.chat_id == first.chat_id
        assert conversation.answers[-1] is answer
        # An answer asked elsewhere afterwards shows after refresh().
        await asyncio.to_thread(conversation.ask, "Say again from the magic")
        w.refresh()
        assert w.transcript[-1]["text"] == "You asked: Say again from the magic"
        assert len(w.answers) == 3
    finally:
        sync.close()


async def test_state_survives_reload_and_holds_no_secret(server: Any, client: AsyncTrellis) -> None:
    w = ChatWidget(client=client)
    await w.ask("Orders by region?")
    state = json.dumps(w.get_state(), default=str)
    assert "leads with" in state
    assert '"sql"' in state
    assert '"spec"' in state
    held = client._tokens._token  # the JWT the client got for these questions
    assert held is not None
    token = held.get_secret_value()
    for secret in (server.api_key, token, token.split(".")[1]):
        assert secret not in state
    assert server.api_key not in repr(w)


async def test_static_html_shows_the_transcript_escaped(client: AsyncTrellis) -> None:
    w = ChatWidget(client=client)
    await w.ask("Something evil")
    data, _meta = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    page = data["text/html"]
    assert "<script" not in page
    assert "<img src=x" not in page
    assert 'onerror="' not in page
    assert "&lt;script&gt;" in page
    assert "Careful:" in page
    assert "data:image/svg+xml;base64," in page  # the chart, as a static image
    assert "You asked" not in page
    assert transcript_html([]).count("No questions yet") == 1


def test_static_html_tables_are_the_magics_tables() -> None:
    from trellis_jupyter.events import Table
    from trellis_jupyter.render import table_html
    from trellis_jupyter.widget_html import PREVIEW_ROWS
    from trellis_jupyter.widget_wire import MAX_TABLE_ROWS, browser_payload

    rows: list[list[Any]] = [["East", 5639062.2], ["West", 12.25], ["<b>x</b>", None]] * 1000
    table = Table(id="t", title="Revenue", headers=["region", "revenue"], rows=rows, sql="SELECT 1")
    entry = {"id": "e2", "role": "assistant", "text": "a", "visualizations": [browser_payload(table)]}
    page = transcript_html([entry])
    # One table function for the widget's saved transcript and the magic: the same HTML.
    assert table_html(table, PREVIEW_ROWS) in page
    assert "5,639,062.20" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert f"{PREVIEW_ROWS} of {len(rows):,} rows" in page  # the browser got MAX_TABLE_ROWS; all are counted
    assert len(rows) > MAX_TABLE_ROWS
    broken = {"id": "e3", "role": "assistant", "text": "", "visualizations": [{"type": "table", "rows": 5}]}
    assert "cannot show" in transcript_html([broken])


async def test_the_hostile_answer_is_kept_as_data(client: AsyncTrellis) -> None:
    w = ChatWidget(client=client)
    answer = await w.ask("Something evil")
    reply = w.transcript[-1]
    assert EVIL_SCRIPT in reply["text"]
    assert EVIL_IMG in reply["text"]
    table = reply["visualizations"][0]
    assert table["rows"][0] == [EVIL_SCRIPT, EVIL_IMG]
    assert answer.tables[0].rows[0][0] == EVIL_SCRIPT


def test_ask_outside_an_event_loop_says_what_to_do(sync_client: Trellis, server: Any) -> None:
    w = ChatWidget(client=AsyncTrellis(base_url=server.base_url, api_key=server.api_key, email=server.email))
    with pytest.raises(RuntimeError, match="running event loop"):
        w.ask("hello")
    assert w.transcript == []


async def test_commands_from_a_kernel_subshell_run_on_the_widgets_loop(client: AsyncTrellis) -> None:
    """JupyterLab 4.4+ may deliver the browser's messages on a kernel subshell: a thread with its
    own event loop. A question sent from there must still be answered on the widget's loop (the
    chat's HTTP client belongs to it), and the next one too."""
    import threading

    w = ChatWidget(client=client)
    first = await w.ask("Orders by region?")
    assert first.complete

    def subshell() -> None:
        async def deliver() -> None:
            w._on_command(w, {"type": "send", "text": "A second question from a subshell"}, [])

        asyncio.run(deliver())

    thread = threading.Thread(target=subshell, name="subshell-test")
    thread.start()
    await asyncio.to_thread(thread.join)
    await until(lambda: len(w.answers) == 2 and w.answers[-1].done and not w.busy)
    second = w.answers[-1]
    assert second.complete, (second.status, second.error, w.error)
    assert second.chat_id == first.chat_id
    assert [e["status"] for e in w.transcript if e["role"] == "assistant"] == ["done", "done"]
