"""The local server's settings: limits, intervals and caps, all overridable for tests and benchmarks.

The local server is for one person: by default it has no rate limits and no caps. With
``hosted_limits=True`` (``trellis-jupyter serve --hosted-limits``) it applies the hosted service's
documented ones (:data:`HOSTED_LIMITS`: chat creation and sends per token, sends per socket, the
WebSocket connection cap, the open-chat cap), so that a client can be tried against them locally.
Any of them set by name wins over both. ``serve_in_background(**settings)`` and ``trellis-jupyter
serve`` pass overrides through :func:`make_settings`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["HOSTED_LIMITS", "Limit", "Settings", "make_settings"]

# (count, window in seconds): at most `count` events within any `window` seconds.
Limit = tuple[int, float]


@dataclass(frozen=True)
class Settings:
    """Every knob of the local server. Times are in seconds."""

    pace: float = 0.0  # pause between two text deltas
    keepalive_interval: float = 15.0  # SSE ": keepalive" comment while a turn runs
    heartbeat_interval: float = 15.0  # WS heartbeat (with ?heartbeat=1) while a turn runs
    query_timeout: float = 10.0  # one SQL query; QUERY_TIMEOUT beyond it
    row_cap: int = 1000  # rows sent per table; row_count keeps the full count
    token_ttl: int = 21600  # JWT lifetime (6 h)
    hosted_limits: bool = False  # True: HOSTED_LIMITS below, for the fields not set by name
    ws_connection_cap: int = 0  # concurrent sockets per token (jti); 0: no cap
    ws_send_limits: tuple[Limit, ...] = ()  # send_message / edit_message per socket
    token_send_limits: tuple[Limit, ...] = ()  # sends and edits per token, REST and all its sockets
    create_chat_limits: tuple[Limit, ...] = ()  # POST /v1/chats/create per token
    open_chat_cap: int = 0  # chats per member before 409 OPEN_CHAT_CAP; 0: no cap
    page_size: int = 20  # GET /v1/chats
    ws_auth_timeout: float = 30.0  # an unauthenticated socket must authenticate within this
    planner_threads: int = 8  # worker threads running the planner (and its queries)
    long_question_chars: int = 500  # a longer question is planned in the long lane...
    long_question_lane: int = 2  # ...where at most this many plan at once (others wait, using no CPU)
    # --- size caps: the server's memory stays bounded by these whatever a client sends --------
    max_body_bytes: int = 1_000_000  # one REST request body; 413 PAYLOAD_TOO_LARGE beyond it
    max_frame_bytes: int = 1_000_000  # one WebSocket frame received; the socket closes with 1009 beyond it
    max_message_chars: int = 4_000  # a question or an edit; 400 INVALID_REQUEST beyond it
    max_title_chars: int = 200  # a chat title (create, rename, send); 400 INVALID_REQUEST beyond it
    max_cell_chars: int = 10_000  # one table cell: cut beyond it, the table marked truncated
    max_table_bytes: int = 2_000_000  # one table's cells (about its JSON size): rows cut, truncated
    max_value_bytes: int = 1_000_000  # one value SQLite builds during a query: QUERY_TOO_LARGE beyond it
    max_turn_bytes: int = 4_000_000  # what one answer stores and sends (text + visualizations)
    max_answer_chars: int = 100_000  # an answer's text, cut beyond it
    # --- abuse limits (security: on by default, unlike the hosted service's rate limits) ------
    auth_failure_limits: tuple[Limit, ...] = ((20, 60.0),)  # wrong/missing API keys per client address
    header_timeout: float = 10.0  # a connection must send a whole request head within this
    organization_id: str = "org_local"
    jwt_secret: str | None = None  # None: kept in the store (a file store keeps tokens valid)
    planner: Any = None  # any object with Planner.answer; None: trellis_jupyter.local.planner


_FIELDS = {f.name for f in dataclasses.fields(Settings)}

# The hosted service's documented limits (API notes, sections 5 and 9).
HOSTED_LIMITS: dict[str, Any] = {
    "ws_connection_cap": 3,
    "ws_send_limits": ((10, 60.0), (3, 10.0)),
    "token_send_limits": ((30, 60.0),),
    "create_chat_limits": ((20, 60.0),),
    "open_chat_cap": 500,
}


def make_settings(**overrides: Any) -> Settings:
    """Settings with ``overrides`` applied; an unknown name raises ``TypeError`` naming it."""
    unknown = sorted(set(overrides) - _FIELDS)
    if unknown:
        raise TypeError(
            f"Unknown local server setting(s): {', '.join(unknown)}. Known: {', '.join(sorted(_FIELDS))}."
        )
    values = dict(overrides)
    if values.get("hosted_limits"):
        values = {**HOSTED_LIMITS, **values}
    for name in ("ws_send_limits", "token_send_limits", "create_chat_limits", "auth_failure_limits"):
        if name in values:
            values[name] = tuple((int(n), float(w)) for n, w in values[name])
    return Settings(**values)
