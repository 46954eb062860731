"""Run a notebook headless, as ``trellis-jupyter run NOTEBOOK`` does, and keep its outputs.

The notebook runs top to bottom in a fresh kernel (nbclient); any cell that ends in an error output
fails the run. The executed notebook and an HTML copy (nbconvert) are written beside each other,
so charts and tables can be read without a kernel. nbclient and nbconvert are imported only here:
install them with ``pip install "trellis-jupyter[notebooks]"``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigurationError, TrellisError

__all__ = ["NotebookRun", "run_notebook"]


@dataclass
class NotebookRun:
    """Where an executed notebook was written, and the error outputs it held (none on success)."""

    notebook: Path
    html: Path | None
    errors: list[str] = field(default_factory=list)


class NotebookFailed(TrellisError):
    """A cell of the notebook ended in an error."""


def _import_nb() -> tuple[Any, Any, Any]:
    try:
        import nbclient
        import nbconvert
        import nbformat
    except ImportError:
        raise ConfigurationError(
            'Running notebooks needs nbclient and nbconvert: pip install "trellis-jupyter[notebooks]".'
        ) from None
    return nbformat, nbclient, nbconvert


def _error_outputs(nb: Any) -> list[str]:
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return found


def run_notebook(
    path: str | os.PathLike[str],
    output_dir: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 600,
    html: bool = True,
    isolated: bool = True,
    env: Mapping[str, str] | None = None,
) -> NotebookRun:
    """Execute ``path`` in a fresh kernel and write the result (and an HTML copy) to ``output_dir``.

    ``isolated`` gives the kernel its own cache directory, so ``%trellis connect --local`` starts
    with an empty chat store instead of the user's. Raises :class:`NotebookFailed` (after writing
    the executed notebook, so it can be read) when any cell ends in an error.
    """
    nbformat, nbclient, nbconvert = _import_nb()
    source = Path(path)
    if not source.is_file():
        raise ConfigurationError(f"No notebook at {str(source)!r}: give the path of an .ipynb file.")
    out = Path(output_dir) if output_dir is not None else source.parent / "executed"
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(source, as_version=4)

    kernel_env = dict(os.environ)
    kernel_env.update(env or {})
    cache = tempfile.TemporaryDirectory(prefix="trellis-run-") if isolated else None
    if cache is not None:
        kernel_env["XDG_CACHE_HOME"] = cache.name
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,  # run to the end, then report every error at once
        resources={"metadata": {"path": str(source.parent.resolve())}},
    )
    try:
        client.execute(env=kernel_env)
    finally:
        if cache is not None:
            cache.cleanup()

    executed = out / source.name
    nbformat.write(nb, executed)
    html_path = None
    if html:
        body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
        html_path = executed.with_suffix(".html")
        html_path.write_text(body, encoding="utf-8")
    run = NotebookRun(notebook=executed, html=html_path, errors=_error_outputs(nb))
    if run.errors:
        raise NotebookFailed(
            f"{source.name} failed in {len(run.errors)} cell(s) ({run.errors[0]}); "
            f"the executed notebook is at {executed}."
        )
    return run
