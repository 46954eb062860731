"""The ``trellis-jupyter`` console command.

``trellis-jupyter serve`` runs the bundled local server in the foreground and prints what a client
needs (base URL, API key, email, integration ids, and the environment lines to export). Each
command is an argparse subcommand registered in :data:`COMMANDS`, so others can be added beside it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .errors import TrellisError

__all__ = ["COMMANDS", "main"]


def _database(value: str) -> tuple[str, str]:
    name, sep, path = value.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {value!r}")
    return name.strip(), path.strip()


def _add_serve(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the local Trellis-compatible server",
        description=(
            "Serve the Trellis chat API over SQLite databases, offline (Ctrl-C stops it). "
            "It is for one person: no rate limits and no caps, unless --hosted-limits."
        ),
        epilog=(
            "Limits with --hosted-limits (those of the hosted service): 20 chats created a minute per "
            "token and 30 messages (sends and edits) a minute per token, answered with 429 and "
            "Retry-After; on a WebSocket 10 messages a minute and 3 in 10 s per socket (a RATE_LIMIT "
            "error event) and 3 open sockets per token (close code 4429); 500 open chats per user "
            "(409). Always: one SQL query may run --query-timeout seconds, a table carries --row-cap "
            "rows, a token lives 6 hours."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, loopback only)"
    )
    parser.add_argument("--port", type=int, default=8787, help="port (default: 8787; 0 picks a free one)")
    parser.add_argument(
        "--db",
        action="append",
        type=_database,
        default=[],
        metavar="NAME=PATH",
        help="a SQLite file to serve as an integration (repeatable; default: the bundled demo database)",
    )
    parser.add_argument(
        "--store", default=None, help="chat store file, or :memory: (default: a file in the user cache dir)"
    )
    parser.add_argument("--api-key", default=None, help="API key to accept (default: one kept in the store)")
    parser.add_argument(
        "--pace",
        type=float,
        default=0.02,
        help="seconds between text deltas, so streaming shows (default: 0.02)",
    )
    parser.add_argument(
        "--query-timeout", type=float, default=None, help="seconds one SQL query may run (default: 10)"
    )
    parser.add_argument("--row-cap", type=int, default=None, help="rows sent per table (default: 1000)")
    parser.add_argument(
        "--hosted-limits",
        action="store_true",
        help="apply the hosted service's rate limits and caps (listed below) to try a client against them",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log server events (never secrets)")
    parser.set_defaults(run=_serve)


def _default_store() -> str:
    from .local.store import default_store_path

    return default_store_path()


def _serve(args: argparse.Namespace) -> int:
    from .local import serve_in_background

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    settings: dict[str, Any] = {}
    if args.query_timeout is not None:
        settings["query_timeout"] = args.query_timeout
    if args.row_cap is not None:
        settings["row_cap"] = args.row_cap
    if args.hosted_limits:
        settings["hosted_limits"] = True
    try:
        server = serve_in_background(
            databases=dict(args.db) if args.db else None,
            store=args.store or _default_store(),
            api_key=args.api_key,
            pace=args.pace,
            host=args.host,
            port=args.port,
            **settings,
        )
    except (OSError, ValueError) as exc:
        print(f"trellis-jupyter serve: {exc}", file=sys.stderr)
        return 1
    lines = [
        f"Trellis local server running at {server.base_url}",
        f"  API key:  {server.api_key}",
        f"  Email:    {server.email}",
        f"  Store:    {server.store_path}",
        "  Limits:   " + ("the hosted service's" if args.hosted_limits else "none (see --help)"),
        "  Integrations:",
    ]
    lines += [
        f"    {i['id']}  {i['display_name']}  ({server.databases[i['display_name']]})"
        for i in server.integrations
    ]
    lines += ["", "Use it from a notebook or a script after exporting:"]
    lines += [f"  export {name}={value}" for name, value in server.env.items()]
    lines += ["", "Press Ctrl-C to stop."]
    print("\n".join(lines), flush=True)

    stopped = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopped.wait(0.5):
            if not server.running:
                print("trellis-jupyter serve: the server stopped unexpectedly.", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    server.stop()
    print("Stopped.", flush=True)
    return 0


def _add_run(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="execute a notebook headless and write it (and an HTML copy)",
        description=(
            "Execute a notebook top to bottom in a fresh kernel, as a person would, and write the "
            "executed notebook and an HTML copy. Exits 1 if any cell ends in an error."
        ),
    )
    parser.add_argument("notebook", help="the .ipynb file to run")
    parser.add_argument(
        "--output", "-o", default=None, help="folder for the results (default: executed/ beside the notebook)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds one cell may run (default: 600)")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copy")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from .notebooks import run_notebook

    try:
        result = run_notebook(args.notebook, args.output, timeout=args.timeout, html=not args.no_html)
    except TrellisError as exc:
        print(f"trellis-jupyter run: {exc}", file=sys.stderr)
        return 1
    print(f"Executed notebook: {result.notebook}")
    if result.html is not None:
        print(f"HTML copy:         {result.html}")
    return 0


COMMANDS: list[Callable[[Any], None]] = [_add_serve, _add_run]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trellis-jupyter", description="Trellis in Jupyter: command-line tools."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``trellis-jupyter``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
