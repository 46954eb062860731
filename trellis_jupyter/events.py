"""Typed events of the Trellis chat stream, and the visualization payloads they carry.

No I/O happens here. ``parse_event(name, data)`` turns one SSE event or one WebSocket frame into a
frozen dataclass; every event also knows how to write itself back (``to_data()``), which is what
the bundled local server uses, so both sides agree on one definition of the wire format.

Unknown event names become :class:`UnknownEvent` (kept for the caller, never an error). Payloads of
older API generations parse too: ``chat_metadata`` with only ``id``, ``error`` with only ``error``,
``visualization`` with only an ``id``, tables given as ``columns`` and rows given as objects.
"""

from __future__ import annotations

import gc
import json
import math
import re
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Union

from ._imports import load as _load
from .errors import MalformedEventError

if TYPE_CHECKING:
    import altair
    import pandas

__all__ = [
    "AXIS_CHART_TYPES",
    "CHART_TYPES",
    "KNOWN_EVENTS",
    "SEGMENT_CHART_TYPES",
    "Authenticated",
    "Chart",
    "ChatMetadata",
    "Deleted",
    "ErrorEvent",
    "Event",
    "Heartbeat",
    "Interrupted",
    "Message",
    "Pong",
    "Processing",
    "Table",
    "TextDelta",
    "UnknownEvent",
    "UnknownVisualization",
    "Visualization",
    "VisualizationPayload",
    "decode_json",
    "is_visualization_id",
    "new_visualization_id",
    "parse_event",
    "parse_visualization",
]

try:
    import msgspec

    _fast_decode: Callable[[str | bytes], Any] | None = msgspec.json.Decoder().decode
except ImportError:  # pragma: no cover - a dependency; decoding never depends on it
    _fast_decode = None


# Texts from this size on decode with the cyclic garbage collector paused (see decode_json).
_GC_PAUSE_SIZE = 1 << 16


def decode_json(text: str | bytes) -> Any:
    """JSON text as Python values, as ``json.loads`` gives them, in about half its time.

    msgspec's decoder reads what arrives on the wire (a 10^6-cell table decodes about twice as
    fast, a small event too, integers of any size kept exact). What it refuses (NaN, a lone
    surrogate, nesting past its depth, bad JSON) goes to ``json.loads``, which decodes it the same
    way or raises its own error, so callers see one behaviour.

    A large text decodes with the garbage collector paused: JSON cannot hold a reference cycle,
    so its passes over the 10^5 fresh row lists of a big table find nothing, and one full pass
    cost more than the decoding itself; the new objects then join the oldest generation. It
    stays off if the caller had turned it off.
    """
    if _fast_decode is not None:
        try:
            if len(text) < _GC_PAUSE_SIZE or not gc.isenabled():
                return _fast_decode(text)
            gc.disable()
            try:
                return _fast_decode(text)
            finally:
                if gc.get_freeze_count() == 0:
                    # freeze + unfreeze moves every tracked object to the oldest generation
                    # (documented) without a pass over them: the young-generation passes that
                    # would otherwise walk the new rows (~20 ms for 10^5 lists) are skipped.
                    # Skipped when the program froze objects itself, to leave them frozen.
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
        except Exception:
            pass
    return json.loads(text)


Cell = Union[str, int, float, bool, None]
AXIS_CHART_TYPES: frozenset[str] = frozenset({"bar", "bar_horizontal", "stacked_bar", "line", "area"})
SEGMENT_CHART_TYPES: frozenset[str] = frozenset({"pie", "donut"})
CHART_TYPES: frozenset[str] = AXIS_CHART_TYPES | SEGMENT_CHART_TYPES

_VISUALIZATION_ID = re.compile(r"[A-Za-z0-9]{10}")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_visualization_id() -> str:
    """A fresh visualization id as servers write them: 10 random lowercase letters and digits."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def is_visualization_id(value: str | None) -> bool:
    """True for an id of the servers' form (10 letters or digits)."""
    return value is not None and _VISUALIZATION_ID.fullmatch(value) is not None


