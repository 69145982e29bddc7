"""
Before-care and aftercare: the clinic's own texts for a consultation type,
emailed through the outbox. Before-care goes once per booking and
consultation day, its type's days before a confirmed consultation (counted on
the clinic's calendar), and is withdrawn when the booking is cancelled or
moved; aftercare goes once, when the booking is completed.
"""

import threading
from datetime import datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import dateformat

from booking import services
from booking.models import BookingQuerySet, ConsultationBooking, ConsultationType, OutboundEmail
from booking.services.emails import DeliveryResult, deliver, send_emails
from tests.support.booking import (
    ASSESSMENT,
    CLINIC_ZONE,
    MEDICAL_CONSULTATION,
    PROFESSIONAL_CONSULTATION,
    Status,
    all_at_once,
    clinic_clock,
    clinic_time,
    ensure_bookable,
    main_text,
    make_booking,
    make_consultation_type,
    make_practitioner,
    page,
)
from tests.support.html import form_data
from tests.support.two_factor import sign_in_verified

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]

BEFORE_CARE = OutboundEmail.Kind.BEFORE_CARE
AFTERCARE = OutboundEmail.Kind.AFTERCARE
PENDING = OutboundEmail.Delivery.PENDING
SENT = OutboundEmail.Delivery.SENT
SUPERSEDED = OutboundEmail.Delivery.SUPERSEDED

BEFORE_CARE_TEXT = "Please pause retinoid products for 3 days before your consultation."
AFTERCARE_TEXT = "Keep your skin out of strong sun for a few days."
BEFORE_CARE_SUBJECT = "Preparing for your consultation"
AFTERCARE_SUBJECT = "After your consultation"


def _monday_after_next():
    today = datetime.now(CLINIC_ZONE).date()
    return today + timedelta(days=14 - today.weekday())


# The times below are in a week ahead of the real clock (the outbox's
# next_attempt_at defaults to the real time), from a Monday at the clinic.
MONDAY = _monday_after_next()


def week(days, hour=0, minute=0):
    """A clinic time `days` after MONDAY."""
    day = MONDAY + timedelta(days=days)
    return clinic_time(day.year, day.month, day.day, hour, minute)


def day_text(when, pattern):
    return dateformat.format(when, pattern)


NOW = week(0, 9, 0)
FRIDAY_AT_TEN = week(4, 10, 0)  # Before-care (3 days) from Tuesday 10:00.


def care_type(**fields):
    return make_consultation_type(
        **{
            "before_care_text": BEFORE_CARE_TEXT,
            "before_care_days": 3,
            "aftercare_text": AFTERCARE_TEXT,
        }
        | fields
    )


def confirmed(starts_at, consultation_type, **fields):
    return make_booking(
        starts_at=starts_at, status=Status.CONFIRMED, consultation_type=consultation_type, **fields
    )


@pytest.fixture
def run_job(django_capture_on_commit_callbacks):
    """Run the before-care job at a clinic time, delivering what it queues as a commit would."""

    def run(at):
        with clinic_clock(at), django_capture_on_commit_callbacks(execute=True):
            return services.send_due_before_care()

    return run


@pytest.fixture
def complete(django_capture_on_commit_callbacks):
    def run(booking, at=NOW):
        with clinic_clock(at), django_capture_on_commit_callbacks(execute=True):
            return services.change_status(booking, Status.COMPLETED)

    return run


def with_subject(mailoutbox, start):
    return [message for message in mailoutbox if message.subject.startswith(start)]


def before_care_rows(booking):
    return list(
        OutboundEmail.objects.filter(booking=booking, kind=BEFORE_CARE)
        .order_by("pk")
        .values_list("consultation_date", "status")
    )


# Before-care: when it goes.


def test_before_care_goes_once_its_days_before_the_consultation_have_come(run_job, mailoutbox):
    booking = confirmed(FRIDAY_AT_TEN, care_type())

    assert run_job(NOW) == 0
    assert run_job(week(1, 9, 59)) == 0
    assert run_job(week(1, 10, 0)) == 1
    for hours in range(1, 72, 6):
        assert run_job(week(1, 10, 0) + timedelta(hours=hours)) == 0

    [message] = with_subject(mailoutbox, BEFORE_CARE_SUBJECT)
    assert message.to == [booking.email]
    assert message.subject == (
        f"Preparing for your consultation on {day_text(FRIDAY_AT_TEN, 'l j M')}"
    )
    assert BEFORE_CARE_TEXT in message.body
    assert booking.reference in message.body
    assert f"{day_text(FRIDAY_AT_TEN, 'l j F Y')}, 10:00 AM" in message.body
    assert before_care_rows(booking) == [(FRIDAY_AT_TEN.date(), SENT)]


