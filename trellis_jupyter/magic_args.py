"""The ``%trellis`` / ``%%trellis`` command line: options, ``{{name}}`` substitution, help.

Parsing only; :mod:`.magics` runs what is parsed. Bad input raises IPython's ``UsageError``,
which IPython shows as one line.
"""

from __future__ import annotations

import argparse
import keyword
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.utils.process import arg_split  # type: ignore[attr-defined]

from .session import MagicSettings

__all__ = ["ParserExit", "help_text", "parse_cell_options", "parse_command", "substitute"]

# {{name}} (spaces allowed inside the braces); \{{name}} keeps the braces as typed, and so
# does {{{{name}}}} (it gives {{name}}: a saved query's placeholder written in a question).
_PLACEHOLDER = re.compile(
    r"\{\{\{\{\s*(?P<literal>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}\}\}|(\\)?\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}"
)


def substitute(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace each ``{{name}}`` in ``text`` by ``str()`` of the Python variable ``name``.

    Single braces stay as typed, and so does ``\\{{name}}`` (minus the backslash);
    ``{{{{name}}}}`` gives a literal ``{{name}}``. An undefined name is a :class:`UsageError`
    (a question must never be sent with a hole in it).
    """

    def replace(match: re.Match[str]) -> str:
        if match.group("literal"):
            return "{{" + match.group("literal") + "}}"
        escaped, name = match.group(2), match.group(3)
        if escaped:
            return match.group(0)[1:]
        if name not in namespace:
            raise UsageError(
                f"{{{{{name}}}}} names no Python variable: define {name} first, or write \\{{{{{name}}}}} "
                "to keep the braces."
            )
        return str(namespace[name])

    return _PLACEHOLDER.sub(replace, text)


class ParserExit(Exception):
    """argparse asked to exit (after printing ``--help``): end the magic quietly."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one ``UsageError`` line instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see %trellis help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message)
        raise ParserExit


_FREE_TEXT = frozenset({"edit", "rename", "save"})  # commands whose last argument is free text
_FLAGS = frozenset({"-q", "--quiet", "-h", "--help", "--sql-from-last"})  # options taking no value


def _tokens(line: str, namespace: Mapping[str, Any]) -> list[str]:
    """Shell-like words of a magic line, each with its ``{{name}}`` references replaced."""
    try:
        words = arg_split(line, posix=True)
    except ValueError:
        raise UsageError(
            "A quote in the options is not closed: put text with an apostrophe in double quotes."
        ) from None
    return [substitute(word, namespace) for word in words]


def _take_value(text: str) -> tuple[str, str]:
    """One option value from the start of ``text`` (quoted or up to a space), and the rest."""
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        if end > 0:
            return text[1:end], text[end + 1 :].lstrip()
    value, _, rest = text.partition(" ")
    return value, rest.lstrip()


def _leading_options(text: str, flags: frozenset[str]) -> tuple[list[str], str]:
    """Split ``-o NAME -q the free text`` into option words and the free text, kept as typed."""
    words: list[str] = []
    rest = text.strip()
    while rest.startswith("-") and rest != "-":
        option, rest = _take_value(rest)
        words.append(option)
        if option not in flags and "=" not in option and rest:
            value, rest = _take_value(rest)
            words.append(value)
    return words, rest


def _unquote(text: str) -> str:
    # "How many?" in quotes: the quotes only kept IPython from reading a trailing '?' as help.
    if len(text) >= 2 and text[0] == text[-1] and text[0] in ("'", '"'):
        return text[1:-1]
    return text


def _name(value: str) -> str:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a Python variable name")
    return value


def _rows(value: str) -> int:
    try:
        rows = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of rows") from None
    if rows < 0:
        raise argparse.ArgumentTypeError("the number of rows must be 0 or more")
    return rows


def _output_options(parser: argparse.ArgumentParser) -> None:
    """Options of every command that shows and binds an answer."""
    parser.add_argument("-o", "--output", type=_name, metavar="NAME", help="bind the Answer to NAME")
    parser.add_argument("--df", type=_name, metavar="NAME", help="bind the first table (a DataFrame) to NAME")
    parser.add_argument(
        "--chart", type=_name, metavar="NAME", help="bind the first chart (an Altair chart) to NAME"
    )
    parser.add_argument("--integration", metavar="ID_OR_NAME", help="database integration for this question")
    parser.add_argument("--model", metavar="M", help="model for this question")
    parser.add_argument("-q", "--quiet", action="store_true", help="show nothing but errors")
    parser.add_argument("-n", "--rows", type=_rows, metavar="ROWS", help="rows shown of each table")


def _cell_parser() -> _Parser:
    parser = _Parser(
        prog="%%trellis", description="Ask Trellis the question in the cell body.", add_help=True
    )
    _output_options(parser)
    parser.add_argument("--new", action="store_true", help="start a new chat with this question")
    parser.add_argument("--chat", metavar="ID", help="continue the chat ID")
    parser.add_argument(
        "--attach",
        metavar="NAME[,NAME...]",
        help="upload DataFrame variables or files and attach them to this question",
    )
    parser.add_argument(
        "--query",
        metavar="ID_OR_TITLE",
        help="run a saved query (no model; the cell body, if any, is the text shown)",
    )
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value of the saved query's {{NAME}} placeholder (repeatable)",
    )
    parser.add_argument("--replay", action="store_true", help="show the answer kept from an earlier run")
    parser.add_argument("--refresh", action="store_true", help="ask again, replacing the kept answer")
    return parser


