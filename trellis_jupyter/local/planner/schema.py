"""What the planner knows about a database, read from the database itself.

``load_schema(path)`` reads tables, columns, declared types, primary and foreign keys, and the
distinct values of short text columns (so "East" or "cancelled" can be matched against the data),
and derives from them:

* the *kind* of each column (number, text, date, id) — dates are recognised by type or by value;
* a *label* for each table (``name``, ``title``, ``first_name || ' ' || last_name`` ...) used when a
  question groups or ranks by the table itself ("top 5 customers");
* a default *date column* per table, for date ranges and time series;
* *measures*: every numeric non-key column, plus a derived amount ``quantity * price`` when one
  table has both (named "revenue", with the synonyms of :data:`lexicon.MONEY_WORDS`).

Results are cached per path and file modification time; loading is guarded by a lock, so worker
threads share one copy.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections import deque
from dataclasses import dataclass, field

from trellis_jupyter.local.planner.lexicon import (
    AVG_DEFAULT_HINTS,
    DATE_PREFERENCE,
    LABEL_NAMES,
    MONEY_HINTS,
    PRICE_HINTS,
    QUANTITY_HINTS,
    words_of,
)

__all__ = ["Column", "Join", "Measure", "Schema", "TableInfo", "load_schema", "quote"]


def _words(text: str) -> frozenset[str]:
    """A word list written as one string."""
    return frozenset(text.split())


_MAX_VALUES = 60  # a text column with more distinct values than this is not a "category"
_MAX_VALUE_LENGTH = 40
_SAMPLE_ROWS = 200_000  # bound the distinct scan on big tables
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")
_SIMPLE_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SQL_WORDS = _words(
    "select from where group order by limit join on as and or not in is null table index values case when "
    "then else end having distinct union all left right inner outer cross natural"
)


def quote(name: str) -> str:
    """An identifier as SQL: bare when it is a plain word, double-quoted otherwise."""
    if _SIMPLE_IDENT.match(name) and name.lower() not in _SQL_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    decl_type: str
    kind: str  # "number", "text", "date" or "id"
    pk: bool = False
    ref: tuple[str, str] | None = None  # the (table, column) a foreign key points to
    values: tuple[str, ...] = ()  # distinct values, for short low-cardinality text columns

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}"

    @property
    def sql(self) -> str:
        return f"{quote(self.table)}.{quote(self.name)}"

    @property
    def words(self) -> tuple[str, ...]:
        return words_of(self.name)


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[Column, ...]
    pk: str | None
    row_count: int
    label_sql: str  # an SQL expression naming one row
    label_name: str  # the header for that expression
    date: str | None  # default date column

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def words(self) -> tuple[str, ...]:
        return words_of(self.name)


@dataclass(frozen=True)
class Measure:
    """Something to add up or average: a numeric column, or a derived product of two."""

    key: str  # "table.column" or "derived:table"
    name: str  # how it reads: "revenue", "unit price"
    header: str  # base header: "revenue", "unit_price"
    table: str
    sql: str  # expression over one row of ``table``
    words: tuple[tuple[str, ...], ...]  # word sequences that name it
    money: bool
    default_agg: str  # "sum" or "avg" when the question names no aggregate
    derived: bool = False


@dataclass(frozen=True)
class Join:
    """One step of a join path: ``left.left_col = right.right_col``; ``fans`` when right is the many side."""

    left: str
    left_col: str
    right: str
    right_col: str
    fans: bool


@dataclass
class Schema:
    path: str
    tables: dict[str, TableInfo]
    measures: list[Measure]
    values: dict[str, list[Column]] = field(default_factory=dict)  # lowered value -> columns

    def columns(self) -> list[Column]:
        return [c for t in self.tables.values() for c in t.columns]

    def measure(self, key: str) -> Measure | None:
        for measure in self.measures:
            if measure.key == key:
                return measure
        return None

    def join_path(self, start: str, goal: str) -> list[Join] | None:
        """The shortest chain of foreign-key joins from ``start`` to ``goal`` (None if unconnected)."""
        if start == goal:
            return []
        previous: dict[str, Join | None] = {start: None}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for step in self._edges(current):
                if step.right in previous:
                    continue
                previous[step.right] = step
                if step.right == goal:
                    path = []
                    node: str = goal
                    while (link := previous[node]) is not None:
                        path.append(link)
                        node = link.left
                    return path[::-1]
                queue.append(step.right)
        return None

    def _edges(self, table: str) -> list[Join]:
        edges = []
        for column in self.tables[table].columns:
            if column.ref and column.ref[0] in self.tables:
                edges.append(Join(table, column.name, column.ref[0], column.ref[1], fans=False))
        for other in self.tables.values():
            for column in other.columns:
                if column.ref and column.ref[0] == table:
                    edges.append(Join(table, column.ref[1], other.name, column.name, fans=True))
        return edges


# --- loading ----------------------------------------------------------------------------------

_cache: dict[str, tuple[tuple[int, ...], Schema]] = {}
_cache_lock = threading.Lock()


def load_schema(path: str, attached: str | None = None) -> Schema:
    """The schema of ``path`` and of a chat's ``attached`` uploads, cached until a file changes."""
    stat = os.stat(path)
    stamp: tuple[int, ...] = (stat.st_mtime_ns, stat.st_size)
    if attached is not None:
        extra = os.stat(attached)
        stamp += (extra.st_mtime_ns, extra.st_size)
    key = path if attached is None else f"{path}\0{attached}"
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        schema = _introspect(path, attached)
        _cache[key] = (stamp, schema)
        return schema


