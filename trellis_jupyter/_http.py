"""The HTTP layer under both clients: auth headers, retries, and errors with one sentence each.

Retries follow one rule: a request is sent again only when that cannot do anything twice.

- A refusal (429, or a 503 with ``Retry-After``) means the server did not act, so any call, a
  send, an edit or a create included, waits ``Retry-After`` (seconds or an HTTP date; else an
  exponential backoff) and goes again, as long as the total wait stays within ``max_retry_wait``
  (default 60 s; 0: never wait). Past it, :class:`~trellis_jupyter.errors.RateLimitError` says how
  long to wait. Answer streams wait out refusals themselves (:mod:`trellis_jupyter.stream`), so
  that the surfaces can show "Rate limited; retrying in 12 s": they call with ``wait=False``.
- Idempotent calls (GET, PUT, DELETE, feedback, authenticate) are also retried (``max_retries``,
  default 2) after a connection failure, a 408 or another 5xx. Non-idempotent calls (send, edit,
  create chat) are retried then only when the request never left (connect failure, pool timeout).
- Every call is retried once after a 401 with a fresh token: the server refused, nothing was done.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import math
import time
from collections.abc import Mapping
from typing import Any, NoReturn

import httpx

from . import _error_text, errors
from ._error_text import NO_CONTEXT, CallContext
from ._retry import RetryBudget, backoff, refusal_wait
from ._version import __version__
from .auth import AsyncAuth, Auth, TokenManager
from .config import Settings
from .scrub import redact_url, scrub_error, url_secrets

__all__ = ["AsyncHTTP", "SyncHTTP", "error_from_response", "parse_retry_after", "transport_error"]

logger = logging.getLogger("trellis_jupyter.http")

RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})  # idempotent calls only; 429 is a refusal
MAX_AUTO_WAIT = 20.0  # a longer Retry-After on a 5xx is reported to the caller instead of slept through
USER_AGENT = f"trellis-jupyter/{__version__}"


# --- reading errors -----------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date (then the time left until it)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:  # pragma: no cover - older Pythons returned None
        return None
    now = time.time() if now is None else now
    return max(0.0, moment.timestamp() - now)


def _detail_text(detail: Any) -> str | None:
    """Human text of a ``detail`` given as a string, an object or a list (validation errors)."""
    if detail is None:
        return None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, Mapping):
        for key in ("detail", "error", "message", "msg"):
            if isinstance(detail.get(key), str):
                return str(detail[key])
        return jsonlib.dumps(detail)[:200]
    if isinstance(detail, list):
        texts = []
        for item in detail:
            if isinstance(item, Mapping):
                loc = item.get("loc")
                where = ".".join(str(p) for p in loc if p != "body") if isinstance(loc, list) else ""
                msg = _detail_text(item) or ""
                texts.append(f"{where}: {msg}" if where else msg)
            else:
                texts.append(str(item))
        return "; ".join(t for t in texts if t) or None
    return str(detail)


def _read_error_body(response: httpx.Response) -> tuple[Any, Any, str | None, str | None, str | None]:
    """``(body, detail, text, code, debug_id)`` from an error response, whatever its shape."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text.strip() or None
    detail: Any = body
    code = debug_id = None
    if isinstance(body, Mapping):
        detail = body.get("detail", body.get("error", body.get("message")))
        code, debug_id = body.get("code"), body.get("debug_id")
        if isinstance(detail, Mapping):
            code = code or detail.get("code")
            debug_id = debug_id or detail.get("debug_id")
    debug_id = debug_id or response.headers.get("x-debug-id") or response.headers.get("x-request-id")
    text = _detail_text(detail)
    if text is not None:
        text = " ".join(text.split())[:300].rstrip(".")
    return body, detail, text, (str(code) if code else None), (str(debug_id) if debug_id else None)


