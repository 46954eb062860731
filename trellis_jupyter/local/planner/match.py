"""Matching a question's words against one database: values, number filters, groupings, measures, tables.

These passes run after the word-only ones of :mod:`.parse` and take the words they understand out
of play, as those do.
"""

from __future__ import annotations

from trellis_jupyter.local.planner.lexicon import (
    COLUMN_SYNONYMS,
    FILLER,
    FUNCTION_WORDS,
    GRAIN_WORDS,
    LENGTH_ADJECTIVES,
    MONEY_HINTS,
    MONEY_WORDS,
    PRICE_ADJECTIVES,
    PRICE_HINTS,
    QUANTITY_HINTS,
    STOPWORDS,
    WEIGHT_ADJECTIVES,
    singular,
    tokens,
    words_of,
)
from trellis_jupyter.local.planner.numbers import length_column, weight_column
from trellis_jupyter.local.planner.parsed import Parsed, Words, number
from trellis_jupyter.local.planner.plan import LABEL, Filter
from trellis_jupyter.local.planner.resolve import (
    quantity_measure,
    resolve_column,
    resolve_measure,
    resolve_table,
    tables_named,
)
from trellis_jupyter.local.planner.schema import Column, Measure, Schema

__all__ = [
    "match_flags",
    "match_groups",
    "match_measures_and_tables",
    "match_missing",
    "match_no_text",
    "match_self_reference",
    "match_values",
    "names_column",
]

_GROUP_CUES = (("broken", "down", "by"), ("grouped", "by"), ("split", "by"), ("for", "each"),
               ("for", "every"), ("in", "each"), ("in", "every"), ("by",), ("per",), ("across",),
               ("each",))  # fmt: skip
_NEGATE = {"not", "excluding", "except", "without", "exclude", "non"}


_SKIP_BEFORE_VALUE = ("the", "in", "from", "for", "of", "with", "a", "an", "by", "are", "is", "were", "was",
                      "to", "been", "be", "being")  # fmt: skip


def _value_index(schema: Schema, values: dict[str, list[Column]]) -> dict[tuple[str, ...], list[Column]]:
    index: dict[tuple[str, ...], list[Column]] = {}
    for value, columns in values.items():  # built once per schema (Schema.derived)
        value_words = tuple(tokens(value))
        if not value_words:
            continue  # a value with no word in it ("日本", "-"): nothing a question can name
        index.setdefault(value_words, []).extend(columns)
        index.setdefault((*value_words[:-1], singular(value_words[-1])), []).extend(columns)
    return index


def names_column(word: str, column: Column) -> bool:
    """Whether one question word names this column: "region", "rated" (rating), "shipped" (ShipCountry)."""
    wanted = singular(COLUMN_SYNONYMS.get(word, word))
    if wanted in STOPWORDS or len(wanted) < 3:
        return False
    return wanted in column.words or (len(word) >= 5 and any(x.startswith(word[:4]) for x in column.words))


def _named_column(w: Words, i: int, size: int, columns: list[Column], schema: Schema) -> list[Column]:
    """The value's column named beside it ("East region", "status cancelled", "last name is Smith",
    "rated PG-13", "shipped to France"): those columns, with the naming words taken."""
    after, before = i + size, i - 1
    if w.at(before) in ("is", "was", "to", "in", "from", "equal", "of") and w.free(before):
        before -= 1  # "last name is Smith", "shipped to France"
    if w.at(after) and w.free(after):
        named = [c for c in columns if names_column(w.at(after), c)]
        if named:
            w.take(after)
            return named
    if before >= 1 and w.free(before - 1, 2):
        pair = (singular(w.at(before - 1)), singular(w.at(before)))
        named = [c for c in columns if c.words == pair]
        if named:
            w.take(before - 1, 2)
            return named
    if before >= 0 and w.free(before):
        named = [c for c in columns if names_column(w.at(before), c)]
        if named:
            w.take(before)
            return named
    for at in (i - 1, after):
        # "the artist Iron Maiden", "the Pop genre": one row of that table, by its name (a singular:
        # not "albums Iron Maiden made").
        word = w.at(at)
        if at >= 0 and word and w.free(at) and singular(word) == word:
            named = [c for c in columns if _row_name(schema, c) and schema.tables[c.table].words == (word,)]
            if named:
                w.take(at)
                return named
    return columns


