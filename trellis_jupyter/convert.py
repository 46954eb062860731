"""Visualization payloads as pandas DataFrames and Altair charts (pure functions, no I/O).

Tables: the rows become one 2-D object array in a C-level pass, and each column's type is read by
``pandas.api.types.infer_dtype`` (another C-level pass); dates are checked on all cells at once as
code points before pandas parses them with an explicit format. A column becomes a typed column
only when *every* non-null cell fits:

=========================  ============================================================
cells (nulls aside)        pandas dtype
=========================  ============================================================
int                        ``int64`` (``Int64`` when nulls are present); beyond int64 the
                           column stays ``object`` so no digit is lost
int and float              ``float64`` (nulls are NaN)
bool                       ``bool`` (``boolean`` when nulls are present)
ISO dates ``YYYY-MM-DD``   ``datetime64``
ISO timestamps             ``datetime64`` (naive), or UTC ``datetime64[.., UTC]`` when every
                           cell carries an offset (``Z``, ``+02:00``)
str                        pandas' text dtype (``str`` in pandas 3, ``object`` before)
anything else / mixed      ``object``, cells as they came
=========================  ============================================================

Charts: :func:`chart_to_altair` gives a plain Altair chart with every point inline, built from the
plain-data spec of :mod:`trellis_jupyter.chart_spec`; the display bundles in
:mod:`trellis_jupyter.charts` cap what they embed.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from .chart_spec import chart_points, chart_spec
from .events import Chart, Table

if TYPE_CHECKING:
    import altair

__all__ = ["chart_points", "chart_to_altair", "chart_to_dataframe", "table_to_dataframe", "unique_names"]

_HAS_OFFSET = re.compile(r".*(?:Z|[+-]\d{2}(?::?\d{2})?)")
_DASH, _T, _SPACE = ord("-"), ord("T"), ord(" ")
_DIGIT_POSITIONS = [0, 1, 2, 3, 5, 6, 8, 9]
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])  # by month, February 28


# --- tables -----------------------------------------------------------------------------------


def unique_names(headers: Sequence[Any]) -> list[str]:
    """Column names made usable: empty names become ``column_N``, repeats get ``_2``, ``_3``...

    >>> unique_names(["a", "", "a", "a_2"])
    ['a', 'column_2', 'a_3', 'a_2']
    """
    names = [str(h) if h is not None and str(h) != "" else f"column_{i + 1}" for i, h in enumerate(headers)]
    if len(set(names)) == len(names):
        return names
    taken = set(names)
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        if name in seen:
            n = 2
            while f"{name}_{n}" in taken:
                n += 1
            name = f"{name}_{n}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def _object_matrix(rows: list[Any], width: int) -> Any:
    """Rows as one 2-D object array, short rows padded with None: one C-level pass (the same
    routine ``pd.DataFrame(rows)`` uses), much faster than ``zip(*rows)`` on wide data."""
    try:
        from pandas._libs.lib import to_object_array  # type: ignore[attr-defined]

        return to_object_array(rows, min_width=width)
    except (ImportError, TypeError):  # a pandas without it, or rows that are not all lists
        rows = [list(r) for r in rows]
        longest = max(width, *map(len, rows))
        matrix = np.empty((len(rows), longest), dtype=object)  # filled with None
        for i, row in enumerate(rows):
            matrix[i, : len(row)] = row
        return matrix


def table_to_dataframe(table: Table) -> pd.DataFrame:
    """The table as a DataFrame, column types inferred safely (see the module docstring)."""
    headers = list(table.headers)
    frame: pd.DataFrame
    if not table.rows:
        names = unique_names(headers)
        frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in names}, columns=names)
        return frame
    matrix = _object_matrix(table.rows, len(headers))
    names = unique_names(headers + [""] * (matrix.shape[1] - len(headers)))
    columns = matrix.T  # strided views, as pd.DataFrame(rows) uses them
    data = {name: _owned(_column(columns[j])) for j, name in enumerate(names)}
    # copy=False: every column is already an array of its own (pandas 3 would copy each again).
    frame = pd.DataFrame(data, columns=names, copy=False)
    return frame


def _owned(values: Any) -> Any:
    """``values``, or a copy of it when it is a view of the row matrix (a text column kept as
    it came): a frame holding such a view would keep every cell of the table alive."""
    if isinstance(values, np.ndarray) and values.base is not None and values.dtype == object:
        return values.copy()
    return values


def _column(col: Any) -> Any:
    """One column (a 1-D object array) as the narrowest array that holds every cell exactly."""
    if len(col) and type(col[0]) is int and _all_integers(col):
        # The common int column without nulls: a C check and a C cast, about 40% less than
        # maybe_convert_objects (which fills int, uint and float buffers at once). Past int64
        # it goes on below (uint64 or object, as before).
        try:
            return col.astype(np.int64)
        except OverflowError:
            pass
    try:
        # pandas' own single C pass over the cells (what pd.DataFrame(rows) runs per column):
        # ints, floats and bools come back as nullable arrays, anything else as object.
        from pandas._libs.lib import maybe_convert_objects  # type: ignore[attr-defined]

        converted = maybe_convert_objects(col, convert_to_nullable_dtype=True)
    except (ImportError, TypeError, OverflowError):  # private API moved, or a 10**400 (pandas 3.0.0)
        return _column_by_kind(col)
    if converted.dtype == object:
        if infer_dtype(col, skipna=True) == "string":
            return _text_column(col)
        return pd.Series(col.copy(), dtype=object)  # mixed, all null, or ints beyond 64 bits
    if isinstance(converted, pd.arrays.FloatingArray):
        return converted.to_numpy(dtype=np.float64, na_value=np.nan)
    if not converted.isna().any():  # no null: plain int64 / bool instead of Int64 / boolean
        return converted.to_numpy(dtype=converted.dtype.numpy_dtype)
    return converted


def _all_integers(col: Any) -> bool:
    """Whether every cell is an int (no bool, no null): pandas' C check, when it has it."""
    try:
        from pandas._libs.lib import is_integer_array  # type: ignore[attr-defined]

        return bool(is_integer_array(col, skipna=False))
    except (ImportError, TypeError):
        return False


