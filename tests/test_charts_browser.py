"""Charts render with no network, in a real browser (issue 10).

JupyterLab on loopback, Debian's chromium driven by Playwright with the network off twice over:
chromium sends every non-loopback request to a proxy that refuses it (``LOOPBACK_ONLY_ARGS``), and a
Playwright route aborts and records any request to a host other than loopback; each test asserts
that record is empty. The kernel talks to ``%trellis connect --local``. One JupyterLab and one
browser for the whole module.

Screenshots go to .ci/artifacts/ (charts-magic, charts-answer, charts-chart, charts-wider,
charts-notebook7, charts-own, charts-widget).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_helpers import (
    LOOPBACK_ONLY_ARGS,
    JupyterLab,
    PageLog,
    browser_page,
    open_notebook,
    run_all_cells,
    run_command,
    screenshot,
    skip_without_browser,
    wait_until_executed,
)

try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # skip_without_browser() skips the module's tests
    PlaywrightError = Exception  # type: ignore[assignment,misc]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

VEGALITE_V5 = "application/vnd.vegalite.v5+json"
SETUP = (
    "%load_ext trellis_jupyter\n"
    "%config Trellis.local_store = ':memory:'\n"
    "%config Trellis.local_pace = 0.0\n"
    "%trellis connect --local"
)
OWN_CHART = (
    "import altair as alt\nimport pandas as pd\n"
    "alt.Chart(pd.DataFrame({'x': [1, 2, 3, 4], 'y': [3, 1, 4, 2]})).mark_line(point=True)"
    ".encode(x='x:Q', y='y:Q').properties(title='My own chart')"
)
CHARTS = "charts.ipynb"
CHART_CELLS = [
    SETUP,
    "%%trellis -o by_region\nrevenue by region as a bar chart",
    "by_region",
    "by_region.chart",
    "by_region.chart.properties(width=900, title='Revenue by region, wider')",
    "by_region.chart + by_region.chart.mark_text(dy=-6).encode(text='value:Q')",
    OWN_CHART,
]
VIEW_CELLS = [1, 3, 4, 5, 6]  # cells of CHART_CELLS that show a chart as a Vega-Lite view
# The user's own Altair chart with %load_ext only, before any answer has a chart.
OWN = "own_altair.ipynb"
OWN_CELLS = ["%load_ext trellis_jupyter", OWN_CHART, "import altair as alt\nalt.renderers.active"]
WIDGET = "widget_charts.ipynb"
WIDGET_CELLS = [SETUP, "from trellis_jupyter import ChatWidget\nChatWidget()"]

# Text that means a chart tried to load its library from a CDN.
SCRIPT_ERRORS = ("Error loading script", "loading script", "cdn.jsdelivr", "Failed to load resource")
IGNORED = ("[Violation]", "favicon")
CDN_PROBE = "https://cdn.jsdelivr.net/npm/vega@6?noext"


@dataclass
class NetworkGuard:
    """Aborts and records every request to a host other than loopback (a Playwright route)."""

    refused: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.route("**/*", self._route)
        page.on("websocket", self._websocket)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort("internetdisconnected")

    def _websocket(self, ws: Any) -> None:  # routes do not see WebSockets: record them here
        if not _is_local(ws.url):
            self.refused.append(ws.url)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return True  # data:, blob:, about: never touch the network
    return parts.hostname in ("127.0.0.1", "localhost", "::1")


@dataclass
class Browser:
    page: Any
    log: PageLog
    lab: JupyterLab
    guard: NetworkGuard

    def script_errors(self) -> list[str]:
        """Console messages and page errors about loading scripts (warnings included)."""
        seen = [text for _kind, text in self.log.console] + self.log.page_errors
        return [t for t in seen if any(s in t for s in SCRIPT_ERRORS)]

    def reset(self) -> None:
        self.log.console.clear()
        self.log.page_errors.clear()
        self.guard.refused.clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    skip_without_browser()
    with JupyterLab() as lab, browser_page(args=LOOPBACK_ONLY_ARGS) as (page, log):
        lab.write_notebook(CHARTS, CHART_CELLS)
        lab.write_notebook(OWN, OWN_CELLS)
        lab.write_notebook(WIDGET, WIDGET_CELLS)
        # Both layers work (checked on a page of their own, left on chromium's error page):
        # chromium's proxy refuses another host, and so does the guard, which records it.
        probe = page.context.new_page()
        with pytest.raises(PlaywrightError, match="ERR_PROXY_CONNECTION_FAILED"):
            probe.goto(CDN_PROBE, timeout=20_000)
        guard = NetworkGuard()
        guard.attach(probe)
        with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
            probe.goto(CDN_PROBE, timeout=20_000)
        assert guard.refused == [CDN_PROBE]
        probe.unroute_all(behavior="ignoreErrors")  # (closing a page left on the error page can hang)
        guard.attach(page)
        b = Browser(page, log, lab, guard)
        b.reset()
        yield b


def _run_notebook(b: Browser, name: str) -> None:
    """Open a notebook, run all its cells, and save it with its outputs (the Notebook 7 case opens
    the saved file; a saved notebook also leaves without a "leave page?" dialog)."""
    b.reset()
    open_notebook(b.page, b.lab, name)
    run_all_cells(b.page)
    wait_until_executed(b.page, timeout=150)
    run_command(b.page, "docmanager:save")
    b.page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )


@pytest.fixture(scope="module")
def charts_notebook(browser: Browser) -> Browser:
    _run_notebook(browser, CHARTS)
    return browser


# --- what a test reads off the page -----------------------------------------------------------

OUTPUTS = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  return Array.from(cell.node.querySelectorAll('.jp-OutputArea-output')).map(o => ({
    vega: o.classList.contains('jp-RenderedVegaLite'),
    html: o.classList.contains('jp-RenderedHTML'),
    text: o.innerText,
  }));
}"""

