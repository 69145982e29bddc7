"""
Personal data: removed from old bookings after the retention period, and
never written to the logs.
"""

import logging
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import BookingStatusChange, ConsultationBooking, OutboundEmail
from booking.services.emails import queue_email
from booking.services.retention import ANONYMISED_NAME
from tests.support.booking import (
    BOOK_URL,
    PROFESSIONAL_CONSULTATION,
    VISITOR,
    VISITOR_PHONE_E164,
    Status,
    consultation_type,
    filled_booking_form,
    make_booking,
    set_rules,
)
from tests.support.html import form_data, parse_html
from treatments.models import SkinConcern, Treatment

pytestmark = pytest.mark.django_db

DAYS_IN_A_MONTH = 30.44


def booking_months_ago(months, **fields):
    booking = make_booking(
        starts_at=timezone.now() - timedelta(days=months * DAYS_IN_A_MONTH),
        status=Status.COMPLETED,
        consultation_type=consultation_type(PROFESSIONAL_CONSULTATION),
        full_name="Ada Quinterra",
        email="ada.quinterra@example.com",
        phone="+12125550147",
        message="I have rosacea.",
        internal_notes="Allergic to retinol.",
        marketing_opt_in=True,
        submission_key=f"key-{months}",
        **fields,
    )
    booking.concerns.set(SkinConcern.objects.all()[:2])
    BookingStatusChange.objects.create(
        booking=booking, from_status="confirmed", to_status="completed", note="Ada was lovely"
    )
    queue_email(booking, OutboundEmail.Kind.RECEIPT)
    return booking


def anonymise(*args):
    out = StringIO()
    call_command("anonymise_bookings", *args, stdout=out)
    return out.getvalue()


def is_anonymised(booking):
    booking.refresh_from_db()
    return booking.anonymised_at is not None


def test_bookings_older_than_the_retention_period_lose_their_personal_data():
    old = booking_months_ago(25)
    kept = {
        "reference": old.reference,
        "starts_at": old.starts_at,
        "ends_at": old.ends_at,
        "blocks_until": old.blocks_until,
        "status": old.status,
        "consultation_type": old.consultation_type,
        "practitioner": old.practitioner,
        "treatment": old.treatment,
        "marketing_opt_in": old.marketing_opt_in,
        "consent_given_at": old.consent_given_at,
        "created_at": old.created_at,
    }

    output = anonymise()

    old.refresh_from_db()
    assert output.startswith("1 booking(s) anonymised")
    assert old.full_name == ANONYMISED_NAME
    assert (old.email, str(old.phone), old.message, old.internal_notes) == ("", "", "", "")
    assert old.submission_key is None
    assert list(old.concerns.all()) == []
    assert old.anonymised_at is not None
    assert {name: getattr(old, name) for name in kept} == kept
    email = old.emails.get()
    assert (email.to, email.subject, email.body, email.calendar) == ("", "", "", "")
    assert email.kind == OutboundEmail.Kind.RECEIPT
    history = old.status_changes.get()
    assert (history.from_status, history.to_status, history.note) == ("confirmed", "completed", "")


def test_recent_bookings_are_left_alone():
    recent = booking_months_ago(23)

    anonymise()

    recent.refresh_from_db()
    assert recent.anonymised_at is None
    assert recent.full_name == "Ada Quinterra"
    assert recent.email == "ada.quinterra@example.com"
    assert recent.concerns.count() == 2


def test_default_retention_is_twenty_four_months():
    just_over = booking_months_ago(24.1)
    just_under = booking_months_ago(23.9)

    anonymise()

    assert is_anonymised(just_over)
    assert not is_anonymised(just_under)


def test_retention_can_be_set_on_the_command_line():
    nine_months = booking_months_ago(9)
    three_months = booking_months_ago(3)

    anonymise("--months", "6")

    assert is_anonymised(nine_months)
    assert not is_anonymised(three_months)


def test_running_the_command_again_changes_nothing_more():
    old = booking_months_ago(30)
    anonymise()
    old.refresh_from_db()
    first = old.anonymised_at

    output = anonymise()

    old.refresh_from_db()
    assert output.startswith("0 booking(s) anonymised")
    assert old.anonymised_at == first


