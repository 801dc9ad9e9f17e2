# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

CHROMIUM := /usr/bin/chromium
# Root installs packages itself; anyone else asks sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: setup run test scan check worker beat clean chromium

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

run: setup
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py rollup --rebuild --all-years
	$(BIN)/python manage.py schedule_meetings
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The end-to-end tests (tests/e2e) drive Debian's Chromium from apt, never a browser
# downloaded by Playwright. Without apt-get they are skipped (E2E_REQUIRED=1 fails them).
chromium: $(CHROMIUM)

$(CHROMIUM):
	@if command -v apt-get >/dev/null; then \
		$(APT) update && $(APT) install -y chromium; \
	else \
		echo "No apt-get: install Chromium at $(CHROMIUM) to run the end-to-end tests."; \
	fi

test: setup $(CHROMIUM)
	$(BIN)/ruff check --no-cache .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

scan: setup
	.ci/scan

worker: setup
	$(BIN)/celery -A config worker --loglevel=INFO

beat: setup
	$(BIN)/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) node_modules data staticfiles
