"""Static renderings of answers, tables and charts: text/plain, text/markdown and text/html.

Everything from the server is data: answer text goes through :mod:`trellis_jupyter.sanitize`
(escaped, then a small markdown subset), table cells and column names are escaped, and charts
appear in HTML as an ``<img>`` with a ``data:`` URI of the SVG vl-convert made offline, so no
server string is ever run. The interactive chart bundle (:func:`chart_mimebundle`, Vega-Lite v5)
is displayed separately by the magic and the widget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .events import Chart, Table
from .sanitize import escape, escape_markdown, markdown_to_html, markdown_to_plain

if TYPE_CHECKING:
    from .answer import Answer

__all__ = [
    "MAX_ROWS_HTML",
    "MAX_ROWS_MARKDOWN",
    "MAX_ROWS_TEXT",
    "STOPPED",
    "answer_mimebundle",
    "chart_html",
    "chart_mimebundle",
    "chart_text",
    "format_cell",
    "status_html",
    "table_html",
    "table_markdown",
    "table_text",
]

STOPPED = "Stopped: the answer above is partial."
MAX_ROWS_HTML = 20
MAX_ROWS_MARKDOWN = 20
MAX_ROWS_TEXT = 10
_MAX_CELL_CHARS = 200

_CSS = (
    "<style>"
    ".trellis-answer table.trellis-table{border-collapse:collapse;font-size:12px;margin:4px 0}"
    ".trellis-answer table.trellis-table th,.trellis-answer table.trellis-table td"
    "{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}"
    ".trellis-answer table.trellis-table .trellis-num{text-align:right;font-variant-numeric:tabular-nums}"
    ".trellis-answer .trellis-null{color:#999;font-style:italic}"
    # JupyterLab's theme colours where there are some (its dark theme too), fixed greys elsewhere.
    ".trellis-answer .trellis-meta{color:var(--jp-ui-font-color2,#666);font-size:11px}"
    ".trellis-answer .trellis-status{color:var(--jp-ui-font-color1,#555);font-size:12px}"
    ".trellis-answer .trellis-error{color:#b00020}"
    ".trellis-history li{margin-bottom:8px}.trellis-history li p{margin:2px 0}"
    "</style>"
)


def format_cell(value: Any) -> str:
    """A cell as text: JSON spelling for null and booleans, floats without noise, long text cut."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    text = str(value)
    return text if len(text) <= _MAX_CELL_CHARS else text[: _MAX_CELL_CHARS - 1] + "…"


def _rows_note(shown: int, table: Table) -> str:
    total = table.total_rows
    note = f"{shown:,} of {total:,} rows" if shown < total else f"{total:,} row{'s' if total != 1 else ''}"
    if table.truncated and table.row_count is None:
        note += " (the server cut the result)"
    return note


# --- tables -----------------------------------------------------------------------------------


