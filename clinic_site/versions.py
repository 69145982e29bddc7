"""
Numbers that every process sees, raised by every change to what they
version: the site's content (treatments/caching.py) and what the booking
page's free times depend on (booking/cache_versions.py; the booking page's
cache is booking/views/page_cache.py). A cache entry stored
under an older number is never served again.

The number has to live where every process that serves or edits sees it
(workers, instances, a management command, a shell):

- With Redis as the cache (production), it lives in Redis with what it
  versions, and is read together with it in one MGET: a hit costs one round
  trip to Redis and no database query. It is raised after the change
  commits: raised any earlier, a request in between could cache the old
  state under the new number.
- With a per-process memory cache (no REDIS_URL: `make run`, the tests),
  each process has its own copy of anything cached, so it lives in the
  database (a one-row table), raised in the same transaction as the change,
  so no process can cache the old state under it. A hit then costs one
  primary-key read of that row.

Within one request (SharedVersionsMiddleware), each number is read from
Redis at most once: the booking POST alone needs them for the form's
choices, the rules, the hours and the privacy policy's version, which
would be four round trips for the same numbers. A change another process
commits meanwhile is seen by the next request, as it would be if it
committed a moment later; a change this request commits is seen at once
(raising a number forgets what the request read of it).
"""

import contextvars
import logging
import time
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from clinic_site.cache import incr_or_add

logger = logging.getLogger(__name__)

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def in_database():
    """Whether the numbers live in the database (the cache is each process's own)."""
    return settings.CACHES["default"]["BACKEND"] in PER_PROCESS_CACHES


# {cache key: number} read in the current request; None outside one.
_read_in_request = contextvars.ContextVar("shared_versions_read_in_request", default=None)


@contextmanager
def read_once():
    """Within this block (a request), each number in the cache is read at most once."""
    token = _read_in_request.set({})
    try:
        yield
    finally:
        _read_in_request.reset(token)


class SharedVersionsMiddleware:
    """Each request reads the shared numbers from the cache at most once (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with read_once():
            return self.get_response(request)


def read_with(shared_versions, key):
    """
    (the current numbers of `shared_versions`, what the cache holds under
    `key` or None; no key, none read): one cache read at most (none when the
    request has read them all and there is no key), plus a query for each
    number that lives in the database.
    """
    if in_database():
        value = None if key is None else cache.get(key)
        return tuple(version.current() for version in shared_versions), value
    read = _read_in_request.get()
    known = {} if read is None else read
    keys = [version.cache_key for version in shared_versions if version.cache_key not in known]
    if key is not None:
        keys.append(key)
    found = cache.get_many(keys) if keys else {}
    numbers = tuple(
        known.get(version.cache_key, found.get(version.cache_key)) for version in shared_versions
    )
    if None in numbers:
        # Redis lost them (restarted or flushed): whatever it still holds is stale.
        numbers, found = tuple(version.current() for version in shared_versions), {}
    if read is not None:
        read.update(zip((version.cache_key for version in shared_versions), numbers, strict=True))
    return numbers, found.get(key)


class SharedVersion:
    """
    One such number: its key in the cache, and its one-row model in the
    database. A number with no model (`model=None`) exists only with the
    cache: it versions only what processes keep (Remembered), which they
    keep only with the numbers in the cache, so without it there is nothing
    to raise and it reads as 0.
    """

    def __init__(self, cache_key, model):
        self.cache_key = cache_key
        self.model_label = model

    @property
    def model(self):
        return apps.get_model(self.model_label)

    def current(self):
        if in_database() and self.model_label is None:
            return 0
        if in_database():
            # No row yet (a fresh or flushed database) reads as 0 until the first change.
            return self.model.objects.filter(pk=1).values_list("number", flat=True).first() or 0
        version = cache.get(self.cache_key)
        return version if version is not None else self.start_cached()

    def read_with(self, key):
        """(the current number, what the cache holds under `key` or None): one cache read."""
        (number,), value = read_with([self], key)
        return number, value

    def start_cached(self):
        """
        The first number in an empty (or flushed) Redis. It is taken from the
        clock, never 1: a number lost from Redis and started again must not
        match entries still stored under an old one.
        """
        cache.add(self.cache_key, self.first_number(), timeout=None)
        return cache.get(self.cache_key)

    @staticmethod
    def first_number():
        return time.time_ns() // 1000

    def changed(self):
        """Raise the number for a change being saved: see the module's docstring."""
        if in_database():
            if self.model_label is None:
                return
            if not self.model.objects.filter(pk=1).update(number=F("number") + 1):
                self.model.objects.get_or_create(pk=1)
        else:
            transaction.on_commit(self.bump_cached)

    def bump_cached(self):
        read = _read_in_request.get()
        if read is not None:
            # This request's own change: what it reads next must see it.
            read.pop(self.cache_key, None)
        try:
            # One round trip; a number Redis lost starts again from the clock.
            incr_or_add(self.cache_key, initial=self.first_number(), timeout=None)
        except Exception:
            # Without the cache nothing is served from it either; nothing to invalidate.
            logger.warning("%s not raised: the cache is unavailable", self.cache_key)

    def remember(self, read, *, enabled):
        """`read()`'s value, kept by this process until this number changes: see Remembered."""
        return Remembered([self], read, enabled)


class Remembered:
    """
    `read()`'s value, kept by a process until one of `shared_versions`
    changes: for what is read often and changes seldom (the booking rules,
    the booking form's choices). Only with the numbers in the cache: in the
    database, reading them costs as much as reading the value. `enabled()`
    turns it off (the tests, whose changes never commit and so never raise
    the numbers). What is kept is shared by the process's requests: callers
    must not change it.
    """

    def __init__(self, shared_versions, read, enabled):
        self.versions = list(shared_versions)
        self.read = read
        self.enabled = enabled
        self.held = None  # (numbers, value): replaced whole, so threads never see half of it

    def __call__(self):
        if in_database() or not self.enabled():
            return self.read()
        # The numbers first: a change committed after they are read is
        # caught by the next call, which finds a number raised.
        try:
            numbers, _ = read_with(self.versions, None)
        except Exception:
            # The cache is down: nothing says whether what is kept is current.
            logger.warning("Shared versions unavailable; reading afresh")
            return self.read()
        held = self.held
        if held is not None and held[0] == numbers:
            return held[1]
        value = self.read()
        self.held = (numbers, value)
        return value