# Every chart drawn in a part of the page: a Vega view's canvas or SVG (its size and how many
# pixels are not background), and every <img> of an SVG (loaded, and its size).
DRAWN = """(root) => {
  const views = Array.from(root.querySelectorAll('.vega-embed')).map(e => {
    const canvas = e.querySelector('canvas');
    if (canvas) {
      const ctx = canvas.getContext('2d');
      const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let k = 3; k < px.length; k += 4) {
        if (px[k] > 0 && (px[k - 1] < 200 || px[k - 2] < 200 || px[k - 3] < 200)) ink++;  // not white
      }
      return { kind: 'canvas', width: canvas.clientWidth, height: canvas.clientHeight, ink };
    }
    const svg = e.querySelector('svg.marks');
    if (svg) {
      const box = svg.getBoundingClientRect();
      return { kind: 'svg', width: box.width, height: box.height, ink: svg.querySelectorAll('path').length };
    }
    return { kind: 'none', width: 0, height: 0, ink: 0 };
  });
  const images = Array.from(root.querySelectorAll('img')).map(img => ({
    svg: img.src.startsWith('data:image/svg+xml'), loaded: img.complete && img.naturalWidth > 0,
    width: img.naturalWidth,
  }));
  return { views, images };
}"""


def _cell(b: Browser, index: int) -> Any:
    return b.page.locator(".jp-Notebook .jp-Cell").nth(index)


def _outputs(b: Browser, index: int) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = b.page.evaluate(OUTPUTS, index)
    return result


def _drawn(b: Browser, index: int) -> dict[str, Any]:
    # A Vega view draws after the output is attached: wait until every view has a surface.
    area = _cell(b, index).locator(".jp-OutputArea")
    area.locator(".vega-embed canvas, .vega-embed svg.marks, img").first.wait_for(timeout=30_000)
    result: dict[str, Any] = area.evaluate(DRAWN)
    return result


