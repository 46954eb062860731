"""Client settings: explicit arguments first, then ``TRELLIS_*`` environment variables.

========================  ===========================================================
``TRELLIS_BASE_URL``      API root, default ``https://api.trellis.sh`` (a trailing ``/v1`` is dropped)
``TRELLIS_API_KEY``       organization API key, exchanged with ``TRELLIS_EMAIL`` for a JWT
``TRELLIS_EMAIL``         the user Trellis answers as
``TRELLIS_TOKEN``         a JWT given directly (used until it expires)
``TRELLIS_INTEGRATION_ID``  default database integration for new questions
``TRELLIS_MODEL``         default model id
``TRELLIS_MAX_RETRY_WAIT``  seconds a call may wait in all when rate limited (default 60; 0: never wait)
========================  ===========================================================

Secrets are held in :class:`~trellis_jupyter.auth.Secret`, so a ``repr`` of the settings is safe.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from .auth import Secret
from .errors import ConfigurationError
from .scrub import redact_url

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_RETRIES", "DEFAULT_MAX_RETRY_WAIT", "DEFAULT_TIMEOUT", "Settings"]

DEFAULT_BASE_URL = "https://api.trellis.sh"
DEFAULT_TIMEOUT = 60.0  # seconds; the server sends a keepalive every 15 s while a turn runs
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_WAIT = 60.0  # seconds a call may wait in all when the server refuses it (429)

MISSING_CREDENTIALS = (
    "No Trellis credentials: set TRELLIS_API_KEY and TRELLIS_EMAIL (or TRELLIS_TOKEN), "
    "or pass api_key= and email=."
)


def _pick(explicit: str | None, env: Mapping[str, str], name: str) -> str | None:
    # An explicit argument wins even when it is empty; an empty variable counts as unset.
    if explicit is not None:
        return explicit
    value = env.get(name, "").strip()
    return value or None


def _secret(value: str | Secret | None) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(value)


def normalize_base_url(url: str) -> str:
    """``https://host/v1/`` and ``https://host`` both mean the same API root."""
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"The Trellis base URL {url!r} is not an http(s) URL: set TRELLIS_BASE_URL "
            "(or base_url=) to something like https://api.trellis.sh."
        )
    return url


def _retry_wait(explicit: float | None, env: Mapping[str, str]) -> float:
    value: object = explicit if explicit is not None else _pick(None, env, "TRELLIS_MAX_RETRY_WAIT")
    if value is None:
        return DEFAULT_MAX_RETRY_WAIT
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ConfigurationError(
            f"max_retry_wait must be a number of seconds, 0 or more, not {value!r}: "
            "pass e.g. max_retry_wait=60 (0 never waits)."
        )
    return seconds


@dataclass(frozen=True)
class Settings:
    """Everything a client needs, resolved once; secrets stay masked in the ``repr``."""

    base_url: str = DEFAULT_BASE_URL
    api_key: Secret | None = None
    email: str | None = None
    token: Secret | None = None
    integration_id: str | None = None
    model: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT

    def __repr__(self) -> str:
        # Written out (not the dataclass's) so that a user:password@ in the base URL never shows.
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["base_url"] = redact_url(self.base_url)
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in values.items())})"

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | Secret | None = None,
        email: str | None = None,
        token: str | Secret | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_wait: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        """Arguments first, then the environment; raises :class:`ConfigurationError` on bad input."""
        env = os.environ if env is None else env
        key = _secret(api_key) or _secret(_pick(None, env, "TRELLIS_API_KEY"))
        tok = _secret(token) or _secret(_pick(None, env, "TRELLIS_TOKEN"))
        settings = cls(
            base_url=normalize_base_url(_pick(base_url, env, "TRELLIS_BASE_URL") or DEFAULT_BASE_URL),
            api_key=key,
            email=_pick(email, env, "TRELLIS_EMAIL"),
            token=tok,
            integration_id=_pick(integration_id, env, "TRELLIS_INTEGRATION_ID"),
            model=_pick(model, env, "TRELLIS_MODEL"),
            timeout=DEFAULT_TIMEOUT if timeout is None else float(timeout),
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else int(max_retries),
            max_retry_wait=_retry_wait(max_retry_wait, env),
        )
        settings.check_credentials()
        if settings.max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more: pass max_retries=0 to disable retries.")
        if settings.timeout <= 0:
            raise ConfigurationError("timeout must be a positive number of seconds: pass e.g. timeout=60.")
        return settings

    @staticmethod
    def resolve_retry_wait(seconds: float | None) -> float:
        """``max_retry_wait`` checked (``None``: ``TRELLIS_MAX_RETRY_WAIT``, else the default)."""
        return _retry_wait(seconds, os.environ)

    def check_credentials(self) -> None:
        """Raise one sentence naming what to set when the credentials cannot work."""
        if self.token is not None:
            if self.api_key is not None and self.email is None:
                raise ConfigurationError(
                    "TRELLIS_API_KEY is set but TRELLIS_EMAIL is not: set TRELLIS_EMAIL (or pass email=) "
                    "so the token can be renewed."
                )
            return
        if self.api_key is None and self.email is None:
            raise ConfigurationError(MISSING_CREDENTIALS)
        if self.api_key is None:
            raise ConfigurationError(
                "TRELLIS_EMAIL is set but TRELLIS_API_KEY is not: set TRELLIS_API_KEY (or pass api_key=), "
                "or set TRELLIS_TOKEN."
            )
        if self.email is None:
            raise ConfigurationError(
                "TRELLIS_API_KEY is set but TRELLIS_EMAIL is not: set TRELLIS_EMAIL (or pass email=), "
                "the user Trellis answers as."
            )
