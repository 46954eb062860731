"""Load on the local server: 50 concurrent conversations over SSE and over WebSocket, on loopback.

The server runs in its own process (as ``trellis-jupyter serve`` does), over the demo database,
with ``pace=0`` and limits raised so that only the server's own work is measured. Each
conversation authenticates (its own token), then asks ``--turns`` questions one after another in
one chat. For every turn we time the first event (``chat_metadata``) and the final ``message``.

Baselines measured in the same run: the same number of concurrent plain ``GET /v1/models`` calls
(the cost of HTTP alone under the same concurrency), and single turns asked one at a time
(a turn without contention). Ratios compare the loaded turns with those baselines.

The mixed run (issue #16) runs the SSE conversations (``--mixed-turns`` turns each, 10) without,
then with, ``--abusers`` other members (8) that each send ``--abuse-rate`` questions a second
(2) of the maximum length (4,000 characters, about a second of planning each) and disconnect as
soon as the answer starts, so every such turn is abandoned (16 planner-seconds of work asked for
every second, were abandoned turns not stopped).
It prints the normal turns' p50/p99 beside the same run without abusers (aim: p99 within 2x),
and the server's CPU time in the second after the abusers left (an abandoned turn must stop using
the CPU).

    .venv/bin/python benchmarks/server_load.py [--conversations 50] [--turns 3] [--timeout 120]
        [--abusers 8] [--abuse-rate 2]

Exits 1 if any turn failed or the run did not finish within ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

QUESTIONS = ["how many customers", "what tables are there?", "SELECT COUNT(*) AS n FROM orders"]

SERVER_CODE = """
import json, os, sys
from trellis_jupyter.local import serve_in_background
limits = [(100000, 60.0)]
server = serve_in_background(
    store=":memory:", pace=0.0, create_chat_limits=limits, ws_send_limits=limits,
    token_send_limits=limits, ws_connection_cap=1000, planner_threads=8,
)
print(json.dumps({**server.env, "PID": str(os.getpid())}), flush=True)
sys.stdin.read()
server.stop()
"""


@dataclass
class Timings:
    first: list[float] = field(default_factory=list)  # seconds to the first event
    final: list[float] = field(default_factory=list)  # seconds to the final message
    errors: list[str] = field(default_factory=list)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    httpx's shared async pool costs more than the server itself at 50 concurrent streams (its p50
    for a plain GET was ~1 s here), so the load is driven with this lean client instead: what is
    timed is the server, not the client's connection pool.
    """

    def __init__(self, base_url: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()

    async def send(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> int:
        """Send a request; the status code of its response (headers read, body not yet)."""
        assert self.writer is not None
        assert self.reader is not None
        payload = json.dumps(body).encode() if body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(payload)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines.append("Content-Type: application/json")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        self.headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        return int(head[0].split()[1])

    async def chunks(self) -> AsyncIterator[bytes]:
        """The response body, as the server wrote it (one chunk per write when chunked)."""
        assert self.reader is not None
        if "content-length" in self.headers:
            yield await self.reader.readexactly(int(self.headers["content-length"]))
            return
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            data = await self.reader.readexactly(size + 2)
            if size == 0:
                return
            yield data[:-2]

    async def json(self) -> Any:
        return json.loads(b"".join([c async for c in self.chunks()]))

    async def events(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """SSE events of the response body."""
        buffer = ""
        async for chunk in self.chunks():
            buffer += chunk.decode()
            *blocks, buffer = buffer.split("\n\n")
            for block in blocks:
                name, data = "message", ""
                for line in block.split("\n"):
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data += line[6:]
                if data:
                    yield name, json.loads(data)


async def authenticate(conn: Connection, env: dict[str, str], n: int) -> str:
    status = await conn.send(
        "POST", "/v1/authenticate", {"X-API-Key": env["TRELLIS_API_KEY"]}, {"email": f"load{n}@example.com"}
    )
    body = await conn.json()
    if status != 200:
        raise RuntimeError(f"authenticate: {status} {body}")
    return str(body["token"])


async def sse_conversation(env: dict[str, str], n: int, turns: int, out: Timings) -> None:
    async with Connection(env["TRELLIS_BASE_URL"]) as conn:
        headers = {
            "Authorization": f"Bearer {await authenticate(conn, env, n)}",
            "Accept": "text/event-stream",
        }
        chat_id = None
        for t in range(turns):
            body: dict[str, Any] = {"message": QUESTIONS[(n + t) % len(QUESTIONS)]}
            if chat_id:
                body["chat_id"] = chat_id
            start = time.perf_counter()
            first = None
            if await conn.send("POST", "/v1/chats", headers, body) != 200:
                out.errors.append(f"sse {n}: {await conn.json()}")
                return
            done = False
            async for name, data in conn.events():
                if first is None:
                    first = time.perf_counter() - start
                    chat_id = data["id"]
                if name == "error":
                    out.errors.append(f"sse {n}: {data}")
                elif name == "message":
                    out.first.append(first)
                    out.final.append(time.perf_counter() - start)
                    done = True
            if not done:
                out.errors.append(f"sse {n}: stream ended without a message")
                return


async def ws_conversation(env: dict[str, str], n: int, turns: int, out: Timings) -> None:
    async with Connection(env["TRELLIS_BASE_URL"]) as conn:
        token = await authenticate(conn, env, n)
    url = env["TRELLIS_BASE_URL"].replace("http://", "ws://") + "/v1/chats/ws"
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        assert json.loads(await ws.recv())["event"] == "authenticated"
        chat_id = None
        for t in range(turns):
            frame: dict[str, Any] = {"action": "send_message", "message": QUESTIONS[(n + t) % len(QUESTIONS)]}
            if chat_id:
                frame["chat_id"] = chat_id
            start = time.perf_counter()
            first = None
            await ws.send(json.dumps(frame))
            while True:
                event = json.loads(await ws.recv())
                if first is None:
                    first = time.perf_counter() - start
                    chat_id = event["data"].get("id")
                if event["event"] == "error":
                    out.errors.append(f"ws {n}: {event['data']}")
                    return
                if event["event"] == "message":
                    out.first.append(first)
                    out.final.append(time.perf_counter() - start)
                    break


async def plain_gets(env: dict[str, str], n: int, turns: int, out: Timings) -> None:
    async with Connection(env["TRELLIS_BASE_URL"]) as conn:
        headers = {"Authorization": f"Bearer {await authenticate(conn, env, n)}"}
        for _ in range(turns):
            start = time.perf_counter()
            status = await conn.send("GET", "/v1/models", headers)
            await conn.json()
            elapsed = time.perf_counter() - start
            if status != 200:
                out.errors.append(f"get {n}: {status}")
                return
            out.first.append(elapsed)
            out.final.append(elapsed)


# A question of the maximum length that the planner must read whole (many words it tries to match).
LONG_QUESTION = ("how many orders by customer region and month for category electronics in the west " * 60)[
    :4000
]


async def abuser(env: dict[str, str], n: int, rate: float, stop: asyncio.Event, counts: list[int]) -> None:
    """Send ``rate`` maximum-length questions a second, each left once its answer starts."""
    async with Connection(env["TRELLIS_BASE_URL"]) as conn:
        token = await authenticate(conn, env, 1000 + n)
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    next_at = time.perf_counter()
    while not stop.is_set():
        next_at += 1.0 / rate
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        async with Connection(env["TRELLIS_BASE_URL"]) as conn:
            if await conn.send("POST", "/v1/chats", headers, {"message": LONG_QUESTION}) == 200:
                async for _ in conn.events():
                    break  # the turn has started: leave it
                counts[0] += 1
            else:
                await conn.json()
                await asyncio.sleep(0.05)


def cpu_seconds(pid: str) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def mixed(
    env: dict[str, str], conversations: int, turns: int, abusers: int, rate: float
) -> tuple[Timings, float, int, float]:
    """SSE conversations under abuse; also the server's CPU seconds in the second after it."""
    stop = asyncio.Event()
    abandoned = [0]
    tasks = [asyncio.create_task(abuser(env, n, rate, stop, abandoned)) for n in range(abusers)]
    await asyncio.sleep(1.0)  # the abuse is under way before the first normal question
    loaded, wall = await run(sse_conversation, env, conversations, turns)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(1.5)  # the last abandoned turns end
    before = cpu_seconds(env["PID"])
    await asyncio.sleep(1.0)
    return loaded, wall, abandoned[0], cpu_seconds(env["PID"]) - before


Runner = Callable[[dict[str, str], int, int, Timings], Awaitable[None]]


async def run(kind: Runner, env: dict[str, str], conversations: int, turns: int) -> tuple[Timings, float]:
    out = Timings()
    start = time.perf_counter()
    results = await asyncio.gather(
        *(kind(env, n, turns, out) for n in range(conversations)), return_exceptions=True
    )
    wall = time.perf_counter() - start
    out.errors += [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    return out, wall


def line(label: str, timings: Timings, wall: float) -> str:
    ms = 1000.0
    return (
        f"{label:<34} n={len(timings.final):<4} first event p50 {pct(timings.first, 0.5) * ms:7.1f} ms"
        f"  p99 {pct(timings.first, 0.99) * ms:7.1f} ms | final p50 {pct(timings.final, 0.5) * ms:7.1f} ms"
        f"  p99 {pct(timings.final, 0.99) * ms:7.1f} ms | errors {len(timings.errors)} | wall {wall:5.2f} s"
    )


async def main_async(args: argparse.Namespace, env: dict[str, str]) -> int:
    # Warm up once (planner, demo database pages, connection setup), then measure.
    await run(sse_conversation, env, 2, 1)
    single, single_wall = await run(sse_conversation, env, 1, 20)
    gets, gets_wall = await run(plain_gets, env, args.conversations, args.turns)
    sse, sse_wall = await run(sse_conversation, env, args.conversations, args.turns)
    ws, ws_wall = await run(ws_conversation, env, args.conversations, args.turns)

    print(
        f"server_load: {args.conversations} concurrent conversations x {args.turns} turns, pace 0, loopback"
    )
    print(line("baseline: one turn at a time (SSE)", single, single_wall))
    print(line(f"baseline: {args.conversations} concurrent GET /v1/models", gets, gets_wall))
    print(line(f"{args.conversations} concurrent SSE conversations", sse, sse_wall))
    print(line(f"{args.conversations} concurrent WS conversations", ws, ws_wall))
    for label, loaded in (("SSE", sse), ("WS", ws)):
        print(
            f"ratio {label}: final p50 / uncontended turn p50 = "
            f"{statistics.median(loaded.final) / statistics.median(single.final):.1f}x; "
            f"first event p50 / concurrent GET p50 = "
            f"{statistics.median(loaded.first) / statistics.median(gets.first):.1f}x; "
            f"turns/s {len(loaded.final) / (sse_wall if label == 'SSE' else ws_wall):.0f}"
        )
    abused = calm = Timings()
    if args.abusers:
        # Longer conversations than above, so that the abuse lasts: the same shape with and without.
        turns = args.mixed_turns
        calm, calm_wall = await run(sse_conversation, env, args.conversations, turns)
        abused, abused_wall, abandoned, idle_cpu = await mixed(
            env, args.conversations, turns, args.abusers, args.abuse_rate
        )
        print(line(f"{args.conversations} SSE x {turns} turns, no abuse", calm, calm_wall))
        label = f"the same + {args.abusers} abusers x {args.abuse_rate:g}/s"
        print(line(label, abused, abused_wall))
        p50, p99 = pct(abused.final, 0.5), pct(abused.final, 0.99)
        base50, base99 = pct(calm.final, 0.5), pct(calm.final, 0.99)
        print(
            f"mixed run: {abandoned} abandoned 4,000-character turns; normal turns final "
            f"p50 {p50 * 1000:.1f} ms vs {base50 * 1000:.1f} ms unloaded ({p50 / base50:.1f}x), "
            f"p99 {p99 * 1000:.1f} ms vs {base99 * 1000:.1f} ms ({p99 / base99:.1f}x; aim: within 2x)"
        )
        print(f"server CPU in the second after the abusers left: {idle_cpu * 1000:.0f} ms")
    errors = single.errors + gets.errors + sse.errors + ws.errors + calm.errors + abused.errors
    for error in errors[:10]:
        print("error:", error)
    print(f"errors: {len(errors)}")
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--abusers", type=int, default=8, help="clients abandoning long questions (0: none)")
    parser.add_argument("--mixed-turns", type=int, default=10, help="turns per conversation in the mixed run")
    parser.add_argument(
        "--abuse-rate", type=float, default=2.0, help="abandoned questions per second per abusive client"
    )
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        env = json.loads(server.stdout.readline())
        return asyncio.run(asyncio.wait_for(main_async(args, env), args.timeout))
    except asyncio.TimeoutError:
        print(f"server_load: did not finish within {args.timeout:g} s")
        return 1
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
