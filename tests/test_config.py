"""Settings: arguments first, then TRELLIS_* variables; one sentence when something is missing."""

from __future__ import annotations

import pytest

from trellis_jupyter.auth import Secret
from trellis_jupyter.config import DEFAULT_BASE_URL, MISSING_CREDENTIALS, Settings
from trellis_jupyter.errors import ConfigurationError

ENV = {
    "TRELLIS_BASE_URL": "http://env.example/v1/",
    "TRELLIS_API_KEY": "env-key",
    "TRELLIS_EMAIL": "env@example.com",
    "TRELLIS_INTEGRATION_ID": "int-env",
    "TRELLIS_MODEL": "model-env",
}


def test_environment_is_read_and_normalized() -> None:
    s = Settings.resolve(env=ENV)
    assert s.base_url == "http://env.example"  # trailing /v1/ dropped: paths add /v1 themselves
    assert s.api_key == Secret("env-key")
    assert s.email == "env@example.com"
    assert (s.integration_id, s.model, s.token) == ("int-env", "model-env", None)


def test_arguments_win_over_the_environment() -> None:
    s = Settings.resolve(base_url="https://arg.example", api_key="arg-key", integration_id="int-arg", env=ENV)
    assert s.base_url == "https://arg.example"
    assert s.api_key == Secret("arg-key")
    assert s.integration_id == "int-arg"
    assert s.email == "env@example.com"
    assert s.model == "model-env"


def test_defaults_and_a_token_alone() -> None:
    s = Settings.resolve(env={"TRELLIS_TOKEN": "a.b.c", "TRELLIS_EMAIL": ""})
    assert s.base_url == DEFAULT_BASE_URL
    assert s.token == Secret("a.b.c")
    assert s.api_key is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, MISSING_CREDENTIALS),
        ({"TRELLIS_API_KEY": "k"}, "TRELLIS_API_KEY is set but TRELLIS_EMAIL is not"),
        ({"TRELLIS_EMAIL": "a@b.c"}, "TRELLIS_EMAIL is set but TRELLIS_API_KEY is not"),
        (
            {"TRELLIS_TOKEN": "t", "TRELLIS_BASE_URL": "ftp://x"},
            "is not an http(s) URL: set TRELLIS_BASE_URL",
        ),
    ],
)
def test_missing_or_bad_settings_say_what_to_set(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.resolve(env=env)
    assert message in str(caught.value)
    assert str(caught.value).endswith(".")


def test_no_credentials_message_names_the_variables() -> None:
    assert MISSING_CREDENTIALS == (
        "No Trellis credentials: set TRELLIS_API_KEY and TRELLIS_EMAIL (or TRELLIS_TOKEN), "
        "or pass api_key= and email=."
    )


def test_the_real_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRELLIS_TOKEN", "tok-from-env")
    monkeypatch.setenv("TRELLIS_MODEL", "gpt-5-mini")
    s = Settings.resolve()
    assert s.token == Secret("tok-from-env")
    assert s.model == "gpt-5-mini"


def test_repr_masks_secrets() -> None:
    s = Settings.resolve(api_key="super-secret-key", email="a@b.c", token="jwt-secret-value")
    text = repr(s) + str(s)
    assert "super-secret-key" not in text
    assert "jwt-secret-value" not in text
    assert "**********" in text
