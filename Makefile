# Two commands for a newcomer:  `make run` serves the web chat and the HR console (and Telegram with BOT_TOKEN),
# `make test` runs the whole suite (lint, import contracts, tests). Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test chat lint clean

# Exactly the versions (and files, by hash) in requirements.lock; the project itself without its
# dependencies. README "Dependencies" says how to update the lock.
$(BIN)/outreach: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
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
