"""The answer in words: titles, a one- or two-sentence markdown summary of the result, and numbers.

Everything here reads a plan and a result; nothing queries the database. The wording states what
was computed ("Total revenue by region this year") so a reader can check that the planner read the
question the way it was meant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trellis_jupyter.local.planner.lexicon import plural, words_of
from trellis_jupyter.local.planner.plan import (
    AGG_LABELS,
    LABEL,
    Filter,
    Plan,
    column_of,
    fans_out,
    measure_header,
)
from trellis_jupyter.local.planner.schema import Measure, Schema

__all__ = ["describe_measure", "fmt", "humanize", "result_text", "title"]

_MONTHS_TEXT = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_MONTH_WORDS = frozenset(_MONTHS_TEXT.split())


# Nouns with no plural of their own ("2 staff", not "2 staffs").
_UNCOUNTABLE = frozenset(
    {"staff", "inventory", "information", "equipment", "data", "media", "music", "news", "software"}
)


def noun(name: str, count: float | None = None) -> str:
    """A table or column name as a plain noun for ``count`` things: ``MediaType`` -> ``media types``,
    ``order_items`` -> ``order items``, ``Customer`` with 1 -> ``customer``."""
    words = list(words_of(name)) or [name.lower()]
    if count != 1 and words[-1] not in _UNCOUNTABLE:
        words[-1] = plural(words[-1])
    return " ".join(words)


def humanize(header: str) -> str:
    """A column name as an axis label: ``average_order_value`` -> ``Average order value``."""
    text = header.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def fmt(value: Any, money: bool = False) -> str:
    """A number as people write it: 4,112 or 1,234,567.89."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and not money:
            return f"{int(value):,}"
        return f"{value:,.2f}"
    return str(value)


def pretty_range(label: str | None) -> str:
    if not label:
        return ""
    words = []
    for word in label.split():
        if word.lower() in _MONTH_WORDS:
            word = word.capitalize()
        elif word[:1] == "q" and word[1:].isdigit():
            word = word.upper()
        words.append(word)
    return " ".join(words)


def _group_word(ref: str) -> str:
    table, column = ref.split(".", 1)
    return noun(table, 1) if column == LABEL else noun(column, 1)


def _single_value_groups(plan: Plan) -> set[str]:
    """Groupings whose column a filter holds to one value: "by region" with "region East" says nothing."""
    return {f.column for f in plan.filters if f.op == "=" and len(f.values) == 1 and f.column in plan.groups}


_TIME_UNITS = frozenset({"milliseconds", "millisecond", "seconds", "second", "minutes", "minute", "hours"})


def describe_measure(schema: Schema, plan: Plan) -> str:
    """What the value column holds: "number of orders", "total revenue", "average order value"."""
    measure = schema.measure(plan.measure) if plan.measure else None
    if plan.distinct:
        return f"number of distinct {plan.distinct.split('.', 1)[1].replace('_', ' ')} values"
    if measure is None:
        return f"number of {noun(plan.table)}"
    if plan.agg == "avg" and plan.per:
        return humanize(measure_header(plan, measure)).lower()
    name = measure.name
    if plan.unit and plan.divisor:
        # A column named by its unit (Milliseconds) shown in another: "length in minutes", not
        # "milliseconds in minutes".
        name = f"{'length' if measure.name.lower() in _TIME_UNITS else measure.name} in {plan.unit}"
    if plan.agg == "sum" and f"{plan.table}.{LABEL}" in plan.groups:
        return name  # one row per group: "products by price"
    return f"{AGG_LABELS.get(plan.agg, plan.agg)} {name}"


# Column names that say nothing without their table: "tracks with Name Grunge" names a playlist.
_BARE_NAMES = frozenset({("name",), ("title",)})


def filter_text(f: Filter, table: str = "") -> str:
    """ "region East", "status not cancelled", "no shipped date": a filter as the answer says it."""
    owner, column = f.column.split(".", 1)
    if owner != table and words_of(column) in _BARE_NAMES:
        column = f"{noun(owner, 1)} {column.lower()}"  # "tracks with playlist name Grunge"
    column = column.replace("_", " ")
    if f.op in ("is null", "not null"):
        return f"no {column}" if f.op == "is null" else f"a {column}"
    values = (" and " if f.op == "!=" else " or ").join(str(v) for v in f.values)
    op = {"=": "", "!=": "not ", ">": "over ", ">=": "at least ", "<": "under ", "<=": "at most "}.get(
        f.op, ""
    )
    return f"{column} {op}{values}"


