"""A plan: what a question asks for, as plain JSON-able data, and the SQL that answers it.

A :class:`Plan` names a base table (whose rows are counted, listed or measured), an optional
measure and aggregate, groupings (columns, a table's own rows, or a date bucket), filters, a date
range, an order and a limit, and a chart type. It is what a follow-up question edits, and what the
server stores with each answer (``Plan.to_state()`` / ``Plan.from_state()``).

:func:`to_sql` joins the tables a plan touches along foreign keys (shortest path from the base
table). When a join fans out (one base row meets many rows of another table), counts become
``COUNT(DISTINCT key)`` and sums run over the distinct base rows first, so nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from trellis_jupyter.local.planner.lexicon import singular
from trellis_jupyter.local.planner.schema import Column, Join, Measure, Schema, quote

__all__ = [
    "AGG_LABELS",
    "GRAINS",
    "Filter",
    "Plan",
    "fans_out",
    "literal",
    "measure_header",
    "tables_of",
    "to_sql",
]

GRAINS = ("day", "week", "month", "quarter", "year")
AGG_LABELS = {"sum": "total", "avg": "average", "min": "minimum", "max": "maximum", "count": "number"}
LABEL = "@label"  # a grouping on a table's own rows: "customers.@label"


@dataclass
class Filter:
    column: str  # "table.column"
    op: str  # "=", "in", ">", ">=", "<", "<=", "!="
    values: list[Any]


@dataclass
class Plan:
    kind: str  # "aggregate" or "list"
    table: str
    measure: str | None = None  # a Measure key; None counts rows of ``table``
    agg: str = "count"  # count, sum, avg, min, max
    per: str | None = None  # "average order value": sum over count of distinct rows of this table
    groups: list[str] = field(default_factory=list)  # "table.column" or "table.@label"
    grain: str | None = None  # a time bucket of ``date``
    date: str | None = None  # "table.column" for the range and the buckets
    start: str | None = None  # ISO date, inclusive
    end: str | None = None  # ISO date, exclusive
    range_label: str | None = None
    filters: list[Filter] = field(default_factory=list)
    order: str | None = None  # "desc" / "asc" for top/bottom N and sorted lists
    limit: int | None = None
    sort: str | None = None  # lists: the column to sort on; aggregates: a group that is a time (year)
    chart: str | None = None
    distinct: str | None = None  # count distinct values of this "table.column" instead of rows
    notes: list[str] = field(default_factory=list)  # said with the answer ("I took length in minutes")
    # A self-reference ("employees who report to Andrew Fuller"): the column pointing at a row of the
    # same table, and the filters that pick that other row.
    parent: str | None = None
    parent_filters: list[Filter] = field(default_factory=list)
    # The measure shown in another unit than its column's ("in minutes" of Milliseconds): the unit's
    # name and what one of it is worth in the column's unit (60000).
    unit: str | None = None
    divisor: float | None = None

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Plan:
        data = dict(state)
        data["filters"] = [Filter(**f) for f in data.get("filters", [])]
        data["parent_filters"] = [Filter(**f) for f in data.get("parent_filters", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def literal(value: Any) -> str:
    """A value as an SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def bucket(grain: str, column_sql: str) -> str:
    """The SQL expression of a date column's time bucket (weeks are named by their Monday)."""
    if grain == "day":
        return f"date({column_sql})"
    if grain == "week":
        return f"date({column_sql}, 'weekday 0', '-6 days')"
    if grain == "month":
        return f"strftime('%Y-%m', {column_sql})"
    if grain == "quarter":
        month = f"CAST(strftime('%m', {column_sql}) AS INTEGER)"
        return f"strftime('%Y', {column_sql}) || '-Q' || (({month} + 2) / 3)"
    return f"strftime('%Y', {column_sql})"


def column_of(schema: Schema, ref: str) -> Column:
    table, name = ref.split(".", 1)
    column = schema.tables[table].column(name)
    if column is None:
        raise KeyError(ref)
    return column


def measure_header(plan: Plan, measure: Measure | None) -> str:
    """The result column's name: ``orders``, ``revenue``, ``average_order_value``, ``max_price``."""
    if plan.distinct:
        return plan.distinct.split(".", 1)[1] + "_count"
    if measure is None:
        return plan.table
    if plan.agg == "avg" and plan.per:
        return (
            f"average_{singular(plan.per)}_value"
            if measure.money
            else f"{measure.header}_per_{singular(plan.per)}"
        )
    if plan.agg == "count":
        return f"{measure.header}_count"
    header = measure.header if plan.agg == "sum" else f"{_AGG_PREFIX[plan.agg]}_{measure.header}"
    return f"{header}_in_{plan.unit}" if plan.unit and plan.divisor else header


