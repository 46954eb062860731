"""The README's Python API examples run as written against the local server (so the README stays
true when the API moves)."""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def python_blocks(section: str) -> list[str]:
    body = README.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_the_python_api_examples_run(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in local_server.env.items():
        monkeypatch.setenv(name, value)
    sync_block, async_block, *_ = python_blocks("The Python API")
    namespace: dict[str, Any] = {}
    exec(compile(sync_block, "README (sync)", "exec"), namespace)  # our own README's code
    answer = namespace["answer"]
    assert answer.complete
    assert list(answer.df.columns) == ["customer", "revenue"]
    namespace["client"].close()

    wrapped = "async def main():\n" + textwrap.indent(async_block, "    ") + "    return answer\n"
    exec(compile(wrapped, "README (async)", "exec"), namespace)
    reply = asyncio.run(namespace["main"]())
    assert reply.complete
    assert len(reply.df) == 3  # three customer segments in the demo database
