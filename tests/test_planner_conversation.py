"""Follow-up chains, charts, schema questions, declines, state across a restart, and threads."""

# ruff: noqa: E501 - tables of hand-written SQL read best one case per line
from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest
from planner_helpers import (
    DEMO_TODAY,
    LIBRARY_TODAY,
    ask,
    charts,
    check_answer,
    database,
    demo_path,
    first_table,
    library_path,
    make_run_query,
    rows_of,
)

from trellis_jupyter.local.planner import Planner
from trellis_jupyter.local.planner_protocol import DatabaseInfo, PastTurn, QueryError

REVENUE = "SUM(oi.quantity * oi.unit_price)"
ITEMS = "order_items oi JOIN orders o ON o.id = oi.order_id"
BY_CUSTOMER = f"{ITEMS} JOIN customers c ON c.id = o.customer_id"

# Each chain: (question, expected SQL, ordered, expected chart type or None for "no chart").
CHAINS: dict[str, list[tuple[str, str, bool, str | None]]] = {
    "region-month-east-pie-lastyear-average": [
        ("revenue by region this year",
         f"SELECT c.region, {REVENUE} FROM {BY_CUSTOMER} WHERE o.order_date >= '2025-01-01' "
         "AND o.order_date < '2026-01-01' GROUP BY c.region", False, "bar"),
        ("now by month",
         f"SELECT strftime('%Y-%m', o.order_date) m, {REVENUE} FROM {ITEMS} WHERE o.order_date >= '2025-01-01' "
         "AND o.order_date < '2026-01-01' GROUP BY m ORDER BY m", True, "line"),
        ("only the East region",
         f"SELECT strftime('%Y-%m', o.order_date) m, {REVENUE} FROM {BY_CUSTOMER} WHERE c.region = 'East' "
         "AND o.order_date >= '2025-01-01' AND o.order_date < '2026-01-01' GROUP BY m ORDER BY m", True, "line"),
        ("as a pie chart",
         f"SELECT strftime('%Y-%m', o.order_date) m, {REVENUE} FROM {BY_CUSTOMER} WHERE c.region = 'East' "
         "AND o.order_date >= '2025-01-01' AND o.order_date < '2026-01-01' GROUP BY m ORDER BY m", True, "pie"),
        ("what about last year?",
         f"SELECT strftime('%Y-%m', o.order_date) m, {REVENUE} FROM {BY_CUSTOMER} WHERE c.region = 'East' "
         "AND o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01' GROUP BY m ORDER BY m", True, "pie"),
        ("and the average?",
         f"SELECT strftime('%Y-%m', o.order_date) m, {REVENUE} * 1.0 / COUNT(DISTINCT o.id) FROM {BY_CUSTOMER} "
         "WHERE c.region = 'East' AND o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01' "
         "GROUP BY m ORDER BY m", True, "pie"),
    ],
    "top-customers": [
        ("top 5 customers by revenue",
         f"SELECT c.name, {REVENUE} r FROM {BY_CUSTOMER} GROUP BY c.id ORDER BY r DESC LIMIT 5", True, "bar"),
        ("top 3 instead",
         f"SELECT c.name, {REVENUE} r FROM {BY_CUSTOMER} GROUP BY c.id ORDER BY r DESC LIMIT 3", True, "bar"),
        ("what about last year?",
         f"SELECT c.name, {REVENUE} r FROM {BY_CUSTOMER} WHERE o.order_date >= '2024-01-01' "
         "AND o.order_date < '2025-01-01' GROUP BY c.id ORDER BY r DESC LIMIT 3", True, "bar"),
        ("only corporate",
         f"SELECT c.name, {REVENUE} r FROM {BY_CUSTOMER} WHERE c.segment = 'Corporate' AND o.order_date >= '2024-01-01' "
         "AND o.order_date < '2025-01-01' GROUP BY c.id ORDER BY r DESC LIMIT 3", True, "bar"),
    ],
    "order-count": [
        ("how many orders were placed last month",
         "SELECT COUNT(*) FROM orders WHERE order_date >= '2025-05-01' AND order_date < '2025-06-01'", False, None),
        ("by region",
         "SELECT c.region, COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
         "WHERE o.order_date >= '2025-05-01' AND o.order_date < '2025-06-01' GROUP BY c.region", False, "bar"),
        ("only cancelled ones",
         "SELECT c.region, COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'cancelled' "
         "AND o.order_date >= '2025-05-01' AND o.order_date < '2025-06-01' GROUP BY c.region", False, "bar"),
        ("as a donut chart",
         "SELECT c.region, COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'cancelled' "
         "AND o.order_date >= '2025-05-01' AND o.order_date < '2025-06-01' GROUP BY c.region", False, "donut"),
        ("and split by segment",
         "SELECT c.region, c.segment, COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
         "WHERE o.status = 'cancelled' AND o.order_date >= '2025-05-01' AND o.order_date < '2025-06-01' "
         "GROUP BY c.region, c.segment", False, "donut"),
    ],
    # A time series of a one-month range has one point: "now by month" widens it to all the data.
    "last-month-then-by-month": [
        ("how many orders did we get last month, by region?",
         "SELECT c.region, COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
         "WHERE o.order_date >= '2025-05-01' AND o.order_date < '2025-06-01' GROUP BY c.region", False, "bar"),
        ("now by month",
         "SELECT strftime('%Y-%m', order_date) m, COUNT(*) FROM orders GROUP BY m ORDER BY m", True, "line"),
    ],
}  # fmt: skip

