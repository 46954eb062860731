"""From a parsed question to a :class:`Plan`: choosing the base table, the date column, the grain.

:func:`build_plan` makes a plan for a question that stands on its own; it raises
:class:`Unanswerable` (with what it understood) when a piece is missing or a word is unexplained,
so a half-read question is declined rather than answered wrongly.
"""

from __future__ import annotations

from trellis_jupyter.local.planner.lexicon import QUANTITY_HINTS, singular, words_of
from trellis_jupyter.local.planner.parse import Parsed
from trellis_jupyter.local.planner.plan import LABEL, Filter, Plan, column_of, tables_of
from trellis_jupyter.local.planner.schema import Column, Measure, Schema

__all__ = [
    "Unanswerable",
    "apply_common",
    "apply_unit",
    "build_plan",
    "check_honoured",
    "check_joins",
    "choose_date",
    "fix_filters",
    "pick_grain",
    "reach_groups",
]


class Unanswerable(Exception):
    """The question cannot be turned into a query; ``str()`` says why, in one sentence."""


def pick_grain(plan: Plan) -> str:
    """A time bucket that gives a readable number of points for the plan's range."""
    if plan.start and plan.end:
        from datetime import date

        days = (date.fromisoformat(plan.end) - date.fromisoformat(plan.start)).days
        if days <= 31:
            return "day"
        if days <= 190:
            return "week"
        if days <= 1200:
            return "month"
        return "year"
    return "month"


def choose_date(schema: Schema, base: str, mentioned: list[str]) -> str | None:
    """The date column a range or a grain applies to: a mentioned table's, the base's, or the nearest."""
    for table in mentioned:
        info = schema.tables.get(table)
        path = schema.join_path(base, table) if info and info.date and table != base else None
        # "customers who placed orders last month": events live on the many side of a join.
        if info and path and any(step.fans for step in path):
            return f"{table}.{info.date}"
    if schema.tables[base].date:
        return f"{base}.{schema.tables[base].date}"
    best: tuple[int, str] | None = None
    for name, info in schema.tables.items():
        if info.date is None:
            continue
        path = schema.join_path(base, name)
        if path is None:
            continue
        # Prefer tables reached without fanning out (an order's date for its items).
        cost = len(path) + (10 if any(step.fans for step in path) else 0)
        if best is None or cost < best[0]:
            best = (cost, f"{name}.{info.date}")
    return best[1] if best else None


def fix_filters(schema: Schema, parsed: Parsed, base: str) -> list[Filter]:
    """Filters with ambiguous values moved to the candidate column closest to the base table."""
    fixed = []
    for index, f in enumerate(parsed.filters):
        options = parsed.filter_options.get(index)
        if options and len(options) > 1:
            options = _one_kind_of_row(schema, parsed, options, base, f)
            reachable = [
                (len(path), c) for c in options if (path := schema.join_path(base, c.table)) is not None
            ]
            if reachable:
                column = min(reachable, key=lambda pair: pair[0])[1]
                f = Filter(column.key, f.op, [_spelt_as_in(column, v) for v in f.values])
        fixed.append(f)
    return fixed


def _spelt_as_in(column: Column, value: object) -> object:
    """A value as ``column`` writes it: 'female' for titanic.sex where penguins.sex has 'FEMALE'
    (values are matched case-blind, compared in SQL exactly)."""
    if not isinstance(value, str):
        return value
    wanted = value.lower()
    return next((x for x in (*column.values, *column.rare) if x.lower() == wanted), value)


