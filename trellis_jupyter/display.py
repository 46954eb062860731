"""The live display of one streaming answer in a cell's output.

A rich front end (Jupyter, VS Code, anything with a display publisher other than IPython's plain
one) gets one output, created with a display id and updated in place: the processing status while
waiting, then the text as it arrives, coalesced to one update per ``interval`` (the
``Trellis.coalesce_interval`` setting) however many deltas arrive, then the final text. Each table
(its first ``rows`` rows, the total row count and the SQL) and each chart (a Vega-Lite spec with a
static image) gets its own output below it as soon as it arrives. Every output carries the chat and
message ids in its metadata, under ``"trellis"``.

Plain IPython in a terminal gets text: status lines, the answer text written as it arrives, then
each table as text and a line per chart.

:func:`show_stream` drives a stream into a :class:`LiveAnswer`. Ctrl-C (a kernel interrupt) while
it runs closes the stream at once, shows the partial answer marked as interrupted, and raises
:class:`AnswerInterrupted`, a ``KeyboardInterrupt`` that renders as one sentence.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import TracebackType
from typing import Any, Protocol

from . import render
from .answer import Answer
from .errors import MalformedEventError, TrellisError
from .events import (
    Chart,
    Event,
    Message,
    Processing,
    Table,
    TextDelta,
    UnknownVisualization,
    Visualization,
    VisualizationPayload,
)
from .sanitize import markdown_to_html, markdown_to_plain
from .stream import answer_error

__all__ = [
    "AnswerInterrupted",
    "LiveAnswer",
    "chart_bundle",
    "is_rich",
    "show_stream",
    "status_label",
    "table_bundle",
    "table_text",
    "text_bundle",
]

# Seconds the end of an answer waits for its charts' bundles (a first SVG warms vl-convert up, which
# takes a second or more on a busy machine); after Ctrl-C only the charts already made are shown.
CHART_WAIT = 60.0
INTERRUPTED_CHART_WAIT = 0.0

_STATUS_LABELS = {
    "starting": "Starting",
    "thinking": "Thinking",
    "analyzing": "Analyzing",
    "processing": "Processing",
}


def status_label(status: str | None) -> str:
    """A processing status as shown to a person; unknown statuses are shown as they are."""
    if not status:
        return "Asking Trellis"
    return _STATUS_LABELS.get(status, status)


def is_rich(shell: Any) -> bool:
    """True when the shell's display publisher can show more than text (Jupyter, VS Code, tests).

    Terminal IPython uses the base ``DisplayPublisher``, which prints text/plain; updating a
    display there would print the whole answer again at every update.
    """
    from IPython.core.displaypub import DisplayPublisher

    publisher = getattr(shell, "display_pub", None)
    return publisher is not None and type(publisher) is not DisplayPublisher


class AnswerInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an answer: ``answer`` holds what arrived (``answer.interrupted`` is true)."""

    def __init__(self, answer: Answer | None, name: str = "_trellis", *, shown: bool = True) -> None:
        self.answer = answer
        self.shown = shown  # the output already ends with the "Stopped" line
        chat = f" (chat {answer.chat_id} continues)" if answer is not None and answer.chat_id else ""
        if answer is None:
            message = "Interrupted before the answer started; ask again when ready."
        else:
            message = f"Interrupted: the partial answer is kept in {name}{chat}."
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def _render_traceback_(self) -> list[str]:
        return [f"KeyboardInterrupt: {self.message}"]


def table_text(table: Table, rows: int) -> str:
    """A table as plain text: its first ``rows`` rows, the total row count and the SQL."""
    text = render.table_text(table, max_rows=rows)
    return f"{text}\nSQL: {table.sql}" if table.sql else text


def table_bundle(table: Table, rows: int) -> dict[str, Any]:
    """A table's display bundle: HTML (first ``rows`` rows, row count, SQL) and the same as text."""
    return {"text/plain": table_text(table, rows), "text/html": render.table_html(table, max_rows=rows)}


