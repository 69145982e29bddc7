"""Settings for the test suite (pytest-django)."""

from .base import *  # noqa: F403
from .base import env

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
