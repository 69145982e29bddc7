"""
The per-address limit on booking submissions, counted in Django's cache.
Only complete submissions count: a visitor correcting mistakes is never
locked out, and staff booking for callers are exempt.
"""

import logging
import os
import runpy
from itertools import count
from pathlib import Path
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import override_settings

from booking.models import ConsultationBooking
from clinic_site.cache import incr_or_add
from tests.support.booking import (
    BOOK_URL,
    VISITOR,
    Status,
    clinic_time,
    filled_booking_form,
    main_text,
    make_booking,
    move_into_the_past,
    page,
    received_booking,
)

pytestmark = pytest.mark.django_db

LIMIT = 3
BASE_SETTINGS = Path(__file__).resolve().parents[3] / "clinic_site" / "settings" / "base.py"


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.BOOKING_RATE_LIMIT = LIMIT


_visitors = count(1)


def submit_from(client, address, **headers):
    """
    Fill in the form afresh (a new time each go) and send it from `address`,
    each time as another person: one person's requests have their own limit.
    """
    n = next(_visitors)
    _, data = filled_booking_form(
        client, email=f"visitor{n}@example.com", phone=f"+1 212 555 01{n % 100:02d}"
    )
    return client.post(BOOK_URL, data, REMOTE_ADDR=address, **headers)


def test_submissions_beyond_the_limit_get_the_sites_429_page_and_book_nothing(client):
    for _ in range(LIMIT):
        assert submit_from(client, "203.0.113.7").status_code == 302

    response = submit_from(client, "203.0.113.7")

    assert response.status_code == 429
    assert "Please wait a few minutes" in main_text(page(response))
    assert "Nothing from this last request was saved" in main_text(page(response))
    assert ConsultationBooking.objects.count() == LIMIT


def test_the_429_page_says_when_to_try_again(client, settings):
    for _ in range(LIMIT):
        submit_from(client, "203.0.113.7")

    response = submit_from(client, "203.0.113.7")

    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.BOOKING_RATE_WINDOW_SECONDS)


def shipped_settings():
    """The base settings as a fresh clone runs them: none of the rate limit's variables set."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"BOOKING_RATE_LIMIT", "BOOKING_RATE_WINDOW_SECONDS"}
    }
    with mock.patch.dict(os.environ, environment, clear=True):
        return runpy.run_path(str(BASE_SETTINGS))


def test_default_limit_is_five_submissions(client, settings):
    shipped = shipped_settings()["BOOKING_RATE_LIMIT"]
    assert shipped == 5
    # The suite runs with a smaller limit (small_limit); this test, with the shipped one.
    settings.BOOKING_RATE_LIMIT = shipped

    responses = [submit_from(client, "203.0.113.7") for _ in range(shipped + 1)]

    assert all(received_booking(response) for response in responses[:shipped])
    assert responses[shipped].status_code == 429
    assert ConsultationBooking.objects.count() == shipped


def test_forms_sent_back_with_mistakes_do_not_count(client):
    for _ in range(LIMIT + 2):
        assert client.post(BOOK_URL, {}, REMOTE_ADDR="203.0.113.7").status_code == 200

    assert received_booking(submit_from(client, "203.0.113.7"))


def test_staff_booking_for_callers_are_not_limited(client, django_user_model):
    staff = django_user_model.objects.create_user("desk", password="pw", is_staff=True)
    client.force_login(staff)

    statuses = [submit_from(client, "203.0.113.7").status_code for _ in range(LIMIT + 2)]

    assert statuses == [302] * (LIMIT + 2)


def test_another_address_is_not_limited(client):
    for _ in range(LIMIT + 1):
        submit_from(client, "203.0.113.7")

    assert submit_from(client, "198.51.100.20").status_code == 302
    assert ConsultationBooking.objects.count() == LIMIT + 1


def test_showing_the_form_is_not_limited(client):
    for _ in range(LIMIT + 1):
        submit_from(client, "203.0.113.7")

    assert client.get(BOOK_URL, REMOTE_ADDR="203.0.113.7").status_code == 200


def test_a_forwarded_for_header_does_not_escape_the_limit_without_a_trusted_proxy(client):
    statuses = [
        submit_from(client, "203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(LIMIT + 1)
    ]

    assert statuses[-1] == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_each_visitor_is_counted_apart(client):
    proxy = "10.0.0.1"
    for _ in range(LIMIT):
        submit_from(client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")

    limited = submit_from(client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    # Whatever a client puts to the left, the proxy's own entry is the one counted.
    spoofed = submit_from(client, proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    other = submit_from(client, proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert (limited.status_code, spoofed.status_code, other.status_code) == (429, 429, 302)


@pytest.fixture
def cache_goes_down(settings):
    """Call to lose the cache: Redis at an address where nothing answers (a real outage)."""

    def go_down():
        settings.CACHES = {
            "default": {
                "BACKEND": "clinic_site.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:9/0",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }

    return go_down


def rate_limit_warnings(caplog):
    return [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and "Rate limit not checked" in record.getMessage()
    ]


def test_cache_failure_lets_the_booking_through_and_is_logged(client, caplog, cache_goes_down):
    _, data = filled_booking_form(client)
    cache_goes_down()

    response = client.post(BOOK_URL, data, REMOTE_ADDR="203.0.113.7")

    assert list(ConsultationBooking.objects.all()) == [received_booking(response)]
    assert len(rate_limit_warnings(caplog)) == 1


def test_cache_failure_on_counting_lets_the_request_through(client, caplog, cache_goes_down):
    first = received_booking(submit_from(client, "203.0.113.7"))  # The address now has a counter.
    _, data = filled_booking_form(client, email="another@example.com", phone="+1 212 555 0166")
    cache_goes_down()

    with mock.patch(
        "booking.ratelimit.incr_or_add", side_effect=incr_or_add, autospec=True
    ) as counting:
        response = client.post(BOOK_URL, data, REMOTE_ADDR="203.0.113.7")

    # The count was tried, failed, and the request went through to its booking.
    counting.assert_called_once()
    booking = received_booking(response)
    assert booking != first
    assert set(ConsultationBooking.objects.all()) == {first, booking}
    assert len(rate_limit_warnings(caplog)) == 1


def test_the_count_is_kept_for_the_period_and_starts_again_after_it(client, settings):
    settings.BOOKING_RATE_WINDOW_SECONDS = 60
    for _ in range(LIMIT):
        submit_from(client, "203.0.113.7")
    key = "ratelimit:booking:203.0.113.7"
    assert cache.get(key) == LIMIT

    # The period ends: the counter is gone, and the next request starts it again.
    cache.delete(key)

    assert submit_from(client, "203.0.113.7").status_code == 302
    assert cache.get(key) == 1


# One person's requests waiting for confirmation: an address or a phone number
# could otherwise hold dozens of slots an hour, from any number of addresses.

WAITING = "consultation requests waiting for us to confirm"


def book_as(client, **details):
    """The visitor's form, with these details, from an address of its own each time."""
    _, data = filled_booking_form(client, **details)
    return client.post(BOOK_URL, data, REMOTE_ADDR=f"198.51.100.{next(_visitors) % 250}")


