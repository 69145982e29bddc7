"""
A practitioner's working hours on their admin page: the windows of a day
never overlap, whether a window overlaps one saved before or one submitted
on the same page; windows moved at once save when the hours they end with
do not overlap; and the database's own refusal (booking/sqlite.py, the
exclusion constraint) is shown as a message, never a server error.
"""

from datetime import time
from unittest import mock

import pytest
from django.db import DatabaseError
from django.db.models.signals import pre_save
from django.forms import inlineformset_factory

from booking.forms.schedule import WorkingHoursFormSet
from booking.models import Practitioner, WorkingHours
from tests.support.booking import (
    ESTHETICIAN,
    NURSE_PRACTITIONER,
    hours_of,
    page,
    practitioner,
    practitioner_form,
    practitioner_url,
    set_hours,
    with_new_window,
)

pytestmark = pytest.mark.django_db

WORKING_HOURS_FIELDS = ["weekday", "starts_at", "ends_at"]


def form_errors_shown(response):
    """The errors shown on one row of hours (a window's own, as WorkingHours.clean() gives them)."""
    return [item.text for item in page(response).find_all("ul", class_="nonfield")]


def hours_errors_shown(response):
    """The errors shown above the working hours' rows (the whole set's, not one row's)."""
    return [item.text for item in page(response).find_all("ul", class_="nonform")]


def with_windows(data, *windows):
    """The practitioner's form with its rows of hours changed: {row: (weekday, start, end)}."""
    for row, (weekday, start, end) in windows:
        data = data | {
            f"working_hours-{row}-weekday": str(weekday),
            f"working_hours-{row}-starts_at": start,
            f"working_hours-{row}-ends_at": end,
        }
    return data


def removing(data, row):
    return data | {f"working_hours-{row}-DELETE": "on"}


# Against the windows saved before.


def test_hours_overlapping_another_window_that_day_are_refused_in_the_admin(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])

    response = admin_client.post(
        practitioner_url(maya),
        with_new_window(practitioner_form(admin_client, maya), 0, "11:30", "13:00"),
    )

    # The saved window is on the page too: the two are compared as submitted.
    assert response.status_code == 200
    assert hours_errors_shown(response) == [
        "The hours Monday 11:30–13:00 overlap Monday 09:00–12:00. "
        "Change or remove one of those windows."
    ]
    assert hours_of(maya) == [(0, time(9), time(12))]


@pytest.mark.parametrize(
    "window",
    [
        pytest.param((0, "12:00", "13:00"), id="adjacent"),
        pytest.param((1, "09:00", "12:00"), id="other day"),
    ],
)
def test_hours_next_to_a_window_or_on_another_day_are_accepted_in_the_admin(admin_client, window):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])

    response = admin_client.post(
        practitioner_url(maya), with_new_window(practitioner_form(admin_client, maya), *window)
    )

    assert response.status_code == 302
    assert len(hours_of(maya)) == 2


def test_another_practitioners_hours_do_not_count_as_overlapping_in_the_admin(admin_client):
    maya, daniel = practitioner(ESTHETICIAN), practitioner(NURSE_PRACTITIONER)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    set_hours({}, practitioners=[daniel])

    response = admin_client.post(
        practitioner_url(daniel),
        with_new_window(practitioner_form(admin_client, daniel), 0, "09:00", "12:00"),
    )

    assert response.status_code == 302
    assert hours_of(daniel) == [(0, time(9), time(12))]


