"""
Which consultation times are offered: the weekly hours staff edit, the
booking rules, closures, bookings already made, and the clinic's own
zone across daylight-saving changes.

Every test passes `now=`, so none depends on the day the suite runs.
"""

from datetime import UTC, date, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from booking.availability import bookable_slots, find_slot, parse_slot_value
from booking.models import Closure, OpeningHours
from tests.booking_helpers import (
    CLINIC_ZONE,
    Status,
    clinic_time,
    make_booking,
    set_hours,
    set_rules,
    utc,
)

pytestmark = pytest.mark.django_db

# Monday 3 June 2030, 8:00 in New York (EDT): a week with no holidays.
MONDAY_MORNING = clinic_time(2030, 6, 3, 8, 0)
MONDAY, TUESDAY, WEDNESDAY, THURSDAY = (date(2030, 6, day) for day in (3, 4, 5, 6))

# 2030's US daylight-saving changes: clocks go 2:00 → 3:00 on 10 March and
# 2:00 → 1:00 on 3 November.
SPRING_FORWARD = date(2030, 3, 10)
FALL_BACK = date(2030, 11, 3)
SUNDAY = 6


def local(slot):
    return slot.starts_at.astimezone(CLINIC_ZONE)


def starts_on(slots, day):
    """The local start times, as "HH:MM", of the slots on a clinic-local day."""
    return [f"{local(slot):%H:%M}" for slot in slots if local(slot).date() == day]


def utc_starts_on(slots, day):
    return [slot.starts_at.astimezone(UTC) for slot in slots if local(slot).date() == day]


def half_hours(first, last):
    """ "HH:MM" every 30 minutes from `first` to `last` inclusive."""
    h, m = map(int, first.split(":"))
    result = []
    while f"{h:02d}:{m:02d}" <= last:
        result.append(f"{h:02d}:{m:02d}")
        h, m = (h, m + 30) if m == 0 else (h + 1, 0)
    return result


@pytest.fixture
def no_notice():
    set_rules(minimum_notice_hours=0)


def test_default_hours_offer_weekdays_nine_to_five_in_half_hours(no_notice):
    slots = bookable_slots(now=clinic_time(2030, 6, 3, 0, 0))

    assert starts_on(slots, MONDAY) == half_hours("09:00", "16:30")
    assert {local(slot).weekday() for slot in slots} == {0, 1, 2, 3, 4}
    for slot in slots:
        assert local(slot).hour >= 9
        assert slot.ends_at.astimezone(UTC) <= local(slot).replace(hour=17, minute=0)


def test_slot_length_comes_from_the_booking_rules(no_notice):
    set_rules(slot_minutes=45)

    slots = bookable_slots(now=clinic_time(2030, 6, 3, 0, 0))

    assert starts_on(slots, MONDAY) == [
        "09:00",
        "09:45",
        "10:30",
        "11:15",
        "12:00",
        "12:45",
        "13:30",
        "14:15",
        "15:00",
        "15:45",
    ]
    assert {slot.ends_at - slot.starts_at for slot in slots} == {timedelta(minutes=45)}


def test_slot_with_seats_left_stays_offered_until_capacity_is_reached(no_notice):
    set_rules(capacity=2)
    nine = clinic_time(2030, 6, 3, 9, 0)

    assert find_slot(nine, now=MONDAY_MORNING).seats_left == 2
    make_booking(starts_at=nine, seat=1)
    assert find_slot(nine, now=MONDAY_MORNING).seats_left == 1
    make_booking(starts_at=nine, seat=2, status=Status.CONFIRMED)

    assert find_slot(nine, now=MONDAY_MORNING) is None
    assert "09:00" not in starts_on(bookable_slots(now=MONDAY_MORNING), MONDAY)
    assert "09:30" in starts_on(bookable_slots(now=MONDAY_MORNING), MONDAY)


@pytest.mark.parametrize("status", [Status.REQUESTED, Status.CONFIRMED])
def test_requested_and_confirmed_bookings_hold_their_slot(no_notice, status):
    make_booking(starts_at=clinic_time(2030, 6, 3, 10, 0), status=status)

    assert "10:00" not in starts_on(bookable_slots(now=MONDAY_MORNING), MONDAY)


@pytest.mark.parametrize(
    "status", [Status.CANCELLED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW]
)
def test_bookings_that_no_longer_hold_a_slot_leave_it_free(no_notice, status):
    make_booking(starts_at=clinic_time(2030, 6, 3, 10, 0), status=status)

    assert "10:00" in starts_on(bookable_slots(now=MONDAY_MORNING), MONDAY)


# A booking holds every slot it overlaps, whatever slot it started in: the
# slot length may have changed since it was made.


