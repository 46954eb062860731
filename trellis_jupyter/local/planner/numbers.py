"""Comparisons with numbers: "freight above 500", "over 100 dollars", "fewer than 10 units in stock",
"longer than 5 minutes" against a Milliseconds column, "between 10 and 20", "a rental rate of 4.99".

A number is read with its unit (dollars, minutes, hours, KB/MB ...) and converted to the column's
own unit where the column's name states one; a unit that cannot apply is reported, never ignored.
"""

from __future__ import annotations

import re

from trellis_jupyter.local.planner.lexicon import (
    CURRENCY_WORDS,
    LENGTH_HINTS,
    MASS_UNITS,
    MONEY_HINTS,
    PRICE_HINTS,
    SIZE_UNITS,
    STOPWORDS,
    TIME_UNITS,
    WEIGHT_HINTS,
    WEIGHT_VERBS,
)
from trellis_jupyter.local.planner.parsed import Parsed, Words
from trellis_jupyter.local.planner.plan import Filter
from trellis_jupyter.local.planner.resolve import resolve_column, resolve_table, tables_named
from trellis_jupyter.local.planner.schema import Column, Schema

__all__ = ["compared_with_number", "length_column", "match_numeric_filters", "weight_column"]

_COMPARE = {"over": ">", "above": ">", "more than": ">", "greater than": ">", "higher than": ">",
            "bigger than": ">", "larger than": ">", "longer than": ">", "at least": ">=", "under": "<",
            "below": "<", "less than": "<", "fewer than": "<", "lower than": "<", "smaller than": "<",
            "shorter than": "<", "cheaper than": "<", "at most": "<=", "exactly": "=", "equal to": "=",
            "of": "=", "is": "=", "equals": "="}  # fmt: skip
_LENGTH_OPS = {"longer than", "shorter than"}  # the column is implied: a length in time
_PRICE_OPS = {"cheaper than"}
# Words that are aggregates as often as column names: a column only of a table the question names
# ("invoices with a total over 15": Invoice.Total).
_OWN_ONLY = ("total", "amount")
_NUMBER = r"(\d+(?:\.\d+)?)"
_UNIT_WORDS = sorted({*CURRENCY_WORDS, *TIME_UNITS, *SIZE_UNITS, *MASS_UNITS}, key=len, reverse=True)
_KINDS = (("time", TIME_UNITS), ("size", SIZE_UNITS), ("mass", MASS_UNITS))
_VERBS = (
    "is",
    "was",
    "are",
    "were",
    "of",
    "priced",
    "costs",
    "cost",
    "costing",
    "has",
    "have",
    "had",
    "with",
)


_COMPARED = re.compile(r"(?:(?:" + "|".join(_VERBS) + r") )?(?:" + "|".join(_COMPARE) + r") \d")


def compared_with_number(words: list[str], i: int) -> bool:
    """Whether the word at ``i`` is compared with a number next: "a total over 15", "total of 13.86"."""
    return bool(_COMPARED.match(" ".join(words[i + 1 : i + 5])))


def _unit_of(column: Column) -> tuple[str, float] | None:
    """The unit a column's name states: ("time", 0.001) for Milliseconds, ("size", 1) for Bytes."""
    for word in column.words:
        if word in TIME_UNITS:
            return "time", TIME_UNITS[word]
        if word in SIZE_UNITS or word == "byte":
            return "size", SIZE_UNITS.get(word, 1.0)
        if word in MASS_UNITS:
            return "mass", MASS_UNITS[word]  # body_mass_g: grams
    return None


