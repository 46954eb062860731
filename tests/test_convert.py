"""Tables to DataFrames (every column type, malformed payloads) and charts to DataFrames/Altair."""

from __future__ import annotations

import json
import warnings
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pytest

from trellis_jupyter.convert import chart_to_altair, chart_to_dataframe, table_to_dataframe, unique_names
from trellis_jupyter.events import CHART_TYPES, Chart, Table, Visualization, parse_event


def table(headers: list[str], rows: list[list[Any]], **kw: Any) -> Table:
    """A Table as the client gets it: through the real event parser, from JSON text."""
    payload = {"id": "t1", "type": "table", "headers": headers, "rows": rows, **kw}
    event = parse_event("visualization", json.dumps(payload))
    assert isinstance(event, Visualization)
    assert isinstance(event.payload, Table)
    return event.payload


def col(rows: list[Any]) -> pd.Series:
    return table_to_dataframe(table(["c"], [[v] for v in rows]))["c"]


# --- column types ---------------------------------------------------------------------------


def test_integers_without_nulls_are_int64() -> None:
    s = col([1, 2, -3])
    assert s.dtype == np.int64
    assert s.tolist() == [1, 2, -3]


def test_integers_with_nulls_are_nullable_Int64() -> None:
    s = col([1, None, 3])
    assert str(s.dtype) == "Int64"
    assert s.isna().tolist() == [False, True, False]
    assert s[2] == 3


def test_ints_and_floats_are_float64_with_nan_for_null() -> None:
    s = col([1, 2.5, None])
    assert s.dtype == np.float64
    assert s[0] == 1.0
    assert s[1] == 2.5
    assert np.isnan(s[2])


def test_booleans_plain_and_nullable() -> None:
    assert col([True, False]).dtype == np.bool_
    s = col([True, None, False])
    assert str(s.dtype) == "boolean"
    assert s.isna().tolist() == [False, True, False]


def test_iso_dates_become_datetime64() -> None:
    s = col(["2024-01-31", None, "2023-12-01"])
    assert s.dtype.kind == "M"
    assert s[0] == pd.Timestamp("2024-01-31")
    assert pd.isna(s[1])


def test_naive_timestamps_become_datetime64() -> None:
    s = col(["2024-01-31T10:20:30", "2024-02-01 08:00:00.123", "2024-02-02"])
    assert s.dtype.kind == "M"
    assert getattr(s.dtype, "tz", None) is None
    assert s[1] == pd.Timestamp("2024-02-01 08:00:00.123")


def test_timestamps_with_offsets_become_utc() -> None:
    s = col(["2024-01-31T10:00:00+02:00", "2024-01-31T10:00:00Z", None])
    assert str(s.dt.tz) == "UTC"
    assert s[0] == pd.Timestamp("2024-01-31T08:00:00Z")
    assert s[1] == pd.Timestamp("2024-01-31T10:00:00Z")


def test_naive_and_aware_timestamps_mixed_stay_text() -> None:
    s = col(["2024-01-31T10:00:00+02:00", "2024-01-31T10:00:00"])
    assert s.dtype.kind not in "M"
    assert s.tolist() == ["2024-01-31T10:00:00+02:00", "2024-01-31T10:00:00"]


@pytest.mark.parametrize(
    "values",
    [
        ["2024-01-31", "2024-02-30"],  # not a calendar date
        ["2024-01-31", "2024-1-5"],  # not zero-padded
        ["2024-01-31", "yesterday"],
        ["2024-01-31", "2024-01-31 and more"],
        ["2024-01-31T10:00", "2024-01-31Tnoon"],
    ],
)
def test_a_column_converts_only_when_every_value_fits(values: list[str]) -> None:
    s = col(values)
    assert s.dtype.kind != "M"
    assert s.tolist() == values


def test_text_stays_text_and_numeric_looking_strings_are_not_converted() -> None:
    s = col(["North", "007", None])
    assert s.dtype == object or str(s.dtype) in ("str", "string")
    assert s[1] == "007"
    assert pd.isna(s[2])


def test_mixed_types_stay_object_with_cells_as_they_came() -> None:
    s = col([1, "two", 3.0, True])
    assert s.dtype == object
    assert s.tolist() == [1, "two", 3.0, True]
    assert type(s[3]) is bool


