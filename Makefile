# The shop's commands. `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BIN ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 12111
PYTEST_ARGS ?=
# System tools, overridable (tests point them at fakes).
APT_GET ?= apt-get
REDIS_SERVER ?= redis-server
PG_BIN_GLOB ?= /usr/lib/postgresql/*/bin/postgres
POSTGRES ?= postgres
CHROMIUM_PATH ?= /usr/bin/chromium
NGINX_PATH ?= /usr/sbin/nginx
VENV_PACKAGE := python3.11-venv

# Settings for the embedded demo (`make run`): SQLite in var/, local-memory cache, eager
# Celery, and the Stripe sandbox beside the web server. `make run` seeds demo data and a
# demo superuser, so it ignores DATABASE_URL/REDIS_URL (and Celery's broker) from the
# environment or .env, which may name a real database, unless RUN_WITH_ENV_SERVICES=1.
RUN_WITH_ENV_SERVICES ?=
RUN_EMBEDDED_ENV := DATABASE_URL=sqlite:///$(CURDIR)/var/db.sqlite3 REDIS_URL= \
	CELERY_BROKER_URL=memory:// CELERY_TASK_ALWAYS_EAGER=true
RUN_ENV := $(if $(filter 1 true yes,$(RUN_WITH_ENV_SERVICES)),,$(RUN_EMBEDDED_ENV)) \
	DEBUG=true SECURE_HTTPS=false \
	STRIPE_SECRET_KEY=$${STRIPE_SECRET_KEY:-sk_test_sandbox_demo} \
	STRIPE_PUBLISHABLE_KEY=$${STRIPE_PUBLISHABLE_KEY:-pk_test_sandbox_demo} \
	STRIPE_WEBHOOK_SECRET=$${STRIPE_WEBHOOK_SECRET:-whsec_sandbox_demo} \
	STRIPE_API_BASE=$${STRIPE_API_BASE:-http://$(HOST):$(SANDBOX_PORT)} \
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)}

.PHONY: help run test lint fmt migrations bench test-system-deps clean

help:
	@echo "make run    - the shop with demo data on http://$(HOST):$(PORT) (no services needed)"
	@echo "make test   - lint + the whole test suite on throwaway PostgreSQL/Redis"
	@echo "make lint   - ruff check, ruff format --check, import-linter, mypy, makemigrations --check"
	@echo "make fmt    - ruff format + ruff check --fix"
	@echo "make migrations - makemigrations after a model change"
	@echo "make bench  - benchmarks, printed as tables"
	@echo "make clean  - remove var/, media/, staticfiles/ and tool caches"

# Debian's python3.11 has no working `-m venv` without the python3.11-venv package: as root
# it is installed, otherwise the exact command is printed (a half-made .venv is removed).
$(VENV)/.installed-runtime: requirements.txt
	@command -v $(PYTHON_BIN) >/dev/null || { echo "Python 3.11 is required ($(PYTHON_BIN) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV) >/dev/null 2>&1 || { \
		rm -rf $(VENV); \
		if [ "$$(id -u)" = 0 ]; then \
			echo "python3 -m venv does not work; installing $(VENV_PACKAGE)"; \
			$(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $(VENV_PACKAGE) >/dev/null \
				&& $(PYTHON_BIN) -m venv $(VENV) || { rm -rf $(VENV); \
				echo "could not create $(VENV); try: apt-get install -y $(VENV_PACKAGE)"; exit 1; }; \
		else \
			echo "python3 -m venv does not work here. Install it with:"; \
			echo "  sudo apt-get install -y $(VENV_PACKAGE)"; exit 1; \
		fi; \
	}
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-runtime requirements-dev.txt
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# PostgreSQL and Redis server binaries plus Debian's Chromium for the browser tests. A
# server is not needed when its URL (DATABASE_URL, REDIS_URL) points at one already.
# nginx (the reverse-proxy drill, tests/integration/test_reverse_proxy.py) is installed as
# root; without root and without nginx those tests are skipped, not the whole run.
test-system-deps:
	@missing=""; \
	if [ -z "$$DATABASE_URL" ]; then \
		ls $(PG_BIN_GLOB) >/dev/null 2>&1 || command -v $(POSTGRES) >/dev/null || missing="$$missing postgresql"; \
	fi; \
	if [ -z "$$REDIS_URL" ]; then \
		command -v $(REDIS_SERVER) >/dev/null || missing="$$missing redis-server"; \
	fi; \
	test -x $(CHROMIUM_PATH) || missing="$$missing chromium"; \
	if ! test -x $(NGINX_PATH); then \
		if [ "$$(id -u)" = 0 ]; then missing="$$missing nginx"; \
		else echo "nginx is not installed: the reverse-proxy tests will be skipped (sudo apt-get install -y nginx)"; fi; \
	fi; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			$(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing >/dev/null; \
		else \
			echo "missing system packages:$$missing"; \
			echo "install them with: sudo apt-get install -y$$missing"; exit 1; \
		fi; \
	fi

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run

fmt: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: $(VENV)/.installed-dev test-system-deps lint
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(PY) scripts/with_services.py -- \
		$(VENV)/bin/pytest $(if $(CI),--create-db,) $(PYTEST_ARGS)

migrations: $(VENV)/.installed-dev
	$(PY) manage.py makemigrations

# The last step execs scripts/run_dev.py (no shell left in between): it runs runserver and
# the sandbox as its children and stops both on Ctrl-C, on `kill <make pid>` (make passes
# SIGTERM on to its recipe) or when either exits.
run: $(VENV)/.installed-runtime
	@mkdir -p var
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) exec $(PY) scripts/run_dev.py --host $(HOST) --port $(PORT) --sandbox-port $(SANDBOX_PORT)

bench: $(VENV)/.installed-dev
	$(PY) scripts/with_services.py -- $(PY) bench/run.py

clean:
	rm -rf var media staticfiles .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
