"""HS256 JSON Web Tokens, signed and checked with the standard library only.

The local server issues tokens shaped like the hosted service's: ``sub`` (member id), ``org``,
``iat``, ``exp`` and a fresh ``jti`` (the key of every per-token limit). :class:`TokenError`
messages say what to do and never contain the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["TokenError", "mint", "sign", "verify"]

_HEADER = {"alg": "HS256", "typ": "JWT"}


class TokenError(Exception):
    """The token is malformed, badly signed or expired; the message is safe to show."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")


def sign(claims: Mapping[str, Any], secret: bytes) -> str:
    """The compact JWT of ``claims`` signed with HMAC-SHA256."""
    signing_input = f"{_b64encode(_json(_HEADER))}.{_b64encode(_json(claims))}"
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64encode(signature)}"


def verify(token: str, secret: bytes, *, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid, unexpired token; :class:`TokenError` otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not token.isascii():
        raise TokenError("Invalid token: it is not a JWT. Call POST /v1/authenticate for a new one.")
    header_b64, claims_b64, signature_b64 = parts
    try:
        header = json.loads(_b64decode(header_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, UnicodeDecodeError):
        raise TokenError(
            "Invalid token: it cannot be decoded. Call POST /v1/authenticate for a new one."
        ) from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenError("Invalid token: only HS256 tokens are accepted. Call POST /v1/authenticate.")
    expected = hmac.new(secret, f"{header_b64}.{claims_b64}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise TokenError(
            "Invalid token: its signature does not match. Call POST /v1/authenticate for a new one."
        )
    try:
        claims = json.loads(_b64decode(claims_b64))
    except (ValueError, UnicodeDecodeError):
        raise TokenError("Invalid token: its claims cannot be decoded.") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
        raise TokenError("Invalid token: it names no member. Call POST /v1/authenticate for a new one.")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)):
        raise TokenError("Invalid token: it has no expiry. Call POST /v1/authenticate for a new one.")
    if (time.time() if now is None else now) >= exp:
        raise TokenError("Token expired: call POST /v1/authenticate again for a new one.")
    return claims


def mint(
    secret: bytes, *, member_id: str, organization_id: str, ttl: float, now: float | None = None
) -> tuple[str, dict[str, Any]]:
    """A new token for a member (``ttl`` seconds; negative gives an already-expired one)."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": member_id,
        "org": organization_id,
        "iat": issued,
        "exp": issued + int(ttl),
        "jti": str(uuid.uuid4()),
    }
    return sign(claims, secret), claims
