"""Static renderings of answers: text/plain, text/markdown, text/html; untrusted content stays text."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree

import pytest

from trellis_jupyter.answer import Answer
from trellis_jupyter.events import (
    Chart,
    ChatMetadata,
    ErrorEvent,
    Message,
    Table,
    TextDelta,
    Visualization,
    parse_event,
)
from trellis_jupyter.render import (
    answer_mimebundle,
    history_bundle,
    status_html,
    table_html,
    table_markdown,
    table_text,
)
from trellis_jupyter.sanitize import markdown_to_html, safe_url

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    "&lt;b&gt;entity&amp;",
    '"><svg onload=alert(1)>',
]


class Tags(HTMLParser):
    """Every start tag and attribute in a document, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def assert_inert(html: str) -> None:
    tags = parse(html)
    for tag, attrs in tags.tags:
        assert tag not in ("script", "svg", "iframe", "object", "embed"), tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/svg+xml;base64,"), attrs
        if tag == "a":
            assert re.match(r"^(https?:|mailto:)", attrs.get("href") or ""), attrs


def answer_with(text: str, *payloads: Any, error: ErrorEvent | None = None) -> Answer:
    answer = Answer("q")
    answer.feed(ChatMetadata(chat_id="chat1", user_message_id="u1"))
    for p in payloads:
        answer.feed(Visualization(payload=p))
    if error is not None:
        answer.feed(TextDelta(content=text))
        answer.feed(error)
    else:
        answer.feed(Message(content=text, message_id="m1"))
    return answer


def xss_table() -> Table:
    return Table(id="t1", headers=[*XSS, "n"], rows=[[*XSS, 1], [*XSS, None]], sql="SELECT '<script>' -- ```")


# --- untrusted content --------------------------------------------------------------------------


@pytest.mark.parametrize("payload", XSS)
def test_markup_in_answer_text_renders_as_text(payload: str) -> None:
    html = answer_mimebundle(answer_with(f"Result: {payload}"))["text/html"]
    assert_inert(html)
    assert payload in "".join(parse(html).text)  # shown exactly as typed


@pytest.mark.parametrize("payload", XSS)
def test_markup_in_a_history_renders_as_text(payload: str) -> None:
    answer = answer_with(f"**Result**: {payload}", xss_table())
    bundle = history_bundle([(f"why {payload}?", answer), ("nothing", Answer("nothing"))])
    html = bundle["text/html"]
    assert_inert(html)
    text = "".join(parse(html).text)
    assert f"why {payload}?" in text  # the question, shown exactly as typed
    assert f"Result: {payload}" in text  # the answer's markdown rendered, its markup as text
    assert "(no text)" in text
    plain = bundle["text/plain"]
    assert plain.splitlines()[0] == f"[1] Q: why {payload}?"
    assert "    A: Result: " in plain
    assert "    (1 table)" in plain
    assert "**" not in plain


def test_markup_in_table_cells_and_column_names_renders_as_text() -> None:
    html = table_html(xss_table())
    assert_inert(html)
    text = "".join(parse(html).text)
    for payload in XSS:
        assert text.count(payload) == 3  # header + two rows


def test_markup_in_chart_labels_and_titles_is_text() -> None:
    chart = Chart(id="c", chart_type="bar", values=[{"label": p, "value": 1} for p in XSS], title=XSS[0])
    bundle = answer_mimebundle(answer_with("chart", chart))
    assert_inert(bundle["text/html"])
    svg_uri = parse(bundle["text/html"]).tags
    imgs = [a for t, a in svg_uri if t == "img"]
    assert len(imgs) == 1
    svg = base64.b64decode((imgs[0]["src"] or "").split(",", 1)[1]).decode()
    elements = list(ElementTree.fromstring(svg).iter())  # well-formed XML: the labels are escaped
    assert not [e for e in elements if e.tag.rsplit("}", 1)[-1] in ("script", "img", "a", "foreignObject")]
    assert not [e for e in elements if any(name.startswith("on") for name in e.attrib)]
    assert XSS[1] in "".join(e.text or "" for e in elements)  # drawn as the text it is
    assert XSS[0] in bundle["text/plain"]  # plain text is plain


