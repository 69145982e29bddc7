"""
A booking costs the same with years of history behind it: every query it
makes on a table that grows with the clinic's history (bookings, their
history, the outbox, time off, the waitlist) reads through an index a range
that does not grow with it, checked on PostgreSQL's own plans over a history
of thousands of rows. (Writing that history, about 23,000 rows, and
analysing it is most of the test's time.)
"""

import json
from copy import copy
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import ConsultationBooking, TimeOff, WaitlistEntry
from tests.support.booking import BOOK_URL, filled_booking_form
from tests.support.waitlist import make_entry

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

GROWING_TABLES = {
    "booking_consultationbooking",
    "booking_bookingstatuschange",
    "booking_outboundemail",
    "booking_timeoff",
    "booking_waitlistentry",
}
HISTORY = 20_000
UPCOMING = 2_000
# However long the history, a booking reads at most this many rows of any
# growing table in one step of a plan: the visitor's own few, the practitioners'
# days around the time.
BOUNDED = 200


def copy_booking(seed, *, count, status, starts, email):
    """`count` copies of `seed` in one INSERT … SELECT, each at its own time and address."""
    fields = [
        field.column
        for field in ConsultationBooking._meta.concrete_fields
        if field.column not in {"id", "reference", "submission_key", "status", "email", "phone"}
        and field.column not in {"starts_at", "ends_at", "blocks_until"}
    ]
    columns = ", ".join(fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO booking_consultationbooking
                ({columns}, reference, status, email, phone, starts_at, ends_at, blocks_until)
            SELECT {columns}, %s || lpad(n::text, 10, '0'), %s,
                   format(%s, n), '+1646' || lpad(n::text, 7, '0'), {starts}, {starts} + interval '30 minutes',
                   {starts} + interval '40 minutes'
            FROM booking_consultationbooking, generate_series(1, %s) AS n
            WHERE id = %s
            """,
            [status[0].upper() + "H", status, email, count, seed.pk],
        )


@pytest.fixture
def history(client):
    """Years of bookings, requests ahead, past leave and finished waitlist entries."""
    _, data = filled_booking_form(client, email="first.visit@example.com")
    assert client.post(BOOK_URL, data).status_code == 302
    seed = ConsultationBooking.objects.get()
    # Two hours apart, back from yesterday: about four and a half years.
    copy_booking(
        seed,
        count=HISTORY,
        status="completed",
        starts="now() - interval '1 day' - n * interval '2 hours'",
        email="past.client.%s@example.com",
    )
    # Requests waiting ahead, with a practitioner of their own (the
    # no-overlap rule holds them), from other people.
    other = seed.practitioner
    other.pk, other.slug, other.name = None, "history-only", "History Only"
    other.save()
    ConsultationBooking.objects.filter(pk=seed.pk).update(practitioner=other)
    copy_booking(
        seed,
        count=UPCOMING,
        status="requested",
        starts="now() + interval '3 days' + n * interval '41 minutes'",
        email="waiting.client.%s@example.com",
    )
    ConsultationBooking.objects.filter(pk=seed.pk).delete()
    now = timezone.now()
    TimeOff.objects.bulk_create(
        TimeOff(
            practitioner=seed.consultation_type.practitioners.first() or other,
            starts_at=now - timedelta(days=3 * n + 1),
            ends_at=now - timedelta(days=3 * n),
        )
        for n in range(1, 1000)
    )
    # People who waited, and some who still wait, for other consultations.
    first = make_entry(0, status=WaitlistEntry.Status.LEFT)
    copies = []
    for n in range(1, 1000):
        first.pk, first.email = None, f"waited.{n}@example.com"
        first.status = WaitlistEntry.Status.WAITING if n % 10 == 0 else WaitlistEntry.Status.LEFT
        copies.append(copy(first))
    WaitlistEntry.objects.bulk_create(copies)
    with connection.cursor() as cursor:
        for table in GROWING_TABLES:
            cursor.execute(f"ANALYZE {table}")
    return data


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def growing_index_names():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)", [list(GROWING_TABLES)]
        )
        return {name for (name,) in cursor.fetchall()}


def rows_read(node):
    return (
        node.get("Actual Rows", 0)
        + node.get("Rows Removed by Filter", 0)
        + node.get("Rows Removed by Index Recheck", 0)
    )


def test_every_query_of_a_booking_reads_a_bounded_range_through_an_index(client, history):
    _, data = filled_booking_form(client, email="new.client@example.com")
    with CaptureQueriesContext(connection) as queries:
        assert client.post(BOOK_URL, data).status_code == 302

    indexes = growing_index_names()
    statements = [
        query["sql"]
        for query in queries
        if query["sql"].split(None, 1)[0] in {"SELECT", "UPDATE", "DELETE", "(SELECT"}
    ]
    checked = set()
    for sql in statements:
        # Run under EXPLAIN ANALYZE in a savepoint rolled back: the real
        # rows read, nothing changed.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                document = cursor.fetchone()[0]
            transaction.set_rollback(True)
        (plan,) = json.loads(document) if isinstance(document, str) else document
        for node in plan_nodes(plan["Plan"]):
            table = node.get("Relation Name")
            index = node.get("Index Name")
            if table in GROWING_TABLES or index in indexes:
                checked.add(table or index)
                assert node["Node Type"] != "Seq Scan", f"{table} read whole by:\n{sql}"
                if index:
                    assert node.get("Index Cond"), f"{index} read whole by:\n{sql}"
                assert rows_read(node) <= BOUNDED, (
                    f"{rows_read(node)} rows of {table or index}:\n{sql}"
                )
    # The per-contact limit and the busy times, at least, were among them.
    assert "booking_requested_email_idx" in checked or "booking_consultationbooking" in checked
    assert "no_overlapping_consultations" in checked, checked