def _one_kind_of_row(
    schema: Schema, parsed: Parsed, options: list[Column], base: str, f: Filter
) -> list[Column]:
    """A value naming rows of two tables ("Iron Maiden": an album's title and an artist's name) is
    not settled by which table is nearer. Asked about the base table's rows ("how many albums does
    Iron Maiden have"), the value is what they belong to, not one of them; else it is declined."""
    names = [c for c in options if c.sql == schema.tables[c.table].label_sql]
    if len({c.table for c in names}) < 2:
        return options
    others = [c for c in names if c.table != base]
    if len(others) < len(names) and len({c.table for c in others}) == 1:
        own = next(c for c in names if c.table == base)
        value = ", ".join(map(str, f.values))
        other = others[0].table
        parsed.notes.append(f"{value} is also one {base}'s {own.name}; I took the {other} of that name")
        return others
    tables = _and([c.table for c in names])
    raise Unanswerable(
        f'"{", ".join(map(str, f.values))}" names rows of {tables}, and I could not tell which you meant '
        f'(say for example "the {names[0].table.lower()} {f.values[0]}").'
    )


def _dated_parent(schema: Schema, table: str) -> str | None:
    """For "average revenue": the table one line item belongs to that has a date (orders for items)."""
    info = schema.tables[table]
    if info.date:
        return None
    for column in info.columns:
        if column.ref and column.ref[0] in schema.tables and schema.tables[column.ref[0]].date:
            return column.ref[0]
    return None


def apply_common(schema: Schema, plan: Plan, parsed: Parsed) -> None:
    """Range, grain, chart and order pieces shared by new plans and follow-ups."""
    if parsed.range is not None:
        plan.start = parsed.range.start.isoformat() if parsed.range.start else None
        plan.end = parsed.range.end.isoformat() if parsed.range.end else None
        plan.range_label = parsed.range.label
    if parsed.grain:
        plan.grain = parsed.grain
    elif parsed.over_time and not plan.grain:
        plan.grain = pick_grain(plan)
    if parsed.date_column is not None and schema.join_path(plan.table, parsed.date_column.table) is not None:
        plan.date = parsed.date_column.key
    if (plan.grain or plan.start or plan.end) and not plan.date:
        plan.date = choose_date(schema, plan.table, parsed.entities)
        if plan.date is None:
            _time_columns(schema, plan, parsed)
        if plan.date is None and (plan.grain or plan.start or plan.end):
            raise Unanswerable(
                f"I found no date column connected to {plan.table}, "
                "so I cannot use a date range or a time grain."
            )
    if parsed.chart:
        plan.chart = parsed.chart
    elif parsed.chart_asked and not plan.chart:
        plan.chart = "auto"


def _time_column(schema: Schema, table: str, name: str) -> Column | None:
    """A column of ``table`` (or of a table joined to it) named ``name`` that is not a date: a
    year kept as a number, a month or a weekday kept as a word."""
    for other in schema.tables:
        if schema.join_path(table, other) is None:
            continue
        for column in schema.tables[other].columns:
            if column.words == (name,) and column.kind in ("number", "text") and column.flag is None:
                return column
    return None


def _time_columns(schema: Schema, plan: Plan, parsed: Parsed) -> None:
    """Rows with no date but a time kept in plain columns (flights: year 1949, month "January";
    tips: day "Sun"): "by year" groups by the year column, "in 1955" keeps the rows of that year.
    What cannot be read so is left for the caller to decline."""
    if plan.grain and parsed.grain_by and (column := _time_column(schema, plan.table, plan.grain)):
        plan.groups.insert(0, column.key)
        if column.kind == "number" and not plan.order:
            plan.sort = column.key  # a series of years reads in their order
        plan.grain = None
    if not (plan.start or plan.end) or (year := _time_column(schema, plan.table, "year")) is None:
        return
    if year.kind != "number" or any(d and not d.endswith("-01-01") for d in (plan.start, plan.end)):
        return  # "in March 1955": a month of a year kept apart from its months
    bounds = [(">=", plan.start), ("<", plan.end)]
    new = [Filter(year.key, op, [int(d[:4])]) for op, d in bounds if d]
    if len(new) == 2 and new[1].values[0] == new[0].values[0] + 1:
        new = [Filter(year.key, "=", new[0].values)]
    plan.filters.extend(new)
    parsed.filters.extend(new)
    parsed.range = None
    plan.start = plan.end = plan.range_label = None