def test_consultation_confirmed_after_its_before_care_days_gets_it_at_the_next_run(
    run_job, mailoutbox
):
    booking = confirmed(week(1, 15, 0), care_type(before_care_days=5))

    assert run_job(NOW) == 1

    assert len(with_subject(mailoutbox, BEFORE_CARE_SUBJECT)) == 1
    assert before_care_rows(booking) == [(booking.clinic_date, SENT)]


@pytest.mark.parametrize(
    ("consultation", "not_yet", "due"),
    [
        # Tuesday 10 March 2026, 10:00 EDT: the clocks went forward on the
        # Sunday, so 3 days before at 10:00 EST is 71 hours, not 72, before.
        (
            clinic_time(2026, 3, 10, 10, 0),
            clinic_time(2026, 3, 7, 9, 30),  # 72 hours before would be 9:00 EST.
            clinic_time(2026, 3, 7, 10, 0),
        ),
        # Tuesday 3 November 2026, 10:00 EST: the clocks went back on the
        # Sunday, so 3 days before at 10:00 EDT is 73 hours before.
        (
            clinic_time(2026, 11, 3, 10, 0),
            clinic_time(2026, 10, 31, 9, 59),
            clinic_time(2026, 10, 31, 10, 30),  # 72 hours before would be 11:00 EDT.
        ),
    ],
    ids=["clocks-forward", "clocks-back"],
)
def test_before_care_days_are_counted_on_the_clinic_calendar_across_a_clock_change(
    run_job, consultation, not_yet, due
):
    booking = confirmed(consultation, care_type(before_care_days=3))

    assert run_job(not_yet) == 0
    assert run_job(due) == 1

    # (Its delivery is left out: the outbox dates it by the real clock.)
    assert [day for day, _ in before_care_rows(booking)] == [consultation.date()]


@pytest.mark.parametrize(
    "status",
    [Status.REQUESTED, Status.ARRIVED, Status.CANCELLED, Status.DECLINED, Status.NO_SHOW],
)
def test_only_confirmed_consultations_get_before_care(run_job, mailoutbox, status):
    booking = make_booking(starts_at=FRIDAY_AT_TEN, status=status, consultation_type=care_type())

    assert run_job(week(3, 12, 0)) == 0

    assert with_subject(mailoutbox, BEFORE_CARE_SUBJECT) == []
    assert before_care_rows(booking) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"before_care_text": ""},
        {"before_care_text": " \n "},
        {"care_texts_need_review": True},
    ],
    ids=["no-text", "blank-text", "examples-awaiting-review"],
)
def test_types_without_before_care_text_or_awaiting_review_send_none(run_job, mailoutbox, fields):
    booking = confirmed(FRIDAY_AT_TEN, care_type(**fields))

    assert run_job(week(3, 12, 0)) == 0

    assert with_subject(mailoutbox, BEFORE_CARE_SUBJECT) == []
    assert before_care_rows(booking) == []


def test_consultation_already_past_gets_no_before_care(run_job, mailoutbox):
    booking = confirmed(week(0, 8, 30), care_type())

    assert run_job(NOW) == 0

    assert with_subject(mailoutbox, BEFORE_CARE_SUBJECT) == []
    assert before_care_rows(booking) == []


def test_before_care_still_waiting_when_the_consultation_passes_is_not_sent(mailoutbox):
    booking = confirmed(FRIDAY_AT_TEN, care_type())
    with clinic_clock(week(2, 10, 0)):
        services.send_due_before_care()  # Queued; the mail server is down.
    [message] = booking.emails.filter(kind=BEFORE_CARE)

    with clinic_clock(week(4, 10, 5)):
        assert deliver(message.pk) == DeliveryResult.SUPERSEDED

    assert mailoutbox == []


def test_the_reminder_command_queues_and_sends_before_care(mailoutbox):
    booking = confirmed(FRIDAY_AT_TEN, care_type())
    out = StringIO()

    with clinic_clock(week(2, 10, 0)):
        call_command("send_reminders", stdout=out)

    assert "1 before-care message(s) queued" in out.getvalue()
    assert [message.to for message in with_subject(mailoutbox, BEFORE_CARE_SUBJECT)] == [
        [booking.email]
    ]


