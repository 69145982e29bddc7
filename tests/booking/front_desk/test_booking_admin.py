"""
Staff run bookings in the admin: the list, its search and filters, the
workflow actions (each through the service, each sending its email), the
CSV export, and the two staff groups' permissions.
"""

import csv
import io
from datetime import time, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.admin.schedule import PractitionerAdmin
from booking.admin.screening import QuestionAdmin, QuestionnaireAdmin
from booking.models import (
    AnswerRule,
    AvailabilityVersion,
    BookingRules,
    BookingStatusChange,
    Closure,
    ConsultationBooking,
    ConsultationType,
    OutboundEmail,
    Practitioner,
    QuestionnaireUse,
    QuestionnaireVersion,
    ScreeningAnswers,
    SignInLink,
    TimeOff,
    WorkingHours,
)
from tests.support.booking import (
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    PROFESSIONAL_CONSULTATION,
    Status,
    book,
    clinic_time,
    consultation_type,
    hours_of,
    make_booking,
    move_into_the_past,
    page,
    practitioner,
    practitioner_form,
    practitioner_url,
    set_hours,
    utc,
    with_new_window,
)
from tests.support.content import make_treatment
from tests.support.html import form_data
from tests.support.two_factor import sign_in_verified
from treatments.models import FAQ, Treatment

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:booking_consultationbooking_changelist")


def change_url(booking):
    return reverse("admin:booking_consultationbooking_change", args=[booking.pk])


def listed(client, **query):
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def run_action(client, action, *bookings):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [booking.pk for booking in bookings]},
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


# The booking list.


def test_booking_list_shows_reference_name_type_practitioner_clinic_time_status_and_created(
    admin_client,
):
    summer = make_booking(
        starts_at=utc(2030, 6, 3, 13, 0),
        consultation_type=consultation_type(PROFESSIONAL_CONSULTATION),
    )
    winter = make_booking(
        starts_at=utc(2030, 1, 7, 14, 0),
        status=Status.CONFIRMED,
        practitioner=practitioner(NURSE_PRACTITIONER),
    )

    document = page(admin_client.get(CHANGELIST))

    table = document.find("table", id="result_list")
    rows = {row.find("th").text: row.text for row in table.find("tbody").find_all("tr")}
    assert summer.reference in rows[summer.reference]
    assert summer.full_name in rows[summer.reference]
    assert "Professional facial consultation" in rows[summer.reference]
    assert "Maya Chen" in rows[summer.reference]
    assert "Mon 03 Jun 2030, 09:00 EDT" in rows[summer.reference]
    assert "Requested" in rows[summer.reference]
    assert "Mon 07 Jan 2030, 09:00 EST" in rows[winter.reference]
    assert "Skin assessment" in rows[winter.reference]
    assert "Daniel Okafor" in rows[winter.reference]
    assert "Confirmed" in rows[winter.reference]
    column_titles = [th.text for th in table.find("thead").find_all("th")]
    assert "Consultation (clinic time)" in column_titles
    assert "Consultation type" in column_titles
    assert "Practitioner" in column_titles
    assert "Created at" in column_titles


@pytest.mark.every_database
def test_booking_list_costs_the_same_queries_for_many_bookings(
    admin_client, django_assert_num_queries
):
    types = list(ConsultationType.objects.all())
    people = list(Practitioner.objects.all())

    def add_bookings(first, count):
        for n in range(first, first + count):
            make_booking(
                starts_at=utc(2030, 6, 3, 13) + timedelta(hours=n),
                consultation_type=types[n % len(types)],
                practitioner=people[n % len(people)],
            )

    # Nine, the second factor that verified the session among them; the
    # same for three bookings or forty-three.
    add_bookings(0, 3)
    with django_assert_num_queries(9):
        admin_client.get(CHANGELIST)

    add_bookings(3, 40)
    with django_assert_num_queries(9):
        admin_client.get(CHANGELIST)


