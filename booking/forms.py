import time
import unicodedata
import uuid
from datetime import date
from urllib.parse import urlencode

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.conf import settings
from django.core import signing
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from phonenumber_field.formfields import PhoneNumberField

from treatments.models import SkinConcern

from .availability import ClinicCalendar, parse_slot_value
from .models import ConsultationBooking, ConsultationType, Practitioner
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
        self, consultation_type, *, practitioner=None, window_start=None, ignore_booking=None
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
                consultation_type, practitioner=practitioner, ignore_booking=ignore_booking
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


class ConsultationTypeField(forms.ModelChoiceField):
    def label_from_instance(self, consultation_type):
        parts = [f"{consultation_type.duration_minutes} minutes", consultation_type.price_text]
        return f"{consultation_type.name} ({', '.join(part for part in parts if part)})"


class ConsultationRequestForm(SlotChoiceMixin, forms.Form):
    consultation_type = ConsultationTypeField(
        label="Which consultation?",
        queryset=ConsultationType.objects.none(),
        to_field_name="slug",
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a consultation.",
            "invalid_choice": "Please choose a consultation from the list.",
        },
    )
    practitioner = forms.ChoiceField(
        label="With whom?",
        required=False,
        error_messages={"invalid_choice": "Please choose a practitioner from the list."},
    )
    concerns = forms.ModelMultipleChoiceField(
        label="Skin concerns you would like to discuss",
        queryset=SkinConcern.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Please choose your concerns from the list.",
            "invalid_list": "Please choose your concerns from the list.",
        },
    )
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your full name."},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        validators=[validate_client_email],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.com.",
        },
    )
    phone = PhoneNumberField(
        label="Phone number",
        region=settings.PHONENUMBER_DEFAULT_REGION,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        error_messages={
            "required": "Enter your phone number.",
            "invalid": "Enter a valid phone number, like (212) 555-0147, or one starting with + and the country code.",
        },
    )
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
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    consent = forms.BooleanField(
        error_messages={
            "required": "Please agree to the privacy policy so we can hold your details."
        },
    )
    marketing_opt_in = forms.BooleanField(
        label="Send me occasional news and offers by email (optional)",
        required=False,
    )
    # Spam trap: people never see it; form-filling bots do.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(
        self, *args, window_start=None, visitor="", limit_requests_per_contact=True, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.visitor = visitor  # see visitor_secret()
        self.limit_requests_per_contact = limit_requests_per_contact
        self.types = list(
            ConsultationType.objects.bookable_online()
            .select_related("treatment")
            .prefetch_related("practitioners")
        )
        self.practitioners = list(Practitioner.objects.bookable_online())
        self.fields["consultation_type"].queryset = ConsultationType.objects.bookable_online()
        self.fields["practitioner"].choices = [
            (ANY_PRACTITIONER, "Any practitioner"),
            *((person.slug, f"{person.name}, {person.role}") for person in self.practitioners),
        ]
        self.fields["concerns"].queryset = SkinConcern.objects.for_guide()
        self.fields["consent"].label = format_html(
            'I agree to the <a href="{}">privacy policy</a>', reverse("booking:privacy")
        )
        self.chosen_practitioner = self._chosen("practitioner", self.practitioners)
        self.chosen_type = self._chosen("consultation_type", self.types) or self._default_type()
        if not self.is_bound and self.chosen_type:
            self.initial["consultation_type"] = self.chosen_type.slug
        self.fields["slot"].note = self.mismatch(self.chosen_type, self.chosen_practitioner)
        self.setup_slot_field(
            self.chosen_type, practitioner=self.chosen_practitioner, window_start=window_start
        )
        self.fields["slot"].link_query = urlencode(
            {
                "type": self.chosen_type.slug if self.chosen_type else "",
                "practitioner": self.chosen_practitioner.slug if self.chosen_practitioner else "",
            }
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # The consultation and the person come first, then their times; the
        # "Show times" button reloads the page with everything typed kept
        # (a POST, so no personal detail goes into an address). Moving
        # between weeks is a link, before the visitor has typed anything.
        self.helper.layout = Layout(
            Fieldset(
                "Your consultation",
                "consultation_type",
                "practitioner",
                HTML(
                    '<button type="submit" name="show_times" value="1" formnovalidate '
                    'class="btn btn-outline-primary mb-4">Show times</button>'
                ),
            ),
            Field("slot", template="booking/includes/slot_picker.html"),
            Fieldset("About you", "full_name", "email", "phone", "preferred_contact"),
            "concerns",
            "message",
            "consent",
            "marketing_opt_in",
            Div("website", css_class="form-trap", aria_hidden="true"),
        )

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
        if consultation_type is not None:
            # The same type as listed, with its practitioners prefetched.
            consultation_type = next(
                (listed for listed in self.types if listed.pk == consultation_type.pk),
                consultation_type,
            )
            cleaned_data["consultation_type"] = consultation_type
        if problem := self.mismatch(consultation_type, self.chosen_practitioner):
            self.add_error("practitioner", problem)
        if consultation_type and "slot" in cleaned_data:
            try:
                cleaned_data["slot"] = self.clean_slot_for(consultation_type)
            except forms.ValidationError as error:
                self.add_error("slot", error)
        self._check_form_token()
        return self.cleaned_data

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
        }

    @classmethod
    def initial_from(cls, data):
        """What a visitor sent, as initial values: the form shown again, not checked yet."""
        initial = {name: data.get(name) for name in cls.base_fields if name in data}
        initial["concerns"] = data.getlist("concerns")
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
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(Field("slot", template="booking/includes/slot_picker.html"))

    def clean_slot(self):
        return self.clean_slot_for(self.booking.consultation_type)


def window_start_from(request):
    """The `?from=YYYY-MM-DD` of the slot picker's week links, if valid."""
    try:
        return date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        return None