# --- visualization payloads -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    """A ``type: "table"`` visualization: column names and rows of JSON scalars.

    ``rows`` are lists aligned with ``headers`` (object rows are aligned on parsing). ``sql``,
    ``row_count`` (rows before any cut) and ``truncated`` are set when the server gives them;
    any other field of the payload is kept in ``extra``.
    """

    id: str
    headers: list[str]
    rows: list[list[Cell]]
    title: str | None = None
    sql: str | None = None
    row_count: int | None = None
    truncated: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    type: ClassVar[str] = "table"

    @property
    def total_rows(self) -> int:
        """Rows in the full result: ``row_count`` when the server gave it, else ``len(rows)``."""
        return self.row_count if self.row_count is not None else len(self.rows)

    @property
    def df(self) -> pandas.DataFrame:
        """This table as a pandas DataFrame, column types inferred (computed on each access)."""
        _load("trellis_jupyter.convert")  # pandas, imported where Ctrl-C cannot cut it
        from .convert import table_to_dataframe

        return table_to_dataframe(self)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "table"}
        if self.title is not None:
            data["title"] = self.title
        data["headers"] = list(self.headers)
        data["rows"] = self.rows
        if self.sql is not None:
            data["sql"] = self.sql
        if self.row_count is not None:
            data["row_count"] = self.row_count
        data["truncated"] = self.truncated
        data.update(self.extra)
        return data


@dataclass(frozen=True, slots=True)
class Chart:
    """A ``type: "chart"`` visualization.

    ``values`` are the payload's points as given: ``{"label", "value"}`` for axis charts,
    ``{"text", "value"}`` for pie and donut, with an optional ``series`` for several series.
    """

    id: str
    chart_type: str
    values: list[dict[str, Any]]
    title: str | None = None
    x_axis_label: str | None = None
    y_axis_label: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    type: ClassVar[str] = "chart"

    @property
    def is_segment(self) -> bool:
        """True for pie and donut charts, whose points carry ``text`` instead of ``label``."""
        return self.chart_type in SEGMENT_CHART_TYPES

    @property
    def series(self) -> list[str]:
        """Distinct ``series`` names in order of first appearance (empty for a single series)."""
        seen: dict[str, None] = {}
        for point in self.values:
            name = point.get("series")
            if name is not None:
                seen.setdefault(str(name), None)
        return list(seen)

    @property
    def df(self) -> pandas.DataFrame:
        """The chart's points as a DataFrame (computed on each access)."""
        _load("trellis_jupyter.convert")  # pandas, imported where Ctrl-C cannot cut it
        from .convert import chart_to_dataframe

        return chart_to_dataframe(self)

    def to_altair(self) -> altair.TopLevelMixin:
        """The chart as an Altair chart, with the payload's title and axis labels."""
        _load("trellis_jupyter.altair_charts")  # Altair, imported where Ctrl-C cannot cut it
        _load("trellis_jupyter.convert")  # pandas, imported where Ctrl-C cannot cut it
        from .convert import chart_to_altair

        return chart_to_altair(self)

    def to_data(self) -> dict[str, Any]:
        inner: dict[str, Any] = {"values": self.values}
        if self.x_axis_label is not None:
            inner["x_axis_label"] = self.x_axis_label
        if self.y_axis_label is not None:
            inner["y_axis_label"] = self.y_axis_label
        data: dict[str, Any] = {"id": self.id, "type": "chart", "chart_type": self.chart_type}
        if self.title is not None:
            data["title"] = self.title
        data["data"] = inner
        data.update(self.extra)
        return data


@dataclass(frozen=True, slots=True)
class UnknownVisualization:
    """A visualization we cannot read: a v1 id-only payload, or a ``type`` we do not know."""

    id: str | None
    raw: Mapping[str, Any]

    type: ClassVar[str] = "unknown"

    def to_data(self) -> dict[str, Any]:
        return dict(self.raw)


