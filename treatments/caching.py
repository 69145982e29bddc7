"""
Whole-page caching of the content pages, invalidated the moment staff edit
any content.

Every cached page's key includes a content version number; any save or
delete of a treatments model raises the version (see signals.py), so the
next request renders afresh. Old entries are never read again and expire
by themselves. With Redis as the cache, every worker and instance shares
the version, so an edit shows everywhere at once.
"""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

VERSION_KEY = "content-version"


def content_version():
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def bump_content_version():
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
