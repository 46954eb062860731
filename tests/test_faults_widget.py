"""Faults through the chat widget (Python side), via the fault proxy to the real local server.

For each fault (``faults_helpers.SOME``, by id): the assistant entry ends with status ``error``
(or ``interrupted``) and the expected sentence in its ``error`` field, keeping the partial text;
``chat_id`` is kept; the next question in the same widget is answered in the same chat; the server
holds no question twice. A malformed event must cost nothing but a note: the answer completes.
What the browser shows of these states is js/test and tests/test_widget_browser.py.
"""

from __future__ import annotations

import re
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

from trellis_jupyter.client import AsyncTrellis, Trellis
from trellis_jupyter.widget import ChatWidget

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("scenario", params(SOME))
async def test_widget_survives(scenario: Scenario, server: Any, proxy: FaultProxy, upstream: Trellis) -> None:
    """ChatWidget: entry error sentence, partial text, chat id kept, next question works, no double."""
    first, second = (f"long answer please [{scenario.id} widget {n}]" for n in (1, 2))
    options = {
        "base_url": proxy.base_url,
        "api_key": server.api_key,
        "email": server.email,
        **scenario.client,
    }
    async with AsyncTrellis(**options) as client:
        conversation = client.conversation(transport=scenario.transport)
        widget = ChatWidget(conversation=conversation)
        widget.send = lambda content, buffers=None: None  # no front end here
        try:
            scenario.install(proxy)
            answer = await widget.ask(first)
            entry = widget.transcript[-1]
            assert entry["role"] == "assistant"
            assert widget.busy is False
            if scenario.error is None or scenario.recoverable:
                assert answer.complete, entry
                assert entry["status"] == "done"
                assert entry["text"] == long_text()
            else:
                assert entry["status"] in ("error", "interrupted"), entry
                assert re.search(scenario.sentence or "", entry["error"] or ""), entry["error"]
                if scenario.partial:
                    assert entry["text"]
                    assert long_text().startswith(entry["text"].rstrip())
                    assert entry["text"] == answer.text
                if scenario.chat_kept:
                    assert widget.chat_id == answer.chat_id is not None
            kept = widget.chat_id
            after = await widget.ask(second)
            assert after.complete
            assert after.text == long_text()
            assert widget.transcript[-1]["status"] == "done"
            if kept is not None:
                assert after.chat_id == kept
            assert widget.chat_id == after.chat_id
            check_server(upstream, after.chat_id, first, second, scenario)
        finally:
            await conversation.aclose()
