"""The planner on databases it was not written for: no confident wrong answer, everyday wording.

- The Northwind, Sakila and Chinook question sets (tests/planner_questions.py, gold SQL written
  before the planner was changed for them): no wrong answer, and at least 95 % right, on each.
- The questions of issue #17 on the demo database, each answered right.
- A Chinook-like schema (CamelCase names, Milliseconds and Bytes, an invoice Total column, a
  self-reference, a two-word table name): the real-schema features one by one.
- Anything read and not used is declined, naming it; filler words change nothing (property tests).
- Planning stays linear in the question's length.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planner_helpers import DEMO_TODAY, ask, check_answer, demo_path, first_table
from planner_judge import judge
from planner_questions import (
    CHINOOK,
    NORTHWIND,
    SAKILA,
    SAKILA_TODAY,
    Question,
    q,
)
from public_sets import PUBLIC_SETS, PublicSet
from sample_databases import sakila_path

from trellis_jupyter.events import Chart, Table
from trellis_jupyter.local.planner import Planner
from trellis_jupyter.local.planner_protocol import PastTurn

CATEGORIES = {"count", "total", "average", "group", "top", "time", "filter", "comparison", "negation",
              "listing", "schema", "chart", "followup"}  # fmt: skip


@pytest.mark.parametrize(
    ("questions", "size"),
    [(NORTHWIND, 60), (SAKILA, 60), (CHINOOK, 30)],
    ids=["northwind", "sakila", "chinook"],
)
def test_question_sets_cover_every_category(questions: tuple[Question, ...], size: int) -> None:
    assert len(questions) >= size
    assert {x.category for x in questions} == CATEGORIES
    assert len({x.text for x in questions}) == len(questions)


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("public", "held_out"),
    [(p, held) for p in PUBLIC_SETS for held in (False, True)],
    ids=[f"{p.name}{'-held-out' if held else ''}" for p in PUBLIC_SETS for held in (False, True)],
)
def test_no_wrong_answer_and_most_right(public: PublicSet, held_out: bool) -> None:
    questions = public.held_out if held_out else public.questions
    assert len(questions) >= (8 if held_out else 30)
    assert len({x.text for x in questions}) == len(questions)
    verdicts = [judge(public.path(), question, public.today) for question in questions]
    wrong = [
        f"{v.question.text}\n  said: {v.text[:200]}\n  sql: {v.sql}" for v in verdicts if v.verdict == "wrong"
    ]
    assert not wrong, "\n".join(wrong)
    if not held_out:  # the held-out sets were never tuned on: only "none wrong" is asked of them
        right = Counter(v.verdict for v in verdicts)["right"]
        declined = [v.question.text for v in verdicts if v.verdict == "declined"]
        assert right / len(verdicts) >= public.right_at_least, declined


# --- the questions of the issue, on the demo database --------------------------------------------

REVENUE_BY_REGION = (
    "SELECT c.region, SUM(i.quantity * i.unit_price) AS r FROM order_items i"
    " JOIN orders o ON o.id = i.order_id"
    " JOIN customers c ON c.id = o.customer_id GROUP BY c.region ORDER BY r ASC LIMIT 1"
)
ISSUE_QUESTIONS = (
    q(
        "top",
        "Which 3 categories have the fewest products?",
        "SELECT category, COUNT(*) AS n FROM products GROUP BY category ORDER BY n ASC LIMIT 3",
        ordered=True,
    ),
    q("top", "Which region had the lowest revenue?", REVENUE_BY_REGION),
    q(
        "filter",
        "orders with quantity > 5",
        "SELECT DISTINCT o.id FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.quantity > 5",
    ),
    q("count", "How many orders are in the system?", "SELECT COUNT(*) FROM orders"),
    q("top", "Which region brought in the least revenue?", REVENUE_BY_REGION),
    q(
        "group",
        "How many customers does each region look after?",
        "SELECT region, COUNT(*) FROM customers GROUP BY region",
    ),
    q(
        "top",
        "Who are our best-selling products?",
        "SELECT p.name, SUM(i.quantity) AS n FROM order_items i JOIN products p ON p.id = i.product_id"
        " GROUP BY p.id ORDER BY n DESC LIMIT 10",
        ordered=True,
    ),
    q("filter", "Products priced over 100 dollars", "SELECT name FROM products WHERE price > 100"),
    q(
        "average",
        "What is the average order total?",
        "SELECT SUM(quantity * unit_price) * 1.0 / COUNT(DISTINCT order_id) FROM order_items",
    ),
)


@pytest.mark.parametrize("question", ISSUE_QUESTIONS, ids=lambda x: x.text)
def test_issue_questions_answered_right_on_the_demo(question: Question) -> None:
    verdict = judge(demo_path(), question, DEMO_TODAY)
    assert verdict.verdict == "right", (verdict.text, verdict.sql)


def test_single_group_answer_reads_as_one_value() -> None:
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), "number of orders by region in the East last month")
    assert "led with" not in answer.text
    assert answer.text.startswith("There were ")
    assert " orders " in answer.text
    charts = [v for v in answer.visualizations if isinstance(v, Chart)]
    table = first_table(answer)
    assert "by region" not in cast(str, table.title), table.title  # the planner titles every table
    assert all("by region" not in (c.title or "") for c in charts)


def test_ranked_months_are_not_called_a_range() -> None:
    planner = Planner(today=DEMO_TODAY)
    first = ask(planner, demo_path(), "revenue by month this year")
    assert " from 2025-01 to " in first.text
    ranked = ask(planner, demo_path(), "top 3", [PastTurn("revenue by month this year", first.state)])
    assert " from " not in ranked.text, ranked.text
    assert "highest first" in ranked.text


# --- a Chinook-like schema: the real-schema features ---------------------------------------------


@pytest.fixture(scope="module")
def chinook(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("chinook") / "chinook.db")
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE MediaType (MediaTypeId INTEGER PRIMARY KEY, Name TEXT);
        CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT NOT NULL,
            MediaTypeId INTEGER REFERENCES MediaType(MediaTypeId), Milliseconds INTEGER, Bytes INTEGER,
            UnitPrice NUMERIC);
        CREATE TABLE Employee (EmployeeId INTEGER PRIMARY KEY, LastName TEXT, FirstName TEXT, Title TEXT,
            ReportsTo INTEGER REFERENCES Employee(EmployeeId));
        CREATE TABLE Customer (CustomerId INTEGER PRIMARY KEY, FirstName TEXT, LastName TEXT, Email TEXT,
            Country TEXT, SupportRepId INTEGER REFERENCES Employee(EmployeeId));
        CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY,
            CustomerId INTEGER REFERENCES Customer(CustomerId),
            InvoiceDate DATETIME, BillingCountry TEXT, Total NUMERIC);
        """
    )
    media = ["MPEG audio file", "Protected AAC audio file", "AAC audio file"]
    con.executemany("INSERT INTO MediaType VALUES (?, ?)", list(enumerate(media, 1)))
    tracks = [(i, f"Song {i}", 1 + i % 3, 60_000 + 7_919 * i % 540_000, 400_000 + 104_729 * i % 9_000_000,
               0.99 if i % 4 else 1.99) for i in range(1, 201)]  # fmt: skip
    con.executemany("INSERT INTO Track VALUES (?, ?, ?, ?, ?, ?)", tracks)
    staff = [
        (1, "Adams", "Andrew", "General Manager", None),
        (2, "Edwards", "Nancy", "Sales Manager", 1),
        (3, "Peacock", "Jane", "Sales Support Agent", 2),
        (4, "Park", "Margaret", "Sales Support Agent", 2),
    ]
    con.executemany("INSERT INTO Employee VALUES (?, ?, ?, ?, ?)", staff)
    countries = ["USA", "Canada", "Brazil", "France"]
    customers = [
        (i, f"Ann{i}", f"Lee{i}", f"c{i}@example.com", countries[i % 4], 3 + i % 2) for i in range(1, 60)
    ]
    con.executemany("INSERT INTO Customer VALUES (?, ?, ?, ?, ?, ?)", customers)
    invoices = [
        (i, 1 + i % 59, f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} 00:00:00", countries[(1 + i % 59) % 4],
         round(0.99 * (1 + i % 7), 2))
        for i in range(1, 301)
    ]  # fmt: skip
    con.executemany("INSERT INTO Invoice VALUES (?, ?, ?, ?, ?)", invoices)
    con.commit()
    con.close()
    return path


