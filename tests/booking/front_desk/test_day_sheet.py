"""The front desk's day sheet in the admin."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from booking import services
from booking.models import Closure, ConsultationBooking, TimeOff
from tests.support.booking import (
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    clinic_clock,
    clinic_time,
    consultation_type,
    make_booking,
    make_consultation_type,
    make_practitioner,
    page,
    practitioner,
)
from tests.support.two_factor import sign_in_verified

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]
Status = ConsultationBooking.Status

DAY = date(2027, 2, 1)  # a Monday
SHEET = "/admin/booking/consultationbooking/day/"
ACT = "/admin/booking/consultationbooking/day/act/"


@pytest.fixture
def on_the_day():
    """The clinic's clock at 8:00 on DAY, before the first consultation."""
    with clinic_clock(clinic_time(2027, 2, 1, 8)) as now:
        yield now


def sheet(client, day=DAY):
    response = client.get(SHEET, {"date": day.isoformat()})
    assert response.status_code == 200
    return page(response)


def blocks(document):
    return [article.text for article in document.find_all("article")]


def column_names(document):
    grid = document.find("table", class_="day-sheet-grid")
    return [th.text for th in grid.find("thead").find_all("th")][1:]


def test_the_day_shows_a_column_per_working_practitioner_and_each_booking(on_the_day, admin_client):
    nurse = practitioner(NURSE_PRACTITIONER)
    make_booking(
        starts_at=clinic_time(2027, 2, 1, 10),
        practitioner=nurse,
        consultation_type=consultation_type(MEDICAL_CONSULTATION),
        full_name="Ada Quinterra",
        status=Status.CONFIRMED,
    )
    document = sheet(admin_client)
    assert column_names(document) == [
        "Maya ChenLicensed esthetician",
        "Daniel OkaforNurse practitioner, NP-C",
    ]
    (block,) = blocks(document)
    assert "10:00–10:45 AM Ada Quinterra" in block
    assert "Medical-grade facial consultation" in block
    assert "Confirmed" in block
    # The 45-minute block spans three quarter-hour rows.
    cell = next(td for td in document.find_all("td") if td.find("article") is not None)
    assert cell.attrs["rowspan"] == "3"


def test_time_off_free_time_and_closures_are_visible(on_the_day, admin_client):
    TimeOff.objects.create(
        practitioner=practitioner(ESTHETICIAN),
        starts_at=clinic_time(2027, 2, 1, 12),
        ends_at=clinic_time(2027, 2, 1, 14),
    )
    document = sheet(admin_client)
    time_off = document.find_all("td", class_="day-sheet-time_off")
    assert [cell.attrs["rowspan"] for cell in time_off] == ["8"]
    free = document.find_all("a", class_="day-sheet-book")
    # 9–17 is 32 quarter hours for each of the two, less the esthetician's 8 off.
    assert len(free) == 32 * 2 - 8
    assert free[0].attrs["href"] == (
        "/admin/booking/consultationbooking/book-caller/"
        "?practitioner=maya-chen&date=2027-02-01&time=09%3A00"
    )

    Closure.objects.create(starts_on=DAY, ends_on=DAY, reason="Staff training")
    document = sheet(admin_client)
    assert "The clinic is closed: Staff training." in document.find("main").text
    assert document.find_all("a", class_="day-sheet-book") == []


def test_flags_show_new_clients_attendance_and_notes(on_the_day, admin_client):
    earlier = make_booking(starts_at=clinic_time(2027, 1, 4, 9), email="back@example.com")
    ConsultationBooking.objects.filter(pk=earlier.pk).update(status=Status.COMPLETED)
    make_booking(starts_at=clinic_time(2027, 2, 1, 9), email="back@example.com")
    make_booking(
        starts_at=clinic_time(2027, 2, 1, 11),
        email="new@example.com",
        message="Sensitive skin",
        attendance_confirmed_at=clinic_time(2027, 1, 31, 18),
    )
    returning, new = blocks(sheet(admin_client))
    assert "New client" not in returning and "Not confirmed coming" in returning
    assert "New client" in new and "Confirmed coming" in new and "Notes" in new


