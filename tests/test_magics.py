"""%%trellis and %trellis in a real InteractiveShell, against the real local server over loopback."""

from __future__ import annotations

import _thread
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from IPython.core.displaypub import DisplayPublisher
from IPython.core.extensions import ExtensionManager
from IPython.core.formatters import DisplayFormatter
from IPython.core.interactiveshell import InteractiveShell
from magic_helpers import BRIEF_TEXT, LONG_TEXT, RecordingPublisher, ScriptedPlanner, extension_shell

from trellis_jupyter.answer import Answer
from trellis_jupyter.client import Trellis
from trellis_jupyter.magic_args import substitute
from trellis_jupyter.sanitize import markdown_to_plain
from trellis_jupyter.session import get_session


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    """A paced local server (deltas 20 ms apart) with predictable answers and pages of 2 chats."""
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:", pace=0.02, planner=ScriptedPlanner(), page_size=2) as server:
        yield server


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """The InteractiveShell with the extension loaded on a fresh session, displays recorded."""
    with extension_shell(monkeypatch, names=("ans", "frame", "ch", "region", "quiet_answer")) as sh:
        yield sh


@pytest.fixture
def connected(shell: InteractiveShell, server: Any, monkeypatch: pytest.MonkeyPatch) -> InteractiveShell:
    """The shell with credentials in the environment, as a user would have them."""
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    return shell


def run(sh: InteractiveShell, source: str) -> Any:
    result = sh.run_cell(source)
    if result.error_in_exec is not None or result.error_before_exec is not None:
        raise AssertionError(f"cell failed: {result.error_in_exec or result.error_before_exec!r}")
    return result


def failing(
    sh: InteractiveShell, source: str, capsys: pytest.CaptureFixture[str]
) -> tuple[BaseException, str]:
    """Run a cell that must fail; its exception and everything it printed."""
    capsys.readouterr()
    result = sh.run_cell(source)
    error = result.error_in_exec or result.error_before_exec
    assert error is not None, f"{source!r} did not fail"
    captured = capsys.readouterr()
    return error, captured.out + captured.err


def server_client(server: Any) -> Trellis:
    return Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email)


def publisher(sh: InteractiveShell) -> RecordingPublisher:
    pub = sh.display_pub
    assert isinstance(pub, RecordingPublisher)
    return pub


# --- {{name}} substitution --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in {{region}} only", "in East only"),
        ("{{ region }}", "East"),  # spaces inside the braces
        ("{region} and {{region}}", "{region} and East"),  # single braces stay as typed
        ("{{region}}{{n}}", "East3"),
        ("{{{region}}}", "{East}"),
        (r"\{{region}}", "{{region}}"),  # escaped: kept as typed
        ("{{not a name}} {{1x}}", "{{not a name}} {{1x}}"),  # not a variable reference
        ("{{tricky}}", "{{region}} \\1"),  # a value is inserted as is, never substituted again
        ("{{}}", "{{}}"),
    ],
)
def test_substitute(text: str, expected: str) -> None:
    assert substitute(text, {"region": "East", "n": 3, "tricky": "{{region}} \\1"}) == expected


def test_substitute_names_an_undefined_variable() -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match=r"\{\{nope\}\} names no Python variable: define nope first"):
        substitute("how about {{nope}}?", {})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("%%trellis\n   \n", "The cell has no question"),
        ("%%trellis --new --chat chat_x\nq", "--new and --chat contradict each other"),
        ("%%trellis -n -3\nq", "the number of rows must be 0 or more"),
        ("%%trellis --df class\nq", "'class' is not a Python variable name"),
        ("%trellis feedback sideways", "invalid choice: 'sideways'"),
        ("%trellis frobnicate", "invalid choice: 'frobnicate'"),
        ("%trellis connect --db x.sqlite", "--db only goes with --local"),
        ("%trellis rename", "the following arguments are required: TITLE"),
        ("%trellis feedback down --note don't like it", "A quote in the options is not closed"),
    ],
)
def test_bad_input_is_one_usage_line(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], source: str, message: str
) -> None:
    from IPython.core.error import UsageError

    error, out = failing(shell, source, capsys)
    assert isinstance(error, UsageError)
    assert message in str(error)
    assert "Traceback" not in out
    assert publisher(shell).calls == []


