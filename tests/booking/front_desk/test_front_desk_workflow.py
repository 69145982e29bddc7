"""
The client's side of the front desk's day: the online cut-off, confirming
attendance, staff hearing about every client change, and re-confirmation
after a client's move.
"""

from datetime import timedelta

import pytest

from booking import services
from booking.models import BookingRules, ConsultationBooking, OutboundEmail
from tests.support.booking import (
    clinic_clock,
    clinic_time,
    make_booking,
    page,
    set_rules,
)
from tests.support.mailbox import written

pytestmark = pytest.mark.django_db
Status = ConsultationBooking.Status
Kind = OutboundEmail.Kind


def manage(client, booking, action=None, **data):
    url = booking.get_manage_url()
    if action is None:
        return page(client.get(url))
    return page(client.post(url, {"action": action, **data}, follow=True))


def main_text(document):
    return document.find("main").text


# The clocks go back at 2:00 on Sunday 7 November 2027 in New York: the
# Saturday before has 25 hours. A consultation at 10:00 EST on the Sunday is
# 15:00 UTC; 24 hours before it is 15:00 UTC on Saturday, 11:00 EDT.
SUNDAY_CONSULTATION = clinic_time(2027, 11, 7, 10)


@pytest.mark.parametrize(
    ("now", "may_change"),
    [
        (clinic_time(2027, 11, 6, 10, 59), True),
        (clinic_time(2027, 11, 6, 11, 1), False),
    ],
    ids=["a minute before the cut-off", "a minute after"],
)
def test_the_cut_off_counts_real_hours_across_the_clock_change(client, now, may_change):
    with clinic_clock(now):
        booking = make_booking(starts_at=SUNDAY_CONSULTATION, status=Status.CONFIRMED)
        document = manage(client, booking)
        assert (document.find("input", value="cancel") is not None) == may_change
        after = manage(client, booking, "cancel")
    booking.refresh_from_db()
    if may_change:
        assert booking.status == Status.CANCELLED
    else:
        assert booking.status == Status.CONFIRMED
        assert "no longer be changed online" in main_text(after)
        assert "+1 212 555 0147" in main_text(after)


def test_after_the_cut_off_the_page_says_why_and_gives_the_phone_number(client):
    with clinic_clock(clinic_time(2027, 2, 1, 8)):
        booking = make_booking(starts_at=clinic_time(2027, 2, 1, 15), status=Status.CONFIRMED)
        document = manage(client, booking)
        moved = manage(client, booking, "move", slot="2027-02-03T15:00Z")
    text = main_text(document)
    assert "Online changes closed Sunday 31 January, 3:00 PM EST" in text
    assert "please call us" in text
    assert document.find("input", value="move") is None
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 2, 1, 15)
    assert "no longer be changed online" in main_text(moved)


def test_clients_never_change_a_booking_after_its_start_even_with_no_cut_off(client):
    set_rules(client_change_cutoff_hours=0)
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9), status=Status.CONFIRMED)
    with clinic_clock(clinic_time(2027, 2, 1, 9, 5)):
        manage(client, booking, "cancel")
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED


def test_staff_are_not_bound_by_the_cut_off(admin_user):
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9), status=Status.CONFIRMED)
    with clinic_clock(clinic_time(2027, 2, 1, 8)):
        services.change_status(
            booking, Status.CANCELLED, seen_status=Status.CONFIRMED, by=admin_user
        )
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED


def test_the_reminder_asks_the_client_to_confirm_on_their_page(mailoutbox):
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 15), status=Status.CONFIRMED)
    with clinic_clock(clinic_time(2027, 1, 31, 16)):
        assert services.send_due_reminders() == 1
    reminder = written(OutboundEmail.objects.get(booking=booking, kind=Kind.REMINDER))
    assert "Confirm I'm coming" in reminder.body
    assert "/book/manage/" in reminder.body


def test_confirming_attendance_takes_a_post_and_shows_on_the_page(client):
    with clinic_clock(clinic_time(2027, 1, 31, 16)):
        booking = make_booking(starts_at=clinic_time(2027, 2, 1, 15), status=Status.CONFIRMED)
        # Opening the link (a mail scanner does) confirms nothing.
        document = manage(client, booking)
        booking.refresh_from_db()
        assert booking.attendance_confirmed_at is None
        assert document.find("input", value="confirm_attendance") is not None
        after = manage(client, booking, "confirm_attendance")
        again = manage(client, booking, "confirm_attendance")
    booking.refresh_from_db()
    assert booking.attendance_confirmed_at is not None
    assert "we look forward to seeing you" in main_text(after)
    assert "you confirmed you are coming" in main_text(again)
    assert booking.status_changes.filter(note="Client confirmed they are coming").count() == 1


