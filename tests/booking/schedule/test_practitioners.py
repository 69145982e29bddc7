"""
Practitioners and consultation types: who is offered when, for how long,
and who "any practitioner" is given.
"""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, OperationalError, transaction

from booking.models import Closure, ConsultationBooking, Practitioner, TimeOff
from booking.services import bookings as services
from booking.services.schedule import ClinicCalendar, bookable_slots
from tests.support.booking import (
    ASSESSMENT,
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    book,
    clinic_clock,
    clinic_time,
    consultation_type,
    make_booking,
    make_consultation_type,
    make_practitioner,
    only_practitioners,
    practitioner,
    set_hours,
    set_type,
)

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]

# A Friday noon at the clinic; the Monday after is the day the tests book.
NOW = clinic_time(2027, 1, 29, 12)
MONDAY = date(2027, 2, 1)


@pytest.fixture(autouse=True)
def _clock():
    with clinic_clock(NOW) as now:
        yield now


def clocks(slots, person=None):
    """The slots' starts as clinic wall-clock "HH:MM" on MONDAY, for one person if named."""
    return [
        f"{slot.local_start:%H:%M}"
        for slot in slots
        if slot.local_start.date() == MONDAY and (person is None or person in slot.practitioners)
    ]


def monday_slots(kind, person=None, **options):
    return bookable_slots(kind, practitioner=person, days=[MONDAY], **options)


def test_start_times_fall_on_the_types_grid_and_end_inside_the_hours():
    kind = set_type(ASSESSMENT, grid_minutes=20, duration_minutes=30)
    starts = clocks(monday_slots(kind, practitioner(ESTHETICIAN)))
    assert starts[:4] == ["09:00", "09:20", "09:40", "10:00"]
    # 16:20 + 30 minutes is 16:50, inside 17:00; 16:40 would end at 17:10.
    assert starts[-1] == "16:20"


def test_a_booking_blocks_its_length_plus_turnover_for_its_practitioner_only():
    medical = consultation_type(MEDICAL_CONSULTATION)
    nurse = practitioner(NURSE_PRACTITIONER)
    make_booking(
        starts_at=clinic_time(2027, 2, 1, 10), practitioner=nurse, consultation_type=medical
    )  # 10:00–10:45, room ready at 10:55
    assessment = consultation_type(ASSESSMENT)
    nurse_starts = clocks(monday_slots(assessment, nurse))
    # A 30-minute assessment plus its 10 minutes of turnover must end by 10:00,
    # and may start once the room is ready at 10:55.
    assert "09:15" in nurse_starts
    assert {"09:30", "09:45", "10:00", "10:15", "10:30", "10:45"}.isdisjoint(nurse_starts)
    assert "11:00" in nurse_starts
    # The esthetician is not held by the nurse's booking.
    assert "10:00" in clocks(monday_slots(assessment, practitioner(ESTHETICIAN)))


def test_cancelled_bookings_free_their_time():
    nurse = practitioner(NURSE_PRACTITIONER)
    make_booking(
        starts_at=clinic_time(2027, 2, 1, 10),
        practitioner=nurse,
        status=ConsultationBooking.Status.CANCELLED,
    )
    assert "10:00" in clocks(monday_slots(consultation_type(ASSESSMENT), nurse))


def test_time_off_and_closures_remove_times():
    esthetician = practitioner(ESTHETICIAN)
    TimeOff.objects.create(
        practitioner=esthetician,
        starts_at=clinic_time(2027, 2, 1, 9),
        ends_at=clinic_time(2027, 2, 1, 13),
        reason="Training",
    )
    assessment = consultation_type(ASSESSMENT)
    starts = clocks(monday_slots(assessment, esthetician))
    assert starts[0] == "13:00"
    # "Any practitioner" still has the nurse in the morning.
    assert clocks(monday_slots(assessment))[0] == "09:00"

    Closure.objects.create(starts_on=MONDAY, ends_on=MONDAY, reason="Holiday")
    assert monday_slots(assessment) == []