def _with_unit(column: Column, value: float, unit: str | None) -> tuple[float | None, str | None]:
    """``value`` in the column's own unit, and a note when the unit had to be assumed.

    Returns (None, reason) when the unit cannot apply to this column.
    """
    if unit is None:
        return value, None
    name = " ".join(column.words)
    if unit in CURRENCY_WORDS:
        if set(column.words) & (MONEY_HINTS | PRICE_HINTS | {"freight"}):
            return value, None
        return None, f"{name} is not an amount of money"
    own = _unit_of(column)
    kind, size = next((k, units[unit]) for k, units in _KINDS if unit in units)
    if own is not None:
        if own[0] != kind:
            return None, f"{name} is not measured in {unit}"
        return value * size / own[1], None
    if kind == "time" and set(column.words) & LENGTH_HINTS:
        # The column does not say its unit ("length"): take it in the question's unit, except that
        # lengths asked in hours are taken in minutes (a column of whole hours is rare).
        assumed = "minutes" if unit in ("hour", "hours", "hr", "hrs") else unit
        assumed = assumed if assumed.endswith("s") else assumed + "s"
        return value * TIME_UNITS[unit] / TIME_UNITS[assumed], f"I took {name} to be in {assumed}"
    return None, f"I could not tell which unit {name} is in"


def match_numeric_filters(w: Words, p: Parsed, schema: Schema) -> None:
    """Comparisons with a number: "freight above 500", "over 100 dollars", "fewer than 10 units in
    stock", "longer than 5 minutes" (a Milliseconds column), "a rental rate of 4.99"."""
    text = " ".join(w.words)
    tables = tables_named(schema, w.words)
    ops = "|".join(sorted(_COMPARE, key=len, reverse=True))
    units = "|".join(_UNIT_WORDS)
    pattern = re.compile(
        r"\b(?:([a-z_]+(?: [a-z_]+){0,2}) )?(?:(?:" + "|".join(_VERBS) + r") )?(" + ops + r") " + _NUMBER
        + r"(?: (" + units + r"))?(?: (?!(?:and|or|but)\b)([a-z_]+(?: (?!(?:and|or|but)\b)[a-z_]+){0,2}))?\b"
    )  # fmt: skip
    last: tuple[Column, int] | None = None  # the previous comparison's column and where it ended
    for m in pattern.finditer(text):
        before, op_words, amount, unit, after = m[1] or "", m[2], m[3], m[4], m[5] or ""
        op = _COMPARE[op_words]
        if op_words in ("of", "is", "equals") and not before:
            continue
        column, start, end = None, m.start(2), m.end(4) if unit else m.end(3)
        candidates: list[tuple[list[str], int, int]] = []
        words_before = before.split()
        for k in range(len(words_before)):  # "unit price over 20", "price over 20"
            phrase = words_before[k:]
            candidates.append((phrase, m.start(1) + len(" ".join(words_before[:k])) + (1 if k else 0), -1))
        words_after = after.split()
        for k in range(len(words_after), 0, -1):  # "fewer than 10 units in stock"
            candidates.append((words_after[:k], -1, m.start(5) + len(" ".join(words_after[:k]))))
        for phrase, phrase_start, phrase_end in candidates:
            if any(
                x in STOPWORDS and x not in ("in", "on", "order", "value", *_OWN_ONLY)
                for x in (phrase[0], phrase[-1])
            ):
                continue
            if resolve_table(schema, phrase, fuzzy=False) is not None:
                continue  # "orders with more than 5 ...": a table's name is not a column (UnitsOnOrder)
            found = resolve_column(schema, phrase, tables, kinds=("number",), fuzzy=False)
            if found is not None and set(phrase) & set(_OWN_ONLY) and found.table not in tables:
                continue  # "customers with a total over 100": their invoices' sum, not one invoice's
            if found is not None:
                column = found
                start = phrase_start if phrase_start >= 0 else start
                end = max(end, phrase_end)
                break
        verb = _verb_before(text, m.start(2), _PRICE_VERB)
        priced = verb is not None
        if verb is not None and column is None:
            start = verb  # the verb is read as the price it names
        if column is None and (op_words in _LENGTH_OPS | _PRICE_OPS or unit or priced):
            # "products that cost more than 1000": the verb names the price.
            column = _implied_column(
                schema, tables, "cheaper than" if priced and not unit else op_words, unit
            )
        weighs = _verb_before(text, m.start(2), _WEIGHT_VERB)
        if column is None and weighs is not None:
            column = weight_column(schema, tables)  # "penguins that weigh over 5000 grams"
            start = weighs
        if column is None and not unit and all(x in STOPWORDS for x in words_after):
            column = _money_of_rows(schema, words_before, tables)  # "payments over 2000": their amount
        if column is None and last is not None and text[last[1] : m.start(2)].split() in (["and"], ["but"]):
            column = last[0]  # "freight under 10 and over 5", "at least 10 and at most 20"
            start = min(start, last[1])
        if column is None:
            continue
        value, note = _with_unit(column, float(amount), unit)
        if value is None:
            p.unusable.append(f"{m[0].strip()!r} ({note})")
            w.text_span((start, end))
            continue
        if note:
            p.notes.append(note)
        if unit and value != float(amount):
            shown = int(value) if float(value).is_integer() else round(value, 6)
            p.notes.append(f"{amount} {unit} is {shown} in {column.name}")
        number = int(value) if float(value).is_integer() and "." not in amount else value
        p.filters.append(Filter(column.key, op, [number]))
        w.text_span((start, end))
        last = (column, end)