def test_changing_a_window_does_not_count_as_overlapping_itself(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    data = practitioner_form(admin_client, maya)

    response = admin_client.post(
        practitioner_url(maya),
        data | {"working_hours-0-starts_at": "08:00", "working_hours-0-ends_at": "12:30"},
    )

    assert response.status_code == 302
    assert hours_of(maya) == [(0, time(8), time(12, 30))]


def test_a_window_saved_by_someone_else_since_the_page_opened_still_counts(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    data = with_new_window(practitioner_form(admin_client, maya), 1, "09:00", "12:00")
    WorkingHours.objects.create(
        practitioner=maya, weekday=1, starts_at=time(11), ends_at=time(13)
    )  # Not on the page: its saved hours are what the new window is checked against.

    response = admin_client.post(practitioner_url(maya), data)

    assert response.status_code == 200
    assert form_errors_shown(response) == [
        "These hours overlap Tuesday 11:00–13:00. Change or remove that window first."
    ]
    assert hours_of(maya) == [(0, time(9), time(12)), (1, time(11), time(13))]


# Against the other windows on the page.


def test_two_new_windows_overlapping_each_other_are_refused_in_the_admin(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    data = practitioner_form(admin_client, maya)
    data = with_new_window(with_new_window(data, 1, "09:00", "12:00"), 1, "11:00", "14:00")

    response = admin_client.post(practitioner_url(maya), data)

    assert response.status_code == 200
    assert hours_errors_shown(response) == [
        "The hours Tuesday 11:00–14:00 overlap Tuesday 09:00–12:00. "
        "Change or remove one of those windows."
    ]
    assert hours_of(maya) == [(0, time(9), time(12))]


def test_two_saved_windows_changed_to_overlap_each_other_are_refused_in_the_admin(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00"), ("13:00", "17:00")]}, practitioners=[maya])
    data = with_windows(
        practitioner_form(admin_client, maya),
        (0, (0, "10:00", "14:00")),
        (1, (0, "12:00", "17:00")),
    )

    response = admin_client.post(practitioner_url(maya), data)

    assert response.status_code == 200
    assert hours_errors_shown(response) == [
        "The hours Monday 12:00–17:00 overlap Monday 10:00–14:00. "
        "Change or remove one of those windows."
    ]
    assert hours_of(maya) == [(0, time(9), time(12)), (0, time(13), time(17))]


def test_a_window_marked_for_removal_does_not_count_as_overlapping(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    data = with_new_window(removing(practitioner_form(admin_client, maya), 0), 0, "10:00", "13:00")

    response = admin_client.post(practitioner_url(maya), data)

    assert response.status_code == 302
    assert hours_of(maya) == [(0, time(10), time(13))]


@pytest.mark.parametrize(
    ("changes", "ends_with"),
    [
        pytest.param(
            {0: (0, "09:00", "13:00"), 1: (0, "13:00", "15:00")},
            [(0, time(9), time(13)), (0, time(13), time(15))],
            id="the boundary moved later",
        ),
        pytest.param(
            {0: (0, "09:00", "11:00"), 1: (0, "11:00", "15:00")},
            [(0, time(9), time(11)), (0, time(11), time(15))],
            id="the boundary moved earlier",
        ),
        pytest.param(
            {0: (0, "11:00", "15:00"), 1: (0, "09:00", "11:00")},
            [(0, time(9), time(11)), (0, time(11), time(15))],
            id="each into the other's hours",
        ),
    ],
)
# Each database checks every row as it is written (triggers on SQLite, the
# exclusion constraint on PostgreSQL): the save must order its writes for both.
@pytest.mark.every_database
def test_windows_moved_at_once_save_when_their_new_hours_do_not_overlap(
    admin_client, changes, ends_with
):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00"), ("12:00", "15:00")]}, practitioners=[maya])
    ids = sorted(maya.working_hours.values_list("pk", flat=True))
    data = with_windows(practitioner_form(admin_client, maya), *changes.items())

    response = admin_client.post(practitioner_url(maya), data)

    assert response.status_code == 302
    assert hours_of(maya) == ends_with
    # Each window keeps its id: it was changed, not replaced.
    assert sorted(maya.working_hours.values_list("pk", flat=True)) == ids


@pytest.mark.every_database
def test_a_window_grown_over_one_removed_further_down_the_page_saves(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00"), ("12:00", "15:00")]}, practitioners=[maya])
    data = removing(practitioner_form(admin_client, maya), 1)

    response = admin_client.post(
        practitioner_url(maya), with_windows(data, (0, (0, "09:00", "15:00")))
    )

    assert response.status_code == 302
    assert hours_of(maya) == [(0, time(9), time(15))]


# The database's own refusal, after the page's checks passed.


@pytest.fixture
def someone_else_saves_first():
    """
    Someone else's window, Tuesday 10:00–11:00, saved just before this page's
    first window is written: after the page's checks, which never saw it.
    """

    def save_theirs(sender, instance, **kwargs):
        pre_save.disconnect(save_theirs, sender=WorkingHours)
        WorkingHours.objects.create(
            practitioner=instance.practitioner, weekday=1, starts_at=time(10), ends_at=time(11)
        )

    pre_save.connect(save_theirs, sender=WorkingHours)
    yield
    pre_save.disconnect(save_theirs, sender=WorkingHours)


# Each database refuses in its own words: booking/overlap.py reads both.
@pytest.mark.every_database
def test_hours_the_database_refuses_after_the_checks_are_reported_not_a_server_error(
    admin_client, someone_else_saves_first
):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    data = with_new_window(practitioner_form(admin_client, maya), 1, "09:00", "12:00")

    response = admin_client.post(practitioner_url(maya), data, follow=True)

    assert response.redirect_chain == [(practitioner_url(maya), 302)]
    assert response.status_code == 200
    assert [message.message for message in response.context["messages"]] == [
        "Nothing was saved: someone else has just saved working hours that overlap these. "
        "Check the hours below and save again."
    ]
    assert hours_of(maya) == [(0, time(9), time(12))]


# The formset on its own, outside the admin's transaction.


def test_a_save_that_fails_after_moving_windows_leaves_every_window_as_it_was(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00"), ("12:00", "15:00")]}, practitioners=[maya])
    before = hours_of(maya)
    data = with_windows(
        practitioner_form(admin_client, maya),
        (0, (0, "09:00", "13:00")),
        (1, (0, "13:00", "15:00")),
    )
    hours_form = inlineformset_factory(
        Practitioner, WorkingHours, formset=WorkingHoursFormSet, fields=WORKING_HOURS_FIELDS
    )(data, instance=maya, prefix="working_hours")
    assert hours_form.is_valid(), hours_form.errors

    # The moved windows are deleted first; the second to be written back fails.
    writes = []
    real_save = WorkingHours.save

    def failing_save(window, *args, **kwargs):
        writes.append(window.pk)
        if len(writes) == 2:
            raise DatabaseError("the connection dropped")
        return real_save(window, *args, **kwargs)

    with mock.patch.object(WorkingHours, "save", failing_save), pytest.raises(DatabaseError):
        hours_form.save()

    assert hours_of(maya) == before
