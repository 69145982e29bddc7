"""
Whole-page caching of the content pages and the guide's results,
invalidated the moment staff edit any content, from any process.

Each page is stored with the content version it was rendered under. Any
save or delete of a treatments model raises the version (see signals.py), and
a page stored under an older version is never served again: the next request
renders it afresh and stores it in its place.

The version is a SharedVersion (clinic_site/versions.py): in Redis with the
pages in production, read with the page in one MGET, so a hit costs one
round trip to Redis and no database query; in the database when the cache
is each process's own memory (`make run`, the tests).

PageCacheMiddleware serves the hits, before the session, CSRF,
authentication and message middleware and the view, none of which a page
that is the same for everyone needs; on a miss the view (CachedPageMixin)
renders the page and stores it under the version the middleware read.

A page is stored as the response it will be sent as: the body, the body
gzipped once (at the highest level, as it is compressed once and sent many
times), its ETag (a hash of the body, weak because both encodings share it)
and its headers. A hit builds the response from these: no template, no
compression, no hashing. GZipMiddleware leaves a response that already has a
Content-Encoding alone, and ConditionalGetMiddleware answers a matching
If-None-Match with a 304 from the stored ETag. Browsers and shared caches may
reuse a cached page for CONTENT_CACHE_MAX_AGE seconds (`Cache-Control:
public`) and revalidate it with its ETag after that; every booking page is
`private, no-store` instead (booking/views/bookings.py).

The stored gzip has no random padding, unlike GZipMiddleware's (a defence
against BREACH, which recovers a secret from the compressed size of pages
that reflect the attacker's input): a cached page holds no secret (no CSRF
token, nothing of the visitor's) and is only stored when rendering it read
no session and set no cookie.
"""

import functools
import gzip
import hashlib
import json
import logging
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.urls import Resolver404, get_resolver

from clinic_site.versions import SharedVersion

logger = logging.getLogger(__name__)

CONTENT = SharedVersion("content-version", "treatments.ContentVersion")
# Longer addresses are hashed into the key (a treatment's slug is unbounded).
LONGEST_KEY_PATH = 200
# Headers a stored page keeps; the rest are added on the way out by the
# middleware, or by CachedPage.response.
STORED_HEADERS = {"content-type", "content-language", "x-robots-tag", "link"}

# Raise the version for an edit being saved (treatments/signals.py).
content_changed = CONTENT.changed


class CachedPage(NamedTuple):
    """A rendered page as the cache holds it (a tuple: cheap to pickle and unpickle)."""

    version: int
    body: bytes
    gzipped: bytes
    etag: str
    headers: tuple

    @classmethod
    def of(cls, response, version):
        body = response.content
        return cls(
            version=version,
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0),
            etag=f'W/"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
            headers=tuple(
                (name, value) for name, value in response.items() if name.lower() in STORED_HEADERS
            ),
        )

    def response(self, request):
        if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            response = HttpResponse(self.gzipped)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(self.body)
        for name, value in self.headers:
            response.headers[name] = value
        response.headers["Content-Length"] = str(len(response.content))
        response.headers["ETag"] = self.etag
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["Cache-Control"] = f"public, max-age={settings.CONTENT_CACHE_MAX_AGE}"
        return response


def page_key(text):
    if len(text) > LONGEST_KEY_PATH:
        text = "#" + hashlib.sha256(text.encode()).hexdigest()
    return f"page:{text}"


def read(key):
    """(current content version, the page stored under `key` or None): one cache read."""
    return CONTENT.read_with(key)


def store(key, page, seconds):
    try:
        cache.set(key, page, seconds)
    except Exception:
        logger.warning("Page not cached: the cache is unavailable")


def visitor_specific(request, response):
    """Whether rendering read the visitor's session or set a cookie: never stored."""
    session = getattr(request, "session", None)
    return bool(
        response.cookies
        or (session is not None and session.accessed)
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or getattr(getattr(request, "_messages", None), "used", False)
    )


