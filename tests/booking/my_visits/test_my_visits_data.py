"""
"Download my data" and "Delete my data": everything held about the address
as JSON, in a fixed number of queries, and nobody else's; an erasure
request staff carry out in the admin, through the retention service,
keeping the medical records the booking rules keep.
"""

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import (
    BookingRules,
    ConsultationBooking,
    ErasureRequest,
    OutboundEmail,
    ScreeningAnswers,
    SignInLink,
    WaitlistEntry,
)
from booking.services import my_visits
from booking.services.client_data import client_data
from booking.services.retention import ANONYMISED_NAME
from tests.support.booking import (
    MEDICAL_CONSULTATION,
    Status,
    book,
    consultation_type,
    main_text,
    make_booking,
    move_into_the_past,
    page,
    set_rules,
)
from tests.support.my_visits import MY_VISITS, sign_in_as
from tests.support.screening import book_with_answers, key, publish_example
from tests.support.waitlist import make_entry

pytestmark = pytest.mark.django_db

ADA = "ada.quinterra@example.com"
ALLERGIES = "Do you have any known allergies? If so, which?"


def download(client):
    response = client.get("/my-visits/my-data.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(response.content)


def test_the_download_holds_bookings_history_emails_waitlist_consents_and_health_answers(
    client, django_capture_on_commit_callbacks
):
    version = publish_example()
    with django_capture_on_commit_callbacks(execute=True):
        visit = book_with_answers(version, {key(version, ALLERGIES): "Latex-4471"})
    ConsultationBooking.objects.filter(pk=visit.pk).update(email="Ada.Quinterra@example.com")
    services.change_status(visit, Status.CONFIRMED)
    entry = make_entry(email=ADA)
    my_visits.set_marketing_emails(email=ADA, wanted=False)
    stranger = book(email="bo.other@example.com", full_name="Bo Otherperson")
    sign_in_as(client, ADA)

    data = download(client)

    assert data["address"] == ADA
    [booking] = data["bookings"]
    assert booking["reference"] == visit.reference
    assert booking["status"] == "Confirmed"
    assert [change["to"] for change in booking["history"]] == ["Requested", "Confirmed"]
    assert {email["kind"] for email in booking["emails"]} >= {
        "Receipt to client",
        "Confirmation to client",
    }
    assert all(
        set(email) == {"kind", "delivery", "written_at", "sent_at"} for email in booking["emails"]
    )
    assert booking["consent"]["privacy_policy_version"] == visit.privacy_policy_version
    assert booking["consent"]["marketing_emails"] is False
    answers = {row["question"]: row["answer"] for row in booking["health_form"]["answers"]}
    assert answers[ALLERGIES] == "Latex-4471"
    assert booking["health_form"]["health_notice_version"]
    [waiting] = data["waitlist"]
    assert waiting["consultation"] == entry.consultation_type.name
    assert data["marketing_choices"][0]["marketing_emails"] is False
    text = json.dumps(data)
    assert stranger.reference not in text and "Bo Otherperson" not in text
    assert "internal_notes" not in text


def test_the_download_needs_a_signed_in_browser(client):
    response = client.get("/my-visits/my-data.json")
    assert response.status_code == 302 and response.url == MY_VISITS


@pytest.mark.every_database
def test_the_download_costs_nine_queries_however_much_is_held(django_assert_num_queries):
    def held(n):
        for _ in range(n):
            visit = book(email=ADA)
            services.change_status(visit, Status.CONFIRMED)
        make_entry(email=ADA)

    held(1)
    with django_assert_num_queries(9):
        small = client_data(ADA)
    held(3)
    with django_assert_num_queries(9):
        large = client_data(ADA)
    assert len(small["bookings"]) == 1 and len(large["bookings"]) == 4


@pytest.fixture
def staff(admin_client):
    return admin_client


def carry_out(staff, erasure_request):
    changelist = reverse("admin:booking_erasurerequest_changelist")
    return staff.post(
        changelist,
        {"action": "carry_out", "_selected_action": [erasure_request.pk]},
        follow=True,
    )


def test_delete_my_data_makes_one_request_and_the_page_says_when(client):
    book(email=ADA)
    set_rules(erasure_days=30)
    sign_in_as(client, ADA)
    client.post("/my-visits/delete/")
    response = client.post("/my-visits/delete/", follow=True)
    [request] = ErasureRequest.objects.all()
    assert request.status == ErasureRequest.Status.WAITING
    assert request.due_by == timezone.localdate() + timedelta(days=30)
    text = main_text(page(response))
    assert f"by {request.due_by:%-d %B %Y}" in text
    assert "Delete my data" not in [button.text for button in page(response).find_all("button")]


def test_a_delete_my_data_request_is_confirmed_by_email_once_with_how_to_stop_it(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    book(email=ADA)
    set_rules(erasure_days=30)
    sign_in_as(client, ADA)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/my-visits/delete/")
        client.post("/my-visits/delete/")  # Pressed twice: one request, one email.

    [request] = ErasureRequest.objects.all()
    [message] = mailoutbox
    assert message.to == [ADA]
    assert message.subject == "We have your request to delete your data"
    assert f"{request.due_by:%A %-d %B %Y}" in message.body
    assert "If you did not ask for this" in message.body
    [row] = OutboundEmail.objects.filter(kind=OutboundEmail.Kind.ERASURE_REQUESTED)
    assert row.status == OutboundEmail.Delivery.SENT and row.booking is None

    # Carried out, the email's copy in the outbox is emptied with the rest.
    my_visits.carry_out_erasure(erasure_request=request, by=None)
    row.refresh_from_db()
    assert (row.to, row.subject, row.body) == ("", "", "")


@pytest.mark.every_database
def test_one_waiting_request_per_address_is_a_database_rule():
    my_visits.request_erasure(email=ADA)
    with pytest.raises(IntegrityError), transaction.atomic():
        ErasureRequest.objects.create(email=ADA, due_by=timezone.localdate())
    # Pressing again returns the waiting one.
    again, created = my_visits.request_erasure(email=ADA)
    assert not created and ErasureRequest.objects.get() == again


def test_staff_carry_out_a_request_anonymising_all_but_the_medical_records_kept(
    client, staff, django_capture_on_commit_callbacks
):
    set_rules(medical_record_years=7)
    medical = consultation_type(MEDICAL_CONSULTATION)
    kept = make_booking(
        starts_at=timezone.now() - timedelta(days=400),
        status=Status.COMPLETED,
        consultation_type=medical,
        practitioner=medical.qualified_practitioners().first(),
        email=ADA,
    )
    old_enough = make_booking(
        starts_at=timezone.now() - timedelta(days=365 * 8),
        status=Status.COMPLETED,
        consultation_type=medical,
        practitioner=medical.qualified_practitioners().first(),
        email=ADA,
    )
    skin = move_into_the_past(book(email=ADA))
    ahead = book(email="ADA.Quinterra@example.com")
    entry = make_entry(email=ADA)
    stranger = book(email="bo.other@example.com")
    sign_in_as(client, ADA)
    request, _ = my_visits.request_erasure(email=ADA)

    response = carry_out(staff, request)

    assert "1 erasure request(s) carried out" in main_text(page(response))
    for booking in (kept, old_enough, skin, ahead, stranger):
        booking.refresh_from_db()
    assert kept.anonymised_at is None and kept.email == ADA
    for gone in (old_enough, skin, ahead):
        assert gone.anonymised_at is not None and gone.full_name == ANONYMISED_NAME
        assert gone.email == ""
    assert ahead.status == Status.CANCELLED
    assert stranger.anonymised_at is None
    assert not WaitlistEntry.objects.filter(pk=entry.pk).exists()
    assert not SignInLink.objects.filter(email=ADA).exists()
    request.refresh_from_db()
    assert request.status == ErasureRequest.Status.DONE and request.email == ""
    assert kept.reference in request.outcome and "7 years" in request.outcome
    assert request.done_by == get_user_model().objects.get(username="admin")
    # The client's page now shows only what was kept.
    text = main_text(page(client.get(MY_VISITS)))
    assert kept.reference in text and ahead.reference not in text


def test_erasure_deletes_health_answers_of_bookings_it_anonymises():
    version = publish_example()
    visit = book_with_answers(version, {key(version, ALLERGIES): "Latex-4471"})
    ConsultationBooking.objects.filter(pk=visit.pk).update(email=ADA)
    request, _ = my_visits.request_erasure(email=ADA)
    my_visits.carry_out_erasure(erasure_request=request, by=None)
    assert not ScreeningAnswers.objects.filter(booking=visit).exists()
    assert OutboundEmail.objects.filter(booking=visit).exclude(to="").count() == 0


def test_the_page_states_the_retention_rule(client):
    book(email=ADA)
    set_rules(medical_record_years=7, erasure_days=30)
    sign_in_as(client, ADA)
    text = main_text(page(client.get(MY_VISITS)))
    assert "within 30 days" in text
    assert "for 7 years" in text


def test_the_nightly_anonymisation_keeps_medical_records_for_their_years():
    set_rules(medical_record_years=7)
    medical = consultation_type(MEDICAL_CONSULTATION)
    record = make_booking(
        starts_at=timezone.now() - timedelta(days=365 * 3),
        status=Status.COMPLETED,
        consultation_type=medical,
        practitioner=medical.qualified_practitioners().first(),
    )
    no_show = make_booking(
        starts_at=timezone.now() - timedelta(days=365 * 3),
        status=Status.NO_SHOW,
        consultation_type=medical,
        practitioner=medical.qualified_practitioners().first(),
    )
    call_command("anonymise_bookings", stdout=io.StringIO())
    record.refresh_from_db()
    no_show.refresh_from_db()
    assert record.anonymised_at is None
    assert no_show.anonymised_at is not None
    BookingRules.objects.filter(pk=1).update(medical_record_years=0)
    call_command("anonymise_bookings", stdout=io.StringIO())
    record.refresh_from_db()
    assert record.anonymised_at is not None


def test_the_erasure_and_marketing_admins_render(staff):
    my_visits.request_erasure(email=ADA)
    my_visits.set_marketing_emails(email=ADA, wanted=False)
    for name in ["erasurerequest", "marketingchoice"]:
        changelist = reverse(f"admin:booking_{name}_changelist")
        assert staff.get(changelist).status_code == 200
        assert staff.get(changelist, {"q": "ada"}).status_code == 200
    request = ErasureRequest.objects.get()
    assert (
        staff.get(reverse("admin:booking_erasurerequest_change", args=[request.pk])).status_code
        == 200
    )
    assert staff.get(reverse("admin:booking_erasurerequest_add")).status_code == 403


def test_health_answers_and_addresses_stay_out_of_the_logs(client, caplog):
    version = publish_example()
    visit = book_with_answers(version, {key(version, ALLERGIES): "Latex-4471"})
    ConsultationBooking.objects.filter(pk=visit.pk).update(email=ADA)
    caplog.set_level("DEBUG")
    client.post("/my-visits/sign-in/", {"email": ADA})
    sign_in_as(client, ADA)
    assert "Latex-4471" in client.get(MY_VISITS).content.decode()
    answers = download(client)["bookings"][0]["health_form"]["answers"]
    assert any(row["answer"] == "Latex-4471" for row in answers)
    request, _ = my_visits.request_erasure(email=ADA)
    my_visits.carry_out_erasure(erasure_request=request, by=None)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Latex-4471" not in logged
    assert ADA not in logged.lower()
