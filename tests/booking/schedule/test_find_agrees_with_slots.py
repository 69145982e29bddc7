"""
ClinicCalendar.find checks one start by slots()'s rules without listing
the day's times (the booking POST's check): generated clinics, days (the
two when the clocks change among them) and starts show it finds exactly
the times slots() lists, with the same practitioners in the same order.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import IntegrityError, OperationalError, transaction
from hypothesis import example, given
from hypothesis import strategies as st

from booking.models import Closure, ConsultationBooking, TimeOff, WorkingHours
from booking.overlap import refused_as_overlap
from booking.services.schedule import ClinicCalendar
from tests.support.booking import (
    CLINIC_ZONE,
    Status,
    make_booking,
    make_consultation_type,
    make_practitioner,
    only_practitioners,
    set_rules,
)
from tests.support.fuzz import fuzz, rolled_back

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]

# An ordinary Wednesday, the night the clocks go forward, the night they go back.
DAYS = [date(2031, 6, 11), date(2031, 3, 9), date(2031, 11, 2)]

clock_minutes = st.integers(0, 23 * 60 + 50).map(lambda minutes: minutes - minutes % 5)


@st.composite
def windows(draw):
    opens = draw(clock_minutes)
    closes = draw(st.integers(opens + 5, 23 * 60 + 59))
    return time(opens // 60, opens % 60), time(closes // 60, closes % 60)


@st.composite
def clinics(draw):
    return {
        "length": draw(st.sampled_from([15, 30, 45, 60, 90])),
        "turnover": draw(st.sampled_from([0, 10, 15])),
        "grid": draw(st.sampled_from([5, 10, 15, 20, 30, 45])),
        "people": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "windows": st.lists(windows(), max_size=2),
                        "online": st.booleans(),
                        # (minutes from midnight, length, active) on the day.
                        "bookings": st.lists(
                            st.tuples(
                                st.integers(-120, 26 * 60), st.integers(15, 120), st.booleans()
                            ),
                            max_size=4,
                        ),
                        "time_off": st.lists(
                            st.tuples(st.integers(-24 * 60, 26 * 60), st.integers(5, 600)),
                            max_size=1,
                        ),
                    }
                ),
                min_size=1,
                max_size=3,
            )
        ),
        "day": draw(st.sampled_from(DAYS)),
        # Now and then a closure on the day.
        "closed": draw(st.sampled_from([False, False, False, True])),
        # The clock, as often on the day itself (where minimum notice cuts
        # it) as up to three days before it; minutes before its noon.
        "now_minutes_before": draw(
            st.one_of(st.integers(-12 * 60, 12 * 60), st.integers(12 * 60, 3 * 24 * 60))
        ),
        "notice_hours": draw(st.sampled_from([0, 2, 24])),
        "horizon_days": draw(st.sampled_from([1, 2, 60])),
        "for_staff": draw(st.booleans()),
        "named": draw(st.booleans()),
        "odd_starts": draw(st.lists(st.integers(0, 25 * 60 * 60), max_size=5)),
    }


def midnight(day):
    """The clinic's midnight, in UTC: added to, it counts real time across a clock change."""
    return datetime.combine(day, time(0), tzinfo=CLINIC_ZONE).astimezone(UTC)


def set_up(clinic):
    """The clinic drawn, in the database: the type, its practitioners and their day."""
    day = clinic["day"]
    kind = make_consultation_type(
        duration_minutes=clinic["length"],
        turnover_minutes=clinic["turnover"],
        grid_minutes=clinic["grid"],
    )
    people = []
    for n, drawn in enumerate(clinic["people"]):
        person = make_practitioner(hours={0: [("09:00", "10:00")]}, display_order=n)
        person.takes_online_bookings = drawn["online"]
        person.save()
        WorkingHours.objects.filter(practitioner=person).delete()
        kept = []
        for opens, closes in drawn["windows"]:
            # As WorkingHours.clean() allows: windows that do not overlap.
            if not any(
                opens < other_closes and closes > other_opens for other_opens, other_closes in kept
            ):
                kept.append((opens, closes))
        WorkingHours.objects.bulk_create(
            WorkingHours(
                practitioner=person, weekday=day.weekday(), starts_at=opens, ends_at=closes
            )
            for opens, closes in kept
        )
        for minutes, length, active in drawn["bookings"]:
            starts_at = midnight(day) + timedelta(minutes=minutes)
            try:
                with transaction.atomic():
                    make_booking(
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=length),
                        practitioner=person,
                        consultation_type=kind,
                        status=Status.REQUESTED if active else Status.CANCELLED,
                    )
            except (IntegrityError, OperationalError) as error:
                assert refused_as_overlap(error)  # Drawn over another active booking.
        TimeOff.objects.bulk_create(
            TimeOff(
                practitioner=person,
                starts_at=midnight(day) + timedelta(minutes=minutes),
                ends_at=midnight(day) + timedelta(minutes=minutes + length),
            )
            for minutes, length in drawn["time_off"]
        )
        people.append(person)
    only_practitioners(*people)
    if clinic["closed"]:
        Closure.objects.create(starts_on=day, ends_on=day, reason="Training")
    set_rules(minimum_notice_hours=clinic["notice_hours"], horizon_days=clinic["horizon_days"])
    return kind, people


def calendar_for(clinic, kind, people):
    return ClinicCalendar(
        kind,
        practitioner=people[-1] if clinic["named"] else None,
        now=midnight(clinic["day"])
        + timedelta(hours=12)
        - timedelta(minutes=clinic["now_minutes_before"]),
        online=not clinic["for_staff"],
        for_staff=clinic["for_staff"],
    )


def a_clinic(**drawn):
    """One clinic, as clinics() draws them: two people working 08:00–18:00 and 13:00–20:00."""
    person = {"windows": [(time(8), time(18))], "online": True, "bookings": [], "time_off": []}
    return {
        "length": 30,
        "turnover": 10,
        "grid": 15,
        "people": [person, {**person, "windows": [(time(13), time(20))]}],
        "day": DAYS[0],
        "closed": False,
        "now_minutes_before": 0,
        "notice_hours": 2,
        "horizon_days": 60,
        "for_staff": False,
        "named": False,
        "odd_starts": [],
    } | drawn


@fuzz(60)
@given(clinic=clinics())
# The rules a random search may take long to meet, each checked every run:
# a closure, minimum notice cutting the day (noon plus two hours), the
# horizon cutting it (the day before at 10:00, one day ahead), the clocks
# going forward and back, and a booking and time off in the way.
@example(clinic=a_clinic(closed=True))
@example(clinic=a_clinic())
@example(clinic=a_clinic(now_minutes_before=26 * 60, horizon_days=1))
@example(clinic=a_clinic(day=DAYS[1], now_minutes_before=3 * 24 * 60))
@example(clinic=a_clinic(day=DAYS[2], now_minutes_before=3 * 24 * 60, for_staff=True))
@example(
    clinic=a_clinic(
        now_minutes_before=3 * 24 * 60,
        people=[
            {
                "windows": [(time(8), time(18))],
                "online": True,
                "bookings": [(9 * 60, 30, True), (11 * 60, 30, False)],
                "time_off": [(14 * 60, 90)],
            }
        ],
    )
)
def test_find_finds_exactly_the_times_slots_lists(clinic):
    with rolled_back():
        kind, people = set_up(clinic)
        listing = calendar_for(clinic, kind, people)
        listed = {slot.starts_at: slot for slot in listing.slots([clinic["day"]])}
        checking = calendar_for(clinic, kind, people)
        start = midnight(clinic["day"])
        # Every five minutes of the day (25 hours of it when the clocks go
        # back), a few starts off the grid, and the day's own times and a
        # second and a minute after each.
        starts = {start + timedelta(minutes=5 * n) for n in range(25 * 12)}
        starts |= {start + timedelta(seconds=seconds) for seconds in clinic["odd_starts"]}
        starts |= {
            starts_at + offset
            for starts_at in listed
            for offset in (timedelta(0), timedelta(seconds=1), timedelta(minutes=1))
        }

        for starts_at in sorted(starts):
            found = checking.find(starts_at)
            assert found == listed.get(starts_at), starts_at
            if found is not None:
                # "Any practitioner" goes to the same person either way.
                assert checking.assignment_order(found) == listing.assignment_order(found)
        assert ConsultationBooking.objects.exists() or not any(
            person["bookings"] for person in clinic["people"]
        )
