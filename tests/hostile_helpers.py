"""Helpers for the hostile-input fault tests: a local server in its own process (so its peak memory
can be read from /proc), raw HTTP over a socket, and small WebSocket exchanges."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SERVE = """
import json, os, sys
from trellis_jupyter.local import serve_in_background
options = json.loads(sys.argv[1])
server = serve_in_background(**options)
print(json.dumps({"base_url": server.base_url, "api_key": server.api_key, "email": server.email,
                  "integration_id": server.integration_id, "pid": os.getpid()}), flush=True)
sys.stdin.read()  # serve until the test closes our stdin
server.stop()
"""


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB, read from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


@contextmanager
def server_process(**options: Any) -> Iterator[dict[str, Any]]:
    """A local server in a child process; yields its base_url, api_key, email, integration_id, pid."""
    options.setdefault("store", ":memory:")
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, json.dumps(options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, "the server process did not start"
        yield json.loads(line)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def address(base_url: str) -> tuple[str, int]:
    host, port = base_url.rsplit("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything the peer sends until it closes the connection (or ``timeout`` s of silence)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"the server kept the connection open past {timeout} s") from None
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def json_frame(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    """The next JSON frame of a websockets sync connection."""
    frame: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return frame


# --- a raw HTTP server whose answers a test writes byte by byte ---------------------------------

Handler = Callable[[str, str, bytes, socket.socket], None]


class RawServer:
    """One thread serving HTTP/1.1 on loopback; ``handler(method, path, body, conn)`` writes the
    answer itself (a hostile server: endless lines, floods, echoed secrets). One request per
    connection; ``sent`` counts the bytes handlers wrote, ``closed`` is set when a client went."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.closed = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            while len(body) < length:
                body += conn.recv(65536)
            self.handler(method, path, body, conn)
        except OSError:
            self.closed.set()
        finally:
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._sock.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sse_head() -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"


def json_response(status: int, body: Any) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + data