def apply_unit(plan: Plan, parsed: Parsed) -> None:
    """ "in minutes": the measure read with the unit is shown in it, when it is what is added up."""
    if parsed.unit is None or parsed.measure is None:
        return
    if plan.kind == "aggregate" and plan.measure == parsed.measure.key and plan.agg != "count":
        plan.unit, plan.divisor = parsed.unit


def check_understood(parsed: Parsed) -> None:
    """Raise :class:`Unanswerable` when part of the question was not understood."""
    if parsed.second_range and parsed.range is not None:
        raise Unanswerable(
            "I can use one date range at a time, and found two "
            f"({parsed.range.label}, {parsed.second_range}); "
            "ask for each, or for the same by month to compare them."
        )
    if parsed.unusable:
        raise Unanswerable(f"I could not use {parsed.unusable[0]}, so I did not answer.")
    if parsed.unused_numbers:
        quoted = ", ".join(f'"{n}"' for n in parsed.unused_numbers[:3])
        raise Unanswerable(f"I could not tell what the number {quoted} applies to, so I did not answer.")
    if parsed.unresolved_group:
        raise Unanswerable(f'I could not find anything called "{parsed.unresolved_group}" to group by.')
    if parsed.unknown:
        quoted = ", ".join(f'"{word}"' for word in parsed.unknown[:4])
        raise Unanswerable(f"I could not match {quoted} to a table, a column or a value in this database.")


def _named_as_table(schema: Schema, table: str) -> Measure | None:
    """The number a table is named after (tips.tip, scores.score): what "the average tip" or "the
    biggest tips" means, before any other amount of the row (a tip's total_bill)."""
    words = schema.tables[table].words
    return next(
        (m for m in schema.measures if m.table == table and not m.derived and m.words == (words,)), None
    )


def _table_measure(schema: Schema, table: str) -> Measure | None:
    """What "total payments" or "average invoice" adds up: the number the table is named after,
    else the table's one amount of money."""
    named = _named_as_table(schema, table)
    if named is not None:
        return named
    own = [m for m in schema.measures if m.table == table and m.money]
    derived = [m for m in own if m.derived]
    if derived:
        return derived[0]
    return own[0] if len(own) == 1 else None


def build_plan(schema: Schema, parsed: Parsed) -> Plan:
    """A new plan for a question that stands alone."""
    check_understood(parsed)
    if parsed.cue and parsed.measure is None and not parsed.entities:
        # "and by region" as a chat's first question (or after %trellis new): a change to an
        # earlier question that is not there. Guessing what to count would answer another question.
        raise Unanswerable(
            "This reads like a follow-up, but this chat has no earlier question to change: "
            "ask it in full (for example, what to count or add up, and by what)."
        )
    plan = _build(schema, parsed)
    apply_unit(plan, parsed)
    plan.notes = list(parsed.notes)
    for f in plan.filters:
        table = f.column.split(".")[0]
        path = schema.join_path(plan.table, table) or []
        if f.op == "is null" and any(step.fans for step in path):
            # "customers who have not ordered": rows with no related row at all, which an inner
            # join cannot find (it would report none).
            raise Unanswerable(
                f"I could not look for {plan.table} that have no {table} (rows without a related row), "
                "so I did not answer."
            )
    if parsed.parent and parsed.parent_filters:
        if schema.join_path(plan.table, parsed.parent.split(".")[0]) != []:
            raise Unanswerable(
                f"I can follow {parsed.parent.split('.')[1]} only when listing or counting its table."
            )
        plan.parent, plan.parent_filters = parsed.parent, list(parsed.parent_filters)
    check_honoured(schema, parsed, plan)
    return plan