def test_before_care_carries_the_clinic_text_and_nothing_the_client_wrote(run_job, mailoutbox):
    booking = confirmed(
        FRIDAY_AT_TEN,
        care_type(),
        message="I have rosacea and take isotretinoin.",
        internal_notes="Client mentioned a reaction last year.",
    )

    run_job(week(2, 10, 0))

    [message] = with_subject(mailoutbox, BEFORE_CARE_SUBJECT)
    assert message.to == [booking.email]
    assert BEFORE_CARE_TEXT in message.body
    assert "rosacea" not in message.body
    assert "isotretinoin" not in message.body
    assert "reaction" not in message.body
    assert message.attachments == []


# Before-care: once only, however the job runs.


def test_two_overlapping_runs_of_the_job_send_before_care_once(run_job, mailoutbox):
    booking = confirmed(FRIDAY_AT_TEN, care_type())
    find = BookingQuerySet.awaiting_before_care
    at = week(2, 10, 0)
    second_run = []

    def listed_then_another_run(queryset, now=None):
        # This run has its list; another run, started meanwhile, does all its work.
        listed = list(find(queryset, now))
        if not second_run:
            second_run.append("running")
            second_run[0] = services.send_due_before_care(now)
        return listed

    with mock.patch.object(BookingQuerySet, "awaiting_before_care", listed_then_another_run):
        first_run = run_job(at)

    assert (second_run, first_run) == ([1], 0)
    assert before_care_rows(booking) == [(FRIDAY_AT_TEN.date(), SENT)]
    assert len(with_subject(mailoutbox, BEFORE_CARE_SUBJECT)) == 1


def test_database_refuses_a_second_before_care_for_the_same_day():
    booking = confirmed(FRIDAY_AT_TEN, care_type())
    with clinic_clock(week(2, 10, 0)):
        services.send_due_before_care()
    [message] = booking.emails.filter(kind=BEFORE_CARE)
    message.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        message.save()


@pytest.mark.postgres
def test_jobs_running_at_once_on_postgresql_send_each_before_care_once(
    transactional_db, mailoutbox
):
    ensure_bookable()
    kind = care_type()
    person = make_practitioner()
    bookings = [
        confirmed(FRIDAY_AT_TEN + timedelta(hours=hour), kind, practitioner=person)
        for hour in range(3)
    ]
    find = BookingQuerySet.awaiting_before_care
    listed = threading.Barrier(4, timeout=30)

    def list_then_wait_for_the_others(queryset, now=None):
        # Every run has its list before any claims: they overlap for certain.
        due = list(find(queryset, now))
        listed.wait()
        return due

    with (
        clinic_clock(week(2, 10, 0)),
        mock.patch.object(BookingQuerySet, "awaiting_before_care", list_then_wait_for_the_others),
    ):
        results = all_at_once(lambda n: services.send_due_before_care(), 4)

    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == 3
    for booking in bookings:
        assert before_care_rows(booking) == [(FRIDAY_AT_TEN.date(), SENT)]
    sent = with_subject(mailoutbox, BEFORE_CARE_SUBJECT)
    assert sorted(message.to[0] for message in sent) == sorted(b.email for b in bookings)


# Before-care: withdrawn on cancel and move, due again for a new day.


def test_cancelling_withdraws_before_care_still_waiting(mailoutbox):
    booking = confirmed(FRIDAY_AT_TEN, care_type())
    with clinic_clock(week(2, 10, 0)):
        services.send_due_before_care()  # Queued, not yet sent.
        services.change_status(booking, Status.CANCELLED)
        [message] = booking.emails.filter(kind=BEFORE_CARE)
        assert deliver(message.pk) == DeliveryResult.NOT_DUE
        assert services.send_due_before_care() == 0

    assert before_care_rows(booking) == [(FRIDAY_AT_TEN.date(), SUPERSEDED)]
    assert with_subject(mailoutbox, BEFORE_CARE_SUBJECT) == []


