"""
The booking's life after it is made: the database refusing overbooking,
the status workflow staff and clients move it along, its history, and
moving it to another time.
"""

from datetime import timedelta
from itertools import product

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking import services
from booking.availability import bookable_slots, find_slot
from booking.models import BookingStatusChange, ConsultationBooking, OutboundEmail
from tests.booking_helpers import (
    Status,
    book,
    clinic_clock,
    make_booking,
    move_into_the_past,
    set_rules,
)

pytestmark = pytest.mark.django_db

ACTIVE = [Status.REQUESTED, Status.CONFIRMED]
INACTIVE = [Status.CANCELLED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW]

ALLOWED = [
    (Status.REQUESTED, Status.CONFIRMED),
    (Status.REQUESTED, Status.CANCELLED),
    (Status.REQUESTED, Status.DECLINED),
    (Status.CONFIRMED, Status.COMPLETED),
    (Status.CONFIRMED, Status.NO_SHOW),
    (Status.CONFIRMED, Status.CANCELLED),
]
NOT_ALLOWED = [pair for pair in product(Status, Status) if pair not in ALLOWED]
# Outcomes that can only be recorded once the consultation's time has come.
AFTER_THE_CONSULTATION = [Status.COMPLETED, Status.NO_SHOW]
NOT_YET = "The consultation has not happened yet."


@pytest.fixture
def slot():
    return bookable_slots()[0]


# The database refuses overbooking, whatever the application checks.


@pytest.mark.parametrize(("first", "second"), list(product(ACTIVE, ACTIVE)))
def test_database_refuses_two_active_bookings_in_the_same_seat(slot, first, second):
    make_booking(starts_at=slot.starts_at, status=first)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_booking(starts_at=slot.starts_at, status=second)

    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 1


@pytest.mark.parametrize("status", INACTIVE)
def test_booking_that_no_longer_holds_its_seat_lets_another_take_it(slot, status):
    make_booking(starts_at=slot.starts_at, status=status)

    make_booking(starts_at=slot.starts_at)

    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 2


def test_database_refuses_reactivating_a_booking_whose_seat_was_taken(slot):
    cancelled = make_booking(starts_at=slot.starts_at, status=Status.CANCELLED)
    make_booking(starts_at=slot.starts_at)

    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationBooking.objects.filter(pk=cancelled.pk).update(status=Status.CONFIRMED)


def test_capacity_of_two_lets_exactly_two_people_book_a_slot(slot):
    set_rules(capacity=2)

    first = book(slot.starts_at)
    second = book(slot.starts_at)
    with pytest.raises(services.SlotUnavailable):
        book(slot.starts_at)

    assert {first.seat, second.seat} == {1, 2}
    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 2
    assert find_slot(slot.starts_at) is None


def test_cancelling_one_of_two_frees_a_seat_for_a_third(slot):
    set_rules(capacity=2)
    first = book(slot.starts_at)
    book(slot.starts_at)

    services.change_status(first, Status.CANCELLED)
    third = book(slot.starts_at)

    assert third.seat == first.seat


def test_booking_a_time_that_is_not_offered_is_refused(slot):
    three_in_the_morning = timezone.localtime(slot.starts_at).replace(hour=3)

    with pytest.raises(services.SlotUnavailable):
        book(three_in_the_morning)

    assert not ConsultationBooking.objects.exists()


def test_refused_booking_leaves_no_history_or_email_behind(slot):
    book(slot.starts_at)
    history, emails = BookingStatusChange.objects.count(), OutboundEmail.objects.count()

    with pytest.raises(services.SlotUnavailable):
        book(slot.starts_at)

    assert BookingStatusChange.objects.count() == history
    assert OutboundEmail.objects.count() == emails


def test_same_submission_key_returns_the_first_booking(slot):
    details = {
        "full_name": "Ada Quinterra",
        "email": "ada@example.com",
        "phone": "+12125550147",
        "preferred_contact": "email",
    }
    first, created = services.book_consultation(
        starts_at=slot.starts_at, treatment=None, concerns=[], submission_key="k1", **details
    )
    again, created_again = services.book_consultation(
        starts_at=bookable_slots()[0].starts_at,
        treatment=None,
        concerns=[],
        submission_key="k1",
        **details,
    )

    assert (created, created_again) == (True, False)
    assert again == first
    assert ConsultationBooking.objects.count() == 1


