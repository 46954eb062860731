"""Chat uploads end to end: both clients, both transports, the real local server over loopback."""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pandas as pd
import pytest
from client_helpers import close_client, make_client, maybe
from local_helpers import bearer, token_for

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import (
    AnswerError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    TrellisError,
)
from trellis_jupyter.uploads import upload_parts

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def targets() -> pd.DataFrame:
    """Dates, nulls and unicode, with regions that join the demo database's customers."""
    df: pd.DataFrame = pd.DataFrame(
        {
            "region": ["North", "South", "East", None, "West"],
            "quota": [100, 250, None, 75, 300],
            "since": pd.to_datetime(["2025-01-01", "2025-02-15", None, "2025-03-05", "2024-12-31"]),  # type: ignore[arg-type]  # None is NaT; the stubs forbid it
            "owner": ["Zoë", "日本語", "Ω-team", None, "😀 ok"],
        }
    )
    df.attrs["name"] = "targets"
    return df


def demo_rows(server: Any, sql: str) -> list[tuple[Any, ...]]:
    path = next(iter(server.databases.values()))
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return [tuple(r) for r in db.execute(sql)]


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, local_server: Any) -> AsyncIterator[Trellis | AsyncTrellis]:
    c = make_client(request.param, local_server)
    yield c
    await close_client(c)


@pytest.mark.parametrize("transport", ["sse", "websocket"])
async def test_a_dataframe_becomes_a_table_that_questions_read_and_join(
    client: Any, local_server: Any, transport: str
) -> None:
    conversation = client.conversation(transport=transport)
    df = targets()
    answer = await maybe(conversation.ask("how many rows are in the uploaded table", files=[df]))
    assert answer.complete
    assert answer.df.iloc[0, 0] == len(df) == 5

    [upload] = await maybe(conversation.uploads())
    # The documented types only ("document" | "image"): the table it became is in `tables`.
    assert (upload.filename, upload.mime_type, upload.upload_type) == ("targets.csv", "text/csv", "document")
    assert upload.tables == ("targets",)
    assert upload.message_id == answer.user_message_id  # linked to the question that attached it

    # Every cell comes back as it went in: dates, nulls, unicode.
    rows = await maybe(conversation.ask("SELECT region, quota, since, owner FROM targets ORDER BY rowid"))
    assert rows.tables[0].rows == [
        ["North", 100, "2025-01-01", "Zoë"],
        ["South", 250, "2025-02-15", "日本語"],
        ["East", None, None, "Ω-team"],
        [None, 75, "2025-03-05", None],
        ["West", 300, "2024-12-31", "😀 ok"],
    ]

    # A join between the upload and the integration's database.
    joined = await maybe(
        conversation.ask(
            "SELECT t.region, t.quota, count(c.id) AS customers FROM targets t "
            "JOIN customers c ON c.region = t.region GROUP BY t.region ORDER BY t.region"
        )
    )
    expected = demo_rows(
        local_server, "SELECT region, count(*) FROM customers GROUP BY region ORDER BY region"
    )
    targets_by_region = {"North": 100, "South": 250, "East": None, "West": 300}
    assert [tuple(r) for r in joined.tables[0].rows] == [
        (region, targets_by_region[region], n) for region, n in expected if region in targets_by_region
    ]
    if transport == "websocket":
        await maybe(conversation.aclose() if hasattr(conversation, "aclose") else conversation.close())


async def test_the_planner_sees_the_upload_columns_and_types(client: Any) -> None:
    conversation = client.conversation()
    await maybe(conversation.upload([targets()]))
    described = await maybe(conversation.ask("describe targets"))
    kinds = {row[0]: row[2] for row in described.tables[0].rows}
    assert kinds == {"region": "text", "quota": "number", "since": "date", "owner": "text"}
    # "region" is also a customers column: naming the table picks the upload's.
    total = await maybe(conversation.ask("total quota of targets by region"))
    assert {r[0]: r[1] for r in total.tables[0].rows} == {
        "North": 100,
        "South": 250,
        "West": 300,
        None: 75,
        "East": None,
    }
    assert "SUM(targets.quota)" in (total.tables[0].sql or "")