LIBRARY_CHAIN: list[tuple[str, str, bool, str | None]] = [
    ("loans by genre this year",
     "SELECT b.genre, COUNT(*) FROM loans l JOIN books b ON b.id = l.book_id WHERE l.loan_date >= '2025-01-01' "
     "AND l.loan_date < '2026-01-01' GROUP BY b.genre", False, "bar"),
    ("now by month",
     "SELECT strftime('%Y-%m', loan_date) m, COUNT(*) FROM loans WHERE loan_date >= '2025-01-01' "
     "AND loan_date < '2026-01-01' GROUP BY m ORDER BY m", True, "line"),
    ("only fantasy",
     "SELECT strftime('%Y-%m', l.loan_date) m, COUNT(*) FROM loans l JOIN books b ON b.id = l.book_id "
     "WHERE b.genre = 'Fantasy' AND l.loan_date >= '2025-01-01' AND l.loan_date < '2026-01-01' GROUP BY m ORDER BY m",
     True, "line"),
    ("as an area chart",
     "SELECT strftime('%Y-%m', l.loan_date) m, COUNT(*) FROM loans l JOIN books b ON b.id = l.book_id "
     "WHERE b.genre = 'Fantasy' AND l.loan_date >= '2025-01-01' AND l.loan_date < '2026-01-01' GROUP BY m ORDER BY m",
     True, "area"),
    ("what about the total late fees?",
     "SELECT strftime('%Y-%m', l.loan_date) m, SUM(l.late_fee) FROM loans l JOIN books b ON b.id = l.book_id "
     "WHERE b.genre = 'Fantasy' AND l.loan_date >= '2025-01-01' AND l.loan_date < '2026-01-01' GROUP BY m ORDER BY m",
     True, "area"),
]  # fmt: skip


def _run_chain(
    path: str, planner: Planner, chain: list[tuple[str, str, bool, str | None]], restart: bool
) -> None:
    history: list[PastTurn] = []
    for question, sql, ordered, chart_type in chain:
        if restart:
            # A new planner, and the states as the server's store gives them back (JSON).
            planner = Planner(today=planner.today())
            history = [PastTurn(t.question, json.loads(json.dumps(t.state))) for t in history]
        answer = ask(planner, path, question, history)
        check_answer(path, answer, sql, ordered)
        drawn = charts(answer)
        assert [c.chart_type for c in drawn] == ([chart_type] if chart_type else []), (question, answer.text)
        history.append(PastTurn(question, answer.state))


@pytest.mark.parametrize("name", list(CHAINS))
def test_demo_follow_up_chain(name: str) -> None:
    _run_chain(demo_path(), Planner(today=DEMO_TODAY), CHAINS[name], restart=False)


def test_follow_ups_survive_a_restart() -> None:
    _run_chain(
        demo_path(), Planner(today=DEMO_TODAY), CHAINS["region-month-east-pie-lastyear-average"], restart=True
    )


def test_library_follow_up_chain() -> None:
    _run_chain(library_path(), Planner(today=LIBRARY_TODAY), LIBRARY_CHAIN, restart=True)