def test_moving_withdraws_before_care_and_makes_it_due_again_for_the_new_day(run_job, mailoutbox):
    person = make_practitioner()
    booking = confirmed(FRIDAY_AT_TEN, care_type(), practitioner=person)
    on_the_way = week(2, 10, 0)
    with clinic_clock(on_the_way):
        services.send_due_before_care()  # Queued, not yet sent.
    next_thursday = week(10, 11, 0)

    with clinic_clock(on_the_way):
        services.move_booking(booking, next_thursday, practitioner=person, for_staff=True)
    assert run_job(on_the_way) == 0  # Not due for the new day yet.
    assert run_job(week(7, 10, 59)) == 0
    assert run_job(week(7, 11, 0)) == 1

    assert before_care_rows(booking) == [
        (FRIDAY_AT_TEN.date(), SUPERSEDED),
        (next_thursday.date(), SENT),
    ]
    [message] = with_subject(mailoutbox, BEFORE_CARE_SUBJECT)
    assert message.subject == (
        f"Preparing for your consultation on {day_text(next_thursday, 'l j M')}"
    )


def test_before_care_sent_goes_again_when_moved_to_another_day_not_to_another_hour(
    run_job, mailoutbox
):
    person = make_practitioner()
    booking = confirmed(FRIDAY_AT_TEN, care_type(), practitioner=person)
    wednesday = week(2, 10, 0)
    assert run_job(wednesday) == 1

    # Later the same day: what it said to do still holds.
    with clinic_clock(wednesday):
        services.move_booking(booking, week(4, 15, 0), practitioner=person, for_staff=True)
    assert run_job(wednesday) == 0
    # Another day: the days before count from it.
    with clinic_clock(wednesday):
        services.move_booking(booking, week(7, 15, 0), practitioner=person, for_staff=True)
    assert run_job(wednesday) == 0
    assert run_job(week(4, 15, 0)) == 1
    # And back to the first day: the client had it for that day already.
    with clinic_clock(week(4, 15, 0)):
        services.move_booking(booking, week(4, 16, 0), practitioner=person, for_staff=True)
    assert run_job(week(4, 15, 0)) == 0

    assert before_care_rows(booking) == [
        (FRIDAY_AT_TEN.date(), SENT),
        (week(7).date(), SENT),
    ]
    assert len(with_subject(mailoutbox, BEFORE_CARE_SUBJECT)) == 2


def test_client_move_back_to_requested_gets_before_care_only_once_confirmed_again(
    run_job, mailoutbox
):
    person = make_practitioner()
    booking = confirmed(FRIDAY_AT_TEN, care_type(), practitioner=person)
    with clinic_clock(NOW):
        services.move_booking(booking, week(3, 14, 0), practitioner=person, by_client=True)
    booking.refresh_from_db()
    assert booking.status == Status.REQUESTED

    assert run_job(week(1, 9, 0)) == 0
    with clinic_clock(week(1, 9, 0)):
        services.change_status(booking, Status.CONFIRMED)
    assert run_job(week(1, 9, 5)) == 1

    assert before_care_rows(booking) == [(week(3).date(), SENT)]


def test_before_care_for_a_day_the_booking_no_longer_has_is_not_sent(mailoutbox):
    """One a move could not withdraw (a worker was sending it) and that then failed."""
    booking = confirmed(FRIDAY_AT_TEN, care_type())
    with clinic_clock(week(2, 10, 0)):
        services.send_due_before_care()
        [message] = booking.emails.filter(kind=BEFORE_CARE)
        later = FRIDAY_AT_TEN + timedelta(days=3)
        ConsultationBooking.objects.filter(pk=booking.pk).update(
            starts_at=later,
            ends_at=later + timedelta(minutes=30),
            blocks_until=later + timedelta(minutes=40),
        )

        assert deliver(message.pk) == DeliveryResult.SUPERSEDED

    assert mailoutbox == []


# Aftercare.


def past_booking(status=Status.CONFIRMED, **type_fields):
    return make_booking(
        starts_at=NOW - timedelta(hours=2),
        status=status,
        consultation_type=care_type(**type_fields),
    )


@pytest.mark.parametrize("status", [Status.CONFIRMED, Status.ARRIVED])
def test_completing_a_consultation_sends_aftercare_once(complete, mailoutbox, status):
    booking = past_booking(status)

    complete(booking)

    [message] = with_subject(mailoutbox, AFTERCARE_SUBJECT)
    assert message.to == [booking.email]
    assert AFTERCARE_TEXT in message.body
    assert booking.reference in message.body
    assert "/book/manage/" not in message.body  # Nothing left to change.
    [row] = booking.emails.filter(kind=AFTERCARE)
    assert row.status == SENT
    # The task, run again (a retry, a second worker), finds it sent.
    with clinic_clock(NOW):
        assert send_emails.call([row.pk]) == [DeliveryResult.NOT_DUE]
        assert deliver(row.pk) == DeliveryResult.NOT_DUE
    assert len(with_subject(mailoutbox, AFTERCARE_SUBJECT)) == 1


