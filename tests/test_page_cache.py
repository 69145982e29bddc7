"""Content pages are cached whole and invalidated the moment content changes."""

import re

import pytest
from django.core.cache import cache

from tests.test_faults import Site
from treatments.caching import version_in_database
from treatments.models import FAQ, ContentBlock, Treatment

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.CONTENT_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def test_a_cached_content_page_costs_no_query_but_the_content_version(
    client, django_assert_num_queries
):
    """
    With Redis (CI's PostgreSQL pass) the version is in Redis: no query at
    all. With a per-process memory cache it is one row of the database, the
    only place every process sees (treatments/caching.py).
    """
    first = client.get("/compare/")
    expected = 1 if version_in_database() else 0
    with django_assert_num_queries(expected) as captured:
        second = client.get("/compare/")
    assert second.status_code == 200
    assert second.content == first.content
    assert all("treatments_contentversion" in query["sql"] for query in captured.captured_queries)


def test_an_edit_in_the_admin_shows_on_the_next_request(
    client, staff_client, django_capture_on_commit_callbacks
):
    client.get("/faqs/")
    faq = FAQ.objects.get(question__startswith="Do medical-grade facials have downtime")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/admin/treatments/faq/{faq.pk}/change/",
            {
                "question": faq.question,
                "answer": "Usually a day or two of mild redness.",
                "treatment": faq.treatment_id or "",
                "position": faq.position,
                "is_published": "on",
            },
        )
    assert response.status_code == 302
    assert "Usually a day or two of mild redness." in client.get("/faqs/").content.decode()


def test_a_change_to_a_shared_block_reaches_every_cached_page(
    client, django_capture_on_commit_callbacks
):
    client.get("/")
    client.get("/treatments/professional-facial/")
    block = ContentBlock.objects.get(key=ContentBlock.Key.CALL_TO_ACTION)
    block.heading = "Talk to our skin team"
    with django_capture_on_commit_callbacks(execute=True):
        block.save()
    assert "Talk to our skin team" in client.get("/").content.decode()
    assert (
        "Talk to our skin team" in client.get("/treatments/professional-facial/").content.decode()
    )


def test_unpublishing_a_treatment_takes_its_cached_page_down(
    client, django_capture_on_commit_callbacks
):
    assert client.get("/treatments/medical-grade-facial/").status_code == 200
    treatment = Treatment.objects.get(slug="medical-grade-facial")
    treatment.is_published = False
    with django_capture_on_commit_callbacks(execute=True):
        treatment.save()
    assert client.get("/treatments/medical-grade-facial/").status_code == 404


def test_guide_answers_are_not_cached(client, django_assert_max_num_queries):
    address = "/guide/?concerns=acne-scars&sensitivity=very-sensitive&goal=long-term-change"
    client.get(address)
    with django_assert_max_num_queries(20) as captured:
        client.get(address)
    assert len(captured.captured_queries) > 0


def test_the_booking_form_is_never_served_from_the_cache(client):
    token = re.compile(r'name="form_token" value="([^"]+)"')
    first = token.search(client.get("/book/").content.decode()).group(1)
    second = token.search(client.get("/book/").content.decode()).group(1)
    assert first != second


def test_an_unchanged_page_revisited_with_its_etag_gets_304(client):
    first = client.get("/treatments/")
    etag = first["ETag"]
    again = client.get("/treatments/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_a_booking_does_not_invalidate_the_content_cache(django_capture_on_commit_callbacks):
    from tests.booking_helpers import make_booking, utc
    from treatments.caching import content_version
    from treatments.models import SkinConcern

    before = content_version()
    with django_capture_on_commit_callbacks(execute=True):
        booking = make_booking(starts_at=utc(2030, 1, 7, 14), full_name="Ana")
    with django_capture_on_commit_callbacks(execute=True):
        booking.concerns.set(SkinConcern.objects.all()[:2])
    assert content_version() == before


# Edits made outside the process serving the pages: a management command, a
# shell, another worker. Without Redis each process has its own memory cache,
# so the content version has to live where every process sees it.

EDIT_AN_FAQ = """
from treatments.models import FAQ
faq = FAQ.objects.get(question__startswith="Do medical-grade facials have downtime")
faq.answer = "Edited from another process: a day or two of mild redness."
faq.save()
"""


def test_an_edit_from_another_process_shows_on_the_next_request_without_redis(tmp_path):
    # The local settings with no REDIS_URL (as `make run`), each process with its
    # own memory cache, pages cached for the default ten minutes.
    site = Site(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}")
    site.manage("migrate", "--noinput", "-v", "0")
    site.start()
    try:
        visitor = site.visitor()
        before = visitor.get("/faqs/")
        assert before.status == 200
        assert visitor.get("/faqs/").text == before.text  # served from the cache now

        site.manage("shell", "-c", EDIT_AN_FAQ)

        after = visitor.get("/faqs/")
        assert "Edited from another process" in after.text
    finally:
        site.stop()