def seats_by_start(now=MONDAY_MORNING):
    """{"HH:MM": seats left} for Monday's offered slots."""
    return {
        f"{local(slot):%H:%M}": slot.seats_left
        for slot in bookable_slots(now=now)
        if local(slot).date() == MONDAY
    }


def booking_from(start, end, **fields):
    """A booking on Monday from `start` to `end` ("HH:MM", clinic time)."""
    h, m = map(int, start.split(":"))
    eh, em = map(int, end.split(":"))
    return make_booking(
        starts_at=clinic_time(2030, 6, 3, h, m), ends_at=clinic_time(2030, 6, 3, eh, em), **fields
    )


def test_hour_long_booking_holds_the_half_hour_slot_it_runs_into(no_notice):
    booking_from("09:00", "10:00")

    seats = seats_by_start()

    assert "09:00" not in seats
    assert "09:30" not in seats
    assert seats["10:00"] == 1  # It has ended by then.
    assert find_slot(clinic_time(2030, 6, 3, 9, 30), now=MONDAY_MORNING) is None


def test_booking_made_before_the_slot_length_changed_holds_every_new_slot_it_overlaps(
    no_notice,
):
    booking_from("09:30", "10:00")  # A half-hour booking...
    set_rules(slot_minutes=45)  # ...then slots become 9:00, 9:45, 10:30...

    seats = seats_by_start()

    assert "09:00" not in seats  # 9:00–9:45 overlaps 9:30–10:00.
    assert "09:45" not in seats  # 9:45–10:30 overlaps it too.
    assert seats["10:30"] == 1


def test_shorter_slots_after_a_longer_booking_are_all_held(no_notice):
    set_rules(slot_minutes=60)
    booking_from("09:00", "10:00")
    set_rules(slot_minutes=30)

    seats = seats_by_start()

    assert "09:00" not in seats
    assert "09:30" not in seats
    assert seats["10:00"] == 1


def test_booking_that_started_before_the_first_slot_still_holds_it(no_notice):
    # Made when the hours began at 8:30; it runs into the 9:00 slot.
    booking_from("08:30", "09:30")

    seats = seats_by_start()

    assert "09:00" not in seats
    assert seats["09:30"] == 1


def test_overlapping_bookings_are_counted_against_each_slots_capacity(no_notice):
    set_rules(capacity=2)
    booking_from("09:00", "11:00")
    booking_from("10:00", "10:30")

    seats = seats_by_start()

    assert (seats["09:00"], seats["09:30"], seats["10:30"], seats["11:00"]) == (1, 1, 1, 2)
    assert "10:00" not in seats


@pytest.mark.parametrize(
    "status", [Status.CANCELLED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW]
)
def test_long_booking_that_no_longer_holds_a_slot_leaves_every_slot_free(no_notice, status):
    booking_from("09:00", "10:00", status=status)

    seats = seats_by_start()

    assert (seats["09:00"], seats["09:30"]) == (1, 1)


# Opening hours: a weekday's windows must not overlap (they would offer the
# same time twice).


def hours(weekday, start, end):
    return OpeningHours(
        weekday=weekday, starts_at=time.fromisoformat(start), ends_at=time.fromisoformat(end)
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("08:00", "09:30"),  # runs into the morning window
        ("11:30", "13:00"),  # starts inside it
        ("10:00", "11:00"),  # inside it
        ("08:00", "13:00"),  # around it
        ("09:00", "12:00"),  # the same hours
    ],
)
def test_hours_overlapping_another_window_the_same_day_are_refused(start, end):
    set_hours({0: [("09:00", "12:00")], 1: [("13:00", "17:00")]})

    with pytest.raises(ValidationError) as refusal:
        hours(0, start, end).full_clean()

    assert refusal.value.messages == [
        "These hours overlap Monday 09:00–12:00. Change or remove that window first."
    ]


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [
        (0, "12:00", "13:00"),  # straight after the morning window
        (0, "08:00", "09:00"),  # straight before it
        (0, "14:00", "17:00"),  # a second window later that day
        (2, "09:00", "12:00"),  # the same hours on another day
    ],
)
def test_hours_that_do_not_overlap_a_window_the_same_day_are_accepted(weekday, start, end):
    set_hours({0: [("09:00", "12:00")], 1: [("13:00", "17:00")]})

    hours(weekday, start, end).full_clean()  # Raises nothing.


def test_a_window_changed_within_its_own_hours_does_not_overlap_itself():
    set_hours({0: [("09:00", "12:00")]})
    window = OpeningHours.objects.get()
    window.ends_at = time(11)

    window.full_clean()  # Raises nothing.


