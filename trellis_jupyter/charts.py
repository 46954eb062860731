"""Charts that render with no network: a Vega-Lite v5 bundle plus a static SVG made offline.

Why: Altair 6's ``default`` renderer emits HTML that loads Vega from a CDN, and its ``mimetype``
renderer emits ``application/vnd.vegalite.v6.json``, which JupyterLab 4 and Notebook 7 do not know
(they bundle Vega-Lite 5.6). The same spec, given the v5 ``$schema`` and stripped of the few v6-only
properties, renders there natively as ``application/vnd.vegalite.v5+json``; a static SVG made by
vl-convert (no network) lets nbviewer, GitHub and HTML exports show the chart too.

How it touches Altair charts:

* Charts made here (``answer.chart``, ``Chart.to_altair()`` and charts derived from them with
  ``.properties()``, ``.encode()``, ``.interactive()``...) are :class:`TrellisChart`, a plain
  ``altair.Chart`` whose display uses :func:`chart_mimebundle` while offline charts are on and the
  active Altair renderer is ``default`` (nobody chose one) or ``trellis``. A renderer the user
  enabled on purpose (``png``, ``html``, ...) is always respected.
* :func:`enable_offline_charts` registers an Altair renderer named ``trellis`` and enables it only
  when the active renderer is still ``default`` (or when ``force=True``), so layered or concatenated
  charts, and the user's own charts, render offline too. :func:`disable_offline_charts` restores the
  renderer that was active before. The magic wires both to ``%config Trellis.offline_charts``.

Large charts: the display bundle embeds at most :data:`MAX_LINE_POINTS` points for line and area
charts (min/max per bucket, so peaks survive), :data:`MAX_BARS` bars, and :data:`MAX_SLICES` pie
slices (the rest summed into one "Other" slice), and at most :data:`MAX_ROWS` rows of any other
inline dataset of a trellis chart; the title's subtitle says what was cut. The chart object itself
keeps every point. The user's own charts (shown by the ``trellis`` renderer) are never cut: Altair's
own row limit (MaxRowsError) applies to them as before, and lifting it is the user's choice.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .chart_spec import NAME_PREFIX, V5_SCHEMA, chart_spec
from .events import Chart

if TYPE_CHECKING:
    from .altair_charts import TrellisChart

__all__ = [
    "MAX_BARS",
    "MAX_LINE_POINTS",
    "MAX_ROWS",
    "MAX_SLICES",
    "VEGALITE_V5_MIMETYPE",
    "TrellisChart",
    "chart_mimebundle",
    "disable_offline_charts",
    "enable_offline_charts",
    "offline_charts_enabled",
    "reduce_spec",
    "spec_to_svg",
    "svg_data_uri",
    "to_v5_spec",
    "trellis_chart_type",
]

log = logging.getLogger(__name__)

VEGALITE_V5_MIMETYPE = "application/vnd.vegalite.v5+json"
# JupyterLab 4 and Notebook 7 bundle Vega-Lite 5.6.1; 5.8 is vl-convert's oldest v5, the closest.
VL_CONVERT_VERSION = "5.8"
RENDERER_NAME = "trellis"

MAX_LINE_POINTS = 2000
MAX_BARS = 200
MAX_SLICES = 30
MAX_ROWS = 5000

_state: dict[str, Any] = {"offline": True, "previous": None}


# --- Vega-Lite v6 -> v5 -------------------------------------------------------------------------

# Properties Vega-Lite 6 added (diff of the 5.6.1 and 6.4.1 JSON schemas), by where they occur.
_V6_MARK_KEYS = frozenset({"minBandSize", "time"})
_V6_SCALE_CONFIG_KEYS = frozenset({"animationDuration", "framesPerSecond", "invalid", "tickBandPaddingInner"})
_V6_TICK_CONFIG_KEYS = frozenset({"binSpacing", "continuousBandSize", "discreteBandSize"})
_V6_POINTER_EVENTS = {
    "pointermove": "mousemove",
    "pointerover": "mouseover",
    "pointerdown": "mousedown",
    "pointerout": "mouseout",
    "pointerup": "mouseup",
}
_VIEW_LISTS = ("layer", "hconcat", "vconcat", "concat")


def to_v5_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an Altair 6 (Vega-Lite 6) spec that Vega-Lite 5 reads: v5 ``$schema``, v6-only
    properties dropped. Data values are shared with the input, not copied."""
    out = _v5_view(spec)
    _unique_view_names(out, set())
    out["$schema"] = V5_SCHEMA
    config = out.get("config")
    if isinstance(config, Mapping):
        config = dict(config)
        config.pop("tooltipFormat", None)
        for key, drop in (("scale", _V6_SCALE_CONFIG_KEYS), ("tick", _V6_TICK_CONFIG_KEYS)):
            if isinstance(config.get(key), Mapping):
                config[key] = {k: v for k, v in config[key].items() if k not in drop}
        for key in ("mark", "bar", "rect", "tick", "area", "line", "point", "arc"):
            if isinstance(config.get(key), Mapping):
                config[key] = {k: v for k, v in config[key].items() if k not in _V6_MARK_KEYS}
        out["config"] = config
    return out


