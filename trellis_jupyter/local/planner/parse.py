"""Reading a question: which pieces of a plan it names, and which words it leaves unexplained.

:func:`parse` works on the question's words in passes, each taking the words it understands out
of play: chart type, date range, time grain, top/bottom N and aggregate words (here), then values
found in the data ("East", "cancelled"), "by X" groupings, measures and tables (:mod:`.match`).
Whatever is left that is not a filler word is reported in ``Parsed.unknown``, so the planner can
decline instead of answering a question it only half read.
"""

from __future__ import annotations

import datetime as dt
import re

from trellis_jupyter.local.planner.dates import find_range
from trellis_jupyter.local.planner.lexicon import (
    AGG_WORDS,
    CHART_WORDS,
    CURRENCY_WORDS,
    FILLER,
    GRAIN_WORDS,
    LENGTH_HINTS,
    MASS_UNITS,
    MONEY_HINTS,
    MONEY_VERBS,
    SIZE_UNITS,
    STOPWORDS,
    TIME_UNITS,
    singular,
    tokens,
)
from trellis_jupyter.local.planner.match import (
    match_flags,
    match_groups,
    match_measures_and_tables,
    match_missing,
    match_no_text,
    match_self_reference,
    match_values,
    names_column,
)
from trellis_jupyter.local.planner.numbers import compared_with_number, match_numeric_filters
from trellis_jupyter.local.planner.parsed import NUMBERS, Parsed, Words, number
from trellis_jupyter.local.planner.plan import column_of
from trellis_jupyter.local.planner.schema import Column, Schema

__all__ = ["FOLLOWUP_CUES", "Parsed", "parse"]


def _words(text: str) -> frozenset[str]:
    """A word list written as one string."""
    return frozenset(text.split())


_DESC = {"top", "best", "highest", "largest", "biggest", "most", "greatest"}
_ASC = {"bottom", "worst", "lowest", "smallest", "least", "fewest"}
FOLLOWUP_CUES = ("now", "and", "what about", "how about", "only", "just", "instead", "same", "also", "as a",
                 "as", "make it", "show it", "then", "but", "switch", "change")  # fmt: skip


def parse(question: str, schema: Schema, today: dt.date) -> Parsed:
    words = tokens(question)
    lead = 0
    while lead < len(words) - 1 and words[lead] in _POLITE:
        lead += 1  # "please which region ...", "could you tell me how many ...": read from the question
    w = Words(_between(words[lead:]))
    p = Parsed(words=w.words)
    # Words written with a capital after the first word: proper nouns, matched against long columns.
    p.proper = frozenset(
        x for word in re.findall(r"[A-Za-z][\w'.-]*", question)[1:] if word[0].isupper() for x in tokens(word)
    )
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
    match_numeric_filters(w, p, schema)
    match_self_reference(w, p, schema)
    match_values(w, p, schema)
    match_flags(w, p, schema)
    match_missing(w, p, schema)
    match_no_text(w, p, schema)
    match_groups(w, p, schema)
    p.listing_cue = bool(
        re.match(r"(show|list|display|give|get|find|which|what are|who|see|select|fetch)\b", text)
    )
    match_measures_and_tables(w, p, schema)
    _separate_count(w, p)  # "which 3 products are the cheapest": the order came with the measure
    p.listing = p.listing_cue or p.recent is not None
    if w.words and w.words[0] == "which" and (p.groups or p.entities):
        p.which = True
    if p.which and len(w.words) > 1:
        # "which customers spent the most" asks for several; "which species has the heaviest" for
        # one: a noun that is its own plural is told by its verb.
        verb = next((x for x in w.words[2:5] if x in _SINGULAR_VERBS | _PLURAL_VERBS), None)
        looks_plural = singular(w.words[1]) != w.words[1]
        p.which_many = (looks_plural and verb not in _SINGULAR_VERBS) or w.at(2) in _PLURAL_VERBS
    _comparison(w, p)
    _units_and_echoes(w, p, schema)
    for i, word in enumerate(w.words):
        if w.used[i]:
            continue
        if _is_number(word):
            p.unused_numbers.append(word)  # a number no piece of the plan took: never dropped silently
        elif word in _DESC | _ASC and not p.order and not p.agg and w.at(i - 1) != "at":
            # "who are our best customers": a ranking with nothing named to rank by. Answering with
            # every customer, unranked, would answer another question. ("at least 3" is a bound.)
            p.unusable.append(f'"{word}" (I could not tell what it ranks by)')
        elif word not in STOPWORDS and word not in FILLER:
            p.unknown.append(word)
    return p


_SINGULAR_VERBS = frozenset({"has", "is", "was", "does"})
_PLURAL_VERBS = frozenset({"have", "are", "were"})