_PRICE_VERB = re.compile(r"\b(?:cost|costs|costing|priced)\s*$")
_WEIGHT_VERB = re.compile(r"\b(?:" + "|".join(sorted(WEIGHT_VERBS)) + r")\s*$")


def _verb_before(text: str, at: int, verb: re.Pattern[str]) -> int | None:
    """Where ``verb`` ends the text just before ``at`` ("cost" in "that cost over 5"), else None.

    Only the last 40 characters are searched: searching the whole text before each number made a
    question with many numbers quadratic in its length.
    """
    window = max(0, at - 40)
    found = verb.search(text, window, at)
    if found is None or (found.start() > 0 and text[found.start() - 1].isalnum()):
        return None  # no verb, or one cut out of a longer word by the window
    return found.start()


def weight_column(schema: Schema, tables: list[str]) -> Column | None:
    """The one column holding a weight among ``tables`` (weight, body_mass_g), else None."""
    for table in tables:
        found = [
            c for c in schema.tables[table].columns if c.kind == "number" and set(c.words) & WEIGHT_HINTS
        ]
        if len(found) == 1:
            return found[0]
    return None


_LENGTH_ORDER = ("length", "runtime", "millisecond", "duration", "second", "minute", "hour", "ms")


def length_column(schema: Schema, tables: list[str]) -> Column | None:
    """The column holding a length in time among ``tables``: length before runtime before duration."""
    for hint in _LENGTH_ORDER:
        for table in tables:
            for c in schema.tables[table].columns:
                if c.kind == "number" and hint in c.words:
                    return c
    return None


def _money_of_rows(schema: Schema, before: list[str], tables: list[str]) -> Column | None:
    """The amount a row is worth, when a number is compared with rows themselves ("payments over
    2000", "invoices above 15"): the one money column of the table named just before, else None."""
    for k in range(len(before)):
        table = resolve_table(schema, before[k:], fuzzy=False)
        if table is not None and table in tables:
            money = [
                c
                for c in schema.tables[table].columns
                if c.kind == "number" and c.flag is None and set(c.words) & (MONEY_HINTS | PRICE_HINTS)
            ]
            return money[0] if len(money) == 1 else None
    return None


def _implied_column(schema: Schema, tables: list[str], op_words: str, unit: str | None) -> Column | None:
    """The column a comparison without a column name is about: a length for "longer than 5 minutes",
    a price or amount for "over 100 dollars"."""
    if op_words in _LENGTH_OPS or (unit and (unit in TIME_UNITS)):
        return length_column(schema, tables)
    if op_words in _PRICE_OPS or (unit and unit in CURRENCY_WORDS):
        hints = MONEY_HINTS | PRICE_HINTS
    elif unit and unit in SIZE_UNITS:
        hints = frozenset({"byte", "bytes", "size"})
    else:
        return None
    for table in tables:
        found = [c for c in schema.tables[table].columns if c.kind == "number" and (set(c.words) & hints)]
        if len(found) == 1:
            return found[0]
    return None
