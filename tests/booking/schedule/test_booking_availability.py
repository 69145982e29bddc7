"""
Which consultation times are offered: each practitioner's weekly hours,
the consultation type's length, turnover and grid, the booking rules,
closures, bookings already made, and the clinic's own zone across
daylight-saving changes.

Every test passes `now=`, so none depends on the day the suite runs.
"""

from datetime import UTC, date, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from booking.models import Closure, TimeOff, WorkingHours
from booking.services.schedule import ClinicCalendar, bookable_slots, parse_slot_value
from tests.support.booking import (
    CLINIC_ZONE,
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    Status,
    clinic_time,
    consultation_type,
    make_booking,
    make_practitioner,
    only_practitioners,
    practitioner,
    set_hours,
    set_rules,
    set_type,
    utc,
)

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]

# Monday 3 June 2030, 8:00 in New York (EDT): a week with no holidays.
MONDAY_MORNING = clinic_time(2030, 6, 3, 8, 0)
MONDAY, TUESDAY, WEDNESDAY, THURSDAY = (date(2030, 6, day) for day in (3, 4, 5, 6))

# 2030's US daylight-saving changes: clocks go 2:00 → 3:00 on 10 March and
# 2:00 → 1:00 on 3 November.
SPRING_FORWARD = date(2030, 3, 10)
FALL_BACK = date(2030, 11, 3)
SUNDAY = 6


def slots(kind=None, **options):
    """The bookable times of a consultation type (a skin assessment by default)."""
    return bookable_slots(kind or consultation_type(), **options)


def find(starts_at, kind=None, **options):
    return ClinicCalendar(kind or consultation_type(), **options).find(starts_at)


def local(slot):
    return slot.starts_at.astimezone(CLINIC_ZONE)


def starts_on(slots, day):
    """The local start times, as "HH:MM", of the slots on a clinic-local day."""
    return [f"{local(slot):%H:%M}" for slot in slots if local(slot).date() == day]


def utc_starts_on(slots, day):
    return [slot.starts_at.astimezone(UTC) for slot in slots if local(slot).date() == day]


def every(minutes, first, last):
    """ "HH:MM" every `minutes` from `first` to `last` inclusive."""
    h, m = map(int, first.split(":"))
    result = []
    while f"{h:02d}:{m:02d}" <= last:
        result.append(f"{h:02d}:{m:02d}")
        h, m = divmod(h * 60 + m + minutes, 60)
    return result


def quarter_hours(first, last):
    return every(15, first, last)


@pytest.fixture
def no_notice():
    set_rules(minimum_notice_hours=0)


@pytest.fixture
def maya():
    return practitioner(ESTHETICIAN)


@pytest.fixture
def daniel():
    return practitioner(NURSE_PRACTITIONER)


@pytest.fixture
def one_practitioner(no_notice, maya):
    """Only the esthetician works: a time a booking of hers holds is not offered at all."""
    only_practitioners(maya)
    return maya


def test_seeded_hours_offer_weekdays_nine_to_five_on_the_quarter_hour(no_notice):
    offered = slots(now=clinic_time(2030, 6, 3, 0, 0))

    # A 30-minute skin assessment: the last one starts at 16:30 and ends at 17:00.
    assert starts_on(offered, MONDAY) == quarter_hours("09:00", "16:30")
    assert {local(slot).weekday() for slot in offered} == {0, 1, 2, 3, 4}
    for slot in offered:
        assert local(slot).hour >= 9
        assert slot.ends_at.astimezone(UTC) <= local(slot).replace(hour=17, minute=0)


def test_consultation_length_comes_from_its_type(no_notice):
    kind = set_type(duration_minutes=45)

    offered = slots(kind, now=clinic_time(2030, 6, 3, 0, 0))

    assert starts_on(offered, MONDAY) == quarter_hours("09:00", "16:15")
    assert {slot.ends_at - slot.starts_at for slot in offered} == {timedelta(minutes=45)}


