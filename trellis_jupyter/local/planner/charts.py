"""Charts from results: which chart type fits, and the chart payload's points and axis labels.

A chart is made when the question asks for one, or when it clearly fits: a time series (line) or a
grouping of a few categories (bar). Points are ``{"label", "value"}`` (``{"text", "value"}`` for pie
and donut), with ``series`` from a second grouping for stacked bars and multi-line charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trellis_jupyter.events import SEGMENT_CHART_TYPES, Chart
from trellis_jupyter.local.planner.plan import Plan
from trellis_jupyter.local.planner.text import humanize

__all__ = ["chart_type_for", "make_chart"]

_AUTO_MAX_BARS = 25


def chart_type_for(plan: Plan, row_count: int) -> str | None:
    """The chart type to draw, or None when no chart was asked for and none clearly fits."""
    dims = len(plan.groups) + (1 if plan.grain else 0)
    if plan.kind != "aggregate" or dims == 0:
        return None
    if plan.chart and plan.chart != "auto":
        return plan.chart
    if plan.grain:
        return "line" if dims == 1 or plan.chart else ("line" if row_count <= 200 else None)
    if dims == 2:
        return "stacked_bar"
    if plan.chart == "auto":
        return "bar"
    return "bar" if 2 <= row_count <= _AUTO_MAX_BARS else None


def make_chart(
    chart_id: str, chart_type: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Chart | None:
    """The chart payload for a grouped result (group columns first, the value last)."""
    if not rows or len(headers) < 2:
        return None
    two = len(headers) >= 3
    key = "text" if chart_type in SEGMENT_CHART_TYPES else "label"
    values: list[dict[str, Any]] = []
    for row in rows:
        value = row[-1]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        point: dict[str, Any] = {key: _label(row[0]), "value": value}
        if two:
            if chart_type in SEGMENT_CHART_TYPES:
                point[key] = f"{_label(row[0])} / {_label(row[1])}"
            else:
                point["series"] = _label(row[1])
        values.append(point)
    if not values:
        return None
    if chart_type in SEGMENT_CHART_TYPES:
        return Chart(id=chart_id, chart_type=chart_type, values=values, title=title)
    return Chart(
        id=chart_id,
        chart_type=chart_type,
        values=values,
        title=title,
        x_axis_label=humanize(headers[0]),
        y_axis_label=humanize(headers[-1]),
        # The column the series come from: the legend's title (an extra field clients may ignore).
        extra={"series_label": humanize(headers[1])} if two else {},
    )


def _label(cell: Any) -> str:
    return "(none)" if cell is None else str(cell)
