"""
The per-address limit on booking submissions, counted in Django's cache.
"""

import logging
from unittest import mock

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import override_settings

from booking.models import ConsultationBooking
from tests.booking_helpers import BOOK_URL, filled_booking_form, main_text, page

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.BOOKING_RATE_LIMIT = LIMIT


def post_from(client, address, data=None, **headers):
    return client.post(BOOK_URL, data or {}, REMOTE_ADDR=address, **headers)


def test_posts_beyond_the_limit_get_the_sites_429_page(client):
    for _ in range(LIMIT):
        assert post_from(client, "203.0.113.7").status_code == 200

    _, data = filled_booking_form(client)
    response = post_from(client, "203.0.113.7", data)

    assert response.status_code == 429
    assert "Please wait a few minutes" in main_text(page(response))
    assert not ConsultationBooking.objects.exists()


def test_default_limit_is_five_submissions(client, settings):
    settings.BOOKING_RATE_LIMIT = 5

    statuses = [post_from(client, "203.0.113.7").status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]


def test_another_address_is_not_limited(client):
    for _ in range(LIMIT + 1):
        post_from(client, "203.0.113.7")

    _, data = filled_booking_form(client)
    response = post_from(client, "198.51.100.20", data)

    assert response.status_code == 302
    assert ConsultationBooking.objects.count() == 1


def test_showing_the_form_is_not_limited(client):
    for _ in range(LIMIT + 1):
        post_from(client, "203.0.113.7")

    assert client.get(BOOK_URL, REMOTE_ADDR="203.0.113.7").status_code == 200


def test_a_forwarded_for_header_does_not_escape_the_limit_without_a_trusted_proxy(client):
    statuses = [
        post_from(client, "203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(LIMIT + 1)
    ]

    assert statuses[-1] == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_each_visitor_is_counted_apart(client):
    proxy = "10.0.0.1"
    for _ in range(LIMIT + 1):
        post_from(client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")

    limited = post_from(client, proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    # Whatever a client puts to the left, the proxy's own entry is the one counted.
    spoofed = post_from(client, proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    other = post_from(client, proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert (limited.status_code, spoofed.status_code, other.status_code) == (429, 429, 200)


def test_cache_failure_lets_the_booking_through_and_is_logged(client, caplog):
    _, data = filled_booking_form(client)

    with mock.patch.object(LocMemCache, "add", side_effect=ConnectionError("cache down")):
        response = post_from(client, "203.0.113.7", data)

    assert response.status_code == 302
    assert ConsultationBooking.objects.count() == 1
    assert any(
        record.levelno == logging.WARNING and "Rate limit not checked" in record.getMessage()
        for record in caplog.records
    )


def test_cache_failure_on_counting_lets_the_request_through(client):
    post_from(client, "203.0.113.7")  # The address now has a counter.
    _, data = filled_booking_form(client)

    with mock.patch.object(LocMemCache, "incr", side_effect=ConnectionError("cache down")):
        response = post_from(client, "203.0.113.7", data)

    assert response.status_code == 302