async def test_another_chat_and_another_member_cannot_read_it(client: Any, local_server: Any) -> None:
    mine = client.conversation()
    [upload] = await maybe(mine.upload([targets()]))
    assert upload.chat_id == mine.chat_id

    other_chat = client.conversation()
    with pytest.raises(AnswerError) as failed:
        await maybe(other_chat.ask("SELECT count(*) FROM targets"))
    assert "no such table" in str(failed.value)
    with pytest.raises(NotFoundError):  # an upload of another chat cannot be attached
        await maybe(other_chat.ask("how many rows are in the uploaded table", upload_ids=[upload.id]))

    stranger = make_client("sync", local_server, email="stranger@example.com")
    try:
        with pytest.raises(NotFoundError):
            stranger.chats.uploads(mine.chat_id)
        with pytest.raises(NotFoundError):
            stranger.chats.delete_upload(upload.id)
        theirs = stranger.conversation()
        with pytest.raises(NotFoundError):
            theirs.ask("how many rows are in the uploaded table", upload_ids=[upload.id])
        with pytest.raises(AnswerError):
            theirs.ask("SELECT count(*) FROM targets")
    finally:
        stranger.close()
    # Still there for its owner.
    assert [u.id for u in await maybe(mine.uploads())] == [upload.id]


async def test_names_are_identifiers_deduplicated_against_the_chat_and_the_database(client: Any) -> None:
    conversation = client.conversation()
    csv = b"a,b\n1,x\n2,y\n"
    first = await maybe(
        conversation.upload(
            [
                ("targets.csv", csv, "text/csv"),
                ("targets.csv", csv, "text/csv"),
                ("orders.csv", csv, "text/csv"),  # the demo database has an orders table
                ("2025 Sales (EU).csv", csv, "text/csv"),
            ]
        )
    )
    assert [u.tables for u in first] == [("targets",), ("targets_2",), ("orders_2",), ("t_2025_sales_eu",)]
    again = await maybe(conversation.upload([("targets.csv", csv, "text/csv")]))
    assert again[0].tables == ("targets_3",)
    answer = await maybe(conversation.ask("SELECT sum(a) FROM targets_3"))
    assert answer.tables[0].rows == [[3]]


async def test_an_xlsx_sheet_becomes_a_table_named_file_sheet(client: Any) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sales = book.active
    sales.title = "Sales"
    sales.append(["Region", "Amount", "Day"])
    sales.append(["North", 10.5, pd.Timestamp("2025-01-02").to_pydatetime()])
    sales.append(["South", 4, pd.Timestamp("2025-01-03").to_pydatetime()])
    notes = book.create_sheet("Q1 notes")
    notes.append(["note"])
    notes.append(["ünïcode"])
    buffer = io.BytesIO()
    book.save(buffer)
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    conversation = client.conversation()
    [upload] = await maybe(conversation.upload([("Budget.xlsx", buffer.getvalue(), mime)]))
    assert upload.tables == ("budget_sales", "budget_q1_notes")
    answer = await maybe(conversation.ask("SELECT region, amount, day FROM budget_sales ORDER BY region"))
    assert answer.tables[0].rows == [["North", 10.5, "2025-01-02"], ["South", 4.0, "2025-01-03"]]
    notes_answer = await maybe(conversation.ask("SELECT note FROM budget_q1_notes"))
    assert notes_answer.tables[0].rows == [["ünïcode"]]


