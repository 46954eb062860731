"""Offline chart bundles: Vega-Lite v5 specs that Vega-Lite 5.6.1 (JupyterLab 4's) accepts, a static
SVG made with no network, the Altair renderer policy, and size bounds for large charts.

``charts_vega_lite_v5.6.1_schema.json.gz`` is the JSON schema shipped in the vega-lite 5.6.1 npm
package (BSD-3-Clause, University of Washington Interactive Data Lab), the version JupyterLab 4.6
and Notebook 7 bundle.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, cast

import altair as alt
import jsonschema
import pytest

from trellis_jupyter import charts
from trellis_jupyter.charts import (
    VEGALITE_V5_MIMETYPE,
    TrellisChart,
    chart_mimebundle,
    disable_offline_charts,
    enable_offline_charts,
    to_v5_spec,
)
from trellis_jupyter.events import CHART_TYPES, Chart

SCHEMA_PATH = Path(__file__).with_name("charts_vega_lite_v5.6.1_schema.json.gz")


@cache
def v5_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(gzip.decompress(SCHEMA_PATH.read_bytes()))
    return jsonschema.Draft7Validator(schema)


def assert_valid_v5(spec: dict[str, Any]) -> None:
    errors = sorted(v5_validator().iter_errors(spec), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]


def payload(kind: str, n: int = 4, series: bool = False) -> Chart:
    key = "text" if kind in ("pie", "donut") else "label"
    values = [
        {key: f"item {i}", "value": i + 1, **({"series": f"s{i % 2}"} if series else {})} for i in range(n)
    ]
    title = f"A {kind}"
    return Chart(id="c1", chart_type=kind, values=values, title=title, x_axis_label="X", y_axis_label="Y")


@pytest.fixture
def renderer_state() -> Iterator[None]:
    """Leave Altair's renderer and our switch as they were."""
    before = alt.renderers.active
    offline = charts.offline_charts_enabled()
    try:
        yield
    finally:
        alt.renderers.enable(before)
        charts._state["offline"] = offline
        charts._state["previous"] = None


# --- bundles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(CHART_TYPES))
def test_bundle_for_every_chart_type(kind: str) -> None:
    bundle = chart_mimebundle(payload(kind, series=kind in ("stacked_bar", "line", "area")))
    spec = bundle[VEGALITE_V5_MIMETYPE]
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert_valid_v5(spec)
    assert bundle["image/svg+xml"].lstrip().startswith("<svg")
    assert f"A {kind}" in bundle["image/svg+xml"]  # the title is drawn
    assert kind in bundle["text/plain"]
    assert "application/vnd.vegalite.v6.json" not in bundle


def test_bundle_of_a_derived_chart_and_of_a_plain_spec() -> None:
    derived = payload("bar").to_altair().properties(width=600)
    spec = chart_mimebundle(derived)[VEGALITE_V5_MIMETYPE]
    assert spec["width"] == 600
    assert_valid_v5(spec)
    layered = payload("line").to_altair() + alt.Chart().mark_rule().encode(y=alt.datum(2))
    bundle = chart_mimebundle(layered)
    assert_valid_v5(bundle[VEGALITE_V5_MIMETYPE])
    assert "image/svg+xml" in bundle


def test_v6_only_properties_are_dropped() -> None:
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json",
        "data": {"values": [{"a": 1}]},
        "mark": {"type": "bar", "minBandSize": 2},
        "encoding": {"x": {"field": "a", "type": "quantitative", "scale": {"domainRaw": {"expr": "x"}}}},
        "params": [{"name": "p", "select": {"type": "point", "on": "pointerover"}}],
        "config": {"tooltipFormat": {}, "scale": {"invalid": {}, "zero": False}},
    }
    v5 = to_v5_spec(spec)
    assert_valid_v5(v5)
    assert v5["params"][0]["select"]["on"] == "mouseover"
    assert v5["config"]["scale"] == {"zero": False}
    assert spec["mark"]["minBandSize"] == 2  # the input is not modified


def test_no_image_and_no_error_when_vl_convert_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_vl_convert(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "vl_convert":
            raise ImportError("no vl_convert")
        return real_import(name, *args, **kwargs)

    charts._svg_cached.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_vl_convert)
    bundle = chart_mimebundle(payload("pie", n=3))
    charts._svg_cached.cache_clear()
    assert "image/svg+xml" not in bundle
    assert VEGALITE_V5_MIMETYPE in bundle
    assert bundle["text/plain"]


def test_labels_with_markup_are_text_in_the_svg() -> None:
    chart = Chart(
        id="x",
        chart_type="bar",
        values=[
            {"label": "<script>alert(1)</script>", "value": 1},
            {"label": '<img onerror="x">', "value": 2},
        ],
        title="&lt;b&gt;",
    )
    svg = chart_mimebundle(chart)["image/svg+xml"]
    assert "<script" not in svg
    assert "<img" not in svg
    assert "&lt;script&gt;" in svg
    assert "&amp;lt;b&amp;gt;" in svg  # an entity in a title shows as typed


