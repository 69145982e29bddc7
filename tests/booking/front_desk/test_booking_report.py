"""
The bookings report in the admin: a period of clinic dates, its bookings by
status, type and practitioner, the no-show and cancellation rates and the
median lead time, on the page and as CSV, computed by the database in the
same number of queries however many bookings there are.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from booking.models import ConsultationBooking, Practitioner
from tests.support.booking import (
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    PROFESSIONAL_CONSULTATION,
    clinic_clock,
    clinic_time,
    consultation_type,
    make_booking,
    make_practitioner,
    page,
    practitioner,
)
from tests.support.two_factor import sign_in_verified

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]
Status = ConsultationBooking.Status

REPORT = reverse("admin:booking_report")
NOW = clinic_time(2027, 3, 10, 12)  # The clinic's clock: March 2027 is "this month".


@pytest.fixture(autouse=True)
def clock():
    with clinic_clock(NOW) as now:
        yield now


def booking(starts_at, status, *, requested, kind=None, person=ESTHETICIAN):
    """A booking of `status` at `starts_at`, requested at `requested`."""
    made = make_booking(
        starts_at=starts_at,
        status=status,
        consultation_type=consultation_type(kind) if kind else None,
        practitioner=practitioner(person) if isinstance(person, str) else person,
    )
    ConsultationBooking.objects.filter(pk=made.pk).update(created_at=requested)
    return made


@pytest.fixture
def march():
    """
    Six bookings on clinic dates in March 2027 (lead times 0.5, 1, 2, 4, 7
    and 31 days) and two just outside it, by the clinic's clock.
    """
    booking(clinic_time(2027, 3, 1, 10), Status.COMPLETED, requested=clinic_time(2027, 2, 27, 10))
    booking(clinic_time(2027, 3, 2, 10), Status.NO_SHOW, requested=clinic_time(2027, 2, 23, 10))
    booking(
        clinic_time(2027, 3, 3, 10),
        Status.COMPLETED,
        requested=clinic_time(2027, 3, 2, 22),
        kind=MEDICAL_CONSULTATION,
        person=NURSE_PRACTITIONER,
    )
    booking(
        clinic_time(2027, 3, 4, 10),
        Status.CANCELLED,
        requested=clinic_time(2027, 2, 1, 10),
        kind=PROFESSIONAL_CONSULTATION,
        person=NURSE_PRACTITIONER,
    )
    booking(clinic_time(2027, 3, 15, 10), Status.CONFIRMED, requested=clinic_time(2027, 3, 11, 10))
    # 23:30 on 31 March in New York is already 1 April in UTC: still March here.
    booking(
        clinic_time(2027, 3, 31, 23, 30),
        Status.DECLINED,
        requested=clinic_time(2027, 3, 30, 23, 30),
    )
    # 23:30 on 28 February is 1 March in UTC, and 0:15 on 1 April is April: neither counts.
    booking(clinic_time(2027, 2, 28, 23, 30), Status.COMPLETED, requested=clinic_time(2027, 2, 1))
    booking(clinic_time(2027, 4, 1, 0, 15), Status.NO_SHOW, requested=clinic_time(2027, 2, 1))


def table(document, table_id):
    """A table's body rows as lists of cell texts."""
    element = document.find(id=table_id)
    if element.tag != "table":
        element = element.find("table")
    return [[cell.text for cell in row.elements] for row in element.find("tbody").find_all("tr")]


def test_report_shows_this_months_bookings_by_status_type_and_practitioner(admin_client, march):
    document = page(admin_client.get(REPORT))

    assert document.find("input", name="start").attrs["value"] == "2027-03-01"
    assert document.find("input", name="end").attrs["value"] == "2027-03-31"
    assert table(document, "report-summary") == [
        ["Bookings", "6"],
        ["No-show rate (no-shows ÷ completed and no-shows)", "33.3%"],
        ["Cancellation rate (cancelled ÷ all bookings)", "16.7%"],
        # Six lead times: the median is halfway between the 3rd and 4th, 2 and 4 days.
        ["Median lead time, request to consultation (days)", "3.0"],
    ]
    assert table(document, "report-by-status") == [
        ["Requested", "0"],
        ["Confirmed", "1"],
        ["Checked in", "0"],
        ["Completed", "2"],
        ["No-show", "1"],
        ["Cancelled", "1"],
        ["Declined", "1"],
    ]
    assert table(document, "report-by-type") == [
        ["Skin assessment", "4", "1", "1", "0", "50.0%"],
        ["Professional facial consultation", "1", "0", "0", "1", "–"],
        ["Medical-grade facial consultation", "1", "1", "0", "0", "0.0%"],
    ]
    assert table(document, "report-by-practitioner") == [
        ["Maya Chen", "4", "1", "1", "0", "50.0%"],
        ["Daniel Okafor", "2", "1", "0", "1", "0.0%"],
    ]


def test_report_covers_the_chosen_dates_both_included(admin_client, march):
    # 1–30 March leaves out the 31st: five lead times, the median the 3rd (4 days).
    document = page(admin_client.get(REPORT, {"start": "2027-03-01", "end": "2027-03-30"}))

    summary = dict(table(document, "report-summary"))
    assert summary["Bookings"] == "5"
    assert summary["Median lead time, request to consultation (days)"] == "4.0"
    assert "1 March 2027 to 30 March 2027" in document.find(id="content-main").text

    one_day = page(admin_client.get(REPORT, {"start": "2027-02-28", "end": "2027-02-28"}))
    assert dict(table(one_day, "report-summary"))["Bookings"] == "1"