def test_charts_have_the_asked_type_points_and_axis_labels() -> None:
    planner = Planner(today=DEMO_TODAY)
    answer = ask(planner, demo_path(), "show revenue by region as a horizontal bar chart")
    (chart,) = charts(answer)
    table = first_table(answer)
    assert chart.chart_type == "bar_horizontal"
    assert (chart.x_axis_label, chart.y_axis_label) == ("Region", "Revenue")
    assert [p["label"] for p in chart.values] == [r[0] for r in table.rows]
    assert [p["value"] for p in chart.values] == [r[1] for r in table.rows]
    assert len(chart.id) == 10
    assert chart.id.isalnum()
    assert chart.id != table.id

    pie = charts(ask(planner, demo_path(), "customers by segment as a pie chart"))[0]
    assert pie.chart_type == "pie"
    assert {p["text"] for p in pie.values} == {
        "Consumer",
        "Corporate",
        "Small Business",
    }
    assert pie.x_axis_label is None
    assert all("label" not in p for p in pie.values)

    stacked = charts(ask(planner, demo_path(), "stacked bar chart of orders by region and segment"))[0]
    assert stacked.chart_type == "stacked_bar"
    assert set(stacked.series) == {
        "Consumer",
        "Corporate",
        "Small Business",
    }
    assert (stacked.x_axis_label, stacked.y_axis_label) == ("Region", "Orders")

    lines = charts(ask(planner, demo_path(), "line chart of monthly orders by region this year"))[0]
    assert lines.chart_type == "line"
    assert set(lines.series) == {"North", "South", "East", "West"}
    assert lines.x_axis_label == "Month"
    assert len(lines.values) == 6 * 4


def test_single_numbers_and_lists_get_no_chart_unless_asked() -> None:
    planner = Planner(today=DEMO_TODAY)
    assert charts(ask(planner, demo_path(), "total revenue this year")) == []
    assert charts(ask(planner, demo_path(), "the 10 most recent orders")) == []
    answer = ask(planner, demo_path(), "pie chart of total revenue")
    assert charts(answer) == []
    assert "chart needs a grouping" in answer.text


def test_answer_text_states_the_result() -> None:
    planner = Planner(today=DEMO_TODAY)
    answer = ask(planner, demo_path(), "how many orders were placed last month")
    count = first_table(answer).rows[0][0]
    assert answer.text == f"There were {count:,} orders last month."
    answer = ask(planner, demo_path(), "orders by region last month")
    top = first_table(answer).rows[0]
    assert f"**{top[0]}** led with {top[1]:,}" in answer.text
    answer = ask(planner, demo_path(), "top 3 customers by revenue")
    assert all(cast(str, row[0]) in answer.text for row in first_table(answer).rows)  # names
    # A series with a single bucket is stated as one number, not as "1 months from X to X".
    answer = ask(planner, demo_path(), "orders per month last month")
    (month, count) = first_table(answer).rows[0]
    assert f"**{count:,}**, all in {month}" in answer.text
    assert "1 months" not in answer.text


def test_schema_questions() -> None:
    planner = Planner(today=DEMO_TODAY)
    answer = ask(planner, demo_path(), "what tables are there?")
    assert [r[0] for r in first_table(answer).rows] == ["customers", "order_items", "orders", "products"]
    assert "**orders** (50,000 rows)" in answer.text
    answer = ask(planner, demo_path(), "describe orders")
    rows = {r[0]: r for r in first_table(answer).rows}
    assert rows["customer_id"][4] == "customers.id"
    assert "cancelled" in str(rows["status"][5])
    answer = ask(planner, demo_path(), "what columns does products have")
    assert [r[0] for r in first_table(answer).rows] == ["id", "name", "category", "price"]
    answer = ask(Planner(), library_path(), "describe the loans table")
    assert "late_fee" in answer.text
    assert first_table(answer).title == "Columns of loans"


DECLINED = [
    "what's the weather tomorrow",
    "revenue by color",
    "how many unicorns were sold last month",
    "average of the thing",
    "top 5 customers",
    "tell me a joke",
]


@pytest.mark.parametrize("question", DECLINED)
def test_unanswerable_questions_are_declined_with_examples(question: str) -> None:
    planner = Planner(today=DEMO_TODAY)
    answer = ask(planner, demo_path(), question)
    assert answer.visualizations == [], answer.text
    assert "customers" in answer.text
    assert "- " in answer.text
    assert answer.state
    assert answer.state["kind"] == "unanswerable"