async def test_pdf_and_images_are_stored_listed_and_questions_about_them_declined(client: Any) -> None:
    conversation = client.conversation()
    uploads = await maybe(
        conversation.upload([("report.pdf", PDF, "application/pdf"), ("chart.png", PNG, "image/png")])
    )
    assert [(u.upload_type, u.tables, u.file_size) for u in uploads] == [
        ("document", (), len(PDF)),
        ("image", (), len(PNG)),
    ]
    answer = await maybe(conversation.ask("What does this report say?", upload_ids=[uploads[0].id]))
    assert answer.complete
    assert answer.tables == []
    assert "can't read **report.pdf**" in answer.text
    named = await maybe(conversation.ask("summarize chart.png for me"))
    assert "can't read **chart.png**" in named.text
    listed = await maybe(conversation.uploads())
    assert [u.filename for u in listed] == ["report.pdf", "chart.png"]


async def test_delete_upload_removes_its_table(client: Any) -> None:
    conversation = client.conversation()
    [upload] = await maybe(conversation.upload([targets()]))
    assert (await maybe(conversation.ask("SELECT count(*) FROM targets"))).tables[0].rows == [[5]]
    assert await maybe(client.chats.delete_upload(upload.id)) is None
    assert await maybe(conversation.uploads()) == []
    with pytest.raises(AnswerError):
        await maybe(conversation.ask("SELECT count(*) FROM targets"))
    with pytest.raises(NotFoundError):
        await maybe(client.chats.delete_upload(upload.id))


async def test_user_sql_still_cannot_attach_or_write_the_uploads(client: Any) -> None:
    conversation = client.conversation()
    await maybe(conversation.upload([targets()]))
    with pytest.raises(TrellisError):
        await maybe(conversation.ask("SELECT * FROM targets; DELETE FROM targets"))
    with pytest.raises(AnswerError, match="refused"):
        await maybe(conversation.ask("WITH x AS (SELECT 1) DELETE FROM uploads.targets"))
    with pytest.raises(AnswerError, match="refused"):
        await maybe(
            conversation.ask("WITH x AS (SELECT 1) SELECT * FROM x WHERE 0 IN (SELECT load_extension('x'))")
        )
    still = await maybe(conversation.ask("SELECT count(*) FROM uploads.targets"))
    assert still.tables[0].rows == [[5]]


# --- limits and bad files: what the server answers (raw HTTP: the client checks them itself first) ---


def _post(
    server: Any, files: list[tuple[str, tuple[str, bytes, str]]], chat_id: str | None
) -> httpx.Response:
    token = token_for(server)
    data = {"chat_id": chat_id} if chat_id is not None else {}
    return httpx.post(
        f"{server.base_url}/v1/chats/uploads", headers=bearer(token), files=files, data=data, timeout=60
    )


def test_server_limits_and_bad_files_give_the_documented_errors(local_server: Any) -> None:
    with Trellis(base_url=local_server.base_url, api_key=local_server.api_key, email=local_server.email) as c:
        chat_id = c.chats.create()["id"]
    csv = ("files", ("a.csv", b"x\n1\n", "text/csv"))
    cases: list[tuple[list[Any], str | None, int, str, str]] = [
        ([csv] * 6, chat_id, 400, "INVALID_REQUEST", "at most 5 files"),
        (
            [("files", ("big.csv", b"x\n" + b"1\n" * (15 * 1024 * 1024 + 1), "text/csv"))],
            chat_id,
            400,
            "INVALID_REQUEST",
            "at most 30 MB",
        ),
        (
            [("files", ("notes.txt", b"hello", "text/plain"))],
            chat_id,
            400,
            "INVALID_REQUEST",
            "CSV, XLSX, PDF",
        ),
        (
            [("files", ("fake.png", b"GIF89a....", "image/png"))],
            chat_id,
            400,
            "INVALID_REQUEST",
            "not a valid PNG",
        ),
        (
            [("files", ("fake.xlsx", b"PK\x03\x04broken", "application/octet-stream"))],
            chat_id,
            400,
            "INVALID_REQUEST",
            "not a readable XLSX",
        ),
        (
            [("files", ("latin.csv", "café,x\n1,2\n".encode("latin-1"), "text/csv"))],
            chat_id,
            400,
            "INVALID_REQUEST",
            "UTF-8",
        ),
        ([("files", ("empty.csv", b"", "text/csv"))], chat_id, 400, "INVALID_REQUEST", "is empty"),
        (
            [("files", ("wide.csv", ",".join(f"c{i}" for i in range(2001)).encode(), "text/csv"))],
            chat_id,
            400,
            "INVALID_REQUEST",
            "at most 2000",
        ),
        ([csv], None, 400, "MISSING_CHAT_ID", "chat_id"),
        ([csv], "chat_000000000000000000000000", 404, "CHAT_NOT_FOUND", "Chat not found"),
    ]
    for files, cid, status, code, words in cases:
        response = _post(local_server, files, cid)
        body = response.json()
        assert (response.status_code, body["code"]) == (status, code), (words, body)
        assert words in body["detail"], body
    # Nothing of the refused requests was stored.
    listed = httpx.get(
        f"{local_server.base_url}/v1/chats/{chat_id}/uploads", headers=bearer(token_for(local_server))
    ).json()
    assert listed == {"chat_id": chat_id, "uploads": []}


