"""JupyterLab + Playwright helpers for tests in a real browser (see /work/shared/BROWSER-TESTS.md).

::

    with JupyterLab(env={"TRELLIS_BASE_URL": ...}) as lab, browser_page() as (page, log):
        lab.write_notebook("demo.ipynb", ["print('hi')"])
        open_notebook(page, lab, "demo.ipynb")
        run_all_cells(page)
        wait_until_executed(page)
        screenshot(page, "demo")
        assert log.errors() == []

- :class:`JupyterLab` starts ``jupyter lab`` on loopback in a temporary directory, with a random
  port and token, no browser, no news or update checks, a private settings and workspaces
  directory, and the application exposed as ``window.jupyterapp``.
- :func:`browser_page` launches Debian's chromium (``/usr/bin/chromium``, never a download)
  through Playwright, with the flags a closed network needs, and collects console messages and
  page errors in a :class:`PageLog`.
- Notebook actions go through ``window.jupyterapp`` (commands, the current widget's session),
  never through menus or the status bar.
- Screenshots land in ``.ci/artifacts/`` (the CI uploads that directory).

Tests using these are marked ``@pytest.mark.browser``; :func:`skip_without_browser` skips them
when chromium or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TRELLIS_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / ".ci" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Network off but loopback: every other host goes to a proxy on the discard port, which refuses.
# ``<-loopback>`` drops chromium's implicit loopback bypass, then loopback is bypassed by name.
LOOPBACK_ONLY_ARGS = ["--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>;127.0.0.1;localhost"]
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def skip_without_browser() -> None:
    """Skip the calling test (or module) when chromium or Playwright is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; no browser download needed)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class JupyterLab:
    """A JupyterLab server for one test module, in its own temporary root directory."""

    def __init__(self, env: Mapping[str, str] | None = None, startup_timeout: float = 60.0) -> None:
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._tmp = Path(tempfile.mkdtemp(prefix="trellis-lab-"))
        self.root = self._tmp / "notebooks"
        self.root.mkdir()
        self.log_path = self._tmp / "jupyterlab.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    def start(self) -> JupyterLab:
        env = {**os.environ, **self.env}
        # Private runtime, settings and workspace dirs: no state from a developer's own Lab.
        env["JUPYTER_RUNTIME_DIR"] = str(self._tmp / "runtime")
        env["JUPYTERLAB_SETTINGS_DIR"] = str(self._tmp / "settings")
        env["JUPYTERLAB_WORKSPACES_DIR"] = str(self._tmp / "workspaces")
        env.pop("JUPYTER_TOKEN", None)
        self._write_settings()
        args = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.allow_root=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
            "--JupyterNotebookApp.expose_app_in_browser=True",  # Notebook 7 at /notebooks/NAME
        ]  # fmt: skip
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            args, cwd=self.root, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        self._wait_ready()
        return self

    def _write_settings(self) -> None:
        # No "Would you like to get notified about Jupyter news?" toast over the page.
        settings = self._tmp / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited at start; its log:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.get(f"{self.base_url}/api/status", params={"token": self.token}, timeout=2)
                if response.status_code == 200:
                    return
            time.sleep(0.2)
        waited = f"{self.startup_timeout:.0f} s"
        raise RuntimeError(f"JupyterLab did not answer within {waited}; its log:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def url(self, notebook: str) -> str:
        """The page of a notebook, ``reset`` so that no earlier workspace reopens old tabs."""
        return f"{self.base_url}/lab/tree/{notebook}?reset&token={self.token}"

    def write_notebook(self, name: str, cells: Sequence[str]) -> Path:
        """A notebook of code cells with kernelspec metadata (else a kernel dialog blocks the page)."""
        notebook = {
            "cells": [
                {"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {},
                 "outputs": [], "source": source}
                for i, source in enumerate(cells)
            ],
            "metadata": {
                "kernelspec": KERNELSPEC,
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }  # fmt: skip
        path = self.root / name
        path.write_text(json.dumps(notebook, indent=1))
        return path

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class PageLog:
    """Console messages, page errors and dialogs of a page, as they happened."""

    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda msg: self.console.append((msg.type, msg.text)))
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

        def on_dialog(dialog: Any) -> None:  # an alert() would mean script ran: record, dismiss
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)

    def errors(self, ignore: Sequence[str] = ()) -> list[str]:
        """Console errors and page errors, minus those containing any of ``ignore``."""
        found = [text for kind, text in self.console if kind == "error"] + self.page_errors
        return [e for e in found if not any(part in e for part in ignore)]


