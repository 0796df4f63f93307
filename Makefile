# `make run`: set up .venv and run the main job on seeds/.  `make test`: set up and run every
# test plus ruff and mypy.  `make dist`: build the wheel and sdist into dist/.  Only Python
# 3.11+ with pip (and make) are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup run test bench dist clean

$(BIN)/annotate-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/annotate-installed

# The main job: the corpus, the theme matrix, the shared passages, and the TEI export (the
# export is this job's own output, so it is rewritten each run with --force).
run: setup
	$(BIN)/annotate corpus seeds
	$(BIN)/annotate themes seeds
	$(BIN)/annotate reuse seeds
	$(BIN)/annotate export seeds --out exports/seeds.xml --force
	$(BIN)/annotate report seeds --out exports/report --force

test: setup
	$(BIN)/ruff check annotate tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m benchmarks

# The wheel and sdist users install (dist/); .ci/run checks them from a fresh venv.
dist: setup
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
