# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# Every install comes from the locks in requirements/: exact versions with their
# hashes, so a dependency's new release cannot turn a fresh clone red. `make lock`
# is the one deliberate way to move them (README, "Upgrading dependencies").
LOCKS    := requirements
UV       := uv==0.13.8
PIP      := $(BIN)/python -m pip install --quiet --require-hashes
# Debian's pip configuration may name extra indexes and a constraint file for
# other projects (torch); the locks say everything this one installs.
export PIP_CONSTRAINT :=
export PIP_EXTRA_INDEX_URL :=

# The browser tests drive Debian's Chromium: Playwright's own browser download
# cannot work without the internet, and the distribution's package needs none.
CHROMIUM := /usr/bin/chromium
# The deployment tests run Debian's nginx with the configuration in deploy/nginx.
NGINX := /usr/sbin/nginx
# The JavaScript unit tests (tests/js) run on node's own test runner: Debian's nodejs.
NODE := /usr/bin/node

.PHONY: install install-dev run test lint typecheck pytest jstest bench lock clean

install: $(VENV)/.installed

# The build tools first (pip, setuptools, from the lock), then the locked
# dependencies, then chatcore itself, built without reaching for anything else.
$(VENV)/.installed: pyproject.toml $(LOCKS)/build.txt $(LOCKS)/run.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -r $(LOCKS)/build.txt
	$(PIP) -r $(LOCKS)/run.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed $(LOCKS)/dev.txt
	$(PIP) -r $(LOCKS)/dev.txt
	touch $@

# Resolve pyproject.toml's ranges again, today, into the three locks. Run it to
# upgrade, then `make test`, and commit requirements/ with what moved and why.
lock:
	test -x .lock-venv/bin/uv || ($(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install --quiet $(UV))
	cd $(LOCKS) && ../.lock-venv/bin/uv pip compile ../pyproject.toml --extra dev \
	  --universal --python-version 3.11 --generate-hashes --quiet \
	  --custom-compile-command "make lock" -o dev.txt
	cd $(LOCKS) && ../.lock-venv/bin/uv pip compile ../pyproject.toml --constraint dev.txt \
	  --universal --python-version 3.11 --generate-hashes --quiet \
	  --custom-compile-command "make lock" -o run.txt
	cd $(LOCKS) && ../.lock-venv/bin/uv pip compile build.in --constraint run.txt \
	  --universal --python-version 3.11 --generate-hashes --quiet \
	  --custom-compile-command "make lock" -o build.txt

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

$(NODE):
	command -v node || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs; }

pytest: install-dev $(CHROMIUM) $(NGINX)
	$(BIN)/pytest -q

jstest: $(NODE)
	node --import ./tests/js/register.mjs --test tests/js/*.test.mjs

test: lint typecheck jstest pytest

bench: install-dev
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .lock-venv .mypy_cache .pytest_cache .ruff_cache .hypothesis
