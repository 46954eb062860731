"""Date ranges in questions: "last month", "in 2025", "since March", "between X and Y", "the last 30 days".

:func:`find_range` finds the first date phrase in a normalised question, resolves it against
``today`` and returns a :class:`DateRange` (start inclusive, end exclusive, either may be open)
with the span of text it used, so the caller can cut it out. Weeks start on Monday.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["DateRange", "find_range", "month_shift"]

MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "ninety": 90,
}  # fmt: skip
_UNIT = r"(day|week|month|quarter|year)s?"
# A single point in time: an ISO date, "march 5 2025", "march 2025", "q3 2025", "march", "2025".
_POINT = (
    r"(?:\d{4}-\d{2}-\d{2}|\d{4}-\d{2}|"
    + _MONTH
    + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|"
    + r"\d{1,2}(?:st|nd|rd|th)?\s+"
    + _MONTH
    + r"\s+\d{4}|"
    + _MONTH
    + r"\s+\d{4}|q[1-4]\s+\d{4}|q[1-4]|"
    + _MONTH
    + r"|(?:19|20)\d{2})"
)


@dataclass(frozen=True)
class DateRange:
    start: dt.date | None
    end: dt.date | None  # exclusive
    label: str  # how the answer says it: "last month", "in 2025"
    span: tuple[int, int] = (0, 0)

    @property
    def days(self) -> int | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days


def month_shift(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the month's end (Mar 31 - 1 month = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (next_first - dt.timedelta(days=1)).day))


def _period(unit: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar period of ``unit`` containing ``day``."""
    if unit == "day":
        return day, day + dt.timedelta(days=1)
    if unit == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=7)
    if unit == "month":
        start = day.replace(day=1)
        return start, month_shift(start, 1)
    if unit == "quarter":
        start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return start, month_shift(start, 3)
    start = dt.date(day.year, 1, 1)
    return start, dt.date(day.year + 1, 1, 1)


def _shift(unit: str, day: dt.date, count: int) -> dt.date:
    if unit == "day":
        return day + dt.timedelta(days=count)
    if unit == "week":
        return day + dt.timedelta(days=7 * count)
    if unit == "month":
        return month_shift(day, count)
    if unit == "quarter":
        return month_shift(day, 3 * count)
    return month_shift(day, 12 * count)


def _point(text: str, today: dt.date, *, past: bool = True) -> tuple[dt.date, dt.date] | None:
    """The period a point phrase names; a bare month is the latest one not after today."""
    text = text.strip().replace(",", "")
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        return day, day + dt.timedelta(days=1)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return _period("month", dt.date(int(m[1]), int(m[2]), 1))
    if m := re.fullmatch(r"(" + _MONTH + r")\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})", text):
        day = dt.date(int(m[3]), MONTHS[m[1]], int(m[2]))
        return day, day + dt.timedelta(days=1)
    if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+(" + _MONTH + r")\s+(\d{4})", text):
        day = dt.date(int(m[3]), MONTHS[m[2]], int(m[1]))
        return day, day + dt.timedelta(days=1)
    if m := re.fullmatch(r"(" + _MONTH + r")\s+(\d{4})", text):
        return _period("month", dt.date(int(m[2]), MONTHS[m[1]], 1))
    if m := re.fullmatch(r"q([1-4])(?:\s+(\d{4}))?", text):
        year = int(m[2]) if m[2] else today.year
        start = dt.date(year, 3 * int(m[1]) - 2, 1)
        if not m[2] and past and start > today:
            start = start.replace(year=year - 1)
        return start, month_shift(start, 3)
    if m := re.fullmatch(_MONTH, text):
        start = dt.date(today.year, MONTHS[text], 1)
        if past and start > today:
            start = start.replace(year=today.year - 1)
        return _period("month", start)
    if re.fullmatch(r"(?:19|20)\d{2}", text):
        return _period("year", dt.date(int(text), 1, 1))
    return None


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word, 1)


# Words that make the number after them a bound on an amount ("over 2000"), never a year.
_BOUND_BEFORE = re.compile(
    r"\b(?:over|above|under|below|than|least|most|exceeding|exceeds|exceed|equal to)\s+$"
)


