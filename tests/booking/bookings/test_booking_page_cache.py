"""
The booking page's steps are rendered once for everyone between changes to
its free times; the request form, with each visitor's own tokens, is never
stored (booking/views/page_cache.py); the booking rules are read once per
process between changes.

Each test runs twice: with the version in the database (the cache is each
process's memory, as in `make run`) and with the version in the cache (as
with Redis in production, stood in for by a memory cache the site treats as
shared). Changes raise the version on commit in the second case, so the
tests run their on-commit callbacks.
"""

import gzip
from datetime import time, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking import services
from booking.models import BookingRules, Closure, ConsultationBooking, WorkingHours
from booking.services.schedule import parse_slot_value
from tests.support.booking import (
    BOOK_URL,
    VISITOR,
    booking_form,
    clinic_clock,
    consultation_type,
    filled_booking_form,
    offered_slots,
    page,
    practitioner,
    request_form_page,
    set_rules,
    time_links,
)
from tests.support.html import form_data

pytestmark = pytest.mark.django_db

Status = ConsultationBooking.Status
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
def committed(django_capture_on_commit_callbacks):
    """Around a change: what runs once it commits runs (the test's transaction never does)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def rendered():
    """How many times the booking page's template was rendered."""
    from booking.views.bookings import BookConsultationView

    with mock.patch.object(
        BookConsultationView,
        "render_to_response",
        autospec=True,
        side_effect=BookConsultationView.render_to_response,
    ) as render:
        yield render


# One practitioner's times: a time booked is gone from them.
MAYA = f"{BOOK_URL}?practitioner=maya-chen"


def shown(client, path=BOOK_URL):
    response = client.get(path)
    assert response.status_code == 200
    return response, page(response)


def tokens(document):
    data = form_data(booking_form(document))
    return data["csrfmiddlewaretoken"], data["form_token"]


def test_the_page_is_rendered_once_for_every_visitor(cached, rendered):
    first, first_page = shown(Client())
    second, second_page = shown(Client())

    assert rendered.call_count == 1
    assert offered_slots(second_page) == offered_slots(first_page)
    # Still the visitor's own page: never stored by a browser or a proxy.
    assert "no-store" in second["Cache-Control"]
    assert "private" in second["Cache-Control"]


