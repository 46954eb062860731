"""The chat widget's transcript as static HTML, for the ``text/html`` of its mimebundle.

A saved or exported notebook (nbviewer, ``jupyter nbconvert --to html``, GitHub) has no kernel and
usually no widget state, so it shows this instead of the live widget. Everything from the server
is escaped; charts are static SVG made offline by vl-convert, shown through ``<img>`` (an SVG in
an image runs no script).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["transcript_html"]

PREVIEW_ROWS = 10

_STYLE = (
    "font-family:var(--jp-content-font-family,system-ui,sans-serif);"
    "border:1px solid var(--jp-border-color1,#d0d7de);border-radius:6px;padding:8px 10px;"
)
_NOTES = {"interrupted": "Stopped: partial answer.", "queued": "Queued.", "streaming": "Still streaming."}


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(viz: Mapping[str, Any]) -> str:
    """The same HTML table as the magic's output (render.table_html): one function for both, so
    numbers read alike (separators, decimals per column, aligned right) and cells are escaped once."""
    from .events import Table, parse_visualization
    from .render import table_html

    try:
        table = parse_visualization(dict(viz))
    except ValueError:
        table = None
    if not isinstance(table, Table):
        return "<div><i>[a table this page cannot show]</i></div>"
    return table_html(table, PREVIEW_ROWS)


def _chart(viz: Mapping[str, Any]) -> str:
    title = _text(viz.get("title") or "chart")
    spec = viz.get("spec")
    if isinstance(spec, Mapping):
        try:
            from .charts import spec_to_svg, svg_data_uri, to_v5_spec

            svg = spec_to_svg(to_v5_spec(spec))
        except ImportError:  # pragma: no cover
            svg = None
        if svg:
            return f'<img alt="{title}" src="{svg_data_uri(svg)}">'
    return f"<div><i>[chart: {title}]</i></div>"


def _entry(entry: Mapping[str, Any]) -> str:
    who = "You" if entry.get("role") == "user" else "Trellis"
    parts = [f'<div style="white-space:pre-wrap"><b>{who}:</b> {_text(entry.get("text"))}</div>']
    files = [a.get("filename") for a in entry.get("attachments") or [] if isinstance(a, Mapping)]
    if files:
        parts.append(f"<div><small>Attached: {_text(', '.join(str(f) for f in files))}</small></div>")
    for viz in entry.get("visualizations") or []:
        if isinstance(viz, Mapping):
            parts.append(_table(viz) if viz.get("type") == "table" else _chart(viz))
    note = _NOTES.get(str(entry.get("status") or ""))
    if entry.get("error"):
        note = str(entry["error"])
    if note:
        parts.append(f"<div><small><i>{_text(note)}</i></small></div>")
    saved = entry.get("saved_query")
    if isinstance(saved, Mapping) and saved.get("title"):
        parts.append(f"<div><small>Saved as query “{_text(saved['title'])}”</small></div>")
    return '<div style="margin:6px 0">' + "".join(parts) + "</div>"


def transcript_html(entries: Sequence[Mapping[str, Any]]) -> str:
    """The transcript as a self-contained HTML block (no script, no external resource)."""
    body = "".join(_entry(e) for e in entries) or "<div><i>No questions yet.</i></div>"
    return f'<div class="trellis-chat-transcript" style="{_STYLE}"><div><b>Trellis chat</b></div>{body}</div>'