def test_help_examples_are_themselves_answerable() -> None:
    from planner_questions import CHINOOK_TODAY, NORTHWIND_TODAY, SAKILA_TODAY
    from sample_databases import chinook_path, northwind_path, sakila_path

    from trellis_jupyter.local.planner.describe import example_questions
    from trellis_jupyter.local.planner.schema import load_schema

    databases = (
        (demo_path(), DEMO_TODAY),
        (library_path(), LIBRARY_TODAY),
        (northwind_path(), NORTHWIND_TODAY),
        (sakila_path(), SAKILA_TODAY),
        (chinook_path(), CHINOOK_TODAY),
    )
    for path, today in databases:
        examples = example_questions(load_schema(path))
        assert len(examples) == 3, examples
        assert examples[0].startswith("How many ")
        for question in examples:
            answer = ask(Planner(today=today), path, question)
            assert answer.visualizations, (question, answer.text)
    # Seen on Sakila: "How many film actor were there last month?" (a link table, singular),
    # "Total amount by first name" (the two staff members' names), "Top 5 actor by amount"; on
    # Chinook "Total revenue by fax" (a column of phone numbers with few values).
    sakila = example_questions(load_schema(sakila_path()))
    assert sakila == [
        "How many payments were there last month?",
        "Total amount by staff",
        "Top 5 customers by amount",
    ]
    assert example_questions(load_schema(chinook_path()))[1] == "Total revenue by genre"


def test_a_follow_up_after_a_declined_question_uses_the_last_good_plan() -> None:
    planner = Planner(today=DEMO_TODAY)
    first = ask(planner, demo_path(), "revenue by region")
    second = ask(planner, demo_path(), "revenue by color", [PastTurn("revenue by region", first.state)])
    history = [PastTurn("revenue by region", first.state), PastTurn("revenue by color", second.state)]
    third = ask(planner, demo_path(), "only the West", history)
    check_answer(
        demo_path(), third,
        f"SELECT c.region, {REVENUE} FROM {BY_CUSTOMER} WHERE c.region = 'West' GROUP BY c.region", False,
    )  # fmt: skip


def test_bad_sql_passthrough_raises_query_error() -> None:
    with pytest.raises(QueryError):
        ask(Planner(), demo_path(), "SELECT nope FROM orders")


def test_a_write_is_refused_by_the_read_only_runner_not_planned() -> None:
    # "delete ..." is not a SELECT, so it is read as a question, and declined.
    answer = ask(Planner(), demo_path(), "delete from orders")
    assert answer.visualizations == []
    assert answer.state
    assert answer.state["kind"] == "unanswerable"


def test_planner_is_safe_across_threads() -> None:
    planner = Planner(today=DEMO_TODAY)
    questions = [
        "orders by status",
        "how many customers are there",
        "revenue by year",
        "describe products",
    ] * 3
    path = library_path(), demo_path()

    def one(question: str) -> str:
        answer = planner.answer(
            question, database=_db(path[1]), history=[], run_query=make_run_query(path[1])
        )
        return str(first_table(answer).rows)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, questions))
    assert results[:4] == results[4:8] == results[8:]


def _db(path: str) -> DatabaseInfo:
    return database("demo", path)


def test_a_question_that_looks_like_sql_is_still_answered() -> None:
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), "select customers from the west")
    check_answer(demo_path(), answer, "SELECT * FROM customers WHERE region = 'West'", False)


@pytest.mark.parametrize(
    ("question", "expected_sql", "ordered"),
    [
        ("which customers spent the most",
         f"SELECT c.name, {REVENUE} r FROM {BY_CUSTOMER} GROUP BY c.id ORDER BY r DESC LIMIT 10", True),
        ("what are the order statuses", "SELECT status, COUNT(*) FROM orders GROUP BY status", False),
        ("how many orders per customer last week",
         "SELECT c.name, COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
         "WHERE o.order_date >= '2025-06-09' AND o.order_date < '2025-06-16' GROUP BY c.id", False),
        ("what is the average order value",
         f"SELECT {REVENUE} * 1.0 / COUNT(DISTINCT o.id) FROM {ITEMS}", False),
    ],
)  # fmt: skip
def test_more_wordings(question: str, expected_sql: str, ordered: bool) -> None:
    check_answer(demo_path(), ask(Planner(today=DEMO_TODAY), demo_path(), question), expected_sql, ordered)


