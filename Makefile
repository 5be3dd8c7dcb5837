# pantau: `make demo` to see it work, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pantau demo

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/mypy src

# One test process per CPU, four at most (pytest-xdist): each has its own PostgreSQL
# database and keeps to Redis keys of its own, and most tests wait on servers and
# subprocesses rather than compute, so two processes on two cores took 229 s where one
# took 428 s. The cap keeps a large machine within PostgreSQL's 100 connections.
test: lint
	$(BIN)/pytest -n auto --maxprocesses=4

bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Re-extract translatable texts after changing templates or messages, then translate the
# new entries in src/pantau/locales/id/LC_MESSAGES/messages.po.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ --no-location --sort-output \
		-o src/pantau/locales/messages.pot src
	$(BIN)/pybabel update -i src/pantau/locales/messages.pot -d src/pantau/locales \
		--no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