def _units_and_echoes(w: Words, p: Parsed, schema: Schema) -> None:
    """Words left over that only repeat what was understood: "in minutes" after a length measure,
    "to replace" after a replacement_cost filter, "shipped" after a ShipCountry filter."""
    keys = dict.fromkeys(f.column for f in p.filters if f.column.split(".")[0] in schema.tables)
    used = [column_of(schema, key) for key in keys] + _links_to_filters(p, schema)
    if p.measure is not None and not p.measure.derived:
        column = column_of(schema, p.measure.key)
        used.append(column)
        for i, word in enumerate(w.words):
            if w.free(i) and word in TIME_UNITS and set(column.words) & LENGTH_HINTS:
                own = next((x for x in column.words if x in TIME_UNITS), None)
                if own is None:
                    p.notes.append(f"{' '.join(column.words)} is shown in its own unit, taken as {word}")
                elif TIME_UNITS[own] != TIME_UNITS[word]:
                    # "the average length in minutes" of Milliseconds: the result is converted.
                    p.unit = (word, TIME_UNITS[word] / TIME_UNITS[own])
                w.take(i)
    for i, word in enumerate(w.words):
        if w.free(i) and word not in STOPWORDS and any(names_column(word, c) for c in used):
            w.take(i)
        elif w.free(i) and word in MONEY_VERBS and any(_money(c) for c in used):
            # "the amount paid", "total spent", "paid a fare over 100": an amount of money named
            # (the measure or a condition), said again as a verb.
            w.take(i)


def _money(column: Column) -> bool:
    return column.kind == "number" and bool(set(column.words) & MONEY_HINTS)


def _links_to_filters(p: Parsed, schema: Schema) -> list[Column]:
    """The foreign keys joining the rows asked about to a filter's table: "customers supported by
    Jane Peacock" goes through SupportRepId, so "supported" only repeats the join."""
    if not p.entities:
        return []
    links: list[Column] = []
    for f in p.filters:
        for j in schema.join_path(p.entities[0], f.column.split(".")[0]) or []:
            for table, name in ((j.left, j.left_col), (j.right, j.right_col)):
                column = schema.tables[table].column(name)
                if column is not None and column.ref is not None:
                    links.append(column)
    return links


def _between(words: list[str]) -> list[str]:
    """ "between 10 and 20" (not years, which are a date range) reads "at least 10 and at most 20"."""
    out: list[str] = []
    i = 0
    while i < len(words):
        a, b = (words[i + 1], words[i + 3]) if i + 3 < len(words) else ("", "")
        if (
            words[i] == "between"
            and words[i + 2 : i + 3] == ["and"]
            and _is_number(a)
            and _is_number(b)
            and not (_YEAR.fullmatch(a) and _YEAR.fullmatch(b))
        ):
            unit = words[i + 4 : i + 5]
            unit = (
                unit if unit and unit[0] in (*CURRENCY_WORDS, *TIME_UNITS, *SIZE_UNITS, *MASS_UNITS) else []
            )
            out += ["at", "least", a, *unit, "and", "at", "most", b]  # the unit said once applies to both
            i += 4
        else:
            out.append(words[i])
            i += 1
    return out


_YEAR = re.compile(r"(19|20)\d\d")


def _is_number(word: str) -> bool:
    return bool(re.fullmatch(r"\d+(?:\.\d+)?", word)) or (word in NUMBERS and word != "one")


def _comparison(w: Words, p: Parsed) -> None:
    """ "G or PG", "Germany versus the USA", "compare R and PG-13": one row per compared value."""
    several = any(len(f.values) > 1 and f.op == "=" for f in p.filters)
    for i, word in enumerate(w.words):
        if not w.free(i):
            continue
        if word in ("compare", "comparison", "versus", "vs", "against", "compared") or (
            word in ("more", "fewer", "less") and several
        ):
            p.compare = True
            w.take(i)


def _chart(w: Words, p: Parsed) -> None:
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


def _grain(w: Words, p: Parsed, schema: Schema) -> None:
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
            p.grain_by = True
            w.take(i - 1, 2)
            if w.at(i - 2) in ("for", "in") and w.free(i - 2):
                w.take(i - 2)
        elif word == "time" and prev == "over":
            p.over_time = True
            w.take(i - 1, 2)
        elif word in ("trend", "trends", "timeline") or (word == "series" and prev == "time"):
            p.over_time = True
            w.take(i - (1 if word == "series" else 0), 2 if word == "series" else 1)


# Words that open a question politely and never carry meaning there.
_POLITE = _words(
    "please hi hello hey ok okay so quick question could can would will you tell me i want wanted need "
    "to know like kindly wondering curious was"
)
_SELLING = ("best-selling", "top-selling", "bestselling", "best-sellers", "bestsellers", "best-seller")
_POOR_SELLING = ("worst-selling", "least-selling", "slowest-selling")
# Superlatives that rank a grouping when the question asks "which ...": "which region had the highest".
_RANK_SUPERLATIVES = {"highest": "desc", "largest": "desc", "biggest": "desc", "greatest": "desc",
                      "lowest": "asc", "smallest": "asc"}  # fmt: skip