def _line_parser() -> _Parser:
    parser = _Parser(prog="%trellis", add_help=True)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    connect = commands.add_parser(
        "connect", help="point the kernel at a server (credentials from the environment)"
    )
    connect.add_argument(
        "--local", action="store_true", help="start the bundled local server and connect to it"
    )
    connect.add_argument("--db", metavar="PATH", help="SQLite file for --local (default: the demo database)")
    connect.add_argument("--base-url", metavar="URL", help="server URL (default: TRELLIS_BASE_URL)")
    connect.add_argument("--integration", metavar="ID_OR_NAME", help="default database integration")
    connect.add_argument("--model", metavar="M", help="default model")
    connect.add_argument("--transport", choices=["sse", "websocket"], help="how answers stream")
    commands.add_parser("status", help="server, integration, chat id, model")
    commands.add_parser("history", help="the current chat's questions and answers")
    chats = commands.add_parser("chats", help="recent chats, newest first")
    chats.add_argument("--page", type=_rows, default=1, help="page of 20 chats (default 1)")
    use = commands.add_parser("use", help="continue an existing chat")
    use.add_argument("chat_id", metavar="ID")
    commands.add_parser("new", help="start a new chat with the next question")
    rename = commands.add_parser("rename", help="rename the current chat")
    rename.add_argument("title", nargs="+", metavar="TITLE")
    delete = commands.add_parser("delete", help="delete a chat (default: the current one)")
    delete.add_argument("chat_id", nargs="?", metavar="ID")
    feedback = commands.add_parser("feedback", help="thumbs up or down on an answer (default: the last)")
    feedback.add_argument("rating", choices=["up", "down"])
    feedback.add_argument("message_id", nargs="?", metavar="MESSAGE_ID")
    feedback.add_argument("--note", metavar="TEXT", help="why (free text)")
    edit = commands.add_parser(
        "edit", help="edit the last question (or ask it again) and stream the new answer"
    )
    _output_options(edit)
    edit.add_argument("question", nargs="*", metavar="NEW QUESTION")
    commands.add_parser("models", help="models the server offers")
    commands.add_parser("integrations", help="database integrations the server offers")
    commands.add_parser("widget", help="the chat widget, on the same conversation")
    commands.add_parser("uploads", help="files uploaded to the current chat")
    save = commands.add_parser(
        "save", help="save the last answer's SQL as a query (%%%%trellis save TITLE: the cell's SQL)"
    )
    save.add_argument("--sql-from-last", action="store_true", help="the last answer's SQL (the default)")
    save.add_argument("title", nargs="+", metavar="TITLE")
    commands.add_parser("queries", help="saved queries (run one with %%%%trellis --query ID_OR_TITLE)")
    replay = commands.add_parser("replay", help="the answer cache of Trellis.replay: status, or clear")
    replay.add_argument("action", nargs="?", choices=["status", "clear"], default="status")
    commands.add_parser("help", help="this help, and the %%config Trellis settings")
    return parser


