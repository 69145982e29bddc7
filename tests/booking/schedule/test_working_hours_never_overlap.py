"""
The database refuses a practitioner two overlapping windows of working
hours on one weekday, whoever writes them (a shell, an import, two staff at
once): an exclusion constraint on PostgreSQL, triggers on SQLite
(booking/sqlite.py). Windows that only touch, and the same hours on
another day or of another practitioner, are allowed.
"""

from datetime import time

import pytest
from django.db import IntegrityError, transaction

from booking.models import WorkingHours
from booking.overlap import refused_as_overlapping_hours
from tests.support.booking import (
    ESTHETICIAN,
    NURSE_PRACTITIONER,
    hours_of,
    practitioner,
    set_hours,
)

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]

MONDAY, TUESDAY = 0, 1

OVERLAPPING = [
    pytest.param("08:00", "09:30", id="runs into it"),
    pytest.param("11:30", "13:00", id="starts inside it"),
    pytest.param("10:00", "11:00", id="inside it"),
    pytest.param("08:00", "13:00", id="around it"),
    pytest.param("09:00", "12:00", id="the same hours"),
]


@pytest.fixture
def maya():
    """Maya, working Monday 09:00–12:00 and 14:00–17:00."""
    maya = practitioner(ESTHETICIAN)
    set_hours({MONDAY: [("09:00", "12:00"), ("14:00", "17:00")]}, practitioners=[maya])
    return maya


def add_window(person, weekday, start, end):
    return WorkingHours.objects.create(
        practitioner=person,
        weekday=weekday,
        starts_at=time.fromisoformat(start),
        ends_at=time.fromisoformat(end),
    )


@pytest.mark.parametrize(("start", "end"), OVERLAPPING)
def test_database_refuses_a_new_window_overlapping_another_that_day(maya, start, end):
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        add_window(maya, MONDAY, start, end)

    assert refused_as_overlapping_hours(refusal.value)
    assert hours_of(maya) == [(MONDAY, time(9), time(12)), (MONDAY, time(14), time(17))]


@pytest.mark.parametrize(("start", "end"), OVERLAPPING)
def test_database_refuses_a_window_changed_to_overlap_another_that_day(maya, start, end):
    afternoon = maya.working_hours.get(starts_at=time(14))
    afternoon.starts_at, afternoon.ends_at = time.fromisoformat(start), time.fromisoformat(end)

    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        afternoon.save()

    assert refused_as_overlapping_hours(refusal.value)
    assert hours_of(maya) == [(MONDAY, time(9), time(12)), (MONDAY, time(14), time(17))]


def test_database_refuses_a_window_moved_to_overlap_another_day_by_a_bulk_update(maya):
    add_window(maya, TUESDAY, "09:00", "12:00")

    with pytest.raises(IntegrityError), transaction.atomic():
        maya.working_hours.filter(weekday=TUESDAY).update(weekday=MONDAY)

    assert maya.working_hours.filter(weekday=TUESDAY).count() == 1


def test_database_refuses_two_overlapping_windows_written_together():
    daniel = practitioner(NURSE_PRACTITIONER)
    set_hours({}, practitioners=[daniel])
    windows = [
        WorkingHours(practitioner=daniel, weekday=TUESDAY, starts_at=time(9), ends_at=time(12)),
        WorkingHours(practitioner=daniel, weekday=TUESDAY, starts_at=time(11), ends_at=time(14)),
    ]

    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingHours.objects.bulk_create(windows)

    assert hours_of(daniel) == []


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [
        pytest.param(MONDAY, "12:00", "14:00", id="between the two, touching both"),
        pytest.param(MONDAY, "08:00", "09:00", id="straight before"),
        pytest.param(MONDAY, "17:00", "19:00", id="straight after"),
        pytest.param(TUESDAY, "09:00", "12:00", id="the same hours on another day"),
    ],
)
def test_database_allows_windows_that_do_not_overlap_one_that_day(maya, weekday, start, end):
    add_window(maya, weekday, start, end)

    assert maya.working_hours.count() == 3


def test_database_allows_a_window_changed_within_its_own_hours(maya):
    maya.working_hours.filter(starts_at=time(9)).update(starts_at=time(10), ends_at=time(14))

    assert hours_of(maya) == [(MONDAY, time(10), time(14)), (MONDAY, time(14), time(17))]


def test_database_allows_another_practitioner_the_same_hours(maya):
    daniel = practitioner(NURSE_PRACTITIONER)
    set_hours({}, practitioners=[daniel])

    add_window(daniel, MONDAY, "09:00", "12:00")

    assert hours_of(daniel) == [(MONDAY, time(9), time(12))]
