"""
Whole-page caching of the content pages, invalidated the moment staff edit
any content, from any process.

Every cached page's key includes a content version number; any save or
delete of a treatments model raises the version (see signals.py), so the
next request renders afresh. Old entries are never read again and expire
by themselves.

The version has to live where every process that serves or edits content
sees it (workers, instances, a management command, a shell):

- With Redis as the cache (production), it lives in Redis with the pages:
  a cache hit costs two Redis reads and no database query.
- With a per-process memory cache (no REDIS_URL: `make run`, the tests),
  each process has its own copy of anything cached, so it lives in the
  database (ContentVersion, one row), raised in the same transaction as the
  edit. A cache hit then costs one primary-key read of a one-row table,
  small beside rendering the page; a file or database cache would share
  the version too, but would make every page hit read a file or a row as
  well, and file caches count without locking.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from .models import ContentVersion

logger = logging.getLogger(__name__)

VERSION_KEY = "content-version"
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def version_in_database():
    return settings.CACHES["default"]["BACKEND"] in PER_PROCESS_CACHES


def content_version():
    if version_in_database():
        # No row yet (a fresh or flushed database) reads as 0 until the first edit.
        return ContentVersion.objects.filter(pk=1).values_list("number", flat=True).first() or 0
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def content_changed():
    """Raise the version for an edit being saved: see the module's docstring."""
    if version_in_database():
        # In the edit's own transaction: the new version and the new content
        # commit together, so no process can cache old content under it.
        if not ContentVersion.objects.filter(pk=1).update(number=F("number") + 1):
            ContentVersion.objects.get_or_create(pk=1)
    else:
        # After commit: raised any earlier, a request in between could cache
        # the old content under the new version.
        transaction.on_commit(bump_cached_version)


def bump_cached_version():
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.add(VERSION_KEY, 2, timeout=None)
    except Exception:
        # Without the cache nothing is served from it either; nothing to invalidate.
        logger.warning("Content version not raised: the cache is unavailable")


class CachedPageMixin:
    """
    Serve a content page from the cache when it was rendered since the last
    edit. Only plain GETs without a query string are cached: the pages are
    the same for every visitor and set no cookies, and query strings (the
    guide's answers) would let anyone fill the cache with variants.
    """

    def dispatch(self, request, *args, **kwargs):
        seconds = settings.CONTENT_CACHE_SECONDS
        if request.method != "GET" or request.GET or not seconds:
            return super().dispatch(request, *args, **kwargs)
        try:
            key = f"page:{content_version()}:{request.path}"
            cached = cache.get(key)
        except Exception:
            logger.warning("Page cache unavailable; rendering without it")
            return super().dispatch(request, *args, **kwargs)
        if cached is not None:
            return cached
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200 and hasattr(response, "add_post_render_callback"):
            response.add_post_render_callback(lambda rendered: _store(key, rendered, seconds))
        return response


def _store(key, response, seconds):
    try:
        cache.set(key, response, seconds)
    except Exception:
        logger.warning("Page not cached: the cache is unavailable")
