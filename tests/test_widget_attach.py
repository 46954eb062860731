"""ChatWidget with files and saved queries, against the real local server and its planner.

The browser side (the attach button, the chips, "Save as query") is js/test/attach.test.ts and
tests/test_widget_browser_attach.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from trellis_jupyter.answer import Answer
from trellis_jupyter.client import AsyncTrellis
from trellis_jupyter.widget import ChatWidget

pytestmark = pytest.mark.anyio

CSV = b"region,quota\nNorth,100\nSouth,250\nEast,\n"


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:") as srv:
        yield srv


@pytest.fixture
async def client(server: Any) -> AsyncIterator[AsyncTrellis]:
    c = AsyncTrellis(base_url=server.base_url, api_key=server.api_key, email=server.email)
    try:
        yield c
    finally:
        await c.aclose()


async def test_a_question_with_files_uploads_them_and_lists_them(client: AsyncTrellis) -> None:
    widget = ChatWidget(client=client)
    answer = await widget.ask(
        "how many rows are in the uploaded table", files=[("targets.csv", CSV, "text/csv")]
    )
    assert answer.tables[0].rows == [[3]]
    user = widget.transcript[0]
    [attachment] = user["attachments"]
    assert (attachment["filename"], attachment["mime_type"], attachment["file_size"]) == (
        "targets.csv",
        "text/csv",
        len(CSV),
    )
    [upload] = await widget.conversation.uploads()
    assert upload.id == attachment["id"]
    assert upload.message_id == answer.user_message_id
    static = widget._repr_mimebundle_()
    html = static[0]["text/html"] if isinstance(static, tuple) else static["text/html"]
    assert "Attached: targets.csv" in html


async def test_a_chat_loaded_again_shows_the_files_its_questions_were_sent_with(client: AsyncTrellis) -> None:
    """Another widget on the same chat (``_load_state``) and the picker (``use_chat``, from Get
    Chat's metadata.uploads) rebuild the question entries with the ``attachments`` they had live."""
    widget = ChatWidget(client=client)
    await widget.ask("how many customers are there")
    await widget.ask("how many rows are in the uploaded table", files=[("targets.csv", CSV, "text/csv")])
    live = [e.get("attachments") for e in widget.transcript if e["role"] == "user"]
    assert live[0] is None
    assert [a["filename"] for a in live[1] or []] == ["targets.csv"]
    chat_id = widget.chat_id
    assert chat_id is not None
    # A second widget on the same conversation rebuilds its entries from the answers it holds.
    beside = ChatWidget(widget.conversation)
    assert [e.get("attachments") for e in beside.transcript if e["role"] == "user"] == live

    widget.new_chat()
    assert widget.transcript == []
    await widget.use_chat(chat_id)
    assert widget.error == ""
    assert [e.get("attachments") for e in widget.transcript if e["role"] == "user"] == live
    static = widget._repr_mimebundle_()
    html = static[0]["text/html"] if isinstance(static, tuple) else static["text/html"]
    assert "Attached: targets.csv" in html


async def test_an_edited_question_keeps_its_files(client: AsyncTrellis) -> None:
    """Edit changes a question's words, not its files: the new answer still reads the upload, and
    the chips stay, live and in the chat loaded again."""
    widget = ChatWidget(client=client)
    await widget.ask("how many rows are in the uploaded table", files=[("targets.csv", CSV, "text/csv")])
    [before] = [e["attachments"] for e in widget.transcript if e["role"] == "user"]
    answer = await widget.edit("what is the total quota in the uploaded table")
    assert answer.complete, answer.text
    assert answer.tables[0].rows == [[350]]  # read from the file, not declined
    assert [u.filename for u in answer.uploads] == ["targets.csv"]
    [after] = [e.get("attachments") for e in widget.transcript if e["role"] == "user"]
    assert after == before
    [upload] = await widget.conversation.uploads()
    assert upload.message_id == answer.user_message_id  # linked to the question that replaced it
    chat_id = widget.chat_id
    assert chat_id is not None
    widget.new_chat()
    await widget.use_chat(chat_id)
    assert [e.get("attachments") for e in widget.transcript if e["role"] == "user"] == [before]


async def test_files_from_the_browser_arrive_as_buffers(client: AsyncTrellis) -> None:
    widget = ChatWidget(client=client)
    command = {
        "type": "send",
        "text": "SELECT sum(quota) FROM targets",
        "files": [{"name": "targets.csv", "type": ""}],
    }
    widget._on_command(widget, command, [memoryview(CSV)])
    queued: list[asyncio.Future[Answer] | None] = [t.future for t in widget._queue]
    [future] = queued or [None]
    assert future is not None
    answer = await future
    assert answer.tables[0].rows == [[350]]
    assert widget.transcript[0]["attachments"][0]["filename"] == "targets.csv"


async def test_a_bad_file_is_one_sentence_and_queues_nothing(client: AsyncTrellis) -> None:
    widget = ChatWidget(client=client)
    widget._on_command(
        widget, {"type": "send", "text": "q", "files": [{"name": "notes.txt", "type": "text/plain"}]}, [b"hi"]
    )
    assert widget.transcript == []
    assert "not a file type the server accepts" in widget.error
    widget._on_command(
        widget,
        {"type": "send", "text": "q", "files": [{"name": "big.csv", "type": "text/csv"}]},
        [b"x" * (30 * 1024 * 1024 + 1)],
    )
    assert "at most 30 MB" in widget.error
    assert widget.transcript == []


async def test_save_as_query_saves_the_answer_sql(client: AsyncTrellis) -> None:
    widget = ChatWidget(client=client)
    answer = await widget.ask("how many customers are there")
    entry = widget.transcript[1]
    await widget.save_query(entry["id"], "Customer count")
    saved = widget.transcript[1]["saved_query"]
    assert saved["title"] == "Customer count"
    query = await client.queries.get(saved["id"])
    assert query.sql == answer.tables[0].sql
    assert query.prompt == "how many customers are there"
    no_sql = await widget.ask("hello there")
    assert not no_sql.tables
    await widget.save_query(widget.transcript[3]["id"], "Nothing")
    assert widget.error == "This answer has no SQL to save."
