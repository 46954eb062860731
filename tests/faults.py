"""A fault-injecting proxy on loopback, between a client and the real local server.

:class:`FaultProxy` speaks HTTP/1.1 (keep-alive, chunked) and WebSocket on one port, like the
server it fronts, so a client, the magic and the widget can all be pointed at ``proxy.base_url``.
Every request is forwarded to the real server unless a rule (``proxy.add(method, path, fault)``)
matches it; a rule fires ``times`` times, then the request goes through untouched again.

Faults of an SSE answer work on whole events as the server wrote them (each event is one
``...\\n\\n`` block), so a test names the event to act on by a marker and its occurrence:

- :class:`Cut` sends half of the marked event, then drops the connection (a cut mid-event);
- :class:`Stall` sends the marked event, then goes silent for ``seconds`` (past a read timeout);
- :class:`Inject` adds bytes after (or instead of) the marked event: malformed JSON, an unknown
  event, a 10 MB event;
- :class:`EndBefore` ends the answer cleanly where the marked event would start, optionally with
  other events first (an ``error`` event instead of the ``message``, or nothing at all).

REST faults: :class:`Reply` answers with a canned status, body and headers (429 with Retry-After,
401, 500, 503), either without the server seeing the request, or (``forward=True``) after the
server received it, which is how a test proves a request is not replayed.

WebSocket faults (frames are relayed byte for byte, compression is refused at the upgrade so the
proxy can read server frames): :class:`WSDrop` drops the TCP connection after a marked server frame
(the client sees 1006), :class:`WSClose` sends an optional ``error`` frame and a close frame with
a code (4001, 4429, ...) when a marked client or server frame passes.

Traffic goes only to 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = [
    "Cut",
    "EndBefore",
    "FaultProxy",
    "Inject",
    "Reply",
    "Stall",
    "WSClose",
    "WSDrop",
    "sse",
]

MAX_STALL = 30.0  # no fault holds a connection longer than this


def sse(name: str, data: Any) -> bytes:
    """One SSE event as the local server writes it (``data`` as an object is JSON-encoded)."""
    text = data if isinstance(data, str) else json.dumps(data)
    return (
        f"event: {name}\n".encode()
        + b"".join(b"data: " + line.encode() + b"\n" for line in text.split("\n"))
        + b"\n"
    )


# --- faults ---------------------------------------------------------------------------------------


@dataclass
class _Marked:
    """Acts on the ``nth`` (1-based) SSE event containing ``marker``."""

    marker: bytes
    nth: int = 1
    seen: int = 0

    def hit(self, block: bytes) -> bool:
        if self.marker in block:
            self.seen += 1
            return self.seen == self.nth
        return False


@dataclass
class Cut(_Marked):
    """Send the first ``keep`` fraction of the marked event, then drop the connection."""

    keep: float = 0.5


@dataclass
class Stall(_Marked):
    """Send the marked event, then nothing for ``seconds`` (then drop the connection)."""

    seconds: float = 3.0


@dataclass
class Inject(_Marked):
    """Send ``data`` after the marked event (``replace=True``: instead of it)."""

    data: bytes = b""
    replace: bool = False


@dataclass
class EndBefore(_Marked):
    """Where the marked event starts, send ``data`` and end the response cleanly."""

    data: bytes = b""


@dataclass
class Reply:
    """A canned answer; ``forward=True`` lets the server receive the request (and start it) first."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    forward: bool = False


@dataclass
class WSDrop:
    """Drop the TCP connection (no close frame: 1006) after the ``nth`` server frame with ``marker``."""

    marker: bytes
    nth: int = 1
    seen: int = 0


@dataclass
class WSClose:
    """Close with ``code`` when a client frame contains ``client_marker`` (or a server frame ``marker``).

    ``error`` (a dict) is sent first as an ``error`` event frame, as the server does for 4429.
    """

    code: int
    client_marker: bytes | None = None
    marker: bytes | None = None
    error: dict[str, Any] | None = None
    reason: str = ""


Fault = Any


@dataclass
class Rule:
    method: str
    path: re.Pattern[str]
    fault: Fault
    times: int = 1
    fired: int = 0


# --- the proxy ------------------------------------------------------------------------------------


class _Dropped(Exception):
    """The proxy dropped the client's connection on purpose."""


def _read_head(reader: Any) -> bytes | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline(65537)
        if not line:
            return None
        head += line
        if len(head) > 1 << 20:
            return None
    return head