def error_from_response(
    response: httpx.Response, context: CallContext | None = None, secrets: tuple[str, ...] = ()
) -> errors.APIError:
    """The error of the family that matches an error response, with the server's detail and code.

    The error keeps ``status_code`` and the response's ``body``; every field is scrubbed of secrets.
    """
    status = response.status_code
    body, detail, text, code, debug_id = _read_error_body(response)
    kwargs: dict[str, Any] = {"detail": detail, "code": code, "debug_id": debug_id, "status_code": status}
    error: errors.APIError
    if status == 429:
        wait = parse_retry_after(response.headers.get("retry-after"))
        error = errors.RateLimitError(_error_text.rate_limited(wait), retry_after=wait, **kwargs)
    elif status == 503 and (wait := parse_retry_after(response.headers.get("retry-after"))) is not None:
        # A refusal that says when to come back: nothing was done, any call may go again then.
        error = errors.ServerError(_error_text.busy(status, text, wait), retry_after=wait, **kwargs)
    else:
        path = response.request.url.path
        cls, message = _error_text.status_error(status, text, code, debug_id, path, context or NO_CONTEXT)
        error = cls(message, **kwargs)
    error.body = body
    # Whatever field the server echoed a secret in (detail, code, debug_id, body, whole or in part).
    return scrub_error(error, secrets)


def transport_error(exc: Exception, base_url: str, timeout: float) -> errors.TransportError:
    """The error of the family for a failed connection (httpx's own errors stay the ``__cause__``)."""
    base_url = redact_url(base_url)  # a user:password@ in the URL is never shown
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return errors.ConnectError(_error_text.connect_failed(base_url))
    if isinstance(exc, httpx.TimeoutException):
        return errors.RequestTimeoutError(_error_text.timed_out(base_url, timeout))
    return errors.TransportError(_error_text.connection_failed(base_url, type(exc).__name__))