def _column_by_kind(col: Any) -> Any:
    """:func:`_column` with public pandas API only (a few more passes over the cells)."""
    kind = infer_dtype(col, skipna=True)  # C-level; None and NaN are skipped
    try:
        if kind == "integer":
            try:
                return col.astype(np.int64)  # no null: one pass
            except TypeError:
                pass  # a None among the ints
            mask = pd.isna(col)
            values = col.copy()
            values[mask] = 0
            return pd.arrays.IntegerArray(values.astype(np.int64), mask)
        if kind in ("floating", "mixed-integer-float"):
            return col.astype(np.float64)  # None becomes NaN
        if kind == "boolean":
            mask = pd.isna(col)
            if not mask.any():
                return col.astype(bool)
            values = col.copy()
            values[mask] = False
            return pd.arrays.BooleanArray(values.astype(bool), mask)
        if kind == "string":
            return _text_column(col)
    except OverflowError:
        pass  # an int beyond int64 (or a float beyond float64): keep every digit, as object
    # Mixed or all-null: a Series of dtype object, so pandas does not re-infer it (e.g. as str).
    return pd.Series(col.copy(), dtype=object)


def _text_column(col: Any) -> Any:
    """ISO dates or timestamps when every cell is one, else the text as it came."""
    first = next(v for v in col if v is not None and v == v)  # infer_dtype saw a string
    if not (10 <= len(first) <= 40 and first[4] == "-" and first[:4].isdigit()):
        return col  # the cheap reject: most text columns stop here
    # Every cell's first 11 characters as code points, checked at once: YYYY-MM-DD, then the end
    # of the string (NUL padding: a date) or a T / space (a timestamp). The common case has no
    # null, so it is tried first: a None or NaN reads as "None" / "nan" and fails the check, and
    # only then are nulls looked for (a pass over the cells that most date columns never need).
    mask = None
    values = col
    codes = _iso_prefix_codes(values)
    if codes is None:
        mask = pd.isna(col)
        if not mask.any():
            return col
        values = col[~mask]
        codes = _iso_prefix_codes(values)
        if codes is None:
            return col
    tail = codes[:, 10]
    if not tail.any():
        # Every cell is exactly YYYY-MM-DD: numpy's C parser checks the calendar (no 02-30).
        if mask is None:
            dates = _dates_from_codes(codes)
            return col if dates is None else dates
        try:
            return _dates_with_nat(col, mask).astype("datetime64[s]")
        except ValueError:
            return col
    if not ((tail == 0) | (tail == _T) | (tail == _SPACE)).all():
        return col
    parsed = _to_datetime(col, "ISO8601")
    return col if parsed is None else parsed


