# Funktionsbrevlådan. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_COMPILE_FLAGS := --extra dev --generate-hashes --no-emit-index-url --no-emit-find-links \
	--strip-extras --allow-unsafe

.PHONY: help run test lint format bench bench-jobs bench-scale lock messages clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements.lock
	touch $(STAMP)

ADDR ?= 127.0.0.1:8000

run: $(STAMP) ## Start PostgreSQL, Redis, web, worker and beat on http://$(ADDR) (make run ADDR=…)
	$(BIN)/python manage.py serve --addr $(ADDR)

test: $(STAMP) ## Run the whole test suite (browser tests included), in random order
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff, ruff format --check, mypy, makemigrations --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# mypy's Django plugin imports the settings and exits hard: give it URLs so it starts no
	@# embedded server that its missing exit handlers would leave running.
	DATABASE_URL=postgresql://lint@localhost/lint REDIS_URL=redis://localhost:6379/0 $(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(STAMP) ## Let ruff fix what it can and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## Run the benchmarks in bench/
	$(BIN)/python bench/run.py

bench-jobs: $(STAMP) ## Time the background jobs at 200,000 threads (bench/deadlines.py, purge.py)
	$(BIN)/python bench/deadlines.py
	$(BIN)/python bench/purge.py

bench-scale: $(STAMP) ## Load-test the app at region scale through gunicorn (bench/scale.py)
	$(BIN)/python bench/scale.py

lock: $(STAMP) ## Re-pin requirements.lock from pyproject.toml
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet $(PIP_COMPILE_FLAGS) -o requirements.lock pyproject.toml

messages: $(STAMP) ## Update the English translation file, then compile it (needs gettext)
	$(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages -l en --ignore=.venv

clean: ## Remove the virtualenv and var/ (the embedded databases' data too)
	rm -rf $(VENV) var