VisualizationPayload = Union[Table, Chart, UnknownVisualization]

_TABLE_KEYS = frozenset(
    {"id", "type", "title", "headers", "columns", "rows", "sql", "row_count", "truncated"}
)
_CHART_KEYS = frozenset({"id", "type", "chart_type", "title", "data"})


def _column_name(column: Any) -> str:
    if isinstance(column, Mapping):
        return str(column.get("name", column.get("id", "")))
    return str(column)


def _parse_table(raw: Mapping[str, Any]) -> Table:
    columns = raw.get("headers")
    if columns is None:
        columns = raw.get("columns", [])
    if not isinstance(columns, Sequence) or isinstance(columns, str):
        raise ValueError("table 'headers' must be a list")
    headers = [_column_name(c) for c in columns]
    rows_in = raw.get("rows", [])
    if not isinstance(rows_in, list):
        raise ValueError("table 'rows' must be a list")
    rows: list[list[Cell]] = rows_in
    # The common case (lists of the right length) is checked with C-level map()s: this runs on
    # every row of tables of 10^6 cells.
    if rows_in and not (set(map(type, rows_in)) == {list} and set(map(len, rows_in)) == {len(headers)}):
        rows = [_align_row(r, headers) for r in rows_in]
    row_count = raw.get("row_count")
    return Table(
        id=str(raw.get("id", "")),
        headers=headers,
        rows=rows,
        title=raw.get("title"),
        sql=raw.get("sql"),
        row_count=int(row_count) if isinstance(row_count, (int, float)) else None,
        truncated=bool(raw.get("truncated", False)),
        extra={k: v for k, v in raw.items() if k not in _TABLE_KEYS},
    )


def _align_row(row: Any, headers: list[str]) -> list[Cell]:
    """One row as a list aligned with ``headers``: objects keyed by name, short rows padded."""
    if isinstance(row, Mapping):
        if not headers:
            headers.extend(str(k) for k in row)
        return [row.get(h) for h in headers]
    if isinstance(row, (list, tuple)):
        cells = list(row[: len(headers)]) if headers else list(row)
        cells.extend([None] * (len(headers) - len(cells)))
        return cells
    raise ValueError("table rows must be lists or objects")


def _parse_chart(raw: Mapping[str, Any]) -> Chart:
    inner = raw.get("data") or {}
    if not isinstance(inner, Mapping):
        raise ValueError("chart 'data' must be an object")
    values = inner.get("values", [])
    if not isinstance(values, list) or not all(isinstance(v, Mapping) for v in values):
        raise ValueError("chart 'data.values' must be a list of objects")
    return Chart(
        id=str(raw.get("id", "")),
        chart_type=str(raw.get("chart_type", "bar")),
        values=[dict(v) for v in values],
        title=raw.get("title"),
        x_axis_label=inner.get("x_axis_label"),
        y_axis_label=inner.get("y_axis_label"),
        extra={k: v for k, v in raw.items() if k not in _CHART_KEYS},
    )


def parse_visualization(raw: Mapping[str, Any]) -> VisualizationPayload:
    """Read a visualization payload; raises ``ValueError`` when a known type is malformed."""
    kind = raw.get("type")
    if kind == "table" or (kind is None and ("rows" in raw or "headers" in raw)):
        return _parse_table(raw)
    if kind == "chart" or (kind is None and "chart_type" in raw):
        return _parse_chart(raw)
    viz_id = raw.get("id")
    return UnknownVisualization(id=str(viz_id) if viz_id is not None else None, raw=dict(raw))


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChatMetadata:
    """First event of every turn: the chat id and the id of this turn's user message."""

    chat_id: str
    user_message_id: str | None = None

    name: ClassVar[str] = "chat_metadata"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.chat_id}
        if self.user_message_id is not None:
            data["user_message_id"] = self.user_message_id
        return data


