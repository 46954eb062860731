"""Chat uploads on the local server: checking a file, and turning a CSV or XLSX into tables.

Each chat that has table uploads gets its own SQLite file, ``<upload dir>/<chat id>.sqlite``:
the read-only query runner attaches it (as ``uploads``) for that chat's questions and SQL only, so
its tables read and join with the integration's database by their plain names. A table is named
after its file (``targets.csv`` -> ``targets``; an XLSX sheet -> ``<file>_<sheet>``), made a valid
lower-case identifier and de-duplicated with ``_2``, ``_3``... against the chat's tables and the
served databases' tables. Column types are inferred from the cells: INTEGER, REAL, DATE
(ISO dates), TIMESTAMP (ISO date-times) or TEXT; an empty cell is NULL.

PDF, PNG and JPEG files are kept as bytes and listed; the server cannot read them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import sqlite3
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Any

from .wire import ApiError

__all__ = [
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "ParsedTable",
    "check_file",
    "identifier",
    "read_tables",
    "unique_name",
    "write_table",
]

MAX_FILES = 5
MAX_FILE_BYTES = 30 * 1024 * 1024
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = {
    CSV: ("table", ".csv"),
    XLSX: ("table", ".xlsx"),
    "application/pdf": ("document", ".pdf"),
    "image/png": ("image", ".png"),
    "image/jpeg": ("image", ".jpg"),
}
_BY_EXTENSION = {".csv": CSV, ".xlsx": XLSX, ".pdf": "application/pdf", ".png": "image/png"}
_BY_EXTENSION.update({".jpg": "image/jpeg", ".jpeg": "image/jpeg"})
_MAGIC = {"application/pdf": b"%PDF", "image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8", XLSX: b"PK"}
_INT = re.compile(r"^[+-]?\d{1,18}$")
_REAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")
MAX_COLUMNS = 2000  # SQLite's default column limit
CSV_CHUNK_ROWS = 20_000  # rows of a CSV typed, then written, at a time: memory bounded by a chunk


@dataclass(frozen=True)
class ParsedTable:
    """One table from an upload: its base name, its columns and their SQL types, and ``chunks``:
    a function giving the rows again, column-major, a chunk at a time, converted to those types."""

    base: str
    columns: list[str]
    types: list[str]
    chunks: Callable[[], Iterator[list[list[Any]]]]


def _by_column(rows: list[Any], width: int) -> list[list[Any]]:
    if rows and min(map(len, rows)) != width:
        rows = [list(r) + [None] * (width - len(r)) for r in rows]  # short rows: the rest is empty
    return [list(map(itemgetter(i), rows)) for i in range(width)]


def identifier(text: str, fallback: str = "upload") -> str:
    """A plain lower-case SQL identifier: letters, digits and ``_``, never starting with a digit."""
    name = re.sub(r"\W+", "_", text.strip().lower()).strip("_")
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"t_{name}"
    return name[:60]


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not taken (compared case-insensitively)."""
    used = {t.lower() for t in taken}
    if base.lower() not in used:
        return base
    n = 2
    while f"{base}_{n}".lower() in used:
        n += 1
    return f"{base}_{n}"


def mime_of(filename: str, declared: str | None) -> str | None:
    """The file's type: the declared one if accepted, else from the name's extension."""
    declared = (declared or "").split(";")[0].strip().lower()
    if declared == "image/jpg":
        declared = "image/jpeg"
    if declared in KINDS:
        return declared
    return _BY_EXTENSION.get(os.path.splitext(filename)[1].lower())


def check_file(filename: str, declared: str | None, data: bytes) -> str:
    """The accepted MIME type of an uploaded file; 400 INVALID_REQUEST with what to do otherwise."""
    name = filename or "the file"
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(
            400,
            f"{name} is {len(data) / 2**20:.1f} MB: each file may be at most 30 MB.",
            "INVALID_REQUEST",
        )
    if not data:
        raise ApiError(400, f"{name} is empty: upload a file with data in it.", "INVALID_REQUEST")
    mime = mime_of(filename, declared)
    if mime is None:
        raise ApiError(
            400,
            f"{name} is of a type this server does not accept ({declared or 'unknown'}): "
            "upload CSV, XLSX, PDF, PNG or JPEG.",
            "INVALID_REQUEST",
        )
    magic = _MAGIC.get(mime)
    if magic is not None and not data.startswith(magic):
        raise ApiError(400, f"{name} is not a valid {KINDS[mime][1][1:].upper()} file.", "INVALID_REQUEST")
    return mime