# --- large charts -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["line", "area", "bar", "stacked_bar", "pie"])
def test_a_50k_point_chart_has_a_small_bundle(kind: str) -> None:
    key = "text" if kind == "pie" else "label"
    values = [{key: str(i), "value": (i * 7) % 101, "series": f"s{i % 3}"} for i in range(50_000)]
    if kind in ("bar", "pie"):
        values = [{k: v for k, v in p.items() if k != "series"} for p in values]
    chart = Chart(id="big", chart_type=kind, values=values, title="Big")
    bundle = chart_mimebundle(chart)  # no MaxRowsError with Altair's default data transformer
    size = len(json.dumps(bundle))
    assert size < 500_000, size
    spec = bundle[VEGALITE_V5_MIMETYPE]
    assert spec["title"]["text"] == "Big"
    assert "of 50,000" in json.dumps(spec["title"]["subtitle"])  # says what was cut
    assert "50,000 points" in bundle["text/plain"]  # the description counts them all
    assert len(chart.to_altair().to_dict()["datasets"].popitem()[1]) == 50_000  # the chart keeps all


def test_decimation_keeps_peaks_of_every_series() -> None:
    values = [{"label": str(i), "value": 1000 if i == 12_345 else 1, "series": "a"} for i in range(30_000)]
    values += [{"label": str(i), "value": -5 if i == 777 else 0, "series": "b"} for i in range(30_000)]
    spec = chart_mimebundle(Chart(id="p", chart_type="line", values=values))[VEGALITE_V5_MIMETYPE]
    rows = spec["data"]["values"]  # a payload's spec has its points inline
    assert len(rows) <= charts.MAX_LINE_POINTS
    assert {"label": "12345", "value": 1000.0, "series": "a", "order": 12_345} in rows
    assert any(r["series"] == "b" and r["value"] == -5 for r in rows)
    assert_valid_v5(spec)


def test_pie_beyond_the_slice_limit_sums_the_rest_into_other() -> None:
    values = [{"text": f"t{i}", "value": 1} for i in range(100)]
    spec = chart_mimebundle(Chart(id="p", chart_type="pie", values=values))[VEGALITE_V5_MIMETYPE]
    rows = spec["data"]["values"]  # a payload's spec has its points inline
    assert len(rows) == charts.MAX_SLICES
    assert rows[-1]["text"].startswith("Other")
    assert sum(r["value"] for r in rows) == 100


# --- renderer policy ----------------------------------------------------------------------------


@pytest.mark.usefixtures("renderer_state")
def test_enable_takes_the_default_renderer_and_disable_gives_it_back() -> None:
    alt.renderers.enable("default")
    assert enable_offline_charts() is True
    assert alt.renderers.active == "trellis"
    bundle = alt.Chart({"values": [{"a": 1}]}).mark_point().encode(x="a:Q")._repr_mimebundle_()
    assert VEGALITE_V5_MIMETYPE in bundle  # the user's own chart renders offline too
    disable_offline_charts()
    assert alt.renderers.active == "default"


@pytest.mark.usefixtures("renderer_state")
def test_a_renderer_the_user_chose_is_never_overridden() -> None:
    alt.renderers.enable("html")
    assert enable_offline_charts() is False
    assert alt.renderers.active == "html"
    # A trellis chart then follows the user's choice too.
    out = cast(dict[str, Any], payload("bar").to_altair()._repr_mimebundle_())  # one dict, no metadata
    assert "text/html" in out
    assert VEGALITE_V5_MIMETYPE not in out
    disable_offline_charts()
    assert alt.renderers.active == "html"


@pytest.mark.usefixtures("renderer_state")
def test_force_takes_over_and_disable_restores_the_users_renderer() -> None:
    alt.renderers.enable("svg")
    assert enable_offline_charts(force=True) is True
    assert alt.renderers.active == "trellis"
    disable_offline_charts()
    assert alt.renderers.active == "svg"


@pytest.mark.usefixtures("renderer_state")
def test_trellis_charts_render_offline_without_the_renderer() -> None:
    alt.renderers.enable("default")
    chart = payload("donut").to_altair().properties(width=300)
    assert isinstance(chart, TrellisChart)
    bundle = chart._repr_mimebundle_()
    assert set(bundle) >= {VEGALITE_V5_MIMETYPE, "image/svg+xml", "text/plain"}
    disable_offline_charts()
    out = chart._repr_mimebundle_()  # switched off: Altair's own default (HTML)
    assert VEGALITE_V5_MIMETYPE not in out