def conditions(plan: Plan) -> str:
    """ "with region East and status cancelled last month" (leading space, or empty)."""
    parts = []
    if plan.filters:
        parts.append("with " + " and ".join(filter_text(f, plan.table) for f in plan.filters))
    if plan.parent and plan.parent_filters:
        column = plan.parent.split(".", 1)[1].replace("_", " ")
        parts.append(
            f"whose {column} is the one with " + " and ".join(filter_text(f) for f in plan.parent_filters)
        )
    if plan.range_label:
        date_table = (plan.date or plan.table).split(".", 1)[0]
        lead = (
            f"with {date_table.replace('_', ' ')} "
            if plan.kind == "aggregate" and date_table != plan.table and not plan.measure
            else ""
        )
        parts.append(lead + pretty_range(plan.range_label))
    return (" " + " ".join(parts)) if parts else ""


def title(schema: Schema, plan: Plan) -> str:
    if plan.kind == "list":
        return humanize(noun(plan.table)) + conditions(plan)
    groups = [plan.grain] if plan.grain else []
    fixed = _single_value_groups(plan)
    groups += [_group_word(g) for g in plan.groups if g not in fixed]
    head = humanize(describe_measure(schema, plan))
    if plan.limit and plan.groups:
        word = "Top" if plan.order != "asc" else "Bottom"
        # "Top product by ...", not "Top 1 products by ..."
        ranked = _group_word(plan.groups[0])
        which = ranked if plan.limit == 1 else f"{plan.limit} {plural(ranked)}"
        head = f"{word} {which} by {describe_measure(schema, plan)}"
        groups = [g for g in groups if g != ranked]
    if groups:
        head += " by " + " and ".join(groups)
    return head + conditions(plan)


def label(row: Sequence[Any]) -> str:
    """A result row's group columns as one label: "2025-03 / East"."""
    return " / ".join(str(c).strip() for c in row[:-1])  # "English   " padded in the data reads "English"


def result_text(
    schema: Schema,
    plan: Plan,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    row_count: int,
    truncated: bool,
) -> str:
    """One or two sentences stating the result."""
    measure: Measure | None = schema.measure(plan.measure) if plan.measure else None
    money = bool(measure and measure.money)
    where = conditions(plan)
    if plan.kind == "list":
        things = noun(plan.table, row_count)
        if not rows:
            return f"No {noun(plan.table)} matched{where or ' the question'}."
        if plan.limit and plan.sort and column_of(schema, plan.sort).kind != "date":
            # "the 5 biggest tips": ranked by a number, not by how recent they are.
            which = "highest" if plan.order == "desc" else "lowest"
            sort = plan.sort.split(".", 1)[1].replace("_", " ")
            if len(rows) == 1:
                return f"Here is the {noun(plan.table, 1)}{where} with the {which} {sort}."
            return (
                f"Here are the {fmt(len(rows))} {noun(plan.table, len(rows))}{where} with the {which} {sort}."
            )
        if plan.limit and plan.sort:
            which = "most recent" if plan.order == "desc" else "earliest"
            sort = plan.sort.split(".", 1)[1].replace("_", " ")
            if len(rows) == 1:
                return f"Here is the {which} {noun(plan.table, 1)}{where} (by {sort})."
            return f"Here are the {fmt(len(rows))} {which} {noun(plan.table, len(rows))}{where} (by {sort})."
        text = f"Found {fmt(row_count)} {things}{where}."
        if truncated:
            text += f" Showing the first {fmt(len(rows))}."
        return text + _notes(plan)
    what = describe_measure(schema, plan)
    if not plan.groups and not plan.grain:
        value = rows[0][-1] if rows else None
        if plan.distinct:
            column = plan.distinct.split(".", 1)[1].replace("_", " ")
            return f"There are {fmt(value or 0)} distinct {column} values{where}."
        if measure is None:
            verb = "was" if value == 1 else "were"
            return f"There {verb} {fmt(value or 0)} {noun(plan.table, value or 0)}{where}." + _notes(plan)
        if value is None:
            return f"There is no {what} to report{where}: no rows matched."
        return f"The {what}{where} was **{fmt(value, money)}**." + _notes(plan)
    if not rows:
        return f"No rows matched{where or ' the question'}, so there is no {what} to show."
    return _grouped_text(schema, plan, rows, row_count, truncated, measure, where) + _notes(plan)


def _notes(plan: Plan) -> str:
    return "".join(f" ({note}.)" for note in plan.notes)


