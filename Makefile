# Luoyang youth talent portal. `make` alone lists the targets.
#
# Everything runs from the project's own virtual environment (.venv) through
# .venv/bin/python, so nothing needs activating and nothing is installed system-wide.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
# Python 3.11 where it exists, else whatever python3 the machine has (3.11+ required).
PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help run test check lint format messages worker beat bench bench-search bench-announce bench-checks bench-peak browsers clean

help: ## Show this list of targets
	@echo "Luoyang youth talent portal"
	@echo
	@echo "  make run     set up .venv, migrate, load demo data, serve http://$(HOST):$(PORT)"
	@echo "  make test    set up .venv, then migrations check + ruff + the whole pytest suite"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: DATABASE_URL (PostgreSQL; SQLite when unset), CELERY_BROKER_URL (Redis;"
	@echo "eager tasks when unset), PORT (default 8000), PYTEST_ARGS (e.g. PYTEST_ARGS='-k inbox')."

# --- virtual environment ------------------------------------------------------------
$(PY):
	@test -n "$(PYTHON_BOOT)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)." >&2; exit 1; }
	@$(PYTHON_BOOT) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "$(PYTHON_BOOT) is older than Python 3.11." >&2; exit 1; }
	$(PYTHON_BOOT) -m venv $(VENV)

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.requirements: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.requirements-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.requirements

# --- the two commands of the README ---------------------------------------------------
run: $(VENV)/.requirements ## Install, migrate, load demo data (idempotent) and serve the portal
	$(PY) manage.py migrate --noinput
	PORT=$(PORT) $(PY) manage.py seed_demo
	@echo "SMS codes (development): var/sms/outbox.jsonl   E-mails: printed below by the server."
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.requirements-dev ## Run the whole test suite (migrations check, ruff, pytest)
	@if [ -n "$$DATABASE_URL" ]; then echo "Database: $$DATABASE_URL" | sed -E 's#//[^/@]*@#//***@#'; \
		else echo "Database: SQLite (set DATABASE_URL=postgres://... to test on PostgreSQL)"; fi
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@# pytest exits 5 when it collected no test: that is a failure here, never a pass.
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing." >&2; fi; \
		exit $$rc

# --- everyday helpers ---------------------------------------------------------------
check: $(VENV)/.requirements-dev ## Quick checks only: migrations, ruff lint and format
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

lint: $(VENV)/.requirements-dev ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.requirements-dev ## Apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

messages: $(VENV)/.requirements ## Update locale/*.po (zh_Hans, en) and compile them (needs GNU gettext)
	@command -v xgettext >/dev/null || { echo "GNU gettext is missing: apt-get install -y gettext" >&2; exit 1; }
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore='$(VENV)/*' --ignore='var/*' --ignore='bench/*' --ignore='tests/*' --ignore='tools/*'
	$(PY) manage.py compilemessages --ignore='$(VENV)/*'

worker: $(VENV)/.requirements ## Run a Celery worker (needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0)
	@test -n "$$CELERY_BROKER_URL" || echo "CELERY_BROKER_URL is unset: tasks run eagerly in the web process and this worker gets nothing." >&2
	$(VENV)/bin/celery -A portal worker -l info

beat: $(VENV)/.requirements ## Run Celery beat, the scheduler (exactly one per deployment)
	$(VENV)/bin/celery -A portal beat -l info

bench: $(VENV)/.requirements-dev ## Benchmarks: pages under gunicorn, delivery tasks through Redis + a worker
	$(PY) bench/bench_pages.py
	$(PY) bench/bench_tasks.py

bench-search: $(VENV)/.requirements-dev ## Job search under load vs a baseline (needs DATABASE_URL=postgres://...)
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL=postgres://... (the search benchmark needs PostgreSQL)." >&2; exit 1; }
	$(PY) bench/bench_search.py

bench-announce: $(VENV)/.requirements-dev ## Announce an event to 10,000 subscribers through Redis + celery workers (needs DATABASE_URL=postgres://...)
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL=postgres://... (the announcement benchmark needs PostgreSQL)." >&2; exit 1; }
	$(PY) bench/bench_announce.py

bench-checks: $(VENV)/.requirements-dev ## Check 10,000 subsidy applications through Redis + celery workers (needs DATABASE_URL=postgres://...)
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL=postgres://... (the eligibility benchmark needs PostgreSQL)." >&2; exit 1; }
	$(PY) bench/bench_checks.py

bench-peak: $(VENV)/.requirements-dev ## Event opening + subsidy window at 50-400 clients vs a baseline, gunicorn + Redis + celery (needs DATABASE_URL=postgres://...)
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL=postgres://... (the peak benchmark needs PostgreSQL)." >&2; exit 1; }
	$(PY) bench/bench_peak.py

browsers: ## Install Debian's Chromium (+ its Chinese strings and CJK fonts) for the browser tests, as root
	@if [ -x /usr/bin/chromium ] && [ -f /usr/lib/chromium/locales/zh-CN.pak ]; then echo "/usr/bin/chromium is installed."; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-l10n fonts-noto-cjk; \
	else echo "Run as root, or: sudo apt-get install -y chromium chromium-l10n fonts-noto-cjk" >&2; exit 1; fi

clean: ## Remove .venv and caches (keeps db.sqlite3 and var/)
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
