# Every target makes (or reuses) its own virtual environment in .venv, so a fresh clone needs only
# python3 (3.10 or newer) and make. Dependencies are pinned by constraints.txt for repeatable runs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable ".[dev]"
	touch $(INSTALLED)

## demo: the end-to-end RAG demo (offline on the local gateway when ORQ_API_KEY is unset)
demo: $(INSTALLED)
	$(BIN)/orq-embeddings demo

## test: lint, type-check and the whole test suite, notebooks included
test: lint
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: throughput against the clients users would otherwise pick
bench: $(INSTALLED)
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