def _parse_head(head: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return method, target, headers


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "accept-encoding"}
_HOP_OUT = {
    "content-length",
    "connection",
    "transfer-encoding",
    "keep-alive",
    "content-encoding",
    "date",
    "server",
}


class FaultProxy:
    """HTTP + WebSocket proxy to ``upstream`` (``http://127.0.0.1:PORT``) with scripted faults.

    ``requests`` lists ``(method, path)`` of every request received, in order.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        host, port = self.upstream.removeprefix("http://").rsplit(":", 1)
        assert host in ("127.0.0.1", "localhost"), "the fault proxy only talks to loopback"
        self._target = (host, int(port))
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.requests: list[tuple[str, str]] = []
        self._upstream = httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._conns: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    # -- rules -------------------------------------------------------------------------------

    def add(self, method: str, path: str, fault: Fault, times: int = 1) -> Rule:
        """Apply ``fault`` to the next ``times`` requests matching ``method`` and the ``path`` regex.

        ``method`` "WS" matches a WebSocket upgrade.
        """
        rule = Rule(method.upper(), re.compile(path), fault, times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.method == method and rule.fired < rule.times and rule.path.fullmatch(path):
                    rule.fired += 1
                    return rule.fault
        return None

    def count(self, method: str, path: str) -> int:
        """How many requests matched ``method`` and the ``path`` regex so far."""
        pattern = re.compile(path)
        return sum(1 for m, p in self.requests if m == method and pattern.fullmatch(p))

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _shut(conn)
        self._thread.join(2)
        self._upstream.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # -- HTTP --------------------------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(MAX_STALL * 2)
        reader = conn.makefile("rb")
        try:
            while not self._stop.is_set():
                head = _read_head(reader)
                if head is None:
                    return
                method, target, headers = _parse_head(head)
                length = int(_header(headers, "content-length") or 0)
                body = reader.read(length) if length else b""
                path = target.split("?", 1)[0]
                upgrade = (_header(headers, "upgrade") or "").lower() == "websocket"
                self.requests.append(("WS" if upgrade else method, path))
                if upgrade:
                    self._websocket(conn, reader, head, self._take("WS", path))
                    return
                fault = self._take(method, path)
                if isinstance(fault, Reply):
                    if fault.forward:
                        self._forward_and_drop(method, target, headers, body)
                    self._reply(conn, fault)
                    continue
                self._forward(conn, method, target, headers, body, fault)
        except (_Dropped, OSError, httpx.HTTPError):
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            _shut(conn)

    def _reply(self, conn: socket.socket, fault: Reply) -> None:
        body = fault.body
        if isinstance(body, (dict, list)):
            raw, kind = json.dumps(body).encode(), "application/json"
        else:
            raw, kind = (body or b""), "text/plain"
        headers = {"content-type": kind, **fault.headers, "content-length": str(len(raw))}
        reason = {401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error"}.get(
            fault.status, "Status"
        )
        lines = [f"HTTP/1.1 {fault.status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + raw)

    def _upstream_request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> httpx.Response:
        forwarded = [(k, v) for k, v in headers if k.lower() not in _HOP]
        request = self._upstream.build_request(
            method, self.upstream + target, headers=forwarded, content=body
        )
        return self._upstream.send(request, stream=True)

    def _forward_and_drop(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """Let the server take the request and start answering, then abandon its answer."""
        response = self._upstream_request(method, target, headers, body)
        try:
            for _ in response.iter_raw():
                break  # the first bytes: the server accepted the request (and saved the question)
        finally:
            response.close()

    def _forward(
        self,
        conn: socket.socket,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        fault: Fault | None,
    ) -> None:
        response = self._upstream_request(method, target, headers, body)
        try:
            out = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
            out += [f"{k}: {v}" for k, v in response.headers.multi_items() if k.lower() not in _HOP_OUT]
            out.append("transfer-encoding: chunked")
            conn.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            if "text/event-stream" in response.headers.get("content-type", "") and fault is not None:
                self._relay_events(conn, response, fault)
            else:
                for chunk in response.iter_bytes():
                    _chunk(conn, chunk)
            conn.sendall(b"0\r\n\r\n")
        finally:
            response.close()

    def _relay_events(self, conn: socket.socket, response: httpx.Response, fault: Fault) -> None:
        buffer = b""
        for data in response.iter_bytes():
            buffer += data
            while b"\n\n" in buffer:
                end = buffer.index(b"\n\n") + 2
                block, buffer = buffer[:end], buffer[end:]
                if not self._event(conn, block, fault):
                    return
        if buffer:
            _chunk(conn, buffer)

    def _event(self, conn: socket.socket, block: bytes, fault: Fault) -> bool:
        """Relay one SSE event under ``fault``; False once the response is over."""
        if not (isinstance(fault, _Marked) and fault.hit(block)):
            _chunk(conn, block)
            return True
        if isinstance(fault, Cut):
            _chunk(conn, block[: max(1, int(len(block) * fault.keep))])
            raise _Dropped
        if isinstance(fault, Stall):
            _chunk(conn, block)
            self._stop.wait(min(fault.seconds, MAX_STALL))
            raise _Dropped
        if isinstance(fault, Inject):
            _chunk(conn, fault.data if fault.replace else block + fault.data)
            return True
        if isinstance(fault, EndBefore):
            if fault.data:
                _chunk(conn, fault.data)
            return False
        raise AssertionError(f"not an SSE fault: {fault!r}")

    # -- WebSocket ---------------------------------------------------------------------------

    def _websocket(self, conn: socket.socket, reader: Any, head: bytes, fault: Fault | None) -> None:
        # Refuse compression, so server frames can be read (and markers found) as they pass.
        kept = [
            line for line in head.split(b"\r\n") if not line.lower().startswith(b"sec-websocket-extensions")
        ]
        upstream = socket.create_connection(self._target, timeout=5)
        upstream.settimeout(MAX_STALL * 2)
        with self._lock:
            self._conns.add(upstream)
        upstream.sendall(b"\r\n".join(kept))
        up_reader = upstream.makefile("rb")
        answer = _read_head(up_reader)
        if answer is None:
            _shut(upstream)
            return
        conn.sendall(answer)
        done = threading.Event()
        lock = threading.Lock()

        def close_client(code: int, error: dict[str, Any] | None, reason: str) -> None:
            with lock:
                if error is not None:
                    conn.sendall(_frame(0x1, json.dumps({"event": "error", "data": error}).encode()))
                conn.sendall(_frame(0x8, struct.pack("!H", code) + reason.encode()))
            done.set()
            _shut(upstream)
            _shut(conn)

        def client_to_server() -> None:
            try:
                while not done.is_set():
                    raw, payload = _read_frame(reader, masked=True)
                    if (
                        isinstance(fault, WSClose)
                        and fault.client_marker is not None
                        and fault.client_marker in payload
                    ):
                        close_client(fault.code, fault.error, fault.reason)
                        return
                    upstream.sendall(raw)
            except (OSError, ValueError):
                pass
            finally:
                done.set()
                _shut(upstream)

        threading.Thread(target=client_to_server, daemon=True).start()
        try:
            while not done.is_set():
                raw, payload = _read_frame(up_reader, masked=False)
                if isinstance(fault, WSDrop) and fault.marker in payload:
                    fault.seen += 1
                    if fault.seen == fault.nth:
                        with lock:
                            conn.sendall(raw)
                        done.set()
                        _abort(conn)
                        return
                if isinstance(fault, WSClose) and fault.marker is not None and fault.marker in payload:
                    close_client(fault.code, fault.error, fault.reason)
                    return
                with lock:
                    conn.sendall(raw)
        except (OSError, ValueError):
            pass
        finally:
            done.set()
            with self._lock:
                self._conns.discard(upstream)
            _shut(upstream)


def _read_frame(reader: Any, *, masked: bool) -> tuple[bytes, bytes]:
    """One WebSocket frame: its raw bytes (to relay as they are) and its payload (unmasked)."""
    head = reader.read(2)
    if len(head) < 2:
        raise ValueError("connection closed")
    raw = bytearray(head)
    length = head[1] & 0x7F
    if length == 126:
        ext = reader.read(2)
        raw += ext
        length = struct.unpack("!H", ext)[0]
    elif length == 127:
        ext = reader.read(8)
        raw += ext
        length = struct.unpack("!Q", ext)[0]
    key = b""
    if head[1] & 0x80:
        key = reader.read(4)
        raw += key
    payload = reader.read(length) if length else b""
    if len(payload) < length:
        raise ValueError("connection closed mid-frame")
    raw += payload
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if masked else payload
    return bytes(raw), payload


def _frame(opcode: int, payload: bytes) -> bytes:
    """An unmasked (server-to-client) frame."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def _chunk(conn: socket.socket, data: bytes) -> None:
    if data:
        conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _abort(sock: socket.socket) -> None:
    """Close with a reset, as a dead network or a killed peer does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (bounded); returns its last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