@pytest.mark.parametrize(
    ("question", "expected_sql"),
    [
        ("how many orders not in the east",
         "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region <> 'East'"),
        ("how many orders excluding cancelled and returned",
         "SELECT COUNT(*) FROM orders WHERE status NOT IN ('cancelled', 'returned')"),
        ("how many orders in the east or west last month",
         "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region IN ('East', 'West') "
         "AND o.order_date >= '2025-05-01' AND o.order_date < '2025-06-01'"),
    ],
)  # fmt: skip
def test_negated_and_alternative_values(question: str, expected_sql: str) -> None:
    check_answer(demo_path(), ask(Planner(today=DEMO_TODAY), demo_path(), question), expected_sql, False)


def test_two_date_ranges_are_declined_not_half_answered() -> None:
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), "revenue last month vs this month")
    assert answer.visualizations == []
    assert "one date range at a time" in answer.text


@pytest.mark.parametrize("question", ["and by region", "now only the East", "as a pie chart", "what about last month"])
def test_a_follow_up_with_nothing_before_it_is_declined(question: str) -> None:
    # Seen after %trellis delete: "and by region" was answered as "Number of customers by region",
    # a guess at what to count.
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), question)
    assert answer.visualizations == [], answer.text
    assert answer.text.startswith("This reads like a follow-up, but this chat has no earlier question")
    # With a question before it, it is a follow-up as ever.
    first = ask(Planner(today=DEMO_TODAY), demo_path(), "how many orders were placed last month")
    then = ask(Planner(today=DEMO_TODAY), demo_path(), question, [PastTurn("orders last month", first.state)])
    assert then.visualizations, then.text


@pytest.mark.parametrize(
    ("db", "before", "question", "expected_sql"),
    [
        # Rows of a table picked by a condition: a question of its own, whatever came before.
        ("northwind", "average freight by shipper", "which products are discontinued",
         "SELECT ProductName FROM Products WHERE Discontinued = 1"),
        ("sakila", "how many rentals were there in 2005", "which customers live in Canada",
         "SELECT cu.first_name || ' ' || cu.last_name FROM customer cu JOIN address ad ON cu.address_id = ad.address_id"
         " JOIN city ci ON ad.city_id = ci.city_id JOIN country co ON ci.country_id = co.country_id"
         " WHERE co.country = 'Canada'"),
        ("sakila", "top 3 categories by number of films", "which films are in the Horror category",
         "SELECT f.title FROM film f JOIN film_category fc ON f.film_id = fc.film_id"
         " JOIN category c ON fc.category_id = c.category_id WHERE c.name = 'Horror'"),
        ("chinook", "total sales by country", "which customers are from Brazil",
         "SELECT FirstName || ' ' || LastName FROM Customer WHERE Country = 'Brazil'"),
        # Still follow-ups: the previous answer was split by those rows already, or no condition.
        ("northwind", "Number of orders by customer", "which customers in Germany?",
         "SELECT c.CompanyName, COUNT(*) FROM Orders o JOIN Customers c ON o.CustomerID = c.CustomerID"
         " WHERE o.ShipCountry = 'Germany' GROUP BY c.CustomerID"),
        ("northwind", "What are the 5 best-selling products?", "Which products cost less than 10?",
         "SELECT ProductName FROM Products WHERE UnitPrice < 10"),
        ("seaborn", "Average tip by day", "How many bills were over 30 dollars?",
         "SELECT COUNT(*) FROM tips WHERE total_bill > 30"),
        ("northwind", "how many orders were shipped to Germany", "which customers?",
         "SELECT c.CompanyName, COUNT(*) FROM Orders o JOIN Customers c ON o.CustomerID = c.CustomerID"
         " WHERE o.ShipCountry = 'Germany' GROUP BY c.CustomerID"),
    ],
)  # fmt: skip
def test_a_question_with_its_own_condition_is_not_the_previous_answer_narrowed(
    db: str, before: str, question: str, expected_sql: str
) -> None:
    """Found by use: after "average freight by shipper", "which products are discontinued" was
    answered "average freight by product with Discontinued 1" (a wrong answer, not a decline)."""
    from public_sets import PUBLIC_SETS

    path = next(p.path for p in PUBLIC_SETS if p.name == db)()
    planner = Planner()
    first = ask(planner, path, before)
    answer = ask(planner, path, question, [PastTurn(before, first.state)])
    table = first_table(answer)
    expected = rows_of(path, expected_sql)
    # A listing shows the rows' columns, the label among them: the same rows, each one holding
    # the label the expected SQL gives (and its count, for a follow-up split by it).
    assert table.row_count == len(expected), (answer.text, table.sql)
    # A merged answer can hold the same rows ("rentals by customer" in Canada: the same five).
    assert answer.state is not None
    listing = not any(f in expected_sql for f in ("COUNT(", "SUM(", "AVG("))
    assert answer.state["plan"]["kind"] == ("list" if listing else "aggregate"), answer.text
    labels = sorted(str(row[0]) for row in expected)
    shown = sorted(next(str(v) for v in row if str(v) in labels) for row in table.rows)
    assert shown == labels, (answer.text, table.sql)
    if not listing:
        assert sorted(map(tuple, table.rows)) == sorted(map(tuple, expected)), table.sql