# Words after "most" that rank by how often a row is used: "most popular", "used most often".
_OFTEN = ("popular", "often", "frequently", "commonly", "common", "frequent")
# Words after "the first" that make it no ranking: "the first name", "the first time".
_FIRST_NOT_RANK = ("name", "names", "time", "")


def _top(w: Words, p: Parsed) -> None:
    asks_which = bool(w.words) and w.words[0] in ("which", "who", "whose")
    for i, word in enumerate(w.words):
        if not w.free(i):
            continue
        nxt, prev = w.at(i + 1), w.at(i - 1)
        if word in ("recent", "latest", "newest", "last") and (prev == "most" or word != "recent"):
            if word == "last" and number(nxt) is None:
                continue
            p.recent = "desc"
            w.take(i)
            if prev == "most":
                w.take(i - 1)
            if (n := number(prev if prev != "most" else w.at(i - 2))) is not None:
                p.limit = n
                w.take(i - 1 if prev != "most" else i - 2)
            elif (n := number(nxt)) is not None:
                p.limit = n
                w.take(i + 1)
        elif word in ("oldest", "earliest", "first") and (
            number(nxt) is not None or word != "first" or (prev == "the" and nxt not in _FIRST_NOT_RANK)
        ):
            p.recent = "asc"
            w.take(i)
            _count_beside(w, p, i)
        elif word in _SELLING or word in _POOR_SELLING:
            p.order = "desc" if word in _SELLING else "asc"
            p.selling = True
            w.take(i)
            if (n := number(prev)) is not None:
                p.limit = n
                w.take(i - 1)
        elif word in _OFTEN and prev in ("most", "least") and w.free(i - 1):
            p.order = "desc" if prev == "most" else "asc"
            p.popular = True
            w.take(i - 1, 2)
        elif word in _RANK_SUPERLATIVES and (asks_which or nxt in ("average", "total", "number", "mean")):
            p.order = _RANK_SUPERLATIVES[word]
            w.take(i)
            _count_beside(w, p, i)
        elif word in ("most", "least") and prev == "at":
            continue  # "at least 10": a comparison, read with the numbers
        elif word in _DESC | _ASC:
            counted = _count_beside(w, p, i)
            if not counted and word in ("top", "bottom"):
                p.limit = 10
            elif not counted and word in ("most", "least", "fewest", "best", "worst"):
                if nxt in _OFTEN and w.free(i + 1):
                    p.popular = True  # "the most popular category": ranked by how often it is used
                    w.take(i + 1)
            elif not counted:
                continue  # "highest price": an aggregate, read later
            p.order = "desc" if word in _DESC else "asc"
            w.take(i)
    _separate_count(w, p)


def _count_beside(w: Words, p: Parsed, i: int) -> bool:
    """The number just after word ``i``, else just before it, as the plan's limit ("top 5",
    "5 oldest"); whether there was one."""
    for at in (i + 1, i - 1):
        if (n := number(w.at(at))) is not None:
            p.limit = n
            w.take(at)
            return True
    return False


_COUNT_BEFORE = ("which", "what", "the", "top", "our", "are")


def _separate_count(w: Words, p: Parsed) -> None:
    """ "which 3 categories have the fewest products", "the 5 most expensive": the count may stand
    apart from the superlative, after "which", "what", "the" or "top"."""
    if not p.order or p.limit is not None:
        return
    for i, word in enumerate(w.words):
        n = number(word)
        before = w.at(i - 1)
        # ... or right after a superlative adjective: "the longest 3 tracks", "cheapest 5 products".
        superlative = before.endswith("est") and len(before) > 4 and before != "least"
        if n is not None and w.free(i) and (before in _COUNT_BEFORE or superlative):
            p.limit = n
            w.take(i)
            return


def _aggregates(w: Words, p: Parsed) -> None:
    # Aggregate words still free: "the largest total payment" ranks by a total ("largest" was read
    # as the ranking), where "the average order total" names a column.
    named = {x for i, x in enumerate(w.words) if x in AGG_WORDS and x != "count" and w.free(i)}
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
            if word in ("total", "amount") and compared_with_number(w.words, i):
                continue  # "invoices with a total over 15": a column, read with the numbers
            others = named - {word}
            if word == "total" and others and w.at(i - 1) not in ("the", "a", "in", "of", "", "what"):
                continue  # "the average order total": a noun, read with the measures
            if word in ("largest", "biggest", "smallest", "highest", "lowest") and p.order:
                continue  # "which 3 categories have the highest ...": already a ranking
            p.agg = AGG_WORDS[word]
            w.take(i)
        elif word == "distinct" or word == "unique":
            w.take(i)