# The workflow.


def booking_in(status):
    booking = book()
    ConsultationBooking.objects.filter(pk=booking.pk).update(status=status)
    booking.refresh_from_db()
    return booking


def booking_ready_for(to_status, from_status):
    """A booking in `from_status`, its consultation past if `to_status` is an outcome of it."""
    booking = booking_in(from_status)
    if to_status in AFTER_THE_CONSULTATION:
        booking = move_into_the_past(booking)
    return booking


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_allowed_change_moves_the_booking_and_records_who_when_and_what(
    admin_user, from_status, to_status
):
    booking = booking_ready_for(to_status, from_status)
    before = timezone.now()

    services.change_status(booking, to_status, by=admin_user, note="By phone")

    booking.refresh_from_db()
    change = booking.status_changes.last()
    assert booking.status == to_status
    assert (change.from_status, change.to_status) == (from_status, to_status)
    assert change.changed_by == admin_user
    assert change.changed_by_client is False
    assert change.actor == str(admin_user)
    assert change.note == "By phone"
    assert before <= change.changed_at <= timezone.now()


@pytest.mark.parametrize(("from_status", "to_status"), NOT_ALLOWED)
def test_change_the_workflow_does_not_allow_raises_and_changes_nothing(
    admin_user, from_status, to_status
):
    # Past consultations for completed and no-show, so it is the workflow
    # that refuses, not the consultation's time.
    booking = booking_ready_for(to_status, from_status)
    sequence = booking.calendar_sequence
    history, emails = booking.status_changes.count(), booking.emails.count()

    with pytest.raises(services.TransitionNotAllowed, match="booking cannot become"):
        services.change_status(booking, to_status, by=admin_user)

    booking.refresh_from_db()
    assert booking.status == from_status
    assert booking.calendar_sequence == sequence
    assert booking.status_changes.count() == history
    assert booking.emails.count() == emails


def test_refusal_says_which_change_was_refused():
    booking = booking_in(Status.COMPLETED)

    with pytest.raises(services.TransitionNotAllowed, match="completed booking cannot become"):
        services.change_status(booking, Status.CANCELLED)


def test_whole_history_of_a_booking_is_kept_in_order(admin_user):
    booking = book()
    services.change_status(booking, Status.CONFIRMED, by=admin_user)
    move_into_the_past(booking)
    services.change_status(booking, Status.COMPLETED, by=admin_user)

    history = [
        (change.from_status, change.to_status, change.actor)
        for change in booking.status_changes.all()
    ]
    assert history == [
        ("", Status.REQUESTED, "Client"),
        (Status.REQUESTED, Status.CONFIRMED, str(admin_user)),
        (Status.CONFIRMED, Status.COMPLETED, str(admin_user)),
    ]


@pytest.mark.parametrize("to_status", AFTER_THE_CONSULTATION)
def test_consultation_still_ahead_cannot_be_completed_or_marked_missed(admin_user, to_status):
    booking = booking_in(Status.CONFIRMED)
    before = (booking.calendar_sequence, booking.updated_at)
    history, emails = booking.status_changes.count(), booking.emails.count()

    with pytest.raises(services.TransitionNotAllowed) as refusal:
        services.change_status(booking, to_status, by=admin_user)

    booking.refresh_from_db()
    assert str(refusal.value) == NOT_YET
    assert booking.status == Status.CONFIRMED
    assert (booking.calendar_sequence, booking.updated_at) == before
    assert booking.status_changes.count() == history
    assert booking.emails.count() == emails
    assert find_slot(booking.starts_at) is None  # It still holds its seat.


@pytest.mark.parametrize("to_status", AFTER_THE_CONSULTATION)
def test_outcome_can_be_recorded_once_the_consultation_has_started(to_status):
    booking = booking_in(Status.CONFIRMED)

    with (
        clinic_clock(booking.starts_at - timedelta(minutes=1)),
        pytest.raises(services.TransitionNotAllowed, match=NOT_YET),
    ):
        services.change_status(booking, to_status)
    with clinic_clock(booking.starts_at + timedelta(minutes=1)):
        services.change_status(booking, to_status)

    booking.refresh_from_db()
    assert booking.status == to_status