def _grouped_text(
    schema: Schema,
    plan: Plan,
    rows: Sequence[Sequence[Any]],
    row_count: int,
    truncated: bool,
    measure: Measure | None,
    where: str,
) -> str:
    money = bool(measure and measure.money)
    what = describe_measure(schema, plan)
    values = [r[-1] for r in rows]
    numbers = [v for v in values if isinstance(v, (int, float))]
    if plan.grain and len(plan.groups) == 0 and len(rows) == 1:
        return f"{humanize(what)}{where}: **{fmt(rows[0][-1], money)}**, all in {label(rows[0])}."
    if plan.grain and len(plan.groups) == 0:
        best = max(rows, key=lambda r: r[-1] if r[-1] is not None else float("-inf"))
        worst = min(rows, key=lambda r: r[-1] if r[-1] is not None else float("inf"))
        if plan.order:
            # Rows ranked by value, not in time order: a "from ... to ..." would read as a range.
            first = "highest" if plan.order != "asc" else "lowest"
            span = f"{fmt(len(rows))} {plan.grain}s, {first} first"
        else:
            span = f"{fmt(len(rows))} {plan.grain}s from {label(rows[0])} to {label(rows[-1])}"
        if best[-1] == worst[-1]:  # "the highest was 2025-03 with 1, the lowest 2025-03 with 1"
            text = f"{humanize(what)} by {plan.grain}{where}: {span}, **{fmt(best[-1], money)}** in each."
        else:
            text = (
                f"{humanize(what)} by {plan.grain}{where}: {span}. The highest was {label(best)} with "
                f"**{fmt(best[-1], money)}**, the lowest {label(worst)} with {fmt(worst[-1], money)}."
            )
        if plan.agg in ("sum", "count") and numbers and not plan.limit:
            text += f" Altogether: {fmt(round(sum(numbers), 2) if money else sum(numbers), money)}."
        return text
    if plan.limit:
        listed = [f"{label(r)} ({fmt(r[-1], money)})" for r in rows[:10]]
        joined = ", ".join(listed[:-1]) + (" and " if len(listed) > 1 else "") + listed[-1]
        head = title(schema, plan)
        if plan.limit == 1 and len(rows) == 1:
            rank = "highest" if plan.order != "asc" else "lowest"
            return f"{label(rows[0])} had the {rank} {what}{where}: **{fmt(rows[0][-1], money)}**."
        return f"{head}: {joined}."
    if len(rows) == 1 and len(plan.groups) == 1:
        # One group: its value is the whole answer ("There were 762 orders with region East last month").
        value = rows[0][-1]
        shown = plan.groups[0] in _single_value_groups(plan)
        where_all = "" if shown else f", all with {_group_word(plan.groups[0])} {label(rows[0])}"
        if measure is None and plan.agg == "count" and not plan.distinct:
            verb = "was" if value == 1 else "were"
            return f"There {verb} {fmt(value)} {noun(plan.table, value)}{where}{where_all}."
        return f"The {what}{where} was **{fmt(value, money)}**{where_all}."
    ordered = sorted(rows, key=lambda r: r[-1] if r[-1] is not None else float("-inf"), reverse=True)
    lead = f"{title(schema, plan)}: "
    overlapping = fans_out(schema, plan)  # a film in two stores is in both groups: no grand total
    if (
        len(plan.groups) == 1
        and not truncated
        and plan.agg in ("sum", "count")
        and not plan.distinct
        and not overlapping
    ):
        # Groups of one column split the whole, so their sum is the total ("There were 4,112 orders ...").
        total = round(sum(numbers), 2) if money else sum(numbers)
        if measure is None:
            lead = f"There were {fmt(total)} {noun(plan.table, total)}{where}; "
        else:
            lead = f"The {what}{where} was {fmt(total, money)}; "
    if len(ordered) > 1 and ordered[0][-1] == ordered[-1][-1] and not truncated:
        # A tie all round: "Germany led with 122; USA was lowest with 122" would not read.
        names = [label(r) for r in ordered]
        kind = plural(_group_word(plan.groups[0])) if plan.groups else "groups"
        who = " and ".join(names) if len(names) == 2 else f"all {fmt(len(names))} {kind}"
        return f"{lead}{who} had {fmt(ordered[0][-1], money)} each."
    text = f"{lead}**{label(ordered[0])}** led with {fmt(ordered[0][-1], money)}"
    if len(ordered) > 2:
        text += f", followed by {label(ordered[1])} ({fmt(ordered[1][-1], money)})"
    if len(ordered) > 1:
        text += f"; {label(ordered[-1])} was lowest with {fmt(ordered[-1][-1], money)}"
    text += "."
    if len(ordered) > 3 and len(plan.groups) == 1 and not plan.grain:
        text += f" ({fmt(row_count)} {plural(_group_word(plan.groups[0]))} in all.)"
    return text
