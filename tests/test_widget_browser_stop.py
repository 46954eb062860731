"""Escape in the question box stops a streaming answer, in a real browser: JupyterLab on loopback,
Debian's chromium driven by Playwright, the kernel talking to the local server and its planner.

The key handling alone is js/test/view.test.ts (vitest); this is the whole path: the key in
JupyterLab, the stop command to the kernel, the turn cancelled on the server, the next question.
The server here spaces its text deltas by ``PACE`` seconds a word, so an answer streams long
enough to be stopped half-way (the daily module's server streams a whole answer in about half a
second, too short to press a key in reliably).

Screenshot: .ci/artifacts/widget-escape-stopped.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import notebook_state, screenshot, widget_notebook

from trellis_jupyter.client import Trellis

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NOTEBOOK = "stop.ipynb"
CELLS = ["from trellis_jupyter import ChatWidget\nw = ChatWidget()\nw", "x = 1"]
IGNORED = ("Failed to load resource", "net::ERR", "favicon", "vega-lite", "[Violation]")
PACE = 0.25
LONG = "what tables are there"  # about 40 words of text: some 10 s of streaming at this pace

# The first answer is streaming and shows some of its text: it is under way, not yet done.
STREAMING = """() => {
  const a = document.querySelector('.tj-chat article.tj-assistant');
  return !!a && a.dataset.status === 'streaming' && a.querySelector('.tj-md')?.textContent.trim().length > 0;
}"""


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:", pace=PACE) as srv:
        yield srv


@pytest.fixture(scope="module")
def page(server: Any) -> Iterator[Any]:
    with widget_notebook(server, NOTEBOOK, CELLS, IGNORED) as (pg, _lab, _log):
        yield pg


def test_escape_in_the_question_box_stops_the_streaming_answer(page: Any, server: Any) -> None:
    chat = page.locator(".tj-chat")
    box = chat.locator(".tj-input textarea")
    before = notebook_state(page)
    box.fill(LONG)
    box.press("Enter")
    page.wait_for_function(STREAMING, timeout=60_000)
    box.press("Escape")

    reply = chat.locator("article.tj-assistant").first
    reply.and_(page.locator("[data-status='interrupted']")).wait_for(timeout=30_000)
    assert reply.locator(".tj-interrupted").inner_text() == "Stopped: the partial answer is kept."
    assert reply.locator(".tj-md").inner_text().strip()  # the partial text stays
    assert chat.locator("button.tj-stop").is_disabled()
    assert notebook_state(page) == before, "Escape reached the notebook"
    assert page.evaluate("() => document.activeElement?.getAttribute('aria-label')") == "Question"
    screenshot(page, "widget-escape-stopped", chat)

    # The next question is answered as usual; the stopped one stays stopped.
    box.fill("how many customers are there")
    box.press("Enter")
    following = chat.locator("article.tj-assistant").nth(1)
    following.and_(page.locator("[data-status='done']")).wait_for(timeout=90_000)
    assert "2,000" in following.locator(".tj-md").inner_text()
    assert following.locator(".tj-table tbody td").first.inner_text() == "2,000"
    assert reply.get_attribute("data-status") == "interrupted"
    assert notebook_state(page) == before

    # The server kept the stopped question but no answer to it (its turn was cancelled there).
    chat_id = str(page.evaluate("() => document.querySelector('.tj-chat-name').dataset.chatId"))
    with Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as client:
        messages = client.chats.get(chat_id).messages
    assert [(m.role, m.content if m.role == "user" else "") for m in messages] == [
        ("user", LONG),
        ("user", "how many customers are there"),
        ("assistant", ""),
    ]


def test_after_a_kernel_restart_the_widget_says_to_run_its_cell_again(page: Any) -> None:
    """Seen in JupyterLab: after Kernel > Restart, Enter in the widget did nothing at all (the
    console said "Cannot send") and the question seemed lost."""
    from browser_helpers import run_cell, wait_until_executed

    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=60_000,
    )
    chat = page.locator(".tj-chat")
    box = chat.locator(".tj-input textarea")
    box.fill("how many orders are there")
    box.press("Enter")
    error = chat.locator(".tj-error")
    error.wait_for(timeout=10_000)
    assert error.inner_text().startswith("This chat lost its kernel (restarted or shut down): run the cell")
    assert box.input_value() == "how many orders are there"  # kept, to send again
    screenshot(page, "widget-kernel-restarted", chat)

    # Running the cell again gives a working chat.
    run_cell(page, 0)
    wait_until_executed(page, [0])
    fresh = page.locator(".tj-chat")
    fresh.locator(".tj-input textarea").fill("how many orders are there")
    fresh.locator(".tj-input textarea").press("Enter")
    answer = fresh.locator("article.tj-assistant").last
    answer.and_(page.locator("[data-status='done']")).wait_for(timeout=90_000)
    assert "50,000" in answer.locator(".tj-md").inner_text()
