"""
The health questions in the booking form: one published questionnaire
version's questions as fields, and the consent to use health information.
What the answers decide is booking/services/screening.py's.
"""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from booking.services.screening import (
    EARLIEST_YEARS_BACK,
    FIELD_PREFIX,
    LATEST_DAYS_AHEAD,
    TEXT_MAX_LENGTH,
    VERSION_FIELD,
    Kind,
)
from booking.validators import refuse_control_characters


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
