"""What the chat widget sends to its front end: coalesced text deltas and visualization payloads.

Wire formats (keep in step with ``js/src/types.ts``):

- kernel -> browser custom message :class:`DeltaMessage`: new text of a streaming answer;
- kernel -> browser :class:`TableRowsMessage`: every row of a table (Download CSV);
- browser -> kernel custom messages :data:`Command`, one TypedDict per ``type`` (:data:`COMMANDS`);
- the synced transcript's entries: :class:`Entry`;
- visualizations in the synced transcript: the event payload (``to_data()``), tables cut to
  :data:`MAX_TABLE_ROWS` rows, charts with ``spec``: the Vega-Lite spec built with Altair.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Literal, TypedDict, Union

from .events import Chart, Table, VisualizationPayload

__all__ = [
    "COMMANDS",
    "MAX_TABLE_ROWS",
    "Command",
    "DeltaBatcher",
    "DeltaMessage",
    "Entry",
    "TableRowsMessage",
    "browser_payload",
    "utf16_len",
]

log = logging.getLogger(__name__)

MAX_TABLE_ROWS = 2000  # rows of one table sent to the browser; Python keeps them all


class DeltaMessage(TypedDict):
    type: Literal["delta"]
    id: str  # the assistant entry
    index: int  # its position in the transcript when sent
    start: int  # where ``text`` begins in the answer, in UTF-16 code units (JS string indices)
    text: str


class TableRowsMessage(TypedDict):
    """Every row of a table, answering a ``table_rows`` command (``rows`` None: no such table)."""

    type: Literal["table_rows"]
    request: int
    rows: list[list[Any]] | None


# --- transcript entries (the synced ``transcript`` trait) ------------------------------------------


class Attachment(TypedDict, total=False):
    """A file a question was sent with."""

    id: str
    filename: str
    mime_type: str | None
    file_size: int | None


class SavedQuery(TypedDict, total=False):
    id: str
    title: str


class _EntryKeys(TypedDict):
    id: str
    role: Literal["user", "assistant"]
    text: str


class Entry(_EntryKeys, total=False):
    """One message of the transcript, user's or assistant's."""

    status: str  # user: queued | sent; assistant: streaming | done | interrupted | error
    processing: str | None  # the latest processing status of a streaming answer
    message_id: str | None
    error: str | None
    feedback: Literal["positive", "negative"] | None
    feedback_note: str | None
    visualizations: list[dict[str, Any]]  # browser_payload() of each
    attachments: list[Attachment]  # user
    saved_query: SavedQuery | None  # assistant: "Save as query"


# --- browser -> kernel commands -----------------------------------------------------------------


class PickedFile(TypedDict):
    name: str
    type: str


class _SendKeys(TypedDict):
    type: Literal["send"]
    text: str


class SendCommand(_SendKeys, total=False):
    files: list[PickedFile]  # one buffer each, in order


class StopCommand(TypedDict):
    type: Literal["stop"]


class NewChatCommand(TypedDict):
    type: Literal["new_chat"]


class EditCommand(TypedDict):
    """Replace the last question (the only one editable) with ``text``."""

    type: Literal["edit"]
    text: str


class _FeedbackKeys(TypedDict):
    type: Literal["feedback"]
    id: str  # the assistant entry
    value: Literal["positive", "negative"]


class FeedbackCommand(_FeedbackKeys, total=False):
    note: str


class SaveQueryCommand(TypedDict):
    type: Literal["save_query"]
    id: str  # the assistant entry
    title: str


class TableRowsCommand(TypedDict):
    type: Literal["table_rows"]
    entry: str
    index: int  # of the visualization in the entry
    request: int  # echoed in the TableRowsMessage


class ListChatsCommand(TypedDict):
    type: Literal["list_chats"]
    page: int


class IntroCommand(TypedDict):
    type: Literal["intro"]


class UseChatCommand(TypedDict):
    type: Literal["use_chat"]
    chat_id: str


class RenameCommand(TypedDict):
    type: Literal["rename"]
    title: str


Command = Union[
    SendCommand,
    StopCommand,
    NewChatCommand,
    EditCommand,
    FeedbackCommand,
    SaveQueryCommand,
    TableRowsCommand,
    ListChatsCommand,
    IntroCommand,
    UseChatCommand,
    RenameCommand,
]
"""What the browser sends: ``js/src/types.ts`` ``Command`` (tests/test_widget_wire.py checks they agree)."""

COMMANDS: dict[str, type[Any]] = {
    "send": SendCommand,
    "stop": StopCommand,
    "new_chat": NewChatCommand,
    "edit": EditCommand,
    "feedback": FeedbackCommand,
    "save_query": SaveQueryCommand,
    "table_rows": TableRowsCommand,
    "list_chats": ListChatsCommand,
    "intro": IntroCommand,
    "use_chat": UseChatCommand,
    "rename": RenameCommand,
}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what JavaScript string positions count."""
    return len(text.encode("utf-16-le")) // 2


class DeltaBatcher:
    """Coalesces one answer's text deltas into few messages.

    The first delta of a batch waits ``interval`` seconds for more, so at most one message per
    interval (20 a second at 50 ms), each carrying only the new text. :meth:`flush` sends at once;
    the widget calls it before writing the transcript, so the browser never sees a state write
    run ahead of text it was not sent.
    """

    def __init__(
        self, send: Callable[[DeltaMessage], None], entry_id: str, index: Callable[[], int], interval: float
    ) -> None:
        self._send = send
        self.entry_id = entry_id
        self._index = index
        self.interval = interval
        self.sent = ""
        self._units = 0
        self._pending: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    @property
    def started(self) -> bool:
        """True once any text arrived (sent or waiting)."""
        return bool(self.sent or self._pending)

    def add(self, text: str) -> None:
        if not text:
            return
        self._pending.append(text)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self.flush)

    def flush(self) -> None:
        """Send what is pending now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending = []
        self._send(
            {"type": "delta", "id": self.entry_id, "index": self._index(), "start": self._units, "text": text}
        )
        self.sent += text
        self._units += utf16_len(text)

    def close(self) -> None:
        """The turn ended: the final transcript write carries the rest of the text."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending = []


def browser_payload(viz: VisualizationPayload) -> dict[str, Any]:
    """A visualization for the browser: the payload, tables capped, charts with their Vega-Lite spec."""
    data = dict(viz.to_data())
    if isinstance(viz, Table) and len(viz.rows) > MAX_TABLE_ROWS:
        data["rows"] = viz.rows[:MAX_TABLE_ROWS]
        data["row_count"] = viz.total_rows
        data["truncated"] = True
        data["kernel_rows"] = len(viz.rows)  # Download CSV asks the kernel for them all
    elif isinstance(viz, Chart):
        data["spec"] = _chart_spec(viz)
    return data


def _chart_spec(chart: Chart) -> dict[str, Any] | None:
    from .chart_spec import chart_spec
    from .charts import reduce_spec

    with contextlib.suppress(Exception):  # a chart that cannot be built shows a note, not a traceback
        # The magic's spec, as plain data (no Altair); the widget's Vega-Lite reads it as its own.
        spec: dict[str, Any] = reduce_spec(chart_spec(chart))
        spec.pop("$schema", None)
        return spec
    log.warning("Chart %s could not be turned into a Vega-Lite spec", chart.id)
    return None
