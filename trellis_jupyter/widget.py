"""The chat widget: an anywidget for an exploratory back-and-forth with Trellis in a notebook.

::

    from trellis_jupyter import ChatWidget
    w = ChatWidget()                 # the kernel's current chat, shared with %%trellis
    w                                # type questions in it, or from Python:
    answer = await w.ask("How many orders by region?")
    w.answers[-1].df, w.answers[-1].chart

How it works (the front end is ``js/``, bundled into ``static/``):

- Synced traits are the source of truth: ``transcript`` (entries with role, text, ids, status,
  visualizations and, for charts, the Vega-Lite spec), ``busy``, ``status``, ``error``, ``chat_id``.
  They survive a page reload. Credentials never enter them: the widget holds a conversation, and the
  conversation's client holds the token.
- Each question runs as an asyncio task on the kernel's event loop, so the kernel stays free while
  an answer streams: other cells run, and Stop is clickable. Questions asked while one streams wait
  in a queue (shown as "queued").
- Text deltas reach the browser as custom messages ``{"type": "delta", "id", "index", "start",
  "text"}``, coalesced: the first delta of a batch waits :attr:`ChatWidget.delta_interval` seconds
  (50 ms) for more, so at most about 20 messages a second, each with only the new text. The final
  text is written into ``transcript``.
- The browser sends commands: ``send``, ``stop``, ``new_chat``, ``feedback``, ``edit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import anywidget
import traitlets

from .answer import Answer
from .errors import MalformedEventError, TrellisError
from .events import ChatMetadata, Processing, Table, TextDelta, Visualization, VisualizationPayload
from .types import chat_title
from .widget_wire import (
    COMMANDS,
    Attachment,
    DeltaBatcher,
    EditCommand,
    FeedbackCommand,
    IntroCommand,
    ListChatsCommand,
    NewChatCommand,
    RenameCommand,
    SaveQueryCommand,
    SendCommand,
    StopCommand,
    TableRowsCommand,
    UseChatCommand,
    browser_payload,
)

if TYPE_CHECKING:
    from .client import AsyncTrellis, Trellis
    from .conversation import AsyncConversation, ChatState
    from .session import Session
    from .stream import AsyncAnswerStream
    from .types import Upload

__all__ = ["ChatWidget"]

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"
_MISSING_BUNDLE = """
export default { render({ el }) {
  el.textContent = "The Trellis chat widget's front end is not built: run scripts/build-js.sh "
    + "in a source checkout, or reinstall trellis-jupyter.";
} };
"""

AnswerCallback = Callable[[Answer], Any]

# The empty chat's suggestions when the server gives none of its own.
GENERAL_EXAMPLES = [
    "What tables are in this database?",
    "How many rows does each table have?",
    "Show the monthly totals for the last year as a line chart",
]


@dataclass(frozen=True)
class _Edit:
    """What an edit replaces: the user message ``message_id``, or (None) the server's last question,
    for a question whose id never reached the widget."""

    message_id: str | None


@dataclass
class _Turn:
    """A question waiting for (or getting) its answer."""

    text: str
    user_id: str
    future: asyncio.Future[Answer]
    edit: _Edit | None = None  # None: a new question
    options: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # uploaded, then attached


# Words people pass to reach another server; traitlets would only warn (unseen in a notebook) and
# the widget would ask the kernel's connection instead.
_CONNECTION_WORDS = frozenset({"base_url", "api_key", "email", "token", "integration_id", "local"})


def _refuse_unknown_options(cls: type[traitlets.HasTraits], options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - set(cls.class_trait_names()))
    if not unknown:
        return
    names = ", ".join(unknown)
    if _CONNECTION_WORDS.intersection(unknown):
        arguments = ", ".join(f"{name}=..." for name in unknown)
        raise TypeError(
            f"ChatWidget() has no {names} option: to use another server, pass "
            f"client=Trellis({arguments}), or run %trellis connect first."
        )
    raise TypeError(f"ChatWidget() got unexpected keyword arguments: {names}")


class ChatWidget(anywidget.AnyWidget):
    """A chat with Trellis in a notebook, on the same conversation as ``%%trellis``.

    ``ChatWidget()`` uses the kernel's session (what ``%trellis connect`` set up, else the
    environment). ``conversation=`` gives an :class:`~trellis_jupyter.AsyncConversation` to use
    instead (it may share its ``ChatState`` with a sync conversation), ``client=`` a client to
    start a new conversation on: an :class:`~trellis_jupyter.AsyncTrellis`, or a
    :class:`~trellis_jupyter.Trellis`, whose settings (server, credentials, integration, model,
    timeout, retries) make the async twin the widget needs (a custom ``http_client`` is not
    carried over). ``on_answer`` is called
    with each finished :class:`~trellis_jupyter.Answer` (complete, stopped or failed).
    """

    _esm = _STATIC / "widget.js" if (_STATIC / "widget.js").is_file() else _MISSING_BUNDLE
    _css = _STATIC / "widget.css" if (_STATIC / "widget.css").is_file() else ""

    transcript = traitlets.List(traitlets.Dict()).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    chat_id = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    chat_title = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    chats = traitlets.List(traitlets.Dict()).tag(sync=True)  # the picker: [{id, title, timestamp}]
    chats_more = traitlets.Bool(False).tag(sync=True)  # the server has older chats than those listed
    intro = traitlets.Dict().tag(sync=True)  # the empty state: {"name": integration, "examples": [...]}
    page_size = traitlets.Int(10).tag(sync=True)

    delta_interval = 0.05  # seconds a batch of text deltas waits before it is sent

    def __init__(
        self,
        conversation: AsyncConversation | None = None,
        *,
        client: AsyncTrellis | Trellis | None = None,
        session: Session | None = None,
        on_answer: AnswerCallback | None = None,
        page_size: int = 10,
        **kwargs: Any,
    ) -> None:
        _refuse_unknown_options(type(self), kwargs)
        owned: AsyncTrellis | None = None
        if conversation is None and client is not None:
            # A sync client gets its async twin now: a wrong client fails here, not at the first question.
            async_client = client if _is_async_client(client) else _async_twin(client)
            owned = None if async_client is client else async_client
            conversation = async_client.conversation()
        super().__init__(page_size=page_size, **kwargs)
        self._owned_client = owned
        if conversation is None and session is None:
            from .session import get_session

            session = get_session()
        self._session = session
        self._conversation = conversation
        self._conversation_client: object = None
        self.on_answer = on_answer
        self._ids = itertools.count(1)
        self._entries: list[dict[str, Any]] = []
        self._answers: dict[str, Answer] = {}  # assistant entry id -> its Answer
        self._payloads: dict[int, tuple[VisualizationPayload, dict[str, Any]]] = {}
        self._queue: deque[_Turn] = deque()
        self._runner: asyncio.Task[None] | None = None
        self._current: asyncio.Task[Answer] | None = None
        self._stopping = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self._feedback_sent: dict[str, int] = {}  # entry id -> feedback requests made
        # The loop the chat's tasks and client live on: the kernel's main loop when the widget is
        # made in a cell, else the one of the first question.
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._load_state()
        self.on_msg(self._on_command)
        _warm_up()

    # -- the conversation -----------------------------------------------------------------------

    @property
    def conversation(self) -> AsyncConversation:
        """The :class:`~trellis_jupyter.AsyncConversation` this widget talks to."""
        session = self._session
        if session is None:
            assert self._conversation is not None
            return self._conversation
        client = session.async_client()
        if self._conversation is None or self._conversation_client is not client:
            from .conversation import AsyncConversation

            self._conversation = AsyncConversation(client, state=session.state)
            self._conversation_client = client
        return self._conversation

    @property
    def answers(self) -> list[Answer]:
        """The answers shown, in order (``.text``, ``.df``, ``.tables``, ``.chart``, ...)."""
        return [self._answers[e["id"]] for e in self._entries if e["id"] in self._answers]

    def _options(self) -> dict[str, Any]:
        session = self._session
        if session is None:
            return {}
        return {"integration_id": session.integration_id(), "model": session.settings.model}

    def _load_state(self) -> None:
        """Show the answers the shared chat already has (asked with %%trellis, or a resumed chat)."""
        state = self._state()
        known = {id(a) for a in self._answers.values()}
        if state is None:
            return
        if self.chat_id is not None and state.chat_id != self.chat_id:
            self._entries, self._answers, known = [], {}, set()  # the chat changed under us
        for answer in state.answers:
            if id(answer) in known:
                continue
            user = self._user_entry(answer.question or "", "sent", answer.user_message_id)
            if answer.uploads:  # the same chips as when it was asked live
                user["attachments"] = _attachments(answer.uploads)
            self._entries.append(user)
            entry: dict[str, Any] = {"id": self._new_id(), "role": "assistant", "text": ""}
            self._entries.append(entry)
            self._answers[entry["id"]] = answer
            self._entries[-1] = self._answer_entry(entry, answer)
        self.chat_id = state.chat_id
        self._sync()

    def _state(self) -> ChatState | None:
        if self._session is not None:
            return self._session.state
        return self._conversation.state if self._conversation is not None else None

    def refresh(self) -> None:
        """Pick up answers added to the shared chat elsewhere (``%%trellis``) since the last turn."""
        if not self.busy:
            self._load_state()

    # -- transcript -----------------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"e{next(self._ids)}"

    def _index_of(self, entry_id: str) -> int:
        for index, entry in enumerate(self._entries):
            if entry["id"] == entry_id:
                return index
        return -1

    def _sync(self) -> None:
        # A new list of (new) dicts: traitlets compares old and new values to decide to send.
        self.transcript = list(self._entries)

    def _update(self, entry_id: str, **changes: Any) -> None:
        index = self._index_of(entry_id)
        if index >= 0:
            self._entries[index] = {**self._entries[index], **changes}
            self._sync()

    def _user_entry(self, text: str, status: str, message_id: str | None = None) -> dict[str, Any]:
        return {
            "id": self._new_id(),
            "role": "user",
            "text": text,
            "status": status,
            "message_id": message_id,
        }

    def _answer_entry(
        self, entry: dict[str, Any], answer: Answer, error: str | None = None
    ) -> dict[str, Any]:
        """The final state of an assistant entry, from its answer."""
        if answer.complete and error is None:
            status = "done"
        elif answer.error is not None or error is not None:
            status = "error"
        else:
            status = "interrupted"
        if error is None and answer.error is not None:
            from .stream import answer_error

            error = str(answer_error(answer))
        return {
            **entry,
            "text": answer.text,
            "status": status,
            "processing": None,
            "message_id": answer.message_id,
            "error": error,
            "visualizations": [self._payload(v) for v in answer.visualizations],
        }

    # -- asking ---------------------------------------------------------------------------------

    def ask(self, question: str, *, files: Any = None, **options: Any) -> asyncio.Future[Answer]:
        """Ask in this chat; returns at once. ``await w.ask(q)`` gives the :class:`Answer`.

        The answer streams into the widget; a question asked while another streams waits its turn.
        ``files`` (paths, ``(name, bytes, mime_type)`` tuples or DataFrames) are uploaded to the
        chat and attached to the question. Options (``integration_id``, ``model``) go to the
        conversation's ``stream()``.
        """
        question = question.strip()
        if not question:
            raise ValueError("Nothing to ask: give the question's text.")
        parts: list[tuple[str, bytes, str]] = []
        if files is not None:
            from .uploads import upload_parts

            parts = upload_parts(files)  # checked now: a bad file never queues a question
        if not self.busy:
            self._load_state()  # answers asked elsewhere (%%trellis) since come first
        return self._enqueue(question, None, options, parts)

    def edit(self, question: str, **options: Any) -> asyncio.Future[Answer]:
        """Replace the last question with ``question`` and answer it again (later answers drop)."""
        question = question.strip()
        if not question:
            raise ValueError("Nothing to ask: give the question's new text.")
        if self.busy:
            raise RuntimeError("An answer is streaming: stop it or wait for it before editing.")
        self._load_state()
        users = [e for e in self._entries if e["role"] == "user"]
        if not users:
            raise RuntimeError("Nothing to edit yet: ask a question first.")
        index = self._index_of(users[-1]["id"])
        old = self._entries[index]
        for gone in self._entries[index + 1 :]:
            self._answers.pop(gone["id"], None)
        del self._entries[index:]
        # The edited question keeps its files (the server sends it with them), so its chips too.
        kept = old.get("attachments")
        return self._enqueue(question, _Edit(old.get("message_id") or None), options, attachments=kept)

    def _enqueue(
        self,
        text: str,
        edit: _Edit | None,
        options: dict[str, Any],
        files: list[tuple[str, bytes, str]] | None = None,
        *,
        attachments: list[Attachment] | None = None,
    ) -> asyncio.Future[Answer]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "ChatWidget.ask needs a running event loop (a Jupyter kernel has one); "
                "in a script, use `await conversation.ask(...)` instead."
            ) from None
        if self._loop is None or self._loop.is_closed():
            self._loop = loop
        user = self._user_entry(text, "queued")
        if attachments:
            user["attachments"] = attachments
        if files:
            user["attachments"] = [
                {"filename": name, "mime_type": mime, "file_size": len(data)} for name, data, mime in files
            ]
        self._entries.append(user)
        turn = _Turn(text, user["id"], loop.create_future(), edit, options, list(files or []))
        self._queue.append(turn)
        self.busy = True
        self._sync()
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run_queue())
        return turn.future

    async def _run_queue(self) -> None:
        try:
            while self._queue:
                turn = self._queue.popleft()
                self._stopping = False
                self._current = asyncio.ensure_future(self._run_turn(turn))
                await asyncio.wait({self._current})  # a cancelled turn must not end the queue
                task, self._current = self._current, None
                if task.cancelled():
                    turn.future.cancel()
                elif task.exception() is not None:
                    turn.future.set_exception(task.exception())  # type: ignore[arg-type]
                elif not turn.future.done():
                    turn.future.set_result(task.result())
        finally:
            self.busy = bool(self._queue)
            self.status = ""
            listed = any(c["id"] == self.chat_id for c in self.chats)
            if self.chat_id is not None and not self.busy and (self.chat_title is None or not listed):
                self._spawn(self.list_chats(1))  # a new chat: its title, and its place in the picker

    async def _run_turn(self, turn: _Turn) -> Answer:
        conversation = self.conversation
        options = {**self._options(), **turn.options}
        uploaded: list[Upload] = []
        if turn.files:
            try:
                uploaded = await conversation.upload(turn.files, title=chat_title(turn.text))
            except TrellisError as exc:
                self._update(turn.user_id, status="sent")
                self.error = str(exc)
                raise
            options["upload_ids"] = [*(options.get("upload_ids") or []), *(u.id for u in uploaded)]
            self._update(turn.user_id, attachments=_attachments(uploaded))
        if turn.edit is not None:
            stream = conversation.stream_edit(turn.text, turn.edit.message_id, **options)
        else:
            stream = conversation.stream(turn.text, **options)
            stream.answer.uploads = uploaded  # another widget on this chat shows them too
        entry: dict[str, Any] = {
            "id": self._new_id(),
            "role": "assistant",
            "text": "",
            "status": "streaming",
            "processing": "starting",
            "message_id": None,
            "error": None,
            "visualizations": [],
        }
        # Right after its question: questions queued meanwhile come after the answer.
        self._entries.insert(self._index_of(turn.user_id) + 1, entry)
        self._answers[entry["id"]] = stream.answer
        self._update(turn.user_id, status="sent")
        self.status = "starting"
        entry_id = entry["id"]
        deltas = DeltaBatcher(self.send, entry_id, lambda: self._index_of(entry_id), self.delta_interval)
        error: str | None = None
        preparing: set[asyncio.Future[None]] = set()
        try:
            async with stream:
                while True:
                    try:
                        event = await stream.__anext__()
                    except StopAsyncIteration:
                        break
                    except MalformedEventError as exc:
                        # One unreadable event must not cost the rest of the answer: the stream
                        # stays usable, so say so and read on (as the magic does).
                        log.warning("%s", exc)
                        self.error = (
                            f"An event from the server could not be read and was skipped ({exc.event})."
                        )
                        continue
                    if isinstance(event, Visualization):
                        # Built in a thread while the text keeps streaming; shown when ready.
                        preparing.add(
                            asyncio.ensure_future(self._show(event.payload, entry_id, deltas, stream))
                        )
                    self._on_event(event, turn, entry_id, deltas)
            if preparing:
                await asyncio.wait(preparing)
        except asyncio.CancelledError:
            stream.answer.mark_interrupted()
            if not self._stopping:
                raise  # not our Stop button: let the cancellation through, after the finally
            uncancel = getattr(asyncio.current_task(), "uncancel", None)
            if uncancel is not None:
                uncancel()
        except TrellisError as exc:
            error = str(exc)
        finally:
            for task in preparing:
                task.cancel()
            deltas.close()
            index = self._index_of(entry["id"])
            if index >= 0:  # gone after New chat
                self._update(entry["id"], **self._answer_entry(self._entries[index], stream.answer, error))
                if stream.answer.chat_id is not None:
                    self.chat_id = stream.answer.chat_id
        self._answered(stream.answer)
        return stream.answer

    def _on_event(self, event: Any, turn: _Turn, entry_id: str, deltas: DeltaBatcher) -> None:
        if isinstance(event, TextDelta):
            if not deltas.started:
                self.status = "streaming"
            deltas.add(event.content)
        elif isinstance(event, Processing):
            self.status = event.status
        elif isinstance(event, ChatMetadata):
            self.chat_id = event.chat_id
            self._update(turn.user_id, message_id=event.user_message_id)

    async def _show(
        self, viz: VisualizationPayload, entry_id: str, deltas: DeltaBatcher, stream: AsyncAnswerStream
    ) -> None:
        """Build a visualization's browser payload in a thread (a chart's spec needs Altair, whose
        first import alone can take seconds; the kernel's loop must stay free), then show it."""
        if id(viz) not in self._payloads:
            data = await asyncio.to_thread(browser_payload, viz)
            self._payloads[id(viz)] = (viz, data)
        if self._index_of(entry_id) < 0:
            return
        deltas.flush()  # the state write below must not run ahead of the text sent
        ready = [self._payloads[id(v)][1] for v in stream.answer.visualizations if id(v) in self._payloads]
        self._update(entry_id, text=deltas.sent, visualizations=ready)

    def _payload(self, viz: VisualizationPayload) -> dict[str, Any]:
        cached = self._payloads.get(id(viz))
        if cached is None or cached[0] is not viz:
            cached = (viz, browser_payload(viz))
            self._payloads[id(viz)] = cached
        return cached[1]

    def _answered(self, answer: Answer) -> None:
        if self.on_answer is None:
            return
        try:
            self.on_answer(answer)
        except Exception as exc:  # a user's callback must not break the widget
            log.exception("ChatWidget on_answer callback failed")
            self.error = f"The on_answer callback failed: {exc}"

    def stop(self) -> None:
        """Stop the answer that is streaming; its partial text is kept (queued questions still run)."""
        if self._current is not None and not self._current.done():
            self._stopping = True
            self._current.cancel()

    def new_chat(self) -> None:
        """Start a new chat: the transcript clears, and the next question opens a chat (shared)."""
        for turn in self._queue:
            turn.future.cancel()
        self._queue.clear()
        current = self._current
        self.stop()
        self._entries, self._answers = [], {}
        self.chat_id = None
        self.chat_title = None
        self.error = ""
        self._sync()
        if current is None or current.done():
            self.conversation.new()
        else:
            # The stopped stream settles the chat id into the shared state as it closes: reset after.
            self._spawn(self._reset_after(current))

    async def _reset_after(self, task: asyncio.Future[Any]) -> None:
        await asyncio.wait({task})
        if not self._entries:
            self.conversation.new()

    # -- browser commands -----------------------------------------------------------------------

    def _on_command(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if buffers:
            content = {**content, "_buffers": [bytes(b) for b in buffers]}
        home = self._loop
        if home is not None and not home.is_closed():
            try:
                here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                here = None
            if here is not home:
                # JupyterLab 4.4+ may deliver widget messages on a kernel subshell, a thread with
                # its own event loop; the chat's client and tasks belong to the kernel's main loop.
                home.call_soon_threadsafe(self._command, content)
                return
        self._command(content)

    def _command(self, content: dict[str, Any]) -> None:
        handler = _HANDLERS.get(str(content.get("type")))
        if handler is None:
            return  # a newer front end's command: nothing to do here
        try:
            self.error = ""
            handler(self, content)
        except (ValueError, RuntimeError, TrellisError) as exc:
            self.error = str(exc)

    # One handler per command of widget_wire.COMMANDS; each reads its TypedDict defensively (the
    # browser is not trusted to send well-formed commands).

    def _on_send(self, c: SendCommand) -> None:
        self.ask(str(c.get("text") or ""), files=_picked_files(dict(c)) or None)

    def _on_stop(self, _c: StopCommand) -> None:
        self.stop()

    def _on_new_chat(self, _c: NewChatCommand) -> None:
        self.new_chat()

    def _on_edit(self, c: EditCommand) -> None:
        self.edit(str(c.get("text") or ""))

    def _on_feedback(self, c: FeedbackCommand) -> None:
        note = c.get("note")
        self._spawn(self.feedback(str(c.get("id")), str(c.get("value")), str(note) if note else None))

    def _on_save_query(self, c: SaveQueryCommand) -> None:
        self._spawn(self.save_query(str(c.get("id")), str(c.get("title") or "")))

    def _on_table_rows(self, c: TableRowsCommand) -> None:
        self._send_rows(str(c.get("entry")), c.get("index"), c.get("request"))

    def _on_list_chats(self, c: ListChatsCommand) -> None:
        page = c.get("page")
        self._spawn(self.list_chats(page if isinstance(page, int) and page > 0 else 1))

    def _on_intro(self, _c: IntroCommand) -> None:
        self._spawn(self.load_intro())

    def _on_use_chat(self, c: UseChatCommand) -> None:
        self._spawn(self.use_chat(str(c.get("chat_id") or "")))

    def _on_rename(self, c: RenameCommand) -> None:
        self._spawn(self.rename(str(c.get("title") or "")))

    def _send_rows(self, entry_id: str, index: Any, request: Any) -> None:
        """Every row of one table of an answer (Download CSV of a table cut for the browser)."""
        answer = self._answers.get(entry_id)
        rows = None
        if answer is not None and isinstance(index, int) and 0 <= index < len(answer.visualizations):
            viz = answer.visualizations[index]
            if isinstance(viz, Table):
                rows = viz.rows
        self.send({"type": "table_rows", "request": request, "rows": rows})

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- chats: the picker, switching, renaming ---------------------------------------------------

    async def list_chats(self, page: int = 1) -> None:
        """Fill the picker with the server's recent chats (``page`` 1 replaces, later pages append)."""
        try:
            body = await self.conversation.client.chats.list(page)
        except Exception as exc:  # a background refresh: the client may even be closed by now
            # Quietly: the picker stays as it is; asking a question says what is wrong, if anything.
            log.debug("Listing chats failed: %s", exc)
            return
        found = [
            {
                "id": str(c["id"]),
                "title": str(c.get("title") or "Untitled chat"),
                "timestamp": c.get("timestamp"),
            }
            for c in body["chats"]
            if isinstance(c, dict) and c.get("id")
        ]
        known = {c["id"] for c in found}
        kept = [c for c in self.chats if c["id"] not in known] if page > 1 else []
        self.chats = (kept + found) if page > 1 else found
        self.chats_more = bool(body["has_more"])
        current = next((c for c in found if c["id"] == self.chat_id), None)
        if current is not None and self.chat_title is None:
            self.chat_title = current["title"]

    async def load_intro(self) -> None:
        """What the empty chat shows: the integration's name and a few example questions (the
        server's when it lists them, as the local server does from the schema; general ones else)."""
        try:
            items = await self.conversation.client.integrations()
            wanted = self._options().get("integration_id") or self.conversation.state.integration_id
        except Exception as exc:  # a background call: asking a question says what is wrong
            log.debug("Listing integrations failed: %s", exc)
            items, wanted = [], None
        item = next((i for i in items if i.get("id") == wanted), items[0] if items else {})
        examples = [str(q) for q in item.get("example_questions") or [] if isinstance(q, str) and q.strip()]
        self.intro = {
            "name": str(item.get("display_name") or ""),
            "examples": examples[:4] or GENERAL_EXAMPLES,
        }

    async def use_chat(self, chat_id: str) -> None:
        """Continue ``chat_id``: its history is shown (tables and charts rebuilt where the server kept
        them) and the next question goes to it; ``%%trellis`` follows, as the chat is shared."""
        if not chat_id:
            self.error = "Choose a chat to continue."
            return
        if self.busy:
            self.error = "An answer is streaming: stop it or wait for it before switching chats."
            return
        from .conversation import _pairs

        try:
            chat = await self.conversation.client.chats.get(chat_id)
        except TrellisError as exc:
            self.error = str(exc)
            return
        answers = [answer for _question, answer in _pairs(chat)]
        # Chart specs need Altair (seconds on a first import): built in a thread, the kernel stays free.
        for answer in answers:
            for viz in answer.visualizations:
                self._payloads[id(viz)] = (viz, await asyncio.to_thread(browser_payload, viz))
        if self.busy:  # a question was asked meanwhile: it keeps the chat it started in
            return
        state = self._state()
        if state is None:  # pragma: no cover - a widget always has a session or a conversation
            return
        state.reset()
        state.chat_id = chat_id
        state.answers.extend(answers)
        self._entries, self._answers = [], {}
        self.chat_title = str(chat.get("title") or "") or None
        self._load_state()
        self.error = ""

    async def rename(self, title: str) -> None:
        """Rename the current chat on the server."""
        title = title.strip()
        if not title:
            self.error = "A chat's title cannot be empty: type a title."
            return
        if self.chat_id is None:
            self.error = "No chat to rename yet: ask a question first."
            return
        try:
            chat = await self.conversation.rename(title)
        except TrellisError as exc:
            self.error = str(exc)
            return
        self.chat_title = str(chat.get("title") or title)
        self.chats = [{**c, "title": self.chat_title} if c["id"] == self.chat_id else c for c in self.chats]

    async def feedback(self, entry_id: str, value: str, note: str | None = None) -> None:
        """Thumbs up (``"positive"``) or down (``"negative"``) on an answer, with an optional note."""
        if value not in ("positive", "negative"):
            self.error = "Feedback is 'positive' or 'negative'."
            return
        index = self._index_of(entry_id)
        message_id = self._entries[index].get("message_id") if index >= 0 else None
        if not message_id:
            self.error = "This answer was not saved by the server, so it cannot be rated."
            return
        # A thumb then its note are two requests in flight at once: only the latest one's result shows.
        ticket = self._feedback_sent[entry_id] = self._feedback_sent.get(entry_id, 0) + 1
        try:
            await self.conversation.feedback(value, message_id=message_id, note=note)
        except TrellisError as exc:
            self.error = str(exc)
            return
        if self._feedback_sent.get(entry_id) != ticket:
            return
        # A second click changes it; the note shown is the one sent with the current value.
        self._update(entry_id, feedback=value, feedback_note=note or None)

    async def save_query(self, entry_id: str, title: str) -> None:
        """Save the SQL of an answer (its first table's) as a saved query named ``title``."""
        index = self._index_of(entry_id)
        answer = self._answers.get(entry_id)
        sql = next((t.sql for t in answer.tables if t.sql), None) if answer is not None else None
        if index < 0 or answer is None or not sql:
            self.error = "This answer has no SQL to save."
            return
        title = title.strip() or (answer.question or "Saved query")[:80]
        try:
            query = await self.conversation.client.queries.create(
                title=title, prompt=answer.question or title, sql=sql
            )
        except TrellisError as exc:
            self.error = str(exc)
            return
        self._update(entry_id, saved_query={"id": query.id, "title": query.title})

    # -- static rendering -----------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        from .widget_html import transcript_html

        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = {**data, "text/html": transcript_html(self._entries)}
        return data, metadata

    def close(self) -> None:
        """Close the widget (and the async client it made from a sync one)."""
        owned, self._owned_client = getattr(self, "_owned_client", None), None
        if owned is not None:
            loop = self._loop
            if loop is not None and not loop.is_closed() and loop.is_running():
                loop.call_soon_threadsafe(lambda: self._spawn(owned.aclose()))
        super().close()

    def __repr__(self) -> str:
        return f"<ChatWidget chat_id={self.chat_id!r} answers={len(self._answers)} busy={self.busy}>"


def _is_async_client(client: object) -> TypeGuard[AsyncTrellis]:
    from .client import AsyncTrellis

    return isinstance(client, AsyncTrellis)


def _async_twin(client: object) -> AsyncTrellis:
    """The async client the widget's tasks need, made from a sync :class:`Trellis`'s settings."""
    from .client import AsyncTrellis, Trellis

    if not isinstance(client, Trellis):
        raise TypeError(
            f"ChatWidget(client=...) takes a Trellis or AsyncTrellis client, not {type(client).__name__}."
        )
    return AsyncTrellis.from_settings(client.settings)


_HANDLERS: dict[str, Callable[[ChatWidget, Any], None]] = {
    "send": ChatWidget._on_send,
    "stop": ChatWidget._on_stop,
    "new_chat": ChatWidget._on_new_chat,
    "edit": ChatWidget._on_edit,
    "feedback": ChatWidget._on_feedback,
    "save_query": ChatWidget._on_save_query,
    "table_rows": ChatWidget._on_table_rows,
    "list_chats": ChatWidget._on_list_chats,
    "intro": ChatWidget._on_intro,
    "use_chat": ChatWidget._on_use_chat,
    "rename": ChatWidget._on_rename,
}
assert set(_HANDLERS) == set(COMMANDS), "every command of widget_wire.COMMANDS has a handler"

_warming: list[threading.Thread] = []


def _attachments(uploads: list[Upload]) -> list[Attachment]:
    """A question entry's ``attachments``: what its chips show, live and in a reloaded history."""
    return [
        {"id": u.id, "filename": u.filename, "mime_type": u.mime_type, "file_size": u.file_size}
        for u in uploads
    ]


def _picked_files(content: dict[str, Any]) -> list[tuple[str, bytes, str]]:
    """The files a ``send`` command carries: ``files`` (name, type) with one buffer each."""
    meta, buffers = content.get("files"), content.get("_buffers") or []
    if not isinstance(meta, list) or len(meta) != len(buffers):
        return []
    return [
        (str(m.get("name") or "upload"), data, str(m.get("type") or ""))
        for m, data in zip(meta, buffers, strict=True)
        if isinstance(m, dict)
    ]


def _warm_up() -> None:
    """Import Altair in the background once: the first chart need not wait for it."""
    if not _warming:
        thread = threading.Thread(target=_import_charts, name="trellis-widget-warm-up", daemon=True)
        _warming.append(thread)
        thread.start()


def _import_charts() -> None:
    with contextlib.suppress(Exception):
        importlib.import_module("trellis_jupyter.convert")
        importlib.import_module("trellis_jupyter.charts")
