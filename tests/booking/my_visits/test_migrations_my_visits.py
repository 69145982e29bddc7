"""
Migration 0025 adds My visits' tables and two booking rules: the clinic's
own rules and its bookings come through whole, and the new rules take their
defaults.
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

BEFORE = [("booking", "0024_health_form_reads")]
executor = MigrationExecutor(connection)
executor.migrate(BEFORE)
apps = executor.loader.project_state(BEFORE).apps
Rules = apps.get_model("booking", "BookingRules")
Booking = apps.get_model("booking", "ConsultationBooking")
Type = apps.get_model("booking", "ConsultationType")
Practitioner = apps.get_model("booking", "Practitioner")
Rules.objects.update_or_create(pk=1, defaults={"minimum_notice_hours": 5, "horizon_days": 33})
start = datetime(2030, 3, 1, 15, 0, tzinfo=tz.utc)
kind = Type.objects.first()
Booking.objects.create(
    reference="MIGRATE1", consultation_type=kind, practitioner=Practitioner.objects.first(),
    full_name="Ada Quinterra", email="Ada.Quinterra@example.com", phone="+12125550147",
    starts_at=start, ends_at=start + timedelta(minutes=30), blocks_until=start + timedelta(minutes=40),
    consent_given_at=start, privacy_policy_version="v1", marketing_opt_in=True, status="confirmed",
)

executor.loader.build_graph()
executor = MigrationExecutor(connection)
executor.migrate(executor.loader.graph.leaf_nodes())

from booking.models import BookingRules, ConsultationBooking, ErasureRequest, SignInLink
rules = BookingRules.objects.get(pk=1)
booking = ConsultationBooking.objects.of_client("ada.quinterra@example.com").get()
print(json.dumps({
    "rules": [rules.minimum_notice_hours, rules.horizon_days, rules.erasure_days, rules.medical_record_years],
    "booking": [booking.reference, booking.email, booking.status, booking.marketing_opt_in],
    "new tables": [SignInLink.objects.count(), ErasureRequest.objects.count()],
}))
"""


def test_rules_and_bookings_come_through_migration_0025_whole():
    with throwaway_database("my_visits") as url:
        result = run_scenario(SCENARIO, url)
    assert result == {
        "rules": [5, 33, 30, 7],
        "booking": ["MIGRATE1", "Ada.Quinterra@example.com", "confirmed", True],
        "new tables": [0, 0],
    }