@pytest.mark.parametrize("months", ["0", "-3"])
def test_a_retention_of_less_than_a_month_is_refused(months):
    old = booking_months_ago(1)

    with pytest.raises(CommandError):
        anonymise("--months", months)

    assert not is_anonymised(old)


def test_anonymised_booking_stays_in_the_admin_without_personal_data(admin_client):
    old = booking_months_ago(25)
    anonymise()

    response = admin_client.get(reverse("admin:booking_consultationbooking_changelist"))

    assert old.reference.encode() in response.content
    assert b"Ada Quinterra" not in response.content


# Logs.


def personal_data_in(records):
    personal = [
        VISITOR["full_name"],
        *VISITOR["full_name"].split(),
        VISITOR["email"],
        VISITOR["phone"],
        VISITOR_PHONE_E164,
        "555-0147",
        "5550147",
    ]
    found = []
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        found += [f"{value!r} in {text!r}" for value in personal if value in text]
    return found


def test_booking_and_its_emails_write_no_names_emails_or_phone_numbers_to_the_logs(
    client, admin_user, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    # The client cancels the request they have just made: no online cut-off here.
    set_rules(client_change_cutoff_hours=0)
    _, data = filled_booking_form(client, message="Call me on 212 555 0147")

    # The mail server is down for the booking's own emails, so the failure is logged too.
    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages",
            side_effect=ConnectionRefusedError(111, f"Connection refused for {VISITOR['email']}"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert client.post(BOOK_URL, data).status_code == 302
    booking = ConsultationBooking.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(booking, Status.CONFIRMED, by=admin_user)
        services.change_status(booking, Status.CANCELLED, by_client=True)

    assert any(booking.reference in record.getMessage() for record in caplog.records)
    assert any(record.levelno >= logging.WARNING for record in caplog.records)
    assert personal_data_in(caplog.records) == []


def test_anonymising_also_clears_the_mail_servers_error_that_named_the_client():
    old = booking_months_ago(25)
    old.emails.update(
        attempts=3,
        last_error="SMTPRecipientsRefused: {'ada.quinterra@example.com': (550, 'No such user')}",
    )

    anonymise()

    email = old.emails.get()
    assert email.last_error == ""
    assert email.attempts == 3  # The record of what happened stays.


def test_a_booking_is_named_by_its_reference_alone():
    booking = make_booking(starts_at=timezone.now(), full_name="Ada Quinterra")

    assert str(booking) == booking.reference


def test_anonymising_leaves_no_name_in_the_admins_history(admin_client, admin_user):
    old = booking_months_ago(25)
    other = booking_months_ago(3)
    booking_type = ContentType.objects.get_for_model(ConsultationBooking)

    def log_change(booking, named, content_type=booking_type):
        return LogEntry.objects.create(
            user=admin_user,
            content_type=content_type,
            object_id=str(booking.pk),
            object_repr=named,
            action_flag=CHANGE,
            change_message='[{"changed": {"fields": ["Internal notes"]}}]',
        )

    # An entry written when a booking's name in the admin included the client's.
    legacy = log_change(old, f"{old.reference} — Ada Quinterra")
    not_due = log_change(other, f"{other.reference} — Bo Rivers")
    # Another model's entry with the same id is not the booking's.
    unrelated = log_change(old, "Rosacea facial", ContentType.objects.get_for_model(Treatment))
    # And one written now, by a staff member editing the booking.
    url = reverse("admin:booking_consultationbooking_change", args=[old.pk])
    form = parse_html(admin_client.get(url).content).find("form", id="consultationbooking_form")
    assert (
        admin_client.post(url, form_data(form) | {"internal_notes": "Called."}).status_code == 302
    )
    edited = LogEntry.objects.exclude(pk__in=[legacy.pk, not_due.pk, unrelated.pk]).get()
    assert admin_client.get(reverse("admin:index")).content.count(b"Ada Quinterra") == 1

    anonymise()

    for entry in (legacy, not_due, unrelated, edited):
        entry.refresh_from_db()
    assert legacy.object_repr == edited.object_repr == old.reference
    assert not_due.object_repr == f"{other.reference} — Bo Rivers"
    assert unrelated.object_repr == "Rosacea facial"
    # The admin's "Recent actions" list shows the entries' names.
    recent_actions = admin_client.get(reverse("admin:index")).content
    assert b"Ada Quinterra" not in recent_actions
    assert old.reference.encode() in recent_actions
