"""
The booking's life after it is made: the database refusing to give one
practitioner two bookings at once, the status workflow staff and clients
move it along, its history, and moving it to another time.
"""

from datetime import timedelta
from itertools import product

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking import services
from booking.models import BookingStatusChange, ConsultationBooking, OutboundEmail
from booking.services import schedule
from tests.support.booking import (
    ESTHETICIAN,
    NURSE_PRACTITIONER,
    Status,
    book,
    clinic_clock,
    consultation_type,
    make_booking,
    move_into_the_past,
    practitioner,
)

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]

ACTIVE = [Status.REQUESTED, Status.CONFIRMED]
INACTIVE = [Status.CANCELLED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW]

ALLOWED = [
    (Status.REQUESTED, Status.CONFIRMED),
    (Status.REQUESTED, Status.CANCELLED),
    (Status.REQUESTED, Status.DECLINED),
    (Status.REQUESTED, Status.ARRIVED),
    (Status.CONFIRMED, Status.ARRIVED),
    (Status.CONFIRMED, Status.COMPLETED),
    (Status.CONFIRMED, Status.NO_SHOW),
    (Status.CONFIRMED, Status.CANCELLED),
    (Status.ARRIVED, Status.COMPLETED),
]
NOT_ALLOWED = [pair for pair in product(Status, Status) if pair not in ALLOWED]
# Outcomes that can only be recorded once the consultation's time has come.
AFTER_THE_CONSULTATION = [Status.COMPLETED, Status.NO_SHOW]
NOT_YET = "The consultation has not happened yet."


def bookable_slots(**options):
    """The skin assessment's bookable times (with either practitioner, unless one is given)."""
    return schedule.bookable_slots(consultation_type(), **options)


def find_slot(starts_at, **options):
    return schedule.ClinicCalendar(consultation_type(), **options).find(starts_at)


def two_hours_after(slot, **options):
    """A time well clear of `slot` and its turnover."""
    return next(
        later
        for later in bookable_slots(**options)
        if later.starts_at >= slot.starts_at + timedelta(hours=2)
    )


def another_time(booking):
    """
    A bookable time other than the booking's own. (The second time offered
    can be the booking's own: book() takes the first time after the change
    cut-off, and late in the clinic's day only one time remains before it.)
    """
    return next(slot.starts_at for slot in bookable_slots() if slot.starts_at != booking.starts_at)


@pytest.fixture
def maya():
    return practitioner(ESTHETICIAN)


@pytest.fixture
def slot():
    return bookable_slots()[0]


# The database refuses to give a practitioner two bookings at once,
# whatever the application checks.


@pytest.mark.parametrize(("first", "second"), list(product(ACTIVE, ACTIVE)))
def test_database_refuses_two_active_bookings_of_one_practitioner_at_one_time(slot, first, second):
    make_booking(starts_at=slot.starts_at, status=first)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_booking(starts_at=slot.starts_at, status=second)

    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 1


def test_two_practitioners_may_each_hold_a_booking_at_the_same_time(slot):
    make_booking(starts_at=slot.starts_at, practitioner=practitioner(ESTHETICIAN))
    make_booking(starts_at=slot.starts_at, practitioner=practitioner(NURSE_PRACTITIONER))

    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 2


@pytest.mark.parametrize("status", INACTIVE)
def test_booking_that_no_longer_holds_its_time_lets_another_take_it(slot, status):
    make_booking(starts_at=slot.starts_at, status=status)

    make_booking(starts_at=slot.starts_at)

    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 2


def test_database_refuses_reactivating_a_booking_whose_time_was_taken(slot):
    cancelled = make_booking(starts_at=slot.starts_at, status=Status.CANCELLED)
    make_booking(starts_at=slot.starts_at)

    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationBooking.objects.filter(pk=cancelled.pk).update(status=Status.CONFIRMED)


def test_two_practitioners_let_exactly_two_people_book_one_time(slot):
    first = book(slot.starts_at)
    second = book(slot.starts_at)
    with pytest.raises(services.SlotUnavailable):
        book(slot.starts_at)

    assert {first.practitioner.slug, second.practitioner.slug} == {
        ESTHETICIAN,
        NURSE_PRACTITIONER,
    }
    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 2
    assert find_slot(slot.starts_at) is None


def test_cancelling_one_of_two_frees_that_practitioner_for_a_third(slot):
    first = book(slot.starts_at)
    book(slot.starts_at)

    services.change_status(first, Status.CANCELLED)
    third = book(slot.starts_at)

    assert third.practitioner == first.practitioner


def test_booking_a_time_that_is_not_offered_is_refused(slot):
    three_in_the_morning = timezone.localtime(slot.starts_at).replace(hour=3)

    with pytest.raises(services.SlotUnavailable):
        book(three_in_the_morning)

    assert not ConsultationBooking.objects.exists()


