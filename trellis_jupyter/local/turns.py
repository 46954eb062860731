"""One turn: a question in, events out, and the answer saved whole or not at all.

``prepare_turn`` checks a send or an edit (raising :class:`~.wire.ApiError` before anything is
written or streamed); ``run_turn`` then saves the user message, emits ``chat_metadata`` and the
``processing`` statuses, calls the planner in a worker thread, emits the visualizations and the
text (as word-sized ``text_delta`` events spaced by ``pace``), saves the assistant message in one
transaction and emits ``message``. A failure ends with an ``error`` event. Cancelling the task
that runs a turn is how it is interrupted: nothing is saved for the assistant, and the query
running in the worker thread is stopped too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from trellis_jupyter.events import (
    Chart,
    ChatMetadata,
    Event,
    Message,
    Processing,
    Table,
    TextDelta,
    Visualization,
    is_visualization_id,
    new_visualization_id,
)

from .cancel import StoppableCall
from .context import DEFAULT_MODEL, MODEL_IDS, Principal, ServerContext
from .planner_protocol import DatabaseInfo, PastTurn, PlannedAnswer, QueryError, QueryResult
from .store import MessageRow, StoreError, UploadRow
from .turn_extras import SavedRun, attachment_notes, decline_text, saved_answer, saved_run, upload_question
from .upload_routes import upload_info
from .wire import ApiError, error_event, new_debug_id

__all__ = ["Emit", "TurnSpec", "prepare_turn", "run_turn", "text_chunks"]

logger = logging.getLogger("trellis_jupyter.local")

Emit = Callable[[Event], Awaitable[None]]

_CHUNK = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class TurnSpec:
    """A checked request for one turn."""

    chat_id: str
    question: str
    database: DatabaseInfo
    model: str
    replace_from: str | None = None  # the user message an edit replaces
    uploads: tuple[UploadRow, ...] = ()  # attached to this question (``upload_ids``)
    saved: SavedRun | None = None  # a saved query to run instead of planning (``saved_query_id``)
    planner_question: str | None = None  # the question as the planner reads it, when it differs


def text_chunks(text: str) -> list[str]:
    """The text as word-sized pieces (each word with its trailing space); joined, they are the text."""
    return _CHUNK.findall(text)


def _string_field(body: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"The request body needs a '{name}' string.", "INVALID_REQUEST")
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"'{name}' must be a string.", "INVALID_REQUEST")
    return value


def _default_title(question: str | None) -> str:
    if question:
        line = question.strip().splitlines()[0] if question.strip() else ""
        if line:
            return line if len(line) <= 60 else line[:57].rstrip() + "..."
    return "Chat " + datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")


def check_title(ctx: ServerContext, title: str) -> None:
    """400 INVALID_REQUEST for a title longer than the server's cap."""
    _check_length("title", title, ctx.settings.max_title_chars)


def check_question(ctx: ServerContext, question: str) -> None:
    """400 INVALID_REQUEST for an empty question or one longer than the server's cap."""
    _check_length("message", question, ctx.settings.max_message_chars)
    if not question.strip():
        raise ApiError(400, "The message is empty: write a question.", "INVALID_REQUEST")


def _check_length(what: str, text: str, cap: int) -> None:
    if len(text) > cap:
        raise ApiError(
            400,
            f"The {what} is {len(text):,} characters long; the limit is {cap:,}: shorten it.",
            "INVALID_REQUEST",
        )


