"""
What a booking asks of Redis, as production runs it: the shared version
numbers once for the request, the rate limit's count, and raising the
availability version after the commit: three round trips.
"""

from unittest import mock

import pytest
import redis.connection
from django.test import Client

from tests.support.booking import BOOK_URL, filled_booking_form, offered_slots

pytestmark = pytest.mark.django_db

REDIS_ROUND_TRIPS = 3


@pytest.fixture
def round_trips():
    """What this process sent to Redis, one entry a round trip."""
    with mock.patch.object(
        redis.connection.Connection,
        "send_packed_command",
        autospec=True,
        side_effect=redis.connection.Connection.send_packed_command,
    ) as sent:
        yield sent


def test_a_booking_makes_three_round_trips_to_redis(
    settings, django_capture_on_commit_callbacks, round_trips
):
    settings.CONTENT_CACHE_SECONDS = settings.AVAILABILITY_CACHE_SECONDS = 300
    # A process that has served a booking before remembers what it keeps.
    warm_up = Client()
    document, data = filled_booking_form(warm_up, email="warm.up@example.com")
    data["slot"] = offered_slots(document)[-1]
    with django_capture_on_commit_callbacks(execute=True):
        assert warm_up.post(BOOK_URL, data).status_code == 302
    client = Client()
    _, data = filled_booking_form(client, email="bo.other@example.com")
    round_trips.reset_mock()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BOOK_URL, data)

    assert response.status_code == 302
    assert round_trips.call_count == REDIS_ROUND_TRIPS, round_trips.call_args_list