def chart_bundle(
    chart: Chart, format: Callable[[Any], Any], *, title: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A chart's display data and metadata.

    With ``Trellis.offline_charts`` on (the default) that is a Vega-Lite v5 spec built as plain
    data and a static SVG made offline (see :mod:`trellis_jupyter.charts`), with no Altair import;
    when the user made another Altair renderer active (or turned offline charts off), the shell
    shows the chart's Altair object as it shows any. ``title=False`` leaves the title out.
    """
    from . import charts

    if charts.use_offline_bundle():
        return charts.chart_mimebundle(chart, title=title), {}
    data, metadata = format(chart.to_altair())
    return dict(data), dict(metadata or {})


_EXECUTOR: list[ThreadPoolExecutor] = []


def _executor() -> ThreadPoolExecutor:
    # One worker for every chart of the kernel: its SVG (vl-convert) is made off the main thread,
    # so text keeps streaming, and Ctrl-C (delivered to the main thread) never lands in it.
    if not _EXECUTOR:
        _EXECUTOR.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="trellis-chart"))
    return _EXECUTOR[0]


def text_bundle(answer: Answer, *, partial_line: bool = True) -> dict[str, Any]:
    """The answer's text alone (plain, markdown, sanitized HTML), with a line when it is partial
    (``partial_line=False`` leaves it out: an error raised after it says so, once).

    Tables and charts have outputs of their own, so they are left out here.
    """
    view = Answer(answer.question)
    if answer.complete or answer.error is not None or not partial_line:
        # An error is shown once, by the magic raising it (one sentence), not here as well.
        view.feed(Message(answer.text, answer.message_id))
    else:
        view.feed(TextDelta(answer.text))
        view.mark_interrupted()  # stopped, or the stream ended without its final message
    return render.answer_mimebundle(view)


def _ids(answer: Answer) -> dict[str, Any]:
    ids: dict[str, Any] = {
        "chat_id": answer.chat_id,
        "user_message_id": answer.user_message_id,
        "message_id": answer.message_id,
    }
    if answer.interrupted:
        ids["interrupted"] = True
    return {"trellis": {k: v for k, v in ids.items() if v is not None}}


class _Publish(Protocol):
    def __call__(
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        *,
        transient: Any = None,
        update: bool = False,
    ) -> None: ...


class LiveAnswer:
    """Shows one answer while it streams; :meth:`feed` each event, then :meth:`finish`.

    ``updates`` counts the in-place updates made to the text output (tests and benchmarks read it).
    """

    def __init__(
        self,
        shell: Any,
        *,
        rows: int = 10,
        interval: float = 0.08,
        quiet: bool = False,
        rich: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rows = rows
        self.interval = interval
        self.quiet = quiet
        self.rich = is_rich(shell) if rich is None else rich
        self.updates = 0
        self._publish: _Publish = shell.display_pub.publish
        self._format: Callable[[Any], Any] = shell.display_formatter.format
        self._clock = clock
        self._display_id = f"trellis-{uuid.uuid4().hex}"
        self._started = False
        self._due = 0.0
        self._dirty = False
        # Text mode: how much of the text is on the terminal, the last status printed, and the
        # visualizations held back until the text is complete (they would interleave with it).
        self._written = ""
        self._last_status: str | None = None
        self._held: list[VisualizationPayload] = []
        # Rich mode: chart bundles being made in the worker, shown in order as they are ready;
        # the titles of tables shown (a chart under a table of the same title drops its own).
        # A chart drawn in the worker is published with the ids its answer had when the chart
        # arrived (as its table is): whether the final message came before the drawing was done
        # must not change the output, or a replayed notebook would differ from the live one.
        self._pending: list[tuple[Future[tuple[dict[str, Any], dict[str, Any]]], dict[str, Any]]] = []
        self._table_titles: set[str] = set()

    # -- the stream's events -------------------------------------------------------------------

    def start(self) -> None:
        """Show that a question was sent (before any event arrives)."""
        if self.quiet or self._started:
            return
        self._started = True
        if self.rich:
            self._publish(self._waiting_bundle(None), {}, transient={"display_id": self._display_id})
        else:
            self._print_status(None)

    def feed(self, event: Event, answer: Answer) -> None:
        """Show what ``event`` changed; ``answer`` has already taken it in."""
        if self.quiet:
            return
        self.start()
        if isinstance(event, TextDelta):
            self._dirty = True
            if self._clock() >= self._due:
                self.flush(answer)
        elif isinstance(event, Processing):
            # A status change is rare and is exactly what a person waits to see: show it at once.
            self._dirty = True
            self.flush(answer)
        elif isinstance(event, Visualization):
            self._visualization(event.payload, answer)
        elif isinstance(event, Message):
            self._dirty = True  # finish() shows the authoritative text
        if self._pending:
            self._show_ready_charts()

    def flush(self, answer: Answer) -> None:
        """Show the text received so far, if anything changed since the last update."""
        if self.quiet or not self._dirty:
            return
        self._dirty = False
        self._due = self._clock() + self.interval
        if self.rich:
            self._update(self._streaming_bundle(answer), answer)
        elif answer.text:
            self._write_text(answer.text)
        else:
            self._print_status(answer.status)

    def finish(self, answer: Answer, note: str | None = None) -> None:
        """Show the final form: the complete (or partial) text, then any held visualizations.

        ``note`` (e.g. "interrupted") is shown after a partial text.
        """
        if self.quiet:
            return
        self.start()
        if self.rich:
            # After an error the raised sentence says the answer ended early: said once.
            self._update(text_bundle(answer, partial_line=note in (None, "interrupted")), answer)
            try:
                self._show_ready_charts(wait=CHART_WAIT if note is None else INTERRUPTED_CHART_WAIT)
            finally:  # Ctrl-C while waiting for them leaves none queued either
                self._drop_unshown_charts()
            return
        text = answer.text
        if text.startswith(self._written):
            self._write_text(text, final=True)
        else:  # the authoritative message differs from the deltas: show it whole
            sys.stdout.write("\n" + markdown_to_plain(text))
        sys.stdout.write("\n")
        if note == "interrupted":
            sys.stdout.write(f"{render.STOPPED}\n")
        # An error is not noted here: the magic raises it, and IPython shows its sentence once.
        for payload in self._held:
            sys.stdout.write("\n" + self._payload_text(payload) + "\n")
        self._held.clear()
        sys.stdout.flush()

    # -- rich output ---------------------------------------------------------------------------

    def _update(self, bundle: dict[str, Any], answer: Answer) -> None:
        self.updates += 1
        self._publish(bundle, _ids(answer), transient={"display_id": self._display_id}, update=True)

    @staticmethod
    def _waiting_bundle(status: str | None) -> dict[str, Any]:
        label = status_label(status) + "…"
        return {"text/plain": label, "text/html": render.status_html(label)}

    def _streaming_bundle(self, answer: Answer) -> dict[str, Any]:
        text = answer.text
        if not text:
            return self._waiting_bundle(answer.status)
        # A block cursor says "more is coming" without a second output.
        return {"text/plain": markdown_to_plain(text) + " ▌", "text/html": markdown_to_html(text + " ▌")}

    def _visualization(self, payload: VisualizationPayload, answer: Answer) -> None:
        if not self.rich:
            self._held.append(payload)
            return
        if isinstance(payload, Table):
            self._publish(table_bundle(payload, self.rows), _ids(answer))
            if payload.title:
                self._table_titles.add(payload.title.strip())
        elif isinstance(payload, Chart):
            from . import charts

            # The table right above already says it: a chart of the same title does not repeat it.
            title = not (payload.title and payload.title.strip() in self._table_titles)
            if charts.use_offline_bundle():
                future = _executor().submit(chart_bundle, payload, self._format, title=title)
                self._pending.append((future, _ids(answer)))
                self._show_ready_charts()
            else:  # the user's Altair renderer: shown as Altair shows it, on this thread
                data, metadata = chart_bundle(payload, self._format, title=title)
                self._publish(data, {**metadata, **_ids(answer)})
        # An unreadable payload shows nothing here; it is still kept on the Answer.

    def _show_ready_charts(self, wait: float = 0.0) -> None:
        """Publish the charts whose bundles are ready, in order; wait up to ``wait`` seconds for
        the rest (a chart not ready by then is shown as a line of text)."""
        deadline = self._clock() + wait
        while self._pending:
            future, ids = self._pending[0]
            if not future.done():
                remaining = deadline - self._clock()
                if remaining <= 0:
                    if wait:  # the end of the answer: say so rather than wait forever
                        self._pending.pop(0)
                        self._publish({"text/plain": "(the chart could not be drawn in time)"}, ids)
                        continue
                    return
                try:
                    future.result(timeout=remaining)
                except FutureTimeout:
                    continue
                except Exception:
                    pass
            self._pending.pop(0)
            try:
                data, metadata = future.result()
            except Exception as error:  # one chart that cannot be drawn costs a line, not the answer
                self._publish({"text/plain": f"(this chart could not be drawn: {error})"}, ids)
                continue
            self._publish(data, {**metadata, **ids})

    def _drop_unshown_charts(self) -> None:
        """Cancel the charts an interrupted or failed answer will never show: the kernel has one
        chart worker, and the next answer's charts must not wait behind drawings nobody sees."""
        for future, _ in self._pending:
            future.cancel()  # one already being drawn finishes; its result is dropped
        self._pending.clear()

    # -- text output ---------------------------------------------------------------------------

    def _print_status(self, status: str | None) -> None:
        label = status_label(status)
        if label != self._last_status:
            self._last_status = label
            sys.stdout.write(f"{label}…\n")
            sys.stdout.flush()

    def _write_text(self, text: str, final: bool = False) -> None:
        """Write what is new in ``text`` as plain text (no markdown markers). While streaming, only
        whole lines: a marker cut in half (``**Ea``) cannot be read yet."""
        if not final:
            text = text[: text.rfind("\n") + 1]
        if text.startswith(self._written) and text != self._written:
            done, plain = markdown_to_plain(self._written), markdown_to_plain(text)
            sys.stdout.write(plain[len(done) :] if plain.startswith(done) else "\n" + plain)
            self._written = text
            sys.stdout.flush()

    def _payload_text(self, payload: VisualizationPayload) -> str:
        if isinstance(payload, Table):
            return table_text(payload, self.rows)
        if isinstance(payload, Chart):
            return f"{render.chart_text(payload)} (bind it with --chart NAME)"
        assert isinstance(payload, UnknownVisualization)
        return "[a visualization this version cannot show]"


class _Stream(Protocol):
    """What :func:`show_stream` needs of an ``AnswerStream`` (sync, SSE or WebSocket)."""

    @property
    def answer(self) -> Answer: ...

    def __enter__(self) -> Iterable[Event]: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None, /
    ) -> Any: ...

    def close(self) -> None: ...


