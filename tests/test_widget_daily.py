"""The chat widget as a daily tool, in a real browser (issue 13): keyboard, scrolling like a chat.

JupyterLab on loopback, Debian's chromium driven by Playwright, the kernel talking to the real
local server over the demo database (the real planner: tables and charts). One local server, one
JupyterLab and one browser for the whole module.

Screenshots go to .ci/artifacts/ (widget-keyboard, widget-session-N, widget-scrolled-up,
widget-notebook7-keyboard).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    JupyterLab,
    PageLog,
    browser_page,
    cell_output_text,
    notebook_state,
    open_notebook,
    run_cell,
    screenshot,
    skip_without_browser,
    wait_until_executed,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

NOTEBOOK = "daily.ipynb"
CELLS = [
    "from trellis_jupyter import ChatWidget\nw = ChatWidget()\nw",
    "x = 1",
    # The last answer's first table as the kernel holds it (what Copy and Download must match).
    "import json\nprint('answers:', [(a.question, len(a.tables)) for a in w.answers])\n"
    "t = w.answers[-1].tables[0]\n"
    "print(json.dumps({'headers': t.headers, 'rows': t.rows, 'sql': t.sql}))",
    # The kernel-wide chat (what %%trellis continues) beside the widget's.
    "from trellis_jupyter.session import get_session\n"
    "print('chats:', get_session().state.chat_id, w.chat_id)",
]
# Console noise that is not ours: offline fetches, version warnings, and two errors Notebook 7 logs
# on its own (seen on a notebook with only `x = 1` in it, no widget).
IGNORED = (
    "Failed to load resource", "net::ERR", "favicon", "vega-lite", "[Violation]",
    "reading 'schema'", "'filebrowser:open-path' not registered",
)  # fmt: skip

# A session on the demo database: tables and charts of several heights between the questions.
QUESTIONS = [
    "orders by region as a bar chart",
    "top 5 products by revenue",
    "monthly revenue last year as a line chart",
    "how many customers are there",
    "revenue by product category as a pie chart",
    "list all products",
    "how many orders were placed last month",
    "top 5 customers by revenue",
    "orders by month this year",
    "average order value by region",
    "number of orders by status",
    "revenue by region as a bar chart",
]

# True when the box [top, bottom] of `node` (or of its first `line` px) is inside every scrolling
# box around it (the transcript, the notebook's panel) and inside the window.
VISIBLE = """([selector, index, line]) => {
  const nodes = document.querySelectorAll(selector);
  const node = nodes[index < 0 ? nodes.length + index : index];
  if (!node) return false;
  const r = node.getBoundingClientRect();
  if (r.height === 0) return false;
  const top = r.top, bottom = line ? Math.min(r.bottom, r.top + line) : r.bottom;
  for (let box = node.parentElement; box; box = box.parentElement) {
    const s = getComputedStyle(box);
    if (!/(auto|scroll|hidden)/.test(s.overflowY) || box.scrollHeight <= box.clientHeight) continue;
    const b = box.getBoundingClientRect();
    if (top < b.top - 1 || bottom > b.bottom + 1) return false;
  }
  return top >= 0 && bottom <= window.innerHeight;
}"""


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:", pace=0.01) as srv:
        yield srv


@pytest.fixture(scope="module")
def lab(server: Any) -> Iterator[JupyterLab]:
    skip_without_browser()
    with JupyterLab(env=dict(server.env)) as lab:
        yield lab


@pytest.fixture(scope="module")
def page(lab: JupyterLab) -> Iterator[Any]:
    with browser_page() as (pg, log):
        lab.write_notebook(NOTEBOOK, CELLS)
        open_notebook(pg, lab, NOTEBOOK)
        run_cell(pg, 0)
        wait_until_executed(pg, [0])
        pg.locator(".tj-chat textarea").first.wait_for(timeout=60_000)
        pg.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.base_url)
        pg.log = log
        try:
            yield pg
        finally:
            errors = log.errors(IGNORED)
            assert not errors, f"console errors: {errors}\nJupyterLab log:\n{lab.log()}"


def active(page: Any) -> str:
    """What has focus: the widget control's aria-label, else the tag name."""
    return str(
        page.evaluate(
            "() => { const a = document.activeElement;"
            " return a ? (a.getAttribute('aria-label') || a.tagName) : ''; }"
        )
    )


