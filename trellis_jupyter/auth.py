"""Credentials and the JWT they buy.

An API key plus an email are exchanged for a JWT with ``POST /v1/authenticate`` (done by the HTTP
layer, which hands this module a ``fetch`` function). The token lives 6 hours; a new one is fetched
five minutes before it expires, and once more when the server answers 401. A token given directly
(``TRELLIS_TOKEN``) is used until its ``exp`` claim passes, read from the JWT payload without
verifying the signature: the server verifies, we only need to know when it runs out.

Secrets are wrapped in :class:`Secret`, whose ``repr`` and ``str`` are masked.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from .errors import AuthenticationError

__all__ = ["REFRESH_MARGIN", "TOKEN_LIFETIME", "AsyncAuth", "Auth", "Secret", "TokenManager", "jwt_expiry"]

logger = logging.getLogger(__name__)

TOKEN_LIFETIME = 6 * 3600.0  # documented lifetime, used when neither expires_at nor exp is given
REFRESH_MARGIN = 300.0  # renew this many seconds before expiry


class Secret:
    """A string that never shows itself: ``repr`` and ``str`` are masked.

    Call :meth:`get_secret_value` where the value is really needed (an HTTP header).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        # Pickling a secret would write it to disk in clear (e.g. a saved kernel session).
        raise TypeError("a Secret cannot be pickled")


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT as a POSIX timestamp, without verifying the signature.

    ``None`` when the token is not a JWT or carries no ``exp`` (it is then used until a 401).
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def _parse_expires_at(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a naive time is ambiguous; fall back on the JWT's own exp
    return moment.timestamp()


class TokenManager:
    """Holds the current JWT and knows when to renew it.

    Thread-safe for the sync client (one lock around renewal), task-safe for the async client (an
    ``anyio`` lock created on first use), so concurrent calls share one renewal.
    """

    def __init__(
        self,
        *,
        api_key: Secret | None = None,
        email: str | None = None,
        token: Secret | None = None,
        margin: float = REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api_key = api_key
        self._email = email
        self._token = token
        self._expires_at = jwt_expiry(token.get_secret_value()) if token is not None else None
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._alock: Any = None

    def __repr__(self) -> str:
        state = "token" if self._token is not None else "no token"
        return f"<TokenManager {state}, can_authenticate={self.can_authenticate}>"

    @property
    def can_authenticate(self) -> bool:
        """True when an API key and email are there to fetch a new token."""
        return self._api_key is not None and self._email is not None

    @property
    def expires_at(self) -> float | None:
        """When the current token expires (POSIX seconds), if known."""
        return self._expires_at

    @property
    def secrets(self) -> tuple[str, ...]:
        """The raw secret values, for scrubbing server texts that might echo them."""
        values = [s.get_secret_value() for s in (self._api_key, self._token) if s is not None]
        return tuple(v for v in values if v)

    def _usable(self) -> str | None:
        """The current token if it can still be used, else ``None`` (renew) or an error (cannot)."""
        if self._token is None:
            return None
        if self._expires_at is None:
            return self._token.get_secret_value()
        now = self._clock()
        if self.can_authenticate:
            return self._token.get_secret_value() if now < self._expires_at - self._margin else None
        if now >= self._expires_at:
            raise AuthenticationError(
                "The Trellis token has expired: set a fresh TRELLIS_TOKEN, or set TRELLIS_API_KEY and "
                "TRELLIS_EMAIL so the client can renew it."
            )
        return self._token.get_secret_value()

    def request(self) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and JSON body of ``POST /v1/authenticate``."""
        if self._api_key is None or self._email is None:  # pragma: no cover - guarded by callers
            raise AuthenticationError(
                "Trellis rejected the token (401): it is invalid or expired; set TRELLIS_API_KEY and "
                "TRELLIS_EMAIL so the client can renew it, or a fresh TRELLIS_TOKEN."
            )
        return {"X-API-Key": self._api_key.get_secret_value()}, {"email": self._email}

    def accept(self, body: Mapping[str, Any]) -> str:
        """Store the token of an authenticate response and return it."""
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise AuthenticationError(
                "Trellis answered /v1/authenticate without a token: check TRELLIS_BASE_URL points at "
                "the Trellis API."
            )
        expires = _parse_expires_at(body.get("expires_at")) or jwt_expiry(token)
        self._token = Secret(token)
        self._expires_at = expires if expires is not None else self._clock() + TOKEN_LIFETIME
        logger.debug("new Trellis token, valid for %.0f s", self._expires_at - self._clock())
        return token

    def invalidate(self, token: str) -> bool:
        """Forget ``token`` after a 401; ``True`` when a new one can be fetched.

        Only the token that failed is dropped, so a renewal made meanwhile by another caller stays.
        """
        if self._token is not None and self._token.get_secret_value() == token and self.can_authenticate:
            self._token = None
            self._expires_at = None
        return self.can_authenticate

    def token(self, fetch: Callable[[], Mapping[str, Any]]) -> str:
        """A usable token, fetching a new one with ``fetch()`` when needed (sync)."""
        usable = self._usable()
        if usable is not None:
            return usable
        with self._lock:
            usable = self._usable()
            if usable is not None:
                return usable
            self._require_key()
            logger.debug("requesting a Trellis token (POST /v1/authenticate)")
            return self.accept(fetch())

    async def atoken(self, fetch: Callable[[], Awaitable[Mapping[str, Any]]]) -> str:
        """A usable token, fetching a new one with ``await fetch()`` when needed (async)."""
        usable = self._usable()
        if usable is not None:
            return usable
        if self._alock is None:
            import anyio

            self._alock = anyio.Lock()
        async with self._alock:
            usable = self._usable()
            if usable is not None:
                return usable
            self._require_key()
            logger.debug("requesting a Trellis token (POST /v1/authenticate)")
            return self.accept(await fetch())

    def _require_key(self) -> None:
        if not self.can_authenticate:
            raise AuthenticationError(
                "Trellis rejected the token (401): it is invalid or expired; check TRELLIS_API_KEY / "
                "TRELLIS_TOKEN and try again."
            )


class Auth:
    """``client.auth``: a usable token on demand (renewed when needed), and a way to drop a refused one.

    What the transports need from the client's credentials, so none reaches into the client: the
    WebSocket takes its token from :meth:`token` and reports a refused one to :meth:`invalidate`.
    """

    def __init__(self, tokens: TokenManager, fetch: Callable[[], Mapping[str, Any]]) -> None:
        self._tokens = tokens
        self._fetch = fetch  # POST /v1/authenticate, by the HTTP layer

    def __repr__(self) -> str:
        return f"<{type(self).__name__} can_authenticate={self._tokens.can_authenticate}>"

    def token(self) -> str:
        """A token that is valid now, fetching a new one first when it is missing or about to expire."""
        return self._tokens.token(self._fetch)

    def invalidate(self, token: str) -> bool:
        """Forget ``token`` after the server refused it; ``True`` when a new one can be fetched."""
        return self._tokens.invalidate(token)


class AsyncAuth:
    """``client.auth`` of the async client: the twin of :class:`Auth` (``await auth.token()``)."""

    def __init__(self, tokens: TokenManager, fetch: Callable[[], Awaitable[Mapping[str, Any]]]) -> None:
        self._tokens = tokens
        self._fetch = fetch

    def __repr__(self) -> str:
        return f"<{type(self).__name__} can_authenticate={self._tokens.can_authenticate}>"

    async def token(self) -> str:
        return await self._tokens.atoken(self._fetch)

    def invalidate(self, token: str) -> bool:
        return self._tokens.invalidate(token)