_NEAR = 8  # how far from a value or grouping a qualifying word is looked for (keeps parsing linear)


def _qualified(w: Words, columns: list[Column], at: int) -> list[Column]:
    """Among same-named columns, the one a free word near ``at`` singles out: "ship" (or
    "shipped") picks ShipCountry over Country in "did we ship more orders to Germany"."""
    shared = set.intersection(*(set(c.words) for c in columns))
    for i in range(max(0, at - _NEAR), min(len(w.words), at + _NEAR)):
        word = w.words[i]
        if not w.free(i) or word in STOPWORDS or word in FILLER:
            continue
        named = [c for c in columns if names_column(word, c) and singular(word) not in shared]
        if named and len(named) < len(columns):
            w.take(i)
            return named
    return columns


def match_values(w: Words, p: Parsed, schema: Schema) -> None:
    index, rare = (
        schema.derived("value_index", lambda: _value_index(schema, schema.values)),
        schema.derived("rare_index", lambda: _value_index(schema, schema.rare_values)),
    )
    longest = max((len(k) for k in (*index, *rare)), default=0)
    money_here = any(m.money for m in schema.measures)
    by_column = {(f.column, f.op): f for f in p.filters}
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}  # where each filter's values were read
    for size in range(min(longest, 5), 0, -1):
        for i in range(len(w.words) - size + 1):
            key = tuple(w.words[i : i + size])
            if key not in index and key not in rare:
                key = (*key[:-1], singular(key[-1]))  # "students" for the value "student"
            if not w.free(i, size):
                continue
            if _grammar(w.words[i : i + size], p):
                continue  # "tracks on the playlist": "on" is not the province ON
            found = list(index.get(key, []))
            if key in rare and all(x in p.proper for x in w.words[i : i + size]):
                found += rare[key]  # "Canada", "Smith", "London": a proper noun found in a long column
            if not found:
                continue
            if size == 1 and _verb_not_value(w, i, found, schema):
                continue  # "customers who placed an order": not the status 'placed'
            if size == 1 and (
                (key[0] in MONEY_WORDS and money_here) or resolve_table(schema, key, fuzzy=False)
            ):
                continue  # "sales" is a measure here, "orders" a table
            columns = _named_column(w, i, size, list(dict.fromkeys(found)), schema)
            last = p.filters[-1].column if p.filters else None
            if len(columns) > 1 and last is not None and any(c.key == last for c in columns):
                columns = [c for c in columns if c.key == last]  # "Germany or the USA": same column
            if len(columns) > 1:
                columns = _qualified(w, columns, i)
            negate = False
            for j in range(i - 1, max(i - 6, -1), -1):  # "not in the East", "excluding cancelled"
                if w.at(j) in _NEGATE and w.free(j):
                    negate = True
                    w.take(j)
                    break
                if w.at(j) not in _SKIP_BEFORE_VALUE and w.free(j):
                    break
            previous = p.filters[-1] if p.filters else None
            if previous and w.at(i - 1) in ("and", "or", "nor") and previous.column == columns[0].key:
                negate = negate or previous.op == "!="  # "excluding cancelled and returned"
            value = _original(columns[0], key)
            op = "!=" if negate else "="
            w.take(i, size)
            if p.parent and i > p.parent_at and columns[0].table == p.parent.split(".")[0]:
                p.parent_filters.append(Filter(columns[0].key, op, [value]))  # "report to Andrew Fuller"
                continue
            same = by_column.get((columns[0].key, op))
            read = spans.setdefault((columns[0].key, op), [])
            if same is not None and read and not _listed(w, read[-1], (i, i + size)):
                # "tracks of music on the Grunge playlist": two values of one column that the
                # question does not list together ("Music or Grunge") are not both meant.
                twice = f'both "{same.values[-1]}" and "{value}"'
                p.unusable.append(f"{twice} as {columns[0].name} of {columns[0].table}")
            read.append((i, i + size))
            if same is not None:
                same.values.append(value)
            else:
                p.filters.append(Filter(columns[0].key, op, [value]))
                p.filter_options[len(p.filters) - 1] = columns
                by_column[(columns[0].key, op)] = p.filters[-1]