def help_text() -> str:
    """``%trellis help``: the cell options, every command and the ``%config Trellis`` settings."""
    cell = _cell_parser().format_help().replace("usage: ", "", 1).strip()
    lines = [
        cell,
        "",
        "The cell body is the question; {{name}} is replaced by the Python variable name, and",
        "{{{{name}}}} gives a literal {{name}} (a saved query's placeholder).",
        "%%trellis save TITLE saves the SQL in the cell body as a query; %trellis --query ID_OR_TITLE",
        "-p NAME=VALUE runs one with no text.",
        "",
    ]
    lines.append("%trellis COMMAND:")
    parser = _line_parser()
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        helps = {choice.dest: choice.help for choice in getattr(action, "_choices_actions", [])}
        for name, sub in getattr(action, "choices", {}).items():
            usage = " ".join(sub.format_usage().replace("usage: ", "", 1).replace(" [-h]", "").split())
            lines.append(f"  {usage}")
            lines.append(f"      {(helps.get(name) or '').replace('%%', '%')}")
    lines += [
        "",
        "A line ending in '?' is IPython's help: quote such a question (%trellis edit \"How many?\").",
        "",
        "Settings (%config Trellis.<name> = value):",
    ]
    traits = MagicSettings.class_traits(config=True)
    for name in sorted(traits):
        trait = traits[name]
        lines.append(f"  Trellis.{name} = {trait.default_value!r}")
        lines.append(f"      {trait.help}")
    return "\n".join(lines)


def parse_cell_options(line: str, namespace: Mapping[str, Any]) -> argparse.Namespace:
    """The options of a ``%%trellis`` line."""
    args = _cell_parser().parse_args(_tokens(line, namespace))
    if args.new and args.chat:
        raise UsageError("--new and --chat contradict each other: give one of them.")
    if args.replay and args.refresh:
        raise UsageError("--replay and --refresh contradict each other: give one of them.")
    if args.param and not args.query:
        raise UsageError("-p gives a saved query's values: add --query ID_OR_TITLE.")
    args.parameters = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-p {item!r}: write -p NAME=VALUE.")
        args.parameters[name.strip()] = value
    args.attach_names = [n.strip() for n in (args.attach or "").split(",") if n.strip()]
    if args.attach is not None and not args.attach_names:
        raise UsageError("--attach needs names: --attach df or --attach df,path/to/file.csv.")
    return args


def parse_command(line: str, namespace: Mapping[str, Any]) -> argparse.Namespace | None:
    """A ``%trellis`` line as its command and options (``None`` for an empty line)."""
    command, _, rest = line.strip().partition(" ")
    if not command:
        return None
    if command in _FREE_TEXT:
        # A question or a title is text, not shell words: "What's new" keeps its apostrophe.
        options, text = _leading_options(rest, _FLAGS)
        if command == "save" and text.endswith(" --sql-from-last"):
            # the usage line puts this flag after the title: %trellis save TITLE --sql-from-last
            options, text = [*options, "--sql-from-last"], text[: -len(" --sql-from-last")].rstrip()
        words = [command, *(substitute(word, namespace) for word in options)]
        text = substitute(_unquote(text), namespace)
        return _line_parser().parse_args([*words, "--", text] if text else words)
    return _line_parser().parse_args(_tokens(line, namespace))
