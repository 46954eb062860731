"""Visualization payloads as pandas DataFrames and Altair charts (pure functions, no I/O).

Tables: the frame is built column-wise (``zip(*rows)``), and each column's type is read from the
set of Python types of its cells, which costs one C-level pass. A column becomes a typed column
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

Charts: :func:`chart_to_altair` gives a plain Altair chart with every point inline
(a ``{"values": [...]}`` dict, which Altair's row limit does not apply to); the display bundles in
:mod:`trellis_jupyter.charts` cap what they embed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .events import SEGMENT_CHART_TYPES, Chart, Table

if TYPE_CHECKING:
    import altair

__all__ = ["chart_points", "chart_to_altair", "chart_to_dataframe", "table_to_dataframe", "unique_names"]

_NONE = type(None)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Cheap shape checks run on the whole column joined into one string: one regex pass in C instead
# of a Python call per cell. pandas then parses, and is the authority (it rejects 2024-13-45).
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
_SEP = "\x1f"  # unit separator: never part of a date
_DATE_COLUMN = re.compile(f"{_DATE}(?:{_SEP}{_DATE})*")
_NAIVE_COLUMN = re.compile(f"{_DATE}(?:{_TIME})?(?:{_SEP}{_DATE}(?:{_TIME})?)*")
_AWARE_COLUMN = re.compile(f"{_DATE}{_TIME}{_OFFSET}(?:{_SEP}{_DATE}{_TIME}{_OFFSET})*")
_DATE_ONE = re.compile(_DATE)
_NAIVE_ONE = re.compile(f"{_DATE}{_TIME}")
_AWARE_ONE = re.compile(f"{_DATE}{_TIME}{_OFFSET}")


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


def table_to_dataframe(table: Table) -> pd.DataFrame:
    """The table as a DataFrame, column types inferred safely (see the module docstring)."""
    headers = list(table.headers)
    rows = table.rows
    width = len(headers)
    if rows:
        lengths = set(map(len, rows))
        if lengths != {width}:
            # Events parsing aligns rows already; a Table built by hand may still be ragged.
            width = max(width, *lengths)
            rows = [list(r) + [None] * (width - len(r)) if len(r) < width else r for r in rows]
    names = unique_names(headers + [""] * (width - len(headers)))
    frame: pd.DataFrame
    if not rows:
        frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in names}, columns=names)
        return frame
    columns = list(zip(*rows, strict=True)) if width else []
    data = {name: _column(cells) for name, cells in zip(names, columns, strict=True)}
    frame = pd.DataFrame(data, columns=names, copy=False)
    return frame


def _column(cells: tuple[Any, ...] | list[Any]) -> Any:
    """One column's cells as the narrowest array that holds every cell exactly."""
    kinds = set(map(type, cells))
    has_null = _NONE in kinds
    kinds.discard(_NONE)
    if not kinds:
        return np.array(cells, dtype=object)  # all null: nothing to infer from
    if len(kinds) == 1:
        kind = next(iter(kinds))
        if kind is str:
            return _text_column(cells, has_null)
        if kind is int:
            return _int_column(cells, has_null)
        if kind is float:
            return np.array(cells, dtype=np.float64)  # None becomes NaN
        if kind is bool:
            return _bool_column(cells, has_null)
    elif kinds == {int, float}:
        try:
            return np.array(cells, dtype=np.float64)
        except OverflowError:
            pass
    return _object_array(cells)


def _object_array(cells: Sequence[Any]) -> Any:
    # A Series of dtype object: pandas must not re-infer a mixed column (e.g. into str).
    arr = np.empty(len(cells), dtype=object)
    arr[:] = cells
    return pd.Series(arr, dtype=object, copy=False)


