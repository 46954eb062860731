"""The bundled local server: the Trellis chat API over real SQLite databases, on loopback.

::

    from trellis_jupyter.local import serve_in_background

    with serve_in_background(databases={"shop": "shop.sqlite"}) as server:
        print(server.base_url, server.integration_id)
        ...                                    # server.env holds the TRELLIS_* settings

Or from a shell: ``trellis-jupyter serve --db shop=shop.sqlite``.
"""

from __future__ import annotations

from .server import LocalServer, serve_in_background
from .settings import Settings

__all__ = ["LocalServer", "Settings", "serve_in_background"]
