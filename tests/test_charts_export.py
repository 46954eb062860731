"""Saved notebooks show every chart without a kernel or a network (issue 10).

A notebook runs headless in a real kernel (nbclient) against ``%trellis connect --local``: a
``%%trellis`` chart, ``answer.chart``, ``answer.chart.properties(width=600)``, and a line chart of
20,000 points from a passthrough SQL question (an Answer built from the query's rows: the planner
draws no chart for raw SQL). Then nbconvert writes it as HTML, as nbviewer or a CI artifact would.
Checked: an image for each chart in the HTML (nbconvert shows the static SVG, never a script),
no MaxRowsError, a saved notebook of bounded size, and a renderer the user chose kept.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

pytestmark = pytest.mark.timeout(240)

VEGALITE_V5 = "application/vnd.vegalite.v5+json"
ARTIFACTS = Path(__file__).resolve().parent.parent / ".ci" / "artifacts"
BIG_SQL = (
    "SELECT o.id AS order_id, ROUND(SUM(i.quantity * i.unit_price), 2) AS total "
    "FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY o.id ORDER BY o.id LIMIT 20000"
)
CELLS: dict[str, str] = {
    "setup": (
        "%load_ext trellis_jupyter\n"
        "%config Trellis.local_store = ':memory:'\n"
        "%config Trellis.local_pace = 0.0\n"
        "%trellis connect --local"
    ),
    "magic": "%%trellis -o by_region\nrevenue by region as a bar chart",
    "answer": "by_region",
    "chart": "by_region.chart",
    "wider": "by_region.chart.properties(width=600)",
    "layered": "by_region.chart + by_region.chart.mark_text(dy=-6).encode(text='value:Q')",
    "query": (
        "from trellis_jupyter import Trellis\n"
        "from trellis_jupyter.answer import Answer\n"
        "from trellis_jupyter.events import Chart, Message, Visualization\n"
        "from trellis_jupyter.local import serve_in_background\n"
        "# A second local server that sends 20,000 rows of a table (the default cap is 1,000).\n"
        "big_server = serve_in_background(store=':memory:', row_cap=20_000)\n"
        "client = Trellis(base_url=big_server.base_url, api_key=big_server.api_key, email=big_server.email)\n"
        f"raw = client.conversation().ask({BIG_SQL!r})\n"
        "points = [{'label': str(order_id), 'value': total} for order_id, total in raw.tables[0].rows]\n"
        "big = Answer('order totals')\n"
        "big.feed(Visualization(Chart(id='big', chart_type='line', title='Order totals', values=points)))\n"
        "big.feed(Message(raw.text))\n"
        "big_server.stop()\n"
        "len(points)"
    ),
    "big_answer": "big",
    "big_chart": "big.chart",
    "big_wider": "big.chart.properties(width=800)",
    # The user's own chart, Altair's row limit lifted on purpose: shown offline, every row kept.
    "own_large": (
        "import altair as alt\nimport pandas as pd\n"
        "alt.data_transformers.disable_max_rows()\n"
        "mine = pd.DataFrame({'x': range(6000), 'y': [i % 97 for i in range(6000)]})\n"
        "alt.Chart(mine).mark_point().encode(x='x:Q', y='y:Q')"
    ),
    # A renderer the user enables on purpose is kept: for answer.chart, and after another answer.
    "own_renderer": "import altair as alt\nalt.renderers.enable('png')\nby_region.chart",
    "magic_after": "%%trellis -o by_segment\nnumber of customers in each segment as a donut chart",
    "renderer_after": "alt.renderers.active",
}
CHART_CELLS = ["magic", "answer", "chart", "wider", "layered", "big_answer", "big_chart", "big_wider"]
MAX_NOTEBOOK_BYTES = 2_500_000  # the whole saved notebook, eight charts, three of 20,000 points
MAX_OUTPUT_BYTES = 700_000  # one chart output (spec + SVG): 20,000 points as JSON alone are ~0.8 MB


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(source, id=name) for name, source in CELLS.items()]
    nb: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cwd = tmp_path_factory.mktemp("export")
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


@pytest.fixture(scope="module")
def html(executed: nbformat.NotebookNode) -> str:
    body, _ = HTMLExporter().from_notebook_node(executed)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "charts-export.html").write_text(body)
    return str(body)


def _cell(nb: nbformat.NotebookNode, name: str) -> Any:
    return next(c for c in nb.cells if c.id == name)


def _chart_outputs(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if {VEGALITE_V5, "image/svg+xml"} & set(o.get("data", {}))]


def _points(spec: dict[str, Any]) -> int:
    """Inline data points in a Vega-Lite spec (``data.values`` and every ``datasets`` entry)."""
    datasets = spec.get("datasets") or {}
    inline = (spec.get("data") or {}).get("values") or []
    return len(inline) + sum(len(rows) for rows in datasets.values())


class _Cells(HTMLParser):
    """Splits nbconvert's HTML by cell (``id="cell-id=NAME"``), and lists each cell's images."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.images: dict[str, list[str]] = {}
        self.scripts: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        cell_id = found.get("id") or ""
        if tag == "div" and cell_id.startswith("cell-id="):
            self.current = cell_id[len("cell-id=") :]
            self.images[self.current] = []
            self.scripts[self.current] = 0
        if self.current is None:
            return
        if tag == "img":
            self.images[self.current].append(str(found.get("src") or "")[:40])
        elif tag == "svg":
            self.images[self.current].append("<svg>")
        elif tag == "script":
            self.scripts[self.current] += 1


