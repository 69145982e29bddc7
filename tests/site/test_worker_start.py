"""
A fresh gunicorn worker starts warm: gunicorn.conf.py runs
clinic_site/warmup.py in the master, after preload_app has loaded the site and
before any worker is forked, and the warm-up needs neither the database nor
the cache; each worker then opens its own connections, giving up quickly on
a database or cache that does not answer. (How much it saves is measured by
bench/fresh_worker.py, not here.)
"""

import gc
import json
import runpy
import socket
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest
from django.forms.renderers import get_default_renderer
from django.template import engines
from django.urls import get_resolver

from clinic_site import warmup
from scripts.live_server import ROOT
from tests.support.local_site import Site
from tests.support.production import production_environment


def cached_templates(engine):
    return {name for loader in engine.template_loaders for name in loader.get_template_cache}


def test_the_warm_up_compiles_the_templates_and_loads_the_urls_without_the_database():
    # No django_db mark: any use of the database fails this test.
    results = warmup.warm_up()

    assert results and all(results.values()), results
    site = cached_templates(engines["django"].engine)
    for name in (
        "base.html",
        "booking/bookings/book.html",
        "treatments/guide.html",
        "includes/site_footer.html",
        "emails/receipt.txt",
        "bootstrap5/field.html",
        "bootstrap5/layout/fieldset.html",
        "admin/base_site.html",
    ):
        assert name in site, name
    widgets = cached_templates(get_default_renderer().engine.engine)
    assert {"django/forms/widgets/radio.html", "django/forms/widgets/input.html"} <= widgets
    assert get_resolver()._populated


def test_the_warm_up_compiles_the_regular_expressions_django_leaves_to_first_use():
    from django.middleware import csrf, gzip
    from django.utils import http
    from django.utils.functional import empty

    lazy = [csrf.invalid_token_chars_re, http.ETAG_MATCH, gzip.re_accepts_gzip]
    for pattern in lazy:
        pattern._wrapped = empty  # As a fresh process has them.

    warmup.regular_expressions()

    assert all(pattern._wrapped is not empty for pattern in lazy)


def test_a_step_that_fails_is_logged_and_left_to_happen_lazily(monkeypatch, caplog):
    ran = []

    def first():
        ran.append("first")

    def broken():
        raise RuntimeError("no metadata")

    def last():
        ran.append("last")

    monkeypatch.setattr(warmup, "STEPS", [first, broken, last])

    assert warmup.warm_up() == {"first": True, "broken": False, "last": True}
    assert ran == ["first", "last"]
    assert "Warm-up step broken failed" in caplog.text


WARM_UP_WITHOUT_SERVICES = """
import json
import clinic_site.wsgi
from django.db import connections
from clinic_site import warmup

def a_query():
    from treatments.models import ContentBlock
    list(ContentBlock.objects.all())

warmup.STEPS.append(a_query)
results = warmup.warm_up()
print(json.dumps({
    "results": results,
    "connected": any(c.connection is not None for c in connections.all()),
}))
"""


