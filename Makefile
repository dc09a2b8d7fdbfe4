# Every target makes (or reuses) its own virtual environment in .venv, so a fresh clone needs only
# python3 (3.10 or newer) and make. Dependencies are pinned by constraints.txt for repeatable runs.
# The developer tools are pyproject.toml's `dev` dependency group (pip >= 25.1 installs groups).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# A second environment with the lowest framework versions pyproject.toml admits: the adapters'
# tests must pass on both ends of each declared range.
LOWEST := .venv-lowest
LOWEST_PINS := "llama-index-core==0.13.0" "langchain-core==1.0.0" "langchain-tests==1.0.0" \
	"langchain-classic==1.0.0"

.PHONY: demo test lint test-lowest notebooks bench clean java

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable ".[all]" --group dev
	touch $(INSTALLED)

## demo: the end-to-end RAG demo (offline on the local gateway when ORQ_API_KEY is unset)
demo: $(INSTALLED)
	$(BIN)/orq-embeddings demo

$(LOWEST)/.installed: pyproject.toml
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST)/bin/python -m pip install --quiet --editable ".[langchain,llama-index,gateway]" \
		$(LOWEST_PINS) pytest pytest-asyncio pytest-timeout hypothesis
	touch $(LOWEST)/.installed

## test: lint, type-check and the whole test suite, notebooks included; then the adapters'
## tests again on the lowest supported langchain-core and llama-index-core
test: lint java
	$(BIN)/pytest
	$(MAKE) test-lowest

# Spark (its tests, and the cluster benchmark) needs Java 17 or newer. Where java is missing, it is
# installed from Debian's packages (as root, as in CI, or through sudo); where it cannot be, the
# Spark tests are skipped and say why.
java:
	@command -v java >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "java is missing: installing Debian's default-jre-headless for Spark"; \
		{ $$SUDO apt-get update -qq && \
		  $$SUDO apt-get install -y -qq --no-install-recommends default-jre-headless; } || \
		echo "could not install java: the Spark tests will be skipped"; }

test-lowest: $(LOWEST)/.installed
	$(LOWEST)/bin/pytest -p no:cacheprovider tests/langchain tests/llama_index

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## notebooks: execute the notebooks offline and save them with their outputs
notebooks: $(INSTALLED)
	$(BIN)/python notebooks/execute.py

## bench: throughput against the clients users would otherwise pick and against measured floors;
## what OpenTelemetry costs (none, the API alone, an SDK); the CLI's start-up time; a job against
## a 30-per-minute rate limit (a minute); Ray and Spark jobs on one budget against the same limit
## (two minutes); all written to benchmarks/RESULTS.md from the one run. BEFORE=<commit> also
## measures our calls with that commit's code, beside this checkout's, in the same run
bench: $(INSTALLED) java
	$(BIN)/python benchmarks/run_all.py $(if $(BEFORE),--before $(BEFORE))

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache
