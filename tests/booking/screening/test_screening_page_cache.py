"""
The cached booking page (booking/views/page_cache.py) follows the health questions:
publishing a questionnaire, or taking it off line, shows on the next visit.
"""

import pytest
from django.test import Client

from booking.services import screening
from tests.support.booking import BOOK_URL, MEDICAL_CONSULTATION, page
from tests.support.screening import example_questionnaire

pytestmark = pytest.mark.django_db

MEDICAL_PAGE = f"{BOOK_URL}?type={MEDICAL_CONSULTATION}"


@pytest.fixture(
    params=[
        "django.core.cache.backends.locmem.LocMemCache",
        "tests.support.caches.SharedMemoryCache",
    ],
    ids=["version-in-database", "version-in-cache"],
)
def cached(request, settings):
    settings.CACHES = {"default": {"BACKEND": request.param}}
    settings.AVAILABILITY_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def asks_health_questions():
    response = Client().get(MEDICAL_PAGE)
    assert response.status_code == 200
    # The consultation's card, on the steps' page that the cache stores.
    chosen = [
        card
        for card in page(response).find_all("a", class_="booking-card")
        if "aria-current" in card.attrs
    ]
    return "A few health questions follow" in chosen[0].text


def test_publishing_and_withdrawing_questions_show_on_the_cached_page(
    cached, django_capture_on_commit_callbacks
):
    assert not asks_health_questions()
    assert not asks_health_questions()  # now from the cache

    questionnaire = example_questionnaire()
    with django_capture_on_commit_callbacks(execute=True):
        screening.publish_questionnaire(questionnaire)
    assert asks_health_questions()

    with django_capture_on_commit_callbacks(execute=True):
        questionnaire.is_active = False
        questionnaire.save()
    assert not asks_health_questions()