def _counted_rows(schema: Schema, parsed: Parsed, entities: list[str]) -> str | None:
    """ "How many passengers survived" where passengers is a number of another table (flights)
    that no key links to the one the rest of the question is about (titanic: survived, sex ...):
    the word names the rows counted, not that number. The table, when exactly one fits."""
    measure = parsed.measure
    if parsed.agg != "count" or measure is None or measure.derived or parsed.distinct is not None:
        return None
    # A grouping names a column, not its table: "by sex" may be titanic's or penguins'.
    pieces = [_same_named(schema, g) for g in parsed.groups if not g.endswith(LABEL)]
    pieces += [
        parsed.filter_options.get(i) or [column_of(schema, f.column)] for i, f in enumerate(parsed.filters)
    ]
    if not pieces and not entities:
        return None
    found = [
        t
        for t in schema.tables
        if schema.join_path(t, measure.table) is None
        and all(e == t for e in entities)
        and all(any(schema.join_path(t, c.table) is not None for c in options) for options in pieces)
    ]
    return found[0] if len(found) == 1 else None


def _same_named(schema: Schema, group: str) -> list[Column]:
    name = group.split(".", 1)[1]
    return [c for t in schema.tables.values() if (c := t.column(name)) is not None]


def _build(schema: Schema, parsed: Parsed) -> Plan:
    entities = [e for e in parsed.entities if e != parsed.measure_entity]
    counted = _counted_rows(schema, parsed, entities)
    if counted is not None and parsed.measure is not None:
        parsed.notes.append(f'I took "{parsed.measure.name}" to mean the rows of {counted}')
        parsed.measure, entities = None, [counted]
    measure = parsed.measure
    if (
        measure is None
        and parsed.agg in ("sum", "avg", "min", "max")
        and entities
        and parsed.distinct is None
    ):
        # "total payments", "the average invoice": the amount of the first table named that has one.
        measure = next((m for e in entities if (m := _table_measure(schema, e)) is not None), None)
        if measure is not None:
            parsed.measure = measure
            if measure.table in entities and len(entities) > 1:
                entities.remove(measure.table)
                entities.append(measure.table)
    several = next((f for f in parsed.filters if f.op == "=" and len(f.values) > 1), None)
    if parsed.compare and several is not None and several.column not in parsed.groups:
        # "G or PG", "Germany versus the USA": one row each; "Mike versus Jon" (a part of a person's
        # name): one row per person.
        table, name = several.column.split(".", 1)
        info = schema.tables[table]
        column = info.column(name)
        part_of_label = column is not None and column.sql in info.label_sql and column.sql != info.label_sql
        parsed.groups.append(f"{table}.{LABEL}" if part_of_label else several.column)
        if measure is None and parsed.agg is None:
            parsed.agg = "count"
    if (
        not entities
        and measure is None
        and len(parsed.groups) == 1
        and parsed.groups[0].endswith(LABEL)
        and parsed.agg is None
        and not parsed.order
    ):
        # "which regions are there", "what languages are there": the rows of that table.
        entities = [parsed.groups[0].split(".")[0]]
        parsed.groups.clear()
        parsed.listing = True
    if not entities and measure is None and parsed.distinct is None:
        # "how many students joined this year": the rows of the table the value or the date lives in.
        if parsed.date_column is not None:
            entities = [parsed.date_column.table]
        elif parsed.filters:
            table = parsed.filters[0].column.split(".", 1)[0]
            info = schema.tables[table]
            names_row = info.column(parsed.filters[0].column.split(".", 1)[1])
            if (parsed.order or parsed.groups) and names_row is not None and names_row.sql in info.label_sql:
                # "which actor appeared in the most comedies": counting category rows named Comedy
                # (one each) would rank nothing; what to count (films? rentals?) was not said.
                raise Unanswerable(
                    f"I could not tell what to count for {parsed.filters[0].values[0]} "
                    f"(for example the rows of a table that refers to {table})."
                )
            entities = [table]
        elif parsed.groups and not parsed.groups[0].endswith(LABEL):
            entities = [parsed.groups[0].split(".", 1)[0]]  # "what are the order statuses"
    groups = list(parsed.groups)
    if parsed.distinct is not None and measure is None:
        base = entities[0] if entities else parsed.distinct.table
        plan = Plan(kind="aggregate", table=base, agg="count", distinct=parsed.distinct.key)
    elif measure is not None:
        table = measure.table
        agg = parsed.agg if parsed.agg and parsed.agg != "count" else measure.default_agg
        plan = Plan(kind="aggregate", table=table, measure=measure.key, agg=agg)
        own_label = f"{table}.{LABEL}"
        if agg == "avg" and own_label in groups and own_label in parsed.per_groups:
            groups.remove(own_label)  # "average freight per order": the mean over the orders
        # "the average order amount" of payments: an order's amount is the sum of its payments.
        of_another = parsed.measure_entity not in (None, table)
        if agg == "avg" and (measure.derived or of_another):
            per = parsed.measure_entity or parsed.per
            per_group = next((g for g in groups if g.endswith(LABEL) and g.split(".")[0] != table), None)
            if per is None and per_group and not parsed.measure_entity and len(groups) == 1:
                per = per_group.split(".")[0]  # "average revenue per customer"
                groups.remove(per_group)
            plan.per = per or _dated_parent(schema, table)
        if agg in ("min", "max") and not groups and entities == [table] and not parsed.order:
            # "the cheapest product": a ranking of rows, not one number.
            parsed.order = "asc" if agg == "min" else "desc"
        if parsed.order and not groups:
            # "the longest film in the Comedy category": a table named only for a filter is context;
            # the rows ranked are those of another table named, else the measure's own.
            filtered = {f.column.split(".")[0] for f in parsed.filters}
            others = [e for e in entities if e != table and e not in filtered]
            target: str | None = others[0] if others else (table if table in entities else None)
            if target is None and entities:
                target = entities[0]
            if target is None:
                raise Unanswerable(
                    f"I understood a ranking by {measure.name}, "
                    "but not of what (for example customers or products)."
                )
            groups = [f"{target}.{LABEL}"]
        if any(g == f"{table}.{LABEL}" for g in groups) and agg != "count":
            plan.agg = "sum"  # one row per group: the value itself
    elif (
        measure is None
        and parsed.order
        and len(groups) == 1
        and groups[0].endswith(LABEL)
        and entities
        and (groups[0].split(".")[0] not in entities)
    ):
        if parsed.which or parsed.popular:
            # "which category has the fewest products": count the named rows per asked-for row.
            plan = Plan(kind="aggregate", table=entities[0], measure=None, agg="count")
        else:
            # "top 3 authors by loans": count the rows of the "by" table for each row of the ranked one.
            table = groups[0].split(".")[0]
            plan = Plan(kind="aggregate", table=table, measure=None, agg="count")
            groups = [f"{entities[0]}.{LABEL}"]
    elif (
        (parsed.agg == "count" and entities)
        or (entities and (groups or parsed.grain or parsed.over_time))
        or (len(entities) > 1 and parsed.order)
    ):
        table = entities[0]
        plan = Plan(kind="aggregate", table=table, measure=None, agg="count")
        if parsed.order and not groups:
            # "which customers placed the most orders": count the second table per row of the first.
            if len(entities) > 1:
                plan.table = entities[1]
                groups = [f"{table}.{LABEL}"]
            else:
                raise Unanswerable(
                    f"I understood a ranking of {table}, but not by what (a number to rank them by)."
                )
    elif entities and (parsed.listing or parsed.recent or parsed.filters or parsed.limit or not parsed.agg):
        table = entities[0]
        plan = Plan(kind="list", table=table, limit=parsed.limit)
        if parsed.recent and plan.limit is None and parsed.singular_entity:
            plan.limit = 1  # "when was the earliest order": one row, not every order sorted
        sort = parsed.sort
        if parsed.recent and sort is None:
            date = schema.tables[table].date
            if date:
                plan.sort = f"{table}.{date}"
        elif sort is not None:
            plan.sort = sort.key
        elif parsed.order and (named := _named_as_table(schema, table)) is not None:
            plan.sort = named.key  # "the 5 biggest tips": ranked by the tip
        plan.order = parsed.recent or parsed.order or ("desc" if plan.sort else None)
        if plan.sort is None and parsed.order and not parsed.recent:
            raise Unanswerable(
                f"I understood a ranking of {table}, but not by what (a number to rank them by)."
            )
    elif parsed.agg and parsed.agg != "count" and not measure:
        raise Unanswerable(
            f"I understood that you want the {_agg_word(parsed.agg)} of something, but not of which column."
        )
    else:
        raise Unanswerable(
            "I could not find a table, a measure or a column of this database in that question."
        )
    plan.groups = groups
    reach_groups(schema, plan, parsed)
    plan.filters = fix_filters(schema, parsed, plan.table)
    if plan.kind == "aggregate":
        plan.order = parsed.order
        plan.limit = parsed.limit
        if plan.limit is None and parsed.order and parsed.which_many:
            plan.limit = 10  # "which customers spent the most"
        elif plan.limit is None and parsed.order and (parsed.which or parsed.singular_entity):
            plan.limit = 1  # "which region has the most orders", "the most expensive product"
        elif plan.limit is None and parsed.order and groups and groups[0].endswith(LABEL):
            plan.limit = 10
    apply_common(schema, plan, parsed)
    check_joins(schema, plan)
    return plan


