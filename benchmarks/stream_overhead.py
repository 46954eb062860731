"""Per-event overhead of ``client.chats.stream`` against raw httpx + httpx-sse + json.loads.

A tiny HTTP server on loopback serves one pre-built SSE body: 100,000 ``text_delta`` events, one
table of 100,000 rows, then the final ``message``. Both paths read those identical bytes in the
same run; the script prints both times (best of several rounds) and the ratio. Aim: <= 1.25x.

    .venv/bin/python benchmarks/stream_overhead.py [--deltas 100000] [--rows 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from httpx_sse import EventSource

from trellis_jupyter.client import Trellis


def build_body(deltas: int, rows: int) -> bytes:
    parts = [b'event: chat_metadata\ndata: {"id": "chat_bench", "user_message_id": "msg_u"}\n\n']
    for i in range(deltas):
        parts.append(b'event: text_delta\ndata: {"content": "word%d "}\n\n' % i)
    table = {
        "id": "tbl0000001",
        "type": "table",
        "title": "Orders",
        "headers": ["id", "region", "amount", "paid"],
        "rows": [[i, "North" if i % 2 else "South", i * 1.5, i % 3 == 0] for i in range(rows)],
    }
    parts.append(b"event: visualization\ndata: " + json.dumps(table).encode() + b"\n\n")
    parts.append(b'event: message\ndata: {"content": "done", "id": "msg_a"}\n\n')
    return b"".join(parts)


def serve(body: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def raw(http: httpx.Client, url: str) -> int:
    """The baseline: httpx streaming + httpx-sse decoding + json.loads of every event."""
    count = 0
    body = {"message": "q", "chat_id": "chat_bench"}
    with http.stream(
        "POST", url + "/v1/chats", json=body, headers={"Accept": "text/event-stream"}
    ) as response:
        for sse in EventSource(response).iter_sse():
            json.loads(sse.data)
            count += 1
    return count


def ours(client: Trellis) -> int:
    """Our path: typed events, the Answer accumulator, the stream object."""
    count = 0
    with client.chats.stream("q", chat_id="chat_bench") as stream:
        for _ in stream:
            count += 1
        answer = stream.get_final_answer()
    assert answer.complete
    assert answer.tables[0].rows
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    body = build_body(args.deltas, args.rows)
    server, url = serve(body)
    claims = base64.urlsafe_b64encode(json.dumps({"exp": 4_000_000_000}).encode()).decode().rstrip("=")
    client = Trellis(base_url=url, token=f"e30.{claims}.sig", max_retries=0)
    http = httpx.Client(timeout=60)
    raw_times: list[float] = []
    our_times: list[float] = []
    try:
        raw(http, url)  # warm up: connections, imports
        ours(client)
        for _ in range(args.rounds):  # interleaved, so drift hits both paths alike
            start = time.perf_counter()
            n_raw = raw(http, url)
            raw_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            n_ours = ours(client)
            our_times.append(time.perf_counter() - start)
    finally:
        client.close()
        http.close()
        server.shutdown()
    assert n_raw == n_ours, (n_raw, n_ours)
    best_raw, best_ours = min(raw_times), min(our_times)
    size = len(body) / 1e6
    print(f"stream: {args.deltas:,} text_delta events + one table of {args.rows:,} rows ({size:.1f} MB)")
    for label, times in (
        ("raw httpx + httpx-sse + json.loads", raw_times),
        ("client.chats.stream (typed events)", our_times),
    ):
        print(f"{label} : {min(times) * 1000:8.1f} ms  (median {statistics.median(times) * 1000:.1f})")
    print(f"ratio (best of {args.rounds}): {best_ours / best_raw:.2f}x   (aim: <= 1.25x)")
    websocket_row(args.deltas, args.rows, args.rounds)


# --- WebSocket row (websocket engineer): the same idea over /v1/chats/ws --------------------------


def websocket_row(deltas: int, rows: int, rounds: int) -> None:
    """ChatSocket against a raw ``websockets`` loop with json.loads, on identical frames.

    A tiny ``websockets`` server on loopback answers every ``send_message`` with the same pre-built
    frames (chat_metadata, ``deltas`` text deltas, one table of ``rows`` rows, message) and every
    ``ping`` with a pong; both paths use one connection for all their rounds. Per-frame cost on a
    WebSocket is dominated by the transport (a thread hand-off per frame on both paths), so the
    row caps the deltas at 20,000 to keep the run short.
    """
    from websockets.sync.client import connect
    from websockets.sync.server import ServerConnection
    from websockets.sync.server import serve as ws_serve

    from trellis_jupyter.websocket import ChatSocket

    deltas = min(deltas, 20_000)

    def frame(event: str, data: Any) -> str:
        return json.dumps({"event": event, "data": data})

    table = {
        "id": "tbl0000001",
        "type": "table",
        "headers": ["id", "region", "amount", "paid"],
        "rows": [[i, "North" if i % 2 else "South", i * 1.5, i % 3 == 0] for i in range(rows)],
    }
    frames = [frame("chat_metadata", {"id": "chat_bench", "user_message_id": "msg_u"})]
    frames += [frame("text_delta", {"content": f"word{i} "}) for i in range(deltas)]
    frames += [frame("visualization", table), frame("message", {"content": "done", "id": "msg_a"})]

    def handler(ws: ServerConnection) -> None:
        for text in ws:
            action = json.loads(text).get("action")
            if action == "ping":
                ws.send(frame("pong", {}))
            elif action == "send_message":
                for f in frames:
                    ws.send(f)

    size = 64 * 1024 * 1024
    with ws_serve(handler, "127.0.0.1", 0, max_size=size) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
        socket = ChatSocket(base, "bench-token").connect()
        raw_ws = connect(base.replace("http", "ws") + "/v1/chats/ws", max_size=size, legacy=True)
        request = json.dumps({"action": "send_message", "message": "q", "chat_id": "chat_bench"})

        def raw_path() -> int:
            raw_ws.send(request)
            count = 0
            while True:
                count += 1
                if json.loads(raw_ws.recv())["event"] == "message":
                    return count

        def our_path() -> int:
            with socket.stream("q", chat_id="chat_bench") as stream:
                count = sum(1 for _ in stream)
                answer = stream.get_final_answer()
            assert answer.complete
            assert len(answer.tables[0].rows) == rows
            return count

        raw_times: list[float] = []
        our_times: list[float] = []
        try:
            raw_path(), our_path()  # warm up
            for _ in range(rounds):
                start = time.perf_counter()
                n_raw = raw_path()
                raw_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                n_ours = our_path()
                our_times.append(time.perf_counter() - start)
        finally:
            socket.close()
            raw_ws.close()
            server.shutdown()
    assert n_raw == n_ours, (n_raw, n_ours)
    best_raw, best_ours = min(raw_times), min(our_times)
    print(f"websocket: {deltas:,} text_delta frames + one table of {rows:,} rows, one connection per path")
    for label, times in (
        ("raw websockets + json.loads", raw_times),
        ("ChatSocket.stream (typed events)", our_times),
    ):
        print(f"{label:34} : {min(times) * 1000:8.1f} ms  (median {statistics.median(times) * 1000:.1f})")
    print(f"websocket ratio (best of {rounds}): {best_ours / best_raw:.2f}x   (aim: <= 1.25x)")


if __name__ == "__main__":
    main()