# --- reading tables -----------------------------------------------------------------------


def _columns(header: Sequence[Any], width: int) -> list[str]:
    names: list[str] = []
    for index in range(width):
        raw = header[index] if index < len(header) else None
        text = "" if raw is None else str(raw)
        names.append(unique_name(identifier(text, f"column_{index + 1}"), names))
    return names


def _chunked(rows: Iterator[list[str]]) -> Iterator[list[list[str]]]:
    while chunk := list(islice(rows, CSV_CHUNK_ROWS)):
        yield chunk


def _csv_table(base: str, data: bytes, filename: str) -> ParsedTable:
    """A CSV's table, read twice a chunk at a time: once to type its columns, once (``chunks``) to
    write them, so that memory stays bounded by a chunk whatever the file's size."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(
            400,
            f"{filename} is not UTF-8 text: save the CSV as UTF-8 and upload it again.",
            "INVALID_REQUEST",
        ) from None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel

    def rows() -> Iterator[list[str]]:
        return filter(None, csv.reader(io.StringIO(text, newline=""), dialect))

    def too_wide(width: int) -> ApiError:
        return ApiError(400, f"{filename} has {width} columns: at most {MAX_COLUMNS}.", "INVALID_REQUEST")

    source = rows()
    try:
        header = next(source, None)
        if header is None:
            raise ApiError(
                400, f"{filename} has no rows: the first row names the columns.", "INVALID_REQUEST"
            )
        width = len(header)
        if width > MAX_COLUMNS:
            raise too_wide(width)
        candidates: list[set[str]] = []
        seen: list[bool] = []
        for chunk in _chunked(source):
            width = max(width, *map(len, chunk))
            if width > MAX_COLUMNS:
                raise too_wide(width)
            while len(candidates) < width:
                candidates.append(set(_ORDER))
                seen.append(False)
            for index, column in enumerate(_by_column(chunk, width)):
                present = list(filter(None, column))
                if present:
                    seen[index] = True
                    candidates[index] = _narrow(candidates[index], present)
    except csv.Error as exc:
        raise ApiError(400, f"{filename} is not a readable CSV file ({exc}).", "INVALID_REQUEST") from None
    types = [
        next((k for k in _ORDER if k in c), "TEXT") if s else "TEXT"
        for c, s in zip(candidates, seen, strict=True)
    ]
    types += ["TEXT"] * (width - len(types))  # columns with a name and no data

    def chunks() -> Iterator[list[list[Any]]]:
        again = rows()
        next(again)  # the header
        for chunk in _chunked(again):
            yield [_convert(c, kind) for c, kind in zip(_by_column(chunk, width), types, strict=True)]

    return ParsedTable(base, _columns(header, width), types, chunks)


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, str) and value == "":
        return None
    return value


def _xlsx_tables(base: str, data: bytes, filename: str) -> list[ParsedTable]:
    try:
        import openpyxl  # type: ignore[import-untyped]
    except ImportError:
        raise ApiError(
            400,
            "Reading XLSX files needs openpyxl on the server: pip install 'trellis-jupyter[xlsx]', "
            "or upload the sheet as CSV.",
            "INVALID_REQUEST",
        ) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ApiError(400, f"{filename} is not a readable XLSX file ({exc}).", "INVALID_REQUEST") from None
    tables: list[ParsedTable] = []
    try:
        for sheet in book.worksheets:
            records = [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
            records = [r for r in records if any(c is not None for c in r)]
            if not records:
                continue
            width = max(len(r) for r in records)
            typed = [_typed(column) for column in _by_column(records[1:], width)]
            converted = [values for _, values in typed]
            tables.append(
                ParsedTable(
                    f"{base}_{identifier(sheet.title, 'sheet')}",
                    _columns(records[0], width),
                    [kind for kind, _ in typed],
                    lambda converted=converted: iter([converted]),  # type: ignore[misc]
                )
            )
    finally:
        book.close()
    if not tables:
        raise ApiError(400, f"{filename} has no sheet with data.", "INVALID_REQUEST")
    return tables


def read_tables(filename: str, mime: str, data: bytes) -> list[ParsedTable]:
    """The tables of a CSV (one) or XLSX (one a sheet); 400 INVALID_REQUEST for an unreadable file."""
    base = identifier(os.path.splitext(os.path.basename(filename))[0])
    if mime == CSV:
        return [_csv_table(base, data, filename)]
    return _xlsx_tables(base, data, filename)


# --- writing tables -----------------------------------------------------------------------


def _column_of(one: str) -> re.Pattern[str]:
    return re.compile(f"(?:{one})(?:\n(?:{one}))*")


_INT_COLUMN = _column_of(_INT.pattern[1:-1])
_REAL_COLUMN = _column_of(_REAL.pattern[1:-1])
_DATE_COLUMN = _column_of(_DATE.pattern[1:-1])
_STAMP_COLUMN = _column_of(_STAMP.pattern[1:-1])


def _fill(cells: list[Any], present: list[Any]) -> list[Any]:
    """``present`` (the non-null cells, converted) put back among the column's NULLs."""
    if len(present) == len(cells):
        return present
    converted = iter(present)
    return [None if v is None else next(converted) for v in cells]


