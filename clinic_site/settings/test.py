"""Settings for the test suite (pytest-django)."""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _redis_url_of_this_worker(url, worker):
    """
    REDIS_URL's database plus the pytest-xdist worker's number (gw0, gw1, …):
    each worker gets a Redis database of its own, so one worker's
    `cache.clear()` never empties another's cache in the middle of a test.
    """
    if not url or not worker:
        return url
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    if database > 15:
        raise ValueError(f"{url} leaves no Redis database for worker {worker} (0-15)")
    return urlunsplit(parts._replace(path=f"/{database}"))


# Before the base settings read it, and in the environment, so the site's
# own processes that a test starts (gunicorn, the task worker) share the
# test's Redis database.
if os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _redis_url_of_this_worker(
        os.environ["REDIS_URL"], os.environ.get("PYTEST_XDIST_WORKER")
    )

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
# Hashing passwords properly only slows the suite down.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Tests render pages without running collectstatic first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SITE_URL = "https://clinic.test"
# Each test run writes its photographs (the seed's among them) into a folder
# of its own, never the working tree's media/; the site's processes a test
# starts inherit it through the environment.
# The process that made the folder removes it when its session ends
# (tests/conftest.py).
MEDIA_ROOT_MADE_HERE = not env("MEDIA_ROOT")
if MEDIA_ROOT_MADE_HERE:
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="clinic-test-media-")
MEDIA_ROOT = Path(os.environ["MEDIA_ROOT"])
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
BOOKING_MIN_FILL_SECONDS = 0
# A memory cache, unless REDIS_URL asks for Redis (CI's PostgreSQL pass does,
# so the shared-cache code path runs as in production). Tests clear it.
if not env("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CONTENT_CACHE_SECONDS = 0  # Tests that exercise the page cache turn it on themselves.
AVAILABILITY_CACHE_SECONDS = 0  # And the booking page's (booking/views/page_cache.py).
# Tasks run at once, in the test's thread, when enqueued (after commit for the
# outbox): tests check delivery straight after commit. The tests of the task
# worker itself switch to the database backend.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