def test_a_stored_page_is_sent_gzipped_as_stored_or_plain(cached, rendered):
    plain = Client().get(BOOK_URL)
    zipped = Client().get(BOOK_URL, headers={"Accept-Encoding": "gzip, br"})
    again = Client().get(BOOK_URL, headers={"Accept-Encoding": "gzip"})

    assert rendered.call_count == 1
    assert zipped["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(zipped.content) == plain.content
    # Compressed once when stored: the same bytes each time.
    assert again.content == zipped.content
    assert "Accept-Encoding" in zipped["Vary"] and "HX-Request" in zipped["Vary"]


def test_the_steps_hold_no_token_and_the_request_form_is_each_visitors_own(cached, rendered):
    ada, bo = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    steps = shown(ada)[1]
    shown(bo)
    # Steps 1 to 4 are the same for everyone: no token, stored once.
    assert rendered.call_count == 1
    assert steps.find("input", name="form_token") is None

    # Step 5, the request form, carries each visitor's tokens: rendered once
    # for both with neither's (test_booking_request_form_cache.py), each sent their own.
    time = time_links(steps)[0].split("#")[0]
    _, ada_page = shown(ada, time)
    _, bo_page = shown(bo, time)
    assert rendered.call_count == 2
    assert tokens(ada_page)[1] != tokens(bo_page)[1]
    assert ada.cookies["csrftoken"].value != bo.cookies["csrftoken"].value

    data = form_data(booking_form(bo_page)) | {**VISITOR, "consent": "on"}
    response = bo.post(BOOK_URL, data)
    assert response.status_code == 302
    assert ConsultationBooking.objects.count() == 1

    # Ada's form token is bound to her browser: posted from Bo's, it is refused.
    stolen = data | {"form_token": tokens(ada_page)[1], "email": "someone@example.com"}
    response = bo.post(BOOK_URL, stolen)
    assert response.status_code == 200
    assert ConsultationBooking.objects.count() == 1


def test_htmx_gets_the_steps_alone_stored_apart_from_the_whole_page(cached, rendered):
    whole, _ = shown(Client())
    steps = Client().get(BOOK_URL, headers={"HX-Request": "true"})
    again = Client().get(BOOK_URL, headers={"HX-Request": "true"})
    whole_again, _ = shown(Client())

    assert rendered.call_count == 2
    assert steps.content.lstrip().startswith(b'<div id="booking-steps"')
    assert b"<html" not in steps.content
    assert again.content == steps.content
    assert whole_again.content == whole.content and b"<html" in whole.content
    assert "HX-Request" in steps["Vary"] and "HX-Request" in whole_again["Vary"]


def test_a_cached_page_costs_no_query_but_the_versions(cached, rendered):
    shown(Client())
    with CaptureQueriesContext(connection) as queries:
        shown(Client())
    assert rendered.call_count == 1
    # Where the versions live in the database: they, and the form's choices
    # (which the key is checked against), which a process keeps only while
    # Redis tells it when they change.
    assert len(queries) == (4 if cached == PER_PROCESS else 0)


def test_a_booking_takes_its_time_off_the_page_at_once(cached, committed):
    _, before = shown(Client(), MAYA)
    taken = offered_slots(before)[0]

    client = Client()
    document = request_form_page(client, MAYA)
    data = form_data(booking_form(document)) | {"slot": taken, **VISITOR, "consent": "on"}
    with committed():
        assert client.post(BOOK_URL, data).status_code == 302

    _, after = shown(Client(), MAYA)
    assert taken not in offered_slots(after)


def test_a_cancellation_puts_its_time_back_at_once(cached, committed):
    _, before = shown(Client(), MAYA)
    taken = offered_slots(before)[0]
    client = Client()
    data = form_data(booking_form(request_form_page(client, MAYA))) | {
        "slot": taken,
        **VISITOR,
        "consent": "on",
    }
    with committed():
        assert client.post(BOOK_URL, data).status_code == 302
    assert taken not in offered_slots(shown(Client(), MAYA)[1])

    # change_status updates the row without saving the instance: no signal.
    with committed():
        services.change_status(ConsultationBooking.objects.get(), Status.CANCELLED)

    assert taken in offered_slots(shown(Client(), MAYA)[1])


@pytest.mark.parametrize("change", ["hours", "closure", "rules", "practitioner"])
def test_a_staff_change_to_the_schedule_shows_at_once(cached, committed, change):
    before = offered_slots(shown(Client())[1])
    assert before

    with committed():
        make(change)

    after = offered_slots(shown(Client())[1])
    assert after != before
    if change != "rules":
        assert after == []
    else:
        assert min(after) > max(before)


def make(change):
    if change == "hours":
        WorkingHours.objects.filter(
            practitioner__in=consultation_type().qualified_practitioners()
        ).delete()
    elif change == "closure":
        today = timezone.localdate()
        Closure.objects.create(starts_on=today, ends_on=today + timedelta(days=400), reason="Works")
    elif change == "rules":
        set_rules(minimum_notice_hours=24 * 20)
    else:
        for person in consultation_type().qualified_practitioners():
            person.takes_online_bookings = False
            person.save()


def test_a_time_reaching_the_minimum_notice_is_never_served(cached, rendered, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 14 * 24 * 3600  # Only the notice retires the page.
    now = timezone.now()
    with clinic_clock(now) as clock:
        first = offered_slots(shown(Client())[1])[0]
        notice = timedelta(hours=BookingRules.current().minimum_notice_hours)
        first_start = parse_slot_value(first)
        assert rendered.call_count == 1

        # A second before the first time reaches the notice, the page is served as stored.
        clock.return_value = first_start - notice - timedelta(seconds=1)
        assert offered_slots(shown(Client())[1])[0] == first
        assert rendered.call_count == 1

        # Once it is inside the notice, the page is rendered again, without that time.
        clock.return_value = first_start - notice + timedelta(seconds=1)
        again = offered_slots(shown(Client())[1])
        assert rendered.call_count == 2
        assert first not in again


def test_each_choice_of_type_practitioner_and_week_is_a_page_of_its_own(cached, rendered):
    nurse = practitioner("daniel-okafor")
    default = offered_slots(shown(Client())[1])
    with_nurse = offered_slots(shown(Client(), f"{BOOK_URL}?practitioner={nurse.slug}")[1])
    shown(Client(), f"{BOOK_URL}?practitioner={nurse.slug}&utm_source=mail")

    # The unrelated parameter is ignored: three requests, two pages.
    assert rendered.call_count == 2
    assert default and with_nurse


def test_the_rules_are_read_once_per_process_between_changes(settings, committed):
    settings.CACHES = {"default": {"BACKEND": SHARED}}
    settings.AVAILABILITY_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()
    BookingRules.current()
    with CaptureQueriesContext(connection) as queries:
        first = BookingRules.current()
    assert len(queries) == 0

    with committed():
        set_rules(minimum_notice_hours=first.minimum_notice_hours + 5)
    assert BookingRules.current().minimum_notice_hours == first.minimum_notice_hours + 5
    cache.clear()


def test_made_up_choices_are_rendered_without_the_cache(cached, rendered):
    from django.core.cache import cache

    stored_before = set(cache._cache)
    for n in range(5):
        for query in (
            f"type=no-such-type-{n}",
            f"practitioner=nobody-{n}",
            f"from=1999-01-0{n + 1}",
            f"day=2999-01-0{n + 1}",
        ):
            assert client_get(f"{BOOK_URL}?{query}").status_code == 200

    # Twenty pages rendered, none stored: the form ignores those values,
    # and a copy of its page under each would let anyone fill the cache.
    assert rendered.call_count == 20
    assert not [key for key in set(cache._cache) - stored_before if ":page:" in key]


def client_get(path):
    return Client().get(path)


def test_a_migration_retires_every_cached_page(cached, committed, rendered):
    from booking.apps import retire_cached_pages

    shown(Client())
    with committed():
        retire_cached_pages()  # What `migrate` runs last (post_migrate).
    shown(Client())

    assert rendered.call_count == 2


def test_a_booking_leaves_what_processes_keep_and_a_schedule_change_elsewhere_retires_it(
    settings, committed
):
    """
    Each process keeps the rules, the form's choices, everyone's hours and
    the closures between changes to the schedule: another visitor's booking
    is no such change, and a change of hours made by another process (its
    commit raises the shared number) is seen by the next call.
    """
    from django.core.cache import cache

    from booking.cache_versions import SCHEDULE
    from booking.forms.fields import booking_choices
    from booking.services.schedule import hours_and_closures

    settings.CACHES = {"default": {"BACKEND": SHARED}}
    settings.AVAILABILITY_CACHE_SECONDS = 300
    cache.clear()
    kept_hours = hours_and_closures()
    booking_choices(), BookingRules.current()

    visitor = Client()
    _, data = filled_booking_form(visitor)
    with committed():
        assert visitor.post(BOOK_URL, data).status_code == 302
    with CaptureQueriesContext(connection) as queries:
        assert hours_and_closures() is kept_hours
        booking_choices(), BookingRules.current()
    assert len(queries) == 0

    # Another process shortens a day's hours: its row, and the number its commit raised.
    window = WorkingHours.objects.order_by("pk").first()
    WorkingHours.objects.filter(pk=window.pk).update(ends_at=time(12, 0))
    SCHEDULE.bump_cached()

    seen = hours_and_closures().windows[window.practitioner_id, window.weekday]
    assert time(12, 0) in [each.ends_at for each in seen]
    cache.clear()
