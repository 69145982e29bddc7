# Entry points for people and CI. `make run` and `make test` are all a fresh
# clone needs: they install uv (into the pyenv-selected Python) and the locked
# dependencies first.

PYTHON ?= python3
UV := $(PYTHON) -m uv
PORT ?= 8000
MANAGE := $(UV) run --frozen python manage.py

.PHONY: help install e2e-deps css htmx nginx run serve backup restore test test-sqlite test-postgres test-quick lint format check bench audit screenshots

help:
	@echo "make run            serve the site on http://127.0.0.1:$(PORT) (SQLite, seed content) with the task worker"
	@echo "make serve          the production stack locally: nginx, gunicorn, the task worker, PostgreSQL, Redis"
	@echo "make backup         back up the PostgreSQL database and the media files into BACKUP_DIR (backups/)"
	@echo "make restore        restore the newest backup into a fresh database (RESTORE_ARGS=--help)"
	@echo "make test           run the whole test suite as CI does: the SQLite pass, then the PostgreSQL + Redis pass"
	@echo "make test-sqlite    the SQLite pass alone: the database-specific tests on SQLite"
	@echo "make test-postgres  the PostgreSQL + Redis pass alone: everything else, and the database-specific tests"
	@echo "make test-quick     the inner loop: every test but the browser's, on SQLite, stopping at the first failure"
	@echo "make lint           ruff, Django's system checks, the migrations check and the import contracts"
	@echo "make css            rebuild static/css/site.css from static/scss/ (Bootstrap's Sass sources, npm)"
	@echo "make htmx           copy htmx (npm, pinned) into static/js/ under its version's name"
	@echo "make audit          Lighthouse on every public page (3 runs each, mobile) -> docs/lighthouse.md"
	@echo "make screenshots    refresh the README's screenshots in docs/screenshots/"
	@echo "make bench          load-test the booking form, then every page and the admin list (BENCH_ARGS, SITE_BENCH_ARGS=--help)"

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

# The npm tools, pinned in package-lock.json: the browser tests' and the
# audit's (axe-core, vnu-jar, Lighthouse) and the style sheet's build (sass,
# bootstrap). npm rewrites node_modules/.package-lock.json on each install,
# so `npm ci` runs again only when the lock file changes.
# Without npm the browser tests skip and say why (in CI they fail instead).
e2e-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --ignore-scripts; \
	else echo "npm not found: the browser tests and HTML checks will skip, and make audit and make css will not run"; fi

# The site's one style sheet: the parts of Bootstrap's Sass sources the pages
# use and the clinic's own styles (static/scss/site.scss). The built file is
# committed, so `make run` needs no npm; after changing static/scss/ or
# Bootstrap's version, run `make css` and commit static/css/site.css with it.
# tests/e2e/test_site_css.py fails when the two disagree. Bootstrap's Sass
# still uses @import and global functions, which Sass warns about on every
# build; the warnings say nothing about this site, so they are silenced.
SASS_ARGS := --style=compressed --no-source-map --load-path=node_modules \
	--quiet-deps --silence-deprecation=import,global-builtin

# The test builds into a file of its own: make css CSS_OUT=…
CSS_OUT ?= static/css/site.css

css: e2e-deps
	node_modules/.bin/sass $(SASS_ARGS) static/scss/site.scss $(CSS_OUT)

# htmx for the booking page's steps, from the npm package pinned in
# package-lock.json, committed under its version's name (like site.css, so
# serving the site needs no npm). After changing htmx.org's version in
# package.json, run `make htmx`, update the <script> in book.html, commit both.
HTMX_VERSION = $(shell node -p "require('./node_modules/htmx.org/package.json').version" 2>/dev/null)

htmx: e2e-deps
	cp node_modules/htmx.org/dist/htmx.min.js static/js/htmx-$(HTMX_VERSION).min.js

# The site's own address (links in emails, the staff admin's address that
# ensure_local_staff prints) is the one runserver serves on.
LOCAL_SITE_URL := SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)}

# The dev server, and beside it the task worker that sends the booking emails
# (printed to the console). The worker runs in a session of its own, so it
# can be stopped as a whole (uv, the autoreloader and the worker) with the
# dev server, by Ctrl-C or otherwise.
run: install
	$(MANAGE) migrate --noinput
	$(LOCAL_SITE_URL) $(MANAGE) ensure_local_staff
	@$(LOCAL_SITE_URL) setsid $(MANAGE) db_worker --interval 1 & worker=$$!; \
	trap 'kill -TERM -'$$worker' 2>/dev/null' EXIT INT TERM; \
	$(LOCAL_SITE_URL) $(MANAGE) runserver 127.0.0.1:$(PORT)

# Debian's nginx, for make serve and the tests that put it in front of the app.
# Only the binary is used: make serve and the tests run their own nginx from
# a folder of their own, never the system's service.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "Installing nginx (Debian package)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx >/dev/null; }

