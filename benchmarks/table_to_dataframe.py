"""Table payload -> DataFrame: our path against a careful hand-written pandas call, same run.

Both start from the visualization event's JSON text, as it arrives on the wire:

* ours:     the SSE path's decode (``_sse.to_event``: msgspec, then ``parse_event``) ->
            ``table_to_dataframe`` (types inferred: int64, float64, datetime64, text)
* baseline: ``json.loads`` -> ``pd.DataFrame(rows, columns=headers)`` (no date parsing at all)

Tables have 10 columns mixing ints, floats, text, ISO dates and nullable ints, at 1e5 and 1e6
cells. Each figure is the best of several runs, the two sides alternating.

Run: ``.venv/bin/python benchmarks/table_to_dataframe.py``
"""

from __future__ import annotations

import gc
import json
import random
import time

import pandas as pd

from trellis_jupyter._sse import to_event
from trellis_jupyter.convert import table_to_dataframe
from trellis_jupyter.events import Visualization

HEADERS = ["id", "customer", "amount", "qty", "ordered_on", "region", "discount", "paid", "note", "ref"]


def make_payload(n_rows: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    regions = ["North", "South", "East", "West"]
    rows = []
    for i in range(n_rows):
        rows.append(
            [
                i,
                f"customer {rng.randrange(5000)}",
                round(rng.uniform(1, 1000), 2),
                rng.randrange(1, 20),
                f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                rng.choice(regions),
                rng.random(),
                rng.random() < 0.5,
                None if i % 7 else "gift",
                None if i % 10 == 0 else rng.randrange(10**6),
            ]
        )
    return json.dumps({"id": "bench00001", "type": "table", "headers": HEADERS, "rows": rows})


def ours(text: str) -> pd.DataFrame:
    event = to_event("visualization", text)
    assert isinstance(event, Visualization)
    return table_to_dataframe(event.payload)  # type: ignore[arg-type]


def baseline(text: str) -> pd.DataFrame:
    data = json.loads(text)
    return pd.DataFrame(data["rows"], columns=data["headers"])


def best_times(text: str, repeat: int) -> tuple[float, float]:
    """Best time of each side, runs alternating so that machine noise hits both alike."""
    best = {ours: float("inf"), baseline: float("inf")}
    for _ in range(repeat):
        for fn in (ours, baseline):
            gc.collect()
            start = time.perf_counter()
            fn(text)
            best[fn] = min(best[fn], time.perf_counter() - start)
    return best[ours], best[baseline]


def main() -> None:
    print(f"{'cells':>10}  {'ours (s)':>9}  {'baseline (s)':>12}  {'ours/baseline':>13}")
    for cells, repeat in ((100_000, 15), (1_000_000, 5)):
        text = make_payload(cells // len(HEADERS))
        df = ours(text)
        assert str(df["ordered_on"].dtype).startswith("datetime64"), df.dtypes
        assert str(df["ref"].dtype) == "Int64", df.dtypes
        ours_t, base_t = best_times(text, repeat)
        print(f"{cells:>10,}  {ours_t:>9.3f}  {base_t:>12.3f}  {ours_t / base_t:>13.2f}")


if __name__ == "__main__":
    main()