def test_only_medical_providers_hold_consultations_that_need_one():
    medical = consultation_type(MEDICAL_CONSULTATION)
    assert monday_slots(medical, practitioner(ESTHETICIAN)) == []
    slots = monday_slots(medical)
    assert slots
    assert all(
        [person.slug for person in slot.practitioners] == [NURSE_PRACTITIONER] for slot in slots
    )


def test_a_type_with_named_practitioners_is_held_by_them_alone():
    kind = make_consultation_type()
    kind.practitioners.add(practitioner(NURSE_PRACTITIONER))
    assert {person.slug for slot in monday_slots(kind) for person in slot.practitioners} == {
        NURSE_PRACTITIONER
    }


def test_inactive_and_offline_practitioners_are_not_offered_online():
    esthetician, nurse = practitioner(ESTHETICIAN), practitioner(NURSE_PRACTITIONER)
    Practitioner.objects.filter(pk=nurse.pk).update(takes_online_bookings=False)
    assessment = consultation_type(ASSESSMENT)
    offered = {person.pk for slot in monday_slots(assessment) for person in slot.practitioners}
    assert offered == {esthetician.pk}
    # Staff may still book the nurse.
    assert monday_slots(assessment, nurse, online=False, for_staff=True)

    Practitioner.objects.filter(pk=esthetician.pk).update(is_active=False)
    assert monday_slots(assessment) == []


def test_any_practitioner_goes_to_whoever_has_fewest_consultations_that_day():
    esthetician, nurse = practitioner(ESTHETICIAN), practitioner(NURSE_PRACTITIONER)
    # Same display order, so only the day's load decides; the nurse is busier.
    Practitioner.objects.update(display_order=1)
    make_booking(starts_at=clinic_time(2027, 2, 1, 9), practitioner=nurse)
    make_booking(starts_at=clinic_time(2027, 2, 1, 16), practitioner=nurse)
    make_booking(starts_at=clinic_time(2027, 2, 1, 15), practitioner=esthetician)
    booking = book(clinic_time(2027, 2, 1, 11))
    assert booking.practitioner == esthetician
    # Two each now: the display order decides.
    Practitioner.objects.filter(pk=nurse.pk).update(display_order=0)
    assert book(clinic_time(2027, 2, 1, 12)).practitioner == nurse


def test_any_practitioner_falls_back_to_the_next_one_when_someone_took_the_first(monkeypatch):
    """
    Between reading who is free and saving, another request takes the first
    choice: the database refuses it and the next practitioner gets the booking.
    """
    esthetician, nurse = practitioner(ESTHETICIAN), practitioner(NURSE_PRACTITIONER)
    real_hold_time = services._hold_time

    def someone_else_first(booking, candidates):
        assert candidates[0] == esthetician
        make_booking(starts_at=booking.starts_at, practitioner=candidates[0])
        return real_hold_time(booking, candidates)

    monkeypatch.setattr(services, "_hold_time", someone_else_first)
    booking = book(clinic_time(2027, 2, 1, 9))
    assert booking.practitioner == nurse


def test_a_named_practitioner_taken_meanwhile_is_refused_not_swapped(monkeypatch):
    esthetician = practitioner(ESTHETICIAN)
    real_hold_time = services._hold_time

    def someone_else_first(booking, candidates):
        make_booking(starts_at=booking.starts_at, practitioner=esthetician)
        return real_hold_time(booking, candidates)

    monkeypatch.setattr(services, "_hold_time", someone_else_first)
    with pytest.raises(services.SlotUnavailable):
        book(clinic_time(2027, 2, 1, 9), practitioner=esthetician)
    # Nothing of the refused request is stored (here the "other" booking was
    # written inside the same transaction, so it went with it).
    assert not ConsultationBooking.objects.exists()


class DeadlockDetected(Exception):
    """Stands for psycopg's: what PostgreSQL says when it gives one of two waiting writes up."""

    sqlstate = "40P01"


