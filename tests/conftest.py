"""Shared fixtures: the real local server on loopback, and an environment free of TRELLIS_* vars."""

from __future__ import annotations

import os
from collections.abc import Iterator

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

    server = serve_in_background(store=":memory:", pace=0.0)
    try:
        yield server
    finally:
        server.stop()