def test_the_warm_up_works_with_the_database_and_redis_down(tmp_path):
    """As gunicorn's master runs it: production settings, nothing listening."""
    env = production_environment(
        DATABASE_URL="postgres://clinic@127.0.0.1:9/clinic",
        REDIS_URL="redis://127.0.0.1:9/0",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    result = subprocess.run(
        [sys.executable, "-c", WARM_UP_WITHOUT_SERVICES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])

    results = report["results"]
    assert results.pop("a_query") is False  # refused: the warm-up never connects
    assert results and all(results.values()), results
    assert report["connected"] is False
    assert "Warm-up step a_query failed" in result.stderr


def hooks():
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def server(*, preload_app):
    return SimpleNamespace(cfg=SimpleNamespace(preload_app=preload_app), wsgi="the site")


@pytest.fixture
def calls(monkeypatch):
    made = []
    monkeypatch.setattr(warmup, "warm_up", lambda: made.append("warm up"))

    def connect():
        made.append("connect")
        return {"database": True, "cache": True}

    monkeypatch.setattr(warmup, "connect", connect)
    monkeypatch.setattr(warmup, "first_requests", lambda app: made.append(("first", app)))
    monkeypatch.setattr(gc, "freeze", lambda: made.append("freeze"))
    return made


def test_gunicorn_warms_the_master_before_forking_and_freezes_what_it_holds(calls):
    config = hooks()
    assert config["preload_app"] is True

    config["when_ready"](server(preload_app=True))
    assert calls == ["warm up", "freeze"]

    calls.clear()
    config["post_worker_init"](server(preload_app=True))
    # Forked warm; its own connections are its own; then it serves itself.
    assert calls == ["connect", ("first", "the site")]


def test_without_preload_each_worker_warms_itself(calls):
    config = hooks()

    config["when_ready"](server(preload_app=False))
    assert calls == []
    config["post_worker_init"](server(preload_app=False))
    assert calls == ["warm up", "connect", ("first", "the site")]


def test_a_worker_that_could_not_connect_leaves_its_first_requests_to_visitors(calls, monkeypatch):
    monkeypatch.setattr(warmup, "connect", lambda: {"database": False, "cache": True})
    hooks()["post_worker_init"](server(preload_app=True))
    assert calls == []


def test_a_worker_serves_itself_a_content_page_and_the_booking_page(db, settings):
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = [".clinic.example", "www.clinic.example"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    # As Django's test client does: the test's transaction must outlive the requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        assert warmup.first_requests(WSGIHandler()) == {"/": 200, "/book/": 200}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_first_request_that_fails_is_logged_and_skipped(caplog):
    def broken(environ, start_response):
        raise RuntimeError("no site")

    assert warmup.first_requests(broken, paths=["/"]) == {"/": None}
    assert "The worker's own request for / failed" in caplog.text


CONNECT = """
import json, time
import clinic_site.wsgi
from django.db import connection
from clinic_site import warmup

started = time.monotonic()
results = warmup.connect(seconds=1)
print(json.dumps({
    "results": results,
    "seconds": time.monotonic() - started,
    "connected": connection.connection is not None,
    "options": connection.settings_dict["OPTIONS"],
}))
"""


def connect_in_a_worker(**environment):
    """warmup.connect() in a process of its own, under the production settings."""
    result = subprocess.run(
        [sys.executable, "-c", CONNECT],
        cwd=ROOT,
        env=production_environment(**environment),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_a_worker_starts_at_once_with_the_database_and_redis_down():
    report, log = connect_in_a_worker(
        DATABASE_URL="postgres://clinic@127.0.0.1:9/clinic", REDIS_URL="redis://127.0.0.1:9/0"
    )
    assert report["results"] == {"database": False, "cache": False}
    assert report["connected"] is False
    assert report["seconds"] < 5
    assert "The database did not answer" in log
    assert "The cache did not answer" in log


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word, as a hung server."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in accepted:
        connection.close()


def test_a_worker_waits_for_a_hung_database_and_redis_no_longer_than_the_bound(silent_server):
    report, _ = connect_in_a_worker(
        DATABASE_URL=f"postgres://clinic@127.0.0.1:{silent_server}/clinic",
        REDIS_URL=f"redis://127.0.0.1:{silent_server}/0",
    )
    assert report["results"] == {"database": False, "cache": False}
    # A second or two for each (libpq's connect_timeout, once with SSL and once
    # without; Redis's socket timeout), then on its way.
    assert report["seconds"] < 8
    assert report["options"] == {}  # the bound was for the start-up only


@pytest.mark.django_db
def test_a_worker_opens_its_database_connection_before_its_first_request():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL; this run uses {connection.vendor}")
    params = connection.settings_dict
    url = (
        f"postgres://{params['USER']}"
        + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
        + f"@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    )
    report, _ = connect_in_a_worker(DATABASE_URL=url)
    assert report["results"]["database"] is True
    assert report["connected"] is True


@pytest.fixture
def site(tmp_path, sqlite_site):
    site = Site(tmp_path, DATABASE_URL=f"sqlite:///{sqlite_site.path}")
    yield site
    site.stop()


def test_gunicorn_runs_the_warm_up_once_in_the_master(site):
    site.start()
    visitor = site.visitor()
    assert visitor.get("/book/").status == 200

    log = site.log()
    steps = len(warmup.STEPS)
    assert log.count("Warmed up in") == 1, log
    assert f"({steps} of {steps} steps)" in log
    assert log.index("Warmed up in") < log.index("Booting worker")
    assert "did not answer" not in log  # the worker connected before its first request