def test_bools_and_ints_mixed_stay_object() -> None:
    s = col([True, 1, 0])
    assert s.dtype == object
    assert [type(v) for v in s] == [bool, int, int]


def test_all_null_column_is_object_of_nulls() -> None:
    s = col([None, None])
    assert s.dtype == object
    assert s.isna().all()


def test_huge_ints_keep_every_digit() -> None:
    big = 2**70 + 1
    s = col([1, big, None])
    assert s.dtype == object
    assert s[1] == big


def test_floats_beyond_float64_fall_back_to_object() -> None:
    # An int so big that float() overflows, mixed with floats.
    s = col([1.5, 10**400])
    assert s.dtype == object
    assert s[1] == 10**400


# --- table shapes ---------------------------------------------------------------------------


def test_empty_table_keeps_its_columns() -> None:
    df = table_to_dataframe(table(["a", "b"], []))
    assert list(df.columns) == ["a", "b"]
    assert len(df) == 0


def test_table_without_columns_or_rows() -> None:
    df = table_to_dataframe(table([], []))
    assert df.shape == (0, 0)


def test_duplicate_and_empty_names_are_made_unique() -> None:
    df = table_to_dataframe(table(["x", "", "x", "x_2"], [[1, 2, 3, 4]]))
    assert list(df.columns) == ["x", "column_2", "x_3", "x_2"]
    assert df.iloc[0].tolist() == [1, 2, 3, 4]


def test_unique_names_is_stable_for_clean_names() -> None:
    assert unique_names(["a", "b"]) == ["a", "b"]


def test_ragged_rows_from_the_wire_are_padded_with_null() -> None:
    df = table_to_dataframe(table(["a", "b", "c"], [[1, 2, 3], [4], [5, 6, 7, 8]]))
    assert df.shape == (3, 3)
    assert df["a"].tolist() == [1, 4, 5]
    assert df["c"].isna().tolist() == [False, True, False]


def test_ragged_rows_in_a_hand_built_table_get_extra_columns() -> None:
    t = Table(id="t", headers=["a"], rows=[[1], [2, "extra"]])
    df = table_to_dataframe(t)
    assert list(df.columns) == ["a", "column_2"]
    assert df["column_2"].tolist()[1] == "extra"


def test_object_rows_are_aligned_by_name() -> None:
    t = table(["a", "b"], [{"b": 2, "a": 1}, {"a": 3}])  # type: ignore[list-item]
    df = table_to_dataframe(t)
    assert df["a"].tolist() == [1, 3]
    assert str(df["b"].dtype) == "Int64"


def test_table_df_property_and_answer_df_use_the_converter() -> None:
    t = table(["n", "day"], [[1, "2024-01-01"], [2, "2024-01-02"]])
    assert t.df["day"].dtype.kind == "M"
    assert t.df["n"].dtype == np.int64


def test_a_larger_mixed_table_types_every_column() -> None:
    rows = [
        [i, f"name {i}", i * 0.5, f"2024-01-{i % 28 + 1:02d}", None if i % 3 else True] for i in range(5000)
    ]
    df = table_to_dataframe(table(["id", "name", "half", "day", "flag"], rows))
    assert df["id"].dtype == np.int64
    assert df["half"].dtype == np.float64
    assert df["day"].dtype.kind == "M"
    assert str(df["flag"].dtype) == "boolean"
    assert df["name"].iloc[4999] == "name 4999"


# --- charts ---------------------------------------------------------------------------------


def chart(chart_type: str, values: list[dict[str, Any]], **kw: Any) -> Chart:
    payload = {"id": "c1", "type": "chart", "chart_type": chart_type, "data": {"values": values, **kw}}
    event = parse_event("visualization", payload)
    assert isinstance(event, Visualization)
    assert isinstance(event.payload, Chart)
    return event.payload


AXIS_POINTS = [{"label": "Zeta", "value": 3}, {"label": "Alpha", "value": 1.5}, {"label": "Mid", "value": 2}]
SEGMENT_POINTS = [{"text": "North", "value": 4}, {"text": "South", "value": 6}]
SERIES_POINTS = [
    {"label": "Q1", "value": 1, "series": "2023"},
    {"label": "Q1", "value": 2, "series": "2024"},
    {"label": "Q2", "value": 3, "series": "2023"},
    {"label": "Q2", "value": 4, "series": "2024"},
]


