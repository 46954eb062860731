"""The widget's wire protocol is typed once on each side: the TypedDicts of widget_wire.py and the
TypeScript types of js/src/types.ts must agree (command types, their fields, which are optional,
and each field's kind). The TypeScript declarations are parsed here, so a field added on one side
only fails this test."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import pytest

from trellis_jupyter import widget, widget_wire

TYPES_TS = Path(__file__).resolve().parent.parent / "js" / "src" / "types.ts"


def split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside braces, brackets, angle brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "{[<(":
            depth += 1
        elif ch in "}]>)":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def fields(body: str) -> dict[str, tuple[str, bool]]:
    """``{ a: string; b?: number }`` (without the braces) -> {name: (type, optional)}."""
    body = re.sub(r"/\*.*?\*/|//[^\n]*", "", body, flags=re.S)
    out: dict[str, tuple[str, bool]] = {}
    for member in split_top(body.replace("\n", " "), ";"):
        match = re.fullmatch(r"(\w+)(\??)\s*:\s*(.+)", member.strip(), flags=re.S)
        assert match, f"cannot read {member!r}"
        out[match[1]] = (match[3].strip(), match[2] == "?")
    return out


def ts_source() -> str:
    return TYPES_TS.read_text(encoding="utf-8")


def ts_interface(name: str) -> dict[str, tuple[str, bool]]:
    match = re.search(rf"export interface {name} \{{(.*?)\n\}}", ts_source(), flags=re.S)
    assert match, f"no interface {name} in types.ts"
    return fields(match[1])


def ts_commands() -> dict[str, dict[str, tuple[str, bool]]]:
    match = re.search(r"export type Command =(.*?);\n", ts_source(), flags=re.S)
    assert match, "no Command type in types.ts"
    commands = {}
    for variant in split_top(match[1], "|"):
        assert variant.startswith("{"), variant
        assert variant.endswith("}"), variant
        members = fields(variant[1:-1])
        kind = members["type"][0].strip('"')
        commands[kind] = members
    return commands


def ts_kind(ts: str) -> frozenset[str]:
    """A TypeScript type as a set of kinds: "string", "number", "null", "array", "object",
    "any", or a string literal's value."""
    kinds: set[str] = set()
    for part in split_top(ts, "|"):
        if part.startswith('"'):
            kinds.add("=" + part.strip('"'))
        elif part in ("string", "number", "null", "boolean"):
            kinds.add(part)
        elif part.endswith("[]") or part.startswith("Array<"):
            kinds.add("array")
        elif part in ("unknown", "any"):
            kinds.add("any")
        else:  # an object literal or another interface
            kinds.add("object")
    return frozenset(kinds)


def py_kind(hint: Any) -> frozenset[str]:
    origin = get_origin(hint)
    if origin is Union or str(origin) == "<class 'types.UnionType'>":
        return frozenset().union(*(py_kind(a) for a in get_args(hint)))
    if origin is Literal:
        return frozenset("=" + str(a) for a in get_args(hint))
    if hint is type(None):
        return frozenset({"null"})
    if hint is str:
        return frozenset({"string"})
    if hint in (int, float):
        return frozenset({"number"})
    if hint is bool:
        return frozenset({"boolean"})
    if origin is list:
        return frozenset({"array"})
    if hint is Any:
        return frozenset({"any"})
    return frozenset({"object"})  # a dict or a TypedDict


def py_fields(typed_dict: type[Any]) -> dict[str, tuple[frozenset[str], bool]]:
    hints = typing.get_type_hints(typed_dict)
    optional = typed_dict.__optional_keys__
    return {name: (py_kind(hint), name in optional) for name, hint in hints.items()}


def same(ts: dict[str, tuple[str, bool]], py: dict[str, tuple[frozenset[str], bool]], what: str) -> None:
    assert set(ts) == set(py), f"{what}: TypeScript has {sorted(ts)}, Python has {sorted(py)}"
    for name, (ts_type, ts_optional) in ts.items():
        py_type, py_optional = py[name]
        assert ts_optional == py_optional, f"{what}.{name}: optional in one only"
        t = ts_kind(ts_type)
        if "any" in t or "any" in py_type:
            continue
        assert t == py_type, f"{what}.{name}: TypeScript {ts_type!r} is {sorted(t)}, Python {sorted(py_type)}"


def test_every_command_has_the_same_fields_on_both_sides() -> None:
    ts = ts_commands()
    assert set(ts) == set(widget_wire.COMMANDS)
    assert set(get_args(widget_wire.Command)) == set(widget_wire.COMMANDS.values())
    for kind, typed_dict in widget_wire.COMMANDS.items():
        same(ts[kind], py_fields(typed_dict), f"command {kind}")


@pytest.mark.parametrize(
    ("interface", "typed_dict"),
    [
        ("Entry", widget_wire.Entry),
        ("DeltaMessage", widget_wire.DeltaMessage),
        ("TableRowsMessage", widget_wire.TableRowsMessage),
        ("Attachment", widget_wire.Attachment),
    ],
)
def test_messages_and_entries_agree(interface: str, typed_dict: type[Any]) -> None:
    same(ts_interface(interface), py_fields(typed_dict), interface)


def test_every_command_has_a_handler_and_unknown_ones_are_ignored() -> None:
    assert set(widget._HANDLERS) == set(widget_wire.COMMANDS)
    w = widget.ChatWidget.__new__(widget.ChatWidget)  # no comm: only the dispatch is exercised
    widget.ChatWidget._command(w, {"type": "from_a_newer_front_end"})  # nothing happens, no error


def test_the_parser_sees_a_field_added_on_one_side() -> None:
    commands = ts_commands()
    commands["edit"] = {**commands["edit"], "id": ("string", False)}
    with pytest.raises(AssertionError, match="command edit"):
        same(commands["edit"], py_fields(widget_wire.EditCommand), "command edit")
    assert ts_kind('"a" | "b" | null') == frozenset({"=a", "=b", "null"})
    assert ts_kind("Array<{ name: string; type: string }>") == frozenset({"array"})