@pytest.mark.parametrize(("people", "bookings"), [(2, 3), (8, 40)])
def test_the_sheet_costs_the_same_queries_however_busy_the_day(
    on_the_day, admin_client, django_assert_max_num_queries, people, bookings
):
    staff = [practitioner(ESTHETICIAN), *(make_practitioner() for _ in range(people - 1))]
    kind = make_consultation_type(duration_minutes=10, turnover_minutes=0, grid_minutes=5)
    for n in range(bookings):
        make_booking(
            starts_at=clinic_time(2027, 2, 1, 9) + timedelta(minutes=15 * (n // people)),
            practitioner=staff[n % people],
            consultation_type=kind,
        )
    admin_client.get(SHEET, {"date": DAY.isoformat()})  # The session and user, once.
    # Session, user, the second factor that verified the session, then:
    # hours, bookings (with the new-client flag), time off, closure,
    # practitioners, how many wait on the waitlist.
    with django_assert_max_num_queries(10):
        document = sheet(admin_client)
    assert len(blocks(document)) == bookings


def test_today_is_the_clinics_day_not_utcs(client, admin_user):
    # 23:30 in New York is already tomorrow in UTC.
    with clinic_clock(clinic_time(2027, 2, 1, 23, 30)):
        sign_in_verified(client, admin_user)
        document = page(client.get(SHEET))
    assert (
        document.find("table", class_="day-sheet-grid")
        .find("caption")
        .text.startswith("Monday 1 February 2027")
    )
    days = document.find("nav", class_="day-sheet-nav")
    links = {link.text: link.attrs["href"] for link in days.find_all("a")}
    assert links["← Previous day"] == "?date=2027-01-31"
    assert links["Next day →"] == "?date=2027-02-02"


@pytest.mark.parametrize("bad", ["yesterday", "2027-02-30", "0001-01-01", "9999-12-31"])
def test_a_bad_date_in_the_address_shows_today_with_a_message(admin_client, bad):
    response = admin_client.get(SHEET, {"date": bad})
    assert response.status_code == 200
    assert "That date could not be shown" in page(response).find(class_="messagelist").text


def act(client, booking, action, *, seen_status=None):
    return client.post(
        ACT,
        {
            "booking": booking.pk,
            "action": action,
            "seen_status": seen_status or booking.status,
            "date": DAY.isoformat(),
        },
        follow=True,
    )


def test_buttons_confirm_check_in_and_complete_through_the_service(on_the_day, admin_client):
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9))
    buttons = [
        button.attrs["value"] for button in sheet(admin_client).find_all("button", name="action")
    ]
    # Before the start: nothing that records an outcome.
    assert buttons == ["confirm", "check_in", "cancel"]
    act(admin_client, booking, "confirm")
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    assert booking.emails.filter(kind="confirmation").exists()
    act(admin_client, booking, "check_in")
    booking.refresh_from_db()
    assert booking.status == Status.ARRIVED
    on_the_day.return_value = clinic_time(2027, 2, 1, 9, 40)
    response = act(admin_client, booking, "complete")
    booking.refresh_from_db()
    assert booking.status == Status.COMPLETED
    assert [change.to_status for change in booking.status_changes.all()] == [
        Status.CONFIRMED,
        Status.ARRIVED,
        Status.COMPLETED,
    ]
    assert response.redirect_chain[-1][0] == f"{SHEET}?date=2027-02-01"


def test_an_action_on_a_booking_changed_meanwhile_is_refused_with_a_message(
    on_the_day, admin_client
):
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9))
    services.change_status(booking, Status.CANCELLED, by_client=False)
    # The sheet was loaded while it was still requested.
    response = act(admin_client, booking, "confirm", seen_status=Status.REQUESTED)
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED
    assert (
        "was changed meanwhile (it is now cancelled)"
        in page(response).find(class_="messagelist").text
    )


def test_no_outcome_before_the_start_and_no_no_show_for_a_cancelled_booking(
    on_the_day, admin_client
):
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9), status=Status.CONFIRMED)
    response = act(admin_client, booking, "no_show")
    assert "has not happened yet" in page(response).find(class_="messagelist").text
    services.change_status(booking, Status.CANCELLED)
    booking.refresh_from_db()
    on_the_day.return_value = clinic_time(2027, 2, 1, 12)
    response = act(admin_client, booking, "no_show")
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED
    assert "cannot become no-show" in page(response).find(class_="messagelist").text


@pytest.mark.parametrize("tampered", [{"action": "delete"}, {"booking": "x"}, {"seen_status": "?"}])
def test_tampered_actions_change_nothing(on_the_day, admin_client, tampered):
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9))
    data = {"booking": booking.pk, "action": "confirm", "seen_status": "requested"} | tampered
    response = admin_client.post(ACT, data, follow=True)
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == Status.REQUESTED


def test_content_editors_cannot_see_or_use_the_sheet(on_the_day, client, django_user_model):
    from django.contrib.auth.models import Group

    editor = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    editor.groups.add(Group.objects.get(name="Content editors"))
    client.force_login(editor)
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9))
    assert client.get(SHEET).status_code == 403
    assert act(client, booking, "confirm").status_code == 403


def test_front_desk_runs_the_day(on_the_day, client, django_user_model):
    from django.contrib.auth.models import Group

    desk = django_user_model.objects.create_user("desk", password="pw", is_staff=True)
    desk.groups.add(Group.objects.get(name="Front desk"))
    sign_in_verified(client, desk)
    booking = make_booking(starts_at=clinic_time(2027, 2, 1, 9))
    act(client, booking, "confirm")
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    assert booking.status_changes.last().changed_by == desk


def test_the_day_sheet_is_linked_from_the_admin_index_and_the_bookings_list(admin_client):
    index = page(admin_client.get(reverse("admin:index")))
    assert SHEET in [link.attrs.get("href") for link in index.find_all("a")]
    changelist = page(admin_client.get(reverse("admin:booking_consultationbooking_changelist")))
    assert SHEET in [link.attrs.get("href") for link in changelist.find_all("a")]


@pytest.mark.postgres
def test_two_staff_acting_on_one_booking_at_once_never_both_succeed(transactional_db):
    from booking.models import BookingRules

    BookingRules.objects.get_or_create(pk=1)
    person = make_practitioner()
    kind = make_consultation_type()
    for attempt in range(5):
        booking = make_booking(
            starts_at=clinic_time(2027, 2, 1, 9) + timedelta(hours=attempt),
            practitioner=person,
            consultation_type=kind,
        )
        start = threading.Barrier(2, timeout=30)

        def staff(to_status, booking=booking, start=start):
            try:
                start.wait()
                return services.change_status(booking, to_status, seen_status=Status.REQUESTED)
            except Exception as error:  # Collected and asserted on below.
                return error
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(staff, [Status.CONFIRMED, Status.DECLINED]))
        succeeded = [result for result in results if isinstance(result, ConsultationBooking)]
        stale = [result for result in results if isinstance(result, services.StaleBooking)]
        assert (len(succeeded), len(stale)) == (1, 1), results
        booking.refresh_from_db()
        assert booking.status == succeeded[0].status
        assert booking.status_changes.count() == 1