def deadlocked_on_the_overlap_check():
    """
    The error Django raises when two transactions each wrote a booking that
    overlaps the other's and PostgreSQL gave this one up while checking the
    exclusion constraint (seen in a race of a move and a new booking).
    """
    error = OperationalError(
        "deadlock detected\nCONTEXT:  while checking exclusion constraint on tuple (0,34) "
        'in relation "booking_consultationbooking"'
    )
    error.__cause__ = DeadlockDetected()
    return error


@pytest.mark.parametrize(("named", "booked"), [(True, None), (False, NURSE_PRACTITIONER)])
def test_a_deadlock_on_the_overlap_check_is_the_time_taken_not_an_error(monkeypatch, named, booked):
    esthetician = practitioner(ESTHETICIAN)
    real_save = ConsultationBooking.save
    attempts = []

    def given_up_first(booking, *args, **kwargs):
        attempts.append(booking.practitioner)
        if booking.practitioner == esthetician:
            raise deadlocked_on_the_overlap_check()
        return real_save(booking, *args, **kwargs)

    monkeypatch.setattr(ConsultationBooking, "save", given_up_first)
    if named:
        with pytest.raises(services.SlotUnavailable):
            book(clinic_time(2027, 2, 1, 9), practitioner=esthetician)
        assert not ConsultationBooking.objects.exists()
    else:
        # "Any practitioner": the next one free gets the booking.
        assert book(clinic_time(2027, 2, 1, 9)).practitioner == practitioner(booked)
    assert attempts[0] == esthetician


def test_other_database_errors_while_saving_a_booking_are_not_taken_for_a_refusal(monkeypatch):
    def broken(booking, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ConsultationBooking, "save", broken)
    with pytest.raises(OperationalError):
        book(clinic_time(2027, 2, 1, 9), practitioner=practitioner(ESTHETICIAN))


def test_an_overlapping_booking_written_directly_is_refused_by_the_database():
    nurse = practitioner(NURSE_PRACTITIONER)
    medical = consultation_type(MEDICAL_CONSULTATION)
    make_booking(
        starts_at=clinic_time(2027, 2, 1, 10), practitioner=nurse, consultation_type=medical
    )
    # 10:50 is inside the 10:45–10:55 turnover.
    with pytest.raises(IntegrityError), transaction.atomic():
        make_booking(starts_at=clinic_time(2027, 2, 1, 10, 50), practitioner=nurse)