def create_chat(
    ctx: ServerContext, principal: Principal, title: str | None, integration_id: str | None
) -> Any:
    """A new chat for the member, within the creation rate limit (429) and the open-chat cap (409).

    Every way of creating a chat comes here, a send without a chat id included.
    """
    if title is not None:
        check_title(ctx, title)
    if integration_id is not None:
        ctx.database(integration_id)  # 404 when unknown
    wait = ctx.create_limiter.hit(principal.jti)
    if wait is not None:
        raise ApiError(
            429, f"Too many chats created: wait {wait:.0f} s and try again.", "RATE_LIMIT", retry_after=wait
        )
    cap = ctx.settings.open_chat_cap
    if cap and ctx.store.count_chats(principal.member_id) >= cap:
        raise ApiError(
            409,
            f"You already have {ctx.settings.open_chat_cap} open chats: delete one before creating another.",
            "OPEN_CHAT_CAP",
        )
    return ctx.store.create_chat(
        principal.member_id, principal.organization_id, _default_title(title), integration_id
    )


def prepare_turn(
    ctx: ServerContext,
    principal: Principal,
    body: Mapping[str, Any],
    *,
    edit: tuple[str, str] | None = None,
) -> TurnSpec:
    """Check a send (``body`` of POST /v1/chats) or an edit (``edit=(chat_id, message_id)``).

    A send without ``chat_id`` creates the chat. Raises ``ApiError`` for anything wrong.
    """
    question = _string_field(body, "content" if edit else "message", required=True)
    assert question is not None
    check_question(ctx, question)  # before anything is planned, stored or created
    model = _string_field(body, "model", required=False) or DEFAULT_MODEL
    if model not in MODEL_IDS:
        raise ApiError(
            400, f"Unknown model '{model}': list the valid ids with GET /v1/models.", "INVALID_REQUEST"
        )
    integration_id = _string_field(body, "integration_id", required=False)
    if integration_id is not None:
        ctx.database(integration_id)
    chat_id = edit[0] if edit else _string_field(body, "chat_id", required=False)
    if chat_id is None:
        title = _string_field(body, "title", required=False)
        if title is not None:
            check_title(ctx, title)
        chat = create_chat(ctx, principal, title or _default_title(question), integration_id)
    else:
        chat = ctx.store.get_chat(principal.member_id, chat_id)
        if chat is None:
            raise ApiError(404, "Chat not found: it does not exist or is not yours.", "CHAT_NOT_FOUND")
    replace_from = None
    upload_ids = body.get("upload_ids")
    if edit:
        message = ctx.store.find_message(principal.member_id, edit[1])
        if message is None or message.chat_id != chat.id:
            raise ApiError(404, "Message not found in this chat.", "MESSAGE_NOT_FOUND")
        if message.role != "user":
            raise ApiError(
                400, "Only user messages can be edited; this one is the assistant's.", "INVALID_REQUEST"
            )
        replace_from = message.id
        if upload_ids is None:
            upload_ids = _kept_upload_ids(ctx, message)
    database = ctx.database(integration_id if integration_id is not None else chat.integration_id)
    uploads = upload_info(ctx, chat.id, upload_ids)
    saved = saved_run(ctx, principal, body.get("saved_query_id"), body.get("parameters"))
    if chat.integration_id is None:
        # The chat keeps the database of its first turn, so later turns need not repeat it.
        ctx.store.set_chat_integration(chat.id, database.integration_id)
    attached = ctx.upload_db(chat.id)
    if attached is not None:
        database = dataclasses.replace(database, attached=attached)
    planner_question = upload_question(question, uploads, ctx.store.uploads(chat.id)) if not saved else None
    return TurnSpec(chat.id, question, database, model, replace_from, tuple(uploads), saved, planner_question)


def _kept_upload_ids(ctx: ServerContext, message: MessageRow) -> list[str] | None:
    """The files an edited question was sent with, those not deleted since.

    An edit changes the question's words, not its files (Edit Message has no ``upload_ids``), so
    the new question is sent with the same files and Get Chat still lists them on it.
    """
    notes = message.metadata.get("attachments")
    if not isinstance(notes, list):
        return None
    present = {u.id for u in ctx.store.uploads(message.chat_id)}
    return [n["id"] for n in notes if isinstance(n, dict) and n.get("id") in present] or None


