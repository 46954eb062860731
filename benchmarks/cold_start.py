"""The magic in a fresh kernel: how long each step takes, and the first chart beside the second.

A new kernel (started by nbclient, as ``jupyter nbconvert --execute`` and ``trellis-jupyter run``
do) runs ``%load_ext trellis_jupyter``, ``%trellis connect --local`` (the bundled server on the
demo database, a throwaway chat store), a text question, a chart question and a second chart
question. Each cell is timed from the client's side (sent to reply received). The baseline is the
second chart answer in the same kernel: the first chart should cost little more than it
(aim: first chart <= 1.0 s, first/second <= 3x).

    .venv/bin/python benchmarks/cold_start.py [--rounds 3] [--pace 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

STEPS = [
    ("%load_ext", "%load_ext trellis_jupyter"),
    ("connect --local", "%trellis connect --local"),
    ("text answer", "%%trellis\nhow many orders are there"),
    ("first chart answer", "%%trellis\nHow many orders did we get last month, by region? Show a bar chart."),
    ("second chart answer", "%%trellis\nmonthly revenue in 2025 as a line chart"),
]


def one_kernel(pace: float, store: str) -> dict[str, float]:
    setup = f"%config Trellis.local_pace = {pace}\n%config Trellis.local_store = {store!r}"
    cells = [nbformat.v4.new_code_cell(source) for _, source in STEPS]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass"), *cells])
    client = NotebookClient(nb, timeout=300, kernel_name="python3")
    times: dict[str, float] = {}
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)  # the kernel is up and idle before the clock starts
        for index, (name, source) in enumerate(STEPS, 1):
            cell = nb.cells[index]
            if name == "%load_ext":
                cell.source = f"{source}\n{setup}"
            start = time.perf_counter()
            client.execute_cell(cell, index)
            times[name] = time.perf_counter() - start
            _check(name, cell)
    return times


def _check(name: str, cell: Any) -> None:
    for output in cell.outputs:
        if output.get("output_type") == "error":
            raise SystemExit(f"{name} failed: {output.get('ename')}: {output.get('evalue')}")
    if "chart" in name:
        kinds = {mime for output in cell.outputs for mime in output.get("data", {})}
        if "application/vnd.vegalite.v5+json" not in kinds:
            raise SystemExit(f"{name}: no chart in the output ({sorted(kinds)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh kernels (the median is printed)")
    parser.add_argument("--pace", type=float, default=0.0, help="local server's seconds between deltas")
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            runs.append(one_kernel(args.pace, str(Path(tmp) / f"chats{n}.db")))
    print(f"fresh kernel through nbclient, bundled server (pace {args.pace}); median of {len(runs)} kernels")
    for name, _ in STEPS:
        values = [run[name] for run in runs]
        print(
            f"{name:22}: {statistics.median(values):7.3f} s   (min {min(values):.3f}, max {max(values):.3f})"
        )
    ratios = [run["first chart answer"] / run["second chart answer"] for run in runs]
    first = statistics.median(run["first chart answer"] for run in runs)
    print(
        f"first chart / second chart ratio: {statistics.median(ratios):.2f}x   (aim: first <= 1.0 s, <= 3x)"
    )
    print(f"first chart answer: {first:.3f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
