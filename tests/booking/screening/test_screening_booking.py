"""
The health questions in the public booking form: shown for the types that
ask them, their outcome shown ("Check my answers") before the request is
sent, a separate consent, and every bad input answered with the form again
and nothing stored.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import (
    ConsultationBooking,
    OutboundEmail,
    Question,
    ScreeningAnswers,
    ScreeningOutcome,
)
from booking.services import screening
from booking.services.schedule import parse_slot_value
from tests.support.booking import (
    BOOK_URL,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    PROFESSIONAL_CONSULTATION,
    booking_form,
    consultation_type,
    error_summary,
    filled_booking_form,
    main_text,
    page,
    received_booking,
    request_form_page,
    time_links,
)
from tests.support.html import form_data
from tests.support.mailbox import written
from tests.support.screening import Kind, key, make_questionnaire, publish_example

pytestmark = pytest.mark.django_db

MEDICAL_PAGE = f"{BOOK_URL}?type={MEDICAL_CONSULTATION}&practitioner={NURSE_PRACTITIONER}"
PREGNANT = "Are you pregnant, or could you be?"
ISOTRETINOIN = "When did you last take isotretinoin (for example Accutane)?"
INFECTION = "Do you have an active skin infection or a cold sore at the moment?"
RETINOID = (
    "Have you used a retinoid cream or serum (such as tretinoin or retinol) in the past week?"
)
PEEL = "When did you last have injectables or a chemical peel?"
ALLERGIES = "Do you have any known allergies? If so, which?"


@pytest.fixture
def version():
    return publish_example()


def fine_answers(version):
    return {
        f"q_{key(version, PREGNANT)}": "no",
        f"q_{key(version, INFECTION)}": "no",
        f"q_{key(version, RETINOID)}": "no",
        f"q_{key(version, PEEL)}": "Never, or more than a month ago",
        "health_consent": "on",
    }


def filled(client, version, **answers):
    """The medical consultation's form filled in, health answers too. Returns (page, data)."""
    return filled_booking_form(client, MEDICAL_PAGE, **(fine_answers(version) | answers))


def checked(client, data):
    """Press “Check my answers”: the page shown again with the outcome."""
    response = client.post(BOOK_URL, data | {"check_answers": "1"})
    assert response.status_code == 200
    return page(response)


def outcome_text(document):
    outcome = document.find(id="health-outcome")
    return outcome.text if outcome else ""


def nothing_stored():
    return not ConsultationBooking.objects.exists() and not ScreeningAnswers.objects.exists()


def test_a_type_with_health_questions_shows_them_after_the_times_and_before_the_client_details(
    client, version
):
    document = request_form_page(client, MEDICAL_PAGE)
    form = booking_form(document)
    section = form.find("fieldset", class_="health-questions")
    medical_card = next(
        card
        for card in document.find_all("a", class_="booking-card")
        if "aria-current" in card.attrs
    )
    assert "A few health questions follow" in medical_card.text

    assert section.find("legend").text == "Health questions"
    legends = [legend.text for legend in section.find_all("legend")]
    labels = [label.text for label in section.find_all("label")]
    assert PREGNANT + "*" in legends
    assert ISOTRETINOIN in labels
    assert any("health questions" in label for label in labels)  # the consent
    order = [element.attrs.get("name") for element in form.iter() if element.tag == "input"]
    assert (
        order.index("slot") < order.index(f"q_{key(version, PREGNANT)}") < order.index("full_name")
    )
    assert form.find("input", name="screening_version").attrs["value"] == str(version.pk)


def test_a_type_without_questions_shows_none(client, version):
    document = request_form_page(client)
    assert booking_form(document).find("fieldset", class_="health-questions") is None


def test_unpublished_questions_are_not_asked(client):
    document = request_form_page(client, MEDICAL_PAGE)
    assert booking_form(document).find("fieldset", class_="health-questions") is None


def test_an_inactive_questionnaire_is_not_asked(client, version):
    assert booking_form(request_form_page(client, MEDICAL_PAGE)).find(
        "fieldset", class_="health-questions"
    )
    version.questionnaire.is_active = False
    version.questionnaire.save()

    document, data = filled_booking_form(client, MEDICAL_PAGE)

    form = booking_form(document)
    assert form.find("fieldset", class_="health-questions") is None
    assert form.find("input", name="screening_version") is None
    # Booked without a health answer: nothing asks for one.
    booking = received_booking(client.post(BOOK_URL, data))
    assert booking.consultation_type.slug == MEDICAL_CONSULTATION
    assert not ScreeningAnswers.objects.exists()


