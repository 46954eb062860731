"""Matching a question's words against one database: values, number filters, groupings, measures, tables.

These passes run after the word-only ones of :mod:`.parse` and take the words they understand out
of play, as those do.
"""

from __future__ import annotations

import re

from trellis_jupyter.local.planner.lexicon import (
    GRAIN_WORDS,
    MONEY_WORDS,
    PRICE_ADJECTIVES,
    PRICE_HINTS,
    STOPWORDS,
    singular,
    tokens,
)
from trellis_jupyter.local.planner.parsed import Parsed, Words, number
from trellis_jupyter.local.planner.plan import LABEL, Filter
from trellis_jupyter.local.planner.resolve import resolve_column, resolve_measure, resolve_table
from trellis_jupyter.local.planner.schema import Column, Measure, Schema

__all__ = ["match_groups", "match_measures_and_tables", "match_numeric_filters", "match_values"]

_GROUP_CUES = (("broken", "down", "by"), ("grouped", "by"), ("split", "by"), ("for", "each"),
               ("for", "every"), ("in", "each"), ("in", "every"), ("by",), ("per",), ("across",),
               ("each",))  # fmt: skip
_COMPARE = {"over": ">", "above": ">", "more than": ">", "greater than": ">", "at least": ">=", "under": "<",
            "below": "<", "less than": "<", "at most": "<=", "exactly": "=", "equal to": "="}  # fmt: skip
_NEGATE = {"not", "excluding", "except", "without", "exclude", "non"}


def match_numeric_filters(w: Words, p: Parsed, schema: Schema) -> None:
    text = " ".join(w.words)
    ops = "|".join(sorted(_COMPARE, key=len, reverse=True))
    for m in re.finditer(r"\b([a-z_]+(?: [a-z_]+)?) (?:is |of |was )?(" + ops + r") (\d+(?:\.\d+)?)\b", text):
        for words in (m[1].split(), m[1].split()[-1:]):
            column = resolve_column(schema, words, kinds=("number",), fuzzy=False)
            if column is not None:
                number = float(m[3]) if "." in m[3] else int(m[3])
                p.filters.append(Filter(column.key, _COMPARE[m[2]], [number]))
                start = m.start(1) + (len(m[1]) - len(" ".join(words)))
                w.text_span((start, m.end()))
                break


def match_values(w: Words, p: Parsed, schema: Schema) -> None:
    index: dict[tuple[str, ...], list[Column]] = {}
    for value, columns in schema.values.items():
        value_words = tuple(tokens(value))
        if not value_words:
            continue  # a value with no word in it ("日本", "-"): nothing a question can name
        index.setdefault(value_words, []).extend(columns)
        index.setdefault((*value_words[:-1], singular(value_words[-1])), []).extend(columns)
    longest = max((len(k) for k in index), default=0)
    money_here = any(m.money for m in schema.measures)
    for size in range(min(longest, 5), 0, -1):
        for i in range(len(w.words) - size + 1):
            key = tuple(w.words[i : i + size])
            if key not in index:
                key = (*key[:-1], singular(key[-1]))  # "students" for the value "student"
            if not w.free(i, size) or key not in index:
                continue
            if size == 1 and (
                (key[0] in MONEY_WORDS and money_here) or resolve_table(schema, key, fuzzy=False)
            ):
                continue  # "sales" is a measure here, "orders" a table
            columns = list(dict.fromkeys(index[key]))
            # The column may be named beside its value: "East region", "status cancelled".
            for j in (i + size, i - 1):
                near = w.at(j)
                named = [c for c in columns if near and singular(near) in c.words]
                if named and w.free(j):
                    columns = named
                    w.take(j)
                    break
            negate = False
            for j in range(i - 1, max(i - 4, -1), -1):  # "not in the East", "excluding cancelled"
                if w.at(j) in _NEGATE:
                    negate = True
                    w.take(j)
                    break
                if w.at(j) not in (
                    "the",
                    "in",
                    "from",
                    "for",
                    "of",
                    "with",
                    "a",
                    "an",
                    "by",
                    "are",
                    "is",
                    "were",
                ):
                    break
            previous = p.filters[-1] if p.filters else None
            if previous and w.at(i - 1) in ("and", "or", "nor") and previous.column == columns[0].key:
                negate = negate or previous.op == "!="  # "excluding cancelled and returned"
            value = _original(schema, columns[0], key)
            op = "!=" if negate else "="
            same = next((f for f in p.filters if f.column == columns[0].key and f.op == op), None)
            if same is not None:
                same.values.append(value)
            else:
                p.filters.append(Filter(columns[0].key, op, [value]))
                p.filter_options[len(p.filters) - 1] = columns
            w.take(i, size)


def _original(schema: Schema, column: Column, key: tuple[str, ...]) -> str:
    for value in column.values:
        words = tuple(tokens(value))
        if words == key or (*words[:-1], singular(words[-1])) == key:
            return value
    return " ".join(key)


def _phrase(w: Words, start: int, schema: Schema, prefer: list[str]) -> tuple[int, str | Measure | None]:
    """Resolve the longest free phrase at ``start`` to a grouping (column or table) or a measure."""
    for size in (3, 2, 1):
        if not w.free(start, size):
            continue
        words = w.words[start : start + size]
        if size > 1 and any(x in ("and", "by", "per", "for", "in", "with", "as") for x in words):
            continue
        if any(x in GRAIN_WORDS and x != "date" for x in words):
            continue
        table = resolve_table(schema, words, fuzzy=size == 1)
        if table is not None:
            return size, f"{table}.{LABEL}"
        measure = resolve_measure(schema, words, prefer)
        column = resolve_column(schema, words, prefer, kinds=("text", "date", "number"), fuzzy=size == 1)
        if measure is not None and (column is None or column.kind == "number" or words[0] in MONEY_WORDS):
            return size, measure
        if column is not None:
            return size, column.key
    return 0, None


