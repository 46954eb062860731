"""The answer to one question, accumulated from its events with no I/O.

Both transports (SSE and WebSocket) and both surfaces (magic and widget) feed the same
:class:`Answer`: text deltas are appended and then replaced by the authoritative ``message``;
tables and charts are kept in arrival order; ids, status, error and interruption are recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .events import (
    Chart,
    ChatMetadata,
    ErrorEvent,
    Event,
    Interrupted,
    Message,
    Processing,
    Table,
    TextDelta,
    UnknownEvent,
    Visualization,
    VisualizationPayload,
    parse_visualization,
)
from .render import answer_mimebundle

if TYPE_CHECKING:
    import altair
    import pandas

    from .types import Upload

__all__ = ["Answer"]


class Answer:
    """One assistant answer: what users hold, and the accumulator the transports feed.

    ``text`` is the text so far (the final ``message`` once it arrives), ``tables`` and ``charts``
    the visualizations in arrival order, ``df`` the first table as a pandas DataFrame and ``chart``
    the first chart as an Altair chart. ``done`` is true once the turn ended, by a ``message``, an
    ``error`` or an interruption; ``complete`` only when the final message arrived.
    """

    def __init__(self, question: str | None = None) -> None:
        self.question = question
        self.chat_id: str | None = None
        self.user_message_id: str | None = None
        # The files its question was sent with (``upload_ids``; an edit keeps the replaced one's).
        self.uploads: list[Upload] = []
        self.message_id: str | None = None
        self.status: str | None = None
        self.visualizations: list[VisualizationPayload] = []
        self.error: ErrorEvent | None = None
        self.interrupted = False
        self.complete = False
        self.unknown_events: list[UnknownEvent] = []
        self._parts: list[str] = []
        self._text: str | None = ""
        self._final = False
        self._viz_ids: set[str] = set()
        self._df: pandas.DataFrame | None = None

    # -- accumulating ----------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """Take one event of this answer's turn into account."""
        if isinstance(event, TextDelta):
            if not self._final:
                self._parts.append(event.content)
                self._text = None
        elif isinstance(event, Processing):
            self.status = event.status
        elif isinstance(event, Visualization):
            self._add_visualization(event.payload)
        elif isinstance(event, ChatMetadata):
            self.chat_id = event.chat_id
            if event.user_message_id is not None:
                self.user_message_id = event.user_message_id
        elif isinstance(event, Message):
            self._parts = [event.content]
            self._text = event.content
            self._final = True
            self.message_id = event.message_id
            self.complete = True
            self.status = "done"
        elif isinstance(event, ErrorEvent):
            self.error = event
            self.status = "error"
        elif isinstance(event, Interrupted):
            self.mark_interrupted()
            if event.chat_id is not None and self.chat_id is None:
                self.chat_id = event.chat_id
        elif isinstance(event, UnknownEvent):
            self.unknown_events.append(event)
        # heartbeat, pong, authenticated and deleted carry nothing for the answer.

    def mark_interrupted(self) -> None:
        """Record that the turn was stopped (Stop button, Ctrl-C, ``interrupt``) before its end."""
        if not self.complete:
            self.interrupted = True
            self.status = "interrupted"

    def _add_visualization(self, payload: VisualizationPayload) -> None:
        # Ids de-duplicate a visualization sent twice (documented use of the id).
        if payload.id:
            if payload.id in self._viz_ids:
                return
            self._viz_ids.add(payload.id)
        self.visualizations.append(payload)

    @property
    def done(self) -> bool:
        """True once the turn ended: final message, error or interruption."""
        return self.complete or self.error is not None or self.interrupted

    # -- reading ---------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self._parts)
            self._parts = [self._text]
        return self._text

    @property
    def tables(self) -> list[Table]:
        return [v for v in self.visualizations if isinstance(v, Table)]

    @property
    def charts(self) -> list[Chart]:
        return [v for v in self.visualizations if isinstance(v, Chart)]

    @property
    def df(self) -> pandas.DataFrame | None:
        """The first table as a DataFrame (``None`` when the answer has no table)."""
        if self._df is None:
            tables = self.tables
            if not tables:
                return None
            self._df = tables[0].df
        return self._df

    @property
    def chart(self) -> altair.TopLevelMixin | None:
        """The first chart as an Altair chart (``None`` when the answer has no chart)."""
        charts = self.charts
        return charts[0].to_altair() if charts else None

    @property
    def dfs(self) -> list[pandas.DataFrame]:
        """Every table as a DataFrame, in order."""
        return [t.df for t in self.tables]

    # -- history ---------------------------------------------------------------------------------

    @classmethod
    def from_message(cls, message: Mapping[str, Any], question: str | None = None) -> Answer:
        """Rebuild an answer from an assistant message of ``GET /v1/chats/{id}``.

        Tables and charts come back from ``metadata.visualizations`` when the server keeps them.
        """
        answer = cls(question)
        metadata = message.get("metadata") or {}
        for raw in metadata.get("visualizations") or []:
            if isinstance(raw, Mapping):
                try:
                    answer._add_visualization(parse_visualization(raw))
                except ValueError:
                    continue  # one unreadable payload must not hide the rest of the history
        content = message.get("content")
        answer.feed(Message(content=str(content or ""), message_id=message.get("id")))
        return answer

    # -- display ---------------------------------------------------------------------------------

    def __repr__(self) -> str:
        if self.interrupted:
            state = "interrupted"
        elif self.error is not None:
            state = "error"
        else:
            state = "complete" if self.complete else "streaming"
        text = self.text
        preview = text if len(text) <= 60 else text[:57] + "..."
        return (
            f"<Answer {state} chat_id={self.chat_id!r} text={preview!r} "
            f"tables={len(self.tables)} charts={len(self.charts)}>"
        )

    def __str__(self) -> str:
        """The answer as plain text (``print(answer)``): its text without markdown markers, each
        table's first rows, a line per chart, and a line if it is partial."""
        return str(answer_mimebundle(self)["text/plain"])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return answer_mimebundle(self)