CHINOOK_QUESTIONS = (
    q("listing", "Which media types are there?", "SELECT Name FROM MediaType"),
    q("filter", "Tracks longer than 5 minutes", "SELECT Name FROM Track WHERE Milliseconds > 300000"),
    q(
        "filter",
        "How many tracks are bigger than 5 MB?",
        "SELECT COUNT(*) FROM Track WHERE Bytes > 5 * 1024 * 1024",
    ),
    q(
        "average",
        "average invoice total by country",
        "SELECT c.Country, AVG(i.Total) FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId"
        " GROUP BY c.Country",
    ),
    q(
        "followup",
        ("total of invoices by billing country", "now only customers in the USA"),
        "SELECT i.BillingCountry, SUM(i.Total) FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId"
        " WHERE c.Country = 'USA' GROUP BY i.BillingCountry",
    ),
    q(
        "listing",
        "Which employees report to Nancy Edwards?",
        "SELECT e.FirstName || ' ' || e.LastName FROM Employee e WHERE e.ReportsTo = 2",
    ),
    q(
        "group",
        "How many customers does each employee look after?",
        "SELECT e.FirstName || ' ' || e.LastName, COUNT(*) FROM Customer c JOIN Employee e"
        " ON e.EmployeeId = c.SupportRepId GROUP BY e.EmployeeId",
    ),
    q("count", "How many customers do we have in the system?", "SELECT COUNT(*) FROM Customer"),
)


