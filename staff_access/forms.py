"""The code a staff member types: to confirm a new authenticator app, and to sign in."""

import re
from binascii import unhexlify

import django_otp
from django import forms
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import RecoveryCodes

# The app's settings: django-otp's defaults, which every authenticator app reads.
STEP_SECONDS = 30
DIGITS = 6
# One step either way (30 seconds) for a phone whose clock is a little off.
TOLERANCE_STEPS = 1

APP_CODE = re.compile(r"\d{6}")
RECOVERY_CODE = re.compile(r"[A-Za-z0-9]{16}")


def typed_code(value):
    """The code as typed, without the spaces and dashes people copy with it."""
    return re.sub(r"[\s-]", "", value)


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            max_length=40,
            strip=True,
            error_messages={"required": "Type the code your authenticator app shows."},
            widget=forms.TextInput(
                attrs={
                    "autocomplete": "one-time-code",
                    "autocapitalize": "none",
                    "spellcheck": "false",
                }
            ),
            **kwargs,
        )


class EnrolmentForm(forms.Form):
    """Confirms that the app was set up with the key on the page: its current code."""

    code = CodeField(
        label="Code from the app",
        help_text="The six digits the app shows for this account now.",
    )

    def __init__(self, *args, key, **kwargs):
        super().__init__(*args, **kwargs)
        self.key = key
        self.verified_step = None

    def clean_code(self):
        code = typed_code(self.cleaned_data["code"])
        if not APP_CODE.fullmatch(code):
            raise forms.ValidationError("The code is the six digits the app shows.")
        totp = TOTP(unhexlify(self.key), step=STEP_SECONDS, digits=DIGITS)
        if not totp.verify(int(code), tolerance=TOLERANCE_STEPS):
            raise forms.ValidationError(
                "That is not the code for this key. Check the app added the account from this "
                "page (scan the QR code again if unsure) and type the code it shows now."
            )
        self.verified_step = totp.t()
        return code


class SecondFactorForm(forms.Form):
    """The second step of signing in: a code from the app, or one recovery code."""

    code = CodeField(
        label="Code from your authenticator app",
        help_text="Six digits. Without your phone, type one of your recovery codes instead.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None
        # Whether the code was refused as wrong (what counts towards the
        # lockout), rather than left empty or mistyped in shape.
        self.wrong_code = False

    def clean_code(self):
        code = typed_code(self.cleaned_data["code"])
        if APP_CODE.fullmatch(code):
            model = TOTPDevice
        elif RECOVERY_CODE.fullmatch(code):
            model = RecoveryCodes
        else:
            raise forms.ValidationError(
                "Type the six digits from the app, or a recovery code (16 letters and digits)."
            )
        device = model.objects.filter(user=self.user, confirmed=True).first()
        if device is not None:
            # django-otp's own pause after each wrong code on the app (1, 2,
            # 4… seconds), which holds against guesses from many addresses;
            # a code typed during it is not checked, so it is not counted.
            allowed, throttle = device.verify_is_allowed()
            if not allowed:
                wait = (throttle or {}).get("locked_until", timezone.now()) - timezone.now()
                seconds = max(1, int(wait.total_seconds()) + 1)
                raise forms.ValidationError(
                    f"Too many wrong codes in a row: wait {seconds} seconds, then type the "
                    "code the app shows."
                )
            # In a transaction, with the device row locked: two sign-ins
            # racing with the same code cannot both pass (the app's last_t,
            # a recovery code's row).
            self.device = django_otp.verify_token(self.user, device.persistent_id, code)
        if self.device is None:
            self.wrong_code = True
            raise forms.ValidationError(
                "That code is not right, or it was already used. Type the code the app shows "
                "now (wait for the next one if you have just used this one)."
                if model is TOTPDevice
                else "That recovery code is not right, or it was already used."
            )
        return code
