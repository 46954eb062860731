"""Untrusted content is data: hostile answers render as text in every Python-side HTML output.

A hostile server (the real local server with a planner that answers with ``<script>``, event
handler attributes, ``javascript:`` links and HTML entities in the answer text, table cells, column
names, titles, SQL and chart labels) is asked through the magic; then every output is checked:

- ``text/html`` as it is, ``text/markdown`` rendered the way Jupyter renders it (raw HTML allowed),
  and any SVG image: no ``<script>``/``<iframe>``/``<object>``/``<embed>``, no ``on*`` attribute,
  no ``javascript:`` URL, anywhere;
- the hostile strings still show, as text (a person sees what the server sent).

Surfaces: the magic's live outputs (``%%trellis``), ``Answer._repr_mimebundle_`` (a saved answer),
the widget's static transcript HTML. The widget's live view in a real browser is
tests/test_widget_browser.py::test_hostile_answer_executes_nothing_and_shows_the_text.
"""

from __future__ import annotations

import base64
import html
import json
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from typing import Any

import mistune
import pytest
from IPython.core.interactiveshell import InteractiveShell
from magic_helpers import RecordingPublisher, extension_shell

from trellis_jupyter.client import Trellis
from trellis_jupyter.events import Chart, Table
from trellis_jupyter.local.planner_protocol import DatabaseInfo, PastTurn, PlannedAnswer, RunQuery

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
SVG = "<svg onload=alert(3)>"
LINK_MD = "[click me](javascript:alert(4))"
LINK_HTML = '<a href="javascript:alert(5)">tap</a>'
ENTITY = "&lt;script&gt;alert(6)&lt;/script&gt; &#60;img src=x onerror=alert(7)&#62;"
ALL = [SCRIPT, IMG, SVG, LINK_HTML, ENTITY]


class HostilePlanner:
    """Every answer is hostile everywhere a server string can go."""

    def answer(
        self, question: str, *, database: DatabaseInfo, history: Sequence[PastTurn], run_query: RunQuery
    ) -> PlannedAnswer:
        text = f"Look: {SCRIPT} then {IMG} and {SVG}, {LINK_MD}, {LINK_HTML}, {ENTITY}."
        table = Table(
            id="hostile001",
            title=SCRIPT,
            headers=[IMG, SCRIPT, ENTITY],
            rows=[[SCRIPT, IMG, ENTITY], [LINK_HTML, SVG, 1]],
            sql=f"SELECT '{SCRIPT}'",
        )
        chart = Chart(
            id="hostile002",
            chart_type="bar",
            title=SCRIPT,
            values=[
                {"label": IMG, "value": 3},
                {"label": LINK_HTML, "value": 5},
                {"label": ENTITY, "value": 1},
            ],
            x_axis_label=SVG,
            y_axis_label=SCRIPT,
        )
        pie = Chart(
            id="hostile003",
            chart_type="pie",
            title=IMG,
            values=[{"text": SCRIPT, "value": 2}, {"text": IMG, "value": 3}],
        )
        return PlannedAnswer(text=text, visualizations=[table, chart, pie])


class Danger(HTMLParser):
    """Walks HTML like a browser's parser would, noting anything that could run, and the text shown."""

    RUNNABLE = {"script", "iframe", "object", "embed", "frame", "base", "meta"}
    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.RUNNABLE:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            url = (value or "").strip().lower()
            if name in self.URL_ATTRS and re.sub(r"[\s\x00-\x1f]", "", url).startswith(
                ("javascript:", "vbscript:")
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "src" and url.startswith("data:") and tag == "img":
                self.images.append(value or "")
            elif name == "src" and url.startswith("data:text/html"):
                self.found.append(f"<{tag} src=data:text/html>")

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def inspect_html(markup: str) -> Danger:
    parser = Danger()
    parser.feed(markup)
    parser.close()
    for image in parser.images:  # an SVG image runs nothing, but check its markup anyway
        header, _, payload = image.partition(",")
        svg = base64.b64decode(payload).decode() if ";base64" in header else urllib.parse.unquote(payload)
        parser.found += inspect_html(svg).found
    return parser


def jupyter_markdown(source: str) -> str:
    """Markdown to HTML as Jupyter's renderer does it: CommonMark with raw HTML passed through."""
    return str(mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])(source))


def assert_safe(markup: str, where: str) -> str:
    danger = inspect_html(markup)
    assert danger.found == [], f"{where}: runnable content {danger.found}"
    return " ".join(danger.text)