_AGG_PREFIX = {"avg": "average", "min": "min", "max": "max"}


def _group_select(schema: Schema, plan: Plan) -> list[tuple[str, str, list[str]]]:
    """(select expression, header, group-by expressions) for each grouping, the time bucket first."""
    out: list[tuple[str, str, list[str]]] = []
    if plan.grain and plan.date:
        expr = bucket(plan.grain, column_of(schema, plan.date).sql)
        out.append((expr, plan.grain, [expr]))
    for ref in plan.groups:
        table, name = ref.split(".", 1)
        if name == LABEL:
            info = schema.tables[table]
            key = f"{quote(table)}.{quote(info.pk or 'rowid')}"
            out.append((info.label_sql, singular(table), [key, info.label_sql]))
        else:
            column = column_of(schema, ref)
            out.append((column.sql, column.name, [column.sql]))
    return out


def _joins(schema: Schema, plan: Plan) -> tuple[list[Join], bool]:
    needed: list[str] = []
    refs = [*plan.groups, *(f.column for f in plan.filters)]
    if plan.distinct:
        refs.append(plan.distinct)
    if plan.date and (plan.grain or plan.start or plan.end):
        refs.append(plan.date)
    if plan.sort:
        refs.append(plan.sort)
    for ref in refs:
        table = ref.split(".", 1)[0]
        if table not in needed:
            needed.append(table)
    if plan.per and plan.per not in needed:
        needed.append(plan.per)
    joins: list[Join] = []
    joined = {plan.table}
    for table in needed:
        path = schema.join_path(plan.table, table)
        if path is None:
            raise LookupError(f"no foreign-key path joins {plan.table} to {table}")
        for step in path:
            if step.right not in joined:
                joined.add(step.right)
                joins.append(step)
    return joins, any(step.fans for step in joins)


def fans_out(schema: Schema, plan: Plan) -> bool:
    """Whether a row of the base table may meet several rows of a grouped table (so the groups'
    values overlap, and their sum is not the whole)."""
    try:
        return _joins(schema, plan)[1]
    except LookupError:
        return False


def tables_of(schema: Schema, plan: Plan) -> set[str]:
    """Every table the plan's SQL reads, the join path included."""
    try:
        joins, _ = _joins(schema, plan)
    except LookupError:
        joins = []
    tables = {plan.table, *(j.right for j in joins)}
    measure = schema.measure(plan.measure) if plan.measure else None
    if measure is not None:
        tables.add(measure.table)
    return tables


def _where(schema: Schema, plan: Plan) -> list[str]:
    clauses = _filter_clauses(schema, plan.filters)
    if plan.parent and plan.parent_filters:
        parent = column_of(schema, plan.parent)
        assert parent.ref is not None
        inner = " AND ".join(_filter_clauses(schema, plan.parent_filters))
        clauses.append(
            f"{parent.sql} IN (SELECT {quote(parent.ref[1])} FROM {quote(parent.table)} WHERE {inner})"
        )
    if plan.date and (plan.start or plan.end):
        column = column_of(schema, plan.date).sql
        if plan.start:
            clauses.append(f"{column} >= {literal(plan.start)}")
        if plan.end:
            clauses.append(f"{column} < {literal(plan.end)}")
    return clauses


def _filter_clauses(schema: Schema, filters: list[Filter]) -> list[str]:
    clauses = []
    for f in filters:
        info = column_of(schema, f.column)
        column = info.sql
        if f.op == "is null" and info.kind == "text":
            clauses.append(f"({column} IS NULL OR {column} = '')")  # an empty text is no value either
        elif f.op in ("is null", "not null"):
            clauses.append(f"{column} IS {'NULL' if f.op == 'is null' else 'NOT NULL'}")
        elif f.op == "in" or (f.op == "=" and len(f.values) > 1):
            clauses.append(f"{column} IN ({', '.join(literal(v) for v in f.values)})")
        elif f.op == "!=" and len(f.values) > 1:
            clauses.append(f"{column} NOT IN ({', '.join(literal(v) for v in f.values)})")
        else:
            clauses.append(f"{column} {f.op} {literal(f.values[0])}")
    return clauses


def _from(plan: Plan, joins: list[Join]) -> str:
    parts = [f"FROM {quote(plan.table)}"]
    for j in joins:
        parts.append(
            f"JOIN {quote(j.right)} ON {quote(j.right)}.{quote(j.right_col)} "
            f"= {quote(j.left)}.{quote(j.left_col)}"
        )
    return "\n".join(parts)


