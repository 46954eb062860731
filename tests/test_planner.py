"""Table-driven: each question, the SQL a person would write, and the planner's table must equal it.

Two databases: the bundled demo shop (built for a fixed day, DEMO_TODAY = 2025-06-18) and a lending
library of a different shape, created here (tests/planner_helpers.py). Relative dates below are
written out for that day: last month = May 2025, last quarter = Q1 2025, and so on.
"""

# ruff: noqa: E501 - tables of hand-written SQL read best one case per line
from __future__ import annotations

import pytest
from planner_helpers import DEMO_TODAY, LIBRARY_TODAY, ask, check_answer, demo_path, library_path

from trellis_jupyter.local.planner import Planner

REVENUE = "SUM(oi.quantity * oi.unit_price)"
ITEMS = "order_items oi JOIN orders o ON o.id = oi.order_id"

# (question, expected SQL, row order matters)
DEMO_CASES: list[tuple[str, str, bool]] = [
    # counts and totals
    ("how many orders were placed last month",
     "SELECT COUNT(*) FROM orders WHERE order_date >= '2025-05-01' AND order_date < '2025-06-01'", False),
    ("total revenue this year",
     f"SELECT {REVENUE} FROM {ITEMS} WHERE o.order_date >= '2025-01-01' AND o.order_date < '2026-01-01'", False),
    ("How much revenue did we make in Q1 2025?",
     f"SELECT {REVENUE} FROM {ITEMS} WHERE o.order_date >= '2025-01-01' AND o.order_date < '2025-04-01'", False),
    ("how many customers are there", "SELECT COUNT(*) FROM customers", False),
    ("number of order items", "SELECT COUNT(*) FROM order_items", False),
    ("how many custmers signed up this year",
     "SELECT COUNT(*) FROM customers WHERE signup_date >= '2025-01-01' AND signup_date < '2026-01-01'", False),
    ("how many customers placed orders last month",
     "SELECT COUNT(DISTINCT c.id) FROM customers c JOIN orders o ON o.customer_id = c.id "
     "WHERE o.order_date >= '2025-05-01' AND o.order_date < '2025-06-01'", False),
    ("how many categories are there", "SELECT COUNT(DISTINCT category) FROM products", False),
    ("total quantity sold in the last 30 days",
     f"SELECT SUM(oi.quantity) FROM {ITEMS} WHERE o.order_date >= '2025-05-19' AND o.order_date < '2025-06-19'", False),
    # aggregates by a column, through foreign keys
    ("revenue by region",
     f"SELECT c.region, {REVENUE} FROM {ITEMS} JOIN customers c ON c.id = o.customer_id GROUP BY c.region", False),
    ("average order value per segment",
     f"SELECT c.segment, {REVENUE} * 1.0 / COUNT(DISTINCT o.id) FROM {ITEMS} "
     "JOIN customers c ON c.id = o.customer_id GROUP BY c.segment", False),
    ("number of customers in each segment", "SELECT segment, COUNT(*) FROM customers GROUP BY segment", False),
    ("revenue by product category",
     f"SELECT p.category, {REVENUE} FROM order_items oi JOIN products p ON p.id = oi.product_id GROUP BY p.category",
     False),
    ("sales per catagory",
     f"SELECT p.category, {REVENUE} FROM order_items oi JOIN products p ON p.id = oi.product_id GROUP BY p.category",
     False),
    ("maximum price for each category", "SELECT category, MAX(price) FROM products GROUP BY category", False),
    ("average price by category", "SELECT category, AVG(price) FROM products GROUP BY category", False),
    ("minimum unit price", "SELECT MIN(unit_price) FROM order_items", False),
    ("orders by status", "SELECT status, COUNT(*) FROM orders GROUP BY status", False),
    ("revenue by region and segment",
     f"SELECT c.region, c.segment, {REVENUE} FROM {ITEMS} JOIN customers c ON c.id = o.customer_id "
     "GROUP BY c.region, c.segment", False),
    # time series and date ranges
    ("monthly revenue in 2024",
     f"SELECT strftime('%Y-%m', o.order_date) AS m, {REVENUE} FROM {ITEMS} "
     "WHERE o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01' GROUP BY m ORDER BY m", True),
    ("orders per week over the last quarter",
     "SELECT date(order_date, 'weekday 0', '-6 days') AS w, COUNT(*) FROM orders "
     "WHERE order_date >= '2025-01-01' AND order_date < '2025-04-01' GROUP BY w ORDER BY w", True),
    ("daily orders in the last 30 days",
     "SELECT order_date, COUNT(*) FROM orders WHERE order_date >= '2025-05-19' AND order_date < '2025-06-19' "
     "GROUP BY order_date ORDER BY order_date", True),
    ("quarterly revenue since March 2024",
     f"SELECT strftime('%Y', o.order_date) || '-Q' || ((CAST(strftime('%m', o.order_date) AS INTEGER) + 2) / 3) AS q, "
     f"{REVENUE} FROM {ITEMS} WHERE o.order_date >= '2024-03-01' GROUP BY q ORDER BY q", True),
    ("revenue by year", f"SELECT strftime('%Y', o.order_date) AS y, {REVENUE} FROM {ITEMS} GROUP BY y ORDER BY y", True),
    ("how many orders between January 2025 and March 2025",
     "SELECT COUNT(*) FROM orders WHERE order_date >= '2025-01-01' AND order_date < '2025-04-01'", False),
    ("orders since march",
     "SELECT * FROM orders WHERE order_date >= '2025-03-01'", False),
    ("how many orders this week",
     "SELECT COUNT(*) FROM orders WHERE order_date >= '2025-06-16' AND order_date < '2025-06-23'", False),
    ("revenue by month and region last year",
     f"SELECT strftime('%Y-%m', o.order_date) AS m, c.region, {REVENUE} FROM {ITEMS} "
     "JOIN customers c ON c.id = o.customer_id WHERE o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01' "
     "GROUP BY m, c.region ORDER BY m, c.region", True),
    # top and bottom N
    ("top 5 customers by revenue",
     f"SELECT c.name, {REVENUE} AS r FROM {ITEMS} JOIN customers c ON c.id = o.customer_id "
     "GROUP BY c.id ORDER BY r DESC LIMIT 5", True),
    ("the 3 least sold products",
     "SELECT p.name, SUM(oi.quantity) AS q FROM order_items oi JOIN products p ON p.id = oi.product_id "
     "GROUP BY p.id ORDER BY q ASC LIMIT 3", True),
    ("top 3 categories by revenue last year",
     f"SELECT p.category, {REVENUE} AS r FROM {ITEMS} JOIN products p ON p.id = oi.product_id "
     "WHERE o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01' GROUP BY p.category ORDER BY r DESC LIMIT 3",
     True),
    ("which region has the most orders",
     "SELECT c.region, COUNT(*) AS n FROM orders o JOIN customers c ON c.id = o.customer_id "
     "GROUP BY c.region ORDER BY n DESC LIMIT 1", True),
    ("the most expensive product", "SELECT name, price FROM products ORDER BY price DESC LIMIT 1", True),
    ("top 10 customers by number of orders",
     "SELECT c.name, COUNT(*) AS n FROM orders o JOIN customers c ON c.id = o.customer_id "
     "GROUP BY c.id ORDER BY n DESC, c.name LIMIT 10", True),
    # filters, matched case-insensitively against the data, and combined
    ("revenue in the east region",
     f"SELECT {REVENUE} FROM {ITEMS} JOIN customers c ON c.id = o.customer_id WHERE c.region = 'East'", False),
    ("how many cancelled orders last month",
     "SELECT COUNT(*) FROM orders WHERE status = 'cancelled' AND order_date >= '2025-05-01' "
     "AND order_date < '2025-06-01'", False),
    ("electronics only revenue this year",
     f"SELECT {REVENUE} FROM {ITEMS} JOIN products p ON p.id = oi.product_id WHERE p.category = 'Electronics' "
     "AND o.order_date >= '2025-01-01' AND o.order_date < '2026-01-01'", False),
    ("revenue for cancelled orders in the West by segment",
     f"SELECT c.segment, {REVENUE} FROM {ITEMS} JOIN customers c ON c.id = o.customer_id "
     "WHERE o.status = 'cancelled' AND c.region = 'West' GROUP BY c.segment", False),
    ("orders from small business customers in the north or south",
     "SELECT o.* FROM orders o JOIN customers c ON c.id = o.customer_id "
     "WHERE c.segment = 'Small Business' AND c.region IN ('North', 'South')", False),
    ("how many orders were not cancelled this year",
     "SELECT COUNT(*) FROM orders WHERE status != 'cancelled' AND order_date >= '2025-01-01' "
     "AND order_date < '2026-01-01'", False),
    ("products with price over 500", "SELECT * FROM products WHERE price > 500", False),
    # listings
    ("the 10 most recent orders", "SELECT * FROM orders ORDER BY order_date DESC, id DESC LIMIT 10", True),
    ("show customers from the West", "SELECT * FROM customers WHERE region = 'West'", False),
    ("list products in Furniture", "SELECT * FROM products WHERE category = 'Furniture'", False),
    # SQL passthrough
    ("SELECT region, COUNT(*) AS n FROM customers GROUP BY region ORDER BY n DESC",
     "SELECT region, COUNT(*) AS n FROM customers GROUP BY region ORDER BY n DESC", True),
    ("with big as (select * from orders where status = 'returned') select count(*) from big",
     "SELECT COUNT(*) FROM orders WHERE status = 'returned'", False),
]  # fmt: skip

