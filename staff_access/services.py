"""
The writes of two-factor sign-in, each in one transaction with its record:
enrolling an authenticator app, issuing recovery codes, and a superuser's
reset of a colleague's second factor.
"""

import logging
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import (
    RECOVERY_CODE_COUNT,
    RecoveryCode,
    RecoveryCodes,
    new_recovery_code,
    recovery_code_digest,
)

logger = logging.getLogger(__name__)

AUTHENTICATOR_NAME = "Authenticator app"


@dataclass(frozen=True)
class Enrolment:
    authenticator: TOTPDevice
    # Shown once, on the page that confirms the enrolment; only digests are kept.
    recovery_codes: list[str]


@transaction.atomic
def enrol_authenticator(*, user, key, verified_step):
    """
    Give `user` the authenticator app whose secret `key` (hex) produced a
    code at `verified_step`, and a fresh set of recovery codes. The code
    that proved the app cannot sign in again (last_t).
    """
    # A reset or an abandoned enrolment leaves nothing behind, so this is
    # the account's only authenticator.
    TOTPDevice.objects.filter(user=user).delete()
    authenticator = TOTPDevice.objects.create(
        user=user, name=AUTHENTICATOR_NAME, key=key, confirmed=True, last_t=verified_step
    )
    codes = issue_recovery_codes(user=user)
    logger.info("Staff account %s enrolled an authenticator app", user.pk)
    return Enrolment(authenticator=authenticator, recovery_codes=codes)


@transaction.atomic
def issue_recovery_codes(*, user):
    """Replace the account's recovery codes with ten new ones, and return them."""
    recovery, _ = RecoveryCodes.objects.select_for_update().get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    recovery.codes.all().delete()
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(codes=recovery, digest=recovery_code_digest(code)) for code in codes
    )
    return codes


@transaction.atomic
def reset_second_factor(*, user, reset_by):
    """
    Remove `user`'s authenticator app and recovery codes (a lost phone).
    Sessions that passed the second factor with them no longer count as
    verified, so an account that must use two-factor sign-in is sent to
    enrol again at its next request. Recorded in the account's history.
    Returns whether there was anything to remove.
    """
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    removed_codes, _ = RecoveryCodes.objects.filter(user=user).delete()
    had_second_factor = bool(removed or removed_codes)
    if had_second_factor:
        LogEntry.objects.log_actions(
            user_id=reset_by.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message="Reset two-factor sign-in: the authenticator app and recovery codes "
            "were removed; the staff member enrols again at their next sign-in.",
            single_object=True,
        )
        logger.info("Staff account %s reset the two-factor sign-in of %s", reset_by.pk, user.pk)
    return had_second_factor


def authenticator_of(user):
    """The account's confirmed authenticator app, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_of(user):
    return RecoveryCodes.objects.filter(user=user).first()
