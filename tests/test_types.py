"""The typed REST results (trellis_jupyter.types): the documented shapes, older generations, odd input,
and what the real local server answers."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from trellis_jupyter.client import Trellis
from trellis_jupyter.types import Chat, ChatMessage, ChatPage, ChatSummary, SavedQuery, Upload

PRESIGNED = "https://s3.example/chat_uploads/abc.pdf?X-Amz-Signature=deadbeef"

UPLOAD_RESPONSE = {
    "chat_id": "chat_abc123",
    "uploads": [
        {
            "id": "550e8400-e29b-41d4-a716-446655440000",
            "filename": "report.pdf",
            "mime_type": "application/pdf",
            "file_size": 245760,
            "upload_type": "document",
            "presigned_url": PRESIGNED,
            "created_at": "2025-06-15T09:30:00Z",
            "message_id": None,
            "storage_path": "chat_uploads/abc123.pdf",
        }
    ],
}


def test_upload_reads_the_documented_object_and_keeps_what_the_server_adds() -> None:
    [upload] = Upload.list_from_data(UPLOAD_RESPONSE)
    assert upload.id == "550e8400-e29b-41d4-a716-446655440000"
    assert (upload.filename, upload.mime_type, upload.file_size) == ("report.pdf", "application/pdf", 245760)
    assert upload.upload_type == "document"
    assert upload.message_id is None
    assert upload.chat_id == "chat_abc123"  # from the enclosing response
    assert upload.presigned_url == PRESIGNED
    assert upload.storage_path == upload.raw["storage_path"] == "chat_uploads/abc123.pdf"


def test_a_presigned_url_is_not_in_reprs() -> None:
    [upload] = Upload.list_from_data(UPLOAD_RESPONSE)
    message = ChatMessage.from_data(
        {"id": "m1", "role": "user", "content": "q", "metadata": {"uploads": UPLOAD_RESPONSE["uploads"]}}
    )
    for value in (upload, message, Chat(id="c", messages=[message])):
        assert "Signature" not in repr(value)
    assert message.uploads == [dataclasses.replace(upload, chat_id=None)]


def test_results_are_frozen() -> None:
    chat = Chat.from_data({"id": "chat_1", "title": "t"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        chat.title = "other"  # type: ignore[misc]


def test_saved_query_v3_and_the_older_generation() -> None:
    v3 = SavedQuery.from_data(
        {
            "id": "q1",
            "organization_id": "org_1",
            "title": "Revenue by month",
            "prompt": "Show me total revenue by month for {{year}}",
            "sql": "SELECT ... WHERE year = {{year}}",
            "keywords": ["revenue", "monthly"],
            "parameters": ["year"],
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-02T00:00:00Z",
        }
    )
    assert v3.prompt.startswith("Show me")
    assert v3.parameters == ("year",)
    assert v3.keywords == ("revenue", "monthly")
    assert v3.raw["organization_id"] == "org_1"
    v1 = SavedQuery.from_data({"id": "sq_002", "title": "Top products", "query": "top 5 products"})
    assert (v1.prompt, v1.sql, v1.parameters) == ("top 5 products", None, ())
    assert SavedQuery.list_from_data({"queries": [{"id": "a"}, "junk", {"id": "b"}]}) == [
        SavedQuery(id="a", title="", prompt=""),
        SavedQuery(id="b", title="", prompt=""),
    ]


@pytest.mark.parametrize(
    "body",
    [None, [], "", {}, {"uploads": None}, {"uploads": "x"}, {"uploads": [1, None, "a"]}, {"queries": {}}],
)
def test_odd_bodies_read_as_empty(body: Any) -> None:
    assert Upload.list_from_data(body) == []
    assert SavedQuery.list_from_data(body) == []
    page = ChatPage.from_data(body, page=3)
    assert (page.chats, page.total, page.page, page.has_more) == ([], 0, 3, False)


def test_odd_field_values_do_not_raise() -> None:
    upload = Upload.from_data({"file_size": float("inf"), "filename": "\ud800.csv", "id": 7})
    assert (upload.file_size, upload.id, upload.filename) == (None, "7", "\ud800.csv")
    assert Upload.from_data({"file_size": True}).file_size is None
    message = ChatMessage.from_data({"content": None, "metadata": ["not", "an", "object"]})
    assert (message.content, message.metadata, message.feedback) == ("", {}, None)
    deep: Any = {}
    for _ in range(5000):
        deep = {"metadata": deep}
    assert ChatSummary.from_data(deep).metadata["metadata"] is not None
    huge = ChatPage.from_data({"chats": [{"id": str(i)} for i in range(20_000)], "has_more": 1})
    assert (huge.total, huge.has_more, huge.chats[-1].id) == (20_000, True, "19999")


def test_an_unpaginated_chat_list_reads_as_one_last_page() -> None:
    page = ChatPage.from_data({"chats": [{"id": "a", "title": "A"}, {"id": "b"}]})
    assert [c.id for c in page.chats] == ["a", "b"]
    assert (page.total, page.page, page.has_more, page.page_size) == (2, 1, False, None)


def test_what_the_local_server_answers(local_server: Any) -> None:
    with Trellis(
        base_url=local_server.base_url, api_key=local_server.api_key, email=local_server.email
    ) as client:
        created = client.chats.create(title="Typed results")
        assert isinstance(created, Chat)
        assert created["id"] == created.id  # item access reads the payload, as the dicts did
        assert created.id.startswith("chat_")
        assert created.title == "Typed results"
        assert created.messages == []
        with client.chats.stream("How many orders are there?", chat_id=created.id) as stream:
            stream.get_final_answer()
        chat = client.chats.get(created.id)
        assert isinstance(chat.messages[0], ChatMessage)
        assert chat["messages"][0]["content"] == chat.messages[0].content
        assert [m.role for m in chat.messages] == ["user", "assistant"]
        assert chat.messages[0].content == "How many orders are there?"
        assert chat.messages[1].content
        assert chat.messages[1].timestamp is not None
        page = client.chats.list()
        assert isinstance(page, ChatPage)
        assert isinstance(next(client.chats.iter_all()), ChatSummary)
        assert client.chats.rename(created.id, "Renamed").title == "Renamed"
        assert created.id in [c.id for c in page.chats]
        assert page.total >= 1
        client.chats.delete(created.id)


def test_item_access_reads_the_payload_as_the_dicts_did() -> None:
    chat = Chat.from_data({"id": "c1", "title": "T", "organization_id": "org", "messages": []})
    assert (chat["id"], chat["title"], chat.get("organization_id")) == ("c1", "T", "org")
    assert chat.get("nope") is None
    assert "organization_id" in chat
    assert dict(chat) == dict(chat.raw)
    with pytest.raises(KeyError):
        chat["preview"]
    # An unpaginated list still has every key the page dict had.
    page = ChatPage.from_data({"chats": [{"id": "a"}]}, page=1)
    assert (page["total"], page["page"], page["has_more"], page["chats"]) == (1, 1, False, [{"id": "a"}])
