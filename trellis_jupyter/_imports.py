"""Heavy imports where Ctrl-C cannot cut them in half.

A kernel interrupt raises ``KeyboardInterrupt`` in the main thread wherever it is, also in the
middle of ``import altair`` (seconds in a fresh kernel). Python then drops the module being
imported, but the packages it had half set up stay in ``sys.modules`` (jsonschema without its
``exceptions``), and every later use fails until the kernel restarts. :func:`load` runs the
import in a worker thread, where no interrupt is delivered, and waits for it: Ctrl-C still stops
the waiting at once, while the import itself runs to its end.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

__all__ = ["load"]


def load(name: str) -> ModuleType:
    """``importlib.import_module(name)``, run to completion in a worker thread when not yet loaded."""
    module = sys.modules.get(name)
    if module is not None and not _initializing(module):
        return module
    if threading.current_thread() is not threading.main_thread():
        return importlib.import_module(name)  # interrupts land only in the main thread
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["module"] = importlib.import_module(name)
        except BaseException as error:  # handed to the caller
            box["error"] = error

    worker = threading.Thread(target=run, name=f"trellis-import-{name}", daemon=True)
    worker.start()
    worker.join()  # Ctrl-C interrupts this wait, never the import
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    loaded = box["module"]
    assert isinstance(loaded, ModuleType)
    return loaded


def _initializing(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))