@pytest.mark.parametrize("question", CHINOOK_QUESTIONS, ids=lambda x: x.text)
def test_real_schema_features(chinook: str, question: Question) -> None:
    verdict = judge(chinook, question, dt.date(2024, 12, 1))
    assert verdict.verdict == "right", (verdict.text, verdict.sql)


def test_answer_text_uses_plain_plural_nouns(chinook: str) -> None:
    planner = Planner(today=dt.date(2024, 12, 1))
    assert ask(planner, chinook, "How many customers are there?").text == "There were 59 customers."
    assert ask(planner, chinook, "Which media types are there?").text.startswith("Found 3 media types")
    one = ask(planner, chinook, "How many employees report to Andrew Adams?").text
    assert one.startswith("There was 1 employee "), one


def test_unit_conversion_is_stated(chinook: str) -> None:
    answer = ask(Planner(today=dt.date(2024, 12, 1)), chinook, "tracks longer than 5 minutes")
    assert "5 minutes is 300000 in Milliseconds" in answer.text


# --- nothing the question says is dropped silently ----------------------------------------------

DROPPED = [
    "How many orders weigh more than 40 kilos?",  # no such column: the number has nothing to apply to
    "How many orders were placed by 7 customers?",
    "Which products have more than 3 wheels?",
    "average price of products over 20 parsecs",
    "How many customers in Atlantis?",
    "What is the most expensive product in each category?",  # a ranking inside every group
    "How many orders have more than 5 products?",  # "orders" is a table, not the column units on order
    "customers who have not ordered",  # rows without related rows: not an inner join's IS NULL
]


@pytest.mark.parametrize("question", DROPPED)
def test_a_constraint_that_cannot_be_honoured_is_declined(question: str) -> None:
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), question)
    assert not any(isinstance(v, Table) for v in answer.visualizations), (answer.text, answer.visualizations)
    assert answer.text.startswith("I could not")


@pytest.mark.parametrize(
    ("question", "sql"),
    [
        (
            "products priced between 10 and 20 dollars",
            "SELECT name FROM products WHERE price BETWEEN 10 AND 20",
        ),
        ("orders from 2024", "SELECT id FROM orders WHERE order_date LIKE '2024%'"),
        ("order lines with quantity under 3 and over 1", "SELECT id FROM order_items WHERE quantity = 2"),
        ("how many products cost more than 1000", "SELECT COUNT(*) FROM products WHERE price > 1000"),
        (
            "how many units were sold last month",
            "SELECT SUM(quantity) FROM order_items i JOIN orders o"
            " ON o.id = i.order_id WHERE o.order_date >= '2025-05-01' AND o.order_date < '2025-06-01'",
        ),
    ],
)
def test_ranges_of_numbers_and_from_a_year(question: str, sql: str) -> None:
    verdict = judge(demo_path(), q("filter", question, sql), DEMO_TODAY)
    assert verdict.verdict == "right", (verdict.text, verdict.sql)


