"""Saved queries end to end: the routes, and runs with bound parameters on both transports."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest
from client_helpers import close_client, make_client, maybe
from local_helpers import file_digest

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.errors import (
    AnswerError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    TrellisError,
)
from trellis_jupyter.local.savedsql import PlaceholderError, bind_sql, parameters_of

pytestmark = pytest.mark.anyio

SQL = (
    "SELECT status, count(*) AS orders FROM orders WHERE strftime('%Y', order_date) = {{year}} "
    "GROUP BY status ORDER BY orders DESC, status LIMIT {{limit}}"
)


def demo(server: Any) -> str:
    return str(next(iter(server.databases.values())))


def expected(server: Any, year: str, limit: int) -> list[list[Any]]:
    with sqlite3.connect(f"file:{demo(server)}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT status, count(*) AS orders FROM orders WHERE strftime('%Y', order_date) = ? "
            "GROUP BY status ORDER BY orders DESC, status LIMIT ?",
            (year, limit),
        )
        return [list(r) for r in rows]


def a_year_with_orders(server: Any) -> str:
    with sqlite3.connect(f"file:{demo(server)}?mode=ro", uri=True) as db:
        return str(db.execute("SELECT strftime('%Y', max(order_date)) FROM orders").fetchone()[0])


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, local_server: Any) -> AsyncIterator[Trellis | AsyncTrellis]:
    c = make_client(request.param, local_server)
    yield c
    await close_client(c)


async def test_create_get_list_update_delete(client: Any) -> None:
    q = await maybe(
        client.queries.create(
            title="Orders by status",
            prompt="Orders by status in {{year}}",
            sql=SQL,
            keywords=["orders", "status"],
        )
    )
    assert q.parameters == ("year", "limit")
    assert (q.title, q.sql, q.keywords, q.description) == (
        "Orders by status",
        SQL,
        ("orders", "status"),
        None,
    )
    assert q.last_updated_by
    assert q.created_at
    assert q.organization_id
    assert await maybe(client.queries.get(q.id)) == q
    assert q.id in [item.id for item in await maybe(client.queries.list())]

    changed = await maybe(
        client.queries.update(q.id, sql="SELECT * FROM orders WHERE status = {{status}}", keywords=[])
    )
    assert changed.parameters == ("status",)  # re-extracted from the new SQL
    assert (changed.keywords, changed.title, changed.created_at) == ((), q.title, q.created_at)
    renamed = await maybe(client.queries.update(q.id, title="By status", description="One status"))
    assert (renamed.title, renamed.description, renamed.sql) == ("By status", "One status", changed.sql)

    assert await maybe(client.queries.delete(q.id)) is None
    with pytest.raises(NotFoundError, match="Saved query"):
        await maybe(client.queries.get(q.id))
    with pytest.raises(NotFoundError):
        await maybe(client.queries.delete(q.id))
    assert q.id not in [item.id for item in await maybe(client.queries.list())]


@pytest.mark.parametrize("transport", ["sse", "websocket"])
async def test_a_run_binds_its_parameters_and_gives_the_right_rows(
    client: Any, local_server: Any, transport: str
) -> None:
    year = a_year_with_orders(local_server)
    q = await maybe(client.queries.create(title="Orders by status", prompt="Orders by status", sql=SQL))
    conversation = client.conversation(transport=transport)
    try:
        answer = await maybe(
            conversation.ask(
                "Orders by status", saved_query_id=q.id, parameters={"year": int(year), "limit": 2}
            )
        )
        [table] = answer.tables
        assert table.title == "Orders by status"
        assert table.rows == expected(local_server, year, 2)
        assert len(table.rows) == 2
        assert ":year" in (table.sql or "")  # bound, not pasted
        assert year not in (table.sql or "")
        assert f"year = {year}" in answer.text
        # The message is what the chat shows; the run is kept with it.
        chat = await maybe(client.chats.get(conversation.chat_id))
        user = chat["messages"][0]
        assert user["content"] == "Orders by status"
        assert user["metadata"]["saved_query_id"] == q.id
        assert user["metadata"]["parameters"] == {"year": year, "limit": "2"}
    finally:
        if transport == "websocket":
            await maybe(conversation.aclose() if hasattr(conversation, "aclose") else conversation.close())


@pytest.mark.parametrize("transport", ["sse", "websocket"])
async def test_a_missing_parameter_is_a_400_naming_it(client: Any, transport: str) -> None:
    q = await maybe(client.queries.create(title="Orders by status", prompt="p", sql=SQL))
    conversation = client.conversation(transport=transport)
    try:
        expected_error = BadRequestError if transport == "sse" else TrellisError
        with pytest.raises(expected_error, match="needs a value for limit"):
            await maybe(conversation.ask("Orders", saved_query_id=q.id, parameters={"year": "2025"}))
        with pytest.raises(expected_error, match="year, limit"):
            await maybe(conversation.ask("Orders", saved_query_id=q.id))
    finally:
        if transport == "websocket":
            await maybe(conversation.aclose() if hasattr(conversation, "aclose") else conversation.close())


async def test_a_value_carrying_sql_is_only_a_value(client: Any, local_server: Any) -> None:
    before = file_digest(demo(local_server))
    q = await maybe(client.queries.create(title="Orders by status", prompt="p", sql=SQL))
    conversation = client.conversation()
    answer = await maybe(
        conversation.ask(
            "Orders", saved_query_id=q.id, parameters={"year": "1; DROP TABLE orders", "limit": "5"}
        )
    )
    assert answer.tables[0].rows == []  # compared as a year, matching nothing
    with pytest.raises(AnswerError, match="datatype mismatch"):  # not a number of rows
        await maybe(
            conversation.ask(
                "Orders", saved_query_id=q.id, parameters={"year": "2025", "limit": "1; DROP TABLE orders"}
            )
        )
    year = a_year_with_orders(local_server)
    again = await maybe(
        conversation.ask("Orders", saved_query_id=q.id, parameters={"year": year, "limit": 9})
    )
    assert again.tables[0].rows == expected(local_server, year, 9)
    assert file_digest(demo(local_server)) == before


async def test_saved_sql_reads_the_chat_uploads_and_a_prompt_only_query_asks_its_prompt(client: Any) -> None:
    conversation = client.conversation()
    await maybe(conversation.upload([("goals.csv", b"region,goal\nNorth,3\nSouth,5\n", "text/csv")]))
    q = await maybe(
        client.queries.create(
            title="Goal", prompt="goal of a region", sql="SELECT goal FROM goals WHERE region = {{r}}"
        )
    )
    answer = await maybe(conversation.ask("Goal of South", saved_query_id=q.id, parameters={"r": "South"}))
    assert answer.tables[0].rows == [[5]]
    prompt_only = await maybe(client.queries.create(title="Count", prompt="How many {{what}} are there?"))
    assert prompt_only.sql is None
    assert prompt_only.parameters == ()
    counted = await maybe(
        conversation.ask("Count", saved_query_id=prompt_only.id, parameters={"what": "customers"})
    )
    assert "customers" in counted.text
    assert counted.tables[0].rows[0][0] > 0


async def test_bad_saved_queries_are_refused(client: Any) -> None:
    with pytest.raises(BadRequestError, match="inside quotes"):
        await maybe(
            client.queries.create(title="t", prompt="p", sql="SELECT * FROM orders WHERE status = '{{s}}'")
        )
    with pytest.raises(BadRequestError, match="longer than 100,000 characters"):
        await maybe(client.queries.create(title="t", prompt="p", sql="SELECT 1 -- " + "x" * 100_000))
    with pytest.raises(ConfigurationError, match="non-empty 'title'"):
        await maybe(client.queries.create(title=" ", prompt="p"))
    with pytest.raises(ConfigurationError, match="Nothing to update"):  # refused before any request
        await maybe(client.queries.update("no-such-query"))
    with pytest.raises(NotFoundError, match="Saved query"):
        await maybe(client.conversation().ask("x", saved_query_id="no-such-query"))
    with pytest.raises(ConfigurationError, match="saved_query_id"):
        await maybe(client.conversation().ask("x", parameters={"a": "1"}))


def test_placeholders_become_named_parameters_outside_quotes_only() -> None:
    assert parameters_of("a {{x}} b {{ y }} {{x}}") == ["x", "y"]
    assert bind_sql('SELECT * FROM t WHERE a = {{x}} AND b = "{{" LIMIT {{n}}') == (
        'SELECT * FROM t WHERE a = :x AND b = "{{" LIMIT :n'
    )
    assert bind_sql("SELECT 1 -- {{c}}") == "SELECT 1 -- {{c}}"
    for bad in ("SELECT '{{x}}'", 'SELECT "{{x}}"', "SELECT [{{x}}]"):
        with pytest.raises(PlaceholderError):
            bind_sql(bad)


def test_the_readme_examples_run(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    body = readme.split("## Your data and saved queries\n", 1)[1].split("\n## ", 1)[0]
    uploads_block, queries_block = re.findall(r"```python[^\n]*\n(.*?)```", body, re.S)
    for name, value in local_server.env.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {}
    exec(compile(uploads_block, "README (uploads)", "exec"), namespace)  # our own README's code
    exec(compile(queries_block, "README (saved queries)", "exec"), namespace)
    assert namespace["upload"].tables == ("targets",)
    assert [row[0] for row in namespace["joined"].tables[0].rows] == ["North", "South"]
    assert namespace["q"].parameters == ("year", "limit")
    assert namespace["by_status"].tables[0].title == "Orders by status"
    namespace["client"].close()


def test_a_saved_query_body_over_the_server_cap_is_a_413(local_server: Any) -> None:
    import httpx
    from local_helpers import bearer, token_for

    limit = local_server.settings.max_body_bytes
    response = httpx.post(
        f"{local_server.base_url}/v1/queries",
        headers=bearer(token_for(local_server)),
        json={"title": "t", "prompt": "p", "sql": "SELECT 1 -- " + "x" * limit},
        timeout=30,
    )
    assert (response.status_code, response.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
