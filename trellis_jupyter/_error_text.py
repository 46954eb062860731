"""The sentence of each error of a REST call or a stream: one place to read and change the wording.

Every function here takes plain values (a status, the server's text and code, what the call was
about) and returns the sentence, or the error class with it; none does I/O or knows httpx. The
HTTP layer picks the values out of a response and scrubs secrets from the error it builds
(:func:`~trellis_jupyter.scrub.scrub_error`); the stream layer words an answer's ``error`` event.
The WebSocket's close codes and refused upgrades are worded here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import errors
from .events import ErrorEvent

__all__ = [
    "CLOSE_AUTH",
    "CLOSE_CAP",
    "LOST",
    "SILENT",
    "CallContext",
    "answer_failed",
    "busy",
    "chats_not_found",
    "closed_error",
    "connect_failed",
    "connection_failed",
    "handshake_error",
    "not_a_stream",
    "not_json",
    "rate_limited",
    "retrying_in",
    "socket_open_failed",
    "status_error",
    "timed_out",
]

LOST = (
    "The connection dropped before the answer was complete; the partial answer and chat id are kept. "
    "Ask again to continue."
)
SILENT = (
    "Trellis went silent before the answer was complete; the partial answer and chat id are kept. "
    "Ask again to continue."
)


@dataclass(frozen=True)
class CallContext:
    """What a REST call is about, so that its error names the right thing (the ids the caller gave)."""

    chat_id: str | None = None
    message_id: str | None = None
    integration_id: str | None = None
    upload_id: str | None = None
    query_id: str | None = None
    authenticating: bool = False  # POST /v1/authenticate: a 401 is about the key, a 400 the email
    email: str | None = None


NO_CONTEXT = CallContext()


def _seconds(value: float) -> str:
    return str(max(1, round(value + 0.49)))  # never "wait 0 s"


def retrying_in(seconds: float) -> str:
    """The status a refused request shows while it waits (the magic's status line, the widget's)."""
    return f"Rate limited; retrying in {_seconds(seconds)} s"


def rate_limited(wait: float | None) -> str:
    """A refusal for too many requests, REST (429) or in a stream (``RATE_LIMIT``)."""
    if wait is None:
        return "Rate limited by Trellis: wait a minute and ask again."
    return f"Rate limited: wait {_seconds(wait)} s and ask again."


def chats_not_found(ids: list[str]) -> str:
    """A bulk delete that found some chats, not these."""
    names = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    return (
        f"Chat{'s' if len(ids) > 1 else ''} {names} {'were' if len(ids) > 1 else 'was'} not found "
        "(the others were deleted): they may have been deleted already."
    )


def busy(status: int, text: str | None, wait: float) -> str:
    """A 503 that says when to come back (``Retry-After``)."""
    said = f"{status}: {text}" if text else str(status)
    return f"Trellis is busy ({said}): wait {_seconds(wait)} s and try again."


def status_error(
    status: int,
    text: str | None,
    code: str | None,
    debug_id: str | None,
    path: str,
    context: CallContext = NO_CONTEXT,
) -> tuple[type[errors.APIError], str]:
    """The error class and sentence for an error status (``text``: the server's detail, if any).

    A 429's sentence comes from :func:`rate_limited` (the caller knows the wait).
    """
    said = f"{status}: {text}" if text else str(status)
    if status == 401:
        if context.authenticating:
            return errors.AuthenticationError, (
                "Trellis rejected the API key (401): check TRELLIS_API_KEY and TRELLIS_EMAIL and try again."
            )
        return errors.AuthenticationError, (
            "Trellis rejected the token (401): it is invalid or expired; check TRELLIS_API_KEY / "
            "TRELLIS_TOKEN and try again."
        )
    if status == 404:
        return errors.NotFoundError, _not_found(code, context, said, path)
    if status == 400:
        if code == "MISSING_CHAT_ID":
            message = (
                f"Trellis needs a chat id here ({said}): create the chat first with client.chats.create()."
            )
        elif context.authenticating:
            email = context.email
            message = f"Trellis rejected the email {email!r} ({said}): set TRELLIS_EMAIL to a valid address."
        else:
            message = f"Trellis rejected the request ({said}); check the arguments and try again."
        return errors.BadRequestError, message
    if status == 403:
        return errors.PermissionDeniedError, (
            f"Trellis refused the request ({said}); ask an organization admin for access."
        )
    if status == 409 and code == "TURN_IN_PROGRESS":
        return errors.ConflictError, (
            "An answer is already being written in this chat: wait for it to finish (or stop it), "
            "then ask again."
        )
    if status == 409:
        return errors.ConflictError, (
            f"Trellis refused because a limit was reached ({said}); delete old chats and try again."
        )
    if status >= 500:
        quote = f", and quote debug id {debug_id} if it repeats" if debug_id else ""
        return (
            errors.ServerError,
            f"Trellis failed with a server error ({said}); try again in a moment{quote}.",
        )
    return errors.APIError, f"Trellis answered {said}; check the request and try again."


def _not_found(code: str | None, context: CallContext, said: str, path: str) -> str:
    chat_id, message_id, integration_id = context.chat_id, context.message_id, context.integration_id
    if code == "INTEGRATION_NOT_FOUND" or (
        code is None and integration_id and not chat_id and not message_id
    ):
        return (
            f"Integration {integration_id} was not found: pick an id from client.integrations() "
            "or set TRELLIS_INTEGRATION_ID."
        )
    if code == "MESSAGE_NOT_FOUND" or (code is None and message_id):
        where = f" in chat {chat_id}" if chat_id else ""
        return (
            f"Message {message_id} was not found{where}: it may have been deleted or replaced by an edit; "
            "reload the chat's history."
        )
    if code == "CHAT_NOT_FOUND" or (code is None and chat_id):
        return f"Chat {chat_id} was not found: it may have been deleted; start a new chat."
    if code == "UPLOAD_NOT_FOUND" or (code is None and context.upload_id):
        return (
            f"Upload {context.upload_id} was not found: it may have been deleted; "
            "list the chat's with client.chats.uploads(chat_id)."
        )
    if code == "QUERY_NOT_FOUND" or (code is None and context.query_id):
        return (
            f"Saved query {context.query_id} was not found: it may have been deleted; "
            "list them with client.queries.list()."
        )
    return f"Trellis has no {path} ({said}): check TRELLIS_BASE_URL and the ids you passed."


def not_json(path: str) -> str:
    """A 2xx REST answer whose body is not JSON (likely not the Trellis API at that URL)."""
    return (
        f"Trellis answered {path} with something that is not JSON: check TRELLIS_BASE_URL points at "
        "the Trellis API."
    )


def not_a_stream(content_type: str) -> str:
    """A stream request answered with another content type (``content_type`` as the server sent it)."""
    return (
        f"Trellis answered with {content_type} instead of an event stream: check TRELLIS_BASE_URL points at "
        "the Trellis API."
    )


def connect_failed(base_url: str) -> str:
    return f"Could not reach Trellis at {base_url}: is the server running?"


def timed_out(base_url: str, timeout: float) -> str:
    return f"Trellis at {base_url} did not answer within {timeout:g} s: try again, or pass a larger timeout=."


def connection_failed(base_url: str, what: str) -> str:
    return f"The connection to Trellis at {base_url} failed ({what}): try again in a moment."


_ADVICE = {
    "UNANSWERABLE": "try rephrasing the question",
    "QUERY_FAILED": "rephrase the question, or fix the SQL if you wrote it",
    "QUERY_TIMEOUT": "ask for less data, e.g. a narrower time range",
    "CHAT_NOT_FOUND": "it may have been deleted; start a new chat",
    "MESSAGE_NOT_FOUND": "reload the chat's history and try again",
    "INTEGRATION_NOT_FOUND": "pick an id from client.integrations() or set TRELLIS_INTEGRATION_ID",
    "UNAUTHORIZED": "check TRELLIS_API_KEY / TRELLIS_TOKEN and try again",
    "TURN_IN_PROGRESS": "wait for the current answer to finish, then ask again",
}


def answer_failed(error: ErrorEvent) -> str:
    """The sentence for an answer the server ended with an ``error`` event."""
    if error.code == "RATE_LIMIT":
        return rate_limited(error.retry_after)
    text = " ".join((error.error or "the server reported an error").split()).rstrip(".")
    advice = _ADVICE.get(error.code or "")
    if advice is None:
        advice = "ask again in a moment" if error.retryable else "ask again, or rephrase the question"
        if error.debug_id and error.debug_id not in text:  # said once, where the server put it
            advice += f" (debug id {error.debug_id})"
    return f"Trellis could not answer: {text}; {advice}."


# --- the WebSocket ---------------------------------------------------------------------------------

CLOSE_AUTH = 4001  # the token is invalid or expired
CLOSE_CAP = 4429  # too many open sockets for this token


def closed_error(code: int | None, reason: str = "", *, during: str = "") -> errors.TrellisError:
    """The error for a socket the server closed (``code`` is None when no close frame came)."""
    where = f" {during}" if during else ""
    if code == CLOSE_AUTH:
        return errors.AuthenticationError(
            f"The server closed the WebSocket{where} because the token is invalid or expired (4001): "
            "authenticate again (a new client, or a fresh token) and reconnect.",
            code="UNAUTHORIZED",
        )
    if code == CLOSE_CAP:
        return errors.ConflictError(
            f"The server refused the WebSocket{where}: too many open connections for this token (4429). "
            "Close another socket (socket.close()), or authenticate again for a new token.",
            code="WS_CONNECTION_CAP",
        )
    if code == 1000 or code == 1001:
        text = f"The server closed the WebSocket{where} ({code}{': ' + reason if reason else ''})."
    else:
        shown = code if code is not None else 1006
        text = f"The WebSocket connection was lost{where} ({shown}{': ' + reason if reason else ''})."
    return errors.ConnectionLostError(
        text + " The partial answer and chat id are kept; reconnect and ask again.", code="CONNECTION_LOST"
    )


def handshake_error(status: int) -> errors.TrellisError:
    """The error for an upgrade the server refused with an HTTP status."""
    if status == 401:
        return errors.AuthenticationError(
            "The server refused the WebSocket (401): the token is invalid or expired; authenticate again.",
            status_code=status,
        )
    if status == 403:
        return errors.PermissionDeniedError(
            "The server refused the WebSocket upgrade (403). Check the token and the base URL.",
            status_code=status,
        )
    if status == 404:
        return errors.ServerError(
            "This server has no WebSocket endpoint at /v1/chats/ws (404); use the SSE transport.",
            status_code=status,
        )
    return errors.ServerError(
        f"The server refused the WebSocket upgrade (HTTP {status}); try again later.", status_code=status
    )


def socket_open_failed(kind: str, url: str, why: str = "") -> str:
    """Why a WebSocket could not be opened: ``kind`` is ``url``, ``timeout``, ``upgrade`` or ``connect``."""
    if kind == "url":
        return f"The WebSocket URL {url!r} is not valid: check the base URL."
    if kind == "timeout":
        return f"The WebSocket at {url} did not open in time; check the server and try again."
    if kind == "upgrade":
        return f"The WebSocket upgrade at {url} failed ({why}); check the base URL."
    return f"Cannot reach the Trellis WebSocket at {url} ({why}); check that the server is running."
