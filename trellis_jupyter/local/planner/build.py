"""From a parsed question to a :class:`Plan`: choosing the base table, the date column, the grain.

:func:`build_plan` makes a plan for a question that stands on its own; it raises
:class:`Unanswerable` (with what it understood) when a piece is missing or a word is unexplained,
so a half-read question is declined rather than answered wrongly.
"""

from __future__ import annotations

from trellis_jupyter.local.planner.lexicon import singular
from trellis_jupyter.local.planner.parse import Parsed
from trellis_jupyter.local.planner.plan import LABEL, Filter, Plan
from trellis_jupyter.local.planner.schema import Schema

__all__ = ["Unanswerable", "apply_common", "build_plan", "choose_date", "fix_filters", "pick_grain"]


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
            reachable = [
                (len(path), c) for c in options if (path := schema.join_path(base, c.table)) is not None
            ]
            if reachable:
                f = Filter(min(reachable, key=lambda pair: pair[0])[1].key, f.op, f.values)
        fixed.append(f)
    return fixed


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
            raise Unanswerable(
                f"I found no date column connected to {plan.table}, "
                "so I cannot use a date range or a time grain."
            )
    if parsed.chart:
        plan.chart = parsed.chart
    elif parsed.chart_asked and not plan.chart:
        plan.chart = "auto"


def check_understood(parsed: Parsed) -> None:
    """Raise :class:`Unanswerable` when part of the question was not understood."""
    if parsed.second_range and parsed.range is not None:
        raise Unanswerable(
            "I can use one date range at a time, and found two "
            f"({parsed.range.label}, {parsed.second_range}); "
            "ask for each, or for the same by month to compare them."
        )
    if parsed.unresolved_group:
        raise Unanswerable(f'I could not find anything called "{parsed.unresolved_group}" to group by.')
    if parsed.unknown:
        quoted = ", ".join(f'"{word}"' for word in parsed.unknown[:4])
        raise Unanswerable(f"I could not match {quoted} to a table, a column or a value in this database.")


def build_plan(schema: Schema, parsed: Parsed) -> Plan:
    """A new plan for a question that stands alone."""
    check_understood(parsed)
    measure = parsed.measure
    entities = [e for e in parsed.entities if e != parsed.measure_entity]
    if not entities and measure is None and parsed.distinct is None:
        # "how many students joined this year": the rows of the table the value or the date lives in.
        if parsed.date_column is not None:
            entities = [parsed.date_column.table]
        elif parsed.filters:
            entities = [parsed.filters[0].column.split(".", 1)[0]]
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
        if agg == "avg" and measure.derived:
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
            target = next((e for e in entities if e != table), entities[0] if entities else None)
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
        # "top 3 authors by loans": count the rows of the "by" table for each row of the ranked one.
        table = groups[0].split(".")[0]
        plan = Plan(kind="aggregate", table=table, measure=None, agg="count")
        groups = [f"{entities[0]}.{LABEL}"]
    elif (parsed.agg == "count" and entities) or (entities and (groups or parsed.grain or parsed.over_time)):
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
        sort = parsed.sort
        if parsed.recent and sort is None:
            date = schema.tables[table].date
            if date:
                plan.sort = f"{table}.{date}"
        elif sort is not None:
            plan.sort = sort.key
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
    _check_joins(schema, plan)
    return plan


def _check_joins(schema: Schema, plan: Plan) -> None:
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
