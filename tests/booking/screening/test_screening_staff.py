"""
Health answers for staff: who sees them (per group), the flag in the
bookings list and the day sheet, the CSV export without them, clinical
leads editing and publishing questionnaires, anonymisation deleting the
answers, and a move re-checking the date rules against the new date.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import (
    BookingStatusChange,
    OutboundEmail,
    Questionnaire,
    QuestionnaireVersion,
    ScreeningAnswers,
    ScreeningOutcome,
)
from booking.services import screening
from booking.services.schedule import bookable_slots
from tests.support.booking import book, move_into_the_past, page
from tests.support.html import form_data
from tests.support.mailbox import written
from tests.support.screening import (
    book_with_answers,
    example_questionnaire,
    key,
    medical_type,
    publish_example,
)
from tests.support.two_factor import sign_in_verified

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:booking_consultationbooking_changelist")
DAY_SHEET = reverse("admin:booking_day_sheet")
ISOTRETINOIN = "When did you last take isotretinoin (for example Accutane)?"
ALLERGIES = "Do you have any known allergies? If so, which?"
SECRET_ALLERGY = "Latex-and-marker-4471"


@pytest.fixture
def version():
    return publish_example()


@pytest.fixture
def flagged(version):
    return book_with_answers(version, {key(version, ALLERGIES): SECRET_ALLERGY})


@pytest.fixture
def member(client, django_user_model):
    def log_in(group):
        user = django_user_model.objects.create_user(
            group.lower().replace(" ", "-"), password="pw", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        sign_in_verified(client, user)
        return client

    return log_in


def change_url(booking):
    return reverse("admin:booking_consultationbooking_change", args=[booking.pk])


@pytest.mark.parametrize("group", ["Front desk", "Practitioners", "Clinical leads"])
def test_front_desk_practitioners_and_clinical_leads_see_the_answers_as_asked(
    member, flagged, group
):
    response = member(group).get(change_url(flagged))

    assert response.status_code == 200
    text = page(response).find(id="content-main").text
    assert "Health form" in text
    assert ALLERGIES in text
    assert SECRET_ALLERGY in text
    assert "Flag for practitioner review" in text


def test_content_editors_see_no_booking_and_no_answer(member, flagged):
    client = member("Content editors")

    assert client.get(change_url(flagged)).status_code == 403
    assert client.get(CHANGELIST).status_code == 403
    assert (
        not Group.objects.get(name="Content editors")
        .permissions.filter(codename="view_health_answers")
        .exists()
    )


def test_staff_without_the_health_permission_see_the_booking_but_not_the_answers(
    client, django_user_model, flagged
):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_consultationbooking"))
    client.force_login(user)

    response = client.get(change_url(flagged))

    assert response.status_code == 200
    assert SECRET_ALLERGY not in response.content.decode()
    assert ALLERGIES not in response.content.decode()


def test_answers_are_shown_against_the_version_the_client_answered(admin_client, version, flagged):
    questionnaire = example_questionnaire()
    questionnaire.questions.filter(text=ALLERGIES).update(text="Any allergies?")
    screening.publish_questionnaire(questionnaire)

    text = page(admin_client.get(change_url(flagged))).find(id="content-main").text

    assert ALLERGIES in text
    assert "Any allergies?" not in text
    assert f"{questionnaire} v1" in text


def test_the_bookings_list_flags_a_booking_for_review_without_its_answers(admin_client, flagged):
    response = admin_client.get(CHANGELIST)
    text = response.content.decode()

    assert "⚑ Flag for practitioner review" in text
    assert SECRET_ALLERGY not in text


def test_the_bookings_list_filters_the_flagged_health_forms(admin_client, version, flagged):
    days = {}
    for slot in bookable_slots(medical_type()):
        days.setdefault(timezone.localdate(slot.starts_at), slot.starts_at)
    fine = book_with_answers(version, {}, list(days.values())[1])
    without = book(list(days.values())[2], consultation_type=medical_type())

    def listed(value):
        response = admin_client.get(CHANGELIST, {"health_form": value})
        return {booking.pk for booking in response.context["cl"].result_list}

    assert listed("flagged") == {flagged.pk}
    assert listed("fine") == {fine.pk}
    assert listed("none") == {without.pk}


def test_the_day_sheet_flags_a_booking_for_review_without_its_answers(admin_client, flagged):
    day = timezone.localdate(flagged.starts_at)
    document = page(admin_client.get(DAY_SHEET, {"date": day.isoformat()}))

    flags = [item.text for item in document.find_all("li", class_="day-sheet-health-flag")]
    assert flags == ["⚑ Health form: review"]
    assert SECRET_ALLERGY not in document.text


def test_the_csv_export_never_includes_health_answers(admin_client, flagged):
    response = admin_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [flagged.pk]}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 2
    assert rows[1][0] == flagged.reference
    exported = response.content.decode()
    for secret in [SECRET_ALLERGY, ALLERGIES, "review", "Flag", "health"]:
        assert secret not in exported


def test_anonymisation_deletes_the_health_answers(flagged):
    move_into_the_past(flagged, days=800)
    other = book_with_answers(flagged.screening.version, {})

    call_command("anonymise_bookings", stdout=io.StringIO())

    assert not ScreeningAnswers.objects.filter(booking=flagged).exists()
    assert ScreeningAnswers.objects.filter(booking=other).exists()
    # The version stays: it is the clinic's record of what was asked, not the client's data.
    assert QuestionnaireVersion.objects.filter(pk=flagged.screening.version_id).exists()


def test_clinical_leads_edit_and_publish_questionnaires_and_the_front_desk_cannot(member, version):
    questionnaire = example_questionnaire()
    changelist = reverse("admin:booking_questionnaire_changelist")
    change = reverse("admin:booking_questionnaire_change", args=[questionnaire.pk])
    question = questionnaire.questions.first()
    question_change = reverse("admin:booking_question_change", args=[question.pk])

    lead = member("Clinical leads")
    assert lead.get(changelist).status_code == 200
    assert lead.get(reverse("admin:booking_questionnaire_add")).status_code == 200
    shown = lead.get(change)
    assert shown.status_code == 200
    assert "EXAMPLE content" in shown.content.decode()
    assert lead.get(question_change).status_code == 200
    assert (
        lead.get(reverse("admin:booking_question_changelist"), {"q": "pregnant"}).status_code == 200
    )

    form = page(lead.get(question_change)).find("form", id="question_form")
    response = lead.post(question_change, form_data(form) | {"text": "Are you pregnant at all?"})
    assert response.status_code == 302
    response = lead.post(
        changelist, {"action": "publish", "_selected_action": [questionnaire.pk]}, follow=True
    )
    assert "published as version 2" in response.content.decode()
    assert questionnaire.versions.count() == 2

    lead.logout()
    desk = member("Front desk")
    assert desk.get(changelist).status_code == 403
    assert desk.get(change).status_code == 403


def test_a_questionnaire_is_asked_by_one_type_at_most(version):
    from django.db import IntegrityError, transaction

    from booking.models import QuestionnaireUse

    other = Questionnaire.objects.create(name="Another")
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireUse.objects.create(questionnaire=other, consultation_type=medical_type())


# Moving a booking re-checks the date rules against the new date.


@pytest.fixture
def early_and_late():
    """Two free times of the medical consultation at least three weeks apart."""
    slots = bookable_slots(medical_type())
    early = slots[0].starts_at
    late = next(slot.starts_at for slot in slots if slot.starts_at > early + timedelta(days=21))
    return early, late


def test_a_move_earlier_brings_a_date_rule_into_play_and_is_recorded_without_details(
    version, early_and_late
):
    early, late = early_and_late
    # Last taken exactly six months before the later appointment: not within
    # six months of it, but within six months of the earlier one.
    last_taken = screening.months_before(timezone.localdate(late), 6)
    booking = book_with_answers(version, {key(version, ISOTRETINOIN): last_taken.isoformat()}, late)
    assert booking.screening.outcome == ScreeningOutcome.FINE

    services.move_booking(booking, early, by_client=True)

    answers = ScreeningAnswers.objects.get(booking=booking)
    assert answers.outcome == ScreeningOutcome.CALL
    assert answers.checked_for == timezone.localdate(early)
    note = BookingStatusChange.objects.filter(booking=booking).latest("pk").note
    assert "Health form re-checked for the new date" in note
    assert "Cannot be booked online" in note
    assert "isotretinoin" not in note.lower()
    rescheduled = written(
        OutboundEmail.objects.filter(booking=booking, kind=OutboundEmail.Kind.RESCHEDULED).get()
    )
    assert "We have a question about your health form" in rescheduled.body
    assert "isotretinoin" not in rescheduled.body.lower()
    clinic = written(
        OutboundEmail.objects.get(booking=booking, kind=OutboundEmail.Kind.CLIENT_CHANGE)
    )
    assert "The health form needs a look" in clinic.body
    assert "isotretinoin" not in clinic.body.lower()


def test_a_client_moving_into_a_date_rule_is_asked_to_call_on_their_page(
    client, version, early_and_late, settings
):
    early, late = early_and_late
    last_taken = screening.months_before(timezone.localdate(late), 6)
    booking = book_with_answers(version, {key(version, ISOTRETINOIN): last_taken.isoformat()}, late)
    url = booking.get_manage_url()
    slot = next(slot for slot in bookable_slots(medical_type()) if slot.starts_at == early)

    response = client.post(url, {"action": "move", "with": "same", "slot": slot.value}, follow=True)

    text = page(response).find("main").text
    assert "Your consultation has moved." in text
    assert (
        f"We have a question about your health form. Please call us on {settings.CLINIC['phone']}"
        in text
    )
    assert "isotretinoin" not in text.lower()
    assert ScreeningAnswers.objects.get(booking=booking).outcome == ScreeningOutcome.CALL


def test_staff_moving_a_booking_are_told_its_health_form_changed(
    admin_client, version, early_and_late
):
    early, late = early_and_late
    last_taken = screening.months_before(timezone.localdate(late), 6)
    booking = book_with_answers(version, {key(version, ISOTRETINOIN): last_taken.isoformat()}, late)
    move = reverse("admin:booking_move", args=[booking.pk])
    local = timezone.localtime(early)
    data = form_data(page(admin_client.get(move)).find("form", id="move-booking-form")) | {
        "date": local.date().isoformat(),
        "time": f"{local:%H:%M}",
    }

    response = admin_client.post(move, data, follow=True)

    shown = [str(message) for message in response.context["messages"]]
    assert any(
        "health form was checked again for the new date: it is now “Cannot be booked online"
        in message
        for message in shown
    ), shown


def test_a_move_later_takes_a_date_rule_out_of_play(version, early_and_late):
    early, late = early_and_late
    last_taken = screening.months_before(timezone.localdate(late), 6)
    booking = book_with_answers(
        version, {key(version, ISOTRETINOIN): last_taken.isoformat()}, early
    )
    assert booking.screening.outcome == ScreeningOutcome.CALL

    services.move_booking(booking, late, for_staff=True)

    assert ScreeningAnswers.objects.get(booking=booking).outcome == ScreeningOutcome.FINE
    rescheduled = written(
        OutboundEmail.objects.filter(booking=booking, kind=OutboundEmail.Kind.RESCHEDULED).get()
    )
    assert "health form" not in rescheduled.body


def test_a_move_that_keeps_the_outcome_records_nothing_more(version, early_and_late):
    early, late = early_and_late
    booking = book_with_answers(version, {}, early)
    before = BookingStatusChange.objects.filter(booking=booking).count()

    services.move_booking(booking, late)

    assert BookingStatusChange.objects.filter(booking=booking).count() == before + 1  # the move
    assert ScreeningAnswers.objects.get(booking=booking).checked_for == timezone.localdate(late)


def test_the_questionnaire_list_costs_the_same_queries_with_more_questionnaires(
    admin_client, version
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from booking.models import QuestionnaireUse
    from tests.support.booking import make_consultation_type

    changelist = reverse("admin:booking_questionnaire_changelist")
    admin_client.get(changelist)
    with CaptureQueriesContext(connection) as one:
        admin_client.get(changelist)
    for n in range(5):
        questionnaire = Questionnaire.objects.create(name=f"Extra {n}")
        QuestionnaireUse.objects.create(
            questionnaire=questionnaire, consultation_type=make_consultation_type()
        )
        screening.publish_questionnaire(questionnaire)

    with CaptureQueriesContext(connection) as six:
        response = admin_client.get(changelist)

    assert "Extra 4" in response.content.decode()
    assert len(six) == len(one)


def test_the_bookings_list_costs_the_same_queries_with_more_health_forms(admin_client, version):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # One a day: the medical consultation has one practitioner.
    days = {}
    for slot in bookable_slots(medical_type()):
        days.setdefault(timezone.localdate(slot.starts_at), slot.starts_at)
    first, *others = list(days.values())[:6]
    book_with_answers(version, {key(version, ALLERGIES): SECRET_ALLERGY}, first)
    admin_client.get(CHANGELIST)
    with CaptureQueriesContext(connection) as one:
        admin_client.get(CHANGELIST)
    for starts_at in others:
        book_with_answers(version, {key(version, ALLERGIES): SECRET_ALLERGY}, starts_at)

    with CaptureQueriesContext(connection) as six:
        response = admin_client.get(CHANGELIST)

    assert response.content.decode().count("⚑ Flag for practitioner review") == 6
    assert len(six) == len(one)
