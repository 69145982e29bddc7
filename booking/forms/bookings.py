"""
The public booking forms: the booking page's request (with the health
questions of a type that asks them) and the client's move.
"""

import time
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from booking.form_tokens import continued_form_token, new_form_token, read_form_token
from booking.models import ConsultationBooking, QuestionnaireVersion
from booking.services import screening
from booking.services.schedule import parse_slot_value
from booking.validators import refuse_control_characters
from treatments.models import SkinConcern

from .fields import (
    ANY_PRACTITIONER,
    BootstrapBoundField,
    SlotChoiceMixin,
    booking_choices,
    consent_field,
    consultation_type_field,
    consultation_type_label,
    email_field,
    full_name_field,
    phone_field,
    practitioner_field,
    slot_field,
    spam_trap_field,
)
from .screening import HealthQuestionsForm
from .steps import BookingSteps


class ConsultationRequestForm(SlotChoiceMixin, forms.Form):
    """
    The public booking form. Its choices (consultation types, practitioners,
    skin concerns) are read once each and serve both the page and the
    validation, which then needs no query of its own; the time is checked
    against everyone's diaries by the booking service alone.
    """

    bound_field_class = BootstrapBoundField

    consultation_type = consultation_type_field()
    practitioner = practitioner_field()
    concerns = forms.MultipleChoiceField(
        label="Skin concerns you would like to discuss",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Please choose your concerns from the list.",
            "invalid_list": "Please choose your concerns from the list.",
        },
    )
    full_name = full_name_field()
    email = email_field()
    phone = phone_field()
    preferred_contact = forms.ChoiceField(
        label="How should we contact you?",
        choices=ConsultationBooking.ContactMethod,
        initial=ConsultationBooking.ContactMethod.EMAIL,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how we should contact you."},
    )
    slot = slot_field()
    message = forms.CharField(
        label="Anything you would like us to know? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )
    consent = consent_field()
    marketing_opt_in = forms.BooleanField(
        label="Send me occasional news and offers by email (optional)",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    # Spam trap: people never see it; form-filling bots do.
    website = spam_trap_field()

    def __init__(
        self, *args, start=None, day=None, visitor="", limit_requests_per_contact=True, **kwargs
    ):
        # `start`, `day`: the strip of days' first day and the chosen day (booking/forms/steps.py).
        super().__init__(*args, **kwargs)
        self.visitor = visitor  # see visitor_secret()
        self.limit_requests_per_contact = limit_requests_per_contact
        self.types, self.practitioners = booking_choices()
        self.fields["consultation_type"].choices = [
            (consultation_type.slug, consultation_type_label(consultation_type))
            for consultation_type in self.types
        ]
        self.fields["practitioner"].choices = [
            (ANY_PRACTITIONER, "Any practitioner"),
            *((person.slug, f"{person.name}, {person.role}") for person in self.practitioners),
        ]
        # Read when first needed: a submission that names no concern never lists them.
        self.fields["concerns"].choices = lambda: [
            (concern.slug, concern.label) for concern in self.concern_options
        ]
        self.fields["consent"].label = format_html(
            'I agree to the <a href="{}">privacy policy</a>', reverse("booking:privacy")
        )
        self.chosen_practitioner = self._chosen("practitioner", self.practitioners)
        self.chosen_type = self._chosen("consultation_type", self.types) or self._default_type()
        if not self.is_bound and self.chosen_type:
            self.initial["consultation_type"] = self.chosen_type.slug
        self.steps = BookingSteps(
            types=self.types,
            practitioners=self.practitioners,
            consultation_type=self.chosen_type,
            practitioner=self.chosen_practitioner,
            start=start,
            day=day,
            starts_at=self._chosen_slot(),
            mismatch=self.mismatch(self.chosen_type, self.chosen_practitioner),
        )
        self.health_form = self._health_form()
        self.health_assessment = None  # What the answers decide, once worked out.
        self.health_message = ""
        self.health_checked = False  # Shown after "Check my answers"

    def _health_form(self):
        """The chosen type's health questions (booking/services/screening.py), or None when it asks none."""
        version_id = getattr(self.chosen_type, "health_questions_version", None)
        if version_id is None:
            return None
        return HealthQuestionsForm(
            self.data if self.is_bound else None,
            version=QuestionnaireVersion.objects.get(pk=version_id),
            initial=self.initial,
            consent_label=format_html(
                "I agree that the clinic may use my answers to these health questions to check "
                'this consultation suits me and to prepare it, as the <a href="{}">privacy '
                "policy</a> explains",
                reverse("booking:privacy"),
            ),
        )

    def check_health_answers(self, data):
        """
        The “Check my answers” step: the questions checked against what was
        posted, and what the answers decide for the chosen time, shown before
        the client sends the request. Nothing is stored.
        """
        if self.health_form is None:
            return
        self.health_form = HealthQuestionsForm(
            data,
            version=self.health_form.version,
            consent_label=self.health_form.fields["health_consent"].label,
        )
        self.health_checked = True
        if self.health_form.is_valid():
            try:
                starts_at = parse_slot_value(data.get("slot", ""))
            except (TypeError, ValueError):
                starts_at = None
            self._assess_health_answers(starts_at)

    def _assess_health_answers(self, starts_at):
        if starts_at is None:
            self.health_message = (
                "Choose a time above, then press “Check my answers”: some answers count from "
                "the date of your consultation."
            )
            return None
        self.health_assessment = screening.assess(
            self.health_form.content,
            self.health_form.answers(),
            timezone.localdate(starts_at),
            consultation_type=self.chosen_type,
        )
        self.health_message = screening.client_message(
            self.health_assessment,
            phone=settings.CLINIC["phone"],
            # The first bookable type with a medical provider, as listed on the page.
            medical_consultation=next(
                (
                    consultation_type
                    for consultation_type in self.types
                    if consultation_type.needs_medical_provider
                ),
                None,
            ),
        )
        return self.health_assessment

    def clean_health_answers(self, starts_at):
        """
        The answers as book_consultation takes them, or None with the reason
        added: they must be valid for the version on the page, allow booking
        online, and have had their outcome shown to the client for this
        time (a changed time or answer shows it again first).
        """
        if not self.health_form.is_valid():
            self.add_error(None, "Please check your answers to the health questions.")
            return None
        assessment = self._assess_health_answers(starts_at)
        if assessment is None:
            return None
        if screening.blocks_booking(assessment):
            self.add_error(None, self.health_message)
            return None
        if self.data.get(screening.SEEN_OUTCOME_FIELD) != assessment.outcome:
            self.add_error(
                None,
                "Please read what your answers to the health questions mean, below them, then "
                "press “Request this consultation” again.",
            )
            return None
        return screening.Screening(
            version=self.health_form.version,
            answers=self.health_form.answers(),
            assessment=assessment,
            checked_for=timezone.localdate(starts_at),
        )

    @property
    def details_typed(self):
        """Whether the page shows what the visitor typed: its other choices keep it (POSTs)."""
        return self.is_bound or "full_name" in self.initial

    @cached_property
    def concern_options(self):
        return list(SkinConcern.objects.for_guide())

    def _chosen(self, name, options):
        """The option the visitor picked (or the form starts with), without validating the form."""
        slug = self.data.get(name) if self.is_bound else self.initial.get(name)
        return next((option for option in options if option.slug == slug), None)

    def _default_type(self):
        """
        Before the visitor picks one: the type about the treatment in the
        address (from a treatment page or the guide), else the first type
        the chosen practitioner holds, else the first type.
        """
        if self.is_bound:
            return None
        treatment = self.initial.get("treatment")
        candidates = [
            consultation_type
            for consultation_type in self.types
            if self.chosen_practitioner is None
            or consultation_type.is_held_by(self.chosen_practitioner)
        ] or self.types
        about_treatment = [
            consultation_type
            for consultation_type in candidates
            if consultation_type.treatment and consultation_type.treatment.slug == treatment
        ]
        return next(iter(about_treatment or candidates), None)

    @staticmethod
    def mismatch(consultation_type, practitioner):
        """Why this person cannot be booked for this type, or ""."""
        if consultation_type and practitioner and not consultation_type.is_held_by(practitioner):
            return (
                f"{practitioner.name} does not hold {consultation_type.name.lower()}s. "
                "Choose another practitioner, or anyone."
            )
        return ""

    def clean(self):
        cleaned_data = super().clean()
        consultation_type = cleaned_data.get("consultation_type")
        if problem := self.mismatch(consultation_type, self.chosen_practitioner):
            self.add_error("practitioner", problem)
        if consultation_type and "slot" in cleaned_data:
            try:
                cleaned_data["slot"] = self.clean_slot_for(consultation_type)
            except forms.ValidationError as error:
                self.add_error("slot", error)
        if self.health_form is not None and consultation_type == self.chosen_type:
            answers = self.clean_health_answers(self.cleaned_data.get("slot"))
            if answers is not None:
                self.cleaned_data["screening"] = answers
        self._check_form_token()
        return self.cleaned_data

    def clean_consultation_type(self):
        # The type as listed, with who holds it.
        slug = self.cleaned_data["consultation_type"]
        return next(
            consultation_type for consultation_type in self.types if consultation_type.slug == slug
        )

    def clean_concerns(self):
        chosen = set(self.cleaned_data["concerns"])
        if not chosen:
            return []
        return [concern for concern in self.concern_options if concern.slug in chosen]

    def clean_full_name(self):
        return refuse_control_characters(self.cleaned_data["full_name"])

    def clean_message(self):
        # Line breaks are part of a message; other control characters (escape
        # sequences, backspaces) would only garble what staff read.
        return refuse_control_characters(self.cleaned_data["message"], allowed="\n\r\t")

    def clean_website(self):
        if self.cleaned_data["website"]:
            raise forms.ValidationError("Please leave this field empty.")
        return ""

    def _check_form_token(self):
        """
        The form token is signed when the form is first shown: it proves when
        that was (a form sent back within seconds is from a bot) and names the
        submission, so a double click or a re-post books once.
        """
        token = read_form_token(self.data.get("form_token"), self.visitor)
        if token is None:
            self._token_rejected = True
            self.add_error(
                None,
                "This form was open too long or could not be checked. Please check your details and send it again.",
            )
            return
        submission_key, shown_at = token
        if time.time() - shown_at < settings.BOOKING_MIN_FILL_SECONDS:
            self.add_error(
                None,
                "That was quicker than we expected. Please check your details and send the form again.",
            )
            return
        self.cleaned_data["submission_key"] = submission_key
        if self.limit_requests_per_contact:
            self.refuse_more_requests_waiting(
                self.cleaned_data.get("email"), self.cleaned_data.get("phone")
            )

    def refuse_more_requests_waiting(self, email, phone):
        """
        One person may hold only a few requests waiting for confirmation, or
        one address could hold dozens of slots an hour (the per-IP rate limit
        does not see a visitor who changes address). Counted before the
        booking's transaction, so two requests at the same moment may both
        pass: the limit is against hoarding, not an exact quota.
        """
        if not (email or phone):
            return
        limit = settings.BOOKING_REQUESTS_PER_CONTACT
        waiting = ConsultationBooking.objects.waiting_for_contact(email=email, phone=phone)
        for field, what in [("email", "email address"), ("phone", "phone number")]:
            if waiting[field] >= limit:
                self.add_error(
                    field,
                    f"This {what} already has {waiting[field]} consultation requests waiting for "
                    "us to confirm. We will be in touch about them soon; to change one, use the "
                    f"link in your receipt, or call us on {settings.CLINIC['phone']}.",
                )

    def booking_details(self):
        """The cleaned answers as services.book_consultation takes them."""
        details = {
            key: value
            for key, value in self.cleaned_data.items()
            if key not in {"consent", "website", "slot", "submission_key", "practitioner"}
        }
        return {
            **details,
            "practitioner": self.chosen_practitioner,
            "starts_at": self.cleaned_data["slot"],
            "submission_key": self.cleaned_data["submission_key"],
            # Who may hold it, as read for this form: not read again.
            "candidates": self.practitioners,
        }

    @classmethod
    def initial_from(cls, data):
        """What a visitor sent, as initial values: the form shown again, not checked yet."""
        initial = {name: data.get(name) for name in cls.base_fields if name in data}
        initial["concerns"] = data.getlist("concerns")
        # Not a field: token_for_page keeps when the form was first opened.
        initial["form_token"] = data.get("form_token", "")
        # The health questions' answers and consent, kept like the rest.
        initial |= {
            name: data.get(name)
            for name in data
            if name.startswith(screening.FIELD_PREFIX) or name == "health_consent"
        }
        return initial

    @property
    def token_for_page(self):
        """
        The token to put back in the page: the same one, unless it was
        refused; for the page shown again on the way (initial_from), a new
        one that keeps when the form was first opened.
        """
        if self.is_bound and not getattr(self, "_token_rejected", False):
            return self.data.get("form_token", "")
        if self.initial.get("form_token"):
            return continued_form_token(self.initial["form_token"], self.visitor)
        return new_form_token(self.visitor)


class MoveBookingForm(SlotChoiceMixin, forms.Form):
    """
    A new time for the same consultation type, with the same practitioner
    (`keep_practitioner`) or any who holds it.
    """

    slot = slot_field()

    def __init__(self, *args, booking, keep_practitioner=True, week_start=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.booking = booking
        self.practitioner = booking.practitioner if keep_practitioner else None
        self.setup_slot_field(
            booking.consultation_type,
            practitioner=self.practitioner,
            week_start=week_start,
            # The client's own current time counts as free when they move.
            ignore_booking=booking,
        )
        self.fields["slot"].label = "Choose a new time"
        self.fields["slot"].link_query = urlencode({"with": "same" if keep_practitioner else "any"})

    def clean_slot(self):
        return self.clean_slot_for(self.booking.consultation_type)