def test_refused_booking_leaves_no_history_or_email_behind(slot):
    book(slot.starts_at)
    book(slot.starts_at)  # Both practitioners are now booked then.
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
    kind = consultation_type()
    first, created = services.book_consultation(
        consultation_type=kind,
        starts_at=slot.starts_at,
        concerns=[],
        submission_key="k1",
        **details,
    )
    again, created_again = services.book_consultation(
        consultation_type=kind,
        starts_at=two_hours_after(slot).starts_at,
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
    """
    A booking in `from_status`, its consultation past if `to_status` is an
    outcome of it or a check-in (which is for the day itself, or after).
    """
    booking = booking_in(from_status)
    if to_status in [*AFTER_THE_CONSULTATION, Status.ARRIVED]:
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
    # It still holds its practitioner's time.
    assert find_slot(booking.starts_at, practitioner=booking.practitioner) is None


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
    booking = services.move_booking(booking, another_time(booking)).booking
    sequences.append(booking.calendar_sequence)
    booking = services.change_status(booking, Status.CANCELLED)
    sequences.append(booking.calendar_sequence)

    assert sequences == sorted(set(sequences))
    booking.refresh_from_db()
    assert booking.calendar_sequence == sequences[-1] == sequences[0] + 3


# Moving a booking.


def test_move_takes_the_new_time_and_frees_the_old_one(admin_user, maya):
    old = bookable_slots()[0]
    new = two_hours_after(old)
    booking = book(old.starts_at, practitioner=maya)

    services.move_booking(booking, new.starts_at, by=admin_user)

    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at) == (new.starts_at, new.ends_at)
    assert booking.blocks_until == new.ends_at + timedelta(minutes=10)
    assert booking.practitioner == maya
    assert find_slot(old.starts_at, practitioner=maya) is not None
    assert find_slot(new.starts_at, practitioner=maya) is None
    change = booking.status_changes.last()
    assert (change.from_status, change.to_status) == (Status.REQUESTED, Status.REQUESTED)
    assert change.note.startswith("Moved from ")
    assert change.changed_by == admin_user


@pytest.mark.parametrize("with_whom", ["same practitioner", "any practitioner"])
def test_move_to_a_taken_time_is_refused_and_keeps_the_booking(maya, with_whom):
    old = bookable_slots()[0]
    taken = two_hours_after(old)
    booking = book(old.starts_at, practitioner=maya)
    for person in taken.practitioners:
        book(taken.starts_at, practitioner=person)

    with pytest.raises(services.SlotUnavailable):
        services.move_booking(
            booking,
            taken.starts_at,
            practitioner=maya if with_whom == "same practitioner" else None,
        )

    booking.refresh_from_db()
    assert booking.starts_at == old.starts_at
    assert booking.calendar_sequence == 0
    assert find_slot(old.starts_at, practitioner=maya) is None


def test_move_to_a_time_only_another_practitioner_has_free_goes_to_them(maya):
    old = bookable_slots()[0]
    shared = two_hours_after(old)
    booking = book(old.starts_at, practitioner=maya)
    other = book(shared.starts_at, practitioner=maya)

    with pytest.raises(services.SlotUnavailable):
        services.move_booking(booking, shared.starts_at, practitioner=maya)
    services.move_booking(booking, shared.starts_at)

    booking.refresh_from_db()
    assert booking.starts_at == shared.starts_at
    assert {booking.practitioner.slug, other.practitioner.slug} == {
        ESTHETICIAN,
        NURSE_PRACTITIONER,
    }


def test_move_with_any_practitioner_stays_with_the_same_one_when_they_are_free(maya):
    old = bookable_slots()[0]
    new = two_hours_after(old)
    booking = book(old.starts_at, practitioner=practitioner(NURSE_PRACTITIONER))

    services.move_booking(booking, new.starts_at)

    booking.refresh_from_db()
    # Maya comes first in the clinic's order, but the booking keeps its practitioner.
    assert booking.practitioner.slug == NURSE_PRACTITIONER


def test_move_rearms_the_reminder_for_the_new_time():
    booking = book()
    ConsultationBooking.objects.filter(pk=booking.pk).update(reminder_sent_at=timezone.now())

    services.move_booking(booking, another_time(booking))

    booking.refresh_from_db()
    assert booking.reminder_sent_at is None


def what_a_move_changes(booking):
    booking.refresh_from_db()
    return (
        booking.starts_at,
        booking.ends_at,
        booking.blocks_until,
        booking.practitioner_id,
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
def test_booking_that_no_longer_holds_its_time_cannot_be_moved_even_to_its_own_time(status):
    booking = booking_in(status)

    with pytest.raises(services.TransitionNotAllowed):
        services.move_booking(booking, booking.starts_at)


@pytest.mark.parametrize("status", INACTIVE)
def test_booking_that_no_longer_holds_its_time_cannot_be_moved(status):
    booking = booking_in(status)
    starts_at = booking.starts_at

    with pytest.raises(services.TransitionNotAllowed):
        services.move_booking(booking, another_time(booking))

    booking.refresh_from_db()
    assert booking.starts_at == starts_at
    assert booking.status == status