def _v5_view(view: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(view)
    mark = out.get("mark")
    if isinstance(mark, Mapping):
        out["mark"] = {k: v for k, v in mark.items() if k not in _V6_MARK_KEYS}
    encoding = out.get("encoding")
    if isinstance(encoding, Mapping):
        enc = {k: v for k, v in encoding.items() if k != "time"}
        for channel, definition in enc.items():
            if isinstance(definition, Mapping) and isinstance(definition.get("scale"), Mapping):
                scale = {k: v for k, v in definition["scale"].items() if k != "domainRaw"}
                enc[channel] = {**definition, "scale": scale}
        out["encoding"] = enc
    if isinstance(out.get("params"), list):
        out["params"] = [_v5_param(p) for p in out["params"]]
    for key in _VIEW_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_v5_view(v) if isinstance(v, Mapping) else v for v in out[key]]
    if isinstance(out.get("spec"), Mapping):  # facet and repeat
        out["spec"] = _v5_view(out["spec"])
    return out


def _unique_view_names(view: dict[str, Any], seen: set[str]) -> None:
    """Give views that share a ``name`` distinct ones, in place (``view`` is a fresh copy).

    Vega-Lite names a view's data sets after its ``name``, so two views of one name (a trellis
    chart layered on itself: ``chart + chart.mark_text()``) make Vega fail with "Duplicate data
    set name" and draw nothing. The first keeps its name; later ones get ``_2``, ``_3``...
    """
    name = view.get("name")
    if isinstance(name, str):
        unique, n = name, 1
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        view["name"] = unique
    for key in _VIEW_LISTS:
        for child in view.get(key) or []:
            if isinstance(child, dict):
                _unique_view_names(child, seen)
    if isinstance(view.get("spec"), dict):
        _unique_view_names(view["spec"], seen)


def _v5_param(param: Any) -> Any:
    if not isinstance(param, Mapping):
        return param
    out = {k: v for k, v in param.items() if k != "react"}
    select = out.get("select")
    if isinstance(select, Mapping):
        select = dict(select)
        for key in ("on", "clear"):
            if isinstance(select.get(key), str):
                for new, old in _V6_POINTER_EVENTS.items():
                    select[key] = select[key].replace(new, old)
        out["select"] = select
    return out


# --- keeping display bundles small ------------------------------------------------------------


def trellis_chart_type(spec: Mapping[str, Any]) -> str | None:
    """The ``chart_type`` of a chart made by :func:`~trellis_jupyter.convert.chart_to_altair`, found
    in its ``name`` (``trellis_bar``...), also when it was layered; ``None`` for other charts.

    ``name`` rather than ``usermeta``: a unit inside a layer may carry a name, not usermeta.
    """
    views = [spec, *(v for key in _VIEW_LISTS for v in spec.get(key) or [] if isinstance(v, Mapping))]
    for view in views:
        name = view.get("name")
        if isinstance(name, str) and name.startswith(NAME_PREFIX):
            return name[len(NAME_PREFIX) :]
    return None