def test_declining_names_what_was_understood() -> None:
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), "How many orders weigh more than 40 kilos?")
    assert '"40"' in answer.text or '"kilos"' in answer.text
    assert "I did understand the table *orders*" in answer.text


ANSWERED = [
    "how many orders were placed last month",
    "total revenue by region",
    "top 5 customers by revenue",
    "average price by category",
    "how many customers signed up this year",
    "revenue by month this year",
    "which region had the most orders",
    "number of orders by status",
]
PREFIXES = ["", "please ", "could you tell me ", "quick question: ", "hi, "]
SUFFIXES = ["", " please", " in the system", " in our database", " thanks", " altogether"]


def _sql(question: str) -> str:
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), question)
    return first_table(answer).sql or ""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ANSWERED), st.sampled_from(PREFIXES), st.sampled_from(SUFFIXES))
def test_filler_words_do_not_change_the_sql(question: str, prefix: str, suffix: str) -> None:
    assert _sql(prefix + question + suffix) == _sql(question)


UNUSABLE = [" with more than {n} wombats", " over {n} parsecs", " for {n} zorblaxes", " weighing {n} kilos"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ANSWERED), st.sampled_from(UNUSABLE), st.integers(min_value=2, max_value=999))
def test_an_unusable_constraint_is_declined_or_named(question: str, extra: str, n: int) -> None:
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), question + extra.format(n=n))
    tables = [v for v in answer.visualizations if isinstance(v, Table)]
    assert not tables or "I ignored" in answer.text, answer.text
    assert (
        str(n) in answer.text
        or "wombats" in answer.text
        or "parsecs" in answer.text
        or "zorblax" in answer.text
    )
    assert answer.text.startswith("I could not"), answer.text


# --- linear in the question's length -------------------------------------------------------------

LONG_SHAPES = [
    "total revenue by region for completed orders last month and ",
    "how many orders 12 customers East cancelled over 5 top 3 ",
    "zorblax quantum wombat ",
]


# Counted in a fresh interpreter: inside the whole suite, cProfile over a 40,000-character parse
# once ran past the test's timeout (and the timeout handler itself never finished), while the same
# count in a process of its own takes seconds. The count is the same either way: only the parse runs.
_COUNT_CALLS = """
import cProfile, pstats, sys
from tests.planner_helpers import DEMO_TODAY, demo_path
from trellis_jupyter.local.planner.parse import parse
from trellis_jupyter.local.planner.schema import load_schema

schema = load_schema(demo_path())
counts = []
for question in sys.argv[1:]:
    parse(question, schema, DEMO_TODAY)  # the schema's and the lexicon's caches filled once
    profile = cProfile.Profile()
    profile.enable()
    parse(question, schema, DEMO_TODAY)
    profile.disable()
    counts.append(pstats.Stats(profile).total_calls)
print(*counts)
"""


def _calls(*questions: str) -> list[int]:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", _COUNT_CALLS, *questions],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    )
    return [int(n) for n in done.stdout.split()]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("shape", LONG_SHAPES)
def test_planning_work_grows_linearly_with_the_question(shape: str) -> None:
    short = (shape * (4_000 // len(shape) + 1))[:4_000]
    long = (shape * (40_000 // len(shape) + 1))[:40_000]
    short_calls, long_calls = _calls(short, long)
    ratio = long_calls / short_calls
    assert ratio < 15, f"10x the text took {ratio:.1f}x the function calls (linear is about 10)"


@pytest.mark.timeout(60)
def test_a_40000_character_question_is_answered_in_bounded_time() -> None:
    question = ("revenue by region last month for cancelled orders and " * 800)[:40_000]
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), question)
    assert answer.text


def test_data_files_are_small_and_licensed() -> None:
    data = Path(__file__).resolve().parent / "data"
    total = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
    assert total < 4_000_000
    for folder in ("northwind", "sakila", "chinook"):
        assert (data / folder / "LICENSE").is_file()
        assert (data / folder / "NOTICE.md").is_file()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("which product has the highest average unit price?", "Top product by average unit price"),
        ("top 3 products by revenue", "Top 3 products by total revenue"),
    ],
)
def test_a_ranked_table_title_counts_in_words_a_person_would_use(question: str, expected: str) -> None:
    # Seen in the widget: "Top 1 products by average unit price".
    table = first_table(ask(Planner(today=DEMO_TODAY), demo_path(), question))
    assert table.title == expected


