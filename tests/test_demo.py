"""The bundled demo database: shape, keys, the 24-month window, atomic build, monthly rebuild."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import pytest
from planner_helpers import DEMO_TODAY, demo_path, rows_of

from trellis_jupyter.local.demo import (
    DEMO_ORDERS,
    build_demo_database,
    default_demo_path,
    demo_build_date,
    ensure_demo_database,
)


def test_tables_rows_and_window() -> None:
    path = demo_path()
    assert demo_build_date(path) == DEMO_TODAY
    assert rows_of(path, "SELECT COUNT(*) FROM orders") == [[DEMO_ORDERS]]
    first, last = rows_of(path, "SELECT MIN(order_date), MAX(order_date) FROM orders")[0]
    assert first == "2023-06-01"
    assert last == DEMO_TODAY.isoformat()
    # "last month", "this month" and "this year" always have data.
    for start, end in (
        ("2025-05-01", "2025-06-01"),
        ("2025-06-01", "2025-07-01"),
        ("2025-01-01", "2026-01-01"),
    ):
        count = rows_of(
            path, f"SELECT COUNT(*) FROM orders WHERE order_date >= '{start}' AND order_date < '{end}'"
        )
        assert count[0][0] > 500
    assert {r[0] for r in rows_of(path, "SELECT DISTINCT region FROM customers")} == {
        "North",
        "South",
        "East",
        "West",
    }
    assert {r[0] for r in rows_of(path, "SELECT DISTINCT segment FROM customers")} == {
        "Consumer", "Corporate", "Small Business"}  # fmt: skip
    assert {r[0] for r in rows_of(path, "SELECT DISTINCT status FROM orders")} >= {
        "completed",
        "cancelled",
        "returned",
    }
    assert rows_of(path, "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
                         "WHERE o.order_date < c.signup_date") == [[0]]  # fmt: skip


def test_foreign_keys_and_indexes_are_declared() -> None:
    con = sqlite3.connect(f"file:{demo_path()}?mode=ro", uri=True)
    try:
        refs = {
            (t, r[3], r[2])
            for t in ("orders", "order_items")
            for r in con.execute(f"PRAGMA foreign_key_list({t})")
        }
        assert refs == {("orders", "customer_id", "customers"), ("order_items", "order_id", "orders"),
                        ("order_items", "product_id", "products")}  # fmt: skip
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        indexed = {
            r[0]
            for r in con.execute("SELECT tbl_name || '.' || name FROM sqlite_master WHERE type = 'index'")
        }
        assert {"orders.idx_orders_order_date", "order_items.idx_order_items_order_id"} <= indexed
    finally:
        con.close()


def _digest(path: str) -> str:
    con = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


def test_same_day_builds_the_same_database(tmp_path: Path) -> None:
    first, second, other = (str(tmp_path / name) for name in ("a.sqlite3", "b.sqlite3", "c.sqlite3"))
    build_demo_database(first, DEMO_TODAY, orders=300)
    build_demo_database(second, DEMO_TODAY, orders=300)
    build_demo_database(other, DEMO_TODAY + dt.timedelta(days=40), orders=300)
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(other)


def test_reused_within_the_month_and_rebuilt_in_a_new_one(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "demo.sqlite3"
    path = ensure_demo_database(str(target), today=dt.date(2025, 3, 10), orders=300)
    stamp = target.stat().st_mtime_ns
    assert ensure_demo_database(str(target), today=dt.date(2025, 3, 28), orders=300) == path
    assert target.stat().st_mtime_ns == stamp  # not rebuilt
    ensure_demo_database(str(target), today=dt.date(2025, 4, 2), orders=300)
    assert demo_build_date(path) == dt.date(2025, 4, 2)
    first, last = rows_of(path, "SELECT MIN(order_date), MAX(order_date) FROM orders")[0]
    assert "2023-04-01" <= first < "2023-05-01"
    assert "2025-03-15" < last <= "2025-04-02"
    assert [p.name for p in target.parent.iterdir()] == ["demo.sqlite3"]  # no temp file left behind


def test_a_broken_file_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "demo.sqlite3"
    target.write_bytes(b"not a database")
    assert demo_build_date(target) is None
    path = ensure_demo_database(str(target), today=DEMO_TODAY, orders=300)
    assert demo_build_date(path) == DEMO_TODAY
    assert rows_of(path, "SELECT COUNT(*) FROM orders") == [[300]]


def test_default_path_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_demo_path().parent == tmp_path / "trellis-jupyter"
    assert default_demo_path().name.startswith("demo-")
    assert default_demo_path().suffix == ".sqlite3"
