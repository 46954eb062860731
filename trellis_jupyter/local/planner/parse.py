"""Reading a question: which pieces of a plan it names, and which words it leaves unexplained.

:func:`parse` works on the question's words in passes, each taking the words it understands out
of play: chart type, date range, time grain, top/bottom N, aggregate words, values found in the
data ("East", "cancelled"), "by X" groupings, and finally measures and tables. Whatever is left
that is not a filler word is reported in ``Parsed.unknown``, so the planner can decline instead of
answering a question it only half read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from trellis_jupyter.local.planner.dates import DateRange, find_range
from trellis_jupyter.local.planner.lexicon import (
    AGG_WORDS,
    CHART_WORDS,
    GRAIN_WORDS,
    MONEY_WORDS,
    PRICE_ADJECTIVES,
    PRICE_HINTS,
    STOPWORDS,
    singular,
    tokens,
)
from trellis_jupyter.local.planner.plan import LABEL, Filter
from trellis_jupyter.local.planner.resolve import resolve_column, resolve_measure, resolve_table
from trellis_jupyter.local.planner.schema import Column, Measure, Schema

__all__ = ["Parsed", "parse"]

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "twenty": 20, "fifty": 50, "hundred": 100}  # fmt: skip
_DESC = {"top", "best", "highest", "largest", "biggest", "most", "greatest"}
_ASC = {"bottom", "worst", "lowest", "smallest", "least", "fewest"}
_GROUP_CUES = (("broken", "down", "by"), ("grouped", "by"), ("split", "by"), ("for", "each"),
               ("for", "every"),
               ("in", "each"), ("in", "every"), ("by",), ("per",), ("across",), ("each",))  # fmt: skip
_COMPARE = {"over": ">", "above": ">", "more than": ">", "greater than": ">", "at least": ">=", "under": "<",
            "below": "<", "less than": "<", "at most": "<=", "exactly": "=", "equal to": "="}  # fmt: skip
_NEGATE = {"not", "excluding", "except", "without", "exclude", "non"}
FOLLOWUP_CUES = ("now", "and", "what about", "how about", "only", "just", "instead", "same", "also", "as a",
                 "as", "make it", "show it", "then", "but", "switch", "change")  # fmt: skip


@dataclass
class Parsed:
    words: list[str]
    chart: str | None = None
    chart_asked: bool = False
    range: DateRange | None = None
    grain: str | None = None
    over_time: bool = False
    agg: str | None = None
    order: str | None = None
    limit: int | None = None
    recent: str | None = None  # "desc" for most recent / latest, "asc" for oldest / earliest
    listing: bool = False
    filters: list[Filter] = field(default_factory=list)
    filter_options: dict[int, list[Column]] = field(default_factory=dict)  # filter index -> candidates
    groups: list[str] = field(default_factory=list)
    add_group: bool = False  # "and by segment", "split by segment": add rather than replace
    measure: Measure | None = None
    measure_entity: str | None = None  # "order value": the table named inside the measure phrase
    per: str | None = None
    entities: list[str] = field(default_factory=list)  # tables named, in order
    which: bool = False  # "which region ..."
    which_many: bool = False  # "which customers ..." (plural: a top 10, not a top 1)
    second_range: str | None = None
    listing_cue: bool = False  # starts with "show", "list", "what are" ...
    unknown: list[str] = field(default_factory=list)
    unresolved_group: str | None = None
    cue: bool = False  # starts like a follow-up ("now", "what about", "only" ...)
    sort: Column | None = None
    date_column: Column | None = None
    distinct: Column | None = None  # "how many categories": count the distinct values of a column
    singular_entity: bool = False  # "the most expensive product" (one) vs "products"
    understood: list[str] = field(default_factory=list)


class _Words:
    """The question's words with a mask of those already understood."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.used = [False] * len(words)

    def free(self, i: int, n: int = 1) -> bool:
        return i + n <= len(self.words) and not any(self.used[i : i + n])

    def take(self, i: int, n: int = 1) -> None:
        for k in range(i, min(i + n, len(self.words))):
            self.used[k] = True

    def at(self, i: int) -> str:
        return self.words[i] if 0 <= i < len(self.words) else ""

    def find(self, seq: tuple[str, ...], start: int = 0) -> int:
        for i in range(start, len(self.words) - len(seq) + 1):
            if tuple(self.words[i : i + len(seq)]) == seq and self.free(i, len(seq)):
                return i
        return -1

    def text_span(self, span: tuple[int, int]) -> None:
        """Take the words lying in a character span of ``" ".join(words)``."""
        pos = 0
        for i, word in enumerate(self.words):
            if pos >= span[0] and pos + len(word) <= span[1]:
                self.used[i] = True
            pos += len(word) + 1


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


def parse(question: str, schema: Schema, today: dt.date) -> Parsed:
    w = _Words(tokens(question))
    p = Parsed(words=w.words)
    text = " ".join(w.words)
    p.cue = any(text == cue or text.startswith(cue + " ") for cue in FOLLOWUP_CUES)
    _chart(w, p)
    found = find_range(text, today)
    if found is not None:
        p.range = found
        w.text_span(found.span)
        rest = " ".join(
            word if free else "_" for word, free in zip(w.words, [not u for u in w.used], strict=True)
        )
        second = find_range(rest, today)
        if second is not None:
            p.second_range = second.label  # "last month vs this month": one range at a time
    _grain(w, p, schema)
    _top(w, p)
    _aggregates(w, p)
    _numeric_filters(w, p, schema)
    _values(w, p, schema)
    _groups(w, p, schema)
    p.listing_cue = bool(
        re.match(r"(show|list|display|give|get|find|which|what are|who|see|select|fetch)\b", text)
    )
    _measures_and_tables(w, p, schema)
    p.listing = p.listing_cue or p.recent is not None
    if w.words and w.words[0] == "which" and (p.groups or p.entities):
        p.which = True
    if p.which and len(w.words) > 1 and singular(w.words[1]) != w.words[1]:
        p.which_many = True
    for i, word in enumerate(w.words):
        if not w.used[i] and word not in STOPWORDS and not word.isdigit() and word not in _NUMBERS:
            p.unknown.append(word)
    return p


