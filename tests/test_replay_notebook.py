"""A notebook executed twice with Trellis.replay on: the second run sends nothing and shows the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from trellis_jupyter.notebooks import run_notebook

QUESTIONS = [
    "how many customers are there",
    "how many orders are there",
    "list the 3 most expensive products",
]


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:") as server:
        yield server


def notebook(path: Path, last_options: str = "") -> Path:
    cells = [nbformat.v4.new_code_cell("%load_ext trellis_jupyter\n%config Trellis.replay = True")]
    for number, question in enumerate(QUESTIONS, 1):
        options = last_options if number == len(QUESTIONS) else ""
        cells.append(
            nbformat.v4.new_code_cell(f"%%trellis -o a{number} {options}\n{question}".replace(" \n", "\n"))
        )
    cells.append(nbformat.v4.new_code_cell("print(a3.df.shape)"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def answer_outputs(path: Path) -> tuple[list[Any], list[str]]:
    """Each code cell's rich outputs, and the 'replayed from' lines printed."""
    nb = json.loads(path.read_text())
    rich: list[Any] = []
    marks: list[str] = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                text = "".join(output["text"])
                marks += [line for line in text.splitlines() if line.startswith("(replayed from ")]
                kept = [line for line in text.splitlines() if not line.startswith("(replayed from ")]
                if kept:
                    rich.append(kept)
            else:
                rich.append({k: v for k, v in output.items() if k != "execution_count"})
    return rich, marks


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_notebook_run_twice_asks_once(server: Any, tmp_path: Path) -> None:
    env = {**server.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    source = notebook(tmp_path / "replay.ipynb")

    before = server.requests
    first = run_notebook(source, tmp_path / "run1", env=env, html=False, isolated=False)
    assert server.requests > before  # the first run asked
    rich1, marks1 = answer_outputs(first.notebook)
    assert marks1 == []
    assert "(3, " in json.dumps(rich1)

    before = server.requests
    second = run_notebook(source, tmp_path / "run2", env=env, html=False, isolated=False)
    assert server.requests == before  # not one request: every answer came from the cache
    rich2, marks2 = answer_outputs(second.notebook)
    assert rich2 == rich1
    assert len(marks2) == len(QUESTIONS)

    refreshed = notebook(tmp_path / "refresh.ipynb", last_options="--refresh")
    before = server.requests
    third = run_notebook(refreshed, tmp_path / "run3", env=env, html=False, isolated=False)
    assert server.requests > before  # --refresh asked again
    _, marks3 = answer_outputs(third.notebook)
    assert len(marks3) == len(QUESTIONS) - 1
    cache = tmp_path / "cache" / "trellis-jupyter" / "answers.sqlite"
    assert cache.is_file()
    assert server.api_key.encode() not in cache.read_bytes()