LIBRARY_CASES: list[tuple[str, str, bool]] = [
    ("how many loans were made last month",
     "SELECT COUNT(*) FROM loans WHERE loan_date >= '2025-05-01' AND loan_date < '2025-06-01'", False),
    ("total late fees this year",
     "SELECT SUM(late_fee) FROM loans WHERE loan_date >= '2025-01-01' AND loan_date < '2026-01-01'", False),
    ("loans by genre",
     "SELECT b.genre, COUNT(*) FROM loans l JOIN books b ON b.id = l.book_id GROUP BY b.genre", False),
    ("number of books per author",
     "SELECT a.name, COUNT(*) FROM books b JOIN authors a ON a.id = b.author_id GROUP BY a.id", False),
    ("average pages by genre", "SELECT genre, AVG(pages) FROM books GROUP BY genre", False),
    ("monthly loans in 2024",
     "SELECT strftime('%Y-%m', loan_date) AS m, COUNT(*) FROM loans WHERE loan_date >= '2024-01-01' "
     "AND loan_date < '2025-01-01' GROUP BY m ORDER BY m", True),
    ("top 3 authors by loans",
     "SELECT a.name, COUNT(*) AS n FROM loans l JOIN books b ON b.id = l.book_id JOIN authors a ON a.id = b.author_id "
     "GROUP BY a.id ORDER BY n DESC, a.name LIMIT 3", True),
    ("top 5 members by late fees",
     "SELECT m.first_name || ' ' || m.last_name, SUM(l.late_fee) AS f FROM loans l JOIN members m ON m.id = l.member_id "
     "GROUP BY m.id ORDER BY f DESC, 1 LIMIT 5", True),
    ("fantasy loans last year",
     "SELECT l.* FROM loans l JOIN books b ON b.id = l.book_id WHERE b.genre = 'Fantasy' "
     "AND l.loan_date >= '2024-01-01' AND l.loan_date < '2025-01-01'", False),
    ("how many loans from members in springfield in the last 90 days",
     "SELECT COUNT(*) FROM loans l JOIN members m ON m.id = l.member_id WHERE m.city = 'Springfield' "
     "AND l.loan_date >= '2025-03-20' AND l.loan_date < '2025-06-19'", False),
    ("late fees by membership type",
     "SELECT m.membership_type, SUM(l.late_fee) FROM loans l JOIN members m ON m.id = l.member_id "
     "GROUP BY m.membership_type", False),
    ("the 5 most recent loans", "SELECT * FROM loans ORDER BY loan_date DESC, id DESC LIMIT 5", True),
    (
        "show members from Riverton",
        "SELECT first_name || ' ' || last_name AS name, * FROM members WHERE city = 'Riverton'",
        False,
    ),
    ("loans by author country and genre",
     "SELECT a.country, b.genre, COUNT(*) FROM loans l JOIN books b ON b.id = l.book_id "
     "JOIN authors a ON a.id = b.author_id GROUP BY a.country, b.genre", False),
    ("how many students joined this year",
     "SELECT COUNT(*) FROM members WHERE membership_type = 'student' AND joined_on >= '2025-01-01' "
     "AND joined_on < '2026-01-01'", False),
    ("SELECT genre, COUNT(*) FROM books GROUP BY genre", "SELECT genre, COUNT(*) FROM books GROUP BY genre", False),
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_planner() -> Planner:
    return Planner(today=DEMO_TODAY)


@pytest.mark.parametrize(
    ("question", "expected_sql", "ordered"), DEMO_CASES, ids=[c[0][:60] for c in DEMO_CASES]
)
def test_demo_question_matches_hand_written_sql(
    demo_planner: Planner, question: str, expected_sql: str, ordered: bool
) -> None:
    answer = ask(demo_planner, demo_path(), question)
    check_answer(demo_path(), answer, expected_sql, ordered)
    assert answer.text
    assert "could not" not in answer.text


@pytest.mark.parametrize(
    ("question", "expected_sql", "ordered"), LIBRARY_CASES, ids=[c[0][:60] for c in LIBRARY_CASES]
)
def test_library_question_matches_hand_written_sql(question: str, expected_sql: str, ordered: bool) -> None:
    answer = ask(Planner(today=LIBRARY_TODAY), library_path(), question)
    check_answer(library_path(), answer, expected_sql, ordered)
    assert answer.text
    assert "could not" not in answer.text
