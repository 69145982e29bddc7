import os
import shutil

import pytest

from tests.support.html import parse_html
from tests.support.production import production_environment
from tests.support.shared import made_once, run_folder
from tests.support.two_factor import sign_in_verified


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@clinic.test", "pw")
    return sign_in_verified(client, user)


@pytest.fixture
def admin_client(admin_user):
    """
    pytest-django's (a client of its own, not `client`), signed in past
    two-factor sign-in, which a superuser must use.
    """
    from django.test import Client

    return sign_in_verified(Client(), admin_user)


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


# Which pass runs which test. CI runs the suite twice: once on SQLite (the
# database of `make run`) and once on PostgreSQL with Redis (production's).
# A test runs where its behaviour lives:
# - unmarked: the behaviour does not depend on the database (pages, forms,
#   emails, browser journeys, HTML checks, deploy files, pure functions), so it
#   runs once, in the PostgreSQL + Redis pass. A new test lands there by default.
# - `every_database`: the same promise kept differently by each database (the
#   no-overlap rule, migrations, query counts, what SQL computes): both passes.
# - `postgres` / `sqlite`: behaviour only that database has (threads racing
#   real concurrent transactions; SQLite's triggers and file locks).
# `--pass=sqlite` and `--pass=postgres` pick a pass; without `--pass` every test
# the database can run runs, and the others skip with the reason.
PASSES = {
    "sqlite": {"every_database", "sqlite"},
    "postgres": {"every_database", "postgres", None},
}
DATABASE_MARKERS = ("every_database", "postgres", "sqlite")


def pytest_addoption(parser):
    parser.addoption(
        "--pass",
        dest="test_pass",
        choices=sorted(PASSES),
        help="run one of CI's two passes: `sqlite` (the database-specific tests on SQLite) or "
        "`postgres` (the database-specific tests and everything else, on PostgreSQL with Redis)",
    )


def _database_vendor():
    from django.db import connection

    return connection.vendor


def _database_marker(item):
    """The test's own database marker, else its class's or module's."""
    return next(
        (marker.name for marker in item.iter_markers() if marker.name in DATABASE_MARKERS), None
    )


def pytest_collection_modifyitems(config, items):
    test_pass = config.getoption("test_pass")
    vendor = _database_vendor()
    if test_pass is not None and vendor != test_pass.replace("postgres", "postgresql"):
        raise pytest.UsageError(f"--pass={test_pass} runs on its database; this run uses {vendor}")
    selected, deselected = [], []
    for item in items:
        marker = _database_marker(item)
        if test_pass is not None and marker not in PASSES[test_pass]:
            deselected.append(item)
            continue
        selected.append(item)
        needs = {"postgres": "postgresql", "sqlite": "sqlite"}.get(marker)
        if needs is not None and needs != vendor:
            item.add_marker(pytest.mark.skip(reason=f"needs {needs}; this run uses {vendor}"))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory, worker_id):
    """
    collectstatic's output (hashed, compressed: production's storage), made
    once per run for every worker: `public`, whose static/ subfolder is STATIC_ROOT.
    """
    from scripts.live_server import manage

    def collect(public):
        environment = production_environment(
            STATIC_ROOT=str(public / "static"), DATABASE_URL="postgres://unused/unused"
        )
        manage(environment, "collectstatic", "--noinput", "-v", "0")

    return made_once(run_folder(tmp_path_factory, worker_id) / "public", collect)


def _postgres_server():
    """The test database's PostgreSQL server, as a URL without a database."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL; this run uses {connection.vendor}")
    params = connection.settings_dict
    return (
        f"postgres://{params['USER']}"
        + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
        + f"@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
    )


@pytest.fixture(scope="session")
def migrated_production_template(collected_static):
    """
    A PostgreSQL database migrated as production's is, made the first time a
    worker needs it and dropped when the run ends: each test's database is a
    copy of it (CREATE DATABASE … TEMPLATE) instead of a migration of its own,
    which took most of each such test's set-up.
    Nothing connects to it after the migration, as a template needs.
    """
    import secrets

    import psycopg

    from scripts.live_server import manage

    server = _postgres_server()
    # One name per run and worker: other runs may share this PostgreSQL server.
    template = f"clinic_live_template_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{template}"')
    try:
        environment = production_environment(
            DATABASE_URL=f"{server}/{template}",
            STATIC_ROOT=str(collected_static / "static"),
        )
        manage(environment, "migrate", "--noinput", "-v", "0")
        yield server, template
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


@pytest.fixture
def production_site(migrated_production_template, collected_static):
    """
    The environment to run the site's processes (scripts/live_server.py) with
    the production settings on a PostgreSQL database of their own, a copy of
    the migrated template made for the test and dropped after it, and the
    Redis of the test run (REDIS_URL, else database 15 on the local server).
    STATIC_ROOT is `collected_static`. PostgreSQL only: a test using it is
    marked `postgres`.
    """
    import secrets

    import psycopg

    server, template = migrated_production_template
    # One name per run and test: other runs may share this PostgreSQL server.
    database = f"clinic_live_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    try:
        yield production_environment(
            DATABASE_URL=f"{server}/{database}",
            STATIC_ROOT=str(collected_static / "static"),
        )
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory, worker_id):
    """`make run`'s database, migrated once per run for every worker to copy."""
    from tests.support.sqlite_site import migrate_into

    return made_once(run_folder(tmp_path_factory, worker_id) / "sqlite-template", migrate_into)


@pytest.fixture
def sqlite_site(migrated_sqlite_template, tmp_path):
    """A copy of the migrated SQLite database of this test's own (tests.support.sqlite_site)."""
    from tests.support.sqlite_site import SqliteSite

    return SqliteSite.copied_from(migrated_sqlite_template, tmp_path)


# The seed content after a transactional test. A test that commits for real
# (`transactional_db`, `live_server`) empties the database when it ends.
# Serially, pytest-django runs such tests after all the others, as Django's
# runner does; a pytest-xdist worker may be handed other tests after one, so
# the database the migrations seeded is put back (as `serialized_rollback`
# does, from the same serialized copy) before the next test starts.


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, with their seeded contents kept serialized."""
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if getattr(connection, "_test_serialized_contents", None) is None:
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()


def _commits_for_real(item):
    marker = item.get_closest_marker("django_db")
    transaction = marker is not None and marker.kwargs.get("transaction", False)
    fixtures = getattr(item, "fixturenames", ())
    return transaction or "transactional_db" in fixtures or "live_server" in fixtures


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield  # every fixture torn down: the transactional test's flush is done
    if nextitem is not None and _commits_for_real(item):
        from django.core.management import call_command
        from django.db import connections
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            for connection in connections.all():
                contents = getattr(connection, "_test_serialized_contents", None)
                if contents is None:
                    continue
                # As serialized_rollback: empty without post_migrate's rows, then the copy.
                call_command(
                    "flush",
                    verbosity=0,
                    interactive=False,
                    database=connection.alias,
                    reset_sequences=False,
                    inhibit_post_migrate=True,
                )
                connection.creation.deserialize_db_from_string(contents)
    return result


def pytest_sessionfinish(session):
    # The photographs the run wrote (clinic_site/settings/test.py): removed
    # by the process that made their folder, after every worker it started.
    from django.conf import settings

    if getattr(settings, "MEDIA_ROOT_MADE_HERE", False):
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
