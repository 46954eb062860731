"""Secrets out of everything a user is shown: one place that every error and repr goes through.

A server may echo a credential back in any field of an error (``detail``, ``debug_id``, ``code``,
a nested body) and in any form: whole, or only a part of it (a JWT's signature, the tail of a key).
:func:`scrub_text` masks both: every whole secret, and every run of token characters that shares
:data:`WINDOW` consecutive characters with a secret (or is itself a piece of one, at least
:data:`MIN_PIECE` long). :func:`scrub_error` applies it to every attribute of an error, and
:func:`redact_url` hides the ``user:password@`` part of a URL.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from .events import ErrorEvent, Event

__all__ = ["MASK", "redact_url", "scrub_error", "scrub_event", "scrub_text", "scrub_value", "url_secrets"]

MASK = "***"
WINDOW = 12  # a run sharing this many consecutive characters with a secret is masked whole
MIN_PIECE = 8  # a shorter run is masked only when it is the whole run and part of a secret
# Characters of keys, JWTs (base64url and the dots between segments) and URL-safe secrets.
_CHARS = r"A-Za-z0-9_\-+/=.~%"
_RUN = re.compile(f"[{_CHARS}]{{{MIN_PIECE},}}")

E = TypeVar("E", bound=BaseException)


class _Secrets:
    """The secrets to mask, and every :data:`WINDOW`-long piece of them, for a linear scan."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.whole = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.windows = {s[i : i + WINDOW] for s in self.whole for i in range(max(1, len(s) - WINDOW + 1))}

    def leaks(self, run: str) -> bool:
        if any(run in s for s in self.whole):
            return True
        if len(run) < WINDOW:
            return False
        return any(run[i : i + WINDOW] in self.windows for i in range(len(run) - WINDOW + 1))


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, and every token-like run holding part of one, replaced by ``***``."""
    known = _Secrets(secrets)
    if not known.whole or not text:
        return text
    for secret in known.whole:
        if len(secret) >= MIN_PIECE:
            text = text.replace(secret, MASK)
        else:  # a short (test) secret is masked only where it stands alone, not inside "token"
            text = re.sub(f"(?<![{_CHARS}]){re.escape(secret)}(?![{_CHARS}])", MASK, text)
    return _RUN.sub(lambda m: MASK if known.leaks(m.group(0)) else m.group(0), text)


def scrub_value(value: Any, secrets: Iterable[str]) -> Any:
    """A string, or the strings inside nested dicts, lists and tuples (keys too), scrubbed."""
    known = tuple(secrets)
    if not known:
        return value
    if isinstance(value, str):
        return scrub_text(value, known)
    if isinstance(value, Mapping):
        return {scrub_value(k, known): scrub_value(v, known) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_value(v, known) for v in value)
    return value


def scrub_error(exc: E, secrets: Iterable[str]) -> E:
    """Scrub every attribute of ``exc`` (message, detail, code, debug_id, body...) and its args.

    The partial ``answer`` an error carries is the user's own data and is left alone.
    """
    known = tuple(s for s in secrets if s)
    if not known:
        return exc
    for name, value in list(vars(exc).items()):
        if name != "answer":
            setattr(exc, name, scrub_value(value, known))
    exc.args = tuple(scrub_value(a, known) for a in exc.args)
    return exc


def scrub_event(event: Event, secrets: Iterable[str]) -> Event:
    """A stream ``error`` event with its every text field scrubbed (other events are returned as is).

    An error event becomes an error's message and detail, and is shown in the answer's output.
    """
    known = tuple(s for s in secrets if s)
    if not known or not isinstance(event, ErrorEvent):
        return event
    return dataclasses.replace(
        event,
        error=scrub_text(event.error, known),
        code=scrub_value(event.code, known),
        debug_id=scrub_value(event.debug_id, known),
        error_type=scrub_value(event.error_type, known),
        extra=scrub_value(dict(event.extra), known),
    )


def url_secrets(url: str) -> tuple[str, ...]:
    """The user name and password written in a URL (``https://user:pass@host``), if any."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    return tuple(p for p in (parts.username, parts.password) if p)


def redact_url(url: str | None) -> str:
    """``url`` with its ``user:password@`` part replaced by ``***@`` (unchanged when it has none)."""
    if url is None:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@]*@", f"//{MASK}@", url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{MASK}@{host}"))