def outputs(calls: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (mime type, markup) a front end would render as HTML, from the published bundles."""
    out = []
    for call in calls:
        data = call["data"]
        if "text/html" in data:
            out.append(("text/html", str(data["text/html"])))
        if "text/markdown" in data and "text/html" not in data:
            out.append(("text/markdown", jupyter_markdown(str(data["text/markdown"]))))
        if "image/svg+xml" in data:
            out.append(("image/svg+xml", str(data["image/svg+xml"])))
    return out


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:", planner=HostilePlanner()) as srv:
        yield srv


@pytest.fixture(scope="module")
def answer(server: Any) -> Any:
    with Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as client:
        return client.conversation().ask("anything")


def test_hostile_answer_arrives_intact(answer: Any) -> None:
    """The data itself is kept exactly (rendering is what must neutralize it, not the parser)."""
    assert SCRIPT in answer.text
    assert answer.tables[0].headers == [IMG, SCRIPT, ENTITY]
    assert answer.tables[0].rows[0] == [SCRIPT, IMG, ENTITY]
    assert [v["label"] for v in answer.charts[0].values] == [IMG, LINK_HTML, ENTITY]


def test_answer_mimebundle_renders_hostile_content_as_text(answer: Any) -> None:
    """A saved answer (``_repr_mimebundle_``): html and markdown run nothing; cells read as sent."""
    bundle = answer._repr_mimebundle_()
    shown = assert_safe(bundle["text/html"], "answer text/html")
    assert_safe(jupyter_markdown(bundle["text/markdown"]), "answer text/markdown")
    for value in (SCRIPT, IMG, LINK_HTML, ENTITY):
        assert value in shown, f"{value!r} is not shown as text in the html"
    assert SCRIPT in bundle["text/plain"]


def test_table_html_cells_and_names_are_text(answer: Any) -> None:
    """Table cells and column names: escaped, and shown exactly as the server sent them."""
    from trellis_jupyter.render import table_html

    markup = table_html(answer.tables[0])
    shown = assert_safe(markup, "table_html")
    for value in (SCRIPT, IMG, SVG, LINK_HTML, ENTITY):
        assert value in shown


def test_widget_static_transcript_is_text(answer: Any) -> None:
    """The widget's saved-notebook HTML (no kernel, no JS): hostile strings escaped and shown."""
    from trellis_jupyter.widget_html import transcript_html
    from trellis_jupyter.widget_wire import browser_payload

    entries = [
        {"id": "e1", "role": "user", "text": SCRIPT, "status": "sent"},
        {
            "id": "e2",
            "role": "assistant",
            "text": answer.text,
            "status": "error",
            "error": IMG,
            "visualizations": [browser_payload(v) for v in answer.visualizations],
        },
    ]
    shown = assert_safe(transcript_html(entries), "transcript_html")
    for value in (SCRIPT, IMG, LINK_HTML, ENTITY):
        assert value in shown


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch, server: Any) -> Iterator[InteractiveShell]:
    with extension_shell(monkeypatch, server.env) as sh:
        yield sh


def test_magic_outputs_render_hostile_content_as_text(shell: InteractiveShell) -> None:
    """%%trellis live outputs (streamed and final, tables, charts): nothing runs, all is shown."""
    result = shell.run_cell("%%trellis\nShow me anything")
    assert result.error_in_exec is None, result.error_in_exec
    publisher = shell.display_pub
    assert isinstance(publisher, RecordingPublisher)
    rendered = outputs(publisher.calls)
    assert any(kind == "text/html" for kind, _ in rendered) or any(
        kind == "text/markdown" for kind, _ in rendered
    )
    shown = " ".join(assert_safe(markup, f"magic {kind}") for kind, markup in rendered)
    for value in (SCRIPT, IMG, LINK_HTML):
        assert value in shown, f"{value!r} is not shown as text by the magic"
    # Chart labels reach the Vega-Lite spec as data (Vega renders them as SVG text, never markup).
    specs = [c["data"] for c in publisher.calls if any("vegalite" in k for k in c["data"])]
    assert specs, "no chart output"
    assert json.dumps(IMG)[1:-1] in json.dumps(specs)


def test_markdown_checker_catches_what_it_must() -> None:
    """The checker itself catches raw hostile markdown through Jupyter's renderer (a pass means something)."""
    for bad in (SCRIPT, IMG, SVG, LINK_HTML, html.unescape(ENTITY)):
        assert inspect_html(jupyter_markdown(f"text {bad}")).found, bad
