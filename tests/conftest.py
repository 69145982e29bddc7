import pytest

from tests.markup import parse_html

# Every page a visitor can reach from the site's navigation, with the copy
# that describes it: a SitePage key, or the slug of a treatment.
PUBLIC_PAGES = {
    "/": ("page", "home"),
    "/treatments/": ("page", "treatments"),
    "/treatments/professional-facial/": ("treatment", "professional-facial"),
    "/treatments/medical-grade-facial/": ("treatment", "medical-grade-facial"),
    "/compare/": ("page", "comparison"),
    "/faqs/": ("page", "faqs"),
    "/guide/": ("page", "guide"),
    "/book/": ("page", "booking"),
    "/privacy/": ("page", "privacy"),
    "/team/": ("page", "team"),
}


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