def test_javascript_links_lose_their_link() -> None:
    html = markdown_to_html("[click](javascript:alert(1)) and [ok](https://example.com/a?b=1&c=2)")
    assert_inert(html)
    anchors = [a for t, a in parse(html).tags if t == "a"]
    assert anchors == [
        {"href": "https://example.com/a?b=1&c=2", "rel": "noopener noreferrer", "target": "_blank"}
    ]
    assert "click" in html


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:x", "data:text/html,x", "vbscript:x", "//x"],
)
def test_safe_url_rejects_everything_but_http_https_mailto(url: str) -> None:
    assert safe_url(url) is None


def test_safe_url_accepts_http_https_mailto() -> None:
    assert safe_url("https://a.b/c") == "https://a.b/c"
    assert safe_url("mailto:a@b.c") == "mailto:a@b.c"


def test_markdown_text_neutralizes_raw_html_but_keeps_code() -> None:
    text = "Hello <script>x</script> &amp; `a<b` \n```\n<i>raw</i>\n```"
    md = answer_mimebundle(answer_with(text))["text/markdown"]
    assert "<script>" not in md
    assert "&lt;script>" in md
    assert "&amp;amp;" in md  # an entity shows as typed
    assert "`a<b`" in md  # code is literal already
    assert "<i>raw</i>" in md  # inside a fence


# --- the markdown subset ------------------------------------------------------------------------


def test_markdown_subset() -> None:
    html = markdown_to_html(
        "# Title\n\nSome **bold**, *it*, `code` and snake_case_name.\n\n"
        "- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n```sql\nSELECT 1 < 2\n```\n\n"
        "| a | b |\n|---|--:|\n| 1 | <x> |\n"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<em>it</em>" in html
    assert "<code>code</code>" in html
    assert "snake_case_name" in html  # underscores inside words are not emphasis
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<blockquote><p>quoted</p></blockquote>" in html
    assert '<pre><code class="language-sql">SELECT 1 &lt; 2</code></pre>' in html
    assert "<th>a</th><th>b</th>" in html
    assert "<td>&lt;x&gt;</td>" in html


# --- tables ---------------------------------------------------------------------------------------


def big_table() -> Table:
    rows: list[list[Any]] = [[i, f"r{i}", i / 3, i % 2 == 0, None] for i in range(50)]
    headers = ["id", "name", "third", "even", "none"]
    return Table(id="t", headers=headers, rows=rows, sql="SELECT *", row_count=500)


def test_table_html_previews_rows_and_says_how_many() -> None:
    html = table_html(big_table(), max_rows=5)
    assert html.count("<tr>") == 6  # header + 5
    assert "5 of 500 rows" in html
    assert "SELECT *" in html
    # Display only: numbers right-aligned, the same decimals on every row of a column.
    assert (
        '<td class="trellis-num" style="text-align:right;font-variant-numeric:tabular-nums">1.33</td>' in html
    )
    assert '<td style="text-align:left">r1</td>' in html
    assert big_table().df["third"].iloc[1] == 1 / 3  # the DataFrame keeps the raw value


def test_table_html_numbers_have_separators_and_one_decimal_count_per_column() -> None:
    table = Table(
        id="t",
        headers=["region", "revenue", "year", "orders"],
        rows=[["East", 5639062.2, 2025, 1200], ["West", 4382447.97, 2024, 7], ["North", None, 2023, 0]],
    )
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table_html(table))
    assert cells == [
        "East",
        "5,639,062.20",
        "2025",
        "1,200",
        "West",
        "4,382,447.97",
        "2024",
        "7",
        "North",
        "null",
        "2023",
        "0",
    ]


def test_table_markdown_has_a_pipe_table_note_and_sql() -> None:
    md = table_markdown(big_table(), max_rows=3)
    lines = md.splitlines()
    assert lines[0] == "| id | name | third | even | none |"
    assert lines[1] == "|---|---|---|---|---|"
    assert lines[2] == "| 0 | r0 | 0 | true | null |"
    assert "*3 of 500 rows*" in md
    assert "```sql\nSELECT *\n```" in md


