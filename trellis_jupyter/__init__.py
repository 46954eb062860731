"""trellis-jupyter: ask your databases questions from Jupyter.

The public surface is re-exported here; modules load lazily, so ``import trellis_jupyter`` pulls
in no server, widget or front-end package until one is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors
from ._version import __version__
from .errors import (
    AnswerError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectionLostError,
    MalformedEventError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    TrellisError,
)

if TYPE_CHECKING:
    from .answer import Answer
    from .client import AsyncTrellis, Trellis
    from .conversation import AsyncConversation, Conversation
    from .types import SavedQuery, Upload
    from .widget import ChatWidget

__all__ = [
    "APIError",
    "Answer",
    "AnswerError",
    "AsyncConversation",
    "AsyncTrellis",
    "AuthenticationError",
    "BadRequestError",
    "ChatWidget",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "Conversation",
    "MalformedEventError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "SavedQuery",
    "ServerError",
    "TransportError",
    "Trellis",
    "TrellisError",
    "Upload",
    "__version__",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_LAZY = {
    "Answer": ".answer",
    "Trellis": ".client",
    "AsyncTrellis": ".client",
    "Conversation": ".conversation",
    "AsyncConversation": ".conversation",
    "ChatWidget": ".widget",
    "SavedQuery": ".types",
    "Upload": ".types",
}


def __getattr__(name: str) -> Any:
    if name == "TimeoutError":  # deprecated alias of RequestTimeoutError: errors.__getattr__ warns
        return errors.__getattr__(name)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trellis_jupyter' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext trellis_jupyter``: register the ``%trellis`` and ``%%trellis`` magics."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)
