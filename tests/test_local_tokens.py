"""Units of the local server: HS256 tokens, sliding-window limits, settings."""

from __future__ import annotations

import base64
import json

import pytest

from trellis_jupyter.local import tokens
from trellis_jupyter.local.limits import RateLimiter
from trellis_jupyter.local.settings import make_settings

SECRET = b"test-secret"


def _claims_of(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return claims


def test_minted_token_has_documented_claims_and_verifies() -> None:
    token, claims = tokens.mint(SECRET, member_id="m-1", organization_id="org_x", ttl=21600, now=1000)
    assert set(claims) == {"sub", "org", "iat", "exp", "jti"}
    assert claims["exp"] - claims["iat"] == 21600
    assert _claims_of(token) == claims
    assert tokens.verify(token, SECRET, now=1001) == claims


def test_each_token_gets_its_own_jti() -> None:
    first = tokens.mint(SECRET, member_id="m", organization_id="o", ttl=60)[1]["jti"]
    second = tokens.mint(SECRET, member_id="m", organization_id="o", ttl=60)[1]["jti"]
    assert first != second


def test_expired_token_is_refused_with_advice() -> None:
    token, _ = tokens.mint(SECRET, member_id="m", organization_id="o", ttl=-1)
    with pytest.raises(tokens.TokenError, match=r"expired.*authenticate"):
        tokens.verify(token, SECRET)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "x",  # signature changed
        lambda t: t.split(".")[0] + "." + t.split(".")[1] + ".",  # signature removed
        lambda t: "not-a-jwt",
        lambda t: "a.b.c",
    ],
)
def test_tampered_tokens_are_refused_without_echoing_them(mangle: object) -> None:
    token, _ = tokens.mint(SECRET, member_id="m", organization_id="o", ttl=60)
    bad = mangle(token)  # type: ignore[operator]
    with pytest.raises(tokens.TokenError) as info:
        tokens.verify(bad, SECRET)
    assert bad not in str(info.value)


def test_token_signed_with_another_secret_or_alg_none_is_refused() -> None:
    token, _claims = tokens.mint(b"other", member_id="m", organization_id="o", ttl=60)
    with pytest.raises(tokens.TokenError, match="signature"):
        tokens.verify(token, SECRET)
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    unsigned = header + "." + token.split(".")[1] + "."
    with pytest.raises(tokens.TokenError, match="HS256"):
        tokens.verify(unsigned, SECRET)


def test_rate_limiter_refuses_beyond_burst_and_says_how_long_to_wait() -> None:
    now = [100.0]
    limiter = RateLimiter(((5, 60.0), (3, 10.0)), clock=lambda: now[0])
    assert [limiter.hit("k") for _ in range(3)] == [None, None, None]
    assert limiter.hit("k") == pytest.approx(10.0)  # burst: 3 per 10 s
    assert limiter.hit("other") is None  # keys are independent
    now[0] += 10.0
    assert [limiter.hit("k") for _ in range(2)] == [None, None]  # the burst window moved on
    # Five in the last minute: the per-minute limit binds until the first hit leaves it.
    assert limiter.hit("k") == pytest.approx(50.0)


def test_refused_hits_are_not_counted() -> None:
    now = [0.0]
    limiter = RateLimiter(((1, 5.0),), clock=lambda: now[0])
    assert limiter.hit("k") is None
    for _ in range(5):
        assert limiter.hit("k") == pytest.approx(5.0)
    now[0] = 5.01
    assert limiter.hit("k") is None


def test_settings_reject_unknown_names() -> None:
    assert make_settings(row_cap=5).row_cap == 5
    with pytest.raises(TypeError, match="row_capp"):
        make_settings(row_capp=5)
