"""
Suitability screening: the health questions some consultation types ask
before they are booked, the rules on their answers, and what those rules
decide.

A questionnaire is edited as rows (Question, AnswerRule) and published as a
frozen snapshot (QuestionnaireVersion.content): clients answer a version, a
booking's answers name it, and the rules are evaluated from it, so editing
the questionnaire never changes what an earlier client was asked.

Date rules are measured against the appointment date, not today, and are
measured again when a booking moves (recheck_after_move).

Health data: answers are never logged (logs name bookings by reference and
outcomes only), never put in emails, and are deleted by anonymisation.
Each display of them to staff is recorded (record_health_form_read).
"""

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from booking.models import (
    HealthFormRead,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    ScreeningAnswers,
    ScreeningOutcome,
)

logger = logging.getLogger(__name__)

Kind = Question.Kind
SEVERITY = list(ScreeningOutcome.values)  # fine < review < medical < call

# The version of the health-information notice (the privacy page's section
# on health questions) that a client consents to. Raise it whenever that
# section's wording changes; each booking's answers keep the one agreed to.
HEALTH_POLICY_VERSION = "health-2026-12-01"

# Field names of the questions in the booking form: "q_" and the question's key.
FIELD_PREFIX = "q_"
VERSION_FIELD = "screening_version"
SEEN_OUTCOME_FIELD = "screening_outcome_seen"
TEXT_MAX_LENGTH = 1000
# Dates a client can mean: a century back, two years ahead. Anything else is a typo.
EARLIEST_YEARS_BACK = 100
LATEST_DAYS_AHEAD = 2 * 366


# Publishing.


def snapshot(questionnaire):
    """The questionnaire's questions and rules as they are now, as a version stores them."""
    questions = questionnaire.questions.prefetch_related("rules").order_by("position", "pk")
    return {
        "name": questionnaire.name,
        "introduction": questionnaire.introduction,
        "questions": [
            {
                "key": str(question.pk),
                "kind": question.kind,
                "text": question.text,
                "help_text": question.help_text,
                "required": question.required,
                "choices": question.choice_list,
                "rules": [
                    {
                        "answer": rule.answer.lower()
                        if question.kind == Kind.YES_NO
                        else rule.answer,
                        "within_months": rule.within_months,
                        "outcome": rule.outcome,
                        "note": rule.note_for_staff,
                    }
                    for rule in question.rules.all()
                ],
            }
            for question in questions
        ],
    }


def publish_questionnaire(questionnaire, *, by=None):
    """
    Freeze the questionnaire as its next version, unless it is the same as
    the latest one. Returns (version, created).
    """
    with transaction.atomic():
        # Locked so two clinical leads publishing at once make two numbers, not one twice.
        questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        content = snapshot(questionnaire)
        latest = questionnaire.latest_version()
        if latest is not None and latest.content == content:
            return latest, False
        version = QuestionnaireVersion.objects.create(
            questionnaire=questionnaire,
            number=(latest.number + 1) if latest else 1,
            content=content,
            published_by=by,
        )
    logger.info("Questionnaire %s published as version %s", questionnaire.pk, version.number)
    return version, True


# Evaluating answers.