def wait_done(page: Any, nth: int) -> Any:
    reply = page.locator(".tj-chat article.tj-assistant").nth(nth)
    reply.and_(page.locator("[data-status='done']")).wait_for(timeout=120_000)
    return reply


def check_keyboard(page: Any, name: str) -> None:
    """Shift+Enter, Enter, Tab, Edit and the thumbs' note by keyboard; the notebook unchanged."""
    before = notebook_state(page)
    box = page.locator(".tj-chat .tj-input textarea")
    box.click()
    page.keyboard.type("orders by region")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("as a bar chart")
    assert box.input_value() == "orders by region\nas a bar chart"
    assert active(page) == "Question"
    page.keyboard.press("a")  # in command mode, 'a' would insert a cell
    page.keyboard.press("Backspace")
    assert notebook_state(page) == before, "a key typed in the widget reached the notebook"

    # One Tab from the widget's top reaches the question box.
    page.evaluate("() => document.querySelector('.tj-chat').focus()")
    page.keyboard.press("Tab")
    assert active(page) == "Question"

    # Enter sends; focus stays in the box.
    answers = page.locator(".tj-chat article.tj-assistant").count()
    page.keyboard.press("Enter")
    assert box.input_value() == ""
    reply = wait_done(page, answers)
    assert active(page) == "Question"
    assert notebook_state(page) == before

    # The edit box keeps Shift+Enter too.
    page.locator(".tj-chat button.tj-edit").click()
    edit = page.locator(".tj-chat .tj-edit-box")
    edit.press("End")
    edit.press("Shift+Enter")
    page.keyboard.type("only the East")
    assert edit.input_value().endswith("\nonly the East")
    assert notebook_state(page) == before
    page.keyboard.press("Escape")  # cancels the edit, stays in the widget
    assert page.locator(".tj-chat .tj-edit-box").count() == 0
    assert notebook_state(page) == before

    # A thumb by keyboard opens its note field, focused; Enter sends the note, shown under the answer.
    reply.locator("button[aria-label='Good answer']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement?.getAttribute('aria-label') === 'Feedback note'")
    page.keyboard.type("clear, thanks")
    page.keyboard.press("Enter")
    reply.locator(".tj-sent-note").wait_for(timeout=30_000)
    assert reply.locator(".tj-sent-note").inner_text() == "Your note: clear, thanks"
    assert reply.locator("button[aria-label='Good answer']").get_attribute("aria-pressed") == "true"
    assert notebook_state(page) == before

    # Every control has a name and shows a focus ring when reached by keyboard.
    unnamed = page.evaluate(
        """() => Array.from(document.querySelectorAll('.tj-chat button, .tj-chat textarea, .tj-chat input'))
             .filter(n => !(n.getAttribute('aria-label') || n.textContent.trim())).map(n => n.outerHTML)"""
    )
    assert unnamed == []
    box.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert ring == "solid"
    screenshot(page, name, page.locator(".tj-chat"))


def test_the_empty_chat_suggests_questions_and_a_click_asks(page: Any) -> None:
    """First in this module, while the chat is empty."""
    empty = page.locator(".tj-chat .tj-empty")
    empty.locator(".tj-example").first.wait_for(timeout=30_000)
    assert empty.locator(".tj-empty-title").inner_text().startswith("Ask a question about ")
    screenshot(page, "widget-empty", page.locator(".tj-chat"))
    example = empty.locator(".tj-example").first
    question = example.inner_text()
    example.click()
    reply = wait_done(page, 0)
    assert page.locator(".tj-chat article.tj-user .tj-user-text").first.inner_text() == question
    assert reply.locator(".tj-md").inner_text()
    assert page.locator(".tj-chat .tj-empty").count() == 0
    assert active(page) == "Question"


def test_keys_stay_in_the_widget_in_jupyterlab(page: Any) -> None:
    check_keyboard(page, "widget-keyboard")


