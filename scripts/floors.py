"""Print a pip constraints file pinning every direct dependency to the lowest version pyproject allows
(or, with ``--test-tools``, the test tools the fast tests need).

``make floors`` installs the package with these pins into a fresh virtualenv and runs the fast tests,
so that each ``>=`` floor in ``pyproject.toml`` is one the code really works with. A dependency
without a floor is an error: every direct dependency must say which version it needs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the TOML reader pip carries
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def floors(pyproject: Path) -> dict[str, str]:
    """``{name: lowest version}`` of ``[project.dependencies]``."""
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    out: dict[str, str] = {}
    for spec in deps:
        match = FLOOR.match(spec.split(";")[0])
        assert match is not None, spec
        name, _, rest = match.groups()
        lowest = re.search(r">=\s*([0-9][0-9A-Za-z.]*)", rest)
        if lowest is None:
            raise SystemExit(f"{name} has no '>=' floor in pyproject.toml: give the lowest version it needs")
        out[name] = lowest.group(1)
    return out


BROWSER_TOOLS = {"playwright", "jupyterlab", "notebook"}  # only the browser tests need these


def test_tools(pyproject: Path) -> list[str]:
    """The ``test`` extra less the browser tools: what the fast tests need, at their newest."""
    extra = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["optional-dependencies"]["test"]
    return [spec for spec in extra if FLOOR.match(spec).group(1).lower() not in BROWSER_TOOLS]  # type: ignore[union-attr]


def main() -> int:
    if sys.argv[1:] == ["--test-tools"]:
        print("\n".join(test_tools(ROOT / "pyproject.toml")))
        return 0
    for name, version in floors(ROOT / "pyproject.toml").items():
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