def show_stream(stream: _Stream, live: LiveAnswer, *, name: str = "_trellis") -> Answer:
    """Drive ``stream`` to its end, showing each event in ``live``; return the complete answer.

    A server ``error`` event raises :class:`~trellis_jupyter.errors.AnswerError`, a dropped
    connection :class:`~trellis_jupyter.errors.ConnectionLostError`; either carries the partial
    answer, already shown. A malformed event is reported on stderr and skipped. Ctrl-C closes the
    stream at once and raises :class:`AnswerInterrupted` after showing the partial answer.
    """
    live.start()
    try:
        with stream as events:
            iterator = iter(events)
            while True:
                try:
                    event = next(iterator)
                except StopIteration:
                    break
                except MalformedEventError as error:
                    print(error, file=sys.stderr)  # one bad event must not cost the rest
                    continue
                live.feed(event, stream.answer)
    except KeyboardInterrupt:
        answer = _close_interrupted(stream)
        live.finish(answer, note="interrupted")
        raise AnswerInterrupted(answer, name) from None
    except TrellisError as error:
        if error.answer is None:
            error.answer = stream.answer
        live.finish(error.answer, note=_error_note(error))
        raise
    answer = stream.answer
    if answer.error is not None and not answer.complete:
        failure = answer_error(answer)
        live.finish(answer, note=_error_note(failure))
        raise failure
    try:
        live.finish(answer)
    except KeyboardInterrupt:  # while its charts were being drawn: the text is complete
        raise AnswerInterrupted(answer, name, shown=False) from None
    return answer


def _close_interrupted(stream: _Stream) -> Answer:
    # A second Ctrl-C while closing must not lose the answer: close() is quick, retry once.
    for _ in range(2):
        try:
            stream.close()
            break
        except KeyboardInterrupt:
            continue
        except Exception:
            break
    answer = stream.answer
    answer.mark_interrupted()
    return answer


def _error_note(error: TrellisError) -> str:
    code = f" {error.code}" if error.code else ""
    return f"stopped by an error{code}"