def test_every_cell_ran_without_an_error(executed: nbformat.NotebookNode) -> None:
    errors = [(c.id, o.get("ename")) for c in executed.cells for o in c.outputs if o.output_type == "error"]
    assert errors == []
    text = json.dumps(executed)
    assert "MaxRowsError" not in text
    assert "Error loading script" not in text
    # The big chart really had 20,000 points, from the passthrough SQL question.
    query = _cell(executed, "query")
    assert query.outputs[-1]["data"]["text/plain"] == "20000"


def test_each_chart_output_has_a_native_v5_spec_and_a_static_svg(executed: nbformat.NotebookNode) -> None:
    for name in ["magic", "chart", "wider", "layered", "big_chart", "big_wider"]:
        outputs = _chart_outputs(_cell(executed, name))
        assert len(outputs) == 1, name
        data = outputs[0]["data"]
        assert data[VEGALITE_V5]["$schema"].endswith("/vega-lite/v5.json"), name
        assert data["image/svg+xml"].lstrip().startswith("<svg"), name
        assert data["text/plain"], name
    wider = _cell(executed, "wider").outputs[0]["data"][VEGALITE_V5]
    assert wider["width"] == 600
    # A layer of a trellis chart on itself: its views' names (data set names in Vega) stay distinct.
    names = [view.get("name") for view in _cell(executed, "layered").outputs[0]["data"][VEGALITE_V5]["layer"]]
    assert len(set(names)) == len(names) == 2, names


def test_a_20000_point_chart_is_cut_for_display_but_not_in_python(executed: nbformat.NotebookNode) -> None:
    from trellis_jupyter.charts import MAX_LINE_POINTS

    for name in ["big_chart", "big_wider"]:
        output = _cell(executed, name).outputs[0]
        spec = output["data"][VEGALITE_V5]
        assert 0 < _points(spec) <= MAX_LINE_POINTS, name
        assert "20,000" in json.dumps(spec.get("title")), name  # the subtitle says what was cut
        assert len(json.dumps(output)) < MAX_OUTPUT_BYTES, name
    answer = _cell(executed, "big_answer").outputs[0]
    assert len(json.dumps(answer)) < MAX_OUTPUT_BYTES
    ours = nbformat.from_dict(executed)  # the notebook less the user's own 6,000-point chart
    ours.cells = [c for c in ours.cells if c.id != "own_large"]
    assert len(nbformat.writes(ours).encode()) < MAX_NOTEBOOK_BYTES


def test_exported_html_has_an_image_for_each_chart_and_no_chart_script(
    executed: nbformat.NotebookNode, html: str
) -> None:
    parser = _Cells()
    parser.feed(html)
    for name in CHART_CELLS:
        images = parser.images.get(name)
        assert images is not None, f"cell {name} missing from the HTML"
        assert len(images) == 1, (name, images)
        assert images[0] == "<svg>" or images[0].startswith("data:image/svg+xml"), (name, images)
        assert parser.scripts[name] == 0, name  # nothing that would fetch Vega from a CDN
    assert not re.search(r"cdn\.jsdelivr\.net/npm/vega", html)


def test_the_users_own_chart_is_shown_offline_with_all_its_rows(executed: nbformat.NotebookNode) -> None:
    # docs/charts.md: after a chart answer, ``trellis`` is Altair's renderer (none was chosen).
    data = _cell(executed, "own_large").outputs[0]["data"]
    assert _points(data[VEGALITE_V5]) == 6000  # the display limits are for trellis charts only
    assert "image/svg+xml" in data


def test_a_renderer_the_user_chose_is_kept(executed: nbformat.NotebookNode) -> None:
    own = _cell(executed, "own_renderer").outputs
    assert [sorted(o["data"]) for o in own] == [["image/png", "text/plain"]]  # Altair's png renderer
    after = _cell(executed, "magic_after").outputs
    charts = [o for o in after if "image/png" in o.get("data", {}) or VEGALITE_V5 in o.get("data", {})]
    assert len(charts) == 1
    assert VEGALITE_V5 not in charts[0]["data"]
    assert _cell(executed, "renderer_after").outputs[0]["data"]["text/plain"] == "'png'"
