"""
The waitlist's join page, empty as a GET shows it, is rendered once for
everyone asking for the same choices on the same day between changes, and
each visitor is sent it with their own tokens (booking/views/page_cache.py's
FramedFormPageMixin); a change to the schedule shows at once, and the page
never outlives the clinic's day (it shows today's date).

Run with the versions in the cache (Redis in production, a memory cache
standing for it here) and in the database (`make run`).
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import ConsultationType, WaitlistEntry
from tests.support.booking import clinic_clock, clinic_time, page
from tests.support.html import form_data

pytestmark = pytest.mark.django_db

JOIN_URL = "/waitlist/"
SHARED = "tests.support.caches.SharedMemoryCache"
PER_PROCESS = "django.core.cache.backends.locmem.LocMemCache"


@pytest.fixture(params=[PER_PROCESS, SHARED], ids=["version-in-database", "version-in-cache"])
def cached(request, settings):
    settings.CACHES = {"default": {"BACKEND": request.param}}
    settings.AVAILABILITY_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture
def rendered():
    """How many times the page was rendered to be shared (its frame stored)."""
    from booking.views.page_cache import PageFrameCache

    with mock.patch.object(
        PageFrameCache, "store", autospec=True, side_effect=PageFrameCache.store
    ) as store:
        yield store


def shown(client, path=JOIN_URL):
    response = client.get(path)
    assert response.status_code == 200
    return page(response)


def join_form(document):
    return form_data(document.find("form", method="post"))


def test_the_page_is_rendered_once_and_each_visitor_joins_with_their_own_tokens(cached, rendered):
    visitors = [Client(), Client()]
    forms = [join_form(shown(visitor)) for visitor in visitors]

    assert rendered.call_count == 1
    assert forms[0]["form_token"] != forms[1]["form_token"]
    assert forms[0]["csrfmiddlewaretoken"] != forms[1]["csrfmiddlewaretoken"]
    assert visitors[0].cookies["csrftoken"].value != visitors[1].cookies["csrftoken"].value
    for n, (visitor, data) in enumerate(zip(visitors, forms, strict=True)):
        data |= {
            "full_name": f"Waiting Visitor{n}",
            "email": f"waiting.visitor{n}@example.com",
            "phone": "(212) 555-0147",
            "consent": "on",
            "consultation_type": "skin-assessment",
        }
        assert visitor.post(JOIN_URL, data).status_code == 302
    assert WaitlistEntry.objects.count() == 2


def test_a_shared_page_reads_nothing_from_the_database_with_redis(settings, rendered):
    settings.CACHES = {"default": {"BACKEND": SHARED}}
    settings.AVAILABILITY_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()
    shown(Client())
    with CaptureQueriesContext(connection) as queries:
        document = shown(Client())
    cache.clear()
    # The form's choices and the rules are kept by the process between
    # changes to the schedule (fields.booking_choices), the page rendered once.
    assert len(queries) == 0
    assert rendered.call_count == 1
    assert document.find("input", name="consultation_type") is not None


def test_each_choice_is_stored_apart_and_made_up_ones_are_never_stored(cached, rendered):
    from django.core.cache import cache

    chosen = shown(Client(), f"{JOIN_URL}?practitioner=maya-chen")
    shown(Client(), f"{JOIN_URL}?practitioner=maya-chen")
    assert rendered.call_count == 1
    selected = chosen.find("select", name="practitioner")
    chosen_options = [
        option for option in selected.find_all("option") if "selected" in option.attrs
    ]
    assert [option.attrs["value"] for option in chosen_options] == ["maya-chen"]

    for n in range(3):
        for made_up in [f"practitioner=nobody-{n}", f"type=no-such-type-{n}"]:
            # The whole page rendered for the request, the form ignoring the value.
            assert join_form(shown(Client(), f"{JOIN_URL}?{made_up}"))["form_token"]
    stored = [key for key in cache._cache if key.endswith(":waitlist")]
    assert len(stored) == 1
    assert rendered.call_count == 1


def test_a_new_consultation_type_shows_at_once(
    cached, rendered, django_capture_on_commit_callbacks
):
    assert "Laser consultation" not in shown(Client()).text
    with django_capture_on_commit_callbacks(execute=True):
        kind = ConsultationType.objects.first()
        kind.pk, kind.slug, kind.name = None, "laser-consultation", "Laser consultation"
        kind.save()

    assert "Laser consultation" in shown(Client()).text
    assert rendered.call_count == 2


def test_the_page_is_not_served_after_the_clinics_midnight(cached, rendered):
    # Four minutes apart, within AVAILABILITY_CACHE_SECONDS: only midnight retires them.
    with clinic_clock(clinic_time(2027, 2, 1, 23, 57)) as clock:
        first = join_form(shown(Client()))
        clock.return_value = clinic_time(2027, 2, 1, 23, 59)
        shown(Client())
        assert rendered.call_count == 1

        clock.return_value = clinic_time(2027, 2, 1, 23, 59) + timedelta(minutes=2)
        after = join_form(shown(Client()))
    assert rendered.call_count == 2
    assert after["earliest_day"] != first["earliest_day"]
    assert timezone.localdate(clock.return_value).isoformat() in after["earliest_day"]
