# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# The browser tests drive Debian's Chromium: Playwright's own browser download
# cannot work without the internet, and the distribution's package needs none.
CHROMIUM := /usr/bin/chromium
# The deployment tests run Debian's nginx with the configuration in deploy/nginx.
NGINX := /usr/sbin/nginx

.PHONY: install install-dev run test lint typecheck pytest bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/chatcore serve

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-dev
	$(BIN)/mypy --strict src
	$(BIN)/mypy bench
	$(BIN)/mypy tests

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(NGINX):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light

pytest: install-dev $(CHROMIUM) $(NGINX)
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: install-dev
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
