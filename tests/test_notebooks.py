"""Every notebook in notebooks/ runs top to bottom against the local server with no edits, as
`trellis-jupyter run` (and `make demo`) runs it, with no error output; outputs read well without a
kernel (charts carry a static image, the HTML copy shows them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trellis_jupyter.charts import trellis_chart_type
from trellis_jupyter.notebooks import run_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def outputs(path: Path) -> list[dict[str, Any]]:
    nb = json.loads(path.read_text())
    return [o for cell in nb["cells"] if cell["cell_type"] == "code" for o in cell["outputs"]]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_clean(notebook: Path, tmp_path: Path) -> None:
    run = run_notebook(notebook, tmp_path)  # raises on any error output
    assert run.errors == []
    outs = outputs(run.notebook)
    assert outs, "the notebook produced no output"
    assert not [
        o
        for o in outs
        if o.get("output_type") == "stream"
        and o.get("name") == "stderr"
        and "Error" in "".join(o.get("text", ""))
    ]
    assert run.html is not None
    assert run.html.stat().st_size > 10_000
    charts = [o for o in outs if "application/vnd.vegalite.v5+json" in o.get("data", {})]
    if notebook.stem in ("quickstart", "dataframes_and_charts"):
        assert charts, "no chart was shown"
        assert all("image/svg+xml" in o["data"] or "image/png" in o["data"] for o in charts)
        html = run.html.read_text()
        assert html.count("<img") + html.count("<svg") >= len(charts)
    if notebook.stem == "dataframes_and_charts":
        kinds = {trellis_chart_type(o["data"]["application/vnd.vegalite.v5+json"]) for o in charts}
        assert {"bar", "bar_horizontal", "stacked_bar", "line", "area", "pie", "donut"} <= kinds
    if notebook.stem == "quickstart":
        text = json.dumps(outs)
        assert "chat_" in text
        assert "East" in text