def test_a_long_session_keeps_each_question_and_its_answer_in_view(page: Any) -> None:
    """12 questions with tables and charts between: after every send the question's bubble is
    seen inside the transcript, the notebook's panel and the window; when the answer ends, the
    answer's first line too."""
    for question in QUESTIONS:
        users = page.locator(".tj-chat article.tj-user").count()
        answers = page.locator(".tj-chat article.tj-assistant").count()
        box = page.locator(".tj-chat .tj-input textarea")
        box.fill(question)
        box.press("Enter")
        page.locator(".tj-chat article.tj-user").nth(users).wait_for(timeout=30_000)
        page.wait_for_function(VISIBLE, arg=[".tj-chat article.tj-user", users, 0], timeout=30_000)
        reply = wait_done(page, answers)
        if "chart" in question or "top 5" in question or "by region" in question:
            reply.locator(".tj-chart svg").first.wait_for(timeout=60_000)
        page.wait_for_function(VISIBLE, arg=[".tj-chat article.tj-user", users, 0], timeout=30_000)
        page.wait_for_function(
            VISIBLE, arg=[".tj-chat article.tj-assistant .tj-md > :first-child", answers, 20], timeout=30_000
        )
        if users in (2, 9, 11):
            screenshot(page, f"widget-session-{users + 1}", page.locator(".tj-chat"))
    assert page.locator(".tj-chat article.tj-assistant[data-status='done']").count() >= len(QUESTIONS)


def test_reading_above_is_never_moved_and_jump_to_latest_returns(page: Any) -> None:
    log = page.locator(".tj-chat .tj-log")
    answers = page.locator(".tj-chat article.tj-assistant").count()
    box = page.locator(".tj-chat .tj-input textarea")
    box.fill("monthly revenue last year as a line chart")
    box.press("Enter")
    # The reader scrolls up with the wheel while the answer arrives.
    log.hover()
    page.mouse.wheel(0, -900)
    page.wait_for_timeout(300)
    marker = page.evaluate(
        """() => {
          const log = document.querySelector('.tj-chat .tj-log');
          const b = log.getBoundingClientRect();
          const seen = Array.from(log.querySelectorAll('article'))
            .find(a => a.getBoundingClientRect().top >= b.top);
          seen.dataset.marker = 'reading';
          return seen.getBoundingClientRect().top - b.top;
        }"""
    )
    reply = wait_done(page, answers)
    reply.locator(".tj-chart svg").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    after = page.evaluate(
        """() => {
          const b = document.querySelector('.tj-chat .tj-log').getBoundingClientRect();
          return document.querySelector('[data-marker="reading"]').getBoundingClientRect().top - b.top;
        }"""
    )
    assert abs(after - marker) <= 1, f"what the reader read moved by {after - marker} px"
    jump = page.locator(".tj-chat button[aria-label='Jump to latest']")
    assert jump.is_visible()
    screenshot(page, "widget-scrolled-up", page.locator(".tj-chat"))
    jump.click()
    page.wait_for_function(
        "() => { const l = document.querySelector('.tj-chat .tj-log');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight < 4; }"
    )
    assert not jump.is_visible()


def kernel_table(page: Any) -> dict[str, Any]:
    """The last answer's first table, as the kernel holds it."""
    run_cell(page, 2)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[2].node"
        ".querySelector('.jp-OutputArea')?.innerText.includes('headers')",
        timeout=60_000,
    )
    text = cell_output_text(page, 2)
    line = next((x for x in reversed(text.splitlines()) if x.startswith("{")), "")
    assert line, f"no JSON line in the output: {text[:2000]!r}"
    return dict(json.loads(line))


def same_cell(shown: str, value: Any) -> bool:
    if value is None:
        return shown == ""
    if isinstance(value, bool):
        return shown == str(value).lower()
    if isinstance(value, (int, float)):
        return float(shown) == float(value)
    return shown == str(value)