def check_honoured(schema: Schema, parsed: Parsed, plan: Plan) -> None:
    """Every piece the question named is in the plan; else decline, naming what would be lost.

    A plan that answers a different question than the one asked ("the 3 categories" answered with
    one, "average" answered with a count) is worse than no answer.
    """
    missing: list[str] = []
    if parsed.parent and not (plan.parent == parsed.parent and plan.parent_filters):
        missing.append(f"the link {parsed.parent.split('.')[1]}")
    if parsed.limit is not None and plan.limit != parsed.limit:
        missing.append(f"the number {parsed.limit}")
    ranked = bool(plan.groups or plan.grain) or plan.kind == "list"
    if parsed.order and (not plan.order or not ranked):
        missing.append("the ranking (most, fewest, top ...)")
    ranked_rows = [e for e in parsed.entities if f"{e}.{LABEL}" not in plan.groups]
    if parsed.order and parsed.each_groups and ranked_rows:
        # "the most expensive product in each category": a ranking inside every group, which one
        # query of this planner does not make; ranking the groups instead would answer another question.
        missing.append(f"the ranking within each {_group_name(parsed.each_groups[0])}")
    own_rows = f"{plan.table}.{LABEL}" in plan.groups
    if parsed.agg in ("sum", "avg", "min", "max") and plan.agg != parsed.agg and not own_rows:
        missing.append(f"the {_agg_word(parsed.agg)}")
    measure = schema.measure(plan.measure) if plan.measure else None
    counts_units = measure is not None and bool(set(words_of(measure.header)) & _UNIT_WORDS)
    if parsed.agg == "count" and plan.kind == "aggregate" and plan.agg != "count" and not counts_units:
        # "how many units" adds up a quantity; "how many products ..." is never an average price.
        missing.append("the count (how many)")
    kept = {_condition(g) for g in (*plan.filters, *plan.parent_filters)}
    for f in parsed.filters:
        if _condition(f) not in kept:
            missing.append(f"the condition {_filter_words(f)}")
    if parsed.unit is not None and plan.unit != parsed.unit[0]:
        missing.append(f"the unit {parsed.unit[0]}")
    if parsed.range is not None and not (plan.start or plan.end):
        missing.append(f"the dates {parsed.range.label}")
    if parsed.measure is not None and plan.measure != parsed.measure.key and plan.kind == "aggregate":
        missing.append(f"the measure {parsed.measure.name}")
    used = tables_of(schema, plan)
    for table in parsed.entities:
        if table not in used and table != parsed.measure_entity:
            missing.append(f"the table {table}")
    for group in parsed.groups:
        table = group.split(".")[0]
        if group not in plan.groups and table not in (plan.table, plan.per) and group != plan.sort:
            missing.append(f"the grouping by {group.split('.')[1].replace(LABEL, singular(table))}")
    for group, key in parsed.via.items():
        if group in plan.groups and not _joins_through(schema, plan.table, group.split(".")[0], key):
            missing.append(f"the link {key.split('.')[1]}")
    if missing:
        raise Unanswerable(
            f"I could not use {_and(missing)} in a plan for this question, so I did not answer it."
        )