def test_start_times_fall_on_the_types_grid(no_notice):
    kind = set_type(duration_minutes=45, grid_minutes=45)

    offered = slots(kind, now=clinic_time(2030, 6, 3, 0, 0))

    assert starts_on(offered, MONDAY) == [
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
    assert {slot.ends_at - slot.starts_at for slot in offered} == {timedelta(minutes=45)}


def test_grid_counts_from_midnight_not_from_the_start_of_the_hours(no_notice):
    set_hours({0: [("09:10", "11:00")]})

    offered = slots(now=clinic_time(2030, 6, 3, 0, 0))

    assert starts_on(offered, MONDAY) == ["09:15", "09:30", "09:45", "10:00", "10:15", "10:30"]


def test_seeded_medical_consultation_lasts_45_minutes_and_only_the_medical_provider_holds_it(
    no_notice, daniel
):
    offered = slots(consultation_type(MEDICAL_CONSULTATION), now=clinic_time(2030, 6, 3, 0, 0))

    assert starts_on(offered, MONDAY) == quarter_hours("09:00", "16:15")
    assert {slot.ends_at - slot.starts_at for slot in offered} == {timedelta(minutes=45)}
    assert {slot.practitioners for slot in offered} == {(daniel,)}


def test_time_stays_offered_until_every_practitioner_is_booked(no_notice, maya, daniel):
    nine = clinic_time(2030, 6, 3, 9, 0)

    assert find(nine, now=MONDAY_MORNING).practitioners == (maya, daniel)
    make_booking(starts_at=nine, practitioner=maya)
    assert find(nine, now=MONDAY_MORNING).practitioners == (daniel,)
    make_booking(starts_at=nine, practitioner=daniel, status=Status.CONFIRMED)

    assert find(nine, now=MONDAY_MORNING) is None
    monday = starts_on(slots(now=MONDAY_MORNING), MONDAY)
    assert "09:00" not in monday
    # Both are busy until 9:30 plus the 10 minutes' turnover.
    assert "09:30" not in monday
    assert "09:45" in monday


def test_a_practitioner_can_be_asked_for_by_name(no_notice, maya, daniel):
    make_booking(starts_at=clinic_time(2030, 6, 3, 9, 0), practitioner=maya)

    assert "09:00" not in starts_on(slots(practitioner=maya, now=MONDAY_MORNING), MONDAY)
    assert "09:00" in starts_on(slots(practitioner=daniel, now=MONDAY_MORNING), MONDAY)
    assert find(clinic_time(2030, 6, 3, 9, 0), practitioner=maya, now=MONDAY_MORNING) is None


@pytest.mark.parametrize("status", [Status.REQUESTED, Status.CONFIRMED])
def test_requested_and_confirmed_bookings_hold_their_time(one_practitioner, status):
    make_booking(starts_at=clinic_time(2030, 6, 3, 10, 0), status=status)

    assert "10:00" not in starts_on(slots(now=MONDAY_MORNING), MONDAY)


@pytest.mark.parametrize(
    "status", [Status.CANCELLED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW]
)
def test_bookings_that_no_longer_hold_a_time_leave_it_free(one_practitioner, status):
    make_booking(starts_at=clinic_time(2030, 6, 3, 10, 0), status=status)

    assert "10:00" in starts_on(slots(now=MONDAY_MORNING), MONDAY)


# A booking holds its practitioner from its start to its end plus turnover,
# whatever the type's length or grid are now: they may have changed since it
# was made. A new consultation needs its own turnover before the next one.


def free_by_start(now=MONDAY_MORNING, kind=None):
    """{"HH:MM": (slugs of the practitioners free)} for Monday's offered times."""
    return {
        f"{local(slot):%H:%M}": tuple(person.slug for person in slot.practitioners)
        for slot in slots(kind, now=now)
        if local(slot).date() == MONDAY
    }


def booking_from(start, end, **fields):
    """A booking on Monday from `start` to `end` ("HH:MM", clinic time)."""
    h, m = map(int, start.split(":"))
    eh, em = map(int, end.split(":"))
    return make_booking(
        starts_at=clinic_time(2030, 6, 3, h, m), ends_at=clinic_time(2030, 6, 3, eh, em), **fields
    )


def test_turnover_after_a_booking_keeps_its_practitioner_busy(one_practitioner):
    booking_from("09:00", "09:30")  # Busy until 9:40.

    free = free_by_start()

    assert "09:30" not in free
    assert free["09:45"] == (ESTHETICIAN,)


def test_without_turnover_the_next_consultation_starts_when_the_last_one_ends(one_practitioner):
    kind = set_type(turnover_minutes=0)
    make_booking(starts_at=clinic_time(2030, 6, 3, 9, 0), consultation_type=kind)

    free = free_by_start()

    assert "09:15" not in free
    assert free["09:30"] == (ESTHETICIAN,)


def test_a_new_consultation_and_its_turnover_must_end_before_the_next_booking(one_practitioner):
    booking_from("10:00", "10:30")

    free = free_by_start()

    # 9:30–10:00 would leave no turnover before 10:00; 9:15–9:45 leaves ten minutes.
    assert free["09:15"] == (ESTHETICIAN,)
    assert "09:30" not in free
    assert "09:45" not in free


def test_hour_long_booking_holds_every_start_it_runs_into(one_practitioner):
    booking_from("09:00", "10:00")

    free = free_by_start()

    for start in quarter_hours("09:00", "10:00"):
        assert start not in free
    assert free["10:15"] == (ESTHETICIAN,)  # It and its turnover are over by then.
    assert find(clinic_time(2030, 6, 3, 9, 30), now=MONDAY_MORNING) is None


def test_booking_made_before_the_type_got_longer_holds_every_time_it_overlaps(
    one_practitioner,
):
    booking_from("09:30", "10:00")  # A half-hour booking...
    kind = set_type(duration_minutes=45)  # ...then the consultation becomes 45 minutes.

    free = free_by_start(kind=kind)

    assert "09:00" not in free  # 9:00–9:45 overlaps 9:30–10:00.
    assert "10:00" not in free  # Its turnover runs to 10:10.
    assert min(free) == "10:15"


def test_a_longer_consultation_holds_every_shorter_start_it_overlaps(one_practitioner):
    # A 45-minute medical consultation, 9:00–9:45, busy until 9:55.
    make_booking(
        starts_at=clinic_time(2030, 6, 3, 9, 0),
        consultation_type=consultation_type(MEDICAL_CONSULTATION),
    )

    free = free_by_start()

    for start in quarter_hours("09:00", "09:45"):
        assert start not in free
    assert free["10:00"] == (ESTHETICIAN,)


def test_booking_that_started_before_the_hours_still_holds_the_times_it_runs_into(
    one_practitioner,
):
    # Made when her hours began at 8:30; it runs into 9:00.
    booking_from("08:30", "09:30")

    free = free_by_start()

    assert "09:00" not in free
    assert "09:30" not in free
    assert free["09:45"] == (ESTHETICIAN,)


def test_each_practitioner_is_held_only_by_their_own_bookings(no_notice, maya, daniel):
    booking_from("09:00", "11:00", practitioner=maya)  # Maya busy until 11:10.
    booking_from("10:00", "10:30", practitioner=daniel)  # Daniel busy 10:00–10:40.

    free = free_by_start()

    assert free["09:00"] == (NURSE_PRACTITIONER,)
    assert free["09:15"] == (NURSE_PRACTITIONER,)  # Ends 9:45, his turnover ends 9:55.
    assert "09:30" not in free  # His turnover would run into 10:00.
    assert "10:00" not in free
    assert "10:30" not in free
    assert free["10:45"] == (NURSE_PRACTITIONER,)
    assert free["11:00"] == (NURSE_PRACTITIONER,)
    assert free["11:15"] == (ESTHETICIAN, NURSE_PRACTITIONER)


@pytest.mark.parametrize(
    "status", [Status.CANCELLED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW]
)
def test_long_booking_that_no_longer_holds_its_time_leaves_every_time_free(
    one_practitioner, status
):
    booking_from("09:00", "10:00", status=status)

    free = free_by_start()

    for start in quarter_hours("09:00", "10:00"):
        assert free[start] == (ESTHETICIAN,)


def test_time_off_hides_that_practitioners_times_only(no_notice, maya, daniel):
    TimeOff.objects.create(
        practitioner=maya,
        starts_at=clinic_time(2030, 6, 3, 12, 0),
        ends_at=clinic_time(2030, 6, 4, 12, 0),
    )

    free = free_by_start()

    # Her turnover, like a booking's, must be over before her time off begins.
    assert free["11:15"] == (ESTHETICIAN, NURSE_PRACTITIONER)
    assert free["11:30"] == (NURSE_PRACTITIONER,)
    assert free["16:30"] == (NURSE_PRACTITIONER,)


# Working hours: a practitioner's windows on a weekday must not overlap
# (they would offer the same time twice).


def hours(weekday, start, end, person=None):
    return WorkingHours(
        practitioner=person or practitioner(ESTHETICIAN),
        weekday=weekday,
        starts_at=time.fromisoformat(start),
        ends_at=time.fromisoformat(end),
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


def test_another_practitioners_hours_may_be_the_same(daniel):
    set_hours({0: [("09:00", "12:00")]}, practitioners=[practitioner(ESTHETICIAN)])
    set_hours({}, practitioners=[daniel])

    hours(0, "09:00", "12:00", person=daniel).full_clean()  # Raises nothing.


def test_a_window_changed_within_its_own_hours_does_not_overlap_itself(maya):
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    window = WorkingHours.objects.get(practitioner=maya)
    window.ends_at = time(11)

    window.full_clean()  # Raises nothing.


def test_closed_days_offer_no_times(no_notice):
    Closure.objects.create(starts_on=TUESDAY, ends_on=WEDNESDAY, reason="Training")

    offered = slots(now=MONDAY_MORNING)

    assert starts_on(offered, TUESDAY) == []
    assert starts_on(offered, WEDNESDAY) == []
    assert starts_on(offered, MONDAY) == quarter_hours("09:00", "16:30")
    assert starts_on(offered, THURSDAY) == quarter_hours("09:00", "16:30")
    assert find(clinic_time(2030, 6, 4, 9, 0), now=MONDAY_MORNING) is None


def test_minimum_notice_hides_times_starting_too_soon():
    set_rules(minimum_notice_hours=12)

    offered = slots(now=MONDAY_MORNING)

    assert starts_on(offered, MONDAY) == []
    assert local(offered[0]) == clinic_time(2030, 6, 4, 9, 0)


def test_time_exactly_at_the_minimum_notice_is_offered():
    set_rules(minimum_notice_hours=2)

    offered = slots(now=MONDAY_MORNING)

    assert starts_on(offered, MONDAY)[0] == "10:00"


def test_horizon_hides_times_too_far_ahead(no_notice):
    set_rules(horizon_days=3)

    offered = slots(now=clinic_time(2030, 6, 3, 10, 0))

    # Three days from Monday 10:00 is Thursday 10:00, the last time offered.
    assert local(offered[-1]) == clinic_time(2030, 6, 6, 10, 0)
    assert starts_on(offered, THURSDAY) == quarter_hours("09:00", "10:00")
    assert starts_on(offered, date(2030, 6, 7)) == []


def test_default_horizon_is_sixty_days(no_notice):
    now = clinic_time(2030, 6, 3, 0, 0)

    offered = slots(now=now)

    assert offered[-1].starts_at <= now + timedelta(days=60)
    assert offered[-1].starts_at > now + timedelta(days=59)


def test_a_weekday_can_have_several_windows(no_notice):
    set_hours({0: [("09:00", "12:00"), ("14:00", "17:00")], 1: [("08:00", "09:00")]})

    offered = slots(now=clinic_time(2030, 6, 3, 0, 0))

    assert starts_on(offered, MONDAY) == quarter_hours("09:00", "11:30") + quarter_hours(
        "14:00", "16:30"
    )
    assert starts_on(offered, TUESDAY) == ["08:00", "08:15", "08:30"]
    assert starts_on(offered, WEDNESDAY) == []


def test_practitioners_hours_add_up_to_the_times_offered(no_notice, maya, daniel):
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    set_hours({0: [("13:00", "15:00")]}, practitioners=[daniel])

    free = free_by_start(now=clinic_time(2030, 6, 3, 0, 0))

    assert list(free) == quarter_hours("09:00", "11:30") + quarter_hours("13:00", "14:30")
    assert free["11:30"] == (ESTHETICIAN,)
    assert free["13:00"] == (NURSE_PRACTITIONER,)


def test_slot_value_is_the_utc_minute_and_reads_back_to_the_same_instant(no_notice):
    slot = find(clinic_time(2030, 6, 3, 9, 0), now=MONDAY_MORNING)

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
def test_times_around_spring_forward_have_the_right_utc_instants(
    open_every_day, day, nine_oclock_utc
):
    offered = slots(now=clinic_time(2030, 3, 7, 0, 0))

    on_the_day = utc_starts_on(offered, day)
    assert on_the_day[0] == nine_oclock_utc
    assert on_the_day[-1] == nine_oclock_utc + timedelta(hours=7, minutes=30)
    assert len(on_the_day) == 31


@pytest.mark.parametrize(
    ("day", "nine_oclock_utc"),
    [
        (date(2030, 11, 1), utc(2030, 11, 1, 13)),  # Friday before: EDT
        (date(2030, 11, 2), utc(2030, 11, 2, 13)),  # Saturday before: EDT
        (FALL_BACK, utc(2030, 11, 3, 14)),  # the Sunday itself: EST from 2:00
        (date(2030, 11, 4), utc(2030, 11, 4, 14)),  # Monday after: EST
    ],
)
def test_times_around_fall_back_have_the_right_utc_instants(open_every_day, day, nine_oclock_utc):
    offered = slots(now=clinic_time(2030, 10, 31, 0, 0))

    on_the_day = utc_starts_on(offered, day)
    assert on_the_day[0] == nine_oclock_utc
    assert on_the_day[-1] == nine_oclock_utc + timedelta(hours=7, minutes=30)
    assert len(on_the_day) == 31


def test_spring_forward_window_skips_the_times_that_do_not_exist(no_notice):
    set_hours({SUNDAY: [("01:00", "04:00")]})

    offered = slots(now=clinic_time(2030, 3, 9, 0, 0))

    # 2:00 to 2:45 never happen that night: 1:59 EST is followed by 3:00 EDT.
    assert starts_on(offered, SPRING_FORWARD) == [
        "01:00",
        "01:15",
        "01:30",
        "01:45",
        "03:00",
        "03:15",
        "03:30",
    ]
    assert utc_starts_on(offered, SPRING_FORWARD) == [
        utc(2030, 3, 10, 6, 0),
        utc(2030, 3, 10, 6, 15),
        utc(2030, 3, 10, 6, 30),
        utc(2030, 3, 10, 6, 45),
        utc(2030, 3, 10, 7, 0),
        utc(2030, 3, 10, 7, 15),
        utc(2030, 3, 10, 7, 30),
    ]


def test_fall_back_window_offers_each_hour_of_the_repeated_hour(no_notice):
    set_hours({SUNDAY: [("00:00", "03:00")]})

    offered = slots(now=clinic_time(2030, 11, 2, 0, 0))

    # 1:00–2:00 happens twice that night (EDT, then EST): the window runs from
    # 00:00 EDT to 03:00 EST, four real hours, and each instant is offered once.
    assert starts_on(offered, FALL_BACK) == (
        quarter_hours("00:00", "01:45") + quarter_hours("01:00", "02:30")
    )
    assert utc_starts_on(offered, FALL_BACK) == [
        utc(2030, 11, 3, 4, 0) + timedelta(minutes=15 * n) for n in range(15)
    ]


def test_fall_back_window_closing_in_the_repeated_hour_closes_at_its_first_instance(no_notice):
    set_hours({SUNDAY: [("00:00", "01:30")]})

    offered = slots(now=clinic_time(2030, 11, 2, 0, 0))

    # Closing at 1:30 AM means the first 1:30 AM (EDT): a 30-minute
    # consultation starts by 1:00 AM EDT, never in the EST hour.
    assert utc_starts_on(offered, FALL_BACK) == [
        utc(2030, 11, 3, 4, 0) + timedelta(minutes=15 * n) for n in range(5)
    ]


@pytest.mark.parametrize(
    ("day", "window", "now"),
    [
        (SPRING_FORWARD, ("00:00", "05:00"), clinic_time(2030, 3, 9, 0, 0)),
        (FALL_BACK, ("00:00", "05:00"), clinic_time(2030, 11, 2, 0, 0)),
    ],
)
def test_every_consultation_lasts_its_length_in_real_time_across_a_clock_change(
    no_notice, day, window, now
):
    set_hours({SUNDAY: [window]})

    on_the_day = [slot for slot in slots(now=now) if local(slot).date() == day]

    assert on_the_day
    for slot in on_the_day:
        # Subtracting in UTC: aware datetimes in one zone subtract as wall clocks.
        lasts = slot.ends_at.astimezone(UTC) - slot.starts_at.astimezone(UTC)
        assert lasts == timedelta(minutes=30), f"{local(slot):%H:%M %Z} lasts {lasts}"


@pytest.mark.parametrize("starts_at", [utc(2030, 11, 3, 5, 0), utc(2030, 11, 3, 5, 30)])
def test_time_in_the_repeated_hour_can_be_found_from_the_value_the_form_posts(no_notice, starts_at):
    set_hours({SUNDAY: [("00:00", "03:00")]})
    now = clinic_time(2030, 11, 2, 0, 0)
    offered = {slot.value for slot in slots(now=now)}
    value = starts_at.strftime("%Y-%m-%dT%H:%MZ")
    assert value in offered

    slot = find(parse_slot_value(value), now=now)

    assert slot is not None
    assert slot.starts_at == starts_at


def test_booked_time_in_the_repeated_hour_is_no_longer_offered(one_practitioner):
    set_hours({SUNDAY: [("00:00", "03:00")]})
    make_booking(starts_at=utc(2030, 11, 3, 5, 30))  # 1:30 EDT, the first 1:30 that night

    offered = {slot.value for slot in slots(now=clinic_time(2030, 11, 2, 0, 0))}

    assert "2030-11-03T05:30Z" not in offered
    assert "2030-11-03T05:00Z" not in offered  # Its turnover would run into 1:30 EDT.
    assert "2030-11-03T04:45Z" in offered
    assert "2030-11-03T07:00Z" in offered  # 2:00 EST, after the second 1:00–2:00.


# The query budget.


def test_bookable_slots_costs_five_queries_however_many_bookings_and_practitioners_there_are(
    no_notice, maya, django_assert_num_queries
):
    Closure.objects.create(starts_on=date(2030, 6, 10), ends_on=date(2030, 6, 10))
    make_booking(starts_at=clinic_time(2030, 6, 3, 9, 0))
    kind = consultation_type()
    with django_assert_num_queries(5):
        few = slots(kind, now=MONDAY_MORNING)

    people = [maya] + [make_practitioner() for _ in range(4)]
    for n, person in enumerate(people):
        TimeOff.objects.create(
            practitioner=person,
            starts_at=clinic_time(2030, 6, 28, 9, 0),
            ends_at=clinic_time(2030, 6, 28 + n % 2, 17, 0),
        )
        for day in range(4, 28):
            for hour in (9, 11, 13, 15):
                make_booking(starts_at=clinic_time(2030, 6, day, hour, 0), practitioner=person)
    only_practitioners(*people)
    with django_assert_num_queries(5):
        many = slots(kind, now=MONDAY_MORNING)

    assert len(many) < len(few)
