"""
The public form to join the waitlist, with the booking form's protections:
a signed form token (how long it was open; one join per form), a honeypot
field, and the per-address rate limit in the view.
"""

import time
from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from booking.form_tokens import new_form_token, read_form_token
from booking.models import (
    BookingRules,
    PartOfDay,
    WaitlistEntry,
    Weekday,
)
from booking.validators import refuse_control_characters

from .fields import (
    ANY_PRACTITIONER,
    BootstrapBoundField,
    booking_choices,
    consent_field,
    consultation_type_field,
    consultation_type_label,
    email_field,
    full_name_field,
    phone_field,
    practitioner_field,
    spam_trap_field,
)

# Waiting entries one email address may hold: enough for a few types, not a flood.
ENTRIES_PER_EMAIL = 3


def _date_field(label, required_message):
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
        error_messages={"required": required_message, "invalid": "Enter a date like 2026-12-01."},
    )


class WaitlistJoinForm(forms.Form):
    bound_field_class = BootstrapBoundField

    consultation_type = consultation_type_field()
    practitioner = practitioner_field()
    weekdays = forms.MultipleChoiceField(
        label="Days that suit you",
        choices=Weekday.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one day that suits you.",
            "invalid_choice": "Please choose days from the list.",
            "invalid_list": "Please choose days from the list.",
        },
    )
    parts_of_day = forms.MultipleChoiceField(
        label="Times of day that suit you",
        choices=PartOfDay.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one time of day that suits you.",
            "invalid_choice": "Please choose times of day from the list.",
            "invalid_list": "Please choose times of day from the list.",
        },
    )
    earliest_day = _date_field("From", "Enter the first day that suits you.")
    latest_day = _date_field("Until", "Enter the last day that suits you.")
    full_name = full_name_field()
    email = email_field()
    phone = phone_field()
    consent = consent_field()
    # Spam trap: people never see it; form-filling bots do.
    website = spam_trap_field()

    @staticmethod
    def offered_choices():
        """
        (the consultation types, the practitioners) the form offers. A type
        that asks health questions first is booked on the booking page,
        where they are asked (booking/services/screening.py), never by a
        claim. The booking form's choices, kept by each process between
        changes to the schedule (fields.booking_choices): reading them for
        every visitor was most of this page's cost. Shared: never changed here.
        """
        types, practitioners = booking_choices()
        return [
            consultation_type
            for consultation_type in types
            if consultation_type.health_questions_version is None
        ], practitioners

    def __init__(self, *args, visitor="", today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visitor = visitor
        self.today = today or timezone.localdate()
        self.rules = BookingRules.current()
        self.last_day = self.today + timedelta(days=self.rules.horizon_days)
        self.types, self.practitioners = self.offered_choices()
        self.fields["consultation_type"].choices = [
            (consultation_type.slug, consultation_type_label(consultation_type))
            for consultation_type in self.types
        ]
        self.fields["practitioner"].choices = [
            (ANY_PRACTITIONER, "Any practitioner"),
            *((person.slug, f"{person.name}, {person.role}") for person in self.practitioners),
        ]
        self.fields["consent"].label = format_html(
            'I agree to the <a href="{}">privacy policy</a>', reverse("booking:privacy")
        )
        self.fields[
            "latest_day"
        ].help_text = f"Up to {self.last_day:%-d %B %Y}: we take bookings {self.rules.horizon_days} days ahead."
        if not self.is_bound:
            self.initial = {
                "weekdays": [str(day) for day in range(5)],
                "parts_of_day": [part.value for part in PartOfDay],
                "earliest_day": self.today,
                "latest_day": min(self.last_day, self.today + timedelta(days=28)),
            } | self.initial

    def clean_consultation_type(self):
        slug = self.cleaned_data["consultation_type"]
        return next(
            consultation_type for consultation_type in self.types if consultation_type.slug == slug
        )

    def clean_practitioner(self):
        slug = self.cleaned_data["practitioner"]
        return next((person for person in self.practitioners if person.slug == slug), None)

    def clean_full_name(self):
        return refuse_control_characters(self.cleaned_data["full_name"])

    def clean_website(self):
        if self.cleaned_data["website"]:
            raise forms.ValidationError("Please leave this field empty.")
        return ""

    def _clean_day(self, name):
        day = self.cleaned_data[name]
        if not self.today <= day <= self.last_day:
            raise forms.ValidationError(
                f"Choose a day from today to {self.last_day:%-d %B %Y}, as far ahead as we take bookings."
            )
        return day

    def clean_earliest_day(self):
        return self._clean_day("earliest_day")

    def clean_latest_day(self):
        return self._clean_day("latest_day")

    def clean(self):
        cleaned_data = super().clean()
        consultation_type, person = (
            cleaned_data.get("consultation_type"),
            cleaned_data.get("practitioner"),
        )
        if consultation_type and person and not consultation_type.is_held_by(person):
            self.add_error(
                "practitioner",
                f"{person.name} does not hold {consultation_type.name.lower()}s. "
                "Choose another practitioner, or any practitioner.",
            )
        first, last = cleaned_data.get("earliest_day"), cleaned_data.get("latest_day")
        if isinstance(first, date) and isinstance(last, date) and last < first:
            self.add_error("latest_day", "The last day is before the first. Choose a later one.")
        self._check_form_token()
        if email := cleaned_data.get("email"):
            waiting = WaitlistEntry.objects.waiting().filter(email__iexact=email)
            if consultation_type and waiting.filter(consultation_type=consultation_type).exists():
                self.add_error(
                    "email",
                    "This email address is already on the waitlist for this consultation. "
                    "To change your days, leave the list with the link in our email and join again.",
                )
            elif waiting.count() >= ENTRIES_PER_EMAIL:
                self.add_error(
                    "email",
                    f"This email address is already on the waitlist {ENTRIES_PER_EMAIL} times. "
                    f"Please call us on {settings.CLINIC['phone']}.",
                )
        return cleaned_data

    def _check_form_token(self):
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

    @property
    def token_for_page(self):
        if self.is_bound and not getattr(self, "_token_rejected", False):
            return self.data.get("form_token", "")
        return new_form_token(self.visitor)

    def entry_details(self):
        """The answers as waitlist.join_waitlist takes them."""
        data = self.cleaned_data
        return {
            "consultation_type": data["consultation_type"],
            "practitioner": data["practitioner"],
            "weekdays": "".join(sorted(set(data["weekdays"]))),
            "parts_of_day": ",".join(
                part.value for part in PartOfDay if part.value in data["parts_of_day"]
            ),
            "earliest_day": data["earliest_day"],
            "latest_day": data["latest_day"],
            "full_name": data["full_name"],
            "email": data["email"],
            "phone": data["phone"],
            "submission_key": data["submission_key"],
        }