def test_chart_to_dataframe_axis_chart_keeps_order() -> None:
    df = chart_to_dataframe(chart("bar", AXIS_POINTS))
    assert list(df.columns) == ["label", "value"]
    assert df["label"].tolist() == ["Zeta", "Alpha", "Mid"]
    assert df["value"].tolist() == [3.0, 1.5, 2.0]


def test_chart_to_dataframe_segment_and_series() -> None:
    assert list(chart_to_dataframe(chart("pie", SEGMENT_POINTS)).columns) == ["text", "value"]
    df = chart_to_dataframe(chart("stacked_bar", SERIES_POINTS))
    assert list(df.columns) == ["label", "value", "series"]
    assert df["series"].tolist() == ["2023", "2024", "2023", "2024"]


def test_chart_values_that_are_not_numbers_become_nan() -> None:
    df = chart("bar", [{"label": "a", "value": "12.5"}, {"label": "b", "value": "n/a"}, {"label": "c"}]).df
    assert df["value"].iloc[0] == 12.5
    assert df["value"].iloc[1:].isna().all()


def spec_of(payload: Chart) -> dict[str, Any]:
    spec: dict[str, Any] = chart_to_altair(payload).to_dict()
    return spec


def data_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    name = spec["data"].get("name")
    values: list[dict[str, Any]] = spec["datasets"][name] if name else spec["data"]["values"]
    return values


def test_bar_chart_spec() -> None:
    spec = spec_of(chart("bar", AXIS_POINTS, x_axis_label="Sector", y_axis_label="Completion %"))
    assert spec["mark"]["type"] == "bar"
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert (x["field"], x["type"], x["title"]) == ("label", "nominal", "Sector")
    assert x["sort"] is None  # the payload's order, not alphabetical
    assert (y["field"], y["type"], y["title"]) == ("value", "quantitative", "Completion %")
    assert [p["label"] for p in data_of(spec)] == ["Zeta", "Alpha", "Mid"]
    assert {t["field"] for t in spec["encoding"]["tooltip"]} == {"label", "value"}
    assert "url" not in spec["data"]


def test_horizontal_bar_swaps_axes() -> None:
    spec = spec_of(chart("bar_horizontal", AXIS_POINTS, x_axis_label="Sector", y_axis_label="Pct"))
    assert spec["encoding"]["y"]["field"] == "label"
    assert spec["encoding"]["y"]["title"] == "Sector"
    assert spec["encoding"]["x"]["field"] == "value"


def test_stacked_bar_colors_and_stacks_by_series() -> None:
    spec = spec_of(chart("stacked_bar", SERIES_POINTS))
    assert spec["encoding"]["color"]["field"] == "series"
    assert spec["encoding"]["color"]["sort"] == ["2023", "2024"]
    assert spec["encoding"]["y"]["stack"] == "zero"


@pytest.mark.parametrize("kind", ["line", "area"])
def test_line_and_area_with_text_labels_are_ordinal_in_order(kind: str) -> None:
    spec = spec_of(chart(kind, AXIS_POINTS))
    assert spec["mark"]["type"] == kind
    assert spec["encoding"]["x"]["type"] == "ordinal"
    assert spec["encoding"]["x"]["sort"] is None
    assert "color" not in spec["encoding"]


@pytest.mark.parametrize("kind", ["line", "area"])
def test_line_and_area_with_iso_dates_are_temporal_and_colored_by_series(kind: str) -> None:
    points = [{"label": f"2024-0{m}-01", "value": m, "series": s} for m in (1, 2, 3) for s in ("a", "b")]
    spec = spec_of(chart(kind, points))
    assert spec["encoding"]["x"]["type"] == "temporal"
    assert spec["encoding"]["color"]["field"] == "series"


def test_pie_and_donut_are_arcs() -> None:
    pie = spec_of(chart("pie", SEGMENT_POINTS))
    donut = spec_of(chart("donut", SEGMENT_POINTS))
    for spec in (pie, donut):
        assert spec["mark"]["type"] == "arc"
        assert spec["encoding"]["theta"]["field"] == "value"
        assert spec["encoding"]["color"]["field"] == "text"
    assert pie["mark"].get("innerRadius", 0) == 0
    assert donut["mark"]["innerRadius"] > 0


