"""Pure pieces of the planner: date ranges, word forms, fuzzy names, plan state, SQL quoting."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from planner_helpers import demo_path, library_path

from trellis_jupyter.local.planner.dates import find_range, month_shift
from trellis_jupyter.local.planner.lexicon import close_match, plural, singular, tokens, words_of
from trellis_jupyter.local.planner.plan import Filter, Plan, literal
from trellis_jupyter.local.planner.resolve import resolve_column, resolve_measure, resolve_table
from trellis_jupyter.local.planner.schema import load_schema, quote

TODAY = dt.date(2025, 6, 18)  # a Wednesday

RANGES = [
    ("orders last month", "2025-05-01", "2025-06-01", "last month"),
    ("this month", "2025-06-01", "2025-07-01", "this month"),
    ("next month", "2025-07-01", "2025-08-01", "next month"),
    ("last week", "2025-06-09", "2025-06-16", "last week"),
    ("this week", "2025-06-16", "2025-06-23", "this week"),
    ("last quarter", "2025-01-01", "2025-04-01", "last quarter"),
    ("this quarter", "2025-04-01", "2025-07-01", "this quarter"),
    ("next quarter", "2025-07-01", "2025-10-01", "next quarter"),
    ("last year", "2024-01-01", "2025-01-01", "last year"),
    ("this year", "2025-01-01", "2026-01-01", "this year"),
    ("revenue in 2023", "2023-01-01", "2024-01-01", "in 2023"),
    ("since march", "2025-03-01", None, "since march"),
    ("since september", "2024-09-01", None, "since september"),  # the latest September before today
    (
        "between january 2025 and march 2025",
        "2025-01-01",
        "2025-04-01",
        "between january 2025 and march 2025",
    ),
    ("from 2023-02-10 to 2023-02-20", "2023-02-10", "2023-02-21", "between 2023-02-10 and 2023-02-20"),
    ("the last 30 days", "2025-05-19", "2025-06-19", "in the last 30 days"),
    ("past two weeks", "2025-06-04", "2025-06-19", "in the last 2 weeks"),
    ("in the last 6 months", "2024-12-18", "2025-06-19", "in the last 6 months"),
    ("in q3 2024", "2024-07-01", "2024-10-01", "in q3 2024"),
    ("in march 2024", "2024-03-01", "2024-04-01", "in march 2024"),
    ("year to date", "2025-01-01", "2025-06-19", "year to date"),
    ("yesterday", "2025-06-17", "2025-06-18", "yesterday"),
    ("before 2024", None, "2024-01-01", "before 2024"),
    ("on march 5, 2025", "2025-03-05", "2025-03-06", "in march 5 2025"),
]


@pytest.mark.parametrize(("text", "start", "end", "label"), RANGES)
def test_date_ranges(text: str, start: str | None, end: str | None, label: str) -> None:
    found = find_range(" ".join(tokens(text)), TODAY)
    assert found is not None
    assert (
        found.start.isoformat() if found.start else None,
        found.end.isoformat() if found.end else None,
    ) == (
        start,
        end,
    )
    assert found.label == label


@pytest.mark.parametrize(
    "text", ["how many orders", "orders that may ship", "top 5 customers", "last 10 orders"]
)
def test_no_date_range(text: str) -> None:
    assert find_range(" ".join(tokens(text)), TODAY) is None


def test_month_shift_clamps_to_month_end() -> None:
    assert month_shift(dt.date(2025, 3, 31), -1) == dt.date(2025, 2, 28)
    assert month_shift(dt.date(2024, 12, 15), 1) == dt.date(2025, 1, 15)
    assert month_shift(dt.date(2024, 2, 29), -12) == dt.date(2023, 2, 28)


def test_word_forms() -> None:
    assert [singular(w) for w in ("categories", "statuses", "orders", "boxes", "address", "is")] == [
        "category",
        "status",
        "order",
        "box",
        "address",
        "is",
    ]
    assert [plural(w) for w in ("category", "status", "region", "day")] == [
        "categories",
        "statuses",
        "regions",
        "days",
    ]
    assert words_of("order_items") == ("order", "item")
    assert words_of("signupDate") == ("signup", "date")
    assert tokens("What's the customer's Revenue?") == ["what", "the", "customer", "revenue"]
    assert close_match("catagory", ["category", "region"]) == "category"
    assert close_match("reg", ["region"]) is None  # short words must match exactly


def test_names_resolve_through_plurals_synonyms_and_near_misses() -> None:
    demo = load_schema(demo_path())
    assert resolve_table(demo, ["orders"]) == "orders"
    assert resolve_table(demo, ["order", "items"]) == "order_items"
    assert resolve_table(demo, ["custmers"]) == "customers"
    assert resolve_column(demo, ["product", "category"]).key == "products.category"  # type: ignore[union-attr]
    assert resolve_column(demo, ["order", "date"]).key == "orders.order_date"  # type: ignore[union-attr]
    assert resolve_column(demo, ["unit", "price"]).key == "order_items.unit_price"  # type: ignore[union-attr]
    assert resolve_measure(demo, ["revenue"]).sql == "order_items.quantity * order_items.unit_price"  # type: ignore[union-attr]
    assert resolve_measure(demo, ["sales"]).key == "derived:order_items"  # type: ignore[union-attr]
    assert resolve_measure(demo, ["sold"]).key == "order_items.quantity"  # type: ignore[union-attr]
    library = load_schema(library_path())
    # No quantity * price here: money words mean the money column.
    assert resolve_measure(library, ["fees"]).key == "loans.late_fee"  # type: ignore[union-attr]
    assert resolve_measure(library, ["revenue"]).key == "loans.late_fee"  # type: ignore[union-attr]
    assert library.tables["members"].label_sql == "members.first_name || ' ' || members.last_name"
    assert library.tables["loans"].date == "loan_date"
    assert library.tables["members"].date == "joined_on"


def test_schema_introspection_reads_keys_kinds_and_values() -> None:
    demo = load_schema(demo_path())
    assert demo is load_schema(demo_path())  # cached
    orders = demo.tables["orders"]
    assert orders.pk == "id"
    assert orders.date == "order_date"
    assert orders.row_count == 50_000
    kinds = {c.name: c.kind for c in orders.columns}
    assert kinds == {"id": "id", "customer_id": "id", "order_date": "date", "status": "text"}
    assert orders.column("customer_id").ref == ("customers", "id")  # type: ignore[union-attr]
    assert demo.tables["customers"].column("region").values == ("East", "North", "South", "West")  # type: ignore[union-attr]
    assert demo.tables["customers"].column("email").values == ()  # type: ignore[union-attr]  # too many to list
    path = demo.join_path("order_items", "customers")
    assert [(j.left, j.right, j.fans) for j in path or []] == [
        ("order_items", "orders", False),
        ("orders", "customers", False),
    ]


def test_plan_state_round_trips_through_json() -> None:
    plan = Plan(
        kind="aggregate",
        table="orders",
        groups=["customers.region"],
        filters=[Filter("orders.status", "=", ["x"])],
    )
    again = Plan.from_state(json.loads(json.dumps(plan.to_state())))
    assert again == plan


def test_sql_quoting() -> None:
    assert quote("orders") == "orders"
    assert quote("order") == '"order"'
    assert quote('odd "name"') == '"odd ""name"""'
    assert literal("O'Brien") == "'O''Brien'"
    assert literal(3) == "3"
    assert literal(None) == "NULL"