def _with_id(payload: Table | Chart) -> Table | Chart:
    # Every visualization carries a 10-character alphanumeric id, whatever the planner gave.
    if is_visualization_id(payload.id):
        return payload
    return dataclasses.replace(payload, id=new_visualization_id())


MAX_DELTAS = 2000  # text_delta events per answer: a longer text goes out in bigger pieces


def _deltas(text: str) -> list[str]:
    """The text as word-sized deltas, grouped when there would be more than MAX_DELTAS of them."""
    chunks = text_chunks(text)
    if len(chunks) <= MAX_DELTAS:
        return chunks
    size = -(-len(chunks) // MAX_DELTAS)
    return ["".join(chunks[i : i + size]) for i in range(0, len(chunks), size)]


def _bounded(ctx: ServerContext, planned: PlannedAnswer) -> PlannedAnswer:
    """The answer within ``max_turn_bytes``: text cut, then visualizations left out from the end."""
    budget = ctx.settings.max_turn_bytes
    text = planned.text
    cap = min(ctx.settings.max_answer_chars, budget // 4)
    if len(text) > cap:
        text = text[:cap] + "\u2026"
    used = len(text.encode("utf-8", errors="replace"))
    kept: list[Table | Chart] = []
    for payload in planned.visualizations:
        size = len(json.dumps(payload.to_data(), ensure_ascii=False, default=str))
        if used + size <= budget:
            kept.append(payload)
            used += size
    if len(kept) == len(planned.visualizations) and text is planned.text:
        return planned
    left = len(planned.visualizations) - len(kept)
    if left:
        text += (
            f"\n\n({left} more table(s) or chart(s) left out: the answer passed the server's "
            f"{budget:,}-byte limit; ask for less data.)"
        )
    return dataclasses.replace(planned, text=text, visualizations=kept)


def _out_of_range(exc: Exception) -> bool:
    """A date or number in the question that Python's dates cannot hold (year 10000, 10**12 days)."""
    if isinstance(exc, OverflowError):
        return True
    return isinstance(exc, ValueError) and any(
        words in str(exc) for words in ("out of range", "year ", "day is out", "must be in")
    )


def _history(ctx: ServerContext, chat_id: str, before: str) -> list[PastTurn]:
    turns: list[list[Any]] = []
    for row in ctx.store.messages(chat_id):
        if row.id == before:
            break
        if row.role == "user":
            turns.append([row.content, None])
        elif turns and turns[-1][1] is None:
            turns[-1][1] = row.metadata.get("plan")
    return [PastTurn(question=q, state=s) for q, s in turns]


async def _plan(ctx: ServerContext, spec: TurnSpec, history: list[PastTurn], emit: Emit) -> PlannedAnswer:
    """Run the planner in a worker thread, emitting ``analyzing`` when its first query starts.

    A long question waits for a place in the long lane first (an abandoned one never starts).
    """
    if len(spec.question) > ctx.settings.long_question_chars:
        async with ctx.long_lane:
            return await _plan_now(ctx, spec, history, emit)
    return await _plan_now(ctx, spec, history, emit)


async def _plan_now(ctx: ServerContext, spec: TurnSpec, history: list[PastTurn], emit: Emit) -> PlannedAnswer:
    loop = asyncio.get_running_loop()
    statuses: asyncio.Queue[str] = asyncio.Queue()
    cancelled = threading.Event()
    runner = ctx.runners[spec.database.integration_id]
    announced = threading.Event()
    attach = spec.database.attached

    def run_query(sql: str, params: dict[str, str] | None = None) -> QueryResult:
        if not announced.is_set():
            announced.set()
            loop.call_soon_threadsafe(statuses.put_nowait, "analyzing")
        return runner.run(sql, cancelled=cancelled, params=params, attach=attach)

    def work() -> PlannedAnswer:
        if spec.saved is not None and spec.saved.sql is not None:
            return saved_answer(spec.saved, run_query)
        declined = decline_text(spec.question, spec.uploads, ctx.store.uploads(spec.chat_id))
        if declined is not None:
            return PlannedAnswer(text=declined, state={"version": 1, "kind": "declined"})
        question = spec.saved.prompt if spec.saved is not None else spec.planner_question or spec.question
        return ctx.planner.answer(question, database=spec.database, history=history, run_query=run_query)

    call = StoppableCall(work)
    future = asyncio.wrap_future(ctx.executor.submit(call.run))
    # An interrupted turn never reads its planner's outcome; read it here so nothing is reported.
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    status: asyncio.Future[str] | None = None
    finished = False
    try:
        while not future.done():
            status = asyncio.ensure_future(statuses.get())
            waiting: set[asyncio.Future[Any]] = {future, status}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if status in done:
                await emit(Processing(status.result()))
            else:
                status.cancel()
        while not statuses.empty():
            await emit(Processing(statuses.get_nowait()))
        result = future.result()
        finished = True
        return result
    finally:
        # Interrupted or done: a query still running in the worker stops at its next check, and
        # a planner still planning for a client that left is stopped (it would hold a CPU).
        cancelled.set()
        if status is not None:
            status.cancel()
        if not finished:
            call.stop()


async def run_turn(ctx: ServerContext, spec: TurnSpec, emit: Emit) -> None:
    """Run one checked turn, emitting its events; cancel the task running it to interrupt it."""
    ctx.active_turns += 1
    try:
        await _run_turn(ctx, spec, emit)
    finally:
        ctx.active_turns -= 1


async def _run_turn(ctx: ServerContext, spec: TurnSpec, emit: Emit) -> None:
    try:
        user_message_id = ctx.store.begin_turn(
            spec.chat_id,
            spec.question,
            metadata={
                "integration_id": spec.database.integration_id,
                "model": spec.model,
                **attachment_notes(spec.uploads, spec.saved),
            },
            replace_from=spec.replace_from,
        )
        if spec.uploads:
            ctx.store.link_uploads([u.id for u in spec.uploads], user_message_id)
    except StoreError as exc:
        await emit(error_event(str(exc), exc.code))
        return
    await emit(ChatMetadata(chat_id=spec.chat_id, user_message_id=user_message_id))
    await emit(Processing("starting"))
    try:
        history = _history(ctx, spec.chat_id, before=user_message_id)
        await emit(Processing("thinking"))
        planned = _bounded(ctx, await _plan(ctx, spec, history, emit))
        visualizations = [_with_id(v) for v in planned.visualizations]
        for payload in visualizations:
            await emit(Visualization(payload))
        await emit(Processing("processing"))
        for chunk in _deltas(planned.text):
            await emit(TextDelta(chunk))
            if ctx.settings.pace > 0:
                await asyncio.sleep(ctx.settings.pace)
        metadata: dict[str, Any] = {
            "visualizations": [v.to_data() for v in visualizations],
            "plan": planned.state,
            "model": spec.model,
            "integration_id": spec.database.integration_id,
        }
        message_id = ctx.store.finish_turn(spec.chat_id, user_message_id, planned.text, metadata)
    except QueryError as exc:
        await emit(error_event(str(exc), exc.code))
        return
    except StoreError as exc:
        await emit(error_event(str(exc), exc.code))
        return
    except Exception as exc:
        if _out_of_range(exc):
            # A guard for the planner's date arithmetic: an odd question, not a server failure.
            await emit(
                error_event(
                    "The question names a date or a period out of range (years 1 to 9999): "
                    "ask about a narrower period.",
                    "UNANSWERABLE",
                )
            )
            return
        debug_id = new_debug_id()
        logger.exception("turn failed in chat %s (debug id %s)", spec.chat_id, debug_id)
        await emit(
            error_event(
                f"The local server failed to answer (debug id {debug_id}).",
                "INTERNAL",
                debug_id=debug_id,
            )
        )
        return
    await emit(Message(content=planned.text, message_id=message_id))
