# The two commands a newcomer needs (README, first screen):
#   make demo   set up, start the bundled local server on the demo database, run the quickstart
#               notebook headless against it, and write the executed notebook and an HTML copy
#   make test   set up the development tools and pass the whole test suite (what CI runs)
# Everything installs into ./.venv; nothing is downloaded at run time.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test setup setup-dev system-deps js lint typecheck js-test pytest floors wheel-check clean

demo: setup
	$(BIN)/trellis-jupyter run notebooks/quickstart.ipynb --output build/quickstart

test: setup-dev lint typecheck js-test pytest floors

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

setup: $(BIN)/python js
	$(BIN)/pip install -q -e ".[notebooks]"

setup-dev: system-deps $(BIN)/python js
	$(BIN)/pip install -q -e ".[dev]"

# Debian's chromium drives the browser tests (no browser is ever downloaded).
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

js:
	bash scripts/build-js.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check trellis_jupyter

typecheck:
	$(BIN)/mypy

js-test:
	cd js && npm test --silent

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)

# The dependency floors are true: the lowest version pyproject.toml allows of every direct
# dependency, in a fresh virtualenv (build/floors-venv), passes the fast tests (no browser, no slow).
floors:
	bash scripts/check-floors.sh

clean:
	rm -rf build dist trellis_jupyter/static js/node_modules