# --- loading -------------------------------------------------------------------------------------


def test_load_unload_and_reload(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    magics = shell.magics_manager.magics
    assert "trellis" in magics["line"]
    assert "trellis" in magics["cell"]
    run(shell, "%config Trellis.display_rows = 3")
    assert get_session().settings.display_rows == 3
    run(shell, "%config Trellis")
    assert "Trellis.coalesce_interval" in capsys.readouterr().out

    extensions = cast(ExtensionManager, shell.extension_manager)  # every InteractiveShell has one
    extensions.unload_extension("trellis_jupyter")
    assert "trellis" not in magics["line"]
    assert "trellis" not in magics["cell"]
    assert get_session().settings not in cast(list[Any], shell.configurables)
    error, _ = failing(shell, "%trellis status", capsys)
    assert "trellis" in str(error)

    extensions.reload_extension("trellis_jupyter")
    assert "trellis" in magics["line"]
    assert "trellis" in magics["cell"]
    assert get_session().settings.display_rows == 3  # the kernel's session outlived the reload


@pytest.mark.parametrize("chosen", [None, "json"])
def test_the_users_own_altair_chart_displays_offline_unless_they_chose_a_renderer(
    shell: InteractiveShell, chosen: str | None
) -> None:
    """After %load_ext, the first Altair chart shown switches Altair's default renderer to the
    offline one (Vega-Lite v5 + a static SVG, no CDN); a renderer the user chose is kept."""
    import altair as alt
    import pandas as pd

    from trellis_jupyter.charts import disable_offline_charts

    before = alt.renderers.active
    alt.renderers.enable(chosen or "default")
    try:
        chart = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_line().encode(x="x", y="y")
        data, _ = cast(DisplayFormatter, shell.display_formatter).format(chart)
        if chosen is None:
            assert alt.renderers.active == "trellis"
            assert data["application/vnd.vegalite.v5+json"]["$schema"].endswith("v5.json")
            assert data["image/svg+xml"].startswith("<svg")
        else:
            assert alt.renderers.active == "json"
            assert "application/vnd.vegalite.v5+json" not in data
            assert "application/json" in data
    finally:
        disable_offline_charts()
        alt.renderers.enable(before)


def test_help_documents_commands_and_settings(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    run(shell, "%trellis help")
    out = capsys.readouterr().out
    for word in ("connect", "status", "history", "chats", "use", "new", "rename", "delete", "feedback",
                 "edit", "models", "integrations", "widget", "--df NAME", "-n ROWS"):  # fmt: skip
        assert word in out
    for setting in (
        "display_rows",
        "transport",
        "coalesce_interval",
        "model",
        "integration",
        "offline_charts",
    ):
        assert f"Trellis.{setting}" in out


# --- asking ----------------------------------------------------------------------------------------


def test_answer_streams_in_several_updates_then_a_final_one(connected: InteractiveShell) -> None:
    run(connected, "%%trellis -o ans\nGive me a long answer")
    ans = connected.user_ns["ans"]
    assert isinstance(ans, Answer)
    assert ans.complete
    assert ans.text == LONG_TEXT
    calls = publisher(connected).calls
    display_id = calls[0]["transient"]["display_id"]
    updates = [c for c in calls if c["update"] and c["transient"]["display_id"] == display_id]
    with_text = [u for u in updates if "word" in u["data"]["text/plain"]]
    # 40 deltas over at least 0.8 s, shown at most every 0.08 s: several updates, far fewer than 40.
    assert 3 <= len(with_text) < 40
    final = updates[-1]
    assert final["data"]["text/markdown"] == LONG_TEXT
    assert final["metadata"]["trellis"]["chat_id"] == ans.chat_id
    assert final["metadata"]["trellis"]["message_id"] == ans.message_id
    assert connected.user_ns["_trellis"] is ans


def test_follow_ups_continue_the_chat_and_new_starts_another(
    connected: InteractiveShell, server: Any
) -> None:
    run(connected, "%%trellis\ncustomers by region")
    first = connected.user_ns["_trellis"]
    run(connected, "%%trellis\nand a brief answer")
    second = connected.user_ns["_trellis"]
    assert first.chat_id is not None
    assert second.chat_id == first.chat_id
    with server_client(server) as client:
        messages = client.chats.get(first.chat_id)["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
        assert messages[2]["content"] == "and a brief answer"

        run(connected, "%%trellis --new\ncustomers by region")
        third = connected.user_ns["_trellis"]
        run(connected, "%trellis new")
        run(connected, "%%trellis\ncustomers by region")
        fourth = connected.user_ns["_trellis"]
        assert len({first.chat_id, third.chat_id, fourth.chat_id}) == 3
        assert len(client.chats.get(third.chat_id)["messages"]) == 2


def test_output_options_bind_answer_dataframe_and_chart(
    connected: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    import altair as alt
    import pandas as pd

    run(connected, "%%trellis -o ans --df frame --chart ch\ncustomers by region")
    ns = connected.user_ns
    assert isinstance(ns["ans"], Answer)
    assert ns["_trellis"] is ns["ans"]
    frame = ns["frame"]
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["region", "customers"]
    assert len(frame) == 4
    assert isinstance(ns["ch"], alt.TopLevelMixin)
    outputs = [c for c in publisher(connected).calls if not c["update"]]
    assert any("application/vnd.vegalite.v5+json" in c["data"] for c in outputs)
    assert any("Customers by region" in c["data"]["text/plain"] and "4 rows" in c["data"]["text/plain"]
               for c in outputs)  # fmt: skip

    capsys.readouterr()
    run(connected, "%%trellis --df frame --chart ch\na brief answer")
    assert ns["frame"] is None
    assert ns["ch"] is None
    out = capsys.readouterr().out
    assert "This answer has no table: frame is None." in out
    assert "This answer has no chart: ch is None." in out


def test_quiet_shows_nothing_and_still_binds(
    connected: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    run(connected, "%%trellis -q -o quiet_answer --df frame\na brief answer")
    assert publisher(connected).calls == []
    assert capsys.readouterr().out == ""
    assert connected.user_ns["quiet_answer"].text == BRIEF_TEXT


def test_rows_option_limits_table_rows(connected: InteractiveShell) -> None:
    run(connected, "%%trellis -n 2\nhow many customers")
    table = next(c for c in publisher(connected).calls if "Customers" in c["data"].get("text/plain", ""))
    assert "(2 of 2,000 rows)" in table["data"]["text/plain"]
    assert "SELECT id, name FROM customers" in table["data"]["text/plain"]


def test_question_variables_are_substituted(connected: InteractiveShell, server: Any) -> None:
    connected.user_ns["region"] = "East"
    run(connected, "%%trellis\na brief answer about {{region}}, not {region}")
    answer = connected.user_ns["_trellis"]
    assert answer.question == "a brief answer about East, not {region}"
    with server_client(server) as client:
        assert client.chats.get(answer.chat_id)["messages"][0]["content"] == answer.question


def test_undefined_variable_sends_nothing(
    connected: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    error, out = failing(connected, "%%trellis\nwhat about {{undefined_thing}}", capsys)
    assert "names no Python variable" in str(error)
    assert "Traceback" not in out
    assert get_session().chat_id is None
    assert publisher(connected).calls == []


# --- commands ---------------------------------------------------------------------------------


def test_status_history_and_listing_commands(
    connected: InteractiveShell, server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run(connected, "%trellis status")
    out = capsys.readouterr().out
    assert server.base_url in out
    assert "none yet" in out
    assert "Transport:   sse" in out
    run(connected, "%%trellis\ncustomers by region")
    chat_id = connected.user_ns["_trellis"].chat_id
    run(connected, "%%trellis --new\na brief answer")
    run(connected, "%%trellis --new\na long answer")
    capsys.readouterr()

    run(connected, "%trellis status")
    out = capsys.readouterr().out
    assert connected.user_ns["_trellis"].chat_id in out
    assert "demo" in out
    run(connected, "%trellis history")
    history = connected.display_pub.calls[-1]["data"]  # type: ignore[attr-defined]
    out = history["text/plain"]
    assert "Q: a long answer" in out
    assert "word39." in out
    assert "<strong>a long answer</strong>" in history["text/html"]
    run(connected, "%trellis use " + chat_id)
    capsys.readouterr()
    run(connected, "%trellis history")
    history = connected.display_pub.calls[-1]["data"]  # type: ignore[attr-defined]
    out = history["text/plain"]
    assert "**" in connected.user_ns["_trellis"].text  # the answer is markdown...
    assert "**" not in out  # ...and the history's text is plain
    assert "East" in out
    assert "<strong>East</strong>" in history["text/html"]  # ...and its HTML renders it
    run(connected, "%trellis chats")
    first_page = capsys.readouterr().out
    assert "%trellis chats --page 2 for more" in first_page  # pages of 2 on this server
    run(connected, "%trellis chats --page 2")
    assert chat_id in capsys.readouterr().out
    run(connected, "%trellis models")
    assert "claude-sonnet-4-6" in capsys.readouterr().out
    run(connected, "%trellis integrations")
    assert f"* {server.integration_id}  demo" in capsys.readouterr().out


def test_use_resumes_a_chat_with_its_tables(
    connected: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    run(connected, "%%trellis\ncustomers by region")
    old = connected.user_ns["_trellis"]
    run(connected, "%trellis new")
    run(connected, "%%trellis\na brief answer")
    assert get_session().chat_id != old.chat_id

    capsys.readouterr()
    run(connected, f"%trellis use {old.chat_id}")
    assert f"Continuing chat {old.chat_id}: 1 answer loaded" in capsys.readouterr().out
    resumed = connected.user_ns["_trellis"]
    assert resumed.text == old.text
    assert resumed.df is not None
    assert list(resumed.df.columns) == ["region", "customers"]
    run(connected, "%%trellis\na brief answer")
    assert connected.user_ns["_trellis"].chat_id == old.chat_id

    run(connected, "%trellis new")
    run(connected, f"%%trellis --chat {old.chat_id}\na brief answer")
    assert connected.user_ns["_trellis"].chat_id == old.chat_id
    assert len(get_session().state.answers) == 3


def test_rename_feedback_edit_and_delete(connected: InteractiveShell, server: Any) -> None:
    run(connected, "%%trellis\ncustomers by region")
    first = connected.user_ns["_trellis"]
    chat_id = first.chat_id
    run(connected, """%trellis rename Bob's "regional" split""")
    run(connected, "%trellis feedback down --note 'too short'")
    with server_client(server) as client:
        chat = client.chats.get(chat_id)
        assert chat["title"] == """Bob's "regional" split"""  # free text, kept as typed
        assert chat["messages"][1]["metadata"]["feedback"] == "negative"

        run(connected, '%trellis edit -o ans "What\'s a brief answer instead?"')
        edited = connected.user_ns["ans"]
        assert edited.chat_id == chat_id
        assert edited.text == BRIEF_TEXT
        messages = client.chats.get(chat_id)["messages"]
        assert [m["content"] for m in messages] == ["What's a brief answer instead?", BRIEF_TEXT]
        run(connected, "%trellis feedback up")
        assert client.chats.get(chat_id)["messages"][1]["metadata"]["feedback"] == "positive"

        run(connected, "%trellis delete")
        assert get_session().chat_id is None
        assert chat_id not in {c["id"] for c in client.chats.iter_all()}


def test_edit_without_text_asks_the_last_question_again(connected: InteractiveShell) -> None:
    run(connected, "%%trellis\ncustomers by region")
    first = connected.user_ns["_trellis"]
    run(connected, "%trellis edit")
    again = connected.user_ns["_trellis"]
    assert again is not first
    assert again.question == "customers by region"
    assert again.complete
    assert len(get_session().state.answers) == 1  # the edit replaced the answer


def test_widget_command_shares_the_conversation(connected: InteractiveShell) -> None:
    pytest.importorskip("trellis_jupyter.widget")
    result = run(connected, "%trellis widget")
    assert result.result is not None


# --- connecting ----------------------------------------------------------------------------------


def test_connect_local_with_a_database_file(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER, name TEXT, region TEXT)")
        db.executemany("INSERT INTO customers VALUES (?, ?, ?)", [(1, "a", "East"), (2, "b", "West")])
    run(shell, f"%trellis connect --local --db {path}")
    out = capsys.readouterr().out
    session = get_session()
    assert session.local_server is not None
    assert "Connected to the local server" in out
    assert "shop" in out
    run(shell, "%trellis integrations")
    assert "shop" in capsys.readouterr().out
    run(shell, "%%trellis -o ans\nSELECT region FROM customers ORDER BY region")
    assert shell.user_ns["ans"].df["region"].tolist() == ["East", "West"]

    error, out = failing(shell, f"%trellis connect --local --db {tmp_path / 'missing.sqlite'}", capsys)
    assert "stays connected to http://127.0.0.1:" in str(error)
    assert "No SQLite file at" in str(error)
    assert "Traceback" not in out
    assert session.local_server is not None  # the running one is kept


def test_connect_resolves_integration_names_and_refuses_unknown_ones(
    connected: InteractiveShell, server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run(connected, "%trellis connect --integration demo --model claude-haiku-4-5")
    session = get_session()
    assert session.integration_id() == server.integration_id
    assert session.settings.model == "claude-haiku-4-5"
    error, out = failing(connected, "%trellis connect --integration nowhere", capsys)
    assert "No integration has the id or name 'nowhere'" in str(error)
    assert "Traceback" not in out


def test_websocket_transport_streams_the_same_chat(connected: InteractiveShell, server: Any) -> None:
    run(connected, "%%trellis\ncustomers by region")
    chat_id = connected.user_ns["_trellis"].chat_id
    run(connected, "%config Trellis.transport = 'websocket'")
    run(connected, "%%trellis -o ans\na long answer")
    session = get_session()
    assert session.conversation.transport == "websocket"
    assert connected.user_ns["ans"].text == LONG_TEXT
    assert connected.user_ns["ans"].chat_id == chat_id  # the chat carried over to the socket
    updates = [c for c in publisher(connected).calls if c["update"] and "word" in c["data"]["text/plain"]]
    assert len(updates) >= 3
    run(connected, "%trellis connect --transport sse")
    assert session.settings.transport == "sse"


# --- Ctrl-C and errors --------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_ctrl_c_mid_answer_keeps_the_partial_answer_and_the_chat(
    connected: InteractiveShell, server: Any, capsys: pytest.CaptureFixture[str], transport: str
) -> None:
    run(connected, f"%config Trellis.transport = {transport!r}")
    run(connected, "%%trellis\ncustomers by region")
    chat_id = connected.user_ns["_trellis"].chat_id
    timers: list[threading.Timer] = []

    def interrupt_soon(call: dict[str, Any]) -> None:
        # Once text shows, a Ctrl-C arrives 50 ms later, while the kernel waits on the socket.
        if not timers and "word" in call["data"].get("text/plain", ""):
            timers.append(threading.Timer(0.05, _thread.interrupt_main))
            timers[0].start()

    publisher(connected).on_publish = interrupt_soon
    capsys.readouterr()
    run(connected, "%%trellis -o ans\na long answer")  # no error: the cell ends quietly
    publisher(connected).on_publish = None
    timers[0].join()
    out = capsys.readouterr()
    assert "KeyboardInterrupt" not in out.out + out.err  # no red line, no traceback
    assert "Traceback" not in out.out + out.err
    partial = connected.user_ns["ans"]
    assert connected.user_ns["_trellis"] is partial
    assert partial.interrupted
    assert partial.chat_id == chat_id
    assert LONG_TEXT.startswith(partial.text)
    assert len(partial.text) < len(LONG_TEXT)
    shown = publisher(connected).calls[-1]["data"]["text/plain"]
    assert shown.endswith("Stopped: the answer above is partial.")

    run(connected, "%%trellis\ncustomers by region")  # the next question works, in the same chat
    after = connected.user_ns["_trellis"]
    assert after.complete
    assert after.chat_id == chat_id
    with server_client(server) as client:
        contents = [m["content"] for m in client.chats.get(chat_id)["messages"] if m["role"] == "user"]
    assert contents[0] == "customers by region"
    assert contents[-1] == "customers by region"


def one_sentence(error: BaseException, out: str) -> str:
    """The single line IPython showed for ``error``: no traceback."""
    assert "Traceback" not in out
    assert "---------" not in out
    lines = [line for line in out.strip().splitlines() if line]
    assert len(lines) == 1, out
    return lines[0]


def test_missing_credentials_is_one_sentence(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    error, out = failing(shell, "%%trellis\nhow many orders?", capsys)
    line = one_sentence(error, out)
    assert line == (  # both ways out: the bundled server, or credentials
        "ConfigurationError: Not connected: run %trellis connect --local to try the bundled offline "
        "server, or set TRELLIS_API_KEY and TRELLIS_EMAIL (or TRELLIS_TOKEN) and run %trellis connect."
    )


def test_wrong_key_unknown_chat_and_unreachable_server(
    connected: InteractiveShell,
    server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    error, out = failing(connected, "%trellis use chat_doesnotexist", capsys)
    assert one_sentence(error, out).startswith("NotFoundError: Chat chat_doesnotexist was not found")
    error, out = failing(connected, "%%trellis --chat chat_doesnotexist\nhello", capsys)
    assert one_sentence(error, out).startswith("NotFoundError:")

    error, out = failing(connected, "%trellis connect --base-url http://127.0.0.1:9", capsys)
    assert one_sentence(error, out).startswith(
        "ConnectFailedError: %trellis connect failed, so the kernel stays"
    )
    assert "Could not reach Trellis at http://127.0.0.1:9" in out
    run(connected, "%trellis status")  # the failed connect left the working one in place
    assert server.base_url in capsys.readouterr().out

    monkeypatch.setenv("TRELLIS_API_KEY", "tj-wrong-key")
    error, out = failing(connected, "%trellis connect", capsys)
    line = one_sentence(error, out)
    assert line.startswith("ConnectFailedError: %trellis connect failed, so the kernel stays connected to")
    assert "rejected the API key" in line
    assert "tj-wrong-key" not in line


def test_server_error_event_is_one_sentence_with_its_code(
    connected: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    error, out = failing(connected, "%%trellis -o ans\nthis will fail", capsys)
    line = one_sentence(error, out)
    assert line.startswith("AnswerError: Trellis could not answer:")
    assert getattr(error, "code", None) == "QUERY_FAILED"
    ans = connected.user_ns["ans"]
    assert ans.error is not None
    assert ans.chat_id is not None
    # Each error once: the raised sentence above, and no status line in the answer's output.
    assert "QUERY_FAILED" not in publisher(connected).dump()
    assert out.count("Trellis could not answer") == 1
    run(connected, "%%trellis\na brief answer")  # and the chat goes on
    assert connected.user_ns["_trellis"].chat_id == ans.chat_id


def test_rate_limit_says_how_long_to_wait(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(
        store=":memory:", planner=ScriptedPlanner(), create_chat_limits=[(1, 60.0)]
    ) as limited:
        for name, value in limited.env.items():
            monkeypatch.setenv(name, value)
        run(shell, "%config Trellis.max_retry_wait = 2")  # the server asks for about a minute
        run(shell, "%%trellis\na brief answer")
        error, out = failing(shell, "%%trellis --new\na brief answer", capsys)
    line = one_sentence(error, out)
    assert line.startswith("RateLimitError: Rate limited: wait ")
    assert line.endswith(" s and ask again (more than max_retry_wait, 2 s).")


def test_a_refused_question_shows_its_wait_then_answers(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status line says "Rate limited; retrying in 1 s" while the refused create waits."""
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(
        store=":memory:", planner=ScriptedPlanner(), hosted_limits=True, create_chat_limits=[(1, 1.0)]
    ) as limited:
        for name, value in limited.env.items():
            monkeypatch.setenv(name, value)
        run(shell, "%%trellis\na brief answer")
        publisher(shell).clear()
        run(shell, "%%trellis --new -o second\na brief answer")
        shown = [call["data"].get("text/plain", "") for call in publisher(shell).calls]
        assert any(text.startswith("Rate limited; retrying in 1 s") for text in shown), shown
        assert shell.user_ns["second"].complete
        with server_client(limited) as client:
            assert client.chats.list()["total"] == 2


def test_no_secret_in_any_output(
    connected: InteractiveShell, server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for source in ("%trellis connect", "%%trellis -o ans --df frame\ncustomers by region", "%trellis status",
                   "%trellis history", "%trellis chats", "ans", "repr(get_ipython())"):  # fmt: skip
        connected.run_cell(source)
    connected.run_cell("from trellis_jupyter.session import get_session; print(repr(get_session()))")
    connected.run_cell("print(repr(get_session().client))")
    captured = capsys.readouterr()
    everything = captured.out + captured.err + publisher(connected).dump()
    assert server.api_key not in everything
    assert "eyJ" not in everything  # no JWT


def test_terminal_ipython_gets_plain_text(
    connected: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(connected, "display_pub", DisplayPublisher(shell=connected))
    capsys.readouterr()
    run(connected, "%%trellis -n 2\ncustomers by region")
    out = capsys.readouterr().out
    answer = connected.user_ns["_trellis"]
    assert "**" in answer.text  # the answer's markdown...
    plain = markdown_to_plain(answer.text)
    assert "**" not in plain
    assert "**" not in out  # ...reads as plain text in a terminal
    assert out.index("Asking Trellis…") < out.index(plain) < out.index("Customers by region")
    assert "(4 rows)" not in out
    assert "(2 of 4 rows)" in out
    assert "[bar chart: Customers by region (4 points)] (bind it with --chart NAME)" in out
    run(connected, "%trellis history")  # printed once, as plain text
    history = capsys.readouterr().out
    assert history.count("[1] Q: customers by region") == 1
    assert "**" not in history
    assert "<" not in history


# --- the smoke notebook, executed headless in a real kernel ----------------------------------------


def test_smoke_notebook_runs_headless_with_readable_outputs() -> None:
    import json

    import nbformat
    from nbclient import NotebookClient

    path = Path(__file__).parent / "notebooks" / "magic_smoke.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    nbformat.validate(nb)
    code = {cell.source.splitlines()[0]: cell for cell in nb.cells if cell.cell_type == "code"}

    def outputs(first_line: str) -> list[Any]:
        return list(code[first_line].get("outputs", []))

    def printed(first_line: str) -> str:
        return "".join(o["text"] for o in outputs(first_line) if o["output_type"] == "stream")

    answer, table, chart = outputs("%%trellis -o orders --df by_region --chart bars")
    ids = answer["metadata"]["trellis"]
    assert ids["chat_id"].startswith("chat_")
    assert ids["message_id"]
    # The saved text is the final answer (the streaming updates were applied in place).
    assert "orders last month" in answer["data"]["text/markdown"]
    assert "Asking Trellis" not in answer["data"]["text/plain"]
    assert "<table" in table["data"]["text/html"]
    assert "SQL" in table["data"]["text/html"]
    assert "application/vnd.vegalite.v5+json" in chart["data"]
    assert chart["data"]["image/svg+xml"].startswith("<svg")  # readable without a kernel

    follow_up = outputs("%%trellis -o east")[0]
    assert follow_up["metadata"]["trellis"]["chat_id"] == ids["chat_id"]
    assert printed("import altair as alt").startswith("same chat; 4 regions")
    assert outputs("%%trellis -q -o west") == []
    assert printed("print(west.question)") == "only the West region\nTrue True\n"
    assert ids["chat_id"] in printed("%trellis status")
    (error,) = outputs("%trellis use chat_doesnotexist")
    assert error["ename"] == "NotFoundError"
    assert error["traceback"] == [
        "NotFoundError: Chat chat_doesnotexist was not found: it may have been deleted; start a new chat."
    ]
    saved = json.dumps(nb)
    assert "tj-local-" not in saved  # the local server's API key
    assert "eyJ" not in saved  # no JWT
