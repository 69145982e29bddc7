"""
What the public forms share: the slot picker's field and its checks, the
client's details fields, and the choices the booking form offers (kept by
each process between changes: booking/cache_versions.py).
"""

from datetime import date

from django import forms
from django.conf import settings
from django.forms import BoundField
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from phonenumber_field.formfields import PhoneNumberField

from booking.cache_versions import SCHEDULE, kept_between_changes
from booking.models import ConsultationType, Practitioner
from booking.services.schedule import ClinicCalendar, parse_slot_value
from booking.validators import validate_client_email
from clinic_site.versions import Remembered
from treatments.caching import CONTENT

SLOT_TAKEN = "That time is no longer available. Please choose another time."


OFF_THE_GRID = "Please choose one of the times shown."


ANY_PRACTITIONER = ""


class SlotChoiceMixin:
    """
    A `slot` field shown as radio buttons grouped by day, a week at a time
    (see booking/bookings/includes/slot_picker.html) so the page stays small. The
    week is worked out only if the page is shown: a valid submission goes
    straight to the booking service, which is the one place that decides
    whether the time is free (inside its transaction), so availability is
    computed once per request. A forged or off-grid value is refused here.
    """

    def setup_slot_field(
        self,
        consultation_type,
        *,
        practitioner=None,
        week_start=None,
        ignore_booking=None,
        candidates=None,
    ):
        chosen = self._chosen_slot()
        if chosen is not None:
            week_start = timezone.localtime(chosen).date()
        field = self.fields["slot"]
        if consultation_type is None:
            field.week = None
            return

        def week():
            calendar = ClinicCalendar(
                consultation_type,
                practitioner=practitioner,
                ignore_booking=ignore_booking,
                candidates=candidates,
            )
            return calendar.week(week_start)

        field.week = SimpleLazyObject(week)

    def _chosen_slot(self):
        """The time sent, or for a form not sent yet the one it starts with (the booking page's `?time=`)."""
        source = self.data if self.is_bound else self.initial
        try:
            return parse_slot_value(source.get(self.add_prefix("slot")) or "")
        except (TypeError, ValueError):
            return None

    def clean_slot_for(self, consultation_type):
        """The chosen start as an aware datetime, if it is well formed and on the type's grid."""
        try:
            starts_at = parse_slot_value(self.cleaned_data.get("slot", ""))
        except ValueError:
            raise forms.ValidationError(SLOT_TAKEN) from None
        if not consultation_type.is_on_grid(timezone.localtime(starts_at)):
            raise forms.ValidationError(OFF_THE_GRID)
        return starts_at


def slot_field():
    # The slot picker template renders the radios; the RadioSelect widget is
    # there so the field counts as a group (a fieldset, its first radio _0).
    field = forms.CharField(
        label="Choose a time",
        max_length=20,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a time for your consultation.",
            "max_length": SLOT_TAKEN,
        },
    )
    field.note = ""  # Why no time can be shown, when the choices above rule every time out.
    return field


def consultation_type_label(consultation_type):
    parts = [f"{consultation_type.duration_minutes} minutes", consultation_type.price_text]
    return f"{consultation_type.name} ({', '.join(part for part in parts if part)})"


class ConsultationTypeField(forms.ModelChoiceField):
    def label_from_instance(self, consultation_type):
        return consultation_type_label(consultation_type)


class BootstrapBoundField(BoundField):
    """
    A field as the public booking pages render it, in plain templates: Django
    already marks a field with errors aria-invalid and points its
    aria-describedby at `<id>_error`; Bootstrap also wants `is-invalid`.
    """

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            css = (widget or self.field.widget).attrs.get("class", "")
            attrs["class"] = f"{css} is-invalid".strip()
        return attrs


def consultation_type_field():
    """Which consultation: radios of the types the form offers (its choices are set per form)."""
    return forms.ChoiceField(
        label="Which consultation?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a consultation.",
            "invalid_choice": "Please choose a consultation from the list.",
        },
    )


def practitioner_field():
    """With whom: a practitioner, or empty for any (its choices are set per form)."""
    return forms.ChoiceField(
        label="With whom?",
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": "Please choose a practitioner from the list."},
    )


def full_name_field():
    return forms.CharField(
        label="Full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "class": "form-control"}),
        error_messages={"required": "Enter your full name."},
    )


def email_field():
    return forms.EmailField(
        label="Email address",
        max_length=254,
        validators=[validate_client_email],
        widget=forms.EmailInput(attrs={"autocomplete": "email", "class": "form-control"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.com.",
        },
    )


def phone_field():
    return PhoneNumberField(
        label="Phone number",
        region=settings.PHONENUMBER_DEFAULT_REGION,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "type": "tel", "class": "form-control"}
        ),
        error_messages={
            "required": "Enter your phone number.",
            "invalid": "Enter a valid phone number, like (212) 555-0147, or one starting with + and the country code.",
        },
    )


def consent_field():
    return forms.BooleanField(
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        error_messages={
            "required": "Please agree to the privacy policy so we can hold your details."
        },
    )


def spam_trap_field():
    return forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(
            attrs={"tabindex": "-1", "autocomplete": "off", "class": "form-control"}
        ),
    )


def read_booking_choices():
    """The consultation types and practitioners the public booking form offers."""
    types = (
        ConsultationType.objects.bookable_online()
        .select_related("treatment")
        .with_named_practitioners()
        .with_health_questions()
        # Stated: Django leaves Meta.ordering out of a query with GROUP BY
        # (with_named_practitioners aggregates), and PostgreSQL's order then
        # follows its plan, which changed with the treatment's columns.
        .order_by("display_order", "name")
    )
    # The booking page's step 2 shows each practitioner's portrait.
    return list(types), list(Practitioner.objects.bookable_online().select_related("portrait"))


# Kept by each process between changes to them (a type, a practitioner, a
# questionnaire: the schedule version; a treatment: the content version),
# as the booking rules are: every view of the form and every booking reads
# them. A booking raises neither number.
booking_choices = Remembered(
    [SCHEDULE, CONTENT], read_booking_choices, enabled=kept_between_changes
)


def week_start_from(request):
    """The `?from=YYYY-MM-DD` of the slot picker's week links, if valid."""
    try:
        return date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        return None