def _assert_one_drawn_chart(drawn: dict[str, Any]) -> dict[str, Any]:
    assert len(drawn["views"]) == 1, drawn
    view = drawn["views"][0]
    assert view["kind"] in ("canvas", "svg"), view
    assert view["width"] > 100, view
    assert view["height"] > 100, view
    assert view["ink"] > 200 if view["kind"] == "canvas" else view["ink"] > 3, view  # bars, axes, text
    return dict(view)


# --- the cases ----------------------------------------------------------------------------------


def test_magic_answer_chart_and_derived_charts_render_offline_in_jupyterlab(charts_notebook: Browser) -> None:
    b = charts_notebook
    # %%trellis: the answer's text, its table, and its chart as a native Vega-Lite 5 view.
    magic = _outputs(b, 1)
    assert "East" in magic[0]["text"]
    assert [o["vega"] for o in magic].count(True) == 1, magic
    magic_chart = _assert_one_drawn_chart(_drawn(b, 1))
    screenshot(b.page, "charts-magic", _cell(b, 1))
    # docs/charts.md: drawn on the notebook's own background (see-through), so JupyterLab's dark
    # theme shows no white box.
    background = _cell(b, 1).locator(".jp-OutputArea").evaluate(BACKGROUND)
    assert background["clear"] > 0.25, background
    assert background["white"] < 0.01, background

    # The Answer displayed: a static <img> of the SVG made in the kernel, loaded.
    answer = _outputs(b, 2)
    assert [o["html"] for o in answer] == [True], answer
    images = _drawn(b, 2)["images"]
    assert [(i["svg"], i["loaded"]) for i in images] == [(True, True)], images
    assert images[0]["width"] > 100
    screenshot(b.page, "charts-answer", _cell(b, 2))

    # answer.chart, and charts derived from it: native views; the width change shows.
    assert [o["vega"] for o in _outputs(b, 3)] == [True]
    chart = _assert_one_drawn_chart(_drawn(b, 3))
    screenshot(b.page, "charts-chart", _cell(b, 3))
    assert [o["vega"] for o in _outputs(b, 4)] == [True]
    wider = _assert_one_drawn_chart(_drawn(b, 4))
    screenshot(b.page, "charts-wider", _cell(b, 4))
    assert wider["width"] > chart["width"] + 300, (chart, wider)  # 900 px against the 560 answer charts have
    assert chart["width"] == magic_chart["width"]

    assert b.script_errors() == []
    assert b.log.errors(IGNORED) == []
    assert b.guard.refused == []


def test_layer_built_on_answer_chart_renders_offline(charts_notebook: Browser) -> None:
    b = charts_notebook  # a LayerChart: shown by Altair's renderer, ``trellis`` after the magic
    outputs = _outputs(b, 5)
    assert [o["vega"] for o in outputs] == [True], outputs
    _assert_one_drawn_chart(_drawn(b, 5))
    screenshot(b.page, "charts-layered", _cell(b, 5))
    assert b.guard.refused == []


def test_users_own_chart_renders_offline_after_a_chart_answer(charts_notebook: Browser) -> None:
    """docs/charts.md: once trellis-jupyter has shown a chart, ``trellis`` is Altair's renderer
    (the user had not chosen one), so the user's own charts render offline too."""
    b = charts_notebook
    assert [o["vega"] for o in _outputs(b, 6)] == [True]
    _assert_one_drawn_chart(_drawn(b, 6))
    screenshot(b.page, "charts-own", _cell(b, 6))
    assert b.script_errors() == []
    assert b.guard.refused == []


