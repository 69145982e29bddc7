"""
Migration 0029 merges each practitioner's overlapping windows of a weekday
into one covering their union, then makes the database refuse overlaps.

A database is migrated to 0028, given overlapping windows (a chain of
three, one inside another, two the same, windows that only touch, and
another practitioner's same hours), migrated to 0029 with `migrate` (so
SQLite's triggers are installed as in any deployment), then back. It runs
in a separate process on a database of its own, so the test database is
left as it is.
"""

import pytest

from tests.support.migrations import run_scenario, throwaway_database

pytestmark = pytest.mark.every_database

SCENARIO = r"""
import json
from datetime import time

import django
django.setup()
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("booking", "0028_listing_permission")]
executor = MigrationExecutor(connection)
executor.migrate(BEFORE)
old = executor.loader.project_state(BEFORE).apps
Practitioner = old.get_model("booking", "Practitioner")
WorkingHours = old.get_model("booking", "WorkingHours")
maya = Practitioner.objects.get(slug="maya-chen")
daniel = Practitioner.objects.get(slug="daniel-okafor")
WorkingHours.objects.all().delete()
MONDAY, TUESDAY, WEDNESDAY = 0, 1, 2
windows = [
    (maya, MONDAY, "09:00", "12:00"),   # a chain: 9-12, 11-14, 13:30-15 become 9-15
    (maya, MONDAY, "11:00", "14:00"),
    (maya, MONDAY, "13:30", "15:00"),
    (maya, MONDAY, "16:00", "17:00"),   # touching: 16-17 and 17-18 stay apart
    (maya, MONDAY, "17:00", "18:00"),
    (maya, TUESDAY, "09:00", "17:00"),  # one inside another: 9-17
    (maya, TUESDAY, "10:00", "11:00"),
    (maya, WEDNESDAY, "09:00", "12:00"),  # the same hours twice: once
    (maya, WEDNESDAY, "09:00", "12:00"),
    (daniel, MONDAY, "10:00", "13:00"),  # another practitioner's: untouched
]
for person, weekday, start, end in windows:
    WorkingHours.objects.create(practitioner=person, weekday=weekday,
                                starts_at=time.fromisoformat(start), ends_at=time.fromisoformat(end))


def hours():
    return {
        person.slug: [[h.weekday, str(h.starts_at), str(h.ends_at)]
                      for h in WorkingHours.objects.filter(practitioner=person).order_by("weekday", "starts_at")]
        for person in (maya, daniel)
    }


def refuses_an_overlap():
    try:
        with transaction.atomic():
            WorkingHours.objects.create(practitioner=maya, weekday=MONDAY,
                                        starts_at=time(14), ends_at=time(16))
            transaction.set_rollback(True)  # Allowed: leave nothing behind.
    except IntegrityError:
        return True
    return False


before = hours()
call_command("migrate", "booking", "0029_working_hours_never_overlap", verbosity=0)
after = hours()
refused_after = refuses_an_overlap()
call_command("migrate", "booking", "0028_listing_permission", verbosity=0)
after_going_back = hours()
print(json.dumps({"before": before, "after": after, "refused_after": refused_after,
                  "after_going_back": after_going_back}))
"""


@pytest.fixture(scope="module")
def migrated():
    with throwaway_database("working_hours") as database_url:
        return run_scenario(SCENARIO, database_url)


def test_overlapping_windows_are_merged_into_their_union(migrated):
    assert len(migrated["before"]["maya-chen"]) == 9
    assert migrated["after"]["maya-chen"] == [
        [0, "09:00:00", "15:00:00"],
        [0, "16:00:00", "17:00:00"],
        [0, "17:00:00", "18:00:00"],
        [1, "09:00:00", "17:00:00"],
        [2, "09:00:00", "12:00:00"],
    ]


def test_another_practitioners_same_hours_are_left_as_they_were(migrated):
    assert migrated["after"]["daniel-okafor"] == [[0, "10:00:00", "13:00:00"]]


def test_the_database_refuses_overlapping_windows_once_migrated(migrated):
    assert migrated["refused_after"]


def test_going_back_keeps_the_merged_windows(migrated):
    assert migrated["after_going_back"] == migrated["after"]