@pytest.mark.every_database
@pytest.mark.parametrize("query", ["", "?status__exact=requested", "?q=garcia"])
def test_the_booking_lists_count_reads_no_health_answers(admin_client, query):
    make_booking(
        starts_at=utc(2030, 6, 3, 13), email="maria.garcia@example.com", full_name="Maria Garcia"
    )
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHANGELIST + query)

    assert response.status_code == 200
    [count] = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(")]
    assert "booking_consultationbooking" in count
    assert "booking_screeninganswers" not in count
    # The list itself still shows each booking's health form outcome.
    assert "health form" in response.content.decode().lower()


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda booking: booking.reference, id="reference"),
        pytest.param(lambda booking: "Quinterra", id="part of the name"),
        pytest.param(lambda booking: "ada.quinterra@example", id="email"),
        pytest.param(lambda booking: "+12125550147", id="phone"),
        pytest.param(lambda booking: "5550147", id="end of the phone number"),
    ],
)
def test_search_finds_a_booking_by_reference_name_email_or_phone(admin_client, query):
    wanted = make_booking(
        starts_at=utc(2030, 6, 3, 13),
        full_name="Ada Quinterra",
        email="ada.quinterra@example.com",
        phone="+12125550147",
    )
    make_booking(
        starts_at=utc(2030, 6, 3, 14),
        full_name="Bo Rivers",
        email="bo@example.org",
        phone="+13105550199",
    )

    assert listed(admin_client, q=query(wanted)) == {wanted}


SEARCH_INDEXES = {
    "booking_reference_upper_idx": "upper((reference)::text)",
    "booking_full_name_trgm_idx": "gin (upper((full_name)::text) gin_trgm_ops)",
    "booking_email_trgm_idx": "gin (upper((email)::text) gin_trgm_ops)",
    "booking_phone_trgm_idx": "gin (upper((phone)::text) gin_trgm_ops)",
    "booking_phone_idx": "btree (phone)",
}


@pytest.mark.postgres
def test_search_indexes_exist_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [ConsultationBooking._meta.db_table],
        )
        definitions = dict(cursor.fetchall())

    for name, expression in SEARCH_INDEXES.items():
        assert expression in definitions.get(name, ""), name


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        pytest.param("garcia", set(SEARCH_INDEXES) - {"booking_phone_idx"}, id="a name"),
        pytest.param("(212) 555-0147", set(SEARCH_INDEXES), id="a phone number as heard"),
    ],
)
def test_search_finds_its_bookings_through_indexes_on_postgresql(admin_client, query, indexes):
    # With sequential and plain index scans off, a plan can only avoid reading
    # the table through bitmap scans of indexes on each searched expression:
    # one branch of the search's OR without a matching index, and it reads
    # the table. On a few rows PostgreSQL would read the table anyway.
    make_booking(starts_at=utc(2030, 6, 3, 13), full_name="Ana Garcia", phone="+12125550147")
    searched = admin_client.get(CHANGELIST, {"q": query}).context["cl"].queryset

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = searched.order_by().explain()

    assert "Seq Scan" not in plan
    assert {name for name in SEARCH_INDEXES if name in plan} == indexes


def test_status_filter(admin_client):
    requested = make_booking(starts_at=utc(2030, 6, 3, 13))
    confirmed = make_booking(starts_at=utc(2030, 6, 3, 14), status=Status.CONFIRMED)

    assert listed(admin_client, status__exact="confirmed") == {confirmed}
    assert listed(admin_client, status__exact="requested") == {requested}


def test_treatment_filter(admin_client):
    about_it = consultation_type(PROFESSIONAL_CONSULTATION)
    with_treatment = make_booking(starts_at=utc(2030, 6, 3, 13), consultation_type=about_it)
    make_booking(starts_at=utc(2030, 6, 3, 14))

    assert listed(admin_client, treatment__id__exact=about_it.treatment.pk) == {with_treatment}