def test_table_markdown_escapes_pipes_and_markup() -> None:
    t = Table(id="t", headers=["a|b"], rows=[["x|y <b> *z*\nnext"]], sql="SELECT '```'")
    md = table_markdown(t)
    assert "a\\|b" in md
    assert "x\\|y \\<b\\> \\*z\\* next" in md
    assert "````sql\nSELECT '```'\n````" in md  # the fence outlasts the SQL's backticks


def test_table_text_is_aligned() -> None:
    text = table_text(big_table(), max_rows=2)
    lines = text.splitlines()
    assert lines[0].split() == ["id", "name", "third", "even", "none"]
    assert lines[-1] == "(2 of 500 rows)"


# --- whole answers ------------------------------------------------------------------------------


def test_answer_bundle_holds_text_tables_and_charts() -> None:
    chart = parse_event(
        "visualization",
        {
            "id": "c9",
            "type": "chart",
            "chart_type": "donut",
            "title": "Share",
            "data": {"values": [{"text": "A", "value": 1}, {"text": "B", "value": 2}]},
        },
    )
    assert isinstance(chart, Visualization)
    answer = answer_with("**Orders** by region", big_table(), chart.payload)
    bundle = answer_mimebundle(answer)
    assert set(bundle) == {"text/plain", "text/markdown", "text/html"}
    assert bundle["text/plain"].startswith("Orders by region")  # plain text: no markdown markers
    assert "(10 of 500 rows)" in bundle["text/plain"]
    assert "[donut chart: Share (2 points)]" in bundle["text/plain"]
    assert "| id | name |" in bundle["text/markdown"]
    html = bundle["text/html"]
    assert "<strong>Orders</strong>" in html
    assert html.count('<img src="data:image/svg+xml;base64,') == 1
    assert_inert(html)
    assert answer._repr_mimebundle_() == bundle


def test_error_and_interruption_are_stated() -> None:
    err = ErrorEvent(error="The query timed out <b>", code="QUERY_TIMEOUT")
    bundle = answer_mimebundle(answer_with("partial text", error=err))
    assert "Error [QUERY_TIMEOUT]: The query timed out <b>" in bundle["text/plain"]
    assert "partial text" in bundle["text/plain"]
    assert_inert(bundle["text/html"])
    assert "&lt;b&gt;" in bundle["text/html"]
    answer = Answer("q")
    answer.feed(TextDelta(content="half"))
    answer.mark_interrupted()
    assert answer_mimebundle(answer)["text/plain"].endswith("Stopped: the answer above is partial.")


def test_status_html_escapes() -> None:
    html = status_html("<b>thinking</b>", detail="<i>")
    assert "<b>" not in html
    assert "&lt;b&gt;thinking&lt;/b&gt;" in html
    assert "error" in status_html("error")


# --- plain text ---------------------------------------------------------------------------------


def test_plain_text_reads_without_markdown_markers() -> None:
    from trellis_jupyter.sanitize import markdown_to_plain

    text = (
        "## Orders\n**East** led with *762* orders, __West__ ~~second~~; see [docs](https://x.example) "
        "and `SELECT 1`.\n- snake_case_name and 3*4*5 stay\n```sql\nSELECT **x**\n```"
    )
    assert markdown_to_plain(text) == (
        "Orders\nEast led with 762 orders, West second; see docs (https://x.example) "
        "and SELECT 1.\n- snake_case_name and 3*4*5 stay\nSELECT **x**"
    )
    answer = answer_with("**Orders** by region")
    assert str(answer) == "Orders by region"  # print(answer)
    assert answer_mimebundle(answer)["text/markdown"].startswith("**Orders**")  # markdown stays markdown


@pytest.mark.timeout(60)  # the patterns are linear: a quadratic one would take far longer
def test_plain_text_of_hostile_markdown_is_bounded() -> None:
    from trellis_jupyter.sanitize import markdown_to_plain

    for text in ("**a " * 20000, "_" * 50000, "[" * 20000 + "](", "`" * 30000, "\ud800**x**", ""):
        assert len(markdown_to_plain(text)) <= len(text)
