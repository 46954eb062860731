"""Matching words of a question to tables, columns, measures and values of one schema.

Names are compared as singular words ("order_items" reads "order item"), first exactly, then
with difflib for near misses ("catagory", "custmers"). A phrase may name a column alone
("category"), with its table ("product category"), or through a lexicon synonym ("payroll").
"""

from __future__ import annotations

from collections.abc import Sequence

from trellis_jupyter.local.planner.lexicon import (
    COLUMN_SYNONYMS,
    FILLER,
    MONEY_HINTS,
    MONEY_WORDS,
    QUANTITY_HINTS,
    QUANTITY_WORDS,
    STOPWORDS,
    close_match,
    singular,
    words_of,
)
from trellis_jupyter.local.planner.schema import Column, Measure, Schema

__all__ = [
    "is_link_table",
    "money_measure",
    "quantity_measure",
    "resolve_column",
    "resolve_measure",
    "resolve_table",
    "tables_named",
]


def _norm(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(singular(COLUMN_SYNONYMS.get(w, w)) for w in words)


_LINE_WORDS = frozenset({"line", "item", "detail"})  # "order lines" = "order items" = "Order Details"
_ROW_WORDS = frozenset({"item", "record", "entry", "row", "line"})  # "inventory items" = "inventory"


def is_link_table(schema: Schema, name: str) -> bool:
    """A many-to-many table: nothing but foreign keys (and bookkeeping dates), e.g. film_category."""
    columns = schema.tables[name].columns
    refs = [c for c in columns if c.ref]
    return len(refs) >= 2 and all(c.ref or c.kind == "date" for c in columns)


def tables_named(schema: Schema, words: Sequence[str]) -> list[str]:
    """The tables the words name one word at a time ("orders", "customer"), each once, in order."""
    return list(dict.fromkeys(t for w in words if (t := resolve_table(schema, [w], fuzzy=False)) is not None))


def resolve_table(schema: Schema, words: Sequence[str], fuzzy: bool = True) -> str | None:
    """The table these words name: "orders", "order items", "customer", or a near miss.

    "film categories" names the categories, not the link table film_category; "order lines" names
    Order Details; "inventory items" names inventory.
    """
    wanted = _norm(words)
    found = _exact_table(schema, words, wanted)
    if found is not None and len(wanted) > 1 and is_link_table(schema, found):
        last = _exact_table(schema, words[-1:], wanted[-1:])
        return last or found
    if found is not None:
        return found
    if len(wanted) > 1 and wanted[-1] in _LINE_WORDS:
        for name, table in schema.tables.items():
            if (
                len(table.words) == len(wanted)
                and table.words[:-1] == wanted[:-1]
                and table.words[-1] in _LINE_WORDS
            ):
                return name
    if len(wanted) > 1 and wanted[-1] in _ROW_WORDS:
        found = _exact_table(schema, words[:-1], wanted[:-1])
        if found is not None:
            return found
    if fuzzy and len(wanted) == 1 and _fuzzy_ok(words[0]):
        by_word = {"".join(t.words): name for name, t in schema.tables.items()}
        match = close_match(wanted[0], by_word)
        if match:
            return by_word[match]
    return None


def _fuzzy_ok(word: str) -> bool:
    """Whether a word may be matched as a misspelling: not a filler word, not a verb's form
    ("shipped" is not a misspelt "shipper", "rated" not "rate", "active" not a near name)."""
    return (
        word not in STOPWORDS
        and word not in FILLER
        and len(word) >= 5
        and not word.endswith(("ed", "ing", "ive"))
    )


def _exact_table(schema: Schema, words: Sequence[str], wanted: tuple[str, ...]) -> str | None:
    for name, table in schema.tables.items():
        if table.words == wanted or (len(wanted) == 1 and name.lower() == words[0]):
            return name
    return None


def _rank(schema: Schema, columns: list[Column], prefer: Sequence[str]) -> list[Column]:
    """Columns ordered by how close their table is to the preferred tables."""

    def distance(column: Column) -> tuple[int, int]:
        best = 99
        for rank, table in enumerate(prefer):
            path = schema.join_path(table, column.table)
            if path is not None:
                best = min(best, len(path) * 10 + rank)
        return (best, list(schema.tables).index(column.table))

    return sorted(columns, key=distance)


def resolve_column(
    schema: Schema,
    words: Sequence[str],
    prefer: Sequence[str] = (),
    kinds: Sequence[str] = (),
    fuzzy: bool = True,
) -> Column | None:
    """The column these words name, alone or after their table's name ("product category")."""
    found = _resolve_column(schema, _norm(words), prefer, kinds, fuzzy)
    raw = tuple(singular(w) for w in words)
    if found is None and raw != _norm(words):
        found = _resolve_column(schema, raw, prefer, kinds, fuzzy)  # "joined" as itself: joined_on
    return found


def _resolve_column(
    schema: Schema, wanted: tuple[str, ...], prefer: Sequence[str], kinds: Sequence[str], fuzzy: bool
) -> Column | None:
    if not wanted:
        return None
    pool = [c for c in schema.columns() if not kinds or c.kind in kinds]
    exact = [c for c in pool if c.words == wanted]
    if not exact and len(wanted) >= 2:
        # "product category", "customer region", "order date": table words then column words.
        for split in range(1, len(wanted)):
            table = resolve_table(schema, wanted[:split], fuzzy=False)
            if table is None:
                continue
            rest = wanted[split:]
            exact = [c for c in pool if c.table == table and (c.words == rest or c.words == wanted)]
            if not exact:
                exact = [c for c in pool if c.table == table and c.words[-len(rest) :] == rest]
            if exact:
                break
    if not exact:
        # "date" for "order_date", "price" for "unit_price": the last words of a column's name.
        exact = [c for c in pool if len(c.words) > len(wanted) and c.words[-len(wanted) :] == wanted]
        exact = exact or _one_per_table(
            [c for c in pool if len(c.words) > len(wanted) and c.words[: len(wanted)] == wanted]
        )
    if not exact and fuzzy and len(wanted) == 1 and _fuzzy_ok(wanted[0]):
        names = {" ".join(c.words): c for c in pool}
        names.update({c.words[-1]: c for c in pool if c.words and c.words[-1] not in names})
        match = close_match(wanted[0], names)
        if match:
            exact = [c for c in pool if " ".join(c.words) == match or c.words[-1] == match]
    if not exact:
        return None
    return _rank(schema, exact, prefer)[0]


def _one_per_table(columns: list[Column]) -> list[Column]:
    """Columns found by their first words, none of a table where two begin so: "ship" begins
    ShipName, ShipCity and ShipVia alike, and names none of them."""
    tables = [c.table for c in columns]
    return [c for c in columns if tables.count(c.table) == 1]


def money_measure(schema: Schema, prefer: Sequence[str] = ()) -> Measure | None:
    """What "revenue" or "sales" means here: a derived quantity*price, else a money column."""
    derived = [m for m in schema.measures if m.derived]
    if derived:
        return derived[0]
    money = [m for m in schema.measures if m.money]
    if not money:
        return None

    def score(m: Measure) -> tuple[int, int, int, int]:
        words = set(words_of(m.header))
        preferred = 0 if m.table in prefer else 1
        strong = (
            0 if words & {"amount", "total", "revenue", "sale", "value", "income", "paid", "payment"} else 1
        )
        # Revenue is money coming in: a cost (replacement_cost) is the last thing it means.
        cost = 1 if words & {"cost", "expense", "fee", "spend"} else 0
        dated = 0 if schema.tables[m.table].date else 1
        return (cost, strong, preferred, dated)

    return min(money, key=score)


def quantity_measure(schema: Schema) -> Measure | None:
    for measure in schema.measures:
        if not measure.derived and set(measure.header.lower().split("_")) & QUANTITY_HINTS:
            return measure
    return None


def resolve_measure(schema: Schema, words: Sequence[str], prefer: Sequence[str] = ()) -> Measure | None:
    """The measure these words name: "revenue", "sales", "units sold", "unit price", "salary"."""
    wanted = _norm(words)
    if len(words) == 1 and words[0] in MONEY_WORDS:
        for m in schema.measures:  # a real column named "revenue" or "amount" wins
            if m.words[0] == wanted and not m.derived:
                return m
        return money_measure(schema, prefer)
    if len(words) == 1 and words[0] in QUANTITY_WORDS:
        return quantity_measure(schema)
    column = resolve_column(schema, words, prefer, kinds=("number",), fuzzy=len(words) == 1)
    if column is not None:
        return schema.measure(column.key)
    if len(wanted) == 1 and wanted[0] in MONEY_HINTS:
        return money_measure(schema, prefer)
    return None
