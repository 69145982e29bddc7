"""
The front desk's forms for booking a caller and moving a booking, in the
admin (booking/views/front_desk/book_and_move.py shows them).
"""

import uuid
from datetime import date

from django import forms
from django.conf import settings
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from booking.forms.fields import ConsultationTypeField
from booking.models import ConsultationBooking, ConsultationType, Practitioner
from booking.services.schedule import repeated_instants
from booking.validators import refuse_control_characters
from treatments.models import SkinConcern

from .times import FIRST, SECOND, ClinicTimeMixin, date_field, repeated_time_field, time_field


class StaffPractitionerField(forms.ModelChoiceField):
    def label_from_instance(self, practitioner):
        return f"{practitioner.name}, {practitioner.role}"


class StaffBookingForm(ClinicTimeMixin, forms.Form):
    """
    A caller booked by the front desk. Staff may book any consultation type
    and any active practitioner, online or not, past minimum notice and
    horizon; never into someone's booked time (the service decides that).
    """

    consultation_type = ConsultationTypeField(
        label="Consultation",
        queryset=ConsultationType.objects.all(),
        to_field_name="slug",
        empty_label=None,
        error_messages={
            "required": "Choose a consultation.",
            "invalid_choice": "That consultation is not on the list. Choose one from it.",
        },
    )
    practitioner = StaffPractitionerField(
        label="With",
        queryset=Practitioner.objects.active(),
        to_field_name="slug",
        required=False,
        empty_label="Any practitioner who takes it",
        error_messages={
            "invalid_choice": "That practitioner is unknown or no longer active. "
            "Choose one from the list, or any practitioner."
        },
    )
    date = date_field("Date")
    time = time_field()
    repeated_time = repeated_time_field()
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={"required": "Enter the caller's full name."},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter the caller's email address.",
            "invalid": "Enter an email address like name@example.com.",
        },
    )
    phone = PhoneNumberField(
        label="Phone number",
        region=settings.PHONENUMBER_DEFAULT_REGION,
        widget=forms.TextInput(attrs={"type": "tel"}),
        error_messages={
            "required": "Enter the caller's phone number.",
            "invalid": "Enter a valid phone number, like (212) 555-0147, or one starting with + and the country code.",
        },
    )
    preferred_contact = forms.ChoiceField(
        label="How should we contact them?",
        choices=ConsultationBooking.ContactMethod,
        initial=ConsultationBooking.ContactMethod.PHONE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how we should contact them."},
    )
    concerns = forms.ModelMultipleChoiceField(
        label="Skin concerns to discuss (optional)",
        queryset=SkinConcern.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Choose the concerns from the list.",
            "invalid_list": "Choose the concerns from the list.",
        },
    )
    message = forms.CharField(
        label="What the caller would like us to know (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    internal_notes = forms.CharField(
        label="Internal notes (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For staff only; never shown to the client.",
    )
    send_receipt = forms.BooleanField(
        label="Send the receipt email",
        required=False,
        initial=True,
        help_text="The booking's details and the client's link to move or cancel it.",
    )
    # Names the booking this form makes: a double click or a re-post books once.
    submission_key = forms.RegexField(
        regex=r"^[0-9a-f]{32}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form could not be checked. Please check the details and send it again.",
            "invalid": "This form could not be checked. Please check the details and send it again.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concerns"].queryset = SkinConcern.objects.for_guide()
        if not self.is_bound and not self.initial.get("submission_key"):
            self.initial["submission_key"] = uuid.uuid4().hex

    def chosen_type(self):
        return self._peek("consultation_type")

    def chosen_practitioner(self):
        return self._peek("practitioner")

    @classmethod
    def initial_from_address(cls, query):
        """
        The form's starting values from a link (the day sheet's free times):
        `type`, `practitioner` (slugs), `date` (YYYY-MM-DD) and `time`
        (HH:MM). Returns (initial, problems): what could not be used, said
        for the person who followed the link.
        """
        initial = {"date": timezone.localdate()}
        problems = []
        person = None
        if slug := query.get("practitioner"):
            person = Practitioner.objects.active().filter(slug=slug).first()
            if person is None:
                problems.append(f"No active practitioner “{slug}”: choose one below.")
            else:
                initial["practitioner"] = person.slug
        types = list(ConsultationType.objects.prefetch_related("practitioners"))
        if slug := query.get("type"):
            chosen = next(
                (
                    consultation_type
                    for consultation_type in types
                    if consultation_type.slug == slug
                ),
                None,
            )
            if chosen is None:
                problems.append(f"No consultation “{slug}”: choose one below.")
        else:
            # The first consultation the chosen person takes.
            chosen = next(
                (
                    consultation_type
                    for consultation_type in types
                    if person is None or consultation_type.is_held_by(person)
                ),
                None,
            )
        if chosen is not None:
            initial["consultation_type"] = chosen.slug
        if value := query.get("date"):
            try:
                initial["date"] = date.fromisoformat(value)
            except ValueError:
                problems.append(f"“{value}” is not a date like 2026-12-01: choose one below.")
        if value := query.get("time"):
            try:
                initial["time"] = forms.TimeField(input_formats=["%H:%M"]).clean(value)
            except forms.ValidationError:
                problems.append(f"“{value}” is not a time like 14:30: choose one below.")
        return initial, problems

    def clean_full_name(self):
        return refuse_control_characters(self.cleaned_data["full_name"])

    def clean_message(self):
        return refuse_control_characters(self.cleaned_data["message"], allowed="\n\r\t")

    def clean_internal_notes(self):
        return refuse_control_characters(self.cleaned_data["internal_notes"], allowed="\n\r\t")

    def clean(self):
        cleaned_data = super().clean()
        consultation_type = cleaned_data.get("consultation_type")
        person = cleaned_data.get("practitioner")
        if consultation_type and person and not consultation_type.is_held_by(person):
            self.add_error(
                "practitioner",
                f"{person.name} does not take “{consultation_type.name}”. "
                "Choose someone who does, or any practitioner.",
            )
        cleaned_data["starts_at"] = self.clean_start(consultation_type)
        return cleaned_data

    def booking_details(self):
        """The cleaned answers as services.book_consultation takes them (less `taken_by`)."""
        data = self.cleaned_data
        return {
            "consultation_type": data["consultation_type"],
            "practitioner": data["practitioner"],
            "starts_at": data["starts_at"],
            "concerns": list(data["concerns"]),
            "submission_key": data["submission_key"],
            "send_receipt": data["send_receipt"],
            **{
                name: data[name]
                for name in [
                    "full_name",
                    "email",
                    "phone",
                    "preferred_contact",
                    "message",
                    "internal_notes",
                ]
            },
        }