def test_consultation_type_filter(admin_client):
    medical = consultation_type(MEDICAL_CONSULTATION)
    wanted = make_booking(
        starts_at=utc(2030, 6, 3, 13),
        consultation_type=medical,
        practitioner=practitioner(NURSE_PRACTITIONER),
    )
    make_booking(starts_at=utc(2030, 6, 3, 14))

    assert listed(admin_client, consultation_type__id__exact=medical.pk) == {wanted}


def test_practitioner_filter(admin_client):
    daniel = practitioner(NURSE_PRACTITIONER)
    with_daniel = make_booking(starts_at=utc(2030, 6, 3, 13), practitioner=daniel)
    make_booking(starts_at=utc(2030, 6, 3, 13))  # The same time, with Maya.

    assert listed(admin_client, practitioner__id__exact=daniel.pk) == {with_daniel}


@pytest.mark.every_database
def test_period_filter_last_month_runs_midnight_to_midnight_in_clinic_time(admin_client):
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    last_day = this_month - timedelta(days=1)
    before = last_month - timedelta(days=1)
    # 23:30 in New York is the next day in UTC.
    first_morning = make_booking(starts_at=clinic_time(last_month.year, last_month.month, 1, 9))
    last_evening = make_booking(
        starts_at=clinic_time(last_day.year, last_day.month, last_day.day, 23, 30)
    )
    make_booking(starts_at=clinic_time(before.year, before.month, before.day, 23, 30))
    make_booking(starts_at=clinic_time(this_month.year, this_month.month, 1, 0, 30))

    document = page(admin_client.get(CHANGELIST))
    link = next(a for a in document.find_all("a") if a.text == "Last month")
    filtered = admin_client.get(CHANGELIST + link.attrs["href"])

    assert set(filtered.context["cl"].result_list) == {first_morning, last_evening}


def test_booking_list_links_the_day_sheet_for_day_by_day_navigation(admin_client):
    document = page(admin_client.get(CHANGELIST))

    assert document.find("a", href=reverse("admin:booking_day_sheet"))


@pytest.fixture
def bookings_around_today():
    today = timezone.localdate()
    noon = clinic_time(today.year, today.month, today.day, 12)
    return {
        "yesterday": make_booking(starts_at=noon - timedelta(days=1), status=Status.CONFIRMED),
        "today": make_booking(starts_at=noon),
        "tomorrow": make_booking(starts_at=noon + timedelta(days=1), status=Status.CONFIRMED),
        "next week": make_booking(starts_at=noon + timedelta(days=7)),
        "cancelled tomorrow": make_booking(
            starts_at=noon + timedelta(days=1, hours=1), status=Status.CANCELLED
        ),
    }


@pytest.mark.every_database
def test_day_filter_today_shows_todays_consultations_in_clinic_time(
    admin_client, bookings_around_today
):
    assert listed(admin_client, day="today") == {bookings_around_today["today"]}


def test_day_filter_upcoming_shows_future_bookings_that_hold_their_slot(
    admin_client, bookings_around_today
):
    upcoming = listed(admin_client, day="upcoming")

    assert {bookings_around_today["tomorrow"], bookings_around_today["next week"]} <= upcoming
    assert bookings_around_today["yesterday"] not in upcoming
    assert bookings_around_today["cancelled tomorrow"] not in upcoming


def test_day_filter_needs_action_shows_requests_waiting_for_staff(
    admin_client, bookings_around_today
):
    assert listed(admin_client, day="needs_action") == {
        bookings_around_today["today"],
        bookings_around_today["next week"],
    }