def test_checking_the_answers_shows_the_outcome_keeps_everything_and_then_books(client, version):
    _, data = filled(client, version, **{f"q_{key(version, PREGNANT)}": "yes"})

    document = checked(client, data)

    assert "Your practitioner will read your answers" in outcome_text(document)
    assert not ConsultationBooking.objects.exists()
    again = form_data(booking_form(document))
    assert again["full_name"] == data["full_name"]
    assert again[f"q_{key(version, PREGNANT)}"] == "yes"
    assert again["screening_outcome_seen"] == ScreeningOutcome.REVIEW

    response = client.post(BOOK_URL, again)

    assert response.status_code == 302, error_summary(page(response))
    booking = ConsultationBooking.objects.get()
    answers = booking.screening
    assert answers.version == version
    assert answers.outcome == ScreeningOutcome.REVIEW
    assert answers.answers[key(version, PREGNANT)] == "yes"
    assert answers.checked_for == timezone.localdate(booking.starts_at)
    assert answers.health_policy_version == screening.HEALTH_POLICY_VERSION
    assert answers.health_consent_given_at is not None


def test_a_request_sent_before_its_outcome_was_shown_shows_it_first(client, version):
    _, data = filled(client, version)

    response = client.post(BOOK_URL, data)

    document = page(response)
    assert response.status_code == 200
    assert "nothing in your answers stops you" in outcome_text(document)
    assert any("Please read what your answers" in error for error in error_summary(document))
    assert nothing_stored()
    assert client.post(BOOK_URL, form_data(booking_form(document))).status_code == 302
    assert ScreeningAnswers.objects.get().outcome == ScreeningOutcome.FINE


def test_an_answer_changed_after_checking_is_shown_again_before_booking(client, version):
    _, data = filled(client, version)
    again = form_data(booking_form(checked(client, data)))
    again[f"q_{key(version, PREGNANT)}"] = "yes"

    document = page(client.post(BOOK_URL, again))

    assert "Your practitioner will read your answers" in outcome_text(document)
    assert nothing_stored()


def test_answers_that_cannot_be_booked_online_say_to_call_and_are_refused(
    client, version, settings
):
    _, data = filled(client, version, **{f"q_{key(version, INFECTION)}": "yes"})

    document = checked(client, data)
    response = client.post(BOOK_URL, form_data(booking_form(document)))

    assert f"cannot be booked online. Please call us on {settings.CLINIC['phone']}" in outcome_text(
        document
    )
    assert response.status_code == 200
    assert any("cannot be booked online" in error for error in error_summary(page(response)))
    assert nothing_stored()


def test_the_isotretinoin_rule_counts_back_from_the_chosen_appointment(client, version):
    _, data = filled(client, version)
    appointment = timezone.localdate(parse_slot_value(data["slot"]))
    iso = f"q_{key(version, ISOTRETINOIN)}"

    within = checked(client, data | {iso: (appointment - timedelta(days=150)).isoformat()})
    beyond = checked(client, data | {iso: (appointment - timedelta(days=200)).isoformat()})

    assert "cannot be booked online" in outcome_text(within)
    assert "nothing in your answers stops you" in outcome_text(beyond)


def test_answers_needing_a_medical_provider_ask_for_the_medical_consultation(client):
    professional = consultation_type(PROFESSIONAL_CONSULTATION)
    version = make_questionnaire(
        professional,
        questions=[(Kind.YES_NO, "Are you pregnant?", [("yes", None, ScreeningOutcome.MEDICAL)])],
    )
    _, data = filled_booking_form(
        client,
        f"{BOOK_URL}?type={PROFESSIONAL_CONSULTATION}",
        **{f"q_{key(version, 'Are you pregnant?')}": "yes", "health_consent": "on"},
    )

    document = checked(client, data)
    response = client.post(BOOK_URL, form_data(booking_form(document)))

    assert "we'll book you a medical consultation first" in outcome_text(document)
    assert "medical-grade facial consultation" in outcome_text(document)
    assert response.status_code == 200
    assert nothing_stored()


def test_the_health_consent_is_separate_and_required(client, version):
    _, data = filled(client, version, health_consent=None)
    data.pop("health_consent", None)

    response = client.post(BOOK_URL, data | {"screening_outcome_seen": ScreeningOutcome.FINE})

    document = page(response)
    assert "Please agree that we may use your answers" in main_text(document)
    assert nothing_stored()