def test_an_empty_period_reports_no_rates_rather_than_dividing_by_zero(admin_client):
    document = page(admin_client.get(REPORT, {"start": "2030-01-01", "end": "2030-01-31"}))

    assert table(document, "report-summary") == [
        ["Bookings", "0"],
        ["No-show rate (no-shows ÷ completed and no-shows)", "–"],
        ["Cancellation rate (cancelled ÷ all bookings)", "–"],
        ["Median lead time, request to consultation (days)", "–"],
    ]
    assert table(document, "report-by-type") == [["No bookings in this period."]]


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_report_downloads_the_same_figures_as_csv(admin_client, march):
    response = admin_client.get(
        REPORT, {"start": "2027-03-01", "end": "2027-03-31", "format": "csv"}
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="bookings-2027-03-01-to-2027-03-31.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == ["Bookings report", "2027-03-01", "2027-03-31"]
    assert ["Bookings", "6"] in rows
    assert ["No-show rate (no-shows ÷ completed and no-shows)", "33.3%"] in rows
    assert ["Cancellation rate (cancelled ÷ all bookings)", "16.7%"] in rows
    assert ["Median lead time, request to consultation (days)", "3.0"] in rows
    assert ["Completed", "2"] in rows
    assert ["Skin assessment", "4", "1", "1", "0", "50.0%"] in rows
    assert ["Daniel Okafor", "2", "1", "0", "1", "0.0%"] in rows
    page_link = page(admin_client.get(REPORT)).find("a", download="")
    assert page_link.attrs["href"] == "?start=2027-03-01&end=2027-03-31&format=csv"


def test_report_csv_cells_cannot_run_as_spreadsheet_formulas(admin_client):
    person = make_practitioner(name='=HYPERLINK("http://evil.test","Maya")', slug="formula")
    booking(clinic_time(2027, 3, 2, 10), Status.CONFIRMED, requested=NOW, person=person)

    rows = csv_rows(admin_client.get(REPORT, {"format": "csv"}))

    assert ['\'=HYPERLINK("http://evil.test","Maya")', "1", "0", "0", "0", "–"] in rows
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize(
    ("query", "field", "error"),
    [
        ({"start": "2027-13-01"}, "start", "Enter a date like 2026-12-01."),
        ({"end": "31/03/2027"}, "end", "Enter a date like 2026-12-01."),
        ({"start": ""}, "start", "Enter the first day."),
        (
            {"start": "2027-03-31", "end": "2027-03-01"},
            "end",
            "The last day is before the first day. Choose a last day on or after it.",
        ),
        (
            {"start": "0001-01-01"},
            "start",
            "Choose a date from 1 January 2000 to 31 December 2099.",
        ),
        (
            {"end": "9999-12-31"},
            "end",
            "Choose a date from 1 January 2000 to 31 December 2099.",
        ),
    ],
    ids=["no such month", "not ISO", "empty", "to before from", "year 1", "year 9999"],
)
@pytest.mark.parametrize("wanted", ["page", "csv"])
def test_a_bad_period_shows_the_form_with_the_reason(admin_client, query, field, error, wanted):
    if wanted == "csv":
        query = query | {"format": "csv"}

    response = admin_client.get(REPORT, query)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    document = page(response)
    assert document.find(id=f"id_{field}_error").text == error
    assert document.find("input", name=field).attrs.get("aria-invalid") == "true"
    assert document.find(id="report-summary") is None


def add_bookings(count, *, offset=0):
    """`count` bookings across March, of every status, type and practitioner."""
    people = list(Practitioner.objects.all())
    kinds = [consultation_type(slug) for slug in [MEDICAL_CONSULTATION, PROFESSIONAL_CONSULTATION]]
    statuses = list(Status)
    for n in range(offset, offset + count):
        booking(
            clinic_time(2027, 3, 1, 9) + timedelta(hours=3 * n),
            # Active bookings of one person must not overlap: 3 hours apart they do not.
            statuses[n % len(statuses)],
            requested=clinic_time(2027, 2, 1) + timedelta(hours=n),
            kind=kinds[n % len(kinds)].slug,
            person=people[n % len(people)],
        )


@pytest.mark.parametrize(
    ("wanted", "queries"),
    # The session, the user and the second factor that verified the session,
    # the counts by status, by type and by practitioner, and the median's
    # middle rows; the page adds the admin's menu (whether booking rules may
    # be added).
    [({}, 8), ({"format": "csv"}, 7)],
    ids=["page", "csv"],
)
def test_report_costs_the_same_queries_for_many_bookings(
    admin_client, django_assert_num_queries, wanted, queries
):
    add_bookings(3)
    with django_assert_num_queries(queries):
        assert admin_client.get(REPORT, wanted).status_code == 200

    add_bookings(120, offset=3)
    with django_assert_num_queries(queries) as captured:
        response = admin_client.get(REPORT, wanted)
    assert response.status_code == 200
    # 123 bookings: the median is the 62nd lead time, the only row read for it.
    assert any("LIMIT 1 OFFSET 61" in query["sql"] for query in captured.captured_queries)


def test_report_needs_the_view_permission_on_bookings(client, django_user_model):
    editor = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    editor.groups.add(Group.objects.get(name="Content editors"))
    client.force_login(editor)
    assert client.get(REPORT).status_code == 403
    assert client.get(REPORT, {"format": "csv"}).status_code == 403

    editor.user_permissions.add(Permission.objects.get(codename="view_consultationbooking"))
    assert client.get(REPORT).status_code == 200


def test_front_desk_can_read_the_report(client, django_user_model):
    desk = django_user_model.objects.create_user("desk", password="pw", is_staff=True)
    desk.groups.add(Group.objects.get(name="Front desk"))
    sign_in_verified(client, desk)

    assert client.get(REPORT).status_code == 200