def test_closed_days_offer_no_slots(no_notice):
    Closure.objects.create(starts_on=TUESDAY, ends_on=WEDNESDAY, reason="Training")

    slots = bookable_slots(now=MONDAY_MORNING)

    assert starts_on(slots, TUESDAY) == []
    assert starts_on(slots, WEDNESDAY) == []
    assert starts_on(slots, MONDAY) == half_hours("09:00", "16:30")
    assert starts_on(slots, THURSDAY) == half_hours("09:00", "16:30")
    assert find_slot(clinic_time(2030, 6, 4, 9, 0), now=MONDAY_MORNING) is None


def test_minimum_notice_hides_slots_starting_too_soon():
    set_rules(minimum_notice_hours=12)

    slots = bookable_slots(now=MONDAY_MORNING)

    assert starts_on(slots, MONDAY) == []
    assert local(slots[0]) == clinic_time(2030, 6, 4, 9, 0)


def test_slot_exactly_at_the_minimum_notice_is_offered():
    set_rules(minimum_notice_hours=2)

    slots = bookable_slots(now=MONDAY_MORNING)

    assert starts_on(slots, MONDAY)[0] == "10:00"


def test_horizon_hides_slots_too_far_ahead(no_notice):
    set_rules(horizon_days=3)

    slots = bookable_slots(now=clinic_time(2030, 6, 3, 10, 0))

    # Three days from Monday 10:00 is Thursday 10:00, the last slot offered.
    assert local(slots[-1]) == clinic_time(2030, 6, 6, 10, 0)
    assert starts_on(slots, THURSDAY) == ["09:00", "09:30", "10:00"]
    assert starts_on(slots, date(2030, 6, 7)) == []


def test_default_horizon_is_sixty_days(no_notice):
    now = clinic_time(2030, 6, 3, 0, 0)

    slots = bookable_slots(now=now)

    assert slots[-1].starts_at <= now + timedelta(days=60)
    assert slots[-1].starts_at > now + timedelta(days=59)


def test_a_weekday_can_have_several_windows(no_notice):
    set_hours({0: [("09:00", "12:00"), ("14:00", "17:00")], 1: [("08:00", "09:00")]})

    slots = bookable_slots(now=clinic_time(2030, 6, 3, 0, 0))

    assert starts_on(slots, MONDAY) == half_hours("09:00", "11:30") + half_hours("14:00", "16:30")
    assert starts_on(slots, TUESDAY) == ["08:00", "08:30"]
    assert starts_on(slots, WEDNESDAY) == []


def test_slot_value_is_the_utc_minute_and_reads_back_to_the_same_instant(no_notice):
    slot = find_slot(clinic_time(2030, 6, 3, 9, 0), now=MONDAY_MORNING)

    assert slot.value == "2030-06-03T13:00Z"
    assert parse_slot_value(slot.value) == slot.starts_at


@pytest.mark.parametrize("value", ["", "2030-06-03 13:00", "2030-06-03T13:00", "tomorrow"])
def test_anything_but_a_slot_value_is_refused(value):
    with pytest.raises(ValueError):
        parse_slot_value(value)


# Daylight saving. Nine o'clock at the clinic is 14:00 UTC in winter (EST,
# UTC-5) and 13:00 UTC in summer (EDT, UTC-4).


@pytest.fixture
def open_every_day(no_notice):
    set_hours({weekday: [("09:00", "17:00")] for weekday in range(7)})


@pytest.mark.parametrize(
    ("day", "nine_oclock_utc"),
    [
        (date(2030, 3, 8), utc(2030, 3, 8, 14)),  # Friday before: EST
        (date(2030, 3, 9), utc(2030, 3, 9, 14)),  # Saturday before: EST
        (SPRING_FORWARD, utc(2030, 3, 10, 13)),  # the Sunday itself: EDT from 3:00
        (date(2030, 3, 11), utc(2030, 3, 11, 13)),  # Monday after: EDT
    ],
)
def test_slots_around_spring_forward_have_the_right_utc_instants(
    open_every_day, day, nine_oclock_utc
):
    slots = bookable_slots(now=clinic_time(2030, 3, 7, 0, 0))

    on_the_day = utc_starts_on(slots, day)
    assert on_the_day[0] == nine_oclock_utc
    assert on_the_day[-1] == nine_oclock_utc + timedelta(hours=7, minutes=30)
    assert len(on_the_day) == 16


@pytest.mark.parametrize(
    ("day", "nine_oclock_utc"),
    [
        (date(2030, 11, 1), utc(2030, 11, 1, 13)),  # Friday before: EDT
        (date(2030, 11, 2), utc(2030, 11, 2, 13)),  # Saturday before: EDT
        (FALL_BACK, utc(2030, 11, 3, 14)),  # the Sunday itself: EST from 2:00
        (date(2030, 11, 4), utc(2030, 11, 4, 14)),  # Monday after: EST
    ],
)
def test_slots_around_fall_back_have_the_right_utc_instants(open_every_day, day, nine_oclock_utc):
    slots = bookable_slots(now=clinic_time(2030, 10, 31, 0, 0))

    on_the_day = utc_starts_on(slots, day)
    assert on_the_day[0] == nine_oclock_utc
    assert on_the_day[-1] == nine_oclock_utc + timedelta(hours=7, minutes=30)
    assert len(on_the_day) == 16