def _condition(f: Filter) -> tuple[str, str]:
    """A filter's operator and values, the values case-blind (see _spelt_as_in)."""
    return f.op, repr([v.lower() if isinstance(v, str) else v for v in f.values])


def _joins_through(schema: Schema, start: str, goal: str, key: str) -> bool:
    """Whether the join from ``start`` to ``goal`` goes through the foreign key ``key`` (a table
    with two keys to the same table, a buyer and a seller, is joined through the one named)."""
    table, name = key.split(".", 1)
    path = schema.join_path(start, goal) or []
    return any((j.left, j.left_col) == (table, name) or (j.right, j.right_col) == (table, name) for j in path)


_UNIT_WORDS = QUANTITY_HINTS | {"unit", "stock", "item", "copy", "seat", "piece"}


def _group_name(group: str) -> str:
    table, column = group.split(".", 1)
    return singular(table) if column == LABEL else column


def _filter_words(f: Filter) -> str:
    column = f.column.split(".", 1)[1]
    return f"{column} {f.op} {', '.join(map(str, f.values))}".strip()


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def reach_groups(schema: Schema, plan: Plan, parsed: Parsed) -> None:
    """Each grouping of ``plan`` as a column its rows can reach (see _reachable_group); the
    parsed question keeps the same grouping, so what it asked is still found honoured."""
    moved = {g: _reachable_group(schema, plan.table, g) for g in plan.groups}
    plan.groups = [moved[g] for g in plan.groups]
    parsed.groups = [moved.get(g, g) for g in parsed.groups]


