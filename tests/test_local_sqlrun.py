"""The read-only query runner: row cap, refusals that leave the file unchanged, time limit."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from local_helpers import file_digest, make_db

from trellis_jupyter.local.planner_protocol import QueryError
from trellis_jupyter.local.sqlrun import QueryRunner

RUNAWAY = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return make_db(tmp_path / "items.sqlite", rows=2500)


def test_rows_are_capped_and_fully_counted(db: str) -> None:
    result = QueryRunner(db, row_cap=1000).run("SELECT id, name FROM items ORDER BY id")
    assert result.headers == ["id", "name"]
    assert len(result.rows) == 1000
    assert result.row_count == 2500
    assert result.truncated is True
    assert result.rows[0] == [1, "item 0"]


def test_small_result_is_not_truncated(db: str) -> None:
    result = QueryRunner(db).run("SELECT count(*) AS n FROM items")
    assert (result.rows, result.row_count, result.truncated) == ([[2500]], 1, False)


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE items",
        "UPDATE items SET qty = 0",
        "DELETE FROM items",
        "INSERT INTO items (name, qty) VALUES ('x', 1)",
        "WITH x AS (SELECT 1) DELETE FROM items",
        "CREATE TABLE other (a)",
        "CREATE TEMP TABLE other (a)",
        "ATTACH DATABASE 'elsewhere.sqlite' AS other",
        "PRAGMA user_version = 7",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA writable_schema = ON",
        "VACUUM",
        "BEGIN IMMEDIATE",
    ],
)
def test_writes_attach_and_pragmas_are_refused_and_file_unchanged(db: str, sql: str, tmp_path: Path) -> None:
    before = file_digest(db)
    with pytest.raises(QueryError) as info:
        QueryRunner(db).run(sql)
    assert info.value.code == "QUERY_FAILED"
    assert file_digest(db) == before
    assert not (tmp_path / "elsewhere.sqlite").exists()
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT count(*) FROM items").fetchone() == (2500,)
    check.close()


def test_schema_pragmas_that_only_read_are_allowed(db: str) -> None:
    result = QueryRunner(db).run("PRAGMA table_info(items)")
    assert [row[1] for row in result.rows] == ["id", "name", "qty"]


def test_runaway_recursive_query_is_stopped_by_the_time_limit(db: str) -> None:
    with pytest.raises(QueryError) as info:
        QueryRunner(db, timeout=0.3).run(RUNAWAY)
    assert info.value.code == "QUERY_TIMEOUT"
    assert "0.3 s" in str(info.value)


def test_cancelled_query_stops_without_timeout(db: str) -> None:
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(QueryError) as info:
        QueryRunner(db, timeout=30).run(RUNAWAY, cancelled=cancelled)
    assert info.value.code == "QUERY_FAILED"
    assert "interrupted" in str(info.value)


def test_bad_sql_and_several_statements_fail_clearly(db: str) -> None:
    with pytest.raises(QueryError, match="no such table: nope"):
        QueryRunner(db).run("SELECT * FROM nope")
    with pytest.raises(QueryError, match="one statement"):
        QueryRunner(db).run("SELECT 1; SELECT 2")
    with pytest.raises(QueryError, match="empty"):
        QueryRunner(db).run("   ")


def test_cells_json_cannot_carry_are_made_safe(db: str) -> None:
    result = QueryRunner(db).run("SELECT 1e999 AS big, x'00ff' AS blob, NULL AS empty, 2.5 AS half")
    assert result.rows == [[None, "<2 bytes>", None, 2.5]]


def test_missing_database_file_is_a_query_error(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="does not exist"):
        QueryRunner(str(tmp_path / "missing.sqlite")).run("SELECT 1")
