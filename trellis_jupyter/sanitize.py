"""Untrusted markdown to safe HTML: escape everything first, then apply a small markdown subset.

Nothing the server sends is ever passed through as markup: the whole text is HTML-escaped before
any markdown rule runs, so ``<script>``, ``onerror=`` attributes and entities such as ``&lt;``
show up as the characters they are. The subset: headings, paragraphs, bold, italic, strike,
inline code, fenced code blocks, bullet and numbered lists, block quotes, rules, pipe tables, and
links whose target is ``http``, ``https`` or ``mailto`` (opened with ``rel="noopener noreferrer"``
and ``target="_blank"``); any other link is shown as its text.

Rendering is bounded whatever the text: block quotes nest at most :data:`MAX_QUOTE_DEPTH` deep
(deeper markers show as text), and every inline pattern is written so that a match attempt stops
at the next delimiter of its kind, so that the time taken grows linearly with the text's length
(``"**a " * 20000`` once took 18 s, ``"> " * 1000`` raised RecursionError).
"""

from __future__ import annotations

import html
import re

__all__ = ["escape", "escape_markdown", "markdown_to_html", "markdown_to_plain", "safe_url"]

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)\d{1,9}[.)]\s+(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^\s{0,3}&gt;\s?(.*)$")  # the line is already escaped
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")

# Each span's content cannot hold its own opening delimiter, so a failed attempt ends at the next
# one instead of scanning to the end of the line (which made "**a " * 20000 quadratic).
_CODE_SPAN = re.compile(r"(`+)((?:[^`]|`(?!\1))+?)\1")
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(\s*([^\s()]+)\s*\)")
_BOLD = re.compile(r"\*\*(?=\S)((?:[^*]|\*(?!\*))+?)(?<=\S)\*\*|__(?=\S)((?:[^_]|_(?!_))+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?!\*)|(?<![_\w])_(?=\S)([^_]+?)(?<=\S)_(?![_\w])")
_STRIKE = re.compile(r"~~(?=\S)((?:[^~]|~(?!~))+?)(?<=\S)~~")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")

_SAFE_SCHEMES = ("http://", "https://", "mailto:")
MAX_QUOTE_DEPTH = 8  # deeper block quotes show their markers as text
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>&|~!#])")


def escape(text: object) -> str:
    """HTML-escape any value (quotes too, so the result is safe inside an attribute)."""
    return html.escape(str(text), quote=True)


def escape_markdown(text: object) -> str:
    """Backslash-escape what markdown or HTML would interpret, so a value shows as typed."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\r", " ").replace("\n", " ")


def safe_url(url: str) -> str | None:
    """The URL if its scheme is http, https or mailto, else ``None``. ``url`` is raw (unescaped)."""
    cleaned = "".join(ch for ch in url if ch > " ")  # "java\tscript:" is still javascript:
    return cleaned if cleaned.lower().startswith(_SAFE_SCHEMES) else None


def _inline(escaped: str) -> str:
    """Inline markdown over text that is already HTML-escaped."""
    spans: list[str] = []

    def stash(fragment: str) -> str:
        spans.append(fragment)
        return f"\x00{len(spans) - 1}\x00"

    text = escaped.replace("\x00", "")
    text = _CODE_SPAN.sub(lambda m: stash(f"<code>{m.group(2).strip()}</code>"), text)

    def link(m: re.Match[str]) -> str:
        label, target = m.group(1), m.group(2)
        url = safe_url(html.unescape(target))
        if url is None:
            return stash(label)  # the text stays, the link does not
        return stash(
            f'<a href="{escape(url)}" rel="noopener noreferrer" target="_blank">{_emphasis(label)}</a>'
        )

    text = _LINK.sub(link, text)
    text = _emphasis(text)
    while _PLACEHOLDER.search(text):
        text = _PLACEHOLDER.sub(lambda m: spans[int(m.group(1))], text)
    return text


def _emphasis(text: str) -> str:
    text = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    text = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)
    return _STRIKE.sub(lambda m: f"<del>{m.group(1)}</del>", text)


def markdown_to_plain(text: str) -> str:
    """The markdown as plain text, for text/plain, terminals and ``%trellis history``: bold, italic,
    strike and code markers go (``**East**`` reads East), a link reads ``label (url)``, heading
    hashes and code fences go; list markers, quotes and table pipes stay (they read as text).
    Line by line, so a prefix of a streaming text gives a prefix of the result once whole lines
    are taken. Same bounded patterns as :func:`markdown_to_html`."""
    out: list[str] = []
    in_fence = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            line = _heading_text(heading.group(2))
        out.append(_plain_inline(line))
    return "\n".join(out)


def _plain_inline(line: str) -> str:
    spans: list[str] = []

    def stash(fragment: str) -> str:
        spans.append(fragment)
        return f"\x00{len(spans) - 1}\x00"

    text = line.replace("\x00", "")
    text = _CODE_SPAN.sub(lambda m: stash(m.group(2).strip()), text)
    text = _LINK.sub(lambda m: stash(f"{_plain_emphasis(m.group(1))} ({m.group(2)})"), text)
    text = _plain_emphasis(text)
    while _PLACEHOLDER.search(text):
        text = _PLACEHOLDER.sub(lambda m: spans[int(m.group(1))], text)
    return text


def _plain_emphasis(text: str) -> str:
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ITALIC.sub(lambda m: m.group(1) or m.group(2), text)
    return _STRIKE.sub(lambda m: m.group(1), text)


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def markdown_to_html(text: str) -> str:
    """Render untrusted markdown as safe HTML (see the module docstring)."""
    return _render(escape(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"), 0)


def _heading_text(raw: str) -> str:
    # The closing hashes of "## Title ##" go; done with str methods, not a backtracking pattern.
    text = raw.rstrip()
    stripped = text.rstrip("#")
    if stripped != text and (not stripped or stripped[-1].isspace()):
        text = stripped
    return text.strip()


def _render(lines: list[str], depth: int) -> str:
    """Markdown lines (already HTML-escaped) as HTML; ``depth`` counts enclosing block quotes."""
    out: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            out.append("<p>" + "<br>\n".join(_inline(p) for p in paragraph) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush()
            marker, lang = fence.group(1), fence.group(2)
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append(lines[i])
                i += 1
            cls = f' class="language-{lang}"' if lang else ""
            out.append(f"<pre><code{cls}>" + "\n".join(body) + "</code></pre>")
            i += 1
            continue
        if not line.strip():
            flush()
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(_heading_text(heading.group(2)))}</h{level}>")
            i += 1
            continue
        if _RULE.match(line):
            flush()
            out.append("<hr>")
            i += 1
            continue
        if "|" in line and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1]) and "-" in lines[i + 1]:
            flush()
            head = _cells(line)
            rows: list[list[str]] = []
            i += 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            header = "".join(f"<th>{_inline(c)}</th>" for c in head)
            parts = ["<table>", f"<thead><tr>{header}</tr></thead>", "<tbody>"]
            for row in rows:
                row = (row + [""] * len(head))[: len(head)]
                parts.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>")
            parts.append("</tbody></table>")
            out.append("".join(parts))
            continue
        if depth < MAX_QUOTE_DEPTH and _QUOTE.match(line):
            flush()
            quoted: list[str] = []
            while i < len(lines) and (m := _QUOTE.match(lines[i])):
                quoted.append(m.group(1))  # still escaped: rendered as it is, one level deeper
                i += 1
            out.append("<blockquote>" + _render(quoted, depth + 1) + "</blockquote>")
            continue
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if bullet or numbered:
            flush()
            tag, pattern = ("ul", _BULLET) if bullet else ("ol", _NUMBERED)
            items: list[str] = []
            while i < len(lines) and (m := pattern.match(lines[i])):
                item = [_inline(m.group(2))]
                i += 1
                # A lazy continuation line belongs to the item above (pieces joined once: linear).
                while (
                    i < len(lines)
                    and lines[i].startswith(("  ", "\t"))
                    and not (_BULLET.match(lines[i]) or _NUMBERED.match(lines[i]))
                ):
                    item.append(_inline(lines[i].strip()))
                    i += 1
                items.append("<li>" + " ".join(item) + "</li>")
            out.append(f"<{tag}>" + "".join(items) + f"</{tag}>")
            continue
        paragraph.append(line)
        i += 1
    flush()
    return "\n".join(out)