@dataclass(frozen=True, slots=True)
class Processing:
    """Progress: ``starting``, ``thinking``, ``analyzing``, ``processing`` or any other string."""

    status: str

    name: ClassVar[str] = "processing"

    def to_data(self) -> dict[str, Any]:
        return {"status": self.status}


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A new fragment of the answer text (not cumulative)."""

    content: str

    name: ClassVar[str] = "text_delta"

    def to_data(self) -> dict[str, Any]:
        return {"content": self.content}


@dataclass(frozen=True, slots=True)
class Visualization:
    """A table or a chart, complete (no follow-up fetch needed)."""

    payload: VisualizationPayload

    name: ClassVar[str] = "visualization"

    @property
    def id(self) -> str | None:
        return self.payload.id

    def to_data(self) -> dict[str, Any]:
        return self.payload.to_data()


@dataclass(frozen=True, slots=True)
class Message:
    """The final, authoritative answer text and the persisted assistant message id."""

    content: str
    message_id: str | None = None

    name: ClassVar[str] = "message"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"content": self.content}
        if self.message_id is not None:
            data["id"] = self.message_id
        return data


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """The server's ``error`` event. Older generations send only ``error``."""

    error: str
    code: str | None = None
    retryable: bool | None = None
    debug_id: str | None = None
    error_type: str | None = None
    retry_after: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    name: ClassVar[str] = "error"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": self.error}
        for key, value in (
            ("code", self.code),
            ("retryable", self.retryable),
            ("debug_id", self.debug_id),
            ("error_type", self.error_type),
            ("retry_after_seconds", self.retry_after),
        ):
            if value is not None:
                data[key] = value
        data.update(self.extra)
        return data


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Keepalive while a turn runs; carries nothing for the answer."""

    timestamp: str | None = None

    name: ClassVar[str] = "heartbeat"

    def to_data(self) -> dict[str, Any]:
        return {"timestamp": self.timestamp} if self.timestamp is not None else {}


@dataclass(frozen=True, slots=True)
class Interrupted:
    """WebSocket: the running turn was stopped by an ``interrupt`` action."""

    status: str = "interrupted"
    chat_id: str | None = None

    name: ClassVar[str] = "interrupted"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status}
        if self.chat_id is not None:
            data["chat_id"] = self.chat_id
        return data


@dataclass(frozen=True, slots=True)
class Deleted:
    """WebSocket: a ``delete_message`` succeeded."""

    message_id: str

    name: ClassVar[str] = "deleted"

    def to_data(self) -> dict[str, Any]:
        return {"message_id": self.message_id}


@dataclass(frozen=True, slots=True)
class Authenticated:
    """WebSocket: the token was accepted."""

    status: str = "ok"

    name: ClassVar[str] = "authenticated"

    def to_data(self) -> dict[str, Any]:
        return {"status": self.status}


@dataclass(frozen=True, slots=True)
class Pong:
    """WebSocket: the answer to a ``ping`` action."""

    name: ClassVar[str] = "pong"

    def to_data(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event whose name we do not know, kept as it came (``tool_call`` and the like)."""

    event: str
    data: Any

    name: ClassVar[str] = "unknown"

    def to_data(self) -> Any:
        return self.data


Event = Union[
    ChatMetadata,
    Processing,
    TextDelta,
    Visualization,
    Message,
    ErrorEvent,
    Heartbeat,
    Interrupted,
    Deleted,
    Authenticated,
    Pong,
    UnknownEvent,
]


def event_name(event: Event) -> str:
    """The wire name of an event (an unknown event keeps its own)."""
    return event.event if isinstance(event, UnknownEvent) else event.name


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _retry_after(data: Mapping[str, Any]) -> float | None:
    value = data.get("retry_after_seconds", data.get("retry_after"))
    try:
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    # JSON allows 1e400 (inf) and Python's json reads NaN: neither is a wait anyone can honour.
    return max(0.0, seconds) if seconds is not None and math.isfinite(seconds) else None


