import time
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core import signing
from django.forms import BoundField
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.html import format_html
from phonenumber_field.formfields import PhoneNumberField

from clinic_site.versions import Remembered
from treatments.caching import CONTENT
from treatments.models import SkinConcern

from . import screening
from .availability import ClinicCalendar, _clinic_datetime, parse_slot_value
from .cache_versions import AVAILABILITY, kept_between_changes
from .models import ConsultationBooking, ConsultationType, Practitioner, QuestionnaireVersion
from .validators import validate_client_email

FORM_TOKEN_SALT = "booking.form-token"
SLOT_TAKEN = "That time is no longer available. Please choose another time."
OFF_THE_GRID = "Please choose one of the times shown."
ANY_PRACTITIONER = ""


class SlotChoiceMixin:
    """
    A `slot` field shown as radio buttons grouped by day, a week at a time
    (see booking/includes/slot_picker.html) so the page stays small. The
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
        window_start=None,
        ignore_booking=None,
        candidates=None,
    ):
        chosen = self._chosen_slot()
        if chosen is not None:
            window_start = timezone.localtime(chosen).date()
        field = self.fields["slot"]
        if consultation_type is None:
            field.window = None
            return

        def week():
            calendar = ClinicCalendar(
                consultation_type,
                practitioner=practitioner,
                ignore_booking=ignore_booking,
                candidates=candidates,
            )
            return calendar.week(window_start)

        field.window = SimpleLazyObject(week)

    def _chosen_slot(self):
        try:
            return parse_slot_value(self.data.get(self.add_prefix("slot"), ""))
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


# The client's details, asked the same way by the booking form and the
# waitlist's: one definition each, so their labels and messages never drift.


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
    )
    return list(types), list(Practitioner.objects.bookable_online())


# Kept by each process between changes to them (a type, a practitioner, a
# questionnaire: the availability version; a treatment: the content version),
# as the booking rules are: every view of the form and every booking reads them.
booking_choices = Remembered(
    [AVAILABILITY, CONTENT], read_booking_choices, enabled=kept_between_changes
)


class ConsultationRequestForm(SlotChoiceMixin, forms.Form):
    """
    The public booking form. Its choices (consultation types, practitioners,
    skin concerns) are read once each and serve both the page and the
    validation, which then needs no query of its own; the time is checked
    against everyone's diaries by the booking service alone.
    """

    bound_field_class = BootstrapBoundField

    consultation_type = forms.ChoiceField(
        label="Which consultation?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a consultation.",
            "invalid_choice": "Please choose a consultation from the list.",
        },
    )
    practitioner = forms.ChoiceField(
        label="With whom?",
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": "Please choose a practitioner from the list."},
    )
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
        self, *args, window_start=None, visitor="", limit_requests_per_contact=True, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.visitor = visitor  # see visitor_secret()
        self.limit_requests_per_contact = limit_requests_per_contact
        self.types, self.practitioners = booking_choices()
        self.fields["consultation_type"].choices = [
            (kind.slug, consultation_type_label(kind)) for kind in self.types
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
        self.fields["slot"].note = self.mismatch(self.chosen_type, self.chosen_practitioner)
        self.setup_slot_field(
            self.chosen_type,
            practitioner=self.chosen_practitioner,
            window_start=window_start,
            candidates=self.practitioners,
        )
        self.fields["slot"].link_query = urlencode(
            {
                "type": self.chosen_type.slug if self.chosen_type else "",
                "practitioner": self.chosen_practitioner.slug if self.chosen_practitioner else "",
            }
        )
        self.health_form = self._health_form()
        self.health_assessment = None  # What the answers decide, once worked out.
        self.health_message = ""
        self.health_checked = False  # Shown after "Check my answers"

    def _health_form(self):
        """The chosen type's health questions (booking/screening.py), or None when it asks none."""
        version_id = getattr(self.chosen_type, "health_questions_version", None)
        if version_id is None:
            return None
        return screening.HealthQuestionsForm(
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
        self.health_form = screening.HealthQuestionsForm(
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
                (kind for kind in self.types if kind.needs_medical_provider), None
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
                "Choose another practitioner, or any practitioner, and press “Show times”."
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
        return next(kind for kind in self.types if kind.slug == slug)

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
        # The health questions' answers and consent, kept like the rest.
        initial |= {
            name: data.get(name)
            for name in data
            if name.startswith(screening.FIELD_PREFIX) or name == "health_consent"
        }
        return initial

    @property
    def token_for_page(self):
        """The token to put back in the page: the same one, unless it was refused."""
        if self.is_bound and not getattr(self, "_token_rejected", False):
            return self.data.get("form_token", "")
        return new_form_token(self.visitor)


def refuse_control_characters(value, allowed=""):
    if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
        raise forms.ValidationError(
            "This answer contains invisible control characters. Please type it again."
        )
    return value


def read_form_token(token, visitor=""):
    """
    (submission key, time the form was shown), or None if the token does not
    check out or was given to another browser than `visitor`.
    """
    try:
        payload = signing.loads(
            token or "", salt=FORM_TOKEN_SALT, max_age=settings.BOOKING_FORM_MAX_AGE_SECONDS
        )
        if not constant_time_compare(str(payload["v"]), _visitor_tag(visitor)):
            return None
        return str(payload["k"]), float(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def new_form_token(visitor=""):
    return signing.dumps(
        {"k": uuid.uuid4().hex, "t": time.time(), "v": _visitor_tag(visitor)},
        salt=FORM_TOKEN_SALT,
    )


def visitor_secret(request):
    """
    What binds a form token to the browser it was shown to: the secret in
    its CSRF cookie, which the booking page sets for every visitor and the
    CSRF check ties to each post. A session would do too, but would cost a
    session row for every view of the form.
    """
    get_token(request)  # Sets a secret for a browser that has none yet.
    return request.META["CSRF_COOKIE"]


def _visitor_tag(secret):
    # A keyed hash: the token's payload is readable, the secret must not be.
    return salted_hmac(FORM_TOKEN_SALT, secret, algorithm="sha256").hexdigest()[:20]


class MoveBookingForm(SlotChoiceMixin, forms.Form):
    """
    A new time for the same consultation type, with the same practitioner
    (`keep_practitioner`) or any who holds it.
    """

    slot = slot_field()

    def __init__(self, *args, booking, keep_practitioner=True, window_start=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.booking = booking
        self.practitioner = booking.practitioner if keep_practitioner else None
        self.setup_slot_field(
            booking.consultation_type,
            practitioner=self.practitioner,
            window_start=window_start,
            # The client's own current time counts as free when they move.
            ignore_booking=booking,
        )
        self.fields["slot"].label = "Choose a new time"
        self.fields["slot"].link_query = urlencode({"with": "same" if keep_practitioner else "any"})

    def clean_slot(self):
        return self.clean_slot_for(self.booking.consultation_type)


def window_start_from(request):
    """The `?from=YYYY-MM-DD` of the slot picker's week links, if valid."""
    try:
        return date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        return None


# The staff's pages in the admin: booking a caller, moving a booking, the report.

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
            starts_at = _clinic_datetime(day, clock, timezone.get_current_timezone())
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
            chosen = next((kind for kind in types if kind.slug == slug), None)
            if chosen is None:
                problems.append(f"No consultation “{slug}”: choose one below.")
        else:
            # The first consultation the chosen person takes.
            chosen = next(
                (kind for kind in types if person is None or kind.is_held_by(person)), None
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
