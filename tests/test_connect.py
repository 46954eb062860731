"""``%trellis connect`` means connected: the server and the credentials are checked at once, a
failed connect says so in one sentence and leaves the kernel on its previous connection or on
none, and no later question goes anywhere the user did not connect to.

The "hosted" service is a loopback listener named by ``TRELLIS_BASE_URL`` (with credentials in
the environment, as a user of the hosted service would have them) that records any request.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from magic_helpers import extension_shell

from trellis_jupyter.session import get_session


class Recorder:
    """A TCP listener that records every connection's first bytes and answers nothing useful."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.requests: list[bytes] = []
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.requests.append(conn.recv(4096))
                    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from trellis_jupyter.local import serve_in_background

    with serve_in_background(store=":memory:") as server:
        yield server


@pytest.fixture
def hosted() -> Iterator[Recorder]:
    recorder = Recorder()
    try:
        yield recorder
    finally:
        recorder.close()


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch, hosted: Recorder) -> Iterator[InteractiveShell]:
    env = {"TRELLIS_BASE_URL": hosted.url, "TRELLIS_API_KEY": "hosted-key", "TRELLIS_EMAIL": "me@example.com"}
    monkeypatch.delenv("TRELLIS_TOKEN", raising=False)
    with extension_shell(monkeypatch, env=env) as sh:
        yield sh


def cell(
    sh: InteractiveShell, source: str, capsys: pytest.CaptureFixture[str]
) -> tuple[BaseException | None, str]:
    capsys.readouterr()
    result = sh.run_cell(source)
    captured = capsys.readouterr()
    return result.error_in_exec or result.error_before_exec, captured.out + captured.err


def one_sentence(out: str) -> str:
    lines = [line for line in out.strip().splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert "Traceback" not in out
    assert "nterrupted" not in out  # a failed connect is a failed connect, not an interruption
    return lines[0]


def bad_connects(server: Any) -> list[tuple[str, dict[str, str], str]]:
    """(connect line, environment to set, what the sentence names): unreachable, wrong key, wrong token."""
    good = server.env
    return [
        (f"%trellis connect --base-url http://127.0.0.1:{unused_port()}", {}, "Could not reach"),
        (
            f"%trellis connect --base-url {server.base_url}",
            {"TRELLIS_API_KEY": "wrong-key", "TRELLIS_EMAIL": good["TRELLIS_EMAIL"]},
            "",
        ),
        (
            f"%trellis connect --base-url {server.base_url}",
            {"TRELLIS_TOKEN": "not.a.token", "TRELLIS_API_KEY": "", "TRELLIS_EMAIL": ""},
            "",
        ),
    ]


@pytest.mark.parametrize("case", [0, 1, 2], ids=["unreachable", "wrong-key", "wrong-token"])
def test_a_failed_connect_leaves_the_kernel_unconnected_and_sends_nothing_elsewhere(
    shell: InteractiveShell,
    server: Any,
    hosted: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: int,
) -> None:
    line, env, names = bad_connects(server)[case]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    error, out = cell(shell, line, capsys)
    assert error is not None
    sentence = one_sentence(out)
    assert sentence.startswith(
        "ConnectFailedError: %trellis connect failed, so the kernel is not connected: "
    )
    assert names in sentence
    assert "wrong-key" not in out  # secrets never shown
    assert "not.a.token" not in out

    error, out = cell(shell, "%%trellis\nhow many orders", capsys)
    assert error is not None
    assert one_sentence(out) == (
        "ConfigurationError: Not connected: the last %trellis connect failed; run %trellis connect "
        "again (or %trellis connect --local to try the bundled offline server)."
    )
    _, out = cell(shell, "%trellis status", capsys)
    assert "Not connected" in out
    assert hosted.requests == []  # the hosted default the environment names got nothing


def test_a_failed_connect_keeps_the_previous_connection(
    shell: InteractiveShell, server: Any, hosted: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    error, out = cell(shell, "%trellis connect --local", capsys)
    assert error is None
    assert one_sentence(out).startswith("Connected to the local server at http://127.0.0.1:")
    local = get_session().base_url
    _, out = cell(shell, f"%trellis connect --base-url http://127.0.0.1:{unused_port()}", capsys)
    assert one_sentence(out).startswith(
        f"ConnectFailedError: %trellis connect failed, so the kernel stays connected to {local}: "
    )
    error, out = cell(shell, "%%trellis -o after\nhow many orders", capsys)
    assert error is None
    assert shell.user_ns.pop("after").complete
    assert get_session().base_url == local
    assert hosted.requests == []


def test_connect_checks_the_credentials_at_once(
    shell: InteractiveShell, server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    error, out = cell(shell, f"%trellis connect --base-url {server.base_url}", capsys)
    assert error is None
    assert one_sentence(out) == (
        f"Connected to {server.base_url} (integration: demo). The next question starts a new chat."
    )


def test_with_no_credentials_and_no_connection_both_ways_out_are_named(
    shell: InteractiveShell,
    monkeypatch: pytest.MonkeyPatch,
    hosted: Recorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("TRELLIS_API_KEY", "TRELLIS_EMAIL", "TRELLIS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    _, out = cell(shell, "%%trellis\nhow many orders", capsys)
    sentence = one_sentence(out)
    assert "%trellis connect --local" in sentence
    assert "TRELLIS_API_KEY" in sentence
    assert hosted.requests == []


def test_never_connected_uses_the_environment(
    shell: InteractiveShell, server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No connect at all, and the environment names a server and credentials: questions go there."""
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRELLIS_BASE_URL", server.base_url)
    error, out = cell(shell, "%%trellis -o ans\nhow many orders", capsys)
    assert error is None, out
    assert shell.user_ns.pop("ans").complete


def test_a_connect_with_no_credentials_names_both_ways_out(
    shell: InteractiveShell,
    monkeypatch: pytest.MonkeyPatch,
    hosted: Recorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("TRELLIS_API_KEY", "TRELLIS_EMAIL", "TRELLIS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    _, out = cell(shell, f"%trellis connect --base-url http://127.0.0.1:{unused_port()}", capsys)
    sentence = one_sentence(out)
    assert sentence.startswith(
        "ConnectFailedError: %trellis connect failed, so the kernel is not connected: "
    )
    assert "TRELLIS_API_KEY" in sentence
    assert "%trellis connect --local" in sentence
    assert "api_key=" not in sentence  # the Python API's wording, not the magic's
    assert hosted.requests == []