def test_a_period_outside_the_data_names_the_period_there_is() -> None:
    """Found by use: "orders per month in 1997" on Northwind (orders from 2016 to 2018) said only
    "No rows matched in 1997"; it now says which dates there are, so the next question can ask."""
    from sample_databases import northwind_path

    path = northwind_path()
    planner = Planner(today=dt.date(2026, 11, 28))
    span = " The orders' OrderDate runs from 2016-07-04 to 2018-05-06."
    for question in ("number of orders per month in 1997", "how many orders last month", "total freight in 2030"):
        answer = ask(planner, path, question)
        assert answer.text.endswith(span), answer.text
        assert first_table(answer).rows in ([], [[0]], [[None]])
    # A period with data, or none asked: nothing added.
    for question in ("how many orders in 2017", "how many orders", "number of orders per month in 2017"):
        assert "runs from" not in ask(planner, path, question).text
    # A listing after an answer, with only a period as its condition, is its own question too.
    before = ask(planner, path, "total freight in 2017")
    answer = ask(planner, path, "which orders were placed in 2030", [PastTurn("total freight in 2017", before.state)])
    assert answer.state is not None
    assert answer.state["plan"]["kind"] == "list"
    assert answer.text == "No orders matched in 2030." + span


def test_the_period_note_needs_iso_dates_and_never_fails_the_answer() -> None:
    """One unit's edge cases, with a stand-in query runner: dates kept as "07/04/2016" sort as
    text, not by time, so no span is said; a span query that fails leaves the answer as it was."""
    from trellis_jupyter.events import Cell
    from trellis_jupyter.local.planner.plan import Plan
    from trellis_jupyter.local.planner.schema import load_schema
    from trellis_jupyter.local.planner.span import span_note
    from trellis_jupyter.local.planner_protocol import QueryResult

    schema = load_schema(demo_path())
    date = next(c.key for t in schema.tables.values() for c in t.columns if c.kind == "date")
    plan = Plan(kind="aggregate", table=date.split(".")[0], date=date, start="1997-01-01", end="1998-01-01")

    def answering(first: Cell, last: Cell) -> Any:
        return lambda sql: QueryResult(sql, ["min", "max"], [[first, last]], 1, False)

    def failing(sql: str) -> QueryResult:
        raise QueryError("interrupted: the query ran too long", "QUERY_TIMEOUT")

    assert "runs from 2016-07-04 to 2018-05-06." in span_note(schema, plan, [], answering("2016-07-04", "2018-05-06T10:00"))
    assert span_note(schema, plan, [], answering("07/04/2016", "12/31/2015")) == ""
    assert span_note(schema, plan, [], answering(None, None)) == ""
    assert span_note(schema, plan, [], answering(20160704, 20180506)) == ""
    assert span_note(schema, plan, [], failing) == ""
    assert span_note(schema, plan, [[5]], answering("2016-07-04", "2018-05-06")) == ""  # rows found
    inside = Plan(kind="aggregate", table=plan.table, date=date, start="2017-01-01", end="2018-01-01")
    assert span_note(schema, inside, [], answering("2016-07-04", "2018-05-06")) == ""  # a period with data
