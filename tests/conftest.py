import os

import pytest

from tests.support.html import parse_html


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@clinic.test", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def get_page(client):
    """GET a page that must render, and return its parsed document."""

    def get(path, data=None, **extra):
        response = client.get(path, data, **extra)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        return parse_html(response.content)

    return get


@pytest.fixture(autouse=True)
def _empty_cache():
    """
    The booking rate limit counts submissions in Django's cache, which lives
    for the whole test process: every test starts and ends with it empty.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _postgres_marker(request):
    """
    A test marked `postgres` needs what only PostgreSQL gives here: real
    concurrent transactions from several threads (the in-memory SQLite test
    database is one connection, and SQLite locks the whole file). It is
    skipped when, and only when, the suite runs on another database; on
    PostgreSQL it always runs, so `DATABASE_URL=postgres://… make test` (CI's
    PostgreSQL pass) is where it proves its point.
    """
    if request.node.get_closest_marker("postgres") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL; this run uses {connection.vendor}")


def _production_environment(**values):
    """The environment for the site's processes under the production settings."""
    import secrets

    passed_on = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "BOOKING_", "TASK_"))
    }
    return passed_on | {
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings.production",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        # Plain HTTP on loopback; behind nginx, as deploy/ runs the app.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_PROXY_SSL_HEADER": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "BOOKING_MIN_FILL_SECONDS": "0",
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
        **values,
    }


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """
    collectstatic's output (hashed, compressed: production's storage), made
    once per run: `public`, whose static/ subfolder is STATIC_ROOT.
    """
    from scripts.live_server import manage

    public = tmp_path_factory.mktemp("public")
    manage(
        _production_environment(
            STATIC_ROOT=str(public / "static"), DATABASE_URL="postgres://unused/unused"
        ),
        "collectstatic",
        "--noinput",
        "-v",
        "0",
    )
    return public


@pytest.fixture
def production_site(collected_static):
    """
    The environment to run the site's processes (scripts/live_server.py) with
    the production settings on a PostgreSQL database of their own, made and
    migrated for the test and dropped after it, and the Redis of the test run
    (REDIS_URL, else database 15 on the local server). STATIC_ROOT is
    `collected_static`. PostgreSQL only: a test using it is marked `postgres`.
    """
    import secrets

    import psycopg
    from django.db import connection

    from scripts.live_server import manage

    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL; this run uses {connection.vendor}")
    params = connection.settings_dict
    server = (
        f"postgres://{params['USER']}"
        + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
        + f"@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
    )
    # One name per run and test: other runs may share this PostgreSQL server.
    database = f"clinic_live_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    env = _production_environment(
        DATABASE_URL=f"{server}/{database}",
        STATIC_ROOT=str(collected_static / "static"),
    )
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        yield env
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
