"""A client written only from the documentation (Node's fetch + the docs' SSE loop) works unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from local_helpers import SteeredPlanner, make_db

from trellis_jupyter.local import serve_in_background

SCRIPT = Path(__file__).parent / "js" / "sse_reader.mjs"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs node")
def test_docs_javascript_quickstart_reads_the_stream(tmp_path: Path) -> None:
    planner = SteeredPlanner()
    planner.gate.clear()
    with serve_in_background(
        databases={"items": make_db(tmp_path / "items.sqlite")}, planner=planner, keepalive_interval=0.02
    ) as server:
        # Hold the answer until keepalive comments went out, so the loop meets them too.
        release = threading.Timer(0.3, planner.gate.set)
        release.start()
        try:
            env = {**os.environ, **server.env, "QUESTION": "SELECT name, qty FROM items ORDER BY id LIMIT 2"}
            done = subprocess.run(
                [str(NODE), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False
            )
        finally:
            release.cancel()
            planner.gate.set()
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["created"] == 201
    events = lines[1:]
    names = [e["event"] for e in events]
    assert names[0] == "chat_metadata"
    assert events[0]["data"]["id"] == lines[0]["chat_id"]
    assert names[-1] == "message"
    table = next(e["data"] for e in events if e["event"] == "visualization")
    assert table["rows"] == [["item 0", 0], ["item 1", 3]]
    text = "".join(e["data"]["content"] for e in events if e["event"] == "text_delta")
    assert text == events[-1]["data"]["content"]
