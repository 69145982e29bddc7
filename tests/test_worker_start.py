"""
A fresh gunicorn worker starts warm: gunicorn.conf.py runs
clinic_site/warmup.py in the master, after preload_app has loaded the site and
before any worker is forked, and the warm-up needs neither the database nor
the cache. (How much it saves is measured by bench/fresh_worker.py, not here.)
"""

import gc
import json
import runpy
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.forms.renderers import get_default_renderer
from django.template import engines
from django.urls import get_resolver

from clinic_site import warmup
from scripts.live_server import ROOT
from tests.conftest import _production_environment
from tests.test_faults import Site


def cached_templates(engine):
    return {name for loader in engine.template_loaders for name in loader.get_template_cache}


def test_the_warm_up_compiles_the_templates_and_loads_the_urls_without_the_database():
    # No django_db mark: any use of the database fails this test.
    results = warmup.warm_up()

    assert results and all(results.values()), results
    site = cached_templates(engines["django"].engine)
    for name in (
        "base.html",
        "booking/book.html",
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
    env = _production_environment(
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
    return SimpleNamespace(cfg=SimpleNamespace(preload_app=preload_app))


def test_gunicorn_warms_the_master_before_forking_and_freezes_what_it_holds(monkeypatch):
    calls = []
    monkeypatch.setattr(warmup, "warm_up", lambda: calls.append("warm up"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    config = hooks()
    assert config["preload_app"] is True

    config["when_ready"](server(preload_app=True))
    assert calls == ["warm up", "freeze"]

    calls.clear()
    config["post_worker_init"](server(preload_app=True))
    assert calls == []  # the worker was forked warm


def test_without_preload_each_worker_warms_itself(monkeypatch):
    calls = []
    monkeypatch.setattr(warmup, "warm_up", lambda: calls.append("warm up"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    config = hooks()

    config["when_ready"](server(preload_app=False))
    assert calls == []
    config["post_worker_init"](server(preload_app=False))
    assert calls == ["warm up"]


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}")
    site.manage("migrate", "--noinput", "-v", "0")
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