def match_groups(w: Words, p: Parsed, schema: Schema) -> None:
    prefer = [t for t in (resolve_table(schema, [x], fuzzy=False) for x in w.words) if t]
    i = 0
    while i < len(w.words):
        cue = next((c for c in _GROUP_CUES if w.find(c, i) == i), None)
        if (
            cue is None
            and w.at(i) == "and"
            and w.free(i)
            and not w.free(i - 1)
            and w.at(i - 1) in GRAIN_WORDS
        ):
            cue = ("and",)  # "by month and region"
        if cue is None:
            i += 1
            continue
        start = i + len(cue)
        while w.at(start) in ("the", "a", "each", "every") and w.free(start):
            start += 1
        size, target = _phrase(w, start, schema, prefer)
        if target is None:
            if cue != ("each",) and cue != ("across",) and w.at(start) and w.at(start) not in STOPWORDS:
                p.unresolved_group = w.at(start)
            i += 1
            continue
        w.take(i, start - i + size)
        if w.at(i - 1) in ("and", "also") and w.free(i - 1) and i > 0:
            p.add_group = True
            w.take(i - 1)
        if cue == ("split", "by"):
            p.add_group = True
        _add_target(p, target)
        i = start + size
        # "by region and segment": a second grouping after "and".
        while w.at(i) == "and" and w.free(i):
            size, target = _phrase(w, i + 1, schema, prefer)
            if target is None:
                break
            w.take(i, 1 + size)
            _add_target(p, target)
            i += 1 + size
    # "which region has ...", "what category ...": the asked-for column groups the answer.
    if w.words and w.words[0] in ("which", "what") and w.free(1):
        size, target = _phrase(w, 1, schema, prefer)
        if isinstance(target, str):
            w.take(0, 1 + size)
            _add_target(p, target)
            p.which = True


def _add_target(p: Parsed, target: str | Measure) -> None:
    if isinstance(target, Measure):
        if p.measure is None:
            p.measure = target
        return
    if target not in p.groups:
        p.groups.append(target)


def match_measures_and_tables(w: Words, p: Parsed, schema: Schema) -> None:
    prefer = [g.split(".")[0] for g in p.groups]
    for size in (3, 2, 1):
        for i in range(len(w.words) - size + 1):
            if not w.free(i, size):
                continue
            words = w.words[i : i + size]
            if size > 1 and any(x in STOPWORDS and x not in ("order", "value") for x in words):
                continue
            if size == 2 and words[1] == "value" and (table := resolve_table(schema, words[:1], fuzzy=False)):
                # "order value": money per row of that table.
                measure = resolve_measure(schema, ["value"], [table])
                if measure is not None:
                    p.measure = p.measure or measure
                    p.measure_entity = table
                    w.take(i, 2)
                    continue
            table = resolve_table(schema, words, fuzzy=size == 1)
            if table is not None:
                if table not in p.entities:
                    p.entities.append(table)
                    p.singular_entity = p.singular_entity or (
                        len(p.entities) == 1 and singular(words[-1]) == words[-1]
                    )
                w.take(i, size)
                continue
            if size == 1 and words[0] in PRICE_ADJECTIVES:
                continue  # read below, once the tables are known
            if size == 1 and words[0] in STOPWORDS and words[0] not in MONEY_WORDS and words[0] != "sold":
                continue
            measure = resolve_measure(schema, words, prefer + p.entities)
            if measure is not None and p.measure is None:
                p.measure = measure
                w.take(i, size)
                continue
            column = resolve_column(schema, words, prefer + p.entities, fuzzy=size == 1)
            if column is not None and column.values and (p.order or p.listing_cue) and not p.groups:
                p.groups.append(column.key)  # "top 3 categories by revenue"
                w.take(i, size)
            elif column is not None and column.values and p.agg == "count" and p.distinct is None:
                p.distinct = column  # "how many categories are there"
                w.take(i, size)
            elif column is not None and column.kind in ("date", "text") and (p.recent or p.order):
                p.sort = column  # "sorted by signup date", "oldest signup date"
                w.take(i, size)
            elif column is not None and column.kind == "date" and p.date_column is None:
                p.date_column = column  # "members who joined this year": the range applies here
                w.take(i, size)
            elif column is not None and size == 1 and w.at(i - 1) in ("sorted", "ordered", "sort"):
                p.sort = column
                w.take(i - 1, 2)
    for i, word in enumerate(w.words):
        if word in PRICE_ADJECTIVES and w.free(i):
            # "the most expensive product", "the 3 cheapest products": rank by a price column.
            prices = [
                m for m in schema.measures if set(m.header.lower().split("_")) & PRICE_HINTS and not m.derived
            ]
            prices.sort(key=lambda m: 0 if m.table in p.entities else 1)
            if prices:
                p.measure = p.measure or prices[0]
                p.order = p.order or PRICE_ADJECTIVES[word]
                if p.limit is None and (n := number(w.at(i - 1))) is not None:
                    p.limit = n
                w.take(i)
