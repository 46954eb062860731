"""The magic with your data: --attach, uploads, saved queries (save, queries, --query), replay."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from magic_helpers import RecordingPublisher, extension_shell

from trellis_jupyter.session import get_session
from trellis_jupyter.widget import ChatWidget

NAMES = ("targets", "ans", "frame", "other", "result")


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    """The local server with the bundled planner over the demo database."""
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:") as server:
        yield server


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch, server: Any, tmp_path: Path) -> Iterator[InteractiveShell]:
    with extension_shell(monkeypatch, env=server.env, names=NAMES) as sh:
        get_session().settings.replay_cache = str(tmp_path / "cache" / "answers.sqlite")
        yield sh


def run(sh: InteractiveShell, source: str) -> Any:
    result = sh.run_cell(source)
    if result.error_in_exec is not None or result.error_before_exec is not None:
        raise AssertionError(f"cell failed: {result.error_in_exec or result.error_before_exec!r}")
    return result


def fails(sh: InteractiveShell, source: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    result = sh.run_cell(source)
    error = result.error_in_exec or result.error_before_exec
    assert error is not None, source
    out = capsys.readouterr()
    return str(error) + out.out + out.err


def targets() -> pd.DataFrame:
    df: pd.DataFrame = pd.DataFrame(
        {
            "region": ["North", "South", None],
            "quota": [100, None, 75],
            "since": pd.to_datetime(["2025-01-01", None, "2025-03-05"]),  # type: ignore[arg-type]  # None is NaT
            "owner": ["Zoë", "日本語", None],
        }
    )
    return df


def test_attach_a_dataframe_and_a_file_then_ask_about_them(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["targets"] = targets()
    path = tmp_path / "goals.csv"
    path.write_text("region,goal\nNorth,3\nEast,4\n", encoding="utf-8")
    run(shell, f"%%trellis -o ans --attach targets,{path}\nSELECT count(*) FROM targets")
    assert shell.user_ns["ans"].tables[0].rows == [[3]]
    run(shell, "%%trellis --df frame\nSELECT t.region, g.goal FROM targets t JOIN goals g USING (region)")
    assert shell.user_ns["frame"].to_dict("list") == {"region": ["North"], "goal": [3]}
    capsys.readouterr()
    run(shell, "%trellis uploads")
    listing = capsys.readouterr().out
    assert "targets.csv" in listing
    assert "-> targets" in listing
    assert "goals.csv" in listing
    assert "-> goals" in listing
    run(shell, "%trellis history")  # from the server: the first question names its files
    history = shell.display_pub.calls[-1]["data"]  # type: ignore[attr-defined]
    lines = [x for x in history["text/plain"].splitlines() if x.startswith("[")]
    assert lines == [
        "[1] Q: SELECT count(*) FROM targets  (attached: targets.csv, goals.csv)",
        "[2] Q: SELECT t.region, g.goal FROM targets t JOIN goals g USING (region)",
    ]
    # A widget opened now shows the files on the question they were sent with.
    widget = ChatWidget()
    users = [e for e in widget.transcript if e["role"] == "user"]
    assert [[a["filename"] for a in e.get("attachments") or []] for e in users] == [
        ["targets.csv", "goals.csv"],
        [],
    ]
    widget.close()
    message = fails(shell, "%%trellis --attach nothing_here\nhow many?", capsys)
    assert "no DataFrame variable or file has that name" in message


def test_save_from_the_last_answer_and_run_by_title_with_parameters(
    shell: InteractiveShell, server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run(shell, "%%trellis\nhow many customers are there")
    capsys.readouterr()
    run(shell, "%trellis save Customer count --sql-from-last")
    assert "Saved query 'Customer count'" in capsys.readouterr().out
    run(shell, "%trellis --query 'customer count' -o ans")
    answer = shell.user_ns["ans"]
    assert answer.tables[0].title == "Customer count"
    assert answer.question == "customer count"  # no body: the reference is the text shown

    sql = (
        "SELECT status, count(*) AS n FROM orders WHERE strftime('%Y', order_date) = {{year}}\n"
        "GROUP BY status ORDER BY n DESC, status LIMIT {{limit}}"
    )
    capsys.readouterr()
    run(shell, f"%%trellis save Orders by status\n{sql}")
    printed = capsys.readouterr().out
    assert '%%trellis --query "Orders by status" -p year=... -p limit=...' in printed
    run(shell, "%trellis queries")
    assert "Orders by status  (year, limit)" in capsys.readouterr().out
    year = str(pd.Timestamp.now().year)
    run(
        shell,
        f'%%trellis --query "Orders by status" -p year={year} -p limit=2 -o ans\nOrders by status this year',
    )
    answer = shell.user_ns["ans"]
    assert answer.question == "Orders by status this year"
    assert answer.tables[0].title == "Orders by status"
    assert len(answer.tables[0].rows) == 2
    message = fails(shell, '%%trellis --query "Orders by status" -p year=2025\nx', capsys)
    assert "needs a value for limit" in message
    message = fails(shell, "%%trellis --query nope\nx", capsys)
    assert "No saved query has the id or title 'nope'" in message


def test_quadruple_braces_give_a_literal_placeholder(shell: InteractiveShell) -> None:
    shell.user_ns["other"] = "customers"
    run(shell, "%%trellis -o ans\nhow many {{other}} are there {{{{year}}}}")
    assert shell.user_ns["ans"].question == "how many customers are there {{year}}"


def test_save_without_sql_says_what_to_do(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "has no SQL to save" in fails(shell, "%trellis save Nothing", capsys)


def test_replay_shows_the_kept_answer_without_a_request(
    shell: InteractiveShell, server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run(shell, "%config Trellis.replay = True")
    try:
        _replay_twice(shell, server, capsys)
    finally:
        run(shell, "%config Trellis.replay = False")  # %config outlives the session: leave it off


def _replay_twice(shell: InteractiveShell, server: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cells = ["%%trellis -o ans\nhow many customers are there", "%%trellis -o result\nby region"]
    for cell in cells:
        run(shell, cell)
    first = [shell.user_ns["ans"].text, shell.user_ns["result"].tables[0].rows]
    pub = cast(RecordingPublisher, shell.display_pub)  # the extension_shell fixture's
    published = [call["data"] for call in pub.calls if not call["update"]]

    # A new kernel session (same cache file): the same cells answer with no request at all.
    session = get_session()
    session.new_chat()
    pub.clear()
    before = server.requests
    capsys.readouterr()
    for cell in cells:
        run(shell, cell)
    assert server.requests == before
    assert [shell.user_ns["ans"].text, shell.user_ns["result"].tables[0].rows] == first
    assert [call["data"] for call in pub.calls if not call["update"]] == published
    assert capsys.readouterr().out.count("replayed from ") == 2

    # A changed question, or --refresh, asks again.
    run(shell, "%%trellis --refresh -o result\nby region")
    assert server.requests > before
    asked = server.requests
    run(shell, "%%trellis -o result\nby segment")
    assert server.requests > asked

    cache = Path(session.settings.replay_cache)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache.parent).st_mode) == 0o700
    assert server.api_key.encode() not in cache.read_bytes()
    capsys.readouterr()
    run(shell, "%trellis replay clear")
    assert "answers forgotten" in capsys.readouterr().out
    assert session.answer_cache().stats() == (0, 0)


def test_replay_cache_stays_within_its_size(tmp_path: Path) -> None:
    from trellis_jupyter.replay import AnswerCache

    cache = AnswerCache(str(tmp_path / "a.sqlite"), max_bytes=10_000)
    big = [("message", {"content": "x" * 3000, "id": "m"})]
    for number in range(10):
        assert cache.put(f"k{number}", "q", big)
        assert cache.stats()[1] <= 10_000
    assert cache.get("k0") is None  # the oldest went first
    assert cache.get("k9") is not None
    assert not cache.put("huge", "q", [("message", {"content": "y" * 20_000, "id": "m"})])
    cache.close()