def _int_column(cells: Sequence[Any], has_null: bool) -> Any:
    if not has_null:
        try:
            return np.array(cells, dtype=np.int64)
        except OverflowError:
            return _object_array(cells)  # beyond int64: keep every digit
    arr = np.array(cells, dtype=object)
    mask = arr == None  # noqa: E711 - elementwise comparison on an object array
    arr[mask] = 0
    try:
        values = arr.astype(np.int64)
    except OverflowError:
        return _object_array(cells)
    return pd.arrays.IntegerArray(values, mask)


def _bool_column(cells: Sequence[Any], has_null: bool) -> Any:
    if not has_null:
        return np.array(cells, dtype=bool)
    arr = np.array(cells, dtype=object)
    mask = arr == None  # noqa: E711
    arr[mask] = False
    return pd.arrays.BooleanArray(arr.astype(bool), mask)


def _text_column(cells: Sequence[Any], has_null: bool) -> Any:
    first = next(c for c in cells if c is not None) if has_null else cells[0]
    parsed = _parse_datetimes(cells, first, has_null) if 10 <= len(first) <= 40 else None
    if parsed is not None:
        return parsed
    return np.array(cells, dtype=object)  # pandas gives it its text dtype


def _parse_datetimes(cells: Sequence[Any], first: str, has_null: bool) -> Any:
    """ISO dates or timestamps when every cell is one, else ``None`` (the column stays text)."""
    if _DATE_ONE.fullmatch(first):
        kind = "date"
    elif _AWARE_ONE.fullmatch(first):
        kind = "aware"
    elif _NAIVE_ONE.fullmatch(first):
        kind = "naive"
    else:
        return None
    values = [c for c in cells if c is not None] if has_null else cells
    joined = _SEP.join(values)
    if kind == "date" and not _DATE_COLUMN.fullmatch(joined):
        kind = "naive"  # dates mixed with naive timestamps are still one naive column
    if kind == "naive" and not _NAIVE_COLUMN.fullmatch(joined):
        return None
    if kind == "aware" and not _AWARE_COLUMN.fullmatch(joined):
        return None
    fmt = "%Y-%m-%d" if kind == "date" else "ISO8601"
    try:
        return pd.to_datetime(np.array(cells, dtype=object), format=fmt, utc=kind == "aware")
    except (ValueError, OverflowError):
        return None  # e.g. 2024-02-30, or a year out of range: the text is kept as it came


# --- charts -----------------------------------------------------------------------------------


def chart_points(chart: Chart) -> list[dict[str, Any]]:
    """The chart's points normalized for plotting, in the order given.

    Each point has ``label`` (``text`` for pie/donut) as a string, ``value`` as a float (``None``
    when not a number), ``series`` when the payload has several series, and ``order`` (its
    position), which keeps the payload's order in every chart.
    """
    key = "text" if chart.is_segment else "label"
    other = "label" if chart.is_segment else "text"
    with_series = bool(chart.series)
    points: list[dict[str, Any]] = []
    for i, raw in enumerate(chart.values):
        label = raw.get(key, raw.get(other))
        point: dict[str, Any] = {key: "" if label is None else str(label), "value": _number(raw.get("value"))}
        if with_series:
            series = raw.get("series")
            point["series"] = "" if series is None else str(series)
        point["order"] = i
        points.append(point)
    return points


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).replace(",", ""))
        except ValueError:
            return None
    return number if np.isfinite(number) else None


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


def _temporal(labels: list[str]) -> bool:
    if not labels or not all(labels):
        return False
    joined = _SEP.join(labels)
    return bool(_DATE_COLUMN.fullmatch(joined) or _NAIVE_COLUMN.fullmatch(joined))