# The production stack on this machine (scripts/serve.py): nginx with the
# rules of deploy/nginx/ on http://localhost:$(PORT), gunicorn behind it with
# gunicorn.conf.py, the task worker, the scheduled jobs every minute;
# production settings on PostgreSQL and Redis. Plain HTTP on localhost, where
# browsers accept the production's Secure cookies.
SERVE_ENV := DJANGO_ENV=production \
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/clinic} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	SECRET_KEY=$${SECRET_KEY:-local-serve-only-$$(hostname)-not-for-the-internet} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-localhost,127.0.0.1} \
	SITE_URL=$${SITE_URL:-http://localhost:$(PORT)} \
	SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} \
	PORT=$(PORT)

# scripts/serve.py creates the database DATABASE_URL names if it is missing.
# SERVE_PYTHON lets a test run it with its own interpreter.
SERVE_PYTHON ?= $(UV) run --frozen python

serve: install nginx
	$(SERVE_ENV) $(SERVE_PYTHON) scripts/serve.py

# Backups that are known to restore (scripts/backup.py; the README's
# "Backups"): a pg_dump custom-format archive of DATABASE_URL (default: make
# serve's database) and a tar of MEDIA_ROOT, named by UTC time, into
# BACKUP_DIR (default backups/), keeping the newest BACKUP_KEEP (14). make
# restore puts one into a database it creates (never over one that holds
# tables without --overwrite): make restore RESTORE_ARGS="latest --media-root /tmp/drill-media"
RESTORE_ARGS ?= latest

backup: install
	$(UV) run --frozen python scripts/backup.py backup

restore: install
	$(UV) run --frozen python scripts/backup.py restore $(RESTORE_ARGS)

# The suite runs in two passes (tests/conftest.py says which test runs where):
# the SQLite pass runs the database-specific tests on SQLite (`make run`'s
# database); the PostgreSQL + Redis pass (production's set-up) runs those
# again on PostgreSQL, and every other test once. Each pass runs in parallel
# (pytest-xdist, a worker per core; each worker has its own test database and
# Redis database). Without a PostgreSQL server and Redis on this machine,
# `make test` runs every test it can on SQLite and says which it skipped.
PYTEST := $(UV) run --frozen pytest
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clinic_test
# Workers use this Redis database and the next ones (one each).
TEST_REDIS_URL ?= redis://127.0.0.1:6379/10
PYTEST_ARGS ?=
# A worker per core; a module's tests stay on one worker (its module-scoped
# fixtures are made once).
PARALLEL := -n auto --dist loadfile

test: install e2e-deps nginx
	@if pg_isready -q -d "$(TEST_DATABASE_URL)" 2>/dev/null && redis-cli -u "$(TEST_REDIS_URL)" ping >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory test-sqlite test-postgres; \
	else \
		echo "No PostgreSQL and Redis at $(TEST_DATABASE_URL) and $(TEST_REDIS_URL): every test SQLite can run, on SQLite"; \
		env -u DATABASE_URL -u REDIS_URL $(PYTEST) $(PARALLEL) $(PYTEST_ARGS); \
	fi

test-sqlite: install e2e-deps
	env -u DATABASE_URL -u REDIS_URL $(PYTEST) --pass=sqlite $(PARALLEL) $(PYTEST_ARGS)

test-postgres: install e2e-deps nginx
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PYTEST) --pass=postgres $(PARALLEL) $(PYTEST_ARGS)

test-quick: install
	env -u DATABASE_URL -u REDIS_URL $(PYTEST) $(PARALLEL) -x --ignore=tests/e2e $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(MANAGE) check --fail-level WARNING
	$(MANAGE) makemigrations --check --dry-run
	$(UV) run --frozen lint-imports

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

# bench/site_bench.py drives the server with wrk, from Debian's packages.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

bench: install
	@command -v wrk >/dev/null 2>&1 || { echo "Installing wrk (Debian package)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	@# Both run and print their tables; the target fails if either did.
	$(UV) run --frozen python bench/booking_bench.py $(BENCH_ARGS); status=$$?; \
		$(UV) run --frozen python bench/site_bench.py $(SITE_BENCH_ARGS) || status=1; \
		$(UV) run --frozen python bench/booking_cost.py $(COST_BENCH_ARGS) || status=1; exit $$status

audit: install e2e-deps
	$(UV) run --frozen python scripts/lighthouse_audit.py $(AUDIT_ARGS)

# The main pages and the day sheet, saved to artifacts/screenshots/ by
# scripts/screenshots.py (a tool, not a test); the README shows a few.
screenshots: install e2e-deps
	$(UV) run --frozen python scripts/screenshots.py
	mkdir -p docs/screenshots
	cp artifacts/screenshots/home-desktop.png artifacts/screenshots/home-phone.png \
		artifacts/screenshots/treatment-desktop.png artifacts/screenshots/team-desktop.png \
		artifacts/screenshots/team-phone.png artifacts/screenshots/comparison-phone.png \
		artifacts/screenshots/guide-result-desktop.png artifacts/screenshots/booking-phone.png \
		artifacts/screenshots/booking-day-phone.png artifacts/screenshots/booking-details-phone.png \
		artifacts/screenshots/day-sheet-desktop.png \
		docs/screenshots/