def test_the_client_checks_the_limits_before_sending(tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match="at most 5 files"):
        upload_parts([("a.csv", b"x", "text/csv")] * 6)
    with pytest.raises(ConfigurationError, match="at most 30 MB"):
        upload_parts([("a.csv", b"x" * (30 * 1024 * 1024 + 1), "text/csv")])
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ConfigurationError, match="CSV, XLSX, PDF, PNG or JPEG"):
        upload_parts([tmp_path / "notes.txt"])
    with pytest.raises(ConfigurationError, match="No file at"):
        upload_parts([str(tmp_path / "missing.csv")])
    with pytest.raises(ConfigurationError, match="not a file type the server accepts"):
        upload_parts([("notes.txt", b"x", "text/plain")])
    assert upload_parts([("a.csv", b"x", "")]) == [("a.csv", b"x", "text/csv")]  # a browser's empty type
    with pytest.raises(ConfigurationError, match="Cannot upload a int"):
        upload_parts([42])
    df = pd.DataFrame(
        {"day": pd.to_datetime(["2025-01-01", None])},  # type: ignore[arg-type]  # None is NaT
        index=pd.Index([7, 8], name="id"),
    )
    [(name, data, mime)] = upload_parts([("my data", df)])
    assert (name, mime) == ("my data.csv", "text/csv")
    assert data.decode() == "id,day\n7,2025-01-01\n8,\n"  # a named index is kept; a midnight is a date


async def test_deleting_a_chat_deletes_its_uploaded_files_and_tables(client: Any, local_server: Any) -> None:
    import os

    conversation = client.conversation()
    uploads = await maybe(conversation.upload([targets(), ("report.pdf", PDF, "application/pdf")]))
    folder = local_server._ctx.upload_dir
    chat_db = os.path.join(folder, f"{conversation.chat_id}.sqlite")
    pdf = os.path.join(folder, "files", uploads[1].id)
    assert os.path.isfile(chat_db)
    assert os.path.isfile(pdf)
    await maybe(client.chats.delete(conversation.chat_id))
    assert not os.path.exists(chat_db)
    assert not os.path.exists(pdf)


def test_uploads_beside_a_file_store_are_owner_only_and_survive_a_restart(tmp_path: Any) -> None:
    import os
    import stat

    from trellis_jupyter.local import serve_in_background

    store = str(tmp_path / "chats.sqlite")
    server = serve_in_background(store=store)
    try:
        with Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as c:
            conversation = c.conversation()
            [upload] = conversation.upload([targets(), ("chart.png", PNG, "image/png")])[1:]
            chat_id = cast(str, conversation.chat_id)  # the upload created the chat
    finally:
        server.stop()
    folder = store + ".uploads"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for path in (os.path.join(folder, f"{chat_id}.sqlite"), os.path.join(folder, "files", upload.id)):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    again = serve_in_background(store=store)
    try:
        with Trellis(base_url=again.base_url, api_key=again.api_key, email=again.email) as c:
            answer = c.conversation(chat_id).ask("SELECT count(*) FROM targets")
            assert answer.tables[0].rows == [[5]]
            assert [u.filename for u in c.chats.uploads(chat_id)] == ["targets.csv", "chart.png"]
    finally:
        again.stop()