def test_title_is_carried() -> None:
    payload = parse_event(
        "visualization",
        {
            "id": "c",
            "type": "chart",
            "chart_type": "pie",
            "title": "Share",
            "data": {"values": SEGMENT_POINTS},
        },
    )
    assert isinstance(payload, Visualization)
    assert isinstance(payload.payload, Chart)
    assert spec_of(payload.payload)["title"] == "Share"


def test_unknown_chart_type_falls_back_to_bar_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = spec_of(chart("radar", AXIS_POINTS))
    assert spec["mark"]["type"] == "bar"
    assert spec["name"] == "trellis_bar"


def test_segment_points_on_an_axis_chart_and_vice_versa_still_draw() -> None:
    spec = spec_of(chart("bar", SEGMENT_POINTS))
    assert [p["label"] for p in data_of(spec)] == ["North", "South"]
    spec = spec_of(chart("pie", AXIS_POINTS))
    assert [p["text"] for p in data_of(spec)] == ["Zeta", "Alpha", "Mid"]


@pytest.mark.parametrize("kind", sorted(CHART_TYPES))
def test_every_chart_type_gives_a_valid_altair_chart(kind: str) -> None:
    points = SEGMENT_POINTS if kind in ("pie", "donut") else AXIS_POINTS
    result = chart_to_altair(chart(kind, points))
    assert isinstance(result, alt.Chart)
    result.to_dict(validate=True)  # Altair's own schema validation


def test_a_50k_point_chart_converts_without_max_rows_error() -> None:
    points = [{"label": str(i), "value": i % 97} for i in range(50_000)]
    spec = spec_of(chart("line", points))  # the default data transformer is active
    assert len(data_of(spec)) == 50_000
    assert alt.data_transformers.active == "default"


def test_derived_charts_keep_the_data() -> None:
    derived = chart("bar", AXIS_POINTS).to_altair().properties(width=600)
    spec = derived.to_dict()
    assert spec["width"] == 600
    assert len(data_of(spec)) == 3


@pytest.mark.parametrize(
    "values",
    [
        [1, 2],
        [1, None],
        [1.5, None, 2],
        [True, False],
        [True, None],
        ["a", None],
        ["2024-01-02"],
        [1, "x"],
        [None, None],
        [2**70],
    ],
)
def test_the_portable_path_types_columns_like_the_fast_path(values: list[Any]) -> None:
    from trellis_jupyter import convert

    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    fast, portable = pd.Series(convert._column(arr)), pd.Series(convert._column_by_kind(arr))
    assert fast.dtype == portable.dtype
    assert fast.isna().tolist() == portable.isna().tolist()


@pytest.mark.parametrize(
    "values",
    [
        [1, 2],
        [1, None],
        [1, float("nan")],
        [1, True],
        [1, 2.5],
        [1, "2"],
        [1, 2**63],
        [1, 2**64],
        [-(2**63), 2**63 - 1],
    ],
)
def test_int_columns_take_the_shortcut_only_when_the_general_path_agrees(
    values: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An int first cell tries a cast to int64; anything it cannot hold exactly (a null, a bool,
    # a float, text, past int64) must come out as the general path types it.
    from trellis_jupyter import convert

    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    typed = pd.Series(convert._column(arr))
    monkeypatch.setattr(convert, "_all_integers", lambda col: False)
    general = pd.Series(convert._column(arr))
    pd.testing.assert_series_equal(typed, general)
    if typed.dtype == np.int64:
        assert typed.tolist() == values


def test_iso_dates_follow_numpys_calendar() -> None:
    # Date columns are read from their digits; every month/day (valid or not) of leap, common
    # and century years must be accepted or refused exactly as numpy's date parser does.
    from trellis_jupyter import convert

    for year in (0, 1600, 1900, 1969, 1970, 2000, 2023, 2024, 9999):
        for month in range(14):
            for day in range(33):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    expected = np.array([text], dtype=object).astype("datetime64[D]").astype("datetime64[s]")
                except ValueError:
                    expected = None
                got = convert._text_column(np.array([text, text], dtype=object))
                if expected is None:
                    assert got.dtype == object, text
                else:
                    assert got.dtype == np.dtype("datetime64[s]"), text
                    assert (got == expected[0]).all(), text
