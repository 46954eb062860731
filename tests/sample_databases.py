"""Five public sample databases the planner was not written for, built from their published scripts.

Northwind (jpwhite3/northwind-SQLite3, MIT): ``create.sql`` and ``update.sql`` run as published.
Chinook (lerocha/chinook-database, MIT): ``Chinook_Sqlite.sql`` runs as published.
Sakila (bradleygrant/sakila-sqlite3 schema, BSD; rows from the Pagila CSV export in ivanceras/sakila,
BSD): the schema runs as published, then the CSV rows are inserted; rentals are trimmed to every
fourth one (and their payments) to keep the test data small.
jaffle_shop (dbt-labs/jaffle_shop, Apache 2.0): the project's diagram as SQLite tables, then its seed CSVs.
seaborn (mwaskom/seaborn-data): titanic, penguins, tips and flights, one table per CSV file.
See tests/data/*/NOTICE.md.
"""

from __future__ import annotations

import csv
import functools
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

# Insert order: a table after the tables it references.
SAKILA_TABLES = (
    "actor", "country", "city", "address", "language", "category", "customer", "film",
    "film_actor", "film_category", "inventory", "staff", "store", "rental", "payment",
)  # fmt: skip


@contextmanager
def _filling(path: str) -> Iterator[sqlite3.Connection]:
    """A new database at ``path`` to fill, committed and closed at the end of the block."""
    con = sqlite3.connect(path)
    try:
        # A throwaway test database: no journal to sync (the published scripts commit every INSERT).
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        yield con
        con.commit()
    finally:
        con.close()


def _insert_csv(
    con: sqlite3.Connection,
    csv_path: Path,
    table: str,
    cell: Callable[[str, str], object] = lambda _column, value: value,
) -> None:
    """Every row of a CSV file with a header line into ``table`` (its columns named by the header),
    each value passed through ``cell(column, value)``."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [[cell(column, value) for column, value in zip(header, row, strict=True)] for row in reader]
    marks = ", ".join("?" for _ in header)
    con.executemany(f"INSERT INTO {table} ({', '.join(header)}) VALUES ({marks})", rows)


def build_northwind(path: str) -> str:
    with _filling(path) as con:
        con.executescript((DATA / "northwind" / "create.sql").read_text(encoding="utf-8"))
        con.executescript((DATA / "northwind" / "update.sql").read_text(encoding="utf-8"))
    return path


def build_sakila(path: str) -> str:
    folder = DATA / "sakila"
    with _filling(path) as con:
        con.executescript((folder / "schema.sql").read_text(encoding="utf-8"))
        # The schema's triggers stamp last_update with today's time; the published value is kept.
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        for table in SAKILA_TABLES:
            # An empty CSV cell is NULL where the column allows it, else the empty string.
            nullable = {info[1] for info in con.execute(f"PRAGMA table_info({table})") if not info[3]}

            def cell(column: str, value: str, nullable: set[str] = nullable) -> object:
                return None if value == "" and column in nullable else value

            _insert_csv(con, folder / f"{table}.csv", table, cell)
    return path


def build_chinook(path: str) -> str:
    with _filling(path) as con:
        con.executescript((DATA / "chinook" / "Chinook_Sqlite.sql").read_text(encoding="utf-8"))
    return path


def build_jaffle_shop(path: str) -> str:
    folder = DATA / "jaffle_shop"
    with _filling(path) as con:
        con.executescript((folder / "schema.sql").read_text(encoding="utf-8"))
        for table in ("customers", "orders", "payments"):
            _insert_csv(con, folder / f"raw_{table}.csv", table)
    return path


def build_seaborn(path: str) -> str:
    folder = DATA / "seaborn"
    with _filling(path) as con:
        con.executescript((folder / "schema.sql").read_text(encoding="utf-8"))
        # As pandas would store them: an empty cell is NULL, True/False are 1/0.
        words: dict[str, object] = {"": None, "True": 1, "False": 0}
        for table in ("titanic", "penguins", "tips", "flights"):
            _insert_csv(con, folder / f"{table}.csv", table, lambda _column, value: words.get(value, value))
    return path


@functools.cache
def _built(build: Callable[[str], str], name: str) -> str:
    """A database built once per process, in a temporary folder of its own."""
    return build(str(Path(tempfile.mkdtemp(prefix=f"trellis-{name}-")) / f"{name}.db"))


def northwind_path() -> str:
    return _built(build_northwind, "northwind")


def sakila_path() -> str:
    return _built(build_sakila, "sakila")


def chinook_path() -> str:
    return _built(build_chinook, "chinook")


def jaffle_shop_path() -> str:
    return _built(build_jaffle_shop, "jaffle_shop")


def seaborn_path() -> str:
    return _built(build_seaborn, "seaborn")
