"""Shared fixtures: the real local server on loopback, and an environment free of TRELLIS_* vars."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _clean_trellis_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own TRELLIS_* settings must never leak into a test.
    for name in list(os.environ):
        if name.startswith("TRELLIS_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def local_server() -> Iterator[object]:
    """The bundled local server over the demo database, in-memory store, no pacing."""
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:", pace=0.0) as server:
        yield server


# --- the fault suite (tests/test_faults_*.py): a server with the fault planner, behind a proxy ---


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    """A local server with the fault suite's scripted planner, one per test module."""
    from faults_helpers import start_server

    srv = start_server()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def upstream(server: Any) -> Iterator[Any]:
    """A client straight to the server (no proxy), to read what the server stored."""
    from trellis_jupyter.client import Trellis

    with Trellis(base_url=server.base_url, api_key=server.api_key, email=server.email) as c:
        yield c


@pytest.fixture
def proxy(server: Any) -> Iterator[Any]:
    """A fresh fault proxy in front of the server, per test."""
    from faults import FaultProxy

    with FaultProxy(server.base_url) as p:
        yield p
