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
"""

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django import forms
from django.db import transaction
from django.utils import timezone

from .models import (
    BookingStatusChange,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    ScreeningAnswers,
    ScreeningOutcome,
)

logger = logging.getLogger(__name__)

Outcome = ScreeningOutcome
Kind = Question.Kind
SEVERITY = list(Outcome.values)  # fine < review < medical < call

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


def published_version_for(consultation_type):
    """The version clients of this type answer now, or None (no questionnaire, or none published)."""
    return (
        QuestionnaireVersion.objects.filter(
            questionnaire__uses__consultation_type=consultation_type,
            questionnaire__is_active=True,
        )
        .order_by("-number")
        .first()
    )


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
    outcome: str = Outcome.FINE
    reasons: list = field(default_factory=list)

    @property
    def label(self):
        return Outcome(self.outcome).label


def assess(content, answers, appointment_date, *, consultation_type):
    """
    The most serious outcome of the rules the answers meet, and the staff
    notes of those rules. “Needs a medical provider” is met by a type that
    already needs one: the booking is flagged for that provider's review.
    """
    worst, reasons = Outcome.FINE, []
    for question in content["questions"]:
        answer = answers.get(question["key"])
        for rule in question["rules"]:
            if not rule_applies(rule, question["kind"], answer, appointment_date):
                continue
            outcome = rule["outcome"]
            if outcome == Outcome.MEDICAL and consultation_type.needs_medical_provider:
                outcome = Outcome.REVIEW
            if outcome != Outcome.FINE:
                reasons.append(rule["note"] or question["text"])
            if SEVERITY.index(outcome) > SEVERITY.index(worst):
                worst = outcome
    return Assessment(Outcome(worst), reasons)


def client_message(assessment, *, phone, medical_consultation=None):
    """
    What the client is told about their answers before they book.
    `medical_consultation`: the type with a medical provider to choose instead.
    """
    outcome = assessment.outcome
    if outcome == Outcome.FINE:
        return "Thank you: nothing in your answers stops you booking this consultation."
    if outcome == Outcome.REVIEW:
        return (
            "Thank you: you can book. Your practitioner will read your answers before your "
            "consultation and may call you about them."
        )
    if outcome == Outcome.MEDICAL:
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
    return assessment.outcome in {Outcome.MEDICAL, Outcome.CALL}


# The questions in the booking form.


class HealthQuestionsForm(forms.Form):
    """
    The questions of one published version, as form fields named by their
    keys, and the separate consent to use health information. Posted keys
    that are not this version's questions (a tampered page, or a page from
    before a new version) are refused rather than ignored.
    """

    def __init__(self, data=None, *, version, initial=None, consent_label=""):
        super().__init__(data, initial=initial)
        self.version = version
        self.content = version.content
        self.questions = self.content["questions"]
        today = timezone.localdate()
        self.earliest = today.replace(year=today.year - EARLIEST_YEARS_BACK)
        self.latest = today + timedelta(days=LATEST_DAYS_AHEAD)
        for question in self.questions:
            self.fields[FIELD_PREFIX + question["key"]] = self._field(question)
        self.fields["health_consent"] = forms.BooleanField(
            label=consent_label,
            widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            error_messages={
                "required": "Please agree that we may use your answers to the health questions, "
                "or call us to book instead."
            },
        )

    def _field(self, question):
        required = question["required"]
        messages = {"required": "Please answer this question."}
        label = question["text"]
        help_text = question["help_text"]
        kind = question["kind"]
        if kind == Kind.YES_NO:
            field = forms.ChoiceField(
                choices=[("yes", "Yes"), ("no", "No")],
                widget=forms.RadioSelect,
                error_messages=messages | {"invalid_choice": "Please answer yes or no."},
            )
        elif kind == Kind.CHOICE:
            field = forms.ChoiceField(
                choices=[(option, option) for option in question["choices"]],
                widget=forms.RadioSelect,
                error_messages=messages | {"invalid_choice": "Please choose one of the answers."},
            )
        elif kind == Kind.DATE:
            field = forms.DateField(
                # A text box, not a date input: Chromium's date input has a
                # picker button that takes keyboard focus with no visible
                # focus ring, and a typed date is as quick for a past date.
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(
                    attrs={"class": "form-control", "inputmode": "numeric", "autocomplete": "off"},
                    format="%Y-%m-%d",
                ),
                error_messages=messages | {"invalid": "Enter a date like 2026-05-31."},
            )
            help_text = " ".join(
                filter(
                    None, [help_text, "Year-month-day, like 2026-05-31; your best guess will do."]
                )
            )
        else:
            field = forms.CharField(
                max_length=TEXT_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
                error_messages=messages
                | {"max_length": f"Please keep this answer under {TEXT_MAX_LENGTH} characters."},
            )
        field.required = required
        field.label = label
        field.help_text = help_text
        field.question_kind = kind
        return field

    def clean(self):
        cleaned_data = super().clean()
        if self.data:
            known = set(self.fields)
            unknown = [
                name for name in self.data if name.startswith(FIELD_PREFIX) and name not in known
            ]
            posted_version = str(self.data.get(VERSION_FIELD, ""))
            if unknown or posted_version != str(self.version.pk):
                raise forms.ValidationError(
                    "The health questions have changed since this page was opened, or could not "
                    "be read. Please answer the questions below again.",
                    code="stale",
                )
        for question in self.questions:
            name = FIELD_PREFIX + question["key"]
            value = cleaned_data.get(name)
            if (
                question["kind"] == Kind.DATE
                and value is not None
                and not (self.earliest <= value <= self.latest)
            ):
                self.add_error(
                    name,
                    f"Enter a date between {self.earliest:%-d %B %Y} and {self.latest:%-d %B %Y}.",
                )
            if question["kind"] == Kind.TEXT and value:
                from .forms import refuse_control_characters

                try:
                    cleaned_data[name] = refuse_control_characters(value, allowed="\n\r\t").strip()
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return cleaned_data

    def answers(self):
        """{question key: answer as text}, from the cleaned data; unanswered questions left out."""
        answers = {}
        for question in self.questions:
            value = self.cleaned_data.get(FIELD_PREFIX + question["key"])
            if value in (None, ""):
                continue
            answers[question["key"]] = value.isoformat() if isinstance(value, date) else str(value)
        return answers

    def question_fields(self):
        return [self[FIELD_PREFIX + question["key"]] for question in self.questions]


@dataclass
class Screening:
    """Valid answers to one version, with what they decide for one appointment: for book_consultation."""

    version: QuestionnaireVersion
    answers: dict
    assessment: Assessment
    checked_for: date


def record_answers(booking, screening):
    """Store a new booking's answers (inside book_consultation's transaction)."""
    booking.health_form_question = screening.assessment.outcome != Outcome.FINE
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


def recheck_after_move(booking, *, by=None, by_client=False):
    """
    Measure the date rules again against the booking's new date (inside
    move_booking's transaction, after the new time is held). A move is
    never refused for it: the client's time is kept, and a changed outcome
    is recorded on the answers and in the booking's history (the outcome
    only, never an answer), where the admin list and the day sheet show
    it. Returns (old outcome, new outcome), or None when the booking has no
    answers.
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
    old = answers.outcome
    answers.outcome, answers.reasons, answers.checked_for = (
        assessment.outcome,
        assessment.reasons,
        new_date,
    )
    answers.save(update_fields=["outcome", "reasons", "checked_for", "updated_at"])
    booking.health_form_question = assessment.outcome != Outcome.FINE
    # For the page that made the move, to say so (the outcome, never an answer).
    booking.health_outcome_changed = (
        (Outcome(old), assessment.outcome) if old != assessment.outcome else None
    )
    if old != assessment.outcome:
        BookingStatusChange.objects.create(
            booking=booking,
            from_status=booking.status,
            to_status=booking.status,
            changed_by=by,
            changed_by_client=by_client,
            note=f"Health form re-checked for the new date: now “{assessment.label}” "
            f"(was “{Outcome(old).label}”)",
        )
        # The reference alone: even an outcome says something about a client's health.
        logger.info("Booking %s: health form outcome changed after a move", booking.reference)
    return old, assessment.outcome


def needs_a_call(booking):
    """For emails: whether to say “we have a question about your health form” (no details)."""
    return ScreeningAnswers.objects.filter(
        booking=booking, outcome__in=[Outcome.REVIEW, Outcome.MEDICAL, Outcome.CALL]
    ).exists()


def answers_as_seen(answers):
    """[(question text, help text, answer as shown)] of stored answers, against their version."""
    rows = []
    for question in answers.version.content["questions"]:
        value = answers.answers.get(question["key"], "")
        if question["kind"] == Kind.YES_NO and value:
            value = value.capitalize()
        rows.append((question["text"], question["help_text"], value or "(not answered)"))
    return rows
