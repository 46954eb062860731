"""Questions about the database itself, and the help given when a question cannot be answered.

"what tables are there", "describe orders", "what columns does products have" are answered from
the schema (no query). A declined question gets a message naming what was understood and two or
three example questions built from this database's own tables and columns.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from trellis_jupyter.events import Table
from trellis_jupyter.local.planner.lexicon import singular, tokens
from trellis_jupyter.local.planner.parse import Parsed
from trellis_jupyter.local.planner.resolve import money_measure, resolve_table
from trellis_jupyter.local.planner.schema import Schema, TableInfo
from trellis_jupyter.local.planner.text import filter_text, noun, pretty_range

__all__ = ["describe_answer", "example_questions", "help_text", "schema_request", "tables_answer"]

_TABLES = re.compile(
    r"\b(what|which|list|show|name)\b.*\btables\b|\btables (are|do|does|exist)"
    r"|\b(database|db) (schema|structure)\b"
    r"|^(schema|tables)$|\bwhat('s| is) in (the|this) (database|db)\b"
)
_DESCRIBE = re.compile(
    r"^(?:describe|explain|schema of|structure of)\s+(?:the\s+)?(?:table\s+)?([a-z0-9_ ]+?)(?:\s+table)?$"
    r"|\b(?:columns?|fields?)\s+(?:of|in|does|do|are in|for)\s+(?:the\s+)?(?:table\s+)?"
    r"([a-z0-9_]+(?: [a-z0-9_]+)?)"
    r"|\bwhat(?:'s| is) in (?:the\s+)?(?:table\s+)?([a-z0-9_]+)"
)


def schema_request(question: str, schema: Schema) -> tuple[str, str | None] | None:
    """("tables", None) or ("describe", table) when the question is about the schema itself."""
    text = " ".join(tokens(question))
    m = _DESCRIBE.search(text)
    if m:
        phrase = next(g for g in m.groups() if g)
        words = [w for w in phrase.split() if w not in ("have", "has", "table", "contain", "contains")]
        table = resolve_table(schema, words) if words else None
        if table is None and words:
            table = resolve_table(schema, words[:1])
        if table is not None:
            return ("describe", table)
    if _TABLES.search(text):
        return ("tables", None)
    return None


def _column_summary(info: TableInfo) -> str:
    return ", ".join(c.name for c in info.columns)


def tables_answer(schema: Schema, table_id: str) -> tuple[str, Table]:
    lines = [f"This database has {len(schema.tables)} tables:", ""]
    rows: list[list[str | int | float | bool | None]] = []
    for info in schema.tables.values():
        lines.append(f"- **{info.name}** ({info.row_count:,} rows): {_column_summary(info)}")
        rows.append([info.name, info.row_count, _column_summary(info)])
    table = Table(
        id=table_id,
        headers=["table", "rows", "columns"],
        rows=rows,
        title="Tables",
        row_count=len(rows),
        truncated=False,
    )
    return "\n".join(lines), table


def describe_answer(schema: Schema, name: str, table_id: str) -> tuple[str, Table]:
    info = schema.tables[name]
    rows: list[list[str | int | float | bool | None]] = []
    lines = [f"**{name}** has {info.row_count:,} rows and {len(info.columns)} columns:", ""]
    for c in info.columns:
        key = "primary key" if c.pk else ("foreign key" if c.ref else "")
        refs = f"{c.ref[0]}.{c.ref[1]}" if c.ref else ""
        examples = ", ".join(c.values[:8]) + (", …" if len(c.values) > 8 else "")
        rows.append([c.name, c.decl_type or c.kind, c.kind, key, refs, examples])
        detail = f"{c.kind}" + (f", {key}" if key else "") + (f" → {refs}" if refs else "")
        lines.append(f"- `{c.name}` ({detail})" + (f": {examples}" if examples else ""))
    table = Table(
        id=table_id,
        headers=["column", "type", "kind", "key", "references", "values"],
        rows=rows,
        title=f"Columns of {name}",
        row_count=len(rows),
        truncated=False,
    )
    return "\n".join(lines), table


def example_questions(schema: Schema) -> list[str]:
    """Up to three questions this planner answers on this schema, for its help and empty state:
    a count over time, a measure by a category, a ranking of named rows.

    Each is planned before it is offered: an example that the planner would decline (an odd table
    name, a link table, a column that names people) is worse than none.
    """
    examples: list[str] = []
    for kind in _example_candidates(schema):
        question = next((q for q in kind if _plans(schema, q)), None)
        if question is not None:
            examples.append(question)
    if len(examples) < 3 and schema.tables:
        examples.append(f"Describe {next(iter(schema.tables))}")
    return examples[:3]


def _example_candidates(schema: Schema) -> list[list[str]]:
    """Candidate questions of each kind, most telling first."""
    dated = sorted(
        (t for t in schema.tables.values() if t.date and not _is_link(t) and noun(t.name) != noun(t.name, 1)),
        key=lambda t: -t.row_count,
    )  # "How many inventory were there" does not read: a noun with no plural is left out
    kinds = [[f"How many {noun(t.name)} were there last month?" for t in dated[:3]]]
    measure = money_measure(schema) or next((m for m in schema.measures), None)
    if measure is None:
        return kinds
    near = functools.partial(_distance, schema, measure.table)
    categories = [
        (near(c.table) or 0, noun(c.name, 1))
        for c in schema.columns()
        if 2 <= len(c.values) <= 12
        and near(c.table) is not None
        and not any(c.table == m.table and c.name == m.header for m in schema.measures)
        and c.name not in schema.tables[c.table].label_sql  # a person's first name is not a category
        and len(c.values) < schema.tables[c.table].row_count  # nor is what every row has its own of
        and sum(any(ch.isdigit() for ch in v) for v in c.values) * 2 < len(c.values)  # nor a fax number
    ]
    # A small table of names that the measure's rows point to (genres, media types) is a category too.
    categories += [
        (len(path), noun(t.name, 1))
        for t in schema.tables.values()
        if 2 <= t.row_count <= 30
        and t.label_name != (t.pk or "rowid")
        and (path := schema.join_path(measure.table, t.name))
        and not any(step.fans for step in path)  # one row each: a sum over the join counts each once
    ]
    categories.sort(key=lambda c: c[0])
    agg = "Total" if measure.default_agg == "sum" else "Average"
    kinds.append([f"{agg} {measure.name} by {name}" for _, name in categories[:3]])
    named = [
        t
        for t in schema.tables.values()
        if t.name != measure.table and t.label_name != (t.pk or "rowid") and near(t.name) is not None
    ]
    named.sort(key=lambda t: near(t.name) or 0)
    kinds.append([f"Top 5 {noun(t.name)} by {measure.name}" for t in named[:3]])
    return kinds


def _is_link(table: TableInfo) -> bool:
    """A table that only links two others (film_actor): its rows are pairs, not things to count."""
    refs = [c for c in table.columns if c.ref is not None]
    own = [c for c in table.columns if c.ref is None and not c.pk and c.kind != "date"]
    return len(refs) >= 2 and not own


def _distance(schema: Schema, start: str, goal: str) -> int | None:
    path = schema.join_path(start, goal)
    return None if path is None else len(path)


def _plans(schema: Schema, question: str) -> bool:
    from trellis_jupyter.local.planner.build import Unanswerable, build_plan
    from trellis_jupyter.local.planner.parse import parse

    try:
        build_plan(schema, parse(question, schema, dt.date.today()))
    except Unanswerable:
        return False
    return True


def understood(parsed: Parsed) -> list[str]:
    """The pieces of a question that were recognised, in words."""
    parts = []
    if parsed.measure is not None:
        parts.append(f"the measure *{parsed.measure.name}*")
    if parsed.entities:
        parts.append(
            "the table"
            + ("s " if len(parsed.entities) > 1 else " ")
            + ", ".join(f"*{e}*" for e in parsed.entities)
        )
    if parsed.groups:
        parts.append(
            "grouping by "
            + ", ".join(g.split(".")[1].replace("@label", singular(g.split(".")[0])) for g in parsed.groups)
        )
    if parsed.filters:
        parts.append(
            ("the filters " if len(parsed.filters) > 1 else "the filter ")
            + ", ".join(f"*{filter_text(f)}*" for f in parsed.filters)
        )
    if parsed.range is not None:
        parts.append(f"the dates *{pretty_range(parsed.range.label)}*")
    if parsed.grain:
        parts.append(f"a {parsed.grain}ly breakdown" if parsed.grain != "day" else "a daily breakdown")
    return parts


def help_text(reason: str, parsed: Parsed | None, schema: Schema) -> str:
    lines = [reason]
    parts = understood(parsed) if parsed else []
    if parts:
        lines.append("")
        lines.append("I did understand " + "; ".join(parts) + ".")
    lines.append("")
    tables = ", ".join(f"**{t}**" for t in schema.tables)
    lines.append(f"This database has the tables {tables}. Questions I can answer here include:")
    lines.append("")
    lines.extend(f"- {q}" for q in example_questions(schema))
    return "\n".join(lines)