def _reachable_group(schema: Schema, base: str, group: str) -> str:
    """A grouping column as one the rows can reach: "survival rate by sex" groups titanic by its
    own sex, not by penguins.sex (no key links them), when exactly one reachable table has a
    column of that name (the base table's own first)."""
    table, name = group.split(".", 1)
    if name == LABEL or schema.join_path(base, table) is not None:
        return group
    if (own := schema.tables[base].column(name)) is not None:
        return own.key
    found = [
        c
        for t in schema.tables
        if t != base and schema.join_path(base, t) is not None
        for c in [schema.tables[t].column(name)]
        if c is not None
    ]
    return found[0].key if len(found) == 1 else group


def check_joins(schema: Schema, plan: Plan) -> None:
    """Decline a plan that names a table its rows cannot be joined to (it would fail as SQL)."""
    refs = [*plan.groups, *(f.column for f in plan.filters)]
    if plan.date:
        refs.append(plan.date)
    for ref in refs:
        table = ref.split(".", 1)[0]
        if schema.join_path(plan.table, table) is None:
            raise Unanswerable(
                f"{table} is not linked to {plan.table} by a foreign key, so I cannot combine them."
            )


def _agg_word(agg: str) -> str:
    return {"sum": "total", "avg": "average", "min": "minimum", "max": "maximum"}.get(agg, agg)


def entity_word(table: str, count: float | None = None) -> str:
    """A table's name as a plain noun: ``order_items`` -> ``order items`` (singular for one)."""
    words = table.replace("_", " ")
    if count == 1:
        return " ".join(singular(w) for w in words.split())
    return words
