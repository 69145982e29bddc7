"""
What Django leaves to a process's first request, done before gunicorn forks
its workers.

gunicorn loads the site in its master (`preload_app`) and forks the workers
from it, again each time one is restarted after `max_requests`. Django does
much of its work lazily, on the first request a process serves: importing the
URL configuration and every view, creating the template engines (which
imports every template tag library), compiling each template, working out
each model's fields, reading the static files' manifest, loading the
locale's formats, the time zone and the phone-number metadata, importing the
cache's client library. Done in the master, all of it is inherited by every
worker (copy-on-write) instead of being paid for by each new worker's first
visitor. gunicorn.conf.py calls `warm_up()` (`when_ready`, in the master; in each
worker after it loads the app when `preload_app` is off).

It never touches the database or the cache: a connection opened in the master
would be shared by every forked worker, and the master must start while
PostgreSQL or Redis is down. Each step that fails is logged and skipped; the
site then only does that work lazily, as it would have anyway.

Each worker then opens its own connections, to the database and to the cache,
before it takes its first request (`connect()`, from gunicorn.conf.py's
`post_worker_init`): the first request would otherwise wait for a new
PostgreSQL backend to start. A database that does not answer within
CONNECT_SECONDS (libpq's connect_timeout, which it may spend twice: with SSL,
then without) or a cache that does not (its socket timeouts, a second each) is
left to the first request, as before: a worker starts within a few seconds
and serves (cached pages need no database) whatever state either is in.
"""

import logging
import time
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)


def warm_up():
    """Run every step; returns {step name: True if it worked}. Never raises."""
    started = time.perf_counter()
    results = {}
    with no_database():
        for step in STEPS:
            try:
                step()
            except Exception:
                logger.warning(
                    "Warm-up step %s failed; it will happen lazily", step.__name__, exc_info=True
                )
                results[step.__name__] = False
            else:
                results[step.__name__] = True
    logger.info(
        "Warmed up in %.0f ms (%d of %d steps)",
        (time.perf_counter() - started) * 1000,
        sum(results.values()),
        len(results),
    )
    return results


@contextmanager
def no_database():
    """Any attempt to connect to a database fails, and no connection is left open."""

    def refuse(*args, **kwargs):
        raise DatabaseError("The warm-up does not use the database.")

    wrappers = list(connections.all())
    for wrapper in wrappers:
        wrapper.connect = refuse
    try:
        yield
    finally:
        for wrapper in wrappers:
            del wrapper.connect
        connections.close_all()


# How long a worker waits for the database or the cache at start-up.
CONNECT_SECONDS = 2


def connect(seconds=CONNECT_SECONDS):
    """
    In a worker, before its first request: its database connection (kept for
    CONN_MAX_AGE, so the first request uses it) and its cache connection.
    Returns {"database": worked, "cache": worked}; never raises.
    """
    started = time.perf_counter()
    results = {"database": connect_database(seconds), "cache": connect_cache()}
    logger.debug("Worker connected in %.0f ms: %s", (time.perf_counter() - started) * 1000, results)
    return results


def connect_database(seconds):
    from django.db import connection

    if not connection.settings_dict.get("CONN_MAX_AGE"):
        return False  # Closed after each request anyway: nothing to keep ready.
    options = connection.settings_dict.setdefault("OPTIONS", {})
    bounded = connection.vendor == "postgresql" and "connect_timeout" not in options
    if bounded:
        options["connect_timeout"] = seconds
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("The database did not answer; the first request will connect")
        connection.close()
        return False
    finally:
        if bounded:
            del options["connect_timeout"]
    return True


def connect_cache():
    """The cache's connection (Redis: socket_connect_timeout bounds the wait)."""
    from django.core.cache import cache

    try:
        cache.get("worker-start")
    except Exception:
        logger.warning("The cache did not answer; the first request will connect")
        return False
    return True


def url_configuration():
    """The URL configuration, every view module and the resolver's reverse tables."""
    from django.urls import get_resolver, reverse

    get_resolver().url_patterns  # noqa: B018 (imports clinic_site.urls and every view)
    reverse("treatments:home")  # fills the reverse tables
    get_resolver().resolve("/")