KEEP_PRACTITIONER = "keep"


ANY_FREE_PRACTITIONER = "any"


class StaffMoveForm(ClinicTimeMixin, forms.Form):
    """
    A new time for a booking, by staff: the same consultation type, with
    the same practitioner, any who is free (the same one first) or a named
    one. The time the booking had when the page was shown travels with the
    form, so a booking moved by someone else meanwhile is not moved again.
    """

    practitioner = forms.ChoiceField(
        label="With",
        error_messages={
            "required": "Choose who the consultation is with.",
            "invalid_choice": "That practitioner is not on the list: they may have left or "
            "not take this consultation. Choose one from the list.",
        },
    )
    date = date_field("New date")
    time = time_field()
    repeated_time = repeated_time_field()
    seen_starts_at = forms.DateTimeField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form could not be checked. Please open the booking again.",
            "invalid": "This form could not be checked. Please open the booking again.",
        },
    )

    def __init__(self, *args, booking, **kwargs):
        super().__init__(*args, **kwargs)
        self.booking = booking
        current = booking.practitioner
        # Who may hold it now, in one query (the current person may have left).
        self.qualified = list(booking.consultation_type.qualified_practitioners())
        self.fields["practitioner"].choices = [
            (KEEP_PRACTITIONER, f"Keep {current.name}"),
            (ANY_FREE_PRACTITIONER, f"Any practitioner who is free ({current.name} first)"),
            *(
                (person.slug, f"{person.name}, {person.role}")
                for person in self.qualified
                if person.pk != current.pk
            ),
        ]
        if not self.is_bound:
            local_start = timezone.localtime(booking.starts_at)
            self.initial = {
                "practitioner": KEEP_PRACTITIONER,
                "date": local_start.date(),
                "time": local_start.time(),
                "seen_starts_at": booking.starts_at.isoformat(),
            } | self.initial
            if repeated_instants(local_start.date(), local_start.time(), local_start.tzinfo):
                self.initial.setdefault("repeated_time", SECOND if local_start.fold else FIRST)

    def chosen_type(self):
        return self.booking.consultation_type

    def chosen_practitioner(self):
        return self._practitioner(self["practitioner"].value())

    def _practitioner(self, choice):
        if choice == KEEP_PRACTITIONER:
            return self.booking.practitioner
        return next((person for person in self.qualified if person.slug == choice), None)

    def clean(self):
        cleaned_data = super().clean()
        choice = cleaned_data.get("practitioner")
        if choice == KEEP_PRACTITIONER and self.booking.practitioner not in self.qualified:
            self.add_error(
                "practitioner",
                f"{self.booking.practitioner.name} no longer takes "
                f"“{self.booking.consultation_type.name}”. Choose someone else, or any practitioner.",
            )
        elif choice is not None:
            cleaned_data["practitioner"] = self._practitioner(choice)
        cleaned_data["starts_at"] = self.clean_start(self.booking.consultation_type)
        return cleaned_data
