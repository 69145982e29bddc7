"""
The move to practitioners and consultation types keeps every booking.

A database is migrated to the schema before practitioners existed, filled
with bookings of every status (with their history, emails and concerns,
two seats per slot, and an overlap only an old change of slot length could
make), then migrated forward; every row is checked. It runs in a separate
process on a database of its own (a SQLite file, or a throwaway PostgreSQL
database in the PostgreSQL pass), so the test database is left as it is.
"""

import pytest

from tests.support.migrations import run_scenario, throwaway_database

pytestmark = pytest.mark.every_database

SCENARIO = r"""
import json
from datetime import datetime, timedelta, timezone as tz

import django
django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("booking", "0004_outbox_superseded"), ("treatments", "0002_seed_article")]
executor = MigrationExecutor(connection)
executor.migrate(BEFORE)
old = executor.loader.project_state(BEFORE).apps
Rules = old.get_model("booking", "BookingRules")
Booking = old.get_model("booking", "ConsultationBooking")
Change = old.get_model("booking", "BookingStatusChange")
Email = old.get_model("booking", "OutboundEmail")
Treatment = old.get_model("treatments", "Treatment")
Concern = old.get_model("treatments", "SkinConcern")
Rules.objects.update_or_create(pk=1, defaults={"capacity": 2, "slot_minutes": 30})
treatments = [None, *Treatment.objects.order_by("slug")]  # medical-grade, professional
concern = Concern.objects.first()

day = datetime(2027, 3, 1, 15, 0, tzinfo=tz.utc)
rows = []
statuses = ["requested", "confirmed", "completed", "no_show", "cancelled", "declined"]
for n, status in enumerate(statuses):
    for seat in (1, 2):
        starts_at = day + timedelta(hours=n)
        rows.append(dict(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30),
                         seat=seat, status=status, treatment=treatments[(n + seat) % 3]))
# After a change of slot length: a third active booking overlapping both seats.
rows.append(dict(starts_at=day + timedelta(minutes=15), ends_at=day + timedelta(minutes=45),
                 seat=1, status="confirmed", treatment=None))
for n, row in enumerate(rows):
    booking = Booking.objects.create(
        reference=f"MIGR{n:04d}", full_name=f"Client {n}", email=f"c{n}@example.com",
        phone="+12125550147", consent_given_at=day - timedelta(days=3),
        privacy_policy_version="2026-11-01", submission_key=f"key-{n}", **row)
    booking.concerns.add(concern)
    Change.objects.create(booking=booking, from_status="", to_status="requested", note="Booked online")
    if row["status"] != "requested":
        Change.objects.create(booking=booking, from_status="requested", to_status=row["status"])
    Email.objects.create(booking=booking, kind="receipt", to=f"c{n}@example.com",
                         subject="Receipt", body="Body", status="sent")

before = {
    b.reference: dict(starts_at=b.starts_at.isoformat(), ends_at=b.ends_at.isoformat(),
                      status=b.status, seat=b.seat,
                      treatment=b.treatment.slug if b.treatment else None,
                      changes=b.status_changes.count(), emails=b.emails.count(),
                      email_states=sorted(b.emails.values_list("kind", "status")),
                      concerns=b.concerns.count(), name=b.full_name)
    for b in Booking.objects.all()
}

executor.loader.build_graph()
executor = MigrationExecutor(connection)
executor.migrate(executor.loader.graph.leaf_nodes())

from booking.models import ConsultationBooking, Practitioner, ScreeningAnswers, WaitlistEntry
after = {
    b.reference: dict(starts_at=b.starts_at.isoformat(), ends_at=b.ends_at.isoformat(),
                      blocks_until=b.blocks_until.isoformat(), status=b.status,
                      treatment=b.treatment.slug if b.treatment else None,
                      type=b.consultation_type.slug, practitioner=b.practitioner.name,
                      changes=b.status_changes.count(), emails=b.emails.count(),
                      email_states=[list(state) for state in sorted(b.emails.values_list("kind", "status"))],
                      concerns=b.concerns.count(), name=b.full_name,
                      health_answers=ScreeningAnswers.objects.filter(booking=b).count(),
                      waiting_entries=WaitlistEntry.objects.filter(email__iexact=b.email).count())
    for b in ConsultationBooking.objects.select_related("consultation_type", "practitioner", "treatment")
}
team = [
    dict(name=p.name, published=p.is_published, medical=p.is_medical_provider,
         hours=sorted((h.weekday, str(h.starts_at), str(h.ends_at)) for h in p.working_hours.all()))
    for p in Practitioner.objects.order_by("display_order")
]
print(json.dumps({"before": before, "after": after, "team": team}))
"""


@pytest.fixture(scope="module")
def migrated():
    with throwaway_database("migration") as database_url:
        return run_scenario(SCENARIO, database_url)


def test_every_booking_keeps_its_time_status_history_emails_and_details(migrated):
    before, after = migrated["before"], migrated["after"]
    assert set(after) == set(before)
    assert len(after) == 13
    for reference, old in before.items():
        new = after[reference]
        for key in ("starts_at", "ends_at", "status", "treatment", "changes", "emails"):
            assert new[key] == old[key], (reference, key)
        # Every email keeps its kind and delivery status through the outbox's
        # later migrations (care messages, waitlist kinds).
        assert new["email_states"] == [list(state) for state in old["email_states"]]
        # Screening and the waitlist start empty: nothing is made up for old bookings.
        assert new["health_answers"] == new["waiting_entries"] == 0
        assert new["concerns"] == old["concerns"] == 1
        assert new["name"] == old["name"]
        # Booked without turnover, they keep none.
        assert new["blocks_until"] == new["ends_at"]


def test_each_booking_gets_the_type_about_its_treatment(migrated):
    expected = {
        None: "skin-assessment",
        "professional-facial": "professional-facial-consultation",
        "medical-grade-facial": "medical-grade-facial-consultation",
    }
    for reference, booking in migrated["after"].items():
        assert booking["type"] == expected[booking["treatment"]], reference


def test_capacity_two_becomes_numbered_practitioners_on_the_old_hours(migrated):
    team = migrated["team"]
    # Two seats, plus one for the overlap two seats never allowed.
    assert [person["name"] for person in team] == [
        "Practitioner 1",
        "Practitioner 2",
        "Practitioner 3",
    ]
    weekdays_9_to_5 = [[weekday, "09:00:00", "17:00:00"] for weekday in range(5)]
    assert all(person["hours"] == weekdays_9_to_5 for person in team)
    # Placeholders stay off the team page until the clinic names them.
    assert not any(person["published"] for person in team)


def test_seats_become_practitioners_and_no_active_bookings_overlap(migrated):
    before, after = migrated["before"], migrated["after"]
    for reference, old in before.items():
        if old["status"] not in ("requested", "confirmed") and old["seat"] == 2:
            assert after[reference]["practitioner"] == "Practitioner 2"
    active = sorted(
        (booking["practitioner"], booking["starts_at"], booking["blocks_until"])
        for booking in after.values()
        if booking["status"] in ("requested", "confirmed")
    )
    for (person, _, end), (next_person, next_start, _) in zip(active, active[1:], strict=False):
        assert person != next_person or end <= next_start
