# AIFLUX backend. Two commands matter: `make run` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
AIFLUX_DATA_DIR ?= ./.data
PYTEST_ARGS ?=
# pytest-xdist workers of `make test`: whole test files per worker (module fixtures stay shared),
# handed out in collection order (xdist would put files with the most tests first; the root
# conftest.py puts the slow ones first instead).
PYTEST_WORKERS ?= 2
export PORT AIFLUX_DATA_DIR

# uv comes from PyPI into a project-local virtualenv, so a machine with only Python and make works.
UV := .tools/uv/bin/uv
VENV_STAMP := .venv/.synced-$(shell cat uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml web/pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)

$(UV):
	python3 -m venv .tools/uv
	.tools/uv/bin/python -m pip install --quiet --disable-pip-version-check uv

$(VENV_STAMP): $(UV)
	$(UV) sync --frozen --all-packages
	rm -f .venv/.synced-*; touch $@

CHROMIUM := /usr/bin/chromium

.PHONY: help install run test test-fast lint chromium up down migrate bench contracts env-example openapi clean
help:  ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: $(VENV_STAMP)  ## create .venv from uv.lock

run: $(VENV_STAMP)  ## start the whole system in one process (embedded mode), printing its URL
	$(UV) run --frozen aiflux embedded

# Lint first: a style or type error fails in seconds, before the servers are exercised.
test: $(VENV_STAMP) lint k8s-check chromium  ## lint, then every test (real PostgreSQL, RabbitMQ, Redis; see README)
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15 $(PYTEST_ARGS)

test-fast: $(VENV_STAMP)  ## the unit tier: handlers with in-memory fakes, no servers (seconds)
	$(UV) run --frozen pytest -m unit $(PYTEST_ARGS)

lint: $(VENV_STAMP)  ## ruff check, ruff format --check, mypy --strict (what CI and pre-commit run)
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy --strict libs/contracts/src libs/kit/src libs/runner/src services/*/src web/src

# The browser tests (tests/browser/) drive Debian's Chromium; Playwright's own browser download
# is not reachable. Installed only when missing and when we may (root).
chromium:  ## install Debian's chromium for the browser test (root only; skipped otherwise)
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

contracts: $(VENV_STAMP)  ## regenerate JSON Schema snapshots and the AsyncAPI document
	$(UV) run --frozen python -m aiflux_contracts.snapshots --write

openapi: $(VENV_STAMP)  ## regenerate docs/openapi/<service>.json from the routes, and the web client's table
	$(UV) run --frozen python -m aiflux_runner.openapi --write
	$(UV) run --frozen python -m aiflux_web.apigen --write

env-example: $(VENV_STAMP)  ## regenerate .env.example from the settings classes
	$(UV) run --frozen python -m aiflux_runner.envdoc --write

migrate: $(VENV_STAMP)  ## upgrade every service database (distributed settings from .env)
	for s in identity billing generation storage privacy; do $(UV) run --frozen aiflux migrate $$s || exit 1; done

up: $(VENV_STAMP)  ## distributed mode here: every service as its own processes on RabbitMQ/PostgreSQL/Redis
	$(UV) run --frozen python -m aiflux_runner.up

down: $(VENV_STAMP)  ## stop what `make up` started (the processes its pid file names, nothing else)
	$(UV) run --frozen python -m aiflux_runner.up down

BENCH_ARGS ?=
# wrk drives the HTTP load of P3/P4 when present (Debian's package, installed here only as root);
# without it the benchmark falls back to its Python client.
bench: $(VENV_STAMP)  ## P1-P5 against their raw limits; BENCH_ARGS="--only P1,P3 --repeat 3 --scale small --profile"
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get install -y -qq wrk >/dev/null 2>&1 \
		     || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1; }; }; } \
		|| echo "wrk is not installed: the HTTP load uses the Python client"
	$(UV) run --frozen python -m benchmarks $(BENCH_ARGS)

clean:  ## remove virtualenvs and tool caches (not the data dir)
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache

-include mk/k8s.mk
ifeq ($(wildcard mk/k8s.mk),)
k8s-check:
	@echo "k8s checks not present yet"
endif