def table_html(table: Table, max_rows: int = MAX_ROWS_HTML, *, show_sql: bool = True) -> str:
    """The table as an HTML ``<table>`` (first ``max_rows`` rows), every name and cell escaped."""
    rows = table.rows[:max_rows]
    parts = ['<div class="trellis-table-wrap">']
    if table.title:
        parts.append(f"<div><strong>{escape(table.title)}</strong></div>")
    formats = [
        _column_format(table.headers[j] if j < len(table.headers) else "", rows, j)
        for j in range(_width(table))
    ]
    parts.append('<table class="trellis-table"><thead><tr>')
    parts.extend(
        f"<th{_RIGHT if j < len(formats) and formats[j] else _LEFT}>{escape(h)}</th>"
        for j, h in enumerate(table.headers)
    )
    parts.append("</tr></thead><tbody>")
    for row in rows:
        parts.append("<tr>")
        for j, cell in enumerate(row):
            number_format = formats[j] if j < len(formats) else None
            if cell is None:
                parts.append('<td class="trellis-null">null</td>')
            elif number_format is not None and _is_number(cell):
                parts.append(f"<td{_RIGHT}>{escape(number_format.format(cell))}</td>")
            else:
                parts.append(f"<td{_LEFT}>{escape(format_cell(cell))}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    parts.append(f'<div class="trellis-meta">{escape(_rows_note(len(rows), table))}</div>')
    if show_sql and table.sql:
        parts.append(
            '<details class="trellis-sql"><summary>SQL</summary>'
            f'<pre><code class="language-sql">{escape(table.sql)}</code></pre></details>'
        )
    parts.append("</div>")
    return "".join(parts)


# Inline: a table output has no stylesheet of its own, and JupyterLab right-aligns every cell.
_RIGHT = ' class="trellis-num" style="text-align:right;font-variant-numeric:tabular-nums"'
_LEFT = ' style="text-align:left"'


def _width(table: Table) -> int:
    return max([len(table.headers), *(len(row) for row in table.rows[:1])])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# Columns whose numbers are names, not amounts: no thousands separators (2,025 is not a year).
_PLAIN_NUMBER_COLUMNS = re.compile(r"(year|(^|[\s_])id$|code|zip|phone)", re.IGNORECASE)
_MAX_DECIMALS = 4


def _column_format(header: Any, rows: Sequence[Sequence[Any]], j: int) -> str | None:
    """A ``str.format`` pattern for a column of numbers (``None`` for any other column): thousands
    separators and the same decimals on every row (as many as its cells need, at most 2 once
    values reach 1, else up to 4). Display only: DataFrames keep the raw values."""
    values = [row[j] for row in rows if j < len(row) and row[j] is not None]
    if not values or not all(_is_number(v) for v in values):
        return None
    decimals = 0
    for v in values:
        if isinstance(v, float) and v != int(v):
            digits = f"{v:.{_MAX_DECIMALS}f}".rstrip("0").split(".")[1]
            decimals = max(decimals, len(digits))
    if decimals and max(abs(v) for v in values) >= 1:
        decimals = min(decimals, 2)
    separator = "" if _PLAIN_NUMBER_COLUMNS.search(str(header)) else ","
    return f"{{:{separator}.{decimals}f}}"


def _fence(text: str, lang: str = "") -> str:
    # A fence longer than any run of backticks inside, so the SQL cannot close it early.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}{lang}\n{text}\n{marker}"


def table_markdown(table: Table, max_rows: int = MAX_ROWS_MARKDOWN, *, show_sql: bool = True) -> str:
    """The table as a markdown pipe table (first ``max_rows`` rows), "N of M rows", and its SQL."""
    rows = table.rows[:max_rows]
    lines = []
    if table.title:
        lines += [f"**{escape_markdown(table.title)}**", ""]
    if table.headers:
        lines.append("| " + " | ".join(escape_markdown(h) or " " for h in table.headers) + " |")
        lines.append("|" + "---|" * len(table.headers))
        for row in rows:
            lines.append("| " + " | ".join(escape_markdown(format_cell(c)) for c in row) + " |")
    lines += ["", f"*{_rows_note(len(rows), table)}*"]
    if show_sql and table.sql:
        lines += ["", _fence(table.sql, "sql")]
    return "\n".join(lines)


def table_text(table: Table, max_rows: int = MAX_ROWS_TEXT) -> str:
    """A plain-text preview: aligned columns, first ``max_rows`` rows, then "N of M rows"."""
    rows = [[format_cell(c).replace("\n", " ") for c in row] for row in table.rows[:max_rows]]
    headers = [str(h) for h in table.headers]
    widths = [len(h) for h in headers]
    for row in rows:
        for j, cell in enumerate(row[: len(widths)]):
            widths[j] = min(max(widths[j], len(cell)), 40)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    out = [f"{table.title}:"] if table.title else []
    out += [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    out.append(f"({_rows_note(len(rows), table)})")
    return "\n".join(out)


# --- charts -----------------------------------------------------------------------------------


def chart_text(chart: Chart) -> str:
    """A one-line description of a chart payload."""
    kind = chart.chart_type.replace("_", " ")
    parts = [f"[{kind} chart"]
    if chart.title:
        parts.append(f": {chart.title}")
    n = len(chart.values)
    parts.append(f" ({n:,} point{'s' if n != 1 else ''}")
    if chart.series:
        parts.append(f", {len(chart.series)} series")
    parts.append(")]")
    return "".join(parts)


def chart_mimebundle(chart: Chart | Any) -> dict[str, Any]:
    """See :func:`trellis_jupyter.charts.chart_mimebundle` (imported here on first use)."""
    from .charts import chart_mimebundle as bundle_of

    return bundle_of(chart)


def chart_html(chart: Chart | Any) -> str:
    """The chart as a static ``<img>`` (a ``data:`` URI of its offline SVG); a caption if no image."""
    # charts.py imports Altair, which can take seconds: a text-only answer must not wait for it.
    from .charts import describe_spec, svg_data_uri

    bundle = chart_mimebundle(chart)
    svg = bundle.get("image/svg+xml")
    alt_text = chart_text(chart) if isinstance(chart, Chart) else describe_spec(bundle[next(iter(bundle))])
    if svg is None:
        return f'<div class="trellis-meta">{escape(alt_text)}</div>'
    return f'<div class="trellis-chart"><img src="{svg_data_uri(svg)}" alt="{escape(alt_text)}"></div>'


# --- status and answers -----------------------------------------------------------------------


def status_html(status: str | None, detail: str | None = None) -> str:
    """A one-line status (``thinking``, ``error``...), escaped; ``detail`` follows it."""
    label = escape(status or "starting")
    cls = "trellis-status trellis-error" if status == "error" else "trellis-status"
    extra = f" — {escape(detail)}" if detail else ""
    return f'<div class="{cls}">{label}{extra}</div>'


def _state_line(answer: Answer) -> str | None:
    if answer.error is not None:
        code = f" [{answer.error.code}]" if answer.error.code else ""
        return f"Error{code}: {answer.error.error}"
    if answer.interrupted:
        return STOPPED
    if not answer.done:
        return f"Status: {answer.status or 'starting'} (still streaming)"
    return None


def answer_mimebundle(answer: Answer) -> dict[str, Any]:
    """text/plain, text/markdown and text/html renderings of an answer, safe for any content."""
    text = answer.text
    state = _state_line(answer)
    tables, charts = answer.tables, answer.charts

    plain = [markdown_to_plain(text)] if text else []
    plain += [table_text(t) for t in tables]
    plain += [chart_text(c) for c in charts]
    if state:
        plain.append(state)

    md = [_markdown_text(text)] if text else []
    md += [table_markdown(t) for t in tables]
    md += [f"*{escape_markdown(chart_text(c))}*" for c in charts]
    if state:
        md.append(f"*{escape_markdown(state)}*")

    body = [markdown_to_html(text)] if text else []
    body += [table_html(t) for t in tables]
    body += [chart_html(c) for c in charts]
    if state:
        # One plain line: the state says it all (no "interrupted — Interrupted…").
        cls = "trellis-status trellis-error" if answer.error is not None else "trellis-status"
        body.append(f'<div class="{cls}">{escape(state)}</div>')
    html = _CSS + '<div class="trellis-answer">' + "\n".join(body) + "</div>"
    return {"text/plain": "\n\n".join(plain), "text/markdown": "\n\n".join(md), "text/html": html}


def visual_summary(answer: Answer) -> str:
    """ "1 table, 1 chart": what an answer showed beside its text ("" for none)."""
    parts = []
    for count, noun in ((len(answer.tables), "table"), (len(answer.charts), "chart")):
        if count:
            parts.append(f"{count} {noun}{'' if count == 1 else 's'}")
    return ", ".join(parts)


def history_bundle(pairs: Sequence[tuple[str, Answer]]) -> dict[str, Any]:
    """A chat's questions and answers (``%trellis history``): numbered plain text, and HTML whose
    answers render their markdown (sanitized) and wrap between words in a narrow output."""
    plain: list[str] = []
    items: list[str] = []
    for number, (question, answer) in enumerate(pairs, 1):
        files = ", ".join(u.filename for u in answer.uploads)
        attached = f"  (attached: {files})" if files else ""
        extras = visual_summary(answer)
        plain.append(f"[{number}] Q: {question}{attached}")
        plain.append(_indent(markdown_to_plain(answer.text) or "(no text)", "    A: "))
        if extras:
            plain.append(f"    ({extras})")
        body = markdown_to_html(answer.text) if answer.text else "<p>(no text)</p>"
        note = f'<div class="trellis-status">{escape(extras)}</div>' if extras else ""
        files_html = f' <span class="trellis-status">(attached: {escape(files)})</span>' if files else ""
        items.append(f"<li><p><strong>{escape(question)}</strong>{files_html}</p>{body}{note}</li>")
    html = _CSS + '<ol class="trellis-answer trellis-history">' + "\n".join(items) + "</ol>"
    return {"text/plain": "\n".join(plain), "text/html": html}


def _indent(text: str, first: str) -> str:
    pad = " " * len(first)
    lines = text.splitlines() or [""]
    return "\n".join([first + lines[0], *(pad + line for line in lines[1:])])


def _markdown_text(text: str) -> str:
    """The answer's markdown with raw HTML neutralized (``&`` and ``<`` outside code as entities),
    so a markdown renderer shows tags and entities as the text they are."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        stripped = line.lstrip()
        if fence is not None:
            out.append(line)
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            out.append(line)
            continue
        pieces = line.split("`")
        # Even pieces are outside inline code spans; after an unmatched backtick, so is the tail.
        last = len(pieces) - 1
        for j, piece in enumerate(pieces):
            if j % 2 == 0 or (j == last and last % 2 == 1):
                pieces[j] = piece.replace("&", "&amp;").replace("<", "&lt;")
        out.append("`".join(pieces))
    return "\n".join(out)
