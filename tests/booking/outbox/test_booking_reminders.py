"""
The reminder about a day before a confirmed consultation, sent by a command
that cron runs every few minutes and that must never send one twice.
"""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from booking.models import BookingQuerySet, ConsultationBooking, OutboundEmail
from tests.support.booking import Status, clinic_clock, make_booking

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]


def send_reminders():
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def reminders(mailoutbox):
    return [message for message in mailoutbox if message.subject.startswith("Reminder:")]


def booking_starting_in(hours, status=Status.CONFIRMED):
    return make_booking(starts_at=timezone.now() + timedelta(hours=hours), status=status)


@pytest.mark.parametrize("hours", [1, 12, 23.5])
def test_confirmed_booking_within_a_day_gets_a_reminder(mailoutbox, hours):
    booking = booking_starting_in(hours)

    output = send_reminders()

    [reminder] = reminders(mailoutbox)
    booking.refresh_from_db()
    assert reminder.to == [booking.email]
    assert booking.reference in reminder.body
    assert "https://clinic.test/book/manage/" in reminder.body
    assert booking.reminder_sent_at is not None
    assert output.startswith("1 reminder(s) queued")
    assert booking.emails.get(kind=OutboundEmail.Kind.REMINDER).status == "sent"


def test_reminder_is_never_sent_twice_however_often_the_command_runs(
    mailoutbox, django_capture_on_commit_callbacks
):
    booking_starting_in(20)
    now = timezone.now()

    for minutes in range(0, 60, 5):
        with (
            clinic_clock(now + timedelta(minutes=minutes)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            send_reminders()

    assert len(reminders(mailoutbox)) == 1


@pytest.mark.parametrize(
    "status",
    [Status.REQUESTED, Status.CANCELLED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW],
)
def test_only_confirmed_bookings_get_a_reminder(mailoutbox, status):
    booking_starting_in(20, status=status)

    send_reminders()

    assert reminders(mailoutbox) == []


@pytest.mark.parametrize("hours", [25, 48, 24 * 30, -1])
def test_bookings_further_ahead_or_past_get_no_reminder_yet(mailoutbox, hours):
    booking = booking_starting_in(hours)

    send_reminders()

    booking.refresh_from_db()
    assert reminders(mailoutbox) == []
    assert booking.reminder_sent_at is None


def test_reminder_goes_out_once_the_booking_comes_within_a_day(mailoutbox):
    booking_starting_in(30)
    now = timezone.now()

    with clinic_clock(now):
        send_reminders()
    assert reminders(mailoutbox) == []

    with clinic_clock(now + timedelta(hours=7)):
        send_reminders()
    assert len(reminders(mailoutbox)) == 1


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.COMPLETED, Status.NO_SHOW])
def test_booking_that_stops_being_confirmed_while_the_command_runs_gets_no_reminder(
    mailoutbox, status
):
    booking = booking_starting_in(20)
    find_due = BookingQuerySet.due_for_reminder

    def found_then_changed(queryset, now=None):
        # The command has its list of due bookings; the client cancels one
        # (or staff record its outcome) before the command claims it.
        due = list(find_due(queryset, now))
        ConsultationBooking.objects.filter(pk=booking.pk).update(status=status)
        return due

    with mock.patch.object(BookingQuerySet, "due_for_reminder", found_then_changed):
        output = send_reminders()

    booking.refresh_from_db()
    assert output.startswith("0 reminder(s) queued")
    assert reminders(mailoutbox) == []
    assert not booking.emails.filter(kind=OutboundEmail.Kind.REMINDER).exists()
    assert booking.reminder_sent_at is None
