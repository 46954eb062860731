"""The chat widget's attachments and "Save as query" in a real browser: JupyterLab on loopback,
Debian's chromium driven by Playwright, the kernel talking to the local server and its planner.

Screenshots: .ci/artifacts/widget-attach.png, widget-saved-query.png, widget-attach-resumed.png,
widget-attach-edited.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    screenshot,
    widget_notebook,
)

from trellis_jupyter.client import Trellis

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NOTEBOOK = "attach.ipynb"
CELLS = ["from trellis_jupyter import ChatWidget\nw = ChatWidget()\nw"]
IGNORED = ("Failed to load resource", "net::ERR", "favicon", "vega-lite", "[Violation]")


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:", pace=0.005) as srv:
        yield srv


@pytest.fixture(scope="module")
def page(server: Any) -> Iterator[Any]:
    with widget_notebook(server, NOTEBOOK, CELLS, IGNORED) as (pg, _lab, _log):
        yield pg


def test_attach_a_file_ask_about_it_and_save_the_answer_as_a_query(
    page: Any, server: Any, tmp_path: Path
) -> None:
    data = tmp_path / "targets.csv"
    data.write_text("region,quota\nNorth,100\nSouth,250\nEast,\n", encoding="utf-8")
    chat = page.locator(".tj-chat")
    with page.expect_file_chooser() as chooser:
        chat.locator("button.tj-attach").click()
    chooser.value.set_files(str(data))
    chat.locator(".tj-picked .tj-attachment-name").filter(has_text="targets.csv").wait_for(timeout=10_000)

    box = chat.locator("textarea").first
    box.fill("how many rows are in the uploaded table")
    box.press("Enter")
    reply = chat.locator("article.tj-assistant").first
    reply.and_(page.locator("[data-status='done']")).wait_for(timeout=90_000)
    question = chat.locator("article.tj-user").first
    question.locator(".tj-attachments .tj-attachment-name").wait_for(timeout=10_000)
    assert question.locator(".tj-attachments").inner_text().startswith("targets.csv")
    assert chat.locator(".tj-picked").is_hidden()  # the picked files went with the question
    assert reply.locator(".tj-table tbody td").first.inner_text() == "3"
    # The chat is titled by its first question (not "Chat <minute>"), in the header and picker.
    page.wait_for_function(
        "() => document.querySelector('.tj-chat .tj-chat-name')?.textContent"
        " === 'how many rows are in the uploaded table'",
        timeout=30_000,
    )
    screenshot(page, "widget-attach", chat)

    reply.locator("button.tj-save-query-button").click()
    title = reply.locator("input.tj-query-title")
    assert title.input_value() == "how many rows are in the uploaded table"
    title.fill("Targets row count")
    reply.locator("button.tj-save-query-confirm").click()
    saved = reply.locator(".tj-saved-query")
    saved.wait_for(timeout=30_000)
    assert saved.inner_text() == "Saved as query “Targets row count”"
    screenshot(page, "widget-saved-query", chat)

    earlier = str(page.evaluate("() => document.querySelector('.tj-chat-name').dataset.chatId"))
    with Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as client:
        [query] = [q for q in client.queries.list() if q.title == "Targets row count"]
        assert query.sql is not None
        assert "targets" in query.sql
        [upload] = client.chats.uploads(earlier)
        assert upload.tables == ("targets",)

    # New chat, then the old one from the picker: its history comes from the server (Get Chat),
    # and the question shows the file it was sent with, as it did live.
    chat.locator("button[aria-label='New chat']").click()
    page.wait_for_function("() => document.querySelectorAll('.tj-chat article').length === 0", timeout=30_000)
    picker = chat.locator("select[aria-label='Recent chats']")
    page.wait_for_function(
        "(id) => Array.from(document.querySelectorAll('.tj-chat .tj-picker option'))"
        ".some(o => o.value === id)",
        arg=earlier,
        timeout=30_000,
    )
    picker.select_option(earlier)
    resumed = chat.locator("article.tj-user").first
    resumed.wait_for(timeout=60_000)
    assert resumed.locator(".tj-user-text").inner_text() == "how many rows are in the uploaded table"
    resumed.locator(".tj-attachments .tj-attachment-name").wait_for(timeout=10_000)
    assert resumed.locator(".tj-attachments .tj-attachment-name").all_inner_texts() == ["targets.csv"]
    assert chat.locator("article.tj-assistant .tj-table tbody td").first.inner_text() == "3"
    screenshot(page, "widget-attach-resumed", chat)

    # Edit the question: it keeps its file (the chip, and the answer reads the table).
    resumed.locator("button.tj-edit").click()
    editor = chat.locator("textarea.tj-edit-box")
    editor.fill("what is the total quota in the uploaded table")
    editor.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.tj-chat article.tj-user .tj-user-text')?.textContent"
        " === 'what is the total quota in the uploaded table'",
        timeout=30_000,
    )
    edited = chat.locator("article.tj-user").first
    answer = chat.locator("article.tj-assistant").first
    answer.and_(page.locator("[data-status='done']")).wait_for(timeout=90_000)
    assert answer.locator(".tj-table tbody td").first.inner_text() == "350"
    assert edited.locator(".tj-attachments .tj-attachment-name").all_inner_texts() == ["targets.csv"]
    screenshot(page, "widget-attach-edited", chat)