def test_concurrent_uploads_to_one_chat_get_distinct_tables(local_server: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with Trellis(base_url=local_server.base_url, api_key=local_server.api_key, email=local_server.email) as c:
        chat_id = c.chats.create()["id"]

        def one(n: int) -> tuple[str, ...]:
            return c.chats.upload(chat_id, [("t.csv", f"n\n{n}\n".encode(), "text/csv")])[0].tables

        with ThreadPoolExecutor(4) as pool:
            names = sorted(t for tables in pool.map(one, range(6)) for t in tables)
        assert names == sorted(["t", "t_2", "t_3", "t_4", "t_5", "t_6"])
        answer = c.conversation(chat_id).ask(
            "SELECT " + " + ".join(f"(SELECT n FROM {name})" for name in names) + " AS total"
        )
        assert answer.tables[0].rows == [[sum(range(6))]]


def test_odd_headers_become_plain_distinct_columns(local_server: Any) -> None:
    with Trellis(base_url=local_server.base_url, api_key=local_server.api_key, email=local_server.email) as c:
        conversation = c.conversation()
        csv = "Prénom,Âge,,Âge,select\nZoë,31,x,32,1\n".encode()
        conversation.upload([("people.csv", csv, "text/csv")])
        described = conversation.ask("SELECT * FROM people")
        assert described.tables[0].headers == ["prénom", "âge", "column_3", "âge_2", "select"]
        assert described.tables[0].rows == [["Zoë", 31, "x", 32, 1]]


def test_xlsx_without_openpyxl_says_how_to_get_it(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "openpyxl", None)  # the server thread imports it from here
    with Trellis(base_url=local_server.base_url, api_key=local_server.api_key, email=local_server.email) as c:
        chat_id = c.chats.create()["id"]
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        with pytest.raises(BadRequestError, match=r"trellis-jupyter\[xlsx\]"):
            c.chats.upload(chat_id, [("book.xlsx", b"PK\x03\x04rest", mime)])


def test_a_csv_is_typed_over_all_its_chunks(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from trellis_jupyter.local import uploads

    monkeypatch.setattr(uploads, "CSV_CHUNK_ROWS", 3)  # the server thread reads it from this module
    lines = ["n,x,day,later"] + [f"{i},{i},2025-01-0{1 + i % 9}," for i in range(7)]
    lines[6] = "5,5.5,2025-01-06,,extra"  # chunk 2: a real, and a row wider than the header
    lines[7] = "6,six,,"  # chunk 3: text in x, an empty date
    with Trellis(base_url=local_server.base_url, api_key=local_server.api_key, email=local_server.email) as c:
        conversation = c.conversation()
        conversation.upload([("chunks.csv", "\n".join(lines).encode(), "text/csv")])
        types = conversation.ask("describe chunks")
        assert [row[:2] for row in types.tables[0].rows] == [
            ["n", "INTEGER"],
            ["x", "TEXT"],
            ["day", "DATE"],
            ["later", "TEXT"],
            ["column_5", "TEXT"],
        ]
        rows = conversation.ask("SELECT n, x, day, column_5 FROM chunks ORDER BY n")
        assert len(rows.tables[0].rows) == 7
        assert rows.tables[0].rows[5] == [5, "5.5", "2025-01-06", "extra"]
        assert rows.tables[0].rows[6] == [6, "six", None, None]


def test_get_chat_lists_a_question_uploads_on_that_question_only(local_server: Any) -> None:
    """7.3: a user message sent with ``upload_ids`` carries ``metadata.uploads``, each upload with
    the documented keys; no other message does, and no path of the server's machine shows."""
    with Trellis(base_url=local_server.base_url, api_key=local_server.api_key, email=local_server.email) as c:
        conversation = c.conversation()
        conversation.ask("hello")  # a question before, without files
        conversation.ask(
            "how many rows are in the uploaded table",
            files=[targets(), ("report.pdf", PDF, "application/pdf")],
        )
        conversation.ask("how many customers are there")  # and one after
        chat_id = cast(str, conversation.chat_id)
        uploads = conversation.uploads()

        response = httpx.get(
            f"{local_server.base_url}/v1/chats/{chat_id}", headers=bearer(token_for(local_server))
        )
        assert response.status_code == 200
        messages = response.json()["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"] * 3
        listed = messages[2]["metadata"]["uploads"]
        assert [
            (u["id"], u["filename"], u["upload_type"], u["mime_type"], u["file_size"]) for u in listed
        ] == [(u.id, u.filename, u.upload_type, u.mime_type, u.file_size) for u in uploads]
        assert [u["filename"] for u in listed] == ["targets.csv", "report.pdf"]
        for upload in listed:
            assert {"storage_path", "presigned_url"} <= upload.keys()
            assert upload["presigned_url"] is None  # the files stay on this machine
            assert isinstance(upload["storage_path"], str)
            assert not os.path.isabs(upload["storage_path"])  # an opaque key, not a path of the machine
        assert local_server._ctx.upload_dir not in response.text
        for index in (0, 1, 3, 4, 5):
            assert "uploads" not in messages[index]["metadata"], messages[index]

        # The client reads them; an upload deleted since leaves the history with its file.
        [question] = [m for m in c.chats.get(chat_id).messages if m.uploads]
        assert question.id == messages[2]["id"]
        assert [u.filename for u in question.uploads] == ["targets.csv", "report.pdf"]
        c.chats.delete_upload(uploads[1].id)
        [question] = [m for m in c.chats.get(chat_id).messages if m.uploads]
        assert [u.filename for u in question.uploads] == ["targets.csv"]


def test_an_edit_sends_the_new_question_with_the_files_of_the_old_one(local_server: Any) -> None:
    """Edit Message has no ``upload_ids``: the edited question keeps the files it was sent with
    (those not deleted since), Get Chat lists them on the new message, and they link to it."""
    with Trellis(base_url=local_server.base_url, api_key=local_server.api_key, email=local_server.email) as c:
        conversation = c.conversation()
        asked = conversation.ask(
            "how many rows are in the uploaded table",
            files=[targets(), ("report.pdf", PDF, "application/pdf")],
        )
        chat_id = cast(str, conversation.chat_id)
        csv_upload, pdf_upload = conversation.uploads()
        c.chats.delete_upload(pdf_upload.id)  # deleted since: the edit goes without it

        edited = conversation.edit("what is the total quota in the uploaded table")
        assert edited.complete, edited.text
        assert edited.tables[0].rows == [[725]]
        assert edited.user_message_id != asked.user_message_id
        [question] = [m for m in c.chats.get(chat_id).messages if m.role == "user"]
        assert question.id == edited.user_message_id
        assert [u.filename for u in question.uploads] == ["targets.csv"]
        # The client carries over what the replaced answer held; Get Chat (above) is the record.
        assert edited.uploads == asked.uploads
        [upload] = conversation.uploads()
        assert upload.id == csv_upload.id
        assert upload.message_id == edited.user_message_id

        # A question sent without files stays without them when edited.
        plain = c.conversation()
        plain.ask("how many customers are there")
        again = plain.edit("how many products are there")
        assert again.uploads == []
        [message] = [m for m in c.chats.get(cast(str, plain.chat_id)).messages if m.role == "user"]
        assert message.uploads == []
