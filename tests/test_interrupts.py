"""Ctrl-C / the stop button at any moment of a chart answer leaves the session working.

Real kernels (jupyter_client), the bundled server inside them, and ``interrupt_kernel`` (SIGINT,
what JupyterLab's stop button sends) at delays spread over the answer's whole duration: in a fresh
kernel (each delay a new kernel: the first chart answer is where the heavy first-use work is) and
in a warm one. After each interrupt the interrupted cell's output has no traceback and no red
``KeyboardInterrupt`` line, and the next question answers with its table, chart, DataFrame and
Altair chart (no module was left half imported).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Fewer delays when asked (a quick local run); CI uses the figure the issue asks for.
DELAYS = int(os.environ.get("TRELLIS_INTERRUPT_DELAYS", "20"))
SETUP = "%load_ext trellis_jupyter\n%config Trellis.local_store = ':memory:'\n%trellis connect --local"
CHART = "%%trellis -o first\nHow many orders did we get last month, by region? Show a bar chart."
AGAIN = "%%trellis -o again --df again_df --chart again_chart\nrevenue by region as a bar chart"
CHECK = "assert again.complete and len(again_df) > 0 and again_chart.to_dict()['mark']; print('ok')"
STOPPED = "Stopped: the answer above is partial."
VEGALITE = "application/vnd.vegalite.v5+json"


class Kernel:
    def __init__(self) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def send(self, code: str) -> str:
        msg_id: str = self.client.execute(code)
        return msg_id

    def outputs(self, msg_id: str, timeout: float = 120) -> list[dict[str, Any]]:
        """The iopub outputs of one request, until the kernel is idle again."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.1))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                return found
            if kind in ("stream", "display_data", "update_display_data", "execute_result", "error"):
                found.append({"type": kind, **msg["content"]})

    def run(self, code: str) -> list[dict[str, Any]]:
        return self.outputs(self.send(code))

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernels() -> Iterator[list[Kernel]]:
    started: list[Kernel] = []
    yield started
    for kernel in started:
        kernel.close()


def text_of(outputs: list[dict[str, Any]]) -> str:
    parts = []
    for out in outputs:
        if out["type"] == "stream":
            parts.append(out["text"])
        elif out["type"] == "error":
            parts.append("\n".join(out["traceback"]))
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def assert_clean(outputs: list[dict[str, Any]], where: str) -> None:
    text = text_of(outputs)
    assert not [o for o in outputs if o["type"] == "error"], f"{where}: {text[-2000:]}"
    assert "Traceback" not in text, f"{where}: {text[-2000:]}"
    assert "KeyboardInterrupt" not in text, f"{where}: {text[-2000:]}"


def assert_answers(kernel: Kernel, where: str) -> None:
    outputs = kernel.run(AGAIN)
    assert_clean(outputs, where)
    assert any(VEGALITE in o.get("data", {}) for o in outputs), (
        f"{where}: no chart {text_of(outputs)[-1000:]}"
    )
    check = kernel.run(CHECK)
    assert_clean(check, where)
    assert "ok" in text_of(check), f"{where}: {text_of(check)[-2000:]}"


def fresh_kernel(kernels: list[Kernel]) -> Kernel:
    kernel = Kernel()
    kernels.append(kernel)
    outputs = kernel.run(SETUP)
    assert_clean(outputs, "setup")
    assert "Connected to the local server" in text_of(outputs)
    return kernel


def interrupt_after(kernel: Kernel, code: str, delay: float) -> list[dict[str, Any]]:
    msg_id = kernel.send(code)
    time.sleep(delay)
    kernel.manager.interrupt_kernel()
    return kernel.outputs(msg_id)


def answer_time(kernels: list[Kernel]) -> float:
    """How long a fresh kernel's first chart answer takes here (the delays are spread over it)."""
    kernel = fresh_kernel(kernels)
    start = time.monotonic()
    outputs = kernel.run(CHART)
    took = time.monotonic() - start
    assert_clean(outputs, "uninterrupted")
    kernel.close()
    kernels.remove(kernel)
    return took


def spread(duration: float, count: int = DELAYS) -> list[float]:
    # From just after the request is sent to a little past the answer's end.
    return [0.02 + duration * 1.1 * i / max(count - 1, 1) for i in range(count)]


def test_ctrl_c_at_any_moment_of_a_fresh_kernels_first_chart_answer(kernels: list[Kernel]) -> None:
    stopped = 0
    for delay in spread(answer_time(kernels)):
        kernel = fresh_kernel(kernels)
        outputs = interrupt_after(kernel, CHART, delay)
        assert_clean(outputs, f"interrupted after {delay:.3f} s")
        stopped += STOPPED in text_of(outputs)
        assert_answers(kernel, f"after an interrupt at {delay:.3f} s")
        kernel.close()
        kernels.remove(kernel)
    assert stopped >= 1  # some interrupts landed mid-answer and said so


def test_ctrl_c_at_any_moment_of_a_warm_kernels_chart_answer(kernels: list[Kernel]) -> None:
    kernel = fresh_kernel(kernels)
    assert_answers(kernel, "warm-up")
    start = time.monotonic()
    assert_clean(kernel.run(CHART), "uninterrupted")
    duration = time.monotonic() - start
    stopped = 0
    for delay in spread(duration, max(DELAYS // 2, 2)):  # one kernel: the same moments, half as many
        outputs = interrupt_after(kernel, CHART, delay)
        assert_clean(outputs, f"warm, interrupted after {delay:.3f} s")
        stopped += STOPPED in text_of(outputs)
        assert_answers(kernel, f"warm, after an interrupt at {delay:.3f} s")
    assert stopped >= 1


def test_ctrl_c_during_a_fresh_kernels_connect(kernels: list[Kernel]) -> None:
    """The connect imports the local server and the HTTP client (heavy in a fresh kernel): an
    interrupt there leaves nothing half imported either; connecting again works."""
    kernel = Kernel()
    kernels.append(kernel)
    load = "%load_ext trellis_jupyter\n%config Trellis.local_store = ':memory:'"
    assert_clean(kernel.run(load), "load")
    start = time.monotonic()
    assert_clean(kernel.run("%trellis connect --local"), "connect")
    duration = time.monotonic() - start
    kernel.close()
    kernels.remove(kernel)
    for delay in spread(duration, max(DELAYS // 4, 2)):
        kernel = Kernel()
        kernels.append(kernel)
        assert_clean(kernel.run(load), "load")
        outputs = interrupt_after(kernel, "%trellis connect --local", delay)
        assert_clean(outputs, f"connect interrupted after {delay:.3f} s")
        again = kernel.run("%trellis connect --local")
        assert_clean(again, f"connect again after an interrupt at {delay:.3f} s")
        assert "Connected to the local server" in text_of(again)
        assert_answers(kernel, f"after a connect interrupted at {delay:.3f} s")
        kernel.close()
        kernels.remove(kernel)