def test_change_page_shows_the_status_history_and_consent_read_only(admin_client, admin_user):
    booking = book(marketing_opt_in=True, message="Sensitive skin.")
    services.change_status(booking, Status.CONFIRMED, by=admin_user, note="Called back")

    response = admin_client.get(change_url(booking))

    document = page(response)
    form = document.find("form", id="consultationbooking_form")
    names = set(form_data(form))
    text = document.text
    history = document.find("div", id="status_changes-group").text
    assert response.status_code == 200
    assert history.startswith("Status changes")
    assert "Requested Client Booked online" in history
    assert f"Requested Confirmed {admin_user} Called back" in history
    assert not {"consent_given_at", "privacy_policy_version", "marketing_opt_in"} & names
    assert not {"status", "starts_at", "reference", "consultation_type", "practitioner"} & names
    assert "Skin assessment" in text
    assert booking.privacy_policy_version in text
    assert {"internal_notes", "full_name", "email", "phone"} <= names


def test_staff_notes_saved_in_the_admin_change_nothing_else(admin_client):
    booking = book()
    url = change_url(booking)
    form = page(admin_client.get(url)).find("form", id="consultationbooking_form")

    response = admin_client.post(url, form_data(form) | {"internal_notes": "Prefers mornings."})

    assert response.status_code == 302
    saved = ConsultationBooking.objects.get(pk=booking.pk)
    assert saved.internal_notes == "Prefers mornings."
    assert (
        saved.status,
        saved.starts_at,
        saved.blocks_until,
        saved.consultation_type,
        saved.practitioner,
        saved.consent_given_at,
    ) == (
        booking.status,
        booking.starts_at,
        booking.blocks_until,
        booking.consultation_type,
        booking.practitioner,
        booking.consent_given_at,
    )


@pytest.mark.parametrize(
    "email",
    [
        '""@example.com',
        '"\x1b[31mred"@example.com',
        "a@[10.0.0.1]",
        "a@localhost",
        "a%evil.example@example.com",
        "evil.example!a@example.com",
    ],
)
def test_staff_cannot_give_a_booking_an_email_address_no_message_could_reach(admin_client, email):
    booking = book()
    url = change_url(booking)
    form = page(admin_client.get(url)).find("form", id="consultationbooking_form")

    response = admin_client.post(url, form_data(form) | {"email": email})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    booking.refresh_from_db()
    assert booking.email != email


