# Two commands for a newcomer:  `make run` serves the web chat and the HR console (and Telegram with BOT_TOKEN),
# `make test` runs the whole suite (lint, import contracts, tests). Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test chat lint clean

$(BIN)/outreach: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/outreach

run: $(BIN)/outreach
	$(BIN)/outreach run

chat: $(BIN)/outreach
	$(BIN)/outreach chat

lint: $(BIN)/outreach
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache
