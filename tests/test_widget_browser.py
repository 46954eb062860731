"""ChatWidget end to end in a real browser: JupyterLab on loopback, Debian's chromium driven by
Playwright, the kernel talking to the real local server (scripted planner, paced so streaming is
visible). One JupyterLab and one browser for the whole module.

Screenshots go to .ci/artifacts/ (widget-answer, widget-stopped, widget-hostile, widget-dark,
widget-reloaded).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import (
    cell_output_text,
    open_notebook,
    run_cell,
    run_command,
    screenshot,
    widget_notebook,
)
from widget_helpers import EVIL_ENTITY, EVIL_IMG, EVIL_SCRIPT, start_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

NOTEBOOK = "widget.ipynb"
CELLS = [
    "from trellis_jupyter import ChatWidget\nw = ChatWidget()\nw",
    "print('other cell ran', 6 * 7)",
]
# Console noise that is not ours: JupyterLab's own offline fetches and its version warnings.
IGNORED = ("Failed to load resource", "net::ERR", "favicon", "vega-lite", "[Violation]")
WAITING = ("Starting…", "Thinking…", "Analyzing…", "Processing…")

# Records what the widget showed over time: status lines, and the streaming answer's length.
RECORDER = """() => {
  window.__tjSeen = { status: [], lengths: [] };
  const note = () => {
    for (const el of document.querySelectorAll('.tj-chat .tj-status, .tj-chat .tj-processing')) {
      const t = el.textContent, seen = window.__tjSeen.status;
      if (t && seen[seen.length - 1] !== t) seen.push(t);
    }
    const live = document.querySelector('.tj-chat article[data-status="streaming"] .tj-md');
    if (live) window.__tjSeen.lengths.push(live.textContent.length);
  };
  new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    # Long answers stream for ~16 s: time enough, on a loaded machine, to see them stream and stop them.
    srv = start_server(pace=0.04)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def page(server: Any) -> Iterator[Any]:
    with widget_notebook(server, NOTEBOOK, CELLS, IGNORED) as (pg, lab, log):
        pg.evaluate(RECORDER)
        pg.log = log
        pg.lab = lab
        yield pg


def ask(page: Any, question: str) -> None:
    box = page.locator(".tj-chat textarea").first
    box.fill(question)
    box.press("Enter")


def assistant(page: Any, nth: int) -> Any:
    return page.locator(".tj-chat article.tj-assistant").nth(nth)


def test_question_shows_status_streamed_text_table_and_chart(page: Any) -> None:
    ask(page, "Orders by region?")
    reply = assistant(page, 0)
    reply.and_(page.locator("[data-status='done']")).wait_for(timeout=60_000)
    # The table: paged, text cells, the row count and the SQL.
    table = reply.locator(".tj-table")
    assert table.locator("th").all_inner_texts() == ["region", "orders"]
    assert table.locator("tbody tr").count() >= 3
    assert "rows" in table.locator(".tj-row-count").inner_text()
    assert "SELECT" in table.locator(".tj-sql code").text_content()
    # The chart, drawn by the bundled vega-embed.
    chart = reply.locator(".tj-chart svg")
    chart.wait_for(timeout=30_000)
    assert "Orders by region" in chart.text_content()
    assert reply.locator(".tj-chart .mark-rect path").count() >= 3
    assert "leads with" in reply.locator(".tj-md").inner_text()
    seen = page.evaluate("window.__tjSeen")
    assert any(s in WAITING for s in seen["status"]), seen["status"]
    growth = sorted(set(seen["lengths"]))
    assert len([n for n in growth if n > 0]) >= 2, f"streamed text lengths seen: {growth}"
    # Feedback buttons are there for a saved answer.
    assert reply.locator("button[aria-label='Good answer']").is_visible()
    screenshot(page, "widget-answer", page.locator(".tj-chat"))


def test_other_cells_run_while_streaming_and_stop_keeps_the_partial_answer(page: Any) -> None:
    ask(page, "A long answer please")
    reply = assistant(page, 1)
    streaming = reply.and_(page.locator("[data-status='streaming']"))
    streaming.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => (document.querySelectorAll('.tj-chat article.tj-assistant')[1]"
        "?.querySelector('.tj-md')?.textContent.length ?? 0) > 40",
        timeout=30_000,
    )
    # The kernel is free while the answer streams: another cell runs and prints.
    run_cell(page, 1)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[1].model.executionCount !== null",
        timeout=30_000,
    )
    assert "other cell ran 42" in cell_output_text(page, 1)
    assert streaming.count() == 1, "the answer finished before the other cell ran"
    page.locator(".tj-chat button.tj-stop").click()
    reply.and_(page.locator("[data-status='interrupted']")).wait_for(timeout=30_000)
    text = reply.locator(".tj-md").inner_text()
    assert text.startswith("word0 word1")
    assert len(text) > 40
    assert "word399" not in text
    assert "partial answer is kept" in reply.locator(".tj-interrupted").inner_text()
    assert page.locator(".tj-chat button.tj-stop").is_disabled()
    screenshot(page, "widget-stopped", page.locator(".tj-chat"))


