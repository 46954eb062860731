"""Cost of showing a streamed answer in a cell, per event, beside parsing the event's JSON.

Feeds the events of a long answer (chat_metadata, statuses, N text deltas, the final message)
through ``Answer.feed`` and the magic's ``LiveAnswer.feed`` (coalesced display updates, with a
publisher that keeps the bundles as a kernel would before serializing them), and times the same
events' ``json.loads`` alone: the cost any client pays to read them. Prints both per event, the
ratio, and the number of display updates made (the coalescing at work).

    .venv/bin/python benchmarks/magic_display.py [--deltas 20000] [--interval 0.08]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from IPython.core.formatters import DisplayFormatter

from trellis_jupyter.answer import Answer
from trellis_jupyter.display import LiveAnswer
from trellis_jupyter.events import Event, parse_event


class KeepingPublisher:
    def __init__(self) -> None:
        self.calls = 0

    def publish(self, data: dict[str, Any], metadata: Any = None, **kwargs: Any) -> None:
        self.calls += 1


def wire_events(deltas: int) -> list[tuple[str, str]]:
    events = [("chat_metadata", json.dumps({"id": "chat_1", "user_message_id": "msg_1"}))]
    events += [("processing", json.dumps({"status": s})) for s in ("starting", "thinking", "analyzing")]
    words = [f"word{i} " for i in range(deltas)]
    events += [("text_delta", json.dumps({"content": w})) for w in words]
    events.append(("message", json.dumps({"content": "".join(words), "id": "msg_2"})))
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deltas", type=int, default=20000)
    parser.add_argument("--interval", type=float, default=0.08)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    wire = wire_events(args.deltas)
    parsed: list[Event] = [parse_event(name, data) for name, data in wire]
    # The stream arrives over ~2 s of simulated time (a paced server), so coalescing is realistic.
    step = 2.0 / len(parsed)

    def show(interval: float) -> tuple[float, int]:
        clock = types.SimpleNamespace(now=0.0)
        shell = types.SimpleNamespace(display_pub=KeepingPublisher(), display_formatter=DisplayFormatter())
        live = LiveAnswer(shell, interval=interval, rich=True, clock=lambda: clock.now)
        answer = Answer("q")
        start = time.perf_counter()
        live.start()
        for event in parsed:
            answer.feed(event)
            live.feed(event, answer)
            clock.now += step
        live.finish(answer)
        return time.perf_counter() - start, live.updates

    show(args.interval)  # the first final rendering imports the render stack: not part of the figure
    best_json, best_show, best_naive, updates, naive_updates = (float("inf"),) * 3 + (0, 0)
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _name, data in wire:
            json.loads(data)
        best_json = min(best_json, time.perf_counter() - start)
        took, updates = show(args.interval)
        best_show = min(best_show, took)
        if args.deltas <= 2000:  # one update per delta grows quadratically: keep it to sane sizes
            took, naive_updates = show(0.0)
            best_naive = min(best_naive, took)

    n = len(parsed)
    print(f"events: {n} ({args.deltas} text deltas over 2 s), coalescing interval {args.interval} s")
    print(f"json.loads alone (baseline):      {best_json / n * 1e6:8.2f} us/event")
    print(f"Answer.feed + LiveAnswer.feed:    {best_show / n * 1e6:8.2f} us/event, {updates} display updates")
    print(f"ratio to the JSON parse: {best_show / best_json:.2f}x")
    if naive_updates:
        print(
            f"one update per delta (interval 0): {best_naive / n * 1e6:8.2f} us/event, "
            f"{naive_updates} display updates ({best_naive / best_show:.1f}x the coalesced cost)"
        )


if __name__ == "__main__":
    main()
