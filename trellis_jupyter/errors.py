"""One error family for everything trellis-jupyter raises.

::

    TrellisError                    str(error) is one sentence that says what to do
    ├── ConfigurationError          missing credentials or a bad setting
    ├── APIError                    the server answered a REST call with an error status
    │   ├── BadRequestError         400
    │   ├── AuthenticationError     401, and WebSocket close 4001
    │   ├── PermissionDeniedError   403
    │   ├── NotFoundError           404 (unknown chat, message or integration)
    │   ├── ConflictError           409 (a cap was hit)
    │   ├── RateLimitError          429, with ``retry_after`` in seconds
    │   └── ServerError             5xx
    ├── TransportError              the connection itself failed
    │   ├── ConnectError            the server could not be reached
    │   ├── RequestTimeoutError     no answer within the timeout
    │   └── ConnectionLostError     the stream was cut before the answer was complete
    │       └── EventTooLargeError  the client cut it: one event passed its size limit
    ├── MalformedEventError         the server sent an event we cannot read
    └── AnswerError                 the server ended the answer with an ``error`` event

Every error has ``detail``, ``code``, ``debug_id`` and ``status_code`` where the server gave them,
and ``answer``: the partial :class:`~trellis_jupyter.Answer` when the error happened in a stream,
so that the chat id and the text received so far are never lost. No error ever holds a secret.

``TimeoutError`` is a deprecated alias of :class:`RequestTimeoutError` (it shadowed the builtin on a
star import); it goes in the next release.
"""

from __future__ import annotations

import builtins
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .answer import Answer

__all__ = [
    "APIError",
    "AnswerError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "EventTooLargeError",
    "MalformedEventError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "TransportError",
    "TrellisError",
]


class TrellisError(Exception):
    """Base of every error raised by trellis-jupyter."""

    def __init__(
        self,
        message: str,
        *,
        detail: Any = None,
        code: str | None = None,
        debug_id: str | None = None,
        status_code: int | None = None,
        answer: Answer | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.code = code
        self.debug_id = debug_id
        self.status_code = status_code
        self.answer = answer

    @property
    def chat_id(self) -> str | None:
        """The chat this error happened in, when known (from the partial answer)."""
        return self.answer.chat_id if self.answer is not None else None

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        for key in ("code", "status_code", "debug_id"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: a user sees one sentence.
        return [f"{type(self).__name__}: {self.message}"]


class ConfigurationError(TrellisError):
    """Credentials or settings are missing or wrong; nothing was sent."""


class APIError(TrellisError):
    """The server answered with an error status: ``status_code``, and ``body``, the response's JSON
    (or its text) as the server sent it, any secret in it masked; ``retry_after``: the seconds it
    asked to wait (a 429, or a 503 with ``Retry-After``)."""

    body: Any = None

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BadRequestError(APIError):
    """400: the request was not valid."""


class AuthenticationError(APIError):
    """401 (or WebSocket close 4001): the key or token is missing, wrong or expired."""


class PermissionDeniedError(APIError):
    """403: the server refused the request."""


class NotFoundError(APIError):
    """404: the chat, message or integration does not exist (or is not yours)."""


class ConflictError(APIError):
    """409: a resource cap was hit."""


class RateLimitError(APIError):
    """429, or an in-stream ``RATE_LIMIT``: wait ``retry_after`` seconds and try again.

    The clients wait out a refusal by themselves up to ``max_retry_wait`` seconds in all; this is
    raised when the server asks for more than that.
    """


class ServerError(APIError):
    """5xx: the server failed."""


class TransportError(TrellisError):
    """The connection to the server failed."""


class ConnectError(TransportError):
    """The server could not be reached."""


class RequestTimeoutError(TransportError, builtins.TimeoutError):
    """The server did not answer in time (also a builtin ``TimeoutError``, so either catches it)."""


class ConnectionLostError(TransportError):
    """The connection dropped before the answer was complete; ``answer`` holds what arrived."""


class EventTooLargeError(ConnectionLostError):
    """One SSE line or event passed the client's size limit: the stream was stopped, the partial
    answer kept (a hostile or broken server cannot take the kernel's memory)."""


class MalformedEventError(TrellisError):
    """The server sent an event that cannot be read.

    ``event`` names it and ``position`` (when known) says where in the stream it came, counted in
    events from the start of the stream.
    """

    def __init__(
        self, event: str, reason: str, *, position: int | None = None, answer: Answer | None = None
    ) -> None:
        self.event = event
        self.reason = reason
        self.position = position
        where = f" (event {position} of the stream)" if position is not None else ""
        super().__init__(
            f"The server sent a malformed '{event}' event{where}: {reason}. "
            "The partial answer is kept; ask again, and report it if it repeats.",
            answer=answer,
        )

    def at(self, position: int, answer: Answer | None) -> MalformedEventError:
        """The same error, placed in a stream (a copy: events are parsed before they are placed)."""
        return MalformedEventError(self.event, self.reason, position=position, answer=answer)


class AnswerError(TrellisError):
    """The server ended the answer with an ``error`` event.

    ``retryable`` and ``retry_after`` (seconds, for ``RATE_LIMIT``) come from the event.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        retry_after: float | None = None,
        error_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retryable = retryable
        self.retry_after = retry_after
        self.error_type = error_type


def __getattr__(name: str) -> Any:
    # The deprecated alias warns where it is used, not on import of the package.
    if name == "TimeoutError":
        warnings.warn(
            "trellis_jupyter.TimeoutError is now RequestTimeoutError; the old name goes in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return RequestTimeoutError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