def test_copy_sql_copy_table_and_download_csv_match_the_answer(page: Any) -> None:
    # A fresh chat: "list all products" is not read as a follow-up of the long session before.
    page.locator(".tj-chat button[aria-label='New chat']").click()
    page.wait_for_function("() => document.querySelectorAll('.tj-chat article').length === 0", timeout=30_000)
    answers = 0
    box = page.locator(".tj-chat .tj-input textarea")
    box.fill("list all products")
    box.press("Enter")
    reply = wait_done(page, answers)
    table = kernel_table(page)
    headers, rows = table["headers"], table["rows"]
    assert len(rows) > 10, "the table must span several pages"
    read = "() => navigator.clipboard.readText()"

    reply.locator("button[aria-label='Copy SQL']").click()
    page.wait_for_function("(sql) => navigator.clipboard.readText().then(t => t === sql)", arg=table["sql"])

    reply.locator("button[aria-label='Copy table']").click()
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t.split('\\n').length > 10)")
    lines = page.evaluate(read).rstrip("\n").split("\n")
    assert lines[0].split("\t") == headers
    assert len(lines) - 1 == len(rows), "Copy table must copy every row, not the page"
    for line, row in zip(lines[1:], rows, strict=True):
        assert all(same_cell(c, v) for c, v in zip(line.split("\t"), row, strict=True)), (line, row)

    with page.expect_download() as info:
        reply.locator("button[aria-label='Download CSV']").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    got = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"), newline="")))
    assert got[0] == headers
    assert len(got) - 1 == len(rows)
    for line, row in zip(got[1:], rows, strict=True):
        assert all(same_cell(c, v) for c, v in zip(line, row, strict=True)), (line, row)

    # Sorting by a header: the shown page follows, and Copy table copies that order.
    numeric = next(i for i, v in enumerate(rows[0]) if isinstance(v, (int, float)))
    reply.locator(f"button[aria-label='Sort by {headers[numeric]}']").click()
    reply.locator(f"button[aria-label='Sort by {headers[numeric]}']").click()  # descending
    assert reply.locator("th").nth(numeric).get_attribute("aria-sort") == "descending"
    top = max(r[numeric] for r in rows)
    shown = reply.locator("tbody tr").first.locator("td").nth(numeric).inner_text()
    assert float(shown.replace(",", "")) == pytest.approx(top)
    screenshot(page, "widget-table-tools", reply)


def test_chart_saves_as_svg_and_png_and_opens_larger(page: Any) -> None:
    answers = page.locator(".tj-chat article.tj-assistant").count()
    box = page.locator(".tj-chat .tj-input textarea")
    box.fill("revenue by product category as a pie chart")
    box.press("Enter")
    reply = wait_done(page, answers)
    reply.locator(".tj-chart svg").first.wait_for(timeout=60_000)
    with page.expect_download() as svg_info:
        reply.locator("button[aria-label='Save chart as SVG']").click()
    svg = Path(svg_info.value.path()).read_text(encoding="utf-8")
    assert svg_info.value.suggested_filename.endswith(".svg")
    assert svg.lstrip().startswith("<svg")
    assert "Electronics" in svg
    with page.expect_download() as png_info:
        reply.locator("button[aria-label='Save chart as PNG']").click()
    png = Path(png_info.value.path()).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 2000
    larger = reply.locator("button[aria-label='View chart larger']")
    larger.click()
    dialog = page.locator("dialog.tj-chart-dialog[open]")
    dialog.wait_for(timeout=10_000)
    small = reply.locator(".tj-chart svg").first.bounding_box()
    big = dialog.locator("svg").bounding_box()
    assert big["width"] > small["width"] * 1.5
    screenshot(page, "widget-chart-larger")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached", timeout=10_000)
    assert active(page) == "View chart larger"


