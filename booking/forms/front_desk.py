"""
The front desk's forms in the admin: booking a caller, moving a booking,
and the report's period.
"""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from booking.models import ConsultationBooking, ConsultationType, Practitioner
from booking.services.schedule import ClinicCalendar, clinic_datetime
from booking.validators import refuse_control_characters
from treatments.models import SkinConcern

from .fields import ConsultationTypeField

PICK_TIME = "pick_time"  # A free time's button: show the form again with that time.


SHOW_TIMES = "show_times"  # "Show free times": show the form again, checking nothing.


def _clock(value):
    """A clinic clock time as staff say it, e.g. “9:30 AM”."""
    return f"{value:%I:%M %p}".lstrip("0")


@dataclass(frozen=True)
class FreeTimes:
    """The free start times of one clinic day, as the staff pages list them."""

    day: date
    slots: list
    first_day: date  # the days staff may book (ClinicCalendar's span for staff)
    last_day: date
    note: str = ""  # why there can be none, when the choices rule every time out

    @property
    def in_reach(self):
        return self.first_day <= self.day <= self.last_day


class ClinicTimeMixin:
    """
    A consultation's start as staff type it: a clinic date and a clock time
    (a date input and a time input; no JavaScript), checked against the
    clocks' changes and the consultation type's grid here, and against
    everyone's diaries by the service. A list of the day's free times, each
    a button, saves working out the grid.
    """

    booking = None  # The booking being moved, if any: its own time counts as free.

    def clean_start(self, consultation_type):
        """The start as an aware datetime, or None (with the reason added to the form)."""
        day, clock = self.cleaned_data.get("date"), self.cleaned_data.get("time")
        if day is None or clock is None:
            return None
        # The same rule as the calendar's grid, so a time accepted here is
        # one the calendar could offer.
        try:
            starts_at = clinic_datetime(day, clock, timezone.get_current_timezone())
        except OverflowError:  # The very ends of the calendar (year 1, year 9999).
            self.add_error("date", "Choose a date within a year of today.")
            return None
        if starts_at is None:
            self.add_error(
                "time",
                f"{_clock(clock)} does not exist on {day:%A %-d %B %Y}: the clocks go forward "
                "that night. Choose another time.",
            )
            return None
        if consultation_type is not None and not consultation_type.is_on_grid(
            timezone.localtime(starts_at)
        ):
            grid = consultation_type.grid_minutes
            minutes = clock.hour * 60 + clock.minute
            earlier = minutes - minutes % grid
            neighbours = [earlier, earlier + grid] if earlier + grid < 24 * 60 else [earlier]
            instead = " or ".join(
                _clock(clock.replace(hour=minute // 60, minute=minute % 60))
                for minute in neighbours
            )
            self.add_error(
                "time",
                f"{consultation_type.name} starts every {grid} minutes, counted from midnight: "
                f"choose {instead} instead of {_clock(clock)}.",
            )
        return starts_at

    def _peek(self, name):
        """A field's value as it would be cleaned, or None, without validating the form."""
        try:
            return self.fields[name].clean(self[name].value())
        except forms.ValidationError:
            return None

    def free_times(self):
        """The chosen day's free times for the chosen consultation and person, or None."""
        consultation_type, day = self.chosen_type(), self._peek("date")
        if consultation_type is None or day is None:
            return None
        person = self.chosen_practitioner()
        calendar = ClinicCalendar(
            consultation_type,
            practitioner=person,
            ignore_booking=self.booking,
            online=False,
            for_staff=True,
        )
        note = ""
        if person is not None and person not in calendar.practitioners:
            note = f"{person.name} does not take “{consultation_type.name}”."
        return FreeTimes(day, calendar.slots([day]), calendar.first_day, calendar.last_day, note)

    @classmethod
    def initial_from(cls, data):
        """What was posted, as initial values: the form shown again, not checked yet."""
        initial = {}
        for name, field in cls.base_fields.items():
            if isinstance(field, forms.BooleanField):
                initial[name] = name in data
            elif isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
                initial[name] = data.getlist(name)
            elif name in data:
                initial[name] = data[name]
        if PICK_TIME in data:
            initial["time"] = data[PICK_TIME]
        return initial


def _date_field(label):
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": f"Enter the {label.lower()}.",
            "invalid": "Enter a date like 2026-12-01.",
        },
    )


def _time_field():
    return forms.TimeField(
        label="Time (clinic time)",
        # Hours and minutes only: a time input sends 14:30, and a consultation
        # never starts at a second past.
        input_formats=["%H:%M"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="On the clinic's clock, e.g. 14:30; or press one of the free times.",
        error_messages={
            "required": "Enter the time, or press one of the free times.",
            "invalid": "Enter a time like 14:30.",
        },
    )


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
    date = _date_field("Date")
    time = _time_field()
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
    date = _date_field("New date")
    time = _time_field()
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


# Reports cover this century: a date outside it is a typo, and the ends of
# the calendar (year 1, year 9999) have no clinic-local midnight to count from.
REPORT_EARLIEST = date(2000, 1, 1)


REPORT_LATEST = date(2099, 12, 31)


class ReportPeriodForm(forms.Form):
    """A period of clinic-local dates, both days included; by default this month."""

    start = _date_field("First day")
    end = _date_field("Last day")

    @classmethod
    def this_month(cls, today=None):
        today = today or timezone.localdate()
        first = today.replace(day=1)
        next_month = (first + timedelta(days=32)).replace(day=1)
        return {"start": first.isoformat(), "end": (next_month - timedelta(days=1)).isoformat()}

    @classmethod
    def from_query(cls, query):
        """Bound to the address's dates, the current month filling in any left out."""
        return cls(
            cls.this_month() | {name: query[name] for name in ["start", "end"] if name in query}
        )

    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("start"), cleaned_data.get("end")
        for name, day in [("start", start), ("end", end)]:
            if day is not None and not REPORT_EARLIEST <= day <= REPORT_LATEST:
                self.add_error(
                    name,
                    f"Choose a date from {REPORT_EARLIEST:%-d %B %Y} to {REPORT_LATEST:%-d %B %Y}.",
                )
        if start and end and end < start:
            self.add_error(
                "end", "The last day is before the first day. Choose a last day on or after it."
            )
        return cleaned_data
