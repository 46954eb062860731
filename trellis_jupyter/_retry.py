"""Waiting out a refusal: what both HTTP cores and both answer streams share (no I/O here).

A 429, or a 503 that says when to come back (``Retry-After``), means the server refused the request
without acting on it, so any request, a send or an edit included, may go again after the wait.
:class:`RetryBudget` keeps the total a call has waited within ``max_retry_wait`` seconds (0 turns
waiting off); past it the refusal is raised, its sentence saying how long to wait.
"""

from __future__ import annotations

import random

from ._error_text import retrying_in
from .config import DEFAULT_MAX_RETRY_WAIT
from .errors import APIError, TrellisError

__all__ = [
    "DEFAULT_MAX_RETRY_WAIT",
    "RetryBudget",
    "backoff",
    "refusal_wait",
    "waiting_status",
]

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (0-based): 0.5, 1, 2, ... up to 8, with jitter."""
    base: float = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
    return base * (0.75 + random.random() / 2)


def refusal_wait(exc: BaseException) -> float | None:
    """For a refusal (429, or 503 with ``Retry-After``): the server's wait, ``-1.0`` when it gave
    none (then back off); ``None`` for anything else, which the server may have acted on."""
    if not isinstance(exc, APIError):
        return None
    retry_after: float | None = getattr(exc, "retry_after", None)
    if exc.status_code == 429:
        return -1.0 if retry_after is None else retry_after
    if exc.status_code == 503 and retry_after is not None:
        return retry_after
    return None


def waiting_status(seconds: float) -> str:
    """The status shown while a refused request waits (worded in ``_error_text``)."""
    return retrying_in(seconds)


class RetryBudget:
    """The waits of one call: each refusal's wait is granted while the total stays within the limit."""

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait
        self.waited = 0.0
        self.refusals = 0

    def grant(self, exc: TrellisError) -> float | None:
        """Seconds to wait before sending again, or ``None``: not a refusal, or past the budget."""
        return self.take(refusal_wait(exc))

    def take(self, wait: float | None) -> float | None:
        """The wait granted for a refusal asking ``wait`` seconds (negative: back off), or ``None``."""
        if wait is None:
            return None
        if wait < 0:
            wait = backoff(self.refusals)
        if self.waited + wait > self.max_wait:
            return None
        self.refusals += 1
        self.waited += wait
        return wait

    def exhausted(self, exc: TrellisError) -> TrellisError:
        """The refusal, its sentence saying why it was not waited out (when waiting was on)."""
        if self.max_wait > 0 and refusal_wait(exc) is not None:
            if self.waited:
                note = f"still refused after waiting {max(1, round(self.waited))} s"
            else:
                note = f"more than max_retry_wait, {self.max_wait:g} s"
            exc.message = f"{exc.message.rstrip('.')} ({note})."
            exc.args = (exc.message,)
        return exc
