"""
Per-IP (and, for "My visits" sign-in links, per-address) limits, counted in Django's cache.

In production the cache is Redis, shared by every worker and instance, so the
limit holds however many there are. If the cache is down the limit lets
requests through and logs it: losing a real booking would be worse than a
few minutes without spam protection.
"""

import logging

from django.conf import settings

from clinic_site.cache import incr_or_add

logger = logging.getLogger(__name__)


def client_ip(request):
    """
    The visitor's address. Behind N trusted proxies the Nth address from the
    right of X-Forwarded-For is the one a proxy saw; anything further left
    is whatever the client chose to send.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def limit_exceeded(request, *, scope, limit, period_seconds):
    """Count this request; True once the address has made more than `limit` in the period."""
    return count_exceeded(
        f"{scope}:{client_ip(request)}", limit=limit, period_seconds=period_seconds
    )


def count_exceeded(name, *, limit, period_seconds):
    """
    Count one more for `name` (a scope and what is counted: an IP address,
    a hashed email address); True once it is over `limit` in the period.
    """
    try:
        # One round trip: the counter is started for the period by the
        # request that finds none, and counts from then on.
        count = incr_or_add(f"ratelimit:{name}", initial=0, timeout=period_seconds)
    except Exception:
        logger.warning("Rate limit not checked: the cache is unavailable", exc_info=True)
        return False
    return count > limit