def test_picker_resumes_an_earlier_chat_after_new_chat(page: Any) -> None:
    header = page.locator(".tj-chat .tj-header")
    name = header.locator(".tj-chat-name")
    name.wait_for(timeout=30_000)
    earlier = page.evaluate("() => document.querySelector('.tj-chat .tj-chat-name').dataset.chatId")
    shown = page.locator(".tj-chat article").count()
    tables = page.locator(".tj-chat .tj-table").count()
    charts = page.locator(".tj-chat .tj-chart svg").count()
    assert tables >= 1
    # Rename it in place: the server keeps the new title.
    name.click()
    title = header.locator("input[aria-label='Chat title']")
    title.fill("Daily use, first chat")
    title.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.tj-chat .tj-chat-name')?.textContent === 'Daily use, first chat'",
        timeout=30_000,
    )
    header.locator("button[aria-label='New chat']").click()
    page.wait_for_function("() => document.querySelectorAll('.tj-chat article').length === 0", timeout=30_000)
    assert name.inner_text() == "New chat"
    box = page.locator(".tj-chat .tj-input textarea")
    box.fill("how many customers are there")
    box.press("Enter")
    wait_done(page, 0)
    picker = header.locator("select[aria-label='Recent chats']")
    page.wait_for_function(
        "(id) => { const options = Array.from(document.querySelectorAll('.tj-chat .tj-picker option'));"
        " return options.length >= 3 && options.some(o => o.value === id); }",
        arg=earlier,
        timeout=30_000,
    )
    assert "Daily use, first chat" in picker.locator("option").all_inner_texts()
    picker.select_option(earlier)
    page.wait_for_function(
        "(n) => document.querySelectorAll('.tj-chat article').length === n", arg=shown, timeout=60_000
    )
    page.wait_for_function(
        "() => document.querySelector('.tj-chat .tj-chat-name')?.textContent === 'Daily use, first chat'",
        timeout=30_000,
    )
    # Tables and charts rebuilt from what the server kept.
    page.wait_for_function(
        "(n) => document.querySelectorAll('.tj-chat .tj-chart svg').length === n", arg=charts, timeout=60_000
    )
    assert page.locator(".tj-chat .tj-table").count() == tables
    # The next question continues it, and the kernel-wide chat (%%trellis) is the same one.
    box.fill("how many orders were placed last month")
    box.press("Enter")
    wait_done(page, shown // 2)
    run_cell(page, 3)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[3].node"
        ".querySelector('.jp-OutputArea')?.innerText.includes('chats:')",
        timeout=60_000,
    )
    assert cell_output_text(page, 3).split() == ["chats:", earlier, earlier]
    screenshot(page, "widget-picker", page.locator(".tj-chat"))


# Every box of the widget (header, transcript, question row) that sticks out of the widget's box,
# or the widget out of its output area; and the question box's share of its row.
NARROW_LAYOUT = """() => {
  const chat = document.querySelector('.tj-chat');
  const area = chat.closest('.jp-OutputArea-output') || chat.parentElement;
  const c = chat.getBoundingClientRect(), a = area.getBoundingClientRect();
  const out = [];
  if (c.right > a.right + 1) out.push(['widget', Math.round(c.right - a.right)]);
  const boxes = '.tj-header > *, .tj-input > *:not([hidden]):not(input), .tj-log-box';
  for (const n of chat.querySelectorAll(boxes)) {
    const r = n.getBoundingClientRect();
    if (r.width && r.right > c.right + 1) out.push([n.className || n.tagName, Math.round(r.right - c.right)]);
  }
  const row = chat.querySelector('.tj-input').getBoundingClientRect();
  const box = chat.querySelector('.tj-input textarea').getBoundingClientRect();
  return { out, share: box.width / row.width, width: c.width };
}"""


# What a reply shows broken inside a word (a table cell or the row count with more lines than
# words), and its buttons and page label that take more than one line.
LINES_BROKEN = """(reply) => {
  const lines = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size;
  };
  const words = (cell) => cell.textContent.trim().split(/\\s+/).length;
  const cells = Array.from(reply.querySelectorAll('.tj-table th, .tj-table td, .tj-row-count'))
    .filter(cell => lines(cell) > words(cell));
  const oneLine = Array.from(reply.querySelectorAll('button, .tj-page-label'))
    .filter(node => node.offsetParent && lines(node) > 1);
  return [...cells, ...oneLine].map(node => node.textContent);
}"""


