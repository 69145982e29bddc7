"""
The rules on health answers: what each kind of rule matches, the most
serious outcome winning, date rules measured against the appointment date,
and versions freezing what clients were asked.
"""

from datetime import date

import pytest

from booking.models import AnswerRule, Question, QuestionnaireVersion, ScreeningOutcome
from booking.services import screening
from tests.support.booking import (
    ASSESSMENT,
    BOOK_URL,
    MEDICAL_CONSULTATION,
    booking_form,
    consultation_type,
    request_form_page,
)
from tests.support.screening import (
    Kind,
    example_questionnaire,
    key,
    make_questionnaire,
    medical_type,
    question,
)

pytestmark = pytest.mark.django_db

ISOTRETINOIN = "When did you last take isotretinoin (for example Accutane)?"
PREGNANT = "Are you pregnant, or could you be?"


def assess(version, answers, appointment, kind=None):
    return screening.assess(
        version.content,
        answers,
        appointment,
        consultation_type=kind or consultation_type(),
    )


@pytest.fixture
def version():
    return make_questionnaire(
        consultation_type(),
        questions=[
            (Kind.YES_NO, "Pregnant?", [("yes", None, ScreeningOutcome.REVIEW)]),
            (Kind.YES_NO, "Cold sore?", [("yes", None, ScreeningOutcome.CALL)]),
            (Kind.DATE, "Isotretinoin?", [("", 6, ScreeningOutcome.MEDICAL)]),
            (
                Kind.CHOICE,
                "Peel?",
                [("Last week", None, ScreeningOutcome.REVIEW)],
                "Never",
                "Last week",
            ),
            (Kind.TEXT, "Allergies?", [("", None, ScreeningOutcome.REVIEW)]),
        ],
    )


def test_answers_meeting_no_rule_are_fine(version):
    answers = {key(version, "Pregnant?"): "no", key(version, "Cold sore?"): "no"}
    assert assess(version, answers, date(2027, 3, 1)).outcome == ScreeningOutcome.FINE


def test_each_kind_of_rule_matches_its_answer(version):
    appointment = date(2027, 3, 1)
    assert (
        assess(version, {key(version, "Pregnant?"): "yes"}, appointment).outcome
        == ScreeningOutcome.REVIEW
    )
    assert (
        assess(version, {key(version, "Peel?"): "Last week"}, appointment).outcome
        == ScreeningOutcome.REVIEW
    )
    assert (
        assess(version, {key(version, "Peel?"): "Never"}, appointment).outcome
        == ScreeningOutcome.FINE
    )
    assert (
        assess(version, {key(version, "Allergies?"): "Latex"}, appointment).outcome
        == ScreeningOutcome.REVIEW
    )
    assert (
        assess(version, {key(version, "Allergies?"): ""}, appointment).outcome
        == ScreeningOutcome.FINE
    )


def test_the_most_serious_outcome_wins_and_every_reason_is_kept(version):
    answers = {key(version, "Pregnant?"): "yes", key(version, "Cold sore?"): "yes"}
    assessment = assess(version, answers, date(2027, 3, 1))
    assert assessment.outcome == ScreeningOutcome.CALL
    assert assessment.reasons == ["Rule on Pregnant?", "Rule on Cold sore?"]


def test_a_date_rule_is_measured_against_the_appointment_date_not_today(version):
    # Last taken 10 August 2026: within 6 months of an appointment on
    # 9 February 2027, not of one on 10 February 2027.
    answers = {key(version, "Isotretinoin?"): "2026-08-10"}
    assert assess(version, answers, date(2027, 2, 9)).outcome == ScreeningOutcome.MEDICAL
    assert assess(version, answers, date(2027, 2, 10)).outcome == ScreeningOutcome.FINE


def test_a_date_after_the_appointment_counts_as_within(version):
    answers = {key(version, "Isotretinoin?"): "2027-04-01"}
    assert assess(version, answers, date(2027, 3, 1)).outcome == ScreeningOutcome.MEDICAL


