"""
The waitlist's join page is rendered once for everyone between changes, as
the booking page is (booking/views/page_cache.py), each visitor getting
tokens of their own; a change to the schedule shows at once, and a page
never outlives the clinic's day (it shows today's date).

Run with the versions in the cache (Redis in production, a memory cache
standing for it here) and in the database (`make run`).
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
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
    yield
    cache.clear()


@pytest.fixture
def rendered():
    from booking.views.waitlist import JoinWaitlistView

    with mock.patch.object(
        JoinWaitlistView,
        "render_to_response",
        autospec=True,
        side_effect=JoinWaitlistView.render_to_response,
    ) as render:
        yield render


def shown(client):
    response = client.get(JOIN_URL)
    assert response.status_code == 200
    return page(response)


def test_the_join_page_is_rendered_once_and_each_visitor_joins_with_their_own_tokens(
    cached, rendered
):
    visitors = [Client(), Client()]
    forms = [form_data(shown(visitor).find("form", method="post")) for visitor in visitors]

    assert rendered.call_count == 1
    assert forms[0]["form_token"] != forms[1]["form_token"]
    assert forms[0]["csrfmiddlewaretoken"] != forms[1]["csrfmiddlewaretoken"]
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
    # Four minutes apart, within AVAILABILITY_CACHE_SECONDS: only midnight retires it.
    with clinic_clock(clinic_time(2027, 2, 1, 23, 57)) as clock:
        first = form_data(shown(Client()).find("form", method="post"))
        clock.return_value = clinic_time(2027, 2, 1, 23, 59)
        shown(Client())
        assert rendered.call_count == 1

        clock.return_value = clinic_time(2027, 2, 1, 23, 59) + timedelta(minutes=2)
        after = form_data(shown(Client()).find("form", method="post"))
    assert rendered.call_count == 2
    assert after["earliest_day"] != first["earliest_day"]
    assert timezone.localdate(clock.return_value).isoformat() in after["earliest_day"]