def reduce_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec with its inline data cut to the display limits (module docstring); a note is added
    to the subtitle when anything was cut. Specs within the limits come back unchanged."""
    chart_type = trellis_chart_type(spec)
    out = dict(spec)
    notes: list[str] = []
    data = out.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("values"), list):
        values, note = _reduce_values(data["values"], chart_type)
        if note:
            out["data"] = {**data, "values": values}
            notes.append(note)
    datasets = out.get("datasets")
    if isinstance(datasets, Mapping):
        reduced = {}
        for name, rows in datasets.items():
            if isinstance(rows, list):
                rows, note = _reduce_values(rows, chart_type)
                if note:
                    notes.append(note)
            reduced[name] = rows
        out["datasets"] = reduced
    if notes and chart_type in ("line", "area"):
        _prune_axis_values(out)
    if notes:
        out["title"] = _with_subtitle(out.get("title"), "; ".join(dict.fromkeys(notes)))
    return out


def _prune_axis_values(spec: dict[str, Any]) -> None:
    """Keep only the named x-axis labels that survived decimation (a point scale has no place
    for the others)."""
    encoding = spec.get("encoding")
    x = encoding.get("x") if isinstance(encoding, Mapping) else None
    axis = x.get("axis") if isinstance(x, Mapping) else None
    if not (isinstance(axis, Mapping) and isinstance(axis.get("values"), list)):
        return
    present: set[Any] = set()
    for rows in _inline_datasets(spec):
        present.update(r.get("label") for r in rows if isinstance(r, Mapping))
    values = [v for v in axis["values"] if v in present]
    assert isinstance(encoding, Mapping)
    assert isinstance(x, Mapping)
    spec["encoding"] = {**encoding, "x": {**x, "axis": {**axis, "values": values}}}


def _inline_datasets(spec: Mapping[str, Any]) -> list[list[Any]]:
    found: list[list[Any]] = []
    data = spec.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("values"), list):
        found.append(data["values"])
    datasets = spec.get("datasets")
    if isinstance(datasets, Mapping):
        found.extend(rows for rows in datasets.values() if isinstance(rows, list))
    return found


def _reduce_values(values: list[Any], chart_type: str | None) -> tuple[list[Any], str]:
    n = len(values)
    if chart_type in ("line", "area") and n > MAX_LINE_POINTS:
        kept = _decimate(values)
        return kept, f"{len(kept):,} of {n:,} points drawn (min and max per bucket)"
    if chart_type in ("bar", "bar_horizontal", "stacked_bar") and n > MAX_BARS:
        labels = list(dict.fromkeys(v.get("label") for v in values if isinstance(v, Mapping)))
        if len(labels) > MAX_BARS:
            keep = set(labels[:MAX_BARS])
            kept = [v for v in values if isinstance(v, Mapping) and v.get("label") in keep]
            return kept, f"first {MAX_BARS:,} of {len(labels):,} bars shown"
        return values, ""
    if chart_type in ("pie", "donut") and n > MAX_SLICES:
        head = values[: MAX_SLICES - 1]
        rest = values[MAX_SLICES - 1 :]
        total = sum(v.get("value") or 0.0 for v in rest if isinstance(v, Mapping))
        other = {"text": f"Other ({len(rest):,} more)", "value": total, "order": n}
        return [*head, other], f"{MAX_SLICES - 1} of {n:,} slices shown, the rest as Other"
    if chart_type is not None and n > MAX_ROWS:  # a chart of the user's own: their data, uncut
        step = -(-n // MAX_ROWS)
        return values[::step], f"every {step}th of {n:,} rows drawn"
    return values, ""


def _decimate(values: list[Any]) -> list[Any]:
    """Per series, split the points into buckets and keep each bucket's min and max (in order)."""
    groups: dict[Any, list[Any]] = {}
    for v in values:
        groups.setdefault(v.get("series") if isinstance(v, Mapping) else None, []).append(v)
    budget = max(2, MAX_LINE_POINTS // len(groups))
    buckets_per_group = max(1, budget // 2)
    kept: list[Any] = []
    for points in groups.values():
        if len(points) <= budget:
            kept.extend(points)
            continue
        size = len(points) / buckets_per_group
        for b in range(buckets_per_group):
            bucket = points[int(b * size) : int((b + 1) * size)]
            if not bucket:
                continue
            lo = min(bucket, key=_value_key)
            hi = max(bucket, key=_value_key)
            kept.extend([lo] if lo is hi else sorted((lo, hi), key=bucket.index))
    return kept


def _value_key(point: Any) -> float:
    value = point.get("value") if isinstance(point, Mapping) else None
    return float(value) if isinstance(value, (int, float)) else 0.0


def _with_subtitle(title: Any, note: str) -> dict[str, Any]:
    if isinstance(title, Mapping):
        sub = title.get("subtitle")
        subtitle = [*([sub] if isinstance(sub, str) else list(sub or [])), note]
        return {**title, "subtitle": subtitle}
    return {"text": title if title is not None else "", "subtitle": note}


# --- static images ----------------------------------------------------------------------------


def spec_to_svg(spec: Mapping[str, Any]) -> str | None:
    """The v5 spec as an SVG made by vl-convert (no network), or ``None`` if that is not possible
    (vl-convert missing, or it failed: the bundle then goes without an image).

    A transparent background (trellis charts sit on the notebook's theme) is drawn white in the
    image: an image is shown where no theme applies (nbviewer, GitHub, HTML exports).
    """
    config = spec.get("config")
    if isinstance(config, Mapping) and config.get("background") == "transparent":
        spec = {**spec, "config": {**config, "background": "white"}}
    try:
        return _svg_cached(json.dumps(spec, sort_keys=True, default=str))
    except Exception:  # fail soft: an image is a nice-to-have
        log.debug("no static image for this chart", exc_info=True)
        return None


@functools.lru_cache(maxsize=32)
def _svg_cached(spec_json: str) -> str | None:
    try:
        import vl_convert
    except ImportError:
        return None
    svg: str = vl_convert.vegalite_to_svg(
        spec_json,
        vl_version=VL_CONVERT_VERSION,
        allowed_base_urls=[],  # data is inline: no fetching
    )
    return svg


_WARM_SPEC = {
    "data": {"values": [{"a": 1}]},
    "mark": "bar",
    "encoding": {"y": {"field": "a", "type": "quantitative"}},
}


def warm_up() -> None:
    """Do vl-convert's first-use work (its JavaScript engine and Vega-Lite) now, so the first chart
    answer does not wait for it. Meant for a background thread (see :func:`warm_up_in_background`)."""
    try:
        import vl_convert

        vl_convert.vegalite_to_svg(
            json.dumps(_WARM_SPEC), vl_version=VL_CONVERT_VERSION, allowed_base_urls=[]
        )
    except Exception:  # an image is a nice-to-have: the first chart will say nothing either
        log.debug("vl-convert warm-up failed", exc_info=True)


_warm: dict[str, Any] = {"thread": None}


def warm_up_in_background() -> None:
    """Start :func:`warm_up` once per process in a daemon thread (``%trellis connect`` does)."""
    import threading

    if _warm["thread"] is None:
        thread = threading.Thread(target=warm_up, name="trellis-vl-convert-warm-up", daemon=True)
        _warm["thread"] = thread
        thread.start()


def svg_data_uri(svg: str) -> str:
    """A ``data:`` URI for an ``<img src>``: the SVG is shown as an image, never run as markup."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# --- bundles ----------------------------------------------------------------------------------


def _spec_of(chart: Any, title: bool = True) -> dict[str, Any]:
    if isinstance(chart, Chart):
        return chart_spec(chart, title=title)  # plain data: no Altair on the display path
    if isinstance(chart, Mapping):
        return dict(chart)
    spec: dict[str, Any] = chart.to_dict()
    return spec


def _count_points(spec: Mapping[str, Any]) -> int | None:
    data = spec.get("data")
    if isinstance(data, Mapping):
        if isinstance(data.get("values"), list):
            return len(data["values"])
        datasets = spec.get("datasets")
        name = data.get("name")
        if isinstance(datasets, Mapping) and isinstance(datasets.get(name), list):
            return len(datasets[name])
    return None


def describe_spec(spec: Mapping[str, Any]) -> str:
    """A one-line description of a chart spec, for ``text/plain``."""
    kind = trellis_chart_type(spec)
    if kind is None:
        mark = spec.get("mark")
        kind = mark.get("type") if isinstance(mark, Mapping) else mark if isinstance(mark, str) else "layered"
    title = spec.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    points = _count_points(spec)
    parts = [f"{kind} chart"]
    if title:
        parts.append(repr(str(title)))
    if points is not None:
        parts.append(f"{points:,} point{'s' if points != 1 else ''}")
    return "<" + ", ".join(parts) + ">"


def chart_mimebundle(chart: Any, *, title: bool = True) -> dict[str, Any]:
    """A mimebundle that shows ``chart`` with no network.

    ``chart`` is a :class:`~trellis_jupyter.events.Chart` payload (its spec is built as plain
    data, without Altair), an Altair chart or a Vega-Lite spec (dict). The bundle has
    ``application/vnd.vegalite.v5+json`` (rendered natively by JupyterLab 4 and Notebook 7),
    ``image/svg+xml`` when vl-convert is installed, and ``text/plain``; large data is cut to the
    display limits. ``title=False`` leaves a payload's title out of the drawing.
    """
    spec = _spec_of(chart, title)
    if trellis_chart_type(spec) is not None:
        # A trellis chart (Altair ones included) sits on the notebook's theme, dark included.
        config = spec.get("config")
        config = dict(config) if isinstance(config, Mapping) else {}
        config.setdefault("background", "transparent")
        spec["config"] = config
    description = describe_spec(spec)
    v5 = to_v5_spec(reduce_spec(spec))
    bundle: dict[str, Any] = {VEGALITE_V5_MIMETYPE: v5}
    svg = spec_to_svg(v5)
    if svg is not None:
        bundle["image/svg+xml"] = svg
    bundle["text/plain"] = description
    return bundle


# --- display policy ---------------------------------------------------------------------------
# Altair is imported here only when it is already loaded (a user made an Altair object) or asked
# for: the display path of trellis charts never needs it.


def _altair() -> Any:
    """The Altair module if something already imported it, else ``None`` (never imports it)."""
    return sys.modules.get("altair")


def use_offline_bundle() -> bool:
    """Whether a trellis chart is shown with :func:`chart_mimebundle` (Vega-Lite v5 + SVG): offline
    charts are on and the user has not made another Altair renderer active."""
    if not _state["offline"]:
        return False
    alt = _altair()
    return alt is None or alt.renderers.active in ("default", RENDERER_NAME)


def offline_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """The ``trellis`` Altair renderer: Vega-Lite v5 plus a static SVG, no network (also declared
    as an entry point, so ``alt.renderers.enable("trellis")`` works before anything else ran)."""
    return chart_mimebundle(spec)


def offline_charts_enabled() -> bool:
    """Whether charts made by trellis-jupyter display offline (see the module docstring)."""
    return bool(_state["offline"])


def enable_offline_charts(force: bool = False) -> bool:
    """Turn offline charts on; also make ``trellis`` Altair's renderer when the user has not chosen
    one (or when ``force``). Returns whether the ``trellis`` renderer is active afterwards.

    Altair is not imported for this unless ``force``: until something loads Altair there is no
    Altair chart to render, and the magic's display hook calls this again on the first one.
    """
    _state["offline"] = True
    alt = _altair()
    if alt is None:
        if not force:
            return False
        import altair as alt
    if RENDERER_NAME not in alt.renderers.names():
        alt.renderers.register(RENDERER_NAME, offline_renderer)
    active = alt.renderers.active
    if active == RENDERER_NAME:
        return True
    if active == "default" or force:
        _state["previous"] = active
        alt.renderers.enable(RENDERER_NAME)
        return True
    return False


def disable_offline_charts() -> None:
    """Turn offline charts off: trellis charts use Altair's renderer, and if ``trellis`` is the
    active renderer, the one active before it comes back."""
    _state["offline"] = False
    alt = _altair()
    if alt is not None and alt.renderers.active == RENDERER_NAME:
        alt.renderers.enable(_state["previous"] or "default")
    _state["previous"] = None


def __getattr__(name: str) -> Any:
    # TrellisChart subclasses altair.Chart: it lives with Altair, loaded when first asked for.
    if name == "TrellisChart":
        from .altair_charts import TrellisChart

        return TrellisChart
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
