#!/usr/bin/env bash
# The dependency floors are true: install every direct dependency at the lowest version that
# pyproject.toml allows (scripts/floors.py writes the pins) into a fresh virtualenv, and run the
# fast part of the test suite there (no browser, no slow case). The default install (`make
# setup-dev`) gets the newest versions and runs the whole suite. Run by `make test` (so by CI).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=build/floors-venv
started=$(date +%s)
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/python" scripts/floors.py > build/floors-constraints.txt
"$VENV/bin/python" scripts/floors.py --test-tools > build/floors-tools.txt
echo "floors: $(tr '\n' ' ' < build/floors-constraints.txt)"
# The package at its floors; the test tools (not the browser ones) at their newest.
"$VENV/bin/pip" install -q -c build/floors-constraints.txt -e . -r build/floors-tools.txt
# The pins must have won: a resolver that picked another version would make this check a lie.
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
import re
for line in open("build/floors-constraints.txt"):
    name, _, want = line.strip().partition("==")
    got = version(name)
    norm = lambda v: re.sub(r"(\.0)+$", "", v)
    assert norm(got) == norm(want), f"{name}: installed {got}, floor {want}"
PY
installed=$(date +%s)
echo "floors: installed in $((installed - started)) s"
# Bounded: a test stuck past pytest-timeout's limit ends the run with every thread's stack (the
# thread method, which no C call can hold up), and the whole step has a ceiling of its own.
timeout 1800 "$VENV/bin/python" -m pytest -q -m "not browser and not slow" -p no:cacheprovider \
  --timeout-method=thread --ignore-glob="tests/test_*browser*.py" "$@"
echo "floors: installed and tested in $(( $(date +%s) - started )) s"