def test_a_narrow_window_keeps_the_widget_inside_its_cell(page: Any) -> None:
    """Seen in a 560 px window with the file browser open: the question box was squeezed to two
    letters a line beside its buttons, and the header pushed the widget past the cell's edge."""
    title = "Which customers in Germany placed the most orders in 2017"
    header = page.locator(".tj-chat .tj-header")
    if header.locator("button.tj-chat-name").count() == 0:  # no chat yet (this test alone)
        answers = page.locator(".tj-chat article.tj-assistant").count()
        page.locator(".tj-chat .tj-input textarea").fill("how many customers are there")
        page.locator(".tj-chat .tj-input textarea").press("Enter")
        wait_done(page, answers)
        header.locator("button.tj-chat-name").wait_for(timeout=30_000)
    header.locator(".tj-chat-name").click()
    header.locator("input[aria-label='Chat title']").fill(title)
    header.locator("input[aria-label='Chat title']").press("Enter")
    page.wait_for_function(
        "(t) => document.querySelector('.tj-chat .tj-chat-name')?.textContent === t",
        arg=title,
        timeout=30_000,
    )
    page.set_viewport_size({"width": 560, "height": 900})
    try:
        page.wait_for_function("() => document.querySelector('.tj-chat').getBoundingClientRect().width < 400")
        page.wait_for_timeout(300)  # JupyterLab lays the panels out again
        layout = page.evaluate(NARROW_LAYOUT)
        screenshot(page, "widget-narrow", page.locator(".tj-chat"))
        assert layout["out"] == [], layout
        assert layout["share"] > 0.8, layout  # the buttons wrap under the box instead
        # The chat's title keeps the header's first line; the picker wraps under it (seen: a
        # title squeezed to "W" beside the picker).
        shown, full = page.evaluate(
            "() => { const n = document.querySelector('.tj-chat .tj-chat-name');"
            " return [n.getBoundingClientRect().width, n.scrollWidth]; }"
        )
        assert shown >= 150, (shown, full)
        answers = page.locator(".tj-chat article.tj-assistant").count()
        box = page.locator(".tj-chat .tj-input textarea")
        box.fill("list all customers")
        box.press("Enter")
        reply = wait_done(page, answers)
        assert page.evaluate(NARROW_LAYOUT)["out"] == []
        # No cell is broken inside a word (seen: an id "10" as "1" over "0", "Jense" over "n");
        # the table scrolls sideways in its own box instead.
        broken = reply.evaluate(LINES_BROKEN)
        assert broken == [], broken
        screenshot(page, "widget-narrow-table", page.locator(".tj-chat"))
    finally:
        page.set_viewport_size({"width": 1280, "height": 1000})


def test_dark_theme(page: Any) -> None:
    from browser_helpers import run_command

    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    try:
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
        page.locator(".tj-chat .tj-chart svg").first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)  # charts redraw in the dark theme
        colors = page.evaluate(
            """() => { const s = (sel) => getComputedStyle(document.querySelector(sel));
                return [s('.tj-chat').backgroundColor, s('.tj-chat .tj-table th').backgroundColor,
                        s('.tj-chat .tj-input textarea').color]; }"""
        )
        assert colors[0] not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
        assert colors[1] != "rgb(255, 255, 255)"
        screenshot(page, "widget-daily-dark", page.locator(".tj-chat"))
    finally:
        run_command(page, "apputils:change-theme", {"theme": "JupyterLab Light"})


@pytest.mark.slow
def test_keys_stay_in_the_widget_in_notebook7(page: Any, lab: JupyterLab) -> None:
    """Notebook 7's UI, in a second tab of the module's browser."""
    lab.write_notebook("daily7.ipynb", CELLS)
    tab = page.context.new_page()
    log = PageLog()
    log.attach(tab)
    try:
        open_notebook(tab, lab, "daily7.ipynb", notebook7=True)
        run_cell(tab, 0)
        wait_until_executed(tab, [0])
        tab.locator(".tj-chat textarea").first.wait_for(timeout=60_000)
        check_keyboard(tab, "widget-notebook7-keyboard")
        assert log.errors(IGNORED) == []
    finally:
        tab.close()