def to_sql(schema: Schema, plan: Plan) -> str:
    """The SQLite query that answers ``plan``."""
    joins, fans = _joins(schema, plan)
    where = _where(schema, plan)
    where_sql = ("\nWHERE " + "\n  AND ".join(where)) if where else ""
    base = schema.tables[plan.table]
    if plan.kind == "list":
        star = f"{quote(plan.table)}.*" if joins else "*"
        if (
            base.label_name != (base.pk or "rowid")
            and base.label_sql != f"{quote(plan.table)}.{quote(base.label_name)}"
        ):
            # A name made of two columns (FirstName + LastName) leads the listing, as people read it.
            star = f"{base.label_sql} AS {quote(base.label_name)}, {star}"
        sql = f"SELECT {'DISTINCT ' if fans else ''}{star}\n{_from(plan, joins)}{where_sql}"
        if plan.sort:
            direction = "ASC" if plan.order == "asc" else "DESC"
            key = quote(base.pk) if base.pk else "rowid"
            sort = column_of(schema, plan.sort).sql
            empty_last = f"{sort} IS NULL, " if direction == "ASC" else ""
            sql += f"\nORDER BY {empty_last}{sort} {direction}, {quote(plan.table)}.{key} {direction}"
        if plan.limit:
            sql += f"\nLIMIT {plan.limit}"
        return sql

    measure = schema.measure(plan.measure) if plan.measure else None
    groups = _group_select(schema, plan)
    header = measure_header(plan, measure)
    key_sql = f"{quote(plan.table)}.{quote(base.pk or 'rowid')}"
    value_sql = measure.sql if measure else "1"
    if measure is not None and plan.divisor:
        value_sql = f"{value_sql} / {float(plan.divisor)!r}"
    if measure is not None and fans and plan.agg in ("sum", "avg") and not plan.per:
        # One row per (base row, group): a base row met twice through a join is added once.
        inner_cols = [f"{key_sql} AS _key", f"{value_sql} AS _value"]
        inner_cols += [f"{expr} AS {quote(h)}" for expr, h, _ in groups]
        inner = f"SELECT DISTINCT {', '.join(inner_cols)}\n{_from(plan, joins)}{where_sql}"
        agg_sql = _aggregate(plan.agg, "_value", measure, bool(plan.divisor))
        select = [quote(h) for _, h, _ in groups] + [f"{agg_sql} AS {quote(header)}"]
        sql = f"SELECT {', '.join(select)}\nFROM (\n{inner}\n)"
        group_by = [quote(h) for _, h, _ in groups]
    else:
        if plan.distinct:
            agg_sql = f"COUNT(DISTINCT {column_of(schema, plan.distinct).sql})"
        elif measure is None:
            agg_sql = f"COUNT(DISTINCT {key_sql})" if fans else "COUNT(*)"
        elif plan.agg == "avg" and plan.per:
            per = schema.tables[plan.per]
            per_key = f"{quote(plan.per)}.{quote(per.pk or 'rowid')}"
            agg_sql = f"ROUND(SUM({value_sql}) * 1.0 / COUNT(DISTINCT {per_key}), 2)"
        else:
            agg_sql = _aggregate(plan.agg, value_sql, measure, bool(plan.divisor))
        select = [f"{expr} AS {quote(h)}" for expr, h, _ in groups] + [f"{agg_sql} AS {quote(header)}"]
        sql = f"SELECT {', '.join(select)}\n{_from(plan, joins)}{where_sql}"
        group_by = [g for _, _, gs in groups for g in gs]
    if group_by:
        sql += "\nGROUP BY " + ", ".join(group_by)
        sql += "\nORDER BY " + _order(plan, groups, header)
        if plan.limit:
            sql += f"\nLIMIT {plan.limit}"
    return sql


def _aggregate(agg: str, value_sql: str, measure: Measure, converted: bool = False) -> str:
    if agg == "count":
        return f"COUNT({value_sql})"
    fn = {"sum": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX"}[agg]
    if agg == "avg" or measure.money or converted:  # a length in hours: 1.15, not 1.1450049999999998
        return f"ROUND({fn}({value_sql}), 2)"
    return f"{fn}({value_sql})"


def _order(plan: Plan, groups: list[tuple[str, str, list[str]]], header: str) -> str:
    if plan.grain and not plan.order:
        return ", ".join(quote(h) for _, h, _ in groups)
    if plan.sort and not plan.order:
        # A grouping by a time kept as a number (a year column): the series in its order.
        return ", ".join(quote(h) for _, h, _ in groups)
    direction = "ASC" if plan.order == "asc" else "DESC"
    # The lowest first: rows with no value are not the lowest (SQLite sorts NULL first).
    empty_last = f"{quote(header)} IS NULL, " if direction == "ASC" else ""
    return f"{empty_last}{quote(header)} {direction}, " + ", ".join(quote(h) for _, h, _ in groups)