def test_completing_again_is_refused_and_sends_no_second_aftercare(complete, mailoutbox):
    booking = past_booking()
    complete(booking)

    with pytest.raises(services.TransitionNotAllowed):
        complete(booking)

    assert booking.emails.filter(kind=AFTERCARE).count() == 1
    assert len(with_subject(mailoutbox, AFTERCARE_SUBJECT)) == 1


def test_database_refuses_a_second_aftercare(complete):
    booking = past_booking()
    complete(booking)
    [message] = booking.emails.filter(kind=AFTERCARE)
    message.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        message.save()


@pytest.mark.parametrize("to_status", [Status.NO_SHOW, Status.CANCELLED])
def test_no_show_or_cancelled_consultation_gets_no_aftercare(mailoutbox, to_status, complete):
    booking = past_booking()

    with clinic_clock(NOW):
        services.change_status(booking, to_status)

    assert not booking.emails.filter(kind=AFTERCARE).exists()
    assert with_subject(mailoutbox, AFTERCARE_SUBJECT) == []


@pytest.mark.parametrize(
    "fields",
    [{"aftercare_text": ""}, {"care_texts_need_review": True}],
    ids=["no-text", "examples-awaiting-review"],
)
def test_types_without_aftercare_text_or_awaiting_review_send_none(complete, mailoutbox, fields):
    booking = past_booking(**fields)

    complete(booking)

    assert not booking.emails.filter(kind=AFTERCARE).exists()
    assert with_subject(mailoutbox, AFTERCARE_SUBJECT) == []


def test_completing_withdraws_before_care_still_waiting():
    booking = confirmed(FRIDAY_AT_TEN, care_type())
    with clinic_clock(week(2, 10, 0)):
        services.send_due_before_care()
    with clinic_clock(FRIDAY_AT_TEN + timedelta(hours=1)):
        services.change_status(booking, Status.COMPLETED)

    assert before_care_rows(booking) == [(FRIDAY_AT_TEN.date(), SUPERSEDED)]


@pytest.mark.postgres
def test_two_staff_completing_at_once_on_postgresql_send_one_aftercare(
    transactional_db, mailoutbox
):
    ensure_bookable()
    for round_ in range(3):
        booking = make_booking(
            starts_at=NOW - timedelta(hours=2 + round_),
            status=Status.CONFIRMED,
            consultation_type=care_type(),
        )

        with clinic_clock(NOW):
            results = all_at_once(
                lambda n, pk=booking.pk: services.change_status(
                    ConsultationBooking.objects.get(pk=pk), Status.COMPLETED
                ),
                4,
            )

        completed = [r for r in results if isinstance(r, ConsultationBooking)]
        refused = [r for r in results if isinstance(r, services.TransitionNotAllowed)]
        assert (len(completed), len(refused)) == (1, 3), results
        assert list(booking.emails.filter(kind=AFTERCARE).values_list("status", flat=True)) == [
            SENT
        ]
    assert len(with_subject(mailoutbox, AFTERCARE_SUBJECT)) == 3


# The seeded examples.


@pytest.mark.parametrize("slug", [ASSESSMENT, PROFESSIONAL_CONSULTATION, MEDICAL_CONSULTATION])
def test_seeded_types_have_example_care_texts_that_wait_for_the_clinics_review(slug):
    kind = ConsultationType.objects.get(slug=slug)

    assert kind.before_care_text
    assert kind.aftercare_text
    assert kind.care_texts_need_review
    assert not kind.sends_before_care
    assert not kind.sends_aftercare


# The admin.