def test_months_before_keeps_to_the_end_of_a_shorter_month():
    assert screening.months_before(date(2027, 8, 31), 6) == date(2027, 2, 28)
    assert screening.months_before(date(2027, 1, 15), 1) == date(2026, 12, 15)


def test_needing_a_medical_provider_is_met_by_a_medical_type_and_flagged_for_review(version):
    answers = {key(version, "Isotretinoin?"): "2027-01-01"}
    assessment = assess(version, answers, date(2027, 3, 1), kind=medical_type())
    assert assessment.outcome == ScreeningOutcome.REVIEW


def asked_version(client, kind_slug):
    """The version of the health questions the booking page asks for this type, or None."""
    document = request_form_page(client, f"{BOOK_URL}?type={kind_slug}")
    form = booking_form(document)
    if form.find("fieldset", class_="health-questions") is None:
        return None
    return int(form.find("input", name="screening_version").attrs["value"])


def test_publishing_freezes_the_questions_and_a_later_edit_makes_a_new_version(client, version):
    questionnaire = version.questionnaire
    again, created = screening.publish_questionnaire(questionnaire)
    assert (again, created) == (version, False)

    Question.objects.filter(questionnaire=questionnaire, text="Pregnant?").update(
        text="Are you pregnant?"
    )
    newer, created = screening.publish_questionnaire(questionnaire)
    assert created and newer.number == version.number + 1
    version.refresh_from_db()
    assert [q["text"] for q in version.content["questions"]][0] == "Pregnant?"
    assert [q["text"] for q in newer.content["questions"]][0] == "Are you pregnant?"
    assert asked_version(client, ASSESSMENT) == newer.pk


def test_the_seeded_example_is_marked_and_waits_for_review_before_it_is_asked(client):
    questionnaire = example_questionnaire()
    assert questionnaire.is_example
    assert "EXAMPLE" in questionnaire.name
    assert not QuestionnaireVersion.objects.filter(questionnaire=questionnaire).exists()
    assert asked_version(client, MEDICAL_CONSULTATION) is None
    assert question(questionnaire, ISOTRETINOIN).rules.get().within_months == 6
    assert question(questionnaire, PREGNANT).rules.get().outcome == ScreeningOutcome.REVIEW
    assert all(
        "medical director to review" in rule.note_for_staff
        for rule in AnswerRule.objects.filter(question__questionnaire=questionnaire)
    )


def test_the_seeded_isotretinoin_rule_crosses_the_appointment_date():
    version, _ = screening.publish_questionnaire(example_questionnaire())
    iso = key(version, ISOTRETINOIN)
    kind = medical_type()
    assert (
        screening.assess(
            version.content, {iso: "2026-06-15"}, date(2026, 12, 14), consultation_type=kind
        ).outcome
        == ScreeningOutcome.CALL
    )
    assert (
        screening.assess(
            version.content, {iso: "2026-06-15"}, date(2026, 12, 15), consultation_type=kind
        ).outcome
        == ScreeningOutcome.FINE
    )


@pytest.mark.parametrize(
    ("kind", "answer", "within_months", "choices", "problem"),
    [
        (Kind.DATE, "", None, "", "within_months"),
        (Kind.YES_NO, "maybe", None, "", "answer"),
        (Kind.YES_NO, "yes", 3, "", "within_months"),
        (Kind.CHOICE, "Other", None, "A\nB", "answer"),
        (Kind.TEXT, "latex", None, "", "answer"),
    ],
)
def test_a_rule_that_does_not_fit_its_question_is_refused(
    kind, answer, within_months, choices, problem
):
    from django.core.exceptions import ValidationError

    version = make_questionnaire(consultation_type())
    item = Question.objects.create(
        questionnaire=version.questionnaire, kind=kind, text="Q?", choices=choices
    )
    rule = AnswerRule(question=item, answer=answer, within_months=within_months)
    with pytest.raises(ValidationError) as refusal:
        rule.full_clean()
    assert problem in refusal.value.message_dict
