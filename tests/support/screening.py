"""Helpers for the suitability screening tests: questionnaires made and published in a line."""

from django.utils import timezone

from booking.models import (
    AnswerRule,
    ConsultationType,
    Question,
    Questionnaire,
    QuestionnaireUse,
)
from booking.services import screening
from booking.services.schedule import bookable_slots
from tests.support.booking import MEDICAL_CONSULTATION, book

Kind = Question.Kind


def example_questionnaire():
    """The questionnaire the data migration seeds for the medical-grade consultation."""
    return Questionnaire.objects.get(uses__consultation_type__slug=MEDICAL_CONSULTATION)


def publish_example():
    """Publish the seeded example as it is (the tests stand in for the medical director)."""
    version, _ = screening.publish_questionnaire(example_questionnaire())
    return version


def question(questionnaire, text):
    return questionnaire.questions.get(text=text)


def make_questionnaire(*types, questions=()):
    """
    A questionnaire asked by `types`, with `questions`: (kind, text,
    [(answer, within_months, outcome)]) each, then published. Returns the version.
    """
    questionnaire = Questionnaire.objects.create(name="Test questionnaire")
    for kind in types:
        QuestionnaireUse.objects.update_or_create(
            consultation_type=kind, defaults={"questionnaire": questionnaire}
        )
    for position, (kind, text, rules, *choices) in enumerate(questions):
        item = Question.objects.create(
            questionnaire=questionnaire,
            position=position,
            kind=kind,
            text=text,
            choices="\n".join(choices),
            required=kind in {Kind.YES_NO, Kind.CHOICE},
        )
        for answer, within_months, outcome in rules:
            AnswerRule.objects.create(
                question=item,
                answer=answer,
                within_months=within_months,
                outcome=outcome,
                note_for_staff=f"Rule on {text}",
            )
    version, _ = screening.publish_questionnaire(questionnaire)
    return version


def key(version, text):
    return next(q["key"] for q in version.content["questions"] if q["text"] == text)


def medical_type():
    return ConsultationType.objects.get(slug=MEDICAL_CONSULTATION)


def answered(version, starts_at, answers, kind=None):
    """The Screening the form would pass for these answers at `starts_at`."""
    kind = kind or medical_type()
    day = timezone.localdate(starts_at)
    return screening.Screening(
        version=version,
        answers=answers,
        assessment=screening.assess(version.content, answers, day, consultation_type=kind),
        checked_for=day,
    )


def book_with_answers(version, answers, starts_at=None):
    """A medical consultation booked through the service with these health answers."""
    kind = medical_type()
    starts_at = starts_at or bookable_slots(kind)[0].starts_at
    return book(starts_at, consultation_type=kind, screening=answered(version, starts_at, answers))