def _kind(decl: str, name: str, sample: list[object]) -> str:
    upper = decl.upper()
    if "DATE" in upper or "TIME" in upper:
        return "date"
    texts = [s for s in sample if isinstance(s, str)]
    if texts and all(_ISO_DATE.match(s) for s in texts):
        return "date"
    if any(t in upper for t in ("INT", "REAL", "FLOA", "DOUB", "NUM", "DEC")):
        return "number"
    if sample and all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in sample):
        return "number"
    return "text"


def _introspect(path: str, attached: str | None = None) -> Schema:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        masters = ["sqlite_master"]
        if attached is not None:
            # Upload tables are read by their plain names (the query runner attaches them the same way).
            con.execute("ATTACH DATABASE ? AS uploads", (f"file:{attached}?mode=ro",))
            masters.append("uploads.sqlite_master")
        names = [
            str(r[0])
            for master in masters
            for r in con.execute(
                f"SELECT name FROM {master} WHERE type IN ('table', 'view')"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        tables = {name: _table(con, name) for name in names}
    finally:
        con.close()
    schema = Schema(path=path, tables=tables, measures=_measures(tables))
    for column in schema.columns():
        for value in column.values:
            schema.values.setdefault(value.lower(), []).append(column)
    return schema


def _table(con: sqlite3.Connection, name: str) -> TableInfo:
    info = con.execute(f"PRAGMA table_info({quote(name)})").fetchall()
    refs = {
        str(row[3]): (str(row[2]), str(row[4]) if row[4] else "id")
        for row in con.execute(f"PRAGMA foreign_key_list({quote(name)})").fetchall()
    }
    row_count = int(con.execute(f"SELECT COUNT(*) FROM {quote(name)}").fetchone()[0])
    columns = []
    pk = None
    for _cid, col_name, decl, _notnull, _default, pk_pos in info:
        col_name, decl = str(col_name), str(decl or "")
        sample = [
            r[0]
            for r in con.execute(
                f"SELECT {quote(col_name)} FROM {quote(name)} WHERE {quote(col_name)} IS NOT NULL LIMIT 20"
            )
        ]
        kind = _kind(decl, col_name, sample)
        is_pk = bool(pk_pos)
        if is_pk and pk is None:
            pk = col_name
        ref = refs.get(col_name)
        if is_pk or ref or col_name.lower().endswith("_id") or col_name.lower() == "id":
            kind = "id" if kind != "text" or ref else kind
        values: tuple[str, ...] = ()
        if kind == "text" and not is_pk:
            values = _distinct(con, name, col_name)
        columns.append(Column(name, col_name, decl, kind, is_pk, ref, values))
    if pk is None and any(c.name.lower() == "id" for c in columns):
        pk = next(c.name for c in columns if c.name.lower() == "id")
    label_sql, label_name = _label(name, columns, pk)
    return TableInfo(name, tuple(columns), pk, row_count, label_sql, label_name, _default_date(name, columns))


def _distinct(con: sqlite3.Connection, table: str, column: str) -> tuple[str, ...]:
    col = quote(column)
    rows = con.execute(
        f"SELECT DISTINCT {col} FROM (SELECT {col} FROM {quote(table)} LIMIT {_SAMPLE_ROWS})"
        f" WHERE {col} IS NOT NULL LIMIT {_MAX_VALUES + 1}"
    ).fetchall()
    if len(rows) > _MAX_VALUES:
        return ()
    values = [str(r[0]) for r in rows if isinstance(r[0], str)]
    if any(len(v) > _MAX_VALUE_LENGTH for v in values):
        return ()
    return tuple(sorted(v for v in values if v.strip() and not v.strip().isdigit()))


def _label(table: str, columns: list[Column], pk: str | None) -> tuple[str, str]:
    by_name = {c.name.lower(): c for c in columns}
    if "first_name" in by_name and "last_name" in by_name:
        first, last = by_name["first_name"], by_name["last_name"]
        return f"{first.sql} || ' ' || {last.sql}", "name"
    for wanted in LABEL_NAMES:
        if wanted in by_name and by_name[wanted].kind == "text":
            return by_name[wanted].sql, by_name[wanted].name
    for column in columns:
        if column.name.lower().endswith("_name") and column.kind == "text":
            return column.sql, column.name
    for column in columns:
        if column.kind == "text" and not column.values:
            return column.sql, column.name
    key = pk or "rowid"
    return f"{quote(table)}.{quote(key)}", key


def _default_date(table: str, columns: list[Column]) -> str | None:
    dates = [c for c in columns if c.kind == "date"]
    if not dates:
        return None
    table_words = set(words_of(table))

    def score(column: Column) -> tuple[int, int]:
        words = set(column.words)
        if words & table_words:
            return (0, dates.index(column))
        for rank, hint in enumerate(DATE_PREFERENCE):
            if hint in words:
                return (1 + rank, dates.index(column))
        return (len(DATE_PREFERENCE) + 1, dates.index(column))

    return min(dates, key=score).name


def _measures(tables: dict[str, TableInfo]) -> list[Measure]:
    measures: list[Measure] = []
    for table in tables.values():
        numeric = [c for c in table.columns if c.kind == "number"]
        quantity = next((c for c in numeric if set(c.words) & QUANTITY_HINTS), None)
        price = next((c for c in numeric if set(c.words) & PRICE_HINTS), None)
        if quantity is not None and price is not None:
            measures.append(
                Measure(
                    key=f"derived:{table.name}",
                    name="revenue",
                    header="revenue",
                    table=table.name,
                    sql=f"{quantity.sql} * {price.sql}",
                    words=(("revenue",),),
                    money=True,
                    default_agg="sum",
                    derived=True,
                )
            )
        for column in numeric:
            words = set(column.words)
            money = bool(words & MONEY_HINTS)
            measures.append(
                Measure(
                    key=column.key,
                    name=" ".join(column.words),
                    header=column.name,
                    table=table.name,
                    sql=column.sql,
                    words=(column.words,),
                    money=money,
                    default_agg="avg" if words & AVG_DEFAULT_HINTS else "sum",
                )
            )
    return measures