def refusal(response, field):
    """The summary's messages about requests waiting that point at `field`."""
    assert response.status_code == 200, response.status_code
    summary = page(response).find(class_="error-summary")
    return [
        link.text
        for link in summary.find_all("a")
        if WAITING in link.text and link.attrs["href"] == f"#id_{field}"
    ]


def test_an_email_address_holds_two_requests_waiting_by_default(client, settings):
    assert settings.BOOKING_REQUESTS_PER_CONTACT == 2
    for n in range(2):
        assert book_as(client, phone=f"+1 212 555 014{n}").status_code == 302

    response = book_as(client, phone="+1 212 555 0149")

    assert refusal(response, "email")
    assert ConsultationBooking.objects.count() == 2


def test_a_phone_number_holds_two_requests_waiting_by_default(client):
    for n in range(2):
        assert book_as(client, email=f"someone{n}@example.com").status_code == 302

    response = book_as(client, email="someone.else@example.com")

    assert refusal(response, "phone")
    assert ConsultationBooking.objects.count() == 2


def test_the_email_address_is_matched_whatever_its_case(client):
    for n in range(2):
        assert book_as(client, phone=f"+1 212 555 014{n}").status_code == 302

    response = book_as(client, email=VISITOR["email"].upper(), phone="+1 212 555 0149")

    assert refusal(response, "email")


def test_confirmed_past_and_ended_requests_do_not_count(client):
    contact = {"email": VISITOR["email"], "phone": "+12125550147"}
    make_booking(starts_at=clinic_time(2031, 1, 6, 9), status=Status.CONFIRMED, **contact)
    make_booking(starts_at=clinic_time(2031, 1, 6, 10), status=Status.CANCELLED, **contact)
    make_booking(starts_at=clinic_time(2031, 1, 6, 11), status=Status.DECLINED, **contact)
    move_into_the_past(make_booking(starts_at=clinic_time(2031, 1, 6, 12), **contact), days=4000)
    assert book_as(client).status_code == 302

    assert book_as(client).status_code == 302
    assert refusal(book_as(client), "email")


def test_the_limit_is_a_setting(client, settings):
    settings.BOOKING_REQUESTS_PER_CONTACT = 3

    statuses = [book_as(client).status_code for _ in range(4)]

    assert statuses == [302, 302, 302, 200]


def test_staff_booking_for_a_caller_are_not_limited_per_contact(client, django_user_model):
    staff = django_user_model.objects.create_user("desk", password="pw", is_staff=True)
    client.force_login(staff)

    assert [book_as(client).status_code for _ in range(4)] == [302] * 4
