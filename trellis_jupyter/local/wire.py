"""How events and errors are written: SSE chunks, WebSocket frames, REST error bodies.

Every event is written with the shared dataclasses of :mod:`trellis_jupyter.events` (their
``name`` and ``to_data()``), so the client and this server agree on one wire format.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from starlette.responses import JSONResponse

from trellis_jupyter.events import ErrorEvent, Event, event_name

__all__ = ["ApiError", "error_event", "new_debug_id", "sse_chunk", "ws_frame"]

logger = logging.getLogger("trellis_jupyter.local")

# code -> (error_type, retryable)
_ERROR_KINDS: dict[str, tuple[str, bool]] = {
    "UNAUTHORIZED": ("authentication_error", False),
    "WS_CONNECTION_CAP": ("rate_limit_error", True),
    "RATE_LIMIT": ("rate_limit_error", True),
    "MISSING_CHAT_ID": ("invalid_request_error", False),
    "CHAT_NOT_FOUND": ("not_found_error", False),
    "MESSAGE_NOT_FOUND": ("not_found_error", False),
    "INTEGRATION_NOT_FOUND": ("not_found_error", False),
    "UPLOAD_NOT_FOUND": ("not_found_error", False),
    "QUERY_NOT_FOUND": ("not_found_error", False),
    "INVALID_REQUEST": ("invalid_request_error", False),
    "UNANSWERABLE": ("invalid_request_error", False),
    "QUERY_FAILED": ("query_error", False),
    "QUERY_TIMEOUT": ("query_error", False),
    "QUERY_TOO_LARGE": ("query_error", False),
    "PAYLOAD_TOO_LARGE": ("invalid_request_error", False),
    "TURN_IN_PROGRESS": ("conflict_error", True),
    "NO_ACTIVE_TURN": ("invalid_request_error", False),
    "UNKNOWN_ACTION": ("invalid_request_error", False),
    "INVALID_FRAME": ("invalid_request_error", False),
    "INTERNAL": ("internal_error", True),
}


def new_debug_id() -> str:
    """A correlation id for one failure, logged server-side beside its cause."""
    return f"dbg_{secrets.token_hex(8)}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sse_chunk(event: Event) -> bytes:
    """One whole SSE event (``event:``, ``data:``, blank line), written and flushed in one piece."""
    return f"event: {event_name(event)}\ndata: {_dumps(event.to_data())}\n\n".encode()


def ws_frame(event: Event) -> str:
    """One WebSocket frame: ``{"event": NAME, "data": {...}}``."""
    return _dumps({"event": event_name(event), "data": event.to_data()})


def error_event(
    message: str, code: str, *, retry_after: float | None = None, debug_id: str | None = None
) -> ErrorEvent:
    """A stream ``error`` event with every field of section 0.6."""
    error_type, retryable = _ERROR_KINDS.get(code, ("internal_error", False))
    if code == "RATE_LIMIT" and retry_after is None:
        retry_after = 1.0
    return ErrorEvent(
        error=message,
        code=code,
        retryable=retryable,
        debug_id=debug_id or new_debug_id(),
        error_type=error_type,
        retry_after=round(retry_after, 3) if code == "RATE_LIMIT" and retry_after is not None else None,
    )


def check_text(value: Any) -> None:
    """400 INVALID_REQUEST when a decoded JSON value holds a string that is not valid Unicode.

    JSON's ``\\ud800`` escapes decode to lone surrogates, which cannot be stored or sent as UTF-8.
    The walk is iterative: a deeply nested value cannot exhaust the stack.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ApiError(
                    400,
                    "The request holds text that is not valid Unicode (a lone surrogate such as "
                    "\\ud800): send UTF-8 text.",
                    "INVALID_REQUEST",
                ) from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(raw: bytes | str) -> Any:
    """A JSON document as Python; 400 INVALID_REQUEST for bad JSON, too deep a nesting or bad text."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ApiError(400, "The JSON is nested too deeply: send a flat object.", "INVALID_REQUEST") from None
    except ValueError:  # UnicodeDecodeError included
        raise ApiError(400, "The request body is not valid JSON.", "INVALID_REQUEST") from None
    check_text(value)
    return value


class ApiError(Exception):
    """A REST error: HTTP status, one-sentence detail, machine code (and Retry-After for 429)."""

    def __init__(self, status: int, detail: str, code: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, int(self.retry_after + 0.999)))
        return JSONResponse(
            {"detail": self.detail, "code": self.code}, status_code=self.status, headers=headers
        )