def _iso_prefix_codes(values: Any) -> Any:
    """The first 11 code points of every cell (an (n, 11) array) when each starts YYYY-MM-DD."""
    codes = np.asarray(values, dtype="U11").view(np.uint32).reshape(len(values), 11)
    digits = codes[:, _DIGIT_POSITIONS]
    dashes = (codes[:, 4] == _DASH) & (codes[:, 7] == _DASH)
    if not (((digits >= 48) & (digits <= 57)).all() and dashes.all()):
        return None
    return codes


def _dates_from_codes(codes: Any) -> Any:
    """``YYYY-MM-DD`` cells (as code points, digits checked) as ``datetime64[s]``, or ``None``
    when one is not a calendar date: integer arithmetic on the digits, a few times faster than
    numpy's string parser, with the same calendar (month 1-12, day within its month, leap years).
    """
    digits = codes[:, _DIGIT_POSITIONS].astype(np.int64) - 48
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 4] * 10 + digits[:, 5]
    day = digits[:, 6] * 10 + digits[:, 7]
    if not ((month >= 1) & (month <= 12) & (day >= 1)).all():
        return None
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if not (day <= _DAYS_IN_MONTH[month] + ((month == 2) & leap)).all():
        return None
    # Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    return (days * 86_400).view("datetime64[s]")


def _dates_with_nat(col: Any, mask: Any) -> Any:
    values = col.copy()
    values[mask] = "NaT"
    return values.astype("datetime64[D]")


def _to_datetime(col: Any, fmt: str) -> Any:
    """Parsed datetimes (tz-aware ones in UTC), or ``None`` when a cell does not parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 2 warns on mixed offsets: handled below
        try:
            parsed = pd.to_datetime(col, format=fmt)
        except ValueError:
            parsed = None  # a bad date (2024-02-30), or mixed offsets (pandas 3)
        except OverflowError:
            return None
        if parsed is not None and isinstance(parsed.dtype, pd.DatetimeTZDtype):
            return parsed.tz_convert("UTC")
        if parsed is not None and parsed.dtype.kind == "M":
            return parsed
        if fmt != "ISO8601":
            return None
        # Several offsets: one UTC column, but only if every cell has an offset (a naive cell
        # has no defined instant, so the column stays text).
        values = col[~pd.isna(col)]
        if not all(map(_HAS_OFFSET.fullmatch, values)):
            return None
        try:
            return pd.to_datetime(col, format=fmt, utc=True)
        except (ValueError, OverflowError):
            return None


# --- charts -----------------------------------------------------------------------------------


def chart_to_dataframe(chart: Chart) -> pd.DataFrame:
    """The chart's points as a DataFrame: ``label`` (``text`` for pie/donut), ``value``, ``series``.

    ``series`` is there only when the points carry one; rows keep the payload's order. Values that
    are not numbers become NaN.
    """
    key = "text" if chart.is_segment else "label"
    points = chart_points(chart)
    data: dict[str, Any] = {
        key: np.array([p[key] for p in points], dtype=object),
        "value": np.array([p["value"] for p in points], dtype=np.float64),
    }
    if chart.series:
        data["series"] = np.array([p["series"] for p in points], dtype=object)
    frame: pd.DataFrame = pd.DataFrame(data, columns=list(data))
    return frame


def chart_to_altair(chart: Chart) -> altair.Chart:
    """The chart as an Altair chart, every ``chart_type`` included: the spec of
    :func:`~trellis_jupyter.chart_spec.chart_spec` (what the magic and the widget show) as a
    :class:`~trellis_jupyter.altair_charts.TrellisChart`, a plain ``altair.Chart`` that displays
    offline.

    Data is inline (every point, in the payload's order), with tooltips, the payload's title and
    axis labels. An unknown ``chart_type`` is drawn as a bar chart.
    """
    from .altair_charts import TrellisChart

    spec = chart_spec(chart)
    spec.pop("$schema")  # Altair writes its own
    # No config: Altair allows it only on a top-level chart (a layer of this one would refuse it);
    # the display bundle gives trellis charts their transparent background again.
    spec.pop("config")
    # The points join as a plain {"values": [...]} dict, which Altair passes through untouched:
    # reading them into schema objects costs seconds for 50k points (and no MaxRowsError either).
    data = spec.pop("data")
    # validate=False: the spec is ours (the tests check it against the Vega-Lite schemas).
    result: altair.Chart = TrellisChart.from_dict(spec, validate=False)
    result.data = data
    return result
