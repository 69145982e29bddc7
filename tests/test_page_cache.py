"""Content pages are cached whole and invalidated the moment content changes."""

import re

import pytest
from django.core.cache import cache

from treatments.models import FAQ, ContentBlock, Treatment

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.CONTENT_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def test_a_cached_content_page_costs_no_queries(client, django_assert_num_queries):
    first = client.get("/compare/")
    with django_assert_num_queries(0):
        second = client.get("/compare/")
    assert second.status_code == 200
    assert second.content == first.content


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
