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

import dataclasses
import os
import re
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    # Distinct values of a text column with too many for a category (names, cities, countries):
    # matched only when the question writes them with a capital ("Canada", "Smith").
    rare: tuple[str, ...] = ()
    flag: tuple[Any, Any] | None = None  # (true, false) values of a yes/no column: Discontinued, active

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
    views: tuple[str, ...] = ()  # views, not planned over (see _introspect)
    rare_values: dict[str, list[Column]] = field(default_factory=dict)  # see Column.rare
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def derived(self, name: str, build: Callable[[], Any]) -> Any:
        """A value computed from the schema once and kept with it (e.g. the value word index)."""
        with _cache_lock:
            if name not in self._derived:
                self._derived[name] = build()
            return self._derived[name]

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
        paths: dict[tuple[str, str], list[Join] | None] = self.derived("join_paths", dict)
        key = (start, goal)
        if key not in paths:
            paths[key] = self._search(start, goal)
        found = paths[key]
        return list(found) if found is not None else None

    def _search(self, start: str, goal: str) -> list[Join] | None:
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
_cache_lock = threading.RLock()


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
        found = [
            (str(r[0]), str(r[1]))
            for master in masters
            for r in con.execute(
                f"SELECT name, type FROM {master} WHERE type IN ('table', 'view')"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        # Views repeat their tables' rows under other names and have no foreign keys: a question
        # matched to a view ("Invoices", "Alphabetical list of products") would be answered over the
        # wrong rows. They are read only when the database has no tables at all.
        names = [n for n, kind in found if kind == "table"] or [n for n, _ in found]
        views = tuple(n for n, kind in found if kind == "view" and n not in names)
        tables = {name: _table(con, name) for name in names}
        discounts = _fraction_discounts(con, tables)
    finally:
        con.close()
    schema = Schema(path=path, tables=tables, measures=_measures(tables, discounts), views=views)
    for column in schema.columns():
        for value in column.values:
            schema.values.setdefault(value.lower(), []).append(column)
        for value in column.rare:
            schema.rare_values.setdefault(value.lower(), []).append(column)
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
        rare: tuple[str, ...] = ()
        if kind == "text" and not is_pk:
            values, rare = _distinct(con, name, col_name)
        looks_yes_no = bool(sample) and {str(v).strip().lower() for v in sample} <= {*_TRUE, *_FALSE}
        flag = _flag(con, name, col_name) if looks_yes_no and not is_pk and not ref else None
        if flag is not None:
            values = ()
        columns.append(Column(name, col_name, decl, kind, is_pk, ref, values, rare, flag))
    if pk is None and any(c.name.lower() == "id" for c in columns):
        pk = next(c.name for c in columns if c.name.lower() == "id")
    label_sql, label_name = _label(name, columns, pk)
    columns = [_named_rows(con, c) if c.sql == label_sql else c for c in columns]
    return TableInfo(name, tuple(columns), pk, row_count, label_sql, label_name, _default_date(name, columns))


_MAX_RARE = 2000  # distinct values kept for proper-noun matching
_TRUE = ("1", "t", "true", "y", "yes")
_FALSE = ("0", "f", "false", "n", "no")


def _named_rows(con: sqlite3.Connection, column: Column) -> Column:
    """The column naming a table's rows (Artist.Name, Album.Title), its short values kept even when
    a few are long (an orchestra's full credit): a name, where another column with long values is
    free text (an address, a description, a list of composers)."""
    if column.values or column.rare or column.kind != "text" or column.pk or column.flag is not None:
        return column
    values, rare = _distinct(con, column.table, column.name, names=True)
    return dataclasses.replace(column, values=values, rare=rare)


def _distinct(
    con: sqlite3.Connection, table: str, column: str, names: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(category values, rare values): the first when at most _MAX_VALUES, else the second.

    A long value marks free text, which has none; for a column of ``names``, only the long values
    are left out."""
    col = quote(column)
    rows = con.execute(
        f"SELECT DISTINCT {col} FROM (SELECT {col} FROM {quote(table)} LIMIT {_SAMPLE_ROWS})"
        f" WHERE {col} IS NOT NULL LIMIT {_MAX_RARE + 1}"
    ).fetchall()
    values = [str(r[0]) for r in rows if isinstance(r[0], str)]
    if len(rows) > _MAX_RARE or (not names and any(len(v) > _MAX_VALUE_LENGTH for v in values)):
        return (), ()
    values = [v for v in values if len(v) <= _MAX_VALUE_LENGTH]
    kept = tuple(sorted(v for v in values if v.strip() and not v.strip().isdigit()))
    if len(rows) > _MAX_VALUES:
        return (), kept
    return kept, ()


def _flag(con: sqlite3.Connection, table: str, column: str) -> tuple[Any, Any] | None:
    """The (true, false) values of a yes/no column (1/0, 't'/'f', 'Y'/'N'), or None."""
    col = quote(column)
    rows = con.execute(
        f"SELECT DISTINCT {col} FROM (SELECT {col} FROM {quote(table)} LIMIT {_SAMPLE_ROWS})"
        f" WHERE {col} IS NOT NULL LIMIT 3"
    ).fetchall()
    values = [r[0] for r in rows]
    if not 1 <= len(values) <= 2:
        return None
    texts = [str(v).strip().lower() for v in values]
    for truthy, falsy in zip(_TRUE, _FALSE, strict=True):
        if set(texts) <= {truthy, falsy}:
            sample = values[0]
            if isinstance(sample, str):
                true = next((v for v in values if str(v).strip().lower() == truthy), truthy)
                false = next((v for v in values if str(v).strip().lower() == falsy), falsy)
                return true, false
            return 1, 0
    return None


def _label(table: str, columns: list[Column], pk: str | None) -> tuple[str, str]:
    """The expression naming one row, found by the columns' words (first_name, FirstName, "First Name")."""
    texts = [c for c in columns if c.kind == "text"]
    by_words = {c.words: c for c in texts}
    first, last = by_words.get(("first", "name")), by_words.get(("last", "name"))
    if first is not None and last is not None:
        return f"{first.sql} || ' ' || {last.sql}", "name"
    table_words = words_of(table)
    for wanted in LABEL_NAMES:
        if (wanted,) in by_words:
            return by_words[(wanted,)].sql, by_words[(wanted,)].name
    # CompanyName, product_name, CategoryName: a name of the row's own kind first, then any name.
    own = set(table_words) | {"company", "full", "display"}
    named = [c for c in texts if len(c.words) > 1 and c.words[-1] in ("name", "title") and c.words[0] in own]
    if named:
        return named[0].sql, named[0].name
    # city.city, country.country, RegionDescription, TerritoryDescription.
    for column in texts:
        if column.words == table_words or (
            column.words[-1:] in (("description",), ("desc",)) and column.words[0] in own
        ):
            return column.sql, column.name
    for column in texts:
        if column.words in (("description",), ("email",), ("code",)):
            return column.sql, column.name
    if pk is None or not any(c.name == pk and c.kind in ("id", "number") for c in columns):
        for column in texts:
            if not column.values and not column.pk and not column.ref:
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


def _plain_name(name: str) -> str:
    """A column name as words, as written: ``UnitPrice`` -> ``unit price``, ``pages`` stays plural."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return " ".join(w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w)


def _fraction_discounts(con: sqlite3.Connection, tables: dict[str, TableInfo]) -> dict[str, Column]:
    """Per table, a ``discount`` column holding fractions (0.15 = 15 %), which revenue takes off."""
    found: dict[str, Column] = {}
    for table in tables.values():
        for column in table.columns:
            if column.kind != "number" or "discount" not in column.words:
                continue
            low, high = con.execute(
                f"SELECT MIN({column.sql}), MAX({column.sql}) FROM {quote(table.name)}"
            ).fetchone()
            if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low >= 0 and high < 1:
                found[table.name] = column
                break
    return found


def _measures(tables: dict[str, TableInfo], discounts: dict[str, Column] | None = None) -> list[Measure]:
    measures: list[Measure] = []
    for table in tables.values():
        numeric = [c for c in table.columns if c.kind == "number"]
        quantity = next((c for c in numeric if set(c.words) & QUANTITY_HINTS), None)
        price = next((c for c in numeric if set(c.words) & PRICE_HINTS), None)
        if quantity is not None and price is not None:
            amount = f"{quantity.sql} * {price.sql}"
            discount = (discounts or {}).get(table.name)
            if discount is not None:
                amount += f" * (1 - {discount.sql})"
            measures.append(
                Measure(
                    key=f"derived:{table.name}",
                    name="revenue",
                    header="revenue",
                    table=table.name,
                    sql=amount,
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
                    name=_plain_name(column.name),
                    header=column.name,
                    table=table.name,
                    sql=column.sql,
                    words=(column.words,),
                    money=money,
                    default_agg="avg" if words & AVG_DEFAULT_HINTS else "sum",
                )
            )
    return measures
