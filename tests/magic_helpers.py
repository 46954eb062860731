"""Helpers for the magic, session and display tests: a scripted planner and a recording publisher.

The scripted planner plugs into the real local server through its planner seam: questions are
answered with real SQL over the real demo database, but with answers the tests can predict
(a long text for streaming, a table and a chart, a failing query for the error path).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

from trellis_jupyter.events import Chart, Table
from trellis_jupyter.local.planner_protocol import DatabaseInfo, PastTurn, PlannedAnswer, RunQuery

LONG_TEXT = " ".join(f"word{i}" for i in range(40)) + "."
BRIEF_TEXT = "A brief answer."
REGION_SQL = "SELECT region, COUNT(*) AS customers FROM customers GROUP BY region ORDER BY region"


class ScriptedPlanner:
    """Answers by keyword: ``fail`` (a failing query), ``long`` (40 words, no table), ``brief``
    (three words), ``many``
    (2,000 rows, cut by the server's row cap) and anything else (a table and a bar chart)."""

    def answer(
        self, question: str, *, database: DatabaseInfo, history: Sequence[PastTurn], run_query: RunQuery
    ) -> PlannedAnswer:
        words = question.lower()
        if "fail" in words:
            run_query("SELECT * FROM no_such_table")  # raises QueryError: the server sends `error`
        if "long" in words:
            return PlannedAnswer(text=LONG_TEXT, state={"n": len(history)})
        if "brief" in words:
            return PlannedAnswer(text=BRIEF_TEXT, state={"n": len(history)})
        if "many" in words:
            result = run_query("SELECT id, name FROM customers ORDER BY id")
            table = Table(
                id="manyrows01",
                headers=result.headers,
                rows=result.rows,
                title="Customers",
                sql=result.sql,
                row_count=result.row_count,
                truncated=result.truncated,
            )
            return PlannedAnswer(text=f"There are {result.row_count} customers.", visualizations=[table])
        result = run_query(REGION_SQL)
        table = Table(
            id="regions001",
            headers=result.headers,
            rows=result.rows,
            title="Customers by region",
            sql=result.sql,
            row_count=result.row_count,
        )
        chart = Chart(
            id="regionbar1",
            chart_type="bar",
            values=[{"label": str(r[0]), "value": r[1]} for r in result.rows],
            title="Customers by region",
            x_axis_label="Region",
            y_axis_label="Customers",
        )
        top = max(result.rows, key=lambda r: r[1] if isinstance(r[1], (int, float)) else 0)
        text = f"Customers are spread over {len(result.rows)} regions; **{top[0]}** has the most ({top[1]})."
        return PlannedAnswer(text=text, visualizations=[table, chart], state={"n": len(history)})


class RecordingPublisher(DisplayPublisher):
    """A display publisher that records every publish (and prints nothing)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.calls: list[dict[str, Any]] = []
        self.on_publish: Any = None

    def publish(
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        source: Any = None,
        *,
        transient: dict[str, Any] | None = None,
        update: bool = False,
        **kwargs: Any,
    ) -> None:
        call = {"data": data, "metadata": metadata or {}, "transient": transient or {}, "update": update}
        self.calls.append(call)
        if self.on_publish is not None:
            self.on_publish(call)

    def clear(self) -> None:
        self.calls.clear()

    def dump(self) -> str:
        """Everything published, as one string (for "no secret anywhere" checks)."""
        return json.dumps(self.calls, default=str)


@contextmanager
def extension_shell(
    monkeypatch: Any, env: Mapping[str, str] | None = None, names: Sequence[str] = ()
) -> Iterator[InteractiveShell]:
    """The InteractiveShell with trellis_jupyter loaded on a fresh kernel session (in-memory chat
    store), its displays recorded by a :class:`RecordingPublisher` (``shell.display_pub``), and
    ``env`` (e.g. a server's TRELLIS_* variables) set and no ``%config Trellis`` left from an earlier
    test; unloaded and reset after, ``names`` and ``_trellis`` dropped from the user namespace."""
    from trellis_jupyter.session import reset_session

    shell = InteractiveShell.instance()
    # %config Trellis.* merges into the shell's config, which outlives a session: a test's
    # `transport = 'websocket'` then made later modules' tests ask over a kept socket.
    shell.config.pop("Trellis", None)
    monkeypatch.setattr(shell, "display_pub", RecordingPublisher(shell=shell))
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    reset_session().settings.local_store = ":memory:"
    assert shell.extension_manager is not None
    shell.extension_manager.load_extension("trellis_jupyter")
    try:
        yield shell
    finally:
        shell.extension_manager.unload_extension("trellis_jupyter")
        shell.config.pop("Trellis", None)
        reset_session()
        for name in ("_trellis", *names):
            shell.user_ns.pop(name, None)