def chart_to_altair(chart: Chart) -> altair.Chart:
    """The chart as an Altair chart, every ``chart_type`` included.

    Data is inline (no URL; Altair moves it to ``datasets``), in the payload's order, with
    tooltips, the payload's title and axis labels (``x_axis_label`` names the label axis and
    ``y_axis_label`` the value axis, also on horizontal bars). An unknown ``chart_type`` is
    drawn as a bar chart. The result is a :class:`~trellis_jupyter.charts.TrellisChart`: a plain
    ``altair.Chart`` that displays offline.
    """
    import altair as alt

    from .charts import TrellisChart

    chart_type = chart.chart_type if chart.chart_type in _KNOWN_TYPES else "bar"
    segment = chart_type in SEGMENT_CHART_TYPES
    points = chart_points(chart)
    if segment and not chart.is_segment:
        points = [{**p, "text": p.pop("label")} for p in points]
    elif not segment and chart.is_segment:
        points = [{**p, "label": p.pop("text")} for p in points]
    has_series = bool(chart.series)
    wide = False
    label_title = chart.x_axis_label or ("Category" if segment else "Label")
    value_title = chart.y_axis_label or "Value"

    # A plain {"values": [...]} dict: Altair passes it through untouched (no MaxRowsError, none of
    # the per-row schema work alt.Data(values=...) costs: seconds for 50k points).
    base = TrellisChart({"values": points})
    tooltip: list[Any] = []
    if has_series:
        tooltip.append(alt.Tooltip("series:N", title="Series"))
    if segment:
        tooltip += [alt.Tooltip("text:N", title=label_title), alt.Tooltip("value:Q", title=value_title)]
        result = (
            base.mark_arc(innerRadius=60 if chart_type == "donut" else 0)
            .encode(
                theta=alt.Theta("value:Q", stack=True, title=value_title),
                color=alt.Color("text:N", sort=None, title=label_title),
                order=alt.Order("order:Q"),
                tooltip=tooltip,
            )
        )
    else:
        labels = [p["label"] for p in points]
        tooltip += [alt.Tooltip("label:N", title=label_title), alt.Tooltip("value:Q", title=value_title)]
        series_color = alt.Color("series:N", sort=chart.series, title="Series")
        if chart_type in ("line", "area"):
            # sort=None keeps the payload's order without repeating every label in the spec.
            x_type = "T" if _temporal(labels) else "O"
            axis = alt.Axis(labelOverlap="greedy", labelLimit=120)
            distinct = list(dict.fromkeys(labels))
            if x_type == "O" and len(distinct) > _MAX_TICKS:
                # A discrete axis draws every label and is 20 px per step: with many labels, fix
                # the width and name a few evenly spaced labels instead of thousands.
                step = -(-len(distinct) // _MAX_TICKS)
                axis = alt.Axis(values=distinct[::step], labelOverlap="greedy", labelLimit=120)
                wide = True
            sort = "ascending" if x_type == "T" else None
            x = alt.X(f"label:{x_type}", title=label_title, sort=sort, axis=axis)
            if chart_type == "line":
                mark = base.mark_line(point=len(points) <= 200)
            else:
                mark = base.mark_area(opacity=0.8)
            # No ``order`` channel: on an area it would make every point its own stack layer.
            enc: dict[str, Any] = {"x": x, "y": alt.Y("value:Q", title=value_title), "tooltip": tooltip}
            if has_series:
                enc["color"] = series_color
            result = mark.encode(**enc)
        else:
            horizontal = chart_type == "bar_horizontal"
            cat = (alt.Y if horizontal else alt.X)("label:N", title=label_title, sort=None)
            stack: Literal["zero"] | None = "zero" if has_series else None
            val = (alt.X if horizontal else alt.Y)("value:Q", title=value_title, stack=stack)
            enc = {"y" if horizontal else "x": cat, "x" if horizontal else "y": val, "tooltip": tooltip}
            if has_series:
                enc["color"] = series_color
                enc["order"] = alt.Order("order:Q")
            result = base.mark_bar().encode(**enc)
    props: dict[str, Any] = {"usermeta": {"trellis": {"chart_type": chart_type, "id": chart.id}}}
    if chart.title:
        props["title"] = chart.title
    if wide:
        props["width"] = 600
    final: altair.Chart = result.properties(**props)
    return final


_MAX_TICKS = 25
_KNOWN_TYPES = frozenset({"bar", "bar_horizontal", "stacked_bar", "line", "area", "pie", "donut"})