def test_spring_forward_window_skips_the_times_that_do_not_exist(no_notice):
    set_hours({SUNDAY: [("01:00", "04:00")]})

    slots = bookable_slots(now=clinic_time(2030, 3, 9, 0, 0))

    # 2:00 and 2:30 never happen that night: 1:59 EST is followed by 3:00 EDT.
    assert starts_on(slots, SPRING_FORWARD) == ["01:00", "01:30", "03:00", "03:30"]
    assert utc_starts_on(slots, SPRING_FORWARD) == [
        utc(2030, 3, 10, 6, 0),
        utc(2030, 3, 10, 6, 30),
        utc(2030, 3, 10, 7, 0),
        utc(2030, 3, 10, 7, 30),
    ]


def test_fall_back_window_offers_the_repeated_hour_once(no_notice):
    set_hours({SUNDAY: [("00:00", "03:00")]})

    slots = bookable_slots(now=clinic_time(2030, 11, 2, 0, 0))

    # 1:00–2:00 happens twice that night (EDT, then EST); it is offered once.
    assert starts_on(slots, FALL_BACK) == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    assert utc_starts_on(slots, FALL_BACK) == [
        utc(2030, 11, 3, 4, 0),
        utc(2030, 11, 3, 4, 30),
        utc(2030, 11, 3, 5, 0),
        utc(2030, 11, 3, 5, 30),
        utc(2030, 11, 3, 7, 0),
        utc(2030, 11, 3, 7, 30),
    ]


@pytest.mark.parametrize(
    ("day", "window", "now"),
    [
        (SPRING_FORWARD, ("00:00", "05:00"), clinic_time(2030, 3, 9, 0, 0)),
        (FALL_BACK, ("00:00", "05:00"), clinic_time(2030, 11, 2, 0, 0)),
    ],
)
def test_every_slot_lasts_the_slot_length_in_real_time_across_a_clock_change(
    no_notice, day, window, now
):
    set_hours({SUNDAY: [window]})

    slots = [slot for slot in bookable_slots(now=now) if local(slot).date() == day]

    assert slots
    for slot in slots:
        # Subtracting in UTC: aware datetimes in one zone subtract as wall clocks.
        lasts = slot.ends_at.astimezone(UTC) - slot.starts_at.astimezone(UTC)
        assert lasts == timedelta(minutes=30), f"{local(slot):%H:%M %Z} lasts {lasts}"


@pytest.mark.parametrize("starts_at", [utc(2030, 11, 3, 5, 0), utc(2030, 11, 3, 5, 30)])
def test_slot_in_the_repeated_hour_can_be_found_from_the_value_the_form_posts(no_notice, starts_at):
    set_hours({SUNDAY: [("00:00", "03:00")]})
    now = clinic_time(2030, 11, 2, 0, 0)
    offered = {slot.value for slot in bookable_slots(now=now)}
    value = starts_at.strftime("%Y-%m-%dT%H:%MZ")
    assert value in offered

    slot = find_slot(parse_slot_value(value), now=now)

    assert slot is not None
    assert slot.starts_at == starts_at


def test_booked_slot_in_the_repeated_hour_is_no_longer_offered(no_notice):
    set_hours({SUNDAY: [("00:00", "03:00")]})
    make_booking(starts_at=utc(2030, 11, 3, 5, 30))  # 1:30 EDT, the first 1:30 that night

    offered = {slot.value for slot in bookable_slots(now=clinic_time(2030, 11, 2, 0, 0))}

    assert "2030-11-03T05:30Z" not in offered
    assert "2030-11-03T05:00Z" in offered


# The query budget.


def test_bookable_slots_costs_four_queries_however_many_bookings_there_are(
    no_notice, django_assert_num_queries
):
    Closure.objects.create(starts_on=date(2030, 6, 10), ends_on=date(2030, 6, 10))
    make_booking(starts_at=clinic_time(2030, 6, 3, 9, 0))
    with django_assert_num_queries(4):
        few = bookable_slots(now=MONDAY_MORNING)

    for day in range(4, 28):
        for hour in (9, 11, 13, 15):
            make_booking(starts_at=clinic_time(2030, 6, day, hour, 0))
    with django_assert_num_queries(4):
        many = bookable_slots(now=MONDAY_MORNING)

    assert len(many) < len(few)