def find_range(text: str, today: dt.date) -> DateRange | None:
    """The first date range named in ``text`` (lower-case), or None."""
    rules: list[tuple[str, object]] = [
        # "between March 1 and May 31, 2017": the year written once, after the second day.
        (r"\b(?:between|from)\s+(" + _MONTH + r"\s+\d{1,2})(?:st|nd|rd|th)?\s+(?:and|to|until|through|-)\s+("
         + _MONTH + r"\s+\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b",
         "between_year"),
        (r"\b(?:between|from)\s+(" + _POINT + r")\s+(?:and|to|until|through|-)\s+(" + _POINT + r")\b",
         "between"),
        (r"\b(?:in\s+)?the\s+(?:last|past|previous)\s+(\d+|" + "|".join(_NUMBER_WORDS) + r")\s+"
         + _UNIT + r"\b",
         "rolling"),
        (r"\b(?:last|past|previous)\s+(\d+|" + "|".join(_NUMBER_WORDS) + r")\s+" + _UNIT + r"\b", "rolling"),
        (r"\b(year|month|quarter|week)[\s-]to[\s-]date\b|\b(ytd|mtd|qtd)\b", "todate"),
        (r"\b(this|last|previous|past|next|current)\s+(day|week|month|quarter|year)\b", "relative"),
        (r"\b(today|yesterday|tomorrow)\b", "named"),
        (r"\b(?:since)\s+(" + _POINT + r")\b", "since"),
        (r"\b(?:after)\s+(" + _POINT + r")\b", "after"),
        (r"\b(?:before|until|up to)\s+(" + _POINT + r")\b", "before"),
        (r"\b(?:in|during|for|of|on|from)\s+(" + _POINT + r")\b", "point"),  # "orders from 2017"
        (r"\b(\d{4}-\d{2}-\d{2}|" + _MONTH + r"\s+\d{4}|q[1-4]\s+\d{4}|(?:19|20)\d{2})\b", "point"),
    ]  # fmt: skip
    best: tuple[int, DateRange] | None = None
    for pattern, kind in rules:
        for m in re.finditer(pattern, text):
            if _BOUND_BEFORE.search(text, 0, m.start()) and re.fullmatch(r"(?:19|20)\d{2}", m[0]):
                continue  # "payments over 2000", "more than 1999": an amount, not a year
            found = _resolve(kind, m, today)
            if found is not None:
                candidate = DateRange(found[0], found[1], found[2], (m.start(), m.end()))
                if best is None or m.start() < best[0]:
                    best = (m.start(), candidate)
                break
    return best[1] if best else None


def _resolve(
    kind: object, m: re.Match[str], today: dt.date
) -> tuple[dt.date | None, dt.date | None, str] | None:
    phrase = m.group(0).strip()
    if kind == "between":
        first, second = _point(m[1], today), _point(m[2], today)
        if first is None or second is None:
            return None
        return first[0], second[1], f"between {m[1]} and {m[2]}"
    if kind == "rolling":
        count, unit = _count(m[1]), m[2]
        start = _shift(unit, today, -count)
        return start, today + dt.timedelta(days=1), f"in the last {count} {unit}{'s' if count != 1 else ''}"
    if kind == "todate":
        unit = m[1] or {"ytd": "year", "mtd": "month", "qtd": "quarter"}[m[2]]
        return _period(unit, today)[0], today + dt.timedelta(days=1), f"{unit} to date"
    if kind == "relative":
        which, unit = m[1], m[2]
        offset = {"this": 0, "current": 0, "last": -1, "previous": -1, "past": -1, "next": 1}[which]
        start, end = _period(unit, _shift(unit, _period(unit, today)[0], offset))
        word = {"current": "this", "previous": "last", "past": "last"}.get(which, which)
        return start, end, f"{word} {unit}"
    if kind == "named":
        day = today + dt.timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[m[1]])
        return day, day + dt.timedelta(days=1), m[1]
    if kind == "between_year":
        first, second = _point(f"{m[1]} {m[3]}", today), _point(f"{m[2]} {m[3]}", today)
        if first is None or second is None or second[1] <= first[0]:
            return None
        return first[0], second[1], f"between {m[1]} and {m[2]} {m[3]}"
    if kind in ("since", "after", "before", "point"):
        # "may" is a month only after "in" / "during" ("orders that may ..." is not a date).
        period = _point(m[1], today)
        if period is None:
            return None
        if kind == "since":
            return period[0], None, f"since {m[1]}"
        if kind == "after":  # "after 2013" starts once 2013 is over
            return period[1], None, f"after {m[1]}"
        if kind == "before":
            return None, period[0], f"before {m[1]}"
        if m[1] == "may" and not phrase.startswith(("in ", "during ")):
            return None
        return period[0], period[1], f"in {m[1]}"
    return None
