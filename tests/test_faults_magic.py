"""Faults through ``%%trellis`` in a real InteractiveShell, via the fault proxy to the real server.

For each fault (``faults_helpers.SOME``, by id): the cell fails with the expected one-sentence error
(rendered as one line, no traceback) or, for a malformed event, reports it on stderr and completes;
the partial answer is bound to ``_trellis`` and shown with a note; the session keeps the chat id;
the next ``%%trellis`` cell continues the same chat; the server holds no question twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from faults import FaultProxy
from faults_helpers import (  # noqa: F401 - shared fixtures
    SOME,
    Scenario,
    check_server,
    long_text,
    params,
    start_server,
)
from IPython.core.interactiveshell import InteractiveShell
from magic_helpers import RecordingPublisher, extension_shell

from trellis_jupyter.client import Trellis


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    with extension_shell(monkeypatch) as sh:
        yield sh


def _connect(server: Any, proxy: FaultProxy, scenario: Scenario) -> Any:
    """Point the kernel's session at the proxy (with the scenario's client options, e.g. a timeout)."""
    from trellis_jupyter.session import get_session

    session = get_session()
    session.settings.transport = scenario.transport
    session._connection = {"base_url": proxy.base_url, "api_key": server.api_key, "email": server.email}
    session._client = Trellis(**session._connection, **scenario.client)
    return session


# show_stream attaches the partial answer to any TrellisError itself, so KNOWN_BUGS do not show here.
@pytest.mark.parametrize("scenario", params(SOME, bugs={}))
def test_magic_survives(
    scenario: Scenario,
    server: Any,
    proxy: FaultProxy,
    upstream: Trellis,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """%%trellis: one-line error, partial answer bound and shown, chat kept, next cell works, no double."""
    session = _connect(server, proxy, scenario)
    first, second = (
        f"long answer please [{scenario.id} magic 1]",
        f"long answer please [{scenario.id} magic 2]",
    )
    publisher = shell.display_pub
    assert isinstance(publisher, RecordingPublisher)
    scenario.install(proxy)
    capsys.readouterr()
    result = shell.run_cell(f"%%trellis\n{first}")
    printed = capsys.readouterr()
    error = result.error_in_exec
    answer = shell.user_ns.get("_trellis")
    if scenario.error is None or scenario.recoverable:
        assert error is None, repr(error)
        assert answer is not None
        assert answer.complete
        assert answer.text == long_text()
        if scenario.recoverable:
            assert re.search(scenario.sentence or "", printed.err), printed.err
    else:
        assert isinstance(error, scenario.error), repr(error)
        assert re.search(scenario.sentence or "", str(error)), str(error)
        rendered = error._render_traceback_()  # what the notebook shows instead of a traceback
        assert len(rendered) == 1
        assert str(error) in rendered[0]
        if scenario.chat_kept:
            assert answer is not None
            assert session.chat_id == answer.chat_id is not None
        if scenario.partial:
            assert answer.text
            assert long_text().startswith(answer.text.rstrip())
            final = [c for c in publisher.calls if c["update"]][-1]["data"]["text/plain"]
            assert answer.text in final  # the partial answer stays on screen
            # The raised sentence says it ended early, once: the output does not repeat it.
            assert not re.search(r"Stopped|Error", final.split(answer.text)[-1]), final
    kept = session.chat_id
    publisher.clear()
    again = shell.run_cell(f"%%trellis\n{second}")
    assert again.error_in_exec is None, repr(again.error_in_exec)
    after = shell.user_ns["_trellis"]
    assert after.complete
    assert after.text == long_text()
    if kept is not None:
        assert after.chat_id == kept
    check_server(upstream, after.chat_id, first, second, scenario)