def templates():
    """
    Every template of the site's engines compiled and kept by their cached
    loaders (DEBUG off), and the form widgets' templates of the form
    renderer, which has an engine of its own. Creating an engine imports
    every template tag library and context processor.
    """
    from django.forms.renderers import get_default_renderer
    from django.template import engines

    for backend in engines.all():
        engine = getattr(backend, "engine", None)
        if engine is not None:
            engine.template_context_processors  # noqa: B018 (imports them)
            compile_templates(engine)
    renderer_engine = getattr(get_default_renderer(), "engine", None)
    if renderer_engine is not None:
        compile_templates(renderer_engine.engine, prefix="django/forms/")


def compile_templates(engine, prefix=""):
    names = set()
    for loader in engine.template_loaders:
        for inner in getattr(loader, "loaders", [loader]):
            for folder in inner.get_dirs():
                folder = Path(folder)
                for path in folder.rglob("*"):
                    name = path.relative_to(folder).as_posix()
                    if path.is_file() and name.startswith(prefix) and path.suffix in TEMPLATES:
                        names.add(name)
    failed = 0
    for name in sorted(names):
        try:
            engine.get_template(name)
        except Exception:
            failed += 1  # Not a template for this engine (or a broken one): left lazy.
    logger.debug("Compiled %d templates (%d left out)", len(names) - failed, failed)


TEMPLATES = {".html", ".txt", ".xml"}


def model_metadata():
    """
    What each model's _meta works out on its first query (its fields, their
    columns, the reverse relations, which needs every model's fields).
    """
    from django.apps import apps

    for model in apps.get_models():
        opts = model._meta
        opts.get_fields()
        for name in LAZY_META:
            getattr(opts, name)
        for field in opts.concrete_fields:
            field.cached_col  # noqa: B018


LAZY_META = (
    "concrete_fields",
    "local_concrete_fields",
    "fields_map",
    "_forward_fields_map",
    "related_objects",
    "_property_names",
    "db_returning_fields",
    "total_unique_constraints",
    "managers_map",
)


def static_manifest():
    """collectstatic's manifest, read by the static files storage when first used."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    staticfiles_storage.base_url  # noqa: B018 (creates the storage: reads the manifest)


def locale():
    """
    The default translation, the locale's formats, the clinic's time zone
    (read from the system's zone files) and strptime's tables.
    """
    from django.utils import formats, timezone, translation

    translation.gettext("Enter a valid date.")
    formats.get_format("DATE_INPUT_FORMATS")
    formats.date_format(timezone.localtime(timezone.now()), "DATETIME_FORMAT")
    time.strptime("2026-01-05T14:00Z", "%Y-%m-%dT%H:%MZ")


def phone_numbers():
    """The phone-number metadata of the default region, loaded by the first number parsed."""
    from phonenumber_field.phonenumber import to_python

    region = getattr(settings, "PHONENUMBER_DEFAULT_REGION", None)
    number = to_python(settings.CLINIC["phone"], region=region)
    if number is not None and number.is_valid():
        number.as_national  # noqa: B018
        number.as_e164  # noqa: B018


def cache_client():
    """
    Each cache backend and its client library, without connecting: Django
    imports redis-py when the cache is first used, a quarter of a second.
    """
    from django.core.cache import caches

    for backend in caches.all():
        getattr(backend, "_cache", None)  # RedisCache's client (its pools come later)


def request_machinery():
    """Modules that the middleware, the error pages and a template's context import on first use."""
    from django.utils.module_loading import import_string

    import_string(settings.MESSAGE_STORAGE)
    import_string(settings.SESSION_ENGINE + ".SessionStore")
    import_string(settings.SESSION_SERIALIZER)
    for module in ("django.views.defaults", "django.conf.urls", "django.contrib.admin.forms"):
        import_module(module)
    "clinic.example".encode("idna")  # the codec that checks a request's host name
    "clinic".encode("unicode_escape")  # and one the admin's JSON uses


def regular_expressions():
    """
    The regular expressions Django compiles on first use (`_lazy_re_compile`:
    the CSRF token's check, Cache-Control's and ETags' parsing, GZip's
    Accept-Encoding, the validators), in every module loaded by now.
    """
    import sys

    from django.utils.functional import SimpleLazyObject, empty

    for module in list(sys.modules.values()):
        for value in list(getattr(module, "__dict__", {}).values()):
            if (
                type(value) is SimpleLazyObject
                and value._wrapped is empty
                and getattr(value._setupfunc, "__qualname__", "")
                == "_lazy_re_compile.<locals>._compile"
            ):
                value._setup()


STEPS = [
    url_configuration,
    templates,
    model_metadata,
    static_manifest,
    locale,
    phone_numbers,
    cache_client,
    request_machinery,
    regular_expressions,  # last: after the steps above have imported what they import
]
