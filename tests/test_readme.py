"""The README's examples run as written where they say they run, against the local server.

A fenced block whose info string says ``run=script`` is run as a Python script (its own process),
``run=notebook`` as a notebook cell in a fresh kernel (top-level ``await`` included), and
``run=bash`` with bash; each with the server's ``TRELLIS_*`` in its environment, as a person who
exported what ``trellis-jupyter serve`` printed. Every Python block of the Python API sections is
marked, so none escapes this test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)((?: [^\n]*)?)\n(.*?)^```", re.S | re.M)


def blocks(kind: str) -> list[str]:
    """The blocks marked ``run=<kind>``, in README order."""
    return [body for _, info, body in BLOCK.findall(README) if f"run={kind}" in info.split()]


def section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


SCRIPTS = blocks("script")


def test_the_api_sections_mark_every_python_block() -> None:
    for title in ("The Python API", "Your data and saved queries"):
        for _, info, body in BLOCK.findall(section(title)):
            if _ == "python":
                assert re.search(r"\brun=(script|notebook)\b", info), (
                    f"unmarked block in {title}: {body[:60]!r}"
                )
    assert len(SCRIPTS) >= 5
    assert len(blocks("notebook")) >= 1
    assert len(blocks("bash")) == 1
    assert "asyncio.run(main())" in "".join(SCRIPTS)  # the async example, as a script
    assert any("await " in b and "asyncio.run" not in b for b in blocks("notebook"))  # top-level await


def _env(server: Any) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env.update(server.env)
    return env


@pytest.mark.parametrize("number", range(len(SCRIPTS)), ids=[f"script{n + 1}" for n in range(len(SCRIPTS))])
def test_a_script_block_runs(number: int, local_server: Any, tmp_path: Path) -> None:
    script = tmp_path / f"readme_{number + 1}.py"
    script.write_text(SCRIPTS[number], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        env=_env(local_server),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr


@pytest.mark.slow  # a kernel: tens of seconds on a loaded machine
def test_the_notebook_blocks_run_in_a_kernel(local_server: Any, tmp_path: Path) -> None:
    import nbformat

    from trellis_jupyter.notebooks import run_notebook

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(b) for b in blocks("notebook")])
    path = tmp_path / "readme.ipynb"
    nbformat.write(notebook, path)
    run = run_notebook(path, tmp_path / "out", html=False, env=local_server.env, timeout=240)
    executed = nbformat.read(run.notebook, as_version=4)
    outputs = [o for cell in executed.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    magic = [o for o in executed.cells[1].get("outputs", []) if o.get("output_type") == "display_data"]
    assert any("revenue" in str(o["data"].get("text/plain", "")).lower() for o in magic)  # %%trellis answered
    streamed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "revenue" in streamed.lower()
    frames = [o for o in outputs if o.get("output_type") == "execute_result"]
    assert "segment" in frames[-1]["data"]["text/plain"]  # answer.df, the cell's last value


def test_the_curl_block_streams_an_answer(local_server: Any, tmp_path: Path) -> None:
    [script] = blocks("bash")
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        env=_env(local_server),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = re.findall(r"^event: (\w+)$", done.stdout, re.M)
    assert names[0] == "chat_metadata"
    assert {"processing", "visualization", "text_delta"} <= set(names)
    assert names[-1] == "message"
    final = json.loads(done.stdout.rsplit("data: ", 1)[1])
    assert final["content"]
