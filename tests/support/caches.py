"""Cache backends for the tests."""

from django.core.cache.backends.locmem import LocMemCache


class SharedMemoryCache(LocMemCache):
    """
    Django's memory cache, standing for Redis: the site keeps its shared
    version numbers in any cache but a per-process one (clinic_site/versions.py),
    so with this backend they live in the cache, as in production.
    """