def _chart(w: _Words, p: Parsed) -> None:
    for i, word in enumerate(w.words):
        nxt = w.at(i + 1)
        is_chart_noun = nxt in ("chart", "charts", "graph", "plot", "diagram")
        if word == "horizontal" and w.at(i + 1) in ("bar", "bars", "chart"):
            p.chart = "bar_horizontal"
            w.take(i, 2)
        elif word == "stacked" and w.free(i):
            p.chart = "stacked_bar"
            w.take(i, 2 if nxt in ("bar", "bars", "column", "columns") else 1)
        elif (word in ("pie", "donut", "doughnut", "histogram") and w.free(i)) or (
            word in ("bar", "bars", "line", "area", "column") and is_chart_noun and w.free(i)
        ):
            p.chart = CHART_WORDS[word]
            w.take(i)
        elif word in (
            "chart",
            "charts",
            "graph",
            "plot",
            "diagram",
            "visualize",
            "visualise",
            "plotted",
            "graphed",
        ):
            p.chart_asked = True
            w.take(i)
    if p.chart:
        p.chart_asked = True


def _grain(w: _Words, p: Parsed, schema: Schema) -> None:
    for i, word in enumerate(w.words):
        if not w.free(i):
            continue
        prev = w.at(i - 1)
        if word in ("daily", "weekly", "monthly", "quarterly", "yearly", "annual", "annually"):
            p.grain = GRAIN_WORDS[word]
            w.take(i)
        elif (
            word in GRAIN_WORDS
            and prev in ("by", "per", "each", "every", "a", "over", "and")
            and w.free(i - 1)
        ):
            if word == "date" and not any(t.date for t in schema.tables.values()):
                continue
            p.grain = GRAIN_WORDS[word]
            w.take(i - 1, 2)
            if w.at(i - 2) in ("for", "in") and w.free(i - 2):
                w.take(i - 2)
        elif word == "time" and prev == "over":
            p.over_time = True
            w.take(i - 1, 2)
        elif word in ("trend", "trends", "timeline") or (word == "series" and prev == "time"):
            p.over_time = True
            w.take(i - (1 if word == "series" else 0), 2 if word == "series" else 1)


def _top(w: _Words, p: Parsed) -> None:
    for i, word in enumerate(w.words):
        if not w.free(i):
            continue
        nxt, prev = w.at(i + 1), w.at(i - 1)
        if word in ("recent", "latest", "newest", "last") and (prev == "most" or word != "recent"):
            if word == "last" and _number(nxt) is None:
                continue
            p.recent = "desc"
            w.take(i)
            if prev == "most":
                w.take(i - 1)
            if (n := _number(prev if prev != "most" else w.at(i - 2))) is not None:
                p.limit = n
            elif (n := _number(nxt)) is not None:
                p.limit = n
                w.take(i + 1)
        elif word in ("oldest", "earliest", "first") and (_number(nxt) is not None or word != "first"):
            p.recent = "asc"
            w.take(i)
            if (n := _number(nxt)) is not None:
                p.limit = n
                w.take(i + 1)
            elif (n := _number(prev)) is not None:
                p.limit = n
        elif word in _DESC | _ASC:
            n = _number(nxt)
            n_before = _number(prev)
            if n is not None:
                p.limit = n
                w.take(i + 1)
            elif n_before is not None:
                p.limit = n_before
            elif word in ("top", "bottom"):
                p.limit = 10
            elif word in ("most", "least", "fewest") or (word == "best" and nxt.startswith("sell")):
                pass  # "the most orders", "best selling": an order without a count
            else:
                continue  # "highest price": an aggregate, read later
            p.order = "desc" if word in _DESC else "asc"
            w.take(i)


def _aggregates(w: _Words, p: Parsed) -> None:
    for i, word in enumerate(w.words):
        if not w.free(i):
            continue
        nxt = w.at(i + 1)
        if word == "how" and nxt in ("many", "much") and w.free(i + 1):
            p.agg = p.agg or ("count" if nxt == "many" else "sum")
            w.take(i, 2)
        elif (word == "number" and nxt == "of") or (word == "count" and nxt == "of"):
            p.agg = "count"
            w.take(i, 2)
        elif word in AGG_WORDS:
            p.agg = AGG_WORDS[word]
            w.take(i)
        elif word == "distinct" or word == "unique":
            w.take(i)


def _numeric_filters(w: _Words, p: Parsed, schema: Schema) -> None:
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


def _values(w: _Words, p: Parsed, schema: Schema) -> None:
    index: dict[tuple[str, ...], list[Column]] = {}
    for value, columns in schema.values.items():
        value_words = tuple(tokens(value))
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


def _phrase(w: _Words, start: int, schema: Schema, prefer: list[str]) -> tuple[int, str | Measure | None]:
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


def _groups(w: _Words, p: Parsed, schema: Schema) -> None:
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


def _measures_and_tables(w: _Words, p: Parsed, schema: Schema) -> None:
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
                if p.limit is None and (n := _number(w.at(i - 1))) is not None:
                    p.limit = n
                w.take(i)