class PageCacheMiddleware:
    """
    Answers a GET of a cached page straight from the cache, before the
    session, CSRF, authentication and message middleware and the view: a
    page that is the same for every visitor needs none of them. It sits
    after every middleware that adds headers (security headers, the CSP,
    X-Frame-Options) and after ConditionalGetMiddleware and GZipMiddleware,
    so a cached page leaves with the same headers as any other, and a
    matching If-None-Match gets a 304.

    Only the views that cache their pages (CachedPageMixin) are looked up;
    on a miss the view renders the page and stores it, using the version
    read here (no second read).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and settings.CONTENT_CACHE_SECONDS:
            view_class = cached_view_class(getattr(request, "urlconf", None), request.path_info)
            key = view_class and view_class.page_cache_key(request)
            if key is not None:
                try:
                    version, page = read(key)
                except Exception:
                    logger.warning("Page cache unavailable; rendering without it")
                    request.page_cache_lookup = None
                else:
                    if page is not None and page.version == version:
                        return page.response(request)
                    request.page_cache_lookup = (key, version)
        return self.get_response(request)


# Paths longer than this are resolved for every request rather than
# remembered (no cached page has one, and anyone can send any number).
LONGEST_REMEMBERED_PATH = 200


def cached_view_class(urlconf, path):
    """The CachedPageMixin view that serves `path`, or None."""
    # Django keeps one resolver per URL configuration until the settings
    # change (in the tests): keyed by it, nothing stale is remembered.
    resolver = get_resolver(urlconf)
    if len(path) > LONGEST_REMEMBERED_PATH:
        return _view_class_for.__wrapped__(resolver, path)
    return _view_class_for(resolver, path)


@functools.lru_cache(maxsize=256)
def _view_class_for(resolver, path):
    try:
        view_class = getattr(resolver.resolve(path).func, "view_class", None)
    except Resolver404:
        return None
    if isinstance(view_class, type) and issubclass(view_class, CachedPageMixin):
        return view_class
    return None


class CachedPageMixin:
    """
    A view whose GETs are cached whole until the next edit. Only GETs are
    cached, and by default only without a query string: the pages are the
    same for every visitor and set no cookies, and any query string would
    let anyone fill the cache with variants. A view can name what else it
    caches in `page_cache_key` (the guide: its answers) and leave a response
    out by setting `page_cacheable` to False while rendering it (the guide:
    a form with errors).

    PageCacheMiddleware serves the hits; this renders and stores the misses.
    """

    page_cacheable = True

    @classmethod
    def page_cache_key(cls, request):
        """The cache key for this request, or None to render it without the cache."""
        return None if request.GET else page_key(request.path)

    def dispatch(self, request, *args, **kwargs):
        seconds = settings.CONTENT_CACHE_SECONDS
        if request.method != "GET" or not seconds:
            return super().dispatch(request, *args, **kwargs)
        if hasattr(request, "page_cache_lookup"):
            # PageCacheMiddleware missed (or found the cache unavailable: None).
            lookup = request.page_cache_lookup
        else:
            lookup = self.read_for(request)
            if isinstance(lookup, CachedPage):
                return lookup.response(request)
        if lookup is None:
            return super().dispatch(request, *args, **kwargs)
        key, version = lookup
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code != 200 or not hasattr(response, "render"):
            return response
        response.render()
        if not self.page_cacheable or visitor_specific(request, response):
            return response
        page = CachedPage.of(response, version)
        store(key, page, seconds)
        return page.response(request)

    def read_for(self, request):
        """
        Without PageCacheMiddleware (a project that leaves it out): the page
        to serve, or (key, version) to render and store under, or None.
        """
        key = self.page_cache_key(request)
        if key is None:
            return None
        try:
            version, page = read(key)
        except Exception:
            logger.warning("Page cache unavailable; rendering without it")
            return None
        if page is not None and page.version == version:
            return page
        return key, version


def answers_key(request, names, *, many=(), longest=100, most=50):
    """
    A cache key for a GET form's answers: the values of `names` (several for
    those in `many`, in any order and repeated or not, as a checkbox list
    reads them; the last one for the others, as a radio list does), and
    nothing else of the query string, which the form ignores. None when the
    answers are more or longer than any the form offers: those render
    without the cache, and the form refuses them.
    """
    answers = []
    for name in names:
        if name in many:
            values = sorted(set(request.GET.getlist(name)))
            if len(values) > most:
                return None
        else:
            value = request.GET.get(name)
            values = [] if value is None else [value]
        if any(len(value) > longest for value in values):
            return None
        answers.append(values)
    digest = hashlib.sha256(json.dumps(answers).encode()).hexdigest()
    return page_key(f"{request.path}?{digest}")