def test_a_check_before_choosing_a_time_asks_for_the_time_first(client, version):
    _, data = filled(client, version)
    data.pop("slot")

    document = checked(client, data)

    assert "Choose a time above" in outcome_text(document)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"q_999999": "yes"}, "The health questions have changed"),
        ({"screening_version": "999999"}, "The health questions have changed"),
        ({"screening_version": "not a number"}, "The health questions have changed"),
        ({"ISO": "1800-01-01"}, "Enter a date between"),
        ({"ISO": "2999-01-01"}, "Enter a date between"),
        ({"ISO": "2026-02-30"}, "Enter a date like"),
        ({"ISO": "x" * 5000}, "Enter a date like"),
        ({"PREGNANT": "maybe"}, "Please answer yes or no."),
        ({"PREGNANT": ""}, "Please answer this question."),
        ({"PEEL": "Yesterday"}, "Please choose one of the answers."),
        ({"ALLERGIES": "x" * 1001}, "under 1000 characters"),
        ({"ALLERGIES": "Latex\x1b[2J"}, "invisible control characters"),
    ],
)
def test_bad_health_answers_show_the_form_again_and_store_nothing(client, version, change, message):
    names = {
        "ISO": f"q_{key(version, ISOTRETINOIN)}",
        "PREGNANT": f"q_{key(version, PREGNANT)}",
        "PEEL": f"q_{key(version, PEEL)}",
        "ALLERGIES": f"q_{key(version, ALLERGIES)}",
    }
    _, data = filled(client, version)
    data |= {names.get(name, name): value for name, value in change.items()}

    for step in [{"check_answers": "1"}, {"screening_outcome_seen": ScreeningOutcome.FINE}]:
        response = client.post(BOOK_URL, data | step)
        assert response.status_code == 200
        assert message in main_text(page(response))
    assert nothing_stored()


def test_answers_to_an_older_version_are_refused_after_a_new_one_is_published(client, version):
    _, data = filled(client, version)
    data = form_data(booking_form(checked(client, data)))
    Question.objects.filter(text=PREGNANT).update(text="Are you pregnant?")
    screening.publish_questionnaire(version.questionnaire)

    response = client.post(BOOK_URL, data)

    assert response.status_code == 200
    assert "The health questions have changed" in main_text(page(response))
    assert nothing_stored()


def test_no_health_answer_goes_into_an_email(client, version, mailoutbox):
    allergy = "Penicillin-specific-marker"
    _, data = filled(
        client,
        version,
        **{f"q_{key(version, ALLERGIES)}": allergy, f"q_{key(version, PREGNANT)}": "yes"},
    )
    response = client.post(BOOK_URL, form_data(booking_form(checked(client, data))))

    assert response.status_code == 302
    bodies = [(email.subject, email.body) for email in map(written, OutboundEmail.objects.all())]
    receipt = written(OutboundEmail.objects.get(kind=OutboundEmail.Kind.RECEIPT)).body
    assert "We have a question about your health form" in receipt
    alert = written(OutboundEmail.objects.get(kind=OutboundEmail.Kind.CLINIC_ALERT)).body
    assert "The health form needs a look" in alert
    for subject, body in bodies:
        for secret in [
            allergy,
            "pregnant",
            "Pregnant",
            "isotretinoin",
            ScreeningOutcome.REVIEW.label,
        ]:
            assert secret not in subject + body


def test_no_health_answer_is_logged(client, version, caplog):
    allergy = "Penicillin-specific-marker"
    _, data = filled(client, version, **{f"q_{key(version, ALLERGIES)}": allergy})
    with caplog.at_level("DEBUG"):
        client.post(BOOK_URL, form_data(booking_form(checked(client, data))))

    assert ScreeningAnswers.objects.exists()
    assert allergy not in caplog.text


def test_an_error_report_would_star_every_answer(client, version, rf):
    from django.views.debug import SafeExceptionReporterFilter

    _, data = filled(client, version, **{f"q_{key(version, ALLERGIES)}": "Latex"})
    response = client.post(BOOK_URL, data | {"check_answers": "1"})

    shown = SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)
    assert shown[f"q_{key(version, ALLERGIES)}"] == SafeExceptionReporterFilter.cleansed_substitute


@pytest.mark.every_database
def test_the_page_with_health_questions_costs_the_same_queries_with_more_questions(client, version):
    step_five = time_links(page(client.get(MEDICAL_PAGE)))[0].split("#")[0]
    client.get(step_five)
    with CaptureQueriesContext(connection) as few:
        client.get(step_five)
    for n in range(20):
        Question.objects.create(
            questionnaire=version.questionnaire, text=f"Extra {n}?", position=100 + n
        )
    screening.publish_questionnaire(version.questionnaire)

    with CaptureQueriesContext(connection) as many:
        document = page(client.get(step_five))

    assert "Extra 19?" in main_text(document)
    assert len(many) == len(few)
