"""Saved-query SQL: ``{{name}}`` placeholders found, and turned into SQLite named parameters.

A placeholder stands for one value: ``WHERE strftime('%Y', order_date) = {{year}} LIMIT {{limit}}``
runs as ``... = :year LIMIT :limit`` with the values bound by SQLite, never pasted into the SQL
text, so a value such as ``1; DROP TABLE orders`` is only ever compared as a value. A placeholder
inside a quoted string or identifier cannot be bound and is refused when the query is saved.
"""

from __future__ import annotations

import re

__all__ = ["PlaceholderError", "bind_sql", "parameters_of"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Quoted strings and identifiers, comments, and placeholders, scanned left to right.
_TOKEN = re.compile(
    r"""'(?:[^']|'')*'? | "(?:[^"]|"")*"? | `[^`]*`? | \[[^\]]*\]? | --[^\n]* | /\*.*?(?:\*/|$)"""
    r"""| \{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}""",
    re.X | re.S,
)


class PlaceholderError(ValueError):
    """A placeholder that cannot be bound (inside quotes)."""


def parameters_of(sql: str | None) -> list[str]:
    """The distinct placeholder names of ``sql``, in order of first use."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(sql or "")))


def bind_sql(sql: str) -> str:
    """``sql`` with each ``{{name}}`` as ``:name``; :class:`PlaceholderError` for one inside quotes."""
    pieces: list[str] = []
    last = 0
    for match in _TOKEN.finditer(sql):
        name = match.group(1)
        if name is None:
            quoted = _PLACEHOLDER.search(match.group(0))
            if quoted and not match.group(0).startswith(("--", "/*")):
                name = "{{" + quoted.group(1) + "}}"
                raise PlaceholderError(
                    f"{name} is inside quotes: write it bare (its value is bound as a SQL value), "
                    f"e.g. date >= {name} rather than '{name}'."
                )
            continue
        pieces.append(sql[last : match.start()])
        pieces.append(f":{name}")
        last = match.end()
    pieces.append(sql[last:])
    return "".join(pieces)