def test_adding_a_booking_in_the_admin_books_a_caller_through_the_service(admin_client):
    # The admin's plain add form would skip availability and the outbox.
    response = admin_client.get(reverse("admin:booking_consultationbooking_add"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:booking_book_caller")


# Workflow actions.

ACTIONS = [
    ("mark_confirmed", Status.REQUESTED, Status.CONFIRMED, OutboundEmail.Kind.CONFIRMATION),
    ("mark_declined", Status.REQUESTED, Status.DECLINED, OutboundEmail.Kind.DECLINE),
    ("mark_cancelled", Status.REQUESTED, Status.CANCELLED, OutboundEmail.Kind.CANCELLATION),
    ("mark_cancelled", Status.CONFIRMED, Status.CANCELLED, OutboundEmail.Kind.CANCELLATION),
    ("mark_completed", Status.CONFIRMED, Status.COMPLETED, None),
    ("mark_no_show", Status.CONFIRMED, Status.NO_SHOW, None),
]


# Completed and no-show can only be recorded once the consultation's time has come.
AFTER_THE_CONSULTATION = {Status.COMPLETED, Status.NO_SHOW}


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


@pytest.mark.parametrize(("action", "from_status", "to_status", "email"), ACTIONS)
def test_action_moves_the_booking_records_the_staff_member_and_queues_the_right_email(
    admin_client, admin_user, action, from_status, to_status, email
):
    booking = booking_ready_for(to_status, from_status)
    emails_before = set(booking.emails.values_list("pk", flat=True))

    response = run_action(admin_client, action, booking)

    booking.refresh_from_db()
    new_emails = booking.emails.exclude(pk__in=emails_before)
    change = booking.status_changes.last()
    assert booking.status == to_status
    assert (change.from_status, change.to_status, change.changed_by) == (
        from_status,
        to_status,
        admin_user,
    )
    assert list(new_emails.values_list("kind", flat=True)) == ([email] if email else [])
    assert f"1 booking(s) now {to_status.label.lower()}." in messages_of(response)


@pytest.mark.parametrize(("action", "from_status", "to_status", "email"), ACTIONS)
def test_action_skips_bookings_whose_status_does_not_allow_it_and_says_so(
    admin_client, action, from_status, to_status, email
):
    allowed = booking_ready_for(to_status, from_status)
    not_allowed = booking_in(Status.COMPLETED)
    emails_before = not_allowed.emails.count()

    response = run_action(admin_client, action, allowed, not_allowed)

    allowed.refresh_from_db()
    not_allowed.refresh_from_db()
    assert allowed.status == to_status
    assert not_allowed.status == Status.COMPLETED
    assert not_allowed.emails.count() == emails_before
    assert (
        f"Not changed: {not_allowed.reference}"
        f" (A completed booking cannot become {to_status.label.lower()}.)"
    ) in messages_of(response)


@pytest.mark.parametrize("action", ["mark_completed", "mark_no_show"])
def test_action_refuses_an_outcome_for_a_consultation_still_ahead_and_says_why(
    admin_client, action
):
    ahead = booking_in(Status.CONFIRMED)
    cancelled = move_into_the_past(booking_in(Status.CANCELLED))
    history = BookingStatusChange.objects.count()
    emails = OutboundEmail.objects.count()

    response = run_action(admin_client, action, ahead, cancelled)

    ahead.refresh_from_db()
    cancelled.refresh_from_db()
    to_status = {"mark_completed": "completed", "mark_no_show": "no-show"}[action]
    assert (ahead.status, cancelled.status) == (Status.CONFIRMED, Status.CANCELLED)
    assert BookingStatusChange.objects.count() == history
    assert OutboundEmail.objects.count() == emails
    # Each refusal gives its own reason, in the list's order (newest consultation first).
    assert messages_of(response) == [
        f"Not changed: {ahead.reference} (The consultation has not happened yet.);"
        f" {cancelled.reference} (A cancelled booking cannot become {to_status}.)"
    ]


# CSV export.


def exported(admin_client, *bookings):
    response = run_action(admin_client, "export_csv", *bookings)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_export_contains_exactly_the_selected_bookings(admin_client):
    first = make_booking(starts_at=utc(2030, 6, 3, 13), marketing_opt_in=True)
    second = make_booking(starts_at=utc(2030, 1, 7, 14), status=Status.CONFIRMED)
    make_booking(starts_at=utc(2030, 6, 4, 13))

    rows = exported(admin_client, first, second)

    assert [row["reference"] for row in rows] == [second.reference, first.reference]
    by_reference = {row["reference"]: row for row in rows}
    assert by_reference[first.reference]["consultation (clinic time)"] == "2030-06-03 09:00 EDT"
    assert by_reference[second.reference]["consultation (clinic time)"] == "2030-01-07 09:00 EST"
    assert by_reference[first.reference]["full name"] == first.full_name
    assert by_reference[first.reference]["email"] == first.email
    assert by_reference[first.reference]["phone"].lstrip("'") == str(first.phone)
    assert by_reference[first.reference]["marketing opt-in"] == "yes"
    assert by_reference[second.reference]["status"] == "Confirmed"


@pytest.mark.parametrize(
    "typed",
    ['=HYPERLINK("https://evil.example","x")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1"],
)
def test_csv_export_neutralises_what_a_client_typed_that_a_spreadsheet_would_run(
    admin_client, typed
):
    booking = make_booking(
        starts_at=utc(2030, 6, 3, 13), full_name=typed, email=f"{typed[:1]}x@example.com"
    )

    [row] = exported(admin_client, booking)

    assert row["full name"] == "'" + typed
    assert row["email"] == "'" + booking.email


def test_csv_export_starts_no_cell_with_a_formula_character(admin_client):
    """
    A phone number in international format starts with "+", which a
    spreadsheet reads as a formula: "+12125550147" becomes the number
    12125550147, and the country code's "+" is lost.
    """
    booking = make_booking(starts_at=utc(2030, 6, 3, 13), phone="+442079460958")

    [row] = exported(admin_client, booking)

    for column, cell in row.items():
        assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}, f"{column}: {cell}"
    assert row["phone"].endswith("+442079460958")


@pytest.mark.parametrize("formula", ['=HYPERLINK("https://evil.example","x")', "@SUM(A1:A9)"])
def test_csv_export_neutralises_formulas_in_content_staff_edit(admin_client, formula):
    """Content editors name treatments; the export must not run what they typed either."""
    treatment = make_treatment(name=formula)
    booking = make_booking(starts_at=utc(2030, 6, 3, 13), treatment=treatment)

    [row] = exported(admin_client, booking)

    assert row["treatment"] == "'" + formula
    for column, cell in row.items():
        assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}, f"{column}: {cell}"


# Every booking admin renders.


@pytest.mark.parametrize(
    ("model", "add_status"),
    [
        (Practitioner, 200),
        (ConsultationType, 200),
        (Closure, 200),
        # One row of rules exists already; emails come only from the outbox.
        (BookingRules, 403),
        (OutboundEmail, 403),
    ],
)
def test_booking_admin_pages_render(admin_client, model, add_status):
    book()
    Closure.objects.create(starts_on=timezone.localdate(), ends_on=timezone.localdate())
    obj = model.objects.first()
    name = model._meta.model_name

    assert admin_client.get(reverse(f"admin:booking_{name}_changelist")).status_code == 200
    assert (
        admin_client.get(reverse(f"admin:booking_{name}_change", args=[obj.pk])).status_code == 200
    )
    assert admin_client.get(reverse(f"admin:booking_{name}_add")).status_code == add_status


def test_every_booking_model_has_an_admin():
    from django.apps import apps

    assert set(apps.get_app_config("booking").get_models()) - set(admin.site._registry) == {
        BookingStatusChange,  # shown on the booking's page
        WorkingHours,  # and these two on the practitioner's
        TimeOff,
        AvailabilityVersion,  # the booking page cache's, nothing for staff
        # Suitability screening: the answers on the booking's page (to staff
        # who may see them); the rest on the questionnaire's and question's.
        ScreeningAnswers,
        QuestionnaireUse,
        QuestionnaireVersion,
        AnswerRule,
        SignInLink,  # My visits' sign-in links: hashes and times, nothing for staff
    }
    assert {inline.model for inline in PractitionerAdmin.inlines} == {WorkingHours, TimeOff}
    assert {inline.model for inline in QuestionnaireAdmin.inlines} >= {
        QuestionnaireUse,
        QuestionnaireVersion,
    }
    assert {inline.model for inline in QuestionAdmin.inlines} == {AnswerRule}


def test_staff_edit_hours_time_off_closures_and_rules_in_the_admin(admin_client):
    maya = practitioner(ESTHETICIAN)
    set_hours({0: [("09:00", "12:00")]}, practitioners=[maya])
    response = admin_client.post(
        reverse("admin:booking_closure_add"),
        {"starts_on": "2030-12-24", "ends_on": "2030-12-26", "reason": "Holidays"},
    )
    assert response.status_code == 302
    data = with_new_window(practitioner_form(admin_client, maya), 2, "13:00", "17:00")
    data |= {
        "time_off-TOTAL_FORMS": "1",
        "time_off-0-starts_at_0": "2030-07-01",
        "time_off-0-starts_at_1": "09:00",
        "time_off-0-ends_at_0": "2030-07-05",
        "time_off-0-ends_at_1": "17:00",
        "time_off-0-reason": "Conference",
    }
    assert admin_client.post(practitioner_url(maya), data).status_code == 302
    rules_url = reverse("admin:booking_bookingrules_change", args=[1])
    form = page(admin_client.get(rules_url)).find("form", id="bookingrules_form")
    response = admin_client.post(rules_url, form_data(form) | {"minimum_notice_hours": "3"})
    assert response.status_code == 302

    assert Closure.objects.get().reason == "Holidays"
    assert hours_of(maya) == [(0, time(9), time(12)), (2, time(13), time(17))]
    leave = TimeOff.objects.get(practitioner=maya)
    assert (leave.starts_at, leave.ends_at, leave.reason) == (
        clinic_time(2030, 7, 1, 9),
        clinic_time(2030, 7, 5, 17),
        "Conference",
    )
    assert BookingRules.current().minimum_notice_hours == 3


def test_staff_set_a_consultation_types_length_turnover_and_grid_in_the_admin(admin_client):
    kind = consultation_type(PROFESSIONAL_CONSULTATION)
    url = reverse("admin:booking_consultationtype_change", args=[kind.pk])
    form = page(admin_client.get(url)).find("form", id="consultationtype_form")

    response = admin_client.post(
        url,
        form_data(form)
        | {"duration_minutes": "60", "turnover_minutes": "15", "grid_minutes": "30"},
    )

    assert response.status_code == 302
    kind.refresh_from_db()
    assert (kind.duration_minutes, kind.turnover_minutes, kind.grid_minutes) == (60, 15, 30)


def test_booking_rules_can_be_added_only_by_staff_allowed_to_add_them(admin_client, member):
    # The rules row is missing (deleted by hand, say): only a user with the
    # "add booking rules" permission may create it; the front desk may not.
    BookingRules.objects.all().delete()
    add = reverse("admin:booking_bookingrules_add")
    front_desk = member("Front desk")

    assert front_desk.get(add).status_code == 403
    assert admin_client.get(add).status_code == 200
    assert not BookingRules.objects.exists()


# The staff groups.


@pytest.fixture
def member(client, django_user_model):
    """A staff client logged in as a member of the named group."""

    def log_in(group):
        user = django_user_model.objects.create_user(
            group.lower().replace(" ", "-"), password="pw", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        sign_in_verified(client, user)
        return client

    return log_in


def test_front_desk_can_view_and_change_bookings(member):
    client = member("Front desk")
    booking = book()
    url = change_url(booking)

    assert client.get(CHANGELIST).status_code == 200
    form = page(client.get(url)).find("form", id="consultationbooking_form")
    response = client.post(url, form_data(form) | {"internal_notes": "Called."})
    assert response.status_code == 302
    assert run_action(client, "mark_confirmed", booking).status_code == 200

    booking.refresh_from_db()
    assert booking.internal_notes == "Called."
    assert booking.status == Status.CONFIRMED


def test_front_desk_cannot_delete_bookings(member):
    client = member("Front desk")
    booking = book()

    response = client.get(reverse("admin:booking_consultationbooking_delete", args=[booking.pk]))
    offered = client.get(CHANGELIST).context["action_form"].fields["action"].choices

    assert response.status_code == 403
    assert "delete_selected" not in dict(offered)
    assert ConsultationBooking.objects.filter(pk=booking.pk).exists()


def test_front_desk_can_edit_hours_time_off_types_closures_and_booking_rules(member):
    client = member("Front desk")
    maya = practitioner(ESTHETICIAN)

    data = with_new_window(practitioner_form(client, maya), 5, "10:00", "14:00")
    data |= {
        "time_off-TOTAL_FORMS": "1",
        "time_off-0-starts_at_0": "2030-07-01",
        "time_off-0-starts_at_1": "09:00",
        "time_off-0-ends_at_0": "2030-07-01",
        "time_off-0-ends_at_1": "13:00",
    }
    assert client.post(practitioner_url(maya), data).status_code == 302
    assert (5, time(10), time(14)) in hours_of(maya)
    assert TimeOff.objects.filter(practitioner=maya).count() == 1
    assert client.get(reverse("admin:booking_practitioner_add")).status_code == 200
    kind = consultation_type(PROFESSIONAL_CONSULTATION)
    type_url = reverse("admin:booking_consultationtype_change", args=[kind.pk])
    form = page(client.get(type_url)).find("form", id="consultationtype_form")
    assert client.post(type_url, form_data(form) | {"duration_minutes": "45"}).status_code == 302
    assert consultation_type(PROFESSIONAL_CONSULTATION).duration_minutes == 45
    assert client.get(reverse("admin:booking_closure_add")).status_code == 200
    rules_url = reverse("admin:booking_bookingrules_change", args=[1])
    form = page(client.get(rules_url)).find("form", id="bookingrules_form")
    assert client.post(rules_url, form_data(form) | {"horizon_days": "45"}).status_code == 302
    assert BookingRules.current().horizon_days == 45


@pytest.mark.parametrize("model", [Practitioner, ConsultationType])
def test_front_desk_cannot_delete_practitioners_or_types_bookings_point_at(member, model):
    client = member("Front desk")
    obj = model.objects.first()
    name = model._meta.model_name

    assert client.get(reverse(f"admin:booking_{name}_delete", args=[obj.pk])).status_code == 403


@pytest.mark.parametrize("model", [Treatment, FAQ])
def test_front_desk_cannot_edit_content(member, model):
    client = member("Front desk")
    name = model._meta.model_name

    assert client.get(reverse(f"admin:treatments_{name}_changelist")).status_code == 403
    assert client.get(reverse(f"admin:treatments_{name}_add")).status_code == 403


@pytest.mark.parametrize("model", [Treatment, FAQ])
def test_content_editors_can_edit_treatments_and_faqs(member, model):
    client = member("Content editors")
    obj = model.objects.first()
    name = model._meta.model_name

    assert client.get(reverse(f"admin:treatments_{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:treatments_{name}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"admin:treatments_{name}_add")).status_code == 200


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:booking_consultationbooking_changelist",
        "admin:booking_outboundemail_changelist",
        "admin:booking_closure_changelist",
        "admin:booking_bookingrules_changelist",
    ],
)
def test_content_editors_see_no_bookings(member, url_name):
    client = member("Content editors")
    book()

    assert client.get(reverse(url_name)).status_code == 403


def test_content_editors_write_bios_and_descriptions_but_not_the_schedule(member):
    client = member("Content editors")
    maya = practitioner(ESTHETICIAN)
    hours_before = hours_of(maya)

    data = practitioner_form(client, maya)
    # Neither her hours nor her time off are on the page for them; whether
    # she takes bookings is shown, not editable.
    assert not any(name.startswith(("working_hours-", "time_off-")) for name in data)
    assert "takes_online_bookings" not in data
    response = client.post(practitioner_url(maya), data | {"bio": "Fifteen years in skin care."})
    assert response.status_code == 302
    kind = consultation_type(PROFESSIONAL_CONSULTATION)
    type_url = reverse("admin:booking_consultationtype_change", args=[kind.pk])
    data = form_data(page(client.get(type_url)).find("form", id="consultationtype_form"))
    assert "duration_minutes" not in data
    response = client.post(type_url, data | {"description": "What to expect."})
    assert response.status_code == 302

    maya.refresh_from_db()
    assert maya.bio == "Fifteen years in skin care."
    assert maya.takes_online_bookings
    assert hours_of(maya) == hours_before
    kind = consultation_type(PROFESSIONAL_CONSULTATION)
    assert (kind.description, kind.duration_minutes) == ("What to expect.", 30)


def test_content_editors_cannot_open_a_booking(member):
    client = member("Content editors")
    booking = book()

    assert client.get(change_url(booking)).status_code == 403
