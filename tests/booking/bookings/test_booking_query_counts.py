"""
What a booking costs: the public form's successful POST stays within a fixed
budget of queries, in the tests' set-up and as production runs it, and
checks its one time (one read of who is busy) without listing the day's.
"""

from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from booking.models import ConsultationBooking
from booking.services.schedule import ClinicCalendar
from clinic_site.versions import in_database
from tests.support.booking import (
    ASSESSMENT,
    BOOK_URL,
    ESTHETICIAN,
    filled_booking_form,
    offered_slots,
)
from treatments.models import SkinConcern

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]


# The booking POST: a visitor's successful request, as the form sends it.


@pytest.fixture
def locmem_cache(settings):
    """The rate limit's counters in memory: the budget counts SQL only, never Redis."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


# Reading the form's choices (consultation types with who holds them, the
# practitioners), the per-contact limit, the rules, hours, closures and
# everyone's busy times, the privacy policy's version; writing the booking
# (in a savepoint while another practitioner could still take it), its
# history and its two messages in one insert, and taking the client off the
# waitlist for that consultation (one update). The test's own transaction
# adds a savepoint and its release around the booking's (BEGIN and COMMIT
# in production). The tests' task backend runs the task after the commit.
BOOKING_QUERY_BUDGET = 16


def test_a_booking_costs_a_fixed_budget_of_queries(
    client, locmem_cache, django_assert_max_num_queries
):
    _, data = filled_booking_form(client)

    with django_assert_max_num_queries(BOOKING_QUERY_BUDGET):
        response = client.post(BOOK_URL, data)

    assert response.status_code == 302
    assert ConsultationBooking.objects.get().emails.count() == 2


def test_a_booking_with_concerns_costs_two_queries_more(
    client, locmem_cache, django_assert_max_num_queries
):
    concerns = list(SkinConcern.objects.for_guide().values_list("slug", flat=True)[:3])
    _, data = filled_booking_form(client, concerns=concerns)

    # Listing the concerns to check the answer, and adding them to the booking.
    with django_assert_max_num_queries(BOOKING_QUERY_BUDGET + 2):
        response = client.post(BOOK_URL, data)

    assert response.status_code == 302
    assert ConsultationBooking.objects.get().concerns.count() == 3


@pytest.fixture
def as_in_production(settings, django_capture_on_commit_callbacks):
    """
    The caches as production has them: the shared versions in Redis (the
    PostgreSQL pass's; a memory cache stands for it on SQLite), the booking rules and
    the privacy policy's version remembered between changes, and tasks
    written to the database for the worker.
    """
    if in_database():
        settings.CACHES = {"default": {"BACKEND": "tests.support.caches.SharedMemoryCache"}}
    settings.CONTENT_CACHE_SECONDS = settings.AVAILABILITY_CACHE_SECONDS = 300
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django.core.cache import cache

    cache.clear()
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    cache.clear()


# In production (PostgreSQL and Redis): the per-contact limit and everyone's
# busy times; the booking, its history, its two messages in one insert,
# taking its client off the waitlist and one task row for both messages,
# all in the booking's transaction: 7. When two practitioners could take the time ("any
# practitioner"), the booking is tried in a savepoint, and its release: 9.
# The form's choices, the booking rules, everyone's hours and the closures
# are kept by the process between changes to the schedule, and another
# visitor's booking is no such change. The test's own transaction adds a
# savepoint and its release.
NAMED_PRACTITIONER_QUERIES = 8
ANY_PRACTITIONER_QUERIES = 10
TEST_TRANSACTION = 2


@pytest.mark.parametrize(
    "practitioner, savepoints, budget",
    [(ESTHETICIAN, 1, NAMED_PRACTITIONER_QUERIES), ("", 2, ANY_PRACTITIONER_QUERIES)],
    ids=["named", "any-of-two"],
)
def test_a_booking_costs_at_most_eight_queries_in_production_ten_for_any(
    as_in_production, practitioner, savepoints, budget
):
    # A process that has served a booking before remembers what it keeps.
    warm_up = Client()
    document, data = filled_booking_form(warm_up, email="warm.up@example.com")
    data["slot"] = offered_slots(document)[-1]  # Leaving the first times free for the test.
    with as_in_production():
        assert warm_up.post(BOOK_URL, data).status_code == 302

    client = Client()
    # The skin assessment: both seeded practitioners hold it, at the same hours.
    _, data = filled_booking_form(
        client,
        f"{BOOK_URL}?type={ASSESSMENT}&practitioner={practitioner}",
        email="bo.other@example.com",
    )
    # As on a busy day: someone else books between this visitor's page and their POST.
    other = Client()
    document, other_data = filled_booking_form(
        other, email="someone.else@example.com", phone="+12125550199"
    )
    other_data["slot"] = offered_slots(document)[-2]
    with as_in_production():
        assert other.post(BOOK_URL, other_data).status_code == 302

    with CaptureQueriesContext(connection) as queries, as_in_production():
        response = client.post(BOOK_URL, data)

    assert response.status_code == 302
    statements = [query["sql"] for query in queries]
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == savepoints
    assert len(statements) <= budget + TEST_TRANSACTION, "\n".join(sql[:100] for sql in statements)
    booking = ConsultationBooking.objects.get(email="bo.other@example.com")
    assert booking.emails.count() == 2
    assert DBTaskResult.objects.count() == 3  # One task row a booking.


def test_a_booking_checks_its_one_time_without_listing_the_days_times(client):
    _, data = filled_booking_form(client)

    with (
        mock.patch.object(
            ClinicCalendar, "slots", autospec=True, side_effect=ClinicCalendar.slots
        ) as slots,
        mock.patch.object(
            ClinicCalendar, "_busy_times", autospec=True, side_effect=ClinicCalendar._busy_times
        ) as busy_times,
    ):
        response = client.post(BOOK_URL, data)

    assert response.status_code == 302
    assert slots.call_count == 0
    assert busy_times.call_count == 1
