"""
Signed links, a leaf that imports nothing of booking's: the link that lets a
client manage their own booking without an account, a marketing email's
unsubscribe link, and the waitlist's
links to leave the list and to claim an offer.

The token carries only the booking's reference, signed with SECRET_KEY and
timestamped, so a link cannot be forged or guessed and stops working after
MANAGE_LINK_MAX_AGE_DAYS.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "booking.manage-link"


class LinkExpired(Exception):
    """A signed link (a booking's manage link, a waitlist link) past its age."""


class LinkInvalid(Exception):
    """A signed link that does not check out: altered, cut short or made up."""


def manage_token(booking):
    return signing.dumps(booking.reference, salt=SALT, compress=False)


def reference_from_token(token):
    max_age = timedelta(days=settings.MANAGE_LINK_MAX_AGE_DAYS)
    try:
        return signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise LinkExpired from error
    except signing.BadSignature as error:
        raise LinkInvalid from error


# The waitlist's links carry a row's id, signed the same way. An offer's link
# expires with the offer (its expires_at, checked when it is claimed); the
# leave link lives as long as a manage link.
WAITLIST_LEAVE_SALT = "booking.waitlist-leave"
WAITLIST_OFFER_SALT = "booking.waitlist-offer"


def waitlist_leave_token(entry):
    return signing.dumps(entry.pk, salt=WAITLIST_LEAVE_SALT, compress=False)


def waitlist_offer_token(offer):
    return signing.dumps(offer.pk, salt=WAITLIST_OFFER_SALT, compress=False)


def _waitlist_pk(token, salt, max_age):
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as error:
        raise LinkExpired from error
    except signing.BadSignature as error:
        raise LinkInvalid from error
    if not isinstance(value, int):
        raise LinkInvalid
    return value


def entry_pk_from_token(token):
    return _waitlist_pk(
        token, WAITLIST_LEAVE_SALT, timedelta(days=settings.MANAGE_LINK_MAX_AGE_DAYS)
    )


def offer_pk_from_token(token):
    return _waitlist_pk(
        token, WAITLIST_OFFER_SALT, timedelta(days=settings.MANAGE_LINK_MAX_AGE_DAYS)
    )


# A marketing email's one-click unsubscribe link (RFC 8058) carries the
# address, signed; it never expires, as an unsubscribe link must keep working.
UNSUBSCRIBE_SALT = "booking.unsubscribe"


def unsubscribe_token(email):
    return signing.dumps(email.strip().lower(), salt=UNSUBSCRIBE_SALT, compress=False)


def email_from_unsubscribe_token(token):
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as error:
        raise LinkInvalid from error
    if not isinstance(value, str):
        raise LinkInvalid
    return value