# What may stand between the values of a list: "Germany, France and the USA", "to Germany or to
# the USA", "by card and by transfer", "East vs West". A conjunction is needed: "music on the
# Grunge playlist" is no list.
_CONJUNCTIONS = frozenset({"and", "or", "nor", "vs", "versus", "plus"})
_LIST_WORDS = _CONJUNCTIONS | {"either", "neither", "both", "the", "a", "an", "to", "from", "in", "for", "at",
                               "by", "with", "on", "of", "via"}  # fmt: skip


def _listed(w: Words, one: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether two values' spans stand in one list (a few list words between them, or none)."""
    start, end = (one[1], other[0]) if one[0] < other[0] else (other[1], one[0])
    if end - start > 4:
        return False  # bounded, so a long question is still read in linear time
    gap = [w.at(j) for j in range(start, end)]
    return all(x in _LIST_WORDS for x in gap) and (not gap or any(x in _CONJUNCTIONS for x in gap))


_LENGTH_NOUNS = ("length", "duration", "runtime")


def _length_named(schema: Schema, p: Parsed) -> Column | None:
    """The length column of a table the question names, else the database's only one."""
    if p.entities:
        return length_column(schema, p.entities)
    found = [c for t in schema.tables if (c := length_column(schema, [t])) is not None]
    return found[0] if len(found) == 1 else None


def _row_name(schema: Schema, column: Column) -> bool:
    """Whether the column names its table's rows (Artist.Name, Album.Title)."""
    return column.sql == schema.tables[column.table].label_sql


def _shown_beside(w: Words, i: int, p: Parsed, column: Column) -> bool:
    """ "Show the employees and their titles": a column of the listed rows, shown with them (a
    listing shows every column of its rows), not a grouping. A column of another table ("the
    tracks and their composers' names" from another table) is declined: a listing shows only its
    own table's columns."""
    if w.at(i - 1) not in ("their", "its") or p.order or p.agg or not p.listing_cue or not p.entities:
        return False
    if column.table != p.entities[0]:
        p.unusable.append(f"{column.name} of {column.table} beside each row of {p.entities[0]}")
    return True


# Words before a verb of the rows ("has placed", "were made", "who created"), and after it ("placed
# an order", "placed 3 orders", "placed in May", "placed the most").
_VERB_BEFORE = frozenset({"have", "has", "had", "was", "were", "did", "who", "that", "which", "we", "they"})
_VERB_AFTER = frozenset({"a", "an", "the", "any", "in", "on", "during", "since", "before", "after", "last",
                         "this", "most", "least", "more", "fewer", "by", "at", "between"})  # fmt: skip
_STATE_BEFORE = frozenset({"is", "are", "still", "currently", "now"})


def _verb_not_value(w: Words, i: int, columns: list[Column], schema: Schema) -> bool:
    """Whether a value that is also an everyday verb the planner reads as nothing ("placed", "made",
    "created": a row came to be) is used as that verb here: "customers who placed an order", "orders
    placed in February". It is the value when the question marks it so: its column or table beside
    it ("status placed", "placed orders"), or a state ("orders that are placed")."""
    word, before, after = w.at(i), w.at(i - 1), w.at(i + 1)
    if word not in STOPWORDS or word in FUNCTION_WORDS:
        return False
    beside = [x for x in (before, after) if x]
    if any(names_column(x, c) for x in beside for c in columns) or before in _STATE_BEFORE:
        return False
    if after and resolve_table(schema, [after], fuzzy=False) in {c.table for c in columns}:
        return after in _VERB_AFTER  # "placed orders": the value
    return before in _VERB_BEFORE or after in _VERB_AFTER or not after or number(after) is not None


def _grammar(words: list[str], p: Parsed) -> bool:
    """Whether these words are only grammar words written in lower case (not a code like "ON")."""
    return all(x in FUNCTION_WORDS and x not in p.proper for x in words)


_SELF_WORDS = frozenset({"report", "manager", "boss", "supervisor", "parent", "managed", "supervised"})


def match_self_reference(w: Words, p: Parsed, schema: Schema) -> None:
    """ "employees who report to Andrew Fuller": a column pointing at another row of its own table."""
    own = [c for c in schema.columns() if c.ref and c.ref[0] == c.table and c.ref[0] in schema.tables]
    for i, word in enumerate(w.words):
        base = singular(word)
        if not w.free(i) or base not in _SELF_WORDS:
            continue
        found = [
            c for c in own if base in c.words or (base in ("manager", "boss", "managed") and len(own) == 1)
        ]
        if len(found) != 1:
            continue
        p.parent, p.parent_at = found[0].key, i
        w.take(i)
        if w.at(i + 1) in ("to", "by") and w.free(i + 1):
            w.take(i + 1)
        return


_NEGATING_PREFIXES = ("non-", "non", "un", "in")


def _flags_named(flags: list[Column], word: str) -> list[Column]:
    found = [c for c in flags if c.words == (singular(word),) or c.words == (word,)]
    return found or [c for c in flags if len(c.words) == 1 and _same_stem(word, c.words[0])]


def _same_stem(word: str, other: str) -> bool:
    """ "survivors", "survival", "survive" and "survived": one stem of six letters or more, each
    word adding at most three ("active" and "activity" do not)."""
    stem = 0
    while stem < min(len(word), len(other)) and word[stem] == other[stem]:
        stem += 1
    return stem >= 6 and len(word) - stem <= 3 and len(other) - stem <= 3


# Words after a yes/no column's word that ask for the share of rows where it is yes: "survival rate".
_SHARE_WORDS = frozenset({"rate", "ratio", "share", "proportion", "fraction"})


def match_flags(w: Words, p: Parsed, schema: Schema) -> None:
    """Yes/no columns named by their word: "discontinued products", "customers that are not active"."""
    # A count or an amount that happens to hold only 0 and 1 is still a number to add up.
    amounts = QUANTITY_HINTS | MONEY_HINTS | PRICE_HINTS
    flags = [c for c in schema.columns() if c.flag is not None and c.words and not set(c.words) & amounts]
    for i, word in enumerate(w.words):
        if not w.free(i):
            continue
        found = _flags_named(flags, word)
        negate = False
        if not found:
            # "inactive customers", "unpaid invoices", "non-active": the flag's word, negated.
            rest = next((word[len(p) :] for p in _NEGATING_PREFIXES if word.startswith(p)), "")
            found = _flags_named(flags, rest) if len(rest) >= 4 else []
            negate = True
        if not found:
            continue
        if w.at(i + 1) in _SHARE_WORDS and w.free(i + 1):
            # "the survival rate": the share of rows where the flag is yes, the mean of its 1s and 0s.
            share = schema.measure(found[0].key) if found[0].flag == (1, 0) else None
            if share is not None and p.measure is None and p.agg in (None, "avg"):
                p.measure, p.agg = share, "avg"
                p.notes.append(f'"{word} {w.at(i + 1)}" is the share of rows with {found[0].name} 1')
                w.take(i, 2)
            continue
        for j in range(i - 1, max(i - 4, -1), -1):
            if w.at(j) in _NEGATE | {"no", "never", "inactive"} and w.free(j):
                negate = not negate  # "not inactive" is active
                w.take(j)
                break
            if w.at(j) not in _SKIP_BEFORE_VALUE and w.at(j) not in ("that", "who", "which"):
                break
        column = found[0]
        assert column.flag is not None
        p.filters.append(Filter(column.key, "=", [column.flag[1] if negate else column.flag[0]]))
        p.filter_options[len(p.filters) - 1] = found
        w.take(i)


def match_missing(w: Words, p: Parsed, schema: Schema) -> None:
    """ "orders not shipped", "rentals that have not been returned": the date of that event is empty."""
    dates = [c for c in schema.columns() if c.kind == "date"]
    for i, word in enumerate(w.words):
        if not w.free(i) or not word.endswith("ed") or len(word) < 5:
            continue
        stems = {word, word[:-2], word[:-1], word[:-3] if word[-3:-2] == word[-4:-3] else word}
        found = [c for c in dates if c.words and c.words[0] in stems]
        if not found:
            continue
        negate = False
        for j in range(i - 1, max(i - 4, -1), -1):
            if w.at(j) in ("not", "never", "yet", "un") and w.free(j):
                negate = True
                w.take(j)
                break
            if w.at(j) not in _SKIP_BEFORE_VALUE and w.at(j) not in ("have", "has", "had", "that", "who"):
                break
        if w.at(i + 1) == "yet" and w.free(i + 1):
            w.take(i + 1)
            negate = True
        if not negate:
            continue  # "orders shipped last month": the word names the date, read later
        p.filters.append(Filter(found[0].key, "is null", []))
        p.filter_options[len(p.filters) - 1] = found
        w.take(i)


def match_no_text(w: Words, p: Parsed, schema: Schema) -> None:
    """ "tracks with no composer", "customers without a company": a text column of a table the
    question names is empty. Numbers are left alone ("no discount" is a 0, not an empty cell)."""
    named = {t for x in w.words if (t := resolve_table(schema, [x], fuzzy=False))}
    for i, word in enumerate(w.words):
        if word not in ("no", "without") or not w.free(i):
            continue
        at = i + 1 + (w.at(i + 1) in ("a", "an", "any"))
        for size in (3, 2, 1):
            words = w.words[at : at + size]
            if len(words) < size or not w.free(at, size) or any(x in STOPWORDS for x in words):
                continue
            column = resolve_column(schema, words, sorted(named), kinds=("text",), fuzzy=False)
            wanted = tuple(singular(x) for x in words)
            # The column's whole name or its last words ("billing state", "state"), never its first
            # words alone ("billing" is not BillingAddress).
            if column is None or column.table not in named or column.words[-size:] != wanted:
                continue
            p.filters.append(Filter(column.key, "is null", []))
            p.filter_options[len(p.filters) - 1] = [column]
            w.take(i, at - i + size)
            break


def _original(column: Column, key: tuple[str, ...]) -> str:
    for value in (*column.values, *column.rare):
        words = tuple(tokens(value))
        if words == key or (*words[:-1], singular(words[-1])) == key:
            return value
    return " ".join(key)


def _phrase(
    w: Words, start: int, schema: Schema, prefer: list[str], via: dict[str, str] | None = None
) -> tuple[int, str | Measure | None]:
    """Resolve the longest free phrase at ``start`` to a grouping (column or table) or a measure.

    A foreign key named by its own words ("support rep" for SupportRepId) groups by the rows it
    points at; ``via`` records the key, which the plan's join must then go through."""
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
        if column is not None and column.ref and column.ref[0] in schema.tables:
            return size, f"{column.ref[0]}.{LABEL}"  # "product category": by the category's name
        if column is not None:
            return size, column.key
        link = _link(schema, words, prefer) if measure is None else None
        if link is not None and link.ref is not None:
            target = f"{link.ref[0]}.{LABEL}"
            if via is not None:
                via[target] = link.key
            return size, target
        if (
            size > 1
            and not any(x in STOPWORDS or x in FILLER or not x.isalpha() for x in words)
            and (table := resolve_table(schema, words[-1:], fuzzy=False)) is not None
        ):
            return size, f"{table}.{LABEL}"  # "film category", "staff member": the last word's table
    return 0, None


def _link(schema: Schema, words: list[str], prefer: list[str]) -> Column | None:
    """The foreign key these words name, all of its name but a final "id" ("support rep":
    SupportRepId), pointing at another table."""
    wanted = tuple(singular(x) for x in words)
    if wanted == ("id",) or all(x in STOPWORDS for x in wanted):
        return None  # "by id": no key in particular; "ship via" (ShipVia) is one
    found = resolve_column(schema, words, prefer, kinds=("id",), fuzzy=False)
    if found is None or found.ref is None or found.ref[0] == found.table or found.ref[0] not in schema.tables:
        return None
    return found if wanted in (found.words, found.words[:-1]) else None


def match_groups(w: Words, p: Parsed, schema: Schema) -> None:
    # "survivors by sex": the sex of the table the question is already about (its filters' table).
    named = tables_named(schema, w.words)
    prefer = list(dict.fromkeys([*named, *(f.column.split(".")[0] for f in p.filters)]))
    i = 0
    while i < len(w.words):
        cue = next((c for c in _GROUP_CUES if w.starts_with(i, c)), None)
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
        size, target = _phrase(w, start, schema, prefer, p.via)
        if target is None:
            if (
                cue != ("each",)
                and cue != ("across",)
                and w.at(start)
                and w.free(start)
                and w.at(start) not in STOPWORDS
            ):
                p.unresolved_group = w.at(start)
            i += 1
            continue
        w.take(i, start - i + size)
        if isinstance(target, str) and not target.endswith(LABEL):
            target = _qualified_group(w, schema, target, i)
        if w.at(i - 1) in ("and", "also") and w.free(i - 1) and i > 0:
            p.add_group = True
            w.take(i - 1)
        if cue == ("split", "by"):
            p.add_group = True
        if cue == ("per",) and isinstance(target, str):
            p.per_groups.append(target)
        if cue[-1] in ("each", "every", "per") and isinstance(target, str):
            p.each_groups.append(target)
        _add_target(p, target)
        i = start + size
        # "by region and segment": a second grouping after "and".
        while w.at(i) == "and" and w.free(i):
            size, target = _phrase(w, i + 1, schema, prefer, p.via)
            if target is None:
                break
            w.take(i, 1 + size)
            _add_target(p, target)
            i += 1 + size
    # "which region has ...", "what category ...": the asked-for column groups the answer.
    if w.words and w.words[0] in ("which", "what") and w.free(1):
        size, target = _phrase(w, 1, schema, prefer, p.via)
        if isinstance(target, str):
            w.take(0, 1 + size)
            _add_target(p, target)
            p.which = True


def _qualified_group(w: Words, schema: Schema, key: str, at: int) -> str:
    """ "orders shipped to each country": ShipCountry rather than the customer's Country."""
    table, name = key.split(".", 1)
    chosen = schema.tables[table].column(name)
    if chosen is None:
        return key
    size = len(chosen.words)
    same = [c for c in schema.columns() if c.kind == chosen.kind and c.words[-size:] == chosen.words]
    if len(same) < 2:
        return key
    narrowed = _qualified(w, same, at)
    return narrowed[0].key if len(narrowed) < len(same) else key


def _add_target(p: Parsed, target: str | Measure) -> None:
    if isinstance(target, Measure):
        if p.measure is None:
            p.measure = target
        return
    if target not in p.groups:
        p.groups.append(target)


def match_measures_and_tables(w: Words, p: Parsed, schema: Schema) -> None:
    named = [
        t
        for i in range(len(w.words))
        for n in (2, 1)
        if w.free(i, n) and (t := resolve_table(schema, w.words[i : i + n], fuzzy=False))
    ]
    prefer = list(dict.fromkeys([g.split(".")[0] for g in p.groups] + named))  # each table once: linear
    for i in range(len(w.words) - 3):
        # "units are in stock": a column name read across a verb (UnitsInStock).
        if w.free(i, 4) and w.words[i + 1] in ("are", "is", "were", "was"):
            phrase = [w.words[i], *w.words[i + 2 : i + 4]]
            found = resolve_measure(schema, phrase, prefer) if p.measure is None else None
            if found is not None and found.words == (tuple(singular(x) for x in phrase),):
                p.measure = found
                w.take(i, 4)
    for size in (3, 2, 1):
        for i in range(len(w.words) - size + 1):
            if not w.free(i, size):
                continue
            words = w.words[i : i + size]
            if size > 1 and any(
                x in STOPWORDS and x not in ("order", "value", "total", "amount", "in", "on") for x in words
            ):
                continue
            if size > 1 and (words[0] in STOPWORDS or words[-1] in STOPWORDS) and words[0] != "order":
                continue
            if (
                size == 2
                and words[1] in ("value", "total", "amount")
                and (table := resolve_table(schema, words[:1], fuzzy=False))
                and resolve_measure(schema, words, [table]) is None
            ):
                # "order value", "order total": money per row of that table.
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
            if column is not None and _shown_beside(w, i, p, column):
                w.take(i, size)  # "the employees and their titles": a column of the rows listed
            elif column is not None and column.values and (p.order or p.listing_cue) and not p.groups:
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
        if word in LENGTH_ADJECTIVES and w.free(i):
            # "the 10 longest films": rank by the length column of the table named.
            length = length_column(schema, p.entities)
            if length is not None and (measure := schema.measure(length.key)) is not None:
                p.measure = p.measure or measure
                p.order = p.order or LENGTH_ADJECTIVES[word]
                if p.limit is None and (n := number(w.at(i - 1))) is not None:
                    p.limit = n
                    w.take(i - 1)
                w.take(i)
        if word in WEIGHT_ADJECTIVES and w.free(i) and p.measure is None:
            # "the 3 heaviest penguins"; "which species has the heaviest penguins": the weight of
            # its penguins on average.
            weight = weight_column(schema, p.entities)
            if weight is not None and (measure := schema.measure(weight.key)) is not None:
                p.measure = measure
                p.order = p.order or WEIGHT_ADJECTIVES[word]
                if p.groups and p.agg is None:
                    p.agg = "avg"
                if p.limit is None and (n := number(w.at(i - 1))) is not None:
                    p.limit = n
                    w.take(i - 1)
                w.take(i)
        if word in _LENGTH_NOUNS and w.free(i) and p.measure is None:
            # "the average track length": the column holding a length in time (Milliseconds).
            length = _length_named(schema, p)
            if length is not None and (measure := schema.measure(length.key)) is not None:
                p.measure = measure
                w.take(i)
        if word in PRICE_ADJECTIVES and w.free(i):
            # "the most expensive product", "the 3 cheapest products": rank by a price column.
            prices = [m for m in schema.measures if set(words_of(m.header)) & PRICE_HINTS and not m.derived]
            near = p.entities + [g.split(".")[0] for g in p.groups]
            prices.sort(key=lambda m: 0 if m.table in near else 1)
            if prices:
                p.price_ranked = p.measure is None
                p.measure = p.measure or prices[0]
                p.order = p.order or PRICE_ADJECTIVES[word]
                if p.limit is None and (n := number(w.at(i - 1))) is not None:
                    p.limit = n
                    w.take(i - 1)
                w.take(i)
    if p.selling and p.measure is None:
        p.measure = quantity_measure(schema)  # "best-selling": ranked by the quantity sold
