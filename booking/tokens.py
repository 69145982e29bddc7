"""
Signed links that let a client manage their own booking without an account.

The token carries only the booking's reference, signed with SECRET_KEY and
timestamped, so a link cannot be forged or guessed and stops working after
MANAGE_LINK_MAX_AGE_DAYS.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "booking.manage-link"


class ManageLinkExpired(Exception):
    pass


class ManageLinkInvalid(Exception):
    pass


def manage_token(booking):
    return signing.dumps(booking.reference, salt=SALT, compress=False)


def reference_from_token(token):
    max_age = timedelta(days=settings.MANAGE_LINK_MAX_AGE_DAYS)
    try:
        return signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise ManageLinkExpired from error
    except signing.BadSignature as error:
        raise ManageLinkInvalid from error
