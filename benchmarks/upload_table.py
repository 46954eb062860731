"""A CSV upload becoming a SQLite table: the local server's path against pandas, same run.

* ours:     ``read_tables`` (csv module, column types inferred: INTEGER, REAL, DATE, TEXT, with
            NULLs) -> ``write_table`` into a new SQLite file, in one transaction
* baseline: ``pandas.read_csv`` -> ``DataFrame.to_sql`` into a new SQLite file (pandas' own
            type inference, no date typing)

The CSV mixes ints, floats, text with unicode, ISO dates and empty cells, as a DataFrame upload
from the client looks. Each figure is the best of ``--rounds`` runs, the two sides alternating.

Run: ``.venv/bin/python benchmarks/upload_table.py [--rows N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable

import pandas as pd

from trellis_jupyter.local.uploads import CSV, read_tables, write_table


def make_csv(rows: int, seed: int = 11) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("id,region,quota,units,since,owner\n")
    regions = ["North", "South", "East", "West", ""]
    for i in range(rows):
        quota = "" if i % 9 == 0 else f"{rng.uniform(0, 5000):.2f}"
        since = "" if i % 13 == 0 else f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        owner = f"Zoë {rng.randrange(999)}"
        out.write(f"{i},{rng.choice(regions)},{quota},{rng.randrange(100)},{since},{owner}\n")
    return out.getvalue().encode("utf-8")


def ours(data: bytes, path: str) -> None:
    [table] = read_tables("targets.csv", CSV, data)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN")
    write_table(con, "targets", table)
    con.execute("COMMIT")
    con.close()


def baseline(data: bytes, path: str) -> None:
    df = pd.read_csv(io.BytesIO(data))
    con = sqlite3.connect(path)
    df.to_sql("targets", con, index=False)
    con.commit()
    con.close()


def best_times(data: bytes, rounds: int) -> tuple[float, float]:
    best: dict[Callable[[bytes, str], None], float] = {ours: float("inf"), baseline: float("inf")}
    with tempfile.TemporaryDirectory() as folder:
        for n in range(rounds):
            for fn in (ours, baseline):
                path = os.path.join(folder, f"{fn.__name__}{n}.sqlite")
                gc.collect()
                start = time.perf_counter()
                fn(data, path)
                best[fn] = min(best[fn], time.perf_counter() - start)
        check = sqlite3.connect(os.path.join(folder, "ours0.sqlite"))
        types = [row[2] for row in check.execute("PRAGMA table_info(targets)")]
        check.close()
        assert types == ["INTEGER", "TEXT", "REAL", "INTEGER", "DATE", "TEXT"], types
    return best[ours], best[baseline]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = make_csv(args.rows)
    ours_t, base_t = best_times(data, args.rounds)
    print(f"CSV upload -> SQLite table: {args.rows:,} rows x 6 columns ({len(data) / 2**20:.1f} MB)")
    print(f"ours (read_tables + write_table) : {ours_t * 1000:9.1f} ms")
    print(f"pandas read_csv + to_sql         : {base_t * 1000:9.1f} ms")
    print(f"ratio ours/baseline (best of {args.rounds}): {ours_t / base_t:.2f}x")


if __name__ == "__main__":
    main()