def test_a_cancelled_booking_cannot_be_confirmed(client):
    with clinic_clock(clinic_time(2027, 1, 31, 16)):
        booking = make_booking(starts_at=clinic_time(2027, 2, 1, 15), status=Status.CANCELLED)
        document = manage(client, booking, "confirm_attendance")
    booking.refresh_from_db()
    assert booking.attendance_confirmed_at is None
    assert "no longer coming up" in main_text(document)


def test_every_client_cancel_or_move_alerts_the_clinic():
    rules = BookingRules.current()
    with clinic_clock(clinic_time(2027, 1, 25, 9)):
        moving = make_booking(starts_at=clinic_time(2027, 2, 1, 9), status=Status.CONFIRMED)
        cancelling = make_booking(starts_at=clinic_time(2027, 2, 1, 11))
        services.move_booking(moving, clinic_time(2027, 2, 1, 14), by_client=True)
        services.change_status(cancelling, Status.CANCELLED, by_client=True)
    alerts = OutboundEmail.objects.filter(kind=Kind.CLIENT_CHANGE).order_by("pk")
    assert [alert.booking for alert in alerts] == [moving, cancelling]
    assert {alert.to for alert in alerts} == {rules.clinic_alert_address}
    assert "It needs confirming again." in written(alerts[0]).body
    assert "They cancelled it" in written(alerts[1]).body


def test_staff_changes_send_no_client_change_alert(admin_user):
    with clinic_clock(clinic_time(2027, 1, 25, 9)):
        booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9))
        services.move_booking(booking, clinic_time(2027, 2, 1, 14), by=admin_user, for_staff=True)
    assert not OutboundEmail.objects.filter(kind=Kind.CLIENT_CHANGE).exists()


@pytest.mark.parametrize(("reconfirm", "expected"), [(True, "requested"), (False, "confirmed")])
def test_a_clients_move_of_a_confirmed_booking_needs_confirming_again(reconfirm, expected):
    set_rules(reconfirm_after_client_move=reconfirm)
    with clinic_clock(clinic_time(2027, 1, 25, 9)):
        booking = make_booking(
            starts_at=clinic_time(2027, 2, 1, 9),
            status=Status.CONFIRMED,
            attendance_confirmed_at=clinic_time(2027, 1, 24, 9),
        )
        moved = services.move_booking(booking, clinic_time(2027, 2, 1, 14), by_client=True).booking
    assert moved.status == expected
    # A new time is a new question: they have not confirmed coming to it yet.
    assert moved.attendance_confirmed_at is None
    last = moved.status_changes.last()
    assert (last.from_status, last.to_status) == ("confirmed", expected)


def test_a_stale_move_form_is_refused_not_applied(admin_user):
    with clinic_clock(clinic_time(2027, 1, 25, 9)):
        booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9))
        seen = booking.starts_at
        services.move_booking(booking, clinic_time(2027, 2, 1, 11), by=admin_user, for_staff=True)
        with pytest.raises(services.StaleBooking):
            services.move_booking(
                booking,
                clinic_time(2027, 2, 1, 14),
                seen_starts_at=seen,
                by=admin_user,
                for_staff=True,
            )
    booking.refresh_from_db()
    assert booking.starts_at == clinic_time(2027, 2, 1, 11)


def test_check_in_is_for_the_day_itself_and_completion_for_after_the_start():
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9), status=Status.CONFIRMED)
    with clinic_clock(clinic_time(2027, 1, 31, 17)), pytest.raises(services.TransitionNotAllowed):
        services.change_status(booking, Status.ARRIVED)
    with clinic_clock(clinic_time(2027, 2, 1, 8, 50)):
        services.change_status(booking, Status.ARRIVED)
        with pytest.raises(services.TransitionNotAllowed):
            services.change_status(booking, Status.COMPLETED)
    with clinic_clock(clinic_time(2027, 2, 1, 9) + timedelta(minutes=30)):
        services.change_status(booking, Status.COMPLETED)
    booking.refresh_from_db()
    assert booking.status == Status.COMPLETED


def test_a_checked_in_client_holds_the_practitioners_time():
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9), status=Status.ARRIVED)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_booking(starts_at=clinic_time(2027, 2, 1, 9, 15), practitioner=booking.practitioner)
