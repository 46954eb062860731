"""The files a caller may upload to a chat, and the extra fields a question with uploads sends.

``client.chats.upload(chat_id, files)`` accepts, for each file:

* a path (``str`` or ``os.PathLike``): sent under its own name, its type from the extension;
* a ``(name, bytes, mime_type)`` tuple;
* a pandas ``DataFrame``: sent as ``<name>.csv`` (UTF-8, header row, no index unless it is
  named), where the name is ``df.attrs["name"]`` or ``dataframe``; or a ``(name, DataFrame)`` pair.

The server accepts CSV, XLSX, PDF, PNG and JPEG, at most 5 files a request, 30 MB each; these
limits are checked here first so that a too-big upload fails before it is sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = [
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MIME_TYPES",
    "turn_extras",
    "upload_parts",
]

MAX_FILES = 5
MAX_FILE_BYTES = 30 * 1024 * 1024
MIME_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}

Part = tuple[str, bytes, str]


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "to_csv")


def _csv_name(name: str) -> str:
    stem = re.sub(r"[\\/\x00-\x1f]+", "_", name).strip() or "dataframe"
    return stem if stem.lower().endswith(".csv") else stem + ".csv"


def _dataframe_part(df: Any, name: str | None) -> Part:
    name = name or str(df.attrs.get("name") or "dataframe")
    if any(n is not None for n in df.index.names):
        df = df.reset_index()  # a named index is data (a date, an id): keep it as columns
    text = df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S")
    # Dates at midnight read better (and group by day) as plain dates.
    text = re.sub(r"(\d{4}-\d{2}-\d{2})T00:00:00(?=[,\r\n]|$)", r"\1", text)
    return _csv_name(name), text.encode("utf-8"), "text/csv"


def _path_part(path: str | os.PathLike[str]) -> Part:
    p = Path(path)
    if not p.is_file():
        raise ConfigurationError(
            f"No file at {str(p)!r}: give the path of a CSV, XLSX, PDF, PNG or JPEG file."
        )
    mime = MIME_TYPES.get(p.suffix.lower())
    if mime is None:
        raise ConfigurationError(
            f"{p.name!r} is not a file type the server accepts: upload CSV, XLSX, PDF, PNG or JPEG."
        )
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ConfigurationError(f"{p.name!r} is {size / 2**20:.1f} MB: each upload may be at most 30 MB.")
    return p.name, p.read_bytes(), mime


def _bytes_part(name: str, data: bytes, mime: str) -> Part:
    """A named file's bytes, its type the one given if accepted, else read from its name."""
    accepted = set(MIME_TYPES.values())
    mime = mime.split(";")[0].strip().lower()
    if mime not in accepted:
        guessed = MIME_TYPES.get(os.path.splitext(name)[1].lower())
        if guessed is None:
            raise ConfigurationError(
                f"{name!r} is not a file type the server accepts: upload CSV, XLSX, PDF, PNG or JPEG."
            )
        mime = guessed  # a browser's "" or "application/vnd.ms-excel" for a .csv
    return name, data, mime


def upload_parts(files: Any) -> list[Part]:
    """The ``(filename, bytes, mime_type)`` of each file to upload, checked against the limits."""
    if isinstance(files, (str, os.PathLike, tuple)) or _is_dataframe(files):
        files = [files]
    if not isinstance(files, Iterable):
        raise ConfigurationError("Give the files to upload as a list of paths, tuples or DataFrames.")
    parts: list[Part] = []
    for item in files:
        if isinstance(item, (str, os.PathLike)):
            parts.append(_path_part(item))
        elif _is_dataframe(item):
            parts.append(_dataframe_part(item, None))
        elif isinstance(item, tuple) and len(item) == 2 and _is_dataframe(item[1]):
            parts.append(_dataframe_part(item[1], str(item[0])))
        elif (
            isinstance(item, tuple)
            and len(item) == 3
            and isinstance(item[1], (bytes, bytearray, memoryview))
            and isinstance(item[2], str)
        ):
            parts.append(_bytes_part(str(item[0]), bytes(item[1]), item[2]))
        else:
            raise ConfigurationError(
                f"Cannot upload a {type(item).__name__}: give a path, a (name, bytes, mime_type) tuple "
                "or a pandas DataFrame."
            )
    if not parts:
        raise ConfigurationError("No files to upload: give at least one path, tuple or DataFrame.")
    if len(parts) > MAX_FILES:
        raise ConfigurationError(
            f"{len(parts)} files in one upload: at most {MAX_FILES} files a request; upload in several calls."
        )
    for name, data, _ in parts:
        if len(data) > MAX_FILE_BYTES:
            raise ConfigurationError(
                f"{name!r} is {len(data) / 2**20:.1f} MB: each upload may be at most 30 MB."
            )
    return parts


def turn_extras(
    upload_ids: Sequence[str] | None, saved_query_id: str | None, parameters: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Send Message's ``upload_ids``, ``saved_query_id`` and ``parameters`` (values sent as strings)."""
    extras: dict[str, Any] = {}
    if upload_ids:
        if isinstance(upload_ids, str):
            upload_ids = [upload_ids]
        extras["upload_ids"] = [str(u) for u in upload_ids]
    if saved_query_id is not None:
        extras["saved_query_id"] = str(saved_query_id)
    if parameters:
        if saved_query_id is None:
            raise ConfigurationError("'parameters' go with a saved query: pass saved_query_id too.")
        extras["parameters"] = {str(k): str(v) for k, v in parameters.items()}
    return extras
