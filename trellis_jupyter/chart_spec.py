"""A chart payload as a Vega-Lite v5 spec made of plain dicts: no Altair, no pandas, no validation.

Why plain data: the magic and the widget show every chart answer as this spec (plus a static SVG,
:mod:`trellis_jupyter.charts`). Building it through Altair cost a fresh kernel seconds (importing
Altair, then its schema validation) and put a heavy import where Ctrl-C could leave it half done.
Altair is imported only when a user asks for an Altair object (``answer.chart``, ``--chart``,
``Chart.to_altair()``), which :func:`~trellis_jupyter.convert.chart_to_altair` builds from this
same spec, so both show the same chart. The tests validate these specs against the Vega-Lite
5.6.1 JSON schema (what JupyterLab 4 and Notebook 7 bundle) and Altair's own schema.

Layout choices (how a person reads them):

* vertical bars share a width that fits the output area (not Vega-Lite's 20 px per bar), and their
  labels stay horizontal when they fit under each bar;
* the value axis and tooltips show thousands separators;
* several series get a legend titled by the payload's ``series_label`` (the column the series come
  from) when the server names it, else "Series";
* the background is transparent, so the chart sits on JupyterLab's theme (dark included: JupyterLab
  gives Vega its dark theme's text colours); the static SVG gets a white background instead,
  because it is shown wherever the spec is not rendered (nbviewer, GitHub, HTML exports).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from .events import CHART_TYPES, SEGMENT_CHART_TYPES

if TYPE_CHECKING:
    from .events import Chart

__all__ = ["NAME_PREFIX", "V5_SCHEMA", "chart_points", "chart_spec"]

V5_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
NAME_PREFIX = "trellis_"

_MAX_TICKS = 25
_SEP = "\x1f"  # unit separator: never part of a date
# Labels of line and area charts that are ISO dates or timestamps make a temporal axis.
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
_TEMPORAL_LABELS = re.compile(f"{_DATE}(?:{_TIME})?(?:{_SEP}{_DATE}(?:{_TIME})?)*")

# Sizes in pixels. A bar chart of a few categories is as wide as a line chart; with many it gets a
# step per bar so every label keeps its place.
WIDTH = 560
HEIGHT = 300
_MIN_STEP = 18
_CHAR_PX = 6.5  # an average character of Vega's 10-11 px axis labels
_VALUE_FORMAT = ",.2~f"  # tooltips: 5,639,062.2 and 0.25 (separators, at most 2 decimals)


def _axis_format(points: list[dict[str, Any]]) -> str:
    """Tick labels with thousands separators: whole numbers once the values reach 10 (the ticks are
    whole there: 0, 2, 4...; Vega's default would write 6e+6), else up to the digits needed."""
    top = max((abs(p["value"]) for p in points if p["value"] is not None), default=0.0)
    return ",.0f" if top >= 10 else ",~g"


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
    return number if math.isfinite(number) else None


def _temporal(labels: list[str]) -> bool:
    return bool(labels) and all(labels) and bool(_TEMPORAL_LABELS.fullmatch(_SEP.join(labels)))


def _label_angle(labels: list[str], room: float) -> int:
    """Horizontal labels when the longest fits in its ``room`` (pixels); else slanted, never
    vertical (Vega-Lite's default for a crowded discrete axis)."""
    longest = max((len(label) for label in labels), default=0)
    return 0 if longest * _CHAR_PX <= room - 4 else -40


def series_title(chart: Chart) -> str:
    """The legend title of a multi-series chart: the column the series come from, if named."""
    name = chart.extra.get("series_label")
    return name if isinstance(name, str) and name.strip() else "Series"


def chart_spec(chart: Chart, *, title: bool = True) -> dict[str, Any]:
    """The chart as a Vega-Lite v5 spec (plain dicts, every point inline in ``data.values``).

    Every ``chart_type`` is drawn; an unknown one as a bar chart. The payload's title and axis
    labels are used (``x_axis_label`` names the label axis and ``y_axis_label`` the value axis,
    also on horizontal bars). ``title=False`` leaves the title out (the magic does when a table
    right above the chart already carries the same words).
    """
    chart_type = chart.chart_type if chart.chart_type in CHART_TYPES else "bar"
    segment = chart_type in SEGMENT_CHART_TYPES
    points = chart_points(chart)
    if segment and not chart.is_segment:
        points = [{**p, "text": p.pop("label")} for p in points]
    elif not segment and chart.is_segment:
        points = [{**p, "label": p.pop("text")} for p in points]
    has_series = bool(chart.series)
    label_title = chart.x_axis_label or ("Category" if segment else "Label")
    value_title = chart.y_axis_label or "Value"
    value_tip = {"field": "value", "type": "quantitative", "title": value_title, "format": _VALUE_FORMAT}
    tooltip: list[dict[str, Any]] = []
    if has_series:
        tooltip.append({"field": "series", "type": "nominal", "title": series_title(chart)})
    spec: dict[str, Any] = {"$schema": V5_SCHEMA, "name": f"{NAME_PREFIX}{chart_type}"}
    if title and chart.title:
        spec["title"] = chart.title
    spec["data"] = {"values": points}
    series_color = {"field": "series", "type": "nominal", "sort": chart.series, "title": series_title(chart)}
    if segment:
        tooltip += [{"field": "text", "type": "nominal", "title": label_title}, value_tip]
        spec["mark"] = {"type": "arc", **({"innerRadius": 60} if chart_type == "donut" else {})}
        spec["encoding"] = {
            "theta": {"field": "value", "type": "quantitative", "stack": True, "title": value_title},
            # A pie's payload names no column (the protocol omits x_axis_label there): its legend
            # goes untitled rather than under a made-up "Category".
            "color": {"field": "text", "type": "nominal", "sort": None, "title": chart.x_axis_label},
            "order": {"field": "order", "type": "quantitative"},
            "tooltip": tooltip,
        }
    elif chart_type in ("line", "area"):
        labels = [p["label"] for p in points]
        tooltip += [{"field": "label", "type": "nominal", "title": label_title}, value_tip]
        temporal = _temporal(labels)
        axis: dict[str, Any] = {"labelOverlap": "greedy", "labelLimit": 120}
        distinct = list(dict.fromkeys(labels))
        shown = distinct
        if not temporal and len(distinct) > _MAX_TICKS:
            # A discrete axis draws every label: name a few evenly spaced ones instead of thousands.
            step = -(-len(distinct) // _MAX_TICKS)
            shown = axis["values"] = distinct[::step]
        if not temporal:
            axis["labelAngle"] = _label_angle(shown, WIDTH / max(len(shown), 1))
        x = {
            "field": "label",
            "type": "temporal" if temporal else "ordinal",
            "title": label_title,
            "sort": "ascending" if temporal else None,
            "axis": axis,
        }
        if chart_type == "line":
            spec["mark"] = {"type": "line", "point": len(points) <= 200}
        else:
            spec["mark"] = {"type": "area", "opacity": 0.8}
        # No ``order`` channel: on an area it would make every point its own stack layer.
        encoding: dict[str, Any] = {
            "x": x,
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": value_title,
                "axis": {"format": _axis_format(points)},
            },
            "tooltip": tooltip,
        }
        if has_series:
            encoding["color"] = series_color
        spec["encoding"] = encoding
        spec["width"] = WIDTH
    else:
        horizontal = chart_type == "bar_horizontal"
        labels = list(dict.fromkeys(p["label"] for p in points))
        tooltip += [{"field": "label", "type": "nominal", "title": label_title}, value_tip]
        category: dict[str, Any] = {"field": "label", "type": "nominal", "title": label_title, "sort": None}
        value: dict[str, Any] = {
            "field": "value",
            "type": "quantitative",
            "title": value_title,
            "stack": "zero" if has_series else None,
            "axis": {"format": _axis_format(points)},
        }
        if horizontal:
            category["axis"] = {"labelLimit": 200}
            spec["width"] = WIDTH - 160
        else:
            band = WIDTH / max(len(labels), 1)
            if band < _MIN_STEP:
                spec["width"] = {"step": _MIN_STEP}
                band = _MIN_STEP
            else:
                spec["width"] = WIDTH
            category["axis"] = {"labelAngle": _label_angle(labels, band), "labelLimit": 160}
        encoding = {
            "y" if horizontal else "x": category,
            "x" if horizontal else "y": value,
            "tooltip": tooltip,
        }
        if has_series:
            encoding["color"] = series_color
            encoding["order"] = {"field": "order", "type": "quantitative"}
        spec["mark"] = {"type": "bar"}
        spec["encoding"] = encoding
    if "height" not in spec and not segment:
        spec["height"] = HEIGHT
    spec["config"] = {"background": "transparent", "view": {"continuousWidth": 300, "continuousHeight": 300}}
    return spec