# --- the display path without Altair ----------------------------------------------------------


def test_a_chart_bundle_imports_neither_altair_nor_pandas() -> None:
    """The magic's and the widget's chart display builds the spec as plain data: a fresh process
    draws every chart type without importing Altair, jsonschema or pandas (seconds, and a heavy
    import Ctrl-C could cut in half)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from trellis_jupyter.charts import chart_mimebundle\n"
        "from trellis_jupyter.widget_wire import browser_payload\n"
        "from trellis_jupyter.events import CHART_TYPES, Chart\n"
        "for kind in sorted(CHART_TYPES):\n"
        "    key = 'text' if kind in ('pie', 'donut') else 'label'\n"
        "    c = Chart(id='c', chart_type=kind, values=[{key: 'a', 'value': 1, 'series': 's'}])\n"
        "    assert 'image/svg+xml' in chart_mimebundle(c)\n"
        "    assert browser_payload(c)['spec']['mark']\n"
        "print(sorted(m for m in ('altair', 'jsonschema', 'pandas') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("kind", sorted(CHART_TYPES))
def test_the_plain_spec_and_the_altair_chart_agree(kind: str) -> None:
    """``answer.chart`` (Altair) is built from the same spec the magic shows, and stays valid for
    Altair's own (v6) schema."""
    from trellis_jupyter.chart_spec import chart_spec

    chart = payload(kind, series=kind in ("stacked_bar", "line", "area"))
    plain = chart_spec(chart)
    assert_valid_v5(plain)
    altair_spec = chart.to_altair().to_dict(validate=True)
    assert altair_spec["mark"] == plain["mark"]
    assert altair_spec["encoding"] == plain["encoding"]
    assert altair_spec["datasets"][altair_spec["data"]["name"]] == plain["data"]["values"]


def test_bars_use_the_width_and_keep_short_labels_horizontal() -> None:
    from trellis_jupyter.chart_spec import WIDTH, chart_spec

    four = Chart(
        id="c",
        chart_type="bar",
        values=[{"label": r, "value": 1} for r in ("East", "North", "South", "West")],
    )
    spec = chart_spec(four)
    assert spec["width"] == WIDTH
    assert spec["encoding"]["x"]["axis"]["labelAngle"] == 0
    long_labels = [{"label": f"a rather long category name {i}", "value": i} for i in range(12)]
    spec = chart_spec(Chart(id="c", chart_type="bar", values=long_labels))
    assert spec["encoding"]["x"]["axis"]["labelAngle"] == -40  # slanted, never vertical
    many = [{"label": str(i), "value": i} for i in range(150)]
    assert chart_spec(Chart(id="c", chart_type="bar", values=many))["width"] == {"step": 18}


def test_a_multi_series_legend_is_titled_by_its_column() -> None:
    from trellis_jupyter.chart_spec import chart_spec

    values = [
        {"label": "2025-01", "value": 1, "series": "East"},
        {"label": "2025-01", "value": 2, "series": "West"},
    ]
    named = Chart(id="c", chart_type="stacked_bar", values=values, extra={"series_label": "Region"})
    assert chart_spec(named)["encoding"]["color"]["title"] == "Region"
    unnamed = Chart(id="c", chart_type="stacked_bar", values=values)
    assert chart_spec(unnamed)["encoding"]["color"]["title"] == "Series"


def test_a_pie_legend_is_untitled_unless_the_payload_names_its_column() -> None:
    # Seen on Chinook: media types under a legend titled "Category" (the protocol gives a pie no
    # x_axis_label, so the title was made up). The spec stays valid Vega-Lite 5 either way.
    from trellis_jupyter.chart_spec import chart_spec

    values = [{"text": "MPEG audio file", "value": 1956.24}, {"text": "AAC audio file", "value": 2.97}]
    for kind in ("pie", "donut"):
        unnamed = chart_spec(Chart(id="p", chart_type=kind, values=values))
        assert unnamed["encoding"]["color"]["title"] is None
        v5_validator().validate(unnamed)
        named = chart_spec(Chart(id="p", chart_type=kind, values=values, x_axis_label="Media type"))
        assert named["encoding"]["color"]["title"] == "Media type"


def test_trellis_charts_sit_on_the_theme_and_their_image_is_white() -> None:
    bundle = chart_mimebundle(payload("bar"))
    assert bundle[VEGALITE_V5_MIMETYPE]["config"]["background"] == "transparent"
    assert 'fill="white"' in bundle["image/svg+xml"] or "fill: white" in bundle["image/svg+xml"]
    # answer.chart shown through the trellis renderer keeps the transparent background too
    assert (
        chart_mimebundle(payload("bar").to_altair())[VEGALITE_V5_MIMETYPE]["config"]["background"]
        == "transparent"
    )