_ORDER = ("INTEGER", "REAL", "DATE", "TIMESTAMP")  # the narrowest type that fits wins
_PATTERNS = {"INTEGER": _INT_COLUMN, "REAL": _REAL_COLUMN, "DATE": _DATE_COLUMN, "TIMESTAMP": _STAMP_COLUMN}


def _narrow(candidates: set[str], present: list[str]) -> set[str]:
    """The types (of ``candidates``) every one of a CSV column's texts fits: one regex run each,
    over the texts joined by newlines."""
    joined = "\n".join(present)
    if joined.count("\n") != len(present) - 1:
        return set()  # a cell with a line break in it is text
    return {kind for kind in candidates if _PATTERNS[kind].fullmatch(joined)}


def _convert(column: list[Any], kind: str) -> list[Any]:
    """A CSV column's texts as ``kind``; empty cells are NULL."""
    present = list(filter(None, column))
    cells: list[Any] = column if len(present) == len(column) else [v or None for v in column]
    if kind == "INTEGER":
        return _fill(cells, list(map(int, present)))
    if kind == "REAL":
        return _fill(cells, list(map(float, present)))
    return cells


def _typed(values: list[Any]) -> tuple[str, list[Any]]:
    """A typed (XLSX) column's declared type and its values converted to it (all cells must fit)."""
    cells = [None if v == "" else v for v in values]
    present = [v for v in cells if v is not None]
    if not present:
        return "TEXT", cells
    # An XLSX column: numbers, booleans and text mixed as the sheet holds them.
    if all(isinstance(v, bool) for v in present):
        return "INTEGER", _fill(cells, [int(v) for v in present])
    if all(isinstance(v, int) or (isinstance(v, str) and _INT.match(v)) for v in present):
        return "INTEGER", _fill(cells, [int(v) for v in present])
    if all(isinstance(v, (int, float)) or (isinstance(v, str) and _REAL.match(v)) for v in present):
        return "REAL", _fill(cells, [float(v) for v in present])
    texts = [str(v) for v in present]
    if all(_DATE.match(t) for t in texts):
        return "DATE", _fill(cells, texts)
    if all(_STAMP.match(t) for t in texts):
        return "TIMESTAMP", _fill(cells, texts)
    return "TEXT", _fill(cells, texts)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_table(connection: sqlite3.Connection, name: str, table: ParsedTable) -> None:
    """Create table ``name`` from ``table`` (in the caller's transaction), a chunk of rows at a time."""
    decls = ", ".join(f"{_quote(c)} {kind}" for c, kind in zip(table.columns, table.types, strict=True))
    connection.execute(f"CREATE TABLE {_quote(name)} ({decls})")
    marks = ", ".join("?" for _ in table.columns)
    for chunk in table.chunks():
        connection.executemany(f"INSERT INTO {_quote(name)} VALUES ({marks})", zip(*chunk, strict=True))