@pytest.mark.parametrize(
    "question", ["who are our best customers", "the worst products", "greatest products"]
)
def test_a_ranking_with_nothing_to_rank_by_is_declined(question: str) -> None:
    # Seen on Sakila: "who are our best customers" listed all 599 customers, unranked, without a
    # word of doubt ("best" was read as a filler word).
    answer = ask(Planner(today=DEMO_TODAY), demo_path(), question)
    assert not [v for v in answer.visualizations if isinstance(v, Table)], answer.text
    assert "rank" in answer.text


def test_best_and_worst_rank_by_the_measure_named() -> None:
    planner = Planner(today=DEMO_TODAY)
    best = ask(planner, demo_path(), "who are our best customers by revenue")
    check_answer(
        demo_path(),
        best,
        "SELECT c.name, SUM(i.quantity * i.unit_price) AS r FROM order_items i"
        " JOIN orders o ON o.id = i.order_id JOIN customers c ON c.id = o.customer_id"
        " GROUP BY c.id ORDER BY r DESC LIMIT 10",
        ordered=True,
    )
    worst = ask(planner, demo_path(), "the 3 worst products by revenue")
    check_answer(
        demo_path(),
        worst,
        "SELECT p.name, SUM(i.quantity * i.unit_price) AS r FROM order_items i"
        " JOIN products p ON p.id = i.product_id GROUP BY p.id ORDER BY r ASC LIMIT 3",
        ordered=True,
    )


@pytest.mark.parametrize(
    ("question", "where"),
    [
        ("how many customers are inactive?", "active = 0"),
        ("how many customers are not inactive", "active = 1"),
        ("how many active customers are there", "active = 1"),
    ],
)
def test_a_yes_no_column_negated_by_its_prefix(question: str, where: str) -> None:
    # Seen on Sakila: "how many customers are inactive?" was declined ("inactive" unmatched).
    answer = ask(Planner(today=SAKILA_TODAY), sakila_path(), question)
    check_answer(sakila_path(), answer, f"SELECT COUNT(*) FROM customer WHERE {where}", ordered=False)


def test_declining_says_the_filters_it_read_as_the_answers_do() -> None:
    """Found by use: "I did understand the filter order_date is null ." (the operator, and a space
    before the full stop); the filters read now as in answers: "*no order date*"."""
    from sample_databases import jaffle_shop_path

    answer = ask(Planner(), jaffle_shop_path(), "which customers have never ordered?")
    assert "I did understand the filter *no order date*." in answer.text
    assert " ." not in answer.text
    two = ask(Planner(), jaffle_shop_path(), "what is the average bank transfer payment of completed orders")
    assert "the filters *payment method bank_transfer*, *status completed*" in two.text


def test_a_verb_before_a_number_is_read_from_a_bounded_window() -> None:
    """Each number of a question looked back over the whole text before it for "cost" / "weighs"
    (a regex anchored at the end, scanned from the start): 40,000 characters of numbers took
    716 ms against 510 the stop before (benchmarks/planner_length.py: 19.5x for 10x the text, now
    9.3x). The look-back reads 40 characters, and a verb cut out of a longer word is no verb."""
    from trellis_jupyter.local.planner.numbers import _PRICE_VERB, _WEIGHT_VERB, _verb_before

    text = "products that cost over 20"
    assert _verb_before(text, text.index("over"), _PRICE_VERB) == text.index("cost")
    assert _verb_before("penguins that weigh  over 5", 21, _WEIGHT_VERB) == 14
    assert _verb_before("products that over 20", 14, _PRICE_VERB) is None
    long_word = "x" * 38 + "cost over 5"  # the window starts inside "xxxcost"
    assert _verb_before(long_word, long_word.index("over"), _PRICE_VERB) is None
    far = "cost" + " " * 60 + "over 5"  # a verb 60 characters back is not this number's
    assert _verb_before(far, far.index("over"), _PRICE_VERB) is None