def test_the_database_refuses_a_move_into_an_overlap_and_allows_back_to_back():
    nurse = practitioner(NURSE_PRACTITIONER)
    first = make_booking(starts_at=clinic_time(2027, 2, 1, 10), practitioner=nurse)  # to 10:40
    second = make_booking(starts_at=clinic_time(2027, 2, 1, 10, 40), practitioner=nurse)
    second.starts_at = clinic_time(2027, 2, 1, 10, 30)
    second.ends_at = second.starts_at + timedelta(minutes=30)
    second.blocks_until = second.ends_at + timedelta(minutes=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationBooking.objects.filter(pk=second.pk).update(
            starts_at=second.starts_at, ends_at=second.ends_at, blocks_until=second.blocks_until
        )
    # Cancelled bookings hold nothing: the same row may then move over the first.
    ConsultationBooking.objects.filter(pk=first.pk).update(status="cancelled")
    ConsultationBooking.objects.filter(pk=second.pk).update(
        starts_at=second.starts_at, ends_at=second.ends_at, blocks_until=second.blocks_until
    )


def test_booking_with_a_practitioner_who_does_not_hold_the_type_is_refused():
    with pytest.raises(services.SlotUnavailable):
        book(
            clinic_time(2027, 2, 1, 9),
            consultation_type=consultation_type(MEDICAL_CONSULTATION),
            practitioner=practitioner(ESTHETICIAN),
        )


def test_the_client_moves_to_any_practitioner_or_stays_with_theirs():
    esthetician, nurse = practitioner(ESTHETICIAN), practitioner(NURSE_PRACTITIONER)
    booking = book(clinic_time(2027, 2, 1, 9), practitioner=esthetician)
    make_booking(starts_at=clinic_time(2027, 2, 1, 14), practitioner=esthetician)
    # With the same practitioner, 14:00 is not free...
    with pytest.raises(services.SlotUnavailable):
        services.move_booking(
            booking, clinic_time(2027, 2, 1, 14), practitioner=esthetician, by_client=True
        )
    # ...with any practitioner it is, with the nurse.
    moved = services.move_booking(booking, clinic_time(2027, 2, 1, 14), by_client=True).booking
    assert (moved.practitioner, moved.starts_at) == (nurse, clinic_time(2027, 2, 1, 14))
    # "Any" keeps the same practitioner when they are free.
    moved = services.move_booking(moved, clinic_time(2027, 2, 1, 15), by_client=True).booking
    assert moved.practitioner == nurse


def test_staff_may_book_inside_minimum_notice_but_never_into_an_overlap(django_user_model):
    staff = django_user_model.objects.create_user("desk", is_staff=True)
    esthetician = practitioner(ESTHETICIAN)
    soon = clinic_time(2027, 1, 29, 14)  # two hours from now, inside 12 hours' notice
    with pytest.raises(services.SlotUnavailable):
        book(soon, practitioner=esthetician)
    booking = book(soon, practitioner=esthetician, taken_by=staff)
    assert (booking.starts_at, booking.consent_taken_by) == (soon, staff)
    with pytest.raises(services.SlotUnavailable):
        book(soon + timedelta(minutes=15), practitioner=esthetician, taken_by=staff)


@pytest.mark.parametrize(("people", "bookings"), [(1, 10), (8, 2000)])
def test_a_week_of_times_costs_the_same_queries_however_many_people_and_bookings(
    people, bookings, django_assert_num_queries
):
    staff = [make_practitioner() for _ in range(people)]
    only_practitioners(*staff)
    kinds = [consultation_type(ASSESSMENT), *(make_consultation_type() for _ in range(3))]
    # Bookings spread over the weeks ahead, on every practitioner.
    ConsultationBooking.objects.bulk_create(
        make_booking_row(
            starts_at=clinic_time(2027, 2, 1, 9) + timedelta(days=n // 16, minutes=30 * (n % 16)),
            practitioner=staff[n % people],
            kind=kinds[n % len(kinds)],
            n=n,
        )
        for n in range(bookings)
    )
    kind = consultation_type(ASSESSMENT)
    # The rules, who holds the type, their hours, closures, one read of the
    # week's bookings and time off.
    with django_assert_num_queries(5):
        calendar = ClinicCalendar(kind)
        week = calendar.week(MONDAY)
    assert week.days


def make_booking_row(*, starts_at, practitioner, kind, n):
    # Bookings straight from bulk_create, apart enough (30 minutes, 40 with
    # turnover) to overlap only across practitioners.
    return ConsultationBooking(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20),
        blocks_until=starts_at + timedelta(minutes=30),
        practitioner=practitioner,
        consultation_type=kind,
        full_name=f"Client {n}",
        email=f"client{n}@example.com",
        phone="+12125550100",
        consent_given_at=NOW,
        privacy_policy_version="test",
        reference=f"BULK{n:06d}",
    )


def test_working_hours_of_one_practitioner_do_not_open_anothers_day():
    esthetician, nurse = practitioner(ESTHETICIAN), practitioner(NURSE_PRACTITIONER)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[esthetician])
    set_hours({1: [("13:00", "17:00")]}, practitioners=[nurse])
    assessment = consultation_type(ASSESSMENT)
    monday = monday_slots(assessment)
    assert {person for slot in monday for person in slot.practitioners} == {esthetician}
    assert clocks(monday)[-1] == "11:30"
