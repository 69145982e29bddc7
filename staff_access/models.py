"""
Two-factor sign-in for staff: who must use it, and the recovery codes.

The authenticator app is django-otp's TOTPDevice. Its own recovery codes
(StaticDevice) are stored as typed, so a copy of the database would hand
them out: `RecoveryCodes` keeps only a digest of each code instead, and a
code is deleted as it is used.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

# What makes an account one that must sign in with a second factor: reading
# clients' health answers, or managing staff accounts and their groups (which
# could grant that). Superusers hold every permission, so they are included.
HEALTH_PERMISSION = "booking.view_health_answers"
ACCOUNT_PERMISSIONS = (
    "auth.add_user",
    "auth.change_user",
    "auth.delete_user",
    "auth.add_group",
    "auth.change_group",
    "auth.delete_group",
)


def second_factor_required(user):
    """Whether this account may reach the admin only after a second factor."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_superuser or settings.TWO_FACTOR_FOR_ALL_STAFF:
        return True
    return user.has_perm(HEALTH_PERMISSION) or any(
        user.has_perm(permission) for permission in ACCOUNT_PERMISSIONS
    )


# Recovery codes: ten, each 16 characters from an alphabet without look-alikes
# (no 0/O, 1/I/L), shown in groups of four.
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECOVERY_CODE_LENGTH = 16


def new_recovery_code():
    code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(code[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def recovery_code_digest(code):
    """
    The stored form of a code, as typed in any case, with or without its
    dashes and spaces. A plain SHA-256 suffices: each code holds about 79
    random bits, far beyond guessing, so the salting and stretching that a
    password needs would only slow every sign-in down.
    """
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


class RecoveryCodes(Device):
    """
    A staff member's set of single-use recovery codes, for signing in
    without their phone. Only digests are stored; the codes themselves are
    shown once, when they are made.
    """

    class Meta(Device.Meta):
        verbose_name = "recovery codes"
        verbose_name_plural = "recovery codes"
        ordering = ["user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], name="one_recovery_code_set_per_user"),
        ]

    def verify_token(self, token):
        # One DELETE decides: of two sign-ins racing with the same code, only
        # the one that deletes the row is let in.
        deleted, _ = self.codes.filter(digest=recovery_code_digest(str(token))).delete()
        return deleted == 1

    def codes_left(self):
        return self.codes.count()


class RecoveryCode(models.Model):
    """The digest of one unused recovery code."""

    codes = models.ForeignKey(RecoveryCodes, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the code, never the code.")

    class Meta:
        verbose_name = "recovery code"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["codes", "digest"], name="recovery_code_once_per_set"),
        ]

    def __str__(self):
        return f"Recovery code {self.pk}"


class AuthenticatorApp(TOTPDevice):
    """django-otp's TOTP device under the clinic's name, for the superusers' list in the admin."""

    class Meta:
        proxy = True
        verbose_name = "authenticator app"
        ordering = ["user__username"]