def test_saved_notebook_renders_offline_in_notebook7(charts_notebook: Browser) -> None:
    import httpx

    b = charts_notebook
    url = f"{b.lab.base_url}/notebooks/{CHARTS}?token={b.lab.token}"
    if httpx.get(url, timeout=10).status_code == 404:
        pytest.skip("the notebook package (Notebook 7) is not installed")
    b.reset()
    b.page.goto(url)
    # The saved outputs, as Notebook 7 renders them: a native Vega-Lite view for the magic's chart,
    # answer.chart, the wider one, the layer and the user's own chart; the Answer's image.
    views = b.page.locator(".jp-OutputArea-output.jp-RenderedVegaLite")
    views.nth(len(VIEW_CELLS) - 1).wait_for(timeout=60_000)
    assert views.count() == len(VIEW_CELLS)
    for index in VIEW_CELLS:
        _assert_one_drawn_chart(_drawn(b, index))
    images = _drawn(b, 2)["images"]
    assert [(i["svg"], i["loaded"]) for i in images] == [(True, True)], images
    screenshot(b.page, "charts-notebook7")
    assert b.script_errors() == []
    assert b.guard.refused == []


def test_users_own_chart_renders_offline_right_after_load_ext(browser: Browser) -> None:
    b = browser
    _run_notebook(b, OWN)
    # The first Altair display switched to the offline renderer (the user had not chosen one).
    assert "'trellis'" in _outputs(b, 2)[0]["text"]
    assert [o["vega"] for o in _outputs(b, 1)] == [True], _outputs(b, 1)
    _assert_one_drawn_chart(_drawn(b, 1))
    assert b.script_errors() == []
    assert b.guard.refused == []


def test_widget_draws_charts_from_its_bundle_without_network(browser: Browser) -> None:
    b = browser
    _run_notebook(b, WIDGET)
    box = b.page.locator(".tj-chat textarea").first
    box.wait_for(timeout=30_000)
    box.fill("revenue by region as a bar chart")
    box.press("Enter")
    reply = b.page.locator(".tj-chat article.tj-assistant").first
    reply.and_(b.page.locator("[data-status='done']")).wait_for(timeout=60_000)
    chart = reply.locator(".tj-chart svg")
    chart.first.wait_for(timeout=30_000)
    assert reply.locator(".tj-chart .mark-rect path").count() >= 4  # one bar per region
    screenshot(b.page, "charts-widget", b.page.locator(".tj-chat"))
    assert b.script_errors() == []
    assert b.guard.refused == []


def test_widget_works_in_notebook7(browser: Browser) -> None:
    """The same widget notebook in Notebook 7's UI: the widget renders, answers a question with a
    drawn chart, and nothing leaves loopback."""
    b = browser
    b.reset()
    open_notebook(b.page, b.lab, WIDGET, notebook7=True)
    run_all_cells(b.page)
    box = b.page.locator(".tj-chat textarea").first
    box.wait_for(timeout=60_000)
    box.fill("revenue by product category as a pie chart")
    box.press("Enter")
    reply = b.page.locator(".tj-chat article.tj-assistant").last
    reply.and_(b.page.locator("[data-status='done']")).wait_for(timeout=60_000)
    reply.locator(".tj-chart svg").first.wait_for(timeout=30_000)
    assert "Electronics" in reply.locator(".tj-md").inner_text()
    assert reply.locator(".tj-chart .mark-arc path").count() >= 4  # one slice per category
    screenshot(b.page, "widget-notebook7", b.page.locator(".tj-chat"))
    assert b.script_errors() == []
    assert b.guard.refused == []


# The share of a Vega canvas's pixels left fully transparent (its background), and of its opaque
# white pixels (a white box on a dark theme).
BACKGROUND = """(root) => {
  const canvas = root.querySelector('.vega-embed canvas');
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let clear = 0, white = 0;
  for (let k = 3; k < px.length; k += 4) {
    if (px[k] === 0) clear++;
    else if (px[k] === 255 && px[k - 1] > 250 && px[k - 2] > 250 && px[k - 3] > 250) white++;
  }
  const n = px.length / 4;
  return { clear: clear / n, white: white / n };
}"""