def test_client_cancelling_is_recorded_as_the_client():
    booking = book()

    services.change_status(booking, Status.CANCELLED, by_client=True)

    assert booking.status_changes.last().actor == "Client"


def test_calendar_sequence_rises_on_confirm_move_and_cancel():
    booking = book()
    sequences = [booking.calendar_sequence]

    booking = services.change_status(booking, Status.CONFIRMED)
    sequences.append(booking.calendar_sequence)
    booking = services.move_booking(booking, bookable_slots()[1].starts_at)
    sequences.append(booking.calendar_sequence)
    booking = services.change_status(booking, Status.CANCELLED)
    sequences.append(booking.calendar_sequence)

    assert sequences == sorted(set(sequences))
    booking.refresh_from_db()
    assert booking.calendar_sequence == sequences[-1] == sequences[0] + 3


# Moving a booking.


def test_move_takes_the_new_slot_and_frees_the_old_one(admin_user):
    old, new = bookable_slots()[:2]
    booking = book(old.starts_at)

    services.move_booking(booking, new.starts_at, by=admin_user)

    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at) == (new.starts_at, new.ends_at)
    assert find_slot(old.starts_at) is not None
    assert find_slot(new.starts_at) is None
    change = booking.status_changes.last()
    assert (change.from_status, change.to_status) == (Status.REQUESTED, Status.REQUESTED)
    assert change.note.startswith("Moved from ")
    assert change.changed_by == admin_user


def test_move_to_a_taken_slot_is_refused_and_keeps_the_booking():
    old, taken = bookable_slots()[:2]
    booking = book(old.starts_at)
    book(taken.starts_at)

    with pytest.raises(services.SlotUnavailable):
        services.move_booking(booking, taken.starts_at)

    booking.refresh_from_db()
    assert booking.starts_at == old.starts_at
    assert booking.calendar_sequence == 0
    assert find_slot(old.starts_at) is None


def test_move_within_a_slot_with_a_seat_left_takes_the_free_seat():
    set_rules(capacity=2)
    old, shared = bookable_slots()[:2]
    booking = book(old.starts_at)
    other = book(shared.starts_at)

    services.move_booking(booking, shared.starts_at)

    booking.refresh_from_db()
    assert booking.starts_at == shared.starts_at
    assert {booking.seat, other.seat} == {1, 2}


def test_move_rearms_the_reminder_for_the_new_time():
    booking = book()
    ConsultationBooking.objects.filter(pk=booking.pk).update(reminder_sent_at=timezone.now())

    services.move_booking(booking, bookable_slots()[1].starts_at)

    booking.refresh_from_db()
    assert booking.reminder_sent_at is None


def what_a_move_changes(booking):
    booking.refresh_from_db()
    return (
        booking.starts_at,
        booking.ends_at,
        booking.seat,
        booking.calendar_sequence,
        booking.reminder_sent_at,
        booking.updated_at,
        booking.status_changes.count(),
        booking.emails.count(),
    )


def test_moving_a_booking_to_the_time_it_already_has_changes_and_sends_nothing():
    booking = services.change_status(book(), Status.CONFIRMED)
    ConsultationBooking.objects.filter(pk=booking.pk).update(reminder_sent_at=timezone.now())
    before = what_a_move_changes(booking)

    services.move_booking(booking, booking.starts_at)

    assert what_a_move_changes(booking) == before
    assert not booking.emails.filter(kind=OutboundEmail.Kind.RESCHEDULED).exists()


@pytest.mark.parametrize("status", INACTIVE)
def test_booking_that_no_longer_holds_a_slot_cannot_be_moved_even_to_its_own_time(status):
    booking = booking_in(status)

    with pytest.raises(services.TransitionNotAllowed):
        services.move_booking(booking, booking.starts_at)


@pytest.mark.parametrize("status", INACTIVE)
def test_booking_that_no_longer_holds_a_slot_cannot_be_moved(status):
    booking = booking_in(status)
    starts_at = booking.starts_at

    with pytest.raises(services.TransitionNotAllowed):
        services.move_booking(booking, bookable_slots()[1].starts_at)

    booking.refresh_from_db()
    assert booking.starts_at == starts_at
    assert booking.status == status