def staff_member(client, django_user_model, group):
    user = django_user_model.objects.create_user("staff-member", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return sign_in_verified(client, user)


def type_form(client, kind):
    url = reverse("admin:booking_consultationtype_change", args=[kind.pk])
    return url, form_data(page(client.get(url)).find("form", id="consultationtype_form"))


# Both write the texts, which then wait for a clinical lead's review (their
# forged unticking of the box is ignored); when before-care goes is set-up,
# which content editors see read-only (their forged "2" is ignored).
@pytest.mark.parametrize(("group", "days"), [("Content editors", 3), ("Front desk", 2)])
def test_content_editors_and_front_desk_write_the_care_texts_for_a_clinical_lead_to_approve(
    client, django_user_model, group, days
):
    staff_member(client, django_user_model, group)
    kind = ConsultationType.objects.get(slug=PROFESSIONAL_CONSULTATION)
    url, data = type_form(client, kind)
    assert "care_texts_need_review" not in data  # Read-only to them.
    data |= {
        "before_care_text": BEFORE_CARE_TEXT,
        "before_care_days": "2",
        "aftercare_text": AFTERCARE_TEXT,
    }

    response = client.post(url, data | {"care_texts_need_review": ""})

    assert response.status_code == 302
    kind.refresh_from_db()
    assert (kind.before_care_text, kind.before_care_days, kind.aftercare_text) == (
        BEFORE_CARE_TEXT,
        days,
        AFTERCARE_TEXT,
    )
    assert kind.care_texts_need_review
    assert not kind.sends_before_care and not kind.sends_aftercare


def test_a_clinical_lead_approves_the_care_texts_for_sending(client, django_user_model):
    staff_member(client, django_user_model, "Clinical leads")
    kind = ConsultationType.objects.get(slug=PROFESSIONAL_CONSULTATION)
    url, data = type_form(client, kind)
    assert "care_texts_need_review" in data  # Ticked, and theirs to untick.
    del data["care_texts_need_review"]

    response = client.post(url, data | {"aftercare_text": AFTERCARE_TEXT})

    assert response.status_code == 302
    kind.refresh_from_db()
    assert not kind.care_texts_need_review
    assert kind.aftercare_text == AFTERCARE_TEXT
    assert kind.sends_before_care and kind.sends_aftercare


def test_a_change_to_approved_texts_by_a_content_editor_sends_them_back_for_review(
    client, django_user_model
):
    kind = ConsultationType.objects.get(slug=PROFESSIONAL_CONSULTATION)
    kind.care_texts_need_review = False
    kind.save()
    staff_member(client, django_user_model, "Content editors")
    url, data = type_form(client, kind)

    response = client.post(url, data | {"description": "What to expect."}, follow=True)

    kind.refresh_from_db()
    assert kind.description == "What to expect." and not kind.care_texts_need_review
    assert "clinical lead" not in main_text(page(response))

    response = client.post(url, data | {"before_care_text": BEFORE_CARE_TEXT}, follow=True)

    kind.refresh_from_db()
    assert kind.before_care_text == BEFORE_CARE_TEXT
    assert kind.care_texts_need_review and not kind.sends_before_care
    assert "not emailed to anyone until a clinical lead has reviewed them" in main_text(
        page(response)
    )


def test_only_clinical_leads_are_given_the_approval():
    holders = Group.objects.filter(permissions__codename="approve_care_texts")

    assert list(holders.values_list("name", flat=True)) == ["Clinical leads"]


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("15", "Ensure this value is less than or equal to 14."),
        ("x", "Enter a whole number."),
    ],
)
def test_before_care_days_out_of_range_are_refused_in_the_admin(admin_client, days, message):
    kind = ConsultationType.objects.get(slug=PROFESSIONAL_CONSULTATION)
    url = reverse("admin:booking_consultationtype_change", args=[kind.pk])
    data = form_data(page(admin_client.get(url)).find("form", id="consultationtype_form"))

    response = admin_client.post(url, data | {"before_care_days": days})

    assert response.status_code == 200
    errors = page(response).find(class_="field-before_care_days").find(class_="errorlist").text
    assert message in errors
    kind.refresh_from_db()
    assert kind.before_care_days == 3


def test_booking_page_in_the_admin_lists_its_care_messages(admin_client, complete, run_job):
    booking = confirmed(FRIDAY_AT_TEN, care_type())
    run_job(week(2, 10, 0))
    complete(booking, at=FRIDAY_AT_TEN + timedelta(hours=1))

    document = page(
        admin_client.get(reverse("admin:booking_consultationbooking_change", args=[booking.pk]))
    )

    inline = document.find(id="emails-group").text
    assert "Before-care to client" in inline
    assert "Aftercare to client" in inline


def test_consultation_type_admin_lists_and_filters_types_awaiting_review(admin_client):
    url = reverse("admin:booking_consultationtype_changelist")

    assert admin_client.get(url).status_code == 200
    response = admin_client.get(url, {"care_texts_need_review__exact": "1"})

    assert response.status_code == 200
    assert {kind.slug for kind in response.context["cl"].result_list} == {
        ASSESSMENT,
        PROFESSIONAL_CONSULTATION,
        MEDICAL_CONSULTATION,
    }
