# Entry points for people and CI. `make run` and `make test` are all a fresh
# clone needs: they install uv (into the pyenv-selected Python) and the locked
# dependencies first.

PYTHON ?= python3
UV := $(PYTHON) -m uv
PORT ?= 8000
MANAGE := $(UV) run --frozen python manage.py

.PHONY: help install run test test-postgres lint format check

help:
	@echo "make run            serve the site on http://127.0.0.1:$(PORT) (SQLite, seed content)"
	@echo "make test           run the whole test suite (DATABASE_URL picks the database)"
	@echo "make test-postgres  run the suite on the local PostgreSQL server"
	@echo "make lint           ruff, Django's system checks and the migrations check"

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) ensure_local_staff
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(MANAGE) runserver 127.0.0.1:$(PORT)

test: install
	$(UV) run --frozen pytest

test-postgres:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/clinic} $(MAKE) test

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(MANAGE) check --fail-level WARNING
	$(MANAGE) makemigrations --check --dry-run

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .
