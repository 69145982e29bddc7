"""
The night the clocks go back (Sunday 7 November 2027 in New York), 1:00–1:59
AM happens twice: first in EDT, then an hour later in EST. The front desk
sees both hours among the free times, each with its zone, and can book
either; a time typed in that hour asks which one is meant.
"""

import pytest
from django.urls import reverse

from booking.models import ConsultationBooking
from tests.support.booking import (
    ESTHETICIAN,
    VISITOR,
    clinic_clock,
    clinic_time,
    make_booking,
    page,
    practitioner,
    set_hours,
    utc,
)
from tests.support.html import form_data

pytestmark = pytest.mark.django_db

BOOK_CALLER = reverse("admin:booking_book_caller")
NOW = clinic_time(2027, 3, 1, 8)
CLOCKS_BACK = "2027-11-07"
# Skin assessment: 30 minutes on a 15-minute grid. Hours of 01:00–02:00 that
# night run from 01:00 EDT (05:00 UTC) to 02:00 EST (07:00 UTC).
BOTH_HOURS = [
    "1:00 AM EDT",
    "1:15 AM EDT",
    "1:30 AM EDT",
    "1:45 AM EDT",
    "1:00 AM EST",
    "1:15 AM EST",
    "1:30 AM EST",
]


@pytest.fixture(autouse=True)
def night_hours(db):
    with clinic_clock(NOW):
        set_hours({6: [("01:00", "02:00")]}, practitioners=[practitioner(ESTHETICIAN)])
        yield


def shown(admin_client, **answers):
    """The book-a-caller page for the esthetician on the night, with `answers` shown."""
    response = admin_client.get(BOOK_CALLER, {"practitioner": ESTHETICIAN, "date": CLOCKS_BACK})
    data = form_data(page(response).find("form", id="book-caller-form")) | VISITOR | answers
    return {name: value for name, value in data.items() if value is not None}


def free_times(response):
    return {
        button.text: button.attrs["value"]
        for button in page(response).find_all("button")
        if button.get("name") == "pick_time"
    }


def test_free_times_list_both_repeated_hours_with_their_zone(admin_client):
    response = admin_client.post(BOOK_CALLER, shown(admin_client) | {"show_times": "1"})

    assert list(free_times(response)) == BOTH_HOURS
    assert len(set(free_times(response).values())) == len(BOTH_HOURS)


@pytest.mark.parametrize(
    ("button", "instant"),
    [
        pytest.param("1:15 AM EDT", utc(2027, 11, 7, 5, 15), id="first 1:15 (EDT)"),
        pytest.param("1:15 AM EST", utc(2027, 11, 7, 6, 15), id="second 1:15 (EST)"),
    ],
)
def test_each_1_15_can_be_picked_and_booked_at_its_own_instant(admin_client, button, instant):
    data = shown(admin_client)
    picked = admin_client.post(
        BOOK_CALLER,
        data
        | {
            "pick_time": free_times(admin_client.post(BOOK_CALLER, data | {"show_times": "1"}))[
                button
            ]
        },
    )
    again = form_data(page(picked).find("form", id="book-caller-form"))
    assert again["time"] == "01:15"

    response = admin_client.post(BOOK_CALLER, {**data, **again, **VISITOR})

    assert response.status_code == 302
    booking = ConsultationBooking.objects.get(full_name=VISITOR["full_name"])
    assert booking.starts_at == instant


def test_a_typed_time_in_the_repeated_hour_asks_which_one(admin_client):
    response = admin_client.post(BOOK_CALLER, shown(admin_client, time="01:15"))

    assert response.status_code == 200
    assert not ConsultationBooking.objects.filter(full_name=VISITOR["full_name"]).exists()
    assert (
        "1:15 AM happens twice on Sunday 7 November 2027: the clocks go back that night. "
        "Choose the first (EDT) or the second (EST)."
    ) in page(response).find(class_="error-summary").text

    booked = admin_client.post(
        BOOK_CALLER, shown(admin_client, time="01:15", repeated_time="second")
    )
    assert booked.status_code == 302
    assert ConsultationBooking.objects.get(full_name=VISITOR["full_name"]).starts_at == utc(
        2027, 11, 7, 6, 15
    )


def test_the_second_hour_is_free_while_the_first_is_booked(admin_client):
    make_booking(starts_at=utc(2027, 11, 7, 5, 0), practitioner=practitioner(ESTHETICIAN))

    response = admin_client.post(BOOK_CALLER, shown(admin_client) | {"show_times": "1"})

    # 1:00 EDT and its 30 minutes plus turnover take the first hour's first
    # three quarters; the second hour is untouched.
    assert [time for time in free_times(response) if time.endswith("EST")] == [
        "1:00 AM EST",
        "1:15 AM EST",
        "1:30 AM EST",
    ]
    assert "1:00 AM EDT" not in free_times(response)


def test_moving_a_booking_in_the_second_hour_keeps_it_there(admin_client):
    booking = make_booking(
        starts_at=utc(2027, 11, 7, 6, 15), practitioner=practitioner(ESTHETICIAN)
    )
    url = reverse("admin:booking_move", args=[booking.pk])

    data = form_data(page(admin_client.get(url)).find("form", id="move-booking-form"))

    assert (data["time"], data["repeated_time"]) == ("01:15", "second")
