"""A question's words while it is being read, and the plan pieces found in them so far."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from trellis_jupyter.local.planner.dates import DateRange
from trellis_jupyter.local.planner.plan import Filter
from trellis_jupyter.local.planner.schema import Column, Measure

__all__ = ["NUMBERS", "Parsed", "Words", "number"]

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "twenty": 20, "fifty": 50, "hundred": 100}  # fmt: skip


@dataclass
class Parsed:
    words: list[str]
    chart: str | None = None
    chart_asked: bool = False
    range: DateRange | None = None
    grain: str | None = None
    grain_by: bool = False  # the grain was named after "by", "per", "each" ("by year"), not "yearly"
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
    unused_numbers: list[str] = field(default_factory=list)  # numbers no piece of the plan took
    compare: bool = False  # "compare", "versus", "more G or PG": one row per compared value
    selling: bool = False  # "best-selling": ranked by the quantity sold
    popular: bool = False  # "most popular": ranked by how many rows refer to it
    price_ranked: bool = False  # the measure came from "expensive" / "cheapest": a price, any price
    notes: list[str] = field(default_factory=list)  # said with the answer: "length taken in minutes"
    unusable: list[str] = field(default_factory=list)  # constraints read but not applicable, with why
    proper: frozenset[str] = frozenset()  # words written with a capital inside the question
    per_groups: list[str] = field(default_factory=list)  # groupings named after "per"
    each_groups: list[str] = field(default_factory=list)  # after "each", "every", "per"
    parent: str | None = None  # a self-referencing column named ("report to": Employees.ReportsTo)
    parent_at: int = -1  # the word where it was named: values after it pick the other row
    parent_filters: list[Filter] = field(default_factory=list)
    via: dict[str, str] = field(default_factory=dict)  # grouping -> the foreign key that named it
    unit: tuple[str, float] | None = None  # "in minutes" of a Milliseconds measure: (unit, divisor)


class Words:
    """The question's words with a mask of those already understood."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.used = [False] * len(words)
        # Where each word starts in " ".join(words), for text_span (a bisection, not a scan).
        self.starts: list[int] = []
        pos = 0
        for word in words:
            self.starts.append(pos)
            pos += len(word) + 1

    def free(self, i: int, n: int = 1) -> bool:
        return i + n <= len(self.words) and not any(self.used[i : i + n])

    def take(self, i: int, n: int = 1) -> None:
        for k in range(i, min(i + n, len(self.words))):
            self.used[k] = True

    def at(self, i: int) -> str:
        return self.words[i] if 0 <= i < len(self.words) else ""

    def starts_with(self, i: int, seq: tuple[str, ...]) -> bool:
        """Whether the free words at ``i`` are ``seq``."""
        return tuple(self.words[i : i + len(seq)]) == seq and self.free(i, len(seq))

    def text_span(self, span: tuple[int, int]) -> None:
        """Take the words lying in a character span of ``" ".join(words)``."""
        i = bisect.bisect_left(self.starts, span[0])
        while i < len(self.words) and self.starts[i] + len(self.words[i]) <= span[1]:
            self.used[i] = True
            i += 1


def number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return NUMBERS.get(word)
