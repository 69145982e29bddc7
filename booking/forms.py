import time
import unicodedata
import uuid
from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout
from django import forms
from django.conf import settings
from django.core import signing
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import format_html
from phonenumber_field.formfields import PhoneNumberField

from treatments.models import SkinConcern, Treatment

from .availability import ClinicCalendar, find_slot, parse_slot_value
from .models import ConsultationBooking
from .validators import validate_client_email

FORM_TOKEN_SALT = "booking.form-token"
SLOT_TAKEN = "That time is no longer available. Please choose another time."


class SlotChoiceMixin:
    """
    A `slot` field shown as radio buttons grouped by day, a week at a time
    (see booking/includes/slot_picker.html) so the page stays small. Any
    bookable slot is valid, shown or not; anything else, including a slot
    taken meanwhile or a forged value, is refused with a message.
    """

    ignore_booking = None

    def setup_slot_field(self, *, window_start=None):
        chosen = self._chosen_slot()
        if chosen is not None:
            window_start = timezone.localtime(chosen).date()
        calendar = ClinicCalendar(ignore_booking=self.ignore_booking)
        self.fields["slot"].window = calendar.week(window_start)

    def _chosen_slot(self):
        try:
            return parse_slot_value(self.data.get(self.add_prefix("slot"), ""))
        except (TypeError, ValueError):
            return None

    def clean_slot(self):
        try:
            starts_at = parse_slot_value(self.cleaned_data["slot"])
        except ValueError:
            raise forms.ValidationError(SLOT_TAKEN) from None
        if find_slot(starts_at, ignore_booking=self.ignore_booking) is None:
            raise forms.ValidationError(SLOT_TAKEN)
        return starts_at


def slot_field():
    # The slot picker template renders the radios; the RadioSelect widget is
    # there so the field counts as a group (a fieldset, its first radio _0).
    return forms.CharField(
        label="Choose a time",
        max_length=20,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a time for your consultation.",
            "max_length": SLOT_TAKEN,
        },
    )


class ConsultationRequestForm(SlotChoiceMixin, forms.Form):
    treatment = forms.ModelChoiceField(
        label="Treatment of interest",
        queryset=Treatment.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="Not sure yet — help me decide",
        error_messages={"invalid_choice": "Please choose a treatment from the list."},
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
        self.fields["treatment"].queryset = Treatment.objects.published()
        self.fields["concerns"].queryset = SkinConcern.objects.for_guide()
        self.fields["consent"].label = format_html(
            'I agree to the <a href="{}">privacy policy</a>', reverse("booking:privacy")
        )
        self.setup_slot_field(window_start=window_start)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # The time comes first: moving between weeks reloads the page, and
        # should not cost the visitor anything they have typed.
        self.helper.layout = Layout(
            Field("slot", template="booking/includes/slot_picker.html"),
            Fieldset("Your consultation", "treatment", "concerns"),
            Fieldset("About you", "full_name", "email", "phone", "preferred_contact"),
            "message",
            "consent",
            "marketing_opt_in",
            Div("website", css_class="form-trap", aria_hidden="true"),
        )

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

    def clean(self):
        """
        The form token is signed when the form is first shown: it proves when
        that was (a form sent back within seconds is from a bot) and names the
        submission, so a double click or a re-post books once.
        """
        cleaned_data = super().clean()
        token = read_form_token(self.data.get("form_token"), self.visitor)
        if token is None:
            self._token_rejected = True
            raise forms.ValidationError(
                "This form was open too long or could not be checked. Please check your details and send it again."
            )
        submission_key, shown_at = token
        if time.time() - shown_at < settings.BOOKING_MIN_FILL_SECONDS:
            raise forms.ValidationError(
                "That was quicker than we expected. Please check your details and send the form again."
            )
        cleaned_data["submission_key"] = submission_key
        if self.limit_requests_per_contact:
            self.refuse_more_requests_waiting(cleaned_data.get("email"), cleaned_data.get("phone"))
        return cleaned_data

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
            if key not in {"consent", "website", "slot", "submission_key"}
        }
        return {
            **details,
            "starts_at": self.cleaned_data["slot"],
            "submission_key": self.cleaned_data["submission_key"],
        }

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
    slot = slot_field()

    def __init__(self, *args, booking, window_start=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The client's own current slot counts as free when they move.
        self.ignore_booking = booking
        self.setup_slot_field(window_start=window_start)
        self.fields["slot"].label = "Choose a new time"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(Field("slot", template="booking/includes/slot_picker.html"))


def window_start_from(request):
    """The `?from=YYYY-MM-DD` of the slot picker's week links, if valid."""
    try:
        return date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        return None