def _error_event(data: Mapping[str, Any]) -> ErrorEvent:
    message = data.get("error", data.get("detail", data.get("message", "")))
    known = {"error", "code", "retryable", "debug_id", "error_type", "retry_after_seconds"}
    retryable = data.get("retryable")
    return ErrorEvent(
        error=str(message) if message is not None else "",
        code=_opt_str(data.get("code")),
        retryable=bool(retryable) if retryable is not None else None,
        debug_id=_opt_str(data.get("debug_id")),
        error_type=_opt_str(data.get("error_type")),
        retry_after=_retry_after(data),
        extra={k: v for k, v in data.items() if k not in known},
    )


def _chat_metadata(data: Mapping[str, Any]) -> ChatMetadata:
    if "id" not in data:
        raise ValueError("'chat_metadata' has no 'id'")
    return ChatMetadata(chat_id=str(data["id"]), user_message_id=_opt_str(data.get("user_message_id")))


def _message(data: Mapping[str, Any]) -> Message:
    content = data.get("content", "")
    return Message(content=str(content) if content is not None else "", message_id=_opt_str(data.get("id")))


# How each event of the protocol is read: the one list of known event names (the rest become
# UnknownEvent).
_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Event]] = {
    "text_delta": lambda data: TextDelta(content=str(data.get("content", ""))),
    "processing": lambda data: Processing(status=str(data.get("status", ""))),
    "chat_metadata": _chat_metadata,
    "visualization": lambda data: Visualization(payload=parse_visualization(data)),
    "message": _message,
    "error": _error_event,
    "heartbeat": lambda data: Heartbeat(timestamp=_opt_str(data.get("timestamp"))),
    "interrupted": lambda data: Interrupted(
        status=str(data.get("status", "interrupted")), chat_id=_opt_str(data.get("chat_id"))
    ),
    "deleted": lambda data: Deleted(message_id=str(data.get("message_id", ""))),
    "authenticated": lambda data: Authenticated(status=str(data.get("status", "ok"))),
    "pong": lambda data: Pong(),
}

KNOWN_EVENTS: frozenset[str] = frozenset(_BUILDERS)


def _build(name: str, data: Mapping[str, Any]) -> Event:
    build = _BUILDERS.get(name)
    return build(data) if build is not None else UnknownEvent(event=name, data=dict(data))


def parse_event(name: str, data: str | bytes | Mapping[str, Any] | None) -> Event:
    """Turn one event (its name and its JSON data, as text or already decoded) into a typed event.

    Unknown names give :class:`UnknownEvent` whatever their data. A known event whose data is not
    a JSON object of the documented shape raises :class:`MalformedEventError` naming the event.
    """
    name = name or "message"  # SSE's default event type
    if isinstance(data, (str, bytes)):
        if not data and name in ("pong", "heartbeat"):
            data = {}
        else:
            try:
                data = decode_json(data)
            except json.JSONDecodeError as exc:
                if name not in KNOWN_EVENTS:
                    return UnknownEvent(event=name, data=data)
                raise MalformedEventError(name, f"its data is not valid JSON ({exc.msg})") from None
            except UnicodeDecodeError:
                if name not in KNOWN_EVENTS:
                    return UnknownEvent(event=name, data=data)
                raise MalformedEventError(name, "its data is not UTF-8 text") from None
            except RecursionError:
                raise MalformedEventError(name, "its data is nested too deeply") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        if name not in KNOWN_EVENTS:
            return UnknownEvent(event=name, data=data)
        raise MalformedEventError(name, f"its data is a JSON {type(data).__name__}, not an object")
    try:
        return _build(name, data)
    except (ValueError, TypeError) as exc:
        raise MalformedEventError(name, str(exc)) from None