def _unsent(exc: Exception) -> bool:
    """True when the request surely never reached the server, so even a send may go again."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def _is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


# --- the two cores ------------------------------------------------------------------------------


class _Core:
    """What the sync and async cores share: settings, token, and the retry decisions."""

    def __init__(self, settings: Settings, tokens: TokenManager) -> None:
        self.settings = settings
        self.tokens = tokens
        self.base_url = settings.base_url
        self.max_retries = settings.max_retries
        self.max_retry_wait = settings.max_retry_wait

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.settings.timeout, connect=min(10.0, self.settings.timeout))

    def _retry_wait(
        self, attempt: int, response: httpx.Response | None, exc: Exception | None, idempotent: bool
    ) -> float | None:
        """Seconds to wait before sending again, or ``None`` to give up."""
        if attempt >= self.max_retries:
            return None
        if exc is not None:
            return backoff(attempt) if (idempotent or _unsent(exc)) else None
        assert response is not None
        if not idempotent or response.status_code not in RETRY_STATUSES:
            return None
        wait = parse_retry_after(response.headers.get("retry-after"))
        if wait is None:
            return backoff(attempt)
        return wait if wait <= MAX_AUTO_WAIT else None

    def _error(self, response: httpx.Response, context: CallContext | None) -> errors.APIError:
        return error_from_response(response, context, self.secrets())

    def secrets(self) -> tuple[str, ...]:
        """Every secret an error or event from the server must not show: key, token, URL password."""
        return self.tokens.secrets + url_secrets(self.base_url)

    def _fail(self, exc: Exception) -> NoReturn:
        raise transport_error(exc, self.base_url, self.settings.timeout) from exc

    def _decode(self, response: httpx.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise errors.APIError(
                _error_text.not_json(response.request.url.path), status_code=response.status_code
            ) from None

    def _not_a_stream(self, response: httpx.Response) -> errors.APIError:
        kind = response.headers.get("content-type", "no content type")
        return errors.APIError(_error_text.not_a_stream(kind), status_code=response.status_code)

    @staticmethod
    def _log(method: str, path: str, status: int | str, started: float) -> None:
        logger.debug("%s %s -> %s (%.0f ms)", method, path, status, (time.perf_counter() - started) * 1000)


class SyncHTTP(_Core):
    """Blocking requests over one ``httpx.Client`` (connection pooling, keep-alive)."""

    def __init__(self, settings: Settings, tokens: TokenManager, client: httpx.Client | None = None) -> None:
        super().__init__(settings, tokens)
        self._owns_client = client is None
        self.client = client or httpx.Client(timeout=self._timeout(), headers={"User-Agent": USER_AGENT})
        self.auth = Auth(tokens, self._authenticate)
        self.sleep = time.sleep

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: Any,
        headers: dict[str, str],
        idempotent: bool,
        context: CallContext | None,
        stream: bool = False,
        wait_out: bool = True,
        files: Any = None,
        data: Any = None,
    ) -> httpx.Response:
        """One request with the retry rule; returns a 2xx response or raises."""
        url = self.base_url + path
        attempt = 0
        reauthed = False
        budget = RetryBudget(self.max_retry_wait) if wait_out else None
        while True:
            token = None
            if not (context and context.authenticating):
                token = self.auth.token()
                headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            request = self.client.build_request(
                method, url, json=json, params=params, headers=headers, files=files, data=data
            )
            try:
                response = self.client.send(request, stream=stream)
            except httpx.RequestError as exc:
                self._log(method, path, type(exc).__name__, started)
                wait = self._retry_wait(attempt, None, exc, idempotent)
                if wait is None:
                    self._fail(exc)
                self.sleep(wait)
                attempt += 1
                continue
            self._log(method, path, response.status_code, started)
            if response.is_success:
                return response
            if stream:
                try:
                    response.read()
                except httpx.RequestError:
                    pass
                finally:
                    response.close()
            if (
                response.status_code == 401
                and token is not None
                and not reauthed
                and self.tokens.invalidate(token)
            ):
                logger.debug("401 from %s: renewing the token and sending once more", path)
                reauthed = True
                continue
            error = self._error(response, context)
            if refusal_wait(error) is not None:
                # Refused, so nothing was done: even a send may go again, after the wait.
                if budget is None:
                    raise error  # the caller waits (an answer stream shows the wait)
                wait = budget.grant(error)
                if wait is None:
                    raise budget.exhausted(error)
                logger.debug("%s from %s: refused, sending again in %.1f s", response.status_code, path, wait)
                self.sleep(wait)
                continue
            wait = self._retry_wait(attempt, response, None, idempotent)
            if wait is None:
                raise error
            logger.debug("%s from %s: retrying in %.1f s", response.status_code, path, wait)
            self.sleep(wait)
            attempt += 1

    def _authenticate(self) -> Mapping[str, Any]:
        headers, body = self.tokens.request()
        context = CallContext(authenticating=True, email=body["email"])
        response = self._send(
            "POST",
            "/v1/authenticate",
            json=body,
            params=None,
            headers=headers,
            idempotent=True,
            context=context,
        )
        data = self._decode(response)
        return data if isinstance(data, Mapping) else {}

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        idempotent: bool = True,
        context: CallContext | None = None,
        wait_out: bool = True,
        files: Any = None,
        data: Any = None,
    ) -> Any:
        """Send one REST call; returns the decoded JSON body (``None`` when empty)."""
        response = self._send(
            method,
            path,
            json=json,
            params=params,
            headers={},
            idempotent=idempotent,
            context=context,
            wait_out=wait_out,
            files=files,
            data=data,
        )
        return self._decode(response)

    def open_stream(
        self, method: str, path: str, *, json: Any, context: CallContext | None = None
    ) -> httpx.Response:
        """Send a streaming request (never replayed once it may have arrived); returns the open response.

        A refusal is raised at once: the answer stream waits it out, showing that it waits.
        """
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        response = self._send(
            method,
            path,
            json=json,
            params=None,
            headers=headers,
            idempotent=False,
            context=context,
            stream=True,
            wait_out=False,
        )
        if not _is_event_stream(response):
            response.read()
            response.close()
            raise self._not_a_stream(response)
        return response


class AsyncHTTP(_Core):
    """The async twin of :class:`SyncHTTP` over one ``httpx.AsyncClient``."""

    def __init__(
        self, settings: Settings, tokens: TokenManager, client: httpx.AsyncClient | None = None
    ) -> None:
        super().__init__(settings, tokens)
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(timeout=self._timeout(), headers={"User-Agent": USER_AGENT})
        self.auth = AsyncAuth(tokens, self._authenticate)
        import anyio

        self.sleep = anyio.sleep

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: Any,
        headers: dict[str, str],
        idempotent: bool,
        context: CallContext | None,
        stream: bool = False,
        wait_out: bool = True,
        files: Any = None,
        data: Any = None,
    ) -> httpx.Response:
        url = self.base_url + path
        attempt = 0
        reauthed = False
        budget = RetryBudget(self.max_retry_wait) if wait_out else None
        while True:
            token = None
            if not (context and context.authenticating):
                token = await self.auth.token()
                headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            request = self.client.build_request(
                method, url, json=json, params=params, headers=headers, files=files, data=data
            )
            try:
                response = await self.client.send(request, stream=stream)
            except httpx.RequestError as exc:
                self._log(method, path, type(exc).__name__, started)
                wait = self._retry_wait(attempt, None, exc, idempotent)
                if wait is None:
                    self._fail(exc)
                await self.sleep(wait)
                attempt += 1
                continue
            self._log(method, path, response.status_code, started)
            if response.is_success:
                return response
            if stream:
                try:
                    await response.aread()
                except httpx.RequestError:
                    pass
                finally:
                    await response.aclose()
            if (
                response.status_code == 401
                and token is not None
                and not reauthed
                and self.tokens.invalidate(token)
            ):
                logger.debug("401 from %s: renewing the token and sending once more", path)
                reauthed = True
                continue
            error = self._error(response, context)
            if refusal_wait(error) is not None:
                # Refused, so nothing was done: even a send may go again, after the wait.
                if budget is None:
                    raise error  # the caller waits (an answer stream shows the wait)
                wait = budget.grant(error)
                if wait is None:
                    raise budget.exhausted(error)
                logger.debug("%s from %s: refused, sending again in %.1f s", response.status_code, path, wait)
                await self.sleep(wait)
                continue
            wait = self._retry_wait(attempt, response, None, idempotent)
            if wait is None:
                raise error
            logger.debug("%s from %s: retrying in %.1f s", response.status_code, path, wait)
            await self.sleep(wait)
            attempt += 1

    async def _authenticate(self) -> Mapping[str, Any]:
        headers, body = self.tokens.request()
        context = CallContext(authenticating=True, email=body["email"])
        response = await self._send(
            "POST",
            "/v1/authenticate",
            json=body,
            params=None,
            headers=headers,
            idempotent=True,
            context=context,
        )
        data = self._decode(response)
        return data if isinstance(data, Mapping) else {}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        idempotent: bool = True,
        context: CallContext | None = None,
        wait_out: bool = True,
        files: Any = None,
        data: Any = None,
    ) -> Any:
        response = await self._send(
            method,
            path,
            json=json,
            params=params,
            headers={},
            idempotent=idempotent,
            context=context,
            wait_out=wait_out,
            files=files,
            data=data,
        )
        return self._decode(response)

    async def open_stream(
        self, method: str, path: str, *, json: Any, context: CallContext | None = None
    ) -> httpx.Response:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        response = await self._send(
            method,
            path,
            json=json,
            params=None,
            headers=headers,
            idempotent=False,
            context=context,
            stream=True,
            wait_out=False,
        )
        if not _is_event_stream(response):
            await response.aread()
            await response.aclose()
            raise self._not_a_stream(response)
        return response