def test_hostile_answer_executes_nothing_and_shows_the_text(page: Any) -> None:
    ask(page, "Something evil")
    reply = assistant(page, 2)
    reply.and_(page.locator("[data-status='done']")).wait_for(timeout=60_000)
    reply.locator(".tj-chart svg").wait_for(timeout=30_000)
    md = reply.locator(".tj-md")
    assert EVIL_SCRIPT in md.inner_text()
    assert EVIL_IMG in md.inner_text()
    assert reply.locator(".tj-table td").first.inner_text() == EVIL_SCRIPT
    # An entity in a cell is shown as typed; in markdown it is decoded to text, never to markup.
    assert EVIL_ENTITY in reply.locator(".tj-table").inner_text()
    assert "onerror=\"window.__trellis_pwned = 'entity'\">" in md.inner_text()
    assert EVIL_SCRIPT in reply.locator(".tj-chart svg").text_content()
    danger = page.evaluate(
        """() => {
            const root = document.querySelector('.tj-chat');
            const all = Array.from(root.querySelectorAll('*'));
            return {
                pwned: window.__trellis_pwned ?? null,
                scripts: root.querySelectorAll('script, iframe, object, embed, img').length,
                handlers: all.filter(e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length,
                jsLinks: all.filter(e => /^\\s*javascript:/i.test(e.getAttribute('href') || '')).length,
            };
        }"""
    )
    assert danger == {"pwned": None, "scripts": 0, "handlers": 0, "jsLinks": 0}
    assert page.log.dialogs == []
    # The link's text stays, without its javascript: target.
    link_text = md.locator("a")
    assert link_text.count() == 1
    assert link_text.get_attribute("href") is None
    screenshot(page, "widget-hostile", page.locator(".tj-chat"))


def test_dark_theme_and_reload_keep_the_transcript(page: Any) -> None:
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    background = page.evaluate("() => getComputedStyle(document.querySelector('.tj-chat')).backgroundColor")
    screenshot(page, "widget-dark", page.locator(".tj-chat"))
    assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Light"})
    # Save (the widget's output is in the file), reload: the transcript comes back from the kernel.
    run_command(page, "docmanager:save")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
    page.reload()
    open_notebook(page, page.lab, NOTEBOOK)
    page.locator(".tj-chat article").nth(5).wait_for(timeout=60_000)
    assert page.locator(".tj-chat article.tj-assistant").count() == 3
    statuses = page.locator(".tj-chat article.tj-assistant").evaluate_all(
        "(els) => els.map(e => e.dataset.status)"
    )
    assert statuses == ["done", "interrupted", "done"]
    assert "leads with" in assistant(page, 0).locator(".tj-md").inner_text()
    screenshot(page, "widget-reloaded", page.locator(".tj-chat"))