def months_before(day, months):
    """The same day of the month `months` earlier (the month's last day when it has fewer)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rule_applies(rule, kind, answer, appointment_date):
    if answer in (None, ""):
        return False
    if kind == Kind.DATE:
        # Less than N months before the appointment, or after it.
        return date.fromisoformat(answer) > months_before(appointment_date, rule["within_months"])
    if kind == Kind.TEXT:
        return True
    if kind == Kind.YES_NO:
        return answer == rule["answer"]
    return answer == rule["answer"]


@dataclass
class Assessment:
    outcome: str = ScreeningOutcome.FINE
    reasons: list = field(default_factory=list)

    @property
    def label(self):
        return ScreeningOutcome(self.outcome).label


def assess(content, answers, appointment_date, *, consultation_type):
    """
    The most serious outcome of the rules the answers meet, and the staff
    notes of those rules. “Needs a medical provider” is met by a type that
    already needs one: the booking is flagged for that provider's review.
    """
    worst, reasons = ScreeningOutcome.FINE, []
    for question in content["questions"]:
        answer = answers.get(question["key"])
        for rule in question["rules"]:
            if not rule_applies(rule, question["kind"], answer, appointment_date):
                continue
            outcome = rule["outcome"]
            if outcome == ScreeningOutcome.MEDICAL and consultation_type.needs_medical_provider:
                outcome = ScreeningOutcome.REVIEW
            if outcome != ScreeningOutcome.FINE:
                reasons.append(rule["note"] or question["text"])
            if SEVERITY.index(outcome) > SEVERITY.index(worst):
                worst = outcome
    return Assessment(ScreeningOutcome(worst), reasons)


def client_message(assessment, *, phone, medical_consultation=None):
    """
    What the client is told about their answers before they book.
    `medical_consultation`: the type with a medical provider to choose instead.
    """
    outcome = assessment.outcome
    if outcome == ScreeningOutcome.FINE:
        return "Thank you: nothing in your answers stops you booking this consultation."
    if outcome == ScreeningOutcome.REVIEW:
        return (
            "Thank you: you can book. Your practitioner will read your answers before your "
            "consultation and may call you about them."
        )
    if outcome == ScreeningOutcome.MEDICAL:
        medical = (
            medical_consultation.name.lower()
            if medical_consultation
            else "consultation with a medical provider"
        )
        return (
            "From your answers, a medical provider should see you first. "
            f"Please choose the {medical} above and press “Show times”: "
            "we'll book you a medical consultation first."
        )
    return (
        f"From your answers, this consultation cannot be booked online. Please call us on {phone}."
    )


def blocks_booking(assessment):
    return assessment.outcome in {ScreeningOutcome.MEDICAL, ScreeningOutcome.CALL}


@dataclass
class Screening:
    """Valid answers to one version, with what they decide for one appointment: for book_consultation."""

    version: QuestionnaireVersion
    answers: dict
    assessment: Assessment
    checked_for: date


def record_answers(booking, screening):
    """Store a new booking's answers (inside book_consultation's transaction)."""
    return ScreeningAnswers.objects.create(
        booking=booking,
        version=screening.version,
        answers=screening.answers,
        outcome=screening.assessment.outcome,
        reasons=screening.assessment.reasons,
        checked_for=screening.checked_for,
        health_consent_given_at=timezone.now(),
        health_policy_version=HEALTH_POLICY_VERSION,
    )


def record_health_form_read(*, booking, reader, page):
    """
    Record that `reader` was shown `booking`'s health answers on `page` (a
    HealthFormRead.Page), and return the record. Called by every page that
    renders the answers, once per display; it stores who, when, which
    booking and where, never an answer.
    """
    return HealthFormRead.objects.create(
        booking=booking,
        booking_reference=booking.reference,
        reader=reader,
        reader_username=reader.get_username(),
        page=page,
    )


@dataclass(frozen=True)
class Recheck:
    """What measuring a moved booking's answers again against its new date found."""

    old: ScreeningOutcome
    new: ScreeningOutcome

    @property
    def changed(self):
        return self.old != self.new

    @property
    def needs_a_word(self):
        """Whether the client's answers need a word with them (emails say so, never why)."""
        return self.new != ScreeningOutcome.FINE


def recheck_after_move(booking):
    """
    Measure the date rules again against the booking's new date (inside
    move_booking's transaction, after the new time is held), and store the
    outcome on the answers. A move is never refused for it: the client's
    time is kept, and the booking service records a changed outcome in the
    booking's history (the outcome only, never an answer), where the admin
    list and the day sheet show it. Returns a Recheck, or None when the
    booking has no answers.
    """
    answers = (
        ScreeningAnswers.objects.select_for_update()
        .select_related("version")
        .filter(booking=booking)
        .first()
    )
    if answers is None:
        return None
    new_date = timezone.localdate(booking.starts_at)
    assessment = assess(
        answers.version.content,
        answers.answers,
        new_date,
        consultation_type=booking.consultation_type,
    )
    old = ScreeningOutcome(answers.outcome)
    answers.outcome, answers.reasons, answers.checked_for = (
        assessment.outcome,
        assessment.reasons,
        new_date,
    )
    answers.save(update_fields=["outcome", "reasons", "checked_for", "updated_at"])
    if old != assessment.outcome:
        # The reference alone: even an outcome says something about a client's health.
        logger.info("Booking %s: health form outcome changed after a move", booking.reference)
    return Recheck(old=old, new=ScreeningOutcome(assessment.outcome))


def answers_as_seen(answers):
    """[(question text, help text, answer as shown)] of stored answers, against their version."""
    rows = []
    for question in answers.version.content["questions"]:
        value = answers.answers.get(question["key"], "")
        if question["kind"] == Kind.YES_NO and value:
            value = value.capitalize()
        rows.append((question["text"], question["help_text"], value or "(not answered)"))
    return rows