@contextlib.contextmanager
def browser_page(
    viewport: tuple[int, int] = (1280, 1000), args: Sequence[str] = ()
) -> Iterator[tuple[Any, PageLog]]:
    """A fresh chromium page (Playwright, Debian's chromium) and its :class:`PageLog`.

    ``args`` are extra chromium flags, e.g. :data:`LOOPBACK_ONLY_ARGS` for a browser with no network.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args], headless=True
        )
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            page = context.new_page()
            log = PageLog()
            log.attach(page)
            yield page, log
        finally:
            browser.close()


def open_notebook(
    page: Any, lab: JupyterLab, name: str, timeout: float = 60.0, *, notebook7: bool = False
) -> None:
    """Open a notebook (in JupyterLab, or in Notebook 7's UI) and wait until its kernel is idle."""
    url = f"{lab.base_url}/notebooks/{name}?token={lab.token}" if notebook7 else lab.url(name)
    page.goto(url, timeout=timeout * 1000)
    page.wait_for_function(
        """(name) => {
            const app = window.jupyterapp;
            const w = app && app.shell && app.shell.currentWidget;
            const session = w && w.sessionContext && w.sessionContext.session;
            const kernel = session && session.kernel;
            return !!(w && w.context && w.context.path.endsWith(name) && kernel && kernel.status === 'idle'
                      && w.content && w.content.widgets && w.content.widgets.length > 0);
        }""",
        arg=name,
        timeout=timeout * 1000,
        polling=200,
    )


def run_command(page: Any, command: str, args: Mapping[str, Any] | None = None) -> None:
    """Run a JupyterLab command (``notebook:run-all-cells``, ``apputils:change-theme``...)."""
    page.evaluate("([c, a]) => window.jupyterapp.commands.execute(c, a)", [command, dict(args or {})])


def run_all_cells(page: Any) -> None:
    run_command(page, "notebook:run-all-cells")


def run_cell(page: Any, index: int) -> None:
    """Run one cell (by index) of the current notebook."""
    page.evaluate(
        "(i) => { const nb = window.jupyterapp.shell.currentWidget.content; nb.activeCellIndex = i; }", index
    )
    run_command(page, "notebook:run-cell")


def kernel_status(page: Any) -> str:
    return str(
        page.evaluate(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " return w.sessionContext.session.kernel.status; }"
        )
    )


def wait_until_executed(page: Any, indices: Sequence[int] | None = None, timeout: float = 120.0) -> None:
    """Wait until the given code cells (all by default) have run and the kernel is idle."""
    page.wait_for_function(
        """(indices) => {
            const w = window.jupyterapp.shell.currentWidget;
            const cells = w.content.widgets.filter((c, i) => indices === null || indices.includes(i));
            const done = cells.every(c => c.model.type !== 'code' || c.model.executionCount !== null);
            return done && w.sessionContext.session.kernel.status === 'idle';
        }""",
        arg=list(indices) if indices is not None else None,
        timeout=timeout * 1000,
        polling=200,
    )


NOTEBOOK_STATE = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  return { cells: nb.widgets.length,
           counts: nb.widgets.map(c => c.model.type === 'code' ? c.model.executionCount : null) };
}"""


def notebook_state(page: Any) -> dict[str, Any]:
    """The current notebook's cell count and execution counts: what a key that leaked out of a
    widget into the notebook (run a cell, insert one) would change."""
    return dict(page.evaluate(NOTEBOOK_STATE))


def cell_output_text(page: Any, index: int) -> str:
    """The text of a cell's outputs, as shown."""
    return str(
        page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].node"
            ".querySelector('.jp-OutputArea')?.innerText ?? ''",
            index,
        )
    )


def screenshot(page: Any, name: str, locator: Any = None) -> Path:
    """Save a PNG under .ci/artifacts/ (of ``locator`` when given, else the page)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    (locator or page).screenshot(path=str(path))
    return path


@contextlib.contextmanager
def widget_notebook(
    server: Any, name: str, cells: Sequence[str], ignored: Sequence[str]
) -> Iterator[tuple[Any, JupyterLab, PageLog]]:
    """JupyterLab on ``server``'s environment with the notebook ``name`` open and its first cell
    (the one that shows the chat widget) run; on exit, no console error but the ``ignored`` ones."""
    skip_without_browser()
    env = {k: v for k, v in server.env.items() if v is not None}
    with JupyterLab(env=env) as lab, browser_page() as (page, log):
        lab.write_notebook(name, cells)
        open_notebook(page, lab, name)
        run_cell(page, 0)
        wait_until_executed(page, [0])
        page.locator(".tj-chat textarea").wait_for(timeout=60_000)
        yield page, lab, log
        errors = log.errors(ignored)
        assert not errors, f"console errors: {errors}\nJupyterLab log:\n{lab.log()}"
