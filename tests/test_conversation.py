"""Conversation / AsyncConversation against the local server: one chat, many questions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from client_helpers import close_client, consume, make_client, maybe

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.conversation import AsyncConversation, ChatState, Conversation
from trellis_jupyter.errors import AnswerError, ConfigurationError, NotFoundError
from trellis_jupyter.events import Table

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, local_server: Any) -> AsyncIterator[Trellis | AsyncTrellis]:
    c = make_client(request.param, local_server)
    yield c
    await close_client(c)


async def test_starts_a_chat_on_first_use_and_continues_it(client: Any) -> None:
    conversation = client.conversation()
    assert conversation.chat_id is None
    assert conversation.answers == []
    first = await maybe(conversation.ask("How many orders are there?"))
    chat_id = conversation.chat_id
    assert chat_id is not None
    assert first.chat_id == chat_id
    assert first.complete
    second = await maybe(conversation.ask("How many customers are there?"))
    assert second.chat_id == chat_id
    assert conversation.answers == [first, second]
    messages = (await maybe(client.chats.get(chat_id)))["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2


@pytest.mark.parametrize("transport", ["sse", "websocket"])
async def test_a_chat_started_for_a_question_is_titled_by_it(client: Any, transport: str) -> None:
    """Create Chat would title it with the minute it started; a list of those cannot be told
    apart. The first line of the first question titles it, cut at a word past 60 characters,
    with or without files; a title the caller gives wins."""
    long = "Which customers placed the most orders in the last quarter of the year, by region?"
    cases = [
        ("How many orders are there?", {}, "How many orders are there?"),
        ("\n  How many customers are there?\nand by region", {}, "How many customers are there?"),
        (long, {}, "Which customers placed the most orders in the last quarter…"),
        ("how many rows are in the uploaded table", {"files": [("t.csv", b"a\n1\n", "text/csv")]},
         "how many rows are in the uploaded table"),
    ]
    for question, options, title in cases:
        conversation = client.conversation(transport=transport)
        await maybe(conversation.ask(question, **options))
        chat = await maybe(client.chats.get(conversation.chat_id))
        assert chat.title == title, question
        assert len(chat.title) <= 61
    # A title the caller gives wins (SSE sends it with the question).
    if transport == "sse":
        _events, answer = await consume(client.chats.stream("How many orders are there?", title="Orders"))
        assert (await maybe(client.chats.get(answer.chat_id))).title == "Orders"


def test_chat_title_of_odd_questions() -> None:
    from trellis_jupyter.types import chat_title

    assert chat_title("") is None
    assert chat_title(" \n\t ") is None
    assert chat_title("x" * 200) == "x" * 59 + "…"  # no word break: cut at 59
    assert chat_title("a" * 60) == "a" * 60
    assert chat_title("word " * 30) == ("word " * 11).strip() + "…"
    assert chat_title("😀" * 61) == "😀" * 59 + "…"


async def test_history_rebuilds_answers_with_their_tables(client: Any) -> None:
    conversation = client.conversation()
    live = await maybe(conversation.ask("How many orders are there?"))
    [(question, rebuilt)] = await maybe(conversation.history())
    assert question == "How many orders are there?"
    assert rebuilt.text == live.text
    assert rebuilt.message_id == live.message_id
    assert rebuilt.user_message_id == live.user_message_id
    assert rebuilt.chat_id == live.chat_id
    assert isinstance(rebuilt.tables[0], Table)
    assert rebuilt.tables[0].rows == live.tables[0].rows


async def test_edit_replaces_the_last_question_and_drops_later_answers(client: Any) -> None:
    conversation = client.conversation()
    first = await maybe(conversation.ask("How many orders are there?"))
    await maybe(conversation.ask("How many customers are there?"))
    await maybe(conversation.ask("list the tables"))
    # Edit the second question: the second and third answers go, here as on the server.
    edited = await maybe(
        conversation.edit("How many products are there?", conversation.answers[1].user_message_id)
    )
    assert conversation.answers == [first, edited]
    assert edited.chat_id == conversation.chat_id
    again = await maybe(conversation.edit("How many customers are there?"))  # default: the last question
    assert conversation.answers == [first, again]
    questions = [q for q, _ in await maybe(conversation.history())]
    assert questions == ["How many orders are there?", "How many customers are there?"]


async def test_a_resumed_chat_edits_its_last_question_from_the_server(client: Any) -> None:
    original = client.conversation()
    await maybe(original.ask("How many orders are there?"))
    resumed = client.conversation(original.chat_id)
    answer = await maybe(resumed.edit("How many customers are there?"))
    assert answer.complete
    assert resumed.answers == [answer]
    assert [q for q, _ in await maybe(resumed.history())] == ["How many customers are there?"]


async def test_feedback_rename_delete_and_new(client: Any) -> None:
    conversation = client.conversation()
    with pytest.raises(ConfigurationError, match="No answer to rate yet"):
        await maybe(conversation.feedback("positive"))
    with pytest.raises(ConfigurationError, match="Nothing to edit yet"):
        await maybe(conversation.edit("anything"))
    answer = await maybe(conversation.ask("How many orders are there?"))
    result = await maybe(conversation.feedback("positive"))
    assert result["id"] == answer.message_id
    assert result["metadata"]["feedback"] == "positive"
    [(_, rebuilt)] = await maybe(conversation.history())
    assert rebuilt.message_id == answer.message_id
    assert (await maybe(conversation.rename("Order counts")))["title"] == "Order counts"
    chat_id = conversation.chat_id
    await maybe(conversation.delete())
    assert conversation.chat_id is None
    assert conversation.answers == []
    with pytest.raises(NotFoundError):
        await maybe(client.chats.get(chat_id))
    fresh = await maybe(conversation.ask("How many customers are there?"))
    assert fresh.chat_id not in (None, chat_id)
    assert conversation.new() is conversation
    assert conversation.chat_id is None


async def test_sync_and_async_conversations_share_one_state(local_server: Any) -> None:
    sync_client = make_client("sync", local_server)
    async_client = make_client("async", local_server)
    state = ChatState()
    conversation = Conversation(sync_client, state=state)
    twin = AsyncConversation(async_client, state=conversation.state)
    first = conversation.ask("How many orders are there?")
    second = await twin.ask("How many customers are there?")
    assert twin.chat_id == conversation.chat_id == first.chat_id == second.chat_id
    assert state.answers == [first, second]
    await close_client(sync_client)
    await close_client(async_client)


async def test_sql_that_fails_says_to_fix_it(client: Any) -> None:
    """SQL typed as the question that fails: the advice names the SQL too (it said only "try
    rephrasing the question"), and the chat goes on."""
    conversation = client.conversation()
    with pytest.raises(AnswerError) as caught:
        await maybe(conversation.ask("SELECT COUNT(*) FROM nowhere"))
    assert caught.value.code == "QUERY_FAILED"
    assert str(caught.value) == (
        "Trellis could not answer: The query failed: no such table: nowhere; "
        "rephrase the question, or fix the SQL if you wrote it."
    )
    assert caught.value.chat_id == conversation.chat_id
    assert (await maybe(conversation.ask("How many orders are there?"))).complete
